//! No seat is ever promised twice: 64 clients approve the same proposals in their own
//! random orders while the provider shrinks its offer's capacity at the same moment.
//!
//! How it fails if the transaction is split: if `ApproveMatch` checked capacity under one
//! lock acquisition and reserved under another (or reserved the need and the offer in two
//! commits), two approvals of different matches could both pass the check before either
//! reserved, and `reserved` would exceed `capacity`; a capacity update landing between
//! the check and the reservation would do the same. If the idempotent replay check were
//! made only before taking the writer gate, two concurrent approvals of the same match
//! would both create arrangements, and `reserved` would differ from the sum of the live
//! arrangements. The assertions at the end of each round catch all three.

use crate::harness::*;
use lcm::api;
use rand::seq::SliceRandom;
use std::collections::BTreeMap;
use tonic::Code;

const CLIENTS: usize = 64;
const ROUNDS: usize = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_approvals_and_capacity_cuts_never_overbook() {
    let s = TestServer::start().await;
    let jpn = s.state("JPN").await;
    let channel = s.channel().await;
    let recipients = ["UGA", "RWA", "KEN"];
    let mut total_approved = 0usize;
    for round in 0..ROUNDS {
        let mut needs_client = api::need_service_client::NeedServiceClient::new(channel.clone());
        let mut offers_client = api::offer_service_client::OfferServiceClient::new(channel.clone());
        let mut o = delivery_offer("JPN");
        o.capacity = 10;
        o.max_per_recipient = 0;
        o.eligible_recipients = recipients.iter().map(|r| r.to_string()).collect();
        let offer = offers_client
            .create_offer(authed(&jpn, api::CreateOfferRequest { offer: Some(o), request_id: String::new() }))
            .await
            .unwrap()
            .into_inner();
        let mut need_ids = Vec::new();
        for r in recipients {
            let mut n = need(r);
            n.quantity = 4;
            n.women_quantity = 0;
            need_ids.push(
                needs_client
                    .create_need(authed(&s.admin, api::CreateNeedRequest { need: Some(n), request_id: String::new() }))
                    .await
                    .unwrap()
                    .into_inner()
                    .id,
            );
        }
        let proposal = api::matching_service_client::MatchingServiceClient::new(channel.clone())
            .propose_matches(authed(
                &s.admin,
                api::ProposeMatchesRequest {
                    capabilities: vec![api::CapabilityArea::Engineering as i32],
                    dry_run: false,
                    request_id: String::new(),
                    ..Default::default()
                },
            ))
            .await
            .unwrap()
            .into_inner();
        let matches: Vec<api::Match> = proposal.matches.into_iter().filter(|m| need_ids.contains(&m.need_id)).collect();
        assert!(!matches.is_empty(), "round {round}: nothing proposed");
        // 64 approvers and one capacity cut, all at once.
        let mut tasks = Vec::new();
        for c in 0..CLIENTS {
            let mut order = matches.clone();
            order.shuffle(&mut rand::thread_rng());
            let mut client = api::matching_service_client::MatchingServiceClient::new(channel.clone());
            let admin = s.admin.clone();
            tasks.push(tokio::spawn(async move {
                let mut won = Vec::new();
                for m in order {
                    let r = client
                        .approve_match(authed(
                            &admin,
                            api::ApproveMatchRequest {
                                id: m.id.clone(),
                                etag: String::new(),
                                request_id: String::new(),
                                comment: format!("client {c}"),
                            },
                        ))
                        .await;
                    match r {
                        Ok(resp) => won.push(resp.into_inner()),
                        Err(status) => assert!(
                            matches!(status.code(), Code::FailedPrecondition | Code::Aborted),
                            "unexpected failure: {status:?}"
                        ),
                    }
                }
                won
            }));
        }
        let cut = 2 + (round as u32 * 7) % 9; // 2..=10
        let mut shrink = offer.clone();
        shrink.capacity = cut;
        shrink.etag = String::new(); // an unconditional cut: it races the approvals on purpose
        let cutter = {
            let jpn = jpn.clone();
            let mut offers_client = offers_client.clone();
            tokio::spawn(async move {
                offers_client
                    .update_offer(authed(
                        &jpn,
                        api::UpdateOfferRequest {
                            offer: Some(shrink),
                            update_mask: Some(prost_types::FieldMask { paths: vec!["capacity".into()] }),
                            request_id: String::new(),
                        },
                    ))
                    .await
            })
        };
        let mut approvals = Vec::new();
        for t in tasks {
            approvals.extend(t.await.unwrap());
        }
        if let Err(status) = cutter.await.unwrap() {
            assert_eq!(
                status.code(),
                Code::FailedPrecondition,
                "a cut below the reserved seats is refused: {status:?}"
            );
        }
        // Each match was approved at most once.
        let mut per_match: BTreeMap<String, usize> = BTreeMap::new();
        for a in &approvals {
            *per_match.entry(a.r#match.as_ref().unwrap().id.clone()).or_default() += 1;
        }
        assert!(per_match.values().all(|n| *n == 1), "round {round}: a match was approved twice: {per_match:?}");
        total_approved += approvals.len();
        // reserved = Σ live allocations ≤ capacity, for the offer and every need.
        let arrangements: Vec<api::Arrangement> = approvals.iter().flat_map(|a| a.arrangements.clone()).collect();
        let offer_now = offers_client
            .get_offer(authed(&s.admin, api::GetOfferRequest { id: offer.id.clone() }))
            .await
            .unwrap()
            .into_inner();
        let on_offer: u32 = arrangements
            .iter()
            .filter(|a| a.allocation.as_ref().unwrap().offer_id == offer.id)
            .map(|a| a.quantity)
            .sum();
        assert_eq!(offer_now.reserved_quantity, on_offer, "round {round}");
        assert!(
            offer_now.reserved_quantity <= offer_now.capacity,
            "round {round}: {} > {}",
            offer_now.reserved_quantity,
            offer_now.capacity
        );
        for id in &need_ids {
            let n = needs_client
                .get_need(authed(&s.admin, api::GetNeedRequest { id: id.clone() }))
                .await
                .unwrap()
                .into_inner();
            let held: u32 = arrangements.iter().filter(|a| &a.need_id == id).map(|a| a.quantity).sum();
            assert_eq!(n.reserved_quantity, held, "round {round}, {id}");
            assert!(n.reserved_quantity <= n.quantity);
        }
        // Retire this round's offer and needs so later rounds start clean.
        offers_client
            .withdraw_offer(authed(
                &jpn,
                api::WithdrawOfferRequest { id: offer.id, etag: String::new(), request_id: String::new() },
            ))
            .await
            .unwrap();
        for id in need_ids {
            needs_client
                .withdraw_need(authed(
                    &s.admin,
                    api::WithdrawNeedRequest { id, etag: String::new(), request_id: String::new() },
                ))
                .await
                .unwrap();
        }
    }
    assert!(total_approved > 0, "no approval ever won: the test would prove nothing");
}

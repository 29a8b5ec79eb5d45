//! ExplainNeed keeps confidences (issue 17): a state's explanation names only offers that
//! the state may read (GetOffer answers them); the others are only counted.

use crate::harness::*;
use lcm::api;
use tonic::Code;

#[tokio::test]
async fn explain_need_names_only_offers_the_caller_may_read() {
    let s = TestServer::start().await;
    let uga = s.state("UGA").await;
    let gbr = s.state("GBR").await;
    let need_id = s
        .needs()
        .await
        .create_need(authed(&uga, api::CreateNeedRequest { need: Some(need("UGA")), request_id: String::new() }))
        .await
        .unwrap()
        .into_inner()
        .id;
    let create = |offer: api::Offer| {
        let gbr = gbr.clone();
        let s = &s;
        async move {
            let req = api::CreateOfferRequest { offer: Some(offer), request_id: String::new() };
            s.offers().await.create_offer(authed(&gbr, req)).await.unwrap().into_inner().id
        }
    };
    // One offer UGA may read (open to anyone, but it needs funding), one only for KEN
    // (UGA may not read it), and a FUNDING offer only for KEN that could pay the first.
    let open = create(api::Offer { requires_funding: true, ..delivery_offer("GBR") }).await;
    let hidden = create(api::Offer { eligible_recipients: vec!["KEN".into()], ..delivery_offer("GBR") }).await;
    let funding = api::Offer {
        role: api::OfferRole::Funding as i32,
        eligible_recipients: vec!["KEN".into()],
        languages: Vec::new(),
        mode: 0,
        duration_days: 0,
        ..delivery_offer("GBR")
    };
    let hidden_funder = create(funding).await;

    // What UGA may read, asked the way a client would.
    let get = |id: String| {
        let uga = uga.clone();
        let s = &s;
        async move { s.offers().await.get_offer(authed(&uga, api::GetOfferRequest { id })).await }
    };
    assert!(get(open.clone()).await.is_ok());
    assert_code(get(hidden.clone()).await, Code::NotFound);
    assert_code(get(hidden_funder.clone()).await, Code::NotFound);

    let explain = |token: String| {
        let s = &s;
        let need_id = need_id.clone();
        async move {
            s.matching()
                .await
                .explain_need(authed(&token, api::ExplainNeedRequest { need_id }))
                .await
                .unwrap()
                .into_inner()
        }
    };
    let by_uga = explain(uga.clone()).await;
    let named: Vec<&str> = by_uga.candidates.iter().map(|c| c.offer_id.as_str()).collect();
    assert_eq!(named, vec![open.as_str()], "UGA is told only of the offer it may read");
    assert_eq!(by_uga.unreadable_offers, 1, "the offer UGA may not read is only counted");
    for c in &by_uga.candidates {
        for secret in [&hidden, &hidden_funder] {
            assert!(!c.blockers.iter().any(|b| b.contains(secret.as_str())), "{secret} named: {:?}", c.blockers);
        }
        assert!(get(c.offer_id.clone()).await.is_ok(), "UGA cannot read candidate {}", c.offer_id);
    }
    assert!(!by_uga.candidates[0].compatible, "no funder can pay UGA's seats, whichever UGA may read");

    let by_secretariat = explain(s.admin.clone()).await;
    let mut all: Vec<&str> = by_secretariat.candidates.iter().map(|c| c.offer_id.as_str()).collect();
    all.sort();
    let mut want = vec![open.as_str(), hidden.as_str()];
    want.sort();
    assert_eq!(all, want, "the Secretariat sees every candidate");
    assert_eq!(by_secretariat.unreadable_offers, 0);
    // The Secretariat is told why the hidden funder cannot pay (so the check above can fail).
    let open_seen = by_secretariat.candidates.iter().find(|c| c.offer_id == open).unwrap();
    assert!(open_seen.blockers.iter().any(|b| b.contains(hidden_funder.as_str())), "{:?}", open_seen.blockers);
}

/// A state party to a match also reads the match's offer once the offer no longer admits
/// it (here: exhausted by that very match), as GetOffer does; ExplainNeed names it too.
/// An exhausted offer the state has no match on stays only counted.
#[tokio::test]
async fn explain_need_names_an_offer_the_caller_reads_as_a_party_to_its_match() {
    let s = TestServer::start().await;
    let (uga, ken, gbr) = (s.state("UGA").await, s.state("KEN").await, s.state("GBR").await);
    let create_need = |token: String, requester: &'static str| {
        let s = &s;
        async move {
            let req = api::CreateNeedRequest {
                need: Some(api::Need { quantity: 30, ..need(requester) }),
                request_id: String::new(),
            };
            s.needs().await.create_need(authed(&token, req)).await.unwrap().into_inner().id
        }
    };
    let uga_need = create_need(uga.clone(), "UGA").await;
    let ken_need = create_need(ken.clone(), "KEN").await;
    let create_offer = |eligible: Vec<String>| {
        let (s, gbr) = (&s, gbr.clone());
        async move {
            let offer = api::Offer { capacity: 20, eligible_recipients: eligible, ..delivery_offer("GBR") };
            let req = api::CreateOfferRequest { offer: Some(offer), request_id: String::new() };
            s.offers().await.create_offer(authed(&gbr, req)).await.unwrap().into_inner().id
        }
    };
    let for_uga = create_offer(vec!["UGA".into()]).await;
    let for_ken = create_offer(vec!["KEN".into()]).await;

    // Propose, then approve both matches: each takes all 20 seats of its offer.
    let proposed = s
        .matching()
        .await
        .propose_matches(authed(
            &s.admin,
            api::ProposeMatchesRequest { request_id: new_request_id(), ..Default::default() },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(proposed.matches.len(), 2, "{:?}", proposed.matches);
    for m in &proposed.matches {
        let req = api::ApproveMatchRequest {
            id: m.id.clone(),
            etag: m.etag.clone(),
            request_id: new_request_id(),
            comment: "ok".into(),
        };
        s.matching().await.approve_match(authed(&s.admin, req)).await.unwrap();
    }
    let get = |token: String, id: String| {
        let s = &s;
        async move { s.offers().await.get_offer(authed(&token, api::GetOfferRequest { id })).await }
    };
    for id in [&for_uga, &for_ken] {
        let offer = get(s.admin.clone(), id.clone()).await.unwrap().into_inner();
        assert_eq!(offer.state, api::OfferState::Exhausted as i32, "{id}: {offer:?}");
    }
    // UGA reads the offer of its match, not the other one.
    assert!(get(uga.clone(), for_uga.clone()).await.is_ok());
    assert_code(get(uga.clone(), for_ken.clone()).await, Code::NotFound);

    let explained = s
        .matching()
        .await
        .explain_need(authed(&uga, api::ExplainNeedRequest { need_id: uga_need.clone() }))
        .await
        .unwrap()
        .into_inner();
    let named: Vec<&str> = explained.candidates.iter().map(|c| c.offer_id.as_str()).collect();
    assert_eq!(named, vec![for_uga.as_str()], "UGA is told of the offer of its match");
    assert_eq!(explained.unreadable_offers, 1, "the other exhausted offer is only counted");
    // KEN, the other way round.
    let by_ken = s
        .matching()
        .await
        .explain_need(authed(&ken, api::ExplainNeedRequest { need_id: ken_need }))
        .await
        .unwrap()
        .into_inner();
    let named: Vec<&str> = by_ken.candidates.iter().map(|c| c.offer_id.as_str()).collect();
    assert_eq!(named, vec![for_ken.as_str()]);
}

//! What-if proposals (issue 17): ProposeMatches with `dry_run` and `hypothetical_offers`
//! answers with the offers (named `hypothetical-N`) and the `baseline` without them; the
//! offers are validated as CreateOffer validates, and stored nowhere.

use crate::harness::*;
use lcm::api;
use tonic::Code;

fn summary_figures(s: &api::MatchSummary) -> api::MatchSummary {
    api::MatchSummary { solve_micros: 0, ..s.clone() }
}

async fn dry_run(s: &TestServer, hypothetical: Vec<api::Offer>) -> Result<api::ProposeMatchesResponse, tonic::Status> {
    let req = api::ProposeMatchesRequest { dry_run: true, hypothetical_offers: hypothetical, ..Default::default() };
    Ok(s.matching().await.propose_matches(authed(&s.admin, req)).await?.into_inner())
}

async fn offer_ids(s: &TestServer) -> Vec<String> {
    let req = api::ListOffersRequest { page_size: 500, ..Default::default() };
    s.offers()
        .await
        .list_offers(authed(&s.admin, req))
        .await
        .unwrap()
        .into_inner()
        .offers
        .into_iter()
        .map(|o| o.id)
        .collect()
}

async fn all_events(s: &TestServer) -> Vec<api::Event> {
    let req = api::ListEventsRequest { page_size: 500, ..Default::default() };
    s.events().await.list_events(authed(&s.admin, req)).await.unwrap().into_inner().events
}

#[tokio::test]
async fn hypothetical_offers_change_the_figures_and_are_stored_nowhere() {
    let (s, store) = TestServer::start_with_store().await;
    let (uga, gbr) = (s.state("UGA").await, s.state("GBR").await);
    let req = api::CreateNeedRequest { need: Some(need("UGA")), request_id: String::new() }; // 20 seats
    let n = s.needs().await.create_need(authed(&uga, req)).await.unwrap().into_inner();
    let small = api::Offer { capacity: 8, ..delivery_offer("GBR") };
    let req = api::CreateOfferRequest { offer: Some(small), request_id: String::new() };
    s.offers().await.create_offer(authed(&gbr, req)).await.unwrap();

    let plain = dry_run(&s, vec![]).await.unwrap();
    assert!(plain.baseline.is_none(), "no baseline without hypothetical offers");
    let offers_before = offer_ids(&s).await;
    let events_before = all_events(&s).await;
    let digest_before = store.content_digest().unwrap().total();

    let extra = api::Offer { capacity: 12, title: "More HEE seats".into(), ..delivery_offer("GBR") };
    let what_if = dry_run(&s, vec![extra.clone()]).await.unwrap();
    let (base, with) = (what_if.baseline.clone().unwrap(), what_if.summary.clone().unwrap());
    assert_eq!(summary_figures(&base), summary_figures(plain.summary.as_ref().unwrap()), "baseline = plain dry run");
    assert_eq!((base.seats_matched, with.seats_matched), (8, 20));
    assert_eq!((base.offers_considered + 1, base.seats_demanded), (with.offers_considered, with.seats_demanded));
    let allocated: Vec<(&str, u32)> =
        what_if.matches.iter().flat_map(|m| &m.allocations).map(|a| (a.offer_id.as_str(), a.quantity)).collect();
    assert!(allocated.contains(&("hypothetical-1", 12)), "{allocated:?}");
    assert!(what_if.matches.iter().all(|m| m.id.is_empty() && m.need_id == n.id));

    // Stored nowhere: no offer, no event, the same store content.
    assert_eq!(offer_ids(&s).await, offers_before);
    let events_after = all_events(&s).await;
    assert_eq!(events_after, events_before);
    assert!(!format!("{events_after:?}").contains("hypothetical"));
    assert_eq!(store.content_digest().unwrap().total(), digest_before);

    // The figures equal a real dry run once the offer really exists.
    let req = api::CreateOfferRequest { offer: Some(extra), request_id: String::new() };
    let created = s.offers().await.create_offer(authed(&gbr, req)).await.unwrap().into_inner();
    let real = dry_run(&s, vec![]).await.unwrap();
    assert_eq!(summary_figures(real.summary.as_ref().unwrap()), summary_figures(&with));
    let real_allocated: Vec<(&str, u32)> =
        real.matches.iter().flat_map(|m| &m.allocations).map(|a| (a.offer_id.as_str(), a.quantity)).collect();
    assert!(real_allocated.contains(&(created.id.as_str(), 12)), "{real_allocated:?}");
}

#[tokio::test]
async fn bad_hypothetical_offers_are_refused_like_create_offer_with_indexed_paths() {
    let s = TestServer::start().await;
    let gbr = s.state("GBR").await;
    let good = delivery_offer("GBR");
    let two_bad = api::Offer { capacity: 0, title: String::new(), ..delivery_offer("GBR") };
    let one_bad = api::Offer { languages: vec!["english".into()], ..delivery_offer("GBR") };
    // What CreateOffer says about each bad offer, field by field.
    let mut want = Vec::new();
    for (i, bad) in [(1, &two_bad), (2, &one_bad)] {
        let req = api::CreateOfferRequest { offer: Some(bad.clone()), request_id: String::new() };
        let status = assert_code(s.offers().await.create_offer(authed(&gbr, req)).await, Code::InvalidArgument);
        let fields = violations(&status);
        assert!(!fields.is_empty());
        want.extend(fields.iter().map(|f| f.replacen("offer", &format!("hypothetical_offers[{i}]"), 1)));
    }
    assert_eq!(want.len(), 3, "{want:?}");
    let status = assert_code(dry_run(&s, vec![good.clone(), two_bad, one_bad]).await, Code::InvalidArgument);
    assert_eq!(violations(&status), want);

    // Only with dry_run.
    let req = api::ProposeMatchesRequest { hypothetical_offers: vec![good], ..Default::default() };
    let status = assert_code(s.matching().await.propose_matches(authed(&s.admin, req)).await, Code::InvalidArgument);
    assert_eq!(violations(&status), ["hypothetical_offers"]);
    assert!(offer_ids(&s).await.is_empty());
}

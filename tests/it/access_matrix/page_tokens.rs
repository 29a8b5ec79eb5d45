//! Page tokens are bound to the caller and the query they were issued for, and cannot be
//! tampered with or forged.

use super::scenario::*;
use super::*;
use crate::harness::*;
use tonic::Status;

fn tampered(token: &str) -> String {
    let mut bytes = token.as_bytes().to_vec();
    bytes[3] = if bytes[3] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

/// A token of the right shape (position 0 and a made-up MAC).
fn forged() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0u8; 40])
}

#[track_caller]
fn assert_bad_page_token<T: std::fmt::Debug>(result: Result<T, Status>, what: &str) {
    match result {
        Err(s) if s.code() == Code::InvalidArgument && violations(&s) == ["page_token"] => {}
        other => panic!("{what}: expected INVALID_ARGUMENT on page_token, got {other:?}"),
    }
}

/// For one list method: UGA's second-page token is refused to FRA, to GBR (a party to
/// UGA's matches and arrangements) and to the Secretariat; a Secretariat token is refused
/// to UGA and FRA; tampered and forged tokens and a token replayed on another query are
/// refused; and UGA, continuing with its own token, reads exactly its own listing.
macro_rules! page_token_checks {
    ($w:expr, $client:ident, $method:ident, $Req:ident, $items:ident, $vary:expr) => {{
        let w: &World = $w;
        let what = stringify!($method);
        let mut client = w.s.$client().await;
        let page = |page_token: String| api::$Req { page_size: 1, page_token, ..Default::default() };
        let first = client.$method(w.request(Who::Owner, page(String::new()))).await.unwrap().into_inner();
        let token = first.next_page_token.clone();
        assert!(!token.is_empty(), "{what}: UGA sees more than one item");
        for intruder in [Who::Other, Who::Party, Who::Secretariat] {
            let r = client.$method(w.request(intruder, page(token.clone()))).await;
            assert_bad_page_token(r, &format!("{what}: UGA's token used by {intruder:?}"));
        }
        let admin_token = client
            .$method(w.request(Who::Secretariat, page(String::new())))
            .await
            .unwrap()
            .into_inner()
            .next_page_token;
        assert!(!admin_token.is_empty());
        for intruder in [Who::Owner, Who::Other] {
            let r = client.$method(w.request(intruder, page(admin_token.clone()))).await;
            assert_bad_page_token(r, &format!("{what}: the Secretariat's token used by {intruder:?}"));
        }
        let r = client.$method(w.request(Who::Owner, page(tampered(&token)))).await;
        assert_bad_page_token(r, &format!("{what}: tampered"));
        let r = client.$method(w.request(Who::Owner, page(forged()))).await;
        assert_bad_page_token(r, &format!("{what}: forged"));
        let vary: Option<fn(&mut api::$Req)> = $vary;
        if let Some(vary) = vary {
            let mut other_query = page(token.clone());
            vary(&mut other_query);
            let r = client.$method(w.request(Who::Owner, other_query)).await;
            assert_bad_page_token(r, &format!("{what}: replayed on another query"));
        }
        // The owner's own token still works and pages through exactly its listing.
        let mut paged: Vec<String> = first.$items.iter().map(|x| x.id.clone()).collect();
        let mut next = token;
        while !next.is_empty() {
            let p = client.$method(w.request(Who::Owner, page(next))).await.unwrap().into_inner();
            paged.extend(p.$items.iter().map(|x| x.id.clone()));
            next = p.next_page_token;
        }
        let whole = client
            .$method(w.request(Who::Owner, api::$Req { page_size: 500, ..Default::default() }))
            .await
            .unwrap()
            .into_inner();
        let whole: Vec<String> = whole.$items.iter().map(|x| x.id.clone()).collect();
        assert_eq!(paged, whole, "{what}: pages of UGA's own listing");
        1
    }};
}

#[tokio::test]
#[allow(clippy::needless_update)] // the macro builds every list request the same way
async fn page_tokens_are_bound_to_their_caller_and_query_and_cannot_be_forged() {
    let w = world(false).await;
    let mut lists = 0;
    lists += page_token_checks!(
        &w,
        needs,
        list_needs,
        ListNeedsRequest,
        needs,
        Some(|r: &mut api::ListNeedsRequest| { r.state = api::NeedState::Open as i32 })
    );
    lists += page_token_checks!(
        &w,
        offers,
        list_offers,
        ListOffersRequest,
        offers,
        Some(|r: &mut api::ListOffersRequest| { r.role = api::OfferRole::Delivery as i32 })
    );
    lists += page_token_checks!(
        &w,
        matching,
        list_matches,
        ListMatchesRequest,
        matches,
        Some(|r: &mut api::ListMatchesRequest| { r.state = api::MatchState::Approved as i32 })
    );
    lists += page_token_checks!(
        &w,
        arrangements,
        list_arrangements,
        ListArrangementsRequest,
        arrangements,
        Some(|r: &mut api::ListArrangementsRequest| r.status = api::ArrangementStatus::PendingConsent as i32)
    );
    lists += page_token_checks!(&w, centres, list_training_centres, ListTrainingCentresRequest, training_centres, None);
    assert_eq!(lists, 5);

    // Secretariat-only lists: tampered and forged tokens are refused too.
    let mut events = w.s.events().await;
    let page = |page_token: String| api::ListEventsRequest { page_size: 1, page_token, ..Default::default() };
    let token = events.list_events(w.request(Who::Secretariat, page(String::new()))).await.unwrap().into_inner();
    assert!(!token.next_page_token.is_empty());
    let r = events.list_events(w.request(Who::Secretariat, page(tampered(&token.next_page_token)))).await;
    assert_bad_page_token(r, "ListEvents: tampered");
    let r = events.list_events(w.request(Who::Secretariat, page(forged()))).await;
    assert_bad_page_token(r, "ListEvents: forged");
    let mut admin = w.s.admin_client().await;
    let page = |page_token: String| api::ListPrincipalsRequest { page_size: 1, page_token };
    let token = admin.list_principals(w.request(Who::Secretariat, page(String::new()))).await.unwrap().into_inner();
    assert!(!token.next_page_token.is_empty());
    let r = admin.list_principals(w.request(Who::Secretariat, page(tampered(&token.next_page_token)))).await;
    assert_bad_page_token(r, "ListPrincipals: tampered");
}

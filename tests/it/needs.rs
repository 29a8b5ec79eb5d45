use crate::harness::*;
use lcm::api;
use tonic::Code;

fn create(n: api::Need) -> api::CreateNeedRequest {
    api::CreateNeedRequest { need: Some(n), request_id: String::new() }
}

#[tokio::test]
async fn a_state_files_reads_updates_and_withdraws_its_need() {
    let s = TestServer::start().await;
    let uga = s.state("UGA").await;
    let mut needs = s.needs().await;
    let created = needs.create_need(authed(&uga, create(need("UGA")))).await.unwrap().into_inner();
    assert_eq!(created.state, api::NeedState::Open as i32);
    assert!(created.id.starts_with("need-"));
    let got = needs.get_need(authed(&uga, api::GetNeedRequest { id: created.id.clone() })).await.unwrap().into_inner();
    assert_eq!(got, created);
    let mut change = created.clone();
    change.quantity = 30;
    change.title = "ignored: not in the mask".into();
    let updated = needs
        .update_need(authed(
            &uga,
            api::UpdateNeedRequest {
                need: Some(change),
                update_mask: Some(prost_types::FieldMask { paths: vec!["quantity".into()] }),
                request_id: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.quantity, 30);
    assert_eq!(updated.title, created.title);
    assert_ne!(updated.etag, created.etag);
    // The old etag is stale now.
    let status = assert_code(
        needs
            .withdraw_need(authed(
                &uga,
                api::WithdrawNeedRequest {
                    id: created.id.clone(),
                    etag: created.etag.clone(),
                    request_id: String::new(),
                },
            ))
            .await,
        Code::Aborted,
    );
    assert_eq!(reason(&status), "ETAG_MISMATCH");
    let withdrawn = needs
        .withdraw_need(authed(
            &uga,
            api::WithdrawNeedRequest { id: created.id.clone(), etag: updated.etag, request_id: String::new() },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(withdrawn.state, api::NeedState::Withdrawn as i32);
    assert_code(
        needs
            .withdraw_need(authed(
                &uga,
                api::WithdrawNeedRequest { id: created.id, etag: String::new(), request_id: String::new() },
            ))
            .await,
        Code::FailedPrecondition,
    );
}

#[tokio::test]
async fn another_state_gets_not_found_and_cannot_act_for_others() {
    let s = TestServer::start().await;
    let uga = s.state("UGA").await;
    let ben = s.state("BEN").await;
    let mut needs = s.needs().await;
    let created = needs.create_need(authed(&uga, create(need("UGA")))).await.unwrap().into_inner();
    assert_code(needs.get_need(authed(&ben, api::GetNeedRequest { id: created.id.clone() })).await, Code::NotFound);
    assert_code(
        needs
            .withdraw_need(authed(
                &ben,
                api::WithdrawNeedRequest { id: created.id.clone(), etag: String::new(), request_id: String::new() },
            ))
            .await,
        Code::NotFound,
    );
    // Naming another state, or setting CRITICAL, is PERMISSION_DENIED — before validation.
    assert_code(needs.create_need(authed(&ben, create(need("UGA")))).await, Code::PermissionDenied);
    let mut critical = need("BEN");
    critical.priority = api::Priority::Critical as i32;
    critical.quantity = 0; // invalid too, but permission is checked first
    assert_code(needs.create_need(authed(&ben, create(critical.clone()))).await, Code::PermissionDenied);
    critical.quantity = 5;
    let ok = needs.create_need(authed(&s.admin, create(critical))).await.unwrap().into_inner();
    assert_eq!(ok.priority, api::Priority::Critical as i32);
    // BEN lists only its own need; naming UGA in the filter is refused.
    let list = needs.list_needs(authed(&ben, api::ListNeedsRequest::default())).await.unwrap().into_inner();
    assert_eq!(list.needs.len(), 1);
    assert_eq!(list.needs[0].requester, "BEN");
    assert_code(
        needs.list_needs(authed(&ben, api::ListNeedsRequest { requester: "UGA".into(), ..Default::default() })).await,
        Code::PermissionDenied,
    );
}

#[tokio::test]
async fn every_bad_field_is_reported_with_its_path() {
    let s = TestServer::start().await;
    let mut needs = s.needs().await;
    let mut bad = need("XXX");
    bad.category = api::SupportCategory::Equipment as i32;
    bad.quantity = 100_001;
    bad.women_quantity = 3;
    bad.languages = vec!["en".into(), "ENG".into()];
    bad.needed_by = Some(ts_days(-1));
    bad.priority = 0;
    bad.accepted_modes = vec![99];
    bad.title = "tab\there".into();
    let status = assert_code(needs.create_need(authed(&s.admin, create(bad))).await, Code::InvalidArgument);
    let mut v = violations(&status);
    v.sort();
    assert_eq!(
        v,
        [
            "need.accepted_modes[0]",
            "need.languages[1]",
            "need.needed_by",
            "need.priority",
            "need.quantity",
            "need.requester",
            "need.title",
            "need.women_quantity",
        ]
    );
    let mut far = need("UGA");
    far.needed_by = Some(ts_days(3700));
    let status = assert_code(needs.create_need(authed(&s.admin, create(far))).await, Code::InvalidArgument);
    assert_eq!(violations(&status), ["need.needed_by"]);
    let status = assert_code(
        needs
            .create_need(authed(
                &s.admin,
                api::CreateNeedRequest { need: Some(need("UGA")), request_id: "not-a-uuid".into() },
            ))
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(violations(&status), ["request_id"]);
}

#[tokio::test]
async fn update_needs_a_mask_and_keeps_identity_fields() {
    let s = TestServer::start().await;
    let mut needs = s.needs().await;
    let created = needs.create_need(authed(&s.admin, create(need("UGA")))).await.unwrap().into_inner();
    let upd = |n: api::Need, paths: &[&str]| api::UpdateNeedRequest {
        need: Some(n),
        update_mask: Some(prost_types::FieldMask { paths: paths.iter().map(|p| p.to_string()).collect() }),
        request_id: String::new(),
    };
    let status =
        assert_code(needs.update_need(authed(&s.admin, upd(created.clone(), &[]))).await, Code::InvalidArgument);
    assert_eq!(violations(&status), ["update_mask"]);
    let status = assert_code(
        needs.update_need(authed(&s.admin, upd(created.clone(), &["state", "bogus"]))).await,
        Code::InvalidArgument,
    );
    assert_eq!(violations(&status), ["update_mask.paths[0]", "update_mask.paths[1]"]);
    let mut other = created.clone();
    other.capability = api::CapabilityArea::Medical as i32;
    let status =
        assert_code(needs.update_need(authed(&s.admin, upd(other, &["capability"]))).await, Code::InvalidArgument);
    assert_eq!(violations(&status), ["need.capability"]);
    // A mask field takes the value sent, even a default: an empty description.
    let mut blank = created.clone();
    blank.description = String::new();
    let updated = needs.update_need(authed(&s.admin, upd(blank, &["description"]))).await.unwrap().into_inner();
    assert_eq!(updated.description, "");
    // Unknown ids are NOT_FOUND.
    let mut ghost = created;
    ghost.id = "need-999".into();
    assert_code(needs.update_need(authed(&s.admin, upd(ghost, &["title"]))).await, Code::NotFound);
}

#[tokio::test]
async fn a_retried_create_returns_the_first_need_and_writes_once() {
    let s = TestServer::start().await;
    let uga = s.state("UGA").await;
    let mut needs = s.needs().await;
    let req = api::CreateNeedRequest { need: Some(need("UGA")), request_id: new_request_id() };
    let first = needs.create_need(authed(&uga, req.clone())).await.unwrap().into_inner();
    let second = needs.create_need(authed(&uga, req.clone())).await.unwrap().into_inner();
    assert_eq!(first, second);
    let list = needs.list_needs(authed(&uga, api::ListNeedsRequest::default())).await.unwrap().into_inner();
    assert_eq!(list.needs.len(), 1);
    let mut changed = req;
    changed.need.as_mut().unwrap().quantity = 3;
    let status = assert_code(needs.create_need(authed(&uga, changed)).await, Code::InvalidArgument);
    assert_eq!(reason(&status), "REQUEST_ID_REUSED");
}

#[tokio::test]
async fn lists_page_to_the_end_and_refuse_forged_tokens() {
    let s = TestServer::start().await;
    let mut needs = s.needs().await;
    let mut made = Vec::new();
    for i in 0..7 {
        let mut n = need(if i % 2 == 0 { "UGA" } else { "RWA" });
        n.capability =
            if i < 5 { api::CapabilityArea::Engineering as i32 } else { api::CapabilityArea::Medical as i32 };
        made.push(needs.create_need(authed(&s.admin, create(n))).await.unwrap().into_inner().id);
    }
    let mut seen = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let page = needs
            .list_needs(authed(
                &s.admin,
                api::ListNeedsRequest { page_size: 3, page_token: token.clone(), ..Default::default() },
            ))
            .await
            .unwrap()
            .into_inner();
        pages += 1;
        seen.extend(page.needs.into_iter().map(|n| n.id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen, made);
    assert_eq!(pages, 3);
    // Exactly a page's worth left: the last page carries no token.
    let filtered = needs
        .list_needs(authed(
            &s.admin,
            api::ListNeedsRequest {
                page_size: 3,
                requester: "UGA".into(),
                capability: api::CapabilityArea::Engineering as i32,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(filtered.needs.len(), 3);
    assert!(filtered.next_page_token.is_empty());
    // A forged or foreign token is refused.
    let page = needs
        .list_needs(authed(&s.admin, api::ListNeedsRequest { page_size: 1, ..Default::default() }))
        .await
        .unwrap()
        .into_inner();
    let mut forged = page.next_page_token.clone().into_bytes();
    forged[2] = if forged[2] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    let status = assert_code(
        needs
            .list_needs(authed(
                &s.admin,
                api::ListNeedsRequest { page_size: 1, page_token: forged, ..Default::default() },
            ))
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(violations(&status), ["page_token"]);
    let rwa = s.state("RWA").await;
    assert_code(
        needs
            .list_needs(authed(
                &rwa,
                api::ListNeedsRequest { page_size: 1, page_token: page.next_page_token, ..Default::default() },
            ))
            .await,
        Code::InvalidArgument,
    );
}

/// A retry must get the first answer even when the request's own checks would now refuse
/// it: here its `needed_by` has passed in the meantime (`WriteCall::refused`).
#[tokio::test]
async fn a_retry_is_answered_even_after_its_date_has_passed() {
    let s = TestServer::start().await;
    let mut needs = s.needs().await;
    let mut soon = need("UGA");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    soon.needed_by = Some(prost_types::Timestamp { seconds: now.as_secs() as i64 + 2, nanos: 0 });
    let req = api::CreateNeedRequest { need: Some(soon), request_id: new_request_id() };
    let first = needs.create_need(authed(&s.admin, req.clone())).await.unwrap().into_inner();
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    let retry = needs.create_need(authed(&s.admin, req.clone())).await.unwrap().into_inner();
    assert_eq!(retry, first, "the retry gets the first answer");
    // The same body under a new request id is a new request, and is refused.
    let fresh = api::CreateNeedRequest { request_id: new_request_id(), ..req };
    let status = assert_code(needs.create_need(authed(&s.admin, fresh)).await, Code::InvalidArgument);
    assert_eq!(violations(&status), ["need.needed_by"]);
}

/// A request id reused with another request is INVALID_ARGUMENT on `request_id` before
/// anything else is checked, even when the other request would fail its own checks.
#[tokio::test]
async fn a_reused_request_id_is_named_before_the_new_request_is_checked() {
    let s = TestServer::start().await;
    let mut needs = s.needs().await;
    let created = needs.create_need(authed(&s.admin, create(need("UGA")))).await.unwrap().into_inner();
    let rid = new_request_id();
    let withdraw = |id: &str| api::WithdrawNeedRequest { id: id.into(), etag: String::new(), request_id: rid.clone() };
    needs.withdraw_need(authed(&s.admin, withdraw(&created.id))).await.unwrap();
    let again = needs.withdraw_need(authed(&s.admin, withdraw(&created.id))).await.unwrap().into_inner();
    assert_eq!(again.state, api::NeedState::Withdrawn as i32, "a replay gets the first answer");
    // Another id (that does not even parse) under the same request id.
    let status = assert_code(needs.withdraw_need(authed(&s.admin, withdraw("bogus"))).await, Code::InvalidArgument);
    assert_eq!(violations(&status), ["request_id"]);
    let mut bad = need("UGA");
    bad.quantity = 0;
    let status = assert_code(
        needs.create_need(authed(&s.admin, api::CreateNeedRequest { need: Some(bad), request_id: rid.clone() })).await,
        Code::InvalidArgument,
    );
    assert_eq!(violations(&status), ["request_id"]);
}

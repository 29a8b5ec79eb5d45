use crate::harness::*;
use lcm::api;
use tonic::Code;

#[tokio::test]
async fn create_principal_replay_returns_the_principal_without_its_token() {
    let s = TestServer::start().await;
    let mut admin = s.admin_client().await;
    let req = api::CreatePrincipalRequest {
        kind: api::PrincipalKind::MemberState as i32,
        member_state: "JPN".into(),
        display_name: "Japan mission".into(),
        request_id: new_request_id(),
        ..Default::default()
    };
    let first = admin.create_principal(authed(&s.admin, req.clone())).await.unwrap().into_inner();
    assert!(!first.token.is_empty());
    let again = admin.create_principal(authed(&s.admin, req.clone())).await.unwrap().into_inner();
    assert_eq!(again.principal, first.principal);
    assert!(again.token.is_empty());
    let list =
        admin.list_principals(authed(&s.admin, api::ListPrincipalsRequest::default())).await.unwrap().into_inner();
    assert_eq!(list.principals.len(), 2, "bootstrap Secretariat + Japan, created once");
    // Same request id, different request.
    let other = api::CreatePrincipalRequest { member_state: "FRA".into(), ..req };
    let status = assert_code(admin.create_principal(authed(&s.admin, other)).await, Code::InvalidArgument);
    assert_eq!(reason(&status), "REQUEST_ID_REUSED");
}

#[tokio::test]
async fn create_principal_reports_every_bad_field() {
    let s = TestServer::start().await;
    let mut admin = s.admin_client().await;
    let status = assert_code(
        admin
            .create_principal(authed(
                &s.admin,
                api::CreatePrincipalRequest {
                    kind: api::PrincipalKind::TrainingCentre as i32,
                    member_state: "UGA".into(),
                    training_centre_id: "centre-99".into(),
                    display_name: String::new(),
                    request_id: String::new(),
                },
            ))
            .await,
        Code::InvalidArgument,
    );
    let mut v = violations(&status);
    v.sort();
    assert_eq!(v, ["display_name", "member_state", "training_centre_id"]);
    let status = assert_code(
        admin
            .create_principal(authed(
                &s.admin,
                api::CreatePrincipalRequest { kind: 0, display_name: "x".into(), ..Default::default() },
            ))
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(violations(&status), ["kind"]);
}

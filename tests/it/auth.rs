use crate::harness::*;
use lcm::api;
use tonic::{Code, Request};

#[tokio::test]
async fn requests_without_a_valid_token_are_unauthenticated() {
    let s = TestServer::start().await;
    let mut needs = s.needs().await;
    let get = || api::GetNeedRequest { id: "need-1".into() };
    assert_code(needs.get_need(Request::new(get())).await, Code::Unauthenticated);
    let mut r = Request::new(get());
    r.metadata_mut().insert("authorization", "Basic abc".parse().unwrap());
    assert_code(needs.get_need(r).await, Code::Unauthenticated);
    assert_code(needs.get_need(authed("not-a-token", get())).await, Code::Unauthenticated);
    // A valid token passes authentication (and then finds nothing).
    assert_code(needs.get_need(authed(&s.admin, get())).await, Code::NotFound);
}

#[tokio::test]
async fn health_and_reflection_need_no_token() {
    let s = TestServer::start().await;
    let mut health = tonic_health::pb::health_client::HealthClient::new(s.channel().await);
    let r = health.check(tonic_health::pb::HealthCheckRequest { service: String::new() }).await.unwrap();
    assert_eq!(r.into_inner().status, tonic_health::pb::health_check_response::ServingStatus::Serving as i32);
}

#[tokio::test]
async fn revoked_token_stops_working_at_once() {
    let s = TestServer::start().await;
    let mut admin = s.admin_client().await;
    let created = admin
        .create_principal(authed(
            &s.admin,
            api::CreatePrincipalRequest {
                kind: api::PrincipalKind::MemberState as i32,
                member_state: "UGA".into(),
                display_name: "Uganda mission".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let token = created.token;
    let mut needs = s.needs().await;
    needs
        .create_need(authed(&token, api::CreateNeedRequest { need: Some(need("UGA")), request_id: String::new() }))
        .await
        .unwrap();
    admin
        .revoke_principal(authed(&s.admin, api::RevokePrincipalRequest { id: created.principal.unwrap().id }))
        .await
        .unwrap();
    let status = assert_code(
        needs
            .create_need(authed(&token, api::CreateNeedRequest { need: Some(need("UGA")), request_id: String::new() }))
            .await,
        Code::Unauthenticated,
    );
    assert!(status.message().contains("revoked"));
}

#[tokio::test]
async fn principal_kinds_a_method_never_allows_are_permission_denied() {
    let s = TestServer::start().await;
    let uga = s.state("UGA").await;
    let mut centres = s.centres().await;
    let centre = centres
        .create_training_centre(authed(
            &s.admin,
            api::CreateTrainingCentreRequest {
                training_centre: Some(api::TrainingCentre {
                    name: "IPSTC".into(),
                    host_state: "KEN".into(),
                    languages: vec!["en".into()],
                    capabilities: vec![api::CapabilityArea::Engineering as i32],
                    un_recognized: true,
                    ..Default::default()
                }),
                request_id: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let centre_token = s.principal(api::PrincipalKind::TrainingCentre, "", &centre.id).await;
    // A state cannot register centres, list events or manage principals.
    assert_code(
        centres.create_training_centre(authed(&uga, api::CreateTrainingCentreRequest::default())).await,
        Code::PermissionDenied,
    );
    assert_code(
        s.events().await.list_events(authed(&uga, api::ListEventsRequest::default())).await,
        Code::PermissionDenied,
    );
    assert_code(
        s.admin_client().await.list_principals(authed(&uga, api::ListPrincipalsRequest::default())).await,
        Code::PermissionDenied,
    );
    // A centre cannot touch needs or offers, but reads centres.
    assert_code(
        s.needs().await.list_needs(authed(&centre_token, api::ListNeedsRequest::default())).await,
        Code::PermissionDenied,
    );
    assert_code(
        s.offers().await.list_offers(authed(&centre_token, api::ListOffersRequest::default())).await,
        Code::PermissionDenied,
    );
    let listed =
        centres.list_training_centres(authed(&centre_token, api::ListTrainingCentresRequest::default())).await.unwrap();
    assert_eq!(listed.into_inner().training_centres.len(), 1);
}

#[tokio::test]
async fn admin_token_file_is_private() {
    let s = TestServer::start().await;
    let meta = std::fs::metadata(s.data_dir().join("admin.token")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }
    assert_eq!(s.admin.len(), 43, "256-bit token in URL-safe base64");
}

use crate::harness::*;
use lcm::api;
use tonic::Code;

fn create(o: api::Offer) -> api::CreateOfferRequest {
    api::CreateOfferRequest { offer: Some(o), request_id: String::new() }
}

async fn centre(s: &TestServer) -> api::TrainingCentre {
    s.centres()
        .await
        .create_training_centre(authed(
            &s.admin,
            api::CreateTrainingCentreRequest {
                training_centre: Some(api::TrainingCentre {
                    name: "IPSTC, Nairobi".into(),
                    host_state: "KEN".into(),
                    languages: vec!["en".into(), "fr".into()],
                    capabilities: vec![api::CapabilityArea::Engineering as i32],
                    un_recognized: true,
                    ..Default::default()
                }),
                request_id: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
}

#[tokio::test]
async fn providers_create_offers_at_a_registered_centre() {
    let s = TestServer::start().await;
    let jpn = s.state("JPN").await;
    let ipstc = centre(&s).await;
    let mut offers = s.offers().await;
    let mut o = delivery_offer("JPN");
    o.mode = api::DeliveryMode::AtTrainingCentre as i32;
    o.training_centre_id = ipstc.id.clone();
    o.eligible_recipients = vec!["UGA".into(), "RWA".into()];
    let created = offers.create_offer(authed(&jpn, create(o.clone()))).await.unwrap().into_inner();
    assert_eq!(created.training_centre_id, ipstc.id);
    assert_eq!(created.state, api::OfferState::Open as i32);
    // A dangling centre reference is an invalid field.
    o.training_centre_id = "centre-42".into();
    let status = assert_code(offers.create_offer(authed(&jpn, create(o))).await, Code::InvalidArgument);
    assert_eq!(violations(&status), ["offer.training_centre_id"]);
    // JPN may not file offers for DEU.
    assert_code(offers.create_offer(authed(&jpn, create(delivery_offer("DEU")))).await, Code::PermissionDenied);
}

#[tokio::test]
async fn funding_offers_leave_delivery_fields_unset() {
    let s = TestServer::start().await;
    let mut offers = s.offers().await;
    let mut f = delivery_offer("JPN");
    f.role = api::OfferRole::Funding as i32;
    f.duration_days = 28;
    f.women_only = true;
    let status = assert_code(offers.create_offer(authed(&s.admin, create(f.clone()))).await, Code::InvalidArgument);
    let mut v = violations(&status);
    v.sort();
    assert_eq!(v, ["offer.duration_days", "offer.languages", "offer.mode", "offer.women_only"]);
    let ok = api::Offer { languages: vec![], mode: 0, duration_days: 0, women_only: false, ..f };
    let created = offers.create_offer(authed(&s.admin, create(ok))).await.unwrap().into_inner();
    assert_eq!(created.role, api::OfferRole::Funding as i32);
}

#[tokio::test]
async fn delivery_offer_rules_are_checked_together() {
    let s = TestServer::start().await;
    let mut offers = s.offers().await;
    let mut o = delivery_offer("JPN");
    o.providers = vec!["JPN".into(), "JPN".into()];
    o.available_until = Some(ts_days(5));
    o.mode = api::DeliveryMode::AtTrainingCentre as i32;
    o.duration_days = 0;
    o.capacity = 0;
    let status = assert_code(offers.create_offer(authed(&s.admin, create(o))).await, Code::InvalidArgument);
    let mut v = violations(&status);
    v.sort();
    assert_eq!(
        v,
        [
            "offer.available_until",
            "offer.capacity",
            "offer.duration_days",
            "offer.providers[1]",
            "offer.training_centre_id"
        ]
    );
}

#[tokio::test]
async fn states_see_open_offers_they_are_eligible_for_and_nothing_else() {
    let s = TestServer::start().await;
    let jpn = s.state("JPN").await;
    let uga = s.state("UGA").await;
    let ben = s.state("BEN").await;
    let ken = s.state("KEN").await;
    let mut offers = s.offers().await;
    let mut o = delivery_offer("JPN");
    o.eligible_recipients = vec!["UGA".into(), "KEN".into()];
    o.excluded_recipients = vec!["KEN".into()];
    let offer = offers.create_offer(authed(&jpn, create(o))).await.unwrap().into_inner();
    let get = |t: &str| authed(t, api::GetOfferRequest { id: offer.id.clone() });
    offers.get_offer(get(&uga)).await.unwrap();
    offers.get_offer(get(&jpn)).await.unwrap();
    assert_code(offers.get_offer(get(&ben)).await, Code::NotFound);
    assert_code(offers.get_offer(get(&ken)).await, Code::NotFound);
    assert_eq!(
        offers.list_offers(authed(&uga, api::ListOffersRequest::default())).await.unwrap().into_inner().offers.len(),
        1
    );
    assert_eq!(
        offers.list_offers(authed(&ben, api::ListOffersRequest::default())).await.unwrap().into_inner().offers.len(),
        0
    );
    // UGA sees it but cannot change it.
    assert_code(
        offers
            .withdraw_offer(authed(
                &uga,
                api::WithdrawOfferRequest { id: offer.id.clone(), etag: String::new(), request_id: String::new() },
            ))
            .await,
        Code::PermissionDenied,
    );
    // Once withdrawn it is no longer OPEN: UGA loses sight of it, JPN keeps it.
    offers
        .withdraw_offer(authed(
            &jpn,
            api::WithdrawOfferRequest { id: offer.id.clone(), etag: offer.etag.clone(), request_id: String::new() },
        ))
        .await
        .unwrap();
    assert_code(offers.get_offer(get(&uga)).await, Code::NotFound);
    let mine = offers
        .list_offers(authed(
            &jpn,
            api::ListOffersRequest {
                provider: "JPN".into(),
                state: api::OfferState::Withdrawn as i32,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(mine.offers.len(), 1);
}

#[tokio::test]
async fn offer_update_respects_mask_and_identity() {
    let s = TestServer::start().await;
    let mut offers = s.offers().await;
    let offer = offers.create_offer(authed(&s.admin, create(delivery_offer("CHE")))).await.unwrap().into_inner();
    let mut change = offer.clone();
    change.capacity = 12;
    change.role = api::OfferRole::Funding as i32;
    let status = assert_code(
        offers
            .update_offer(authed(
                &s.admin,
                api::UpdateOfferRequest {
                    offer: Some(change.clone()),
                    update_mask: Some(prost_types::FieldMask { paths: vec!["capacity".into(), "role".into()] }),
                    request_id: String::new(),
                },
            ))
            .await,
        Code::InvalidArgument,
    );
    assert!(!violations(&status).is_empty());
    let updated = offers
        .update_offer(authed(
            &s.admin,
            api::UpdateOfferRequest {
                offer: Some(change),
                update_mask: Some(prost_types::FieldMask { paths: vec!["capacity".into()] }),
                request_id: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.capacity, 12);
    assert_eq!(updated.role, api::OfferRole::Delivery as i32);
}

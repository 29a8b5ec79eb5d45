use super::*;
use crate::api as pb;

const DAY: i64 = SECONDS_PER_DAY * MICROS_PER_SECOND;

fn clock() -> Clock {
    Clock { now: 20_000 * DAY }
}

fn ts(day: i64) -> Option<Timestamp> {
    Some(timestamp(day * DAY))
}

fn need() -> pb::Need {
    pb::Need {
        requester: "UGA".into(),
        category: pb::SupportCategory::Training as i32,
        capability: pb::CapabilityArea::Medical as i32,
        title: "Field medics".into(),
        quantity: 10,
        women_quantity: 2,
        languages: vec!["en".into()],
        needed_by: ts(20_100),
        priority: pb::Priority::High as i32,
        ..Default::default()
    }
}

fn fields(e: AppError) -> Vec<String> {
    match e {
        AppError::InvalidArgument(v) => v.into_iter().map(|v| v.field).collect(),
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
}

#[test]
fn a_valid_need_converts_and_round_trips() {
    let spec = need_spec(&need(), "need", clock(), true).unwrap();
    assert_eq!(spec.requester.as_str(), "UGA");
    assert_eq!(spec.needed_by, 20_100 * DAY);
    let record = Need { meta: Meta::new(Id(1), 0), spec, withdrawn: false, seats: Seats::default() };
    let back = need_to_proto(&record);
    assert_eq!(back.requester, "UGA");
    assert_eq!(back.needed_by, ts(20_100));
    assert_eq!(back.state, pb::NeedState::Open as i32);
}

#[test]
fn every_bad_need_field_is_reported_once_with_its_path() {
    let bad = pb::Need {
        requester: "uga".into(),
        quantity: 0,
        women_quantity: 1,
        languages: vec!["en".into(), "en".into(), "xx1".into()],
        needed_by: ts(19_999),
        priority: 9,
        title: "x".repeat(201),
        ..need()
    };
    let got = fields(need_spec(&bad, "need", clock(), true).unwrap_err());
    assert_eq!(
        got,
        [
            "need.requester",
            "need.title",
            "need.quantity",
            "need.women_quantity",
            "need.languages[1]",
            "need.languages[2]",
            "need.needed_by",
            "need.priority"
        ]
    );
    // The past is fine when the date is not being set (an update of another field).
    let old = pb::Need { needed_by: ts(19_999), ..need() };
    assert!(need_spec(&old, "need", clock(), false).is_ok());
    let far = pb::Need { needed_by: ts(20_000 + 3_700), ..need() };
    assert_eq!(fields(need_spec(&far, "need", clock(), true).unwrap_err()), ["need.needed_by"]);
}

#[test]
fn funding_offers_refuse_delivery_fields_and_centres_must_exist() {
    let funding = pb::Offer {
        providers: vec!["JPN".into()],
        role: pb::OfferRole::Funding as i32,
        category: pb::SupportCategory::Training as i32,
        capability: pb::CapabilityArea::Engineering as i32,
        title: "Funds".into(),
        capacity: 20,
        available_from: ts(20_000),
        available_until: ts(20_300),
        mode: pb::DeliveryMode::Remote as i32,
        ..Default::default()
    };
    assert_eq!(fields(offer_spec(&funding, "offer", clock(), &|_| true).unwrap_err()), ["offer.mode"]);
    let ok = pb::Offer { mode: 0, ..funding.clone() };
    assert_eq!(offer_spec(&ok, "offer", clock(), &|_| true).unwrap().terms, OfferTerms::Funding);
    let at_centre = pb::Offer {
        role: pb::OfferRole::Delivery as i32,
        mode: pb::DeliveryMode::AtTrainingCentre as i32,
        training_centre_id: "centre-3".into(),
        languages: vec!["en".into()],
        duration_days: 10,
        ..funding
    };
    assert_eq!(fields(offer_spec(&at_centre, "offer", clock(), &|_| false).unwrap_err()), ["offer.training_centre_id"]);
    let spec = offer_spec(&at_centre, "offer", clock(), &|id| id == Id(3)).unwrap();
    assert_eq!(spec.terms.delivery().and_then(|d| d.training_centre), Some(Id(3)));
}

#[test]
fn enum_lists_are_bounded_by_the_values_they_can_hold() {
    assert_eq!((1..1_000).filter(|v| event_kind_from(*v).is_some()).count(), event_kinds());
    let mut v = Violations::default();
    assert!(modes_from(&mut v, "modes", &[9; 100_000]).is_empty());
    let all: Vec<i32> = (1..=15).collect();
    assert_eq!(capabilities_from(&mut v, "capabilities", &all).len(), 15);
    let got: Vec<String> = v.0.into_iter().map(|f| f.field).collect();
    assert_eq!(got, ["modes"]);
}

#[test]
fn text_checks_length_then_control_characters() {
    let mut v = Violations::default();
    v.text("a", "", 1, 5, false);
    v.text("b", "toolong", 1, 5, false);
    v.text("c", "a\u{7}b", 1, 5, false);
    v.text("d", "a\nb", 1, 5, true);
    let got: Vec<String> = v.0.into_iter().map(|f| f.field).collect();
    assert_eq!(got, ["a", "b", "c"]);
}

//! The permission rules of request bodies, without a server.

use super::*;
use crate::domain::types::*;
use crate::domain::workflow::{Allocation, ArrangementStatus};

fn state(code: &str) -> Caller {
    Caller { principal_id: format!("principal-{code}"), role: Role::MemberState(code.parse().unwrap()) }
}

fn secretariat() -> Caller {
    Caller { principal_id: "principal-sec".into(), role: Role::Secretariat }
}

fn centre() -> Caller {
    Caller { principal_id: "principal-centre".into(), role: Role::TrainingCentre(Id(3)) }
}

fn funding_offer() -> Offer {
    Offer {
        meta: Meta::new(Id(2), 0),
        spec: OfferSpec {
            providers: vec!["BGD".parse().unwrap()],
            terms: OfferTerms::Funding,
            category: SupportCategory::Training,
            capability: CapabilityArea::Engineering,
            title: "Funds".into(),
            description: String::new(),
            capacity: 5,
            available_from: 0,
            available_until: 1,
            eligible_recipients: vec!["KEN".parse().unwrap()],
            excluded_recipients: Vec::new(),
            max_per_recipient: 0,
        },
        withdrawn: false,
        seats: Seats::default(),
    }
}

fn denied(r: Result<(), Refusal>) -> String {
    match r {
        Err(Refusal::Denied(why)) => why,
        other => panic!("expected a denial, got {other:?}"),
    }
}

#[test]
fn a_state_files_needs_for_itself_only_and_never_critical() {
    let npl = state("NPL");
    assert_eq!(npl.may_file_need("NPL", true, false), Ok(()));
    assert_eq!(denied(npl.may_file_need("", true, false)), "NPL must name itself as requester");
    assert_eq!(npl.may_file_need("", false, false), Ok(()), "an update or a list may leave it out");
    assert_eq!(denied(npl.may_file_need("BGD", false, false)), "NPL cannot act for BGD");
    assert_eq!(denied(npl.may_file_need("NPL", true, true)), "only the Secretariat sets CRITICAL priority");
    assert_eq!(secretariat().may_file_need("BGD", true, true), Ok(()));
    assert_eq!(denied(centre().may_file_need("", false, false)), "training centres cannot call NeedService");
}

#[test]
fn a_state_acts_only_on_offers_it_provides() {
    let bgd = state("BGD");
    assert_eq!(bgd.may_file_offer(&["DEU".into(), "BGD".into()], true), Ok(()));
    assert_eq!(bgd.may_file_offer(&[], false), Ok(()), "an update or a list may leave them out");
    assert_eq!(denied(bgd.may_file_offer(&[], true)), "a state must list itself among the providers");
    assert_eq!(denied(bgd.may_file_offer(&["DEU".into()], true)), "BGD is not among the offer's providers");
    assert_eq!(secretariat().may_file_offer(&["DEU".into()], true), Ok(()));
    assert_eq!(secretariat().may_file_offer(&[], true), Ok(()));
    assert_eq!(denied(centre().may_file_offer(&[], false)), "training centres cannot call OfferService");
}

#[test]
fn only_the_secretariat_passes_its_own_methods_and_centres_are_refused_where_never_allowed() {
    assert_eq!(secretariat().require_secretariat(), Ok(()));
    assert_eq!(denied(state("NPL").require_secretariat()), "only the Secretariat may call this method");
    assert_eq!(denied(centre().require_secretariat()), "only the Secretariat may call this method");
    assert_eq!(denied(centre().refuse_centres("no")), "no");
    assert_eq!(state("NPL").refuse_centres("no"), Ok(()));
}

#[test]
fn a_party_reads_an_offer_it_could_not_otherwise_see() {
    let npl = state("NPL");
    let party = |_: Alpha3| -> Result<bool, ()> { Ok(true) };
    let outsider = |_: Alpha3| -> Result<bool, ()> { Ok(false) };
    let offer = funding_offer();
    assert_eq!(npl.may_read_offer(&offer, outsider), Ok(false), "not eligible, not a party");
    assert_eq!(npl.may_read_offer(&offer, party), Ok(true), "a party to a match drawing on it");
    assert_eq!(centre().may_read_offer(&offer, party), Ok(false), "centres read no offers");
    assert_eq!(state("BGD").may_read_offer(&offer, outsider), Ok(true), "its provider");
}

#[test]
fn a_need_is_changed_by_its_requester_and_an_offer_by_its_providers() {
    let need = crate::domain::commands::tests::need(3, 0);
    assert_eq!(state("NPL").may_change_need(&need), Ok(()));
    assert_eq!(secretariat().may_change_need(&need), Ok(()));
    let why = "only the need's requester or the Secretariat may change it";
    assert_eq!(denied(state("BGD").may_change_need(&need)), why);
    assert_eq!(denied(centre().may_change_need(&need)), why);

    let offer = funding_offer();
    assert_eq!(state("BGD").may_change_offer(&offer), Ok(()));
    assert_eq!(secretariat().may_change_offer(&offer), Ok(()));
    let why = "only the offer's providers or the Secretariat may change it";
    assert_eq!(denied(state("KEN").may_change_offer(&offer)), why, "eligible to receive is not providing");
    assert_eq!(denied(centre().may_change_offer(&offer)), why);
}

#[test]
fn consent_comes_from_states_and_delivery_from_the_delivery_team() {
    assert_eq!(state("NPL").consenting_state(), Ok("NPL".parse().unwrap()));
    assert_eq!(denied(secretariat().consenting_state().map(|_| ())), "only a party state gives or refuses its consent");
    assert_eq!(denied(centre().consenting_state().map(|_| ())), "only a party state gives or refuses its consent");

    let a = Arrangement {
        meta: Meta::new(Id(4), 0),
        match_id: Id(3),
        need: Id(1),
        recipient: "NPL".parse().unwrap(),
        allocation: Allocation {
            offer: Id(2),
            funding_offer: None,
            quantity: 2,
            women_quantity: 0,
            training_centre: Some(Id(3)),
            parties: vec!["BGD".parse().unwrap(), "GHA".parse().unwrap(), "NPL".parse().unwrap()],
        },
        category: SupportCategory::Training,
        capability: CapabilityArea::Engineering,
        delivering: vec!["BGD".parse().unwrap()],
        scheduled_start: None,
        scheduled_end: None,
        consents: Vec::new(),
        outcome: None,
        history: Vec::new(),
        status: ArrangementStatus::Scheduled,
    };
    for team in [state("BGD"), secretariat(), centre()] {
        assert_eq!(team.may_deliver(&a), Ok(()), "{team:?}");
        assert_eq!(team.may_record_outcome(&a), Ok(()), "{team:?}");
    }
    // The recipient and the centre's host are parties, not the delivery team.
    for other in [state("NPL"), state("GHA")] {
        assert_eq!(
            denied(other.may_deliver(&a)),
            "only the hosting centre, a delivering party or the Secretariat may do this"
        );
        assert_eq!(
            denied(other.may_record_outcome(&a)),
            "only the hosting centre, a delivering party or the Secretariat record outcomes"
        );
    }
    let elsewhere = Caller { principal_id: "principal-c9".into(), role: Role::TrainingCentre(Id(9)) };
    assert!(elsewhere.may_deliver(&a).is_err(), "another centre");
}

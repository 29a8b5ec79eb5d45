use super::*;
use crate::console::call::service_message;

#[test]
fn range_and_length_refusals_read_in_french() {
    assert_eq!(
        service_message(Lang::Fr, "invalid request: offer.capacity: must be between 1 and 100000"),
        "requête invalide\u{a0}: offer.capacity\u{a0}: doit être compris entre 1 et 100000"
    );
    assert_eq!(service_message(Lang::Fr, "must be between 1 and 100000"), "doit être compris entre 1 et 100000");
    assert_eq!(
        service_message(Lang::Fr, "must have at most 200 characters (has 201)"),
        "doit avoir au plus 200 caractères (en a 201)"
    );
    assert_eq!(service_message(Lang::En, "must be between 1 and 9"), "must be between 1 and 9");
}

#[test]
fn catalogues_have_the_same_keys() {
    let en: Vec<&str> = EN.iter().map(|(k, _)| *k).collect();
    let fr: Vec<&str> = FR.iter().map(|(k, _)| *k).collect();
    assert_eq!(en, fr, "the catalogues must list the same keys in the same order");
    let distinct: std::collections::HashSet<_> = en.iter().collect();
    assert_eq!(distinct.len(), en.len(), "a key is listed twice");
}

#[test]
fn every_enum_value_shown_has_a_name_in_both_languages() {
    use crate::api as pb;
    fn names<T>(from: impl Fn(i32) -> Option<T>, name: impl Fn(&T) -> &'static str) -> Vec<&'static str> {
        (0..64).map_while(|i| from(i).map(|v| name(&v))).collect()
    }
    let all = [
        names(|i| pb::SupportCategory::try_from(i).ok(), |v| v.as_str_name()),
        names(|i| pb::CapabilityArea::try_from(i).ok(), |v| v.as_str_name()),
        names(|i| pb::Priority::try_from(i).ok(), |v| v.as_str_name()),
        names(|i| pb::ReadinessLevel::try_from(i).ok(), |v| v.as_str_name()),
        names(|i| pb::DeliveryMode::try_from(i).ok(), |v| v.as_str_name()),
        names(|i| pb::OfferRole::try_from(i).ok(), |v| v.as_str_name()),
        names(|i| pb::NeedState::try_from(i).ok(), |v| v.as_str_name()),
        names(|i| pb::OfferState::try_from(i).ok(), |v| v.as_str_name()),
        names(|i| pb::MatchState::try_from(i).ok(), |v| v.as_str_name()),
        names(|i| pb::ArrangementStatus::try_from(i).ok(), |v| v.as_str_name()),
        names(|i| pb::ConsentDecision::try_from(i).ok(), |v| v.as_str_name()),
        names(|i| pb::PrincipalKind::try_from(i).ok(), |v| v.as_str_name()),
        names(|i| pb::EventKind::try_from(i).ok(), |v| v.as_str_name()),
        names(|i| pb::ReadinessStatus::try_from(i).ok(), |v| v.as_str_name()),
    ];
    let en: HashMap<_, _> = ENUMS_EN.iter().copied().collect();
    let fr: HashMap<_, _> = ENUMS_FR.iter().copied().collect();
    let mut count = 0;
    for name in all.iter().flatten() {
        count += 1;
        let (Some(e), Some(f)) = (en.get(name), fr.get(name)) else { panic!("{name} lacks a name in a catalogue") };
        assert!(!e.is_empty() && !f.is_empty() && !e.contains('_'), "{name}: {e:?} / {f:?}");
    }
    assert_eq!(count, ENUMS_EN.len(), "a catalogue names a value the API does not have");
    let keys = |t: &[(&'static str, &'static str)]| t.iter().map(|(k, _)| *k).collect::<Vec<_>>();
    assert_eq!(keys(ENUMS_EN), keys(ENUMS_FR), "the enum catalogues must list the same keys in the same order");
    assert_eq!(label(Lang::Fr, "ARRANGEMENT_STATUS_PENDING_CONSENT"), "En attente de consentement");
    assert_eq!(label(Lang::En, "MATCH_STATE_PROPOSED"), "Proposed");
    assert_eq!(label(Lang::Fr, "SOMETHING_NEWER"), "SOMETHING_NEWER");
}

#[test]
fn the_start_window_refusal_reads_in_french() {
    let fr = service_message(
        Lang::Fr,
        "must lie between 2027-02-03 and 2027-06-28 (offer availability, need deadline and funding dates, for a 35-day course)",
    );
    assert!(fr.starts_with("doit se situer entre le 2027-02-03 et le 2027-06-28"), "{fr}");
    assert!(fr.contains("35 jours"), "{fr}");
}

#[test]
fn accept_language_picks_the_best_known_language() {
    assert_eq!(Lang::from_accept_language("fr-CH, fr;q=0.9, en;q=0.8"), Some(Lang::Fr));
    assert_eq!(Lang::from_accept_language("de, en;q=0.5, fr;q=0.4"), Some(Lang::En));
    assert_eq!(Lang::from_accept_language("de"), None);
}

#[test]
fn a_label_s_colon_follows_each_language_s_typography() {
    assert_eq!(format!("{}{}", t(Lang::Fr, "refused"), colon(Lang::Fr)), "Refusé\u{a0}:");
    assert_eq!(format!("{}{}", t(Lang::En, "refused"), colon(Lang::En)), "Refused:");
}

#[test]
fn french_text_keeps_its_punctuation_on_the_line_of_its_word() {
    assert_eq!(
        typeset_fr("Essai : rien ; « oui » ? non !"),
        "Essai\u{a0}: rien\u{a0}; «\u{a0}oui\u{a0}»\u{a0}? non\u{a0}!"
    );
    let plain = |text: &str| [" :", " ;", " ?", " !", "« ", " »"].iter().any(|p| text.contains(p));
    let loose: Vec<&str> = FR.iter().chain(ENUMS_FR).map(|(_, fr)| *fr).filter(|fr| plain(fr)).collect();
    assert!(loose.is_empty(), "plain spaces before French punctuation: {loose:?}");
    let (refusal, _) =
        crate::console::service_fr::translate("invalid request: need.quantity: must be at most 100000; a: b");
    assert!(!plain(&refusal), "{refusal}");
}

#![allow(clippy::unwrap_used)]

use super::*;
use crate::domain::*;

const DAY: i64 = 86_400 * MICROS_PER_SECOND;
const TODAY: Day = 20_000;

fn st(code: &str) -> Alpha3 {
    code.parse().unwrap()
}

fn at(day: Day) -> UnixMicros {
    day * DAY + 3_600 * MICROS_PER_SECOND
}

fn need(id: u64, requester: &str, capability: CapabilityArea, quantity: u32, women: u32, due: Day) -> Need {
    Need {
        meta: Meta::new(Id(id), 0),
        spec: NeedSpec {
            requester: st(requester),
            category: SupportCategory::Training,
            capability,
            title: "t".into(),
            description: String::new(),
            quantity,
            women_quantity: women,
            languages: vec!["en".parse().unwrap()],
            needed_by: at(due),
            priority: Priority::High,
            pledge_ref: String::new(),
            pledge_level: None,
            mission: String::new(),
            accepted_modes: vec![],
        },
        withdrawn: false,
        seats: Seats::default(),
    }
}

fn offer(id: u64, provider: &str, eligible: &[&str], from: Day, until: Day) -> Offer {
    Offer {
        meta: Meta::new(Id(id), 0),
        spec: OfferSpec {
            providers: vec![st(provider)],
            terms: OfferTerms::Delivery(DeliveryTerms {
                languages: vec!["en".parse().unwrap()],
                mode: DeliveryMode::MobileTrainingTeam,
                training_centre: None,
                duration_days: 10,
                women_only: false,
                requires_funding: false,
            }),
            category: SupportCategory::Training,
            capability: CapabilityArea::Engineering,
            title: "o".into(),
            description: String::new(),
            capacity: 20,
            available_from: at(from),
            available_until: at(until),
            eligible_recipients: eligible.iter().map(|s| st(s)).collect(),
            excluded_recipients: vec![],
            max_per_recipient: 0,
        },
        withdrawn: false,
        seats: Seats::default(),
    }
}

fn arrangement(
    id: u64,
    need: &Need,
    offer: &Offer,
    quantity: u32,
    women: u32,
    status: ArrangementStatus,
) -> Arrangement {
    Arrangement {
        meta: Meta::new(Id(id), 0),
        match_id: Id(1),
        need: need.meta.id,
        recipient: need.spec.requester,
        allocation: Allocation {
            offer: offer.meta.id,
            funding_offer: None,
            quantity,
            women_quantity: women,
            training_centre: None,
            parties: vec![need.spec.requester, offer.spec.providers[0]],
        },
        category: need.spec.category,
        capability: need.spec.capability,
        delivering: offer.spec.providers.clone(),
        scheduled_start: None,
        scheduled_end: None,
        consents: vec![],
        outcome: None,
        history: vec![],
        status,
    }
}

fn snapshot(needs: Vec<Need>, offers: Vec<Offer>, arrangements: Vec<Arrangement>) -> Snapshot {
    Snapshot { today: TODAY, needs, offers, arrangements }
}

/// The gap rows of `s`'s needs, as the gap report tallies them.
fn gap_rows(s: &Snapshot, grouping: GapGrouping) -> Vec<GapRow> {
    let mut tally = GapTally::new(grouping, s.today);
    s.needs.iter().for_each(|n| tally.add(n));
    tally.rows()
}

#[test]
fn iso_dates_follow_the_civil_calendar() {
    assert_eq!(iso_date(0), "1970-01-01");
    assert_eq!(iso_date(19_782), "2024-02-29");
    assert_eq!(iso_date(-1), "1969-12-31");
}

#[test]
fn gap_rows_sum_seats_and_skip_withdrawn_needs() {
    let mut a = need(1, "UGA", CapabilityArea::Engineering, 20, 4, TODAY + 30);
    a.seats = Seats { reserved: 5, reserved_women: 1, delivered: 3, delivered_women: 0 };
    a.spec.priority = Priority::Critical;
    let mut b = need(2, "RWA", CapabilityArea::Engineering, 10, 2, TODAY - 1);
    b.seats.delivered = 4;
    let c = need(3, "UGA", CapabilityArea::Medical, 6, 0, TODAY);
    let mut gone = need(4, "UGA", CapabilityArea::Medical, 50, 9, TODAY + 5);
    gone.withdrawn = true;
    let s = snapshot(vec![a, b, c, gone], vec![], vec![]);
    let by_cap = gap_rows(&s, GapGrouping::Capability);
    assert_eq!(by_cap.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["ENGINEERING", "MEDICAL"]);
    let eng = &by_cap[0];
    assert_eq!((eng.needed, eng.women_needed, eng.reserved, eng.delivered, eng.open), (30, 6, 5, 7, 18));
    // 12 open seats of the CRITICAL need; 6 open seats of RWA's need, due yesterday.
    assert_eq!((eng.critical_open, eng.overdue), (12, 6));
    // Due today is not overdue yet.
    assert_eq!((by_cap[1].needed, by_cap[1].overdue), (6, 0));
    let by_state = gap_rows(&s, GapGrouping::Requester);
    assert_eq!(by_state.iter().map(|r| (r.key.as_str(), r.needed)).collect::<Vec<_>>(), [("RWA", 10), ("UGA", 26)]);
}

#[test]
fn the_mechanism_figures_sum_the_gaps_the_needs_at_risk_and_the_consents_awaited() {
    let o = offer(10, "JPN", &[], TODAY, TODAY + 300);
    let mut a = need(1, "UGA", CapabilityArea::Engineering, 20, 4, TODAY + 30);
    a.seats = Seats { reserved: 5, reserved_women: 1, delivered: 3, delivered_women: 0 };
    a.spec.priority = Priority::Critical;
    let b = need(2, "RWA", CapabilityArea::Medical, 10, 2, TODAY - 1);
    let later = need(3, "UGA", CapabilityArea::Medical, 6, 0, TODAY + 300);
    let mut gone = need(4, "UGA", CapabilityArea::Medical, 50, 9, TODAY + 5);
    gone.withdrawn = true;
    let consent = |state: &str, decision| Consent { state: st(state), decision, note: String::new(), time: None };
    let mut waiting = arrangement(100, &a, &o, 5, 1, ArrangementStatus::PendingConsent);
    waiting.consents = vec![consent("UGA", ConsentDecision::Pending), consent("JPN", ConsentDecision::Pending)];
    let mut half = arrangement(101, &b, &o, 2, 0, ArrangementStatus::PendingConsent);
    half.consents = vec![consent("RWA", ConsentDecision::Accepted), consent("JPN", ConsentDecision::Pending)];
    // An arrangement past consent counts none, whatever its consents say.
    let mut approved = arrangement(102, &a, &o, 3, 0, ArrangementStatus::Agreed);
    approved.consents = vec![consent("UGA", ConsentDecision::Pending)];

    let horizons = RiskHorizons::default();
    let mut tally = FiguresTally::new(TODAY, &horizons);
    [&a, &b, &later, &gone].into_iter().for_each(|n| tally.add_need(n));
    [&waiting, &half, &approved].into_iter().for_each(|x| tally.add_arrangement(x));
    let f = tally.figures();
    assert_eq!((f.seats_demanded, f.seats_open), (36, 28), "the withdrawn need counts no seats");
    assert_eq!((f.seats_open_critical, f.seats_overdue), (12, 10));
    assert_eq!(f.consents_pending, 3);
    // UGA's critical need is due within its horizon, RWA's is overdue; the need due in 300
    // days and the withdrawn one are not at risk.
    assert_eq!(f.needs_at_risk, 2);
}

#[test]
fn overlapping_sources_make_one_finding_and_an_offer_with_its_arrangements_is_one_source() {
    let n = need(1, "UGA", CapabilityArea::Engineering, 20, 0, TODAY + 300);
    let o1 = offer(10, "JPN", &["UGA", "RWA"], TODAY + 30, TODAY + 210);
    let o2 = offer(11, "CHE", &["UGA"], TODAY + 40, TODAY + 200);
    let mut o3 = offer(12, "USA", &[], TODAY + 20, TODAY + 140);
    o3.seats.reserved = 20; // EXHAUSTED: only its arrangement counts.
    let from_o1 = arrangement(100, &n, &o1, 4, 0, ArrangementStatus::Agreed);
    let mut from_o3 = arrangement(101, &n, &o3, 20, 0, ArrangementStatus::Scheduled);
    from_o3.scheduled_start = Some(at(TODAY + 20));
    from_o3.scheduled_end = Some(at(TODAY + 30));
    let cancelled = arrangement(102, &n, &o2, 3, 0, ArrangementStatus::Cancelled);
    let s = snapshot(vec![n], vec![o1, o2, o3], vec![from_o1, from_o3, cancelled]);
    let f = deconfliction_findings(&s);
    assert_eq!(f.len(), 1, "{f:?}");
    let f = &f[0];
    assert_eq!((f.recipient, f.kind), (st("UGA"), FindingKind::OverlappingSources));
    // o1 and its arrangement are one source (30..210); o2 40..200; o3's arrangement 20..30.
    assert_eq!((f.first_day, f.last_day), (TODAY + 30, TODAY + 200));
    assert_eq!(f.resource_ids, ["offer-10", "arrangement-100", "offer-11", "offer-12", "arrangement-101"]);
    assert!(f.summary.contains("3 sources") && f.summary.contains("arrangement-100 AGREED"), "{}", f.summary);
    assert!(!f.summary.contains("arrangement-102"));
}

#[test]
fn sources_that_do_not_overlap_or_are_one_offer_make_no_finding() {
    let n = need(1, "UGA", CapabilityArea::Engineering, 20, 0, TODAY + 300);
    let early = offer(10, "JPN", &["UGA"], TODAY + 10, TODAY + 50);
    let late = offer(11, "CHE", &["UGA"], TODAY + 51, TODAY + 90);
    // Any-recipient offers and offers a state provides do not name a recipient.
    let anyone = offer(12, "FRA", &[], TODAY + 10, TODAY + 90);
    let own = offer(13, "UGA", &["UGA"], TODAY + 10, TODAY + 90);
    let from_early = arrangement(100, &n, &early, 4, 0, ArrangementStatus::PendingConsent);
    let s = snapshot(vec![n], vec![early, late, anyone, own], vec![from_early]);
    assert!(deconfliction_findings(&s).is_empty(), "{:?}", deconfliction_findings(&s));
}

#[test]
fn a_single_shared_day_counts_as_overlap() {
    let a = offer(10, "JPN", &["UGA"], TODAY + 10, TODAY + 50);
    let b = offer(11, "CHE", &["UGA"], TODAY + 50, TODAY + 90);
    let f = deconfliction_findings(&snapshot(vec![], vec![a, b], vec![]));
    assert_eq!(f.len(), 1);
    assert_eq!((f[0].first_day, f[0].last_day), (TODAY + 50, TODAY + 50));
}

#[test]
fn duplicate_open_needs_are_found_within_ninety_days() {
    let a = need(1, "SEN", CapabilityArea::Engineering, 10, 0, TODAY + 100);
    let b = need(2, "SEN", CapabilityArea::Engineering, 10, 0, TODAY + 190);
    let far = need(3, "SEN", CapabilityArea::Engineering, 10, 0, TODAY + 281);
    let other_cap = need(4, "SEN", CapabilityArea::Medical, 10, 0, TODAY + 120);
    let mut filled = need(5, "SEN", CapabilityArea::Medical, 10, 0, TODAY + 110);
    filled.seats.reserved = 10;
    let mut gone = need(6, "RWA", CapabilityArea::Medical, 10, 0, TODAY + 110);
    gone.withdrawn = true;
    let rwa = need(7, "RWA", CapabilityArea::Medical, 10, 0, TODAY + 111);
    let s = snapshot(vec![a, b, far, other_cap, filled, gone, rwa], vec![], vec![]);
    let f = deconfliction_findings(&s);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].kind, FindingKind::DuplicateNeeds);
    assert_eq!(f[0].resource_ids, ["need-1", "need-2"]);
    assert_eq!((f[0].first_day, f[0].last_day), (TODAY + 100, TODAY + 190));
}

#[test]
fn gender_rows_count_live_and_completed_arrangements_of_people_needs() {
    let a = need(1, "SEN", CapabilityArea::Engineering, 20, 5, TODAY + 100);
    let b = need(2, "SEN", CapabilityArea::FormedPoliceUnit, 20, 5, TODAY + 100);
    let mut kits = need(3, "SEN", CapabilityArea::CounterIed, 20, 0, TODAY + 100);
    kits.spec.category = SupportCategory::Equipment;
    let c = need(4, "BGD", CapabilityArea::Aviation, 12, 1, TODAY + 100);
    let o = offer(10, "USA", &[], TODAY, TODAY + 200);
    let mut done = arrangement(100, &a, &o, 10, 1, ArrangementStatus::Completed);
    done.outcome = Some(Outcome {
        trained: 10,
        women_trained: 2,
        certified: 10,
        deployed_missions: vec![],
        trainers_qualified: 0,
    });
    let live = arrangement(101, &b, &o, 10, 3, ArrangementStatus::InDelivery);
    let declined = arrangement(102, &b, &o, 5, 5, ArrangementStatus::Declined);
    let equipment = arrangement(103, &kits, &o, 20, 0, ArrangementStatus::Agreed);
    let s = snapshot(vec![a, b, kits, c], vec![o], vec![done, live, declined, equipment]);
    let flat = gender_report(&s, &GenderTargets::default());
    assert_eq!(flat.rows.iter().map(|r| r.requester.as_str()).collect::<Vec<_>>(), ["BGD", "SEN"]);
    let sen = &flat.rows[1];
    assert_eq!((sen.women_needed, sen.women_reserved, sen.women_trained, sen.seats_total), (10, 4, 2, 20));
    assert!((sen.women_share - 0.2).abs() < 1e-12);
    assert_eq!(sen.target_share, 0.15);
    assert!(!sen.below_target);
    let bgd = &flat.rows[0];
    assert_eq!((bgd.seats_total, bgd.women_share, bgd.target_share, bgd.below_target), (0, 0.0, 0.15, false));
    assert_eq!((flat.overall.women_needed, flat.overall.seats_total, flat.overall.requester.as_str()), (11, 20, ""));
    // FPU at 0.45: SEN's target is (10 × 0.15 + 10 × 0.45) / 20 = 0.30 > 0.20.
    let targets = GenderTargets {
        default_share: 0.15,
        per_capability: [(CapabilityArea::FormedPoliceUnit, 0.45)].into_iter().collect(),
    };
    let weighted = gender_report(&s, &targets);
    assert!((weighted.rows[1].target_share - 0.30).abs() < 1e-12);
    assert!(weighted.rows[1].below_target && weighted.overall.below_target);
    // BGD has no seats: the plain default.
    assert_eq!(weighted.rows[0].target_share, 0.15);
}

#[test]
fn target_overrides_parse_from_toml_or_json_and_refuse_nonsense() {
    let toml = "# targets\n[targets]\nFORMED_POLICE_UNIT = 0.20\n\"CAPABILITY_AREA_MEDICAL\" = 0.3 # clinics\n";
    let parsed = parse_target_overrides(toml).unwrap();
    assert_eq!(parsed.get(&CapabilityArea::FormedPoliceUnit), Some(&0.20));
    assert_eq!(parsed.get(&CapabilityArea::Medical), Some(&0.3));
    let json = parse_target_overrides(r#"{"FORMED_POLICE_UNIT": 0.25}"#).unwrap();
    assert_eq!(json.get(&CapabilityArea::FormedPoliceUnit), Some(&0.25));
    assert!(parse_target_overrides("").unwrap().is_empty());
    for bad in
        ["FPU = 0.2", "MEDICAL = 1.5", "MEDICAL = -0.1", "MEDICAL 0.2", "MEDICAL = x", "MEDICAL = 0.1\nMEDICAL = 0.2"]
    {
        assert!(parse_target_overrides(bad).is_err(), "{bad} accepted");
    }
    assert!(parse_target_overrides(r#"{"MEDICAL": "high"}"#).is_err());
    let err = parse_target_overrides("POLICE = 0.2").unwrap_err();
    assert!(err.contains("line 1") && err.contains("FORMED_POLICE_UNIT"), "{err}");
}

#[test]
fn a_source_that_overlaps_no_other_is_left_out_of_the_finding() {
    let a = offer(10, "JPN", &["UGA"], TODAY + 10, TODAY + 50);
    let b = offer(11, "CHE", &["UGA"], TODAY + 40, TODAY + 90);
    let c = offer(12, "FRA", &["UGA"], TODAY + 200, TODAY + 300);
    let f = deconfliction_findings(&snapshot(vec![], vec![a, b, c], vec![]));
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].resource_ids, ["offer-10", "offer-11"]);
    assert_eq!((f[0].first_day, f[0].last_day), (TODAY + 40, TODAY + 50));
    assert!(f[0].summary.contains("2 sources") && !f[0].summary.contains("offer-12"), "{}", f[0].summary);
}

#[test]
fn an_alert_is_due_once_per_entry_into_the_at_risk_set() {
    let h = RiskHorizons::default();
    let mut alerts = AtRiskAlerts::default();
    let mut n = need(1, "UGA", CapabilityArea::Engineering, 10, 0, TODAY + 50);
    // 50 days ahead: outside the 45-day horizon.
    assert!(!alerts.observe(&n, TODAY, &h));
    // Five days later it is in the set: one alert due, none once recorded.
    assert!(alerts.due(&n, TODAY + 5, &h));
    alerts.alerted(n.meta.id);
    assert!(!alerts.due(&n, TODAY + 6, &h));
    assert!(!alerts.observe(&n, TODAY + 6, &h));
    // Seats reserved: it leaves the set, and its alert is forgotten.
    n.seats.reserved = 10;
    assert!(!alerts.observe(&n, TODAY + 7, &h));
    // Released again: due again.
    n.seats.reserved = 0;
    assert!(alerts.observe(&n, TODAY + 8, &h));
    assert!(alerts.due(&n, TODAY + 8, &h));
}

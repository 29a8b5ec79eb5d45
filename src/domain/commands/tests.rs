//! Every rule of the workflow's commands, without a server or a store.

use super::*;
use crate::domain::*;

const DAY: UnixMicros = MICROS_PER_SECOND * SECONDS_PER_DAY;
const NOW: UnixMicros = 20_000 * DAY;
const ACTOR: &str = "principal-1";

fn st(code: &str) -> Alpha3 {
    code.parse().unwrap()
}

/// Need 1 of NPL: `quantity` seats, `women` of them for women (also read by the access
/// rules' tests).
pub(crate) fn need(quantity: u32, women: u32) -> Need {
    Need {
        meta: Meta::new(Id(1), NOW - DAY),
        spec: NeedSpec {
            requester: st("NPL"),
            category: SupportCategory::Training,
            capability: CapabilityArea::Engineering,
            title: "Operators".into(),
            description: String::new(),
            quantity,
            women_quantity: women,
            languages: Vec::new(),
            needed_by: NOW + 100 * DAY,
            priority: Priority::High,
            pledge_ref: String::new(),
            pledge_level: None,
            mission: String::new(),
            accepted_modes: Vec::new(),
        },
        withdrawn: false,
        seats: Seats::default(),
    }
}

fn offer(id: u64, capacity: u32, terms: OfferTerms, provider: &str) -> Offer {
    Offer {
        meta: Meta::new(Id(id), NOW - DAY),
        spec: OfferSpec {
            providers: vec![st(provider)],
            terms,
            category: SupportCategory::Training,
            capability: CapabilityArea::Engineering,
            title: "Course".into(),
            description: String::new(),
            capacity,
            available_from: NOW,
            available_until: NOW + 200 * DAY,
            eligible_recipients: Vec::new(),
            excluded_recipients: Vec::new(),
            max_per_recipient: 0,
        },
        withdrawn: false,
        seats: Seats::default(),
    }
}

fn delivery(duration_days: u32) -> OfferTerms {
    OfferTerms::Delivery(DeliveryTerms {
        languages: Vec::new(),
        mode: DeliveryMode::AtProvider,
        training_centre: None,
        duration_days,
        women_only: false,
        requires_funding: false,
    })
}

/// A need of 10 seats (4 for women), delivery offer 2 (20 seats, 28 days, by BGD),
/// funding offer 3 (DEU); the match: 6 seats, 2 for women, offer 2 funded by 3.
fn scenario() -> (Match, Seating) {
    let m = Match::proposed(Meta::new(Id(7), NOW - DAY), MatchTerms::example(Some(Id(3)), &["BGD", "DEU", "NPL"]));
    let offers = [(Id(2), offer(2, 20, delivery(28), "BGD")), (Id(3), offer(3, 20, OfferTerms::Funding, "DEU"))];
    let seating = Seating {
        need: need(10, 4),
        offers: offers.into_iter().collect(),
        recipient: st("NPL"),
        held: [(Id(2), 0), (Id(3), 0)].into_iter().collect(),
    };
    (m, seating)
}

fn ids() -> impl FnMut() -> Id {
    let mut next = 100;
    move || {
        next += 1;
        Id(next)
    }
}

fn approved(m: Match, seating: Seating) -> (Changes, Match, Vec<Arrangement>) {
    match commands::approve(m, seating, ids(), NOW, ACTOR, "ok").unwrap() {
        Approval::Approved { changes, approved, arrangements } => (changes, *approved, arrangements),
        Approval::Stale { refusal, .. } => panic!("refused: {refusal:?}"),
    }
}

/// The refusal of an approval that must turn the match STALE.
fn stale_because(m: Match, seating: Seating) -> Refusal {
    let id = m.meta.id;
    match commands::approve(m, seating, ids(), NOW, ACTOR, "ok").unwrap() {
        Approval::Stale { changes, refusal } => {
            assert!(matches!(
                &changes.records[..],
                [Changed::Match(s, EventKind::MatchStale)] if s.state == MatchState::Stale && s.meta.id == id && s.meta.version == 2
            ));
            assert!(changes.held.is_empty() && changes.refused.is_empty());
            refusal
        }
        Approval::Approved { .. } => panic!("approved"),
    }
}

fn precondition(r: &Refusal) -> (Reason, &str) {
    match r {
        Refusal::Precondition { reason, message } => (*reason, message.as_str()),
        other => panic!("not a precondition: {other:?}"),
    }
}

#[test]
fn approval_reserves_every_seat_and_opens_one_arrangement_per_allocation() {
    let (m, seating) = scenario();
    let (changes, approved, arrangements) = approved(m, seating);
    assert_eq!(approved.state, MatchState::Approved);
    assert_eq!((approved.decided_by.as_str(), approved.decision_comment.as_str()), (ACTOR, "ok"));
    assert_eq!(approved.arrangements, vec![Id(101)]);
    let [a] = &arrangements[..] else { panic!("{arrangements:?}") };
    assert_eq!(a.status, ArrangementStatus::PendingConsent);
    assert_eq!(a.consents.len(), 3);
    assert!(a.consents.iter().all(|c| c.decision == ConsentDecision::Pending));
    assert_eq!(a.delivering, vec![st("BGD")]);
    assert_eq!(a.history.len(), 1);
    // Events in order: the match, its arrangements, then the need and the offers.
    let kinds: Vec<&str> = changes
        .records
        .iter()
        .map(|c| match c {
            Changed::Match(..) => "match",
            Changed::Arrangement(..) => "arrangement",
            Changed::Need(_) => "need",
            Changed::Offer(_) => "offer",
            Changed::NewMatch(_) => "new match",
        })
        .collect();
    assert_eq!(kinds, ["match", "arrangement", "need", "offer", "offer"]);
    let Changed::Need(n) = &changes.records[2] else { unreachable!() };
    assert_eq!((n.seats.reserved, n.seats.reserved_women, n.meta.version), (6, 2, 2));
    for c in &changes.records[3..] {
        let Changed::Offer(o) = c else { unreachable!() };
        assert_eq!((o.seats.reserved, o.meta.version), (6, 2));
    }
    assert_eq!(changes.held, vec![(Id(2), st("NPL"), 6), (Id(3), st("NPL"), 6)]);
}

#[test]
fn approval_of_a_withdrawn_need_turns_the_match_stale() {
    let (m, mut seating) = scenario();
    seating.need.withdrawn = true;
    assert_eq!(precondition(&stale_because(m, seating)), (Reason::Withdrawn, "the need was withdrawn"));
}

#[test]
fn approval_needs_the_seats_and_the_womens_seats_still_open() {
    let (m, mut seating) = scenario();
    seating.need.seats.reserved = 5;
    assert_eq!(precondition(&stale_because(m, seating)).0, Reason::CapacityExhausted);
    let (m, mut seating) = scenario();
    seating.need.seats.delivered_women = 3;
    assert_eq!(
        precondition(&stale_because(m, seating)),
        (Reason::CapacityExhausted, "the need no longer has these seats open")
    );
}

#[test]
fn approval_needs_each_offer_open_with_the_seats_and_within_its_cap() {
    let (m, mut seating) = scenario();
    seating.offers.get_mut(&Id(3)).unwrap().withdrawn = true;
    assert_eq!(precondition(&stale_because(m, seating)), (Reason::Withdrawn, "offer-3 was withdrawn"));

    let (m, mut seating) = scenario();
    seating.offers.get_mut(&Id(2)).unwrap().seats.reserved = 15;
    assert_eq!(precondition(&stale_because(m, seating)), (Reason::CapacityExhausted, "offer-2 has only 5 seats open"));

    let (m, mut seating) = scenario();
    seating.offers.get_mut(&Id(2)).unwrap().spec.max_per_recipient = 8;
    seating.held.insert(Id(2), 3);
    assert_eq!(
        precondition(&stale_because(m, seating)),
        (Reason::CapacityExhausted, "offer-2 gives NPL at most 8 seats")
    );
    // At the cap exactly is allowed.
    let (m, mut seating) = scenario();
    seating.offers.get_mut(&Id(2)).unwrap().spec.max_per_recipient = 8;
    seating.held.insert(Id(2), 2);
    let (changes, ..) = approved(m, seating);
    assert!(changes.held.contains(&(Id(2), st("NPL"), 8)));
}

#[test]
fn approval_needs_a_start_day_in_the_window_of_offer_funder_and_deadline() {
    let (m, mut seating) = scenario();
    seating.need.spec.needed_by = NOW + 20 * DAY; // a 28-day course no longer fits
    assert_eq!(
        precondition(&stale_because(m, seating)),
        (Reason::Expired, "offer-2 can no longer be delivered in time")
    );
    let (m, mut seating) = scenario();
    seating.offers.get_mut(&Id(3)).unwrap().spec.available_until = NOW + 10 * DAY;
    assert_eq!(precondition(&stale_because(m, seating)), (Reason::Expired, "offer-3 can no longer fund a start day"));
}

#[test]
fn approval_refuses_without_change_when_the_records_contradict_the_store() {
    let (m, mut seating) = scenario();
    seating.offers.insert(Id(2), offer(2, 20, OfferTerms::Funding, "BGD"));
    let r = commands::approve(m, seating, ids(), NOW, ACTOR, "").unwrap_err();
    assert!(matches!(r, Refusal::Inconsistent(_)), "{r:?}");
}

#[test]
fn rejection_remembers_every_pair_of_the_match() {
    let (m, _) = scenario();
    let (rejected, changes) = commands::reject(m, NOW, ACTOR, "not now");
    assert_eq!(rejected.state, MatchState::Rejected);
    assert_eq!(rejected.decision_comment, "not now");
    assert_eq!(changes.refused, vec![(Id(1), Id(2)), (Id(1), Id(3))]);
    assert!(matches!(&changes.records[..], [Changed::Match(_, EventKind::MatchRejected)]));
}

/// Whatever is decided on a match later, it can be rendered as its proposal stored it (a
/// replay of ProposeMatches answers so).
#[test]
fn a_decided_or_stale_match_is_rendered_as_proposed() {
    let (m, seating) = scenario();
    let (_, approved, _) = approved(m.clone(), seating);
    let (rejected, _) = commands::reject(m.clone(), NOW, ACTOR, "not now");
    let changes = commands::propose(vec![m.clone()], |_| true, &[], NOW);
    let [Changed::Match(stale, EventKind::MatchStale)] = &changes.records[..] else { panic!("{changes:?}") };
    for later in [approved, rejected, stale.clone()] {
        assert_ne!(later, m);
        assert_eq!(later.as_proposed(), m, "{:?}", later.state);
    }
}

/// The arrangement and seating right after the scenario's approval.
fn arrangement() -> (Arrangement, Seating) {
    let (m, seating) = scenario();
    let (changes, _, mut arrangements) = approved(m, seating.clone());
    let mut after = seating;
    for c in changes.records {
        match c {
            Changed::Need(n) => after.need = n,
            Changed::Offer(o) => {
                after.offers.insert(o.meta.id, o);
            }
            _ => {}
        }
    }
    for (offer, _, seats) in changes.held {
        after.held.insert(offer, seats);
    }
    (arrangements.remove(0), after)
}

#[test]
fn consent_is_given_once_per_party_and_the_last_acceptance_agrees() {
    let (a, seating) = arrangement();
    let (a, changes) = commands::respond(a, seating.clone(), st("BGD"), true, "yes", NOW, ACTOR).unwrap();
    assert_eq!(a.status, ArrangementStatus::PendingConsent);
    assert_eq!(changes.records.len(), 1, "an acceptance changes only the arrangement");
    let again = commands::respond(a.clone(), seating.clone(), st("BGD"), true, "", NOW, ACTOR).unwrap_err();
    assert_eq!(precondition(&again), (Reason::AlreadyAnswered, "BGD has already answered"));
    let stranger = commands::respond(a.clone(), seating.clone(), st("FRA"), true, "", NOW, ACTOR).unwrap_err();
    assert_eq!(stranger, Refusal::NotFound("arrangement-101".into()));
    let (a, _) = commands::respond(a, seating.clone(), st("DEU"), true, "", NOW, ACTOR).unwrap();
    let (a, _) = commands::respond(a, seating.clone(), st("NPL"), true, "", NOW, ACTOR).unwrap();
    assert_eq!(a.status, ArrangementStatus::Agreed);
    let late = commands::respond(a, seating, st("NPL"), false, "", NOW, ACTOR).unwrap_err();
    assert_eq!(precondition(&late).0, Reason::WrongState);
}

#[test]
fn a_refusal_declines_gives_the_seats_back_and_remembers_the_pairs() {
    let (a, seating) = arrangement();
    let (a, changes) = commands::respond(a, seating, st("DEU"), false, "no budget", NOW, ACTOR).unwrap();
    assert_eq!(a.status, ArrangementStatus::Declined);
    let Changed::Need(n) = &changes.records[0] else { panic!("{:?}", changes.records[0]) };
    assert_eq!((n.seats.reserved, n.seats.reserved_women), (0, 0));
    assert!(changes.held.iter().all(|(_, _, seats)| *seats == 0) && changes.held.len() == 2);
    assert_eq!(changes.refused, vec![(Id(1), Id(2)), (Id(1), Id(3))]);
    assert!(matches!(changes.records.last(), Some(Changed::Arrangement(_, EventKind::ArrangementChanged))));
}

#[test]
fn transitions_follow_the_table_and_move_the_seats() {
    let (a, seating) = arrangement();
    let consent = commands::transition_mover(ArrangementStatus::Agreed).unwrap_err();
    assert_eq!(precondition(&consent), (Reason::WrongState, "AGREED is reached by consent, not by a transition"));
    let early =
        commands::transition(a.clone(), seating.clone(), ArrangementStatus::InDelivery, (None, None), "", NOW, ACTOR)
            .unwrap_err();
    assert_eq!(precondition(&early), (Reason::WrongState, "cannot move from PENDING_CONSENT to IN_DELIVERY"));

    // Cancelled from PENDING_CONSENT: seats back, off the recipient's cap.
    let (c, changes) =
        commands::transition(a.clone(), seating.clone(), ArrangementStatus::Cancelled, (None, None), "", NOW, ACTOR)
            .unwrap();
    assert_eq!(c.status, ArrangementStatus::Cancelled);
    assert_eq!(changes.held.len(), 2);
    assert!(changes.refused.is_empty());

    // Completed from IN_DELIVERY: reserved seats become delivered; the cap keeps them.
    let mut running = a;
    running.status = ArrangementStatus::InDelivery;
    let (done, changes) =
        commands::transition(running, seating, ArrangementStatus::Completed, (None, None), "", NOW, ACTOR).unwrap();
    assert_eq!(done.status, ArrangementStatus::Completed);
    let Changed::Need(n) = &changes.records[0] else { unreachable!() };
    assert_eq!((n.seats.reserved, n.seats.delivered, n.seats.delivered_women), (0, 6, 2));
    assert!(changes.held.is_empty());
}

#[test]
fn scheduling_needs_dates_that_fit_the_window_and_the_course() {
    let (mut a, seating) = arrangement();
    a.status = ArrangementStatus::Agreed;
    let schedule =
        |dates| commands::transition(a.clone(), seating.clone(), ArrangementStatus::Scheduled, dates, "", NOW, ACTOR);
    assert_eq!(
        schedule((None, None)).unwrap_err(),
        Refusal::invalid("scheduled_start", "dates are required to schedule")
    );
    let (start, end) = (NOW + 10 * DAY, NOW + 38 * DAY);
    let (s, changes) = schedule((Some(start), Some(end))).unwrap();
    assert_eq!((s.scheduled_start, s.scheduled_end, s.status), (Some(start), Some(end), ArrangementStatus::Scheduled));
    assert_eq!(changes.records.len(), 1, "scheduling moves no seats");
    let Refusal::Invalid(bad) = schedule((Some(NOW + 90 * DAY), Some(NOW + 91 * DAY))).unwrap_err() else {
        panic!("not invalid")
    };
    let fields: Vec<&str> = bad.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(fields, ["scheduled_start", "scheduled_end"]);
    assert!(bad[0].1.starts_with("must lie between 2024-10-04 and "), "{}", bad[0].1);
    assert_eq!(bad[1].1, "must be the start day + 28 days");
}

#[test]
fn outcomes_fit_the_seats_and_come_during_or_after_delivery() {
    let (mut a, _) = arrangement();
    let outcome = |trained| Outcome { trained, women_trained: 1, certified: 2, ..Outcome::default() };
    let early = commands::record_outcome(a.clone(), outcome(3), NOW).unwrap_err();
    assert_eq!(precondition(&early), (Reason::WrongState, "outcomes are recorded in IN_DELIVERY or COMPLETED"));
    a.status = ArrangementStatus::InDelivery;
    let too_many = commands::record_outcome(a.clone(), outcome(7), NOW).unwrap_err();
    assert_eq!(too_many, Refusal::invalid("outcome.trained", "must not exceed the arrangement's 6 seats"));
    let (a, changes) = commands::record_outcome(a, outcome(6), NOW).unwrap();
    assert_eq!(a.outcome.map(|o| o.trained), Some(6));
    assert!(matches!(&changes.records[..], [Changed::Arrangement(_, EventKind::OutcomeRecorded)]));
}

#[test]
fn an_update_stales_the_proposals_resting_on_it_and_forgets_its_refusals() {
    let (m, _) = scenario();
    let decided = Match { meta: Meta::new(Id(8), NOW), state: MatchState::Approved, ..m.clone() };
    let changes = commands::resource_updated(Kind::Offer, Id(2), vec![m, decided], vec![Id(1), Id(4)], NOW);
    assert!(
        matches!(&changes.records[..], [Changed::Match(s, EventKind::MatchStale)] if s.meta.id == Id(7)),
        "only the PROPOSED match turns stale: {:?}",
        changes.records
    );
    assert_eq!(changes.forgotten, vec![(Id(1), Id(2)), (Id(4), Id(2))]);
    let changes = commands::resource_updated(Kind::Need, Id(1), Vec::new(), vec![Id(2)], NOW);
    assert_eq!(changes.forgotten, vec![(Id(1), Id(2))]);
}

#[test]
fn a_proposal_supersedes_the_proposals_it_covers() {
    let (m, _) = scenario();
    let other = Match {
        meta: Meta::new(Id(9), NOW),
        terms: MatchTerms { capability: CapabilityArea::Medical, ..m.terms.clone() },
        ..m.clone()
    };
    let new = Match { meta: Meta::new(Id(10), NOW), ..m.clone() };
    let changes = commands::propose(
        vec![m, other],
        |x| x.terms.capability == CapabilityArea::Engineering,
        std::slice::from_ref(&new),
        NOW,
    );
    assert!(matches!(
        &changes.records[..],
        [Changed::Match(s, EventKind::MatchStale), Changed::NewMatch(n)] if s.meta.id == Id(7) && n.meta.id == Id(10)
    ));
}

#[test]
fn an_update_never_changes_identity_and_freezes_matching_fields_while_seats_are_held() {
    let current = need(10, 4);
    // Identity: one violation per field, whatever the seats.
    let mut next = current.spec.clone();
    next.requester = st("FRA");
    next.capability = CapabilityArea::Medical;
    let Refusal::Invalid(bad) = commands::update_need(&current, next, NOW).unwrap_err() else { panic!("not invalid") };
    assert_eq!(
        bad,
        vec![("need.requester".into(), "never changes".into()), ("need.capability".into(), "never changes".into())]
    );
    // No seats held: anything else may change, and the version moves on.
    let mut next = current.spec.clone();
    (next.quantity, next.women_quantity, next.priority) = (3, 1, Priority::Critical);
    let updated = commands::update_need(&current, next.clone(), NOW).unwrap();
    assert_eq!((updated.spec, updated.meta.version, updated.meta.update_time), (next, 2, NOW));
    // Seats held: the quantity stays at or above them, the matching fields are frozen.
    let mut held = current.clone();
    held.seats = Seats { reserved: 4, delivered: 2, ..Seats::default() };
    let mut next = held.spec.clone();
    next.quantity = 5;
    assert_eq!(
        precondition(&commands::update_need(&held, next, NOW).unwrap_err()),
        (Reason::BelowReserved, "quantity may not drop below the 6 seats reserved or delivered")
    );
    let mut next = held.spec.clone();
    (next.quantity, next.women_quantity, next.priority, next.title) = (6, 3, Priority::Routine, "New title".into());
    assert_eq!(
        precondition(&commands::update_need(&held, next.clone(), NOW).unwrap_err()),
        (Reason::FrozenWhileReserved, "women_quantity, priority cannot change while seats are reserved or delivered")
    );
    (next.women_quantity, next.priority) = (held.spec.women_quantity, held.spec.priority);
    assert_eq!(commands::update_need(&held, next, NOW).unwrap().spec.title, "New title");
}

#[test]
fn an_offer_keeps_its_role_and_its_terms_while_seats_are_held() {
    let current = offer(2, 20, delivery(28), "BGD");
    let mut next = current.spec.clone();
    next.terms = OfferTerms::Funding;
    let Refusal::Invalid(bad) = commands::update_offer(&current, next, NOW).unwrap_err() else { panic!("not invalid") };
    assert_eq!(bad, vec![("offer.role".into(), "never changes".into())]);
    let mut held = current.clone();
    held.seats.reserved = 8;
    let mut next = held.spec.clone();
    next.capacity = 7;
    assert_eq!(precondition(&commands::update_offer(&held, next, NOW).unwrap_err()).0, Reason::BelowReserved);
    let mut next = held.spec.clone();
    next.terms = delivery(14);
    assert_eq!(
        precondition(&commands::update_offer(&held, next, NOW).unwrap_err()),
        (Reason::FrozenWhileReserved, "delivery terms cannot change while seats are reserved or delivered")
    );
    let mut next = held.spec.clone();
    next.capacity = 30;
    assert_eq!(commands::update_offer(&held, next, NOW).unwrap().spec.capacity, 30);
}

#[test]
fn a_filing_starts_open_with_no_seats_and_is_withdrawn_once() {
    let n = file_need(Id(5), need(10, 4).spec, NOW);
    assert_eq!((n.meta.id, n.meta.version, n.meta.create_time), (Id(5), 1, NOW));
    assert!(!n.withdrawn && !n.seats.any());
    let o = file_offer(Id(6), offer(6, 20, delivery(28), "BGD").spec, NOW);
    assert_eq!(o.state(), OfferState::Open);
    assert!(!o.seats.any());

    let gone = withdraw(n, NOW + DAY).unwrap();
    assert!(gone.withdrawn);
    assert_eq!((gone.meta.version, gone.meta.update_time), (2, NOW + DAY));
    let again = withdraw(gone.clone(), NOW + 2 * DAY).unwrap_err();
    assert_eq!(precondition(&again), (Reason::Withdrawn, "the need is already withdrawn"));
    let update = check_open(&gone, true).unwrap_err();
    assert_eq!(precondition(&update), (Reason::Withdrawn, "a withdrawn need cannot be updated"));
    let o = withdraw(o, NOW).unwrap();
    assert_eq!(
        precondition(&check_open(&o, true).unwrap_err()),
        (Reason::Withdrawn, "a withdrawn offer cannot be updated")
    );
    assert_eq!(precondition(&withdraw(o, NOW).unwrap_err()), (Reason::Withdrawn, "the offer is already withdrawn"));
}

#[test]
fn a_centre_keeps_its_host_state() {
    let spec = CentreSpec {
        name: "Centre".into(),
        host_state: st("GHA"),
        languages: Vec::new(),
        capabilities: vec![CapabilityArea::Engineering],
        un_recognized: false,
    };
    let c = register_centre(Id(9), spec.clone(), NOW);
    assert_eq!((c.meta.id, c.meta.version), (Id(9), 1));
    let recognized = update_centre(&c, CentreSpec { un_recognized: true, ..spec.clone() }, NOW + DAY).unwrap();
    assert!(recognized.spec.un_recognized);
    assert_eq!(recognized.meta.version, 2);
    let moved = update_centre(&c, CentreSpec { host_state: st("KEN"), ..spec }, NOW + DAY).unwrap_err();
    assert_eq!(moved, Refusal::invalid("training_centre.host_state", "never changes"));
}

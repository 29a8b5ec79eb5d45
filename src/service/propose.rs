//! ProposeMatches' work: what-if offers, the solve (warm from the match view, or cold),
//! dry-run answers and the records a real proposal stores.

use super::match_view::{MatchView, offer_input};
use super::*;
use crate::api as pb;
use crate::convert;
use crate::matching;
use std::sync::Arc;

pub(super) fn day(t: UnixMicros) -> Day {
    day_of_micros(t)
}

/// At most this many hypothetical offers in one what-if.
pub const MAX_HYPOTHETICAL_OFFERS: usize = 100;

/// The name of the `i`-th (0-based) hypothetical offer in allocations.
pub(super) fn hypothetical_id(i: usize) -> String {
    format!("hypothetical-{}", i + 1)
}

/// Validates the hypothetical offers as CreateOffer would, each under
/// `hypothetical_offers[i]`; every violation goes into `v`.
pub(super) fn hypothetical_specs(
    store: &Store,
    v: &mut Violations,
    offers: &[pb::Offer],
    dry_run: bool,
) -> Vec<OfferSpec> {
    if offers.is_empty() {
        return Vec::new();
    }
    if !dry_run {
        v.add("hypothetical_offers", "are allowed only with dry_run");
        return Vec::new();
    }
    if offers.len() > MAX_HYPOTHETICAL_OFFERS {
        v.add("hypothetical_offers", format!("must list at most {MAX_HYPOTHETICAL_OFFERS} offers"));
        return Vec::new();
    }
    let clock = convert::Clock { now: now_micros() };
    let centre_exists = |id| matches!(store.get::<TrainingCentre>(id), Ok(Some(_)));
    let mut specs = Vec::with_capacity(offers.len());
    for (i, o) in offers.iter().enumerate() {
        match convert::offer_spec(o, &format!("hypothetical_offers[{i}]"), clock, &centre_exists) {
            Ok(spec) => specs.push(spec),
            Err(AppError::InvalidArgument(violations)) => v.0.extend(violations),
            Err(AppError::InvalidWithReason { field, message, .. }) => {
                v.add(format!("hypothetical_offers[{i}].{field}"), message)
            }
            Err(other) => v.add(format!("hypothetical_offers[{i}]"), other.to_string()),
        }
    }
    specs
}

/// The dry run with hypothetical offers: the baseline solved cold, then the offers added to
/// the engine (warm where it can: see [`matching::Engine`]). Returns the proposal with them
/// and the baseline summary, each with its own solve time.
pub(super) fn what_if(
    view: &MatchView,
    input: matching::MatchInput,
    specs: Vec<OfferSpec>,
    now: UnixMicros,
    stop: &matching::Stop,
) -> AppResult<(matching::Proposal, matching::Summary)> {
    let started = std::time::Instant::now();
    let mut engine = matching::Engine::new_until(input, stop)?;
    let mut baseline = engine.proposal().summary;
    baseline.solve_micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    let started = std::time::Instant::now();
    let mut warm = 0;
    for (i, spec) in specs.into_iter().enumerate() {
        let centre =
            spec.terms.delivery().and_then(|d| d.training_centre).map(|c| view.centre(c)).transpose()?.flatten();
        let offer = Offer { meta: Meta::new(Id(0), now), spec, withdrawn: false, seats: Seats::default() };
        let change = matching::Change::AddOffer(offer_input(&offer, hypothetical_id(i), centre));
        engine.apply_all_until(vec![change], stop)?;
        warm += usize::from(engine.last_was_warm);
    }
    let mut proposal = engine.proposal();
    proposal.summary.solve_micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    tracing::info!(
        baseline_us = baseline.solve_micros,
        what_if_us = proposal.summary.solve_micros,
        offers_added_warm = warm,
        baseline_seats = baseline.seats_matched,
        seats = proposal.summary.seats_matched,
        "what-if solved"
    );
    Ok((proposal, baseline))
}

pub(super) fn summary_to_proto(s: &matching::Summary) -> pb::MatchSummary {
    pb::MatchSummary {
        needs_considered: u32::try_from(s.needs_considered).unwrap_or(u32::MAX),
        offers_considered: u32::try_from(s.offers_considered).unwrap_or(u32::MAX),
        seats_demanded: s.seats_demanded,
        seats_matched: s.seats_matched,
        women_seats_matched: s.women_seats_matched,
        critical_seats_unmatched: s.critical_seats_unmatched,
        objective: s.objective.to_vec(),
        solve_micros: s.solve_micros,
    }
}

/// The record id of an id the engine names; an error if it names no record of `kind`.
fn engine_id(kind: Kind, id: &String) -> AppResult<Id> {
    Id::parse(kind, id).ok_or_else(|| AppError::Internal(format!("the engine returned an unknown {id}")))
}

/// The engine's proposal for one need as a match record (not yet stored).
pub(super) fn match_record(p: &matching::ProposedMatch, meta: Meta) -> AppResult<Match> {
    Ok(Match::proposed(meta, p.try_map_ids(engine_id)?))
}

/// What one solve answers: the matches, the summary (with the baseline of a what-if) and
/// the last commit of the engine's input, to check under the writer gate that nothing it
/// rests on changed before storing it.
pub(super) struct Solution {
    pub(super) matches: Vec<Arc<matching::ProposedMatch>>,
    pub(super) summary: matching::Summary,
    pub(super) baseline: Option<pb::MatchSummary>,
    pub(super) changed_at: u64,
}

/// Solves ProposeMatches from the matching view, off the writer gate: the warm engine for
/// a proposal over every capability, a cold solve of the view's input for a capability
/// filter or a what-if. Counts the solve in the metrics.
pub(super) fn solve(
    view: &MatchView,
    metrics: &crate::metrics::Metrics,
    capabilities: &[CapabilityArea],
    hypothetical: Vec<OfferSpec>,
    now: UnixMicros,
    stop: &matching::Stop,
) -> AppResult<Solution> {
    let started = std::time::Instant::now();
    let solution = solve_now(view, capabilities, hypothetical, now, stop);
    if let Err(AppError::Cancelled(_)) = &solution {
        metrics.solves_stopped.inc();
        tracing::info!(after_ms = started.elapsed().as_millis() as u64, "solve stopped: its caller gave up");
    }
    let solution = solution?;
    metrics.solve_duration.observe(solution.summary.solve_micros as f64 / 1e6);
    metrics.seats_matched.inc_by(solution.summary.seats_matched);
    Ok(solution)
}

pub(super) fn solve_now(
    view: &MatchView,
    capabilities: &[CapabilityArea],
    hypothetical: Vec<OfferSpec>,
    now: UnixMicros,
    stop: &matching::Stop,
) -> AppResult<Solution> {
    let today = day(now);
    let solution = if capabilities.is_empty() && hypothetical.is_empty() {
        let p = view.propose(today, stop)?;
        Solution { matches: p.matches, summary: p.summary, baseline: None, changed_at: p.changed_at }
    } else {
        let (changed_at, input) = view.input(today, capabilities)?;
        let (proposal, baseline) = if hypothetical.is_empty() {
            (matching::propose_until(&input, stop)?, None)
        } else {
            let (proposal, baseline) = what_if(view, input, hypothetical, now, stop)?;
            (proposal, Some(summary_to_proto(&baseline)))
        };
        let matches = proposal.matches.into_iter().map(Arc::new).collect();
        Solution { matches, summary: proposal.summary, baseline, changed_at }
    };
    Ok(solution)
}

pub(super) fn log_proposal(matches: usize, dry_run: bool, summary: &matching::Summary) {
    tracing::info!(
        matches,
        dry_run,
        seats = summary.seats_matched,
        solve_us = summary.solve_micros,
        "matches proposed"
    );
}

/// A dry run's answer, computed off the writer gate.
pub(super) fn dry_run_proposal(
    view: &MatchView,
    metrics: &crate::metrics::Metrics,
    capabilities: &[CapabilityArea],
    hypothetical: Vec<OfferSpec>,
    stop: &matching::Stop,
) -> AppResult<pb::ProposeMatchesResponse> {
    let now = now_micros();
    let warm = capabilities.is_empty() && hypothetical.is_empty();
    let s = solve(view, metrics, capabilities, hypothetical, now, stop)?;
    let matches = if warm {
        // The warm engine shares the matches that did not change: so does their message.
        let time = Some(convert::timestamp(now));
        let mut matches = view.messages(&s.matches, |p| dry_match(p, 0))?;
        for m in &mut matches {
            m.create_time = time;
            m.update_time = time;
        }
        matches
    } else {
        s.matches.iter().map(|p| dry_match(p, now)).collect::<AppResult<Vec<_>>>()?
    };
    log_proposal(matches.len(), true, &s.summary);
    Ok(pb::ProposeMatchesResponse { matches, summary: Some(summary_to_proto(&s.summary)), baseline: s.baseline })
}

/// A proposal of a dry run as a message: no id or etag, and the offers named as the engine
/// names them (a hypothetical offer as `hypothetical-N`).
pub(super) fn dry_match(p: &matching::ProposedMatch, now: UnixMicros) -> AppResult<pb::Match> {
    // A hypothetical offer has no record id: a placeholder, until its name is put back.
    let stored = p.try_map_ids(|kind, id| match Id::parse(kind, id) {
        Some(id) => Ok(id),
        None if kind == Kind::Offer => Ok(Id(0)),
        None => engine_id(kind, id),
    })?;
    let m = Match::proposed(Meta::new(Id(0), now), stored);
    let mut message = pb::Match { id: String::new(), etag: String::new(), ..convert::match_to_proto(&m) };
    for (out, a) in message.allocations.iter_mut().zip(&p.allocations) {
        out.offer_id.clone_from(&a.offer);
        out.funding_offer_id = a.funding_offer.clone().unwrap_or_default();
    }
    Ok(message)
}

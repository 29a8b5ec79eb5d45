//! `lcm.v1.MatchingService`: proposals of the matching engine, approval (which reserves
//! every allocation in one transaction with the new arrangements), rejection (which the
//! engine remembers) and ExplainNeed.

use super::match_view::{MatchView, offer_input};
use super::workflow::WorkflowChange;
use super::*;
use crate::api as pb;
use crate::api::matching_service_server::MatchingService;
use crate::convert;
use crate::matching;
use std::sync::Arc;
use tonic::{Request, Response, Status};

fn day(t: UnixMicros) -> Day {
    day_of_micros(t)
}

/// At most this many hypothetical offers in one what-if.
pub const MAX_HYPOTHETICAL_OFFERS: usize = 100;

/// The name of the `i`-th (0-based) hypothetical offer in allocations.
fn hypothetical_id(i: usize) -> String {
    format!("hypothetical-{}", i + 1)
}

/// Validates the hypothetical offers as CreateOffer would, each under
/// `hypothetical_offers[i]`; every violation goes into `v`.
fn hypothetical_specs(store: &Store, v: &mut Violations, offers: &[pb::Offer], dry_run: bool) -> Vec<OfferSpec> {
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
fn what_if(
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

fn summary_to_proto(s: &matching::Summary) -> pb::MatchSummary {
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

/// The engine's proposal for one need as a match record (not yet stored).
fn match_record(p: &matching::ProposedMatch, meta: Meta) -> AppResult<Match> {
    let bad = |what: &str| AppError::Internal(format!("the engine returned an unknown {what}"));
    let mut allocations = Vec::new();
    for a in &p.allocations {
        allocations.push(AllocationRecord {
            offer: Id::parse(Kind::Offer, &a.offer_id).ok_or_else(|| bad("offer"))?,
            funding_offer: match &a.funding_offer_id {
                Some(f) => Some(Id::parse(Kind::Offer, f).ok_or_else(|| bad("funding offer"))?),
                None => None,
            },
            quantity: a.quantity,
            women_quantity: a.women_quantity,
            training_centre: match &a.training_centre_id {
                Some(c) => Some(Id::parse(Kind::Centre, c).ok_or_else(|| bad("centre"))?),
                None => None,
            },
            parties: a.parties.clone(),
        });
    }
    Ok(Match {
        meta,
        need: Id::parse(Kind::Need, &p.need_id).ok_or_else(|| bad("need"))?,
        recipient: p.requester,
        capability: p.capability,
        allocations,
        quantity: p.quantity,
        women_quantity: p.women_quantity,
        parties: p.parties.clone(),
        triangular: p.triangular,
        score: p.score,
        reasons: p.reasons.clone(),
        state: MatchState::Proposed,
        decided_by: String::new(),
        decision_comment: String::new(),
        decide_time: None,
        arrangements: Vec::new(),
    })
}

/// What one solve answers: the matches, the summary (with the baseline of a what-if) and
/// the last commit of the engine's input, to check under the writer gate that nothing it
/// rests on changed before storing it.
struct Solution {
    matches: Vec<Arc<matching::ProposedMatch>>,
    summary: matching::Summary,
    baseline: Option<pb::MatchSummary>,
    changed_at: u64,
}

/// Solves ProposeMatches from the matching view, off the writer gate: the warm engine for
/// a proposal over every capability, a cold solve of the view's input for a capability
/// filter or a what-if. Counts the solve in the metrics.
fn solve(
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

fn solve_now(
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

fn log_proposal(matches: usize, dry_run: bool, summary: &matching::Summary) {
    tracing::info!(
        matches,
        dry_run,
        seats = summary.seats_matched,
        solve_us = summary.solve_micros,
        "matches proposed"
    );
}

/// A dry run's answer, computed off the writer gate.
fn dry_run_proposal(
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
fn dry_match(p: &matching::ProposedMatch, now: UnixMicros) -> AppResult<pb::Match> {
    let stored = matching::ProposedMatch {
        allocations: p
            .allocations
            .iter()
            .map(|a| matching::Allocation {
                offer_id: real_or_placeholder(&a.offer_id),
                funding_offer_id: a.funding_offer_id.as_deref().map(real_or_placeholder),
                ..a.clone()
            })
            .collect(),
        ..p.clone()
    };
    let m = match_record(&stored, Meta::new(Id(0), now))?;
    let mut message = pb::Match { id: String::new(), etag: String::new(), ..convert::match_to_proto(&m) };
    for (out, a) in message.allocations.iter_mut().zip(&p.allocations) {
        out.offer_id.clone_from(&a.offer_id);
        out.funding_offer_id = a.funding_offer_id.clone().unwrap_or_default();
    }
    Ok(message)
}

/// An engine offer id that parses as a stored offer's, or a placeholder for a hypothetical
/// one (its name is put back into the message by [`dry_match`]).
fn real_or_placeholder(id: &str) -> String {
    if Id::parse(Kind::Offer, id).is_some() { id.to_string() } else { Id(0).render(Kind::Offer) }
}

fn readable_match(store: &Store, caller: &Caller, id: Id) -> AppResult<Match> {
    store.get::<Match>(id)?.filter(|m| caller.can_read_match(m)).ok_or_else(|| not_found(Kind::Match, id))
}

/// A match the caller may decide on: readable, the etag current, still PROPOSED.
fn proposed_match(store: &Store, caller: &Caller, id: Id, etag: &str) -> AppResult<Match> {
    let m = readable_match(store, caller, id)?;
    check_etag(etag, &m.meta)?;
    if m.state != MatchState::Proposed {
        return Err(AppError::precondition(Reason::WrongState, format!("the match is {}, not PROPOSED", m.state)));
    }
    Ok(m)
}

/// Of the offers `ids`, those the caller may read (as GetOffer would answer), or `None` for
/// the Secretariat, which reads them all.
fn readable_offers(store: &Store, caller: &Caller, ids: Vec<Id>) -> AppResult<Option<std::collections::BTreeSet<Id>>> {
    if caller.is_secretariat() {
        return Ok(None);
    }
    let mut readable = std::collections::BTreeSet::new();
    for id in ids {
        if let Some(offer) = store.get::<Offer>(id)? {
            if super::offers::may_read_offer(store, caller, &offer)? {
                readable.insert(id);
            }
        }
    }
    Ok(Some(readable))
}

fn no_centres(caller: &Caller) -> AppResult<()> {
    deny_centres(caller, "training centres cannot call MatchingService")
}

#[tonic::async_trait]
impl MatchingService for Services {
    async fn propose_matches(
        &self,
        req: Request<pb::ProposeMatchesRequest>,
    ) -> Result<Response<pb::ProposeMatchesResponse>, Status> {
        let caller = caller(&req)?;
        require_secretariat(&caller)?;
        let req = req.into_inner();
        let call = WriteCall::new(&caller, "ProposeMatches", &req.request_id, &req)?.long_running();
        let mut v = Violations::default();
        let capabilities = convert::capabilities_from(&mut v, "capabilities", &req.capabilities);
        let hypothetical = hypothetical_specs(&self.store, &mut v, &req.hypothetical_offers, req.dry_run);
        checked!(call, &self.store, v.finish(()));
        let actor = caller.principal_id.clone();
        let (store, view, metrics) = (&self.store, &*self.match_view, &*self.metrics);
        let (shared_view, shared_metrics) = (self.match_view.clone(), self.metrics.clone());
        if req.dry_run {
            // A dry run changes nothing and stores nothing: it solves from the matching view
            // without the writer gate, so a long solve holds up no writer; a client that
            // gives up stops it.
            let response = call
                .read_only(store, || {
                    stoppable(move |stop| {
                        dry_run_proposal(&shared_view, &shared_metrics, &capabilities, hypothetical, stop)
                    })
                })
                .await?;
            return Ok(Response::new(response));
        }
        // Solved off the gate too (a client that gives up stops it); under the gate the
        // proposal is stored only if nothing it rests on changed meanwhile (no commit
        // touched a need, offer, centre, seat count or refusal), else solved again there,
        // warm from the changes since.
        let now = now_micros();
        let filter = capabilities.clone();
        let solved =
            stoppable(move |stop| solve(&shared_view, &shared_metrics, &filter, Vec::new(), now, stop)).await?;
        let response = call
            .commit(
                store,
                |w, ws, now| {
                    let s = if view.changed_at() == solved.changed_at {
                        solved
                    } else {
                        tracing::info!(
                            solved_at = solved.changed_at,
                            "the store changed during the solve: solving again"
                        );
                        solve(view, metrics, &capabilities, Vec::new(), now, &matching::Stop::never())?
                    };
                    let mut tx = WorkflowChange::new(store, ws, now, &actor);
                    tx.stale_proposals(|m| capabilities.is_empty() || capabilities.contains(&m.capability))?;
                    let mut matches = Vec::with_capacity(s.matches.len());
                    for p in &s.matches {
                        let m = match_record(p, Meta::new(w.allocate_id(Kind::Match), now))?;
                        tx.put_new_match(&m);
                        matches.push(convert::match_to_proto(&m));
                    }
                    log_proposal(matches.len(), false, &s.summary);
                    Ok(pb::ProposeMatchesResponse {
                        matches,
                        summary: Some(summary_to_proto(&s.summary)),
                        baseline: None,
                    })
                },
                Clone::clone,
            )
            .await?;
        Ok(Response::new(response))
    }

    async fn get_match(&self, req: Request<pb::GetMatchRequest>) -> Result<Response<pb::Match>, Status> {
        let caller = caller(&req)?;
        no_centres(&caller)?;
        let id = parse_id(Kind::Match, &req.get_ref().id)?;
        Ok(Response::new(convert::match_to_proto(&readable_match(&self.store, &caller, id)?)))
    }

    async fn list_matches(
        &self,
        req: Request<pb::ListMatchesRequest>,
    ) -> Result<Response<pb::ListMatchesResponse>, Status> {
        let caller = caller(&req)?;
        no_centres(&caller)?;
        let req = req.into_inner();
        let mut v = Violations::default();
        let state = (req.state != 0).then(|| v.enum_value("state", req.state, convert::match_state_from)).flatten();
        let need = if req.need_id.is_empty() {
            None
        } else {
            match Id::parse(Kind::Need, &req.need_id) {
                Some(id) => Some(id),
                None => {
                    v.add("need_id", "is not a need id");
                    None
                }
            }
        };
        v.finish(())?;
        let scope = format!("ListMatches|{}|{}", req.state, req.need_id);
        let pager = Pager::new(&self.store, req.page_size, &req.page_token, &scope, &caller)?;
        let store = &self.store;
        // One need's matches come from its index (need id ++ match id, in match id order),
        // not from a scan of every match.
        let matches: Box<dyn Iterator<Item = crate::store::StoreResult<Match>>> = match need {
            Some(n) => {
                let after = pager.after_id().map_or(0, |a| a.0);
                let ids = store.matches_of_need(n)?;
                Box::new(ids.into_iter().filter(move |m| m.0 > after).filter_map(|m| store.get::<Match>(m).transpose()))
            }
            None => Box::new(store.scan::<Match>(pager.after_id())),
        };
        let (matches, next_page_token) = pager.page(
            &self.store,
            matches,
            |m| m.meta.id.0,
            |m| caller.can_read_match(m) && state.is_none_or(|s| m.state == s) && need.is_none_or(|n| m.need == n),
        )?;
        Ok(Response::new(pb::ListMatchesResponse {
            matches: matches.iter().map(convert::match_to_proto).collect(),
            next_page_token,
        }))
    }

    async fn approve_match(
        &self,
        req: Request<pb::ApproveMatchRequest>,
    ) -> Result<Response<pb::ApproveMatchResponse>, Status> {
        let caller = caller(&req)?;
        require_secretariat(&caller)?;
        let req = req.into_inner();
        let call = WriteCall::new(&caller, "ApproveMatch", &req.request_id, &req)?;
        let mut v = Violations::default();
        v.text("comment", &req.comment, 0, convert::limits::MAX_NOTE_CHARS, true);
        checked!(call, &self.store, v.finish(()));
        let id = checked!(call, &self.store, parse_id(Kind::Match, &req.id));
        let actor = caller.principal_id.clone();
        let store = &self.store;
        let response = call
            .commit(
                store,
                |w, ws, now| {
                    let m = proposed_match(store, &caller, id, &req.etag)?;
                    let (m, arrangements) =
                        WorkflowChange::new(store, ws, now, &actor).approve_or_stale(w, m, &req.comment)?;
                    Ok(pb::ApproveMatchResponse {
                        r#match: Some(convert::match_to_proto(&m)),
                        arrangements: arrangements.iter().map(convert::arrangement_to_proto).collect(),
                    })
                },
                Clone::clone,
            )
            .await?;
        Ok(Response::new(response))
    }

    async fn reject_match(&self, req: Request<pb::RejectMatchRequest>) -> Result<Response<pb::Match>, Status> {
        let caller = caller(&req)?;
        require_secretariat(&caller)?;
        let req = req.into_inner();
        let call = WriteCall::new(&caller, "RejectMatch", &req.request_id, &req)?;
        let mut v = Violations::default();
        v.text("reason", &req.reason, 0, convert::limits::MAX_NOTE_CHARS, true);
        checked!(call, &self.store, v.finish(()));
        let id = checked!(call, &self.store, parse_id(Kind::Match, &req.id));
        let actor = caller.principal_id.clone();
        let store = &self.store;
        let m = call
            .commit(
                store,
                |_, ws, now| {
                    let m = proposed_match(store, &caller, id, &req.etag)?;
                    let mut tx = WorkflowChange::new(store, ws, now, &actor);
                    for offer in m.offers() {
                        tx.remember_refusal(m.need, offer);
                    }
                    let m = Match {
                        meta: m.meta.touched(now),
                        state: MatchState::Rejected,
                        decided_by: actor.clone(),
                        decision_comment: req.reason.clone(),
                        decide_time: Some(now),
                        ..m
                    };
                    tx.put_match(&m, EventKind::MatchRejected);
                    Ok(convert::match_to_proto(&m))
                },
                Clone::clone,
            )
            .await?;
        Ok(Response::new(m))
    }

    async fn explain_need(
        &self,
        req: Request<pb::ExplainNeedRequest>,
    ) -> Result<Response<pb::ExplainNeedResponse>, Status> {
        let caller = caller(&req)?;
        no_centres(&caller)?;
        let id = parse_id(Kind::Need, &req.get_ref().need_id)?;
        let need =
            self.store.get::<Need>(id)?.filter(|n| caller.can_read_need(n)).ok_or_else(|| not_found(Kind::Need, id))?;
        let (view, store) = (&self.match_view, &self.store);
        // A state learns nothing of offers it may not read (see MatchView::explain).
        let explained = off_the_reactor(|| {
            let readable = match caller.is_secretariat() {
                true => None,
                false => readable_offers(store, &caller, view.candidate_ids(need.meta.id)?.unwrap_or_default())?,
            };
            view.explain(need.meta.id, day(now_micros()), readable.as_ref())
        })?;
        let Some((explained, unreadable_offers)) = explained else { return Err(not_found(Kind::Need, id).into()) };
        let candidates = explained
            .into_iter()
            .map(|c| pb::Candidate {
                offer_id: c.offer_id,
                compatible: c.compatible,
                blockers: c.blockers,
                remaining_capacity: c.remaining_capacity,
            })
            .collect();
        Ok(Response::new(pb::ExplainNeedResponse { candidates, unreadable_offers }))
    }
}

//! `lcm.v1.MatchingService`: proposals of the matching engine, approval (which reserves
//! every allocation in one transaction with the new arrangements), rejection (which the
//! engine remembers) and ExplainNeed.

use super::workflow::{self, Tx};
use super::*;
use crate::api as pb;
use crate::api::matching_service_server::MatchingService;
use crate::convert;
use crate::matching;
use crate::store::{TreeId, keys};
use std::collections::BTreeMap;
use tonic::{Request, Response, Status};

fn day(t: UnixMicros) -> Day {
    day_of_micros(t)
}

/// Maps the store onto the engine's input. Read under the writer gate, so it is one
/// consistent state.
pub fn match_input(store: &Store, today: Day, capabilities: Vec<CapabilityArea>) -> AppResult<matching::MatchInput> {
    let centres: BTreeMap<Id, TrainingCentre> =
        store.scan::<TrainingCentre>(None).map(|c| c.map(|c| (c.meta.id, c))).collect::<Result<_, _>>()?;
    let mut needs = Vec::new();
    for n in store.scan::<Need>(None) {
        let n = n?;
        needs.push(matching::NeedInput {
            id: n.meta.id.render(Kind::Need),
            requester: n.spec.requester,
            category: n.spec.category,
            capability: n.spec.capability,
            quantity: n.spec.quantity,
            women_quantity: n.spec.women_quantity,
            consumed: n.seats.consumed(),
            consumed_women: n.seats.consumed_women(),
            languages: n.spec.languages.clone(),
            needed_by: day(n.spec.needed_by),
            priority: n.spec.priority,
            accepted_modes: n.spec.accepted_modes.clone(),
            withdrawn: n.withdrawn,
        });
    }
    let mut offers = Vec::new();
    for o in store.scan::<Offer>(None) {
        let o = o?;
        offers.push(offer_input(&o, o.meta.id.render(Kind::Offer), &centres));
    }
    let mut recipient_consumption = Vec::new();
    for (k, v) in store.entries(TreeId::RecipientSeats)? {
        let (Some(offer), Ok(state), Ok(seats)) = (
            keys::id_from_key(&k[..8.min(k.len())]),
            std::str::from_utf8(&k[8.min(k.len())..]).unwrap_or("").parse::<Alpha3>(),
            <[u8; 4]>::try_from(v.as_slice()).map(u32::from_be_bytes),
        ) else {
            continue;
        };
        recipient_consumption.push(matching::RecipientConsumption {
            offer_id: offer.render(Kind::Offer),
            recipient: state,
            seats,
        });
    }
    let mut barred = Vec::new();
    for (k, _) in store.entries(TreeId::Refusals)? {
        if k.len() == 16 {
            if let (Some(n), Some(o)) = (keys::id_from_key(&k[..8]), keys::id_from_key(&k[8..])) {
                barred.push(matching::BarredPair { need_id: n.render(Kind::Need), offer_id: o.render(Kind::Offer) });
            }
        }
    }
    Ok(matching::MatchInput { today, needs, offers, recipient_consumption, barred, capabilities })
}

/// An offer as the engine sees it, under the id `id`.
fn offer_input(o: &Offer, id: String, centres: &BTreeMap<Id, TrainingCentre>) -> matching::OfferInput {
    let delivery = o.spec.terms.delivery().map(|d| matching::DeliveryTerms {
        languages: d.languages.clone(),
        mode: d.mode,
        training_centre: d.training_centre.and_then(|id| centres.get(&id)).map(|c| matching::CentreRef {
            id: c.meta.id.render(Kind::Centre),
            name: c.spec.name.clone(),
            host_state: c.spec.host_state,
        }),
        duration_days: i64::from(d.duration_days),
        women_only: d.women_only,
        requires_funding: d.requires_funding,
    });
    matching::OfferInput {
        id,
        title: o.spec.title.clone(),
        providers: o.spec.providers.clone(),
        role: o.spec.terms.role(),
        category: o.spec.category,
        capability: o.spec.capability,
        capacity: o.spec.capacity,
        consumed: o.seats.consumed(),
        available_from: day(o.spec.available_from),
        available_until: day(o.spec.available_until),
        eligible_recipients: o.spec.eligible_recipients.clone(),
        excluded_recipients: o.spec.excluded_recipients.clone(),
        max_per_recipient: o.spec.max_per_recipient,
        delivery,
        withdrawn: o.withdrawn,
    }
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
    store: &Store,
    input: matching::MatchInput,
    specs: Vec<OfferSpec>,
    now: UnixMicros,
) -> AppResult<(matching::Proposal, matching::Summary)> {
    let internal = |e: matching::MatchError| AppError::Internal(e.to_string());
    let centres: BTreeMap<Id, TrainingCentre> =
        store.scan::<TrainingCentre>(None).map(|c| c.map(|c| (c.meta.id, c))).collect::<Result<_, _>>()?;
    let started = std::time::Instant::now();
    let mut engine = matching::Engine::new(input).map_err(internal)?;
    let mut baseline = engine.proposal().summary;
    baseline.solve_micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    let started = std::time::Instant::now();
    let mut warm = 0;
    for (i, spec) in specs.into_iter().enumerate() {
        let offer = Offer { meta: Meta::new(Id(0), now), spec, withdrawn: false, seats: Seats::default() };
        engine
            .apply(matching::Change::AddOffer(offer_input(&offer, hypothetical_id(i), &centres)))
            .map_err(internal)?;
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
fn match_record(p: &matching::ProposedMatch, meta: Meta, need: &Need) -> AppResult<Match> {
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
        need: need.meta.id,
        recipient: need.spec.requester,
        capability: need.spec.capability,
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

/// A proposal of a dry run as a message: no id or etag, and the offers named as the engine
/// names them (a hypothetical offer as `hypothetical-N`).
/// The engine's input from one consistent state of the store, read without the writer
/// gate: a scan between two equal readings of [`Store::visible_commit`] saw no commit come
/// in. Under a steady stream of writes that may not happen; after three tries the scan
/// runs under the gate (a scan, not a solve, so writers wait for a read only).
fn consistent_input(store: &Store, today: Day, capabilities: &[CapabilityArea]) -> AppResult<matching::MatchInput> {
    for _ in 0..3 {
        let before = store.visible_commit();
        let input = match_input(store, today, capabilities.to_vec())?;
        if store.visible_commit() == before {
            return Ok(input);
        }
    }
    let _gate = store.writer()?;
    match_input(store, today, capabilities.to_vec())
}

/// Solves `input` (with the hypothetical offers, if any: a what-if, answering the baseline
/// too) and counts the solve in the metrics.
fn solve(
    store: &Store,
    metrics: &crate::metrics::Metrics,
    input: matching::MatchInput,
    hypothetical: Vec<OfferSpec>,
    now: UnixMicros,
) -> AppResult<(matching::Proposal, Option<pb::MatchSummary>)> {
    let (proposal, baseline) = if hypothetical.is_empty() {
        (matching::propose(&input).map_err(|e| AppError::Internal(e.to_string()))?, None)
    } else {
        let (proposal, baseline) = what_if(store, input, hypothetical, now)?;
        (proposal, Some(summary_to_proto(&baseline)))
    };
    metrics.solve_duration.observe(proposal.summary.solve_micros as f64 / 1e6);
    metrics.seats_matched.inc_by(proposal.summary.seats_matched);
    Ok((proposal, baseline))
}

/// A dry run's answer, computed off the writer gate (see [`consistent_input`]).
fn dry_run_proposal(
    store: &Store,
    metrics: &crate::metrics::Metrics,
    capabilities: Vec<CapabilityArea>,
    hypothetical: Vec<OfferSpec>,
    actor: &str,
) -> AppResult<pb::ProposeMatchesResponse> {
    let now = now_micros();
    let input = consistent_input(store, day(now), &capabilities)?;
    let (proposal, baseline) = solve(store, metrics, input, hypothetical, now)?;
    // A scratch write set: the reads go to the store, nothing is written.
    let mut scratch = WriteSet::default();
    let mut tx = Tx::new(store, &mut scratch, now, actor);
    let mut matches = Vec::with_capacity(proposal.matches.len());
    for p in &proposal.matches {
        let need_id = Id::parse(Kind::Need, &p.need_id)
            .ok_or_else(|| AppError::Internal("the engine returned an unknown need".into()))?;
        matches.push(dry_match(p, now, &tx.need(need_id)?)?);
    }
    tracing::info!(
        matches = matches.len(),
        dry_run = true,
        seats = proposal.summary.seats_matched,
        solve_us = proposal.summary.solve_micros,
        "matches proposed"
    );
    Ok(pb::ProposeMatchesResponse { matches, summary: Some(summary_to_proto(&proposal.summary)), baseline })
}

fn dry_match(p: &matching::ProposedMatch, now: UnixMicros, need: &Need) -> AppResult<pb::Match> {
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
    let m = match_record(&stored, Meta::new(Id(0), now), need)?;
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

/// The ids of the engine input's offers that the caller may read (as GetOffer would
/// answer), or `None` for the Secretariat, which reads them all.
fn readable_offer_ids(
    store: &Store,
    caller: &Caller,
    input: &matching::MatchInput,
) -> AppResult<Option<std::collections::BTreeSet<String>>> {
    if caller.is_secretariat() {
        return Ok(None);
    }
    let mut readable = std::collections::BTreeSet::new();
    for o in &input.offers {
        let Some(id) = Id::parse(Kind::Offer, &o.id) else { continue };
        if let Some(offer) = store.get::<Offer>(id)? {
            if super::offers::may_read_offer(store, caller, &offer)? {
                readable.insert(o.id.clone());
            }
        }
    }
    Ok(Some(readable))
}

fn no_centres(caller: &Caller) -> AppResult<()> {
    deny_centres(caller, "training centres cannot call MatchingService")
}

#[tonic::async_trait]
impl MatchingService for Ctx {
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
        let store = &self.store;
        let metrics = &self.metrics;
        if req.dry_run {
            // A dry run stores nothing but its answer (for request_id retries): it reads a
            // consistent snapshot and solves without the writer gate, so a long solve holds
            // up no writer. Only the stored answer goes through the gate.
            let response = off_the_reactor(|| dry_run_proposal(store, metrics, capabilities, hypothetical, &actor))?;
            let response = call.commit(store, move |_, _, _| Ok(response), Clone::clone).await?;
            return Ok(Response::new(response));
        }
        let response = call
            .commit(
                store,
                |w, ws, now| {
                    // Hypothetical offers come only with dry_run (refused above otherwise).
                    let input = match_input(store, day(now), capabilities.clone())?;
                    let (proposal, _) = solve(store, metrics, input, Vec::new(), now)?;
                    let mut tx = Tx::new(store, ws, now, &actor);
                    tx.stale_proposals(|m| capabilities.is_empty() || capabilities.contains(&m.capability))?;
                    let mut matches = Vec::with_capacity(proposal.matches.len());
                    for p in &proposal.matches {
                        let need_id = Id::parse(Kind::Need, &p.need_id)
                            .ok_or_else(|| AppError::Internal("the engine returned an unknown need".into()))?;
                        let need = tx.need(need_id)?;
                        let m = match_record(p, Meta::new(w.allocate_id(Kind::Match), now), &need)?;
                        tx.put_new_match(&m);
                        matches.push(convert::match_to_proto(&m));
                    }
                    tracing::info!(
                        matches = matches.len(),
                        dry_run = false,
                        seats = proposal.summary.seats_matched,
                        solve_us = proposal.summary.solve_micros,
                        "matches proposed"
                    );
                    Ok(pb::ProposeMatchesResponse {
                        matches,
                        summary: Some(summary_to_proto(&proposal.summary)),
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
        let (matches, next_page_token) = pager.page(
            &self.store,
            self.store.scan::<Match>(pager.after_id()),
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
        let result = call
            .commit(
                store,
                |w, ws, now| {
                    let m = proposed_match(store, &caller, id, &req.etag)?;
                    let mut tx = Tx::new(store, ws, now, &actor);
                    let arrangements = tx.approve(w, m, &req.comment)?;
                    let m = tx.match_after_approval(id)?;
                    Ok(pb::ApproveMatchResponse {
                        r#match: Some(convert::match_to_proto(&m)),
                        arrangements: arrangements.iter().map(convert::arrangement_to_proto).collect(),
                    })
                },
                Clone::clone,
            )
            .await;
        if let Err(AppError::FailedPrecondition { reason, .. }) = &result {
            if *reason != Reason::WrongState {
                workflow::mark_stale(store, &caller.principal_id, id).await?;
            }
        }
        Ok(Response::new(result?))
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
                    let mut tx = Tx::new(store, ws, now, &actor);
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
        let mut input = match_input(&self.store, day(now_micros()), Vec::new())?;
        // A state learns nothing of offers it may not read. Such an offer can never give
        // or pay for its seats (it is not OPEN, or the state is not eligible), so leaving
        // the unreadable FUNDING offers out changes no verdict, only keeps their names out
        // of the funding blockers; unreadable DELIVERY offers are only counted.
        let readable = readable_offer_ids(&self.store, &caller, &input)?;
        if let Some(readable) = &readable {
            input.offers.retain(|o| o.role != OfferRole::Funding || readable.contains(&o.id));
        }
        let explained = matching::explain_need(&input, &need.meta.id.render(Kind::Need)).unwrap_or_default();
        let mut candidates = Vec::with_capacity(explained.len());
        let mut unreadable_offers = 0u32;
        for c in explained {
            if readable.as_ref().is_none_or(|r| r.contains(&c.offer_id)) {
                candidates.push(pb::Candidate {
                    offer_id: c.offer_id,
                    compatible: c.compatible,
                    blockers: c.blockers,
                    remaining_capacity: c.remaining_capacity,
                });
            } else {
                unreadable_offers = unreadable_offers.saturating_add(1);
            }
        }
        Ok(Response::new(pb::ExplainNeedResponse { candidates, unreadable_offers }))
    }
}

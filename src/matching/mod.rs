//! The matching engine: a library that turns open needs, open offers and what is already
//! reserved into optimal allocations with reasons. It reads no store, no file and no
//! calendar: "today" is part of its input. It reads the monotonic clock only to report how
//! long a solve took (`summary.solve_micros`); [`bench`], the `lcm bench-match` driver, is
//! the one module that measures (time, and memory from /proc) and generates instances.
//!
//! Entry points for the service:
//! * [`propose`]: ProposeMatches (all six goals of API.md, exact, deterministic);
//! * [`explain_need`]: ExplainNeed, from the same rule functions ([`rules`],
//!   [`funding_rules`]);
//! * [`Engine`]: keeps the solver state for warm re-solves after single changes;
//! * [`bench::run_bench`]: the `lcm bench-match` driver.
//!
//! The model, the phases and why the funded part is exact: docs/MATCHING.md.

pub mod bench;
mod engine;
pub mod explain;
pub mod flow;
mod funded;
pub mod funding_rules;
pub mod input;
mod network;
pub mod output;
mod prepare;
pub mod rules;
pub mod solution;
#[cfg(test)]
mod tests;
mod text;

pub use engine::{Change, Engine};
pub use explain::{Candidate, explain_candidates, explain_need};
pub use input::{BarredPair, CentreRef, DeliveryTerms, Few, MatchInput, NeedInput, OfferInput, RecipientConsumption};
pub use output::{Allocation, Proposal, ProposedMatch, Summary};
pub use rules::Blocker;
pub use solution::{MatchError, Stop};
pub use text::show_day;

use network::FlowModel;
use prepare::{Pair, Prepared, Triple};
use solution::SeatGrant;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

/// ProposeMatches: the optimal allocations for `input` (needs and offers of the capability
/// filter), with reasons and the summary. The same input always gives the same proposal
/// (apart from `summary.solve_micros`).
pub fn propose(input: &MatchInput) -> Result<Proposal, MatchError> {
    propose_until(input, &Stop::never())
}

/// [`propose`], giving up with [`MatchError::Stopped`] once `stop` is pulled.
pub fn propose_until(input: &MatchInput, stop: &Stop) -> Result<Proposal, MatchError> {
    let started = Instant::now();
    let prepared = Prepared::with_stop(input, stop.clone())?;
    let solved = solve_prepared(&prepared)?;
    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    Ok(output::assemble(&prepared, solved.grants(), micros))
}

/// The solved state of one input: one flow model per unfunded component (kept for warm
/// re-solves) and the grants of the funded components.
pub(crate) struct Solved {
    pub models: Vec<FlowModel>,
    pub funded_grants: Vec<SeatGrant>,
    /// Goal totals of the funded grants.
    pub funded_objective: [i64; 6],
    /// Ids of the needs and offers (both roles) that sit in funded components.
    pub funded_ids: BTreeSet<String>,
    /// Grants of each funded component, keyed by its sorted record ids.
    pub funded_parts: BTreeMap<Vec<String>, Vec<SeatGrant>>,
}

impl Solved {
    pub fn grants(&self) -> Vec<SeatGrant> {
        let mut g: Vec<SeatGrant> = self.models.iter().flat_map(FlowModel::grants).collect();
        g.extend(self.funded_grants.iter().cloned());
        g
    }
}

/// The built but unsolved problem: one flow model per unfunded component and the pairs
/// and triples of each funded component.
pub(crate) struct Built {
    pub models: Vec<FlowModel>,
    pub funded_parts: BTreeMap<u32, (Vec<Pair>, Vec<Triple>)>,
}

impl Built {
    /// Flow arcs plus integer-program seat variables.
    pub fn arcs(&self) -> usize {
        self.models.iter().map(FlowModel::arc_count).sum::<usize>()
            + self.funded_parts.values().map(|(p, t)| p.len() + t.len()).sum::<usize>()
    }

    /// Solves each flow model (six phases) and each funded component.
    pub fn solve(self, p: &Prepared) -> Result<Solved, MatchError> {
        self.solve_reusing(p, None)
    }

    /// Like [`Built::solve`], but a funded component whose records are exactly those of a
    /// component of `previous` and do not include a `changed` id takes its grants from
    /// `previous`: its data are the same, so its (deterministic) optimum is too.
    pub fn solve_reusing(
        mut self,
        p: &Prepared,
        previous: Option<(&Solved, &BTreeSet<String>)>,
    ) -> Result<Solved, MatchError> {
        for model in &mut self.models {
            model.solve(&p.stop)?;
        }
        let mut funded_grants = Vec::new();
        let mut funded_ids = BTreeSet::new();
        let mut funded_parts = BTreeMap::new();
        for (pairs, triples) in self.funded_parts.values() {
            let mut members = BTreeSet::new();
            for pr in pairs {
                members.insert(p.needs[pr.need as usize].id.clone());
                members.insert(p.offers[pr.offer as usize].id.clone());
            }
            for t in triples {
                members.insert(p.needs[t.need as usize].id.clone());
                members.insert(p.offers[t.offer as usize].id.clone());
                members.insert(p.funders[t.funder as usize].id.clone());
            }
            let members: Vec<String> = members.into_iter().collect();
            let reused = previous.and_then(|(prev, changed)| {
                if members.iter().any(|m| changed.contains(m)) {
                    return None;
                }
                prev.funded_parts.get(&members).cloned()
            });
            let grants = match reused {
                Some(g) => g,
                None => {
                    p.stop.check()?;
                    funded::solve_component(p, pairs, triples)?
                }
            };
            funded_grants.extend(grants.iter().cloned());
            funded_ids.extend(members.iter().cloned());
            funded_parts.insert(members, grants);
        }
        let funded_objective = solution::objective_of(&funded_grants, &p.needs, &p.offers);
        Ok(Solved { models: self.models, funded_grants, funded_objective, funded_ids, funded_parts })
    }
}

/// Splits the problem into connected components: each unfunded one becomes its own flow
/// model (so a change re-solves only its component), the funded ones are kept for the
/// integer program.
pub(crate) fn build(p: &Prepared) -> Built {
    let (comp, funded) = p.components();
    let base_needed = p.needs.iter().map(|n| n.needed_by).min().unwrap_or(0);
    let base_until = p.offers.iter().map(|o| o.available_until).min().unwrap_or(0);
    let mut models: BTreeMap<u32, FlowModel> = BTreeMap::new();
    let mut funded_parts: BTreeMap<u32, (Vec<Pair>, Vec<Triple>)> = BTreeMap::new();
    let mut need_slot = vec![u32::MAX; p.needs.len()];
    let mut offer_slot = vec![u32::MAX; p.offers.len()];
    for pair in &p.pairs {
        let c = comp[pair.need as usize];
        if funded.contains(&c) {
            funded_parts.entry(c).or_default().0.push(*pair);
            continue;
        }
        let need = p.needs[pair.need as usize];
        let offer = p.offers[pair.offer as usize];
        let model = models.entry(c).or_insert_with(|| FlowModel::new(base_needed, base_until));
        // Remember model indices here, so the model's id maps are touched once per record.
        let n = match need_slot[pair.need as usize] {
            u32::MAX => model.add_need(need),
            n => n,
        };
        need_slot[pair.need as usize] = n;
        let o = match offer_slot[pair.offer as usize] {
            u32::MAX => model.add_offer(offer),
            o => o,
        };
        offer_slot[pair.offer as usize] = o;
        model.add_pair(n, o, p.ctx.cap_left(offer, need.requester), need.open_seats());
    }
    for t in &p.triples {
        funded_parts.entry(comp[t.need as usize]).or_default().1.push(*t);
    }
    Built { models: models.into_values().collect(), funded_parts }
}

/// Builds and solves.
pub(crate) fn solve_prepared(p: &Prepared) -> Result<Solved, MatchError> {
    build(p).solve(p)
}

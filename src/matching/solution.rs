//! What the solvers hand back before it becomes proposals: seats granted per (need,
//! delivery offer, funding offer), the engine's error type, and the six goal totals
//! computed from the grants in exact integer arithmetic (never from a solver's cost).

use super::input::{NeedInput, OfferInput};
use crate::domain::Priority;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Seats of one delivery offer (paid by one funder, if any) for one need.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SeatGrant {
    pub need_id: String,
    pub offer_id: String,
    pub funder_id: Option<String>,
    pub seats: u32,
}

/// Why the engine could not answer (never for ordinary input: only when a solver fails).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MatchError {
    /// The flow or integer solver failed or reported an impossible state.
    Solver(String),
    /// A change named a record the engine does not know.
    UnknownRecord(String),
    /// The solve was asked to stop ([`Stop`]): whoever wanted it gave up.
    Stopped,
}

impl fmt::Display for MatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MatchError::Solver(why) => write!(f, "matching solver failed: {why}"),
            MatchError::UnknownRecord(id) => write!(f, "unknown record {id}"),
            MatchError::Stopped => f.write_str("the solve was stopped: its caller gave up"),
        }
    }
}

impl std::error::Error for MatchError {}

/// Asks a solve to give up early (its client cancelled, or its deadline passed). Checked
/// between the steps of a solve (every 256 needs whose candidates are found, each phase of
/// each flow model, each funded component), so a stopped solve ends within one step, with
/// [`MatchError::Stopped`]. Cheap to clone; [`Stop::never`] never stops.
#[derive(Clone, Debug, Default)]
pub struct Stop(Option<Arc<AtomicBool>>);

impl Stop {
    /// A stop nobody can pull.
    pub fn never() -> Stop {
        Stop(None)
    }

    /// A stop that [`Stop::stop`] pulls, for this handle and its clones.
    pub fn new() -> Stop {
        Stop(Some(Arc::new(AtomicBool::new(false))))
    }

    pub fn stop(&self) {
        if let Some(flag) = &self.0 {
            flag.store(true, Ordering::Relaxed);
        }
    }

    pub fn is_stopped(&self) -> bool {
        self.0.as_ref().is_some_and(|flag| flag.load(Ordering::Relaxed))
    }

    /// `Err(Stopped)` once stopped.
    pub fn check(&self) -> Result<(), MatchError> {
        if self.is_stopped() { Err(MatchError::Stopped) } else { Ok(()) }
    }
}

/// Adds `seats` given to a need of `priority`, needed by day `needed_by`, to the goal
/// totals that depend on the need alone: its priority's seats and Σ seats × needed_by day
/// (see [`objective_of`]).
pub(crate) fn add_need_seats(total: &mut [i128; 6], seats: i128, priority: Priority, needed_by: crate::domain::Day) {
    let slot = match priority {
        Priority::Critical => 0,
        Priority::High => 1,
        Priority::Routine => 2,
    };
    total[slot] += seats;
    total[4] += seats * i128::from(needed_by);
}

/// The six goal totals of API.md, in order: CRITICAL, HIGH, ROUTINE seats, women seats,
/// Σ seats × needed_by day, Σ seats × the delivery offer's available_until day.
/// A need's women seats are min(open women seats, seats matched).
pub fn objective_of(grants: &[SeatGrant], needs: &[&NeedInput], offers: &[&OfferInput]) -> [i64; 6] {
    // First record of a repeated id wins, as in `prepare.rs`.
    let mut need_by_id: HashMap<&str, &NeedInput> = HashMap::new();
    for n in needs {
        need_by_id.entry(n.id.as_str()).or_insert(*n);
    }
    let mut offer_by_id: HashMap<&str, &OfferInput> = HashMap::new();
    for o in offers {
        offer_by_id.entry(o.id.as_str()).or_insert(*o);
    }
    let mut per_need: HashMap<&str, i64> = HashMap::new();
    let mut total = [0i128; 6];
    for g in grants {
        let seats = i128::from(g.seats);
        if let Some(n) = need_by_id.get(g.need_id.as_str()) {
            add_need_seats(&mut total, seats, n.priority, n.needed_by);
            *per_need.entry(n.id.as_str()).or_default() += i64::from(g.seats);
        }
        if let Some(o) = offer_by_id.get(g.offer_id.as_str()) {
            total[5] += seats * i128::from(o.available_until);
        }
    }
    for (id, seats) in per_need {
        if let Some(n) = need_by_id.get(id) {
            total[3] += i128::from(seats.min(i64::from(n.open_women_seats())));
        }
    }
    total.map(|t| t.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
}

//! The mechanism's headline figures, as the metrics gauges show them: sums of the gap
//! report's capability rows, the readiness report's rows and the consents still awaited.

use super::{GapGrouping, RiskHorizons, Snapshot, gap_rows, readiness_status};
use crate::domain::*;

/// Figures over one snapshot (all states).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MechanismFigures {
    /// Σ quantity of needs that are not withdrawn.
    pub seats_demanded: u64,
    /// Σ open seats (quantity − reserved − delivered).
    pub seats_open: u64,
    /// Open seats of CRITICAL needs.
    pub seats_open_critical: u64,
    /// Open seats of needs whose `needed_by` day has passed.
    pub seats_overdue: u64,
    /// PENDING consents on arrangements in PENDING_CONSENT.
    pub consents_pending: u64,
    /// Needs the readiness report lists: OPEN with open seats and at risk (their date
    /// within their pledge level's horizon) or overdue.
    pub needs_at_risk: u64,
}

pub fn mechanism_figures(snapshot: &Snapshot, horizons: &RiskHorizons) -> MechanismFigures {
    let mut f = MechanismFigures::default();
    for row in gap_rows(snapshot, GapGrouping::Capability) {
        f.seats_demanded += row.needed;
        f.seats_open += row.open;
        f.seats_open_critical += row.critical_open;
        f.seats_overdue += row.overdue;
    }
    f.consents_pending = snapshot
        .arrangements
        .iter()
        .filter(|a| a.status == ArrangementStatus::PendingConsent)
        .map(|a| a.consents.iter().filter(|c| c.decision == ConsentDecision::Pending).count() as u64)
        .sum();
    f.needs_at_risk =
        snapshot.needs.iter().filter(|n| readiness_status(n, snapshot.today, horizons).is_some()).count() as u64;
    f
}

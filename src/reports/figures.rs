//! The mechanism's headline figures, as the metrics gauges show them: sums of the gap
//! report's capability rows, the readiness report's rows and the consents still awaited.

use super::{GapGrouping, GapTally, RiskHorizons, readiness_status};
use crate::domain::*;

/// Figures over one state of the records (all member states).
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

/// [`MechanismFigures`] one record at a time: the needs and the arrangements of one
/// state, never all held at once.
pub struct FiguresTally<'a> {
    gaps: GapTally,
    today: Day,
    horizons: &'a RiskHorizons,
    needs_at_risk: u64,
    consents_pending: u64,
}

impl<'a> FiguresTally<'a> {
    pub fn new(today: Day, horizons: &'a RiskHorizons) -> FiguresTally<'a> {
        FiguresTally {
            gaps: GapTally::new(GapGrouping::Capability, today),
            today,
            horizons,
            needs_at_risk: 0,
            consents_pending: 0,
        }
    }

    pub fn add_need(&mut self, need: &Need) {
        self.gaps.add(need);
        if readiness_status(need, self.today, self.horizons).is_some() {
            self.needs_at_risk += 1;
        }
    }

    pub fn add_arrangement(&mut self, a: &Arrangement) {
        if a.status == ArrangementStatus::PendingConsent {
            self.consents_pending +=
                a.consents.iter().filter(|c| c.decision == ConsentDecision::Pending).count() as u64;
        }
    }

    pub fn figures(self) -> MechanismFigures {
        let mut f = MechanismFigures {
            needs_at_risk: self.needs_at_risk,
            consents_pending: self.consents_pending,
            ..MechanismFigures::default()
        };
        for row in self.gaps.rows() {
            f.seats_demanded += row.needed;
            f.seats_open += row.open;
            f.seats_open_critical += row.critical_open;
            f.seats_overdue += row.overdue;
        }
        f
    }
}

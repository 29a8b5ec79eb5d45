//! The coordinators' reports (API.md, "Reports: what each figure counts"): gap rows,
//! deconfliction findings, gender rows and lasting-capacity rows, computed from one [`Snapshot`] of the store.
//!
//! Pure functions over domain records: no I/O, no clock, no protobuf. The service takes
//! the snapshot under the store's writer gate and converts the results at the boundary.
//! Every output is sorted, so the same snapshot always gives the same report.

mod capacity;
mod deconfliction;
mod figures;
mod gaps;
mod gender;
mod readiness;
#[cfg(test)]
mod tests;

pub use capacity::{CapacityRow, capacity_rows};
pub use deconfliction::{Finding, FindingKind, deconfliction_findings};
pub use figures::{FiguresTally, MechanismFigures};
pub use gaps::{GapGrouping, GapRow, GapTally};
pub use gender::{GenderReport, GenderRow, GenderTargets, gender_report, parse_target_overrides};
pub use readiness::{AtRiskAlerts, ReadinessRow, ReadinessStatus, RiskHorizons, readiness_rows, readiness_status};

use crate::domain::*;

/// One consistent state of the records the reports read.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// The day the report is made (whole UTC days since the epoch).
    pub today: Day,
    pub needs: Vec<Need>,
    pub offers: Vec<Offer>,
    pub arrangements: Vec<Arrangement>,
}

/// Whether an arrangement's seats count as given: live (reserving) or completed.
pub fn live_or_completed(status: ArrangementStatus) -> bool {
    status.reserves() || status == ArrangementStatus::Completed
}

/// The categories the gender report covers: where API.md allows women seats.
pub fn gender_category(category: SupportCategory) -> bool {
    matches!(category, SupportCategory::Training | SupportCategory::Mentoring | SupportCategory::AdviseAndAssist)
}

/// `day` as an ISO 8601 date (`2027-03-01`), for sentences: the engine's formatter.
pub use crate::matching::show_day as iso_date;

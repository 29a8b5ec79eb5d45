//! The coordinators' reports (API.md, "Reports: what each figure counts"): gap rows,
//! deconfliction findings and gender rows, computed from one [`Snapshot`] of the store.
//!
//! Pure functions over domain records: no I/O, no clock, no protobuf. The service takes
//! the snapshot under the store's writer gate and converts the results at the boundary.
//! Every output is sorted, so the same snapshot always gives the same report.

mod deconfliction;
mod gaps;
mod gender;
#[cfg(test)]
mod tests;

pub use deconfliction::{Finding, FindingKind, deconfliction_findings};
pub use gaps::{GapGrouping, GapRow, gap_rows};
pub use gender::{GenderReport, GenderRow, GenderTargets, gender_report, parse_target_overrides};

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

/// `day` as an ISO 8601 date (`2027-03-01`), for sentences.
pub fn iso_date(day: Day) -> String {
    // Howard Hinnant's civil_from_days.
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

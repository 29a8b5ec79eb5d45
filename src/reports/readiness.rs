//! Readiness rows (API.md, "Readiness rows"): the needs that are OPEN with open seats and
//! at risk (their date is within the horizon of their pledge level) or overdue. Pure:
//! the caller supplies the needs, today and, per need, how many DELIVERY offers the
//! engine's rules find no blocker with.

use crate::domain::*;
use std::collections::BTreeMap;

/// How many days ahead a need counts as at risk: for RAPID_DEPLOYMENT needs, and for all
/// others (API.md: 90 and 45; `--risk-horizon-days RDL,OTHER`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RiskHorizons {
    pub rapid_deployment_days: i64,
    pub other_days: i64,
}

impl Default for RiskHorizons {
    fn default() -> Self {
        RiskHorizons { rapid_deployment_days: 90, other_days: 45 }
    }
}

impl RiskHorizons {
    /// The horizon of a need's pledge level.
    pub fn of(&self, need: &Need) -> i64 {
        if need.spec.pledge_level == Some(ReadinessLevel::RapidDeployment) {
            self.rapid_deployment_days
        } else {
            self.other_days
        }
    }

    /// Parses `RDL,OTHER` (whole days, 0..=3650 each).
    pub fn parse(text: &str) -> Result<RiskHorizons, String> {
        let parts: Vec<&str> = text.split(',').map(str::trim).collect();
        let [rdl, other] = parts.as_slice() else { return Err("expected two numbers of days: RDL,OTHER".into()) };
        let day = |s: &str| match s.parse::<i64>() {
            Ok(d) if (0..=3650).contains(&d) => Ok(d),
            _ => Err(format!("{s:?} is not a number of days from 0 to 3650")),
        };
        Ok(RiskHorizons { rapid_deployment_days: day(rdl)?, other_days: day(other)? })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReadinessStatus {
    /// Sorted first.
    Overdue,
    AtRisk,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReadinessRow {
    pub need: Id,
    pub requester: Alpha3,
    pub capability: CapabilityArea,
    pub pledge_level: Option<ReadinessLevel>,
    pub needed_by: UnixMicros,
    pub days_left: i64,
    pub open: u32,
    pub compatible_offers: u32,
    pub status: ReadinessStatus,
}

/// A need's readiness status today: `None` when it is not at risk (withdrawn, no open
/// seats, or its date beyond the horizon).
pub fn readiness_status(need: &Need, today: Day, horizons: &RiskHorizons) -> Option<ReadinessStatus> {
    if need.withdrawn || need.open_seats() == 0 {
        return None;
    }
    let days_left = day_of_micros(need.spec.needed_by) - today;
    if days_left < 0 {
        Some(ReadinessStatus::Overdue)
    } else if days_left <= horizons.of(need) {
        Some(ReadinessStatus::AtRisk)
    } else {
        None
    }
}

/// The rows, sorted by status (OVERDUE first), days left, then need id.
pub fn readiness_rows(
    needs: &[Need],
    today: Day,
    horizons: &RiskHorizons,
    compatible_offers: &BTreeMap<Id, u32>,
) -> Vec<ReadinessRow> {
    let mut rows: Vec<ReadinessRow> = needs
        .iter()
        .filter_map(|n| {
            let status = readiness_status(n, today, horizons)?;
            Some(ReadinessRow {
                need: n.meta.id,
                requester: n.spec.requester,
                capability: n.spec.capability,
                pledge_level: n.spec.pledge_level,
                needed_by: n.spec.needed_by,
                days_left: day_of_micros(n.spec.needed_by) - today,
                open: n.open_seats(),
                compatible_offers: compatible_offers.get(&n.meta.id).copied().unwrap_or(0),
                status,
            })
        })
        .collect();
    rows.sort_by_key(|r| (r.status, r.days_left, r.need));
    rows
}

/// Which needs of the at-risk set were already alerted (API.md: NEED_AT_RISK is recorded
/// once each time a need enters the set, and again only after it left and re-entered).
/// Fed, in order, with every state of a need that the event log carries; the set itself
/// is [`readiness_status`]'s, so the report and the alerts cannot disagree.
#[derive(Clone, Debug, Default)]
pub struct AtRiskAlerts {
    alerted: std::collections::BTreeSet<Id>,
}

impl AtRiskAlerts {
    /// Whether `need` is in the at-risk set on `today`.
    pub fn in_set(need: &Need, today: Day, horizons: &RiskHorizons) -> bool {
        readiness_status(need, today, horizons).is_some()
    }

    /// A state of `need` (as a write left it) on `day`: out of the set, its alert is
    /// forgotten. Returns whether it is in the set without an alert (one is due).
    pub fn observe(&mut self, need: &Need, day: Day, horizons: &RiskHorizons) -> bool {
        if Self::in_set(need, day, horizons) {
            !self.alerted.contains(&need.meta.id)
        } else {
            self.alerted.remove(&need.meta.id);
            false
        }
    }

    /// Whether `need` is in the set on `today` and has no alert yet.
    pub fn due(&self, need: &Need, today: Day, horizons: &RiskHorizons) -> bool {
        Self::in_set(need, today, horizons) && !self.alerted.contains(&need.meta.id)
    }

    /// A NEED_AT_RISK was recorded for `need`.
    pub fn alerted(&mut self, need: Id) {
        self.alerted.insert(need);
    }
}

//! Gap rows: seats needed, reserved, delivered and open, per capability or per requester.

use super::Snapshot;
use crate::domain::*;
use std::collections::BTreeMap;

/// How gap rows are keyed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum GapGrouping {
    Capability,
    Requester,
}

/// One gap row. `key` is the capability's API name (`ENGINEERING`) or the requester's
/// alpha-3 code.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct GapRow {
    pub key: String,
    pub needed: u64,
    pub women_needed: u64,
    pub reserved: u64,
    pub delivered: u64,
    pub open: u64,
    /// Open seats of CRITICAL needs.
    pub critical_open: u64,
    /// Open seats of needs whose `needed_by` day is before today.
    pub overdue: u64,
}

impl GapRow {
    fn add(&mut self, need: &Need, today: Day) {
        let open = u64::from(need.open_seats());
        self.needed += u64::from(need.spec.quantity);
        self.women_needed += u64::from(need.spec.women_quantity);
        self.reserved += u64::from(need.seats.reserved);
        self.delivered += u64::from(need.seats.delivered);
        self.open += open;
        if need.spec.priority == Priority::Critical {
            self.critical_open += open;
        }
        if day_of_micros(need.spec.needed_by) < today {
            self.overdue += open;
        }
    }
}

/// Gap rows over the needs that are not withdrawn, one per capability (in API order) or
/// per requester (by code) that has such a need.
pub fn gap_rows(snapshot: &Snapshot, grouping: GapGrouping) -> Vec<GapRow> {
    #[derive(PartialEq, Eq, PartialOrd, Ord)]
    enum Key {
        Capability(CapabilityArea),
        Requester(Alpha3),
    }
    let mut rows: BTreeMap<Key, GapRow> = BTreeMap::new();
    for need in snapshot.needs.iter().filter(|n| !n.withdrawn) {
        let (key, text) = match grouping {
            GapGrouping::Capability => {
                (Key::Capability(need.spec.capability), need.spec.capability.as_str().to_string())
            }
            GapGrouping::Requester => (Key::Requester(need.spec.requester), need.spec.requester.to_string()),
        };
        rows.entry(key).or_insert_with(|| GapRow { key: text, ..GapRow::default() }).add(need, snapshot.today);
    }
    rows.into_values().collect()
}

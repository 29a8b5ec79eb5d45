//! Gap rows: seats needed, reserved, delivered and open, per capability or per requester.

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
/// per requester (by code) that has such a need, counted one need at a time: a report
/// over every need never holds them all.
pub struct GapTally {
    grouping: GapGrouping,
    today: Day,
    rows: BTreeMap<GapKey, GapRow>,
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum GapKey {
    Capability(CapabilityArea),
    Requester(Alpha3),
}

impl GapKey {
    fn text(&self) -> String {
        match self {
            GapKey::Capability(c) => c.as_str().to_string(),
            GapKey::Requester(r) => r.to_string(),
        }
    }
}

impl GapTally {
    pub fn new(grouping: GapGrouping, today: Day) -> GapTally {
        GapTally { grouping, today, rows: BTreeMap::new() }
    }

    /// Counts `need`, unless it is withdrawn.
    pub fn add(&mut self, need: &Need) {
        if need.withdrawn {
            return;
        }
        let key = match self.grouping {
            GapGrouping::Capability => GapKey::Capability(need.spec.capability),
            GapGrouping::Requester => GapKey::Requester(need.spec.requester),
        };
        let row = self.rows.entry(key).or_insert_with_key(|key| GapRow { key: key.text(), ..GapRow::default() });
        row.add(need, self.today);
    }

    /// The rows, one per capability (in API order) or per requester (by code).
    pub fn rows(self) -> Vec<GapRow> {
        self.rows.into_values().collect()
    }
}

//! Gender rows: women's seats per requester and overall, against the target share.

use super::{Snapshot, gender_category, live_or_completed};
use crate::domain::*;
use std::collections::{BTreeMap, BTreeSet};

/// The configured target shares of women: one default, and overrides per capability.
#[derive(Clone, PartialEq, Debug)]
pub struct GenderTargets {
    pub default_share: f64,
    pub per_capability: BTreeMap<CapabilityArea, f64>,
}

impl Default for GenderTargets {
    fn default() -> Self {
        GenderTargets { default_share: 0.15, per_capability: BTreeMap::new() }
    }
}

impl GenderTargets {
    pub fn share(&self, capability: CapabilityArea) -> f64 {
        self.per_capability.get(&capability).copied().unwrap_or(self.default_share)
    }
}

/// Parses per-capability target overrides: a JSON object (`{"FORMED_POLICE_UNIT": 0.2}`)
/// or TOML-style lines (`FORMED_POLICE_UNIT = 0.20`, `#` comments, an optional
/// `[targets]` header). Names may carry the `CAPABILITY_AREA_` prefix. An unknown name, a
/// share outside 0..=1 or a name given twice is an error that names the line.
pub fn parse_target_overrides(text: &str) -> Result<BTreeMap<CapabilityArea, f64>, String> {
    let pairs: Vec<(String, String, f64)> = if text.trim_start().starts_with('{') {
        let map: BTreeMap<String, serde_json::Value> =
            serde_json::from_str(text).map_err(|e| format!("not a JSON object of capability: share pairs: {e}"))?;
        map.into_iter()
            .map(|(k, v)| {
                let share = v.as_f64().ok_or_else(|| format!("{k}: {v} is not a number"))?;
                Ok((k.clone(), k, share))
            })
            .collect::<Result<_, String>>()?
    } else {
        let mut pairs = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() || line == "[targets]" {
                continue;
            }
            let place = format!("line {}", i + 1);
            let (k, v) = line.split_once('=').ok_or_else(|| format!("{place}: expected CAPABILITY = share"))?;
            let k = k.trim().trim_matches('"').to_string();
            let share = v.trim().parse::<f64>().map_err(|_| format!("{place}: {:?} is not a number", v.trim()))?;
            pairs.push((place, k, share));
        }
        pairs
    };
    let mut out = BTreeMap::new();
    for (place, name, share) in pairs {
        let bare = name.strip_prefix("CAPABILITY_AREA_").unwrap_or(&name);
        let capability: CapabilityArea = bare.parse().map_err(|_| {
            let known: Vec<&str> = CapabilityArea::ALL.iter().map(|c| c.as_str()).collect();
            format!("{place}: {name:?} is not a capability area (one of {})", known.join(", "))
        })?;
        if !(0.0..=1.0).contains(&share) {
            return Err(format!("{place}: target share {share} for {bare} must lie between 0 and 1"));
        }
        if out.insert(capability, share).is_some() {
            return Err(format!("{place}: {bare} is given twice"));
        }
    }
    Ok(out)
}

/// One gender row (`requester` empty in `overall`).
#[derive(Clone, PartialEq, Debug, Default)]
pub struct GenderRow {
    pub requester: String,
    pub women_needed: u64,
    pub women_reserved: u64,
    pub women_trained: u64,
    pub seats_total: u64,
    pub women_share: f64,
    pub target_share: f64,
    pub below_target: bool,
}

#[derive(Clone, PartialEq, Debug, Default)]
pub struct GenderReport {
    pub rows: Vec<GenderRow>,
    pub overall: GenderRow,
}

#[derive(Default)]
struct Tally {
    women_needed: u64,
    women_reserved: u64,
    women_trained: u64,
    seats_by_capability: BTreeMap<CapabilityArea, u64>,
}

impl Tally {
    fn row(&self, requester: String, targets: &GenderTargets) -> GenderRow {
        let seats_total: u64 = self.seats_by_capability.values().sum();
        let women_share = if seats_total == 0 { 0.0 } else { self.women_reserved as f64 / seats_total as f64 };
        let target_share = weighted_target(&self.seats_by_capability, seats_total, targets);
        GenderRow {
            requester,
            women_needed: self.women_needed,
            women_reserved: self.women_reserved,
            women_trained: self.women_trained,
            seats_total,
            women_share,
            target_share,
            below_target: seats_total > 0 && women_share < target_share,
        }
    }

    fn merge(&mut self, other: &Tally) {
        self.women_needed += other.women_needed;
        self.women_reserved += other.women_reserved;
        self.women_trained += other.women_trained;
        for (c, s) in &other.seats_by_capability {
            *self.seats_by_capability.entry(*c).or_default() += s;
        }
    }
}

/// The target for a set of seats: the one target when all their capabilities share it
/// (exactly, with no rounding), else the seat-weighted mean; the default without seats.
fn weighted_target(seats: &BTreeMap<CapabilityArea, u64>, total: u64, targets: &GenderTargets) -> f64 {
    let with_seats: Vec<(f64, u64)> =
        seats.iter().filter(|(_, s)| **s > 0).map(|(c, s)| (targets.share(*c), *s)).collect();
    match with_seats.first() {
        None => targets.default_share,
        Some((first, _)) if with_seats.iter().all(|(t, _)| t == first) => *first,
        Some(_) => with_seats.iter().map(|(t, s)| t * *s as f64).sum::<f64>() / total as f64,
    }
}

/// Gender rows over TRAINING, MENTORING and ADVISE_AND_ASSIST needs that are not
/// withdrawn, one per requester (by code) that has such a need, and the overall row.
/// Women reserved, seats and women trained count the live or completed arrangements of
/// those needs.
pub fn gender_report(snapshot: &Snapshot, targets: &GenderTargets) -> GenderReport {
    let mut tallies: BTreeMap<Alpha3, Tally> = BTreeMap::new();
    let mut counted: BTreeSet<Id> = BTreeSet::new();
    for need in snapshot.needs.iter().filter(|n| !n.withdrawn && gender_category(n.spec.category)) {
        counted.insert(need.meta.id);
        tallies.entry(need.spec.requester).or_default().women_needed += u64::from(need.spec.women_quantity);
    }
    for a in snapshot.arrangements.iter().filter(|a| live_or_completed(a.status) && counted.contains(&a.need)) {
        let t = tallies.entry(a.recipient).or_default();
        t.women_reserved += u64::from(a.allocation.women_quantity);
        t.women_trained += a.outcome.as_ref().map_or(0, |o| u64::from(o.women_trained));
        *t.seats_by_capability.entry(a.capability).or_default() += u64::from(a.allocation.quantity);
    }
    let mut overall = Tally::default();
    let rows = tallies
        .iter()
        .map(|(state, t)| {
            overall.merge(t);
            t.row(state.to_string(), targets)
        })
        .collect();
    GenderReport { rows, overall: overall.row(String::new(), targets) }
}

//! Lasting capacity rows (API.md, "Lasting capacity rows"): per requester, how much of
//! the support it received was delivered in its own country, how many trainers it now
//! has, its national training centres, and the capabilities where support came back
//! without building capacity. Pure: computed from one [`Snapshot`].

use super::Snapshot;
use crate::domain::*;
use std::collections::BTreeMap;

/// One requester's lasting capacity.
#[derive(Clone, Debug, PartialEq)]
pub struct CapacityRow {
    pub requester: Alpha3,
    /// Σ delivered seats of its needs.
    pub seats_delivered: u64,
    /// Of those, the seats of COMPLETED arrangements delivered in its own country.
    pub in_country_seats: u64,
    /// in_country_seats / seats_delivered (0 when none were delivered).
    pub in_country_share: f64,
    /// Σ outcome.trainers_qualified of its arrangements.
    pub trainers_qualified: u64,
    /// Centres it hosts, and how many of those are UN-recognized.
    pub national_centres: u32,
    pub un_recognized_centres: u32,
    /// Capabilities (sorted) in which it filed a need after an earlier need of the same
    /// capability had COMPLETED arrangements, while none of its arrangements in that
    /// capability qualified a trainer.
    pub repeat_capabilities: Vec<CapabilityArea>,
}

/// When an arrangement became COMPLETED, if it did.
fn completed_at(a: &Arrangement) -> Option<UnixMicros> {
    if a.status != ArrangementStatus::Completed {
        return None;
    }
    a.history.iter().rev().find(|h| h.to == ArrangementStatus::Completed).map(|h| h.time)
}

/// One row per requester that has filed a need (sorted by requester). Figures count the
/// needs that are not withdrawn and the arrangements of those needs.
pub fn capacity_rows(s: &Snapshot, centres: &[TrainingCentre]) -> Vec<CapacityRow> {
    let needs: BTreeMap<Id, &Need> = s.needs.iter().filter(|n| !n.withdrawn).map(|n| (n.meta.id, n)).collect();
    let offers: BTreeMap<Id, &Offer> = s.offers.iter().map(|o| (o.meta.id, o)).collect();
    let centre_host: BTreeMap<Id, Alpha3> = centres.iter().map(|c| (c.meta.id, c.spec.host_state)).collect();
    let mut rows: BTreeMap<Alpha3, CapacityRow> = BTreeMap::new();
    for n in &s.needs {
        rows.entry(n.spec.requester).or_insert_with(|| CapacityRow {
            requester: n.spec.requester,
            seats_delivered: 0,
            in_country_seats: 0,
            in_country_share: 0.0,
            trainers_qualified: 0,
            national_centres: 0,
            un_recognized_centres: 0,
            repeat_capabilities: Vec::new(),
        });
    }
    for n in needs.values() {
        if let Some(row) = rows.get_mut(&n.spec.requester) {
            row.seats_delivered += u64::from(n.seats.delivered);
        }
    }
    // Per (requester, capability): trainers qualified, and the completion times.
    let mut trainers: BTreeMap<(Alpha3, CapabilityArea), u64> = BTreeMap::new();
    let mut completions: BTreeMap<(Alpha3, CapabilityArea), Vec<(Id, UnixMicros)>> = BTreeMap::new();
    for a in &s.arrangements {
        let Some(need) = needs.get(&a.need) else { continue };
        let requester = need.spec.requester;
        let Some(row) = rows.get_mut(&requester) else { continue };
        let qualified = a.outcome.as_ref().map_or(0, |o| u64::from(o.trainers_qualified));
        row.trainers_qualified += qualified;
        *trainers.entry((requester, a.capability)).or_default() += qualified;
        let Some(done) = completed_at(a) else { continue };
        completions.entry((requester, a.capability)).or_default().push((a.need, done));
        let mode = offers.get(&a.allocation.offer).and_then(|o| o.spec.terms.delivery()).map(|d| d.mode);
        let at_home = match mode {
            Some(DeliveryMode::MobileTrainingTeam) => true,
            Some(DeliveryMode::AtTrainingCentre) => {
                a.allocation.training_centre.and_then(|c| centre_host.get(&c)).is_some_and(|h| *h == requester)
            }
            _ => false,
        };
        if at_home {
            row.in_country_seats += u64::from(a.allocation.quantity);
        }
    }
    for c in centres {
        if let Some(row) = rows.get_mut(&c.spec.host_state) {
            row.national_centres += 1;
            row.un_recognized_centres += u32::from(c.spec.un_recognized);
        }
    }
    for ((requester, capability), done) in &completions {
        if trainers.get(&(*requester, *capability)).copied().unwrap_or(0) > 0 {
            continue;
        }
        // A later need of the same capability, filed after an earlier need's arrangement
        // had completed.
        let repeated = needs.values().any(|later| {
            later.spec.requester == *requester
                && later.spec.capability == *capability
                && done.iter().any(|(earlier, at)| *earlier != later.meta.id && *at <= later.meta.create_time)
        });
        if repeated {
            if let Some(row) = rows.get_mut(requester) {
                row.repeat_capabilities.push(*capability);
            }
        }
    }
    let mut out: Vec<CapacityRow> = rows.into_values().collect();
    for row in &mut out {
        row.repeat_capabilities.sort();
        row.repeat_capabilities.dedup();
        row.in_country_share =
            if row.seats_delivered == 0 { 0.0 } else { row.in_country_seats as f64 / row.seats_delivered as f64 };
    }
    out
}

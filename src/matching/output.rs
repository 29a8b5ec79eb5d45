//! The engine's answer: one proposed match per need that gets seats, with allocations,
//! parties, the triangular flag, a score and plain-sentence reasons, plus the summary of
//! API.md. Built from the solvers' seat grants only; deterministic (sorted by id).

use super::funding_rules::funded_bounds;
use super::input::MatchInput;
use super::input::{NeedInput, OfferInput};
use super::prepare::Considered;
use super::prepare::Prepared;
use super::rules::delivery_bounds;
use super::solution::{SeatGrant, objective_of};
use super::text::{join_languages, show_day};
use crate::domain::{Alpha3, Day, Priority};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// Seats of one DELIVERY offer for one need, paid by at most one FUNDING offer, named by
/// the engine's ids.
pub type Allocation = crate::domain::Allocation<String>;

/// One proposal for one need, named by the engine's ids.
pub type ProposedMatch = crate::domain::MatchTerms<String>;

/// ProposeMatches' summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub needs_considered: u64,
    pub offers_considered: u64,
    pub seats_demanded: u64,
    pub seats_matched: u64,
    pub women_seats_matched: u64,
    pub critical_seats_unmatched: u64,
    /// The six goal totals of API.md, in order.
    pub objective: [i64; 6],
    pub solve_micros: u64,
}

/// Everything ProposeMatches returns.
#[derive(Clone, Debug, PartialEq)]
pub struct Proposal {
    /// Sorted by need id.
    pub matches: Vec<ProposedMatch>,
    pub summary: Summary,
}

/// Builds the proposal from the grants of all components.
pub fn assemble(p: &Prepared, mut grants: Vec<SeatGrant>, solve_micros: u64) -> Proposal {
    grants.sort();
    let need_by_id: HashMap<&str, &NeedInput> = p.needs.iter().map(|n| (n.id.as_str(), *n)).collect();
    let offer_by_id: HashMap<&str, &OfferInput> =
        p.offers.iter().chain(p.funders.iter()).map(|o| (o.id.as_str(), *o)).collect();
    let mut by_need: BTreeMap<&str, Vec<&SeatGrant>> = BTreeMap::new();
    for g in &grants {
        if g.seats > 0 {
            by_need.entry(g.need_id.as_str()).or_default().push(g);
        }
    }
    let mut matches = Vec::new();
    for (need_id, list) in by_need {
        let Some(need) = need_by_id.get(need_id) else { continue };
        if let Some(m) = build_match(p.ctx.today, need, &list, &offer_by_id) {
            matches.push(m);
        }
    }
    let summary = summarize(p, &grants, &matches, solve_micros);
    Proposal { matches, summary }
}

/// The match of `need` from its grants (sorted), on day `today`; `offers` holds every offer
/// and funder a grant names.
pub(crate) fn build_match(
    today: Day,
    need: &NeedInput,
    grants: &[&SeatGrant],
    offers: &HashMap<&str, &OfferInput>,
) -> Option<ProposedMatch> {
    let quantity: u32 = grants.iter().map(|g| g.seats).sum();
    let mut women_left = need.open_women_seats().min(quantity);
    let mut allocations = Vec::new();
    let mut reasons = Vec::new();
    // Women-only seats are women seats first; the rest of the women seats go to the other
    // allocations in order.
    let mut women: Vec<u32> = grants
        .iter()
        .map(|g| {
            let only = offers.get(g.offer_id.as_str()).is_some_and(|o| o.women_only());
            let w = if only { g.seats.min(women_left) } else { 0 };
            women_left -= w;
            w
        })
        .collect();
    for (g, w) in grants.iter().zip(women.iter_mut()) {
        if *w == 0 {
            let extra = g.seats.min(women_left);
            *w = extra;
            women_left -= extra;
        }
    }
    for (g, &w) in grants.iter().zip(&women) {
        let offer = offers.get(g.offer_id.as_str())?;
        let funder = g.funder_id.as_deref().and_then(|f| offers.get(f).copied());
        let mut parties: BTreeSet<Alpha3> = BTreeSet::new();
        parties.insert(need.requester);
        parties.extend(offer.providers.iter().copied());
        if let Some(f) = funder {
            parties.extend(f.providers.iter().copied());
        }
        if let Some(host) = offer.host_state() {
            parties.insert(host);
        }
        let parties: Vec<Alpha3> = parties.into_iter().collect();
        reasons.push(reason(today, need, offer, funder, g.seats, w));
        allocations.push(Allocation {
            offer: g.offer_id.clone(),
            funding_offer: g.funder_id.clone(),
            quantity: g.seats,
            women_quantity: w,
            training_centre: offer.delivery_terms().and_then(|d| d.training_centre.as_ref()).map(|c| c.id.clone()),
            parties,
        });
    }
    let open = need.open_seats();
    if quantity < open {
        reasons.push(format!(
            "{quantity} of the need's {open} open seats are matched: the compatible offers have no more seats for it within their capacity, caps and funding once needs that rank first are served"
        ));
    }
    let parties: BTreeSet<Alpha3> = allocations.iter().flat_map(|a| a.parties.iter().copied()).collect();
    Some(ProposedMatch {
        need: need.id.clone(),
        recipient: need.requester,
        capability: need.capability,
        quantity,
        women_quantity: women.iter().sum(),
        triangular: allocations.iter().any(Allocation::triangular),
        allocations,
        parties: parties.into_iter().collect(),
        score: if open == 0 { 0.0 } else { f64::from(quantity) / f64::from(open) },
        reasons,
    })
}

/// "Title (JPN) at Centre (KEN): 8 seats, 2 for women; en; can end 21 days before the
/// need's deadline (2027-03-01); funded by jpn-fund (JPN)."
fn reason(
    today: Day,
    need: &NeedInput,
    offer: &OfferInput,
    funder: Option<&OfferInput>,
    seats: u32,
    women: u32,
) -> String {
    let name: &str = if offer.title.is_empty() { &offer.id } else { &offer.title };
    let providers: Vec<&str> = offer.providers.iter().map(Alpha3::as_str).collect();
    let mut s = format!("{name} ({})", providers.join(", "));
    if let Some(centre) = offer.delivery_terms().and_then(|d| d.training_centre.as_ref()) {
        let label = if centre.name.is_empty() { centre.id.as_str() } else { centre.name.as_str() };
        s.push_str(&format!(" at {label} ({})", centre.host_state));
    }
    s.push_str(&format!(": {seats} seat{}", if seats == 1 { "" } else { "s" }));
    if women > 0 {
        s.push_str(&format!(", {women} for women"));
    }
    if let Some(terms) = offer.delivery_terms() {
        let shared: Vec<_> = terms.languages.iter().copied().filter(|l| need.languages.contains(l)).collect();
        s.push_str(&format!("; in {}, {}", join_languages(&shared), terms.mode));
    }
    let (earliest, _, _) = match funder {
        Some(f) => funded_bounds(today, need, offer, f),
        None => delivery_bounds(today, need, offer),
    };
    let end = earliest.saturating_add(offer.duration_days());
    s.push_str(&format!(
        "; can start {} and end {} days before the need's deadline ({})",
        show_day(earliest),
        need.needed_by.saturating_sub(end),
        show_day(need.needed_by)
    ));
    if let Some(f) = funder {
        let providers: Vec<&str> = f.providers.iter().map(Alpha3::as_str).collect();
        s.push_str(&format!("; funded by {} ({})", f.id, providers.join(", ")));
    }
    s
}

fn summarize(p: &Prepared, grants: &[SeatGrant], matches: &[ProposedMatch], solve_micros: u64) -> Summary {
    let matched: HashMap<&str, u64> = matches.iter().map(|m| (m.need.as_str(), u64::from(m.quantity))).collect();
    let critical_unmatched = p
        .needs
        .iter()
        .filter(|n| n.priority == Priority::Critical)
        .map(|n| u64::from(n.open_seats()).saturating_sub(matched.get(n.id.as_str()).copied().unwrap_or(0)))
        .sum();
    Summary {
        needs_considered: p.needs.len() as u64,
        offers_considered: (p.offers.len() + p.funders.len()) as u64,
        seats_demanded: p.needs.iter().map(|n| u64::from(n.open_seats())).sum(),
        seats_matched: matched.values().sum(),
        women_seats_matched: matches.iter().map(|m| u64::from(m.women_quantity)).sum(),
        critical_seats_unmatched: critical_unmatched,
        objective: objective_of(grants, &p.needs, &p.offers),
        solve_micros,
    }
}

/// The summary of `matches` (one per need, as [`assemble`] builds them) for `input`,
/// whose optimum has the goal totals `objective`: what [`summarize`] answers, without
/// preparing the problem again.
pub(crate) fn summarize_matches(input: &MatchInput, matches: &[Arc<ProposedMatch>], objective: [i64; 6]) -> Summary {
    let filter = Considered(input);
    let matched: HashMap<&str, u64> = matches.iter().map(|m| (m.need.as_str(), u64::from(m.quantity))).collect();
    let mut seen = HashSet::new();
    let (mut needs, mut demanded, mut critical_unmatched) = (0u64, 0u64, 0u64);
    for n in input.needs.iter().filter(|n| seen.insert(n.id.as_str())) {
        if filter.need(n) {
            needs += 1;
            demanded += u64::from(n.open_seats());
            if n.priority == Priority::Critical {
                let got = matched.get(n.id.as_str()).copied().unwrap_or(0);
                critical_unmatched += u64::from(n.open_seats()).saturating_sub(got);
            }
        }
    }
    seen.clear();
    let offers = input
        .offers
        .iter()
        .filter(|o| seen.insert(o.id.as_str()))
        .filter(|o| filter.delivery(o) || filter.funder(o))
        .count() as u64;
    Summary {
        needs_considered: needs,
        offers_considered: offers,
        seats_demanded: demanded,
        seats_matched: matched.values().sum(),
        women_seats_matched: matches.iter().map(|m| u64::from(m.women_quantity)).sum(),
        critical_seats_unmatched: critical_unmatched,
        objective,
        solve_micros: 0,
    }
}

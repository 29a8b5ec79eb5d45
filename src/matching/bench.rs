//! `lcm bench-match`: a deterministic synthetic scenario (issue 4) and the driver that
//! builds, solves, optionally re-solves warm after single changes (each checked against a
//! cold solve), and prints one JSON line.
//!
//! The generator: needs and DELIVERY offers fall into clusters of one (category,
//! capability, language) — 3 categories with women seats × 15 capabilities × as many
//! languages as needed — sized so that a need has about 10 compatible offers on average;
//! 15% of a need's seats are women seats; a third of the offers carry an eligibility list
//! of 5–20 states; modes and windows block about a fifth of the pairs within a cluster; a
//! share F of the DELIVERY offers require funding, with one FUNDING offer per five of them.
//!
//! The only I/O of the matching module lives here: `peak_rss_bytes` reads VmHWM from
//! /proc/self/status (0 where that file does not exist).

use super::engine::{Change, Engine};
use super::input::{CentreRef, DeliveryTerms, Few, MatchInput, NeedInput, OfferInput};
use super::prepare::Prepared;
use super::{build, propose};
use crate::domain::{Alpha3, CapabilityArea, DeliveryMode, Language, OfferRole, Priority, SupportCategory};
use std::time::Instant;

/// Arguments of `lcm bench-match`.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchArgs {
    pub needs: usize,
    pub offers: usize,
    pub seed: u64,
    /// Share of DELIVERY offers that require funding (0..=1).
    pub funded_share: f64,
    /// Single changes to re-solve warm after the cold solve (0 = none).
    pub changes: usize,
}

/// SplitMix64: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

const CATEGORIES: [SupportCategory; 3] =
    [SupportCategory::Training, SupportCategory::Mentoring, SupportCategory::AdviseAndAssist];
const MODES: [DeliveryMode; 4] =
    [DeliveryMode::MobileTrainingTeam, DeliveryMode::AtProvider, DeliveryMode::AtTrainingCentre, DeliveryMode::Remote];
const TODAY: i64 = 20_000;
/// DELIVERY offers per cluster; calibrated so a need has about 10 compatible offers.
const OFFERS_PER_CLUSTER: usize = 16;

struct World {
    states: Vec<Alpha3>,
    /// Every two-letter code, `aa` to `zz`.
    languages: Vec<Language>,
    clusters: usize,
}

impl World {
    fn new(clusters: usize) -> World {
        let languages = (0..26 * 26)
            .filter_map(|i| {
                let code = [b'a' + (i / 26) as u8, b'a' + (i % 26) as u8];
                std::str::from_utf8(&code).ok().and_then(|s| s.parse().ok())
            })
            .collect();
        World { states: Alpha3::all().collect(), languages, clusters: clusters.max(1) }
    }
}

impl World {
    fn kind(&self, cluster: usize) -> (SupportCategory, CapabilityArea, Language) {
        let kinds = CATEGORIES.len() * CapabilityArea::ALL.len();
        let k = cluster % kinds;
        (CATEGORIES[k % 3], CapabilityArea::ALL[k / 3], self.languages[(cluster / kinds) % self.languages.len()])
    }
    /// Requesters come from 40 T/PCCs; providers from every member state.
    fn requester(&self, rng: &mut Rng) -> Alpha3 {
        self.states[(rng.range(0, 39) as usize * 4) % self.states.len()]
    }
}

fn generate_need(w: &World, rng: &mut Rng, index: usize) -> NeedInput {
    let cluster = rng.range(0, w.clusters as u64 - 1) as usize;
    let (category, capability, lang) = w.kind(cluster);
    let quantity = rng.range(1, 40) as u32;
    let women_quantity = (quantity * 15 + rng.range(0, 99) as u32) / 100;
    let priority = match rng.range(0, 9) {
        0 => Priority::Critical,
        1..=4 => Priority::High,
        _ => Priority::Routine,
    };
    let accepted_modes = if rng.chance(0.25) {
        let a = rng.range(0, 3) as usize;
        vec![MODES[a], MODES[(a + 1) % 4]]
    } else {
        Vec::new()
    };
    NeedInput {
        id: format!("n{index:07}"),
        requester: w.requester(rng),
        category,
        capability,
        quantity,
        women_quantity,
        consumed: 0,
        consumed_women: 0,
        languages: vec![lang],
        needed_by: TODAY + rng.range(90, 420) as i64,
        priority,
        accepted_modes,
        withdrawn: false,
    }
}

/// The synthetic scenario of `args` (deterministic in `args.seed`).
pub fn generate(args: &BenchArgs) -> MatchInput {
    let mut rng = Rng(args.seed ^ 0x6C63_6D00);
    let w = World::new(args.offers / OFFERS_PER_CLUSTER);
    let needs: Vec<NeedInput> = (0..args.needs).map(|i| generate_need(&w, &mut rng, i)).collect();
    let mean_capacity = (20 * args.needs.max(1) / args.offers.max(1)).max(2) as u64;
    let mut offers = Vec::with_capacity(args.offers + args.offers / 5);
    let mut funded_kinds = Vec::new();
    for i in 0..args.offers {
        let cluster = rng.range(0, w.clusters as u64 - 1) as usize;
        let (category, capability, lang) = w.kind(cluster);
        let kind = (category, capability);
        let mode = MODES[rng.range(0, 3) as usize];
        let from = TODAY + rng.range(0, 90) as i64;
        let requires_funding = rng.chance(args.funded_share);
        if requires_funding {
            funded_kinds.push(kind);
        }
        let capacity = (mean_capacity / 2, mean_capacity * 3 / 2);
        let mut offer =
            draw_offer(&w, &mut rng, format!("d{i:07}"), OfferRole::Delivery, kind, capacity, (from, (60, 400)));
        offer.delivery = Some(DeliveryTerms {
            languages: Few::from_elem(lang, 1),
            mode,
            training_centre: (mode == DeliveryMode::AtTrainingCentre).then(|| {
                std::sync::Arc::new(CentreRef {
                    id: format!("tc{}", cluster % 50),
                    name: String::new(),
                    host_state: w.states[(cluster * 7) % w.states.len()],
                })
            }),
            duration_days: rng.range(5, 60) as i64,
            women_only: rng.chance(0.05),
            requires_funding,
        });
        offers.push(offer);
    }
    for j in 0..funded_kinds.len() / 5 {
        let kind = funded_kinds[rng.range(0, funded_kinds.len() as u64 - 1) as usize];
        let capacity = (mean_capacity, mean_capacity * 4);
        offers.push(draw_offer(
            &w,
            &mut rng,
            format!("f{j:07}"),
            OfferRole::Funding,
            kind,
            capacity,
            (TODAY, (150, 500)),
        ));
    }
    MatchInput { today: TODAY, needs, offers, ..MatchInput::default() }
}

/// An offer of `role` and `kind` without delivery terms, with the draws every offer makes,
/// in this order (the seeded instances depend on it): its provider, a capacity in
/// `capacity`, how long it stays available after day `from` (`(from, days)`, days in the
/// range), its eligible recipients and its per-recipient cap.
fn draw_offer(
    w: &World,
    rng: &mut Rng,
    id: String,
    role: OfferRole,
    (category, capability): (SupportCategory, CapabilityArea),
    capacity: (u64, u64),
    (from, days): (i64, (u64, u64)),
) -> OfferInput {
    OfferInput {
        id,
        title: "".into(),
        providers: Few::from_elem(w.states[rng.range(0, w.states.len() as u64 - 1) as usize], 1),
        role,
        category,
        capability,
        capacity: rng.range(capacity.0, capacity.1).max(1) as u32,
        consumed: 0,
        available_from: from,
        available_until: from + rng.range(days.0, days.1) as i64,
        eligible_recipients: eligibility(w, rng).into(),
        excluded_recipients: Few::new(),
        max_per_recipient: if rng.chance(0.2) { rng.range(5, 20) as u32 } else { 0 },
        delivery: None,
        withdrawn: false,
    }
}

/// A third of the offers name 5–20 eligible T/PCCs.
fn eligibility(w: &World, rng: &mut Rng) -> Vec<Alpha3> {
    if !rng.chance(1.0 / 3.0) {
        return Vec::new();
    }
    let count = rng.range(5, 20);
    let mut list: Vec<Alpha3> = (0..count).map(|_| w.requester(rng)).collect();
    list.sort();
    list.dedup();
    list
}

/// The `i`-th single change of the warm benchmark, in rotation: a new need, a withdrawn
/// offer, a capacity change, a priority change.
fn change(input: &MatchInput, rng: &mut Rng, i: usize, args: &BenchArgs) -> Change {
    let offers: Vec<&OfferInput> =
        input.offers.iter().filter(|o| o.role == OfferRole::Delivery && !o.withdrawn).collect();
    let pick_offer = |rng: &mut Rng| offers[rng.range(0, offers.len() as u64 - 1) as usize].id.clone();
    match i % 4 {
        0 => {
            let w = World::new(args.offers / OFFERS_PER_CLUSTER);
            Change::AddNeed(generate_need(&w, rng, args.needs + i))
        }
        1 if !offers.is_empty() => Change::WithdrawOffer(pick_offer(rng)),
        2 if !offers.is_empty() => {
            let id = pick_offer(rng);
            let old = offers.iter().find(|o| o.id == id).map_or(1, |o| o.capacity);
            Change::SetCapacity { offer_id: id, capacity: (old / 2).max(1) + rng.range(0, u64::from(old)) as u32 }
        }
        _ => match input.needs.get(rng.range(0, input.needs.len().max(1) as u64 - 1) as usize) {
            Some(n) => {
                let priority = match n.priority {
                    Priority::Critical => Priority::Routine,
                    Priority::High => Priority::Critical,
                    Priority::Routine => Priority::High,
                };
                Change::SetPriority { need_id: n.id.clone(), priority }
            }
            None => {
                let w = World::new(args.offers / OFFERS_PER_CLUSTER);
                Change::AddNeed(generate_need(&w, rng, args.needs + i))
            }
        },
    }
}

fn micros(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// Peak resident set (VmHWM) of this process in bytes; 0 when unknown.
fn peak_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// Runs the benchmark; `Err` when a solver fails or a warm re-solve disagrees with the
/// cold solve of the same changed scenario.
pub fn run_bench(args: &BenchArgs) -> Result<String, String> {
    let input = generate(args);
    let funding_offers = input.offers.iter().filter(|o| o.role == OfferRole::Funding).count();
    let started = Instant::now();
    let prepared = Prepared::new(&input);
    let built = build(&prepared);
    let arcs = built.arcs();
    let build_micros = micros(started);
    let started = Instant::now();
    let solved = built.solve(&prepared).map_err(|e| e.to_string())?;
    let solve_micros = micros(started);
    let proposal = super::output::assemble(&prepared, solved.grants(), solve_micros);
    let mut line = format!(
        "{{\"needs\": {}, \"offers\": {}, \"funding_offers\": {funding_offers}, \"arcs\": {arcs}, \"build_micros\": {build_micros}, \"solve_micros\": {solve_micros}, \"seats_matched\": {}, \"objective\": {:?}",
        args.needs, args.offers, proposal.summary.seats_matched, proposal.summary.objective
    );
    drop(solved);
    drop(prepared);
    if args.changes > 0 {
        let mut engine = Engine::new(input).map_err(|e| e.to_string())?;
        let mut rng = Rng(args.seed ^ 0xC4A9_6E5E);
        let mut warm = Vec::new();
        let mut cold_steps = 0;
        for i in 0..args.changes {
            let c = change(engine.input(), &mut rng, i, args);
            let t = Instant::now();
            let objective = engine.apply(c.clone()).map_err(|e| e.to_string())?;
            warm.push(micros(t));
            cold_steps += usize::from(!engine.last_was_warm);
            let cold = propose(engine.input()).map_err(|e| e.to_string())?;
            if cold.summary.objective != objective {
                return Err(format!(
                    "warm re-solve {i} ({c:?}) gave {objective:?}, a cold solve gives {:?}",
                    cold.summary.objective
                ));
            }
        }
        warm.sort_unstable();
        let median = warm[warm.len() / 2];
        let max = warm.last().copied().unwrap_or(0);
        line.push_str(&format!(
            ", \"warm_median_micros\": {median}, \"warm_max_micros\": {max}, \"warm_checked_equal_to_cold\": {}, \"cold_fallbacks\": {cold_steps}",
            args.changes
        ));
    }
    line.push_str(&format!(", \"peak_rss_bytes\": {}}}", peak_rss_bytes()));
    Ok(line)
}

//! Small random instances and a brute-force optimum: every integer allocation of the
//! pairs and triples the rules allow is enumerated (depth-first, pruned by capacities),
//! and the lexicographically best of API.md's six goals is kept.

use crate::domain::{Alpha3, CapabilityArea, DeliveryMode, Language, OfferRole, Priority, SupportCategory};
use crate::matching::funding_rules::funder_allowed;
use crate::matching::input::{
    BarredPair, CentreRef, DeliveryTerms, Few, MatchInput, NeedInput, OfferInput, RecipientConsumption,
};
use crate::matching::rules::{RuleContext, delivery_allowed};
use std::collections::HashMap;

/// SplitMix64, so an instance is a pure function of its seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn states() -> Vec<Alpha3> {
    Alpha3::all().take(4).collect()
}

fn languages(rng: &mut Rng) -> Vec<Language> {
    let all: Vec<Language> = ["en", "fr"].iter().filter_map(|l| l.parse().ok()).collect();
    match rng.below(8) {
        0 => vec![all[1]],
        1 => all,
        _ => vec![all[0]],
    }
}

const MODES: [DeliveryMode; 4] =
    [DeliveryMode::MobileTrainingTeam, DeliveryMode::AtProvider, DeliveryMode::AtTrainingCentre, DeliveryMode::Remote];

/// A random instance with up to 3 needs, 3 DELIVERY offers and (when `funding`) 2
/// FUNDING offers, all small enough to enumerate.
pub fn instance(seed: u64, funding: bool) -> MatchInput {
    let mut rng = Rng(seed);
    let st = states();
    let today = 100;
    let pick = |rng: &mut Rng| st[rng.below(st.len() as u64) as usize];
    let kind = |rng: &mut Rng| {
        if rng.chance(10) { CapabilityArea::Medical } else { CapabilityArea::Engineering }
    };
    let list = |rng: &mut Rng, percent: u64| -> Vec<Alpha3> {
        if rng.chance(percent) { vec![st[rng.below(4) as usize], st[rng.below(4) as usize]] } else { Vec::new() }
    };
    let needs = (0..1 + rng.below(3))
        .map(|i| {
            let quantity = 1 + rng.below(3) as u32;
            NeedInput {
                id: format!("n{i}"),
                requester: pick(&mut rng),
                category: SupportCategory::Training,
                capability: kind(&mut rng),
                quantity,
                women_quantity: rng.below(u64::from(quantity) + 1) as u32,
                consumed: u32::from(rng.chance(10)),
                consumed_women: 0,
                languages: languages(&mut rng),
                needed_by: today + 10 + rng.below(40) as i64,
                priority: [Priority::Routine, Priority::High, Priority::Critical][rng.below(3) as usize],
                accepted_modes: if rng.chance(15) { vec![MODES[rng.below(4) as usize]] } else { Vec::new() },
                withdrawn: rng.chance(3),
            }
        })
        .collect::<Vec<_>>();
    let mut offers = Vec::new();
    for i in 0..1 + rng.below(3) {
        let from = today + rng.below(10) as i64 - 3;
        let mode = MODES[rng.below(4) as usize];
        offers.push(OfferInput {
            id: format!("d{i}"),
            title: "".into(),
            providers: Few::from_elem(pick(&mut rng), 1),
            role: OfferRole::Delivery,
            category: SupportCategory::Training,
            capability: kind(&mut rng),
            capacity: if rng.chance(10) { 0 } else { 1 + rng.below(3) as u32 },
            consumed: u32::from(rng.chance(10)),
            available_from: from,
            available_until: from + 15 + rng.below(40) as i64,
            eligible_recipients: list(&mut rng, 20).into(),
            excluded_recipients: list(&mut rng, 5).into(),
            max_per_recipient: if rng.chance(30) { 1 + rng.below(2) as u32 } else { 0 },
            delivery: Some(DeliveryTerms {
                languages: languages(&mut rng).into(),
                mode,
                training_centre: (mode == DeliveryMode::AtTrainingCentre)
                    .then(|| std::sync::Arc::new(CentreRef { id: "c".into(), name: String::new(), host_state: st[3] })),
                duration_days: 1 + rng.below(10) as i64,
                women_only: rng.chance(15),
                requires_funding: funding && rng.chance(50),
            }),
            withdrawn: rng.chance(5),
        });
    }
    if funding {
        for i in 0..1 + rng.below(2) {
            let from = today + rng.below(10) as i64 - 3;
            offers.push(OfferInput {
                id: format!("f{i}"),
                title: "".into(),
                providers: Few::from_elem(pick(&mut rng), 1),
                role: OfferRole::Funding,
                category: SupportCategory::Training,
                capability: CapabilityArea::Engineering,
                capacity: 1 + rng.below(3) as u32,
                consumed: 0,
                available_from: from,
                available_until: from + 20 + rng.below(40) as i64,
                eligible_recipients: list(&mut rng, 25).into(),
                excluded_recipients: list(&mut rng, 10).into(),
                max_per_recipient: if rng.chance(30) { 1 + rng.below(2) as u32 } else { 0 },
                delivery: None,
                withdrawn: rng.chance(5),
            });
        }
    }
    let mut input = MatchInput { today, needs, offers, ..MatchInput::default() };
    if rng.chance(20) {
        let o = &input.offers[rng.below(input.offers.len() as u64) as usize];
        input.recipient_consumption.push(RecipientConsumption {
            offer_id: o.id.clone(),
            recipient: pick(&mut rng),
            seats: 1,
        });
    }
    if rng.chance(20) {
        let n = input.needs[rng.below(input.needs.len() as u64) as usize].id.clone();
        let o = input.offers[rng.below(input.offers.len() as u64) as usize].id.clone();
        input.barred.push(BarredPair { need_id: n, offer_id: o });
    }
    input
}

/// One seat variable: need, delivery offer, funder.
#[derive(Clone, Copy, Debug)]
struct Var {
    need: usize,
    offer: usize,
    funder: Option<usize>,
}

struct Search<'a> {
    input: &'a MatchInput,
    vars: Vec<Var>,
    /// Remaining room per key: ("n", need) total, ("w", need) women-only, ("o", offer),
    /// ("r", offer, recipient)...
    room: HashMap<(char, usize, Option<Alpha3>), i64>,
    seats: Vec<i64>,
    best: Option<[i64; 6]>,
}

impl Search<'_> {
    fn keys(&self, v: Var) -> Vec<(char, usize, Option<Alpha3>)> {
        let need = &self.input.needs[v.need];
        let r = need.requester;
        let mut k = vec![('n', v.need, None), ('o', v.offer, None), ('o', v.offer, Some(r))];
        if self.input.offers[v.offer].women_only() {
            k.push(('w', v.need, None));
        }
        if let Some(f) = v.funder {
            k.push(('o', f, None));
            k.push(('o', f, Some(r)));
        }
        k
    }

    fn objective(&self) -> [i64; 6] {
        let mut g = [0i64; 6];
        let mut per_need = vec![0i64; self.input.needs.len()];
        for (v, &x) in self.vars.iter().zip(&self.seats) {
            let need = &self.input.needs[v.need];
            let slot = match need.priority {
                Priority::Critical => 0,
                Priority::High => 1,
                Priority::Routine => 2,
            };
            g[slot] += x;
            g[4] += x * need.needed_by;
            g[5] += x * self.input.offers[v.offer].available_until;
            per_need[v.need] += x;
        }
        for (n, s) in self.input.needs.iter().zip(per_need) {
            g[3] += s.min(i64::from(n.open_women_seats()));
        }
        g
    }

    fn dfs(&mut self, i: usize) {
        if i == self.vars.len() {
            let g = self.objective();
            let key = |g: [i64; 6]| (g[0], g[1], g[2], g[3], -g[4], -g[5]);
            if self.best.is_none_or(|b| key(g) > key(b)) {
                self.best = Some(g);
            }
            return;
        }
        let keys = self.keys(self.vars[i]);
        let most = keys.iter().map(|k| self.room[k]).min().unwrap_or(0).max(0);
        for x in 0..=most {
            for k in &keys {
                if let Some(r) = self.room.get_mut(k) {
                    *r -= x;
                }
            }
            self.seats[i] = x;
            self.dfs(i + 1);
            for k in &keys {
                if let Some(r) = self.room.get_mut(k) {
                    *r += x;
                }
            }
        }
        self.seats[i] = 0;
    }
}

/// The brute-force optimum of the six goals (all zero when nothing can be matched).
pub fn brute_force_objective(input: &MatchInput) -> [i64; 6] {
    let ctx = RuleContext::new(input);
    let mut vars = Vec::new();
    let mut room = HashMap::new();
    for (ni, need) in input.needs.iter().enumerate() {
        room.insert(('n', ni, None), i64::from(if need.withdrawn { 0 } else { need.open_seats() }));
        room.insert(('w', ni, None), i64::from(need.open_women_seats()));
        for (oi, offer) in input.offers.iter().enumerate() {
            if offer.role != OfferRole::Delivery || !delivery_allowed(&ctx, need, offer) {
                continue;
            }
            if !offer.requires_funding() {
                vars.push(Var { need: ni, offer: oi, funder: None });
                continue;
            }
            for (fi, funder) in input.offers.iter().enumerate() {
                if funder_allowed(&ctx, need, offer, funder) {
                    vars.push(Var { need: ni, offer: oi, funder: Some(fi) });
                }
            }
        }
    }
    for (oi, offer) in input.offers.iter().enumerate() {
        room.insert(('o', oi, None), i64::from(offer.open_seats()));
        for need in &input.needs {
            room.insert(('o', oi, Some(need.requester)), i64::from(ctx.remaining_for(offer, need.requester)));
        }
    }
    let seats = vec![0; vars.len()];
    let mut search = Search { input, vars, room, seats, best: None };
    search.dfs(0);
    search.best.unwrap_or([0; 6])
}

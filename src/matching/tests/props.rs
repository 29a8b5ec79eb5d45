//! Property tests: on small random instances, with and without funding, the engine's
//! optimum equals the brute-force optimum of all six goals, every allocation obeys every
//! rule, and the output is deterministic; warm re-solves equal cold solves.

use super::brute::{Rng, brute_force_objective, instance};
use crate::domain::Alpha3;
use crate::matching::funding_rules::funder_allowed;
use crate::matching::rules::{RuleContext, delivery_allowed};
use crate::matching::{Change, Engine, MatchInput, Proposal, propose};
use proptest::prelude::*;
use std::collections::HashMap;

fn solve(input: &MatchInput) -> Proposal {
    propose(input).unwrap_or_else(|e| panic!("engine failed: {e}"))
}

/// Every allocation uses an allowed pair or triple and no limit is exceeded.
fn obeys_rules(input: &MatchInput, p: &Proposal) {
    let ctx = RuleContext::new(input);
    let offer = |id: &str| input.offers.iter().find(|o| o.id == id).unwrap_or_else(|| panic!("offer {id}"));
    let mut used: HashMap<(String, Option<Alpha3>), u32> = HashMap::new();
    for m in &p.matches {
        let need = input.needs.iter().find(|n| n.id == m.need).unwrap_or_else(|| panic!("need"));
        let mut women_only = 0;
        for a in &m.allocations {
            let d = offer(&a.offer);
            assert!(delivery_allowed(&ctx, need, d), "{} {}", m.need, a.offer);
            assert_eq!(d.requires_funding(), a.funding_offer.is_some());
            if let Some(f) = &a.funding_offer {
                assert!(funder_allowed(&ctx, need, d, offer(f)));
                *used.entry((f.clone(), None)).or_default() += a.quantity;
                *used.entry((f.clone(), Some(need.requester))).or_default() += a.quantity;
            }
            *used.entry((a.offer.clone(), None)).or_default() += a.quantity;
            *used.entry((a.offer.clone(), Some(need.requester))).or_default() += a.quantity;
            if d.women_only() {
                women_only += a.quantity;
                assert_eq!(a.women_quantity, a.quantity);
            }
            assert!(a.women_quantity <= a.quantity);
        }
        assert!(m.quantity <= need.open_seats());
        assert!(women_only <= need.open_women_seats());
        assert_eq!(m.women_quantity, need.open_women_seats().min(m.quantity));
    }
    for ((id, recipient), seats) in used {
        let o = offer(&id);
        let limit = match recipient {
            None => o.open_seats(),
            Some(r) => ctx.remaining_for(o, r),
        };
        assert!(seats <= limit, "{id} {recipient:?}: {seats} > {limit}");
    }
}

fn check(seed: u64, funding: bool) {
    let input = instance(seed, funding);
    let p = solve(&input);
    assert_eq!(p.summary.objective, brute_force_objective(&input), "seed {seed} funding {funding}");
    obeys_rules(&input, &p);
    let mut shuffled = input.clone();
    let mut rng = Rng(seed);
    let turn = rng.below(3) as usize % shuffled.needs.len().max(1);
    shuffled.needs.rotate_left(turn);
    shuffled.offers.reverse();
    let mut q = solve(&shuffled);
    q.summary.solve_micros = p.summary.solve_micros;
    assert_eq!(p, q, "not deterministic");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn optimal_and_lawful_without_funding(seed in any::<u64>()) {
        check(seed, false);
    }

    #[test]
    fn optimal_and_lawful_with_funding(seed in any::<u64>()) {
        check(seed, true);
    }

    #[test]
    fn batches_of_view_changes_equal_cold_solves_and_reuse_unchanged_matches(seed in any::<u64>()) {
        let input = instance(seed, seed % 2 == 0);
        let mut engine = Engine::new(input).unwrap_or_else(|e| panic!("{e}"));
        let mut rng = Rng(seed ^ 11);
        let _ = engine.proposal_shared();
        for step in 0..4 {
            // Now and then a batch long enough to rebuild at once.
            let len = if step == 3 && seed % 3 == 0 { 70 } else { 1 + rng.below(3) };
            let batch: Vec<Change> =
                (0..len).map(|i| view_change(engine.input(), &mut rng, seed, step * 100 + i)).collect();
            let got = engine.apply_all(batch).unwrap_or_else(|e| panic!("{e}"));
            prop_assert_eq!(got, solve(engine.input()).summary.objective);
            prop_assert_eq!(got, brute_force_objective(engine.input()));
            let full = engine.proposal();
            let (matches, summary) = engine.proposal_shared();
            let shared: Vec<_> = matches.iter().map(|m| (**m).clone()).collect();
            prop_assert_eq!(&shared, &full.matches);
            prop_assert_eq!(summary, full.summary);
        }
    }

    #[test]
    fn warm_resolves_equal_cold_solves(seed in any::<u64>()) {
        let input = instance(seed, seed % 2 == 0);
        let mut engine = Engine::new(input.clone()).unwrap_or_else(|e| panic!("{e}"));
        let mut rng = Rng(seed ^ 7);
        for step in 0..4 {
            let current = engine.input().clone();
            let change = match rng.below(5) {
                4 => {
                    let source = instance(seed.wrapping_add(step), seed % 2 == 0);
                    let mut o = source.offers[rng.below(source.offers.len() as u64) as usize].clone();
                    o.id = format!("hypothetical-{step}");
                    Change::AddOffer(o)
                }
                0 => {
                    let mut n = instance(seed.wrapping_add(step), false).needs[0].clone();
                    n.id = format!("new{step}");
                    Change::AddNeed(n)
                }
                1 => Change::WithdrawOffer(current.offers[rng.below(current.offers.len() as u64) as usize].id.clone()),
                2 => Change::SetCapacity {
                    offer_id: current.offers[rng.below(current.offers.len() as u64) as usize].id.clone(),
                    capacity: rng.below(4) as u32,
                },
                _ => Change::SetPriority {
                    need_id: current.needs[rng.below(current.needs.len() as u64) as usize].id.clone(),
                    priority: [crate::domain::Priority::Routine, crate::domain::Priority::High, crate::domain::Priority::Critical][rng.below(3) as usize],
                },
            };
            let warm = engine.apply(change).unwrap_or_else(|e| panic!("{e}"));
            prop_assert_eq!(warm, solve(engine.input()).summary.objective);
            prop_assert_eq!(warm, brute_force_objective(engine.input()));
        }
    }
}

/// A random change as the service's view sends them: records as they now are, seats
/// taken for a recipient, refusals.
fn view_change(current: &MatchInput, rng: &mut Rng, seed: u64, step: u64) -> Change {
    let pick = |rng: &mut Rng, len: usize| rng.below(len.max(1) as u64) as usize;
    match rng.below(7) {
        0 | 1 if !current.needs.is_empty() => {
            let mut n = current.needs[pick(rng, current.needs.len())].clone();
            match rng.below(5) {
                0 => n.consumed = n.consumed.saturating_add(1 + rng.below(3) as u32),
                1 => n.quantity = rng.below(8) as u32,
                2 => n.priority = [crate::domain::Priority::Routine, crate::domain::Priority::Critical][pick(rng, 2)],
                3 => n.withdrawn = !n.withdrawn,
                _ => n.needed_by += rng.below(60) as i64 - 30,
            }
            Change::PutNeed(n)
        }
        2 | 3 if !current.offers.is_empty() => {
            let mut o = current.offers[pick(rng, current.offers.len())].clone();
            match rng.below(5) {
                0 => o.consumed = o.consumed.saturating_add(1 + rng.below(3) as u32),
                1 => o.capacity = rng.below(6) as u32,
                2 => o.withdrawn = !o.withdrawn,
                3 => o.max_per_recipient = rng.below(3) as u32,
                _ => o.available_until += rng.below(60) as i64 - 30,
            }
            Change::PutOffer(o)
        }
        4 if !current.offers.is_empty() && !current.needs.is_empty() => Change::SetRecipientSeats {
            offer_id: current.offers[pick(rng, current.offers.len())].id.clone(),
            recipient: current.needs[pick(rng, current.needs.len())].requester,
            seats: rng.below(3) as u32,
        },
        5 if !current.offers.is_empty() && !current.needs.is_empty() => Change::SetBarred {
            need_id: current.needs[pick(rng, current.needs.len())].id.clone(),
            offer_id: current.offers[pick(rng, current.offers.len())].id.clone(),
            barred: rng.below(3) > 0,
        },
        _ => {
            let mut n = instance(seed.wrapping_add(step), false).needs[0].clone();
            n.id = format!("put{step}");
            Change::PutNeed(n)
        }
    }
}

#[test]
fn random_instances_are_not_trivial() {
    let (mut matched, mut funded) = (0, 0);
    for seed in 0..300u64 {
        let input = instance(seed, true);
        let p = solve(&input);
        matched += usize::from(p.summary.seats_matched > 0);
        funded += usize::from(p.matches.iter().flat_map(|m| &m.allocations).any(|a| a.funding_offer.is_some()));
    }
    eprintln!("matched {matched} funded {funded}");
    assert!(matched > 150 && funded > 50, "matched {matched} funded {funded}");
}

/// Odd figures (consumed above capacity, women above quantity, extreme days, repeated ids,
/// DELIVERY offers without terms, empty languages) never make the engine panic.
fn mangle(input: &mut MatchInput, seed: u64) {
    let mut rng = Rng(seed);
    for n in &mut input.needs {
        match rng.below(6) {
            0 => n.consumed = n.quantity + 5,
            1 => n.women_quantity = n.quantity + 3,
            2 => n.needed_by = if rng.chance(50) { i64::MAX } else { i64::MIN },
            3 => n.languages.clear(),
            4 => n.consumed_women = u32::MAX,
            _ => {}
        }
    }
    for o in &mut input.offers {
        match rng.below(6) {
            0 => o.consumed = o.capacity + 1,
            1 => o.delivery = None,
            2 => o.available_until = i64::MAX,
            3 => o.available_from = i64::MIN,
            4 => o.capacity = u32::MAX,
            _ => {}
        }
    }
    if let Some(first) = input.needs.first().cloned() {
        input.needs.push(first);
    }
    if let Some(first) = input.offers.first().cloned() {
        input.offers.push(first);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn odd_input_never_panics(seed in any::<u64>(), funding in any::<bool>()) {
        let mut input = instance(seed, funding);
        mangle(&mut input, seed);
        let _ = propose(&input);
        for n in &input.needs {
            let _ = crate::matching::explain_need(&input, &n.id);
        }
        let _ = Engine::new(input).map(|mut e| e.apply(Change::WithdrawOffer("d0".into())));
    }
}

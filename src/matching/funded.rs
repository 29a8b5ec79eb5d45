//! The exact optimum of a component that contains funded seats.
//!
//! A funded seat uses a DELIVERY offer's capacity and a FUNDING offer's capacity, each
//! with its own per-recipient cap, so the component is not a flow and its linear
//! relaxation can be fractional. Method (docs/MATCHING.md argues exactness):
//!
//! 1. A mixed integer program with `microlp` (pure Rust, branch and bound; each phase stops
//!    once the incumbent is proven within ½ of the optimum, which is a whole number):
//!    funded seat variables (need, delivery, funder) are integer; unfunded seat variables
//!    and the women counts are continuous. Goals are solved one at a time; after goal k
//!    reaches z_k the later phases keep it at z_k (within ~1e-7). Once the funded values are
//!    fixed, what is left is a transportation problem (totally unimodular), so the
//!    continuous part loses nothing against an all-integer program.
//! 2. The funded values are rounded and fixed; what is left (the unfunded seats) is solved
//!    exactly by the flow model in the same six phases.
//! 3. The result is checked in integer arithmetic against every capacity and cap, and its
//!    six goal totals against z_1..z_6; on any disagreement the component is re-solved as an
//!    all-integer program (slower, same optimum).

use super::input::OfferInput;
use super::network::FlowModel;
use super::prepare::{Pair, Prepared, Triple};
use super::solution::{MatchError, SeatGrant, objective_of};
use crate::domain::Priority;
use microlp::{ComparisonOp, OptimizationDirection, Problem, SolveOptions, TerminationReason, Variable};
use std::collections::BTreeMap;

/// One seat variable: (need, delivery offer, funder) with its upper bound.
struct SeatVar {
    need: u32,
    offer: u32,
    funder: Option<u32>,
    upper: u32,
}

/// Σ coeff × var ≤ rhs, over variable indices.
struct Row {
    terms: Vec<(usize, i64)>,
    rhs: i64,
}

/// Solves one funded component exactly; returns its grants.
pub fn solve_component(p: &Prepared, pairs: &[Pair], triples: &[Triple]) -> Result<Vec<SeatGrant>, MatchError> {
    match solve_lexicographic(p, pairs, triples, false) {
        Ok(grants) => Ok(grants),
        Err(_) => solve_lexicographic(p, pairs, triples, true),
    }
}

/// The lexicographic program; `all_integer` makes every variable integer (fallback).
fn solve_lexicographic(
    p: &Prepared,
    pairs: &[Pair],
    triples: &[Triple],
    all_integer: bool,
) -> Result<Vec<SeatGrant>, MatchError> {
    let mut vars: Vec<SeatVar> = Vec::new();
    let room = |offer: &OfferInput, need: u32| p.ctx.remaining_for(offer, p.needs[need as usize].requester);
    for pr in pairs {
        let need = p.needs[pr.need as usize];
        let offer = p.offers[pr.offer as usize];
        let side = if offer.women_only() { need.open_women_seats() } else { need.open_seats() };
        vars.push(SeatVar { need: pr.need, offer: pr.offer, funder: None, upper: side.min(room(offer, pr.need)) });
    }
    for t in triples {
        let need = p.needs[t.need as usize];
        let offer = p.offers[t.offer as usize];
        let funder = p.funders[t.funder as usize];
        let side = if offer.women_only() { need.open_women_seats() } else { need.open_seats() };
        let upper = side.min(room(offer, t.need)).min(room(funder, t.need));
        vars.push(SeatVar { need: t.need, offer: t.offer, funder: Some(t.funder), upper });
    }
    // Needs of the component, in index order; one women variable each after the seats.
    let needs: Vec<u32> = {
        let mut v: Vec<u32> = vars.iter().map(|s| s.need).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let women_var = |need: u32| vars.len() + needs.binary_search(&need).unwrap_or(0);
    let var_count = vars.len() + needs.len();

    let mut rows: Vec<Row> = Vec::new();
    let group =
        |key_rows: BTreeMap<(u8, u32, u32), Vec<usize>>, rows: &mut Vec<Row>, rhs: &dyn Fn(u8, u32, u32) -> i64| {
            for ((kind, a, b), members) in key_rows {
                rows.push(Row { terms: members.into_iter().map(|v| (v, 1)).collect(), rhs: rhs(kind, a, b) });
            }
        };
    // Capacity and cap groups: 0 offer, 1 offer×recipient need, 2 funder, 3 funder×recipient
    // need (keyed by need index; needs of one recipient are merged through the recipient's
    // first need), 4 need total, 5 need women-only seats.
    let mut groups: BTreeMap<(u8, u32, u32), Vec<usize>> = BTreeMap::new();
    let recipient_key = |need: u32| {
        let r = p.needs[need as usize].requester;
        needs.iter().copied().find(|&n| p.needs[n as usize].requester == r).unwrap_or(need)
    };
    for (i, s) in vars.iter().enumerate() {
        groups.entry((0, s.offer, 0)).or_default().push(i);
        if p.offers[s.offer as usize].max_per_recipient > 0 {
            groups.entry((1, s.offer, recipient_key(s.need))).or_default().push(i);
        }
        if let Some(f) = s.funder {
            groups.entry((2, f, 0)).or_default().push(i);
            if p.funders[f as usize].max_per_recipient > 0 {
                groups.entry((3, f, recipient_key(s.need))).or_default().push(i);
            }
        }
        groups.entry((4, s.need, 0)).or_default().push(i);
        if p.offers[s.offer as usize].women_only() {
            groups.entry((5, s.need, 0)).or_default().push(i);
        }
    }
    let rhs = |kind: u8, a: u32, b: u32| -> i64 {
        let v = match kind {
            0 => p.offers[a as usize].open_seats(),
            1 => room(p.offers[a as usize], b),
            2 => p.funders[a as usize].open_seats(),
            3 => room(p.funders[a as usize], b),
            4 => p.needs[a as usize].open_seats(),
            _ => p.needs[a as usize].open_women_seats(),
        };
        i64::from(v)
    };
    group(groups, &mut rows, &rhs);
    for &n in &needs {
        // women_n − Σ seats_n ≤ 0
        let mut terms = vec![(women_var(n), 1)];
        terms.extend(vars.iter().enumerate().filter(|(_, s)| s.need == n).map(|(i, _)| (i, -1)));
        rows.push(Row { terms, rhs: 0 });
    }

    // Goal coefficients per variable; goals 0..=3 are maximised, 4 and 5 minimised.
    let base_needed = needs.iter().map(|&n| p.needs[n as usize].needed_by).min().unwrap_or(0);
    let base_until = vars.iter().map(|s| p.offers[s.offer as usize].available_until).min().unwrap_or(0);
    let priorities = [Priority::Critical, Priority::High, Priority::Routine];
    let goals: Vec<Vec<i64>> = (0..6)
        .map(|k| {
            (0..var_count)
                .map(|v| {
                    if v >= vars.len() {
                        return i64::from(k == 3);
                    }
                    let s = &vars[v];
                    let need = p.needs[s.need as usize];
                    match k {
                        0..=2 => i64::from(need.priority == priorities[k]),
                        3 => 0,
                        4 => need.needed_by.saturating_sub(base_needed),
                        _ => p.offers[s.offer as usize].available_until.saturating_sub(base_until),
                    }
                })
                .collect()
        })
        .collect();
    let uppers: Vec<u32> = (0..var_count)
        .map(
            |v| if v < vars.len() { vars[v].upper } else { p.needs[needs[v - vars.len()] as usize].open_women_seats() },
        )
        .collect();

    let mut optimum: Vec<Option<f64>> = vec![None; 6];
    let mut values: Vec<f64> = vec![0.0; var_count];
    let is_integer = |v: usize| all_integer || (v < vars.len() && vars[v].funder.is_some());
    for k in 0..6 {
        if goals[k].iter().all(|&c| c == 0) {
            continue;
        }
        let sign = if k <= 3 { -1.0 } else { 1.0 };
        let mut problem = Problem::new(OptimizationDirection::Minimize);
        let handles: Vec<Variable> = (0..var_count)
            .map(|v| {
                let upper = i32::try_from(uppers[v]).unwrap_or(i32::MAX);
                let cost = sign * goals[k][v] as f64;
                if is_integer(v) {
                    problem.add_integer_var(cost, (0, upper))
                } else {
                    problem.add_var(cost, (0.0, f64::from(upper)))
                }
            })
            .collect();
        for row in &rows {
            let expr: Vec<(Variable, f64)> = row.terms.iter().map(|&(v, c)| (handles[v], c as f64)).collect();
            problem.add_constraint(expr, ComparisonOp::Le, row.rhs as f64);
        }
        for (j, opt) in optimum.iter().enumerate().take(k) {
            let Some(opt) = *opt else { continue };
            let expr: Vec<(Variable, f64)> =
                goals[j].iter().enumerate().filter(|(_, c)| **c != 0).map(|(v, &c)| (handles[v], c as f64)).collect();
            // All-integer goals move in whole steps, so ¼ is exact; with continuous
            // variables the slack must stay far below what one seat can change.
            let slack = if all_integer { 0.25 } else { 1e-7 + 1e-9 * opt.abs() };
            if j <= 3 {
                problem.add_constraint(expr, ComparisonOp::Ge, opt - slack);
            } else {
                problem.add_constraint(expr, ComparisonOp::Le, opt + slack);
            }
        }
        // Every phase optimum is a whole number (see the module docs), so an incumbent
        // less than ½ from the proven bound is optimal: stop there instead of closing the
        // gap among ties. microlp's gap is relative to |incumbent|, which is at most the
        // previous solution's value for the minimised goals (it is feasible here and the
        // coefficients are ≥ 0) and at most `reach` for the others. The absolute gap is
        // checked after the solve; if it is not below ½ the phase is solved with gap 0.
        let reach: f64 = goals[k].iter().zip(&uppers).map(|(&c, &u)| (c as f64).abs() * f64::from(u)).sum();
        let previous: f64 = goals[k].iter().zip(&values).map(|(&c, x)| c as f64 * x).sum();
        let scale = if k >= 4 && previous.is_finite() { previous.abs().min(reach) } else { reach };
        let warm: Vec<(Variable, f64)> = handles.iter().zip(&values).map(|(&h, &x)| (h, x)).collect();
        let solve = |mip_gap: f64| -> Result<microlp::Solution, MatchError> {
            let mut options = SolveOptions::default();
            options.mip_gap = mip_gap;
            if k > 0 {
                options.warm_start = Some(warm.clone());
            }
            problem
                .solve_with(options)
                .map_err(|e| MatchError::Solver(format!("integer program: {e}")))?
                .into_solution()
                .map_err(|_| MatchError::Solver("integer program stopped without a solution".into()))
        };
        let mut solution = solve(0.45 / (scale + 1.0))?;
        let proven = solution.stats().best_bound.is_some_and(|b| (solution.objective() - b).abs() < 0.5);
        if !proven && solution.termination_reason() != TerminationReason::ProvenOptimal {
            solution = solve(0.0)?;
        }
        for (v, h) in handles.iter().enumerate() {
            let x = solution.var_value(*h);
            values[v] = if is_integer(v) { x.round() } else { x };
        }
        optimum[k] = Some(goals[k].iter().zip(&values).map(|(&c, x)| c as f64 * x).sum());
    }
    // Fix the funded seats; solve what is left as a flow (or take every value when all
    // variables were integer).
    let mut grants: Vec<SeatGrant> = Vec::new();
    let mut funded_of_need: BTreeMap<u32, (u32, u32)> = BTreeMap::new();
    for (s, &x) in vars.iter().zip(&values) {
        let seats = x.round().max(0.0) as u32;
        if seats == 0 || (s.funder.is_none() && !all_integer) {
            continue;
        }
        if s.funder.is_some() {
            let e = funded_of_need.entry(s.need).or_default();
            e.0 += seats;
            if p.offers[s.offer as usize].women_only() {
                e.1 += seats;
            }
        }
        grants.push(SeatGrant {
            need_id: p.needs[s.need as usize].id.clone(),
            offer_id: p.offers[s.offer as usize].id.clone(),
            funder_id: s.funder.map(|f| p.funders[f as usize].id.clone()),
            seats,
        });
    }
    if !all_integer && !pairs.is_empty() {
        let mut model = FlowModel::new(base_needed, base_until);
        for pr in pairs {
            let need = p.needs[pr.need as usize];
            let offer = p.offers[pr.offer as usize];
            let (funded, funded_women_only) = funded_of_need.get(&pr.need).copied().unwrap_or((0, 0));
            let open = need.open_seats().saturating_sub(funded);
            let women = need.open_women_seats();
            let n =
                model.add_need_with(need, open, women.saturating_sub(funded), women.saturating_sub(funded_women_only));
            let o = model.add_offer(offer);
            model.add_pair(n, o, p.ctx.cap_left(offer, need.requester), open);
        }
        model.solve(&p.stop)?;
        grants.extend(model.grants());
    }
    check_grants(p, &grants, &optimum, [base_needed, base_until])?;
    Ok(grants)
}

/// The grants obey every capacity, cap and women-only limit exactly, use only allowed
/// pairs and triples (by construction), and reach the phase optima z_1..z_6.
fn check_grants(
    p: &Prepared,
    grants: &[SeatGrant],
    optimum: &[Option<f64>],
    bases: [i64; 2],
) -> Result<(), MatchError> {
    let bad = |what: &str| Err(MatchError::Solver(format!("integer program: the solution breaks {what}")));
    let mut used: BTreeMap<(&str, Option<crate::domain::Alpha3>), u64> = BTreeMap::new();
    let mut need_seats: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    let offers: BTreeMap<&str, &OfferInput> = p.offers.iter().chain(&p.funders).map(|o| (o.id.as_str(), *o)).collect();
    let needs: BTreeMap<&str, &crate::matching::input::NeedInput> =
        p.needs.iter().map(|n| (n.id.as_str(), *n)).collect();
    for g in grants {
        let Some(need) = needs.get(g.need_id.as_str()) else { return bad("a need id") };
        let seats = u64::from(g.seats);
        let e = need_seats.entry(need.id.as_str()).or_default();
        e.0 += seats;
        if offers.get(g.offer_id.as_str()).is_some_and(|o| o.women_only()) {
            e.1 += seats;
        }
        for id in std::iter::once(g.offer_id.as_str()).chain(g.funder_id.as_deref()) {
            *used.entry((id, None)).or_default() += seats;
            *used.entry((id, Some(need.requester))).or_default() += seats;
        }
    }
    for ((id, recipient), seats) in &used {
        let Some(offer) = offers.get(id) else { return bad("an offer id") };
        let limit = match recipient {
            None => u64::from(offer.open_seats()),
            Some(r) => u64::from(p.ctx.remaining_for(offer, *r)),
        };
        if *seats > limit {
            return bad("a capacity or a per-recipient cap");
        }
    }
    for (id, (seats, women_only)) in &need_seats {
        let Some(need) = needs.get(id) else { return bad("a need id") };
        if *seats > u64::from(need.open_seats()) || *women_only > u64::from(need.open_women_seats()) {
            return bad("a need's open seats");
        }
    }
    let total = objective_of(grants, &p.needs, &p.offers);
    let seats = i128::from(total[0]) + i128::from(total[1]) + i128::from(total[2]);
    let base = [0, 0, 0, 0, i128::from(bases[0]) * seats, i128::from(bases[1]) * seats];
    for (k, opt) in optimum.iter().enumerate() {
        if opt.is_some_and(|opt| ((i128::from(total[k]) - base[k]) as f64 - opt).abs() > 0.5) {
            return bad("a goal optimum");
        }
    }
    Ok(())
}

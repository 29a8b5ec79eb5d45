//! The exact integer program for a component that contains funded seats.
//!
//! A funded seat uses a DELIVERY offer's capacity and a FUNDING offer's capacity, each
//! with its own per-recipient cap, so the component is not a flow and its linear
//! relaxation can be fractional. We solve it as a pure integer program with `microlp`
//! (pure Rust, branch and bound with exact-optimality proof, `mip_gap` 0), one goal at a
//! time: after goal k reaches its optimum z_k, the next phases keep `goal_k ≥ z_k − ½`
//! (or `≤ z_k + ½` for the minimised goals 5 and 6), which, every goal being an integer
//! combination of integer variables, is exactly `goal_k = z_k`. Values are rounded and
//! then checked against every constraint in integer arithmetic, and the goal totals are
//! recomputed exactly, so float round-off can never leak into a proposal (see
//! docs/MATCHING.md for why this is exact).

use super::input::OfferInput;
use super::prepare::{Pair, Prepared, Triple};
use super::solution::{MatchError, SeatGrant};
use crate::domain::Priority;
use microlp::{ComparisonOp, OptimizationDirection, Problem, SolveOptions, Variable};
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
    let mut group = |key_rows: BTreeMap<(u8, u32, u32), Vec<usize>>, rows: &mut Vec<Row>, rhs: &dyn Fn(u8, u32, u32) -> i64| {
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
        .map(|v| if v < vars.len() { vars[v].upper } else { p.needs[needs[v - vars.len()] as usize].open_women_seats() })
        .collect();

    let mut optimum: Vec<Option<i64>> = vec![None; 6];
    let mut values: Vec<i64> = vec![0; var_count];
    for k in 0..6 {
        if goals[k].iter().all(|&c| c == 0) {
            continue;
        }
        let sign = if k <= 3 { -1.0 } else { 1.0 };
        let mut problem = Problem::new(OptimizationDirection::Minimize);
        let handles: Vec<Variable> = (0..var_count)
            .map(|v| {
                let upper = i32::try_from(uppers[v]).unwrap_or(i32::MAX);
                problem.add_integer_var(sign * goals[k][v] as f64, (0, upper))
            })
            .collect();
        for row in &rows {
            let expr: Vec<(Variable, f64)> = row.terms.iter().map(|&(v, c)| (handles[v], c as f64)).collect();
            problem.add_constraint(expr, ComparisonOp::Le, row.rhs as f64);
        }
        for (j, opt) in optimum.iter().enumerate().take(k) {
            let Some(opt) = *opt else { continue };
            let expr: Vec<(Variable, f64)> = goals[j]
                .iter()
                .enumerate()
                .filter(|(_, &c)| c != 0)
                .map(|(v, &c)| (handles[v], c as f64))
                .collect();
            if j <= 3 {
                problem.add_constraint(expr, ComparisonOp::Ge, opt as f64 - 0.5);
            } else {
                problem.add_constraint(expr, ComparisonOp::Le, opt as f64 + 0.5);
            }
        }
        let mut options = SolveOptions::default();
        if k > 0 {
            options.warm_start = Some(handles.iter().zip(&values).map(|(&h, &x)| (h, x as f64)).collect());
        }
        let outcome = problem.solve_with(options).map_err(|e| MatchError::Solver(format!("integer program: {e}")))?;
        let solution = outcome
            .into_solution()
            .map_err(|_| MatchError::Solver("integer program stopped without a solution".into()))?;
        for (v, h) in handles.iter().enumerate() {
            values[v] = solution.var_value(*h).round() as i64;
        }
        optimum[k] = Some(goals[k].iter().zip(&values).map(|(c, x)| c * x).sum());
    }
    check_exact(&rows, &uppers, &goals, &optimum, &values)?;
    Ok(vars
        .iter()
        .zip(&values)
        .filter(|(_, &x)| x > 0)
        .map(|(s, &x)| SeatGrant {
            need_id: p.needs[s.need as usize].id.clone(),
            offer_id: p.offers[s.offer as usize].id.clone(),
            funder_id: s.funder.map(|f| p.funders[f as usize].id.clone()),
            seats: u32::try_from(x).unwrap_or(0),
        })
        .collect())
}

/// The rounded solution meets every bound and row exactly and keeps every goal optimum.
fn check_exact(rows: &[Row], uppers: &[u32], goals: &[Vec<i64>], optimum: &[Option<i64>], values: &[i64]) -> Result<(), MatchError> {
    let bad = |what: &str| Err(MatchError::Solver(format!("integer program: rounded solution breaks {what}")));
    if values.iter().zip(uppers).any(|(&x, &u)| x < 0 || x > i64::from(u)) {
        return bad("a variable bound");
    }
    if rows.iter().any(|r| r.terms.iter().map(|&(v, c)| c * values[v]).sum::<i64>() > r.rhs) {
        return bad("a capacity");
    }
    for (k, opt) in optimum.iter().enumerate() {
        if let Some(opt) = opt {
            if goals[k].iter().zip(values).map(|(c, x)| c * x).sum::<i64>() != *opt {
                return bad("a goal optimum");
            }
        }
    }
    Ok(())
}

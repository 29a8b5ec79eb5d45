//! Unit and property tests: the network simplex against an independent successive-shortest-
//! path solver (Bellman-Ford), cold and warm, plus the phase API and DIMACS round trips.

#![allow(clippy::needless_range_loop)] // parallel arrays are indexed by arc / node id

use super::dimacs::{format_solution, parse_dimacs};
use super::*;
use proptest::prelude::*;

/// Independent reference: min-cost flow by successive shortest paths (Bellman-Ford) after
/// saturating negative-cost arcs. Returns `None` if infeasible, else (cost, flows).
fn reference(net: &Network) -> Option<(i128, Vec<i64>)> {
    let n = net.node_count();
    let m = net.arc_count();
    let (s, t) = (n, n + 1);
    // residual arcs: (to, cap, cost); arc 2k forward, 2k+1 backward
    let mut to = Vec::new();
    let mut cap: Vec<i64> = Vec::new();
    let mut cost: Vec<i64> = Vec::new();
    let mut from = Vec::new();
    let mut excess: Vec<i64> = net.supply.clone();
    let mut base: Vec<i64> = vec![0; m];
    let mut add = |f: usize, tt: usize, c: i64, w: i64| {
        from.push(f);
        to.push(tt);
        cap.push(c);
        cost.push(w);
        from.push(tt);
        to.push(f);
        cap.push(0);
        cost.push(-w);
    };
    for a in 0..m {
        let (u, v, l, up, c) = net.arc(a as u32);
        let (u, v) = (u as usize, v as usize);
        let (x0, fwd) = if c < 0 { (up, false) } else { (l, true) };
        base[a] = x0;
        excess[u] -= x0;
        excess[v] += x0;
        if fwd {
            add(u, v, up - l, c);
        } else {
            add(v, u, up - l, -c);
        }
    }
    let mut need = 0i64;
    for v in 0..n {
        if excess[v] > 0 {
            add(s, v, excess[v], 0);
            need += excess[v];
        } else if excess[v] < 0 {
            add(v, t, -excess[v], 0);
        }
    }
    let nn = n + 2;
    let mut sent = 0i64;
    loop {
        let mut dist = vec![i64::MAX; nn];
        let mut prev = vec![usize::MAX; nn];
        dist[s] = 0;
        for _ in 0..nn {
            let mut changed = false;
            for e in 0..to.len() {
                if cap[e] > 0 && dist[from[e]] != i64::MAX && dist[from[e]] + cost[e] < dist[to[e]] {
                    dist[to[e]] = dist[from[e]] + cost[e];
                    prev[to[e]] = e;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        if dist[t] == i64::MAX {
            break;
        }
        let mut f = i64::MAX;
        let mut v = t;
        while v != s {
            let e = prev[v];
            f = f.min(cap[e]);
            v = from[e];
        }
        let mut v = t;
        while v != s {
            let e = prev[v];
            cap[e] -= f;
            cap[e ^ 1] += f;
            v = from[e];
        }
        sent += f;
    }
    if sent != need {
        return None;
    }
    let mut flows = vec![0i64; m];
    let mut total: i128 = 0;
    for a in 0..m {
        let (_, _, _, _, c) = net.arc(a as u32);
        let pushed = cap[2 * a + 1];
        flows[a] = if c < 0 { base[a] - pushed } else { base[a] + pushed };
        total += flows[a] as i128 * c as i128;
    }
    Some((total, flows))
}

/// Checks bounds, conservation, cost and reduced-cost optimality of an Optimal solve.
fn check(ns: &NetworkSimplex, net: &Network) {
    let n = net.node_count();
    let mut bal: Vec<i64> = net.supply.clone();
    let mut total: i128 = 0;
    for a in 0..net.arc_count() {
        let (u, v, l, up, c) = net.arc(a as u32);
        let f = ns.flow(a as u32);
        assert!(l <= f && f <= up, "arc {a} flow {f} outside [{l},{up}]");
        bal[u as usize] -= f;
        bal[v as usize] += f;
        total += f as i128 * c as i128;
        let rc = ns.reduced_cost(a as u32);
        if ns.is_fixed(a as u32) {
            continue;
        }
        assert!(!(rc > 0 && f != l || rc < 0 && f != up), "arc {a} rc {rc} flow {f}");
    }
    assert!(bal.iter().all(|&b| b == 0), "conservation {bal:?} n={n}");
    assert_eq!(total, ns.total_cost());
}

fn arb_network() -> impl Strategy<Value = Network> {
    (
        1usize..8,
        prop::collection::vec((0u32..8, 0u32..8, -3i64..3, 0i64..9, -10i64..11), 0..22),
        prop::collection::vec(-6i64..7, 8),
    )
        .prop_map(|(n, arcs, sup)| {
            let mut net = Network::new();
            net.add_nodes(n);
            for (u, v, l, w, c) in arcs {
                net.add_arc(u % n as u32, v % n as u32, l, l + w, c);
            }
            let mut sum = 0;
            for i in 0..n - 1 {
                net.set_supply(i as u32, sup[i]);
                sum += sup[i];
            }
            net.set_supply((n - 1) as u32, -sum);
            net
        })
}

fn solve_and_compare(ns: &mut NetworkSimplex) {
    // renumber nodes often (every 1..3 tree changes) so that relabelling is exercised
    ns.set_relabel_interval(1 + ns.node_count() % 3);
    let st = ns.solve().expect("valid input");
    let net = ns.network().clone();
    match reference(&net) {
        None => assert_eq!(st, Status::Infeasible),
        Some((c, _)) => {
            assert_eq!(st, Status::Optimal);
            assert_eq!(ns.total_cost(), c);
            check(ns, &net);
        }
    }
}

#[derive(Debug, Clone)]
enum Change {
    Bounds(u32, i64, i64),
    Supply(u32, u32, i64),
    Cost(u32, i64),
    Arc(u32, u32, i64, i64, i64),
    Node,
}

fn arb_change() -> impl Strategy<Value = Change> {
    prop_oneof![
        (0u32..40, -3i64..3, 0i64..9).prop_map(|(a, l, w)| Change::Bounds(a, l, l + w)),
        (0u32..9, 0u32..9, -4i64..5).prop_map(|(u, v, d)| Change::Supply(u, v, d)),
        (0u32..40, -10i64..11).prop_map(|(a, c)| Change::Cost(a, c)),
        (0u32..9, 0u32..9, -2i64..2, 0i64..7, -10i64..11).prop_map(|(u, v, l, w, c)| Change::Arc(u, v, l, l + w, c)),
        Just(Change::Node),
    ]
}

fn apply(ns: &mut NetworkSimplex, ch: &Change) {
    let (n, m) = (ns.node_count() as u32, ns.arc_count() as u32);
    match *ch {
        Change::Bounds(a, l, u) if m > 0 => ns.set_bounds(a % m, l, u),
        Change::Supply(u, v, d) => {
            let (u, v) = (u % n, v % n);
            let su = ns.network().supply(u);
            ns.set_supply(u, su + d);
            let sv = ns.network().supply(v);
            ns.set_supply(v, sv - d);
        }
        Change::Cost(a, c) if m > 0 => ns.set_cost(a % m, c),
        Change::Arc(u, v, l, up, c) => {
            ns.add_arc(u % n, v % n, l, up, c);
        }
        Change::Node => {
            let v = ns.add_node();
            ns.add_arc(v, 0, 0, 3, 1);
            ns.add_arc(0, v, 0, 3, 1);
        }
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn cold_matches_reference(net in arb_network()) {
        let mut ns = NetworkSimplex::new(net);
        solve_and_compare(&mut ns);
    }

    #[test]
    fn warm_matches_reference(net in arb_network(), changes in prop::collection::vec(prop::collection::vec(arb_change(), 1..4), 1..5)) {
        let mut ns = NetworkSimplex::new(net);
        solve_and_compare(&mut ns);
        for batch in &changes {
            for ch in batch {
                apply(&mut ns, ch);
            }
            solve_and_compare(&mut ns);
            // resolving without changes keeps the answer
            solve_and_compare(&mut ns);
        }
    }

    #[test]
    fn lexicographic_phases(net in arb_network(), c2 in prop::collection::vec(-10i64..11, 22)) {
        let mut ns = NetworkSimplex::new(net.clone());
        ns.set_relabel_interval(2);
        let st = ns.solve().unwrap();
        let r = reference(&net);
        prop_assert_eq!(st == Status::Optimal, r.is_some());
        if let Some((c1, _)) = r {
            ns.fix_nonoptimal_arcs();
            for a in 0..net.arc_count() {
                ns.set_cost(a as u32, c2[a]);
            }
            prop_assert_eq!(ns.solve().unwrap(), Status::Optimal);
            let net2 = ns.network().clone();
            check(&ns, &net2);
            let goal1: i128 = (0..net.arc_count()).map(|a| ns.flow(a as u32) as i128 * net.cost[a] as i128).sum();
            prop_assert_eq!(goal1, c1);
            // weighted reference: c1 * BIG + c2
            let mut w = net.clone();
            for a in 0..net.arc_count() {
                w.cost[a] = net.cost[a] * 100_000 + c2[a];
            }
            let (cw, _) = reference(&w).unwrap();
            prop_assert_eq!(goal1 * 100_000 + ns.total_cost(), cw);
            // unfix and solve again: optimal for goal 2 alone
            ns.unfix_all();
            let st = ns.solve().unwrap();
            prop_assert_eq!(st, Status::Optimal);
            let (cc2, _) = reference(&net2).unwrap();
            prop_assert_eq!(ns.total_cost(), cc2);
        }
    }
}

#[test]
fn simple_transport() {
    let mut net = Network::new();
    let s = net.add_nodes(4);
    net.set_supply(s, 5);
    net.set_supply(s + 1, 3);
    net.set_supply(s + 2, -4);
    net.set_supply(s + 3, -4);
    net.add_arc(0, 2, 0, 10, 1);
    net.add_arc(0, 3, 0, 10, 4);
    net.add_arc(1, 2, 0, 10, 2);
    net.add_arc(1, 3, 0, 2, 1);
    let mut ns = NetworkSimplex::new(net.clone());
    assert_eq!(ns.solve().unwrap(), Status::Optimal);
    // 1->3 carries 2 (cost 2), 1->2 carries 1 (2), 0->2 carries 3 (3), 0->3 carries 2 (8)
    assert_eq!(ns.total_cost(), 15);
    check(&ns, &net);
}

#[test]
fn infeasible_and_errors() {
    let mut net = Network::new();
    net.add_nodes(2);
    net.set_supply(0, 5);
    net.set_supply(1, -5);
    net.add_arc(0, 1, 0, 4, 1);
    let mut ns = NetworkSimplex::new(net.clone());
    assert_eq!(ns.solve().unwrap(), Status::Infeasible);
    ns.set_bounds(0, 0, 5);
    assert_eq!(ns.solve().unwrap(), Status::Optimal);
    assert_eq!(ns.total_cost(), 5);

    let mut bad = net.clone();
    bad.set_supply(1, -4);
    assert!(matches!(NetworkSimplex::new(bad).solve(), Err(FlowError::SupplyImbalance { total: 1 })));
    let mut bad = net.clone();
    bad.add_arc(0, 7, 0, 1, 1);
    assert!(matches!(NetworkSimplex::new(bad).solve(), Err(FlowError::BadArc { arc: 1, .. })));
    let mut bad = net.clone();
    bad.add_arc(0, 1, 3, 1, 1);
    assert!(matches!(NetworkSimplex::new(bad).solve(), Err(FlowError::BadArc { .. })));
    let mut bad = net.clone();
    bad.add_arc(0, 1, 0, 1, 1i64 << 59);
    assert!(matches!(NetworkSimplex::new(bad).solve(), Err(FlowError::CostRange { .. })));
    let mut bad = net.clone();
    bad.add_arc(0, 1, 0, i64::MAX, 1);
    assert!(matches!(NetworkSimplex::new(bad).solve(), Err(FlowError::CapacityRange { .. })));
    assert!(!FlowError::CostRange { max_abs_cost: 1, nodes: 2 }.to_string().is_empty());
}

#[test]
fn empty_and_tiny() {
    let mut ns = NetworkSimplex::new(Network::new());
    assert_eq!(ns.solve().unwrap(), Status::Optimal);
    assert_eq!(ns.total_cost(), 0);
    let mut net = Network::new();
    net.add_node();
    net.add_arc(0, 0, 0, 4, -3); // negative self-loop saturates
    let mut ns = NetworkSimplex::new(net);
    assert_eq!(ns.solve().unwrap(), Status::Optimal);
    assert_eq!(ns.flow(0), 4);
    assert_eq!(ns.total_cost(), -12);
}

#[test]
fn dimacs_round_trip() {
    let text = "c test\np min 3 3\nn 1 4\nn 3 -4\na 1 2 0 4 1\na 2 3 1 4 1\na 1 3 0 2 5\n";
    let net = parse_dimacs(text).unwrap();
    assert_eq!((net.node_count(), net.arc_count()), (3, 3));
    let mut ns = NetworkSimplex::new(net.clone());
    assert_eq!(ns.solve().unwrap(), Status::Optimal);
    assert_eq!(ns.total_cost(), 8);
    let sol = format_solution(&net, &ns.flows(), ns.total_cost());
    assert_eq!(sol, "f 1 2 4\nf 2 3 4\nf 1 3 0\ns 8\n");
    for bad in [
        "p min 2 1\na 1 3 0 1 1\n",
        "a 1 2 0 1 1\n",
        "p min 2 1\na 1 2 0 x 1\n",
        "p max 2 1\n",
        "p min 2 2\na 1 2 0 1 1\n",
        "p min 2 1\na 1 2 3 1 1\n",
        "q\n",
    ] {
        assert!(parse_dimacs(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn dimacs_command_writes_solution() {
    let dir = std::env::temp_dir().join(format!("lcm-flow-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let inst = dir.join("t.min");
    std::fs::write(&inst, "p min 2 1\nn 1 2\nn 2 -2\na 1 2 0 5 3\n").unwrap();
    let out = dir.join("t.sol");
    let json = dimacs::solve_dimacs_command(&inst, Some(&out)).unwrap();
    assert!(json.starts_with("{\"status\": \"OPTIMAL\", \"cost\": 6, "), "{json}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "f 1 2 2\ns 6\n");
    assert!(dimacs::solve_dimacs_command(&dir.join("missing.min"), None).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn generator_mix() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut opt, mut inf) = (0, 0);
    for _ in 0..2000 {
        let net = arb_network().new_tree(&mut runner).unwrap().current();
        match reference(&net) {
            Some(_) => opt += 1,
            None => inf += 1,
        }
    }
    eprintln!("generator mix: optimal {opt}, infeasible {inf}");
    assert!(opt > 300 && inf > 100, "optimal {opt}, infeasible {inf}");
}

fn arb_medium_network() -> impl Strategy<Value = Network> {
    (20usize..60, prop::collection::vec((0u32..60, 0u32..60, 0i64..2, 0i64..30, -50i64..200), 40..300), any::<u64>())
        .prop_map(|(n, arcs, seed)| {
            let mut net = Network::new();
            net.add_nodes(n);
            for (u, v, l, w, c) in arcs {
                net.add_arc(u % n as u32, v % n as u32, l, l + w, c);
            }
            // transportation-like supplies: first third supplies, last third demands
            let mut x = seed | 1;
            let mut sum = 0;
            for i in 0..n - 1 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let s = (x % 20) as i64;
                let s = if i < n / 3 {
                    s
                } else if i >= 2 * n / 3 {
                    -s
                } else {
                    0
                };
                net.set_supply(i as u32, s);
                sum += s;
            }
            net.set_supply((n - 1) as u32, -sum);
            net
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn medium_cold_and_warm_match_reference(net in arb_medium_network(), changes in prop::collection::vec(arb_change(), 1..6)) {
        let mut ns = NetworkSimplex::new(net);
        solve_and_compare(&mut ns);
        for ch in &changes {
            apply(&mut ns, ch);
            solve_and_compare(&mut ns);
        }
    }

    #[test]
    fn frozen_arcs_survive_structure_changes(net in arb_medium_network(), a in 0u32..40, d in 1i64..4) {
        let mut ns = NetworkSimplex::new(net);
        ns.set_relabel_interval(3);
        if ns.solve().unwrap() != Status::Optimal {
            return Ok(());
        }
        ns.fix_nonoptimal_arcs();
        let before: Vec<(bool, i64)> = (0..ns.arc_count() as u32).map(|e| (ns.is_fixed(e), ns.flow(e))).collect();
        // widen one arc's bounds (keeps the old flow feasible): frozen arcs keep their flow
        let e = a % ns.arc_count() as u32;
        let (_, _, l, u, _) = ns.network().arc(e);
        ns.set_bounds(e, l - d, u + d);
        prop_assert_eq!(ns.solve().unwrap(), Status::Optimal);
        for (i, &(fixed, f)) in before.iter().enumerate() {
            if fixed {
                prop_assert!(ns.is_fixed(i as u32));
                prop_assert_eq!(ns.flow(i as u32), f);
            }
        }
        let net2 = ns.network().clone();
        check(&ns, &net2);
    }
}

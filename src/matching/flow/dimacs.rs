//! DIMACS min-cost-flow input (`c`, `p min NODES ARCS`, `n ID SUPPLY`,
//! `a FROM TO LOWER CAPACITY COST`; nodes numbered from 1) and the solution format of the
//! benchmark kit (one `f FROM TO FLOW` line per arc in arc order, then `s COST`).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use super::{Network, NetworkSimplex, Status};

/// Parses a DIMACS min-cost-flow problem. Errors name the offending line.
pub fn parse_dimacs(text: &str) -> Result<Network, String> {
    let mut net: Option<Network> = None;
    let mut declared_arcs = 0usize;
    for (i, line) in text.lines().enumerate() {
        let lineno = i + 1;
        let mut tok = line.split_ascii_whitespace();
        let Some(kind) = tok.next() else { continue };
        let mut num = |what: &str| -> Result<i64, String> {
            let t = tok.next().ok_or_else(|| format!("line {lineno}: missing {what}"))?;
            t.parse::<i64>().map_err(|_| format!("line {lineno}: bad {what} {t:?}"))
        };
        match kind {
            "c" => {}
            "p" => {
                if net.is_some() {
                    return Err(format!("line {lineno}: second problem line"));
                }
                let mut tok2 = line.split_ascii_whitespace().skip(1);
                if tok2.next() != Some("min") {
                    return Err(format!("line {lineno}: expected `p min NODES ARCS`"));
                }
                let parse = |t: Option<&str>, what: &str| -> Result<usize, String> {
                    let t = t.ok_or_else(|| format!("line {lineno}: missing {what}"))?;
                    t.parse::<usize>().map_err(|_| format!("line {lineno}: bad {what} {t:?}"))
                };
                let nodes = parse(tok2.next(), "node count")?;
                let arcs = parse(tok2.next(), "arc count")?;
                if nodes >= u32::MAX as usize || arcs >= u32::MAX as usize {
                    return Err(format!("line {lineno}: problem too large"));
                }
                let mut nw = Network::with_capacity(nodes, arcs.min(1 << 26));
                nw.add_nodes(nodes);
                net = Some(nw);
                declared_arcs = arcs;
            }
            "n" => {
                let id = num("node id")?;
                let supply = num("supply")?;
                let nw = net.as_mut().ok_or_else(|| format!("line {lineno}: `n` before `p`"))?;
                if id < 1 || id as usize > nw.node_count() {
                    return Err(format!("line {lineno}: node {id} out of range"));
                }
                nw.set_supply((id - 1) as u32, supply);
            }
            "a" => {
                let from = num("tail")?;
                let to = num("head")?;
                let lower = num("lower bound")?;
                let upper = num("capacity")?;
                let cost = num("cost")?;
                let nw = net.as_mut().ok_or_else(|| format!("line {lineno}: `a` before `p`"))?;
                let n = nw.node_count() as i64;
                if from < 1 || from > n || to < 1 || to > n {
                    return Err(format!("line {lineno}: arc endpoint out of range"));
                }
                if lower > upper {
                    return Err(format!("line {lineno}: lower bound above capacity"));
                }
                nw.add_arc((from - 1) as u32, (to - 1) as u32, lower, upper, cost);
            }
            other => return Err(format!("line {lineno}: unknown line type {other:?}")),
        }
    }
    let net = net.ok_or_else(|| "no `p min` line".to_string())?;
    if net.arc_count() != declared_arcs {
        return Err(format!("problem line declares {declared_arcs} arcs, found {}", net.arc_count()));
    }
    Ok(net)
}

/// The solution file text: one `f FROM TO FLOW` line per arc (1-based nodes), then `s COST`.
pub fn format_solution(net: &Network, flows: &[i64], cost: i128) -> String {
    let mut out = String::with_capacity(net.arc_count() * 16 + 32);
    for (a, &f) in flows.iter().enumerate().take(net.arc_count()) {
        let _ = writeln!(out, "f {} {} {}", net.from[a] as u64 + 1, net.to[a] as u64 + 1, f);
    }
    let _ = writeln!(out, "s {cost}");
    out
}

/// `lcm solve-dimacs FILE [--solution OUT]`: reads and solves a DIMACS file, optionally writes
/// the solution file (only when optimal), and returns one JSON line:
/// `{"status":"OPTIMAL"|"INFEASIBLE","cost":C|null,"solve_micros":S,"parse_micros":P,"nodes":N,"arcs":M}`.
/// `solve_micros` times `NetworkSimplex::new` + `solve()` (cold); reading and parsing the
/// file are in `parse_micros`.
pub fn solve_dimacs_command(path: &Path, solution_out: Option<&Path>) -> Result<String, String> {
    let t0 = Instant::now();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let net = parse_dimacs(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    drop(text);
    let parse_micros = t0.elapsed().as_micros();
    let (nodes, arcs) = (net.node_count(), net.arc_count());
    let t1 = Instant::now();
    let mut solver = NetworkSimplex::new(net);
    let status = solver.solve().map_err(|e| e.to_string())?;
    let solve_micros = t1.elapsed().as_micros();
    let (status_s, cost_s) = match status {
        Status::Optimal => ("OPTIMAL", solver.total_cost().to_string()),
        Status::Infeasible => ("INFEASIBLE", "null".to_string()),
    };
    if let (Some(out), Status::Optimal) = (solution_out, status) {
        let text = format_solution(solver.network(), &solver.flows(), solver.total_cost());
        std::fs::write(out, text).map_err(|e| format!("{}: {e}", out.display()))?;
    }
    Ok(format!(
        "{{\"status\": \"{status_s}\", \"cost\": {cost_s}, \"solve_micros\": {solve_micros}, \"parse_micros\": {parse_micros}, \"nodes\": {nodes}, \"arcs\": {arcs}}}"
    ))
}

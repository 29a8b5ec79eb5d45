//! An exact min-cost-flow solver, generic over the network. It knows nothing about
//! peacekeeping.
//!
//! # API (stable; names are only ever added, never renamed)
//!
//! * [`Network`]: a plain problem description. Nodes are `0..node_count()`, arcs are
//!   `0..arc_count()` in insertion order. `set_supply(node, s)`: `s > 0` supply, `s < 0`
//!   demand; the supplies must sum to zero. `add_arc(from, to, lower, upper, cost)`.
//! * [`NetworkSimplex::new(network)`] owns the network and the solver state.
//!   [`NetworkSimplex::solve`] returns `Ok(Status::Optimal)`, `Ok(Status::Infeasible)` (the
//!   supplies cannot be routed within the bounds) or `Err(FlowError)` for bad input (arc
//!   endpoint out of range, `lower > upper`, supplies not summing to zero, costs or
//!   capacities so large that the solver's i64 arithmetic could overflow).
//! * After an `Optimal` solve: `flow(arc)`, `flows()`, `total_cost()` (i128),
//!   `potential(node)`, `reduced_cost(arc)`. Convention: `reduced_cost(a) = cost(a) +
//!   potential(from) - potential(to)`; at optimality every arc with a positive reduced cost
//!   is at its lower bound and every arc with a negative one at its upper bound.
//! * Lexicographic objectives in phases: solve goal 1, call `fix_nonoptimal_arcs()` (every
//!   arc with a non-zero reduced cost is frozen at its flow: the set of feasible flows left
//!   is exactly the optimal face of goal 1), then `set_cost` every arc to goal 2 and
//!   `solve()` again (warm: the tree is kept, potentials recomputed). `unfix_all()` lifts
//!   every freeze.
//! * Warm re-solves after `set_bounds`, `set_supply`, `add_node`, `add_arc`: the next
//!   `solve()` builds its starting tree from the previous flow and tree (new arcs start at
//!   their lower bound), so small changes need few pivots. A frozen arc stays frozen at its
//!   flow (clamped into new bounds if they changed).
//! * Ids out of range in the setters (`set_supply`, `set_bounds`, `set_cost`, `flow`, ...)
//!   panic like slice indexing; `add_arc` with bad endpoints or bounds is reported by the next
//!   `solve()` as [`FlowError::BadArc`].
//! * Limits: with `C = max |cost|` and `n = node_count()`, `(C + 1) * (n + 1)` must not exceed
//!   2^60, else [`FlowError::CostRange`]; `Σ|supply| + Σ(|lower| + |upper|)` must not exceed
//!   2^62, else [`FlowError::CapacityRange`].
//! * Also: `network()` (the network as modified), `status()`, `is_fixed(arc)`,
//!   `pivot_count()`.
//! * After `Infeasible`, flows and potentials describe the big-M relaxation; do not use them.
//! * DIMACS: [`dimacs::parse_dimacs`], [`dimacs::format_solution`] and
//!   [`dimacs::solve_dimacs_command`]`(path: &Path, solution_out: Option<&Path>) ->
//!   Result<String, String>` (one JSON line; used by `lcm solve-dimacs FILE [--solution OUT]`).
//!
//! The algorithm is a primal network simplex in the style of LEMON's `NetworkSimplex`
//! (arcs stored in LEMON's mixed order, block-search pivoting, thread/rev-thread spanning
//! tree, strongly feasible trees, artificial root with big-M arcs, cheap initial pivots),
//! plus two additions: nodes are periodically renumbered in thread order so that subtree
//! walks are sequential in memory, and a potential update shifts whichever side of the tree
//! is smaller (potentials are kept modulo 2^64; only their differences, which the range
//! check bounds, are ever used). Files: `network_simplex.rs` (state, pivoting),
//! `start_tree.rs` (cold and warm starting trees), `tree_update.rs` (tree update after a
//! pivot), `dimacs.rs`, `tests.rs`. Performance: docs/PERFORMANCE.md.

pub mod dimacs;
mod network_simplex;
#[cfg(test)]
mod tests;

use std::fmt;

pub type NodeId = u32;
pub type ArcId = u32;

/// Errors for inputs the solver refuses. Infeasibility is not an error (`Status::Infeasible`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlowError {
    /// `(max |cost| + 1) * (nodes + 1)` exceeds 2^60: potentials could overflow i64.
    CostRange { max_abs_cost: i64, nodes: usize },
    /// The supplies do not sum to zero.
    SupplyImbalance { total: i128 },
    /// An arc with an endpoint out of range or with `lower > upper`.
    BadArc { arc: ArcId, reason: &'static str },
    /// `Σ|supply| + Σ(|lower| + |upper|)` exceeds 2^62: flows could overflow i64.
    CapacityRange { total: i128 },
}

impl fmt::Display for FlowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlowError::CostRange { max_abs_cost, nodes } => {
                write!(f, "cost range too large: (max |cost| {max_abs_cost} + 1) * (nodes {nodes} + 1) exceeds 2^60")
            }
            FlowError::SupplyImbalance { total } => {
                write!(f, "supplies do not sum to zero (sum = {total})")
            }
            FlowError::BadArc { arc, reason } => write!(f, "bad arc {arc}: {reason}"),
            FlowError::CapacityRange { total } => {
                write!(f, "capacity range too large: sum of |supply|, |lower| and |upper| is {total}, above 2^62")
            }
        }
    }
}

impl std::error::Error for FlowError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Optimal,
    Infeasible,
}

/// A plain description of a min-cost-flow problem.
#[derive(Debug, Clone, Default)]
pub struct Network {
    pub(crate) supply: Vec<i64>,
    pub(crate) from: Vec<NodeId>,
    pub(crate) to: Vec<NodeId>,
    pub(crate) lower: Vec<i64>,
    pub(crate) upper: Vec<i64>,
    pub(crate) cost: Vec<i64>,
}

impl Network {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn with_capacity(nodes: usize, arcs: usize) -> Self {
        Network {
            supply: Vec::with_capacity(nodes),
            from: Vec::with_capacity(arcs),
            to: Vec::with_capacity(arcs),
            lower: Vec::with_capacity(arcs),
            upper: Vec::with_capacity(arcs),
            cost: Vec::with_capacity(arcs),
        }
    }
    /// Adds a node with supply 0.
    pub fn add_node(&mut self) -> NodeId {
        self.supply.push(0);
        (self.supply.len() - 1) as NodeId
    }
    /// Adds `n` nodes with supply 0 and returns the first id.
    pub fn add_nodes(&mut self, n: usize) -> NodeId {
        let first = self.supply.len();
        self.supply.resize(first + n, 0);
        first as NodeId
    }
    /// `> 0` supply, `< 0` demand. Panics if `node` is out of range.
    pub fn set_supply(&mut self, node: NodeId, supply: i64) {
        self.supply[node as usize] = supply;
    }
    pub fn supply(&self, node: NodeId) -> i64 {
        self.supply[node as usize]
    }
    /// Adds an arc; bad endpoints or `lower > upper` are reported by `solve()`.
    pub fn add_arc(&mut self, from: NodeId, to: NodeId, lower: i64, upper: i64, cost: i64) -> ArcId {
        self.from.push(from);
        self.to.push(to);
        self.lower.push(lower);
        self.upper.push(upper);
        self.cost.push(cost);
        (self.from.len() - 1) as ArcId
    }
    pub fn node_count(&self) -> usize {
        self.supply.len()
    }
    pub fn arc_count(&self) -> usize {
        self.from.len()
    }
    /// `(from, to, lower, upper, cost)` of an arc. Panics if `arc` is out of range.
    pub fn arc(&self, arc: ArcId) -> (NodeId, NodeId, i64, i64, i64) {
        let a = arc as usize;
        (self.from[a], self.to[a], self.lower[a], self.upper[a], self.cost[a])
    }

    /// Checks the input; returns the artificial cost to use.
    pub(crate) fn validate(&self) -> Result<i64, FlowError> {
        let n = self.node_count();
        let mut max_cost: i64 = 0;
        let mut total: i128 = 0;
        for a in 0..self.arc_count() {
            let (f, t) = (self.from[a] as usize, self.to[a] as usize);
            if f >= n || t >= n {
                return Err(FlowError::BadArc { arc: a as ArcId, reason: "endpoint out of range" });
            }
            if self.lower[a] > self.upper[a] {
                return Err(FlowError::BadArc { arc: a as ArcId, reason: "lower bound above upper bound" });
            }
            max_cost = max_cost.max(self.cost[a].checked_abs().unwrap_or(i64::MAX));
            total += (self.lower[a] as i128).abs() + (self.upper[a] as i128).abs();
        }
        let mut sum: i128 = 0;
        for &s in &self.supply {
            sum += s as i128;
            total += (s as i128).abs();
        }
        if sum != 0 {
            return Err(FlowError::SupplyImbalance { total: sum });
        }
        if total > (1i128 << 62) {
            return Err(FlowError::CapacityRange { total });
        }
        let art = (max_cost as i128 + 1) * (n as i128 + 1);
        if art > (1i128 << 60) {
            return Err(FlowError::CostRange { max_abs_cost: max_cost, nodes: n });
        }
        Ok(art as i64)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Never solved: cold start.
    Fresh,
    /// Bounds, supplies, nodes or arcs changed: rebuild a tree from the old flow.
    Structure,
    /// Only costs changed: keep the tree, recompute potentials.
    Costs,
    /// Nothing changed since the last solve.
    Clean,
}

/// Primal network simplex that owns its [`Network`] and can re-solve warm.
#[derive(Debug, Clone)]
pub struct NetworkSimplex {
    net: Network,
    core: network_simplex::Core,
    phase: Phase,
    last: Option<Status>,
}

impl NetworkSimplex {
    pub fn new(network: Network) -> Self {
        NetworkSimplex { net: network, core: network_simplex::Core::default(), phase: Phase::Fresh, last: None }
    }

    /// The network as currently modified.
    pub fn network(&self) -> &Network {
        &self.net
    }

    /// Solves from scratch the first time, warm afterwards.
    pub fn solve(&mut self) -> Result<Status, FlowError> {
        let art = self.net.validate()?;
        let m = self.net.arc_count();
        self.core.frozen.resize(m, false);
        match self.phase {
            Phase::Fresh => self.core.build(&self.net, None, art),
            Phase::Structure => {
                let hint = self.core.hint(&self.net);
                self.core.build(&self.net, Some(hint), art);
            }
            Phase::Costs => self.core.update_costs(&self.net, art),
            Phase::Clean => {}
        }
        let cold = self.phase == Phase::Fresh;
        self.phase = Phase::Clean;
        let status = self.core.run(cold, art);
        self.last = Some(status);
        Ok(status)
    }

    /// Tuning for tests: renumber the nodes at least every `pivots` tree changes.
    #[doc(hidden)]
    pub fn set_relabel_interval(&mut self, pivots: usize) {
        self.core.relabel_min = pivots.max(1);
    }

    /// Number of simplex pivots done so far (all solves), for statistics.
    pub fn pivot_count(&self) -> u64 {
        self.core.pivots
    }

    /// Status of the last `solve()`, if any.
    pub fn status(&self) -> Option<Status> {
        self.last
    }

    /// Flow on `arc` from the last solve (its lower bound if the arc is newer).
    pub fn flow(&self, arc: ArcId) -> i64 {
        let a = arc as usize;
        if a < self.core.m {
            let i = self.core.pos[a] as usize;
            self.core.lo[i] + self.core.flow[i]
        } else {
            self.net.lower[a]
        }
    }

    pub fn flows(&self) -> Vec<i64> {
        (0..self.net.arc_count()).map(|a| self.flow(a as ArcId)).collect()
    }

    /// Σ flow × current cost.
    pub fn total_cost(&self) -> i128 {
        (0..self.net.arc_count()).map(|a| self.flow(a as ArcId) as i128 * self.net.cost[a] as i128).sum()
    }

    /// Node potential of the last solve (0 for nodes added since).
    pub fn potential(&self, node: NodeId) -> i64 {
        let v = node as usize;
        if v < self.core.n { self.core.potential(v) } else { 0 }
    }

    /// `cost + potential(from) - potential(to)`, saturated to i64.
    pub fn reduced_cost(&self, arc: ArcId) -> i64 {
        let a = arc as usize;
        let rc = self.net.cost[a] as i128 + self.potential(self.net.from[a]) as i128
            - self.potential(self.net.to[a]) as i128;
        rc.clamp(i64::MIN as i128, i64::MAX as i128) as i64
    }

    /// After an `Optimal` solve: freezes every arc with a non-zero reduced cost at its current
    /// flow (it never changes again and never enters the basis until `unfix_all`). The flows
    /// still feasible are exactly the optimal face of the current objective. Does nothing if
    /// the last solve was not `Optimal` or the problem changed since.
    pub fn fix_nonoptimal_arcs(&mut self) {
        if self.last != Some(Status::Optimal) || self.phase != Phase::Clean {
            return;
        }
        self.core.fix_nonoptimal();
    }

    /// Whether `arc` is currently frozen.
    pub fn is_fixed(&self, arc: ArcId) -> bool {
        self.core.frozen.get(arc as usize).copied().unwrap_or(false)
    }

    pub fn unfix_all(&mut self) {
        let needs_rebuild = self.core.unfix_all(self.phase != Phase::Fresh);
        if needs_rebuild && self.phase != Phase::Fresh {
            self.phase = Phase::Structure;
        }
    }

    pub fn set_cost(&mut self, arc: ArcId, cost: i64) {
        self.net.cost[arc as usize] = cost;
        if self.phase == Phase::Clean {
            self.phase = Phase::Costs;
        }
    }

    fn structure_changed(&mut self) {
        if self.phase != Phase::Fresh {
            self.phase = Phase::Structure;
        }
    }

    pub fn set_bounds(&mut self, arc: ArcId, lower: i64, upper: i64) {
        self.net.lower[arc as usize] = lower;
        self.net.upper[arc as usize] = upper;
        self.structure_changed();
    }

    pub fn set_supply(&mut self, node: NodeId, supply: i64) {
        self.net.set_supply(node, supply);
        self.structure_changed();
    }

    pub fn add_node(&mut self) -> NodeId {
        self.structure_changed();
        self.net.add_node()
    }

    pub fn add_arc(&mut self, from: NodeId, to: NodeId, lower: i64, upper: i64, cost: i64) -> ArcId {
        self.structure_changed();
        self.net.add_arc(from, to, lower, upper, cost)
    }

    pub fn node_count(&self) -> usize {
        self.net.node_count()
    }

    pub fn arc_count(&self) -> usize {
        self.net.arc_count()
    }
}

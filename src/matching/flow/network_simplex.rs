//! Primal network simplex in the style of LEMON's `NetworkSimplex`: an artificial root joined
//! to every node by an artificial arc, a spanning tree stored as parent / pred arc /
//! direction / thread / reverse thread / subtree size / last successor per node, block-search
//! pivoting, strongly feasible trees (leaving arc chosen with `<` on one side of the cycle and
//! `<=` on the other), cheap initial pivots into demand nodes, and potentials updated only on
//! the moved subtree. Flows are stored shifted by the lower bound (`0 ..= cap`).
//!
//! Warm starts: `build` with a [`Hint`] makes a strongly feasible starting tree from the old
//! flow (old tree arcs, then arcs strictly inside their bounds, form a forest; arcs closing a
//! cycle go to a bound; tree flows are recomputed bottom-up and a tree arc that would leave
//! its bounds, or break strong feasibility, is cut and its subtree hung on the root by an
//! artificial arc). Artificial arcs of a warm tree get the cost that keeps the old
//! potentials; `run` raises any artificial arc still carrying flow at the end to the big-M
//! cost and keeps pivoting, so infeasibility is still decided exactly.

use super::Network;
use super::Status;

const INF: i64 = i64::MAX;
const UP: i8 = 1;
const DOWN: i8 = -1;
const LOWER: i8 = 1;
const UPPER: i8 = -1;
const TREE: i8 = 0;
const NONE: u32 = u32::MAX;

/// What a warm start keeps from the previous solve.
pub(super) struct Hint {
    /// Old flows in original units, one per old real arc.
    flow: Vec<i64>,
    /// Whether each old real arc was in the spanning tree.
    in_tree: Vec<bool>,
    /// Old nodes in thread (preorder) order.
    order: Vec<u32>,
    /// Old potentials, one per old node.
    pi: Vec<i64>,
}

#[derive(Debug, Clone, Copy, Default)]
struct TreeNode {
    parent: u32,
    pred: u32,
    succ_num: u32,
    dir: i8,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Core {
    pub(super) n: usize,
    pub(super) m: usize,
    root: usize,
    // Arcs: 0..m real, m..m+n artificial (m + u belongs to node u).
    source: Vec<u32>,
    target: Vec<u32>,
    cost: Vec<i64>,
    cap: Vec<i64>,
    pub(super) flow: Vec<i64>,
    state: Vec<i8>,
    pub(super) lo: Vec<i64>,
    /// Frozen flags by external arc id.
    pub(super) frozen: Vec<bool>,
    /// External arc id -> internal position, and back (arcs are stored in LEMON's mixed
    /// order so that block search samples the whole network).
    pub(super) pos: Vec<u32>,
    ext: Vec<u32>,
    /// External node id -> internal id, and back (nodes are renumbered in thread order
    /// from time to time so that subtree walks run through memory in order).
    pub(super) node_pos: Vec<u32>,
    node_ext: Vec<u32>,
    pivots_since_relabel: usize,
    /// Minimum number of tree changes between renumberings (0: default).
    pub(super) relabel_min: usize,
    /// Pivots done (statistics).
    pub(super) pivots: u64,
    // Nodes: 0..n real, n = root.
    pub(super) pi: Vec<i64>,
    /// Parent, pred arc, subtree size and pred direction, together: the cycle climb reads
    /// them all for each node.
    nd: Vec<TreeNode>,
    thread: Vec<u32>,
    rev_thread: Vec<u32>,
    last_succ: Vec<u32>,
    dirty_revs: Vec<u32>,
    // Pivot state.
    block_size: usize,
    next_arc: usize,
    in_arc: usize,
    join: usize,
    u_in: usize,
    v_in: usize,
    u_out: usize,
    delta: i64,
}

impl Core {
    /// Potential of an external node, relative to the root.
    pub(super) fn potential(&self, v: usize) -> i64 {
        self.pi[self.node_pos[v] as usize].wrapping_sub(self.pi[self.root])
    }

    /// Only costs changed: copy them in, keep the tree, recompute potentials.
    pub(super) fn update_costs(&mut self, net: &Network, art: i64) {
        for i in 0..self.m {
            self.cost[i] = net.cost[self.ext[i] as usize];
        }
        for e in self.m..self.m + self.n {
            self.cost[e] = self.cost[e].clamp(-art, art);
        }
        self.compute_potentials();
    }

    pub(super) fn fix_nonoptimal(&mut self) {
        for a in 0..self.m {
            if self.state[a] != TREE {
                let rc = self.cost[a]
                    .wrapping_add(self.pi[self.source[a] as usize])
                    .wrapping_sub(self.pi[self.target[a] as usize]);
                if rc != 0 {
                    self.frozen[self.ext[a] as usize] = true;
                    self.state[a] = TREE;
                }
            }
        }
    }

    /// Lifts every freeze; returns true if a frozen arc sits strictly inside its bounds
    /// (then the tree must be rebuilt).
    pub(super) fn unfix_all(&mut self, built: bool) -> bool {
        let mut rebuild = false;
        for e in 0..self.frozen.len() {
            if !self.frozen[e] {
                continue;
            }
            self.frozen[e] = false;
            if !built || e >= self.m {
                continue;
            }
            let a = self.pos[e] as usize;
            if self.flow[a] == 0 {
                self.state[a] = LOWER;
            } else if self.flow[a] == self.cap[a] {
                self.state[a] = UPPER;
            } else {
                rebuild = true;
            }
        }
        rebuild
    }

    /// Pivots to optimality; decides feasibility.
    pub(super) fn run(&mut self, cold: bool, art: i64) -> Status {
        if self.n == 0 {
            return Status::Optimal;
        }
        if cold {
            self.initial_pivots();
        }
        loop {
            // Renumber after n/10 tree changes (at least 1000): O(n + m) each time, and it
            // keeps subtree walks close to sequential in memory.
            let every = if self.relabel_min == 0 { (self.n / 10).max(1000) } else { self.relabel_min };
            while self.find_entering_arc() {
                self.pivot();
                if self.pivots_since_relabel >= every {
                    self.relabel();
                }
            }
            // Artificial arcs still carrying flow must have the big-M cost before
            // infeasibility can be concluded.
            let mut raised = false;
            let mut carrying = false;
            for u in 0..self.n {
                let e = self.m + u;
                if self.flow[e] == 0 {
                    continue;
                }
                carrying = true;
                let want = if self.target[e] as usize == self.root { 0 } else { art };
                if self.cost[e] < want {
                    self.cost[e] = want;
                    raised = true;
                }
            }
            if !carrying {
                return Status::Optimal;
            }
            if !raised {
                return Status::Infeasible;
            }
            self.compute_potentials();
        }
    }

    /// Renumbers the nodes in thread order (the root keeps its id) so that subtrees sit
    /// contiguously in memory. O(n + m).
    fn relabel(&mut self) {
        self.pivots_since_relabel = 0;
        let (n, root) = (self.n, self.root);
        let mut new_id = vec![0u32; n + 1];
        new_id[root] = root as u32;
        let mut u = self.thread[root] as usize;
        let mut k = 0u32;
        while u != root {
            new_id[u] = k;
            k += 1;
            u = self.thread[u] as usize;
        }
        fn permute<T: Copy>(v: &mut [T], new_id: &[u32], map: impl Fn(T) -> T) {
            let old = v.to_vec();
            for (u, &x) in old.iter().enumerate() {
                v[new_id[u] as usize] = map(x);
            }
        }
        let node = |x: u32| if x == NONE { NONE } else { new_id[x as usize] };
        permute(&mut self.pi, &new_id, |x| x);
        permute(&mut self.nd, &new_id, |x| TreeNode { parent: node(x.parent), ..x });
        permute(&mut self.thread, &new_id, node);
        permute(&mut self.rev_thread, &new_id, node);
        permute(&mut self.last_succ, &new_id, node);
        for x in self.source.iter_mut().chain(self.target.iter_mut()) {
            *x = new_id[*x as usize];
        }
        for v in 0..n {
            let p = new_id[self.node_pos[v] as usize];
            self.node_pos[v] = p;
            self.node_ext[p as usize] = v as u32;
        }
    }

    fn pivot(&mut self) {
        let change = self.find_join_and_leaving();
        self.change_flow(change);
        self.pivots += 1;
        if change {
            self.pivots_since_relabel += 1;
            self.update_tree_structure();
            self.update_potential();
        }
    }

    fn initial_pivots(&mut self) {
        let (n, m) = (self.n, self.m);
        // Net supply per node after the lower-bound shift = artificial flow direction.
        let mut best: Vec<u32> = vec![NONE; n];
        for a in 0..m {
            if self.state[a] == TREE {
                continue;
            }
            let v = self.target[a] as usize;
            let b = best[v];
            if b == NONE || self.cost[a] < self.cost[b as usize] {
                best[v] = a as u32;
            }
        }
        for v in (0..n).rev() {
            let e = self.nd[v].pred as usize;
            if e < m || self.nd[v].dir != DOWN || self.flow[e] == 0 {
                continue;
            }
            let a = best[v];
            if a == NONE {
                continue;
            }
            let a = a as usize;
            let rc = self.cost[a]
                .wrapping_add(self.pi[self.source[a] as usize])
                .wrapping_sub(self.pi[self.target[a] as usize]);
            if self.state[a] as i64 * rc >= 0 {
                continue;
            }
            self.in_arc = a;
            self.pivot();
        }
    }

    /// Block search: scan `block_size` arcs round-robin, take the best; stop at the first
    /// block with a candidate.
    fn find_entering_arc(&mut self) -> bool {
        let m = self.m;
        let (state, cost, source, target, pi) =
            (&self.state[..m], &self.cost[..m], &self.source[..m], &self.target[..m], &self.pi[..]);
        let bs = self.block_size;
        let start = self.next_arc;
        let mut min = 0i64;
        let mut best = 0usize;
        let (mut e, mut scanned, mut left) = (start, 0usize, bs);
        while scanned < m {
            // a run of arcs inside one block and before the wrap-around
            let end = (e + left).min(m).min(e + (m - scanned));
            let run = state[e..end].iter().zip(&cost[e..end]).zip(&source[e..end]).zip(&target[e..end]);
            for (k, (((&st, &c), &s), &t)) in run.enumerate() {
                let r = st as i64 * c.wrapping_add(pi[s as usize]).wrapping_sub(pi[t as usize]);
                if r < min {
                    min = r;
                    best = e + k;
                }
            }
            scanned += end - e;
            left -= end - e;
            e = if end == m { 0 } else { end };
            if left == 0 {
                if min < 0 {
                    self.in_arc = best;
                    self.next_arc = e;
                    return true;
                }
                left = bs;
            }
        }
        if min < 0 {
            self.in_arc = best;
            self.next_arc = start;
            return true;
        }
        false
    }

    /// Finds the join node and, in the same climb, the leaving arc by the strongly feasible
    /// rule (LEMON's two passes fused): on the side of `first` the bottom-most arc with the
    /// least residual (`<`), on the side of `second` the top-most (`<=`), the second side
    /// winning ties. Returns false if the entering arc just flips to its other bound.
    fn find_join_and_leaving(&mut self) -> bool {
        let in_arc = self.in_arc;
        let (first, second) = if self.state[in_arc] == LOWER {
            (self.source[in_arc] as usize, self.target[in_arc] as usize)
        } else {
            (self.target[in_arc] as usize, self.source[in_arc] as usize)
        };
        let (mut d1, mut u1) = (self.cap[in_arc], NONE as usize);
        let (mut d2, mut u2) = (INF, NONE as usize);
        let (mut u, mut v) = (first, second);
        while u != v {
            if self.nd[u].succ_num < self.nd[v].succ_num {
                let e = self.nd[u].pred as usize;
                let f = self.flow[e];
                let d = if self.nd[u].dir == DOWN {
                    let c = self.cap[e];
                    if c == INF { INF } else { c - f }
                } else {
                    f
                };
                if d < d1 {
                    d1 = d;
                    u1 = u;
                }
                u = self.nd[u].parent as usize;
            } else {
                let e = self.nd[v].pred as usize;
                let f = self.flow[e];
                let d = if self.nd[v].dir == UP {
                    let c = self.cap[e];
                    if c == INF { INF } else { c - f }
                } else {
                    f
                };
                if d <= d2 {
                    d2 = d;
                    u2 = v;
                }
                v = self.nd[v].parent as usize;
            }
        }
        self.join = u;
        if u2 != NONE as usize && d2 <= d1 {
            self.delta = d2;
            self.u_out = u2;
            self.u_in = second;
            self.v_in = first;
            true
        } else if u1 != NONE as usize {
            self.delta = d1;
            self.u_out = u1;
            self.u_in = first;
            self.v_in = second;
            true
        } else {
            self.delta = d1;
            false
        }
    }

    fn change_flow(&mut self, change: bool) {
        let in_arc = self.in_arc;
        if self.delta > 0 {
            let val = self.state[in_arc] as i64 * self.delta;
            self.flow[in_arc] += val;
            let mut u = self.source[in_arc] as usize;
            while u != self.join {
                self.flow[self.nd[u].pred as usize] -= self.nd[u].dir as i64 * val;
                u = self.nd[u].parent as usize;
            }
            u = self.target[in_arc] as usize;
            while u != self.join {
                self.flow[self.nd[u].pred as usize] += self.nd[u].dir as i64 * val;
                u = self.nd[u].parent as usize;
            }
        }
        if change {
            self.state[in_arc] = TREE;
            let out = self.nd[self.u_out].pred as usize;
            self.state[out] = if self.flow[out] == 0 { LOWER } else { UPPER };
        } else {
            self.state[in_arc] = -self.state[in_arc];
        }
    }
}

#[path = "start_tree.rs"]
mod start_tree;
#[path = "tree_update.rs"]
mod tree_update;

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
    pub(super) frozen: Vec<bool>,
    // Nodes: 0..n real, n = root.
    pub(super) pi: Vec<i64>,
    parent: Vec<u32>,
    pred: Vec<u32>,
    pred_dir: Vec<i8>,
    thread: Vec<u32>,
    rev_thread: Vec<u32>,
    succ_num: Vec<u32>,
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
    /// Captures what a warm start needs from the current state.
    pub(super) fn hint(&self, net: &Network) -> Hint {
        let m = self.m;
        let flow = (0..m).map(|a| self.lo[a] + self.flow[a]).collect();
        let mut in_tree = vec![false; m];
        for u in 0..self.n {
            let p = self.pred[u] as usize;
            if p < m {
                in_tree[p] = true;
            }
        }
        let mut order = Vec::with_capacity(net.node_count());
        let mut u = self.thread[self.root] as usize;
        while u != self.root {
            order.push(u as u32);
            u = self.thread[u] as usize;
        }
        Hint { flow, in_tree, order, pi: self.pi[..self.n].to_vec() }
    }

    /// Builds the arrays and a strongly feasible starting tree (cold if `hint` is `None`).
    pub(super) fn build(&mut self, net: &Network, hint: Option<Hint>, art: i64) {
        let n = net.node_count();
        let m = net.arc_count();
        let root = n;
        self.n = n;
        self.m = m;
        self.root = root;
        let all = m + n;
        self.source.resize(all, 0);
        self.target.resize(all, 0);
        self.cost.resize(all, 0);
        self.cap.resize(all, 0);
        self.flow.resize(all, 0);
        self.state.resize(all, LOWER);
        self.lo.resize(m, 0);
        self.frozen.resize(m, false);
        for v in [&mut self.parent, &mut self.pred, &mut self.thread, &mut self.rev_thread, &mut self.succ_num, &mut self.last_succ] {
            v.resize(n + 1, 0);
        }
        self.pred_dir.resize(n + 1, UP);
        self.pi.resize(n + 1, 0);

        // Real arcs, flows (shifted by the lower bound), supplies.
        let mut excess: Vec<i64> = net.supply.clone();
        for a in 0..m {
            let (l, u) = (net.lower[a], net.upper[a]);
            self.source[a] = net.from[a];
            self.target[a] = net.to[a];
            self.cost[a] = net.cost[a];
            self.lo[a] = l;
            self.cap[a] = u - l;
            let x = match &hint {
                Some(h) if a < h.flow.len() => h.flow[a].clamp(l, u) - l,
                _ => 0,
            };
            self.flow[a] = x;
            excess[net.from[a] as usize] -= l;
            excess[net.to[a] as usize] += l;
        }

        // Forest of tree candidates (warm only).
        let mut in_forest = vec![false; if hint.is_some() { m } else { 0 }];
        if let Some(h) = &hint {
            let mut uf: Vec<u32> = (0..n as u32).collect();
            fn find(uf: &mut [u32], mut x: u32) -> u32 {
                while uf[x as usize] != x {
                    let p = uf[uf[x as usize] as usize];
                    uf[x as usize] = p;
                    x = p;
                }
                x
            }
            let try_add = |a: usize, uf: &mut Vec<u32>| -> bool {
                let (r1, r2) = (find(uf, self.source[a]), find(uf, self.target[a]));
                if r1 == r2 {
                    return false;
                }
                uf[r1 as usize] = r2;
                true
            };
            for a in 0..h.in_tree.len() {
                if h.in_tree[a] && !self.frozen[a] && try_add(a, &mut uf) {
                    in_forest[a] = true;
                }
            }
            for a in 0..m {
                if in_forest[a] || self.frozen[a] {
                    continue;
                }
                let (x, c) = (self.flow[a], self.cap[a]);
                if x > 0 && x < c {
                    if try_add(a, &mut uf) {
                        in_forest[a] = true;
                    } else {
                        self.flow[a] = if x <= c - x { 0 } else { c };
                    }
                }
            }
        }
        for a in 0..m {
            let forest = hint.is_some() && in_forest[a];
            if forest {
                continue;
            }
            self.state[a] = if self.frozen[a] {
                TREE
            } else if self.flow[a] == 0 {
                LOWER
            } else {
                UPPER
            };
            excess[self.source[a] as usize] -= self.flow[a];
            excess[self.target[a] as usize] += self.flow[a];
        }

        // Root the forest: anchors in old thread order, then new nodes.
        let mut visit: Vec<u32> = Vec::with_capacity(n);
        for u in 0..n {
            self.parent[u] = root as u32;
        }
        if let Some(h) = &hint {
            // CSR adjacency of forest arcs.
            let mut start = vec![0u32; n + 1];
            for a in 0..m {
                if in_forest[a] {
                    start[self.source[a] as usize] += 1;
                    start[self.target[a] as usize] += 1;
                }
            }
            let mut acc = 0u32;
            for s in start.iter_mut() {
                let c = *s;
                *s = acc;
                acc += c;
            }
            let mut fill = start.clone();
            let mut adj = vec![0u32; acc as usize];
            for a in 0..m {
                if in_forest[a] {
                    for e in [self.source[a], self.target[a]] {
                        adj[fill[e as usize] as usize] = a as u32;
                        fill[e as usize] += 1;
                    }
                }
            }
            let mut seen = vec![false; n];
            let mut stack: Vec<u32> = Vec::new();
            let anchors = h.order.iter().copied().filter(|&u| (u as usize) < n).chain(0..n as u32);
            for r in anchors {
                if seen[r as usize] {
                    continue;
                }
                seen[r as usize] = true;
                stack.push(r);
                while let Some(u) = stack.pop() {
                    visit.push(u);
                    let u = u as usize;
                    for &a in &adj[start[u] as usize..start[u + 1] as usize] {
                        let a = a as usize;
                        let (s, t) = (self.source[a] as usize, self.target[a] as usize);
                        let w = if s == u { t } else { s };
                        if !seen[w] {
                            seen[w] = true;
                            self.parent[w] = u as u32;
                            self.pred[w] = a as u32;
                            self.pred_dir[w] = if s == w { UP } else { DOWN };
                            stack.push(w as u32);
                        }
                    }
                }
            }
            // Bottom-up tree flows; cut arcs that would leave their bounds.
            for &u in visit.iter().rev() {
                let u = u as usize;
                let p = self.parent[u] as usize;
                if p == root {
                    continue;
                }
                let a = self.pred[u] as usize;
                let s = excess[u];
                let c = self.cap[a];
                let up = self.pred_dir[u] == UP;
                let want = if up { s } else { -s };
                let ok = if up { want >= 0 && want < c } else { want > 0 && want <= c };
                if ok {
                    self.flow[a] = want;
                    self.state[a] = TREE;
                    excess[p] += s;
                    excess[u] = 0;
                } else {
                    let f = want.clamp(0, c);
                    self.flow[a] = f;
                    self.state[a] = if f == 0 { LOWER } else { UPPER };
                    let carried = if up { f } else { -f };
                    excess[p] += carried;
                    excess[u] = s - carried;
                    self.parent[u] = root as u32;
                }
            }
        }

        // Artificial arcs: a tree arc for every node hanging on the root.
        let old_pi = hint.as_ref().map(|h| &h.pi);
        for u in 0..n {
            let e = m + u;
            self.cap[e] = INF;
            if self.parent[u] as usize != root {
                self.source[e] = u as u32;
                self.target[e] = root as u32;
                self.flow[e] = 0;
                self.cost[e] = 0;
                self.state[e] = LOWER;
                continue;
            }
            self.pred[u] = e as u32;
            self.state[e] = TREE;
            let keep = old_pi.and_then(|p| p.get(u)).copied().filter(|p| p.abs() <= art);
            if excess[u] >= 0 {
                self.pred_dir[u] = UP;
                self.source[e] = u as u32;
                self.target[e] = root as u32;
                self.flow[e] = excess[u];
                self.cost[e] = keep.map_or(0, |p| -p);
            } else {
                self.pred_dir[u] = DOWN;
                self.source[e] = root as u32;
                self.target[e] = u as u32;
                self.flow[e] = -excess[u];
                self.cost[e] = keep.unwrap_or(art);
            }
        }
        self.parent[root] = NONE;
        self.pred[root] = NONE;
        self.rebuild_thread();
        self.compute_potentials();
        self.block_size = ((m as f64).sqrt() as usize).max(10);
        self.next_arc = 0;
    }

    /// thread / rev_thread / succ_num / last_succ from `parent` (preorder DFS from the root).
    fn rebuild_thread(&mut self) {
        let n = self.n;
        let root = self.root;
        let mut start = vec![0u32; n + 2];
        for u in 0..n {
            start[self.parent[u] as usize] += 1;
        }
        let mut acc = 0u32;
        for s in start.iter_mut() {
            let c = *s;
            *s = acc;
            acc += c;
        }
        let mut fill = start.clone();
        let mut children = vec![0u32; n];
        for u in 0..n {
            let p = self.parent[u] as usize;
            children[fill[p] as usize] = u as u32;
            fill[p] += 1;
        }
        let mut order: Vec<u32> = Vec::with_capacity(n + 1);
        let mut stack: Vec<u32> = vec![root as u32];
        while let Some(u) = stack.pop() {
            order.push(u);
            let u = u as usize;
            stack.extend(children[start[u] as usize..start[u + 1] as usize].iter().rev());
        }
        for i in 0..order.len() {
            let u = order[i] as usize;
            let next = order[(i + 1) % order.len()];
            self.thread[u] = next;
            self.rev_thread[next as usize] = u as u32;
        }
        for i in (0..order.len()).rev() {
            let u = order[i] as usize;
            let mut cnt = 1u32;
            for &c in &children[start[u] as usize..start[u + 1] as usize] {
                cnt += self.succ_num[c as usize];
            }
            self.succ_num[u] = cnt;
            self.last_succ[u] = order[i + cnt as usize - 1];
        }
    }

    /// Potentials from the tree: every tree arc gets reduced cost 0, the root 0.
    fn compute_potentials(&mut self) {
        let root = self.root;
        self.pi[root] = 0;
        let mut u = self.thread[root] as usize;
        while u != root {
            let p = self.parent[u] as usize;
            let e = self.pred[u] as usize;
            self.pi[u] = self.pi[p] - self.pred_dir[u] as i64 * self.cost[e];
            u = self.thread[u] as usize;
        }
    }

    /// Only costs changed: copy them in, keep the tree, recompute potentials.
    pub(super) fn update_costs(&mut self, net: &Network, art: i64) {
        self.cost[..self.m].copy_from_slice(&net.cost);
        for e in self.m..self.m + self.n {
            self.cost[e] = self.cost[e].clamp(-art, art);
        }
        self.compute_potentials();
    }

    pub(super) fn fix_nonoptimal(&mut self) {
        for a in 0..self.m {
            if self.state[a] != TREE && !self.frozen[a] {
                let rc = self.cost[a] + self.pi[self.source[a] as usize] - self.pi[self.target[a] as usize];
                if rc != 0 {
                    self.frozen[a] = true;
                    self.state[a] = TREE;
                }
            }
        }
    }

    /// Lifts every freeze; returns true if a frozen arc sits strictly inside its bounds
    /// (then the tree must be rebuilt).
    pub(super) fn unfix_all(&mut self, built: bool) -> bool {
        let mut rebuild = false;
        for a in 0..self.frozen.len() {
            if !self.frozen[a] {
                continue;
            }
            self.frozen[a] = false;
            if !built || a >= self.m {
                continue;
            }
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
            while self.find_entering_arc() {
                self.pivot();
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
                let want = if self.source[e] as usize == u { 0 } else { art };
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

    fn pivot(&mut self) {
        if std::env::var_os("LCM_FLOW_STATS").is_some() { self.stats(); }
        self.find_join_node();
        let change = self.find_leaving_arc();
        self.change_flow(change);
        if change {
            if std::env::var_os("LCM_FLOW_STATS").is_some() {
                thread_local!(static T: std::cell::Cell<(u64,u64)> = const { std::cell::Cell::new((0,0)) });
                let sz = self.succ_num[self.u_out] as u64;
                T.with(|t| { let (a,b)=t.get(); let x=(a+1,b+sz); t.set(x); if x.0 % 100000 == 0 { eprintln!("changes {} avg moved subtree {}", x.0, x.1/x.0); } });
            }
            self.update_tree_structure();
            self.update_potential();
        }
    }

    fn stats(&mut self) {
        thread_local!(static S: std::cell::Cell<(u64,u64,u64)> = const { std::cell::Cell::new((0,0,0)) });
        let mut u = self.source[self.in_arc] as usize; let mut v = self.target[self.in_arc] as usize;
        let mut len = 0u64;
        while u != v { if self.succ_num[u] < self.succ_num[v] { u = self.parent[u] as usize } else { v = self.parent[v] as usize } len += 1; }
        S.with(|s| { let (a,b,c) = s.get(); let x=(a+1,b+len, c + self.succ_num[self.source[self.in_arc] as usize].min(self.succ_num[self.target[self.in_arc] as usize]) as u64); s.set(x); if x.0 % 20000 == 0 { eprintln!("pivots {} avg cycle {} avg minsub {}", x.0, x.1/x.0, x.2/x.0); } });
    }

    fn initial_pivots(&mut self) {
        let (n, m) = (self.n, self.m);
        // Net supply per node after the lower-bound shift = artificial flow direction.
        let mut best: Vec<u32> = vec![NONE; n];
        for a in 0..m {
            if self.frozen[a] {
                continue;
            }
            let v = self.target[a] as usize;
            let b = best[v];
            if b == NONE || self.cost[a] < self.cost[b as usize] {
                best[v] = a as u32;
            }
        }
        for v in 0..n {
            let e = m + v;
            if self.pred[v] as usize != e || self.pred_dir[v] != DOWN || self.flow[e] == 0 {
                continue;
            }
            let a = best[v];
            if a == NONE {
                continue;
            }
            let a = a as usize;
            let rc = self.cost[a] + self.pi[self.source[a] as usize] - self.pi[self.target[a] as usize];
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
        let (state, cost, source, target, pi) = (&self.state[..m], &self.cost[..m], &self.source[..m], &self.target[..m], &self.pi[..]);
        let mut min = 0i64;
        let mut best = 0usize;
        let mut cnt = self.block_size;
        let start = self.next_arc;
        for e in (start..m).chain(0..start) {
            let c = state[e] as i64 * (cost[e] + pi[source[e] as usize] - pi[target[e] as usize]);
            if c < min {
                min = c;
                best = e;
            }
            cnt -= 1;
            if cnt == 0 {
                if min < 0 {
                    self.in_arc = best;
                    self.next_arc = if e + 1 == m { 0 } else { e + 1 };
                    return true;
                }
                cnt = self.block_size;
            }
        }
        if min < 0 {
            self.in_arc = best;
            self.next_arc = start;
            return true;
        }
        false
    }

    fn find_join_node(&mut self) {
        let mut u = self.source[self.in_arc] as usize;
        let mut v = self.target[self.in_arc] as usize;
        while u != v {
            if self.succ_num[u] < self.succ_num[v] {
                u = self.parent[u] as usize;
            } else {
                v = self.parent[v] as usize;
            }
        }
        self.join = u;
    }

    /// Strongly feasible leaving-arc rule; false if the entering arc just flips bound.
    fn find_leaving_arc(&mut self) -> bool {
        let in_arc = self.in_arc;
        let (first, second) = if self.state[in_arc] == LOWER {
            (self.source[in_arc] as usize, self.target[in_arc] as usize)
        } else {
            (self.target[in_arc] as usize, self.source[in_arc] as usize)
        };
        let mut delta = self.cap[in_arc];
        let mut result = 0;
        let join = self.join;
        let mut u = first;
        while u != join {
            let e = self.pred[u] as usize;
            let mut d = self.flow[e];
            if self.pred_dir[u] == DOWN {
                let c = self.cap[e];
                d = if c == INF { INF } else { c - d };
            }
            if d < delta {
                delta = d;
                self.u_out = u;
                result = 1;
            }
            u = self.parent[u] as usize;
        }
        u = second;
        while u != join {
            let e = self.pred[u] as usize;
            let mut d = self.flow[e];
            if self.pred_dir[u] == UP {
                let c = self.cap[e];
                d = if c == INF { INF } else { c - d };
            }
            if d <= delta {
                delta = d;
                self.u_out = u;
                result = 2;
            }
            u = self.parent[u] as usize;
        }
        if result == 1 {
            self.u_in = first;
            self.v_in = second;
        } else {
            self.u_in = second;
            self.v_in = first;
        }
        self.delta = delta;
        result != 0
    }

    fn change_flow(&mut self, change: bool) {
        let in_arc = self.in_arc;
        if self.delta > 0 {
            let val = self.state[in_arc] as i64 * self.delta;
            self.flow[in_arc] += val;
            let mut u = self.source[in_arc] as usize;
            while u != self.join {
                self.flow[self.pred[u] as usize] -= self.pred_dir[u] as i64 * val;
                u = self.parent[u] as usize;
            }
            u = self.target[in_arc] as usize;
            while u != self.join {
                self.flow[self.pred[u] as usize] += self.pred_dir[u] as i64 * val;
                u = self.parent[u] as usize;
            }
        }
        if change {
            self.state[in_arc] = TREE;
            let out = self.pred[self.u_out] as usize;
            self.state[out] = if self.flow[out] == 0 { LOWER } else { UPPER };
        } else {
            self.state[in_arc] = -self.state[in_arc];
        }
    }
}

#[path = "tree_update.rs"]
mod tree_update;

//! Starting trees: `build` lays out the arrays (arcs in LEMON's mixed order, artificial
//! arcs to the root) and makes a strongly feasible spanning tree, cold (every node hangs on
//! the root, LEMON's start) or warm from a [`Hint`] of the previous solve (see the parent
//! module's doc); `rebuild_thread` and `compute_potentials` derive the thread order and the
//! potentials from the parent pointers.

#![allow(clippy::needless_range_loop)] // parallel arrays are indexed by arc / node id

use super::{Core, DOWN, Hint, INF, LOWER, NONE, TREE, TreeNode, UP, UPPER};
use crate::matching::flow::Network;

impl Core {
    /// Captures what a warm start needs from the current state.
    pub(in crate::matching::flow) fn hint(&self, net: &Network) -> Hint {
        let m = self.m;
        let flow = (0..m)
            .map(|a| {
                let i = self.pos[a] as usize;
                self.lo[i] + self.flow[i]
            })
            .collect();
        let mut in_tree = vec![false; m];
        for u in 0..self.n {
            let p = self.nd[u].pred as usize;
            if p < m {
                in_tree[self.ext[p] as usize] = true;
            }
        }
        let mut order = Vec::with_capacity(net.node_count());
        let mut u = self.thread[self.root] as usize;
        while u != self.root {
            order.push(self.node_ext[u]);
            u = self.thread[u] as usize;
        }
        let pi = (0..self.n).map(|v| self.pi[self.node_pos[v] as usize].wrapping_sub(self.pi[self.root])).collect();
        Hint { flow, in_tree, order, pi }
    }

    /// Builds the arrays and a strongly feasible starting tree (cold if `hint` is `None`).
    pub(in crate::matching::flow) fn build(&mut self, net: &Network, hint: Option<Hint>, art: i64) {
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
        // LEMON's arc mixing: walk the arcs from the last, placing them `skip` apart.
        self.pos.resize(m, 0);
        self.ext.resize(m, 0);
        if n > 1 {
            let skip = (m / n).max(3);
            let (mut i, mut j) = (0usize, 0usize);
            for a in (0..m).rev() {
                self.pos[a] = i as u32;
                self.ext[i] = a as u32;
                i += skip;
                if i >= m {
                    j += 1;
                    i = j;
                }
            }
        } else {
            for a in 0..m {
                self.pos[a] = a as u32;
                self.ext[a] = a as u32;
            }
        }
        let frozen: Vec<bool> = (0..m).map(|i| self.frozen[self.ext[i] as usize]).collect();
        for v in [&mut self.thread, &mut self.rev_thread, &mut self.last_succ] {
            v.resize(n + 1, 0);
        }
        self.nd.resize(n + 1, TreeNode { parent: 0, pred: 0, succ_num: 0, dir: UP });
        self.node_pos.clear();
        self.node_pos.extend(0..n as u32);
        self.node_ext.clear();
        self.node_ext.extend(0..n as u32);
        self.pivots_since_relabel = 0;
        self.pi.resize(n + 1, 0);

        // Real arcs, flows (shifted by the lower bound), supplies.
        let mut excess: Vec<i64> = net.supply.clone();
        for i in 0..m {
            let a = self.ext[i] as usize;
            let (l, u) = (net.lower[a], net.upper[a]);
            self.source[i] = net.from[a];
            self.target[i] = net.to[a];
            self.cost[i] = net.cost[a];
            self.lo[i] = l;
            self.cap[i] = u - l;
            let x = match &hint {
                Some(h) if a < h.flow.len() => h.flow[a].clamp(l, u) - l,
                _ => 0,
            };
            self.flow[i] = x;
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
                let i = self.pos[a] as usize;
                if h.in_tree[a] && !frozen[i] && try_add(i, &mut uf) {
                    in_forest[i] = true;
                }
            }
            for a in 0..m {
                if in_forest[a] || frozen[a] {
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
            self.state[a] = if frozen[a] {
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
            self.nd[u].parent = root as u32;
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
                            self.nd[w].parent = u as u32;
                            self.nd[w].pred = a as u32;
                            self.nd[w].dir = if s == w { UP } else { DOWN };
                            stack.push(w as u32);
                        }
                    }
                }
            }
            // Bottom-up tree flows; cut arcs that would leave their bounds.
            for &u in visit.iter().rev() {
                let u = u as usize;
                let p = self.nd[u].parent as usize;
                if p == root {
                    continue;
                }
                let a = self.nd[u].pred as usize;
                let s = excess[u];
                let c = self.cap[a];
                let up = self.nd[u].dir == UP;
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
                    self.nd[u].parent = root as u32;
                }
            }
        }

        // Artificial arcs: a tree arc for every node hanging on the root.
        let old_pi = hint.as_ref().map(|h| &h.pi);
        for u in 0..n {
            let e = m + u;
            self.cap[e] = INF;
            if self.nd[u].parent as usize != root {
                self.source[e] = u as u32;
                self.target[e] = root as u32;
                self.flow[e] = 0;
                self.cost[e] = 0;
                self.state[e] = LOWER;
                continue;
            }
            self.nd[u].pred = e as u32;
            self.state[e] = TREE;
            let keep = old_pi.and_then(|p| p.get(u)).copied().filter(|p| p.abs() <= art);
            if excess[u] >= 0 {
                self.nd[u].dir = UP;
                self.source[e] = u as u32;
                self.target[e] = root as u32;
                self.flow[e] = excess[u];
                self.cost[e] = keep.map_or(0, |p| -p);
            } else {
                self.nd[u].dir = DOWN;
                self.source[e] = root as u32;
                self.target[e] = u as u32;
                self.flow[e] = -excess[u];
                self.cost[e] = keep.unwrap_or(art);
            }
        }
        self.nd[root].parent = NONE;
        self.nd[root].pred = NONE;
        self.rebuild_thread();
        self.compute_potentials();
        self.block_size = ((m as f64).sqrt() as usize).max(10);
        self.next_arc = 0;
    }

    /// thread / rev_thread / succ_num / last_succ from `parent` (preorder DFS from the root).
    pub(super) fn rebuild_thread(&mut self) {
        let n = self.n;
        let root = self.root;
        let mut start = vec![0u32; n + 2];
        for u in 0..n {
            start[self.nd[u].parent as usize] += 1;
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
            let p = self.nd[u].parent as usize;
            children[fill[p] as usize] = u as u32;
            fill[p] += 1;
        }
        let mut order: Vec<u32> = Vec::with_capacity(n + 1);
        let mut stack: Vec<u32> = vec![root as u32];
        while let Some(u) = stack.pop() {
            order.push(u);
            let u = u as usize;
            // children pushed in increasing order => visited in decreasing order (as LEMON,
            // whose node iteration runs from the last node).
            stack.extend(children[start[u] as usize..start[u + 1] as usize].iter());
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
                cnt += self.nd[c as usize].succ_num;
            }
            self.nd[u].succ_num = cnt;
            self.last_succ[u] = order[i + cnt as usize - 1];
        }
    }

    /// Potentials from the tree: every tree arc gets reduced cost 0, the root 0.
    pub(super) fn compute_potentials(&mut self) {
        let root = self.root;
        self.pi[root] = 0;
        let mut u = self.thread[root] as usize;
        while u != root {
            let p = self.nd[u].parent as usize;
            let e = self.nd[u].pred as usize;
            self.pi[u] = self.pi[p].wrapping_sub(self.nd[u].dir as i64 * self.cost[e]);
            u = self.thread[u] as usize;
        }
    }
}

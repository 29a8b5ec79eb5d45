//! Spanning-tree update after a pivot (LEMON's `updateTreeStructure` / `updatePotential`):
//! the subtree hanging below the leaving arc is re-rooted at the entering arc's end `u_in`
//! and re-hung under `v_in`, fixing thread, rev_thread, succ_num and last_succ along the
//! stem and the two paths to the join node.

use super::{Core, DOWN, NONE, UP};

impl Core {
    pub(super) fn update_tree_structure(&mut self) {
        let u_in = self.u_in;
        let v_in = self.v_in;
        let u_out = self.u_out;
        let join = self.join;
        let in_arc = self.in_arc;
        let old_rev_thread = self.rev_thread[u_out] as usize;
        let old_succ_num = self.nd[u_out].succ_num;
        let old_last_succ = self.last_succ[u_out] as usize;
        let v_out = self.nd[u_out].parent as usize;

        if u_in == u_out {
            self.nd[u_in].parent = v_in as u32;
            self.nd[u_in].pred = in_arc as u32;
            self.nd[u_in].dir = if u_in == self.source[in_arc] as usize { UP } else { DOWN };
            if self.thread[v_in] as usize != u_out {
                let mut after = self.thread[old_last_succ] as usize;
                self.thread[old_rev_thread] = after as u32;
                self.rev_thread[after] = old_rev_thread as u32;
                after = self.thread[v_in] as usize;
                self.thread[v_in] = u_out as u32;
                self.rev_thread[u_out] = v_in as u32;
                self.thread[old_last_succ] = after as u32;
                self.rev_thread[after] = old_last_succ as u32;
            }
        } else {
            let thread_continue =
                if old_rev_thread == v_in { self.thread[old_last_succ] as usize } else { self.thread[v_in] as usize };
            let mut stem = u_in;
            let mut par_stem = v_in;
            let mut last = self.last_succ[u_in] as usize;
            let mut after = self.thread[last] as usize;
            self.thread[v_in] = u_in as u32;
            self.dirty_revs.clear();
            self.dirty_revs.push(v_in as u32);
            while stem != u_out {
                let next_stem = self.nd[stem].parent as usize;
                self.thread[last] = next_stem as u32;
                self.dirty_revs.push(last as u32);
                let before = self.rev_thread[stem] as usize;
                self.thread[before] = after as u32;
                self.rev_thread[after] = before as u32;
                self.nd[stem].parent = par_stem as u32;
                par_stem = stem;
                stem = next_stem;
                last = if self.last_succ[stem] == self.last_succ[par_stem] {
                    self.rev_thread[par_stem] as usize
                } else {
                    self.last_succ[stem] as usize
                };
                after = self.thread[last] as usize;
            }
            self.nd[u_out].parent = par_stem as u32;
            self.thread[last] = thread_continue as u32;
            self.rev_thread[thread_continue] = last as u32;
            self.last_succ[u_out] = last as u32;

            if old_rev_thread != v_in {
                self.thread[old_rev_thread] = after as u32;
                self.rev_thread[after] = old_rev_thread as u32;
            }
            for i in 0..self.dirty_revs.len() {
                let u = self.dirty_revs[i] as usize;
                let t = self.thread[u] as usize;
                self.rev_thread[t] = u as u32;
            }

            let mut tmp_sc: i64 = 0;
            let tmp_ls = self.last_succ[u_out];
            let mut u = u_out;
            while u != u_in {
                let p = self.nd[u].parent as usize;
                self.nd[u].pred = self.nd[p].pred;
                self.nd[u].dir = -self.nd[p].dir;
                tmp_sc += self.nd[u].succ_num as i64 - self.nd[p].succ_num as i64;
                self.nd[u].succ_num = tmp_sc as u32;
                self.last_succ[p] = tmp_ls;
                u = p;
            }
            self.nd[u_in].pred = in_arc as u32;
            self.nd[u_in].dir = if u_in == self.source[in_arc] as usize { UP } else { DOWN };
            self.nd[u_in].succ_num = old_succ_num;
        }

        let up_limit_out = if self.last_succ[join] as usize == v_in { join as u32 } else { NONE };
        let last_succ_out = self.last_succ[u_out];
        let mut u = v_in as u32;
        while u != NONE && self.last_succ[u as usize] as usize == v_in {
            self.last_succ[u as usize] = last_succ_out;
            u = self.nd[u as usize].parent;
        }
        if join != old_rev_thread && v_in != old_rev_thread {
            let mut u = v_out as u32;
            while u != up_limit_out && u != NONE && self.last_succ[u as usize] as usize == old_last_succ {
                self.last_succ[u as usize] = old_rev_thread as u32;
                u = self.nd[u as usize].parent;
            }
        } else if last_succ_out as usize != old_last_succ {
            let mut u = v_out as u32;
            while u != up_limit_out && u != NONE && self.last_succ[u as usize] as usize == old_last_succ {
                self.last_succ[u as usize] = last_succ_out;
                u = self.nd[u as usize].parent;
            }
        }
        let mut u = v_in;
        while u != join {
            self.nd[u].succ_num += old_succ_num;
            u = self.nd[u].parent as usize;
        }
        let mut u = v_out;
        while u != join {
            self.nd[u].succ_num -= old_succ_num;
            u = self.nd[u].parent as usize;
        }
    }

    pub(super) fn update_potential(&mut self) {
        let u_in = self.u_in;
        // Potentials only matter up to a common shift (all arithmetic on them wraps), so
        // shift the moved subtree by sigma or, if it is the larger part, the rest by -sigma.
        let sigma = self.pi[self.v_in]
            .wrapping_sub(self.pi[u_in])
            .wrapping_sub(self.nd[u_in].dir as i64 * self.cost[self.in_arc]);
        let end = self.thread[self.last_succ[u_in] as usize] as usize;
        if 2 * self.nd[u_in].succ_num as usize <= self.n + 1 {
            let mut u = u_in;
            while u != end {
                self.pi[u] = self.pi[u].wrapping_add(sigma);
                u = self.thread[u] as usize;
            }
        } else {
            let mut u = end;
            while u != u_in {
                self.pi[u] = self.pi[u].wrapping_sub(sigma);
                u = self.thread[u] as usize;
            }
        }
    }
}

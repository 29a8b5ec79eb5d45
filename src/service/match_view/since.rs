//! What changed since a proposal's solve: a stored proposal is solved off the writer
//! gate and made visible later, so the matches resting on anything that changed in
//! between are stored STALE ([`Since::touches`]).

use super::tables::Dirty;
use crate::domain::*;

/// At most this many changed keys are kept while recording; past it the recording is
/// given up ([`MatchView::changed_since`](super::MatchView::changed_since) answers `None`).
const MAX_RECORDED: usize = 1 << 20;

/// The changes of each commit since recording began.
#[derive(Default)]
pub(super) struct Recording {
    commits: Vec<(u64, Dirty)>,
    kept: usize,
    given_up: bool,
}

impl Recording {
    pub(super) fn push(&mut self, commit: u64, changed: &Dirty) {
        if self.given_up {
            return;
        }
        self.kept += changed.len();
        if self.kept > MAX_RECORDED {
            self.given_up = true;
            self.commits = Vec::new();
            return;
        }
        self.commits.push((commit, changed.clone()));
    }

    /// Everything changed by commits after `at`; `None` if the recording was given up.
    pub(super) fn since(&self, at: u64) -> Option<Since> {
        if self.given_up {
            return None;
        }
        let mut all = Dirty::default();
        for (_, d) in self.commits.iter().filter(|(c, _)| *c > at) {
            all.merge(d);
        }
        Some(Since(all))
    }
}

/// What changed after some commit: needs, offers, seats given to a recipient, refusals.
pub struct Since(Dirty);

impl Since {
    /// Whether `m` rests on something that changed: its need, one of its offers (a
    /// centre's change marks its offers), the seats they give its recipient, or a refusal
    /// of its need with one of its offers.
    pub fn touches(&self, m: &Match) -> bool {
        let d = &self.0;
        d.needs.contains(&m.terms.need)
            || m.offers().iter().any(|&o| {
                d.offers.contains(&o)
                    || d.recipient_seats.contains(&(o, m.terms.recipient))
                    || d.barred.contains(&(m.terms.need, o))
            })
    }
}

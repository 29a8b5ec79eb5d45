//! What a replay of a request id answers, per answer type ([`Remembered`]): the first
//! answer as it was, except where keeping it whole would be wrong or wasteful.

use super::write_call::Remembered;
use super::*;
use crate::api as pb;
use crate::convert;

macro_rules! kept_whole {
    ($($ty:ident),+) => {$(impl Remembered for pb::$ty {})+};
}

kept_whole!(Need, Offer, TrainingCentre, Match, ApproveMatchResponse, Arrangement, Principal);

/// A replay returns the principal without its token: the token is shown once.
impl Remembered for pb::CreatePrincipalResponse {
    fn kept(&self) -> Self {
        pb::CreatePrincipalResponse { principal: self.principal.clone(), token: String::new() }
    }
}

/// A proposal keeps only its matches' ids (and STALE for a match it stored STALE: one
/// resting on a change made while the proposal was staged): the answer at 100 000 needs
/// is about 45 MB, and every match it names is in the store for good. A replay renders
/// each match as the proposal stored it ([`Match::as_proposed`]; a STALE match never
/// changes again), so it answers the first response again whatever was decided on the
/// matches since.
const STALE: i32 = pb::MatchState::Stale as i32;

impl Remembered for pb::ProposeMatchesResponse {
    fn kept(&self) -> Self {
        pb::ProposeMatchesResponse {
            matches: self
                .matches
                .iter()
                .map(|m| pb::Match {
                    id: m.id.clone(),
                    state: if m.state == STALE { STALE } else { 0 },
                    ..pb::Match::default()
                })
                .collect(),
            summary: self.summary.clone(),
            baseline: self.baseline.clone(),
        }
    }

    fn replayed(kept: Self, store: &Store) -> AppResult<Self> {
        let mut matches = Vec::with_capacity(kept.matches.len());
        for m in kept.matches {
            // Kept whole: an answer stored by an earlier build.
            if !m.need_id.is_empty() {
                matches.push(m);
                continue;
            }
            // A match is never deleted: one missing is a broken store.
            let gone = || AppError::Internal(format!("unknown record {}", m.id));
            let id = Id::parse(Kind::Match, &m.id).ok_or_else(gone)?;
            let stored = store.get::<Match>(id)?.ok_or_else(gone)?;
            let shown = if m.state == STALE { stored } else { stored.as_proposed() };
            matches.push(convert::match_to_proto(&shown));
        }
        Ok(pb::ProposeMatchesResponse { matches, ..kept })
    }
}

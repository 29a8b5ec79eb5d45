//! Staging: a large set of new matches (a proposal's) written to sled in bounded batches
//! that no reader sees, then made visible by one small commit.
//!
//! Matches at or above the *match watermark* are hidden: [`Store::get`], scans and the
//! match indexes (by need and by offer, kept in memory, and PROPOSED) skip them.
//! [`Store::stage`] writes hidden matches straight into sled, one `apply_batch` per call
//! under the landing lock (so each staged batch is atomic, lands between two groups, and
//! is covered by the next sync like any landing); [`WriteSet::reveal_matches`] moves the
//! watermark in an ordinary commit, which makes every staged match visible at once,
//! atomically with whatever else that commit writes (the proposal's events, its
//! idempotency entry). The staged batches are earlier in sled's log than that commit, so
//! when it is durable so are they.
//!
//! What is staged and never revealed (a crash, a failed proposal) is removed by
//! [`Store::drop_hidden_matches`], at open and before each new staging; its ids are
//! never handed out again (they are above the last match key, which gives the next id).

use super::*;
use std::sync::atomic::Ordering;

/// The tables whose entries the watermark hides: matches and their PROPOSED index.
pub(super) const HIDES: [TreeId; 2] = [TreeId::Matches, TreeId::ProposedMatches];

/// At most this many hidden matches are removed in one batch.
const DROP_BATCH: usize = 2_000;

/// The watermark as [`keys::META_MATCH_WATERMARK`] keeps it.
pub(super) fn watermark_from(v: &[u8]) -> StoreResult<u64> {
    let bytes: [u8; 8] = v.try_into().map_err(|_| StoreError::Corrupt {
        tree: TreeId::Meta.name(),
        detail: "the match watermark is not 8 bytes".into(),
    })?;
    Ok(u64::from_be_bytes(bytes))
}

/// The match a key of one of the [`HIDES`] tables is about.
fn match_of(tree: TreeId, key: &[u8]) -> Option<Id> {
    match tree {
        TreeId::Matches | TreeId::ProposedMatches => keys::id_from_key(key),
        _ => None,
    }
}

impl WriteSet {
    /// Makes every match below `watermark` visible with this commit (the staged ones
    /// among them). A new match written by [`WriteSet::put_new_match`] reveals itself.
    pub fn reveal_matches(&mut self, watermark: u64) {
        self.reveal = Some(self.reveal.map_or(watermark, |w| w.max(watermark)));
    }
}

impl Store {
    /// The first match id readers do not see.
    pub fn match_watermark(&self) -> u64 {
        self.inner.match_watermark.load(Ordering::SeqCst)
    }

    /// Whether `key` of `tree` belongs to a match readers do not see yet.
    pub(super) fn hidden(&self, tree: TreeId, key: &[u8]) -> bool {
        match_of(tree, key).is_some_and(|id| id.0 >= self.match_watermark())
    }

    /// Writes `ws` to sled now, unseen: it may hold only new matches above the watermark
    /// (with their indexes), no event. One atomic batch; it becomes visible when a commit
    /// reveals it ([`WriteSet::reveal_matches`]). Its entries in the indexes kept in
    /// memory are added once it is written (read only below the watermark). A failure
    /// fails the store.
    pub fn stage(&self, ws: WriteSet) -> StoreResult<()> {
        self.inner.failure.check()?;
        if let Some(e) = ws.unencodable {
            return Err(e);
        }
        let refuse = |detail: String| Err(StoreError::Encode { tree: TreeId::Matches.name(), detail });
        if !ws.events.is_empty() {
            return refuse("a staged write has events".into());
        }
        if !ws.request_ids.is_empty() {
            return refuse("a staged write has an idempotency entry".into());
        }
        if let Some((tree, _, _)) = ws.ops.iter().find(|(tree, key, _)| !self.hidden(*tree, key)) {
            return refuse(format!("a staged write touches {} that readers see", tree.name()));
        }
        let watermark = self.match_watermark();
        let of_a_hidden_match = |(owned, _, id): &memory_indexes::Entry| {
            matches!(owned, memory_indexes::Owned::MatchOfNeed | memory_indexes::Owned::MatchOfOffer)
                && id.0 >= watermark
        };
        if !ws.indexed.iter().all(of_a_hidden_match) {
            return refuse("a staged write indexes what readers see".into());
        }
        let ops: Vec<tables::Op> =
            ws.ops.into_iter().map(|(tree, key, value)| (tree, key.into(), value.map(Into::into))).collect();
        self.inner.pending.apply_unseen(&ops)?;
        self.inner.indexes.add(&ws.indexed);
        Ok(())
    }

    /// Removes every hidden match (staged and never revealed) with its index entries, in
    /// bounded batches. Returns how many there were.
    pub fn drop_hidden_matches(&self) -> StoreResult<usize> {
        let watermark = Id(self.match_watermark());
        let tables = &self.inner.tables;
        let mut dropped = 0;
        loop {
            let (mut ops, mut indexed) = (Vec::new(), Vec::new());
            for kv in tables.range(TreeId::Matches, Bound::Included(keys::id_key(watermark).to_vec()), Bound::Unbounded)
            {
                let (key, value) = kv?;
                let m: Match = decode(TreeId::Matches, &value)?;
                ops.push((TreeId::ProposedMatches, IVec::from(&keys::id_key(m.meta.id)), None));
                ops.push((TreeId::Matches, key, None));
                indexed.extend(memory_indexes::match_entries(&m));
                dropped += 1;
                if dropped % DROP_BATCH == 0 {
                    break;
                }
            }
            if ops.is_empty() {
                break;
            }
            self.inner.pending.apply_unseen(&ops)?;
            self.inner.indexes.remove(&indexed);
        }
        if dropped > 0 {
            tracing::info!(
                matches = dropped,
                watermark = watermark.0,
                "removed the matches of a proposal never made visible"
            );
        }
        Ok(dropped)
    }
}

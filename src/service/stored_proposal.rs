//! A stored ProposeMatches that does not stall writers: solved off the writer gate
//! (`propose.rs`), its matches written unseen in bounded batches ([`stage`], see
//! `store/staging.rs`), the PROPOSED matches it supersedes turned STALE in bounded
//! commits, then everything made visible by one commit ([`reveal`]) that also stores
//! STALE the new matches resting on what changed since the solve.

use super::match_view::MatchView;
use super::propose::{Solution, log_proposal, match_record, summary_to_proto};
use super::workflow::store_changes;
use super::*;
use crate::api as pb;
use crate::convert;

/// New matches written unseen per staged batch, each a sled batch of its own between two
/// landings: a writer whose commit waits behind one waits a few milliseconds (larger
/// batches write less to disk but hold writers longer: docs/PERFORMANCE.md).
const STAGE_BATCH: usize = 50;

/// Superseded matches turned STALE per commit.
const STALE_BATCH: usize = 1_000;

/// A proposal staged and not yet visible.
pub(super) struct Staged {
    /// The solve's matches as records, ids `[first, first + len)`.
    matches: Vec<Match>,
    summary: crate::matching::Summary,
    /// The last commit the solve reflects.
    changed_at: u64,
}

/// Writes the proposal `s` unseen and turns the PROPOSED matches it supersedes (of
/// `capabilities`; all if empty) STALE. Blocking, and only one at a time (the match
/// view's turn): it first removes what an earlier proposal staged and never revealed.
pub(super) fn stage(store: &Store, s: Solution, capabilities: &[CapabilityArea], actor: &str) -> AppResult<Staged> {
    let started = std::time::Instant::now();
    store.drop_hidden_matches()?;
    let now = now_micros();
    let first = store.writer()?.allocate_ids(Kind::Match, s.matches.len() as u64);
    let mut matches = Vec::with_capacity(s.matches.len());
    for (i, p) in s.matches.iter().enumerate() {
        matches.push(match_record(p, Meta::new(Id(first.0 + i as u64), now))?);
    }
    let mut slowest = std::time::Duration::ZERO;
    for batch in matches.chunks(STAGE_BATCH) {
        let mut ws = WriteSet::default();
        batch.iter().for_each(|m| ws.put_new_match(m));
        let t = std::time::Instant::now();
        store.stage(ws)?;
        slowest = slowest.max(t.elapsed());
    }
    let staged_ms = started.elapsed().as_millis() as u64;
    // Superseded: visible PROPOSED matches of the covered capabilities, read again under
    // the gate (one may have been decided on since the list was taken).
    let covered = |m: &Match| capabilities.is_empty() || capabilities.contains(&m.terms.capability);
    let (mut superseded, mut longest_commit) = (0, std::time::Duration::ZERO);
    for ids in store.proposed_matches()?.chunks(STALE_BATCH) {
        let w = store.writer()?;
        let t = std::time::Instant::now();
        let mut old = Vec::with_capacity(ids.len());
        for &id in ids {
            old.extend(store.get::<Match>(id)?);
        }
        let now = now_micros();
        let changes = commands::propose(old, covered, &[], now);
        if changes.records.is_empty() {
            continue;
        }
        superseded += changes.records.len();
        let mut ws = WriteSet::default();
        store_changes(&mut ws, changes, now, actor);
        let _ = w.commit(ws)?;
        longest_commit = longest_commit.max(t.elapsed());
    }
    tracing::info!(
        matches = matches.len(),
        superseded,
        staged_ms,
        slowest_batch_us = slowest.as_micros() as u64,
        longest_supersede_commit_us = longest_commit.as_micros() as u64,
        took_ms = started.elapsed().as_millis() as u64,
        "proposal staged"
    );
    Ok(Staged { matches, summary: s.summary, changed_at: s.changed_at })
}

/// Under the writer gate: makes the staged matches visible with their MATCH_PROPOSED
/// events; those resting on what changed since the solve (a need, an offer, seats, a
/// refusal) are stored STALE in the same commit.
pub(super) fn reveal(
    view: &MatchView,
    ws: &mut WriteSet,
    staged: Staged,
    actor: &str,
    now: UnixMicros,
) -> AppResult<pb::ProposeMatchesResponse> {
    let since = view
        .changed_since(staged.changed_at)
        .ok_or_else(|| AppError::Unavailable("the store changed too much meanwhile; propose again".into()))?;
    let first = staged.matches.first().map_or(0, |m| m.meta.id.0);
    let watermark = staged.matches.last().map_or(0, |m| m.meta.id.0 + 1);
    let mut touched = Vec::new();
    let mut out = Vec::with_capacity(staged.matches.len());
    for m in staged.matches {
        out.push(convert::match_to_proto(&m));
        if since.touches(&m) {
            touched.push(m.clone());
        }
        ws.event(EventKind::MatchProposed, m.meta.create_time, actor, EventResource::Match(m));
    }
    ws.reveal_matches(watermark);
    if !touched.is_empty() {
        let changes = commands::propose(touched, |_| true, &[], now);
        for changed in &changes.records {
            if let commands::Changed::Match(m, _) = changed
                && let Some(answer) = usize::try_from(m.meta.id.0 - first).ok().and_then(|i| out.get_mut(i))
            {
                *answer = convert::match_to_proto(m);
            }
        }
        tracing::info!(matches = changes.records.len(), "proposed matches resting on a change since the solve: STALE");
        store_changes(ws, changes, now, actor);
    }
    log_proposal(out.len(), false, &staged.summary);
    Ok(pb::ProposeMatchesResponse { matches: out, summary: Some(summary_to_proto(&staged.summary)), baseline: None })
}

//! Writes committed under the writer gate but not yet applied to sled.
//!
//! A commit does not touch sled: its operations go into an in-memory overlay (the newest
//! pending value of each key, consulted first by every read of the store) and a queue.
//! Landing ([`Pending::land`]) applies everything queued to sled at once, in commit order,
//! then drops the landed entries from the overlay. The group flusher lands before each
//! flush, so one landing and one flush cover every writer that committed meanwhile.
//!
//! A landing is atomic across a crash through a journal, not a sled transaction (whose
//! fixed cost, two IO-buffer writes, and whose extra read of every key it writes made it
//! the most expensive part of a write): the landing first writes all its operations into
//! the `journal` tree, then applies them to their trees with plain inserts and removes,
//! then removes the journal entries. sled recovers a prefix of its log (the same property
//! its own transactions rest on), so after a crash either the journal entries are gone —
//! then every operation after them is there too — or they are there and [`replay`] applies
//! them again at open (they are whole values, so applying twice changes nothing). No
//! writer is acknowledged before a flush covers its landing.
//!
//! Readers see a pending write as soon as it is committed, as they saw a committed but
//! not yet flushed write before. A landing that fails leaves the store refusing every
//! later commit (a later group must never land on top of a missing one).

use super::{FORMAT_VERSION, StoreError, StoreResult, TreeId};
use sled::IVec;
use std::collections::BTreeMap;
use std::iter::Peekable;
use std::ops::Bound;
use std::sync::{Mutex, RwLock};

/// One key's change: a new value, or `None` for a removal.
pub(super) type Op = (TreeId, IVec, Option<IVec>);

/// Above this many queued operations a commit lands the queue itself, so a writer that
/// does not wait for durability (a bulk fill) cannot grow the overlay without bound.
pub(super) const MAX_QUEUED_OPS: usize = 1 << 16;

/// The name of the journal tree.
pub(super) const JOURNAL: &str = "journal";

/// A journal entry is cut at about this size: sled stores values over a quarter of its
/// 512 KiB segment as separate blob files.
const JOURNAL_CHUNK_BYTES: usize = 64 << 10;

/// One tree's pending changes: key → (the commit that wrote it, the new value or `None`).
type Overlay = BTreeMap<IVec, (u64, Option<IVec>)>;

#[derive(Default)]
struct Queue {
    groups: Vec<(u64, Vec<Op>)>,
    ops: usize,
}

#[derive(Default)]
struct Landed {
    /// Every commit up to this one is in sled.
    upto: u64,
    failed: Option<String>,
}

pub(super) struct Pending {
    trees: Vec<sled::Tree>,
    journal: sled::Tree,
    /// TEST ONLY: see [`super::StoreConfig::abort_mid_landing`].
    abort_mid_landing: Option<u64>,
    /// Landings of two commits or more so far.
    group_landings: std::sync::atomic::AtomicU64,
    /// Per tree, its newest pending changes.
    overlay: RwLock<Vec<Overlay>>,
    queue: Mutex<Queue>,
    /// Held for a whole landing, so groups land one at a time and in commit order.
    landed: Mutex<Landed>,
}

fn poisoned<T>(e: std::sync::PoisonError<T>) -> T {
    // Nothing panics while these locks are held; the data behind a poisoned one is whole.
    e.into_inner()
}

impl Pending {
    pub(super) fn new(trees: Vec<sled::Tree>, journal: sled::Tree, abort_mid_landing: Option<u64>) -> Pending {
        Pending {
            journal,
            abort_mid_landing,
            group_landings: std::sync::atomic::AtomicU64::new(0),
            overlay: RwLock::new(vec![BTreeMap::new(); trees.len()]),
            trees,
            queue: Mutex::new(Queue::default()),
            landed: Mutex::new(Landed::default()),
        }
    }

    /// Why the store refuses writes, once a landing failed.
    pub(super) fn failed(&self) -> Option<String> {
        self.landed.lock().unwrap_or_else(poisoned).failed.clone()
    }

    /// Makes commit `commit` visible to readers and queues it for landing. Returns the
    /// operations now queued. Called under the writer gate, with increasing `commit`.
    pub(super) fn add(&self, commit: u64, ops: Vec<Op>) -> usize {
        {
            let mut overlay = self.overlay.write().unwrap_or_else(poisoned);
            for (tree, key, value) in &ops {
                overlay[*tree as usize].insert(key.clone(), (commit, value.clone()));
            }
        }
        let mut queue = self.queue.lock().unwrap_or_else(poisoned);
        queue.ops += ops.len();
        queue.groups.push((commit, ops));
        queue.ops
    }

    /// Applies every queued commit to sled, journaled (see the module docs). Returns the
    /// last commit now in sled.
    pub(super) fn land(&self) -> StoreResult<u64> {
        let mut landed = self.landed.lock().unwrap_or_else(poisoned);
        if let Some(e) = &landed.failed {
            return Err(StoreError::Flush(format!("an earlier write failed to reach the store: {e}")));
        }
        let groups = std::mem::take(&mut *self.queue.lock().unwrap_or_else(poisoned)).groups;
        let Some(&(last, _)) = groups.last() else { return Ok(landed.upto) };
        if groups.len() >= 2 {
            let n = self.group_landings.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            if self.abort_mid_landing == Some(n) {
                self.abort_halfway(groups.iter().flat_map(|(_, ops)| ops));
            }
        }
        if let Err(e) = self.apply(groups.iter().flat_map(|(_, ops)| ops)) {
            tracing::error!(error = %e, commits = groups.len(), "applying writes to the store failed; refusing further writes");
            landed.failed = Some(e.to_string());
            return Err(e.into());
        }
        let mut overlay = self.overlay.write().unwrap_or_else(poisoned);
        for (tree, key, _) in groups.iter().flat_map(|(_, ops)| ops) {
            let map = &mut overlay[*tree as usize];
            if map.get(key).is_some_and(|(commit, _)| *commit <= last) {
                map.remove(key);
            }
        }
        landed.upto = last;
        Ok(last)
    }

    /// Journals `ops`, applies them, then drops the journal entries.
    fn apply<'a>(&self, ops: impl Iterator<Item = &'a Op> + Clone) -> sled::Result<()> {
        let chunks = journal_chunks(ops.clone());
        for (i, chunk) in chunks.iter().enumerate() {
            self.journal.insert((i as u64).to_be_bytes(), chunk.as_slice())?;
        }
        for op in ops {
            apply_op(&self.trees, op)?;
        }
        for i in 0..chunks.len() {
            self.journal.remove((i as u64).to_be_bytes())?;
        }
        Ok(())
    }

    /// TEST ONLY: writes the journal and the first half of `ops`, puts that on disk, and
    /// aborts the process — the state a crash in the middle of a landing leaves.
    fn abort_halfway<'a>(&self, ops: impl Iterator<Item = &'a Op> + Clone) -> ! {
        let ops: Vec<&Op> = ops.collect();
        let chunks = journal_chunks(ops.iter().copied());
        let write = || -> sled::Result<()> {
            for (i, chunk) in chunks.iter().enumerate() {
                self.journal.insert((i as u64).to_be_bytes(), chunk.as_slice())?;
            }
            for op in &ops[..ops.len() / 2] {
                apply_op(&self.trees, op)?;
            }
            self.journal.flush()?;
            Ok(())
        };
        let result = write();
        tracing::error!(
            operations = ops.len(),
            landed = ops.len() / 2,
            ?result,
            "TEST ONLY: aborting in the middle of a landing"
        );
        std::process::abort()
    }

    /// The pending state of `key`: `Some(None)` if it is pending removal, `None` if it
    /// has no pending change.
    pub(super) fn get(&self, tree: TreeId, key: &[u8]) -> Option<Option<IVec>> {
        self.overlay.read().unwrap_or_else(poisoned)[tree as usize].get(key).map(|(_, v)| v.clone())
    }

    /// `tree`'s entries between `lo` and `hi`: sled's, with the pending changes applied.
    /// The pending ones are taken first, then sled is read, so an entry that lands
    /// meanwhile is seen once, with its newest value.
    pub(super) fn range(&self, tree: TreeId, lo: Bound<Vec<u8>>, hi: Bound<Vec<u8>>) -> Merged {
        let pending: Vec<(IVec, Option<IVec>)> = {
            let overlay = self.overlay.read().unwrap_or_else(poisoned);
            let map = &overlay[tree as usize];
            if map.is_empty() {
                Vec::new()
            } else {
                let bounds = (lo.as_ref().map(Vec::as_slice), hi.as_ref().map(Vec::as_slice));
                map.range::<[u8], _>(bounds).map(|(k, (_, v))| (k.clone(), v.clone())).collect()
            }
        };
        Merged { pending: pending.into_iter().peekable(), sled: self.trees[tree as usize].range((lo, hi)).peekable() }
    }
}

/// Entries of a sled range merged with pending changes, in key order.
pub struct Merged {
    pending: Peekable<std::vec::IntoIter<(IVec, Option<IVec>)>>,
    sled: Peekable<sled::Iter>,
}

impl Iterator for Merged {
    type Item = sled::Result<(IVec, IVec)>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let order = match (self.pending.peek(), self.sled.peek()) {
                (None, None) => return None,
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) | (Some(_), Some(Err(_))) => std::cmp::Ordering::Greater,
                (Some((p, _)), Some(Ok((s, _)))) => p.cmp(s),
            };
            if order == std::cmp::Ordering::Greater {
                return self.sled.next();
            }
            if order == std::cmp::Ordering::Equal {
                self.sled.next();
            }
            match self.pending.next() {
                Some((key, Some(value))) => return Some(Ok((key, value))),
                Some((_, None)) => continue,
                None => return None,
            }
        }
    }
}

/// Applies one operation to its tree.
fn apply_op(trees: &[sled::Tree], (tree, key, value): &Op) -> sled::Result<()> {
    let t = &trees[*tree as usize];
    match value {
        Some(v) => t.insert(key.clone(), v.clone())?,
        None => t.remove(key.clone())?,
    };
    Ok(())
}

/// `ops` encoded as journal entries of about [`JOURNAL_CHUNK_BYTES`]: the format version,
/// then per operation the tree's index in [`TreeId::ALL`], the key's length (u32, big
/// endian) and bytes, and for a new value 1, its length and bytes, or 0 for a removal.
fn journal_chunks<'a>(ops: impl Iterator<Item = &'a Op>) -> Vec<Vec<u8>> {
    let mut chunks = Vec::new();
    let mut chunk = vec![FORMAT_VERSION];
    for (tree, key, value) in ops {
        if chunk.len() > JOURNAL_CHUNK_BYTES {
            chunks.push(std::mem::replace(&mut chunk, vec![FORMAT_VERSION]));
        }
        chunk.push(*tree as u8);
        chunk.extend_from_slice(&(key.len() as u32).to_be_bytes());
        chunk.extend_from_slice(key);
        match value {
            Some(v) => {
                chunk.push(1);
                chunk.extend_from_slice(&(v.len() as u32).to_be_bytes());
                chunk.extend_from_slice(v);
            }
            None => chunk.push(0),
        }
    }
    if chunk.len() > 1 {
        chunks.push(chunk);
    }
    chunks
}

fn corrupt(detail: &str) -> StoreError {
    StoreError::Corrupt { tree: JOURNAL, detail: detail.to_string() }
}

/// Decodes one journal entry.
fn journal_ops(entry: &[u8]) -> StoreResult<Vec<Op>> {
    let mut rest = match entry.split_first() {
        Some((&FORMAT_VERSION, rest)) => rest,
        Some((&other, _)) => return Err(StoreError::UnknownFormat(other)),
        None => return Err(corrupt("empty entry")),
    };
    let mut take = |n: usize| -> StoreResult<&[u8]> {
        if rest.len() < n {
            return Err(corrupt("truncated entry"));
        }
        let (head, tail) = rest.split_at(n);
        rest = tail;
        Ok(head)
    };
    let mut ops = Vec::new();
    loop {
        let Ok(tree) = take(1) else { break };
        let tree = *TreeId::ALL.get(usize::from(tree[0])).ok_or_else(|| corrupt("unknown tree"))?;
        let len = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
        let key_len = len(take(4)?);
        let key = IVec::from(take(key_len)?);
        let value = match take(1)?[0] {
            0 => None,
            1 => {
                let value_len = len(take(4)?);
                Some(IVec::from(take(value_len)?))
            }
            _ => return Err(corrupt("bad value flag")),
        };
        ops.push((tree, key, value));
    }
    Ok(ops)
}

/// Completes a landing that a crash interrupted: applies the operations left in the
/// journal, in order, then empties it. Returns the number of operations applied. Called
/// at open, before anything reads the trees.
pub(super) fn replay(journal: &sled::Tree, trees: &[sled::Tree]) -> StoreResult<usize> {
    let mut applied = 0;
    let mut keys = Vec::new();
    for entry in journal.iter() {
        let (key, value) = entry?;
        for op in journal_ops(&value)? {
            apply_op(trees, &op)?;
            applied += 1;
        }
        keys.push(key);
    }
    for key in keys {
        journal.remove(key)?;
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(tree: TreeId, key: &[u8], value: Option<&[u8]>) -> Op {
        (tree, IVec::from(key), value.map(IVec::from))
    }

    #[test]
    fn journal_entries_decode_to_the_operations_in_order() {
        let big = vec![7u8; 40 << 10];
        let ops = vec![
            op(TreeId::Needs, b"k1", Some(b"v1")),
            op(TreeId::Events, b"k2", Some(&big)),
            op(TreeId::Tokens, b"k3", None),
            op(TreeId::RecipientSeats, b"", Some(&big)),
            op(TreeId::Meta, b"k5", Some(b"")),
        ];
        let chunks = journal_chunks(ops.iter());
        assert_eq!(chunks.len(), 2, "cut after passing the chunk size");
        let decoded: Vec<Op> = chunks.iter().flat_map(|c| journal_ops(c).unwrap_or_else(|e| panic!("{e}"))).collect();
        assert_eq!(decoded, ops);
        assert!(journal_chunks(std::iter::empty()).is_empty());
        let mut cut = chunks[0].clone();
        cut.truncate(cut.len() - 1);
        assert!(journal_ops(&cut).is_err(), "a truncated entry is refused");
    }

    /// A landing cut short after its journal was written (what a crash can leave) is
    /// completed by the replay at the next open.
    #[test]
    fn an_interrupted_landing_is_completed_by_replay() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let db = sled::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let trees: Vec<sled::Tree> =
            TreeId::ALL.iter().map(|t| db.open_tree(t.name()).unwrap_or_else(|e| panic!("{e}"))).collect();
        let journal = db.open_tree(JOURNAL).unwrap_or_else(|e| panic!("{e}"));
        trees[TreeId::Tokens as usize].insert(b"gone", b"x".as_slice()).unwrap_or_else(|e| panic!("{e}"));
        let ops = [
            op(TreeId::Needs, b"n1", Some(b"first")),
            op(TreeId::Needs, b"n1", Some(b"second")),
            op(TreeId::Tokens, b"gone", None),
        ];
        for (i, chunk) in journal_chunks(ops.iter()).iter().enumerate() {
            journal.insert((i as u64).to_be_bytes(), chunk.as_slice()).unwrap_or_else(|e| panic!("{e}"));
        }
        // The crash came after the first operation reached its tree.
        trees[TreeId::Needs as usize].insert(b"n1", b"first".as_slice()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(replay(&journal, &trees).unwrap_or_else(|e| panic!("{e}")), 3);
        let get = |t: TreeId, k: &[u8]| trees[t as usize].get(k).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(get(TreeId::Needs, b"n1").as_deref(), Some(b"second".as_slice()));
        assert_eq!(get(TreeId::Tokens, b"gone"), None);
        assert!(journal.is_empty(), "the journal is emptied");
        assert_eq!(replay(&journal, &trees).unwrap_or_else(|e| panic!("{e}")), 0);
    }
}

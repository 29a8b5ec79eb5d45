//! The first responses kept for `request_id` retries: looked up, counted, and pruned
//! after the retention in bounded work per commit.
//!
//! Nothing of it is read from sled under the writer gate: which keys are stored, and
//! since when, is kept in memory ([`KnownRequestIds`], [`RequestIdAges`]), filled at open
//! from the table itself (each entry holds its time). So a commit writes one key for its
//! request id, its entry; store formats up to 5 also wrote an index by time, a fifth of a
//! create-need's sled keys.

use super::*;
use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The idempotency keys stored (pending ones included), as hashes, each with the number
/// of stored keys that have it. A request id whose hash is absent was never used, so its
/// lookup ([`Store::idempotency`]) reads nothing: the first use of a request id, almost
/// every write's lookup, does not read sled under the writer gate, where a read waits
/// whenever a landing holds sled's lock. A hash present (a retry, or another key with the
/// same hash) still reads the entry. Kept by [`Writer::commit`] from the commit's own
/// writes to the table, under the writer gate, so it changes as the overlay readers
/// see does. About 16 bytes an entry.
pub(super) struct KnownRequestIds {
    hasher: RandomState,
    counts: Mutex<HashMap<u64, u32>>,
    /// The number of keys stored (the sum of `counts`), for the metrics gauge.
    entries: AtomicUsize,
}

/// The stored idempotency keys by the time of their entry, oldest first: what pruning
/// removes next ([`Store::expired_idempotency`]). Kept under the writer gate (in
/// [`WriterState`]) by the commits that store and prune entries. About 80 bytes an entry (B-tree nodes
/// filled in order are about half full, and the boxed key).
#[derive(Default)]
pub(super) struct RequestIdAges(BTreeSet<(UnixMicros, Box<[u8]>)>);

impl RequestIdAges {
    pub(super) fn stored(&mut self, time: UnixMicros, key: &[u8]) {
        self.0.insert((time, key.into()));
    }

    pub(super) fn pruned(&mut self, entry: &(UnixMicros, Box<[u8]>)) {
        self.0.remove(entry);
    }
}

/// Reads every idempotency entry of `tables` (so call it after the format's migration,
/// `opening::migrate_idempotency`): the keys known, and their ages.
pub(super) fn load(tables: &Arc<Tables>) -> StoreResult<(KnownRequestIds, RequestIdAges)> {
    let hasher = RandomState::new();
    let mut counts = HashMap::new();
    let mut ages = RequestIdAges::default();
    for kv in tables.range(TreeId::Idempotency, Bound::Unbounded, Bound::Unbounded) {
        let (key, value) = kv?;
        let entry: IdempotencyEntry = decode(TreeId::Idempotency, &value)?;
        *counts.entry(hasher.hash_one(&*key)).or_insert(0u32) += 1;
        ages.stored(entry.time, &key);
    }
    let entries = AtomicUsize::new(ages.0.len());
    Ok((KnownRequestIds { hasher, counts: Mutex::new(counts), entries }, ages))
}

impl KnownRequestIds {
    /// Whether `key` may be stored; `false` means it is not.
    fn may_hold(&self, key: &[u8]) -> bool {
        let hash = self.hasher.hash_one(key);
        self.counts.lock().map_or(true, |c| c.contains_key(&hash))
    }

    /// A commit stores `key`.
    pub(super) fn stored(&self, key: &[u8]) {
        let hash = self.hasher.hash_one(key);
        *self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner).entry(hash).or_insert(0) += 1;
        self.entries.fetch_add(1, Ordering::Relaxed);
    }

    /// A commit removes `key`.
    pub(super) fn removed(&self, key: &[u8]) {
        let hash = self.hasher.hash_one(key);
        let mut counts = self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = counts.get_mut(&hash) {
            self.entries.fetch_sub(1, Ordering::Relaxed);
            *n -= 1;
            if *n == 0 {
                counts.remove(&hash);
            }
        }
    }
}

impl Store {
    /// Up to [`PRUNE_PER_COMMIT`] idempotency entries older than the retention, oldest
    /// first, each with its time: the commit under the writer gate removes them. Reads
    /// only `ages`.
    pub(super) fn expired_idempotency(&self, ages: &RequestIdAges) -> Vec<(UnixMicros, Box<[u8]>)> {
        let cutoff = now_micros().saturating_sub(self.inner.retention_micros);
        let expired: Vec<_> =
            ages.0.iter().take(PRUNE_PER_COMMIT).take_while(|(time, _)| *time < cutoff).cloned().collect();
        if !expired.is_empty() {
            tracing::debug!(entries = expired.len(), "pruning expired idempotency entries");
        }
        expired
    }

    /// The number of idempotency entries stored (pending ones included), from memory: the
    /// metrics read it at every refresh, and counting the table would read all of it.
    pub fn idempotency_entries(&self) -> usize {
        self.inner.known_request_ids.entries.load(Ordering::Relaxed)
    }

    /// The same, counted in the table (for tests of the in-memory count).
    #[cfg(test)]
    pub(super) fn idempotency_entries_stored(&self) -> StoreResult<usize> {
        self.range(TreeId::Idempotency, Bound::Unbounded, Bound::Unbounded).try_fold(0, |n, kv| kv.map(|_| n + 1))
    }

    pub fn idempotency(&self, principal_id: &str, request_id: &uuid::Uuid) -> StoreResult<Option<IdempotencyEntry>> {
        let key = keys::idempotency_key(principal_id, request_id);
        if !self.inner.known_request_ids.may_hold(&key) {
            return Ok(None);
        }
        self.value(TreeId::Idempotency, &key)?.map(|v| decode(TreeId::Idempotency, &v)).transpose()
    }
}

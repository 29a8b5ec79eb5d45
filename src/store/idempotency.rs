//! The first responses kept for `request_id` retries: looked up, counted, and pruned
//! after the retention in bounded work per commit.

use super::*;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};

/// The idempotency keys stored (pending ones included), as hashes, each with the number
/// of stored keys that have it. A request id whose hash is absent was never used, so its
/// lookup ([`Store::idempotency`]) reads nothing: the first use of a request id, almost
/// every write's lookup, no longer reads sled under the writer gate, where a read waits
/// whenever a landing holds sled's lock. A hash present (a retry, or another key with the
/// same hash) still reads the entry. Kept by [`Writer::commit`] from the commit's own
/// writes to the table, under the writer gate, so it changes as the overlay readers
/// see does; filled at open from the index by time, which holds every entry's key.
/// About 16 bytes an entry.
pub(super) struct KnownRequestIds {
    hasher: RandomState,
    counts: Mutex<HashMap<u64, u32>>,
}

impl KnownRequestIds {
    /// Every key in the index by time of `tables` (so call it after
    /// `opening::index_idempotency`).
    pub(super) fn load(tables: &Arc<Tables>) -> StoreResult<KnownRequestIds> {
        let hasher = RandomState::new();
        let mut counts = HashMap::new();
        for kv in tables.range(TreeId::IdempotencyByTime, Bound::Unbounded, Bound::Unbounded) {
            let (k, _) = kv?;
            if let Some(key) = keys::idempotency_key_of_time_key(&k) {
                *counts.entry(hasher.hash_one(key)).or_insert(0u32) += 1;
            }
        }
        Ok(KnownRequestIds { hasher, counts: Mutex::new(counts) })
    }

    /// Whether `key` may be stored; `false` means it is not.
    fn may_hold(&self, key: &[u8]) -> bool {
        let hash = self.hasher.hash_one(key);
        self.counts.lock().map_or(true, |c| c.contains_key(&hash))
    }

    /// A commit stores `key`.
    pub(super) fn stored(&self, key: &[u8]) {
        let hash = self.hasher.hash_one(key);
        *self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner).entry(hash).or_insert(0) += 1;
    }

    /// A commit removes `key`.
    pub(super) fn removed(&self, key: &[u8]) {
        let hash = self.hasher.hash_one(key);
        let mut counts = self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = counts.get_mut(&hash) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&hash);
            }
        }
    }
}

impl Store {
    /// Removals of up to [`PRUNE_PER_COMMIT`] idempotency entries older than the
    /// retention, oldest first, with their index entries. Called under the writer gate.
    ///
    /// Once no expired entry is left, it notes when the oldest one left expires (or, with
    /// none left, when an entry written now would) and looks again only from then, or
    /// from when an older entry written since expires ([`Store::idempotency_written`]):
    /// a commit in between would find nothing.
    pub(super) fn expired_idempotency(&self) -> StoreResult<Vec<WriteOp>> {
        use std::sync::atomic::Ordering::Relaxed;
        let now = now_micros();
        if now < self.inner.prune_at.load(Relaxed) {
            return Ok(Vec::new());
        }
        let retention = self.inner.retention_micros;
        let cutoff = now.saturating_sub(retention);
        let mut ops = Vec::new();
        let hi = Bound::Excluded(keys::time_bytes(cutoff).to_vec());
        for kv in self.range(TreeId::IdempotencyByTime, Bound::Unbounded, hi).take(PRUNE_PER_COMMIT) {
            let (k, _) = kv?;
            let entry = keys::idempotency_key_of_time_key(&k)
                .ok_or(StoreError::Corrupt { tree: TreeId::IdempotencyByTime.name(), detail: "short key".into() })?;
            ops.push((TreeId::Idempotency, entry.to_vec(), None));
            ops.push((TreeId::IdempotencyByTime, k.to_vec(), None));
        }
        if !ops.is_empty() {
            tracing::debug!(entries = ops.len() / 2, "pruning expired idempotency entries");
        }
        if ops.len() / 2 < PRUNE_PER_COMMIT {
            let lo = Bound::Included(keys::time_bytes(cutoff).to_vec());
            let oldest_left = match self.range(TreeId::IdempotencyByTime, lo, Bound::Unbounded).next() {
                Some(kv) => keys::time_of_time_key(&kv?.0).unwrap_or(now),
                None => now,
            };
            self.inner.prune_at.store(oldest_left.saturating_add(retention), Relaxed);
        }
        Ok(ops)
    }

    /// An idempotency entry of `time` is being written: pruning looks again once it
    /// expires, if that is sooner than it would have (entries are written at the time
    /// of their commit, except by tests and a clock set back).
    pub(super) fn idempotency_written(&self, time: UnixMicros) {
        let expires = time.saturating_add(self.inner.retention_micros);
        self.inner.prune_at.fetch_min(expires, std::sync::atomic::Ordering::Relaxed);
    }

    /// The number of idempotency entries stored (pending ones included).
    pub fn idempotency_entries(&self) -> StoreResult<usize> {
        self.range(TreeId::Idempotency, Bound::Unbounded, Bound::Unbounded).try_fold(0, |n, kv| kv.map(|_| n + 1))
    }

    pub fn idempotency(&self, principal_id: &str, request_id: &str) -> StoreResult<Option<IdempotencyEntry>> {
        let key = keys::idempotency_key(principal_id, request_id);
        if !self.inner.known_request_ids.may_hold(&key) {
            return Ok(None);
        }
        self.value(TreeId::Idempotency, &key)?.map(|v| decode(TreeId::Idempotency, &v)).transpose()
    }
}

//! The first responses kept for `request_id` retries: looked up, counted, and pruned
//! after the retention in bounded work per commit.

use super::*;

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
        self.value(TreeId::Idempotency, &keys::idempotency_key(principal_id, request_id))?
            .map(|v| decode(TreeId::Idempotency, &v))
            .transpose()
    }
}

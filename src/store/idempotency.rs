//! The first responses kept for `request_id` retries: looked up, counted, and pruned
//! after the retention in bounded work per commit.

use super::*;

impl Store {
    /// Removals of up to [`PRUNE_PER_COMMIT`] idempotency entries older than the
    /// retention, oldest first, with their index entries. Called under the writer gate.
    pub(super) fn expired_idempotency(&self) -> StoreResult<Vec<WriteOp>> {
        let cutoff = now_micros().saturating_sub(self.inner.retention_micros);
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
        Ok(ops)
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

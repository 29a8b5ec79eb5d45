//! The writer gate ([`Writer`]) and what a writer commits ([`WriteSet`]).

use super::*;

/// One key's change in a [`WriteSet`]: a new value, or `None` for a removal.
pub(super) type WriteOp = (TreeId, Vec<u8>, Option<Vec<u8>>);

/// Everything one state change writes, applied atomically.
#[derive(Default)]
pub struct WriteSet {
    pub(super) ops: Vec<WriteOp>,
    pub(super) events: Vec<Event>,
    /// See [`WriteSet::commit_even_if_refused`].
    pub(super) on_refusal: bool,
    /// The first value that could not be encoded: the commit is refused.
    pub(super) unencodable: Option<StoreError>,
    /// The match watermark this commit moves to, if it makes matches visible
    /// ([`WriteSet::reveal_matches`]).
    pub(super) reveal: Option<u64>,
    /// The idempotency entries this set writes: their times, keys and encoded entries.
    pub(super) request_ids: Vec<(UnixMicros, Vec<u8>, Vec<u8>)>,
    /// The entries of the new needs, offers and matches this set writes in the indexes
    /// kept in memory ([`super::memory_indexes`]).
    pub(super) indexed: Vec<memory_indexes::Entry>,
}

impl WriteSet {
    /// Marks what this set holds as a change the request makes even though it is refused
    /// (an approval refused because its match went stale marks the match STALE): the
    /// writer commits it and answers with the refusal once it is durable.
    pub fn commit_even_if_refused(&mut self) {
        self.on_refusal = true;
    }

    /// See [`WriteSet::commit_even_if_refused`].
    pub fn commits_on_refusal(&self) -> bool {
        self.on_refusal
    }

    /// `value` encoded, or (remembered for [`Writer::commit`] to refuse) `None`.
    pub(super) fn encoded<T: Serialize>(&mut self, tree: TreeId, value: &T) -> Option<Vec<u8>> {
        match encode(tree, value) {
            Ok(v) => Some(v),
            Err(e) => {
                self.unencodable.get_or_insert(e);
                None
            }
        }
    }

    /// A record as it now is. A match written by a commit is visible with it
    /// ([`WriteSet::reveal_matches`]; a staged one when a later commit reveals it).
    pub fn put_record<R: Record>(&mut self, record: &R) {
        if R::TREE == TreeId::Matches {
            self.reveal_matches(record.id().0 + 1);
        }
        let value = self.encoded(R::TREE, record);
        self.ops.push((R::TREE, keys::id_key(record.id()).to_vec(), value));
    }

    pub(super) fn put_raw(&mut self, tree: TreeId, key: Vec<u8>, value: Vec<u8>) {
        self.ops.push((tree, key, Some(value)));
    }

    /// The first response to `request_id` (pruned once `entry.time` is older than the
    /// retention).
    pub fn idempotency(&mut self, principal_id: &str, request_id: &uuid::Uuid, entry: &IdempotencyEntry) {
        let key = keys::idempotency_key(principal_id, request_id);
        if let Some(value) = self.encoded(TreeId::Idempotency, entry) {
            self.request_ids.push((entry.time, key, value));
        }
    }

    pub(super) fn put_key(&mut self, tree: TreeId, key: &[u8]) {
        self.ops.push((tree, key.to_vec(), Some(Vec::new())));
    }

    pub(super) fn delete(&mut self, tree: TreeId, key: &[u8]) {
        self.ops.push((tree, key.to_vec(), None));
    }

    /// Appends an event; the store assigns its sequence at commit.
    pub fn event(&mut self, kind: EventKind, time: UnixMicros, actor: &str, resource: EventResource) {
        self.events.push(Event { sequence: 0, kind, time, actor: actor.to_string(), resource });
    }
}

/// Proof that a commit happened; wait on it with [`Store::durable`].
#[derive(Clone, Copy, Debug)]
#[must_use]
pub struct Ticket(pub(super) u64);

pub(super) struct WriterState {
    pub(super) next_event: u64,
    pub(super) next_id: [u64; Kind::ALL.len()],
    pub(super) commits: u64,
}

/// The writer gate: held while a change is read, decided and committed.
pub struct Writer<'a> {
    pub(super) store: &'a Store,
    pub(super) state: MutexGuard<'a, WriterState>,
    /// Held by writers that queued asynchronously ([`Store::writer_async`]).
    pub(super) _turn: Option<tokio::sync::SemaphorePermit<'a>>,
}

impl Writer<'_> {
    /// `n` consecutive ids of `kind`, the first of them returned.
    pub fn allocate_ids(&mut self, kind: Kind, n: u64) -> Id {
        let slot = &mut self.state.next_id[kind as usize];
        let first = Id(*slot);
        *slot += n;
        first
    }

    pub fn allocate_id(&mut self, kind: Kind) -> Id {
        let slot = &mut self.state.next_id[kind as usize];
        let id = Id(*slot);
        *slot += 1;
        id
    }

    /// A ticket covering every commit made so far, to wait on with [`Store::durable`].
    pub fn last_commit(&self) -> Ticket {
        Ticket(self.state.commits)
    }

    /// Commits `ws`: all of it becomes visible to reads at once and reaches sled in one
    /// landing (with other writers' commits in group mode). On error nothing of it is
    /// committed.
    pub fn commit(mut self, mut ws: WriteSet) -> StoreResult<(Ticket, Vec<Event>)> {
        let pending = &self.store.inner.pending;
        self.store.inner.failure.check()?;
        if let Some(e) = ws.unencodable.take() {
            return Err(e);
        }
        // Expired idempotency packs go first, so that nothing this commit writes is
        // removed by them.
        let request_ids = &self.store.inner.request_ids;
        let expired = request_ids.expired(now_micros().saturating_sub(self.store.inner.retention_micros));
        let mut ops: Vec<WriteOp> =
            expired.iter().map(|&pack| (TreeId::IdempotencyPacks, keys::sequence_key(pack).to_vec(), None)).collect();
        ops.append(&mut ws.ops);
        ws.ops = ops;
        // Only a commit that moves the watermark writes it (under the gate, the only place
        // it moves).
        let reveal = ws.reveal.filter(|&w| w > self.store.match_watermark());
        if let Some(watermark) = reveal {
            ws.ops.push((TreeId::Meta, keys::META_MATCH_WATERMARK.to_vec(), Some(watermark.to_be_bytes().to_vec())));
        }
        let first = self.state.next_event;
        let mut logged = Vec::with_capacity(ws.events.len());
        for (i, e) in ws.events.iter_mut().enumerate() {
            e.sequence = first + i as u64;
            logged.push((e.sequence, IVec::from(super::event_log::logged(e)?)));
        }
        let commit = self.state.commits + 1;
        let followers =
            self.store.inner.followers.read().map_err(|_| self.store.inner.failure.poisoned("followers"))?;
        let followed: Vec<Followed> = if followers.is_empty() {
            Vec::new()
        } else {
            ws.ops.iter().filter_map(|(tree, key, value)| indexes::followed(*tree, key, value.as_deref())).collect()
        };
        // Request ids: a stored one is known before readers see it, a pruned pack until
        // after (a lookup that finds its hash reads the pack).
        let kept: Vec<idempotency::Kept> = ws
            .request_ids
            .into_iter()
            .map(|(time, key, value)| {
                request_ids.stored(&key);
                (time, key.into(), value.into())
            })
            .collect();
        let ops = ws.ops.into_iter().map(|(tree, key, value)| (tree, key.into(), value.map(Into::into))).collect();
        let queued = pending.add(commit, ops, logged, kept)?;
        self.store.inner.indexes.add(&ws.indexed);
        request_ids.pruned(&expired);
        if let Some(watermark) = reveal {
            self.store.inner.match_watermark.fetch_max(watermark, std::sync::atomic::Ordering::SeqCst);
        }
        // FlushEachWrite lands (and syncs) each commit itself. UnsafeNoFlush lands only
        // when the queue is long: an acknowledged write then lives in memory alone, as the
        // mode promises, so the crash harness can show it reports lost writes (a landing
        // writes sled's previous IO buffer to the file, where SIGKILL cannot reach it).
        let limit = match self.store.inner.durability {
            Durability::FlushEachWrite => 0,
            Durability::UnsafeNoFlush => pending::UNSAFE_QUEUED_OPS,
            Durability::FlushBeforeAck => pending::MAX_QUEUED_OPS,
        };
        if queued > limit {
            pending.land()?;
        }
        self.state.next_event = first + ws.events.len() as u64;
        self.store.remember(&ws.events);
        self.state.commits = commit;
        self.store.inner.flusher.committed(commit, self.state.next_event - 1);
        if !followed.is_empty()
            && let Some((last, others)) = followers.split_last()
        {
            for f in others {
                f.committed(commit, followed.clone());
            }
            last.committed(commit, followed);
        }
        Ok((Ticket(commit), ws.events))
    }
}

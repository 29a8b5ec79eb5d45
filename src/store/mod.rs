//! The embedded store: the only module that touches sled.
//!
//! Writes are serialised by one writer gate ([`Store::writer`]): a writer reads what it
//! needs, builds a [`WriteSet`] (records, indexes, events, the idempotency entry) and
//! commits it. A commit is visible to every read at once, but reaches sled later
//! ([`pending`]): the group flusher lands all commits made since its last round in sled at
//! once, crash-atomically as one batch of the one tree that holds every table ([`keys`]),
//! then flushes sled and fdatasyncs its log
//! ([`flusher::Syncer`]) and wakes their writers, which wait for that
//! ([`Store::durable`]) after releasing the gate. Concurrent writers share one landing and
//! one flush (group commit), so durability costs neither one fsync nor one sled batch per
//! request. Events become visible to readers of the log only once durable.
//!
//! Values carry a format-version byte so the encoding can evolve.
//!
//! Fail-stop: the first failed landing, flush or sync, a thread that cannot start or a
//! poisoned lock fails the store ([`Failure`]): the cause is logged once, every later read
//! and write is refused with [`StoreError::Failed`], and [`Store::failure`] tells the
//! server to report NOT_SERVING. A restart recovers what is on disk.

pub mod backup;
mod digest;
mod dirsync;
mod event_log;
mod failure;
mod flusher;
mod idempotency;
mod indexes;
pub mod keys;
pub(crate) mod memory_indexes;
mod opening;
mod pending;
mod records;
mod staging;
mod tables;
mod writer;

use crate::clock::now_micros;
use crate::domain::*;
pub use digest::ContentDigest;
pub(crate) use failure::Failure;
pub use flusher::Arriving;
use flusher::{Flusher, Syncer};
pub use indexes::{CommitFollower, Followed};
pub use keys::TreeId;
pub use opening::open_bare;
#[cfg(test)]
use opening::open_sled;
use pending::Pending;
pub use pending::{LandingFaults, LandingPoint, Merged};
pub use records::{IdempotencyEntry, Record, decode, encode};
use serde::Serialize;
use sled::IVec;
use std::collections::VecDeque;
use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use tables::Tables;
use tokio::sync::watch;
use writer::WriterState;
pub use writer::{Ticket, WriteSet, Writer};

/// The encoding version written in front of every value.
pub const FORMAT_VERSION: u8 = 1;

/// The layout of the store on disk, kept under [`keys::META_FORMAT_VERSION`]. 1: one sled
/// tree per table with a landing journal (refused now); 2: every table in one tree under
/// a one-byte prefix ([`keys::TABLES`]); 3: values longer than [`tables::PIECE`] are
/// stored in pieces ([`tables`]; a format-2 store has none); 4: an event about a match
/// that its record can show names the match instead of copying it (`event_log.rs`; a
/// format-3 store has none); 5: matches at or above the match watermark
/// ([`keys::META_MATCH_WATERMARK`]) are hidden, a proposal being staged (`staging.rs`; a
/// format-4 store has none, its watermark is set past its last match); 6: an idempotency
/// key holds the request id's 16 bytes, not its 36 characters, and there is no index by
/// time ([`keys::idempotency_key`]; a store of formats 2 to 5 is migrated at open,
/// `opening.rs`); 7: no tables of needs by requester and offers by provider, the indexes
/// are kept in memory (`memory_indexes.rs`; a store of formats 2 to 6 has its tables
/// emptied at open); 8: a log entry may hold several consecutive events of one landing,
/// keyed by the first (`event_log.rs`, `packed`; a format-7 store has one event per entry,
/// which format 8 reads as it is); 9: the idempotency entries of a landing share keys, packs in
/// [`keys::TreeId::IdempotencyPacks`] (`idempotency.rs`; a store of formats 2 to 8 has its
/// entries packed at open); 10: no tables of matches by need and by offer, the indexes
/// are kept in memory (`memory_indexes.rs`; a store of formats 2 to 9 has its tables
/// emptied at open). Stores of formats 2 to 9 are marked 10 at open.
pub const STORE_FORMAT_VERSION: u8 = 10;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sled: {0}")]
    Sled(#[from] sled::Error),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("corrupt value in tree {tree}: {detail}")]
    Corrupt { tree: &'static str, detail: String },
    #[error("a value for tree {tree} cannot be encoded: {detail}")]
    Encode { tree: &'static str, detail: String },
    #[error("the store was written by an unknown format version {0}")]
    UnknownFormat(u8),
    #[error("flush failed: {0}")]
    Flush(String),
    #[error("the writer gate is poisoned")]
    Poisoned,
    #[error(
        "{0} was written by lcm with store format 1 (one sled tree per table), which this build \
         does not read (it reads format {STORE_FORMAT_VERSION}); take a backup with the older build \
         (`lcm backup`) and restore it with this one (`lcm restore`)"
    )]
    OldLayout(String),
    #[error("the store has failed and refuses reads and writes until the server restarts: {0}")]
    Failed(String),
    #[error("{0} is in use by another process (another `lcm serve`, backup or restore?); stop it first")]
    Locked(String),
}

/// Told of the store's own work, for metrics: each landing and each sync. Called on the
/// store's threads, after the work; must be quick and must not call back into the store.
pub trait StoreObserver: Send + Sync {
    /// A landing of `commits` commits, `ops` operations and `bytes` bytes of keys and
    /// values, which took `took` (sled's `apply_batch`).
    fn landed(&self, commits: usize, ops: usize, bytes: usize, took: std::time::Duration);
    /// sled's flush of a landing (writing its log: `pwrite`, then `sync_file_range`), made
    /// by the lander after the batch, before the sync.
    fn flushed(&self, took: std::time::Duration);
    /// A successful sync (blob files and directories, the log's fdatasync).
    fn synced(&self, took: std::time::Duration);
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Whether a write is acknowledged only after it is on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// Flush (group commit) before acknowledging. The only setting for production.
    FlushBeforeAck,
    /// BENCHMARK ONLY: flush before acknowledging, but one flush per write, made by the
    /// writer itself under the writer gate (no group commit): shows what group commit buys.
    FlushEachWrite,
    /// TEST ONLY: acknowledge at once and never flush (sled's background flush is off
    /// too; commits land in sled only in large groups). Exists so the crash harness can
    /// show that it catches lost writes.
    UnsafeNoFlush,
}

#[derive(Clone, Debug)]
pub struct StoreConfig {
    pub cache_bytes: u64,
    pub durability: Durability,
    /// TEST ONLY: faults of the landing; all `None` in production.
    pub faults: LandingFaults,
    /// TEST ONLY: the n-th sync fails (`--test-fail-sync`). `None` in production.
    pub fail_sync: Option<u64>,
    /// TEST ONLY: every sync first sleeps this long (`--test-sync-delay-ms`), so a test
    /// can read while a commit is visible but not durable. `None` in production.
    pub sync_delay: Option<std::time::Duration>,
    /// How long an idempotency entry is kept ([`MIN_REQUEST_ID_RETENTION`] at least in
    /// production; tests may use less): older ones are pruned, at most
    /// [`PRUNE_PER_COMMIT`] per commit.
    pub request_id_retention: std::time::Duration,
}

/// The default retention of idempotency entries (`--request-id-retention`): 7 days.
pub const DEFAULT_REQUEST_ID_RETENTION: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

/// The shortest retention `lcm serve` accepts: API.md answers a retry within 24 h from the
/// stored response.
pub const MIN_REQUEST_ID_RETENTION: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// The most packs of expired idempotency entries one commit removes, so pruning is
/// bounded work per commit (and per landing), in the commit's own atomic batch.
pub const PRUNE_PER_COMMIT: usize = 64;

impl StoreConfig {
    /// Group commit with flush before acknowledgement and `cache_bytes` of sled cache.
    pub fn durable(cache_bytes: u64) -> StoreConfig {
        StoreConfig {
            cache_bytes,
            durability: Durability::FlushBeforeAck,
            faults: LandingFaults::default(),
            fail_sync: None,
            sync_delay: None,
            request_id_retention: DEFAULT_REQUEST_ID_RETENTION,
        }
    }
}

struct Inner {
    /// Every table, under its one-byte prefix ([`keys::TABLES`]).
    tables: Arc<Tables>,
    failure: Arc<Failure>,
    /// Commits not yet in sled; every read consults it first.
    pending: Arc<Pending>,
    durability: Durability,
    writer: Mutex<WriterState>,
    /// The queue of async writers in front of `writer` (one permit).
    turn: tokio::sync::Semaphore,
    flusher: Flusher,
    page_token_key: [u8; 32],
    /// Idempotency entries older than this (micros) are pruned.
    retention_micros: i64,
    /// Where the idempotency entries are ([`idempotency::RequestIds`]).
    request_ids: Arc<idempotency::RequestIds>,
    /// The needs of each requester, the offers of each provider and the matches of each
    /// need and of each offer.
    indexes: Arc<memory_indexes::MemoryIndexes>,
    /// The last [`RECENT_EVENTS`] committed events, in sequence order, so followers of
    /// the log read and decode nothing (they still see only durable ones).
    recent: RwLock<VecDeque<Arc<Event>>>,
    /// Told of every commit ([`Store::follow`]).
    followers: RwLock<Vec<Arc<dyn CommitFollower>>>,
    /// The first match id readers do not see (see `staging.rs`); only grows.
    match_watermark: std::sync::atomic::AtomicU64,
}

/// Events kept in memory for followers of the log.
pub const RECENT_EVENTS: usize = 16_384;

/// A handle on the store; cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl Store {
    /// Why the store has failed, once it has: follow it to report health.
    /// From now on, tells `observer` of every landing and sync (replacing any earlier one).
    pub fn observe(&self, observer: Arc<dyn StoreObserver>) {
        if let Ok(mut o) = self.inner.pending.observer.write() {
            *o = Some(observer);
        }
    }

    /// From the next commit on, tells `follower` of every commit's changes to its tables.
    /// Returns the last commit it is not told of: a follower that then reads the store's
    /// current state (it may read commits it is also told of; changes are whole values,
    /// so applying them again after the read is harmless) and applies what it was told
    /// after its read misses nothing.
    pub fn follow(&self, follower: Arc<dyn CommitFollower>) -> StoreResult<u64> {
        let writer = self.writer()?;
        self.inner.followers.write().map_err(|_| self.inner.failure.poisoned("followers"))?.push(follower);
        Ok(writer.state.commits)
    }

    /// Entries of the overlay: committed changes readers see that are not landed yet.
    pub fn overlay_len(&self) -> usize {
        self.inner.pending.overlay_len()
    }

    /// The last commit readers may see. A scan between two equal readings of it saw one
    /// consistent state: no commit came in between.
    pub fn visible_commit(&self) -> u64 {
        self.inner.pending.visible()
    }

    pub fn failure(&self) -> watch::Receiver<Option<String>> {
        self.inner.failure.subscribe()
    }

    /// Replaces `table`'s whole content in sled with `entries`, in one batch, and returns
    /// the entries it then holds (restore only: into a store nothing else uses yet).
    fn replace_table(&self, table: TreeId, entries: &[(&[u8], &[u8])]) -> StoreResult<usize> {
        let tables = &self.inner.tables;
        let mut ops = Vec::new();
        for kv in tables.range(table, Bound::Unbounded, Bound::Unbounded) {
            ops.push((table, kv?.0, None));
        }
        ops.extend(entries.iter().map(|(k, v)| (table, IVec::from(*k), Some(IVec::from(*v)))));
        tables.apply(ops.iter())?;
        Ok(tables.range(table, Bound::Unbounded, Bound::Unbounded).count())
    }

    /// The sequence of the last event in sled (0 if none).
    fn last_landed_event(&self) -> StoreResult<u64> {
        event_log::last_landed(&self.inner.tables)
    }

    /// `table`'s value of `key` in sled (landed commits only).
    fn sled_get(&self, table: TreeId, key: &[u8]) -> StoreResult<Option<IVec>> {
        self.inner.tables.get(table, key)
    }

    /// Takes the writer gate, blocking the thread until it is free. Hold it only for
    /// synchronous work; from async code use [`Store::writer_async`].
    pub fn writer(&self) -> StoreResult<Writer<'_>> {
        self.inner.failure.check()?;
        let state = self.inner.writer.lock().map_err(|_| self.inner.failure.poisoned("writer gate"))?;
        Ok(Writer { store: self, state, _turn: None })
    }

    /// Takes the writer gate from async code: waits for its turn without blocking a
    /// runtime thread (async writers queue on a semaphore in front of the gate, so only
    /// the one whose turn it is touches the lock; it can then wait only for a synchronous
    /// holder, a backup or a report snapshot, which hold it briefly).
    pub async fn writer_async(&self) -> StoreResult<Writer<'_>> {
        self.inner.failure.check()?;
        let turn = self.inner.turn.acquire().await.map_err(|_| StoreError::Poisoned)?;
        let state = self.inner.writer.lock().map_err(|_| self.inner.failure.poisoned("writer gate"))?;
        Ok(Writer { store: self, state, _turn: Some(turn) })
    }

    /// Announces a writer on its way to a commit, until the guard drops, so the group
    /// flusher can wait a moment for it to join the next group (see
    /// [`flusher::MAX_GATHER`]). Take it before queueing for the writer gate; drop it
    /// once committed.
    pub fn arriving(&self) -> Arriving {
        self.inner.flusher.arriving()
    }

    /// Waits until the commit behind `ticket` is on disk.
    pub async fn durable(&self, ticket: Ticket) -> StoreResult<()> {
        self.inner.flusher.wait(ticket.0).await
    }

    /// Waits until every change a read made so far may have returned is durable: call it
    /// after reading and before answering, so that no client is shown a change a crash
    /// could take back (and so never learns an id a crash could hand to another
    /// resource). Returns at once when nothing is pending.
    pub async fn settled(&self) -> StoreResult<()> {
        self.inner.flusher.wait(self.inner.pending.visible()).await
    }

    /// Flushes everything now and fsyncs the log (shutdown, backups).
    pub fn flush(&self) -> StoreResult<()> {
        self.inner.flusher.flush()
    }

    pub fn page_token_key(&self) -> &[u8; 32] {
        &self.inner.page_token_key
    }

    /// The current value of `key` in `tree`: pending if it has a pending change, else
    /// sled's.
    fn value(&self, tree: TreeId, key: &[u8]) -> StoreResult<Option<IVec>> {
        self.inner.failure.check()?;
        if self.hidden(tree, key) {
            return Ok(None);
        }
        match self.inner.pending.get(tree, key)? {
            Some(pending) => Ok(pending),
            None => self.sled_get(tree, key),
        }
    }

    /// `tree`'s current entries between `lo` and `hi`, in key order (without the hidden
    /// matches of a proposal being staged).
    fn range(
        &self,
        tree: TreeId,
        lo: Bound<Vec<u8>>,
        hi: Bound<Vec<u8>>,
    ) -> impl Iterator<Item = StoreResult<(IVec, IVec)>> + '_ {
        let staged = staging::HIDES.contains(&tree);
        self.inner
            .pending
            .range(tree, lo, hi)
            .filter(move |kv| !staged || kv.as_ref().map_or(true, |(k, _)| !self.hidden(tree, k)))
    }

    pub fn get<R: Record>(&self, id: Id) -> StoreResult<Option<R>> {
        self.value(R::TREE, &keys::id_key(id))?.map(|v| decode(R::TREE, &v)).transpose()
    }

    /// Records in id order, starting after `after`.
    pub fn scan<R: Record>(&self, after: Option<Id>) -> impl Iterator<Item = StoreResult<R>> + '_ {
        let start = after.map_or(0, |id| id.0.saturating_add(1));
        let range = if after.is_some_and(|id| id.0 == u64::MAX) { None } else { Some(start) };
        range
            .into_iter()
            .flat_map(move |start| {
                self.range(R::TREE, Bound::Included(keys::id_key(Id(start)).to_vec()), Bound::Unbounded)
            })
            .map(|kv| {
                let (_, v) = kv?;
                decode(R::TREE, &v)
            })
    }

    /// Every key of `tree` that starts with `prefix`.
    fn keys_with_prefix(&self, tree: TreeId, prefix: &[u8]) -> StoreResult<Vec<Vec<u8>>> {
        self.range(tree, Bound::Included(prefix.to_vec()), Bound::Unbounded)
            .take_while(|kv| kv.as_ref().map_or(true, |(k, _)| k.starts_with(prefix)))
            .map(|kv| Ok(kv?.0.to_vec()))
            .collect()
    }

    /// Every (key, value) of `tree`.
    pub fn entries(&self, tree: TreeId) -> StoreResult<Vec<(Vec<u8>, Vec<u8>)>> {
        self.range(tree, Bound::Unbounded, Bound::Unbounded)
            .map(|kv| kv.map(|(k, v)| (k.to_vec(), v.to_vec())))
            .collect()
    }

    pub fn principal_by_token_hash(&self, hash: &[u8; 32]) -> StoreResult<Option<Principal>> {
        match self.value(TreeId::Tokens, hash)? {
            Some(v) => match keys::id_from_key(&v) {
                Some(id) => self.get(id),
                None => Err(StoreError::Corrupt { tree: "tokens", detail: "bad principal id".into() }),
            },
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests;

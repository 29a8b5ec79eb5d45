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
mod flusher;
mod indexes;
pub mod keys;
mod pending;
mod tables;

use crate::domain::*;
pub use digest::ContentDigest;
pub use flusher::Arriving;
use flusher::{Flusher, Syncer};
pub use indexes::{CommitFollower, Followed};
pub use keys::TreeId;
use pending::Pending;
pub use pending::{LandingFaults, LandingPoint, Merged};
use serde::{Serialize, de::DeserializeOwned};
use sled::IVec;
use std::collections::VecDeque;
use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock};
use tables::Tables;
use tokio::sync::watch;

/// The encoding version written in front of every value.
pub const FORMAT_VERSION: u8 = 1;

/// The layout of the store on disk, kept under [`keys::META_FORMAT_VERSION`]. 1: one sled
/// tree per table with a landing journal (refused now); 2: every table in one tree under
/// a one-byte prefix ([`keys::TABLES`]); 3: values longer than [`tables::PIECE`] are
/// stored in pieces ([`tables`]; a format-2 store has none and is marked 3 at open).
pub const STORE_FORMAT_VERSION: u8 = 3;

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
    /// A successful sync (sled's flush, blob files and directories, the log's fdatasync).
    fn synced(&self, took: std::time::Duration);
}

/// The store's fail-stop state: the first failure's cause, once set never cleared.
pub(crate) struct Failure {
    cause: OnceLock<String>,
    tx: watch::Sender<Option<String>>,
}

impl Failure {
    fn new() -> Failure {
        Failure { cause: OnceLock::new(), tx: watch::channel(None).0 }
    }

    /// `Err(Failed)` once the store has failed.
    pub(crate) fn check(&self) -> StoreResult<()> {
        match self.cause.get() {
            Some(cause) => Err(StoreError::Failed(cause.clone())),
            None => Ok(()),
        }
    }

    /// Fails the store because `what` failed with `error` (the first cause wins and is
    /// logged, once); returns the error to give the caller.
    pub(crate) fn fail(&self, what: &str, error: &dyn std::fmt::Display) -> StoreError {
        let cause = format!("{what} failed: {error}");
        if self.cause.set(cause.clone()).is_ok() {
            tracing::error!(cause = %cause, "the store has failed: it refuses every read and write until a restart");
            self.tx.send_replace(Some(cause.clone()));
        }
        StoreError::Failed(self.cause.get().cloned().unwrap_or(cause))
    }

    fn subscribe(&self) -> watch::Receiver<Option<String>> {
        self.tx.subscribe()
    }

    /// Fails the store because a thread panicked while holding `lock`.
    pub(crate) fn poisoned(&self, lock: &str) -> StoreError {
        self.fail(&format!("a thread holding the {lock} lock (it panicked)"), &"lock poisoned")
    }
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

/// The most expired idempotency entries one commit removes, so pruning is bounded work
/// per commit (and per landing), in the commit's own atomic batch.
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

/// `value` behind the [`FORMAT_VERSION`] byte. Fails only for a value serde cannot
/// encode (none of lcm's records), which [`Writer::commit`] refuses as a whole.
pub fn encode<T: Serialize>(tree: TreeId, value: &T) -> StoreResult<Vec<u8>> {
    let mut out = vec![FORMAT_VERSION];
    let body = bincode::serde::encode_to_vec(value, bincode::config::standard())
        .map_err(|e| StoreError::Encode { tree: tree.name(), detail: e.to_string() })?;
    out.extend(body);
    Ok(out)
}

pub fn decode<T: DeserializeOwned>(tree: TreeId, bytes: &[u8]) -> StoreResult<T> {
    match bytes.split_first() {
        Some((&FORMAT_VERSION, rest)) => bincode::serde::borrow_decode_from_slice(rest, bincode::config::standard())
            .map(|(v, _)| v)
            .map_err(|e| StoreError::Corrupt { tree: tree.name(), detail: e.to_string() }),
        Some((&other, _)) => Err(StoreError::UnknownFormat(other)),
        None => Err(StoreError::Corrupt { tree: tree.name(), detail: "empty value".into() }),
    }
}

/// A stored resource with its tree.
pub trait Record: Serialize + DeserializeOwned {
    const TREE: TreeId;
    fn id(&self) -> Id;
}

impl Record for Need {
    const TREE: TreeId = TreeId::Needs;
    fn id(&self) -> Id {
        self.meta.id
    }
}
impl Record for Offer {
    const TREE: TreeId = TreeId::Offers;
    fn id(&self) -> Id {
        self.meta.id
    }
}
impl Record for TrainingCentre {
    const TREE: TreeId = TreeId::Centres;
    fn id(&self) -> Id {
        self.meta.id
    }
}
impl Record for Match {
    const TREE: TreeId = TreeId::Matches;
    fn id(&self) -> Id {
        self.meta.id
    }
}
impl Record for Arrangement {
    const TREE: TreeId = TreeId::Arrangements;
    fn id(&self) -> Id {
        self.meta.id
    }
}
impl Record for Principal {
    const TREE: TreeId = TreeId::Principals;
    fn id(&self) -> Id {
        self.meta.id
    }
}

/// The first response to a request that carried a `request_id`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct IdempotencyEntry {
    pub method: String,
    /// SHA-256 of the encoded request.
    pub fingerprint: [u8; 32],
    /// The encoded response to return on a replay.
    pub response: Vec<u8>,
    pub time: UnixMicros,
}

/// One key's change in a [`WriteSet`]: a new value, or `None` for a removal.
type WriteOp = (TreeId, Vec<u8>, Option<Vec<u8>>);

/// Everything one state change writes, applied atomically.
#[derive(Default)]
pub struct WriteSet {
    ops: Vec<WriteOp>,
    events: Vec<Event>,
    /// See [`WriteSet::commit_even_if_refused`].
    on_refusal: bool,
    /// The first value that could not be encoded: the commit is refused.
    unencodable: Option<StoreError>,
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
    fn encoded<T: Serialize>(&mut self, tree: TreeId, value: &T) -> Option<Vec<u8>> {
        match encode(tree, value) {
            Ok(v) => Some(v),
            Err(e) => {
                self.unencodable.get_or_insert(e);
                None
            }
        }
    }

    pub fn put_record<R: Record>(&mut self, record: &R) {
        let value = self.encoded(R::TREE, record);
        self.ops.push((R::TREE, keys::id_key(record.id()).to_vec(), value));
    }

    fn put_raw(&mut self, tree: TreeId, key: Vec<u8>, value: Vec<u8>) {
        self.ops.push((tree, key, Some(value)));
    }

    fn index(&mut self, tree: TreeId, state: Alpha3, id: Id) {
        self.ops.push((tree, keys::state_index_key(state, id), Some(Vec::new())));
    }

    /// The first response to `request_id`, with its entry in the index by time that
    /// pruning follows ([`TreeId::IdempotencyByTime`]).
    pub fn idempotency(&mut self, principal_id: &str, request_id: &str, entry: &IdempotencyEntry) {
        let key = keys::idempotency_key(principal_id, request_id);
        self.ops.push((TreeId::IdempotencyByTime, keys::idempotency_time_key(entry.time, &key), Some(Vec::new())));
        let value = self.encoded(TreeId::Idempotency, entry);
        self.ops.push((TreeId::Idempotency, key, value));
    }

    fn put_key(&mut self, tree: TreeId, key: &[u8]) {
        self.ops.push((tree, key.to_vec(), Some(Vec::new())));
    }

    fn delete(&mut self, tree: TreeId, key: &[u8]) {
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
pub struct Ticket(u64);

struct WriterState {
    next_event: u64,
    next_id: [u64; Kind::ALL.len()],
    commits: u64,
}

/// The writer gate: held while a change is read, decided and committed.
pub struct Writer<'a> {
    store: &'a Store,
    state: MutexGuard<'a, WriterState>,
    /// Held by writers that queued asynchronously ([`Store::writer_async`]).
    _turn: Option<tokio::sync::SemaphorePermit<'a>>,
}

impl Writer<'_> {
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
        // Expired idempotency entries go first, so that nothing this commit writes is
        // removed by them.
        let mut ops = self.store.expired_idempotency()?;
        ops.append(&mut ws.ops);
        ws.ops = ops;
        let first = self.state.next_event;
        for (i, e) in ws.events.iter_mut().enumerate() {
            e.sequence = first + i as u64;
            ws.ops.push((TreeId::Events, keys::sequence_key(e.sequence).to_vec(), Some(encode(TreeId::Events, &*e)?)));
        }
        let commit = self.state.commits + 1;
        let followers =
            self.store.inner.followers.read().map_err(|_| self.store.inner.failure.poisoned("followers"))?;
        let followed: Vec<Followed> = if followers.is_empty() {
            Vec::new()
        } else {
            ws.ops.iter().filter_map(|(tree, key, value)| indexes::followed(*tree, key, value.as_deref())).collect()
        };
        let ops = ws.ops.into_iter().map(|(tree, key, value)| (tree, key.into(), value.map(Into::into))).collect();
        let queued = pending.add(commit, ops)?;
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
    /// The last [`RECENT_EVENTS`] committed events, in sequence order, so followers of
    /// the log read and decode nothing (they still see only durable ones).
    recent: RwLock<VecDeque<Arc<Event>>>,
    /// Told of every commit ([`Store::follow`]).
    followers: RwLock<Vec<Arc<dyn CommitFollower>>>,
}

/// How long an open waits for sled's file lock, [`open_sled`].
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// Opens the sled database at `path` and its one tree of tables, [`keys::TABLES`].
///
/// sled takes an exclusive lock on its `db` file. After a store in this process is
/// dropped, sled's own I/O threads may still hold the file for a moment (they own
/// references to its log), so a reopen in the same process retries for up to
/// [`LOCK_WAIT`] before it reports the store as in use.
fn open_sled(path: &Path, cache_bytes: u64, flush_every_ms: Option<u64>) -> StoreResult<(sled::Db, sled::Tree)> {
    let config = sled::Config::new()
        .path(path)
        .segment_size(tables::SEGMENT_SIZE)
        .cache_capacity(cache_bytes)
        .flush_every_ms(flush_every_ms);
    let started = std::time::Instant::now();
    let db = loop {
        match config.open() {
            Ok(db) => break db,
            // sled reports a held lock as an I/O error of kind Other, by its message
            // (sled 0.34.7 config.rs `try_lock`).
            Err(sled::Error::Io(e)) if e.to_string().starts_with("could not acquire lock") => {
                if started.elapsed() >= LOCK_WAIT {
                    return Err(StoreError::Locked(path.display().to_string()));
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => return Err(e.into()),
        }
    };
    // A format-1 store kept each table in a tree of its own, "meta" among them.
    if db.tree_names().iter().any(|n| n.as_ref() == TreeId::Meta.name().as_bytes()) {
        return Err(StoreError::OldLayout(path.display().to_string()));
    }
    let tree = db.open_tree(keys::TABLES)?;
    Ok((db, tree))
}

/// Microseconds since the epoch, the clock of [`IdempotencyEntry::time`].
fn now_micros() -> UnixMicros {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_micros() as i64)
}

/// Indexes by time every idempotency entry written before the index existed (stores
/// and backups of earlier builds), once: afterwards [`keys::META_IDEMPOTENCY_INDEXED`]
/// says every entry has its index entry, and writes keep it so.
fn index_idempotency(tables: &Arc<Tables>) -> StoreResult<()> {
    if tables.get(TreeId::Meta, keys::META_IDEMPOTENCY_INDEXED)?.is_some() {
        return Ok(());
    }
    let mut ops = Vec::new();
    for kv in tables.range(TreeId::Idempotency, Bound::Unbounded, Bound::Unbounded) {
        let (k, v) = kv?;
        let entry: IdempotencyEntry = decode(TreeId::Idempotency, &v)?;
        ops.push((TreeId::IdempotencyByTime, keys::idempotency_time_key(entry.time, &k).into(), Some(IVec::default())));
    }
    let indexed = ops.len();
    ops.push((TreeId::Meta, keys::META_IDEMPOTENCY_INDEXED.into(), Some(vec![1].into())));
    tables.apply(ops.iter())?;
    if indexed > 0 {
        tracing::info!(entries = indexed, "indexed the idempotency entries by time, for pruning");
    }
    Ok(())
}

/// BENCHMARK ONLY: opens the sled database at `path` exactly as [`Store::open`] does, with
/// nothing of lcm's own on top (no format check, no id or event-log recovery, no flusher,
/// no memory of recent events); with `read_all` it then reads every entry of every tree.
/// `measure` runs while the database is still open. Returns the entries read and what
/// `measure` returned. The baseline of the memory and recovery figures.
pub fn open_bare<T>(
    path: &Path,
    cache_bytes: u64,
    read_all: bool,
    measure: impl FnOnce() -> T,
) -> StoreResult<(u64, T)> {
    let (_db, tree) = open_sled(path, cache_bytes, Some(1000))?;
    let mut entries = 0u64;
    if read_all {
        for kv in tree.iter() {
            std::hint::black_box(kv?);
            entries += 1;
        }
    }
    Ok((entries, measure()))
}

/// Events kept in memory for followers of the log.
pub const RECENT_EVENTS: usize = 16_384;

/// A handle on the store; cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl Store {
    pub fn open(path: &Path, config: &StoreConfig) -> StoreResult<Store> {
        let flush_every = match config.durability {
            Durability::FlushBeforeAck | Durability::FlushEachWrite => Some(1000),
            Durability::UnsafeNoFlush => None,
        };
        let (db, tree) = open_sled(path, config.cache_bytes, flush_every)?;
        let tables = Tables::open(tree)?;
        let meta_put = |key: &[u8], value: &[u8]| -> StoreResult<()> {
            tables.apply([(TreeId::Meta, key.into(), Some(value.into()))].iter())
        };
        match tables.get(TreeId::Meta, keys::META_FORMAT_VERSION)? {
            Some(v) if v.as_ref() == [STORE_FORMAT_VERSION] => {}
            // Format 2 is format 3 without values in pieces.
            Some(v) if v.as_ref() == [2] => meta_put(keys::META_FORMAT_VERSION, &[STORE_FORMAT_VERSION])?,
            Some(v) => return Err(StoreError::UnknownFormat(v.first().copied().unwrap_or(0))),
            None => meta_put(keys::META_FORMAT_VERSION, &[STORE_FORMAT_VERSION])?,
        }
        let page_token_key = match tables.get(TreeId::Meta, keys::META_PAGE_TOKEN_KEY)? {
            Some(k) if k.len() == 32 => {
                let mut key = [0u8; 32];
                key.copy_from_slice(&k);
                key
            }
            _ => {
                let key: [u8; 32] = rand::random();
                meta_put(keys::META_PAGE_TOKEN_KEY, &key)?;
                key
            }
        };
        index_idempotency(&tables)?;
        db.flush()?;
        let last_key = |table: TreeId| -> StoreResult<u64> {
            Ok(tables.last_key(table)?.and_then(|k| keys::id_from_key(&k)).map_or(0, |id| id.0))
        };
        let mut next_id = [1u64; Kind::ALL.len()];
        for (kind, table) in [
            (Kind::Need, TreeId::Needs),
            (Kind::Offer, TreeId::Offers),
            (Kind::Centre, TreeId::Centres),
            (Kind::Principal, TreeId::Principals),
            (Kind::Match, TreeId::Matches),
            (Kind::Arrangement, TreeId::Arrangements),
        ] {
            next_id[kind as usize] = last_key(table)? + 1;
        }
        let last_event = last_key(TreeId::Events)?;
        let failure = Arc::new(Failure::new());
        let pending = Arc::new(Pending::new(tables.clone(), config.faults.clone(), failure.clone()));
        let syncer = Syncer::open(db.clone(), path, pending.clone(), failure.clone(), config)?;
        let flusher = Flusher::start(syncer, config.durability, last_event)?;
        Ok(Store {
            inner: Arc::new(Inner {
                tables,
                failure,
                pending,
                durability: config.durability,
                writer: Mutex::new(WriterState { next_event: last_event + 1, next_id, commits: 0 }),
                turn: tokio::sync::Semaphore::new(1),
                flusher,
                page_token_key,
                retention_micros: i64::try_from(config.request_id_retention.as_micros()).unwrap_or(i64::MAX),
                recent: RwLock::new(VecDeque::with_capacity(RECENT_EVENTS)),
                followers: RwLock::new(Vec::new()),
            }),
        })
    }

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

    /// The last key of `table` in sled, as an id.
    fn last_landed_id(&self, table: TreeId) -> StoreResult<u64> {
        Ok(self.inner.tables.last_key(table)?.and_then(|k| keys::id_from_key(&k)).map_or(0, |id| id.0))
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
        match self.inner.pending.get(tree, key)? {
            Some(pending) => Ok(pending),
            None => self.sled_get(tree, key),
        }
    }

    /// `tree`'s current entries between `lo` and `hi`, in key order.
    fn range(&self, tree: TreeId, lo: Bound<Vec<u8>>, hi: Bound<Vec<u8>>) -> Merged {
        self.inner.pending.range(tree, lo, hi)
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

    /// Ids in a state index (`tree`) for `state`, in id order, starting after `after`.
    fn scan_index(&self, tree: TreeId, state: Alpha3, after: Option<Id>) -> impl Iterator<Item = StoreResult<Id>> + '_ {
        let prefix = state.as_str().as_bytes().to_vec();
        let start = keys::state_index_key(state, Id(after.map_or(0, |id| id.0.saturating_add(1))));
        let done = after.is_some_and(|id| id.0 == u64::MAX);
        self.range(tree, Bound::Included(start), Bound::Unbounded)
            .take_while(move |kv| !done && kv.as_ref().map_or(true, |(k, _)| k.starts_with(&prefix)))
            .map(move |kv| {
                let (k, _) = kv?;
                keys::id_from_index_key(&k)
                    .ok_or(StoreError::Corrupt { tree: tree.name(), detail: "short index key".into() })
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

    /// Removals of up to [`PRUNE_PER_COMMIT`] idempotency entries older than the
    /// retention, oldest first, with their index entries. Called under the writer gate.
    fn expired_idempotency(&self) -> StoreResult<Vec<WriteOp>> {
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

    /// Durable events with sequence > `after`, at most `limit`: from memory when they are
    /// recent, else from the log.
    pub fn events_after(&self, after: u64, limit: usize) -> StoreResult<Vec<Arc<Event>>> {
        let durable = self.durable_sequence();
        if after >= durable {
            return Ok(Vec::new());
        }
        let recent = self.inner.recent.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(front) = recent.front()
            && front.sequence <= after + 1
        {
            let skip = usize::try_from(after + 1 - front.sequence).unwrap_or(usize::MAX);
            return Ok(recent.iter().skip(skip).take_while(|e| e.sequence <= durable).take(limit).cloned().collect());
        }
        drop(recent);
        // Durable events are in sled: the flusher lands a group before flushing it.
        self.inner.failure.check()?;
        self.inner
            .tables
            .range(
                TreeId::Events,
                Bound::Included(keys::sequence_key(after + 1).to_vec()),
                Bound::Included(keys::sequence_key(durable).to_vec()),
            )
            .take(limit)
            .map(|kv| {
                let (_, v) = kv?;
                decode(TreeId::Events, &v).map(Arc::new)
            })
            .collect()
    }

    /// Keeps just-committed events in memory (called under the writer gate, in order).
    fn remember(&self, events: &[Event]) {
        if events.is_empty() {
            return;
        }
        // Nothing panics while the lock is held, so a poisoned lock still holds whole data.
        let mut recent = self.inner.recent.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        for e in events {
            if recent.len() == RECENT_EVENTS {
                recent.pop_front();
            }
            recent.push_back(Arc::new(e.clone()));
        }
    }

    /// The highest event sequence that is on disk.
    pub fn durable_sequence(&self) -> u64 {
        *self.inner.flusher.durable_events().borrow()
    }

    /// Follows the durable event sequence.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.inner.flusher.durable_events()
    }
}

#[cfg(test)]
mod tests;

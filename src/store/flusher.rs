//! Group commit in two stages, each a thread. The lander waits for commits (and a moment
//! for writers about to commit, [`MAX_GATHER`]), lands them in sled
//! ([`Pending::land`]) and has sled write its log ([`Syncer::write_log`]); the syncer
//! fdatasyncs that log for everything written so far, then wakes those writers. While
//! the syncer waits for the disk, the lander already lands and writes the next group.
//! Writers wait asynchronously; no request pays one fsync or one landing of its own.
//!
//! sled's flush and a landing's batch both take sled's process-wide concurrency lock
//! (the flush for reading, the batch for writing, `concurrency_control.rs`), and a writer
//! waiting for it holds up every reader. So one thread does both, one after the other:
//! a batch never waits behind a flush that waits for the disk, and reads are held up
//! only while a batch applies. The fdatasync takes no sled lock, so landings go on
//! beside it: no landing can make sled write a blob file ([`super::tables`]), so nothing
//! a landing writes beside an fdatasync can leave a durable pointer to an unsynced file.

use super::dirsync::DirSync;
use super::pending::{LandingPoint, Pending, abort_at};
use super::{Durability, Failure, StoreConfig, StoreError, StoreResult};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Landing the pending commits ([`Pending::land`]), then sled's flush
/// ([`Syncer::write_log`]), then an fsync of every new file and changed directory
/// ([`DirSync`]), then an fdatasync of sled's log file ([`Syncer::sync`]).
///
/// On Linux, sled 0.34's `Db::flush` writes its log with `pwrite` and waits for it with
/// `sync_file_range`, which flushes neither the drive's volatile write cache nor the
/// file's metadata (its length, as the log grows); sled itself fsyncs only from its
/// background thread, every `flush_every_ms`. Without the fdatasync an acknowledged write
/// survives a process crash but not necessarily a power cut.
///
/// A failed flush or sync fails the store ([`Failure`]): after a failed fdatasync Linux
/// may have dropped the dirty pages and report success next time, so nothing written
/// after it can be trusted to be on disk.
#[derive(Clone)]
pub(super) struct Syncer {
    db: sled::Db,
    log: Arc<std::fs::File>,
    /// Blob files and directories (see [`DirSync`]).
    dirs: Arc<DirSync>,
    pending: Arc<Pending>,
    failure: Arc<Failure>,
    /// TEST ONLY: the n-th sync fails.
    fail_sync: Option<u64>,
    /// TEST ONLY: every sync first sleeps this long.
    sync_delay: Option<Duration>,
    /// TEST ONLY: abort at a point after the batch of the n-th landing.
    abort_at: Option<(LandingPoint, u64)>,
    syncs: Arc<AtomicU64>,
}

impl Syncer {
    /// `store_dir` is the directory sled was opened on; sled keeps its log in `db` there.
    pub(super) fn open(
        db: sled::Db,
        store_dir: &Path,
        pending: Arc<Pending>,
        failure: Arc<Failure>,
        config: &StoreConfig,
    ) -> StoreResult<Syncer> {
        let log = std::fs::File::open(store_dir.join("db"))?;
        Ok(Syncer {
            db,
            log: Arc::new(log),
            dirs: Arc::new(DirSync::new(store_dir)),
            pending,
            failure,
            fail_sync: config.fail_sync,
            sync_delay: config.sync_delay,
            abort_at: config.faults.abort_at,
            syncs: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Lands every pending commit, then makes sled durable.
    pub(super) fn flush(&self) -> StoreResult<()> {
        let (_, landing) = self.pending.land()?;
        self.write_log(landing)?;
        self.sync(landing)
    }

    /// Has sled write its log up to everything landed so far (`Db::flush`: `pwrite`, then
    /// `sync_file_range`), so that [`Syncer::sync`] can make it durable. A failure fails
    /// the store.
    fn write_log(&self, landing: u64) -> StoreResult<()> {
        self.failure.check()?;
        let started = Instant::now();
        if let Err(e) = self.db.flush() {
            return Err(self.failure.fail("a flush or sync of the store", &e));
        }
        self.pending.observe(|o| o.flushed(started.elapsed()));
        self.maybe_abort(LandingPoint::AfterFlush, landing);
        Ok(())
    }

    /// TEST ONLY: aborts if asked to at `point` of a landing up to `landing`.
    fn maybe_abort(&self, point: LandingPoint, landing: u64) {
        if let Some((p, n)) = self.abort_at
            && p == point
            && landing >= n
        {
            abort_at(point, n);
        }
    }

    /// Makes what sled has written to its log durable ([`Syncer::write_log`] first):
    /// every landing up to `landing` (0 if unknown).
    fn sync(&self, landing: u64) -> StoreResult<()> {
        self.failure.check()?;
        let n = self.syncs.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(delay) = self.sync_delay {
            std::thread::sleep(delay);
        }
        let started = Instant::now();
        let result = (|| -> StoreResult<()> {
            if self.fail_sync == Some(n) {
                return Err(StoreError::Io(std::io::Error::other(format!(
                    "TEST ONLY: sync {n} fails (--test-fail-sync)"
                ))));
            }
            self.dirs.sync()?;
            self.log.sync_data()?;
            Ok(())
        })();
        if let Err(e) = result {
            return Err(self.failure.fail("a flush or sync of the store", &e));
        }
        self.pending.observe(|o| o.synced(started.elapsed()));
        self.maybe_abort(LandingPoint::AfterSync, landing);
        Ok(())
    }
}

#[derive(Clone, Debug, Default)]
struct Flushed {
    /// Every commit up to this one is on disk.
    upto: u64,
    /// Commits up to this one were covered by a failed flush.
    failed_upto: u64,
    error: Option<String>,
}

/// What the lander is asked to cover: commits made so far.
#[derive(Default)]
struct Request {
    commit: u64,
    last_event: u64,
    /// Writers between [`Flusher::arriving`] and their commit.
    arriving: usize,
    /// What the lander waits for, so that only what it waits for wakes it.
    waiting: Waiting,
    stop: bool,
}

/// What the lander is waiting for.
#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum Waiting {
    /// Busy: it looks at the request when it is done.
    #[default]
    Nothing,
    /// A commit.
    Commit,
    /// The last arriving writer (or [`MAX_GATHER`]).
    Arrivals,
}

/// What the syncer thread is asked to cover: commits landed so far.
#[derive(Default)]
struct ToSync {
    commit: u64,
    last_event: u64,
    /// The number of the last landing.
    landing: u64,
    /// Landings up to this commit failed, with this error.
    failed: Option<(u64, String)>,
    stop: bool,
}

struct Shared {
    request: Mutex<Request>,
    wake: Condvar,
    landed: Mutex<ToSync>,
    landed_wake: Condvar,
}

/// How long the lander may wait for arriving writers to join a group.
pub(super) const MAX_GATHER: Duration = Duration::from_millis(1);

/// A writer on its way to a commit; see [`Flusher::arriving`].
pub struct Arriving {
    shared: Arc<Shared>,
}

impl Drop for Arriving {
    fn drop(&mut self) {
        if let Ok(mut r) = self.shared.request.lock() {
            r.arriving = r.arriving.saturating_sub(1);
            if r.arriving == 0 && r.waiting == Waiting::Arrivals {
                self.shared.wake.notify_one();
            }
        }
    }
}

pub(super) struct Flusher {
    shared: Arc<Shared>,
    flushed: watch::Receiver<Flushed>,
    flushed_tx: Arc<watch::Sender<Flushed>>,
    events: watch::Receiver<u64>,
    events_tx: Arc<watch::Sender<u64>>,
    durability: Durability,
    syncer: Syncer,
    lander: Option<JoinHandle<()>>,
    sync_thread: Option<JoinHandle<()>>,
}

impl Flusher {
    pub(super) fn start(syncer: Syncer, durability: Durability, last_event: u64) -> StoreResult<Flusher> {
        let shared = Arc::new(Shared {
            request: Mutex::new(Request::default()),
            wake: Condvar::new(),
            landed: Mutex::new(ToSync::default()),
            landed_wake: Condvar::new(),
        });
        let (flushed_tx, flushed) = watch::channel(Flushed::default());
        let (events_tx, events) = watch::channel(last_event);
        let flushed_tx = Arc::new(flushed_tx);
        let events_tx = Arc::new(events_tx);
        let (mut lander, mut sync_thread) = (None, None);
        if durability == Durability::FlushBeforeAck {
            let (sy, s) = (syncer.clone(), shared.clone());
            let spawned = std::thread::Builder::new().name("lcm-lander".into()).spawn(move || land_loop(&sy, &s));
            lander = Some(spawned.map_err(|e| syncer.failure.fail("starting the lander thread", &e))?);
            let (sy, s, flushed_tx, events_tx) =
                (syncer.clone(), shared.clone(), flushed_tx.clone(), events_tx.clone());
            let spawned = std::thread::Builder::new()
                .name("lcm-syncer".into())
                .spawn(move || sync_loop(&sy, &s, &flushed_tx, &events_tx));
            match spawned {
                Ok(t) => sync_thread = Some(t),
                Err(e) => {
                    let error = syncer.failure.fail("starting the syncer thread", &e);
                    // Stop the lander before giving up.
                    if let Ok(mut r) = shared.request.lock() {
                        r.stop = true;
                    }
                    shared.wake.notify_one();
                    if let Some(t) = lander.take() {
                        let _ = t.join();
                    }
                    return Err(error);
                }
            }
        }
        Ok(Flusher { shared, flushed, flushed_tx, events, events_tx, durability, syncer, lander, sync_thread })
    }

    /// Called under the writer gate right after a commit.
    pub(super) fn committed(&self, commit: u64, last_event: u64) {
        match self.durability {
            Durability::UnsafeNoFlush => {
                // Events first: once a writer is acknowledged, its events must be readable.
                self.events_tx.send_modify(|e| *e = last_event);
                self.flushed_tx.send_modify(|f| f.upto = commit);
            }
            Durability::FlushEachWrite => match self.syncer.write_log(0).and_then(|()| self.syncer.sync(0)) {
                Ok(_) => {
                    self.events_tx.send_modify(|e| *e = last_event);
                    self.flushed_tx.send_modify(|f| f.upto = commit);
                }
                Err(e) => {
                    self.flushed_tx.send_modify(|f| {
                        f.failed_upto = commit;
                        f.error = Some(e.to_string());
                    });
                }
            },
            Durability::FlushBeforeAck => {
                match self.shared.request.lock() {
                    Ok(mut p) => {
                        p.commit = commit;
                        p.last_event = last_event;
                        // A lander gathering is woken by the last arrival instead.
                        if p.waiting == Waiting::Commit {
                            self.shared.wake.notify_one();
                        }
                    }
                    Err(_) => {
                        let e = self.syncer.failure.poisoned("lander request");
                        self.flushed_tx.send_modify(|f| {
                            f.failed_upto = commit;
                            f.error = Some(e.to_string());
                        });
                    }
                }
            }
        }
    }

    /// Lands and makes durable every commit made so far, now, from the caller's thread
    /// (shutdown, backups, bulk fills), and publishes that: their writers are woken and
    /// their events become readable without waiting for the group flusher's next round.
    pub(super) fn flush(&self) -> StoreResult<()> {
        let (commit, last_event) = self
            .shared
            .request
            .lock()
            .map(|r| (r.commit, r.last_event))
            .map_err(|_| self.syncer.failure.poisoned("lander request"))?;
        self.syncer.flush()?;
        // Events first: once a writer is acknowledged, its events must be readable.
        self.events_tx.send_modify(|e| *e = (*e).max(last_event));
        self.flushed_tx.send_modify(|f| f.upto = f.upto.max(commit));
        Ok(())
    }

    /// Counts a writer that is about to commit (queued for the writer gate or deciding)
    /// until the guard drops. A lander woken by a commit waits up to [`MAX_GATHER`] for
    /// such writers, so that one landing and one flush cover them too: under load a group
    /// gathers every writer in the pipeline; a lone writer is flushed at once.
    pub(super) fn arriving(&self) -> Arriving {
        if let Ok(mut r) = self.shared.request.lock() {
            r.arriving += 1;
        }
        Arriving { shared: self.shared.clone() }
    }

    pub(super) async fn wait(&self, commit: u64) -> StoreResult<()> {
        let mut rx = self.flushed.clone();
        let mut failure = self.syncer.failure.subscribe();
        loop {
            {
                let f = rx.borrow_and_update();
                if f.upto >= commit {
                    return Ok(());
                }
                if f.failed_upto >= commit {
                    // A failed landing or sync fails the store; say so.
                    self.syncer.failure.check()?;
                    return Err(StoreError::Flush(f.error.clone().unwrap_or_default()));
                }
            }
            // A store that fails may never get to this commit: stop waiting then too.
            self.syncer.failure.check()?;
            tokio::select! {
                changed = rx.changed() => if changed.is_err() {
                    return Err(StoreError::Flush("the flusher stopped".into()));
                },
                _ = failure.changed() => {}
            }
        }
    }

    pub(super) fn durable_events(&self) -> watch::Receiver<u64> {
        self.events.clone()
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        // The lander lands what is left, then the syncer makes it durable.
        if let Ok(mut r) = self.shared.request.lock() {
            r.stop = true;
        }
        self.shared.wake.notify_one();
        if let Some(t) = self.lander.take() {
            let _ = t.join();
        }
        if let Ok(mut l) = self.shared.landed.lock() {
            l.stop = true;
        }
        self.shared.landed_wake.notify_one();
        if let Some(t) = self.sync_thread.take() {
            let _ = t.join();
        }
    }
}

/// The lander: waits for commits, gathers the writers about to commit, lands them all
/// and has sled write them to its log.
fn land_loop(syncer: &Syncer, shared: &Shared) {
    let mut done = 0u64;
    loop {
        let (target, last_event, stop) = {
            let Ok(mut r) = shared.request.lock() else { return };
            r.waiting = Waiting::Commit;
            while r.commit <= done && !r.stop {
                r = match shared.wake.wait(r) {
                    Ok(r) => r,
                    Err(_) => return,
                };
            }
            r.waiting = Waiting::Arrivals;
            let deadline = Instant::now() + MAX_GATHER;
            while r.arriving > 0 && !r.stop {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                r = match shared.wake.wait_timeout(r, left) {
                    Ok((r, _)) => r,
                    Err(_) => return,
                };
            }
            r.waiting = Waiting::Nothing;
            (r.commit, r.last_event, r.stop)
        };
        if target > done {
            let result = syncer.pending.land().and_then(|(last, landing)| {
                syncer.write_log(landing)?;
                Ok((last, landing))
            });
            if let Ok(mut l) = shared.landed.lock() {
                match result {
                    Ok((_, landing)) => {
                        l.commit = target;
                        l.last_event = last_event;
                        l.landing = l.landing.max(landing);
                    }
                    Err(e) => l.failed = Some((target, e.to_string())),
                }
            }
            shared.landed_wake.notify_one();
            done = target;
        }
        if stop {
            return;
        }
    }
}

/// The syncer: makes everything landed durable, then wakes its writers.
fn sync_loop(syncer: &Syncer, shared: &Shared, flushed: &watch::Sender<Flushed>, events: &watch::Sender<u64>) {
    let mut done = 0u64;
    loop {
        let (target, last_event, landing, failed, stop) = {
            let Ok(mut l) = shared.landed.lock() else { return };
            while l.commit <= done && l.failed.is_none() && !l.stop {
                l = match shared.landed_wake.wait(l) {
                    Ok(l) => l,
                    Err(_) => return,
                };
            }
            (l.commit, l.last_event, l.landing, l.failed.take(), l.stop)
        };
        if target > done {
            match syncer.sync(landing) {
                Ok(()) => {
                    // Events first: once a writer is acknowledged, its events must be readable.
                    events.send_modify(|e| *e = (*e).max(last_event));
                    flushed.send_modify(|f| f.upto = f.upto.max(target));
                }
                Err(e) => {
                    // The store has failed (logged once there): every commit so far is
                    // refused, and every later one is refused at commit.
                    flushed.send_modify(|f| {
                        f.failed_upto = f.failed_upto.max(target);
                        f.error = Some(e.to_string());
                    });
                }
            }
            done = target;
        }
        if let Some((upto, error)) = failed {
            flushed.send_modify(|f| {
                f.failed_upto = f.failed_upto.max(upto);
                f.error = Some(error);
            });
            done = done.max(upto);
        }
        if stop {
            return;
        }
    }
}

//! Group commit: one thread flushes sled for every writer that committed since the last
//! flush, then wakes them all. Writers wait asynchronously; no request pays one fsync of
//! its own.

use super::{Durability, StoreError, StoreResult};
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use tokio::sync::watch;

/// sled's flush followed by an fdatasync of sled's log file.
///
/// On Linux, sled 0.34's `Db::flush` writes its log with `pwrite` and waits for it with
/// `sync_file_range`, which flushes neither the drive's volatile write cache nor the
/// file's metadata (its length, as the log grows); sled itself fsyncs only from its
/// background thread, every `flush_every_ms`. Without the fdatasync an acknowledged write
/// survives a process crash but not necessarily a power cut.
#[derive(Clone)]
pub(super) struct Syncer {
    db: sled::Db,
    log: Arc<std::fs::File>,
}

impl Syncer {
    /// `store_dir` is the directory sled was opened on; sled keeps its log in `db` there.
    pub(super) fn open(db: sled::Db, store_dir: &Path) -> StoreResult<Syncer> {
        let log = std::fs::File::open(store_dir.join("db"))?;
        Ok(Syncer { db, log: Arc::new(log) })
    }

    pub(super) fn flush(&self) -> StoreResult<()> {
        self.db.flush()?;
        self.log.sync_data()?;
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

#[derive(Default)]
struct Pending {
    commit: u64,
    last_event: u64,
    stop: bool,
}

struct Shared {
    pending: Mutex<Pending>,
    wake: Condvar,
}

pub(super) struct Flusher {
    shared: Arc<Shared>,
    flushed: watch::Receiver<Flushed>,
    flushed_tx: Arc<watch::Sender<Flushed>>,
    events: watch::Receiver<u64>,
    events_tx: Arc<watch::Sender<u64>>,
    durability: Durability,
    syncer: Syncer,
    thread: Option<JoinHandle<()>>,
}

impl Flusher {
    pub(super) fn start(syncer: Syncer, durability: Durability, last_event: u64) -> Flusher {
        let shared = Arc::new(Shared { pending: Mutex::new(Pending::default()), wake: Condvar::new() });
        let (flushed_tx, flushed) = watch::channel(Flushed::default());
        let (events_tx, events) = watch::channel(last_event);
        let flushed_tx = Arc::new(flushed_tx);
        let events_tx = Arc::new(events_tx);
        let thread = (durability == Durability::FlushBeforeAck).then(|| {
            let (syncer, shared, flushed_tx, events_tx) =
                (syncer.clone(), shared.clone(), flushed_tx.clone(), events_tx.clone());
            std::thread::Builder::new()
                .name("lcm-flusher".into())
                .spawn(move || run(syncer, shared, flushed_tx, events_tx))
                .ok()
        });
        Flusher { shared, flushed, flushed_tx, events, events_tx, durability, syncer, thread: thread.flatten() }
    }

    /// Called under the writer gate right after a commit.
    pub(super) fn committed(&self, commit: u64, last_event: u64) {
        match self.durability {
            Durability::UnsafeNoFlush => {
                // Events first: once a writer is acknowledged, its events must be readable.
                self.events_tx.send_modify(|e| *e = last_event);
                self.flushed_tx.send_modify(|f| f.upto = commit);
            }
            Durability::FlushEachWrite => match self.syncer.flush() {
                Ok(_) => {
                    self.events_tx.send_modify(|e| *e = last_event);
                    self.flushed_tx.send_modify(|f| f.upto = commit);
                }
                Err(e) => {
                    tracing::error!(error = %e, "flush failed; the write covered by it is refused");
                    self.flushed_tx.send_modify(|f| {
                        f.failed_upto = commit;
                        f.error = Some(e.to_string());
                    });
                }
            },
            Durability::FlushBeforeAck => {
                if let Ok(mut p) = self.shared.pending.lock() {
                    p.commit = commit;
                    p.last_event = last_event;
                }
                self.shared.wake.notify_one();
            }
        }
    }

    pub(super) async fn wait(&self, commit: u64) -> StoreResult<()> {
        let mut rx = self.flushed.clone();
        loop {
            {
                let f = rx.borrow_and_update();
                if f.upto >= commit {
                    return Ok(());
                }
                if f.failed_upto >= commit {
                    return Err(StoreError::Flush(f.error.clone().unwrap_or_default()));
                }
            }
            if rx.changed().await.is_err() {
                return Err(StoreError::Flush("the flusher stopped".into()));
            }
        }
    }

    pub(super) fn durable_events(&self) -> watch::Receiver<u64> {
        self.events.clone()
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        if let Ok(mut p) = self.shared.pending.lock() {
            p.stop = true;
        }
        self.shared.wake.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(syncer: Syncer, shared: Arc<Shared>, flushed: Arc<watch::Sender<Flushed>>, events: Arc<watch::Sender<u64>>) {
    let mut done = 0u64;
    loop {
        let (target, last_event, stop) = {
            let Ok(mut p) = shared.pending.lock() else { return };
            while p.commit <= done && !p.stop {
                p = match shared.wake.wait(p) {
                    Ok(p) => p,
                    Err(_) => return,
                };
            }
            (p.commit, p.last_event, p.stop)
        };
        if target > done {
            match syncer.flush() {
                Ok(_) => {
                    // Events first: once a writer is acknowledged, its events must be readable.
                    events.send_modify(|e| *e = (*e).max(last_event));
                    flushed.send_modify(|f| f.upto = target);
                }
                Err(e) => {
                    tracing::error!(error = %e, "flush failed; writes covered by it are refused");
                    flushed.send_modify(|f| {
                        f.failed_upto = target;
                        f.error = Some(e.to_string());
                    });
                }
            }
            done = target;
        }
        if stop {
            return;
        }
    }
}

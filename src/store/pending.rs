//! Writes committed under the writer gate but not yet applied to sled.
//!
//! A commit does not touch sled: its operations go into an in-memory overlay (the newest
//! pending value of each key, consulted first by every read of the store) and a queue.
//! Landing ([`Pending::land`]) applies everything queued to sled at once, in commit order,
//! then drops the landed entries from the overlay. The group flusher lands before each
//! flush, so one landing and one flush cover every writer that committed meanwhile.
//!
//! A landing is atomic across a crash by construction: every table lives in one sled tree
//! under a one-byte prefix ([`super::keys::TABLES`]), so a landing, however many commits
//! and tables it covers, is one `Tree::apply_batch`, whose log messages sled recovers all
//! or none of (its batch manifest; the argument from sled's source is in
//! docs/STORAGE.md). There is no journal and nothing to replay.
//!
//! A landing that fails fails the store ([`super::Failure`]): every pending commit is
//! dropped from the overlay (nothing a failed writer wrote stays readable), and the store
//! refuses every later read and write until a restart recovers what is on disk.

use super::idempotency::{Kept, RequestIds};
use super::tables::{Op, TableRange, Tables};
use super::{Failure, StoreError, StoreResult, TreeId};
use sled::IVec;
use std::collections::BTreeMap;
use std::iter::Peekable;
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

/// Above this many queued operations a commit lands the queue itself, so a writer that
/// does not wait for durability (a bulk fill) cannot grow the overlay without bound.
pub(super) const MAX_QUEUED_OPS: usize = 1 << 16;

/// How long an unseen batch ([`Pending::apply_unseen`]) at most waits for queued commits
/// to be taken by the lander first.
const UNSEEN_YIELD: std::time::Duration = std::time::Duration::from_millis(20);

/// The same for [`super::Durability::UnsafeNoFlush`], which lands nothing before: small
/// enough that its events stay in the in-memory window of recent events until landed.
pub(super) const UNSAFE_QUEUED_OPS: usize = 1 << 12;

/// One table's pending changes: key → (the commit that wrote it, the new value or `None`).
type Overlay = BTreeMap<IVec, (u64, Option<IVec>)>;

#[derive(Default)]
struct Queue {
    groups: Vec<(u64, Vec<Op>)>,
    /// The events of those commits, logged ([`super::event_log::logged`]), in sequence
    /// order: a landing packs them ([`super::event_log::packed`]).
    events: Vec<(u64, IVec)>,
    /// The idempotency entries of those commits, in commit order: a landing packs them
    /// ([`RequestIds::packs`]).
    kept: Vec<Kept>,
    /// Operations, events and idempotency entries queued.
    ops: usize,
}

#[derive(Default)]
struct Landed {
    /// Every commit up to this one is in sled.
    upto: u64,
    /// Landings so far (each one `apply_batch`).
    landings: u64,
}

/// TEST ONLY faults of the landing (hidden flags of `lcm serve`).
#[derive(Clone, Debug, Default)]
pub struct LandingFaults {
    /// Abort the process in the n-th landing of two commits or more, right after its
    /// batch is applied in sled (sled's own flusher may have written part of it).
    pub abort_mid_landing: Option<u64>,
    /// The n-th landing fails before its batch is applied, as a failed write would.
    pub fail_landing: Option<u64>,
    /// Abort the process at a named point of the n-th landing.
    pub abort_at: Option<(LandingPoint, u64)>,
}

/// A point in the life of a landing where the process can be made to abort (TEST ONLY,
/// `--test-abort-at-landing-point POINT:N`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LandingPoint {
    /// Before its batch is applied.
    BeforeBatch,
    /// After its batch is applied, before sled's flush.
    AfterBatch,
    /// After sled's flush, before the fdatasync.
    AfterFlush,
    /// After the fdatasync, before writers are told.
    AfterSync,
}

impl LandingPoint {
    pub const ALL: [LandingPoint; 4] =
        [LandingPoint::BeforeBatch, LandingPoint::AfterBatch, LandingPoint::AfterFlush, LandingPoint::AfterSync];

    pub fn name(self) -> &'static str {
        match self {
            LandingPoint::BeforeBatch => "before-batch",
            LandingPoint::AfterBatch => "after-batch",
            LandingPoint::AfterFlush => "after-flush",
            LandingPoint::AfterSync => "after-sync",
        }
    }

    /// Parses `POINT:N` (N ≥ 1).
    pub fn parse_at(text: &str) -> Result<(LandingPoint, u64), String> {
        let names = || LandingPoint::ALL.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ");
        let (point, n) =
            text.split_once(':').ok_or_else(|| format!("expected POINT:N, with POINT one of {}", names()))?;
        let point = LandingPoint::ALL
            .into_iter()
            .find(|p| p.name() == point)
            .ok_or_else(|| format!("unknown landing point {point:?}: expected one of {}", names()))?;
        let n: u64 = n.parse().map_err(|_| format!("{n:?} is not a landing number"))?;
        if n == 0 {
            return Err("landings are counted from 1".into());
        }
        Ok((point, n))
    }
}

/// TEST ONLY: aborts the process at `point`, logging it.
pub(super) fn abort_at(point: LandingPoint, landing: u64) -> ! {
    tracing::error!(point = point.name(), landing, "TEST ONLY: aborting at a landing point");
    std::process::abort()
}

pub(super) struct Pending {
    tables: Arc<Tables>,
    /// Where the landed idempotency entries are.
    request_ids: Arc<RequestIds>,
    faults: LandingFaults,
    failure: Arc<Failure>,
    /// Landings of two commits or more so far.
    group_landings: AtomicU64,
    /// The last commit added to the overlay: a reader that saw a pending change waits
    /// until this commit is durable ([`super::Store::settled`]).
    visible: AtomicU64,
    /// Per table, its newest pending changes.
    overlay: RwLock<Vec<Overlay>>,
    queue: Mutex<Queue>,
    /// Held for a whole landing, so groups land one at a time and in commit order.
    landed: Mutex<Landed>,
    /// Who is told of each landing and sync ([`super::Store::observe`]).
    pub(super) observer: RwLock<Option<Arc<dyn super::StoreObserver>>>,
}

impl Pending {
    pub(super) fn new(
        tables: Arc<Tables>,
        request_ids: Arc<RequestIds>,
        faults: LandingFaults,
        failure: Arc<Failure>,
    ) -> Pending {
        Pending {
            tables,
            request_ids,
            faults,
            failure,
            group_landings: AtomicU64::new(0),
            visible: AtomicU64::new(0),
            overlay: RwLock::new(vec![BTreeMap::new(); TreeId::ALL.len()]),
            queue: Mutex::new(Queue::default()),
            landed: Mutex::new(Landed::default()),
            observer: RwLock::new(None),
        }
    }

    /// Makes commit `commit` visible to readers and queues it for landing with its events
    /// (`(sequence, logged)`, which readers read from the log once durable, never from
    /// here) and its idempotency entries (which readers find here, under their keys in
    /// [`TreeId::Idempotency`], until they land in packs). Returns the operations,
    /// events and entries now queued. Called under the writer gate, with increasing
    /// `commit` and sequences.
    pub(super) fn add(
        &self,
        commit: u64,
        ops: Vec<Op>,
        mut events: Vec<(u64, IVec)>,
        mut kept: Vec<Kept>,
    ) -> StoreResult<usize> {
        // Before the overlay: whoever sees the change then sees this commit number too.
        self.visible.fetch_max(commit, Ordering::SeqCst);
        {
            let mut overlay = self.overlay.write().map_err(|_| self.failure.poisoned("overlay"))?;
            for (tree, key, value) in &ops {
                overlay[*tree as usize].insert(key.clone(), (commit, value.clone()));
            }
            for (_, key, value) in &kept {
                overlay[TreeId::Idempotency as usize].insert(key.clone(), (commit, Some(value.clone())));
            }
        }
        let mut queue = self.queue.lock().map_err(|_| self.failure.poisoned("landing queue"))?;
        queue.ops += ops.len() + events.len() + kept.len();
        queue.groups.push((commit, ops));
        queue.events.append(&mut events);
        queue.kept.append(&mut kept);
        Ok(queue.ops)
    }

    /// Applies every queued commit to sled in one batch (see the module docs). Returns the
    /// last commit now in sled and the number of this landing (0 if there was nothing to
    /// land).
    pub(super) fn land(&self) -> StoreResult<(u64, u64)> {
        let mut landed = self.landed.lock().map_err(|_| self.failure.poisoned("landing"))?;
        self.failure.check()?;
        let Queue { groups, events, kept, .. } =
            std::mem::take(&mut *self.queue.lock().map_err(|_| self.failure.poisoned("landing queue"))?);
        let Some(&(last, _)) = groups.last() else { return Ok((landed.upto, 0)) };
        // The landing's events and idempotency entries, packed.
        let (mut packs, packed) = self.request_ids.packs(&kept);
        let mut events = super::event_log::packed(&events);
        events.append(&mut packs);
        let landing = landed.landings + 1;
        landed.landings = landing;
        let abort_mid = groups.len() >= 2
            && self.faults.abort_mid_landing == Some(self.group_landings.fetch_add(1, Ordering::Relaxed) + 1);
        if self.faults.abort_at == Some((LandingPoint::BeforeBatch, landing)) {
            abort_at(LandingPoint::BeforeBatch, landing);
        }
        let started = std::time::Instant::now();
        let result = if self.faults.fail_landing == Some(landing) {
            Err(StoreError::Flush(format!("TEST ONLY: landing {landing} fails (--test-fail-landing)")))
        } else {
            self.tables.apply(groups.iter().flat_map(|(_, ops)| ops).chain(&events))
        };
        if let Err(e) = result {
            let e = self.failure.fail("a landing (applying writes to sled)", &e);
            self.drop_all();
            return Err(e);
        }
        if abort_mid {
            tracing::error!(commits = groups.len(), "TEST ONLY: aborting in the middle of a landing, after its batch");
            std::process::abort();
        }
        if self.faults.abort_at == Some((LandingPoint::AfterBatch, landing)) {
            abort_at(LandingPoint::AfterBatch, landing);
        }
        let mut overlay = self.overlay.write().map_err(|_| self.failure.poisoned("overlay"))?;
        // Lookups find the landed idempotency entries in their packs before they leave
        // the overlay.
        self.request_ids.landed(packed);
        let kept = kept.iter().map(|(_, key, _)| (TreeId::Idempotency, key));
        for (tree, key) in groups.iter().flat_map(|(_, ops)| ops).map(|(tree, key, _)| (*tree, key)).chain(kept) {
            let map = &mut overlay[tree as usize];
            if map.get(key).is_some_and(|(commit, _)| *commit <= last) {
                map.remove(key);
            }
        }
        landed.upto = last;
        drop(landed);
        let (ops, bytes) = groups
            .iter()
            .flat_map(|(_, ops)| ops)
            .chain(&events)
            .fold((0, 0), |(n, b), (_, key, value)| (n + 1, b + key.len() + value.as_ref().map_or(0, |v| v.len())));
        self.observe(|o| o.landed(groups.len(), ops, bytes, started.elapsed()));
        Ok((last, landing))
    }

    /// Applies `ops`, which no reader sees ([`super::Store::stage`]), to sled between two
    /// landings, as one batch. A failure fails the store, as a landing's does.
    ///
    /// Writers go first: while commits wait to land, it leaves the lander to take them
    /// (for up to [`UNSEEN_YIELD`]), so that a writer waits for at most one unseen batch.
    pub(super) fn apply_unseen(&self, ops: &[Op]) -> StoreResult<()> {
        let started = std::time::Instant::now();
        while started.elapsed() < UNSEEN_YIELD
            && self.queue.lock().map_err(|_| self.failure.poisoned("landing queue"))?.ops > 0
        {
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
        let _landed = self.landed.lock().map_err(|_| self.failure.poisoned("landing"))?;
        self.failure.check()?;
        if let Err(e) = self.tables.apply(ops.iter()) {
            let e = self.failure.fail("staging (applying unseen writes to sled)", &e);
            self.drop_all();
            return Err(e);
        }
        Ok(())
    }

    /// Tells the observer, if any (see [`super::Store::observe`]).
    pub(super) fn observe(&self, f: impl FnOnce(&dyn super::StoreObserver)) {
        let observer = self.observer.read().ok().and_then(|o| o.clone());
        if let Some(o) = observer {
            f(&*o);
        }
    }

    /// Changes readers see that are not landed yet: entries of the overlay.
    pub(super) fn overlay_len(&self) -> usize {
        self.overlay.read().map_or(0, |o| o.iter().map(BTreeMap::len).sum())
    }

    /// The last commit whose changes readers may have seen.
    pub(super) fn visible(&self) -> u64 {
        self.visible.load(Ordering::SeqCst)
    }

    /// After a failure: forgets every pending commit, so none of them stays readable.
    fn drop_all(&self) {
        let mut overlay = self.overlay.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        overlay.iter_mut().for_each(BTreeMap::clear);
        drop(overlay);
        let mut queue = self.queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *queue = Queue::default();
    }

    /// The pending state of `key`: `Some(None)` if it is pending removal, `None` if it
    /// has no pending change.
    pub(super) fn get(&self, tree: TreeId, key: &[u8]) -> StoreResult<Option<Option<IVec>>> {
        let overlay = self.overlay.read().map_err(|_| self.failure.poisoned("overlay"))?;
        Ok(overlay[tree as usize].get(key).map(|(_, v)| v.clone()))
    }

    /// `tree`'s entries between `lo` and `hi`: sled's, with the pending changes applied.
    /// The pending ones are taken first, then sled is read, so an entry that lands
    /// meanwhile is seen once, with its newest value.
    pub(super) fn range(&self, tree: TreeId, lo: Bound<Vec<u8>>, hi: Bound<Vec<u8>>) -> Merged {
        let failed = self.failure.check().err();
        let pending: Vec<(IVec, Option<IVec>)> = match self.overlay.read() {
            Err(_) => Vec::new(),
            Ok(overlay) => {
                let map = &overlay[tree as usize];
                if map.is_empty() {
                    Vec::new()
                } else {
                    let bounds = (lo.as_ref().map(Vec::as_slice), hi.as_ref().map(Vec::as_slice));
                    map.range::<[u8], _>(bounds).map(|(k, (_, v))| (k.clone(), v.clone())).collect()
                }
            }
        };
        let failed = failed.or_else(|| self.failure.check().err());
        Merged {
            failed,
            done: false,
            pending: pending.into_iter().peekable(),
            sled: self.tables.range(tree, lo, hi).peekable(),
        }
    }
}

/// Entries of a sled range merged with pending changes, in key order.
pub struct Merged {
    /// Set when the store has failed: the one item this yields.
    failed: Option<StoreError>,
    done: bool,
    pending: Peekable<std::vec::IntoIter<(IVec, Option<IVec>)>>,
    sled: Peekable<TableRange>,
}

impl Iterator for Merged {
    type Item = StoreResult<(IVec, IVec)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if let Some(e) = self.failed.take() {
            self.done = true;
            return Some(Err(e));
        }
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

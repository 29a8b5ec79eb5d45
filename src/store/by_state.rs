//! The needs of each requester and the offers of each provider, kept in memory.
//!
//! Store formats up to 6 kept them as tables (`needs_by_requester`, `offers_by_provider`):
//! one more sled key for every need and for every provider of an offer. That was a
//! quarter of the keys a CreateNeed lands, and a third of those it appends at the right
//! edge of a table, where sled 0.34 splits a leaf every nine appends (`node.rs`, `split`);
//! the landing, sled's `apply_batch` under its process-wide lock, is the one stage of a
//! write that cannot run beside another.
//!
//! A need's requester and an offer's providers never change, and no need or offer is ever
//! removed, so these indexes follow from the records alone: [`ByState::start`] reads them
//! from the records (store format 7 removed the tables, `opening.rs`), and
//! [`super::Writer::commit`] adds each commit's new needs and offers
//! ([`super::WriteSet::put_new_need`], [`super::WriteSet::put_new_offer`]) under the
//! writer gate, as the commit becomes visible to reads. About 50 bytes an entry.
//!
//! The records are read on a thread of their own after the open, so the server serves at
//! once (a store of 1 000 000 needs takes seconds to read, its open a tenth of one). A
//! reader of the indexes waits until that read is done. Commits meanwhile add their needs
//! and offers as always: the read sees what was landed when it passes, the commits add
//! the rest, and adding an entry twice changes nothing.

use super::failure::Failure;
use super::tables::Tables;
use super::{Record, StoreError, StoreResult, decode};
use crate::domain::{Alpha3, Id, Need, Offer};
use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;
use std::sync::{Arc, Condvar, Mutex, RwLock, RwLockReadGuard, Weak};

/// Which index an entry belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Owned {
    /// A need, by its requester.
    Need,
    /// An offer, by each of its providers.
    Offer,
}

type Index = HashMap<Alpha3, BTreeSet<Id>>;

/// The ids of the needs of each requester and of the offers of each provider.
#[derive(Default)]
pub(super) struct ByState {
    needs: RwLock<Index>,
    offers: RwLock<Index>,
    /// Whether the records have been read: `None` while they are being read, then
    /// `Ok(())` or the error that failed the store.
    loaded: Mutex<Option<Result<(), String>>>,
    loaded_cv: Condvar,
}

/// How many ids a reader copies out under one read lock.
const CHUNK: usize = 256;

/// How many records the read takes between two looks at whether the store is still open.
const LOOK_EVERY: usize = 4096;

impl ByState {
    /// Empty indexes, which a thread of their own fills from the records of `tables` (if
    /// no thread can start, this one reads them). A failed read fails the store.
    pub(super) fn start(tables: Arc<Tables>, failure: Arc<Failure>) -> Arc<ByState> {
        let by_state = Arc::new(ByState::default());
        let (weak, on_thread, fails) = (Arc::downgrade(&by_state), tables.clone(), failure.clone());
        let spawned = std::thread::Builder::new()
            .name("lcm-by-state".into())
            .spawn(move || read_records(&weak, &on_thread, &fails));
        if spawned.is_err() {
            read_records(&Arc::downgrade(&by_state), &tables, &failure);
        }
        by_state
    }

    /// The read of the records is done: readers go on, or get `Err`'s error.
    fn finish(&self, result: Result<(), String>) {
        let mut loaded = self.loaded.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *loaded = Some(result);
        self.loaded_cv.notify_all();
    }

    /// Waits until the records are read.
    fn wait_loaded(&self) -> StoreResult<()> {
        let mut loaded = self.loaded.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        loop {
            match &*loaded {
                Some(Ok(())) => return Ok(()),
                Some(Err(e)) => return Err(StoreError::Failed(e.clone())),
                None => loaded = self.loaded_cv.wait(loaded).unwrap_or_else(std::sync::PoisonError::into_inner),
            }
        }
    }

    fn index(&self, owned: Owned) -> &RwLock<Index> {
        match owned {
            Owned::Need => &self.needs,
            Owned::Offer => &self.offers,
        }
    }

    // Nothing panics while these locks are held, so a poisoned one still holds whole data.
    fn read(&self, owned: Owned) -> RwLockReadGuard<'_, Index> {
        self.index(owned).read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds the entries of one commit (under the writer gate).
    pub(super) fn add(&self, entries: &[(Owned, Alpha3, Id)]) {
        for owned in [Owned::Need, Owned::Offer] {
            let mut mine = entries.iter().filter(|(o, _, _)| *o == owned).peekable();
            if mine.peek().is_none() {
                continue;
            }
            let mut index = self.index(owned).write().unwrap_or_else(std::sync::PoisonError::into_inner);
            for (_, state, id) in mine {
                index.entry(*state).or_default().insert(*id);
            }
        }
    }

    /// The ids `state` owns in `owned`'s index after `after`, in id order, once the
    /// records are read: a chunk at a time, so a reader never holds the lock for long nor
    /// copies a whole state's ids.
    pub(super) fn ids_after(&self, owned: Owned, state: Alpha3, after: Option<Id>) -> StoreResult<IdsAfter<'_>> {
        self.wait_loaded()?;
        Ok(IdsAfter { by_state: self, owned, state, after, chunk: Vec::new().into_iter(), done: false })
    }
}

/// Reads every need and offer of `tables` into `by_state`'s indexes, then lets its readers
/// go on. Stops, reading no further, once the store is closed (`by_state` is gone).
fn read_records(by_state: &Weak<ByState>, tables: &Arc<Tables>, failure: &Failure) {
    let started = std::time::Instant::now();
    let read = read_index::<Need>(by_state, tables, |n| std::slice::from_ref(&n.spec.requester)).and_then(|needs| {
        let offers = read_index::<Offer>(by_state, tables, |o| &o.spec.providers)?;
        Ok(needs.zip(offers))
    });
    let Some(by_state) = by_state.upgrade() else { return };
    match read {
        Ok(Some((needs, offers))) => {
            for (owned, read) in [(Owned::Need, needs), (Owned::Offer, offers)] {
                let mut index = by_state.index(owned).write().unwrap_or_else(std::sync::PoisonError::into_inner);
                for (state, mut ids) in read {
                    index.entry(state).or_default().append(&mut ids);
                }
            }
            tracing::info!(
                took_ms = started.elapsed().as_millis() as u64,
                "the indexes by state are read from the needs and offers"
            );
            by_state.finish(Ok(()));
        }
        Ok(None) => {}
        Err(e) => {
            let e = failure.fail("reading the needs and offers", &e);
            by_state.finish(Err(e.to_string()));
        }
    }
}

/// The ids of every `R` of `tables` by each state `owners` names; `None` once the store is
/// closed.
fn read_index<R: Record>(
    by_state: &Weak<ByState>,
    tables: &Arc<Tables>,
    owners: impl Fn(&R) -> &[Alpha3],
) -> StoreResult<Option<Index>> {
    let mut index = Index::new();
    for (i, kv) in tables.range(R::TREE, Bound::Unbounded, Bound::Unbounded).enumerate() {
        if i % LOOK_EVERY == 0 && by_state.strong_count() == 0 {
            return Ok(None);
        }
        let record: R = decode(R::TREE, &kv?.1)?;
        for state in owners(&record) {
            index.entry(*state).or_default().insert(record.id());
        }
    }
    Ok(Some(index))
}

/// See [`ByState::ids_after`].
pub struct IdsAfter<'a> {
    by_state: &'a ByState,
    owned: Owned,
    state: Alpha3,
    after: Option<Id>,
    chunk: std::vec::IntoIter<Id>,
    done: bool,
}

impl Iterator for IdsAfter<'_> {
    type Item = Id;

    fn next(&mut self) -> Option<Id> {
        if let Some(id) = self.chunk.next() {
            return Some(id);
        }
        if self.done {
            return None;
        }
        let chunk: Vec<Id> = {
            let index = self.by_state.read(self.owned);
            let lo = self.after.map_or(Bound::Unbounded, Bound::Excluded);
            index
                .get(&self.state)
                .map_or_else(Vec::new, |ids| ids.range((lo, Bound::Unbounded)).take(CHUNK).copied().collect())
        };
        self.done = chunk.len() < CHUNK;
        self.after = chunk.last().copied().or(self.after);
        self.chunk = chunk.into_iter();
        self.chunk.next()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(s: &str) -> Alpha3 {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn ids_come_in_order_after_the_cursor_across_chunks() {
        let by_state = ByState::default();
        by_state.finish(Ok(()));
        let uga = state("UGA");
        let entries: Vec<_> = (1..=1000u64).rev().map(|i| (Owned::Need, uga, Id(i * 2))).collect();
        by_state.add(&entries);
        by_state.add(&[(Owned::Need, state("KEN"), Id(3)), (Owned::Offer, uga, Id(5))]);
        let all: Vec<u64> = by_state.ids_after(Owned::Need, uga, None).unwrap().map(|id| id.0).collect();
        assert_eq!(all, (1..=1000u64).map(|i| i * 2).collect::<Vec<_>>());
        let after: Vec<u64> = by_state.ids_after(Owned::Need, uga, Some(Id(1501))).unwrap().map(|id| id.0).collect();
        assert_eq!(after, (751..=1000u64).map(|i| i * 2).collect::<Vec<_>>());
        assert_eq!(by_state.ids_after(Owned::Need, uga, Some(Id(2000))).unwrap().count(), 0);
        assert_eq!(by_state.ids_after(Owned::Need, state("BEN"), None).unwrap().count(), 0);
        assert_eq!(by_state.ids_after(Owned::Offer, uga, None).unwrap().collect::<Vec<_>>(), vec![Id(5)]);
    }

    #[test]
    fn readers_wait_until_the_records_are_read() {
        let by_state = Arc::new(ByState::default());
        let uga = state("UGA");
        // A commit while the records are read.
        by_state.add(&[(Owned::Need, uga, Id(7))]);
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = by_state.clone();
        let handle = std::thread::spawn(move || {
            let ids = reader.ids_after(Owned::Need, uga, None).map(|ids| ids.collect::<Vec<_>>());
            let _ = tx.send(ids.map_err(|e| e.to_string()));
        });
        let wait = std::time::Duration::from_millis(300);
        assert!(rx.recv_timeout(wait).is_err(), "a reader waits while the records are read");
        by_state.finish(Ok(()));
        let ids = rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ids, Ok(vec![Id(7)]));
        handle.join().unwrap_or_else(|_| panic!("the reader panicked"));

        let failed = ByState::default();
        failed.finish(Err("a corrupt need".into()));
        assert!(failed.ids_after(Owned::Need, uga, None).is_err(), "a failed read fails the readers");
    }
}

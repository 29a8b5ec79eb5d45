//! The indexes kept in memory: the needs of each requester, the offers of each provider,
//! and the matches of each need and of each offer.
//!
//! Store formats up to 6 kept the first two as tables (`needs_by_requester`,
//! `offers_by_provider`), formats up to 9 the last two (`matches_by_need`,
//! `matches_by_offer`): one more sled key for every need, for every provider of an offer,
//! for every match and for every offer of a match. Those keys land at random places in
//! sled's tree (or at its right edge, where sled 0.34 splits a leaf every nine appends,
//! `node.rs`, `split`), and each one costs sled a copy of the leaf it changes. Two thirds
//! of what staging a large proposal cost were its matches' keys by need and by offer
//! (docs/PERFORMANCE.md); the landing, sled's `apply_batch` under its process-wide lock,
//! is the one stage of a write that cannot run beside another.
//!
//! A need's requester, an offer's providers and a match's need and offers never change,
//! and no need, offer or visible match is ever removed, so these indexes follow from the
//! records alone: [`MemoryIndexes::start`] reads them from the records (store formats 7
//! and 10 removed the tables, `opening.rs`), and [`super::Writer::commit`] adds each
//! commit's new needs, offers and matches ([`super::WriteSet::put_new_need`],
//! [`super::WriteSet::put_new_offer`], [`super::WriteSet::put_new_match`]) under the writer
//! gate, as the commit becomes visible to reads. A staged match ([`super::staging`]) is
//! added when it is staged and read only below the match watermark; one dropped unrevealed
//! is removed again. About 40 bytes an entry.
//!
//! The records are read on a thread of their own after the open, so the server serves at
//! once (a store of 1 000 000 needs takes seconds to read, its open a tenth of one). A
//! reader of the indexes waits until that read is done. Commits meanwhile add their
//! entries as always: the read sees what was landed when it passes, the commits add the
//! rest, and adding an entry twice changes nothing. The read skips the matches above the
//! watermark of the open (the open removes them: staged, never revealed); a match staged
//! later is added by its staging.

use super::failure::Failure;
use super::tables::Tables;
use super::{Record, StoreError, StoreResult, decode};
use crate::domain::{Alpha3, Id, Match, Need, Offer};
use std::collections::BTreeSet;
use std::ops::Bound;
use std::sync::{Arc, Condvar, Mutex, RwLock, RwLockReadGuard, Weak};

/// Which index an entry belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Owned {
    /// A need, by its requester.
    Need = 0,
    /// An offer, by each of its providers.
    Offer,
    /// A match, by its need.
    MatchOfNeed,
    /// A match, by each offer it allocates seats of or funds through.
    MatchOfOffer,
}

/// One entry: its index, its owner's key ([`state_key`] of a state, or a need's or an
/// offer's id) and the id it lists.
pub(super) type Entry = (Owned, u64, Id);

/// A state's code as an owner's key.
pub(super) fn state_key(state: Alpha3) -> u64 {
    state.as_str().bytes().fold(0, |k, b| (k << 8) | u64::from(b))
}

/// The entries of a new need.
pub(super) fn need_entries(need: &Need) -> impl Iterator<Item = Entry> + '_ {
    std::iter::once((Owned::Need, state_key(need.spec.requester), need.meta.id))
}

/// The entries of a new offer.
pub(super) fn offer_entries(offer: &Offer) -> impl Iterator<Item = Entry> + '_ {
    offer.spec.providers.iter().map(|p| (Owned::Offer, state_key(*p), offer.meta.id))
}

/// The entries of a new match.
pub(super) fn match_entries(m: &Match) -> impl Iterator<Item = Entry> + '_ {
    std::iter::once((Owned::MatchOfNeed, m.terms.need.0, m.meta.id))
        .chain(m.offers().into_iter().map(|offer| (Owned::MatchOfOffer, offer.0, m.meta.id)))
}

/// Owner's key, then id: one owner's ids are a range, in id order.
type Index = BTreeSet<(u64, Id)>;

/// The indexes, and whether they have been read from the records.
#[derive(Default)]
pub(super) struct MemoryIndexes {
    indexes: [RwLock<Index>; 4],
    /// Whether the records have been read: `None` while they are being read, then
    /// `Ok(())` or the error that failed the store.
    loaded: Mutex<Option<Result<(), String>>>,
    loaded_cv: Condvar,
}

/// How many ids a reader copies out under one read lock.
const CHUNK: usize = 256;

/// How many records the read takes between two looks at whether the store is still open.
const LOOK_EVERY: usize = 4096;

impl MemoryIndexes {
    /// Empty indexes, which a thread of their own fills from the records of `tables` (if
    /// no thread can start, this one reads them), the matches below `watermark` only. A
    /// failed read fails the store.
    pub(super) fn start(tables: Arc<Tables>, watermark: u64, failure: Arc<Failure>) -> Arc<MemoryIndexes> {
        let indexes = Arc::new(MemoryIndexes::default());
        let (weak, on_thread, fails) = (Arc::downgrade(&indexes), tables.clone(), failure.clone());
        let spawned = std::thread::Builder::new()
            .name("lcm-indexes".into())
            .spawn(move || read_records(&weak, &on_thread, watermark, &fails));
        if spawned.is_err() {
            read_records(&Arc::downgrade(&indexes), &tables, watermark, &failure);
        }
        indexes
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

    // Nothing panics while these locks are held, so a poisoned one still holds whole data.
    fn read(&self, owned: Owned) -> RwLockReadGuard<'_, Index> {
        self.indexes[owned as usize].read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds `entries` (one commit's, under the writer gate, or a staged batch's).
    pub(super) fn add(&self, entries: &[Entry]) {
        self.change(entries, |index, key| {
            index.insert(key);
        });
    }

    /// Removes `entries` (of staged matches dropped unrevealed).
    pub(super) fn remove(&self, entries: &[Entry]) {
        self.change(entries, |index, key| {
            index.remove(&key);
        });
    }

    fn change(&self, entries: &[Entry], mut f: impl FnMut(&mut Index, (u64, Id))) {
        for (i, lock) in self.indexes.iter().enumerate() {
            let mut mine = entries.iter().filter(|(o, _, _)| *o as usize == i).peekable();
            if mine.peek().is_none() {
                continue;
            }
            let mut index = lock.write().unwrap_or_else(std::sync::PoisonError::into_inner);
            for (_, owner, id) in mine {
                f(&mut index, (*owner, *id));
            }
        }
    }

    /// The ids `owner` (its key, see [`Entry`]) lists in `owned`'s index after `after`,
    /// in id order, once the records are read: a chunk at a time, so a reader never holds
    /// the lock for long nor copies a whole owner's ids.
    pub(super) fn ids_after(&self, owned: Owned, owner: u64, after: Option<Id>) -> StoreResult<IdsAfter<'_>> {
        self.wait_loaded()?;
        Ok(IdsAfter { indexes: self, owned, owner, after, chunk: Vec::new().into_iter(), done: false })
    }
}

/// Reads every need, offer and match (below `watermark`) of `tables` into `indexes`, then
/// lets its readers go on. Stops, reading no further, once the store is closed
/// (`indexes` is gone).
fn read_records(indexes: &Weak<MemoryIndexes>, tables: &Arc<Tables>, watermark: u64, failure: &Failure) {
    let started = std::time::Instant::now();
    let mut read: [Index; 4] = Default::default();
    let result = read_index::<Need>(indexes, tables, &mut read, |n| need_entries(n).collect()).and_then(|more| {
        Ok(more
            && read_index::<Offer>(indexes, tables, &mut read, |o| offer_entries(o).collect())?
            && read_index::<Match>(indexes, tables, &mut read, |m| {
                if m.meta.id.0 < watermark { match_entries(m).collect() } else { Vec::new() }
            })?)
    });
    let Some(indexes) = indexes.upgrade() else { return };
    match result {
        Ok(true) => {
            let entries: usize = read.iter().map(BTreeSet::len).sum();
            for (lock, mut read) in indexes.indexes.iter().zip(read) {
                lock.write().unwrap_or_else(std::sync::PoisonError::into_inner).append(&mut read);
            }
            tracing::info!(
                entries,
                took_ms = started.elapsed().as_millis() as u64,
                "the indexes in memory are read from the needs, offers and matches"
            );
            indexes.finish(Ok(()));
        }
        Ok(false) => {}
        Err(e) => {
            let e = failure.fail("reading the needs, offers and matches", &e);
            indexes.finish(Err(e.to_string()));
        }
    }
}

/// Adds the entries of every `R` of `tables` to `read`; `false` once the store is closed.
fn read_index<R: Record>(
    indexes: &Weak<MemoryIndexes>,
    tables: &Arc<Tables>,
    read: &mut [Index; 4],
    entries: impl Fn(&R) -> Vec<Entry>,
) -> StoreResult<bool> {
    for (i, kv) in tables.range(R::TREE, Bound::Unbounded, Bound::Unbounded).enumerate() {
        if i % LOOK_EVERY == 0 && indexes.strong_count() == 0 {
            return Ok(false);
        }
        let record: R = decode(R::TREE, &kv?.1)?;
        for (owned, owner, id) in entries(&record) {
            read[owned as usize].insert((owner, id));
        }
    }
    Ok(true)
}

/// See [`MemoryIndexes::ids_after`].
pub struct IdsAfter<'a> {
    indexes: &'a MemoryIndexes,
    owned: Owned,
    owner: u64,
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
            let index = self.indexes.read(self.owned);
            let lo = self.after.map_or(Bound::Included((self.owner, Id(0))), |a| Bound::Excluded((self.owner, a)));
            index.range((lo, Bound::Included((self.owner, Id(u64::MAX))))).take(CHUNK).map(|(_, id)| *id).collect()
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

    fn state(s: &str) -> u64 {
        state_key(s.parse().unwrap_or_else(|e| panic!("{e}")))
    }

    #[test]
    fn owners_keep_their_own_ids_and_removed_entries_are_gone() {
        let indexes = MemoryIndexes::default();
        indexes.finish(Ok(()));
        let ids = |owned, owner| indexes.ids_after(owned, owner, None).unwrap().map(|id| id.0).collect::<Vec<_>>();
        indexes.add(&[
            (Owned::MatchOfNeed, 6, Id(u64::MAX)),
            (Owned::MatchOfNeed, 7, Id(0)),
            (Owned::MatchOfNeed, 7, Id(9)),
            (Owned::MatchOfNeed, 8, Id(1)),
            (Owned::MatchOfOffer, 7, Id(4)),
        ]);
        assert_eq!(ids(Owned::MatchOfNeed, 7), vec![0, 9]);
        assert_eq!(ids(Owned::MatchOfNeed, 6), vec![u64::MAX]);
        assert_eq!(ids(Owned::MatchOfOffer, 7), vec![4]);
        assert!(ids(Owned::Need, 7).is_empty(), "each index apart");
        indexes.remove(&[(Owned::MatchOfNeed, 7, Id(9)), (Owned::MatchOfOffer, 7, Id(4))]);
        assert_eq!(ids(Owned::MatchOfNeed, 7), vec![0]);
        assert!(ids(Owned::MatchOfOffer, 7).is_empty());
        assert_ne!(state("UGA"), state("UZB"));
    }

    #[test]
    fn ids_come_in_order_after_the_cursor_across_chunks() {
        let indexes = MemoryIndexes::default();
        indexes.finish(Ok(()));
        let uga = state("UGA");
        let entries: Vec<_> = (1..=1000u64).rev().map(|i| (Owned::Need, uga, Id(i * 2))).collect();
        indexes.add(&entries);
        indexes.add(&[(Owned::Need, state("KEN"), Id(3)), (Owned::Offer, uga, Id(5))]);
        let all: Vec<u64> = indexes.ids_after(Owned::Need, uga, None).unwrap().map(|id| id.0).collect();
        assert_eq!(all, (1..=1000u64).map(|i| i * 2).collect::<Vec<_>>());
        let after: Vec<u64> = indexes.ids_after(Owned::Need, uga, Some(Id(1501))).unwrap().map(|id| id.0).collect();
        assert_eq!(after, (751..=1000u64).map(|i| i * 2).collect::<Vec<_>>());
        assert_eq!(indexes.ids_after(Owned::Need, uga, Some(Id(2000))).unwrap().count(), 0);
        assert_eq!(indexes.ids_after(Owned::Need, state("BEN"), None).unwrap().count(), 0);
        assert_eq!(indexes.ids_after(Owned::Offer, uga, None).unwrap().collect::<Vec<_>>(), vec![Id(5)]);
    }

    #[test]
    fn readers_wait_until_the_records_are_read() {
        let indexes = Arc::new(MemoryIndexes::default());
        let uga = state("UGA");
        // A commit while the records are read.
        indexes.add(&[(Owned::Need, uga, Id(7))]);
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = indexes.clone();
        let handle = std::thread::spawn(move || {
            let ids = reader.ids_after(Owned::Need, uga, None).map(|ids| ids.collect::<Vec<_>>());
            let _ = tx.send(ids.map_err(|e| e.to_string()));
        });
        let wait = std::time::Duration::from_millis(300);
        assert!(rx.recv_timeout(wait).is_err(), "a reader waits while the records are read");
        indexes.finish(Ok(()));
        let ids = rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ids, Ok(vec![Id(7)]));
        handle.join().unwrap_or_else(|_| panic!("the reader panicked"));

        let failed = MemoryIndexes::default();
        failed.finish(Err("a corrupt need".into()));
        assert!(failed.ids_after(Owned::Need, uga, None).is_err(), "a failed read fails the readers");
    }
}

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
//! removed, so these indexes follow from the records alone: [`ByState::load`] reads them
//! from the records at open (store format 7 removed the tables, `opening.rs`), and
//! [`super::Writer::commit`] adds each commit's new needs and offers
//! ([`super::WriteSet::put_new_need`], [`super::WriteSet::put_new_offer`]) under the
//! writer gate, as the commit becomes visible to reads. About 50 bytes an entry.

use super::tables::Tables;
use super::{StoreResult, TreeId, decode};
use crate::domain::{Alpha3, Id, Need, Offer};
use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;
use std::sync::{Arc, RwLock, RwLockReadGuard};

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
}

/// How many ids a reader copies out under one read lock.
const CHUNK: usize = 256;

impl ByState {
    /// Reads the index from every need and offer of `tables`.
    pub(super) fn load(tables: &Arc<Tables>) -> StoreResult<ByState> {
        let mut needs = Index::new();
        for kv in tables.range(TreeId::Needs, Bound::Unbounded, Bound::Unbounded) {
            let need: Need = decode(TreeId::Needs, &kv?.1)?;
            needs.entry(need.spec.requester).or_default().insert(need.meta.id);
        }
        let mut offers = Index::new();
        for kv in tables.range(TreeId::Offers, Bound::Unbounded, Bound::Unbounded) {
            let offer: Offer = decode(TreeId::Offers, &kv?.1)?;
            for p in &offer.spec.providers {
                offers.entry(*p).or_default().insert(offer.meta.id);
            }
        }
        Ok(ByState { needs: RwLock::new(needs), offers: RwLock::new(offers) })
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

    /// The ids `state` owns in `owned`'s index after `after`, in id order: read a chunk
    /// at a time, so a reader never holds the lock for long nor copies a whole state's ids.
    pub(super) fn ids_after(&self, owned: Owned, state: Alpha3, after: Option<Id>) -> IdsAfter<'_> {
        IdsAfter { by_state: self, owned, state, after, chunk: Vec::new().into_iter(), done: false }
    }
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
        let uga = state("UGA");
        let entries: Vec<_> = (1..=1000u64).rev().map(|i| (Owned::Need, uga, Id(i * 2))).collect();
        by_state.add(&entries);
        by_state.add(&[(Owned::Need, state("KEN"), Id(3)), (Owned::Offer, uga, Id(5))]);
        let all: Vec<u64> = by_state.ids_after(Owned::Need, uga, None).map(|id| id.0).collect();
        assert_eq!(all, (1..=1000u64).map(|i| i * 2).collect::<Vec<_>>());
        let after: Vec<u64> = by_state.ids_after(Owned::Need, uga, Some(Id(1501))).map(|id| id.0).collect();
        assert_eq!(after, (751..=1000u64).map(|i| i * 2).collect::<Vec<_>>());
        assert_eq!(by_state.ids_after(Owned::Need, uga, Some(Id(2000))).count(), 0);
        assert_eq!(by_state.ids_after(Owned::Need, state("BEN"), None).count(), 0);
        assert_eq!(by_state.ids_after(Owned::Offer, uga, None).collect::<Vec<_>>(), vec![Id(5)]);
    }
}

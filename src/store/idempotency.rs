//! The first responses kept for `request_id` retries: stored in packs, looked up,
//! counted, and pruned after the retention in bounded work per commit.
//!
//! A commit's entry is pending first: it is in the overlay under its key in
//! [`TreeId::Idempotency`], where a lookup finds it. Its landing packs the entries of all
//! its commits into [`TreeId::IdempotencyPacks`] (store format 9): each pack is keyed by a
//! number that only grows and holds consecutive entries, as many as fit in one piece
//! ([`tables::PIECE`]), so a landing of twenty CreateNeeds writes four or five packs, not
//! twenty keys scattered over the table. One key per entry, at a random place in the
//! table (its key begins with the principal and the request id), cost a landing a sled
//! operation and a leaf page of its own per commit.
//!
//! Which pack holds a key, and how old each pack's newest entry is, is kept in memory
//! ([`RequestIds`]), read at open from the packs themselves. So the first use of a
//! request id, almost every write's lookup, reads nothing from sled, a retry reads one
//! pack, and pruning removes whole packs once their newest entry has expired, oldest
//! first.

use super::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The first byte of a pack's value.
const PACK: u8 = 0xE3;

/// The most an entry's time may be past the time of its pack's first entry. A pack is
/// pruned once its newest entry expires, so none of its entries outlives the retention by
/// more than this. A landing's entries are milliseconds apart; entries packed at open
/// from an older store may be days apart.
const PACK_SPAN: UnixMicros = 1_000_000;

/// An idempotency entry on its way to a pack: its time, key and encoded entry.
pub(super) type Kept = (UnixMicros, IVec, IVec);

/// The idempotency keys stored and the packs that hold them. About 60 bytes an entry.
pub(super) struct RequestIds {
    hasher: RandomState,
    index: Mutex<Index>,
    /// The number of keys stored, pending ones included (the metrics gauge).
    entries: AtomicUsize,
}

#[derive(Default)]
struct Index {
    /// The hash of each stored key, with the number of stored keys that have it.
    by_hash: HashMap<u64, Known>,
    /// The packs landed and not pruned, by number.
    packs: BTreeMap<u64, Pack>,
    /// The same packs by the time of their newest entry, then number: what pruning
    /// removes next (entries' times follow the clock, which may step back).
    by_age: BTreeSet<(UnixMicros, u64)>,
    /// The number of the next pack.
    next_pack: u64,
}

struct Known {
    count: u32,
    at: At,
}

/// Where the key of a [`Known`] hash is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum At {
    /// Committed, not landed: in the overlay.
    Unlanded,
    Pack(u64),
    /// Two keys share the hash (or did, and one of them was pruned): every pack is read.
    Unknown,
}

pub(super) struct Pack {
    /// The time of its newest entry: it is pruned once that is older than the retention.
    newest: UnixMicros,
    /// The hashes of its entries' keys.
    hashes: Box<[u64]>,
}

/// One entry of a pack.
struct Item<'a> {
    time: UnixMicros,
    key: &'a [u8],
    entry: &'a [u8],
}

/// `items` as consecutive packs: each value holds as many entries as fit in one piece
/// (an entry that long alone is a pack of its own) and are at most [`PACK_SPAN`] newer
/// than its first, with the time of its newest entry and the number of entries it holds.
/// An entry is its key's length (u16), the key, its time (i64), the entry's length (u32)
/// and the entry, all big-endian, behind [`PACK`].
fn packed(items: &[Kept]) -> Vec<(IVec, UnixMicros, usize)> {
    let size = |(_, key, entry): &Kept| 2 + key.len() + 8 + 4 + entry.len();
    let mut packs = Vec::new();
    let mut rest = items;
    while let Some((first, after)) = rest.split_first() {
        let mut total = 1 + size(first);
        let n = 1 + after
            .iter()
            .take_while(|item| {
                total += size(item);
                total <= tables::PIECE && item.0.saturating_sub(first.0) <= PACK_SPAN
            })
            .count();
        let (pack, next) = rest.split_at(n);
        let mut v = Vec::with_capacity(1 + pack.iter().map(size).sum::<usize>());
        v.push(PACK);
        for (time, key, entry) in pack {
            v.extend_from_slice(&(key.len() as u16).to_be_bytes());
            v.extend_from_slice(key);
            v.extend_from_slice(&time.to_be_bytes());
            v.extend_from_slice(&(entry.len() as u32).to_be_bytes());
            v.extend_from_slice(entry);
        }
        let newest = pack.iter().map(|(time, _, _)| *time).max().unwrap_or(UnixMicros::MIN);
        packs.push((IVec::from(v), newest, pack.len()));
        rest = next;
    }
    packs
}

/// The entries of a pack, in order.
fn unpacked(pack: &[u8]) -> StoreResult<Vec<Item<'_>>> {
    let corrupt = |detail: &str| StoreError::Corrupt { tree: TreeId::IdempotencyPacks.name(), detail: detail.into() };
    let Some((&PACK, mut rest)) = pack.split_first() else { return Err(corrupt("a pack without its marker")) };
    let mut items = Vec::new();
    while !rest.is_empty() {
        let cut = || corrupt("a pack is cut short");
        let (len, tail) = rest.split_first_chunk::<2>().ok_or_else(cut)?;
        let key_len = u16::from_be_bytes(*len) as usize;
        if tail.len() < key_len {
            return Err(cut());
        }
        let (key, tail) = tail.split_at(key_len);
        let (time, tail) = tail.split_first_chunk::<8>().ok_or_else(cut)?;
        let (len, tail) = tail.split_first_chunk::<4>().ok_or_else(cut)?;
        let entry_len = u32::from_be_bytes(*len) as usize;
        if tail.len() < entry_len {
            return Err(cut());
        }
        let (entry, tail) = tail.split_at(entry_len);
        items.push(Item { time: UnixMicros::from_be_bytes(*time), key, entry });
        rest = tail;
    }
    if items.is_empty() {
        return Err(corrupt("an empty pack"));
    }
    Ok(items)
}

/// Packs the idempotency entries of a store of formats 2 to 8, one key each in
/// [`TreeId::Idempotency`] (keyed as format 6 keys them: migrate formats up to 5 first),
/// oldest first. In landings of at most `batch` entries, each removing its entries and
/// writing their packs atomically: a crash between them leaves entries the next open
/// still packs, since the format is marked 9 only after the last.
pub(super) fn pack_stored_entries(tables: &Arc<Tables>, batch: usize) -> StoreResult<usize> {
    let mut stored = Vec::new();
    for kv in tables.range(TreeId::Idempotency, Bound::Unbounded, Bound::Unbounded) {
        let (key, value) = kv?;
        let entry: IdempotencyEntry = decode(TreeId::Idempotency, &value)?;
        stored.push((entry.time, key, value));
    }
    stored.sort_by_key(|(time, _, _)| *time);
    let mut next = tables.last_number(TreeId::IdempotencyPacks)? + 1;
    for chunk in stored.chunks(batch.max(1)) {
        let mut ops: Vec<tables::Op> =
            chunk.iter().map(|(_, key, _)| (TreeId::Idempotency, key.clone(), None)).collect();
        for (value, _, _) in packed(chunk) {
            ops.push((TreeId::IdempotencyPacks, IVec::from(&keys::sequence_key(next)), Some(value)));
            next += 1;
        }
        tables.apply(ops.iter())?;
    }
    Ok(stored.len())
}

impl RequestIds {
    /// Reads every pack of `tables` (after the format's migrations, `opening.rs`).
    pub(super) fn load(tables: &Arc<Tables>) -> StoreResult<RequestIds> {
        let hasher = RandomState::new();
        let mut index = Index::default();
        let mut entries = 0;
        for kv in tables.range(TreeId::IdempotencyPacks, Bound::Unbounded, Bound::Unbounded) {
            let (key, value) = kv?;
            let number = keys::id_from_key(&key).map(|id| id.0).ok_or_else(|| StoreError::Corrupt {
                tree: TreeId::IdempotencyPacks.name(),
                detail: format!("malformed key {key:?}"),
            })?;
            let items = unpacked(&value)?;
            let hashes: Box<[u64]> = items.iter().map(|item| hasher.hash_one(item.key)).collect();
            for &hash in &hashes {
                index.known(hash, At::Pack(number));
            }
            entries += hashes.len();
            let newest = items.iter().map(|item| item.time).max().unwrap_or(UnixMicros::MIN);
            index.add(number, Pack { newest, hashes });
            index.next_pack = number + 1;
        }
        index.next_pack = index.next_pack.max(1);
        Ok(RequestIds { hasher, index: Mutex::new(index), entries: AtomicUsize::new(entries) })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Index> {
        self.index.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A commit stores `key` (called before readers see it).
    pub(super) fn stored(&self, key: &[u8]) {
        let hash = self.hasher.hash_one(key);
        self.lock().known(hash, At::Unlanded);
        self.entries.fetch_add(1, Ordering::Relaxed);
    }

    /// The landing of `kept` (the entries of its commits, in commit order): the packs to
    /// write, and what [`RequestIds::landed`] records of them once they are in sled.
    pub(super) fn packs(&self, kept: &[Kept]) -> (Vec<tables::Op>, Vec<(u64, Pack)>) {
        if kept.is_empty() {
            return (Vec::new(), Vec::new());
        }
        let packs = packed(kept);
        let mut index = self.lock();
        let mut ops = Vec::with_capacity(packs.len());
        let mut landed = Vec::with_capacity(packs.len());
        let mut rest = kept;
        for (value, newest, n) in packs {
            let number = index.next_pack;
            index.next_pack += 1;
            let (items, next) = rest.split_at(n);
            rest = next;
            let hashes = items.iter().map(|(_, key, _)| self.hasher.hash_one(&**key)).collect();
            ops.push((TreeId::IdempotencyPacks, IVec::from(&keys::sequence_key(number)), Some(value)));
            landed.push((number, Pack { newest, hashes }));
        }
        (ops, landed)
    }

    /// The packs of [`RequestIds::packs`] are in sled: lookups read them from now on.
    /// Called before the landed entries leave the overlay.
    pub(super) fn landed(&self, packs: Vec<(u64, Pack)>) {
        let mut index = self.lock();
        for (number, pack) in packs {
            for hash in &pack.hashes {
                if let Some(known) = index.by_hash.get_mut(hash)
                    && known.at == At::Unlanded
                {
                    known.at = At::Pack(number);
                }
            }
            index.add(number, pack);
        }
    }

    /// Up to [`PRUNE_PER_COMMIT`] packs whose newest entry is older than `cutoff`, oldest
    /// first: the commit under the writer gate removes them.
    pub(super) fn expired(&self, cutoff: UnixMicros) -> Vec<u64> {
        let index = self.lock();
        let expired: Vec<u64> = index
            .by_age
            .iter()
            .take(PRUNE_PER_COMMIT)
            .take_while(|(newest, _)| *newest < cutoff)
            .map(|(_, number)| *number)
            .collect();
        if !expired.is_empty() {
            tracing::debug!(packs = expired.len(), "pruning expired idempotency entries");
        }
        expired
    }

    /// A commit removed `packs` (called once readers see the removal).
    pub(super) fn pruned(&self, packs: &[u64]) {
        let mut index = self.lock();
        for number in packs {
            let Some(pack) = index.packs.remove(number) else { continue };
            index.by_age.remove(&(pack.newest, *number));
            for hash in &pack.hashes {
                if let Some(known) = index.by_hash.get_mut(hash) {
                    known.count -= 1;
                    if known.count == 0 {
                        index.by_hash.remove(hash);
                    } else {
                        known.at = At::Unknown;
                    }
                }
            }
            self.entries.fetch_sub(pack.hashes.len(), Ordering::Relaxed);
        }
    }

    /// The packs that may hold `key`: none if it was never stored (or is not landed), else
    /// its pack, or every pack if its hash is shared.
    fn candidates(&self, key: &[u8]) -> Vec<u64> {
        let index = self.lock();
        match index.by_hash.get(&self.hasher.hash_one(key)).map(|k| k.at) {
            None | Some(At::Unlanded) => Vec::new(),
            Some(At::Pack(number)) => vec![number],
            Some(At::Unknown) => index.packs.keys().copied().collect(),
        }
    }
}

impl Index {
    fn add(&mut self, number: u64, pack: Pack) {
        self.by_age.insert((pack.newest, number));
        self.packs.insert(number, pack);
    }

    fn known(&mut self, hash: u64, at: At) {
        self.by_hash
            .entry(hash)
            .and_modify(|known| {
                known.count += 1;
                known.at = At::Unknown;
            })
            .or_insert(Known { count: 1, at });
    }
}

impl Store {
    /// The number of idempotency entries stored (pending ones included), from memory: the
    /// metrics read it at every refresh, and counting the packs would read all of them.
    pub fn idempotency_entries(&self) -> usize {
        self.inner.request_ids.entries.load(Ordering::Relaxed)
    }

    /// The same, counted in the tables (for tests of the in-memory count).
    #[cfg(test)]
    pub(super) fn idempotency_entries_stored(&self) -> StoreResult<usize> {
        let pending = self.range(TreeId::Idempotency, Bound::Unbounded, Bound::Unbounded).count();
        self.range(TreeId::IdempotencyPacks, Bound::Unbounded, Bound::Unbounded)
            .try_fold(pending, |n, kv| Ok(n + unpacked(&kv?.1)?.len()))
    }

    pub fn idempotency(&self, principal_id: &str, request_id: &uuid::Uuid) -> StoreResult<Option<IdempotencyEntry>> {
        let key = keys::idempotency_key(principal_id, request_id);
        // The overlay first: a landing records its packs before its entries leave it.
        if let Some(pending) = self.inner.pending.get(TreeId::Idempotency, &key)? {
            return pending.map(|v| decode(TreeId::Idempotency, &v)).transpose();
        }
        for number in self.inner.request_ids.candidates(&key) {
            let Some(pack) = self.value(TreeId::IdempotencyPacks, &keys::sequence_key(number))? else { continue };
            if let Some(item) = unpacked(&pack)?.into_iter().find(|item| item.key == key.as_slice()) {
                return decode(TreeId::Idempotency, item.entry).map(Some);
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
pub(super) mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The number of entries of a pack's value.
    pub(in crate::store) fn entries_of(pack: &[u8]) -> usize {
        unpacked(pack).unwrap_or_else(|e| panic!("{e}")).len()
    }

    fn kept(n: u8, time: UnixMicros, len: usize) -> Kept {
        (time, IVec::from(vec![b'k', n]), IVec::from(vec![n; len]))
    }

    /// Packs hold as many entries as fit in one piece and are close in time, keep every
    /// entry's key, time and bytes, and a pack cut short is refused.
    #[test]
    fn packs_fill_a_piece_span_a_second_and_read_back_whole() {
        let items: Vec<Kept> = (0..40u8)
            .map(|n| match n {
                // Long: alone.
                10 => kept(n, 0, tables::PIECE),
                // Two seconds after the ones before: a new pack.
                30.. => kept(n, 2_000_000, 100),
                _ => kept(n, i64::from(n), 100),
            })
            .collect();
        let packs = packed(&items);
        let sizes: Vec<usize> = packs.iter().map(|(_, _, n)| *n).collect();
        assert_eq!(sizes.iter().sum::<usize>(), 40);
        assert_eq!(sizes, [10, 1, 17, 2, 10], "{sizes:?}");
        assert!(packs.iter().all(|(v, _, n)| *n == 1 || v.len() <= tables::PIECE));
        let newest: Vec<UnixMicros> = packs.iter().map(|(_, t, _)| *t).collect();
        assert_eq!(newest, [9, 0, 27, 29, 2_000_000]);
        let read: Vec<(UnixMicros, Vec<u8>, Vec<u8>)> = packs
            .iter()
            .flat_map(|(v, _, _)| unpacked(v).unwrap())
            .map(|item| (item.time, item.key.to_vec(), item.entry.to_vec()))
            .collect();
        let written: Vec<(UnixMicros, Vec<u8>, Vec<u8>)> =
            items.iter().map(|(t, k, e)| (*t, k.to_vec(), e.to_vec())).collect();
        assert_eq!(read, written);
        let (first, _, _) = &packs[0];
        assert!(unpacked(&first[..first.len() - 1]).is_err(), "a pack cut short");
        assert!(unpacked(&first[1..]).is_err(), "a value without the marker");
    }

    /// Two keys with one hash: a lookup reads every pack, before and after one of them is
    /// pruned, and finds the right entry.
    #[test]
    fn keys_that_share_a_hash_are_looked_up_in_every_pack() {
        let ids = RequestIds { hasher: RandomState::new(), index: Mutex::new(Index::default()), entries: 0.into() };
        ids.lock().next_pack = 1;
        let (a, b) = (kept(1, 0, 10), kept(2, 5_000_000, 10));
        ids.stored(&a.1);
        let (_, packs) = ids.packs(std::slice::from_ref(&a));
        ids.landed(packs);
        assert_eq!(ids.candidates(&a.1), [1]);
        assert!(ids.candidates(&b.1).is_empty(), "never stored");
        // As if `b` had `a`'s hash.
        let hash = ids.hasher.hash_one(&*a.1);
        ids.lock().known(hash, At::Unlanded);
        ids.lock().add(2, Pack { newest: b.0, hashes: Box::new([hash]) });
        assert_eq!(ids.candidates(&a.1), [1, 2], "a shared hash reads every pack");
        assert_eq!(ids.expired(1), [1]);
        ids.pruned(&[1]);
        assert_eq!(ids.candidates(&a.1), [2], "still shared with a key of its own pack: every pack");
        ids.pruned(&[2]);
        assert!(ids.candidates(&a.1).is_empty());
        assert!(ids.lock().by_hash.is_empty());
    }
}

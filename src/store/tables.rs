//! The one sled tree that holds every table ([`keys::TABLES`]), and the only code that
//! reads or writes it.
//!
//! **No value makes sled write a blob file.** sled 0.34.7 writes a log message longer
//! than a quarter of a segment, less headers (`pagecache/logger.rs`, `reserve_inner`:
//! `segment_size / MINIMUM_ITEMS_PER_SEGMENT - SEG_HEADER_LEN`, 131 052 bytes at the
//! 512 KiB segments lcm uses), to a file of its own under `blobs/` (`iobuf.rs`,
//! `write_blob`), with no fsync, and skips a message whose blob is missing at recovery.
//! A message is one value (a change of a leaf), or a whole node page when sled
//! consolidates one. So values longer than [`PIECE`] are stored in pieces of at most
//! [`PIECE`] bytes under [`keys::PIECES`] (the value's own key then holds its length), in
//! the same batch as every other change of their landing, and nothing sled writes can
//! reach the threshold:
//!
//! - a leaf splits once it holds more than 16 entries (`node.rs`, `should_split`), so a
//!   leaf page holds 17 entries, 20 while a merge into it is pending (`should_merge`
//!   below 4): at most 20 × ([`PIECE`] + a key of at most a few hundred bytes + framing),
//!   under 50 000 bytes;
//! - an index node splits above 256 children, each a key: under 80 000 bytes.
//!
//! `tables::tests::no_value_makes_sled_write_a_blob_file` stores values of every size up
//! to several MiB side by side and finds `blobs/` empty; the same values inserted whole
//! fill it. Pieces are an encoding of this module alone: every other part of the store
//! reads and writes whole values (the overlay, backups, digests hold whole values).
//!
//! Reads and writes agree on which keys are in pieces through [`Tables::pieced`], loaded
//! at open from the keys under [`keys::PIECES`]: a write changes it under its write lock
//! together with the batch, a read holds its read lock while it reads a key and its
//! pieces, so it sees a value whole, old or new.

use super::keys::{self, TreeId};
use super::{StoreError, StoreResult};
use sled::IVec;
use std::collections::HashMap;
use std::ops::Bound;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};

/// One key's change: a new value, or `None` for a removal.
pub(super) type Op = (TreeId, IVec, Option<IVec>);

/// sled's segment size for every store: sled 0.34's default, which every existing store
/// was created with (sled refuses to open a store with another).
pub(super) const SEGMENT_SIZE: usize = 512 << 10;

/// The longest value stored whole; longer ones are stored in pieces of this size.
pub(super) const PIECE: usize = 2 << 10;

/// Stored key (with its table's prefix) → pieces its value is stored in.
type Pieced = HashMap<IVec, u32>;

pub(super) struct Tables {
    tree: sled::Tree,
    pieced: RwLock<Pieced>,
    /// Held by a write for its whole length: writes are applied one at a time.
    writing: Mutex<()>,
}

impl Tables {
    /// Takes over `tree`, learning which values are stored in pieces.
    pub(super) fn open(tree: sled::Tree) -> StoreResult<Arc<Tables>> {
        let mut pieced = Pieced::new();
        for kv in tree.range(vec![keys::PIECES]..vec![keys::PIECES + 1]) {
            let (k, _) = kv?;
            let (stored, n) = keys::from_piece_key(&k)
                .ok_or_else(|| StoreError::Corrupt { tree: "pieces", detail: format!("malformed key {k:?}") })?;
            let count = pieced.entry(IVec::from(stored)).or_insert(0);
            *count = (*count).max(n + 1);
        }
        Ok(Arc::new(Tables { tree, pieced: RwLock::new(pieced), writing: Mutex::new(()) }))
    }

    // Nothing panics while these locks are held, so a poisoned one still holds whole data.
    fn read(&self) -> RwLockReadGuard<'_, Pieced> {
        self.pieced.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Values stored in pieces now.
    #[cfg(test)]
    pub(super) fn pieced_values(&self) -> usize {
        self.read().len()
    }

    /// `table`'s value of `key`.
    pub(super) fn get(&self, table: TreeId, key: &[u8]) -> StoreResult<Option<IVec>> {
        let pieced = self.read();
        let k = keys::table_key(table, key);
        match self.tree.get(&k)? {
            None => Ok(None),
            Some(head) => self.whole(&pieced, table, &k, head).map(Some),
        }
    }

    /// The value whose stored key `k` holds `head`: `head` itself, or its pieces joined.
    fn whole(&self, pieced: &Pieced, table: TreeId, k: &[u8], head: IVec) -> StoreResult<IVec> {
        let Some(&n) = pieced.get(k) else { return Ok(head) };
        let corrupt = |detail: String| StoreError::Corrupt { tree: table.name(), detail };
        let len = <[u8; 8]>::try_from(head.as_ref())
            .map(u64::from_be_bytes)
            .map_err(|_| corrupt(format!("the head of a value in pieces has {} bytes", head.len())))?;
        let len = usize::try_from(len).map_err(|_| corrupt(format!("a value of {len} bytes")))?;
        let mut value = Vec::with_capacity(len);
        let mut pieces = 0u32;
        for kv in self.tree.scan_prefix(keys::piece_prefix(k)) {
            value.extend_from_slice(&kv?.1);
            pieces += 1;
        }
        if pieces != n || value.len() != len {
            return Err(corrupt(format!("{pieces} pieces of {} bytes, expected {n} of {len}", value.len())));
        }
        Ok(value.into())
    }

    /// `table`'s entries between `lo` and `hi` (keys within the table), values whole.
    pub(super) fn range(self: &Arc<Self>, table: TreeId, lo: Bound<Vec<u8>>, hi: Bound<Vec<u8>>) -> TableRange {
        let p = table.prefix();
        let lo = match lo {
            Bound::Included(k) => Bound::Included(keys::table_key(table, &k)),
            Bound::Excluded(k) => Bound::Excluded(keys::table_key(table, &k)),
            Bound::Unbounded => Bound::Included(vec![p]),
        };
        let hi = match hi {
            Bound::Included(k) => Bound::Included(keys::table_key(table, &k)),
            Bound::Excluded(k) => Bound::Excluded(keys::table_key(table, &k)),
            // Tables are numbered below [`keys::PIECES`], so the next prefix is no table's.
            Bound::Unbounded => Bound::Excluded(vec![p + 1]),
        };
        TableRange { tables: self.clone(), table, inner: self.tree.range::<Vec<u8>, _>((lo, hi)) }
    }

    /// The last entry of `table` (its key within the table), if any, its value whole.
    pub(super) fn last(&self, table: TreeId) -> StoreResult<Option<(IVec, IVec)>> {
        let p = table.prefix();
        let pieced = self.read();
        let Some((k, head)) = self.tree.range(vec![p]..vec![p + 1]).next_back().transpose()? else { return Ok(None) };
        let value = self.whole(&pieced, table, &k, head)?;
        Ok(Some((IVec::from(k.get(1..).unwrap_or_default()), value)))
    }

    /// The number (u64) the last key of `table` holds: the last id of a table keyed by
    /// ids, 0 if the table is empty (or its last key is not a number). Reads the key only,
    /// not the value (which may be in pieces).
    pub(super) fn last_number(&self, table: TreeId) -> StoreResult<u64> {
        let p = table.prefix();
        let last = self.tree.range(vec![p]..vec![p + 1]).next_back().transpose()?;
        Ok(last.and_then(|(k, _)| keys::id_from_key(k.get(1..).unwrap_or_default())).map_or(0, |id| id.0))
    }

    /// The last key of `table` (within the table) at or before `key`, if any.
    pub(super) fn last_at_or_before(&self, table: TreeId, key: &[u8]) -> StoreResult<Option<IVec>> {
        let last = self.tree.range(vec![table.prefix()]..=keys::table_key(table, key)).next_back().transpose()?;
        Ok(last.map(|(k, _)| IVec::from(k.get(1..).unwrap_or_default())))
    }

    /// Applies `ops`, in order, as one sled batch: all of them or, after a crash at any
    /// instant, none (docs/STORAGE.md).
    pub(super) fn apply<'a>(&self, ops: impl Iterator<Item = &'a Op>) -> StoreResult<()> {
        let _writing = self.writing.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut batch = sled::Batch::default();
        // Keys whose pieces this batch changes → pieces after it.
        let mut changed = Pieced::new();
        {
            let pieced = self.read();
            for (table, key, value) in ops {
                let k = IVec::from(keys::table_key(*table, key));
                let before = changed.get(&k).or_else(|| pieced.get(&k)).copied().unwrap_or(0);
                let after = match value {
                    Some(v) if v.len() > PIECE => {
                        batch.insert(k.clone(), &(v.len() as u64).to_be_bytes());
                        let mut n = 0u32;
                        for piece in v.chunks(PIECE) {
                            batch.insert(keys::piece_key(&k, n), piece);
                            n += 1;
                        }
                        n
                    }
                    Some(v) => {
                        batch.insert(k.clone(), v.clone());
                        0
                    }
                    None => {
                        batch.remove(k.clone());
                        0
                    }
                };
                for n in after..before {
                    batch.remove(keys::piece_key(&k, n));
                }
                if before != 0 || after != 0 {
                    changed.insert(k, after);
                }
            }
        }
        let mut pieced = self.pieced.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.tree.apply_batch(batch)?;
        for (k, n) in changed {
            if n == 0 {
                pieced.remove(&k);
            } else {
                pieced.insert(k, n);
            }
        }
        Ok(())
    }
}

/// A range of one table's entries, keys within the table, values whole.
pub struct TableRange {
    tables: Arc<Tables>,
    table: TreeId,
    inner: sled::Iter,
}

impl Iterator for TableRange {
    type Item = StoreResult<(IVec, IVec)>;

    fn next(&mut self) -> Option<Self::Item> {
        let pieced = self.tables.read();
        let kv = self.inner.next()?;
        Some(kv.map_err(StoreError::from).and_then(|(k, head)| {
            let value = self.tables.whole(&pieced, self.table, &k, head)?;
            Ok((IVec::from(k.get(1..).unwrap_or_default()), value))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files_in(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir).map_or(0, |d| d.count())
    }

    /// Values of every size around and far above [`PIECE`], several per leaf, written,
    /// overwritten with other sizes and removed, in batches of many.
    fn storm() -> Vec<Vec<Op>> {
        let sizes = [0, 1, PIECE - 1, PIECE, PIECE + 1, 3 * PIECE, 40 << 10, 70 << 10, 300 << 10, 3 << 20];
        let value = |i: usize, size: usize| Some(IVec::from(vec![(i % 251) as u8; size]));
        let key = |i: usize| IVec::from([format!("principal-{i}").as_bytes(), &[0], &[b'r'; 64]].concat());
        let mut batches = Vec::new();
        for round in 0..3 {
            let mut ops = Vec::new();
            for i in 0..60 {
                let size = sizes[(i + round * 3) % sizes.len()];
                ops.push((TreeId::Idempotency, key(i), value(i + round, size)));
                ops.push((TreeId::Needs, IVec::from(&keys::id_key(crate::domain::Id(i as u64))), value(i, size)));
            }
            if round == 2 {
                for i in (0..60).step_by(7) {
                    ops.push((TreeId::Idempotency, key(i), None));
                }
            }
            batches.push(ops);
        }
        batches
    }

    /// What `batches` leave, as the store's reads see it.
    fn expected(batches: &[Vec<Op>]) -> std::collections::BTreeMap<(u8, IVec), IVec> {
        let mut m = std::collections::BTreeMap::new();
        for (t, k, v) in batches.iter().flatten() {
            match v {
                Some(v) => m.insert((*t as u8, k.clone()), v.clone()),
                None => m.remove(&(*t as u8, k.clone())),
            };
        }
        m
    }

    fn contents(tables: &Arc<Tables>) -> std::collections::BTreeMap<(u8, IVec), IVec> {
        let mut m = std::collections::BTreeMap::new();
        for t in [TreeId::Idempotency, TreeId::Needs] {
            for kv in tables.range(t, Bound::Unbounded, Bound::Unbounded) {
                let (k, v) = kv.unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(tables.get(t, &k).unwrap_or_else(|e| panic!("{e}")).as_ref(), Some(&v));
                m.insert((t as u8, k), v);
            }
        }
        m
    }

    fn open(dir: &std::path::Path) -> (sled::Db, Arc<Tables>) {
        let (db, tree) = super::super::open_sled(dir, 64 << 20, None).unwrap_or_else(|e| panic!("{e}"));
        (db, Tables::open(tree).unwrap_or_else(|e| panic!("{e}")))
    }

    #[test]
    fn no_value_makes_sled_write_a_blob_file() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let batches = storm();
        {
            let (db, tables) = open(dir.path());
            for ops in &batches {
                tables.apply(ops.iter()).unwrap_or_else(|e| panic!("{e}"));
            }
            db.flush().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(contents(&tables), expected(&batches));
            assert!(tables.pieced_values() > 0);
        }
        let (_db, tables) = open(dir.path());
        assert_eq!(contents(&tables), expected(&batches), "after reopening");
        assert_eq!(files_in(&dir.path().join("blobs")), 0, "sled wrote blob files");
        // Nothing is left of the pieces of values removed or rewritten shorter.
        let pieces = tables.tree.range(vec![keys::PIECES]..vec![keys::PIECES + 1]).count();
        let expected_pieces: usize =
            expected(&batches).values().filter(|v| v.len() > PIECE).map(|v| v.len().div_ceil(PIECE)).sum();
        assert_eq!(pieces, expected_pieces);
    }

    /// A reader beside a writer that keeps rewriting one value between lengths stored
    /// whole and in pieces sees each version whole: never a head without its pieces.
    #[test]
    fn a_read_beside_a_rewrite_sees_one_version_whole() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let (_db, tables) = open(dir.path());
        let key = IVec::from(&keys::id_key(crate::domain::Id(7)));
        let version = |i: u8| IVec::from(vec![i; [10, 3 * PIECE + 5, PIECE / 2, 7 * PIECE][usize::from(i % 4)]]);
        tables.apply([(TreeId::Needs, key.clone(), Some(version(0)))].iter()).unwrap_or_else(|e| panic!("{e}"));
        let done = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                for i in 1..=200u8 {
                    tables
                        .apply([(TreeId::Needs, key.clone(), Some(version(i)))].iter())
                        .unwrap_or_else(|e| panic!("{e}"));
                }
                done.store(true, std::sync::atomic::Ordering::Relaxed);
            });
            let mut reads = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) || reads < 100 {
                let got = tables.get(TreeId::Needs, &key).unwrap_or_else(|e| panic!("read {reads}: {e}"));
                let got = got.unwrap_or_else(|| panic!("read {reads}: no value"));
                assert_eq!(got, version(got[0]), "read {reads}");
                let listed: Vec<_> = tables.range(TreeId::Needs, Bound::Unbounded, Bound::Unbounded).collect();
                let (_, v) = listed[0].as_ref().unwrap_or_else(|e| panic!("list {reads}: {e}"));
                assert_eq!(*v, version(v[0]), "list {reads}");
                reads += 1;
            }
        });
    }

    /// A store written before values were kept in pieces (format 2) holds long values
    /// whole: they read as they are, and a rewrite stores them in pieces.
    #[test]
    fn values_stored_whole_by_an_earlier_build_read_and_are_rewritten_in_pieces() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let key = IVec::from(&keys::id_key(crate::domain::Id(1)));
        let (old, new) = (IVec::from(vec![1u8; 200 << 10]), IVec::from(vec![2u8; 5 * PIECE]));
        {
            let (db, tree) = super::super::open_sled(dir.path(), 8 << 20, None).unwrap_or_else(|e| panic!("{e}"));
            tree.insert(keys::table_key(TreeId::Needs, &key), old.clone()).unwrap_or_else(|e| panic!("{e}"));
            db.flush().unwrap_or_else(|e| panic!("{e}"));
        }
        let (_db, tables) = open(dir.path());
        assert_eq!(tables.get(TreeId::Needs, &key).unwrap_or_else(|e| panic!("{e}")), Some(old));
        tables.apply([(TreeId::Needs, key.clone(), Some(new.clone()))].iter()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(tables.pieced_values(), 1);
        assert_eq!(tables.get(TreeId::Needs, &key).unwrap_or_else(|e| panic!("{e}")), Some(new));
    }

    /// Control: the same values inserted whole make sled write blob files, so the test
    /// above can see one.
    #[test]
    fn the_same_values_stored_whole_make_blob_files() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let (db, tree) = super::super::open_sled(dir.path(), 64 << 20, None).unwrap_or_else(|e| panic!("{e}"));
        for ops in storm() {
            let mut batch = sled::Batch::default();
            for (t, k, v) in &ops {
                match v {
                    Some(v) => batch.insert(keys::table_key(*t, k), v.clone()),
                    None => batch.remove(keys::table_key(*t, k)),
                }
            }
            tree.apply_batch(batch).unwrap_or_else(|e| panic!("{e}"));
        }
        db.flush().unwrap_or_else(|e| panic!("{e}"));
        assert!(files_in(&dir.path().join("blobs")) > 0);
    }
}

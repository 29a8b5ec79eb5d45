//! Backups: a consistent snapshot of every tree of a running store, as one self-checking
//! file, and the offline restore of such a file into a new store.
//!
//! **Consistency.** Every change goes through the writer gate, so a snapshot taken while
//! holding the gate sees every commit or none of it. Under the gate the store is first
//! flushed, so the snapshot holds only what is on disk (a write whose flush fails is never
//! in a backup), then every tree is copied into memory; the gate is released before the
//! bytes go anywhere, so a slow reader of the backup never stalls writers. Writers wait
//! for the flush plus one memory copy of the store.
//!
//! **Why not sled's `Db::export`/`import`.** They walk the trees without any cross-tree
//! consistency (the gate is needed anyway), carry sled's internal default tree, and tie the
//! file to sled: our own format names the trees of [`TreeId`], can be restored by a future
//! storage engine, and carries a checksum so a truncated or corrupt file is refused
//! before anything is written.
//!
//! **File format** (integers big-endian):
//!
//! | bytes | content |
//! |---|---|
//! | 8 | magic `LCMBACKP` |
//! | 4 | backup format version (1) |
//! | 8 | body length |
//! | 32 | SHA-256 of the body |
//! | … | body: creation time (i64, µs since the epoch), last event sequence (u64), tree count (u32), then per tree: name length (u16), name, entry count (u64), and per entry key length (u32), key, value length (u32), value |
//!
//! The values are the store's own encoded values (with their format-version byte), copied
//! byte for byte: restoring gives back the very same records, events, token hashes,
//! idempotency entries and page-token key.

use super::{Store, StoreError, TreeId};
use crate::domain::UnixMicros;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The first bytes of every backup file.
pub const MAGIC: &[u8; 8] = b"LCMBACKP";
/// The version of the backup file format this build writes and reads.
pub const BACKUP_FORMAT_VERSION: u32 = 1;
/// Magic, version, body length, SHA-256.
pub const HEADER_BYTES: usize = 8 + 4 + 8 + 32;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("not an lcm backup file (bad magic bytes)")]
    BadMagic,
    #[error("backup format version {0} is not supported by this build (it reads version {BACKUP_FORMAT_VERSION})")]
    UnsupportedVersion(u32),
    #[error("the backup file is truncated: it has {actual} bytes where {expected} were expected")]
    Truncated { expected: u64, actual: u64 },
    #[error("the backup file is corrupt: the SHA-256 of its body does not match its header")]
    ChecksumMismatch,
    #[error("the backup file is malformed: {0}")]
    Malformed(String),
    #[error("the backup holds an unknown tree {0:?} (written by a newer lcm?)")]
    UnknownTree(String),
    #[error("{0} is not empty: restore only into a new or empty directory")]
    NotEmpty(PathBuf),
    #[error("I/O on {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

impl From<sled::Error> for BackupError {
    fn from(e: sled::Error) -> Self {
        BackupError::Store(StoreError::Sled(e))
    }
}

/// What a backup holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupInfo {
    pub created: UnixMicros,
    /// Every event up to this sequence is in the backup (0: none).
    pub last_event_sequence: u64,
    /// Tree name and entry count, in file order.
    pub trees: Vec<(String, u64)>,
    /// Size of the whole file.
    pub total_bytes: u64,
    /// SHA-256 of the body, hex.
    pub sha256: String,
}

impl BackupInfo {
    /// Entries in the named tree.
    pub fn count(&self, tree: &str) -> u64 {
        self.trees.iter().find(|(n, _)| n == tree).map_or(0, |(_, c)| *c)
    }
}

impl Store {
    /// A consistent snapshot of every tree as the bytes of a backup file, taken under the
    /// writer gate after a flush. Blocking: call it off the async runtime.
    pub fn export_backup(&self, now: UnixMicros) -> Result<(Vec<u8>, BackupInfo), BackupError> {
        let (trees, last_event_sequence) = {
            let _gate = self.writer()?;
            self.flush()?;
            let mut trees = Vec::with_capacity(TreeId::ALL.len());
            for tree in TreeId::ALL {
                trees.push((tree, self.entries(tree)?));
            }
            (trees, self.last_landed_event()?)
        };
        let size: usize = trees.iter().map(|(_, e)| e.iter().map(|(k, v)| 8 + k.len() + v.len()).sum::<usize>()).sum();
        let mut body = Vec::with_capacity(20 + size + 32 * trees.len());
        body.extend_from_slice(&now.to_be_bytes());
        body.extend_from_slice(&last_event_sequence.to_be_bytes());
        body.extend_from_slice(&(trees.len() as u32).to_be_bytes());
        for (tree, entries) in &trees {
            let name = tree.name().as_bytes();
            body.extend_from_slice(&(name.len() as u16).to_be_bytes());
            body.extend_from_slice(name);
            body.extend_from_slice(&(entries.len() as u64).to_be_bytes());
            for (k, v) in entries {
                body.extend_from_slice(&(k.len() as u32).to_be_bytes());
                body.extend_from_slice(k);
                body.extend_from_slice(&(v.len() as u32).to_be_bytes());
                body.extend_from_slice(v);
            }
        }
        let digest: [u8; 32] = Sha256::digest(&body).into();
        let mut file = Vec::with_capacity(HEADER_BYTES + body.len());
        file.extend_from_slice(MAGIC);
        file.extend_from_slice(&BACKUP_FORMAT_VERSION.to_be_bytes());
        file.extend_from_slice(&(body.len() as u64).to_be_bytes());
        file.extend_from_slice(&digest);
        file.extend_from_slice(&body);
        let info = BackupInfo {
            created: now,
            last_event_sequence,
            trees: trees.iter().map(|(t, e)| (t.name().to_string(), e.len() as u64)).collect(),
            total_bytes: file.len() as u64,
            sha256: hex::encode(digest),
        };
        Ok((file, info))
    }
}

/// One key and value, borrowed from the backup file.
type Entry<'a> = (&'a [u8], &'a [u8]);

/// The trees of a backup file, checked: magic, version, length, checksum, structure.
struct Parsed<'a> {
    info: BackupInfo,
    trees: Vec<(TreeId, Vec<Entry<'a>>)>,
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], BackupError> {
        if self.bytes.len() < n {
            return Err(BackupError::Malformed(format!("ends inside {what}")));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }
    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], BackupError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }
    fn u16(&mut self, what: &str) -> Result<u16, BackupError> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }
    fn u32(&mut self, what: &str) -> Result<u32, BackupError> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }
    fn u64(&mut self, what: &str) -> Result<u64, BackupError> {
        Ok(u64::from_be_bytes(self.array(what)?))
    }
}

fn parse(file: &[u8]) -> Result<Parsed<'_>, BackupError> {
    if file.len() < MAGIC.len() || &file[..MAGIC.len()] != MAGIC {
        return Err(BackupError::BadMagic);
    }
    if file.len() < HEADER_BYTES {
        return Err(BackupError::Truncated { expected: HEADER_BYTES as u64, actual: file.len() as u64 });
    }
    let mut header = Reader { bytes: file };
    header.take(MAGIC.len(), "the magic")?;
    let version = header.u32("the header")?;
    if version != BACKUP_FORMAT_VERSION {
        return Err(BackupError::UnsupportedVersion(version));
    }
    let body_len = header.u64("the header")?;
    let digest = header.array::<32>("the header")?;
    let body = header.bytes;
    if (body.len() as u64) < body_len {
        return Err(BackupError::Truncated {
            expected: (HEADER_BYTES as u64).saturating_add(body_len),
            actual: file.len() as u64,
        });
    }
    if body.len() as u64 > body_len {
        return Err(BackupError::Malformed(format!(
            "{} bytes follow the announced body",
            body.len() as u64 - body_len
        )));
    }
    let actual: [u8; 32] = Sha256::digest(body).into();
    if actual != digest {
        return Err(BackupError::ChecksumMismatch);
    }
    let mut r = Reader { bytes: body };
    let created = i64::from_be_bytes(r.array("the creation time")?);
    let last_event_sequence = r.u64("the last event sequence")?;
    let tree_count = r.u32("the tree count")?;
    let mut trees = Vec::new();
    for _ in 0..tree_count {
        let name_len = r.u16("a tree name")? as usize;
        let name = std::str::from_utf8(r.take(name_len, "a tree name")?)
            .map_err(|_| BackupError::Malformed("a tree name is not UTF-8".into()))?;
        let tree = TreeId::ALL
            .iter()
            .copied()
            .find(|t| t.name() == name)
            .ok_or_else(|| BackupError::UnknownTree(name.to_string()))?;
        if trees.iter().any(|(t, _)| *t == tree) {
            return Err(BackupError::Malformed(format!("tree {name:?} appears twice")));
        }
        let count = r.u64("an entry count")?;
        let mut entries = Vec::new();
        for _ in 0..count {
            let k = r.u32("a key length")? as usize;
            let key = r.take(k, "a key")?;
            let v = r.u32("a value length")? as usize;
            let value = r.take(v, "a value")?;
            entries.push((key, value));
        }
        trees.push((tree, entries));
    }
    if !r.bytes.is_empty() {
        return Err(BackupError::Malformed(format!("{} stray bytes after the last tree", r.bytes.len())));
    }
    let info = BackupInfo {
        created,
        last_event_sequence,
        trees: trees.iter().map(|(t, e)| (t.name().to_string(), e.len() as u64)).collect(),
        total_bytes: file.len() as u64,
        sha256: hex::encode(digest),
    };
    Ok(Parsed { info, trees })
}

/// Checks a backup file completely (magic, version, length, checksum, structure).
pub fn verify(file: &[u8]) -> Result<BackupInfo, BackupError> {
    parse(file).map(|p| p.info)
}

/// Rebuilds a store at `store_path` from a backup file. The file is checked completely
/// before anything is written; `store_path` must not exist or be an empty directory. On
/// failure what was written is removed again.
pub fn restore(file: &[u8], store_path: &Path) -> Result<BackupInfo, BackupError> {
    let parsed = parse(file)?;
    let io = |source| BackupError::Io { path: store_path.to_path_buf(), source };
    if store_path.exists() {
        if std::fs::read_dir(store_path).map_err(io)?.next().is_some() {
            return Err(BackupError::NotEmpty(store_path.to_path_buf()));
        }
    } else {
        std::fs::create_dir_all(store_path).map_err(io)?;
    }
    let result = write_trees(&parsed, store_path);
    if result.is_err() {
        let _ = std::fs::remove_dir_all(store_path);
    }
    result.map(|()| parsed.info)
}

/// Writes every tree through one handle of the new store (opened as the server opens it,
/// so it is a store the server accepts), checks the counts and the event log, flushes.
fn write_trees(parsed: &Parsed<'_>, store_path: &Path) -> Result<(), BackupError> {
    let config = super::StoreConfig::durable(16 << 20);
    let store = Store::open(store_path, &config)?;
    for (tree, entries) in &parsed.trees {
        // Opening wrote the meta entries of a new store; the backup's replace them.
        if store.replace_table(*tree, entries)? != entries.len() {
            return Err(BackupError::Malformed(format!("tree {:?} has duplicate keys", tree.name())));
        }
    }
    let last_event = store.last_landed_event()?;
    if last_event != parsed.info.last_event_sequence {
        return Err(BackupError::Malformed(format!(
            "the event log ends at {last_event}, the header says {}",
            parsed.info.last_event_sequence
        )));
    }
    store.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::store::{StoreConfig, WriteSet};

    fn config() -> StoreConfig {
        StoreConfig::durable(8 << 20)
    }

    fn sample() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store"), &config()).unwrap();
        let w = store.writer().unwrap();
        let mut ws = WriteSet::default();
        ws.put_raw(TreeId::Tokens, vec![7; 32], vec![0, 0, 0, 0, 0, 0, 0, 1]);
        ws.put_key(TreeId::ProposedMatches, &[0, 0, 0, 0, 0, 0, 0, 9]);
        let _ = w.commit(ws).unwrap();
        store.flush().unwrap();
        (dir, store)
    }

    #[test]
    fn round_trip_gives_identical_trees() {
        let (_dir, store) = sample();
        let (file, info) = store.export_backup(42).unwrap();
        assert_eq!(verify(&file).unwrap(), info);
        assert_eq!(info.count("tokens"), 1);
        let target = tempfile::tempdir().unwrap();
        let path = target.path().join("store");
        restore(&file, &path).unwrap();
        let restored = Store::open(&path, &config()).unwrap();
        for tree in TreeId::ALL {
            assert_eq!(restored.entries(tree).unwrap(), store.entries(tree).unwrap(), "{}", tree.name());
        }
    }

    #[test]
    fn damaged_files_are_refused_before_anything_is_written() {
        let (_dir, store) = sample();
        let (file, _) = store.export_backup(42).unwrap();
        let target = tempfile::tempdir().unwrap();
        let path = target.path().join("store");
        let truncated = &file[..file.len() - 3];
        assert!(matches!(restore(truncated, &path), Err(BackupError::Truncated { .. })));
        let mut flipped = file.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(matches!(restore(&flipped, &path), Err(BackupError::ChecksumMismatch)));
        assert!(matches!(restore(&file[..20], &path), Err(BackupError::Truncated { .. })));
        assert!(matches!(restore(b"hello world, not a backup", &path), Err(BackupError::BadMagic)));
        let mut future = file.clone();
        future[8..12].copy_from_slice(&2u32.to_be_bytes());
        assert!(matches!(restore(&future, &path), Err(BackupError::UnsupportedVersion(2))));
        assert!(!path.exists(), "nothing was written");
    }

    #[test]
    fn restore_refuses_a_non_empty_directory() {
        let (_dir, store) = sample();
        let (file, _) = store.export_backup(42).unwrap();
        let target = tempfile::tempdir().unwrap();
        std::fs::write(target.path().join("something"), b"x").unwrap();
        assert!(matches!(restore(&file, target.path()), Err(BackupError::NotEmpty(_))));
        assert!(target.path().join("something").exists());
    }
}

//! Power-loss durability of the files sled writes beside its log: sled 0.34 writes a log
//! message too large for a quarter of a segment (a node page holding large values) to a
//! file of its own under `blobs/`, with no fsync; it writes its `conf` file with no fsync;
//! and nothing fsyncs a directory. Before a sync acknowledges anything, [`DirSync::sync`]
//! fsyncs every blob file and every file of the store directory it has not synced yet,
//! and each directory (`blobs/`, the store directory) whose entries changed since its
//! last fsync.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::File;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub(super) struct DirSync {
    dir: PathBuf,
    blobs: PathBuf,
    /// Names in `blobs/` already fsynced; names in the store directory at its last fsync.
    seen: Mutex<(HashSet<OsString>, HashSet<OsString>)>,
}

/// The names in `dir` (none if it does not exist yet).
fn names(dir: &Path) -> std::io::Result<HashSet<OsString>> {
    match std::fs::read_dir(dir) {
        Ok(entries) => entries.map(|e| e.map(|e| e.file_name())).collect(),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(HashSet::new()),
        Err(e) => Err(e),
    }
}

/// fsyncs `path`; a file sled removed meanwhile needs none.
fn fsync(path: &Path) -> std::io::Result<()> {
    match File::open(path) {
        Ok(f) => f.sync_all(),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

impl DirSync {
    /// For the sled store in `dir`; the first [`DirSync::sync`] fsyncs everything there.
    pub(super) fn new(dir: &Path) -> DirSync {
        DirSync { dir: dir.to_path_buf(), blobs: dir.join("blobs"), seen: Mutex::new(Default::default()) }
    }

    /// Call after sled's flush: fsyncs new blob files, then `blobs/` if its entries
    /// changed (a blob added, or one sled removed), then new files of the store directory
    /// (sled's `conf`, snapshots) and the store directory if its entries changed.
    pub(super) fn sync(&self) -> std::io::Result<()> {
        let mut seen = self.seen.lock().map_err(|_| std::io::Error::other("the directory-sync lock is poisoned"))?;
        let (blobs_seen, dir_seen) = &mut *seen;
        let blobs = names(&self.blobs)?;
        if blobs != *blobs_seen {
            for name in blobs.difference(blobs_seen) {
                fsync(&self.blobs.join(name))?;
            }
            fsync(&self.blobs)?;
            *blobs_seen = blobs;
        }
        let entries = names(&self.dir)?;
        if entries != *dir_seen {
            for name in entries.difference(dir_seen) {
                let path = self.dir.join(name);
                // `blobs/` was synced above; sled's log, `db`, is the caller's to sync.
                if name != "db" && std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
                    fsync(&path)?;
                }
            }
            fsync(&self.dir)?;
            *dir_seen = entries;
        }
        Ok(())
    }
}

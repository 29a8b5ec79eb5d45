//! Opening a store: sled, the format check, recovery of ids and the event log.

use super::*;

/// How long an open waits for sled's file lock, [`open_sled`].
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// Opens the sled database at `path` and its one tree of tables, [`keys::TABLES`].
///
/// sled takes an exclusive lock on its `db` file. After a store in this process is
/// dropped, sled's own I/O threads may still hold the file for a moment (they own
/// references to its log), so a reopen in the same process retries for up to
/// [`LOCK_WAIT`] before it reports the store as in use.
pub(super) fn open_sled(
    path: &Path,
    cache_bytes: u64,
    flush_every_ms: Option<u64>,
) -> StoreResult<(sled::Db, sled::Tree)> {
    let config = sled::Config::new()
        .path(path)
        .segment_size(tables::SEGMENT_SIZE)
        .cache_capacity(cache_bytes)
        .flush_every_ms(flush_every_ms);
    discard_unfinished_snapshots(path)?;
    let started = std::time::Instant::now();
    let db = loop {
        match config.open() {
            Ok(db) => break db,
            // sled reports a held lock as an I/O error of kind Other, by its message
            // (sled 0.34.7 config.rs `try_lock`).
            Err(sled::Error::Io(e)) if e.to_string().starts_with("could not acquire lock") => {
                if started.elapsed() >= LOCK_WAIT {
                    return Err(StoreError::Locked(path.display().to_string()));
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => return Err(e.into()),
        }
    };
    // A format-1 store kept each table in a tree of its own, "meta" among them.
    if db.tree_names().iter().any(|n| n.as_ref() == TreeId::Meta.name().as_bytes()) {
        return Err(StoreError::OldLayout(path.display().to_string()));
    }
    let tree = db.open_tree(keys::TABLES)?;
    Ok((db, tree))
}

/// Removes the snapshot files sled left unfinished, so that the store opens after a crash
/// at any instant of sled's own open.
///
/// At open, after recovering its log, sled 0.34.7 writes a snapshot to
/// `snap.<lsn>.generating` and renames it `snap.<lsn>` once written and synced
/// (`pagecache/snapshot.rs`, `write_snapshot`). To find the latest snapshot
/// (`read_snapshot`) it takes the last of the `snap.` files in name order
/// (`config.rs`, `get_snapshot_files`), which does not skip `.generating` files, and such
/// a file sorts after every finished snapshot of the same or an older lsn. So a crash
/// between that file's creation and its rename leaves a store that no open can read:
/// every later open reads the unfinished file as the latest snapshot, finds it empty or
/// cut short, and fails with "corrupted data" (sled issue 1527). A `.generating` file is
/// never a finished snapshot, so removing it loses nothing: sled reads the last finished
/// one and replays the log after it, as after any crash.
///
/// Only while holding the lock sled takes on `db` (an exclusive `flock`), so that no
/// other process is writing a snapshot of this store now; if another process holds the
/// store, nothing is removed and sled's open reports the lock.
fn discard_unfinished_snapshots(dir: &Path) -> StoreResult<()> {
    let db = match std::fs::OpenOptions::new().read(true).write(true).open(dir.join("db")) {
        Ok(file) => file,
        // A new store: nothing was ever written.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if rustix::fs::flock(&db, rustix::fs::FlockOperation::NonBlockingLockExclusive).is_err() {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            std::fs::remove_file(dir.join(&*name))?;
            tracing::warn!(file = %name, "removed a snapshot that sled left unfinished (a crash while sled opened)");
        }
    }
    // The lock goes with `db`, before sled takes its own.
    Ok(())
}

/// Brings the idempotency entries of a store of formats 2 to 5 to format 6: each key
/// holds the request id's 16 bytes instead of its characters
/// ([`keys::legacy_idempotency_key`]; an entry whose request id is not a UUID, which no
/// server accepted, is dropped), and the index by time is removed, pruning following the
/// entries' times in memory. In landings of [`MIGRATION_BATCH`] entries: each is atomic,
/// and a crash between them leaves keys that the next open still recognises and
/// migrates, since the format is marked 6 only after the last.
fn migrate_idempotency(tables: &Arc<Tables>) -> StoreResult<()> {
    let mut ops: Vec<super::tables::Op> = Vec::new();
    let mut rewritten = 0usize;
    let land = |ops: &mut Vec<super::tables::Op>| -> StoreResult<()> {
        tables.apply(ops.iter())?;
        ops.clear();
        Ok(())
    };
    for kv in tables.range(TreeId::Idempotency, Bound::Unbounded, Bound::Unbounded) {
        let (key, value) = kv?;
        if let Some(current) = keys::legacy_idempotency_key(&key) {
            ops.push((TreeId::Idempotency, key, None));
            if let Some(current) = current {
                ops.push((TreeId::Idempotency, current.into(), Some(value)));
            }
            rewritten += 1;
        }
        if ops.len() >= MIGRATION_BATCH {
            land(&mut ops)?;
        }
    }
    land(&mut ops)?;
    empty_table(tables, TreeId::IdempotencyByTime)?;
    ops.push((TreeId::Meta, keys::META_IDEMPOTENCY_INDEXED.into(), None));
    land(&mut ops)?;
    if rewritten > 0 {
        tracing::info!(entries = rewritten, "idempotency entries keyed by the request id's 16 bytes (store format 6)");
    }
    Ok(())
}

/// Empties `retired`, the tables of indexes that format `format` keeps in memory
/// (`memory_indexes.rs`): needs by requester and offers by provider (format 7), matches by
/// need and by offer (format 10). In landings of [`MIGRATION_BATCH`] keys: a crash between
/// them leaves keys the next open removes, since the format is marked only after the last.
fn drop_index_tables(tables: &Arc<Tables>, retired: [TreeId; 2], format: u8) -> StoreResult<()> {
    let mut removed = 0;
    for table in retired {
        removed += empty_table(tables, table)?;
    }
    if removed > 0 {
        tracing::info!(
            entries = removed,
            tables = ?retired.map(TreeId::name),
            format,
            "index tables emptied, the indexes are kept in memory"
        );
    }
    Ok(())
}

/// Removes every key of `table`, in landings of [`MIGRATION_BATCH`] keys; returns how many.
fn empty_table(tables: &Arc<Tables>, table: TreeId) -> StoreResult<usize> {
    let mut removed = 0;
    loop {
        let ops: Vec<super::tables::Op> = tables
            .range(table, Bound::Unbounded, Bound::Unbounded)
            .take(MIGRATION_BATCH)
            .map(|kv| Ok((table, kv?.0, None)))
            .collect::<StoreResult<_>>()?;
        if ops.is_empty() {
            return Ok(removed);
        }
        tables.apply(ops.iter())?;
        removed += ops.len();
    }
}

/// The most keys one landing of a migration at open changes.
const MIGRATION_BATCH: usize = 4096;

/// BENCHMARK ONLY: opens the sled database at `path` exactly as [`Store::open`] does, with
/// nothing of lcm's own on top (no format check, no id or event-log recovery, no flusher,
/// no memory of recent events); with `read_all` it then reads every entry of every tree.
/// `measure` runs while the database is still open. Returns the entries read and what
/// `measure` returned. The baseline of the memory and recovery figures.
pub fn open_bare<T>(
    path: &Path,
    cache_bytes: u64,
    read_all: bool,
    measure: impl FnOnce() -> T,
) -> StoreResult<(u64, T)> {
    let (_db, tree) = open_sled(path, cache_bytes, Some(1000))?;
    let mut entries = 0u64;
    if read_all {
        for kv in tree.iter() {
            std::hint::black_box(kv?);
            entries += 1;
        }
    }
    Ok((entries, measure()))
}

impl Store {
    pub fn open(path: &Path, config: &StoreConfig) -> StoreResult<Store> {
        let flush_every = match config.durability {
            Durability::FlushBeforeAck | Durability::FlushEachWrite => Some(1000),
            Durability::UnsafeNoFlush => None,
        };
        let (db, tree) = open_sled(path, config.cache_bytes, flush_every)?;
        let tables = Tables::open(tree)?;
        let meta_put = |key: &[u8], value: &[u8]| -> StoreResult<()> {
            tables.apply([(TreeId::Meta, key.into(), Some(value.into()))].iter())
        };
        match tables.get(TreeId::Meta, keys::META_FORMAT_VERSION)? {
            Some(v) if v.as_ref() == [STORE_FORMAT_VERSION] => {}
            // Format 2 is format 3 without values in pieces, format 3 format 4 without
            // events that name their match (event_log.rs), format 4 format 5 without a
            // match watermark (staging.rs), format 7 format 8 without log entries of
            // several events (event_log.rs): this build reads them all. Format 5 keyed
            // idempotency entries by the request id's characters and indexed them by
            // time, format 6 kept the indexes by state in tables, format 8 and earlier
            // kept one key per idempotency entry, format 9 and earlier kept the matches
            // by need and by offer in tables: migrated (the first landings of this open).
            Some(v) if (2..=9).contains(&v.as_ref().first().copied().unwrap_or(0)) && v.len() == 1 => {
                if v.as_ref()[0] <= 5 {
                    migrate_idempotency(&tables)?;
                }
                if v.as_ref()[0] <= 6 {
                    drop_index_tables(&tables, [TreeId::NeedsByRequester, TreeId::OffersByProvider], 7)?;
                }
                drop_index_tables(&tables, [TreeId::MatchesByNeed, TreeId::MatchesByOffer], 10)?;
                let packed = super::idempotency::pack_stored_entries(&tables, MIGRATION_BATCH)?;
                if packed > 0 {
                    tracing::info!(entries = packed, "idempotency entries packed (store format 9)");
                }
                meta_put(keys::META_FORMAT_VERSION, &[STORE_FORMAT_VERSION])?
            }
            Some(v) => return Err(StoreError::UnknownFormat(v.first().copied().unwrap_or(0))),
            None => meta_put(keys::META_FORMAT_VERSION, &[STORE_FORMAT_VERSION])?,
        }
        let page_token_key = match tables.get(TreeId::Meta, keys::META_PAGE_TOKEN_KEY)? {
            Some(k) if k.len() == 32 => {
                let mut key = [0u8; 32];
                key.copy_from_slice(&k);
                key
            }
            _ => {
                let key: [u8; 32] = rand::random();
                meta_put(keys::META_PAGE_TOKEN_KEY, &key)?;
                key
            }
        };
        let request_ids = Arc::new(super::idempotency::RequestIds::load(&tables)?);
        db.flush()?;
        let mut next_id = [1u64; Kind::ALL.len()];
        for (kind, table) in [
            (Kind::Need, TreeId::Needs),
            (Kind::Offer, TreeId::Offers),
            (Kind::Centre, TreeId::Centres),
            (Kind::Principal, TreeId::Principals),
            (Kind::Match, TreeId::Matches),
            (Kind::Arrangement, TreeId::Arrangements),
        ] {
            next_id[kind as usize] = tables.last_number(table)? + 1;
        }
        let last_event = super::event_log::last_landed(&tables)?;
        let match_watermark = match tables.get(TreeId::Meta, keys::META_MATCH_WATERMARK)? {
            Some(v) => staging::watermark_from(&v)?,
            // A store of an earlier format, or new: every match it holds is visible.
            None => {
                let watermark = next_id[Kind::Match as usize];
                meta_put(keys::META_MATCH_WATERMARK, &watermark.to_be_bytes())?;
                db.flush()?;
                watermark
            }
        };
        let failure = Arc::new(Failure::new());
        let indexes = super::memory_indexes::MemoryIndexes::start(tables.clone(), match_watermark, failure.clone());
        let pending =
            Arc::new(Pending::new(tables.clone(), request_ids.clone(), config.faults.clone(), failure.clone()));
        let syncer = Syncer::open(db.clone(), path, pending.clone(), failure.clone(), config)?;
        let flusher = Flusher::start(syncer, config.durability, last_event)?;
        let store = Store {
            inner: Arc::new(Inner {
                tables,
                failure,
                pending,
                durability: config.durability,
                writer: Mutex::new(WriterState { next_event: last_event + 1, next_id, commits: 0 }),
                turn: tokio::sync::Semaphore::new(1),
                flusher,
                page_token_key,
                retention_micros: i64::try_from(config.request_id_retention.as_micros()).unwrap_or(i64::MAX),
                request_ids,
                indexes,
                recent: RwLock::new(VecDeque::with_capacity(RECENT_EVENTS)),
                followers: RwLock::new(Vec::new()),
                match_watermark: match_watermark.into(),
            }),
        };
        // What a proposal staged but never made visible (a crash, or a proposal that
        // failed) is removed; the ids it took stay taken.
        store.drop_hidden_matches()?;
        Ok(store)
    }
}

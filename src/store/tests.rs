use super::*;

fn config() -> StoreConfig {
    StoreConfig::durable(8 << 20)
}

fn centre(id: Id, name: &str) -> TrainingCentre {
    TrainingCentre {
        meta: Meta::new(id, 1_000),
        spec: CentreSpec {
            name: name.into(),
            host_state: "KEN".parse().unwrap_or_else(|e: String| panic!("{e}")),
            languages: vec!["en".parse().unwrap_or_else(|e: String| panic!("{e}"))],
            capabilities: vec![CapabilityArea::Engineering],
            un_recognized: true,
        },
    }
}

fn commit_centre(store: &Store, name: &str) -> (Ticket, Id) {
    let mut w = store.writer().unwrap_or_else(|e| panic!("{e}"));
    let id = w.allocate_id(Kind::Centre);
    let c = centre(id, name);
    let mut ws = WriteSet::default();
    ws.put_record(&c);
    ws.event(EventKind::CentreRegistered, 1_000, "principal-1", EventResource::Centre(c));
    let (ticket, events) = w.commit(ws).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(events.len(), 1);
    (ticket, id)
}

#[tokio::test]
async fn committed_records_and_events_survive_reopen_with_gapless_sequences() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    {
        let store = Store::open(dir.path(), &config()).unwrap_or_else(|e| panic!("{e}"));
        for i in 0..5 {
            let (ticket, _) = commit_centre(&store, &format!("c{i}"));
            store.durable(ticket).await.unwrap_or_else(|e| panic!("{e}"));
        }
        assert_eq!(store.durable_sequence(), 5);
    }
    let store = Store::open(dir.path(), &config()).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<String> =
        store.scan::<TrainingCentre>(None).map(|c| c.unwrap_or_else(|e| panic!("{e}")).spec.name).collect();
    assert_eq!(names, ["c0", "c1", "c2", "c3", "c4"]);
    let events = store.events_after(0, 100).unwrap_or_else(|e| panic!("{e}"));
    let seqs: Vec<u64> = events.iter().map(|e| e.sequence).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
    // New ids and sequences continue after the old ones.
    let (ticket, id) = commit_centre(&store, "c5");
    store.durable(ticket).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(id, Id(6));
    assert_eq!(store.events_after(5, 10).unwrap_or_else(|e| panic!("{e}")).len(), 1);
}

#[tokio::test]
async fn concurrent_writers_share_flushes() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = Store::open(dir.path(), &config()).unwrap_or_else(|e| panic!("{e}"));
    let mut tasks = Vec::new();
    for i in 0..64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let (ticket, _) = commit_centre(&store, &format!("c{i}"));
            store.durable(ticket).await
        }));
    }
    for t in tasks {
        t.await.unwrap_or_else(|e| panic!("{e}")).unwrap_or_else(|e| panic!("{e}"));
    }
    assert_eq!(store.durable_sequence(), 64);
    assert_eq!(store.scan::<TrainingCentre>(None).count(), 64);
}

#[test]
fn values_carry_their_format_version() {
    let c = centre(Id(1), "x");
    let bytes = encode(TreeId::Centres, &c).unwrap();
    assert_eq!(bytes[0], FORMAT_VERSION);
    let back: TrainingCentre = decode(TreeId::Centres, &bytes).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back, c);
    let mut future = bytes.clone();
    future[0] = 99;
    assert!(matches!(decode::<TrainingCentre>(TreeId::Centres, &future), Err(StoreError::UnknownFormat(99))));
    assert!(decode::<TrainingCentre>(TreeId::Centres, &[]).is_err());
}

#[test]
fn scan_starts_after_the_cursor() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = Store::open(dir.path(), &config()).unwrap_or_else(|e| panic!("{e}"));
    for i in 0..4 {
        let _ = commit_centre(&store, &format!("c{i}"));
    }
    let after_two: Vec<Id> =
        store.scan::<TrainingCentre>(Some(Id(2))).map(|c| c.unwrap_or_else(|e| panic!("{e}")).meta.id).collect();
    assert_eq!(after_two, [Id(3), Id(4)]);
    assert_eq!(store.scan::<TrainingCentre>(Some(Id(u64::MAX))).count(), 0);
}

#[tokio::test]
async fn recent_events_in_memory_agree_with_the_log_across_reopen_and_wraparound() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let total = 40u64;
    {
        let store = Store::open(dir.path(), &config()).unwrap_or_else(|e| panic!("{e}"));
        for i in 0..total / 2 {
            let (ticket, _) = commit_centre(&store, &format!("c{i}"));
            store.durable(ticket).await.unwrap_or_else(|e| panic!("{e}"));
        }
    }
    // After reopen the memory holds nothing old: reads of old events come from the log,
    // reads of new ones from memory, and both together are gapless.
    let store = Store::open(dir.path(), &config()).unwrap_or_else(|e| panic!("{e}"));
    for i in total / 2..total {
        let (ticket, _) = commit_centre(&store, &format!("c{i}"));
        store.durable(ticket).await.unwrap_or_else(|e| panic!("{e}"));
    }
    for after in 0..=total {
        for limit in [1, 3, 100] {
            let got: Vec<u64> =
                store.events_after(after, limit).unwrap_or_else(|e| panic!("{e}")).iter().map(|e| e.sequence).collect();
            let want: Vec<u64> = (after + 1..=total).take(limit).collect();
            assert_eq!(got, want, "after {after}, limit {limit}");
        }
    }
    // Memory and log hold the same events.
    let from_memory = store.events_after(total / 2, 100).unwrap_or_else(|e| panic!("{e}"));
    let from_log: Vec<Event> = store
        .entries(TreeId::Events)
        .unwrap_or_else(|e| panic!("{e}"))
        .iter()
        .flat_map(|(_, v)| store.read_logged(v).unwrap_or_else(|e| panic!("{e}")))
        .skip((total / 2) as usize)
        .collect();
    assert_eq!(from_memory.iter().map(|e| (**e).clone()).collect::<Vec<_>>(), from_log);
    // Past its capacity the memory drops the oldest events; reads still come out whole.
    let mut last = None;
    for _ in 0..RECENT_EVENTS {
        let w = store.writer().unwrap_or_else(|e| panic!("{e}"));
        let mut ws = WriteSet::default();
        ws.event(EventKind::CentreRegistered, 1_000, "principal-1", EventResource::Centre(centre(Id(1), "x")));
        last = Some(w.commit(ws).unwrap_or_else(|e| panic!("{e}")).0);
    }
    store.durable(last.unwrap_or_else(|| panic!("no commit"))).await.unwrap_or_else(|e| panic!("{e}"));
    let head = total + RECENT_EVENTS as u64;
    for after in [0, total, total + 1, head - RECENT_EVENTS as u64, head - 2] {
        let got: Vec<u64> =
            store.events_after(after, 5).unwrap_or_else(|e| panic!("{e}")).iter().map(|e| e.sequence).collect();
        assert_eq!(got, (after + 1..=head).take(5).collect::<Vec<_>>(), "after {after}");
    }
    // One commit of more events than the memory holds keeps its last ones, in order.
    let w = store.writer().unwrap_or_else(|e| panic!("{e}"));
    let mut ws = WriteSet::default();
    let more = RECENT_EVENTS as u64 + 3;
    for i in 0..more {
        ws.event(
            EventKind::CentreRegistered,
            1_000,
            "principal-1",
            EventResource::Centre(centre(Id(1), &i.to_string())),
        );
    }
    let (ticket, _) = w.commit(ws).unwrap_or_else(|e| panic!("{e}"));
    store.durable(ticket).await.unwrap_or_else(|e| panic!("{e}"));
    let end = head + more;
    for after in [head, head + 2, head + 3, head + 4, end - 3] {
        let got = store.events_after(after, 5).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(got.iter().map(|e| e.sequence).collect::<Vec<_>>(), (after + 1..=end).take(5).collect::<Vec<_>>());
        let names: Vec<String> = got
            .iter()
            .map(|e| match &e.resource {
                EventResource::Centre(c) => c.spec.name.clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(names, (after - head..more).take(5).map(|i| i.to_string()).collect::<Vec<_>>());
    }
}

/// A landing's events share log entries of at most [`tables::PIECE`] bytes (an event
/// longer than that has one of its own), and every read of the log, from any position and
/// after a reopen, returns each event once, in order.
#[tokio::test]
async fn a_landing_logs_its_events_in_shared_entries_and_reads_each_back() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let total = 40u64;
    let name = |i: u64| if i == 20 { "x".repeat(3 * tables::PIECE) } else { format!("centre {i}") };
    let seqs = |events: &[Arc<Event>]| events.iter().map(|e| e.sequence).collect::<Vec<_>>();
    let check = |store: &Store| {
        for after in 0..=total {
            for limit in [1, 7, 100] {
                let got = store.events_after(after, limit).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(seqs(&got), (after + 1..=total).take(limit).collect::<Vec<_>>(), "after {after}, {limit}");
            }
        }
        let names: Vec<String> = store
            .events_after(0, 100)
            .unwrap_or_else(|e| panic!("{e}"))
            .iter()
            .map(|e| match &e.resource {
                EventResource::Centre(c) => c.spec.name.clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(names, (0..total).map(name).collect::<Vec<_>>());
    };
    {
        let store = Store::open(dir.path(), &config()).unwrap_or_else(|e| panic!("{e}"));
        let mut w = store.writer().unwrap_or_else(|e| panic!("{e}"));
        let mut ws = WriteSet::default();
        for i in 0..total {
            let c = centre(w.allocate_id(Kind::Centre), &name(i));
            ws.put_record(&c);
            ws.event(EventKind::CentreRegistered, 1_000, "principal-1", EventResource::Centre(c));
        }
        let (ticket, _) = w.commit(ws).unwrap_or_else(|e| panic!("{e}"));
        store.durable(ticket).await.unwrap_or_else(|e| panic!("{e}"));
        let entries = store.entries(TreeId::Events).unwrap_or_else(|e| panic!("{e}"));
        assert!(entries.len() >= 3 && entries.len() < 10, "{} entries for {total} events", entries.len());
        let long: Vec<_> = entries.iter().filter(|(_, v)| v.len() > tables::PIECE).collect();
        assert_eq!(long.len(), 1, "only the long event is stored in pieces");
        assert_eq!((long[0].0.as_slice(), long[0].1[0]), (&keys::sequence_key(21)[..], FORMAT_VERSION));
        let logged: Vec<u64> = entries
            .iter()
            .flat_map(|(_, v)| store.read_logged(v).unwrap_or_else(|e| panic!("{e}")))
            .map(|e| e.sequence)
            .collect();
        assert_eq!(logged, (1..=total).collect::<Vec<_>>());
        check(&store);
    }
    let store = Store::open(dir.path(), &config()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(store.durable_sequence(), total);
    check(&store);
    let (ticket, _) = commit_centre(&store, "next");
    store.durable(ticket).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(seqs(&store.events_after(total, 10).unwrap_or_else(|e| panic!("{e}"))), [total + 1]);
    // A pack cut short is refused as corrupt, not read in part.
    let cut = [0xE2, 0, 0, 0, 9, 1, 2];
    assert!(matches!(store.read_logged(&cut), Err(StoreError::Corrupt { .. })));
}

/// A format-7 store (one event per log entry) is read as it is and marked 8; events packed
/// after the open follow its entries in one log.
#[tokio::test]
async fn a_format_7_store_keeps_its_log_entries_and_later_events_share_entries() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    {
        let store = Store::open(dir.path(), &config()).unwrap_or_else(|e| panic!("{e}"));
        for i in 0..3 {
            let (ticket, _) = commit_centre(&store, &format!("old {i}"));
            store.durable(ticket).await.unwrap_or_else(|e| panic!("{e}"));
        }
        let w = store.writer().unwrap_or_else(|e| panic!("{e}"));
        let mut ws = WriteSet::default();
        ws.put_raw(TreeId::Meta, keys::META_FORMAT_VERSION.to_vec(), vec![7]);
        let (ticket, _) = w.commit(ws).unwrap_or_else(|e| panic!("{e}"));
        store.durable(ticket).await.unwrap_or_else(|e| panic!("{e}"));
    }
    let store = Store::open(dir.path(), &config()).unwrap_or_else(|e| panic!("{e}"));
    let format = store.entries(TreeId::Meta).unwrap_or_else(|e| panic!("{e}"));
    let format = format.iter().find(|(k, _)| k == keys::META_FORMAT_VERSION).map(|(_, v)| v.clone());
    assert_eq!(format, Some(vec![STORE_FORMAT_VERSION]));
    let mut w = store.writer().unwrap_or_else(|e| panic!("{e}"));
    let mut ws = WriteSet::default();
    for i in 0..3 {
        let c = centre(w.allocate_id(Kind::Centre), &format!("new {i}"));
        ws.put_record(&c);
        ws.event(EventKind::CentreRegistered, 1_000, "principal-1", EventResource::Centre(c));
    }
    let (ticket, _) = w.commit(ws).unwrap_or_else(|e| panic!("{e}"));
    store.durable(ticket).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(store.entries(TreeId::Events).unwrap_or_else(|e| panic!("{e}")).len(), 4, "3 old entries, 1 shared");
    for after in 0..6 {
        let got = store.events_after(after, 2).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(got.iter().map(|e| e.sequence).collect::<Vec<_>>(), (after + 1..=6).take(2).collect::<Vec<_>>());
    }
}

/// Copies the files of the store at `from` (open or not) to `to`, as a crash leaves them.
fn copy_store(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("{e}"));
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{e}")) {
        let entry = entry.unwrap_or_else(|e| panic!("{e}"));
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_store(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

/// The operations of test commit `i`: keys in several tables, three of them large (so the
/// landing is many log messages: their values are stored in pieces), every value naming
/// the commit.
fn cut_commit_ops(i: u64) -> Vec<tables::Op> {
    let big = |t: u8| sled::IVec::from(vec![(i as u8) ^ t; 70 << 10]);
    vec![
        (TreeId::Needs, keys::id_key(Id(i)).to_vec().into(), Some(big(1))),
        (TreeId::Events, keys::sequence_key(i).to_vec().into(), Some(big(2))),
        (TreeId::Idempotency, keys::idempotency_key("p", &uuid::Uuid::from_u128(i.into())).into(), Some(big(3))),
        (TreeId::RecipientSeats, keys::id_key(Id(i)).to_vec().into(), Some(vec![i as u8; 4].into())),
        (TreeId::Meta, format!("k{i}").into_bytes().into(), Some(vec![i as u8].into())),
    ]
}

/// Lands three commits at once (through `land`), copies the store's files, then truncates
/// the copy's log at many offsets between the landing's first and last byte, reopens each
/// and returns, per cut, how many of each commit's operations survived.
fn cut_landing(land: impl FnOnce(&sled::Tree, &Pending)) -> Vec<Vec<usize>> {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let live = dir.path().join("live");
    let (db, tree) = open_sled(&live, 8 << 20, None).unwrap_or_else(|e| panic!("{e}"));
    tree.insert(keys::table_key(TreeId::Meta, b"before"), b"x".as_slice()).unwrap_or_else(|e| panic!("{e}"));
    db.flush().unwrap_or_else(|e| panic!("{e}"));
    let log_len = |p: &std::path::Path| std::fs::metadata(p.join("db")).map(|m| m.len()).unwrap_or(0);
    let before = log_len(&live);
    let tables = Tables::open(tree.clone()).unwrap_or_else(|e| panic!("{e}"));
    let request_ids = Arc::new(idempotency::RequestIds::load(&tables).unwrap_or_else(|e| panic!("{e}")));
    let pending = Pending::new(tables, request_ids, LandingFaults::default(), Arc::new(Failure::new()));
    for i in 1..=3 {
        // The event goes the way a commit's events go: packed by the landing (alone in its
        // entry, being long).
        let (events, ops): (Vec<_>, Vec<_>) = cut_commit_ops(i).into_iter().partition(|(t, _, _)| *t == TreeId::Events);
        let events = events.into_iter().filter_map(|(_, _, v)| Some((i, v?))).collect();
        pending.add(i, ops, events, Vec::new()).unwrap_or_else(|e| panic!("{e}"));
    }
    land(&tree, &pending);
    db.flush().unwrap_or_else(|e| panic!("{e}"));
    let whole = dir.path().join("whole");
    copy_store(&live, &whole);
    let after = log_len(&whole);
    assert!(after > before + (200 << 10), "the landing wrote {} bytes", after - before);
    let step = ((after - before) / 160).max(1);
    let mut cuts: Vec<u64> = (before..after).step_by(step as usize).collect();
    cuts.extend([before + 1, after - 1, after]);
    let mut seen = Vec::new();
    for (n, cut) in cuts.into_iter().enumerate() {
        let copy = dir.path().join(format!("cut{n}"));
        copy_store(&whole, &copy);
        let f = std::fs::OpenOptions::new().write(true).open(copy.join("db")).unwrap_or_else(|e| panic!("{e}"));
        f.set_len(cut).unwrap_or_else(|e| panic!("{e}"));
        drop(f);
        let (_db, tree) = open_sled(&copy, 8 << 20, None).unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        let tree = Tables::open(tree).unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        assert!(tree.get(TreeId::Meta, b"before").ok().flatten().is_some(), "cut at {cut}");
        let counts = (1..=3)
            .map(|i| {
                cut_commit_ops(i)
                    .iter()
                    .filter(|(t, k, v)| tree.get(*t, k).ok().flatten().as_ref() == v.as_ref())
                    .count()
            })
            .collect();
        seen.push(counts);
        drop(tree);
        let _ = std::fs::remove_dir_all(&copy);
    }
    seen
}

/// A landing cut at any offset of sled's log (what a crash at any instant can leave)
/// recovers each of its commits — here the whole landing — entirely or not at all.
#[test]
fn a_landing_cut_anywhere_recovers_whole_or_not_at_all() {
    let seen = cut_landing(|_, pending| {
        pending.land().unwrap_or_else(|e| panic!("{e}"));
    });
    let ops = cut_commit_ops(1).len();
    for counts in &seen {
        assert!(counts.iter().all(|c| *c == 0) || counts.iter().all(|c| *c == ops), "torn landing: {counts:?}");
    }
    assert!(seen.iter().any(|c| c[0] == 0) && seen.iter().any(|c| c[0] == ops), "the cuts fall before and after it");
}

/// Control: the same commits written as separate inserts (as the old journal's chunks
/// and its replayed operations were) are torn by some cut, so the test above can see a
/// torn landing.
#[test]
fn separate_inserts_cut_somewhere_are_torn() {
    let seen = cut_landing(|tree, _| {
        for i in 1..=3 {
            for (t, k, v) in cut_commit_ops(i) {
                if let Some(v) = v {
                    tree.insert(keys::table_key(t, &k), v).unwrap_or_else(|e| panic!("{e}"));
                }
            }
        }
    });
    let ops = cut_commit_ops(1).len();
    assert!(seen.iter().any(|counts| counts.iter().any(|c| *c != 0 && *c != ops)), "no cut tore a commit: {seen:?}");
}

fn entry(time: UnixMicros) -> IdempotencyEntry {
    IdempotencyEntry { method: "CreateNeed".into(), fingerprint: [7; 32], response: vec![1, 2, 3], time }
}

/// An entry whose response is `len` bytes long.
fn long_entry(time: UnixMicros, len: usize) -> IdempotencyEntry {
    IdempotencyEntry { response: vec![5; len], ..entry(time) }
}

fn commit_nothing(store: &Store) {
    let w = store.writer().unwrap_or_else(|e| panic!("{e}"));
    let _ = w.commit(WriteSet::default()).unwrap_or_else(|e| panic!("{e}"));
}

const HOUR_MICROS: i64 = 3_600_000_000;

/// Test request id `n`.
fn rid(n: u128) -> uuid::Uuid {
    uuid::Uuid::from_u128(n)
}

/// The idempotency entries the store counts in memory (the metrics gauge), checked
/// against a count of the table itself.
fn idempotency_entries(store: &Store) -> usize {
    let counted = store.idempotency_entries();
    assert_eq!(
        counted,
        store.idempotency_entries_stored().unwrap_or_else(|e| panic!("{e}")),
        "the count kept in memory"
    );
    counted
}

#[tokio::test]
async fn each_commit_prunes_at_most_k_expired_idempotency_entries_and_never_a_young_one() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let config = StoreConfig { request_id_retention: std::time::Duration::from_secs(3600), ..config() };
    let store = Store::open(dir.path(), &config).unwrap_or_else(|e| panic!("{e}"));
    let now = now_micros();
    let young = rid(1 << 64);
    let mut ws = WriteSet::default();
    // Each long enough to be a pack of its own: pruning removes packs.
    for i in 0..200 {
        ws.idempotency("p", &rid(i), &long_entry(now - 2 * HOUR_MICROS + i as i64, 1500));
    }
    // Young: 59 minutes old, inside the retention.
    ws.idempotency("p", &young, &long_entry(now - HOUR_MICROS + 60_000_000, 1500));
    let w = store.writer().unwrap_or_else(|e| panic!("{e}"));
    let (ticket, _) = w.commit(ws).unwrap_or_else(|e| panic!("{e}"));
    store.durable(ticket).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(idempotency_entries(&store), 201);
    let mut counts = Vec::new();
    for _ in 0..5 {
        commit_nothing(&store);
        counts.push(idempotency_entries(&store));
    }
    assert_eq!(counts, [201 - 64, 201 - 128, 201 - 192, 1, 1], "at most {PRUNE_PER_COMMIT} per commit, oldest first");
    assert!(store.idempotency("p", &young).unwrap_or_else(|e| panic!("{e}")).is_some());
    assert!(store.idempotency("p", &rid(199)).unwrap_or_else(|e| panic!("{e}")).is_none());
    store.flush().unwrap_or_else(|e| panic!("{e}"));
    drop(store);
    // What was pruned stays pruned on disk.
    let store = Store::open(dir.path(), &config).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(idempotency_entries(&store), 1);
}

/// The packs of `store`, each with its number of entries.
fn idempotency_packs(store: &Store) -> Vec<usize> {
    let packs = store.entries(TreeId::IdempotencyPacks).unwrap_or_else(|e| panic!("{e}"));
    packs.iter().map(|(_, v)| idempotency::tests::entries_of(v)).collect()
}

/// A landing packs its commits' idempotency entries (store format 9): a hundred entries
/// in a handful of keys, none in the table of single entries, a long one alone in its
/// pack; every one is found before it lands, after, and after a reopen.
#[tokio::test]
async fn a_landing_packs_its_idempotency_entries_and_each_is_found() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let found = |store: &Store, i: u128| store.idempotency("p", &rid(i)).unwrap_or_else(|e| panic!("{e}"));
    let long = 100;
    {
        let store = Store::open(dir.path(), &config()).unwrap_or_else(|e| panic!("{e}"));
        let mut tickets = Vec::new();
        for commit in 0..4u128 {
            let mut ws = WriteSet::default();
            for i in commit * 25..commit * 25 + 25 {
                ws.idempotency("p", &rid(i), &entry(now_micros() + i as i64));
            }
            if commit == 3 {
                ws.idempotency("p", &rid(long), &long_entry(now_micros(), 3 * tables::PIECE));
            }
            let (ticket, _) = store.writer().and_then(|w| w.commit(ws)).unwrap_or_else(|e| panic!("{e}"));
            tickets.push(ticket);
        }
        // Committed, maybe not landed: found in the overlay.
        assert!((0..=long).all(|i| found(&store, i).is_some()));
        for t in tickets {
            store.durable(t).await.unwrap_or_else(|e| panic!("{e}"));
        }
        assert_eq!(found(&store, long).map(|e| e.response.len()), Some(3 * tables::PIECE));
        assert!((0..=long).all(|i| found(&store, i).is_some()), "found in their packs");
        assert!(found(&store, long + 1).is_none(), "never stored");
        assert!(store.entries(TreeId::Idempotency).unwrap_or_else(|e| panic!("{e}")).is_empty(), "no single entries");
        let packs = idempotency_packs(&store);
        assert_eq!(packs.iter().sum::<usize>(), 101, "{packs:?}");
        assert!(packs.len() <= 8, "101 entries in {} packs: {packs:?}", packs.len());
        assert_eq!(packs.iter().filter(|&&n| n == 1).count(), 1, "the long entry alone: {packs:?}");
        assert_eq!(idempotency_entries(&store), 101);
        store.flush().unwrap_or_else(|e| panic!("{e}"));
    }
    let store = Store::open(dir.path(), &config()).unwrap_or_else(|e| panic!("{e}"));
    assert!((0..=long).all(|i| found(&store, i).is_some()), "after a reopen");
    assert_eq!(found(&store, long).map(|e| e.response.len()), Some(3 * tables::PIECE));
    assert_eq!(idempotency_entries(&store), 101);
}

/// A store of format 8 kept one key per idempotency entry: opened, it is format 9, its
/// entries are in packs, oldest first, each found by its request id, and an expired one is
/// still pruned. More entries than one batch of the packing make it land while it reads.
#[tokio::test]
async fn idempotency_entries_of_a_format_8_store_are_packed_at_open_and_still_pruned() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let config = StoreConfig { request_id_retention: std::time::Duration::from_secs(3600), ..config() };
    let (old, new) = (rid(0xa1), rid(0xb2));
    let many = 5000;
    {
        let store = Store::open(dir.path(), &config).unwrap_or_else(|e| panic!("{e}"));
        // As a format-8 build wrote them: one key each in the idempotency table.
        let mut ws = WriteSet::default();
        let stored = (0..many).map(|i| (rid(0x10_0000 + i), now_micros()));
        for (id, time) in [(old, now_micros() - 2 * HOUR_MICROS), (new, now_micros())].into_iter().chain(stored) {
            ws.put_raw(
                TreeId::Idempotency,
                keys::idempotency_key("p", &id),
                encode(TreeId::Idempotency, &entry(time)).unwrap(),
            );
        }
        ws.put_raw(TreeId::Meta, keys::META_FORMAT_VERSION.to_vec(), vec![8]);
        let (ticket, _) = store.writer().and_then(|w| w.commit(ws)).unwrap_or_else(|e| panic!("{e}"));
        store.durable(ticket).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(store.idempotency("p", &new).unwrap_or_else(|e| panic!("{e}")).is_none(), "not found before");
        assert_eq!(store.entries(TreeId::Idempotency).unwrap_or_else(|e| panic!("{e}")).len(), many as usize + 2);
    }
    let store = Store::open(dir.path(), &config).unwrap_or_else(|e| panic!("{e}"));
    let meta =
        |key: &[u8]| store.entries(TreeId::Meta).unwrap_or_else(|e| panic!("{e}")).into_iter().find(|(k, _)| k == key);
    assert_eq!(meta(keys::META_FORMAT_VERSION).map(|(_, v)| v), Some(vec![STORE_FORMAT_VERSION]));
    assert!(store.entries(TreeId::Idempotency).unwrap_or_else(|e| panic!("{e}")).is_empty());
    let packs = idempotency_packs(&store);
    assert_eq!(packs.iter().sum::<usize>(), many as usize + 2);
    assert!(packs.len() < many as usize / 10, "{} packs", packs.len());
    assert_eq!(
        packs[0],
        1,
        "the oldest entry first, in a pack of its own (2 h older than the next): {:?}",
        &packs[..3]
    );
    assert_eq!(idempotency_entries(&store), many as usize + 2);
    let found = (0..many).filter(|i| store.idempotency("p", &rid(0x10_0000 + i)).ok().flatten().is_some()).count();
    assert_eq!(found, many as usize);
    assert!(store.idempotency("p", &old).unwrap_or_else(|e| panic!("{e}")).is_some(), "found after the open");
    commit_nothing(&store);
    assert!(store.idempotency("p", &old).unwrap_or_else(|e| panic!("{e}")).is_none(), "expired, pruned");
    assert!(store.idempotency("p", &new).unwrap_or_else(|e| panic!("{e}")).is_some());
    assert_eq!(idempotency_entries(&store), many as usize + 1);
}

/// A store of format 5 keyed its idempotency entries by the request id's characters and
/// indexed them by time: opened, it is format 6, every entry is found by its request id,
/// the index is gone, and an expired entry is still pruned. One entry already has its
/// current key, as a crash between the migration's batches leaves it; more entries than
/// one batch of the migration holds make it land while it reads.
#[tokio::test]
async fn idempotency_entries_of_a_format_5_store_are_rekeyed_at_open_and_still_pruned() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let config = StoreConfig { request_id_retention: std::time::Duration::from_secs(3600), ..config() };
    let (old, new, migrated) = (rid(0xa1), rid(0xb2), rid(0xc3));
    {
        let store = Store::open(dir.path(), &config).unwrap_or_else(|e| panic!("{e}"));
        // As a format-5 build wrote them: keys with the request id's characters, an index
        // entry by time for each, its marker.
        let mut ws = WriteSet::default();
        let many = (0..5000).map(|i| (rid(0x10_0000 + i), now_micros()));
        for (id, time) in [(old, now_micros() - 2 * HOUR_MICROS), (new, now_micros())].into_iter().chain(many) {
            let key = [b"p\0".as_slice(), id.hyphenated().to_string().as_bytes()].concat();
            ws.put_raw(TreeId::IdempotencyByTime, [&time.to_be_bytes()[..], &key].concat(), Vec::new());
            ws.put_raw(TreeId::Idempotency, key, encode(TreeId::Idempotency, &entry(time)).unwrap());
        }
        ws.put_raw(
            TreeId::Idempotency,
            keys::idempotency_key("p", &migrated),
            encode(TreeId::Idempotency, &entry(now_micros())).unwrap(),
        );
        // Dropped: no server accepted a request id that is not a UUID.
        ws.put_raw(TreeId::Idempotency, b"p\0not-a-uuid".to_vec(), encode(TreeId::Idempotency, &entry(0)).unwrap());
        ws.put_raw(TreeId::Meta, keys::META_IDEMPOTENCY_INDEXED.to_vec(), vec![1]);
        ws.put_raw(TreeId::Meta, keys::META_FORMAT_VERSION.to_vec(), vec![5]);
        let (ticket, _) = store.writer().and_then(|w| w.commit(ws)).unwrap_or_else(|e| panic!("{e}"));
        store.durable(ticket).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(store.idempotency("p", &new).unwrap_or_else(|e| panic!("{e}")).is_none(), "not found before");
    }
    let store = Store::open(dir.path(), &config).unwrap_or_else(|e| panic!("{e}"));
    let meta =
        |key: &[u8]| store.entries(TreeId::Meta).unwrap_or_else(|e| panic!("{e}")).into_iter().find(|(k, _)| k == key);
    assert_eq!(meta(keys::META_FORMAT_VERSION).map(|(_, v)| v), Some(vec![STORE_FORMAT_VERSION]));
    assert!(meta(keys::META_IDEMPOTENCY_INDEXED).is_none());
    assert!(store.entries(TreeId::IdempotencyByTime).unwrap_or_else(|e| panic!("{e}")).is_empty());
    assert_eq!(idempotency_entries(&store), 5003);
    let found = (0..5000).filter(|i| store.idempotency("p", &rid(0x10_0000 + i)).ok().flatten().is_some()).count();
    assert_eq!(found, 5000);
    assert!(store.idempotency("p", &migrated).unwrap_or_else(|e| panic!("{e}")).is_some());
    assert!(store.idempotency("p", &old).unwrap_or_else(|e| panic!("{e}")).is_some(), "found after the open");
    commit_nothing(&store);
    assert!(store.idempotency("p", &old).unwrap_or_else(|e| panic!("{e}")).is_none(), "expired, pruned");
    assert!(store.idempotency("p", &new).unwrap_or_else(|e| panic!("{e}")).is_some());
}

/// A request id's lookup reads sled only if the hash of its key is known
/// (`KnownRequestIds`), and pruning follows the ages kept in memory (`RequestIdAges`):
/// every stored id must stay known, before and after a reopen, a pruned one must be gone,
/// and one that expires after the reopen must still be pruned.
#[tokio::test]
async fn every_stored_request_id_is_found_before_and_after_a_reopen_and_a_pruned_one_is_not() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let config = StoreConfig { request_id_retention: std::time::Duration::from_secs(3600), ..config() };
    let found = |store: &Store, i: u128| store.idempotency("p", &rid(i)).unwrap_or_else(|e| panic!("{e}")).is_some();
    // Written so that they expire a few seconds after the reopen.
    let soon = 290..300;
    {
        let store = Store::open(dir.path(), &config).unwrap_or_else(|e| panic!("{e}"));
        for i in 0..300 {
            let mut ws = WriteSet::default();
            let time = match i {
                0..10 => now_micros() - 2 * HOUR_MICROS,
                i if soon.contains(&i) => now_micros() - HOUR_MICROS + 2_000_000,
                _ => now_micros(),
            };
            ws.idempotency("p", &rid(i), &entry(time));
            let (ticket, _) = store.writer().and_then(|w| w.commit(ws)).unwrap_or_else(|e| panic!("{e}"));
            store.durable(ticket).await.unwrap_or_else(|e| panic!("{e}"));
        }
        // The commits after the tenth pruned the ten expired ones.
        assert_eq!((0..10).filter(|&i| found(&store, i)).count(), 0);
        assert_eq!((10..300).filter(|&i| found(&store, i)).count(), 290);
        assert!(!found(&store, 1 << 100), "never used");
        store.flush().unwrap_or_else(|e| panic!("{e}"));
    }
    let store = Store::open(dir.path(), &config).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((10..300).filter(|&i| found(&store, i)).count(), 290, "after a reopen");
    assert_eq!((0..10).filter(|&i| found(&store, i)).count(), 0);
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    commit_nothing(&store);
    assert_eq!(soon.filter(|&i| found(&store, i)).count(), 0, "expired after the reopen, pruned");
    assert_eq!((10..290).filter(|&i| found(&store, i)).count(), 280);
}

#[tokio::test]
async fn a_store_held_open_is_refused_as_in_use() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let _held = Store::open(dir.path(), &config()).unwrap_or_else(|e| panic!("{e}"));
    match Store::open(dir.path(), &config()) {
        Err(StoreError::Locked(path)) => assert_eq!(path, dir.path().display().to_string()),
        Err(e) => panic!("expected Locked, got {e}"),
        Ok(_) => panic!("a second open of a held store succeeded"),
    }
}

/// The snapshot files (`snap.*`) in a store directory, by name.
fn snapshot_files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{e}"))
        .map(|e| e.unwrap_or_else(|e| panic!("{e}")).file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("snap."))
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_snapshot_that_sled_left_unfinished_does_not_stop_the_store_opening() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let id = {
        let store = Store::open(dir.path(), &config()).unwrap_or_else(|e| panic!("{e}"));
        let (ticket, id) = commit_centre(&store, "kept");
        store.durable(ticket).await.unwrap_or_else(|e| panic!("{e}"));
        id
    };
    // A second open recovers the log and writes a finished snapshot.
    drop(Store::open(dir.path(), &config()).unwrap_or_else(|e| panic!("{e}")));
    let finished = snapshot_files(dir.path());
    assert!(!finished.is_empty(), "sled wrote no snapshot");
    // What a crash leaves between sled's creation of its next snapshot file and that
    // file's rename: an empty `.generating` file, after every finished snapshot by name.
    let unfinished = format!("{}.generating", finished[finished.len() - 1]);
    std::fs::write(dir.path().join(&unfinished), b"").unwrap_or_else(|e| panic!("{e}"));
    // sled alone no longer opens the store. (The thread that reads the indexes by state
    // may hold sled a moment after the store is dropped: wait for the lock, as
    // `Store::open` does.)
    let started = std::time::Instant::now();
    let alone = loop {
        match sled::Config::new().path(dir.path()).segment_size(tables::SEGMENT_SIZE).open() {
            Err(sled::Error::Io(e))
                if e.to_string().starts_with("could not acquire lock")
                    && started.elapsed() < std::time::Duration::from_secs(10) =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => break other,
        }
    };
    assert!(matches!(alone, Err(sled::Error::Corruption { .. })), "sled alone: {:?}", alone.err());
    drop(alone);
    // lcm's open removes the unfinished file only, and finds what was committed.
    let store = Store::open(dir.path(), &config()).unwrap_or_else(|e| panic!("{e}"));
    let kept = store.get::<TrainingCentre>(id).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(kept.map(|c| c.spec.name), Some("kept".to_string()));
    let after = snapshot_files(dir.path());
    assert!(!after.contains(&unfinished), "{after:?}");
    assert!(after.iter().any(|f| !f.ends_with(".generating")), "no finished snapshot is left: {after:?}");
}

fn proposed_match(id: Id) -> Match {
    let reasons = vec!["a reason of some length, as the engine writes them for every allocation".repeat(4)];
    Match::proposed(Meta::new(id, 1_000), MatchTerms { reasons, ..MatchTerms::example(None, &["BGD", "NPL"]) })
}

#[tokio::test]
async fn a_proposed_match_is_logged_by_name_and_read_back_as_proposed() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = Store::open(dir.path(), &config()).unwrap_or_else(|e| panic!("{e}"));
    let commit = |m: &Match, kind: EventKind| {
        let w = store.writer().unwrap_or_else(|e| panic!("{e}"));
        let mut ws = WriteSet::default();
        ws.put_record(m);
        ws.event(kind, m.meta.update_time, "principal-1", EventResource::Match(m.clone()));
        w.commit(ws).unwrap_or_else(|e| panic!("{e}")).0
    };
    let proposed = proposed_match(Id(1));
    // Landed apart, so that each is an entry of its own.
    store.durable(commit(&proposed, EventKind::MatchProposed)).await.unwrap_or_else(|e| panic!("{e}"));
    let approved = Match {
        meta: proposed.meta.touched(2_000),
        state: MatchState::Approved,
        decided_by: "principal-1".into(),
        decide_time: Some(2_000),
        ..proposed.clone()
    };
    let ticket = commit(&approved, EventKind::MatchApproved);
    store.durable(ticket).await.unwrap_or_else(|e| panic!("{e}"));
    let logged = store.entries(TreeId::Events).unwrap_or_else(|e| panic!("{e}"));
    let [(_, named), (_, whole)] = &logged[..] else { panic!("{} events", logged.len()) };
    assert_eq!(named[0], 0xE1, "the proposal names its match");
    assert!(named.len() < 40, "a named match's event takes {} bytes", named.len());
    assert_eq!(whole[0], FORMAT_VERSION, "an approval is logged whole");
    let read = |v: &[u8]| match store.read_logged(v).unwrap_or_else(|e| panic!("{e}")).as_slice() {
        [Event { resource: EventResource::Match(m), .. }] => m.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(read(named), proposed, "shown as proposed, though approved since");
    assert_eq!(read(whole), approved);
}

/// A reader of the log that does not want the events of matches (the NEED_AT_RISK task)
/// is handed the others, and the sequence to go on from, without the matches that named
/// events point to ever being read: a named event whose match is gone fails
/// `events_after`, not this. From memory and from the log alike, in pages.
#[tokio::test]
async fn events_of_matches_are_passed_over_unread_by_a_reader_that_wants_the_others() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    fn ok<T>(e: StoreError) -> T {
        panic!("{e}")
    }
    let others = |events: &[Arc<Event>]| events.iter().map(|e| e.sequence).collect::<Vec<_>>();
    let pages = |store: &Store, limit: usize| {
        let (mut after, mut seen) = (0, Vec::new());
        loop {
            let (events, last) = store.events_after_except_matches(after, limit).unwrap_or_else(ok);
            assert!(last - after <= limit as u64, "looked at more than {limit}");
            if last == after {
                return (seen, after);
            }
            assert!(events.iter().all(|e| e.sequence > after && e.sequence <= last));
            seen.extend(others(&events));
            after = last;
        }
    };
    {
        let store = Store::open(dir.path(), &config()).unwrap_or_else(ok);
        store.durable(commit_centre(&store, "c1").0).await.unwrap_or_else(ok);
        let w = store.writer().unwrap_or_else(ok);
        let mut ws = WriteSet::default();
        for id in 1..=3 {
            let m = proposed_match(Id(id));
            ws.put_new_match(&m);
            ws.event(EventKind::MatchProposed, m.meta.create_time, "principal-1", EventResource::Match(m));
        }
        store.durable(w.commit(ws).unwrap_or_else(ok).0).await.unwrap_or_else(ok);
        store.durable(commit_centre(&store, "c2").0).await.unwrap_or_else(ok);
        // From memory.
        assert_eq!(pages(&store, 100), (vec![1, 5], 5));
        assert_eq!(pages(&store, 1), (vec![1, 5], 5));
        // The second proposed match's record goes away (as no build does), so that reading
        // its named event fails.
        let w = store.writer().unwrap_or_else(ok);
        let mut ws = WriteSet::default();
        ws.delete(TreeId::Matches, &keys::id_key(Id(2)));
        store.durable(w.commit(ws).unwrap_or_else(ok).0).await.unwrap_or_else(ok);
    }
    // From the log (a reopened store keeps no events in memory).
    let store = Store::open(dir.path(), &config()).unwrap_or_else(ok);
    assert!(store.events_after(0, 100).is_err(), "the named event of a missing match was read");
    assert_eq!(pages(&store, 100), (vec![1, 5], 5));
    assert_eq!(pages(&store, 2), (vec![1, 5], 5));
    assert_eq!(store.events_after_except_matches(5, 10).unwrap_or_else(ok), (Vec::new(), 5));
}

/// A match record as builds before `MatchTerms` wrote it, every field at the top: naming
/// the engine-decided part must not change a byte of what is stored (store format 4).
#[test]
fn a_match_is_encoded_as_the_flat_record_earlier_builds_wrote() {
    #[derive(Serialize)]
    struct FlatAllocation {
        offer: Id,
        funding_offer: Option<Id>,
        quantity: u32,
        women_quantity: u32,
        training_centre: Option<Id>,
        parties: Vec<Alpha3>,
    }
    #[derive(Serialize)]
    struct FlatMatch {
        meta: Meta,
        need: Id,
        recipient: Alpha3,
        capability: CapabilityArea,
        allocations: Vec<FlatAllocation>,
        quantity: u32,
        women_quantity: u32,
        parties: Vec<Alpha3>,
        triangular: bool,
        score: f64,
        reasons: Vec<String>,
        state: MatchState,
        decided_by: String,
        decision_comment: String,
        decide_time: Option<UnixMicros>,
        arrangements: Vec<Id>,
    }
    let mut m = proposed_match(Id(5));
    m.terms.allocations[0].funding_offer = Some(Id(3));
    m.terms.allocations[0].training_centre = Some(Id(4));
    m.state = MatchState::Approved;
    m.decided_by = "principal-1".into();
    m.decide_time = Some(2_000);
    m.arrangements = vec![Id(9)];
    let t = m.terms.clone();
    let flat = FlatMatch {
        meta: m.meta,
        need: t.need,
        recipient: t.recipient,
        capability: t.capability,
        allocations: t
            .allocations
            .into_iter()
            .map(|a| FlatAllocation {
                offer: a.offer,
                funding_offer: a.funding_offer,
                quantity: a.quantity,
                women_quantity: a.women_quantity,
                training_centre: a.training_centre,
                parties: a.parties,
            })
            .collect(),
        quantity: t.quantity,
        women_quantity: t.women_quantity,
        parties: t.parties,
        triangular: t.triangular,
        score: t.score,
        reasons: t.reasons,
        state: m.state,
        decided_by: m.decided_by.clone(),
        decision_comment: m.decision_comment.clone(),
        decide_time: m.decide_time,
        arrangements: m.arrangements.clone(),
    };
    let written = encode(TreeId::Matches, &flat).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(encode(TreeId::Matches, &m).unwrap_or_else(|e| panic!("{e}")), written);
    assert_eq!(decode::<Match>(TreeId::Matches, &written).unwrap_or_else(|e| panic!("{e}")), m);
}

/// Staged matches (store/staging.rs) are seen by no read until one commit reveals them,
/// then all at once; staged and never revealed, they are gone after a reopen, and their
/// ids are not handed out again.
#[tokio::test]
async fn staged_matches_are_unseen_until_revealed_and_dropped_at_open_if_never_revealed() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    fn ok<T>(e: StoreError) -> T {
        panic!("{e}")
    }
    let stage = |store: &Store, n: u64| -> Vec<Match> {
        let first = store.writer().unwrap_or_else(ok).allocate_ids(Kind::Match, n);
        let matches: Vec<Match> = (0..n).map(|i| proposed_match(Id(first.0 + i))).collect();
        let mut ws = WriteSet::default();
        matches.iter().for_each(|m| ws.put_new_match(m));
        store.stage(ws).unwrap_or_else(ok);
        matches
    };
    let seen = |store: &Store, m: &Match| {
        let offer = m.offers()[0];
        [
            store.get::<Match>(m.meta.id).unwrap_or_else(ok).is_some(),
            store.scan::<Match>(None).any(|r| r.is_ok_and(|r| r.meta.id == m.meta.id)),
            store.matches_of_need(m.terms.need).unwrap_or_else(ok).contains(&m.meta.id),
            store.matches_of_offer(offer).unwrap_or_else(ok).contains(&m.meta.id),
            store.proposed_matches().unwrap_or_else(ok).contains(&m.meta.id),
        ]
    };
    {
        let store = Store::open(dir.path(), &config()).unwrap_or_else(ok);
        let staged = stage(&store, 3);
        for m in &staged {
            assert_eq!(seen(&store, m), [false; 5], "staged match {} is seen", m.meta.id.0);
        }
        // A staged write may touch nothing readers see.
        let mut ws = WriteSet::default();
        ws.put_record(&centre(Id(1), "Nairobi"));
        assert!(store.stage(ws).is_err(), "a staged write changed a visible table");
        let mut ws = WriteSet::default();
        ws.reveal_matches(staged[2].meta.id.0 + 1);
        let ticket = store.writer().unwrap_or_else(ok).commit(ws).unwrap_or_else(ok).0;
        store.durable(ticket).await.unwrap_or_else(ok);
        for m in &staged {
            assert_eq!(seen(&store, m), [true; 5], "revealed match {} is not seen", m.meta.id.0);
            assert_eq!(store.get::<Match>(m.meta.id).unwrap_or_else(ok).as_ref(), Some(m));
        }
        // Staged on disk, never revealed: the process goes away.
        let hidden = stage(&store, 2);
        store.flush().unwrap_or_else(ok);
        assert_eq!(hidden[0].meta.id, Id(4));
    }
    let store = Store::open(dir.path(), &config()).unwrap_or_else(ok);
    assert_eq!(store.scan::<Match>(None).count(), 3, "only the revealed matches are left");
    assert_eq!(store.match_watermark(), 4);
    // Staged and dropped while the store is open (as the next proposal does), then a
    // later staging revealed: what was dropped is listed by no index.
    let dropped = stage(&store, 2);
    assert_eq!(store.drop_hidden_matches().unwrap_or_else(ok), 2);
    let kept = stage(&store, 1);
    let mut ws = WriteSet::default();
    ws.reveal_matches(kept[0].meta.id.0 + 1);
    let _ = store.writer().unwrap_or_else(ok).commit(ws).unwrap_or_else(ok);
    for m in &dropped {
        assert_eq!(seen(&store, m), [false; 5], "dropped match {} is seen", m.meta.id.0);
    }
    assert_eq!(seen(&store, &kept[0]), [true; 5]);
    assert_eq!(store.scan::<Match>(None).count(), 4);
    // A staged write may index nothing readers see.
    let mut ws = WriteSet::default();
    ws.put_new_match(&proposed_match(Id(1)));
    assert!(store.stage(ws).is_err(), "a staged write indexed a visible match");
    // Revealing later shows nothing of them: they were removed, not just hidden.
    let mut ws = WriteSet::default();
    ws.reveal_matches(20);
    let _ = store.writer().unwrap_or_else(ok).commit(ws).unwrap_or_else(ok);
    assert_eq!(store.scan::<Match>(None).count(), 4, "a match staged before the reopen came back");
    assert_eq!(store.matches_of_need(proposed_match(Id(4)).terms.need).unwrap_or_else(ok), [1, 2, 3, 8].map(Id));
    assert_eq!(
        store.writer().unwrap_or_else(ok).allocate_id(Kind::Match),
        Id(9),
        "a staged match's id was handed out again"
    );
}

/// A store of format 9 kept the matches of each need and of each offer in tables: opened,
/// it is format 10, those tables are empty (they held more entries than one landing of
/// the migration removes), and the indexes, kept in memory now, hold what the match
/// records say, and the matches committed after the open.
#[tokio::test]
async fn a_format_9_store_loses_its_match_index_tables_and_indexes_its_matches_in_memory() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    fn ok<T>(e: StoreError) -> T {
        panic!("{e}")
    }
    let matched = |id: u64, need: u64, offer: u64, funding: Option<u64>| {
        let mut m = proposed_match(Id(id));
        m.terms.need = Id(need);
        m.terms.allocations[0].offer = Id(offer);
        m.terms.allocations[0].funding_offer = funding.map(Id);
        m
    };
    {
        let store = Store::open(dir.path(), &config()).unwrap_or_else(ok);
        let w = store.writer().unwrap_or_else(ok);
        let mut ws = WriteSet::default();
        for m in [matched(1, 10, 20, None), matched(2, 11, 20, Some(21)), matched(3, 10, 22, None)] {
            ws.put_record(&m);
            ws.put_key(TreeId::ProposedMatches, &keys::id_key(m.meta.id));
        }
        // As a format-9 build wrote them (entries of matches that do not exist, so that
        // the indexes are seen to come from the records).
        for i in 0..5000u64 {
            ws.put_key(TreeId::MatchesByNeed, &keys::pair_key(Id(10), Id(1_000 + i)));
        }
        ws.put_key(TreeId::MatchesByOffer, &keys::pair_key(Id(20), Id(999)));
        ws.put_raw(TreeId::Meta, keys::META_FORMAT_VERSION.to_vec(), vec![9]);
        let (ticket, _) = w.commit(ws).unwrap_or_else(ok);
        store.durable(ticket).await.unwrap_or_else(ok);
    }
    let store = Store::open(dir.path(), &config()).unwrap_or_else(ok);
    let meta = |key: &[u8]| store.entries(TreeId::Meta).unwrap_or_else(ok).into_iter().find(|(k, _)| k == key);
    assert_eq!(meta(keys::META_FORMAT_VERSION).map(|(_, v)| v), Some(vec![STORE_FORMAT_VERSION]));
    for table in [TreeId::MatchesByNeed, TreeId::MatchesByOffer] {
        assert!(store.entries(table).unwrap_or_else(ok).is_empty(), "{} is emptied", table.name());
    }
    let of_need = |n: u64| store.matches_of_need(Id(n)).unwrap_or_else(ok);
    let of_offer = |o: u64| store.matches_of_offer(Id(o)).unwrap_or_else(ok);
    assert_eq!(of_need(10), [Id(1), Id(3)]);
    assert_eq!(of_need(11), [Id(2)]);
    assert_eq!(of_offer(20), [Id(1), Id(2)]);
    assert_eq!(of_offer(21), [Id(2)], "a funding offer lists its match");
    assert_eq!(of_offer(22), [Id(3)]);
    assert!(of_need(20).is_empty() && of_offer(10).is_empty());
    // A match committed now is listed as soon as it is committed.
    let mut w = store.writer().unwrap_or_else(ok);
    let id = w.allocate_id(Kind::Match);
    let mut ws = WriteSet::default();
    ws.put_new_match(&matched(id.0, 11, 22, None));
    let _ = w.commit(ws).unwrap_or_else(ok);
    assert_eq!(of_need(11), [Id(2), id]);
    assert_eq!(of_offer(22), [Id(3), id]);
}

/// A store of format 6 kept the needs of each requester and the offers of each provider in
/// tables: opened, it is format 7, those tables are empty (they held more entries than one
/// landing of the migration removes), and the indexes, kept in memory now, hold what the
/// records say, and what is created after the open.
#[tokio::test]
async fn a_format_6_store_loses_its_tables_by_state_and_indexes_its_records_in_memory() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let now = now_micros();
    let state = |s: &str| -> Alpha3 { s.parse().unwrap_or_else(|e: String| panic!("{e}")) };
    let need = |r: &str| NeedSpec {
        requester: state(r),
        category: SupportCategory::Training,
        capability: CapabilityArea::Engineering,
        title: "Operators".into(),
        description: String::new(),
        quantity: 10,
        women_quantity: 2,
        languages: Vec::new(),
        needed_by: now + 100 * 86_400 * 1_000_000,
        priority: Priority::High,
        pledge_ref: String::new(),
        pledge_level: None,
        mission: String::new(),
        accepted_modes: Vec::new(),
    };
    let offer = OfferSpec {
        providers: vec![state("GBR"), state("KEN")],
        terms: OfferTerms::Delivery(DeliveryTerms {
            languages: Vec::new(),
            mode: DeliveryMode::AtProvider,
            training_centre: None,
            duration_days: 5,
            women_only: false,
            requires_funding: false,
        }),
        category: SupportCategory::Training,
        capability: CapabilityArea::Engineering,
        title: "Course".into(),
        description: String::new(),
        capacity: 10,
        available_from: now,
        available_until: now + 200 * 86_400 * 1_000_000,
        eligible_recipients: Vec::new(),
        excluded_recipients: Vec::new(),
        max_per_recipient: 0,
    };
    {
        let store = Store::open(dir.path(), &config()).unwrap_or_else(|e| panic!("{e}"));
        let mut w = store.writer().unwrap_or_else(|e| panic!("{e}"));
        let mut ws = WriteSet::default();
        for r in ["UGA", "KEN", "UGA"] {
            w.create_need(&mut ws, now, "p", need(r), |_| ());
        }
        w.create_offer(&mut ws, now, "p", offer.clone(), |_| ());
        // As a format-6 build wrote them (entries of needs that do not exist, so that the
        // indexes are seen to come from the records).
        for i in 0..5000u64 {
            let key = [b"UGA".as_slice(), &keys::id_key(Id(1_000_000 + i))].concat();
            ws.put_raw(TreeId::NeedsByRequester, key, Vec::new());
        }
        ws.put_raw(TreeId::OffersByProvider, [b"GBR".as_slice(), &keys::id_key(Id(1))].concat(), Vec::new());
        ws.put_raw(TreeId::Meta, keys::META_FORMAT_VERSION.to_vec(), vec![6]);
        let (ticket, _) = w.commit(ws).unwrap_or_else(|e| panic!("{e}"));
        store.durable(ticket).await.unwrap_or_else(|e| panic!("{e}"));
    }
    let store = Store::open(dir.path(), &config()).unwrap_or_else(|e| panic!("{e}"));
    let meta =
        |key: &[u8]| store.entries(TreeId::Meta).unwrap_or_else(|e| panic!("{e}")).into_iter().find(|(k, _)| k == key);
    assert_eq!(meta(keys::META_FORMAT_VERSION).map(|(_, v)| v), Some(vec![STORE_FORMAT_VERSION]));
    for table in [TreeId::NeedsByRequester, TreeId::OffersByProvider] {
        assert!(store.entries(table).unwrap_or_else(|e| panic!("{e}")).is_empty(), "{} is emptied", table.name());
    }
    let ids = |i: StoreResult<crate::store::memory_indexes::IdsAfter<'_>>| {
        i.unwrap_or_else(|e| panic!("{e}")).map(|id| id.0).collect::<Vec<_>>()
    };
    assert_eq!(ids(store.needs_of_requester(state("UGA"), None)), vec![1, 3]);
    assert_eq!(ids(store.needs_of_requester(state("UGA"), Some(Id(1)))), vec![3]);
    assert_eq!(ids(store.needs_of_requester(state("KEN"), None)), vec![2]);
    assert_eq!(ids(store.offers_of_provider(state("GBR"), None)), vec![1]);
    assert_eq!(ids(store.offers_of_provider(state("KEN"), None)), vec![1]);
    assert!(ids(store.offers_of_provider(state("UGA"), None)).is_empty());
    // A need created now is listed as soon as it is committed.
    let mut w = store.writer().unwrap_or_else(|e| panic!("{e}"));
    let mut ws = WriteSet::default();
    w.create_need(&mut ws, now, "p", need("UGA"), |_| ());
    let _ = w.commit(ws).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ids(store.needs_of_requester(state("UGA"), None)), vec![1, 3, 4]);
}

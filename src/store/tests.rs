use super::*;

fn config() -> StoreConfig {
    StoreConfig { cache_bytes: 8 << 20, durability: Durability::FlushBeforeAck }
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
    let bytes = encode(&c);
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

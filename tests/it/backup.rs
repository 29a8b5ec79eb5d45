//! Backups: `ExportBackup` of a running server (while writes go on, and at rest, through
//! the library and the `lcm` binary), `lcm restore` into a new directory, and a server on
//! the restored store that answers exactly as the original did.

use crate::harness::*;
use lcm::api;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use tonic::Code;

/// Everything the list methods return, read as `token`.
#[derive(Debug, PartialEq)]
struct State {
    events: Vec<api::Event>,
    needs: Vec<api::Need>,
    offers: Vec<api::Offer>,
    centres: Vec<api::TrainingCentre>,
    matches: Vec<api::Match>,
    arrangements: Vec<api::Arrangement>,
    principals: Vec<api::Principal>,
}

macro_rules! all_pages {
    ($client:expr, $token:expr, $method:ident, $req:expr, $field:ident) => {{
        let mut out = Vec::new();
        let mut req = $req;
        loop {
            let r = $client.$method(authed($token, req.clone())).await.unwrap().into_inner();
            out.extend(r.$field);
            if r.next_page_token.is_empty() {
                break out;
            }
            req.page_token = r.next_page_token;
        }
    }};
}

async fn state(s: &TestServer, token: &str) -> State {
    State {
        events: all_pages!(
            s.events().await,
            token,
            list_events,
            api::ListEventsRequest { page_size: 500, ..Default::default() },
            events
        ),
        needs: all_pages!(
            s.needs().await,
            token,
            list_needs,
            api::ListNeedsRequest { page_size: 500, ..Default::default() },
            needs
        ),
        offers: all_pages!(
            s.offers().await,
            token,
            list_offers,
            api::ListOffersRequest { page_size: 500, ..Default::default() },
            offers
        ),
        centres: all_pages!(
            s.centres().await,
            token,
            list_training_centres,
            api::ListTrainingCentresRequest { page_size: 500, ..Default::default() },
            training_centres
        ),
        matches: all_pages!(
            s.matching().await,
            token,
            list_matches,
            api::ListMatchesRequest { page_size: 500, ..Default::default() },
            matches
        ),
        arrangements: all_pages!(
            s.arrangements().await,
            token,
            list_arrangements,
            api::ListArrangementsRequest { page_size: 500, ..Default::default() },
            arrangements
        ),
        principals: all_pages!(
            s.admin_client().await,
            token,
            list_principals,
            api::ListPrincipalsRequest { page_size: 500, ..Default::default() },
            principals
        ),
    }
}

/// The member-state principals and the request of one idempotent write made before the
/// backups.
struct Fixture {
    uga: String,
    revoked: String,
    replay: api::CreateNeedRequest,
    replayed: api::Need,
}

/// Demo data, a proposal run, one approved match (an arrangement), a new principal, a
/// revoked one and an idempotent write.
async fn populate(s: &TestServer) -> Fixture {
    s.import_demo().await;
    let proposed = s
        .matching()
        .await
        .propose_matches(authed(
            &s.admin,
            api::ProposeMatchesRequest {
                capabilities: vec![],
                dry_run: false,
                request_id: new_request_id(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let first = &proposed.matches[0];
    s.matching()
        .await
        .approve_match(authed(
            &s.admin,
            api::ApproveMatchRequest {
                id: first.id.clone(),
                etag: first.etag.clone(),
                request_id: new_request_id(),
                comment: "approved before the backup".into(),
            },
        ))
        .await
        .unwrap();
    let uga = s.state("UGA").await;
    let revoked_token = s.state("KEN").await;
    let principals = s
        .admin_client()
        .await
        .list_principals(authed(&s.admin, api::ListPrincipalsRequest { page_size: 500, ..Default::default() }))
        .await
        .unwrap()
        .into_inner()
        .principals;
    let ken = principals.iter().find(|p| p.member_state == "KEN").unwrap();
    s.admin_client()
        .await
        .revoke_principal(authed(&s.admin, api::RevokePrincipalRequest { id: ken.id.clone() }))
        .await
        .unwrap();
    let replay = api::CreateNeedRequest { need: Some(need("UGA")), request_id: new_request_id() };
    let replayed = s.needs().await.create_need(authed(&uga, replay.clone())).await.unwrap().into_inner();
    Fixture { uga, revoked: revoked_token, replay, replayed }
}

/// Restores `file` with `lcm restore` into a fresh directory and starts a server on it,
/// with the original's admin.token (which a backup does not hold) copied beside it.
async fn restored(file: &Path, original: &TestServer) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let out = lcm_binary(vec![
        "restore".into(),
        "--from".into(),
        file.display().to_string(),
        "--data-dir".into(),
        dir.path().display().to_string(),
    ])
    .await;
    assert!(out.status.success(), "restore: {}", String::from_utf8_lossy(&out.stderr));
    assert!(!dir.path().join("admin.token").exists(), "a backup holds no token in clear");
    std::fs::copy(original.data_dir().join("admin.token"), dir.path().join("admin.token")).unwrap();
    TestServer::start_in(dir).await
}

async fn lcm_binary(args: Vec<String>) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_lcm"));
        for var in ["LCM_ADDR", "LCM_TOKEN", "LCM_TOKEN_FILE", "LCM_CA_CERT"] {
            cmd.env_remove(var);
        }
        cmd.args(&args).stdin(std::process::Stdio::null()).output().unwrap()
    })
    .await
    .unwrap()
}

fn admin_clients(s: &TestServer, channel: tonic::transport::Channel) -> lcm::cli::Clients {
    lcm::cli::Clients::new(channel, &s.admin).unwrap()
}

#[tokio::test]
async fn a_backup_taken_under_load_restores_to_an_identical_consistent_store() {
    let s = TestServer::start().await;
    let fx = populate(&s).await;
    let files = tempfile::tempdir().unwrap();

    // Writes go on while the backup is taken.
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (stop, written, uga) = (stop.clone(), written.clone(), fx.uga.clone());
        let mut needs = s.needs().await;
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let req = api::CreateNeedRequest { need: Some(need("UGA")), request_id: new_request_id() };
                needs.create_need(authed(&uga, req)).await.unwrap();
                written.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    while written.load(Ordering::Relaxed) < 5 {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let under_load = files.path().join("under-load.lcmbak");
    let info = lcm::cli::backup_to(&admin_clients(&s, s.channel().await), &under_load).await.unwrap();
    let at_backup = written.load(Ordering::Relaxed);
    while written.load(Ordering::Relaxed) < at_backup + 5 {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();
    assert!(!Path::new(&format!("{}.partial", under_load.display())).exists());

    let source = state(&s, &s.admin).await;
    let r = restored(&under_load, &s).await;
    let copy = state(&r, &r.admin).await;
    // The snapshot is one point of the history: a prefix of the log, and exactly the
    // resources that prefix created.
    assert_eq!(copy.events.len() as u64, info.last_event_sequence);
    assert!(copy.events.len() < source.events.len(), "writes went on after the snapshot");
    assert_eq!(copy.events[..], source.events[..copy.events.len()]);
    let created: Vec<&str> = copy
        .events
        .iter()
        .filter(|e| e.kind == api::EventKind::NeedCreated as i32)
        .map(|e| e.resource_id.as_str())
        .collect();
    let ids: Vec<&str> = copy.needs.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, created, "every need of the snapshot and only those");
    assert_eq!(copy.needs[..], source.needs[..copy.needs.len()]);
    assert_eq!(copy.offers, source.offers);
    assert_eq!(copy.centres, source.centres);
    assert_eq!(copy.matches, source.matches);
    assert_eq!(copy.arrangements, source.arrangements);
    assert_eq!(copy.principals, source.principals);
    assert!(!copy.arrangements.is_empty(), "the approved match made an arrangement");
}

#[tokio::test]
async fn a_backup_at_rest_restores_every_resource_event_and_token() {
    let s = TestServer::start().await;
    let fx = populate(&s).await;
    let files = tempfile::tempdir().unwrap();
    let file = files.path().join("lcm.bak");
    // Through the binary, as an operator would.
    let out = lcm_binary(vec![
        "--addr".into(),
        s.addr.to_string(),
        "--token".into(),
        s.admin.clone(),
        "backup".into(),
        "--out".into(),
        file.display().to_string(),
    ])
    .await;
    assert!(out.status.success(), "backup: {}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("backup written"));

    let r = restored(&file, &s).await;
    assert_eq!(state(&r, &r.admin).await, state(&s, &s.admin).await, "as the Secretariat");
    assert_eq!(state_of_needs(&r, &fx.uga).await, state_of_needs(&s, &fx.uga).await, "as Uganda");
    // The revoked principal stays revoked; unknown tokens stay unknown.
    let status = assert_code(
        r.needs().await.list_needs(authed(&fx.revoked, api::ListNeedsRequest::default())).await,
        Code::Unauthenticated,
    );
    assert!(!status.message().is_empty());
    // Idempotency entries survive: a retry returns the first answer.
    let again = r.needs().await.create_need(authed(&fx.uga, fx.replay.clone())).await.unwrap().into_inner();
    assert_eq!(again, fx.replayed);
    // Ids go on after the restored ones, and the log stays gapless.
    let fresh = r
        .needs()
        .await
        .create_need(authed(&fx.uga, api::CreateNeedRequest { need: Some(need("UGA")), request_id: new_request_id() }))
        .await
        .unwrap()
        .into_inner();
    let before = state(&s, &s.admin).await;
    assert!(before.needs.iter().all(|n| n.id != fresh.id));
    let after = state(&r, &r.admin).await;
    assert_eq!(after.events.last().unwrap().sequence, before.events.len() as u64 + 1);
}

async fn state_of_needs(s: &TestServer, token: &str) -> Vec<api::Need> {
    all_pages!(
        s.needs().await,
        token,
        list_needs,
        api::ListNeedsRequest { page_size: 500, ..Default::default() },
        needs
    )
}

#[tokio::test]
async fn a_damaged_backup_or_a_used_directory_is_refused() {
    let s = TestServer::start().await;
    s.import_demo().await;
    let files = tempfile::tempdir().unwrap();
    let file = files.path().join("good.bak");
    lcm::cli::backup_to(&admin_clients(&s, s.channel().await), &file).await.unwrap();
    let good = std::fs::read(&file).unwrap();
    let damaged = |name: &str, bytes: &[u8]| -> PathBuf {
        let p = files.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x40;
    for (path, expected) in [
        (damaged("flipped.bak", &flipped), "corrupt"),
        (damaged("truncated.bak", &good[..good.len() - 100]), "truncated"),
        (damaged("empty.bak", b""), "not an lcm backup"),
    ] {
        let target = files.path().join(format!("restore-{}", path.file_name().unwrap().to_string_lossy()));
        let out = lcm_binary(vec![
            "restore".into(),
            "--from".into(),
            path.display().to_string(),
            "--data-dir".into(),
            target.display().to_string(),
        ])
        .await;
        assert!(!out.status.success(), "{} was restored", path.display());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{}: {stderr}", path.display());
        assert!(!target.join("store").exists(), "nothing is written from a damaged file");
    }
    // A non-empty directory (here: the running server's own) is refused.
    let out = lcm_binary(vec![
        "restore".into(),
        "--from".into(),
        file.display().to_string(),
        "--data-dir".into(),
        s.data_dir().display().to_string(),
    ])
    .await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not empty"));
}

#[tokio::test]
async fn only_the_secretariat_may_export_a_backup() {
    let s = TestServer::start().await;
    let uga = s.state("UGA").await;
    let mut admin = s.admin_client().await;
    let status = assert_code(
        admin.export_backup(authed(&uga, api::ExportBackupRequest {})).await.map(|_| ()),
        Code::PermissionDenied,
    );
    assert_eq!(reason(&status), "PERMISSION_DENIED");
    assert_code(admin.export_backup(api::ExportBackupRequest {}).await.map(|_| ()), Code::Unauthenticated);
    let files = tempfile::tempdir().unwrap();
    let out = files.path().join("denied.bak");
    let denied = lcm::cli::Clients::new(s.channel().await, &uga).unwrap();
    assert!(lcm::cli::backup_to(&denied, &out).await.is_err());
    assert!(!out.exists());
    assert!(std::fs::read_dir(files.path()).unwrap().next().is_none(), "no partial file is left behind");
}

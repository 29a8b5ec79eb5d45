//! The `lcm needs` and `lcm offers` commands, run as the binary against a real server:
//! create, get, list, update (with and without `--etag`), withdraw.

use crate::harness::*;

/// Runs `lcm ARGS --addr … --token … --json` and returns (success, stdout, stderr).
async fn lcm(s: &TestServer, args: &[&str]) -> (bool, String, String) {
    let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    all.extend(["--addr".into(), s.addr.to_string(), "--token".into(), s.admin.clone(), "--json".into()]);
    let out = tokio::task::spawn_blocking(move || {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_lcm"));
        for var in ["LCM_ADDR", "LCM_TOKEN", "LCM_TOKEN_FILE", "LCM_CA_CERT"] {
            cmd.env_remove(var);
        }
        cmd.args(&all).stdin(std::process::Stdio::null()).output().unwrap()
    })
    .await
    .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

async fn json(s: &TestServer, args: &[&str]) -> serde_json::Value {
    let (ok, out, err) = lcm(s, args).await;
    assert!(ok, "lcm {args:?} failed: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("lcm {args:?} printed no JSON ({e}): {out}"))
}

/// Create, get, list, update (current etag read by the CLI; a stale one refused),
/// withdraw once: the same five commands for `needs` and for `offers`.
async fn lifecycle(s: &TestServer, noun: &str, create: &[&str], list: &[&str], title_field: &str) {
    let mut args = vec![noun, "create"];
    args.extend(create);
    let made = json(s, &args).await;
    let id = made["id"].as_str().unwrap().to_string();
    let first_etag = made["etag"].as_str().unwrap().to_string();

    let got = json(s, &[noun, "get", &id]).await;
    assert_eq!(got["id"], made["id"]);

    let mut args = vec![noun, "list"];
    args.extend(list);
    let listed = json(s, &args).await;
    assert!(listed.as_array().unwrap().iter().any(|r| r["id"] == made["id"]), "{listed}");

    let updated = json(s, &[noun, "update", &id, "--title", "Renamed by the CLI"]).await;
    assert_eq!(updated[title_field], "Renamed by the CLI");
    assert_ne!(updated["etag"].as_str().unwrap(), first_etag);

    let (ok, _, err) = lcm(s, &[noun, "update", &id, "--etag", &first_etag, "--title", "Again"]).await;
    assert!(!ok && err.contains("etag"), "a stale etag must be refused: {err}");

    let withdrawn = json(s, &[noun, "withdraw", &id]).await;
    assert_eq!(withdrawn["id"], made["id"]);
    let (ok, _, err) = lcm(s, &[noun, "withdraw", &id]).await;
    assert!(!ok && err.contains("already withdrawn"), "a second withdrawal must be refused: {err}");
}

#[tokio::test]
async fn needs_and_offers_through_the_cli() {
    let s = TestServer::start().await;
    let needs = [
        "--requester",
        "NPL",
        "--category",
        "TRAINING",
        "--capability",
        "ENGINEERING",
        "--title",
        "Operators",
        "--quantity",
        "12",
        "--languages",
        "en",
        "--needed-by",
        "+120",
        "--priority",
        "HIGH",
        "--pledge-level",
        "LEVEL_2",
    ];
    lifecycle(&s, "needs", &needs, &["--requester", "NPL"], "title").await;
    let offers = [
        "--providers",
        "BGD",
        "--role",
        "DELIVERY",
        "--category",
        "TRAINING",
        "--capability",
        "ENGINEERING",
        "--title",
        "Course",
        "--capacity",
        "20",
        "--available-from",
        "+10",
        "--available-until",
        "+200",
        "--languages",
        "en",
        "--mode",
        "AT_PROVIDER",
        "--duration-days",
        "28",
    ];
    lifecycle(&s, "offers", &offers, &["--provider", "BGD"], "title").await;
}

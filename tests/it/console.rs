//! The web console over a real socket with a plain HTTP/1.1 client: sessions, cookie
//! flags, headers, CSRF (403 and an unchanged store digest), the failed sign-in limit,
//! revocation, confidentiality (another state's need is the 404 page), the overview's
//! figures against the gRPC reports, validation messages on form fields, languages.

use crate::harness::{authed, new_request_id};
use lcm::api;
use lcm::config::ServeArgs;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;
use tonic::transport::Channel;

struct ConsoleServer {
    grpc: SocketAddr,
    web: SocketAddr,
    admin: String,
    store: lcm::store::Store,
    _dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for ConsoleServer {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

impl ConsoleServer {
    async fn start() -> ConsoleServer {
        let dir = tempfile::tempdir().unwrap();
        let mut args = ServeArgs::for_data_dir(dir.path().to_path_buf());
        args.console_listen = lcm::config::ConsoleListen(Some(SocketAddr::from(([127, 0, 0, 1], 0))));
        let tls = lcm::server::transport(&args).unwrap();
        let opened = lcm::server::open(&args).unwrap();
        let store = opened.ctx.store.clone();
        let admin = std::fs::read_to_string(&opened.admin_token_path).unwrap().trim().to_string();
        let listener = lcm::server::bind(args.listen).await.unwrap();
        let grpc = listener.local_addr().unwrap();
        let console = lcm::server::ConsoleSetup::bind(&args, false).await.unwrap().unwrap();
        let web = console.addr;
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            lcm::server::serve_with_console(opened.ctx, listener, tls, Some(console), async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        ConsoleServer { grpc, web, admin, store, _dir: dir, stop: Some(tx) }
    }

    async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.grpc)).unwrap().connect().await.unwrap()
    }

    async fn principal(&self, kind: api::PrincipalKind, state: &str) -> (String, String) {
        let mut admin = api::admin_service_client::AdminServiceClient::new(self.channel().await);
        let r = admin
            .create_principal(authed(
                &self.admin,
                api::CreatePrincipalRequest {
                    kind: kind as i32,
                    member_state: state.into(),
                    display_name: format!("{state} mission"),
                    ..Default::default()
                },
            ))
            .await
            .unwrap()
            .into_inner();
        (r.principal.unwrap().id, r.token)
    }

    /// Creates `need` by gRPC as the holder of `token`.
    async fn create_need(&self, token: &str, need: api::Need) -> api::Need {
        let req = api::CreateNeedRequest { need: Some(need), request_id: new_request_id() };
        let mut needs = api::need_service_client::NeedServiceClient::new(self.channel().await);
        needs.create_need(authed(token, req)).await.unwrap().into_inner()
    }

    /// Creates `offer` by gRPC as the holder of `token`.
    async fn create_offer(&self, token: &str, offer: api::Offer) -> api::Offer {
        let req = api::CreateOfferRequest { offer: Some(offer), request_id: new_request_id() };
        let mut offers = api::offer_service_client::OfferServiceClient::new(self.channel().await);
        offers.create_offer(authed(token, req)).await.unwrap().into_inner()
    }

    /// Proposes matches as the Secretariat and approves the first proposal.
    async fn approve_first_proposal(&self) -> api::ApproveMatchResponse {
        let mut matching = api::matching_service_client::MatchingServiceClient::new(self.channel().await);
        let req = api::ProposeMatchesRequest { request_id: new_request_id(), ..Default::default() };
        let proposed = matching.propose_matches(authed(&self.admin, req)).await.unwrap().into_inner();
        let first = proposed.matches.first().expect("a proposal");
        let req = api::ApproveMatchRequest { id: first.id.clone(), request_id: new_request_id(), ..Default::default() };
        matching.approve_match(authed(&self.admin, req)).await.unwrap().into_inner()
    }

    async fn get(&self, path: &str, cookie: &str) -> Resp {
        http(self.web, "GET", path, cookie, &[], "").await
    }

    async fn post(&self, path: &str, cookie: &str, form: &[(&str, &str)]) -> Resp {
        let body: Vec<String> = form.iter().map(|(k, v)| format!("{k}={}", enc(v))).collect();
        http(self.web, "POST", path, cookie, &[], &body.join("&")).await
    }

    /// Signs in with `token`: the session cookie ("lcm_session=…") and the sign-in answer.
    async fn sign_in(&self, token: &str) -> (String, Resp) {
        let login = self.get("/login", "").await;
        let nonce = login.cookie("lcm_login").expect("sign-in cookie");
        let csrf = login.hidden("csrf").expect("csrf field");
        assert_eq!(nonce, csrf);
        let r = self.post("/login", &format!("lcm_login={nonce}"), &[("csrf", &csrf), ("token", token)]).await;
        let session = r.cookie("lcm_session").map(|s| format!("lcm_session={s}")).unwrap_or_default();
        (session, r)
    }
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn set_cookies(&self) -> Vec<&str> {
        self.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie")).map(|(_, v)| v.as_str()).collect()
    }

    /// The value a `Set-Cookie` header gives `name` (non-empty).
    fn cookie(&self, name: &str) -> Option<String> {
        self.set_cookies()
            .into_iter()
            .filter_map(|c| c.split(';').next()?.trim().split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v)
    }

    /// The value of the first hidden input named `name`.
    fn hidden(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&marker)? + marker.len();
        let end = self.body[start..].find('"')? + start;
        Some(self.body[start..end].to_string())
    }

    /// The text of the element with `data-figure="name"`.
    fn figure(&self, name: &str) -> Option<String> {
        let marker = format!("data-figure=\"{name}\">");
        let start = self.body.find(&marker)? + marker.len();
        let end = self.body[start..].find('<')? + start;
        Some(self.body[start..end].to_string())
    }
}

/// One request on a fresh connection (`Connection: close`), read to the end.
async fn http(addr: SocketAddr, method: &str, path: &str, cookie: &str, extra: &[(&str, &str)], body: &str) -> Resp {
    let s = tokio::net::TcpStream::connect(addr).await.unwrap();
    exchange(s, addr, method, path, cookie, extra, body).await
}

async fn exchange<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    mut s: S,
    addr: SocketAddr,
    method: &str,
    path: &str,
    cookie: &str,
    extra: &[(&str, &str)],
    body: &str,
) -> Resp {
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if !cookie.is_empty() {
        req.push_str(&format!("Cookie: {cookie}\r\n"));
    }
    for (k, v) in extra {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if method == "POST" {
        req.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    let read = async {
        let mut buf = [0u8; 16 * 1024];
        // Until the server closes (over TLS, a close without close_notify ends it too).
        while let Ok(n) = s.read(&mut buf).await {
            if n == 0 {
                break;
            }
            raw.extend_from_slice(&buf[..n]);
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(30), read).await.unwrap();
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let chunked = headers.iter().any(|(k, v)| k == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked"));
    let body = if chunked { dechunk(rest) } else { rest.to_string() };
    Resp { status, headers, body }
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&after[..n]);
        rest = &after[n + 2..];
    }
    out
}

fn assert_security_headers(r: &Resp) {
    let csp = r.header("content-security-policy").expect("CSP");
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(r.header("x-frame-options"), Some("DENY"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_sign_in_gives_a_flagged_session_cookie_a_new_id_each_time_and_sign_out_ends_it() {
    let s = ConsoleServer::start().await;
    let login = s.get("/login", "").await;
    assert_eq!(login.status, 200);
    assert_security_headers(&login);
    assert!(login.body.contains("<label for=\"token\">Token</label>"), "{}", login.body);
    assert!(login.body.contains(">Sign in</button>"));

    let (cookie, r) = s.sign_in(&s.admin).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/"));
    assert_security_headers(&r);
    let set = r.set_cookies().into_iter().find(|c| c.starts_with("lcm_session=")).unwrap().to_string();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(flag), "{set} lacks {flag}");
    }
    assert!(!set.contains("Secure"), "plaintext console on loopback: no Secure flag ({set})");

    let page = s.get("/", &cookie).await;
    assert_eq!(page.status, 200);
    assert_security_headers(&page);
    assert!(page.body.contains(">Sign out</button>"));
    assert!(!page.body.contains(&s.admin), "the token must never appear in a page");

    let (cookie2, _) = s.sign_in(&s.admin).await;
    assert_ne!(cookie, cookie2, "every sign-in issues a new session id");

    // Sign-out ends the session on the server: the old cookie leads to the sign-in page.
    let csrf = page.hidden("csrf").unwrap();
    let out = s.post("/logout", &cookie, &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 303);
    let after = s.get("/", &cookie).await;
    assert_eq!(after.status, 303);
    assert_eq!(after.header("location"), Some("/login"));
    // The other session lives on.
    assert_eq!(s.get("/", &cookie2).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_post_without_a_valid_csrf_token_is_403_and_changes_nothing() {
    let s = ConsoleServer::start().await;
    let (cookie, _) = s.sign_in(&s.admin).await;
    let page = s.get("/principals", &cookie).await;
    assert_eq!(page.status, 200);
    let csrf = page.hidden("csrf").unwrap();
    let create = |csrf: &'static str| {
        vec![
            ("csrf", csrf),
            ("action", "create"),
            ("kind", "2"),
            ("member_state", "GHA"),
            ("display_name", "Ghana mission"),
        ]
    };
    let before = s.store.content_digest().unwrap();
    let none = s.post("/principals", &cookie, &create("")[1..]).await;
    assert_eq!(none.status, 403);
    assert_security_headers(&none);
    let wrong = s.post("/principals", &cookie, &create("not-the-token")).await;
    assert_eq!(wrong.status, 403);
    // Another session's token does not do either.
    let (other_cookie, _) = s.sign_in(&s.admin).await;
    let other = s.get("/principals", &other_cookie).await.hidden("csrf").unwrap();
    let leaked: &'static str = Box::leak(other.into_boxed_str());
    assert_eq!(s.post("/principals", &cookie, &create(leaked)).await.status, 403);
    assert_eq!(s.store.content_digest().unwrap(), before, "a refused POST changed the store");

    // With the session's own token the same form goes through (the test can fail).
    let token: &'static str = Box::leak(csrf.into_boxed_str());
    let ok = s.post("/principals", &cookie, &create(token)).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert!(ok.body.contains("data-copy=\"new-token\""), "the new token is shown once with a copy button");
    assert_ne!(s.store.content_digest().unwrap(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_eleventh_failed_sign_in_in_a_minute_is_429() {
    let s = ConsoleServer::start().await;
    for i in 0..10 {
        let (_, r) = s.sign_in(&format!("wrong-token-{i}")).await;
        assert_eq!(r.status, 401, "attempt {i}");
        assert!(r.body.contains("not valid"));
    }
    let (cookie, r) = s.sign_in(&s.admin).await;
    assert_eq!(r.status, 429, "the 11th sign-in within a minute is refused, even with a good token");
    assert!(cookie.is_empty());
    assert_security_headers(&r);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_revoked_principal_next_page_is_the_sign_in_page() {
    let s = ConsoleServer::start().await;
    let (id, token) = s.principal(api::PrincipalKind::MemberState, "GHA").await;
    let (cookie, _) = s.sign_in(&token).await;
    assert_eq!(s.get("/needs", &cookie).await.status, 200);
    let mut admin = api::admin_service_client::AdminServiceClient::new(s.channel().await);
    admin.revoke_principal(authed(&s.admin, api::RevokePrincipalRequest { id })).await.unwrap();
    let r = s.get("/needs", &cookie).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/login"));
    let (cookie, r) = s.sign_in(&token).await;
    assert_eq!(r.status, 401, "a revoked token cannot sign in again");
    assert!(cookie.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_another_states_need_is_the_same_404_as_a_missing_one() {
    let s = ConsoleServer::start().await;
    let (_, gha) = s.principal(api::PrincipalKind::MemberState, "GHA").await;
    let (_, npl) = s.principal(api::PrincipalKind::MemberState, "NPL").await;
    let need = s.create_need(&gha, crate::harness::need("GHA")).await;
    let (gha_cookie, _) = s.sign_in(&gha).await;
    let (npl_cookie, _) = s.sign_in(&npl).await;
    let own = s.get(&format!("/needs/{}", need.id), &gha_cookie).await;
    assert_eq!(own.status, 200);
    assert!(own.body.contains(&need.id));
    let other = s.get(&format!("/needs/{}", need.id), &npl_cookie).await;
    let missing = s.get("/needs/need-999999", &npl_cookie).await;
    assert_eq!(other.status, 404);
    assert_eq!(missing.status, 404);
    assert_eq!(other.body.replace(&need.id, ""), missing.body.replace("need-999999", ""));
    assert!(!other.body.contains("HEE operators"), "nothing of the need leaks");
    // The list shows NPL nothing of Ghana's.
    let list = s.get("/needs", &npl_cookie).await;
    assert!(!list.body.contains(&need.id));
    assert_eq!(s.get("/no/such/page", &npl_cookie).await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_overview_figures_equal_the_grpc_reports() {
    let s = ConsoleServer::start().await;
    let scenario = lcm::scenario::Scenario::from_json(include_str!("../../fixtures/tpp-demo.json")).unwrap();
    let t0 = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    lcm::cli::import_scenario(s.channel().await, &s.admin, &scenario, t0).await.unwrap();
    s.approve_first_proposal().await;

    let (cookie, _) = s.sign_in(&s.admin).await;
    let page = s.get("/", &cookie).await;
    assert_eq!(page.status, 200);

    let mut reports = api::report_service_client::ReportServiceClient::new(s.channel().await);
    let gap = reports
        .get_gap_report(authed(&s.admin, api::GetGapReportRequest { group_by: api::GapGrouping::Capability as i32 }))
        .await
        .unwrap()
        .into_inner();
    let sum = |f: fn(&api::GapRow) -> u64| gap.rows.iter().map(f).sum::<u64>().to_string();
    let fig = |name: &str| page.figure(name).unwrap_or_else(|| panic!("no figure {name}"));
    assert_eq!(fig("seats_demanded"), sum(|r| r.needed));
    assert_eq!(fig("seats_reserved"), sum(|r| r.reserved));
    assert_eq!(fig("seats_delivered"), sum(|r| r.delivered));
    assert_eq!(fig("seats_open"), sum(|r| r.open));
    assert_eq!(fig("critical_open"), sum(|r| r.critical_open));
    assert_eq!(fig("overdue"), sum(|r| r.overdue));
    assert_ne!(fig("seats_reserved"), "0", "the approval reserved seats");
    let gender =
        reports.get_gender_report(authed(&s.admin, api::GetGenderReportRequest {})).await.unwrap().into_inner();
    assert_eq!(fig("women_share"), format!("{:.2}", gender.overall.unwrap().women_share));
    let dec = reports
        .get_deconfliction_report(authed(&s.admin, api::GetDeconflictionReportRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(fig("deconfliction_findings"), dec.findings.len().to_string());
    let readiness =
        reports.get_readiness_report(authed(&s.admin, api::GetReadinessReportRequest {})).await.unwrap().into_inner();
    assert_eq!(fig("at_risk_needs"), readiness.rows.len().to_string());
    let mut arrangements = api::arrangement_service_client::ArrangementServiceClient::new(s.channel().await);
    let pending = arrangements
        .list_arrangements(authed(
            &s.admin,
            api::ListArrangementsRequest {
                page_size: 500,
                status: api::ArrangementStatus::PendingConsent as i32,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let consents = pending
        .arrangements
        .iter()
        .flat_map(|a| &a.consents)
        .filter(|c| c.decision == api::ConsentDecision::Pending as i32)
        .count();
    assert!(consents > 0);
    assert_eq!(fig("pending_consents"), consents.to_string());

    // The gap report's CSV holds the same rows.
    let csv = s.get("/reports/gaps?group_by=capability&format=csv", &cookie).await;
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines[0], "key,needed,women_needed,reserved,delivered,open,critical_open,overdue");
    assert_eq!(lines.len() - 1, gap.rows.len());
    for (line, row) in lines[1..].iter().zip(&gap.rows) {
        let expected = format!(
            "{},{},{},{},{},{},{},{}",
            row.key,
            row.needed,
            row.women_needed,
            row.reserved,
            row.delivered,
            row.open,
            row.critical_open,
            row.overdue
        );
        assert_eq!(*line, expected);
    }

    // Viewed again after a change, the figures follow it (the overview's reports are
    // kept only while the store is unchanged).
    let again = s.get("/", &cookie).await;
    assert_eq!(again.figure("seats_demanded"), page.figure("seats_demanded"));
    let extra = api::Need { quantity: 17, women_quantity: 0, ..crate::harness::need("GHA") };
    s.create_need(&s.admin, extra).await;
    let after = s.get("/", &cookie).await;
    let demanded = |p: &Resp| p.figure("seats_demanded").unwrap().parse::<u64>().unwrap();
    assert_eq!(demanded(&after), demanded(&page) + 17, "the new need's seats are counted at once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_need_form_shows_the_services_field_violations_in_both_languages() {
    let s = ConsoleServer::start().await;
    let (_, gha) = s.principal(api::PrincipalKind::MemberState, "GHA").await;
    let (cookie, _) = s.sign_in(&gha).await;
    let form = s.get("/needs/new", &cookie).await;
    let csrf = form.hidden("csrf").unwrap();
    let before = s.store.content_digest().unwrap();
    let fields = [
        ("csrf", csrf.as_str()),
        ("requester", "GHA"),
        ("category", "1"),
        ("capability", "1"),
        ("title", ""),
        ("quantity", "5"),
        ("women_quantity", "9"),
        ("languages", "en"),
        ("needed_by", "2099-01-01"),
        ("priority", "2"),
        ("pledge_level", "1"),
    ];
    let r = s.post("/needs", &cookie, &fields).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("id=\"title-error\""), "title is marked: {}", r.body);
    assert!(r.body.contains("id=\"women_quantity-error\">must not exceed quantity"), "{}", r.body);
    assert!(r.body.contains("id=\"needed_by-error\""), "more than 10 years ahead is marked");
    assert!(r.body.contains("aria-invalid=\"true\""));
    assert_eq!(s.store.content_digest().unwrap(), before);
    let fr = s.post("/needs?lang=fr", &cookie, &fields).await;
    assert_eq!(fr.status, 422);
    assert!(fr.body.contains("ne doit pas dépasser le nombre de places"), "{}", fr.body);
    assert!(fr.body.contains("<html lang=\"fr\">"));

    // A valid need is created and shown.
    let ok_fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| match *k {
            "title" => (*k, "Engineers"),
            "women_quantity" => (*k, "2"),
            "needed_by" => (*k, "2027-12-01"),
            _ => (*k, *v),
        })
        .collect();
    let created = s.post("/needs", &cookie, &ok_fields).await;
    assert_eq!(created.status, 303, "{}", created.body);
    let to = created.header("location").unwrap().to_string();
    let page = s.get(&to, &cookie).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Engineers"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_healthz_languages_and_not_found_page() {
    let s = ConsoleServer::start().await;
    let h = s.get("/healthz", "").await;
    assert_eq!((h.status, h.body.as_str()), (200, "ok"));
    let fr = s.get("/login?lang=fr", "").await;
    assert!(fr.body.contains(">Se connecter</button>"));
    assert!(fr.body.contains(">English</a>"));
    assert!(fr.set_cookies().iter().any(|c| c.starts_with("lcm_lang=fr")));
    let accept = http(s.web, "GET", "/login", "", &[("Accept-Language", "fr-CA,fr;q=0.9,en;q=0.5")], "").await;
    assert!(accept.body.contains("<label for=\"token\">Jeton</label>"));
    let en = s.get("/login", "").await;
    assert!(en.body.contains(">Français</a>"));
    let missing = s.get("/nothing-here", "").await;
    assert_eq!(missing.status, 404);
    assert_security_headers(&missing);
    assert!(s.get("/assets/console.js", "").await.body.contains("data-live"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_serves_https_with_the_servers_certificate_and_secure_cookies() {
    use tokio_rustls::rustls;
    let pki = crate::tls::pki();
    let dir = tempfile::tempdir().unwrap();
    let mut args = ServeArgs::for_data_dir(dir.path().to_path_buf());
    args.console_listen = lcm::config::ConsoleListen(Some(SocketAddr::from(([127, 0, 0, 1], 0))));
    args.tls_cert = Some(pki.cert.clone());
    args.tls_key = Some(pki.key.clone());
    let tls = lcm::server::transport(&args).unwrap();
    assert!(tls.is_some());
    let opened = lcm::server::open(&args).unwrap();
    let listener = lcm::server::bind(args.listen).await.unwrap();
    let console = lcm::server::ConsoleSetup::bind(&args, true).await.unwrap().unwrap();
    assert!(console.secure);
    let web = console.addr;
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        lcm::server::serve_with_console(opened.ctx, listener, tls, Some(console), async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });

    let mut roots = rustls::RootCertStore::empty();
    {
        use rustls_pki_types::pem::PemObject;
        for cert in rustls_pki_types::CertificateDer::pem_slice_iter(&std::fs::read(&pki.ca).unwrap()) {
            roots.add(cert.unwrap()).unwrap();
        }
    }
    let config =
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(web).await.unwrap();
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let stream = connector.connect(name, tcp).await.unwrap();
    let login = exchange(stream, web, "GET", "/login", "", &[], "").await;
    assert_eq!(login.status, 200);
    assert_security_headers(&login);
    let cookie = login.set_cookies().into_iter().find(|c| c.starts_with("lcm_login=")).unwrap().to_string();
    assert!(cookie.contains("; Secure") && cookie.contains("HttpOnly"), "{cookie}");
    // Plain HTTP to the TLS console gets no page.
    let plain = tokio::net::TcpStream::connect(web).await.unwrap();
    let mut plain = plain;
    plain.write_all(b"GET /login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut raw = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(15), plain.read_to_end(&mut raw)).await;
    assert!(!String::from_utf8_lossy(&raw).contains("Token"), "no page over plaintext");
    let _ = tx.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_header_names_every_principal_by_its_display_name() {
    let s = ConsoleServer::start().await;
    let centre = api::training_centre_service_client::TrainingCentreServiceClient::new(s.channel().await)
        .create_training_centre(authed(
            &s.admin,
            api::CreateTrainingCentreRequest {
                training_centre: Some(api::TrainingCentre {
                    name: "RSCE Entebbe".into(),
                    host_state: "UGA".into(),
                    languages: vec!["en".into()],
                    capabilities: vec![api::CapabilityArea::Engineering as i32],
                    ..Default::default()
                }),
                request_id: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let mut admin = api::admin_service_client::AdminServiceClient::new(s.channel().await);
    let staff = admin
        .create_principal(authed(
            &s.admin,
            api::CreatePrincipalRequest {
                kind: api::PrincipalKind::TrainingCentre as i32,
                training_centre_id: centre.id.clone(),
                display_name: "Entebbe course office".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let (state_id, state_token) = s.principal(api::PrincipalKind::MemberState, "FRA").await;
    let staff_id = staff.principal.unwrap().id;
    for (id, token, name, role) in [
        (staff_id.as_str(), staff.token.as_str(), "Entebbe course office", format!("(Training centre {})", centre.id)),
        (state_id.as_str(), state_token.as_str(), "FRA mission", "(FRA)".to_string()),
    ] {
        let (cookie, _) = s.sign_in(token).await;
        let page = s.get("/", &cookie).await;
        assert_eq!(page.status, 200);
        let who = page.body.split("class=\"who\"").nth(1).expect("the header's who box");
        assert!(who.contains(&format!("<strong>{name}</strong> {role}")), "{name}: {who}");
        assert!(!who.contains(id), "the header names {id} by its display name: {who}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_enum_values_read_in_the_pages_language() {
    let s = ConsoleServer::start().await;
    let (_, gha) = s.principal(api::PrincipalKind::MemberState, "GHA").await;
    let need = s.create_need(&gha, crate::harness::need("GHA")).await;
    let (cookie, _) = s.sign_in(&gha).await;
    let cell = |body: &str, text: &str| body.contains(&format!("<td>{text}</td>"));
    let en = s.get("/needs?lang=en", &cookie).await.body;
    assert!(cell(&en, "Open") && cell(&en, "Engineering"), "{en}");
    let fr = s.get("/needs?lang=fr", &cookie).await.body;
    assert!(cell(&fr, "Ouvert") && cell(&fr, "Génie"), "{fr}");
    assert!(
        !cell(&fr, "OPEN") && !cell(&fr, "Open") && !cell(&fr, "ENGINEERING"),
        "English enum names on a French page"
    );
    let page = s.get(&format!("/needs/{}?lang=fr", need.id), &cookie).await.body;
    assert!(page.contains("<dd>Ouvert</dd>"), "{page}");
    assert!(!page.contains("<dd>OPEN</dd>") && !page.contains("<dd>Open</dd>"));
    // The filter's options are translated too; their values stay the enum numbers.
    assert!(fr.contains(&format!("<option value=\"{}\">Ouvert</option>", api::NeedState::Open as i32)), "{fr}");
}

/// A need's explanation on a French page: each blocking rule in French, ids and codes kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_french_explanation_names_the_blocking_rules_in_french() {
    let s = ConsoleServer::start().await;
    let (_, gha) = s.principal(api::PrincipalKind::MemberState, "GHA").await;
    let (_, fra) = s.principal(api::PrincipalKind::MemberState, "FRA").await;
    let need = s.create_need(&gha, crate::harness::need("GHA")).await;
    let offer = api::Offer {
        languages: vec!["fr".into()],
        excluded_recipients: vec!["GHA".into()],
        ..crate::harness::delivery_offer("FRA")
    };
    let offer = s.create_offer(&fra, offer).await;
    let (cookie, _) = s.sign_in(&s.admin).await;
    let en = s.get(&format!("/needs/{}", need.id), &cookie).await.body;
    assert!(en.contains(&format!("offer {} excludes GHA", offer.id)), "{en}");
    assert!(en.contains("offer delivers in fr; need accepts en"), "{en}");
    let fr = s.get(&format!("/needs/{}?lang=fr", need.id), &cookie).await.body;
    assert!(fr.contains(&format!("{} exclut GHA", offer.id)), "{fr}");
    assert!(fr.contains("est dispensée en fr\u{a0}; le besoin accepte\u{a0}: en"), "{fr}");
    assert!(!fr.contains("excludes") && !fr.contains("delivers in"), "English on a French page: {fr}");
}

/// A proposed match's reasons (the engine writes them in English) read in French on a
/// French match page, with the offer's id and the dates kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_french_match_page_gives_the_engines_reasons_in_french() {
    let s = ConsoleServer::start().await;
    let (_, gha) = s.principal(api::PrincipalKind::MemberState, "GHA").await;
    let (_, fra) = s.principal(api::PrincipalKind::MemberState, "FRA").await;
    s.create_need(&gha, crate::harness::need("GHA")).await;
    let offer = s.create_offer(&fra, crate::harness::delivery_offer("FRA")).await;
    let approved = s.approve_first_proposal().await;
    let m = approved.r#match.expect("the approved match");
    assert!(m.reasons.iter().any(|r| r.contains("can start")), "{:?}", m.reasons);
    let (cookie, _) = s.sign_in(&s.admin).await;
    let en = s.get("/matches", &cookie).await.body;
    assert!(en.contains("can start"), "{en}");
    let fr = s.get("/matches?lang=fr", &cookie).await.body;
    assert!(fr.contains("peut commencer le"), "{fr}");
    assert!(fr.contains("échéance du besoin"), "{fr}");
    assert!(fr.contains(&offer.title) || fr.contains(&offer.id), "{fr}");
    for english in ["can start", "days before the need's deadline", " seats"] {
        assert!(!fr.contains(english), "English {english:?} on a French page: {fr}");
    }
}

/// Refusals the console once showed in English on a French page: a field violation with
/// a value in it (the category) and a permission refusal naming the state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_french_need_form_shows_the_services_refusals_in_french() {
    let s = ConsoleServer::start().await;
    let (_, gha) = s.principal(api::PrincipalKind::MemberState, "GHA").await;
    let (cookie, _) = s.sign_in(&gha).await;
    let csrf = s.get("/needs/new?lang=fr", &cookie).await.hidden("csrf").unwrap();
    let equipment = (api::SupportCategory::Equipment as i32).to_string();
    let fields = [
        ("csrf", csrf.as_str()),
        ("requester", "GHA"),
        ("category", equipment.as_str()),
        ("capability", "1"),
        ("title", "Generators"),
        ("quantity", "5"),
        ("women_quantity", "2"),
        ("languages", "en"),
        ("needed_by", "2027-12-01"),
        ("priority", "2"),
    ];
    let before = s.store.content_digest().unwrap();
    let r = s.post("/needs?lang=fr", &cookie, &fields).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains(
            "id=\"women_quantity-error\">doit être 0 pour un besoin de type équipement (seuls la formation, le mentorat"
        ),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("requête invalide\u{a0}: need.women_quantity\u{a0}: doit être 0"),
        "the banner too: {}",
        r.body
    );
    assert!(!r.body.contains("must be 0") && !r.body.contains("women seats exist"), "English on a French page");

    // Another state as requester: the service's permission refusal, in French.
    let theirs: Vec<(&str, &str)> = fields
        .iter()
        .map(|&(k, v)| match k {
            "requester" => (k, "UGA"),
            "women_quantity" => (k, "0"),
            _ => (k, v),
        })
        .collect();
    let r = s.post("/needs?lang=fr", &cookie, &theirs).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("GHA ne peut pas agir au nom de UGA."), "{}", r.body);
    assert!(!r.body.contains("cannot act"), "English on a French page: {}", r.body);
    // The same refusals in English are the service's own words.
    let r = s.post("/needs", &cookie, &theirs).await;
    assert!(r.body.contains("GHA cannot act for UGA"), "{}", r.body);
    assert_eq!(s.store.content_digest().unwrap(), before, "a refused form changes nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_state_creates_and_edits_its_offer_with_field_violations_marked() {
    let s = ConsoleServer::start().await;
    let (_, gha) = s.principal(api::PrincipalKind::MemberState, "GHA").await;
    let (_, npl) = s.principal(api::PrincipalKind::MemberState, "NPL").await;
    let (cookie, _) = s.sign_in(&gha).await;
    let form = s.get("/offers/new", &cookie).await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("name=\"providers\" value=\"GHA\""), "the state's code is the provider");
    let csrf = form.hidden("csrf").unwrap();
    let fields = [
        ("csrf", csrf.as_str()),
        ("providers", "GHA"),
        ("role", "1"),
        ("category", "1"),
        ("capability", "1"),
        ("title", "HEE course"),
        ("capacity", "0"),
        ("available_from", "2027-09-01"),
        ("available_until", "2028-03-01"),
        ("languages", "en, fr"),
        ("mode", "1"),
        ("duration_days", "28"),
    ];
    let before = s.store.content_digest().unwrap();
    let r = s.post("/offers", &cookie, &fields).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("id=\"capacity-error\""), "capacity is marked: {}", r.body);
    assert_eq!(s.store.content_digest().unwrap(), before, "a refused form changes nothing");
    let ok: Vec<(&str, &str)> = fields.iter().map(|&(k, v)| if k == "capacity" { (k, "24") } else { (k, v) }).collect();
    let created = s.post("/offers", &cookie, &ok).await;
    assert_eq!(created.status, 303, "{}", created.body);
    let to = created.header("location").unwrap().to_string();
    let id = to.trim_start_matches("/offers/").to_string();
    let mut offers = api::offer_service_client::OfferServiceClient::new(s.channel().await);
    let get = |offers: &mut api::offer_service_client::OfferServiceClient<Channel>, token: &str| {
        let req = authed(token, api::GetOfferRequest { id: id.clone() });
        let mut offers = offers.clone();
        async move { offers.get_offer(req).await.unwrap().into_inner() }
    };
    let offer = get(&mut offers, &gha).await;
    assert_eq!(offer.providers, ["GHA"]);
    assert_eq!((offer.capacity, offer.duration_days, offer.title.as_str()), (24, 28, "HEE course"));
    assert_eq!(offer.languages, ["en", "fr"]);

    // Edit: only the changed field is sent (the update mask), with the etag read.
    let edit = s.get(&format!("/offers/new?edit={id}"), &cookie).await;
    assert_eq!(edit.status, 200);
    assert!(edit.body.contains("value=\"HEE course\""));
    // The page's etag, as a browser reads the attribute.
    let etag = edit.hidden("etag").unwrap().replace("&quot;", "\"").replace("&amp;", "&");
    assert_eq!(etag, offer.etag);
    let mut changed: Vec<(&str, &str)> =
        ok.iter().map(|&(k, v)| if k == "title" { (k, "HEE operators course") } else { (k, v) }).collect();
    changed.extend([("action", "update"), ("etag", etag.as_str())]);
    let saved = s.post(&to, &cookie, &changed).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let offer = get(&mut offers, &gha).await;
    assert_eq!(offer.title, "HEE operators course");
    assert_eq!(offer.capacity, 24);

    // Another state's edit is refused by the service and changes nothing.
    let (npl_cookie, _) = s.sign_in(&npl).await;
    let npl_csrf = s.get("/offers/new", &npl_cookie).await.hidden("csrf").unwrap();
    let mut theirs: Vec<(&str, &str)> =
        ok.iter().map(|&(k, v)| if k == "csrf" { (k, npl_csrf.as_str()) } else { (k, v) }).collect();
    theirs.extend([("action", "update"), ("etag", offer.etag.as_str()), ("description", "taken over")]);
    let before = s.store.content_digest().unwrap();
    let r = s.post(&to, &npl_cookie, &theirs).await;
    assert_ne!(r.status, 303, "{}", r.body);
    assert_eq!(s.store.content_digest().unwrap(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_events_name_their_actors_for_the_secretariat() {
    let s = ConsoleServer::start().await;
    let (gha_id, gha) = s.principal(api::PrincipalKind::MemberState, "GHA").await;
    s.create_need(&gha, crate::harness::need("GHA")).await;
    let (cookie, _) = s.sign_in(&s.admin).await;
    let events = s.get("/events", &cookie).await;
    assert_eq!(events.status, 200);
    assert!(events.body.contains(&format!("<td>GHA mission ({gha_id})</td>")), "{}", events.body);
    assert!(events.body.contains("<td>Need created</td>"), "the event kind is named too");
}

/// The ids of a list page's rows, in the order shown, and its "next" link (unescaped).
fn listed(page: &Resp, base: &str) -> (Vec<String>, Option<String>) {
    let marker = format!("<td><a href=\"{base}/");
    let ids = page.body.split(&marker).skip(1).filter_map(|rest| rest.split('"').next().map(str::to_string)).collect();
    let next = page.body.split("\" rel=\"next\"").next().filter(|_| page.body.contains("rel=\"next\"")).and_then(|b| {
        let start = b.rfind("href=\"")? + "href=\"".len();
        Some(b[start..].replace("&amp;", "&"))
    });
    (ids, next)
}

/// Every row id of a console list from `path`, following its "next" links.
async fn all_pages(s: &ConsoleServer, cookie: &str, path: &str, base: &str) -> Vec<String> {
    let (mut all, mut at) = (Vec::new(), Some(path.to_string()));
    while let Some(p) = at {
        let page = s.get(&p, cookie).await;
        assert_eq!(page.status, 200, "{p}: {}", page.body);
        let (ids, next) = listed(&page, base);
        assert!(ids.len() <= 25, "{p}: a page holds at most 25 rows");
        all.extend(ids);
        at = next;
    }
    all
}

fn num(id: &str) -> u64 {
    id.rsplit('-').next().and_then(|n| n.parse().ok()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_sorts_the_whole_list_across_pages_as_the_callers_grpc_list_sorted() {
    let s = ConsoleServer::start().await;
    let (_, gha) = s.principal(api::PrincipalKind::MemberState, "GHA").await;
    let (_, npl) = s.principal(api::PrincipalKind::MemberState, "NPL").await;
    let needs = api::need_service_client::NeedServiceClient::new(s.channel().await);
    // 40 of Ghana's needs and 20 of Nepal's, their quantities and titles in no id order.
    for i in 0..60u32 {
        let (state, token) = if i % 3 == 2 { ("NPL", &npl) } else { ("GHA", &gha) };
        let need = api::Need {
            quantity: 1 + (i * 37) % 23,
            women_quantity: 0,
            title: format!("{} course {i}", ["Medics", "engineers", "Pilots", "drivers"][(i as usize * 7) % 4]),
            ..crate::harness::need(state)
        };
        s.create_need(token, need).await;
    }
    // Each caller's whole list by gRPC, in the service's paging.
    let grpc_list = |token: String| {
        let mut needs = needs.clone();
        async move {
            let (mut all, mut page_token) = (Vec::new(), String::new());
            loop {
                let req = api::ListNeedsRequest { page_size: 7, page_token, ..Default::default() };
                let r = needs.list_needs(authed(&token, req)).await.unwrap().into_inner();
                all.extend(r.needs);
                if r.next_page_token.is_empty() {
                    return all;
                }
                page_token = r.next_page_token;
            }
        }
    };
    for token in [s.admin.clone(), gha.clone()] {
        let (cookie, _) = s.sign_in(&token).await;
        let mut full = grpc_list(token.clone()).await;
        assert!(full.len() > 25, "more rows than a page");
        let ids = |v: &[api::Need]| v.iter().map(|n| n.id.clone()).collect::<Vec<_>>();
        full.sort_by(|a, b| b.quantity.cmp(&a.quantity).then(num(&a.id).cmp(&num(&b.id))));
        assert_eq!(
            all_pages(&s, &cookie, "/needs?sort=-quantity", "/needs").await,
            ids(&full),
            "by quantity, descending"
        );
        full.sort_by(|a, b| a.title.to_lowercase().cmp(&b.title.to_lowercase()).then(num(&a.id).cmp(&num(&b.id))));
        assert_eq!(all_pages(&s, &cookie, "/needs?sort=title", "/needs").await, ids(&full), "by title");
        full.sort_by_key(|n| std::cmp::Reverse(num(&n.id)));
        assert_eq!(
            all_pages(&s, &cookie, "/needs?sort=-id", "/needs").await,
            ids(&full),
            "ids numerically, need-9 after need-10"
        );
        // The unsorted list pages the service's id order.
        full.reverse();
        assert_eq!(all_pages(&s, &cookie, "/needs", "/needs").await, ids(&full));
        // A filter and a sort together: Nepal's needs (none for Ghana's mission).
        let npl_first = s.get("/needs?requester=NPL&sort=-quantity", &cookie).await;
        let (shown, _) = listed(&npl_first, "/needs");
        if token == gha {
            assert!(shown.is_empty(), "Ghana sees none of Nepal's needs");
        } else {
            assert_eq!(shown.len(), 20);
        }
    }
    // A change shows at once: the order is rebuilt after a commit.
    let (cookie, _) = s.sign_in(&gha).await;
    let before = s.get("/needs?sort=-quantity", &cookie).await;
    let big = api::Need { quantity: 500, women_quantity: 0, ..crate::harness::need("GHA") };
    let created = s.create_need(&gha, big).await;
    assert_ne!(listed(&before, "/needs").0[0], created.id);
    let after = s.get("/needs?sort=-quantity", &cookie).await;
    assert_eq!(listed(&after, "/needs").0[0], created.id, "the new largest need comes first");

    // Offers sort the same way.
    let mut offers = api::offer_service_client::OfferServiceClient::new(s.channel().await);
    for i in 0..30u32 {
        let offer = api::Offer { capacity: 1 + (i * 11) % 17, ..crate::harness::delivery_offer("GHA") };
        s.create_offer(&gha, offer).await;
    }
    let mut full = Vec::new();
    let mut page_token = String::new();
    loop {
        let req = api::ListOffersRequest { page_size: 500, page_token, ..Default::default() };
        let r = offers.list_offers(authed(&gha, req)).await.unwrap().into_inner();
        full.extend(r.offers);
        if r.next_page_token.is_empty() {
            break;
        }
        page_token = r.next_page_token;
    }
    full.sort_by(|a, b| a.capacity.cmp(&b.capacity).then(num(&a.id).cmp(&num(&b.id))));
    let expected: Vec<String> = full.iter().map(|o| o.id.clone()).collect();
    assert_eq!(all_pages(&s, &cookie, "/offers?sort=capacity", "/offers").await, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_states_read_actors_by_role_never_by_another_principals_id() {
    let s = ConsoleServer::start().await;
    let (uga_id, uga) = s.principal(api::PrincipalKind::MemberState, "UGA").await;
    let (ken_id, ken) = s.principal(api::PrincipalKind::MemberState, "KEN").await;
    s.create_offer(&ken, api::Offer { capacity: 1, ..crate::harness::delivery_offer("KEN") }).await;
    s.create_need(&uga, api::Need { quantity: 1, women_quantity: 0, ..crate::harness::need("UGA") }).await;
    let approved = s.approve_first_proposal().await;
    let arrangement = approved.arrangements.first().expect("an arrangement").id.clone();
    // Both parties consent: UGA first, KEN's consent makes it AGREED.
    let mut arrangements = api::arrangement_service_client::ArrangementServiceClient::new(s.channel().await);
    for token in [&uga, &ken] {
        let req = api::RespondToArrangementRequest { id: arrangement.clone(), accept: true, ..Default::default() };
        arrangements.respond_to_arrangement(authed(token, req)).await.unwrap();
    }
    let admin_id = api::admin_service_client::AdminServiceClient::new(s.channel().await)
        .list_principals(authed(&s.admin, api::ListPrincipalsRequest { page_size: 100, page_token: String::new() }))
        .await
        .unwrap()
        .into_inner()
        .principals
        .into_iter()
        .find(|p| p.kind == api::PrincipalKind::Secretariat as i32)
        .unwrap()
        .id;
    let history = |page: &Resp, caption: &str| {
        let table = page.body.split(&format!("<caption>{caption}")).nth(1).expect("a history table").to_string();
        table.split("</table>").next().unwrap().to_string()
    };
    let path = format!("/arrangements/{arrangement}");
    // UGA: the Secretariat's creation and KEN's consent by role, never by id.
    let (cookie, _) = s.sign_in(&uga).await;
    let uga_view = history(&s.get(&path, &cookie).await, "History");
    assert!(uga_view.contains("<td>Secretariat</td>"), "{uga_view}");
    assert!(uga_view.contains("<td>A party&#39;s mission</td>"), "{uga_view}");
    for id in [&admin_id, &ken_id, &uga_id] {
        assert!(!uga_view.contains(id.as_str()), "{id} shown to UGA: {uga_view}");
    }
    assert!(!uga_view.contains("KEN mission"), "{uga_view}");
    let fr = history(&s.get(&format!("{path}?lang=fr"), &cookie).await, "Historique");
    assert!(fr.contains("<td>Secrétariat</td>"), "{fr}");
    // KEN made the change to AGREED: its own name, marked as its own.
    let (cookie, _) = s.sign_in(&ken).await;
    let ken_view = history(&s.get(&path, &cookie).await, "History");
    assert!(ken_view.contains("<td>KEN mission (you)</td>"), "{ken_view}");
    assert!(!ken_view.contains(ken_id.as_str()) && !ken_view.contains(admin_id.as_str()), "{ken_view}");
    // The Secretariat reads every actor's name with its id.
    let (cookie, _) = s.sign_in(&s.admin).await;
    let sec_view = history(&s.get(&path, &cookie).await, "History");
    assert!(sec_view.contains(&format!("<td>KEN mission ({ken_id})</td>")), "{sec_view}");
}

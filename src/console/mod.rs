//! The web console: server-rendered HTML over HTTP/1.1 on its own listener
//! (`--console-listen`), for people who do not write gRPC clients.
//!
//! One authorization path: every page calls the tonic service methods of [`Services`]
//! in-process, with a request whose extensions carry the signed-in session's [`Caller`]
//! exactly as the gRPC auth layer would put it there. The console never reads or writes a
//! record by itself, so it shows and changes exactly what the principal's gRPC calls
//! would, with the same validation, idempotency and events.
//!
//! Cross-cutting rules live in one middleware ([`guard`]): security headers on every
//! response, and on every POST a valid per-session CSRF token (403 otherwise, before any
//! handler runs).

mod call;
mod catalogue_en;
mod catalogue_fr;
mod charts;
mod html;
mod i18n;
pub mod listener;
mod order;
mod pages;
mod reasons_fr;
mod service_fr;
mod session;

use crate::domain::{Caller, Role};
use crate::service::Services;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::{HeaderMap, HeaderValue, StatusCode, header};
pub use i18n::Lang;
use session::{LANG_COOKIE, LOGIN_COOKIE, SESSION_COOKIE, Sessions};
use std::sync::Arc;
use std::time::Duration;

/// Largest form body read.
const MAX_FORM_BYTES: usize = 64 * 1024;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'";

/// What every console handler shares.
pub struct Console {
    pub ctx: Services,
    pub sessions: Sessions,
    /// Cookies carry `Secure` (the console is served over TLS).
    pub secure: bool,
    pub health: tonic_health::server::HealthService,
    /// Sorted orders of whole lists, kept while the store is unchanged.
    pub orders: order::Orders,
    /// The overview's reports per principal, kept while the store is unchanged.
    pub overviews: order::Memo<Arc<pages::overview::Reports>>,
}

pub type Shared = Arc<Console>;

impl Console {
    pub fn new(ctx: Services, idle: Duration, secure: bool, health: tonic_health::server::HealthService) -> Shared {
        Arc::new(Console {
            ctx,
            sessions: Sessions::new(idle),
            secure,
            health,
            orders: order::Orders::default(),
            overviews: order::Memo::new(64),
        })
    }
}

/// The console's routes, with the guard middleware.
pub fn router(console: Shared) -> axum::Router {
    let routes = axum::Router::new()
        .route("/healthz", get(healthz))
        .route("/assets/console.css", get(css))
        .route("/assets/console.js", get(js))
        .route("/login", get(pages::login::form).post(pages::login::submit))
        .route("/logout", post(pages::login::logout))
        .route("/", get(pages::overview::show))
        .route("/needs", get(pages::needs::list).post(pages::needs::create))
        .route("/needs/new", get(pages::needs::new_form))
        .route("/needs/{id}", get(pages::needs::show).post(pages::needs::act))
        .route("/offers", get(pages::offers::list).post(pages::offer_form::create))
        .route("/offers/new", get(pages::offer_form::new_form))
        .route("/offers/{id}", get(pages::offers::show).post(pages::offers::act))
        .route("/matches", get(pages::matches::list).post(pages::matches::act))
        .route("/arrangements", get(pages::arrangements::board))
        .route("/arrangements/{id}", get(pages::arrangements::show).post(pages::arrangements::act))
        .route("/reports/{name}", get(pages::reports::show))
        .route("/events", get(pages::admin::events))
        .route("/principals", get(pages::admin::principals).post(pages::admin::principals_act))
        .fallback(not_found_page);
    routes.layer(axum::middleware::from_fn_with_state(console.clone(), guard)).with_state(console)
}

/// Serves the console on `listener` until `shutdown` resolves.
pub async fn serve(
    console: Shared,
    listener: listener::ConsoleListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Prometheus scrapes /metrics without a session, so it sits outside the guard.
    let app = router(console.clone()).merge(crate::metrics_http::router(console.ctx.clone()));
    axum::serve(listener, app.into_make_service_with_connect_info::<listener::ClientAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}

/// The language of a request: `?lang=`, then the language cookie, then Accept-Language.
pub fn lang_of(headers: &HeaderMap, query: Option<&str>) -> Lang {
    query_lang(query)
        .or_else(|| session::cookie(headers, LANG_COOKIE).and_then(|c| Lang::parse(&c)))
        .or_else(|| {
            headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).and_then(Lang::from_accept_language)
        })
        .unwrap_or(Lang::En)
}

fn query_lang(query: Option<&str>) -> Option<Lang> {
    query?.split('&').find_map(|p| p.strip_prefix("lang=")).and_then(Lang::parse)
}

/// Security headers on every response; a valid CSRF token on every POST.
async fn guard(State(console): State<Shared>, req: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let method = req.method().clone();
    // The path only: a query may hold a page token, never a bearer token (none is ever
    // put in a URL), but the path is what an access log needs.
    let path = req.uri().path().to_string();
    let lang = lang_of(req.headers(), req.uri().query());
    let chosen = query_lang(req.uri().query());
    let mut response = if req.method() == http::Method::POST {
        match check_post(&console, req).await {
            Ok(req) => next.run(req).await,
            Err(refusal) => refusal(lang),
        }
    } else {
        next.run(req).await
    };
    // Nothing shown before it is safe, as for gRPC reads (server::SettleLayer): a page
    // leaves only once every change it may show is durable; if the store failed
    // meanwhile, it is refused instead.
    if let Err(e) = console.ctx.store.settled().await {
        tracing::warn!(error = %e, %path, "console page withheld: the store failed");
        response = (http::StatusCode::SERVICE_UNAVAILABLE, "the store is unavailable").into_response();
    }
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if let Some(l) = chosen {
        let cookie = session::set_cookie(LANG_COOKIE, l.code(), console.secure, Some(365 * 86_400));
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            h.append(header::SET_COOKIE, v);
        }
    }
    tracing::debug!(%method, %path, status = response.status().as_u16(), latency_us = started.elapsed().as_micros() as u64, "console");
    response
}

type Refusal = Box<dyn FnOnce(Lang) -> Response + Send>;

/// Reads a POST's form and checks its CSRF token: the session's for a signed-in request,
/// the sign-in cookie's for `/login`. Gives the request back with its body restored.
async fn check_post(console: &Console, req: Request) -> Result<Request, Refusal> {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
        return Err(Box::new(|_| (StatusCode::PAYLOAD_TOO_LARGE, "form too large").into_response()));
    };
    let form = Form::parse(&bytes);
    let sent = form.get("csrf");
    let expected = if parts.uri.path() == "/login" {
        session::cookie(&parts.headers, LOGIN_COOKIE)
    } else {
        match session::cookie(&parts.headers, SESSION_COOKIE).and_then(|id| console.sessions.get(&id)) {
            Some(s) => Some(s.csrf),
            None => None,
        }
    };
    let valid = match expected {
        Some(expected) => {
            !sent.is_empty() && bool::from(subtle::ConstantTimeEq::ct_eq(sent.as_bytes(), expected.as_bytes()))
        }
        None => false,
    };
    if !valid {
        tracing::info!(path = %parts.uri.path(), "console POST refused: missing or invalid CSRF token");
        return Err(Box::new(csrf_refused));
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

fn csrf_refused(lang: Lang) -> Response {
    let frame = html::Frame { lang, here: "/", who: None, live: false };
    let body = format!(
        "{}<p><a href=\"/\">{}</a></p>",
        html::notice("error", i18n::t(lang, "csrf_refused")),
        i18n::t(lang, "back_overview")
    );
    (StatusCode::FORBIDDEN, html_response(html::page(&frame, i18n::t(lang, "forbidden"), &body))).into_response()
}

pub fn html_response(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

/// A signed-in request: its session, caller and language. Extracting it sends a request
/// without a live session (none, idle, or its principal revoked) to the sign-in page.
pub struct Ui {
    pub session_id: String,
    pub caller: Caller,
    pub name: String,
    pub csrf: String,
    pub lang: Lang,
    /// Path and query of this request.
    pub here: String,
    pub console: Shared,
    /// The message a POST left for this page.
    pub flash: Option<(&'static str, String)>,
}

impl FromRequestParts<Shared> for Ui {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut http::request::Parts, console: &Shared) -> Result<Ui, Response> {
        let lang = lang_of(&parts.headers, parts.uri.query());
        let to_login = || {
            let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, "/login")]).into_response();
            let _ = lang;
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        };
        let Some(id) = session::cookie(&parts.headers, SESSION_COOKIE) else { return Err(to_login()) };
        // The script's refreshes (see assets/console.js) neither keep the session alive nor
        // take the message a POST left for the person's next page.
        let refresh = parts.headers.get("x-requested-with").is_some_and(|v| v.as_bytes() == b"lcm-live");
        let Some(s) = console.sessions.get_touching(&id, !refresh) else { return Err(to_login()) };
        if !console.ctx.auth.still_valid(&s.caller) {
            console.sessions.end_principal(&s.caller.principal_id);
            tracing::info!(principal = %s.caller.principal_id, "console session ended: principal revoked");
            return Err(to_login());
        }
        let here = parts.uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
        let flash = if parts.method == http::Method::GET && !refresh { console.sessions.take_flash(&id) } else { None };
        Ok(Ui {
            session_id: id,
            caller: s.caller,
            name: s.display_name,
            csrf: s.csrf,
            lang,
            here,
            flash,
            console: console.clone(),
        })
    }
}

impl Ui {
    pub fn t(&self, key: &'static str) -> &'static str {
        i18n::t(self.lang, key)
    }

    /// The text of `key` followed by its colon, in this page's typography.
    pub fn t_colon(&self, key: &'static str) -> String {
        format!("{}{}", i18n::t(self.lang, key), i18n::colon(self.lang))
    }

    /// The name people read for an API enum value, in this page's language.
    pub fn label(&self, api_name: &str) -> String {
        i18n::label(self.lang, api_name)
    }

    pub fn ctx(&self) -> &Services {
        &self.console.ctx
    }

    pub fn is_secretariat(&self) -> bool {
        self.caller.is_secretariat()
    }

    pub fn is_centre(&self) -> bool {
        matches!(self.caller.role, Role::TrainingCentre(_))
    }

    /// The role in the header: "Secretariat", the state's code, or the centre's id.
    pub fn role_text(&self) -> String {
        match self.caller.role {
            Role::Secretariat => self.label("PRINCIPAL_KIND_SECRETARIAT"),
            Role::MemberState(s) => s.to_string(),
            Role::TrainingCentre(c) => {
                format!("{} {}", self.label("PRINCIPAL_KIND_TRAINING_CENTRE"), c.render(crate::domain::Kind::Centre))
            }
        }
    }

    /// A tonic request carrying this session's caller, as the auth layer would.
    pub fn rq<T>(&self, message: T) -> tonic::Request<T> {
        let mut r = tonic::Request::new(message);
        r.extensions_mut().insert(self.caller.clone());
        r
    }

    /// The whole page around `body`.
    pub fn page(&self, title: &str, body: &str) -> Response {
        self.page_live(title, body, false)
    }

    pub fn page_live(&self, title: &str, body: &str, live: bool) -> Response {
        let role = self.role_text();
        let body = match &self.flash {
            Some((kind, text)) => format!("{}{body}", html::notice(kind, text)),
            None => body.to_string(),
        };
        let frame = html::Frame {
            lang: self.lang,
            here: &self.here,
            who: Some((&self.name, &role, &self.csrf, self.is_secretariat())),
            live,
        };
        html_response(html::page(&frame, title, &body))
    }

    pub fn not_found(&self) -> Response {
        let body = format!("<p>{}</p><p><a href=\"/\">{}</a></p>", self.t("not_found_text"), self.t("back_overview"));
        let mut r = self.page(self.t("not_found"), &body);
        *r.status_mut() = StatusCode::NOT_FOUND;
        r
    }

    /// After a POST: back to `to` (303).
    pub fn redirect(&self, to: &str) -> Response {
        (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response()
    }

    /// After a POST: back to `to`, with a message shown there once.
    pub fn redirect_with(&self, to: &str, kind: &'static str, text: String) -> Response {
        self.console.sessions.flash(&self.session_id, kind, text);
        self.redirect(to)
    }

    /// After a service call from a POST: "done" or the refusal in plain words, then `to`.
    pub fn after<T>(&self, to: &str, result: Result<T, tonic::Status>) -> Response {
        match result {
            Ok(_) => self.redirect_with(to, "ok", self.t("done").to_string()),
            Err(status) => {
                let r = call::refusal(self.lang, &status);
                self.redirect_with(to, "error", format!("{} {}", self.t_colon("refused"), r.plain()))
            }
        }
    }
}

/// A parsed `application/x-www-form-urlencoded` body or query string.
#[derive(Debug, Default)]
pub struct Form(Vec<(String, String)>);

impl Form {
    pub fn parse(bytes: &[u8]) -> Form {
        let text = String::from_utf8_lossy(bytes);
        Form(
            text.split('&')
                .filter(|p| !p.is_empty())
                .map(|pair| {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    (decode(k), decode(v))
                })
                .collect(),
        )
    }

    pub fn query(uri: &http::Uri) -> Form {
        Form::parse(uri.query().unwrap_or("").as_bytes())
    }

    /// The first value of `name`, or "".
    pub fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }
}

fn decode(s: &str) -> String {
    let s = s.replace('+', " ");
    percent_encoding::percent_decode_str(&s).decode_utf8_lossy().into_owned()
}

async fn healthz(State(console): State<Shared>) -> Response {
    use tonic_health::pb::health_server::Health;
    let check =
        console.health.check(tonic::Request::new(tonic_health::pb::HealthCheckRequest { service: String::new() }));
    match check.await {
        Ok(r) if r.get_ref().status == tonic_health::pb::health_check_response::ServingStatus::Serving as i32 => {
            ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "ok").into_response()
        }
        _ => (StatusCode::SERVICE_UNAVAILABLE, "not serving").into_response(),
    }
}

async fn css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=300")],
        include_str!("assets/console.css"),
    )
        .into_response()
}

async fn js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "max-age=300")],
        include_str!("assets/console.js"),
    )
        .into_response()
}

/// The 404 page, for signed-in and signed-out visitors alike.
async fn not_found_page(headers: HeaderMap, uri: http::Uri) -> Response {
    let lang = lang_of(&headers, uri.query());
    let frame = html::Frame { lang, here: uri.path(), who: None, live: false };
    let body = format!(
        "<p>{}</p><p><a href=\"/\">{}</a></p>",
        i18n::t(lang, "not_found_text"),
        i18n::t(lang, "back_overview")
    );
    (StatusCode::NOT_FOUND, html_response(html::page(&frame, i18n::t(lang, "not_found"), &body))).into_response()
}

/// The client address of a request served with connect info.
pub fn client_addr(req_ext: &http::Extensions) -> std::net::IpAddr {
    req_ext.get::<ConnectInfo<listener::ClientAddr>>().map_or(std::net::IpAddr::from([0, 0, 0, 0]), |c| c.0.0.ip())
}

/// The body of a form POST (the guard already read and checked it).
pub fn form_of(bytes: &Bytes) -> Form {
    Form::parse(bytes)
}

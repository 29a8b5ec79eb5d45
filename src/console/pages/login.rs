//! Sign-in (token → server-side session), sign-out, and the failed sign-in limit.

use crate::console::html::{self, E, Frame};
use crate::console::i18n::t;
use crate::console::session::{self, LOGIN_COOKIE, SESSION_COOKIE};
use crate::console::{Form, Shared, Ui, client_addr, html_response, lang_of};
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

fn login_page(
    console: &Shared,
    lang: crate::console::Lang,
    here: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let nonce = session::random_id();
    let frame = Frame { lang, here, who: None, live: false };
    let mut body = String::new();
    if let Some(e) = error {
        body.push_str(&html::notice("error", e));
    }
    body.push_str(&format!(
        "<form method=\"post\" action=\"/login\" class=\"card narrow\">{csrf}\
         <p>{help}</p><div class=\"field\"><label for=\"token\">{token}</label>\
         <input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"off\" required autofocus spellcheck=\"false\"></div>\
         <button type=\"submit\" class=\"primary\">{sign_in}</button></form>",
        csrf = html::csrf_field(&nonce),
        help = E(t(lang, "sign_in_help")),
        token = t(lang, "token"),
        sign_in = t(lang, "sign_in"),
    ));
    let mut r = (status, html_response(html::page(&frame, t(lang, "sign_in_title"), &body))).into_response();
    if let Ok(v) = HeaderValue::from_str(&session::set_cookie(LOGIN_COOKIE, &nonce, console.secure, Some(3600))) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

pub async fn form(State(console): State<Shared>, req: Request) -> Response {
    let lang = lang_of(req.headers(), req.uri().query());
    let here = req.uri().path_and_query().map_or("/login".to_string(), |p| p.to_string());
    login_page(&console, lang, &here, None, StatusCode::OK)
}

pub async fn submit(State(console): State<Shared>, req: Request) -> Response {
    let lang = lang_of(req.headers(), req.uri().query());
    let addr = client_addr(req.extensions());
    let old = session::cookie(req.headers(), SESSION_COOKIE);
    if console.sessions.sign_in_blocked(addr) {
        tracing::warn!(client = %addr, "console sign-in refused: too many failures");
        return login_page(&console, lang, "/login", Some(t(lang, "too_many")), StatusCode::TOO_MANY_REQUESTS);
    }
    let Ok(bytes) = axum::body::to_bytes(req.into_body(), 64 * 1024).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let form: Form = Form::parse(&bytes);
    let token = form.get("token").trim();
    let caller = HeaderValue::from_str(&format!("Bearer {token}"))
        .ok()
        .and_then(|h| console.ctx.auth.authenticate(Some(&h)).ok());
    let Some(caller) = caller else {
        console.sessions.sign_in_failed(addr);
        tracing::info!(client = %addr, "console sign-in failed");
        return login_page(&console, lang, "/login", Some(t(lang, "sign_in_failed")), StatusCode::UNAUTHORIZED);
    };
    let display_name = display_name(&console, &caller);
    if let Some(old) = old {
        console.sessions.end(&old);
    }
    let id = console.sessions.start(caller.clone(), display_name);
    tracing::info!(principal = %caller.principal_id, "console sign-in");
    let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response();
    if let Ok(v) = HeaderValue::from_str(&session::set_cookie(SESSION_COOKIE, &id, console.secure, None)) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&session::set_cookie(LOGIN_COOKIE, "", console.secure, Some(0))) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// The principal's display name, from its own record (what the auth layer reads on every
/// request too): any principal may know its own name, whatever its role may list. The id
/// stands in for a name left empty.
fn display_name(console: &Shared, caller: &crate::domain::Caller) -> String {
    use crate::domain::{Id, Kind, Principal};
    Id::parse(Kind::Principal, &caller.principal_id)
        .and_then(|id| console.ctx.store.get::<Principal>(id).ok().flatten())
        .map(|p| p.display_name)
        .filter(|name| !name.trim().is_empty())
        .unwrap_or_else(|| caller.principal_id.clone())
}

pub async fn logout(ui: Ui, _body: Bytes) -> Response {
    ui.console.sessions.end(&ui.session_id);
    let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, "/login")]).into_response();
    if let Ok(v) = HeaderValue::from_str(&session::set_cookie(SESSION_COOKIE, "", ui.console.secure, Some(0))) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

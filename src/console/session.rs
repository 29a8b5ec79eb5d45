//! Server-side sessions and the sign-in rate limit.
//!
//! A session id is 256 random bits in an `HttpOnly; SameSite=Strict` cookie; the session
//! holds the caller the token resolved to, a CSRF token, and when it was last used. The
//! token itself is never kept: a revoked principal is noticed at the next request
//! (`Authenticator::still_valid`), which ends the session.

use crate::domain::Caller;
use base64::Engine;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

pub const SESSION_COOKIE: &str = "lcm_session";
pub const LOGIN_COOKIE: &str = "lcm_login";
pub const LANG_COOKIE: &str = "lcm_lang";

/// Failed sign-ins allowed per client address per window.
pub const FAILED_SIGN_INS: usize = 10;
pub const FAILED_SIGN_IN_WINDOW: Duration = Duration::from_secs(60);

#[derive(Clone, Debug)]
pub struct Session {
    pub caller: Caller,
    pub display_name: String,
    pub csrf: String,
    last_seen: Instant,
    /// A message for the next page ("ok" or "error", text), shown once.
    flash: Option<(&'static str, String)>,
}

/// 256 random bits, URL-safe base64.
pub fn random_id() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub struct Sessions {
    idle: Duration,
    by_id: Mutex<HashMap<String, Session>>,
    failures: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

impl Sessions {
    pub fn new(idle: Duration) -> Sessions {
        Sessions { idle, by_id: Mutex::default(), failures: Mutex::default() }
    }

    /// Starts a session for `caller`; returns its id.
    pub fn start(&self, caller: Caller, display_name: String) -> String {
        let id = random_id();
        let now = Instant::now();
        let session = Session { caller, display_name, csrf: random_id(), last_seen: now, flash: None };
        let mut map = self.by_id.lock().unwrap_or_else(PoisonError::into_inner);
        map.retain(|_, s| now.duration_since(s.last_seen) < self.idle);
        map.insert(id.clone(), session);
        id
    }

    /// The live session `id`, touched; an idle one is ended.
    pub fn get(&self, id: &str) -> Option<Session> {
        self.get_touching(id, true)
    }

    /// The live session `id`; `touch` false for the pages' own refreshes, which must not
    /// keep an unattended session alive.
    pub fn get_touching(&self, id: &str, touch: bool) -> Option<Session> {
        let now = Instant::now();
        let mut map = self.by_id.lock().unwrap_or_else(PoisonError::into_inner);
        let session = map.get_mut(id)?;
        if now.duration_since(session.last_seen) >= self.idle {
            map.remove(id);
            return None;
        }
        if touch {
            session.last_seen = now;
        }
        Some(session.clone())
    }

    /// Keeps `text` for the session's next page.
    pub fn flash(&self, id: &str, kind: &'static str, text: String) {
        if let Some(s) = self.by_id.lock().unwrap_or_else(PoisonError::into_inner).get_mut(id) {
            s.flash = Some((kind, text));
        }
    }

    /// The message kept for this page, if any (taken).
    pub fn take_flash(&self, id: &str) -> Option<(&'static str, String)> {
        self.by_id.lock().unwrap_or_else(PoisonError::into_inner).get_mut(id).and_then(|s| s.flash.take())
    }

    pub fn end(&self, id: &str) {
        self.by_id.lock().unwrap_or_else(PoisonError::into_inner).remove(id);
    }

    /// Ends every session of the principal (on revocation).
    pub fn end_principal(&self, principal_id: &str) {
        self.by_id.lock().unwrap_or_else(PoisonError::into_inner).retain(|_, s| s.caller.principal_id != principal_id);
    }

    /// Whether `addr` has used up its failed sign-ins for the window.
    pub fn sign_in_blocked(&self, addr: IpAddr) -> bool {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(times) = failures.get_mut(&addr) else { return false };
        while times.front().is_some_and(|t| now.duration_since(*t) >= FAILED_SIGN_IN_WINDOW) {
            times.pop_front();
        }
        times.len() >= FAILED_SIGN_INS
    }

    pub fn sign_in_failed(&self, addr: IpAddr) {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        // Bounded: forget addresses whose failures are all old.
        if failures.len() > 10_000 {
            failures.retain(|_, t| t.back().is_some_and(|t| now.duration_since(*t) < FAILED_SIGN_IN_WINDOW));
        }
        failures.entry(addr).or_default().push_back(now);
    }
}

/// The value of cookie `name` in a request's `Cookie` headers.
pub fn cookie(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value with the console's flags.
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age_s: Option<u64>) -> String {
    let mut c = format!("{name}={value}; HttpOnly; SameSite=Strict; Path=/");
    if let Some(age) = max_age_s {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;

    fn caller() -> Caller {
        Caller { principal_id: "principal-1".into(), role: Role::Secretariat }
    }

    #[test]
    fn idle_sessions_end() {
        let sessions = Sessions::new(Duration::from_millis(20));
        let id = sessions.start(caller(), "x".into());
        assert!(sessions.get(&id).is_some());
        std::thread::sleep(Duration::from_millis(40));
        assert!(sessions.get(&id).is_none());
    }

    #[test]
    fn eleventh_failure_is_blocked() {
        let sessions = Sessions::new(Duration::from_secs(60));
        let addr: IpAddr = [127, 0, 0, 1].into();
        for _ in 0..FAILED_SIGN_INS {
            assert!(!sessions.sign_in_blocked(addr));
            sessions.sign_in_failed(addr);
        }
        assert!(sessions.sign_in_blocked(addr));
        assert!(!sessions.sign_in_blocked([127, 0, 0, 2].into()));
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = http::HeaderMap::new();
        h.insert(http::header::COOKIE, "a=1; lcm_session=abc; b=2".parse().unwrap());
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "c"), None);
    }
}

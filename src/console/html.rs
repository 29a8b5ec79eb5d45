//! HTML building: escaping, the page frame (navigation, language switch, sign-out) and
//! small form helpers. Everything that comes from data goes through [`E`].

use super::i18n::{Lang, t};
use std::fmt::{self, Display, Write};

/// Escapes its text for HTML element content and quoted attribute values.
pub struct E<'a>(pub &'a str);

impl Display for E<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '&' => f.write_str("&amp;")?,
                '<' => f.write_str("&lt;")?,
                '>' => f.write_str("&gt;")?,
                '"' => f.write_str("&quot;")?,
                '\'' => f.write_str("&#39;")?,
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

pub fn esc(s: &str) -> String {
    E(s).to_string()
}

/// Percent-encodes a query parameter value.
pub fn url(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Who the frame is drawn for: nothing when signed out.
pub struct Frame<'a> {
    pub lang: Lang,
    /// The path and query of this page, for the language switch.
    pub here: &'a str,
    /// Signed-in: display name, role text, CSRF token, whether Secretariat.
    pub who: Option<(&'a str, &'a str, &'a str, bool)>,
    /// Pages that refresh their `data-live` regions.
    pub live: bool,
}

/// A link to `here` in the other language.
fn switch_href(here: &str, to: Lang) -> String {
    let (path, query) = here.split_once('?').unwrap_or((here, ""));
    let mut parts: Vec<&str> = query.split('&').filter(|p| !p.is_empty() && !p.starts_with("lang=")).collect();
    let lang = format!("lang={}", to.code());
    parts.push(&lang);
    format!("{path}?{}", parts.join("&"))
}

pub fn page(frame: &Frame<'_>, title: &str, body: &str) -> String {
    let l = frame.lang;
    let mut out = String::with_capacity(body.len() + 2048);
    let other = l.other();
    let _ = write!(
        out,
        "<!doctype html><html lang=\"{code}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · lcm</title><link rel=\"stylesheet\" href=\"/assets/console.css\">\
         <script src=\"/assets/console.js\" defer></script></head><body{live}>\
         <a class=\"skip\" href=\"#main\">{skip}</a><header class=\"top\"><div class=\"brand\">{app}</div>",
        code = l.code(),
        title = E(title),
        live = if frame.live { " data-live-page" } else { "" },
        skip = t(l, "skip"),
        app = t(l, "app"),
    );
    if let Some((name, role, csrf, secretariat)) = frame.who {
        out.push_str("<nav aria-label=\"main\"><ul>");
        let mut links = vec![("/", "overview"), ("/needs", "needs"), ("/offers", "offers"), ("/matches", "matches")];
        links.push(("/arrangements", "arrangements"));
        links.push(("/reports/gaps", "reports"));
        if secretariat {
            links.push(("/events", "events"));
            links.push(("/principals", "principals"));
        }
        let path = frame.here.split('?').next().unwrap_or("/");
        for (href, key) in links {
            let current = if href == "/" {
                path == "/"
            } else {
                path.starts_with(href) || (key == "reports" && path.starts_with("/reports"))
            };
            let _ = write!(
                out,
                "<li><a href=\"{href}\"{cur}>{text}</a></li>",
                cur = if current { " aria-current=\"page\"" } else { "" },
                text = t(l, key)
            );
        }
        out.push_str("</ul></nav>");
        let _ = write!(
            out,
            "<div class=\"who\"><span>{signed} <strong>{name}</strong> ({role})</span>\
             <form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <button type=\"submit\">{out_text}</button></form>",
            signed = t(l, "signed_in_as"),
            name = E(name),
            role = E(role),
            csrf = E(csrf),
            out_text = t(l, "sign_out"),
        );
    } else {
        out.push_str("<div class=\"who\">");
    }
    let _ = write!(
        out,
        "<a class=\"lang\" href=\"{href}\" lang=\"{code}\" hreflang=\"{code}\">{name}</a></div></header>\
         <main id=\"main\" tabindex=\"-1\"><h1>{title}</h1>{body}</main></body></html>",
        href = E(&switch_href(frame.here, other)),
        code = other.code(),
        name = t(other, "lang_name"),
        title = E(title),
    );
    out
}

/// A hidden CSRF field.
pub fn csrf_field(csrf: &str) -> String {
    format!("<input type=\"hidden\" name=\"csrf\" value=\"{}\">", E(csrf))
}

/// A hidden request id: a resubmitted form is answered idempotently.
pub fn request_id_field() -> String {
    format!("<input type=\"hidden\" name=\"request_id\" value=\"{}\">", uuid::Uuid::new_v4())
}

/// A labelled input with its error message, if any.
pub fn field(id: &str, label: &str, input: &str, error: Option<&str>, help: Option<&str>) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<div class=\"field{}\"><label for=\"{id}\">{}</label>",
        if error.is_some() { " invalid" } else { "" },
        E(label)
    );
    if let Some(h) = help {
        let _ = write!(out, "<small id=\"{id}-help\">{}</small>", E(h));
    }
    out.push_str(input);
    if let Some(e) = error {
        let _ = write!(out, "<p class=\"error\" id=\"{id}-error\">{}</p>", E(e));
    }
    out.push_str("</div>");
    out
}

/// `aria-describedby` and `aria-invalid` for an input with help and/or error.
pub fn described(id: &str, help: bool, error: bool) -> String {
    let mut ids = Vec::new();
    if help {
        ids.push(format!("{id}-help"));
    }
    if error {
        ids.push(format!("{id}-error"));
    }
    let mut out = String::new();
    if !ids.is_empty() {
        let _ = write!(out, " aria-describedby=\"{}\"", ids.join(" "));
    }
    if error {
        out.push_str(" aria-invalid=\"true\"");
    }
    out
}

/// A `<select>` over `(value, text)` options with `selected` chosen.
pub fn select(id: &str, options: &[(String, String)], selected: &str, extra: &str) -> String {
    let mut out = format!("<select id=\"{id}\" name=\"{id}\"{extra}>");
    for (value, text) in options {
        let _ = write!(
            out,
            "<option value=\"{}\"{}>{}</option>",
            E(value),
            if value == selected { " selected" } else { "" },
            E(text)
        );
    }
    out.push_str("</select>");
    out
}

/// A one-button form posting to `action` with hidden fields.
pub fn button_form(action: &str, csrf: &str, hidden: &[(&str, &str)], label: &str, class: &str) -> String {
    let mut out = format!("<form method=\"post\" action=\"{}\" class=\"inline\">{}", E(action), csrf_field(csrf));
    out.push_str(&request_id_field());
    for (k, v) in hidden {
        let _ = write!(out, "<input type=\"hidden\" name=\"{}\" value=\"{}\">", E(k), E(v));
    }
    let _ = write!(out, "<button type=\"submit\" class=\"{class}\">{}</button></form>", E(label));
    out
}

/// A message box: `kind` is "ok" or "error".
pub fn notice(kind: &str, text: &str) -> String {
    let role = if kind == "error" { "alert" } else { "status" };
    format!("<div class=\"notice {kind}\" role=\"{role}\">{}</div>", E(text))
}

/// The date part (YYYY-MM-DD) of a timestamp, or "—".
pub fn date(ts: Option<&prost_types::Timestamp>) -> String {
    match ts {
        Some(ts) if ts.seconds != 0 || ts.nanos != 0 => ts.to_string().chars().take(10).collect(),
        _ => "—".into(),
    }
}

/// Date and minute (YYYY-MM-DD HH:MM UTC).
pub fn date_time(ts: Option<&prost_types::Timestamp>) -> String {
    match ts {
        Some(ts) => {
            let s = ts.to_string();
            format!("{} {}", s.get(..10).unwrap_or(""), s.get(11..16).unwrap_or(""))
        }
        None => "—".into(),
    }
}

/// An API enum name without its type prefix: `CAPABILITY_AREA_ENGINEERING` → `ENGINEERING`.
pub fn enum_text(name: &str, prefix: &str) -> String {
    name.strip_prefix(prefix).unwrap_or(name).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(esc("<script>\"a\"&'b'</script>"), "&lt;script&gt;&quot;a&quot;&amp;&#39;b&#39;&lt;/script&gt;");
    }

    #[test]
    fn language_switch_keeps_the_query() {
        assert_eq!(switch_href("/needs?state=1&lang=en", Lang::Fr), "/needs?state=1&lang=fr");
        assert_eq!(switch_href("/", Lang::En), "/?lang=en");
    }
}

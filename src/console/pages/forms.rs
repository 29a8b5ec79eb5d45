//! Enum options, form value parsing and the create-or-edit form builder shared by the
//! pages.

use crate::api as pb;
use crate::console::call::Refusal;
use crate::console::call::service_message;
use crate::console::html::{self, E, described, field, select};
use crate::console::i18n::{Lang, label};
use crate::console::{Form, Ui};
use std::fmt::Write;

/// A create-or-edit form (need, offer) with the service's field violations shown on
/// their fields.
pub struct FormHtml<'a> {
    out: String,
    refusal: Option<&'a Refusal>,
}

/// `first` and `then` as two sentences: `first` gets a full stop unless it ends one.
fn sentences(first: &str, then: &str) -> String {
    let first = first.trim_end();
    let stop = if first.is_empty() || first.ends_with(['.', '!', '?']) { "" } else { "." };
    format!("{first}{stop} {then}")
}

impl<'a> FormHtml<'a> {
    /// Opens a form posting to `action`: the refusal's notice (if any), the CSRF and
    /// request-id fields and, for an edit (`etag` read with the resource), the update
    /// action and that etag.
    pub fn open(ui: &Ui, action: &str, etag: Option<&str>, refusal: Option<&'a Refusal>) -> FormHtml<'a> {
        let mut out = String::new();
        if let Some(r) = refusal {
            out.push_str(&html::notice("error", &sentences(&r.message, ui.t("check_fields"))));
        }
        let _ = write!(
            out,
            "<form method=\"post\" action=\"{}\" class=\"card\" novalidate>{}{}",
            E(action),
            html::csrf_field(&ui.csrf),
            html::request_id_field()
        );
        if let Some(etag) = etag {
            let _ = write!(
                out,
                "<input type=\"hidden\" name=\"action\" value=\"update\"><input type=\"hidden\" name=\"etag\" value=\"{}\">",
                E(etag)
            );
        }
        FormHtml { out, refusal }
    }

    fn error(&self, name: &str) -> Option<&'a str> {
        self.refusal.and_then(|r| r.field(name))
    }

    /// An input (`extra`: its further attributes), with an optional help text.
    pub fn text(&mut self, name: &str, label: &str, value: &str, extra: &str, help: Option<&str>) {
        let e = self.error(name);
        let input = format!(
            "<input id=\"{name}\" name=\"{name}\" value=\"{}\"{extra}{}>",
            E(value),
            described(name, help.is_some(), e.is_some())
        );
        self.out.push_str(&field(name, label, &input, e, help));
    }

    /// A select of an enum's `options`, `value` chosen.
    pub fn select(&mut self, name: &str, label: &str, options: Vec<(String, String)>, value: i32) {
        let e = self.error(name);
        let input = select(name, &options, &value.to_string(), &described(name, false, e.is_some()));
        self.out.push_str(&field(name, label, &input, e, None));
    }

    pub fn textarea(&mut self, name: &str, label: &str, value: &str) {
        let e = self.error(name);
        let input = format!(
            "<textarea id=\"{name}\" name=\"{name}\" rows=\"3\"{}>{}</textarea>",
            described(name, false, e.is_some()),
            E(value)
        );
        self.out.push_str(&field(name, label, &input, e, None));
    }

    /// A checkbox, its label after it.
    pub fn check(&mut self, name: &str, label: &str, on: bool) {
        let e = self.error(name);
        let _ = write!(
            self.out,
            "<div class=\"check{}\"><input type=\"checkbox\" id=\"{name}\" name=\"{name}\" value=\"1\"{}{}>\
             <label for=\"{name}\">{}</label>",
            if e.is_some() { " invalid" } else { "" },
            if on { " checked" } else { "" },
            described(name, false, e.is_some()),
            E(label)
        );
        if let Some(e) = e {
            let _ = write!(self.out, "<p class=\"error\" id=\"{name}-error\">{}</p>", E(e));
        }
        self.out.push_str("</div>");
    }

    /// The submit button, and the form closed.
    pub fn finish(mut self, button: &str) -> String {
        let _ = write!(self.out, "<button type=\"submit\" class=\"primary\">{}</button></form>", E(button));
        self.out
    }
}

/// Reads a form's values, noting the fields it cannot read as their type (the form's
/// own parsing, before any rule of the service).
pub struct FormReader<'f> {
    pub form: &'f Form,
    pub bad: Vec<(String, String)>,
}

impl<'f> FormReader<'f> {
    pub fn new(form: &'f Form) -> FormReader<'f> {
        FormReader { form, bad: Vec::new() }
    }

    /// A whole number (0 when empty or unreadable).
    pub fn number(&mut self, name: &str) -> u32 {
        number(self.form.get(name)).unwrap_or_else(|()| {
            self.bad.push((name.to_string(), "must be a whole number".to_string()));
            0
        })
    }

    /// A `YYYY-MM-DD` date (`None` when empty or unreadable).
    pub fn date(&mut self, name: &str) -> Option<prost_types::Timestamp> {
        let d = date(self.form.get(name));
        if d.is_none() && !self.form.get(name).trim().is_empty() {
            self.bad.push((name.to_string(), "must be a date (YYYY-MM-DD)".to_string()));
        }
        d
    }
}

/// The fields a form could not read, as a refusal shown on them.
pub fn form_refusal(ui: &Ui, bad: Vec<(String, String)>) -> Refusal {
    Refusal {
        lang: ui.lang,
        message: ui.t("error").to_string(),
        fields: bad.into_iter().map(|(f, m)| (f, service_message(ui.lang, &m))).collect(),
    }
}

/// `(value, text)` options of an API enum, `UNSPECIFIED` first as "any" or "—"; the
/// value is the enum's number, the text its name in `lang`.
pub fn options<T>(
    lang: Lang,
    first: &str,
    from: impl Fn(i32) -> Option<T>,
    name: impl Fn(&T) -> &'static str,
) -> Vec<(String, String)> {
    let mut out = vec![("0".to_string(), first.to_string())];
    for i in 1..64 {
        match from(i) {
            Some(v) => out.push((i.to_string(), label(lang, name(&v)))),
            None => break,
        }
    }
    out
}

pub fn capabilities(lang: Lang, first: &str) -> Vec<(String, String)> {
    options(lang, first, |i| pb::CapabilityArea::try_from(i).ok(), |v| v.as_str_name())
}
pub fn categories(lang: Lang, first: &str) -> Vec<(String, String)> {
    options(lang, first, |i| pb::SupportCategory::try_from(i).ok(), |v| v.as_str_name())
}
pub fn priorities(lang: Lang, first: &str) -> Vec<(String, String)> {
    options(lang, first, |i| pb::Priority::try_from(i).ok(), |v| v.as_str_name())
}
pub fn levels(lang: Lang, first: &str) -> Vec<(String, String)> {
    options(lang, first, |i| pb::ReadinessLevel::try_from(i).ok(), |v| v.as_str_name())
}
pub fn need_states(lang: Lang, first: &str) -> Vec<(String, String)> {
    options(lang, first, |i| pb::NeedState::try_from(i).ok(), |v| v.as_str_name())
}
pub fn offer_states(lang: Lang, first: &str) -> Vec<(String, String)> {
    options(lang, first, |i| pb::OfferState::try_from(i).ok(), |v| v.as_str_name())
}
pub fn match_states(lang: Lang, first: &str) -> Vec<(String, String)> {
    options(lang, first, |i| pb::MatchState::try_from(i).ok(), |v| v.as_str_name())
}
pub fn roles(lang: Lang, first: &str) -> Vec<(String, String)> {
    options(lang, first, |i| pb::OfferRole::try_from(i).ok(), |v| v.as_str_name())
}
pub fn modes(lang: Lang, first: &str) -> Vec<(String, String)> {
    options(lang, first, |i| pb::DeliveryMode::try_from(i).ok(), |v| v.as_str_name())
}
pub fn principal_kinds(lang: Lang, first: &str) -> Vec<(String, String)> {
    options(lang, first, |i| pb::PrincipalKind::try_from(i).ok(), |v| v.as_str_name())
}

/// An enum field's number (0 when absent or not a number: the service refuses it).
pub fn enum_number(text: &str) -> i32 {
    text.trim().parse().unwrap_or(0)
}

/// A whole number field: `Err` when it is not one (the form's own parsing, not a rule).
pub fn number(text: &str) -> Result<u32, ()> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(0);
    }
    t.parse().map_err(|_| ())
}

/// A `YYYY-MM-DD` date as midnight UTC; `None` when empty or not a date.
pub fn date(text: &str) -> Option<prost_types::Timestamp> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    format!("{t}T00:00:00Z").parse().ok()
}

/// Comma- or space-separated codes.
pub fn list(text: &str) -> Vec<String> {
    text.split([',', ' ', ';']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_and_the_hint_read_as_two_sentences() {
        let hint = "Check the fields marked below.";
        assert_eq!(
            sentences("offer.capacity: must be between 1 and 100000", hint),
            format!("offer.capacity: must be between 1 and 100000. {hint}")
        );
        assert_eq!(sentences("The etag is stale.", hint), format!("The etag is stale. {hint}"));
    }

    #[test]
    fn parses_dates_lists_and_numbers() {
        assert_eq!(date("2027-03-01").map(|t| t.seconds), Some(1_803_859_200));
        assert_eq!(date("yesterday"), None);
        assert_eq!(list("en, fr ;es"), vec!["en", "fr", "es"]);
        assert_eq!(number("12"), Ok(12));
        assert!(number("twelve").is_err());
        assert_eq!(capabilities(Lang::En, "any")[1], ("1".to_string(), "Engineering".to_string()));
        assert_eq!(capabilities(Lang::Fr, "tous")[1].1, "Génie");
    }
}

//! Enum options and form value parsing shared by the pages.

use crate::api as pb;
use crate::console::i18n::{Lang, label};

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

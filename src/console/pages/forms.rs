//! Enum options and form value parsing shared by the pages.

use crate::api as pb;

/// `(value, text)` options of an API enum, `UNSPECIFIED` first as "any" or "—".
pub fn options<T>(
    first: &str,
    from: impl Fn(i32) -> Option<T>,
    name: impl Fn(&T) -> &'static str,
    prefix: &str,
) -> Vec<(String, String)> {
    let mut out = vec![("0".to_string(), first.to_string())];
    for i in 1..64 {
        match from(i) {
            Some(v) => out.push((i.to_string(), crate::console::html::enum_text(name(&v), prefix))),
            None => break,
        }
    }
    out
}

pub fn capabilities(first: &str) -> Vec<(String, String)> {
    options(first, |i| pb::CapabilityArea::try_from(i).ok(), |v| v.as_str_name(), "CAPABILITY_AREA_")
}
pub fn categories(first: &str) -> Vec<(String, String)> {
    options(first, |i| pb::SupportCategory::try_from(i).ok(), |v| v.as_str_name(), "SUPPORT_CATEGORY_")
}
pub fn priorities(first: &str) -> Vec<(String, String)> {
    options(first, |i| pb::Priority::try_from(i).ok(), |v| v.as_str_name(), "PRIORITY_")
}
pub fn levels(first: &str) -> Vec<(String, String)> {
    options(first, |i| pb::ReadinessLevel::try_from(i).ok(), |v| v.as_str_name(), "READINESS_LEVEL_")
}
pub fn need_states(first: &str) -> Vec<(String, String)> {
    options(first, |i| pb::NeedState::try_from(i).ok(), |v| v.as_str_name(), "NEED_STATE_")
}
pub fn offer_states(first: &str) -> Vec<(String, String)> {
    options(first, |i| pb::OfferState::try_from(i).ok(), |v| v.as_str_name(), "OFFER_STATE_")
}
pub fn match_states(first: &str) -> Vec<(String, String)> {
    options(first, |i| pb::MatchState::try_from(i).ok(), |v| v.as_str_name(), "MATCH_STATE_")
}
pub fn principal_kinds(first: &str) -> Vec<(String, String)> {
    options(first, |i| pb::PrincipalKind::try_from(i).ok(), |v| v.as_str_name(), "PRINCIPAL_KIND_")
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
        assert_eq!(capabilities("any")[1].1, "ENGINEERING");
    }
}

//! Small helpers that turn values into the words of blockers and reasons: dates, lists of
//! languages and modes. Pure formatting; no rule lives here.

use crate::domain::{DeliveryMode, Language};

pub use crate::domain::show_day;

/// `en`, `en or fr`, `en, fr or pt`; `no language` when empty.
pub fn join_languages(languages: &[Language]) -> String {
    join_or(languages.iter().map(|l| l.as_str().to_string()).collect())
}

/// Modes joined like languages.
pub fn join_modes(modes: &[DeliveryMode]) -> String {
    join_or(modes.iter().map(|m| m.as_str().to_string()).collect())
}

fn join_or(items: Vec<String>) -> String {
    match items.len() {
        0 => "no language".to_string(),
        1 => items.concat(),
        n => format!("{} or {}", items[..n - 1].join(", "), items[n - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn show_day_gives_iso_dates() {
        assert_eq!(show_day(0), "1970-01-01");
        assert_eq!(show_day(20_000), "2024-10-04");
        assert_eq!(show_day(-1), "1969-12-31");
        assert!(show_day(i64::MAX).len() > 4);
    }
}

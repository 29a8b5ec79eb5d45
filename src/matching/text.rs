//! Small helpers that turn values into the words of blockers and reasons: dates, lists of
//! languages and modes. Pure formatting; no rule lives here.

use crate::domain::{DeliveryMode, Language};
use std::fmt;

pub use crate::domain::show_day;

/// `en`, `en or fr`, `en, fr or pt`; `no language` when empty. Written straight into the
/// sentence that shows it (ExplainNeed writes thousands of these per call).
pub fn join_languages(languages: &[Language]) -> JoinOr<'_, Language> {
    JoinOr(languages)
}

/// Modes joined like languages.
pub fn join_modes(modes: &[DeliveryMode]) -> JoinOr<'_, DeliveryMode> {
    JoinOr(modes)
}

/// A list shown as `a, b or c` (see [`join_languages`]).
pub struct JoinOr<'a, T>(&'a [T]);

/// A value shown by its code (`en`, `AT_PROVIDER`).
pub trait Code {
    fn code(&self) -> &str;
}

impl Code for Language {
    fn code(&self) -> &str {
        self.as_str()
    }
}

impl Code for DeliveryMode {
    fn code(&self) -> &str {
        self.as_str()
    }
}

impl<T: Code> fmt::Display for JoinOr<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.split_last() {
            None => f.write_str("no language"),
            Some((last, [])) => f.write_str(last.code()),
            Some((last, rest)) => write!(f, "{} or {}", Commas(rest), last.code()),
        }
    }
}

/// Codes separated by commas.
struct Commas<'a, T>(&'a [T]);

impl<T: Code> fmt::Display for Commas<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, item) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(item.code())?;
        }
        Ok(())
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

    #[test]
    fn lists_are_joined_with_commas_and_a_last_or() {
        let langs = |codes: &[&str]| codes.iter().map(|c| c.parse::<Language>().unwrap()).collect::<Vec<_>>();
        assert_eq!(join_languages(&[]).to_string(), "no language");
        assert_eq!(join_languages(&langs(&["en"])).to_string(), "en");
        assert_eq!(join_languages(&langs(&["en", "fr"])).to_string(), "en or fr");
        assert_eq!(join_languages(&langs(&["en", "fr", "pt"])).to_string(), "en, fr or pt");
        assert_eq!(join_modes(&[DeliveryMode::AtProvider, DeliveryMode::Remote]).to_string(), "AT_PROVIDER or REMOTE");
    }
}

//! Small helpers that turn values into the words of blockers and reasons: dates, lists of
//! languages and modes. Pure formatting; no rule lives here.

use crate::domain::{Day, DeliveryMode, Language};

/// A day as an ISO date, e.g. `2026-03-01` (proleptic Gregorian, UTC).
pub fn show_day(day: Day) -> String {
    // Clamp far outside any real date so the arithmetic below cannot overflow.
    let z = day.clamp(-1_000_000_000, 1_000_000_000) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

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

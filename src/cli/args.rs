//! Parsing of argument values shared by the commands: dates, member-state codes,
//! languages, and the paging flags of every `list`.

use prost_types::Timestamp;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::domain::SECONDS_PER_DAY;

/// A point in time: `YYYY-MM-DD` (UTC midnight), RFC 3339 (`2027-03-01T12:00:00Z`), or
/// `+N`/`+Nd` (UTC midnight N days from today).
pub fn parse_time(text: &str) -> Result<Timestamp, String> {
    let text = text.trim();
    if let Some(days) = text.strip_prefix('+') {
        let days: i64 = days
            .strip_suffix('d')
            .unwrap_or(days)
            .parse()
            .map_err(|_| format!("{text:?}: expected +N or +Nd (days from today)"))?;
        let today = now_unix_seconds().div_euclid(SECONDS_PER_DAY);
        return Ok(Timestamp { seconds: (today + days) * SECONDS_PER_DAY, nanos: 0 });
    }
    text.parse::<Timestamp>()
        .map_err(|_| format!("{text:?} is not a date: use YYYY-MM-DD, RFC 3339 (2027-03-01T12:00:00Z) or +N days"))
}

/// Seconds since the Unix epoch, now.
pub fn now_unix_seconds() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)).unwrap_or(0)
}

/// An ISO 3166-1 alpha-3 code, upper-cased (`uga` → `UGA`). Membership is the server's to
/// check; only the shape is checked here.
pub fn parse_state(text: &str) -> Result<String, String> {
    let code = text.trim().to_ascii_uppercase();
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(code)
    } else {
        Err(format!("{text:?} is not an alpha-3 state code such as UGA"))
    }
}

/// An ISO 639-1 language code, lower-cased (`FR` → `fr`).
pub fn parse_language(text: &str) -> Result<String, String> {
    let code = text.trim().to_ascii_lowercase();
    if code.len() == 2 && code.bytes().all(|b| b.is_ascii_lowercase()) {
        Ok(code)
    } else {
        Err(format!("{text:?} is not a two-letter ISO 639-1 code such as fr"))
    }
}

/// Text with surrounding blanks removed.
pub fn parse_trimmed(text: &str) -> Result<String, String> {
    Ok(text.trim().to_string())
}

/// Paging flags of every `list` command.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Paging {
    /// Items per page asked of the server (default: the server's, 50; at most 500).
    #[arg(long)]
    pub page_size: Option<i32>,
    /// Stop after this many items (default: follow `next_page_token` to the end).
    #[arg(long)]
    pub limit: Option<usize>,
}

impl Paging {
    /// The page size to send: `--page-size`, else `--limit` capped at 500, else 0.
    pub fn page_size(&self) -> i32 {
        match (self.page_size, self.limit) {
            (Some(size), _) => size,
            (None, Some(limit)) => i32::try_from(limit.min(500)).unwrap_or(500),
            (None, None) => 0,
        }
    }
}

/// Fetches pages until `next_page_token` is empty or `--limit` items are in hand.
/// `fetch` takes a page token and returns one page's items and the next token.
pub async fn collect_pages<T, F, Fut>(paging: &Paging, mut fetch: F) -> Result<Vec<T>, tonic::Status>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, String), tonic::Status>>,
{
    let mut items = Vec::new();
    let mut token = String::new();
    loop {
        let (page, next) = fetch(token.clone()).await?;
        items.extend(page);
        if let Some(limit) = paging.limit
            && items.len() >= limit
        {
            items.truncate(limit);
            break;
        }
        if next.is_empty() {
            break;
        }
        if next == token {
            return Err(tonic::Status::internal("the server returned the same page token twice"));
        }
        token = next;
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_midnight_or_rfc3339() {
        let day = parse_time("2027-03-01").expect("date");
        assert_eq!((day.seconds, day.nanos), (1_803_859_200, 0));
        assert_eq!(day.seconds % SECONDS_PER_DAY, 0);
        let t = parse_time("2027-03-01T12:30:00Z").expect("rfc3339");
        assert_eq!(t.seconds, 1_803_859_200 + 45_000);
        let offset = parse_time("2027-03-01T12:30:00+02:00").expect("offset");
        assert_eq!(offset.seconds, t.seconds - 7_200);
        for bad in ["2027-13-01", "01/03/2027", "tomorrow", "", "+x"] {
            assert!(parse_time(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn relative_days_count_from_today_midnight() {
        let today = now_unix_seconds().div_euclid(SECONDS_PER_DAY) * SECONDS_PER_DAY;
        assert_eq!(parse_time("+30d").expect("+30d").seconds, today + 30 * SECONDS_PER_DAY);
        assert_eq!(parse_time("+0").expect("+0").seconds, today);
    }

    #[test]
    fn codes_are_normalised() {
        assert_eq!(parse_state(" uga").as_deref(), Ok("UGA"));
        assert!(parse_state("UG").is_err() && parse_state("U1A").is_err());
        assert_eq!(parse_language("FR").as_deref(), Ok("fr"));
        assert!(parse_language("fra").is_err());
    }

    #[test]
    fn page_size_follows_limit() {
        let p = |page_size, limit| Paging { page_size, limit }.page_size();
        assert_eq!(p(None, None), 0);
        assert_eq!(p(None, Some(7)), 7);
        assert_eq!(p(None, Some(10_000)), 500);
        assert_eq!(p(Some(20), Some(7)), 20);
    }

    #[tokio::test]
    async fn pages_are_followed_to_the_end_or_the_limit() {
        let pages = |token: String| async move {
            let n: usize = token.parse().unwrap_or(0);
            let next = if n < 4 { (n + 1).to_string() } else { String::new() };
            Ok::<_, tonic::Status>((vec![n * 10, n * 10 + 1], next))
        };
        let all = collect_pages(&Paging::default(), pages).await.expect("pages");
        assert_eq!(all.len(), 10);
        let limited = Paging { page_size: None, limit: Some(3) };
        assert_eq!(collect_pages(&limited, pages).await.expect("pages"), vec![0, 1, 10]);
    }
}

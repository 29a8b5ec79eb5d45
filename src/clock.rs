//! The wall clock, read in one place: microseconds since the Unix epoch, the time of every
//! record, event and idempotency entry. The domain never reads it: its commands are given
//! the time.

use crate::domain::UnixMicros;

/// Microseconds since the Unix epoch (0 if the clock reads earlier).
pub fn now_micros() -> UnixMicros {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_micros() as i64)
}

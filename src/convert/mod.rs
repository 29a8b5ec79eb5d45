//! The boundary between protobuf and the domain: proto → domain with validation (every
//! bad field collected as a scoped field violation), and domain → proto.
//!
//! Nothing past this module sees an unvalidated value. Bounds are documented in README
//! ("Limits") and enforced here.

use crate::domain::*;
use crate::error::{AppError, FieldViolation};
use prost_types::Timestamp;

mod enums;
mod needs;
mod offers;
mod resources;

pub use enums::*;
pub use needs::*;
pub use offers::*;
pub use resources::*;

/// Documented bounds on request content.
pub mod limits {
    pub const MAX_QUANTITY: u32 = 100_000;
    pub const MAX_TITLE_CHARS: usize = 200;
    pub const MAX_DESCRIPTION_CHARS: usize = 4_000;
    pub const MAX_SHORT_TEXT_CHARS: usize = 100;
    pub const MAX_NOTE_CHARS: usize = 2_000;
    pub const MAX_LANGUAGES: usize = 20;
    pub const MAX_PROVIDERS: usize = 10;
    pub const MAX_RECIPIENT_LIST: usize = 193;
    pub const MAX_DURATION_DAYS: u32 = 3_650;
    pub const MAX_YEARS_AHEAD_DAYS: i64 = 3_653;
    pub const MAX_REQUEST_ID_CHARS: usize = 64;
    pub const MAX_UPDATE_MASK_PATHS: usize = 32;
    pub const MAX_PAGE_SIZE: i32 = 500;
    pub const DEFAULT_PAGE_SIZE: i32 = 50;
}

/// Collects the violations of one request.
#[derive(Default)]
pub struct Violations(pub Vec<FieldViolation>);

impl Violations {
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation::new(field, description));
    }

    /// `Ok(value)` when nothing was reported, else every violation at once.
    pub fn finish<T>(self, value: T) -> Result<T, AppError> {
        if self.0.is_empty() { Ok(value) } else { Err(AppError::InvalidArgument(self.0)) }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// An update mask (API.md: Update*): at least one field and at most
    /// [`limits::MAX_UPDATE_MASK_PATHS`], each accepted by `check_path` (else its
    /// refusal: it names no field that can be updated).
    pub fn update_mask(&mut self, paths: &[String], check_path: impl Fn(&str) -> Result<(), String>) {
        if paths.is_empty() {
            self.add("update_mask", "must name at least one field");
        }
        if paths.len() > limits::MAX_UPDATE_MASK_PATHS {
            self.add("update_mask", format!("must name at most {} fields", limits::MAX_UPDATE_MASK_PATHS));
        }
        for (i, p) in paths.iter().enumerate().take(limits::MAX_UPDATE_MASK_PATHS) {
            if let Err(why) = check_path(p) {
                self.add(format!("update_mask.paths[{i}]"), why);
            }
        }
    }

    /// Checks a piece of text: length in characters and no control characters (newlines
    /// and tabs allowed only where `multiline`).
    pub fn text(&mut self, field: &str, value: &str, min: usize, max: usize, multiline: bool) {
        let chars = value.chars().count();
        if chars < min {
            self.add(field, format!("must have at least {min} character(s)"));
        } else if chars > max {
            self.add(field, format!("must have at most {max} characters (has {chars})"));
        } else if value.chars().any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\t' || c == '\r'))) {
            self.add(field, "must not contain control characters");
        }
    }

    pub fn state(&mut self, field: &str, value: &str) -> Option<Alpha3> {
        match value.parse() {
            Ok(s) => Some(s),
            Err(e) => {
                self.add(field, e);
                None
            }
        }
    }

    /// A list of distinct member states, each checked.
    pub fn states(&mut self, field: &str, values: &[String], min: usize, max: usize) -> Vec<Alpha3> {
        if values.len() < min {
            self.add(field, format!("must list at least {min} state(s)"));
        }
        if values.len() > max {
            self.add(field, format!("must list at most {max} states"));
            return Vec::new();
        }
        let mut out = Vec::with_capacity(values.len());
        for (i, v) in values.iter().enumerate() {
            let path = format!("{field}[{i}]");
            if let Some(s) = self.state(&path, v) {
                if out.contains(&s) {
                    self.add(path, format!("{s} is listed twice"));
                } else {
                    out.push(s);
                }
            }
        }
        out
    }

    pub fn languages(&mut self, field: &str, values: &[String], min: usize) -> Vec<Language> {
        if values.len() < min {
            self.add(field, format!("must list at least {min} language(s)"));
        }
        if values.len() > limits::MAX_LANGUAGES {
            self.add(field, format!("must list at most {} languages", limits::MAX_LANGUAGES));
            return Vec::new();
        }
        let mut out = Vec::with_capacity(values.len());
        for (i, v) in values.iter().enumerate() {
            let path = format!("{field}[{i}]");
            match v.parse::<Language>() {
                Ok(l) if out.contains(&l) => self.add(path, format!("{l} is listed twice")),
                Ok(l) => out.push(l),
                Err(e) => self.add(path, e),
            }
        }
        out
    }

    pub fn quantity(&mut self, field: &str, value: u32, min: u32) -> u32 {
        if value < min || value > limits::MAX_QUANTITY {
            self.add(field, format!("must be between {min} and {}", limits::MAX_QUANTITY));
        }
        value
    }

    /// A timestamp within sane bounds (years 1970..=9999), as microseconds.
    pub fn time(&mut self, field: &str, ts: Option<&Timestamp>) -> Option<UnixMicros> {
        let Some(ts) = ts else {
            self.add(field, "is required");
            return None;
        };
        const MAX_SECONDS: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
        if ts.seconds < 0 || ts.seconds > MAX_SECONDS || !(0..1_000_000_000).contains(&ts.nanos) {
            self.add(field, "must be a valid time between 1970 and 9999");
            return None;
        }
        Some(ts.seconds * MICROS_PER_SECOND + i64::from(ts.nanos) / 1_000)
    }

    /// A required enum: 0 (UNSPECIFIED) and unknown numbers are refused.
    pub fn enum_value<T: Copy>(&mut self, field: &str, value: i32, map: impl Fn(i32) -> Option<T>) -> Option<T> {
        if value == 0 {
            self.add(field, "is required (UNSPECIFIED is not a valid value)");
            return None;
        }
        let out = map(value);
        if out.is_none() {
            self.add(field, format!("{value} is not a known value"));
        }
        out
    }
}

pub fn timestamp(t: UnixMicros) -> Timestamp {
    Timestamp { seconds: t.div_euclid(MICROS_PER_SECOND), nanos: (t.rem_euclid(MICROS_PER_SECOND) * 1_000) as i32 }
}

/// The checks on a date relative to now, given as what to enforce.
#[derive(Clone, Copy)]
pub struct Clock {
    pub now: UnixMicros,
}

impl Clock {
    pub fn horizon(&self) -> UnixMicros {
        self.now + limits::MAX_YEARS_AHEAD_DAYS * SECONDS_PER_DAY * MICROS_PER_SECOND
    }
}

#[cfg(test)]
mod tests;

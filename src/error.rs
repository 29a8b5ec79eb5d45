//! The service's error type and its one mapping to `tonic::Status`.
//!
//! Every failure a handler can return is an [`AppError`]; the exhaustive `match` in
//! `From<AppError> for Status` picks the gRPC code and attaches `google.rpc.ErrorInfo`
//! (a stable `reason`) and, for invalid input, `google.rpc.BadRequest` with one field
//! violation per bad field. Adding a variant is a compile error until it is mapped.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// The domain that `ErrorInfo.domain` names.
pub const ERROR_DOMAIN: &str = "lcm.un.org";

/// One bad field of a request: a scoped path (`need.languages[1]`) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        FieldViolation { field: field.into(), description: description.into() }
    }
}

pub use crate::domain::Reason;
use crate::domain::Refusal;

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    PermissionDenied(String),
    #[error("invalid request: {}", describe(.0))]
    InvalidArgument(Vec<FieldViolation>),
    /// Invalid input that has its own stable reason; `field` is the bad field.
    #[error("{message}")]
    InvalidWithReason { reason: Reason, field: &'static str, message: String },
    #[error("{0} not found")]
    NotFound(String),
    #[error("etag {sent:?} is stale; the current etag is {current:?}")]
    EtagMismatch { sent: String, current: String },
    #[error("{message}")]
    FailedPrecondition { reason: Reason, message: String },
    #[error("{0}")]
    ResourceExhausted(String),
    /// Too many requests in flight: refused at once (admission control).
    #[error("{0}")]
    Overloaded(String),
    #[error("{0}")]
    Unimplemented(String),
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    /// The store has failed (fail-stop): nothing is read or written until a restart.
    #[error("{0}")]
    StoreFailed(String),
    #[error("internal error: {0}")]
    Internal(String),
    /// The caller gave up (cancelled, or its deadline passed) and the work was stopped.
    #[error("{0}")]
    Cancelled(String),
}

/// Bounds on what a refusal carries back. A status travels in HTTP/2 trailers, which
/// clients cap (hyper: 16 KiB of headers; gRPC C-core: 8 KiB by default), so a request
/// that echoes a huge value or breaks a long list element by element must still get an
/// answer a client can read: the message, the number of field violations and the text of
/// each are cut to these sizes (the first violations are kept).
pub const MAX_STATUS_MESSAGE_BYTES: usize = 1_024;
pub const MAX_FIELD_VIOLATIONS: usize = 20;
const MAX_VIOLATION_FIELD_BYTES: usize = 100;
const MAX_VIOLATION_DESCRIPTION_BYTES: usize = 200;

/// `text` cut to at most `max` bytes at a character boundary, with "…" when cut.
pub fn clip(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// The violations a refusal shows: the first [`MAX_FIELD_VIOLATIONS`], each as a clipped
/// (field, description).
fn shown(violations: &[FieldViolation]) -> impl Iterator<Item = (String, String)> + '_ {
    violations
        .iter()
        .take(MAX_FIELD_VIOLATIONS)
        .map(|v| (clip(&v.field, MAX_VIOLATION_FIELD_BYTES), clip(&v.description, MAX_VIOLATION_DESCRIPTION_BYTES)))
}

fn describe(violations: &[FieldViolation]) -> String {
    let mut text =
        shown(violations).map(|(field, description)| format!("{field}: {description}")).collect::<Vec<_>>().join("; ");
    if violations.len() > MAX_FIELD_VIOLATIONS {
        text.push_str(&format!("; and {} more", violations.len() - MAX_FIELD_VIOLATIONS));
    }
    text
}

impl AppError {
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        AppError::InvalidArgument(vec![FieldViolation::new(field, description)])
    }

    pub fn precondition(reason: Reason, message: impl Into<String>) -> Self {
        AppError::FailedPrecondition { reason, message: message.into() }
    }
}

impl From<crate::store::StoreError> for AppError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            // Logged once, where the store failed.
            crate::store::StoreError::Failed(_) => AppError::StoreFailed(e.to_string()),
            e => {
                tracing::error!(error = %e, "store failure");
                AppError::Unavailable(e.to_string())
            }
        }
    }
}

fn info(reason: &str) -> ErrorDetails {
    ErrorDetails::with_error_info(reason, ERROR_DOMAIN, std::collections::HashMap::new())
}

/// The engine fails only when its solver does (INTERNAL), or when asked to stop because
/// its caller gave up (CANCELLED).
/// A domain command's refusal, as the status the caller gets.
impl From<Refusal> for AppError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Precondition { reason, message } => AppError::FailedPrecondition { reason, message },
            Refusal::Invalid(bad) => {
                AppError::InvalidArgument(bad.into_iter().map(|(f, why)| FieldViolation::new(f, why)).collect())
            }
            Refusal::NotFound(what) => AppError::NotFound(what),
            Refusal::Denied(why) => AppError::PermissionDenied(why),
            Refusal::Inconsistent(what) => AppError::Internal(what),
        }
    }
}

impl From<crate::matching::MatchError> for AppError {
    fn from(e: crate::matching::MatchError) -> AppError {
        match e {
            crate::matching::MatchError::Stopped => AppError::Cancelled(e.to_string()),
            e => AppError::Internal(e.to_string()),
        }
    }
}

impl From<Refusal> for Status {
    fn from(r: Refusal) -> Status {
        AppError::from(r).into()
    }
}

impl From<AppError> for Status {
    fn from(e: AppError) -> Status {
        let message = clip(&e.to_string(), MAX_STATUS_MESSAGE_BYTES);
        let (code, details) = match e {
            AppError::Unauthenticated(_) => (Code::Unauthenticated, info("UNAUTHENTICATED")),
            AppError::PermissionDenied(_) => (Code::PermissionDenied, info("PERMISSION_DENIED")),
            AppError::InvalidArgument(violations) => {
                let mut d = ErrorDetails::with_bad_request(
                    shown(&violations).map(|(f, d)| tonic_types::FieldViolation::new(f, d)).collect::<Vec<_>>(),
                );
                d.set_error_info("INVALID_ARGUMENT", ERROR_DOMAIN, std::collections::HashMap::<String, String>::new());
                (Code::InvalidArgument, d)
            }
            AppError::InvalidWithReason { reason, field, message } => {
                let violation =
                    tonic_types::FieldViolation::new(field, clip(&message, MAX_VIOLATION_DESCRIPTION_BYTES));
                let mut d = ErrorDetails::with_bad_request(vec![violation]);
                d.set_error_info(reason.as_str(), ERROR_DOMAIN, std::collections::HashMap::<String, String>::new());
                (Code::InvalidArgument, d)
            }
            AppError::NotFound(_) => (Code::NotFound, info("NOT_FOUND")),
            AppError::EtagMismatch { .. } => (Code::Aborted, info(Reason::EtagMismatch.as_str())),
            AppError::FailedPrecondition { reason, .. } => (Code::FailedPrecondition, info(reason.as_str())),
            AppError::ResourceExhausted(_) => (Code::ResourceExhausted, info("RESOURCE_EXHAUSTED")),
            AppError::Overloaded(_) => (Code::ResourceExhausted, info("OVERLOADED")),
            AppError::Unimplemented(_) => (Code::Unimplemented, info("UNIMPLEMENTED")),
            AppError::Unavailable(_) => (Code::Unavailable, info("STORE_UNAVAILABLE")),
            AppError::StoreFailed(_) => (Code::Unavailable, info("STORE_FAILED")),
            AppError::Internal(_) => (Code::Internal, info("INTERNAL")),
            AppError::Cancelled(_) => (Code::Cancelled, info("CANCELLED")),
        };
        Status::with_error_details(code, message, details)
    }
}

pub type AppResult<T> = Result<T, AppError>;

impl From<crate::store::StoreError> for Status {
    fn from(e: crate::store::StoreError) -> Status {
        AppError::from(e).into()
    }
}

/// The canonical upper-case name of a gRPC code, as in the gRPC docs.
pub fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code::*;
    match code {
        Ok => "OK",
        Cancelled => "CANCELLED",
        Unknown => "UNKNOWN",
        InvalidArgument => "INVALID_ARGUMENT",
        DeadlineExceeded => "DEADLINE_EXCEEDED",
        NotFound => "NOT_FOUND",
        AlreadyExists => "ALREADY_EXISTS",
        PermissionDenied => "PERMISSION_DENIED",
        ResourceExhausted => "RESOURCE_EXHAUSTED",
        FailedPrecondition => "FAILED_PRECONDITION",
        Aborted => "ABORTED",
        OutOfRange => "OUT_OF_RANGE",
        Unimplemented => "UNIMPLEMENTED",
        Internal => "INTERNAL",
        Unavailable => "UNAVAILABLE",
        DataLoss => "DATA_LOSS",
        Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_stays_small_whatever_it_echoes() {
        let huge = "é".repeat(100_000);
        let mut violations = vec![FieldViolation::new("list[0]", format!("{huge:?} is not known"))];
        violations.extend((1..50_000).map(|i| FieldViolation::new(format!("list[{i}]"), "is not known")));
        let status = Status::from(AppError::InvalidArgument(violations));
        assert!(status.message().len() <= MAX_STATUS_MESSAGE_BYTES, "{}", status.message().len());
        assert!(status.message().starts_with("invalid request: list[0]: "));
        let shown = status.get_details_bad_request().map(|b| b.field_violations).unwrap_or_default();
        assert_eq!(shown.len(), MAX_FIELD_VIOLATIONS);
        assert_eq!(shown[0].field, "list[0]");
        assert!(shown.iter().all(|v| v.description.len() <= MAX_VIOLATION_DESCRIPTION_BYTES));
        assert!(status.details().len() < 8 * 1024, "{} bytes of details", status.details().len());
        let status = Status::from(AppError::NotFound(format!("need {huge:?}")));
        assert!(status.message().len() <= MAX_STATUS_MESSAGE_BYTES);
        assert!(status.message().ends_with('…'));
    }

    #[test]
    fn clip_cuts_at_a_character_boundary() {
        assert_eq!(clip("short", 10), "short");
        assert_eq!(clip("ééééé", 8), "éé…");
        assert!(clip(&"x".repeat(50), 10).len() <= 10);
    }
}

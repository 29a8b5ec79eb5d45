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

/// Stable machine-readable reasons carried in `ErrorInfo.reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    EtagMismatch,
    CapacityExhausted,
    FrozenWhileReserved,
    BelowReserved,
    WrongState,
    AlreadyAnswered,
    RequestIdReused,
    Withdrawn,
    Expired,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::EtagMismatch => "ETAG_MISMATCH",
            Reason::CapacityExhausted => "CAPACITY_EXHAUSTED",
            Reason::FrozenWhileReserved => "FROZEN_WHILE_RESERVED",
            Reason::BelowReserved => "BELOW_RESERVED",
            Reason::WrongState => "WRONG_STATE",
            Reason::AlreadyAnswered => "ALREADY_ANSWERED",
            Reason::RequestIdReused => "REQUEST_ID_REUSED",
            Reason::Withdrawn => "WITHDRAWN",
            Reason::Expired => "EXPIRED",
        }
    }
}

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    PermissionDenied(String),
    #[error("invalid request: {}", describe(.0))]
    InvalidArgument(Vec<FieldViolation>),
    #[error("{message}")]
    InvalidWithReason { reason: Reason, message: String },
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
    #[error("internal error: {0}")]
    Internal(String),
}

fn describe(violations: &[FieldViolation]) -> String {
    violations.iter().map(|v| format!("{}: {}", v.field, v.description)).collect::<Vec<_>>().join("; ")
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
        tracing::error!(error = %e, "store failure");
        AppError::Unavailable(e.to_string())
    }
}

fn info(reason: &str) -> ErrorDetails {
    ErrorDetails::with_error_info(reason, ERROR_DOMAIN, std::collections::HashMap::new())
}

impl From<AppError> for Status {
    fn from(e: AppError) -> Status {
        let message = e.to_string();
        let (code, details) = match e {
            AppError::Unauthenticated(_) => (Code::Unauthenticated, info("UNAUTHENTICATED")),
            AppError::PermissionDenied(_) => (Code::PermissionDenied, info("PERMISSION_DENIED")),
            AppError::InvalidArgument(violations) => {
                let mut d = ErrorDetails::with_bad_request(
                    violations
                        .into_iter()
                        .map(|v| tonic_types::FieldViolation::new(v.field, v.description))
                        .collect::<Vec<_>>(),
                );
                d.set_error_info("INVALID_ARGUMENT", ERROR_DOMAIN, std::collections::HashMap::<String, String>::new());
                (Code::InvalidArgument, d)
            }
            AppError::InvalidWithReason { reason, .. } => (Code::InvalidArgument, info(reason.as_str())),
            AppError::NotFound(_) => (Code::NotFound, info("NOT_FOUND")),
            AppError::EtagMismatch { .. } => (Code::Aborted, info(Reason::EtagMismatch.as_str())),
            AppError::FailedPrecondition { reason, .. } => (Code::FailedPrecondition, info(reason.as_str())),
            AppError::ResourceExhausted(_) => (Code::ResourceExhausted, info("RESOURCE_EXHAUSTED")),
            AppError::Overloaded(_) => (Code::ResourceExhausted, info("OVERLOADED")),
            AppError::Unimplemented(_) => (Code::Unimplemented, info("UNIMPLEMENTED")),
            AppError::Unavailable(_) => (Code::Unavailable, info("STORE_UNAVAILABLE")),
            AppError::Internal(_) => (Code::Internal, info("INTERNAL")),
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

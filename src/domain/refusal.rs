//! Why a domain command says no ([`Refusal`]), with the stable reasons clients read
//! ([`Reason`], API.md "Errors"). The service maps a refusal to its gRPC status in one
//! place (`From<Refusal> for AppError`, error.rs).

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

/// A command's refusal: the rule that stopped it, in the words the caller reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// FAILED_PRECONDITION: the records do not allow it now.
    Precondition { reason: Reason, message: String },
    /// INVALID_ARGUMENT: one (field, why) per bad field of the request.
    Invalid(Vec<(String, String)>),
    /// NOT_FOUND: the named resource (as the caller may see it) does not exist.
    NotFound(String),
    /// PERMISSION_DENIED: the caller may not do this (domain/access.rs).
    Denied(String),
    /// INTERNAL: the records contradict an invariant the store keeps.
    Inconsistent(String),
}

impl Refusal {
    pub fn precondition(reason: Reason, message: impl Into<String>) -> Refusal {
        Refusal::Precondition { reason, message: message.into() }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Refusal {
        Refusal::Invalid(vec![(field.into(), message.into())])
    }

    /// Whether the refusal says that what the request rests on has changed (a party
    /// withdrew, seats were taken, a date passed) rather than that the request is wrong.
    pub fn is_precondition(&self) -> bool {
        matches!(self, Refusal::Precondition { .. })
    }
}

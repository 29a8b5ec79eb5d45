//! The client's one error type, and how a gRPC failure is shown to a person: the status
//! code, its message, the `google.rpc.ErrorInfo` reason and every
//! `google.rpc.BadRequest` field violation, so a rejected command says what to fix.

use crate::error::code_name;
use std::fmt;
use tonic_types::StatusExt;

/// Everything a client command can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The server (or the way to it) answered with a gRPC error.
    #[error("{}", describe_status(.0))]
    Status(#[from] tonic::Status),
    /// No connection could be made.
    #[error("cannot connect to {addr}: {}", error_chain(.source))]
    Connect {
        addr: String,
        #[source]
        source: tonic::transport::Error,
    },
    /// The command line or a file the user named is wrong; nothing was sent.
    #[error("{0}")]
    Usage(String),
    /// A local file could not be read.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// Writing the output failed (e.g. a closed pipe).
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
    /// A failure while working on one named record, e.g. an import step.
    #[error("{context}: {source}")]
    Context {
        context: String,
        #[source]
        source: Box<CliError>,
    },
}

impl CliError {
    /// Wraps the error with what was being done, e.g. ``need `uga-hee-2027` ``.
    pub fn context(self, context: impl Into<String>) -> CliError {
        CliError::Context { context: context.into(), source: Box::new(self) }
    }

    /// The gRPC status behind this error, if the server gave one.
    pub fn status(&self) -> Option<&tonic::Status> {
        match self {
            CliError::Status(s) => Some(s),
            CliError::Context { source, .. } => source.status(),
            _ => None,
        }
    }

    /// The process exit code: 2 for a usage error, 1 for anything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Context { source, .. } => source.exit_code(),
            _ => 1,
        }
    }
}

/// An error and its causes, `outer: inner: root`.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(&format!(": {inner}"));
        cause = inner.source();
    }
    text
}

/// Shorthand for a usage error.
pub(crate) fn usage(msg: impl Into<String>) -> CliError {
    CliError::Usage(msg.into())
}

/// One status as readable lines: `CODE: message`, then `reason: X`, then one line per
/// field violation (`  need.languages[1]: "xx" is not ...`).
pub fn describe_status(status: &tonic::Status) -> String {
    let mut out = format!("{}: {}", code_name(status.code()), status.message());
    let details = status.get_error_details();
    if let Some(info) = details.error_info() {
        out.push_str(&format!("\n  reason: {}", info.reason));
        let mut meta: Vec<_> = info.metadata.iter().collect();
        meta.sort();
        for (k, v) in meta {
            out.push_str(&format!("\n  {k}: {v}"));
        }
    }
    if let Some(bad) = details.bad_request() {
        for v in &bad.field_violations {
            out.push_str(&format!("\n  {}: {}", v.field, v.description));
        }
    }
    out
}

/// Lets `?` work on `fmt::Error` inside rendering helpers.
impl From<fmt::Error> for CliError {
    fn from(_: fmt::Error) -> Self {
        CliError::Output(std::io::Error::other("formatting failed"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic_types::{ErrorDetails, FieldViolation};

    #[test]
    fn status_shows_reason_and_every_field_violation() {
        let mut details = ErrorDetails::new();
        details.set_error_info("VALIDATION_FAILED", "lcm.v1", []);
        details.set_bad_request([
            FieldViolation::new("need.languages[1]", "\"xx1\" is not a language"),
            FieldViolation::new("need.quantity", "must be 1..100000"),
        ]);
        let status = tonic::Status::with_error_details(tonic::Code::InvalidArgument, "invalid need", details);
        let text = CliError::from(status).to_string();
        assert!(text.starts_with("INVALID_ARGUMENT: invalid need"), "{text}");
        assert!(text.contains("reason: VALIDATION_FAILED"), "{text}");
        assert!(text.contains("need.languages[1]: \"xx1\" is not a language"));
        assert!(text.contains("need.quantity: must be 1..100000"));
    }

    #[test]
    fn context_keeps_the_status_and_exit_code() {
        let e = CliError::from(tonic::Status::not_found("no such need")).context("need `x`");
        assert_eq!(e.to_string(), "need `x`: NOT_FOUND: no such need");
        assert_eq!(e.status().map(|s| s.code()), Some(tonic::Code::NotFound));
        assert_eq!(e.exit_code(), 1);
        assert_eq!(usage("bad").exit_code(), 2);
    }
}

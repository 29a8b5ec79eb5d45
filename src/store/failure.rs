//! The store's fail-stop state ([`Failure`]).

use super::{StoreError, StoreResult};
use std::sync::OnceLock;
use tokio::sync::watch;

/// The store's fail-stop state: the first failure's cause, once set never cleared.
pub(crate) struct Failure {
    cause: OnceLock<String>,
    tx: watch::Sender<Option<String>>,
}

impl Failure {
    pub(super) fn new() -> Failure {
        Failure { cause: OnceLock::new(), tx: watch::channel(None).0 }
    }

    /// `Err(Failed)` once the store has failed.
    pub(crate) fn check(&self) -> StoreResult<()> {
        match self.cause.get() {
            Some(cause) => Err(StoreError::Failed(cause.clone())),
            None => Ok(()),
        }
    }

    /// Fails the store because `what` failed with `error` (the first cause wins and is
    /// logged, once); returns the error to give the caller.
    pub(crate) fn fail(&self, what: &str, error: &dyn std::fmt::Display) -> StoreError {
        let cause = format!("{what} failed: {error}");
        if self.cause.set(cause.clone()).is_ok() {
            tracing::error!(cause = %cause, "the store has failed: it refuses every read and write until a restart");
            self.tx.send_replace(Some(cause.clone()));
        }
        StoreError::Failed(self.cause.get().cloned().unwrap_or(cause))
    }

    pub(super) fn subscribe(&self) -> watch::Receiver<Option<String>> {
        self.tx.subscribe()
    }

    /// Fails the store because a thread panicked while holding `lock`.
    pub(crate) fn poisoned(&self, lock: &str) -> StoreError {
        self.fail(&format!("a thread holding the {lock} lock (it panicked)"), &"lock poisoned")
    }
}

//! The idempotent write path every state-changing handler takes ([`WriteCall`]): replay
//! check, writer gate, one commit, durable wait; and where long work runs
//! ([`off_the_reactor`] for a long section under the gate, [`stoppable`] for a solve
//! that its caller may abandon).

use super::now_micros;
use crate::convert::limits;
use crate::domain::*;
use crate::error::{AppError, AppResult, Reason};
use crate::store::{IdempotencyEntry, Store, Ticket, WriteSet, Writer};
use crate::telemetry::{Phase, timed};
use prost::Message;
use sha2::{Digest, Sha256};

/// A validated `request_id` (empty means none).
fn request_id(raw: &str) -> AppResult<Option<uuid::Uuid>> {
    if raw.is_empty() {
        return Ok(None);
    }
    match uuid::Uuid::parse_str(raw) {
        Ok(u) if raw.len() <= limits::MAX_REQUEST_ID_CHARS => Ok(Some(u)),
        _ => Err(AppError::invalid("request_id", "must be a UUID")),
    }
}

/// How an answer is kept for a replay of its request id, and given back: as it is, unless
/// the answer's type says otherwise.
pub trait Remembered: Message + Default + Clone {
    /// What the idempotency entry keeps.
    fn kept(&self) -> Self {
        self.clone()
    }

    /// The answer a replay gives, from what was kept.
    fn replayed(kept: Self, _store: &Store) -> AppResult<Self> {
        Ok(kept)
    }
}

/// One idempotent state change: who, which method, the request's fingerprint.
pub struct WriteCall {
    caller: Caller,
    method: &'static str,
    request_id: Option<uuid::Uuid>,
    fingerprint: [u8; 32],
    /// See [`WriteCall::long_running`].
    long: bool,
}

impl WriteCall {
    /// Validates the request id; call after the permission checks that need no store.
    pub fn new<M: Message>(
        caller: &Caller,
        method: &'static str,
        raw_request_id: &str,
        request: &M,
    ) -> AppResult<WriteCall> {
        let request_id = request_id(raw_request_id)?;
        if let Some(rid) = &request_id {
            tracing::Span::current().record("request_id", tracing::field::display(rid.hyphenated()));
        }
        let mut h = Sha256::new();
        h.update(method.as_bytes());
        h.update(request.encode_to_vec());
        Ok(WriteCall { caller: caller.clone(), method, request_id, fingerprint: h.finalize().into(), long: false })
    }

    pub fn caller(&self) -> &Caller {
        &self.caller
    }

    /// Answers a request that its own checks refused: with the first response if this
    /// request id was already carried out with the same request (a retry must get the
    /// first answer even though, say, the clock has since passed its date or the centre
    /// it named is gone), else with `error`.
    ///
    /// Every check made before [`WriteCall::commit`] comes here on failure (the
    /// `checked!` macro): a retry of a request that passed its checks passes them again and
    /// `commit` answers it from the stored response before deciding anything, but a retry
    /// whose checks now fail (the clock passed its date) and a reused id with a different,
    /// invalid request must still get the replay's answer first.
    pub async fn refused<R: Remembered>(&self, store: &Store, error: AppError) -> AppResult<R> {
        self.replay(store).await?.ok_or(error)
    }

    /// The answer to a retry of a request already carried out (as [`WriteCall::refused`]
    /// gives it), or `None` if this request id has no answer yet: lets long work be
    /// skipped for a retry. [`WriteCall::commit`] checks again under the gate.
    pub async fn replay<R: Remembered>(&self, store: &Store) -> AppResult<Option<R>> {
        let Some(kept) = self.kept_response(store)? else { return Ok(None) };
        // The entry is visible, so its commit went through the writer gate; taking the
        // gate now yields a ticket that covers it. The first caller is answered after the
        // flush, and a retry must not be answered sooner (a crash in between would lose a
        // write that the retry acknowledged).
        let ticket = store.writer_async().await?.last_commit();
        store.durable(ticket).await?;
        R::replayed(kept, store).map(Some)
    }

    /// Answers a request that changes nothing (a dry run): a request id already used with
    /// another request is refused and one already answered for this request (by an older
    /// build, which remembered dry runs) gets that answer; otherwise `compute` answers and
    /// nothing is remembered, so a retry computes again. Remembering a dry run's answer
    /// would store the whole proposal (45 MB at 100 000 needs) for the retention period.
    pub async fn read_only<R: Remembered, F: std::future::Future<Output = AppResult<R>>>(
        &self,
        store: &Store,
        compute: impl FnOnce() -> F,
    ) -> AppResult<R> {
        match self.kept_response(store)? {
            Some(kept) => R::replayed(kept, store),
            None => compute().await,
        }
    }

    /// What the idempotency entry of this request id kept of the first response
    /// ([`Remembered::kept`]); a replay answers [`Remembered::replayed`] of it.
    fn kept_response<R: Remembered>(&self, store: &Store) -> AppResult<Option<R>> {
        let Some(rid) = &self.request_id else { return Ok(None) };
        match store.idempotency(&self.caller.principal_id, rid)? {
            None => Ok(None),
            Some(e) if e.method == self.method && e.fingerprint == self.fingerprint => R::decode(e.response.as_slice())
                .map(Some)
                .map_err(|err| AppError::Internal(format!("stored response does not decode: {err}"))),
            Some(_) => Err(AppError::InvalidWithReason {
                reason: Reason::RequestIdReused,
                field: "request_id",
                message: "request_id was already used with a different request".into(),
            }),
        }
    }

    /// Runs `decide` under the writer gate and commits what it wrote with the events and
    /// the idempotency entry (what [`Remembered::kept`] keeps of the response), then waits
    /// until it is durable. A retry of a request already carried out is answered here,
    /// under the gate, with the stored response (see [`WriteCall::refused`] for retries
    /// that the handler's own checks refuse).
    pub async fn commit<R, F>(self, store: &Store, decide: F) -> AppResult<R>
    where
        R: Remembered,
        F: FnOnce(&mut Writer<'_>, &mut WriteSet, UnixMicros) -> AppResult<R>,
    {
        let arriving = store.arriving();
        let mut writer = timed(Phase::GateWait, store.writer_async()).await?;
        let long = self.long;
        // The section's answer, and whether it is a replay's kept response.
        let section = move || -> AppResult<(Ticket, AppResult<R>, bool)> {
            // Checked again under the gate: a concurrent twin may have just committed.
            // Its answer goes out once the twin's commit is durable, like the twin's own,
            // and is rendered from what was kept after the gate is let go.
            if let Some(kept) = self.kept_response(store)? {
                return Ok((writer.last_commit(), Ok(kept), true));
            }
            let now = now_micros();
            let mut ws = WriteSet::default();
            match decide(&mut writer, &mut ws, now) {
                Ok(response) => {
                    if let Some(rid) = &self.request_id {
                        let entry = IdempotencyEntry {
                            method: self.method.to_string(),
                            fingerprint: self.fingerprint,
                            response: response.kept().encode_to_vec(),
                            time: now,
                        };
                        ws.idempotency(&self.caller.principal_id, rid, &entry);
                    }
                    Ok((writer.commit(ws)?.0, Ok(response), false))
                }
                // A refusal that still changes something: committed without an idempotency
                // entry (a retry is decided again, against the changed state).
                Err(refusal) if ws.commits_on_refusal() => Ok((writer.commit(ws)?.0, Err(refusal), false)),
                Err(refusal) => Err(refusal),
            }
        };
        let (ticket, answer, replay) = if long { off_the_reactor(section)? } else { section()? };
        drop(arriving);
        timed(Phase::DurableWait, store.durable(ticket)).await?;
        match answer {
            Ok(kept) if replay => R::replayed(kept, store),
            answer => answer,
        }
    }

    /// Marks a write whose decision is long (a ProposeMatches solve): its section under
    /// the gate runs where it does not hold up the runtime's other tasks.
    pub fn long_running(self) -> WriteCall {
        WriteCall { long: true, ..self }
    }
}

/// Runs `work` on a thread of its own, of lower CPU priority ([`SOLVE_NICE`]), and pulls
/// the [`matching::Stop`] it is handed as soon
/// as the request is dropped: the client cancelled, or its deadline passed (tonic drops
/// the handler at the `grpc-timeout`). So a long solve holds no thread once its caller has
/// gone; it ends within one step of its solve ([`matching::Stop`]).
pub async fn stoppable<T: Send + 'static>(
    work: impl FnOnce(&crate::matching::Stop) -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    struct PullOnDrop(crate::matching::Stop);
    impl Drop for PullOnDrop {
        fn drop(&mut self) {
            self.0.stop();
        }
    }
    let stop = crate::matching::Stop::new();
    let _pull = PullOnDrop(stop.clone());
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("lcm-solve".into())
        .spawn(move || {
            yield_cpu_to_requests();
            let _ = tx.send(work(&stop));
        })
        .map_err(|e| AppError::Internal(format!("a solve's thread cannot start: {e}")))?;
    rx.await.map_err(|_| AppError::Internal("a solve's thread ended without an answer".into()))?
}

/// The nice value of a solve's thread: above request handling's 0, so that on a busy
/// machine the cores serve requests first and the solve takes what is left (a proposal
/// beside a stream of writes takes longer; the writes are not delayed by it).
const SOLVE_NICE: i32 = 10;

/// Lowers the calling thread's CPU priority to [`SOLVE_NICE`] (Linux: `setpriority` on a
/// thread id applies to that thread alone). Not possible elsewhere, and harmless if refused.
fn yield_cpu_to_requests() {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), SOLVE_NICE) {
        tracing::debug!(error = %e, "the solve's thread keeps its priority");
    }
}

/// Runs `f`, a long synchronous section, so that it does not stall the other tasks of a
/// multi-threaded runtime's worker (`block_in_place` hands the worker's queue to another
/// thread first). On a current-thread runtime (some tests) it just runs `f`.
pub fn off_the_reactor<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

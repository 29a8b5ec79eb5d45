//! `lcm.v1.EventService`: the audit trail (ListEvents) and live subscriptions
//! (WatchEvents).
//!
//! A watcher reads the durable log from its own position, so replay and live following
//! are one loop, a reconnect with the last sequence seen misses nothing and repeats
//! nothing, and a watcher that stops reading costs a bounded buffer: when its buffer
//! stays full for [`SLOW_WATCHER_TIMEOUT`], the stream ends with RESOURCE_EXHAUSTED and
//! the client resumes by sequence.

use super::*;
use crate::api as pb;
use crate::api::event_service_server::EventService;
use crate::convert;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

/// Events buffered per watcher.
pub const WATCH_BUFFER: usize = 256;
/// How long a watcher's full buffer is tolerated.
pub const SLOW_WATCHER_TIMEOUT: Duration = Duration::from_secs(10);
const READ_BATCH: usize = 512;
/// Messages of recent events kept for watchers: one slot per `sequence % MESSAGE_SLOTS`.
const MESSAGE_SLOTS: usize = 16_384;

/// Recent events as messages, converted once and shared by every watcher that sends them
/// (a watcher still encodes its own copy: tonic streams own their items).
pub struct EventMessages {
    slots: Vec<std::sync::Mutex<Option<Box<pb::Event>>>>,
}

impl Default for EventMessages {
    fn default() -> EventMessages {
        EventMessages { slots: (0..MESSAGE_SLOTS).map(|_| std::sync::Mutex::new(None)).collect() }
    }
}

impl EventMessages {
    /// The message of `event`, converted now unless a watcher already did.
    fn message(&self, event: &Event) -> pb::Event {
        let slot = &self.slots[(event.sequence % MESSAGE_SLOTS as u64) as usize];
        // Nothing panics while a slot is locked; a poisoned slot still holds a whole value.
        let mut slot = slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(m) = slot.as_deref().filter(|m| m.sequence == event.sequence) {
            return m.clone();
        }
        let m = convert::event_to_proto(event);
        *slot = Some(Box::new(m.clone()));
        m
    }
}

fn kinds(raw: &[i32]) -> AppResult<Vec<EventKind>> {
    let mut v = Violations::default();
    let kinds = convert::event_kinds_from(&mut v, "kinds", raw);
    v.finish(kinds)
}

#[tonic::async_trait]
impl EventService for Services {
    async fn list_events(
        &self,
        req: Request<pb::ListEventsRequest>,
    ) -> Result<Response<pb::ListEventsResponse>, Status> {
        let caller = caller(&req)?;
        caller.require_secretariat()?;
        let req = req.into_inner();
        let kinds = kinds(&req.kinds)?;
        let scope = format!("ListEvents|{}|{:?}", req.after_sequence, req.kinds);
        let pager = Pager::new(&self.store, req.page_size, &req.page_token, &scope, &caller)?;
        let start = pager.after.unwrap_or(req.after_sequence);
        let store = &self.store;
        let durable = store.durable_sequence();
        let mut position = start;
        let events = std::iter::from_fn(move || {
            if position >= durable {
                return None;
            }
            match store.events_after(position, READ_BATCH) {
                Ok(batch) if batch.is_empty() => None,
                Ok(batch) => {
                    position = batch.last().map_or(durable, |e| e.sequence);
                    Some(batch.into_iter().map(Ok).collect::<Vec<_>>())
                }
                Err(e) => {
                    position = durable;
                    Some(vec![Err(e)])
                }
            }
        })
        .flatten();
        let (events, next_page_token) =
            pager.page(store, events, |e| e.sequence, |e| kinds.is_empty() || kinds.contains(&e.kind))?;
        Ok(Response::new(pb::ListEventsResponse {
            events: events.iter().map(|e| convert::event_to_proto(e)).collect(),
            next_page_token,
        }))
    }

    type WatchEventsStream = ReceiverStream<Result<pb::Event, Status>>;

    async fn watch_events(
        &self,
        req: Request<pb::WatchEventsRequest>,
    ) -> Result<Response<Self::WatchEventsStream>, Status> {
        let caller = caller(&req)?;
        // tonic bounds a call by its deadline only until the response starts; a stream
        // honours the client's deadline here.
        let deadline = req
            .metadata()
            .get("grpc-timeout")
            .and_then(|v| v.to_str().ok())
            .and_then(grpc_timeout)
            .map(|d| tokio::time::Instant::now() + d);
        let req = req.into_inner();
        let kinds = kinds(&req.kinds)?;
        let (tx, rx) = mpsc::channel(WATCH_BUFFER);
        let ctx = self.clone();
        tokio::spawn(async move {
            let _watching = Watching::new(&ctx.metrics);
            let principal = caller.principal_id.clone();
            let following = follow(ctx, caller, kinds, req.after_sequence, &tx);
            let end = match deadline {
                None => following.await,
                Some(at) => tokio::time::timeout_at(at, following).await.unwrap_or_else(|_| {
                    Err(Status::deadline_exceeded("the client's deadline passed; resume by sequence"))
                }),
            };
            if let Err(status) = end {
                tracing::info!(principal = %principal, code = ?status.code(), "watch ended");
                let _ = tx.send_timeout(Err(status), Duration::from_secs(1)).await;
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}

/// Counts one open WatchEvents stream in the metrics for as long as it lives.
struct Watching(std::sync::Arc<crate::metrics::Metrics>);

impl Watching {
    fn new(metrics: &std::sync::Arc<crate::metrics::Metrics>) -> Watching {
        metrics.watchers.inc();
        Watching(metrics.clone())
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        self.0.watchers.dec();
    }
}

/// A `grpc-timeout` header value (`<digits><unit>`, at most 8 digits; units H M S m u n).
fn grpc_timeout(value: &str) -> Option<Duration> {
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n * 3600),
        "M" => Duration::from_secs(n * 60),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// Events follow the resource they carry; an offer's also go to the states that are a
/// party to it (see [`super::offers::may_read_offer`]).
fn may_read_event(store: &Store, caller: &Caller, event: &Event) -> crate::store::StoreResult<bool> {
    match &event.resource {
        EventResource::Offer(offer) => super::offers::may_read_offer(store, caller, offer),
        _ => Ok(caller.can_read_event(event)),
    }
}

/// Sends every readable event after `after`, then follows the log until the client goes
/// away (Ok) or the stream must end with a status (Err).
async fn follow(
    ctx: Services,
    caller: Caller,
    kinds: Vec<EventKind>,
    mut after: u64,
    tx: &mpsc::Sender<Result<pb::Event, Status>>,
) -> Result<(), Status> {
    let mut durable = ctx.store.subscribe();
    let mut revocations = ctx.auth.revocations();
    let mut stopping = ctx.shutdown.subscribe();
    loop {
        if *stopping.borrow_and_update() {
            return Err(AppError::Unavailable("the server is shutting down; resume by sequence".into()).into());
        }
        durable.borrow_and_update();
        loop {
            let batch = ctx.store.events_after(after, READ_BATCH).map_err(AppError::from)?;
            if batch.is_empty() {
                break;
            }
            for event in batch {
                after = event.sequence;
                if (!kinds.is_empty() && !kinds.contains(&event.kind))
                    || !may_read_event(&ctx.store, &caller, &event).map_err(AppError::from)?
                {
                    continue;
                }
                match tx.send_timeout(Ok(ctx.messages.message(&event)), SLOW_WATCHER_TIMEOUT).await {
                    Ok(()) => ctx.metrics.events_delivered.inc(),
                    Err(mpsc::error::SendTimeoutError::Closed(_)) => return Ok(()),
                    Err(mpsc::error::SendTimeoutError::Timeout(_)) => {
                        return Err(AppError::ResourceExhausted(format!(
                            "the watcher fell too far behind; resume with after_sequence = {}",
                            event.sequence - 1
                        ))
                        .into());
                    }
                }
            }
        }
        tokio::select! {
            changed = durable.changed() => if changed.is_err() { return Ok(()) },
            _ = revocations.changed() => {
                if !ctx.auth.still_valid(&caller) {
                    return Err(AppError::Unauthenticated("the token was revoked".into()).into());
                }
            }
            _ = stopping.changed() => {}
            _ = tx.closed() => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeout_values_parse_by_the_spec() {
        assert_eq!(grpc_timeout("300m"), Some(Duration::from_millis(300)));
        assert_eq!(grpc_timeout("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(grpc_timeout("99999999n"), Some(Duration::from_nanos(99_999_999)));
        for bad in ["", "m", "123", "123456789S", "1x", "-1S", "1.5S"] {
            assert_eq!(grpc_timeout(bad), None, "{bad}");
        }
    }
}

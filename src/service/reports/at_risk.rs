//! NEED_AT_RISK alerts (API.md, "Readiness rows"): a task inside the server records one
//! NEED_AT_RISK event (actor `system`, carrying the need) each time a need enters the
//! at-risk set of the readiness report.
//!
//! The set is [`crate::reports::readiness_status`]'s; [`AtRiskAlerts`] remembers which
//! members were alerted. The task checks
//! - after every write that touches a need: every such write records an event carrying
//!   the need (NEED_CREATED, NEED_UPDATED for seats reserved or released, NEED_WITHDRAWN),
//!   and the task follows the durable event log;
//! - at start and at each UTC midnight of its [`Clock`], every need (the passage of time).
//!
//! Nothing besides the events is stored: at start the task replays the log, so a need
//! alerted before a restart is not alerted again unless a later state shows it left the
//! set. A need leaves the set only by a write (time only brings dates closer), and every
//! such write is in the log. Events that retention has pruned are not replayed: a need
//! whose only alert was pruned is alerted once more after a restart.

use super::*;
use crate::reports::{AtRiskAlerts, RiskHorizons};
use std::collections::BTreeSet;
use std::sync::Arc;
use tokio::sync::watch;

/// The actor of NEED_AT_RISK events.
pub const SYSTEM_ACTOR: &str = "system";

/// Events read from the log at a time.
const PAGE: usize = 1024;

/// The longest the task sleeps before looking at the clock again (wall clocks jump).
const MAX_NAP: std::time::Duration = std::time::Duration::from_secs(3600);

/// The time the alert task goes by: the system clock, or (tests) the system clock plus an
/// offset that the test moves, so a test drives the passage of days without sleeping.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// `None`: the system clock. Else the offset in microseconds.
    offset: Option<Arc<watch::Sender<i64>>>,
    /// The day of the latest full check (start, midnight), for tests to wait on.
    checked: Arc<watch::Sender<Option<Day>>>,
}

impl Clock {
    /// A clock that a test moves with [`Clock::advance_days`].
    pub fn manual() -> Clock {
        Clock { offset: Some(Arc::new(watch::channel(0).0)), checked: Arc::default() }
    }

    pub fn now(&self) -> UnixMicros {
        now_micros().saturating_add(self.offset())
    }

    pub fn today(&self) -> Day {
        day_of_micros(self.now())
    }

    fn offset(&self) -> i64 {
        self.offset.as_ref().map_or(0, |o| *o.borrow())
    }

    /// Moves a manual clock `days` ahead (no effect on the system clock).
    pub fn advance_days(&self, days: i64) {
        if let Some(o) = &self.offset {
            o.send_modify(|v| *v = v.saturating_add(days.saturating_mul(SECONDS_PER_DAY * MICROS_PER_SECOND)));
        }
    }

    /// Waits until a full check of `day` (or a later one) has finished.
    pub async fn checked(&self, day: Day) {
        let mut rx = self.checked.subscribe();
        let _ = rx.wait_for(|d| d.is_some_and(|d| d >= day)).await;
    }

    /// Resolves when a manual clock is moved; never for the system clock.
    async fn moved(rx: &mut Option<watch::Receiver<i64>>) {
        let Some(rx) = rx else { return std::future::pending().await };
        if rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// What the task knows between checks.
struct Watch {
    store: Store,
    clock: Clock,
    horizons: RiskHorizons,
    alerts: AtRiskAlerts,
    /// The last event sequence read.
    cursor: u64,
}

impl Watch {
    /// Reads the durable events after the cursor; returns the needs that one of them
    /// shows in the set without an alert.
    fn absorb(&mut self) -> AppResult<BTreeSet<Id>> {
        // An offset clock shifts the day each write happened on, like today's.
        let skew = self.clock.offset();
        let mut due = BTreeSet::new();
        loop {
            // Only needs matter here: the events of matches are passed over unread.
            let (events, last) = self.store.events_after_except_matches(self.cursor, PAGE)?;
            if last == self.cursor {
                return Ok(due);
            }
            self.cursor = last;
            for e in &events {
                let EventResource::Need(need) = &e.resource else { continue };
                if e.kind == EventKind::NeedAtRisk {
                    self.alerts.alerted(need.meta.id);
                    due.remove(&need.meta.id);
                } else if self.alerts.observe(need, day_of_micros(e.time.saturating_add(skew)), &self.horizons) {
                    due.insert(need.meta.id);
                } else {
                    due.remove(&need.meta.id);
                }
            }
        }
    }

    /// One check: reads the new events, then records NEED_AT_RISK for every need that is
    /// due now, among those the events touched, or among all needs when `all`. The
    /// current state of each is read again under the writer gate. Returns the commit to
    /// wait on, if any.
    fn check(&mut self, all: bool) -> AppResult<Option<crate::store::Ticket>> {
        let mut candidates = self.absorb()?;
        let today = self.clock.today();
        if all {
            for need in self.store.scan::<Need>(None) {
                let need = need?;
                if self.alerts.due(&need, today, &self.horizons) {
                    candidates.insert(need.meta.id);
                }
            }
        }
        if candidates.is_empty() {
            return Ok(None);
        }
        let writer = self.store.writer()?;
        let mut ws = WriteSet::default();
        let now = now_micros();
        let mut recorded = Vec::new();
        for id in candidates {
            let Some(need) = self.store.get::<Need>(id)? else { continue };
            if self.alerts.due(&need, today, &self.horizons) {
                tracing::info!(need_id = %id.render(Kind::Need), requester = %need.spec.requester, "need at risk");
                ws.event(EventKind::NeedAtRisk, now, SYSTEM_ACTOR, EventResource::Need(need));
                recorded.push(id);
            }
        }
        if recorded.is_empty() {
            return Ok(None);
        }
        let (ticket, _) = writer.commit(ws)?;
        for id in recorded {
            self.alerts.alerted(id);
        }
        Ok(Some(ticket))
    }
}

/// Starts the alert task of a server; it ends when the server starts shutting down.
pub fn spawn(ctx: &Services) -> tokio::task::JoinHandle<()> {
    let watch = Watch {
        store: ctx.store.clone(),
        clock: ctx.clock.clone(),
        horizons: ctx.risk_horizons,
        alerts: AtRiskAlerts::default(),
        cursor: 0,
    };
    let stop = ctx.shutdown.subscribe();
    tokio::spawn(async move {
        if let Err(e) = run(watch, stop).await {
            tracing::error!(error = %e, "the NEED_AT_RISK task stopped");
        }
    })
}

/// Runs one check on the blocking pool, then waits until what it recorded is durable.
async fn check(mut watch: Watch, all: bool) -> AppResult<Watch> {
    let (watch, ticket) = tokio::task::spawn_blocking(move || {
        let ticket = watch.check(all);
        ticket.map(|t| (watch, t))
    })
    .await
    .map_err(|e| AppError::Internal(format!("NEED_AT_RISK check failed: {e}")))??;
    if let Some(t) = ticket {
        watch.store.durable(t).await?;
    }
    Ok(watch)
}

async fn run(mut watch: Watch, mut stop: watch::Receiver<bool>) -> AppResult<()> {
    let mut durable = watch.store.subscribe();
    let mut moved = watch.clock.offset.as_ref().map(|o| o.subscribe());
    // At start: the log replayed, then every need.
    let mut checked_day = watch.clock.today();
    watch = check(watch, true).await?;
    watch.clock.checked.send_replace(Some(checked_day));
    tracing::debug!(events = watch.cursor, "NEED_AT_RISK task started");
    loop {
        if *stop.borrow() {
            return Ok(());
        }
        let now = watch.clock.now();
        let midnight = (day_of_micros(now) + 1).saturating_mul(SECONDS_PER_DAY * MICROS_PER_SECOND);
        let nap = std::time::Duration::from_micros(u64::try_from(midnight - now).unwrap_or(0)).min(MAX_NAP);
        let all = tokio::select! {
            stopping = stop.changed() => {
                if stopping.is_err() {
                    return Ok(());
                }
                continue;
            }
            changed = durable.changed() => {
                if changed.is_err() {
                    return Ok(());
                }
                false
            }
            () = Clock::moved(&mut moved) => true,
            () = tokio::time::sleep(nap) => true,
        };
        let today = watch.clock.today();
        let full = all && today != checked_day;
        watch = check(watch, full).await?;
        if full {
            checked_day = today;
            watch.clock.checked.send_replace(Some(today));
        }
    }
}

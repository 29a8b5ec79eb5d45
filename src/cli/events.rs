//! `lcm events list|watch`: the audit trail, paged or followed live.
//!
//! `watch` resumes by sequence: when the stream breaks (server restarting, or the watcher
//! ended with RESOURCE_EXHAUSTED for falling behind), it reconnects after the last
//! sequence it printed, so nothing is missed and nothing is printed twice.

use super::Ctx;
use super::args::{Paging, collect_pages};
use super::error::CliError;
use super::render::{Format, to_json};
use crate::api::{self, EventKind};
use std::io::Write;
use std::time::Duration;
use tokio_stream::StreamExt;

/// Consecutive failed reconnects after which `watch` gives up.
const MAX_RECONNECTS: u32 = 8;

/// The audit trail.
#[derive(Debug, clap::Subcommand)]
pub enum EventsCmd {
    /// List stored events in sequence order (Secretariat).
    List {
        /// Only events after this sequence number.
        #[arg(long, default_value_t = 0)]
        after: u64,
        /// Only these kinds, comma-separated (default: all).
        #[arg(long, value_enum, ignore_case = true, value_delimiter = ',')]
        kinds: Vec<EventKind>,
        #[command(flatten)]
        paging: Paging,
    },
    /// Print stored events after `--after`, then live ones as they happen.
    Watch {
        /// Start after this sequence number (0: from the beginning).
        #[arg(long, default_value_t = 0)]
        after: u64,
        /// Only these kinds, comma-separated (default: all).
        #[arg(long, value_enum, ignore_case = true, value_delimiter = ',')]
        kinds: Vec<EventKind>,
        /// Stop after this many events.
        #[arg(long)]
        limit: Option<u64>,
    },
}

/// Runs one `events` command.
pub async fn run(cmd: EventsCmd, ctx: &Ctx) -> Result<(), CliError> {
    match cmd {
        EventsCmd::List { after, kinds, paging } => {
            let client = ctx.clients.events();
            let kinds: Vec<i32> = kinds.into_iter().map(i32::from).collect();
            let events = collect_pages(&paging, |page_token| {
                let mut client = client.clone();
                let req = api::ListEventsRequest {
                    after_sequence: after,
                    kinds: kinds.clone(),
                    page_size: paging.page_size(),
                    page_token,
                };
                async move {
                    let resp = client.list_events(req).await?.into_inner();
                    Ok((resp.events, resp.next_page_token))
                }
            })
            .await?;
            ctx.list(&events)
        }
        EventsCmd::Watch { after, kinds, limit } => {
            watch(ctx, after, kinds.into_iter().map(i32::from).collect(), limit).await
        }
    }
}

async fn watch(ctx: &Ctx, mut after: u64, kinds: Vec<i32>, limit: Option<u64>) -> Result<(), CliError> {
    let mut printed = 0u64;
    let mut failures = 0u32;
    loop {
        let req = api::WatchEventsRequest { after_sequence: after, kinds: kinds.clone() };
        let outcome = match ctx.clients.events().watch_events(req).await {
            Ok(resp) => {
                let mut stream = resp.into_inner();
                loop {
                    match stream.next().await {
                        None => break Ok(()),
                        Some(Err(status)) => break Err(status),
                        Some(Ok(event)) => {
                            failures = 0;
                            after = after.max(event.sequence);
                            print_event(ctx, &event)?;
                            printed += 1;
                            if limit.is_some_and(|n| printed >= n) {
                                return Ok(());
                            }
                        }
                    }
                }
            }
            Err(status) => Err(status),
        };
        match outcome {
            Ok(()) => return Ok(()),
            Err(status) if resumable(&status) && failures < MAX_RECONNECTS => {
                failures += 1;
                let wait = Duration::from_millis(250 << failures.min(5));
                eprintln!(
                    "lcm: event stream broke ({}); resuming after sequence {after} in {wait:?}",
                    super::error::describe_status(&status)
                );
                tokio::time::sleep(wait).await;
            }
            Err(status) => return Err(status.into()),
        }
    }
}

/// Errors after which a watcher reconnects and resumes by sequence.
fn resumable(status: &tonic::Status) -> bool {
    matches!(status.code(), tonic::Code::Unavailable | tonic::Code::ResourceExhausted | tonic::Code::Unknown)
}

/// One event as one line: compact JSON, or sequence, time, kind, resource and actor.
fn print_event(ctx: &Ctx, event: &api::Event) -> Result<(), CliError> {
    let json = to_json(event)?;
    let mut out = std::io::stdout().lock();
    if ctx.format == Format::Json {
        writeln!(out, "{json}")?;
    } else {
        let text = |key: &str| json.get(key).and_then(|v| v.as_str()).unwrap_or("").to_string();
        let time = text("time");
        let time = match time.split_once('.') {
            Some((seconds, _)) => format!("{seconds}Z"),
            None => time,
        };
        writeln!(
            out,
            "{:>6}  {}  {:<20}  {}  actor={}",
            event.sequence,
            time,
            text("kind"),
            event.resource_id,
            event.actor
        )?;
    }
    out.flush()?;
    Ok(())
}

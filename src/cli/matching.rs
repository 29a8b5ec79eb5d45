//! `lcm match propose|what-if|list|show|approve|reject` and `lcm explain NEED_ID`.

use super::Ctx;
use super::args::{Paging, collect_pages};
use super::connect::request_id;
use super::error::{CliError, usage};
use super::render::Format;
use crate::api::{self, CapabilityArea, MatchState};

/// Proposals of the matching engine and the Secretariat's decisions on them.
#[derive(Debug, clap::Subcommand)]
pub enum MatchCmd {
    /// Run the matching engine over open needs and offers (Secretariat).
    Propose {
        /// Show the proposals without storing them.
        #[arg(long)]
        dry_run: bool,
        /// Only these capability areas (repeat or comma-separate; default: all).
        #[arg(long = "capability", value_enum, ignore_case = true, value_delimiter = ',')]
        capabilities: Vec<CapabilityArea>,
    },
    /// What would these extra seats change? A dry run with hypothetical offers, against the
    /// same dry run without them (Secretariat). Nothing is stored.
    WhatIf {
        /// A JSON file with one offer, or an array of offers, in the import file's format
        /// (days counted from now; `training_centre` names a registered centre by id).
        #[arg(long)]
        offer_file: std::path::PathBuf,
        /// Only these capability areas (repeat or comma-separate; default: all).
        #[arg(long = "capability", value_enum, ignore_case = true, value_delimiter = ',')]
        capabilities: Vec<CapabilityArea>,
    },
    /// List matches.
    List {
        #[arg(long, value_enum, ignore_case = true)]
        state: Option<MatchState>,
        #[arg(long)]
        need_id: Option<String>,
        #[command(flatten)]
        paging: Paging,
    },
    /// Show every field of one match.
    #[command(visible_alias = "get")]
    Show {
        /// The match's id.
        id: String,
    },
    /// Approve a proposed match: reserves its seats and creates its arrangements.
    Approve {
        /// The match's id.
        id: String,
        /// The etag last read (default: read the match now and use its etag).
        #[arg(long)]
        etag: Option<String>,
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// Reject a proposed match; the engine will not propose it again unchanged.
    Reject {
        /// The match's id.
        id: String,
        /// The etag last read (default: read the match now and use its etag).
        #[arg(long)]
        etag: Option<String>,
        #[arg(long)]
        reason: String,
    },
}

/// Runs one `match` command.
pub async fn run(cmd: MatchCmd, ctx: &Ctx) -> Result<(), CliError> {
    let mut client = ctx.clients.matching();
    match cmd {
        MatchCmd::Propose { dry_run, capabilities } => {
            let req = api::ProposeMatchesRequest {
                capabilities: capabilities.into_iter().map(i32::from).collect(),
                dry_run,
                request_id: request_id(),
                ..Default::default()
            };
            let resp = client.propose_matches(req).await?.into_inner();
            if ctx.format == Format::Json {
                return ctx.one(&resp);
            }
            if let Some(summary) = &resp.summary {
                ctx.one(summary)?;
                ctx.line("")?;
            }
            ctx.list(&resp.matches)
        }
        MatchCmd::WhatIf { offer_file, capabilities } => what_if(ctx, &offer_file, capabilities).await,
        MatchCmd::List { state, need_id, paging } => {
            let matches = collect_pages(&paging, |page_token| {
                let mut client = client.clone();
                let req = api::ListMatchesRequest {
                    page_size: paging.page_size(),
                    page_token,
                    state: state.map_or(0, i32::from),
                    need_id: need_id.clone().unwrap_or_default(),
                };
                async move {
                    let resp = client.list_matches(req).await?.into_inner();
                    Ok((resp.matches, resp.next_page_token))
                }
            })
            .await?;
            ctx.list(&matches)
        }
        MatchCmd::Show { id } => {
            let found = client.get_match(api::GetMatchRequest { id }).await?;
            ctx.one(&found.into_inner())
        }
        MatchCmd::Approve { id, etag, comment } => {
            let etag = super::etag_or_current(etag, || current_etag(ctx, &id)).await?;
            let req = api::ApproveMatchRequest { id, etag, request_id: request_id(), comment };
            let resp = client.approve_match(req).await?.into_inner();
            if ctx.format == Format::Json {
                return ctx.one(&resp);
            }
            if let Some(approved) = &resp.r#match {
                ctx.list(std::slice::from_ref(approved))?;
                ctx.line("")?;
            }
            ctx.list(&resp.arrangements)
        }
        MatchCmd::Reject { id, etag, reason } => {
            let etag = super::etag_or_current(etag, || current_etag(ctx, &id)).await?;
            let req = api::RejectMatchRequest { id, etag, reason, request_id: request_id() };
            ctx.one(&client.reject_match(req).await?.into_inner())
        }
    }
}

/// The offers of a what-if file: one offer object or an array of them.
fn what_if_offers(path: &std::path::Path, now_unix_seconds: i64) -> Result<Vec<api::Offer>, CliError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| CliError::Io { path: path.display().to_string(), source })?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| usage(format!("{}: {e}", path.display())))?;
    let items = match value {
        serde_json::Value::Array(items) => items,
        one => vec![one],
    };
    let mut offers = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let offer: crate::scenario::ScenarioOffer =
            serde_json::from_value(item).map_err(|e| usage(format!("{}: offer {}: {e}", path.display(), i + 1)))?;
        // A centre is named by its id: it maps onto itself.
        let centres = offer.training_centre.iter().map(|c| (c.clone(), c.clone())).collect();
        offers.push(super::import::offer_message(&offer, now_unix_seconds, &centres)?);
    }
    Ok(offers)
}

/// Runs `match what-if`: the two summaries side by side, then the needs that gain seats.
async fn what_if(ctx: &Ctx, path: &std::path::Path, capabilities: Vec<CapabilityArea>) -> Result<(), CliError> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    let hypothetical_offers = what_if_offers(path, now)?;
    let capabilities: Vec<i32> = capabilities.into_iter().map(i32::from).collect();
    let mut client = ctx.clients.matching();
    let req = api::ProposeMatchesRequest {
        capabilities: capabilities.clone(),
        dry_run: true,
        hypothetical_offers,
        request_id: String::new(),
    };
    let with = client.propose_matches(req).await?.into_inner();
    if ctx.format == Format::Json {
        return ctx.one(&with);
    }
    // The baseline's allocations, per need, from the same dry run without the offers.
    let req = api::ProposeMatchesRequest { capabilities, dry_run: true, ..Default::default() };
    let without = client.propose_matches(req).await?.into_inner();
    let (base, summary) = (with.baseline.unwrap_or_default(), with.summary.unwrap_or_default());
    ctx.line(&format!("{:<26} {:>12} {:>12} {:>8}", "", "baseline", "what-if", "change"))?;
    let rows: [(&str, u64, u64); 6] = [
        ("needs considered", base.needs_considered.into(), summary.needs_considered.into()),
        ("offers considered", base.offers_considered.into(), summary.offers_considered.into()),
        ("seats demanded", base.seats_demanded, summary.seats_demanded),
        ("seats matched", base.seats_matched, summary.seats_matched),
        ("women seats matched", base.women_seats_matched, summary.women_seats_matched),
        ("critical seats unmatched", base.critical_seats_unmatched, summary.critical_seats_unmatched),
    ];
    for (name, b, w) in rows {
        let change = i128::from(w) - i128::from(b);
        ctx.line(&format!("{name:<26} {b:>12} {w:>12} {change:>+8}"))?;
    }
    ctx.line(&format!("{:<26} {:>12} {:>12}", "solve time (µs)", base.solve_micros, summary.solve_micros))?;
    let seats = |matches: &[api::Match]| {
        let mut per_need = std::collections::BTreeMap::<String, u32>::new();
        for m in matches {
            *per_need.entry(m.need_id.clone()).or_default() += m.quantity;
        }
        per_need
    };
    let (before, after) = (seats(&without.matches), seats(&with.matches));
    let gains: Vec<String> = after
        .iter()
        .filter_map(|(need, &w)| {
            let b = before.get(need).copied().unwrap_or(0);
            (w > b).then(|| {
                let via: std::collections::BTreeSet<&str> = with
                    .matches
                    .iter()
                    .filter(|m| &m.need_id == need)
                    .flat_map(|m| &m.allocations)
                    .filter(|a| a.offer_id.starts_with("hypothetical-"))
                    .map(|a| a.offer_id.as_str())
                    .collect();
                let via: Vec<&str> = via.into_iter().collect();
                format!("{need:<12} {b:>6} -> {w:<6} +{:<5} {}", w - b, via.join(", "))
            })
        })
        .collect();
    ctx.line("")?;
    if gains.is_empty() {
        return ctx.line("No need gains seats.");
    }
    ctx.line("Needs that gain seats (seats matched: baseline -> what-if, via):")?;
    for g in gains {
        ctx.line(&g)?;
    }
    Ok(())
}

async fn current_etag(ctx: &Ctx, id: &str) -> Result<String, CliError> {
    let req = api::GetMatchRequest { id: id.to_string() };
    Ok(ctx.clients.matching().get_match(req).await?.into_inner().etag)
}

/// Runs `explain NEED_ID`: every candidate offer the caller may read, whether it fits, and
/// why not; the others are only counted.
pub async fn explain(need_id: String, ctx: &Ctx) -> Result<(), CliError> {
    let req = api::ExplainNeedRequest { need_id };
    let resp = ctx.clients.matching().explain_need(req).await?.into_inner();
    if ctx.format == Format::Json {
        return ctx.one(&resp);
    }
    ctx.list(&resp.candidates)?;
    if resp.unreadable_offers > 0 && ctx.format == Format::Table {
        ctx.line(&format!("(and {} offer(s) you may not read)", resp.unreadable_offers))?;
    }
    Ok(())
}

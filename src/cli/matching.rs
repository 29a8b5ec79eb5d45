//! `lcm match propose|list|show|approve|reject` and `lcm explain NEED_ID`.

use super::Ctx;
use super::args::{Paging, collect_pages};
use super::connect::request_id;
use super::error::CliError;
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
            let etag = match etag {
                Some(etag) => etag,
                None => current_etag(ctx, &id).await?,
            };
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
            let etag = match etag {
                Some(etag) => etag,
                None => current_etag(ctx, &id).await?,
            };
            let req = api::RejectMatchRequest { id, etag, reason, request_id: request_id() };
            ctx.one(&client.reject_match(req).await?.into_inner())
        }
    }
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

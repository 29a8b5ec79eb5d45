//! `lcm centres create|get|update|list` and `lcm admin principals create|list|revoke`.

use super::Ctx;
use super::args::{Paging, collect_pages, parse_language, parse_state, parse_trimmed};
use super::connect::request_id;
use super::error::CliError;
use crate::api;
use api::{CapabilityArea, PrincipalKind};

/// Partner training centres.
#[derive(Debug, clap::Subcommand)]
pub enum CentresCmd {
    /// Register a training centre (Secretariat).
    Create(CentreCreate),
    /// Show every field of one centre.
    #[command(visible_alias = "show")]
    Get {
        /// The centre's id.
        id: String,
    },
    /// List training centres.
    List {
        #[command(flatten)]
        paging: Paging,
    },
    /// Change a centre's name, languages, capabilities or UN recognition (Secretariat);
    /// only the fields given change, the host state never does.
    Update(CentreUpdate),
}

/// The fields of `centres update`: each one given is sent and named in the update mask.
#[derive(Debug, clap::Args)]
pub struct CentreUpdate {
    /// The centre's id.
    pub id: String,
    /// The etag last read (default: the current one).
    #[arg(long)]
    pub etag: Option<String>,
    #[arg(long, value_parser = parse_trimmed)]
    pub name: Option<String>,
    /// Languages taught, comma-separated.
    #[arg(long, value_delimiter = ',', value_parser = parse_language)]
    pub languages: Option<Vec<String>>,
    /// Capability areas taught, comma-separated.
    #[arg(long, value_enum, ignore_case = true, value_delimiter = ',')]
    pub capabilities: Option<Vec<CapabilityArea>>,
    /// Grant (true) or withdraw (false) UN recognition.
    #[arg(long)]
    pub un_recognized: Option<bool>,
}

/// Fields of a new training centre.
#[derive(Debug, clap::Args)]
pub struct CentreCreate {
    #[arg(long, value_parser = parse_trimmed)]
    pub name: String,
    /// Host member state (alpha-3).
    #[arg(long, value_parser = parse_state)]
    pub host_state: String,
    /// Languages taught, comma-separated.
    #[arg(long, value_delimiter = ',', required = true, value_parser = parse_language)]
    pub languages: Vec<String>,
    /// Capability areas taught, comma-separated.
    #[arg(long, value_enum, ignore_case = true, value_delimiter = ',')]
    pub capabilities: Vec<CapabilityArea>,
    /// Recognised by the UN.
    #[arg(long)]
    pub un_recognized: bool,
}

/// Administration (Secretariat only).
#[derive(Debug, clap::Subcommand)]
pub enum AdminCmd {
    /// Principals: who may call the service, with which token.
    #[command(subcommand)]
    Principals(PrincipalsCmd),
}

/// `lcm admin principals ...`
#[derive(Debug, clap::Subcommand)]
pub enum PrincipalsCmd {
    /// Create a principal and print its token (shown only this once).
    Create {
        #[arg(long, value_enum, ignore_case = true)]
        kind: PrincipalKind,
        /// MEMBER_STATE only: the state it acts for (alpha-3).
        #[arg(long, value_parser = parse_state)]
        member_state: Option<String>,
        /// TRAINING_CENTRE only: the centre it acts for.
        #[arg(long)]
        training_centre_id: Option<String>,
        /// A name people recognise, e.g. "Permanent Mission of Uganda".
        #[arg(long, value_parser = parse_trimmed)]
        display_name: String,
    },
    /// List principals.
    List {
        #[command(flatten)]
        paging: Paging,
    },
    /// Revoke a principal: its token stops working at once.
    Revoke {
        /// The principal's id.
        id: String,
    },
}

/// Runs one `centres` command.
pub async fn run_centres(cmd: CentresCmd, ctx: &Ctx) -> Result<(), CliError> {
    let mut client = ctx.clients.centres();
    match cmd {
        CentresCmd::Create(args) => {
            let req = api::CreateTrainingCentreRequest {
                training_centre: Some(api::TrainingCentre {
                    name: args.name,
                    host_state: args.host_state,
                    languages: args.languages,
                    capabilities: args.capabilities.into_iter().map(i32::from).collect(),
                    un_recognized: args.un_recognized,
                    ..api::TrainingCentre::default()
                }),
                request_id: request_id(),
            };
            ctx.one(&client.create_training_centre(req).await?.into_inner())
        }
        CentresCmd::Update(args) => {
            let mut paths = Vec::new();
            let mut centre =
                api::TrainingCentre { id: args.id, etag: args.etag.unwrap_or_default(), ..Default::default() };
            if let Some(name) = args.name {
                centre.name = name;
                paths.push("name".to_string());
            }
            if let Some(languages) = args.languages {
                centre.languages = languages;
                paths.push("languages".to_string());
            }
            if let Some(capabilities) = args.capabilities {
                centre.capabilities = capabilities.into_iter().map(i32::from).collect();
                paths.push("capabilities".to_string());
            }
            if let Some(un_recognized) = args.un_recognized {
                centre.un_recognized = un_recognized;
                paths.push("un_recognized".to_string());
            }
            let req = api::UpdateTrainingCentreRequest {
                training_centre: Some(centre),
                update_mask: Some(prost_types::FieldMask { paths }),
                request_id: request_id(),
            };
            ctx.one(&client.update_training_centre(req).await?.into_inner())
        }
        CentresCmd::Get { id } => {
            let req = api::GetTrainingCentreRequest { id };
            ctx.one(&client.get_training_centre(req).await?.into_inner())
        }
        CentresCmd::List { paging } => {
            let centres = collect_pages(&paging, |page_token| {
                let mut client = client.clone();
                let req = api::ListTrainingCentresRequest { page_size: paging.page_size(), page_token };
                async move {
                    let resp = client.list_training_centres(req).await?.into_inner();
                    Ok((resp.training_centres, resp.next_page_token))
                }
            })
            .await?;
            ctx.list(&centres)
        }
    }
}

/// Runs one `admin` command.
pub async fn run_admin(cmd: AdminCmd, ctx: &Ctx) -> Result<(), CliError> {
    let mut client = ctx.clients.admin();
    let AdminCmd::Principals(cmd) = cmd;
    match cmd {
        PrincipalsCmd::Create { kind, member_state, training_centre_id, display_name } => {
            let req = api::CreatePrincipalRequest {
                kind: kind.into(),
                member_state: member_state.unwrap_or_default(),
                training_centre_id: training_centre_id.unwrap_or_default(),
                display_name,
                request_id: request_id(),
            };
            ctx.one(&client.create_principal(req).await?.into_inner())
        }
        PrincipalsCmd::List { paging } => {
            let principals = collect_pages(&paging, |page_token| {
                let mut client = client.clone();
                let req = api::ListPrincipalsRequest { page_size: paging.page_size(), page_token };
                async move {
                    let resp = client.list_principals(req).await?.into_inner();
                    Ok((resp.principals, resp.next_page_token))
                }
            })
            .await?;
            ctx.list(&principals)
        }
        PrincipalsCmd::Revoke { id } => {
            let req = api::RevokePrincipalRequest { id };
            ctx.one(&client.revoke_principal(req).await?.into_inner())
        }
    }
}

//! `lcm import FILE`: loads a scenario file through the public API, as the caller (the
//! Secretariat), and the demo principals that `lcm serve --demo` prints.
//!
//! T0 is taken once; each `*_days` becomes T0 + days × 86 400 s. Centres are created
//! first, then needs, then offers, each with a fresh `request_id`; a call that fails with
//! UNAVAILABLE is retried with the same `request_id`, so a retry never creates twice.
//! The server assigns ids: the report maps every `ref` of the file to its id.

use super::connect::{Clients, request_id};
use super::enums::{ApiEnum, parse_api_enum};
use super::error::{CliError, usage};
use crate::api;
use crate::scenario::{Scenario, ScenarioCentre, ScenarioNeed, ScenarioOffer};
use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;
use tonic::transport::Channel;

use crate::domain::SECONDS_PER_DAY;

/// What an import created: T0 and, per kind of record, the file's `ref` → server id.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    /// The instant the import started, in seconds since the Unix epoch.
    pub t0_unix_seconds: i64,
    pub training_centres: BTreeMap<String, String>,
    pub needs: BTreeMap<String, String>,
    pub offers: BTreeMap<String, String>,
}

/// Creates the scenario's centres, needs and offers through the API, authenticating
/// with `token` (a Secretariat token: the file holds CRITICAL needs of many states).
/// Stops at the first failure, naming the record.
pub async fn import_scenario(
    channel: Channel,
    token: &str,
    scenario: &Scenario,
    t0_unix_seconds: i64,
) -> Result<ImportReport, CliError> {
    let clients = Clients::new(channel, token)?;
    let mut report = ImportReport { t0_unix_seconds, ..ImportReport::default() };
    for centre in &scenario.training_centres {
        let context = || format!("training centre `{}`", centre.reference);
        let message = centre_message(centre).map_err(|e| e.context(context()))?;
        let req = api::CreateTrainingCentreRequest { training_centre: Some(message), request_id: request_id() };
        let created = retrying(|| {
            let mut client = clients.centres();
            let req = req.clone();
            async move { client.create_training_centre(req).await }
        })
        .await
        .map_err(|e| CliError::from(e).context(context()))?;
        report.training_centres.insert(centre.reference.clone(), created.id);
    }
    for need in &scenario.needs {
        let context = || format!("need `{}`", need.reference);
        let message = need_message(need, t0_unix_seconds).map_err(|e| e.context(context()))?;
        let req = api::CreateNeedRequest { need: Some(message), request_id: request_id() };
        let created = retrying(|| {
            let mut client = clients.needs();
            let req = req.clone();
            async move { client.create_need(req).await }
        })
        .await
        .map_err(|e| CliError::from(e).context(context()))?;
        report.needs.insert(need.reference.clone(), created.id);
    }
    for offer in &scenario.offers {
        let context = || format!("offer `{}`", offer.reference);
        let message =
            offer_message(offer, t0_unix_seconds, &report.training_centres).map_err(|e| e.context(context()))?;
        let req = api::CreateOfferRequest { offer: Some(message), request_id: request_id() };
        let created = retrying(|| {
            let mut client = clients.offers();
            let req = req.clone();
            async move { client.create_offer(req).await }
        })
        .await
        .map_err(|e| CliError::from(e).context(context()))?;
        report.offers.insert(offer.reference.clone(), created.id);
    }
    Ok(report)
}

/// Calls `call` until it succeeds or fails other than UNAVAILABLE (three attempts).
/// The caller reuses one request (one `request_id`), so a retry is answered, not redone.
async fn retrying<T, F, Fut>(mut call: F) -> Result<T, tonic::Status>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<tonic::Response<T>, tonic::Status>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        match call().await {
            Ok(resp) => return Ok(resp.into_inner()),
            Err(status) if status.code() == tonic::Code::Unavailable && attempt < 3 => {
                tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
            }
            Err(status) => return Err(status),
        }
    }
}

/// The API enum value with the same name as a domain enum value (`"MEDICAL"`).
fn to_api<E: ApiEnum + clap::ValueEnum + Into<i32>>(name: &str) -> Result<i32, CliError> {
    parse_api_enum::<E>(name).map(Into::into).map_err(usage)
}

/// T0 + `days` whole days.
fn day_timestamp(t0_unix_seconds: i64, days: i64) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: t0_unix_seconds + days * SECONDS_PER_DAY, nanos: 0 }
}

fn strings<T: ToString>(items: &[T]) -> Vec<String> {
    items.iter().map(ToString::to_string).collect()
}

/// The `CreateTrainingCentre` message of one scenario centre.
pub fn centre_message(centre: &ScenarioCentre) -> Result<api::TrainingCentre, CliError> {
    let mut capabilities = Vec::new();
    for capability in &centre.capabilities {
        capabilities.push(to_api::<api::CapabilityArea>(capability.as_str())?);
    }
    Ok(api::TrainingCentre {
        name: centre.name.clone(),
        host_state: centre.host_state.to_string(),
        languages: strings(&centre.languages),
        capabilities,
        un_recognized: centre.un_recognized,
        ..api::TrainingCentre::default()
    })
}

/// The `CreateNeed` message of one scenario need.
pub fn need_message(need: &ScenarioNeed, t0_unix_seconds: i64) -> Result<api::Need, CliError> {
    let need = &need.spec;
    let mut accepted_modes = Vec::new();
    for mode in &need.accepted_modes {
        accepted_modes.push(to_api::<api::DeliveryMode>(mode.as_str())?);
    }
    Ok(api::Need {
        requester: need.requester.to_string(),
        category: to_api::<api::SupportCategory>(need.category.as_str())?,
        capability: to_api::<api::CapabilityArea>(need.capability.as_str())?,
        title: need.title.clone(),
        description: need.description.clone(),
        quantity: need.quantity,
        women_quantity: need.women_quantity,
        languages: strings(&need.languages),
        needed_by: Some(day_timestamp(t0_unix_seconds, need.needed_by)),
        priority: to_api::<api::Priority>(need.priority.as_str())?,
        pledge_ref: need.pledge_ref.clone(),
        pledge_level: need
            .pledge_level
            .map(|l| to_api::<api::ReadinessLevel>(l.as_str()))
            .transpose()?
            .unwrap_or_default(),
        mission: need.mission.clone(),
        accepted_modes,
        ..api::Need::default()
    })
}

/// The `CreateOffer` message of one scenario offer; `centres` maps centre refs to ids.
pub fn offer_message(
    offer: &ScenarioOffer,
    t0_unix_seconds: i64,
    centres: &BTreeMap<String, String>,
) -> Result<api::Offer, CliError> {
    let training_centre_id = match &offer.training_centre {
        Some(reference) => centres
            .get(reference)
            .cloned()
            .ok_or_else(|| usage(format!("names unknown training centre `{reference}`")))?,
        None => String::new(),
    };
    let duration_days = match offer.duration_days {
        Some(days) => u32::try_from(days).map_err(|_| usage(format!("duration_days {days} is out of range")))?,
        None => 0,
    };
    let mode = match &offer.mode {
        Some(mode) => to_api::<api::DeliveryMode>(mode.as_str())?,
        None => 0,
    };
    Ok(api::Offer {
        providers: strings(&offer.providers),
        role: to_api::<api::OfferRole>(offer.role.as_str())?,
        category: to_api::<api::SupportCategory>(offer.category.as_str())?,
        capability: to_api::<api::CapabilityArea>(offer.capability.as_str())?,
        title: offer.title.clone(),
        description: offer.description.clone(),
        capacity: offer.capacity,
        available_from: Some(day_timestamp(t0_unix_seconds, offer.available_from_days)),
        available_until: Some(day_timestamp(t0_unix_seconds, offer.available_until_days)),
        eligible_recipients: strings(&offer.eligible_recipients),
        excluded_recipients: strings(&offer.excluded_recipients),
        max_per_recipient: offer.max_per_recipient,
        languages: offer.languages.as_deref().map(strings).unwrap_or_default(),
        mode,
        training_centre_id,
        duration_days,
        women_only: offer.women_only.unwrap_or(false),
        requires_funding: offer.requires_funding.unwrap_or(false),
        ..api::Offer::default()
    })
}

/// A principal made for the demo, with its token (shown once).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoPrincipal {
    pub id: String,
    pub display_name: String,
    pub kind: api::PrincipalKind,
    /// MEMBER_STATE principals: the state they act for; otherwise empty.
    pub member_state: String,
    /// TRAINING_CENTRE principals: the centre they act for; otherwise empty.
    pub training_centre_id: String,
    pub token: String,
}

impl DemoPrincipal {
    /// The kind's API name: `MEMBER_STATE` or `TRAINING_CENTRE`.
    pub fn kind_name(&self) -> &'static str {
        self.kind.api_name()
    }
}

/// Member states of the demo scenario that get a principal: requesters, providers,
/// funders and hosts of its triangular partnerships.
const DEMO_STATES: &[(&str, &str)] = &[
    ("UGA", "Permanent Mission of Uganda"),
    ("JPN", "Permanent Mission of Japan"),
    ("SEN", "Permanent Mission of Senegal"),
    ("MAR", "Permanent Mission of Morocco"),
    ("KEN", "Permanent Mission of Kenya"),
    ("DEU", "Permanent Mission of Germany"),
    ("FRA", "Permanent Mission of France"),
];

/// Centres of the demo scenario (by ref) that get a principal.
const DEMO_CENTRES: &[(&str, &str)] =
    &[("ipstc", "IPSTC Nairobi training office"), ("rsce-entebbe", "RSCE Entebbe training office")];

/// Creates principals for a few member states and for the IPSTC and Entebbe centres
/// (skipping a centre the import did not create), with `token` (Secretariat).
pub async fn create_demo_principals(
    channel: Channel,
    token: &str,
    report: &ImportReport,
) -> Result<Vec<DemoPrincipal>, CliError> {
    let clients = Clients::new(channel, token)?;
    let states = DEMO_STATES
        .iter()
        .map(|(state, name)| (api::PrincipalKind::MemberState, state.to_string(), String::new(), *name));
    let centres = DEMO_CENTRES.iter().filter_map(|(reference, name)| {
        let id = report.training_centres.get(*reference)?;
        Some((api::PrincipalKind::TrainingCentre, String::new(), id.clone(), *name))
    });
    let mut created = Vec::new();
    for (kind, member_state, training_centre_id, display_name) in states.chain(centres) {
        let req = api::CreatePrincipalRequest {
            kind: kind.into(),
            member_state: member_state.clone(),
            training_centre_id: training_centre_id.clone(),
            display_name: display_name.to_string(),
            request_id: request_id(),
        };
        let resp = retrying(|| {
            let mut client = clients.admin();
            let req = req.clone();
            async move { client.create_principal(req).await }
        })
        .await
        .map_err(|e| CliError::from(e).context(format!("principal {display_name:?}")))?;
        created.push(DemoPrincipal {
            id: resp.principal.map(|p| p.id).unwrap_or_default(),
            display_name: display_name.to_string(),
            kind,
            member_state,
            training_centre_id,
            token: resp.token,
        });
    }
    Ok(created)
}

/// The text `serve --demo` prints once the demo is loaded: what was imported, every demo
/// principal with its token, and first commands to try.
pub fn demo_banner(
    addr: &str,
    admin_token_path: &std::path::Path,
    report: &ImportReport,
    principals: &[DemoPrincipal],
) -> String {
    let mut text = format!(
        "Demo loaded: {} training centres, {} needs, {} offers.\n\nDemo principals \
         (tokens are shown only now):\n",
        report.training_centres.len(),
        report.needs.len(),
        report.offers.len()
    );
    for p in principals {
        let bound = if p.member_state.is_empty() { &p.training_centre_id } else { &p.member_state };
        text.push_str(&format!("  {:<16} {:<10} {:<36} LCM_TOKEN={}\n", p.kind_name(), bound, p.display_name, p.token));
    }
    text.push_str(&format!(
        "\nTry, as the Secretariat:\n  \
         export LCM_ADDR={addr} LCM_TOKEN_FILE={}\n  \
         lcm needs list --capability ENGINEERING\n  lcm match propose --dry-run\n",
        admin_token_path.display()
    ));
    text
}

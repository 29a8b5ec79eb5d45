//! The demo's history (`serve --demo`, after the import): one partnership carried through
//! to the end, so the lasting-capacity report has delivered seats and qualified trainers to
//! show. Morocco's French-language engineering course for Senegal is approved, consented
//! by its parties, scheduled, delivered, and its outcome recorded (12 trained, 5 women, 11
//! certified, 4 qualified as trainers). fixtures/README.md states the figures that follow.

use super::connect::{Clients, request_id};
use super::error::{CliError, usage};
use super::import::ImportReport;
use crate::api;
use tonic::transport::Channel;

/// The need whose partnership the demo completes, and its outcome.
pub const DEMO_COMPLETED_NEED: &str = "sen-hee-fr";
const OUTCOME: (u32, u32, u32, u32) = (12, 5, 11, 4);
const DAY: i64 = 86_400;

/// Proposes the ENGINEERING matches, approves the one for [`DEMO_COMPLETED_NEED`], has
/// each party consent (with a principal created for it) and takes its arrangements to
/// COMPLETED with an outcome. Returns the completed arrangements' ids.
pub async fn demo_history(channel: Channel, token: &str, report: &ImportReport) -> Result<Vec<String>, CliError> {
    let clients = Clients::new(channel.clone(), token)?;
    let need_id = report
        .needs
        .get(DEMO_COMPLETED_NEED)
        .ok_or_else(|| usage(format!("the demo has no need {DEMO_COMPLETED_NEED}")))?;
    let req = api::ProposeMatchesRequest {
        capabilities: vec![api::CapabilityArea::Engineering as i32],
        request_id: request_id(),
        ..Default::default()
    };
    let proposed = clients.matching().propose_matches(req).await?.into_inner();
    let m = proposed
        .matches
        .into_iter()
        .find(|m| &m.need_id == need_id)
        .ok_or_else(|| usage(format!("the engine proposed nothing for {DEMO_COMPLETED_NEED}")))?;
    let req = api::ApproveMatchRequest {
        id: m.id.clone(),
        etag: m.etag.clone(),
        request_id: request_id(),
        comment: "demo: a partnership carried through to its outcome".into(),
    };
    let approved = clients.matching().approve_match(req).await?.into_inner();
    let mut parties = std::collections::BTreeMap::new();
    let mut done = Vec::new();
    for a in approved.arrangements {
        for c in &a.consents {
            if !parties.contains_key(&c.state) {
                let req = api::CreatePrincipalRequest {
                    kind: api::PrincipalKind::MemberState.into(),
                    member_state: c.state.clone(),
                    display_name: format!("{} mission (demo consent)", c.state),
                    request_id: request_id(),
                    ..Default::default()
                };
                let created = clients.admin().create_principal(req).await?.into_inner();
                parties.insert(c.state.clone(), Clients::new(channel.clone(), &created.token)?);
            }
            let req = api::RespondToArrangementRequest {
                id: a.id.clone(),
                accept: true,
                note: "agreed".into(),
                request_id: request_id(),
                ..Default::default()
            };
            parties[&c.state].arrangements().respond_to_arrangement(req).await?;
        }
        let alloc = a.allocation.clone().unwrap_or_default();
        let offer = clients.offers().get_offer(api::GetOfferRequest { id: alloc.offer_id.clone() }).await?.into_inner();
        let from = offer.available_from.map_or(0, |t| t.seconds.div_euclid(DAY));
        let start = (from + 1) * DAY;
        let end = start + i64::from(offer.duration_days) * DAY;
        let ts = |seconds| Some(prost_types::Timestamp { seconds, nanos: 0 });
        let step = |to: api::ArrangementStatus, dates: Option<(i64, i64)>| api::TransitionArrangementRequest {
            id: a.id.clone(),
            to: to as i32,
            scheduled_start: dates.and_then(|d| ts(d.0)),
            scheduled_end: dates.and_then(|d| ts(d.1)),
            request_id: request_id(),
            ..Default::default()
        };
        let mut arrangements = clients.arrangements();
        arrangements.transition_arrangement(step(api::ArrangementStatus::Scheduled, Some((start, end)))).await?;
        arrangements.transition_arrangement(step(api::ArrangementStatus::InDelivery, None)).await?;
        let (trained, women_trained, certified, trainers_qualified) = OUTCOME;
        let outcome = api::Outcome {
            trained: trained.min(alloc.quantity),
            women_trained: women_trained.min(alloc.quantity),
            certified: certified.min(alloc.quantity),
            trainers_qualified: trainers_qualified.min(alloc.quantity),
            ..Default::default()
        };
        let req = api::RecordOutcomeRequest {
            id: a.id.clone(),
            outcome: Some(outcome),
            request_id: request_id(),
            ..Default::default()
        };
        arrangements.record_outcome(req).await?;
        arrangements.transition_arrangement(step(api::ArrangementStatus::Completed, None)).await?;
        done.push(a.id);
    }
    Ok(done)
}

//! One call per cell, and what API.md's visibility rules let each caller see.

use super::scenario::*;
use super::*;
use crate::harness::*;
use std::time::Duration;
use tonic::Status;

/// Every item of a list, page after page, as `who`.
macro_rules! list_all {
    ($w:expr, $who:expr, $client:ident, $method:ident, $req:expr, $items:ident) => {{
        let mut client = $w.s.$client().await;
        let mut req = $req;
        let mut out = Vec::new();
        loop {
            let page = client.$method($w.request($who, req.clone())).await?.into_inner();
            out.extend(page.$items);
            if page.next_page_token.is_empty() {
                break;
            }
            req.page_token = page.next_page_token;
        }
        out
    }};
}

/// What a successful cell showed its caller: the ids (or report keys, or event sequences)
/// of what it listed, for the rows that list.
type Seen = Option<BTreeSet<String>>;

fn ids<T>(items: &[T], id: impl Fn(&T) -> String) -> Seen {
    Some(items.iter().map(id).collect())
}

fn list_needs_request(row: Row) -> api::ListNeedsRequest {
    let requester = if row == Row::ListNeedsOfOwner { OWNER.to_string() } else { String::new() };
    api::ListNeedsRequest { page_size: 500, requester, ..Default::default() }
}

fn gap_request(row: Row) -> api::GetGapReportRequest {
    let group_by =
        if row == Row::GapReportByRequester { api::GapGrouping::Requester } else { api::GapGrouping::Capability };
    api::GetGapReportRequest { group_by: group_by as i32 }
}

fn title_mask() -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask { paths: vec!["title".into()] })
}

/// An explanation as what it shows: the candidates' offer ids and the count of the others.
fn explanation(r: api::ExplainNeedResponse) -> Seen {
    let mut seen: BTreeSet<String> = r.candidates.into_iter().map(|c| c.offer_id).collect();
    seen.insert(format!("unreadable={}", r.unreadable_offers));
    Some(seen)
}

/// Makes the call of one cell.
pub(super) async fn call(w: &World, row: Row, who: Who) -> Result<Seen, Status> {
    use Row::*;
    let rid = new_request_id;
    Ok(match row {
        CreateNeed | CreateCriticalNeed => {
            let priority = if row == CreateCriticalNeed { api::Priority::Critical } else { api::Priority::High };
            let need = api::Need {
                priority: priority as i32,
                ..one_seat_need(api::CapabilityArea::Engineering, "New".into())
            };
            let req = api::CreateNeedRequest { need: Some(need), request_id: rid() };
            w.s.needs().await.create_need(w.request(who, req)).await?;
            None
        }
        GetNeed => {
            w.s.needs().await.get_need(w.request(who, api::GetNeedRequest { id: w.need.clone() })).await?;
            None
        }
        ListNeeds | ListNeedsOfOwner => {
            let needs = list_all!(w, who, needs, list_needs, list_needs_request(row), needs);
            ids(&needs, |n| n.id.clone())
        }
        UpdateNeed => {
            let need = api::Need { id: w.fresh(row, who), title: "Renamed".into(), ..Default::default() };
            let req = api::UpdateNeedRequest { need: Some(need), update_mask: title_mask(), request_id: rid() };
            w.s.needs().await.update_need(w.request(who, req)).await?;
            None
        }
        WithdrawNeed => {
            let req = api::WithdrawNeedRequest { id: w.fresh(row, who), etag: String::new(), request_id: rid() };
            w.s.needs().await.withdraw_need(w.request(who, req)).await?;
            None
        }
        CreateOffer => {
            let req = api::CreateOfferRequest { offer: Some(medical_offer("New")), request_id: rid() };
            w.s.offers().await.create_offer(w.request(who, req)).await?;
            None
        }
        GetDeliveryOffer
        | GetFundingOffer
        | GetExhaustedOffer
        | GetOpenOffer
        | GetOfferExcludingOther
        | GetWithdrawnOffer
        | GetOfferNotForOwner => {
            let req = api::GetOfferRequest { id: w.offers[&row].clone() };
            w.s.offers().await.get_offer(w.request(who, req)).await?;
            None
        }
        ListOffers => {
            let req = api::ListOffersRequest { page_size: 500, ..Default::default() };
            let offers = list_all!(w, who, offers, list_offers, req, offers);
            ids(&offers, |o| o.id.clone())
        }
        UpdateOffer | UpdateCoProvidedOffer => {
            let offer = api::Offer { id: w.fresh(row, who), title: "Renamed".into(), ..Default::default() };
            let req = api::UpdateOfferRequest { offer: Some(offer), update_mask: title_mask(), request_id: rid() };
            w.s.offers().await.update_offer(w.request(who, req)).await?;
            None
        }
        WithdrawOffer => {
            let req = api::WithdrawOfferRequest { id: w.fresh(row, who), etag: String::new(), request_id: rid() };
            w.s.offers().await.withdraw_offer(w.request(who, req)).await?;
            None
        }
        CreateTrainingCentre => {
            let centre = api::TrainingCentre {
                name: "New centre".into(),
                host_state: "GHA".into(),
                languages: vec!["en".into()],
                capabilities: vec![api::CapabilityArea::Medical as i32],
                ..Default::default()
            };
            let req = api::CreateTrainingCentreRequest { training_centre: Some(centre), request_id: rid() };
            w.s.centres().await.create_training_centre(w.request(who, req)).await?;
            None
        }
        GetTrainingCentre => {
            let req = api::GetTrainingCentreRequest { id: w.hosting_centre.clone() };
            w.s.centres().await.get_training_centre(w.request(who, req)).await?;
            None
        }
        ListTrainingCentres => {
            let req = api::ListTrainingCentresRequest { page_size: 500, ..Default::default() };
            let centres = list_all!(w, who, centres, list_training_centres, req, training_centres);
            ids(&centres, |c| c.id.clone())
        }
        UpdateTrainingCentre => {
            let centre = api::TrainingCentre { id: w.other_centre.clone(), un_recognized: true, ..Default::default() };
            let mask = Some(prost_types::FieldMask { paths: vec!["un_recognized".into()] });
            let req = api::UpdateTrainingCentreRequest {
                training_centre: Some(centre),
                update_mask: mask,
                request_id: rid(),
            };
            w.s.centres().await.update_training_centre(w.request(who, req)).await?;
            None
        }
        ProposeMatches => {
            let req = api::ProposeMatchesRequest { dry_run: true, ..Default::default() };
            w.s.matching().await.propose_matches(w.request(who, req)).await?;
            None
        }
        GetMatch => {
            w.s.matching().await.get_match(w.request(who, api::GetMatchRequest { id: w.matched.clone() })).await?;
            None
        }
        ListMatches => {
            let req = api::ListMatchesRequest { page_size: 500, ..Default::default() };
            let matches = list_all!(w, who, matching, list_matches, req, matches);
            ids(&matches, |m| m.id.clone())
        }
        ApproveMatch => {
            let req = api::ApproveMatchRequest { id: w.fresh(row, who), request_id: rid(), ..Default::default() };
            w.s.matching().await.approve_match(w.request(who, req)).await?;
            None
        }
        RejectMatch => {
            let req = api::RejectMatchRequest {
                id: w.fresh(row, who),
                reason: "matrix".into(),
                request_id: rid(),
                ..Default::default()
            };
            w.s.matching().await.reject_match(w.request(who, req)).await?;
            None
        }
        ExplainNeed => {
            let req = api::ExplainNeedRequest { need_id: w.need.clone() };
            explanation(w.s.matching().await.explain_need(w.request(who, req)).await?.into_inner())
        }
        GetArrangement => {
            let req = api::GetArrangementRequest { id: w.arrangement.clone() };
            w.s.arrangements().await.get_arrangement(w.request(who, req)).await?;
            None
        }
        ListArrangements => {
            let req = api::ListArrangementsRequest { page_size: 500, ..Default::default() };
            let arrangements = list_all!(w, who, arrangements, list_arrangements, req, arrangements);
            ids(&arrangements, |a| a.id.clone())
        }
        RespondToArrangement => {
            let req = api::RespondToArrangementRequest {
                id: w.fresh(row, who),
                accept: true,
                request_id: rid(),
                ..Default::default()
            };
            w.s.arrangements().await.respond_to_arrangement(w.request(who, req)).await?;
            None
        }
        StartDelivery | CancelArrangement => {
            let to = if row == StartDelivery {
                api::ArrangementStatus::InDelivery
            } else {
                api::ArrangementStatus::Cancelled
            };
            let req = api::TransitionArrangementRequest {
                id: w.fresh(row, who),
                to: to as i32,
                request_id: rid(),
                ..Default::default()
            };
            w.s.arrangements().await.transition_arrangement(w.request(who, req)).await?;
            None
        }
        RecordOutcome => {
            let outcome = api::Outcome { trained: 1, women_trained: 0, certified: 1, ..Default::default() };
            let req = api::RecordOutcomeRequest {
                id: w.fresh(row, who),
                outcome: Some(outcome),
                request_id: rid(),
                ..Default::default()
            };
            w.s.arrangements().await.record_outcome(w.request(who, req)).await?;
            None
        }
        GapReportByRequester | GapReportByCapability => {
            let mut client = api::report_service_client::ReportServiceClient::new(w.s.channel().await);
            let rows = client.get_gap_report(w.request(who, gap_request(row))).await?.into_inner().rows;
            ids(&rows, |r| r.key.clone())
        }
        DeconflictionReport => {
            let mut client = api::report_service_client::ReportServiceClient::new(w.s.channel().await);
            client.get_deconfliction_report(w.request(who, api::GetDeconflictionReportRequest {})).await?;
            None
        }
        GenderReport => {
            let mut client = api::report_service_client::ReportServiceClient::new(w.s.channel().await);
            client.get_gender_report(w.request(who, api::GetGenderReportRequest {})).await?;
            None
        }
        CapacityReport => {
            let mut client = api::report_service_client::ReportServiceClient::new(w.s.channel().await);
            let rows = client.get_capacity_report(w.request(who, api::GetCapacityReportRequest {})).await?;
            ids(&rows.into_inner().rows, |r| r.requester.clone())
        }
        ReadinessReport => {
            let mut client = api::report_service_client::ReportServiceClient::new(w.s.channel().await);
            let rows = client.get_readiness_report(w.request(who, api::GetReadinessReportRequest {})).await?;
            ids(&rows.into_inner().rows, |r| r.need_id.clone())
        }
        ListEvents => {
            let req = api::ListEventsRequest { page_size: 500, ..Default::default() };
            let events = list_all!(w, who, events, list_events, req, events);
            ids(&events, |e| e.sequence.to_string())
        }
        WatchEvents => return watch(w, who).await,
        CreatePrincipal => {
            let req = api::CreatePrincipalRequest {
                kind: api::PrincipalKind::MemberState as i32,
                member_state: OTHER.into(),
                display_name: "New mission".into(),
                request_id: rid(),
                ..Default::default()
            };
            w.s.admin_client().await.create_principal(w.request(who, req)).await?;
            None
        }
        ListPrincipals => {
            let req = api::ListPrincipalsRequest { page_size: 500, ..Default::default() };
            let principals = list_all!(w, who, admin_client, list_principals, req, principals);
            ids(&principals, |p| p.id.clone())
        }
        RevokePrincipal => {
            let req = api::RevokePrincipalRequest { id: w.fresh(row, who) };
            w.s.admin_client().await.revoke_principal(w.request(who, req)).await?;
            None
        }
        ExportBackup => {
            let mut stream =
                w.s.admin_client().await.export_backup(w.request(who, api::ExportBackupRequest {})).await?;
            let first = stream.get_mut().message().await?;
            assert!(first.is_some_and(|c| !c.chunk.is_empty()), "a backup has bytes");
            None
        }
    })
}

/// The sequences a watcher from the start receives up to a marker: a centre the
/// Secretariat registers just before (CENTRE_REGISTERED is visible to everyone). The
/// marker's sequence is the last one returned.
async fn watch(w: &World, who: Who) -> Result<Seen, Status> {
    let marker = create_centre(&w.s, "Marker", "GHA").await;
    let req = api::WatchEventsRequest { after_sequence: 0, kinds: Vec::new() };
    let mut stream = w.s.events().await.watch_events(w.request(who, req)).await?.into_inner();
    let mut seen = BTreeSet::new();
    loop {
        let next = tokio::time::timeout(Duration::from_secs(10), stream.message()).await;
        let event = next.map_err(|_| Status::deadline_exceeded("the marker event never came"))??;
        let Some(event) = event else { return Err(Status::unknown("the stream ended before the marker")) };
        seen.insert(event.sequence.to_string());
        if event.kind == api::EventKind::CentreRegistered as i32 && event.resource_id == marker {
            return Ok(Some(seen));
        }
    }
}

/// API.md's visibility rules, judged on what the Secretariat reads. `matches` are all
/// matches (a state reads the offers of the matches it is a party to).
struct Judge<'a> {
    w: &'a World,
    who: Who,
    matches: &'a [api::Match],
}

impl Judge<'_> {
    fn need(&self, n: &api::Need) -> bool {
        match (self.who, state_of(self.who)) {
            (Who::Secretariat, _) => true,
            (_, Some(s)) => n.requester == s,
            _ => false,
        }
    }

    fn offer(&self, o: &api::Offer) -> bool {
        let Some(s) = state_of(self.who) else { return self.who == Who::Secretariat };
        let has = |list: &[String]| list.iter().any(|x| x == s);
        let provides = has(&o.providers);
        let eligible = o.state == api::OfferState::Open as i32
            && (o.eligible_recipients.is_empty() || has(&o.eligible_recipients))
            && !has(&o.excluded_recipients);
        let party = self
            .matches
            .iter()
            .any(|m| has(&m.parties) && m.allocations.iter().any(|a| a.offer_id == o.id || a.funding_offer_id == o.id));
        provides || eligible || party
    }

    fn match_(&self, m: &api::Match) -> bool {
        match (self.who, state_of(self.who)) {
            (Who::Secretariat, _) => true,
            (_, Some(s)) => m.parties.iter().any(|p| p == s),
            _ => false,
        }
    }

    fn arrangement(&self, a: &api::Arrangement) -> bool {
        match (self.who, state_of(self.who), self.w.centre_of(self.who)) {
            (Who::Secretariat, _, _) => true,
            (_, Some(s), _) => a.parties.iter().any(|p| p == s),
            (_, _, Some(c)) => a.training_centre_id == c,
            _ => false,
        }
    }

    /// "Events follow the resource they carry (CENTRE_REGISTERED: everyone;
    /// PRINCIPAL_CHANGED: Secretariat only)."
    fn event(&self, e: &api::Event) -> bool {
        use api::event::Resource;
        match &e.resource {
            Some(Resource::Need(n)) => self.need(n),
            Some(Resource::Offer(o)) => self.offer(o),
            Some(Resource::TrainingCentre(_)) => true,
            Some(Resource::Match(m)) => self.match_(m),
            Some(Resource::Arrangement(a)) => self.arrangement(a),
            Some(Resource::Principal(_)) => self.who == Who::Secretariat,
            None => false,
        }
    }
}

/// What API.md lets `who` see of a listing row: the Secretariat's answer to the same
/// request, filtered by the visibility rules. `seen` is what `who` got (for the event
/// stream, which ends at the marker it names).
pub(super) async fn visible(
    w: &World,
    row: Row,
    who: Who,
    seen: &BTreeSet<String>,
) -> Result<BTreeSet<String>, Status> {
    use Row::*;
    let admin = Who::Secretariat;
    let req = api::ListMatchesRequest { page_size: 500, ..Default::default() };
    let matches = list_all!(w, admin, matching, list_matches, req, matches);
    let judge = Judge { w, who, matches: &matches };
    Ok(match row {
        ListNeeds | ListNeedsOfOwner => {
            let needs = list_all!(w, admin, needs, list_needs, list_needs_request(row), needs);
            needs.iter().filter(|n| judge.need(n)).map(|n| n.id.clone()).collect()
        }
        ListOffers => {
            let req = api::ListOffersRequest { page_size: 500, ..Default::default() };
            let offers = list_all!(w, admin, offers, list_offers, req, offers);
            offers.iter().filter(|o| judge.offer(o)).map(|o| o.id.clone()).collect()
        }
        ListTrainingCentres => {
            let req = api::ListTrainingCentresRequest { page_size: 500, ..Default::default() };
            let centres = list_all!(w, admin, centres, list_training_centres, req, training_centres);
            centres.iter().map(|c| c.id.clone()).collect()
        }
        ListMatches => matches.iter().filter(|m| judge.match_(m)).map(|m| m.id.clone()).collect(),
        ListArrangements => {
            let req = api::ListArrangementsRequest { page_size: 500, ..Default::default() };
            let arrangements = list_all!(w, admin, arrangements, list_arrangements, req, arrangements);
            arrangements.iter().filter(|a| judge.arrangement(a)).map(|a| a.id.clone()).collect()
        }
        GapReportByRequester | GapReportByCapability => {
            let mut client = api::report_service_client::ReportServiceClient::new(w.s.channel().await);
            let rows = client.get_gap_report(w.request(admin, gap_request(row))).await?.into_inner().rows;
            // A state gets its own requester row; capability rows are over all states.
            let own = |key: &str| row == GapReportByCapability || state_of(who).is_none_or(|s| s == key);
            rows.iter().filter(|r| who == admin || own(&r.key)).map(|r| r.key.clone()).collect()
        }
        ExplainNeed => {
            // Every candidate the caller may read, the others only counted.
            let req = api::ExplainNeedRequest { need_id: w.need.clone() };
            let all = w.s.matching().await.explain_need(w.request(admin, req)).await?.into_inner().candidates;
            let req = api::ListOffersRequest { page_size: 500, ..Default::default() };
            let offers = list_all!(w, admin, offers, list_offers, req, offers);
            let readable = |id: &str| offers.iter().any(|o| o.id == id && judge.offer(o));
            let mut want: BTreeSet<String> =
                all.iter().filter(|c| readable(&c.offer_id)).map(|c| c.offer_id.clone()).collect();
            want.insert(format!("unreadable={}", all.iter().filter(|c| !readable(&c.offer_id)).count()));
            want
        }
        CapacityReport => {
            let mut client = api::report_service_client::ReportServiceClient::new(w.s.channel().await);
            let rows = client.get_capacity_report(w.request(admin, api::GetCapacityReportRequest {})).await?;
            // A state gets its own row (only a requester that filed a need has one).
            let own = |key: &str| state_of(who).is_none_or(|s| s == key);
            rows.into_inner()
                .rows
                .iter()
                .filter(|r| who == admin || own(&r.requester))
                .map(|r| r.requester.clone())
                .collect()
        }
        ReadinessReport => {
            let mut client = api::report_service_client::ReportServiceClient::new(w.s.channel().await);
            let rows = client.get_readiness_report(w.request(admin, api::GetReadinessReportRequest {})).await?;
            let own = |key: &str| state_of(who).is_none_or(|s| s == key);
            rows.into_inner()
                .rows
                .iter()
                .filter(|r| who == admin || own(&r.requester))
                .map(|r| r.need_id.clone())
                .collect()
        }
        ListEvents | ListPrincipals => seen.clone(), // the Secretariat's own answer
        WatchEvents => {
            let last: u64 = seen.iter().map(|s| s.parse::<u64>().unwrap()).max().unwrap_or(0);
            let req = api::ListEventsRequest { page_size: 500, ..Default::default() };
            let events = list_all!(w, admin, events, list_events, req, events);
            events.iter().filter(|e| e.sequence <= last && judge.event(e)).map(|e| e.sequence.to_string()).collect()
        }
        _ => unreachable!("{row:?} lists nothing"),
    })
}

pub(super) fn differences(seen: &BTreeSet<String>, want: &BTreeSet<String>) -> String {
    let extra: Vec<&String> = seen.difference(want).collect();
    let missing: Vec<&String> = want.difference(seen).collect();
    format!("saw {} items, expected {}; extra {extra:?}, missing {missing:?}", seen.len(), want.len())
}

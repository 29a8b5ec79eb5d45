//! The access-control matrix of issue 7: every method of every lcm.v1 service, called by
//! eleven kinds of caller, against a table written once below from API.md's rules ("Who
//! calls it", "Visibility", "Errors, in this order" and the services table). For list
//! methods (and reports and the event stream) the test also compares what each caller
//! sees with what API.md's visibility rules let it see. A second test shows that page
//! tokens are bound to the caller and the query they were issued for and cannot be forged.
//!
//! The scenario: UGA requests (the owner of the needs); GBR delivers at a centre hosted
//! by KEN and NOR pays, so each arrangement is triangular with parties UGA, GBR, NOR and
//! KEN; FRA is a bystander; a second centre hosts nothing. Every cell that might write
//! gets a fresh resource of its own, so no cell's outcome depends on the order in which
//! the cells run (or on whether another cell wrongly succeeded).

use crate::harness::*;
use lcm::api;
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;
use tonic::{Code, Request, Status};

const OWNER: &str = "UGA";
const PARTY: &str = "GBR";
const FUNDER: &str = "NOR";
const OTHER: &str = "FRA";
const HOST_STATE: &str = "KEN";

/// Who calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Who {
    /// No `authorization` metadata at all.
    NoToken,
    /// The token of a SECRETARIAT principal that was revoked.
    Revoked,
    /// `Bearer` with garbage that is no token.
    Garbage,
    /// A valid Secretariat token under another scheme (`Basic …`).
    WrongScheme,
    Secretariat,
    /// UGA: requests the needs; recipient and party of every match and arrangement.
    Owner,
    /// GBR: provides the delivery offers; a delivering party.
    Party,
    /// NOR: provides the funding offer; a party that does not deliver.
    Funder,
    /// FRA: a party to nothing.
    Other,
    /// The centre that hosts the arrangements.
    HostingCentre,
    /// A centre that hosts nothing.
    OtherCentre,
}

const CALLERS: [Who; 11] = [
    Who::NoToken,
    Who::Revoked,
    Who::Garbage,
    Who::WrongScheme,
    Who::Secretariat,
    Who::Owner,
    Who::Party,
    Who::Funder,
    Who::Other,
    Who::HostingCentre,
    Who::OtherCentre,
];

/// One call of one method on one target. Several rows may call the same method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Row {
    CreateNeed,
    CreateCriticalNeed,
    GetNeed,
    ListNeeds,
    ListNeedsOfOwner,
    UpdateNeed,
    WithdrawNeed,
    CreateOffer,
    GetDeliveryOffer,
    GetFundingOffer,
    GetExhaustedOffer,
    GetOpenOffer,
    GetOfferExcludingOther,
    GetWithdrawnOffer,
    ListOffers,
    UpdateOffer,
    UpdateCoProvidedOffer,
    WithdrawOffer,
    CreateTrainingCentre,
    GetTrainingCentre,
    ListTrainingCentres,
    ProposeMatches,
    GetMatch,
    ListMatches,
    ApproveMatch,
    RejectMatch,
    ExplainNeed,
    GetArrangement,
    ListArrangements,
    RespondToArrangement,
    StartDelivery,
    CancelArrangement,
    RecordOutcome,
    GapReportByRequester,
    GapReportByCapability,
    DeconflictionReport,
    GenderReport,
    ListEvents,
    WatchEvents,
    CreatePrincipal,
    ListPrincipals,
    RevokePrincipal,
    ExportBackup,
}

impl Row {
    /// The gRPC method the row calls, as `package.Service/Method`.
    fn method(self) -> &'static str {
        use Row::*;
        match self {
            CreateNeed | CreateCriticalNeed => "lcm.v1.NeedService/CreateNeed",
            GetNeed => "lcm.v1.NeedService/GetNeed",
            ListNeeds | ListNeedsOfOwner => "lcm.v1.NeedService/ListNeeds",
            UpdateNeed => "lcm.v1.NeedService/UpdateNeed",
            WithdrawNeed => "lcm.v1.NeedService/WithdrawNeed",
            CreateOffer => "lcm.v1.OfferService/CreateOffer",
            GetDeliveryOffer
            | GetFundingOffer
            | GetExhaustedOffer
            | GetOpenOffer
            | GetOfferExcludingOther
            | GetWithdrawnOffer => "lcm.v1.OfferService/GetOffer",
            ListOffers => "lcm.v1.OfferService/ListOffers",
            UpdateOffer | UpdateCoProvidedOffer => "lcm.v1.OfferService/UpdateOffer",
            WithdrawOffer => "lcm.v1.OfferService/WithdrawOffer",
            CreateTrainingCentre => "lcm.v1.TrainingCentreService/CreateTrainingCentre",
            GetTrainingCentre => "lcm.v1.TrainingCentreService/GetTrainingCentre",
            ListTrainingCentres => "lcm.v1.TrainingCentreService/ListTrainingCentres",
            ProposeMatches => "lcm.v1.MatchingService/ProposeMatches",
            GetMatch => "lcm.v1.MatchingService/GetMatch",
            ListMatches => "lcm.v1.MatchingService/ListMatches",
            ApproveMatch => "lcm.v1.MatchingService/ApproveMatch",
            RejectMatch => "lcm.v1.MatchingService/RejectMatch",
            ExplainNeed => "lcm.v1.MatchingService/ExplainNeed",
            GetArrangement => "lcm.v1.ArrangementService/GetArrangement",
            ListArrangements => "lcm.v1.ArrangementService/ListArrangements",
            RespondToArrangement => "lcm.v1.ArrangementService/RespondToArrangement",
            StartDelivery | CancelArrangement => "lcm.v1.ArrangementService/TransitionArrangement",
            RecordOutcome => "lcm.v1.ArrangementService/RecordOutcome",
            GapReportByRequester | GapReportByCapability => "lcm.v1.ReportService/GetGapReport",
            DeconflictionReport => "lcm.v1.ReportService/GetDeconflictionReport",
            GenderReport => "lcm.v1.ReportService/GetGenderReport",
            ListEvents => "lcm.v1.EventService/ListEvents",
            WatchEvents => "lcm.v1.EventService/WatchEvents",
            CreatePrincipal => "lcm.v1.AdminService/CreatePrincipal",
            ListPrincipals => "lcm.v1.AdminService/ListPrincipals",
            RevokePrincipal => "lcm.v1.AdminService/RevokePrincipal",
            ExportBackup => "lcm.v1.AdminService/ExportBackup",
        }
    }

    /// Rows whose cells may write get a fresh target each (see [`World::pools`]).
    fn needs_fresh_targets(self) -> bool {
        use Row::*;
        matches!(
            self,
            UpdateNeed
                | WithdrawNeed
                | UpdateOffer
                | UpdateCoProvidedOffer
                | WithdrawOffer
                | ApproveMatch
                | RejectMatch
                | RespondToArrangement
                | StartDelivery
                | CancelArrangement
                | RecordOutcome
                | RevokePrincipal
        )
    }
}

const OK: Code = Code::Ok;
const PD: Code = Code::PermissionDenied;
const NF: Code = Code::NotFound;

/// The table, written once from API.md. Columns, for the seven authenticated callers:
///
/// | Secretariat | owner UGA | party GBR | funder NOR | other FRA | hosting centre | other centre |
///
/// The four unauthenticated callers (no token, revoked token, garbage, wrong scheme) get
/// UNAUTHENTICATED from every row: API.md checks that first. Then, in API.md's order: a
/// principal kind the method never allows, or a body naming another state or setting
/// CRITICAL → PERMISSION_DENIED; a resource the caller may not read → NOT_FOUND. A caller
/// that may read a resource but not change it (UGA reading GBR's offer) is refused the
/// change with PERMISSION_DENIED: nothing is hidden from it, it is not permitted.
#[rustfmt::skip]
const TABLE: &[(Row, [Code; 7])] = &[
    // NeedService: "requester, Secretariat"; centres never. A state reads its own needs
    // only (not those of arrangements it delivers); it may not name another requester
    // (as body or filter) nor set CRITICAL.
    (Row::CreateNeed,            [OK, OK, PD, PD, PD, PD, PD]), // for UGA, HIGH
    (Row::CreateCriticalNeed,    [OK, PD, PD, PD, PD, PD, PD]), // for UGA, CRITICAL
    (Row::GetNeed,               [OK, OK, NF, NF, NF, PD, PD]), // UGA's need with an arrangement
    (Row::ListNeeds,             [OK, OK, OK, OK, OK, PD, PD]),
    (Row::ListNeedsOfOwner,      [OK, OK, PD, PD, PD, PD, PD]), // filter requester = UGA
    (Row::UpdateNeed,            [OK, OK, NF, NF, NF, PD, PD]), // body names only id and title
    (Row::WithdrawNeed,          [OK, OK, NF, NF, NF, PD, PD]),
    // OfferService: "providers, Secretariat"; centres never. A state reads offers it
    // provides, OPEN offers it is eligible for (and not excluded from), and offers it is
    // a party to (those of the matches and arrangements it is a party to).
    (Row::CreateOffer,           [OK, PD, OK, PD, PD, PD, PD]), // providers [GBR]
    (Row::GetDeliveryOffer,      [OK, OK, OK, OK, NF, PD, PD]), // GBR's, eligible [UGA], funded by NOR
    (Row::GetFundingOffer,       [OK, OK, OK, OK, NF, PD, PD]), // NOR's, eligible [UGA], pays GBR's seats
    (Row::GetExhaustedOffer,     [OK, OK, OK, NF, NF, PD, PD]), // GBR's, eligible [UGA], all seats UGA's
    (Row::GetOpenOffer,          [OK, OK, OK, OK, OK, PD, PD]), // GBR's, eligible: anyone
    (Row::GetOfferExcludingOther,[OK, OK, OK, OK, NF, PD, PD]), // GBR's, excluded [FRA]
    (Row::GetWithdrawnOffer,     [OK, NF, OK, NF, NF, PD, PD]), // GBR's, was open to anyone
    (Row::ListOffers,            [OK, OK, OK, OK, OK, PD, PD]),
    (Row::UpdateOffer,           [OK, PD, OK, NF, NF, PD, PD]), // GBR's, eligible [UGA]
    (Row::UpdateCoProvidedOffer, [OK, PD, OK, OK, NF, PD, PD]), // providers [GBR, NOR], eligible [UGA]
    (Row::WithdrawOffer,         [OK, PD, OK, NF, NF, PD, PD]), // GBR's, eligible [UGA]
    // TrainingCentreService: "create: Secretariat; read: any principal".
    (Row::CreateTrainingCentre,  [OK, PD, PD, PD, PD, PD, PD]),
    (Row::GetTrainingCentre,     [OK, OK, OK, OK, OK, OK, OK]),
    (Row::ListTrainingCentres,   [OK, OK, OK, OK, OK, OK, OK]),
    // MatchingService: propose/approve/reject Secretariat only; matches "Secretariat,
    // parties"; ExplainNeed "requester, Secretariat"; centres read no match.
    (Row::ProposeMatches,        [OK, PD, PD, PD, PD, PD, PD]), // dry run
    (Row::GetMatch,              [OK, OK, OK, OK, NF, PD, PD]),
    (Row::ListMatches,           [OK, OK, OK, OK, OK, PD, PD]),
    (Row::ApproveMatch,          [OK, PD, PD, PD, PD, PD, PD]),
    (Row::RejectMatch,           [OK, PD, PD, PD, PD, PD, PD]),
    (Row::ExplainNeed,           [OK, OK, NF, NF, NF, PD, PD]),
    // ArrangementService: read by "parties, hosting centre, Secretariat"; consent by a
    // party state (the Secretariat "cannot give or refuse a state's consent"); IN_DELIVERY
    // and outcomes by the hosting centre, a delivering party or the Secretariat; CANCELLED
    // by the Secretariat only.
    (Row::GetArrangement,        [OK, OK, OK, OK, NF, OK, NF]),
    (Row::ListArrangements,      [OK, OK, OK, OK, OK, OK, OK]),
    (Row::RespondToArrangement,  [PD, OK, OK, OK, NF, PD, PD]), // PENDING_CONSENT, accept
    (Row::StartDelivery,         [OK, PD, OK, PD, NF, OK, NF]), // SCHEDULED -> IN_DELIVERY
    (Row::CancelArrangement,     [OK, PD, PD, PD, PD, PD, PD]), // PENDING_CONSENT -> CANCELLED
    (Row::RecordOutcome,         [OK, PD, OK, PD, NF, OK, NF]), // IN_DELIVERY
    // ReportService: gap report for the Secretariat and states (a state gets its own
    // requester rows and all capability rows); the others Secretariat only.
    (Row::GapReportByRequester,  [OK, OK, OK, OK, OK, PD, PD]),
    (Row::GapReportByCapability, [OK, OK, OK, OK, OK, PD, PD]),
    (Row::DeconflictionReport,   [OK, PD, PD, PD, PD, PD, PD]),
    (Row::GenderReport,          [OK, PD, PD, PD, PD, PD, PD]),
    // EventService: ListEvents Secretariat; WatchEvents any principal, by visibility.
    (Row::ListEvents,            [OK, PD, PD, PD, PD, PD, PD]),
    (Row::WatchEvents,           [OK, OK, OK, OK, OK, OK, OK]),
    // AdminService: Secretariat only (ExportBackup is an extra method, documented so).
    (Row::CreatePrincipal,       [OK, PD, PD, PD, PD, PD, PD]),
    (Row::ListPrincipals,        [OK, PD, PD, PD, PD, PD, PD]),
    (Row::RevokePrincipal,       [OK, PD, PD, PD, PD, PD, PD]),
    (Row::ExportBackup,          [OK, PD, PD, PD, PD, PD, PD]),
];

fn expected(row: [Code; 7], who: Who) -> Code {
    match who {
        Who::NoToken | Who::Revoked | Who::Garbage | Who::WrongScheme => Code::Unauthenticated,
        Who::Secretariat => row[0],
        Who::Owner => row[1],
        Who::Party => row[2],
        Who::Funder => row[3],
        Who::Other => row[4],
        Who::HostingCentre => row[5],
        Who::OtherCentre => row[6],
    }
}

/// Every method the server's file descriptor set declares, as `package.Service/Method`.
fn declared_methods() -> BTreeSet<String> {
    let set = <prost_types::FileDescriptorSet as prost::Message>::decode(api::FILE_DESCRIPTOR_SET).unwrap();
    let mut out = BTreeSet::new();
    for file in &set.file {
        for service in &file.service {
            for method in &service.method {
                out.insert(format!("{}.{}/{}", file.package(), service.name(), method.name()));
            }
        }
    }
    out
}

struct World {
    s: TestServer,
    tokens: HashMap<Who, String>,
    hosting_centre: String,
    other_centre: String,
    /// UGA's need whose match `matched` became `arrangement` (PENDING_CONSENT).
    need: String,
    matched: String,
    arrangement: String,
    /// The offer each GetOffer row reads.
    offers: HashMap<Row, String>,
    /// For rows that may write: one fresh target per caller, indexed like [`CALLERS`].
    pools: HashMap<Row, Vec<String>>,
}

fn state_of(who: Who) -> Option<&'static str> {
    match who {
        Who::Owner => Some(OWNER),
        Who::Party => Some(PARTY),
        Who::Funder => Some(FUNDER),
        Who::Other => Some(OTHER),
        _ => None,
    }
}

impl World {
    fn token(&self, who: Who) -> &str {
        match who {
            Who::Secretariat => &self.s.admin,
            _ => &self.tokens[&who],
        }
    }

    fn centre_of(&self, who: Who) -> Option<&str> {
        match who {
            Who::HostingCentre => Some(&self.hosting_centre),
            Who::OtherCentre => Some(&self.other_centre),
            _ => None,
        }
    }

    fn request<T>(&self, who: Who, msg: T) -> Request<T> {
        let mut r = Request::new(msg);
        let value = match who {
            Who::NoToken => return r,
            Who::Garbage => "Bearer not a token at all!".to_string(),
            Who::WrongScheme => format!("Basic {}", self.s.admin),
            _ => format!("Bearer {}", self.token(who)),
        };
        r.metadata_mut().insert("authorization", value.parse().unwrap());
        r
    }

    fn fresh(&self, row: Row, who: Who) -> String {
        let slot = CALLERS.iter().position(|c| *c == who).unwrap();
        self.pools[&row][slot].clone()
    }
}

fn one_seat_need(capability: api::CapabilityArea, title: String) -> api::Need {
    api::Need { title, quantity: 1, women_quantity: 0, capability: capability as i32, ..need(OWNER) }
}

/// A GBR offer of MEDICAL seats: no UGA need ever matches it.
fn medical_offer(title: &str) -> api::Offer {
    api::Offer {
        title: title.into(),
        capability: api::CapabilityArea::Medical as i32,
        duration_days: 5,
        ..delivery_offer(PARTY)
    }
}

async fn create_centre(s: &TestServer, name: &str, host: &str) -> String {
    let centre = api::TrainingCentre {
        name: name.into(),
        host_state: host.into(),
        languages: vec!["en".into()],
        capabilities: vec![api::CapabilityArea::Engineering as i32],
        un_recognized: true,
        ..Default::default()
    };
    let req = api::CreateTrainingCentreRequest { training_centre: Some(centre), request_id: String::new() };
    s.centres().await.create_training_centre(authed(&s.admin, req)).await.unwrap().into_inner().id
}

async fn create_offer(s: &TestServer, token: &str, offer: api::Offer) -> String {
    let req = api::CreateOfferRequest { offer: Some(offer), request_id: String::new() };
    s.offers().await.create_offer(authed(token, req)).await.unwrap().into_inner().id
}

async fn create_need(s: &TestServer, token: &str, need: api::Need) -> String {
    let req = api::CreateNeedRequest { need: Some(need), request_id: String::new() };
    s.needs().await.create_need(authed(token, req)).await.unwrap().into_inner().id
}

async fn create_principal(s: &TestServer, kind: api::PrincipalKind, state: &str, centre: &str) -> (String, String) {
    let req = api::CreatePrincipalRequest {
        kind: kind as i32,
        member_state: state.into(),
        training_centre_id: centre.into(),
        display_name: format!("matrix {state}{centre}"),
        request_id: String::new(),
    };
    let r = s.admin_client().await.create_principal(authed(&s.admin, req)).await.unwrap().into_inner();
    (r.principal.unwrap().id, r.token)
}

async fn approve(s: &TestServer, match_id: &str) -> String {
    let req = api::ApproveMatchRequest { id: match_id.into(), ..Default::default() };
    let r = s.matching().await.approve_match(authed(&s.admin, req)).await.unwrap().into_inner();
    assert_eq!(r.arrangements.len(), 1);
    r.arrangements[0].id.clone()
}

async fn transition(s: &TestServer, token: &str, id: &str, to: api::ArrangementStatus) -> api::Arrangement {
    // The delivery offer is available from day 10, its course lasts 5 days, the needs are
    // needed by day 120.
    let start = ts_days(20).seconds.div_euclid(86_400) * 86_400;
    let ts = |seconds: i64| Some(prost_types::Timestamp { seconds, nanos: 0 });
    let req = api::TransitionArrangementRequest {
        id: id.into(),
        to: to as i32,
        scheduled_start: ts(start),
        scheduled_end: ts(start + 5 * 86_400),
        ..Default::default()
    };
    s.arrangements().await.transition_arrangement(authed(token, req)).await.unwrap().into_inner()
}

/// Builds the scenario; with `pools` each writing row gets one fresh target per caller.
async fn world(pools: bool) -> World {
    use api::CapabilityArea::{CounterIed, Engineering};
    let s = TestServer::start().await;
    let hosting_centre = create_centre(&s, "IPSTC", HOST_STATE).await;
    let other_centre = create_centre(&s, "Another centre", "GHA").await;
    let mut tokens = HashMap::new();
    for (who, state) in [(Who::Owner, OWNER), (Who::Party, PARTY), (Who::Funder, FUNDER), (Who::Other, OTHER)] {
        tokens.insert(who, s.state(state).await);
    }
    let ken = s.state(HOST_STATE).await;
    tokens.insert(Who::HostingCentre, s.principal(api::PrincipalKind::TrainingCentre, "", &hosting_centre).await);
    tokens.insert(Who::OtherCentre, s.principal(api::PrincipalKind::TrainingCentre, "", &other_centre).await);
    let (revoked_id, revoked) = create_principal(&s, api::PrincipalKind::Secretariat, "", "").await;
    s.admin_client()
        .await
        .revoke_principal(authed(&s.admin, api::RevokePrincipalRequest { id: revoked_id }))
        .await
        .unwrap();
    tokens.insert(Who::Revoked, revoked);
    let (uga, gbr, nor) = (tokens[&Who::Owner].clone(), tokens[&Who::Party].clone(), tokens[&Who::Funder].clone());

    // Offers: GBR delivers ENGINEERING at the KEN centre to UGA only, paid by NOR.
    let only_owner = vec![OWNER.to_string()];
    let delivery = api::Offer {
        capacity: 500,
        mode: api::DeliveryMode::AtTrainingCentre as i32,
        training_centre_id: hosting_centre.clone(),
        eligible_recipients: only_owner.clone(),
        requires_funding: true,
        duration_days: 5,
        ..delivery_offer(PARTY)
    };
    let funding = api::Offer {
        providers: vec![FUNDER.into()],
        role: api::OfferRole::Funding as i32,
        capacity: 500,
        eligible_recipients: only_owner.clone(),
        languages: Vec::new(),
        mode: 0,
        duration_days: 0,
        ..delivery_offer(FUNDER)
    };
    // One COUNTER_IED seat, which UGA's arrangement will exhaust.
    let exhausted = api::Offer {
        capacity: 1,
        capability: CounterIed as i32,
        eligible_recipients: only_owner.clone(),
        duration_days: 5,
        ..delivery_offer(PARTY)
    };
    let mut offers = HashMap::new();
    offers.insert(Row::GetDeliveryOffer, create_offer(&s, &gbr, delivery).await);
    offers.insert(Row::GetFundingOffer, create_offer(&s, &nor, funding).await);
    offers.insert(Row::GetExhaustedOffer, create_offer(&s, &gbr, exhausted).await);
    offers.insert(Row::GetOpenOffer, create_offer(&s, &gbr, medical_offer("Open to all")).await);
    let excluding = api::Offer { excluded_recipients: vec![OTHER.into()], ..medical_offer("Not for FRA") };
    offers.insert(Row::GetOfferExcludingOther, create_offer(&s, &gbr, excluding).await);
    let withdrawn = create_offer(&s, &gbr, medical_offer("Withdrawn")).await;
    s.offers()
        .await
        .withdraw_offer(authed(&gbr, api::WithdrawOfferRequest { id: withdrawn.clone(), ..Default::default() }))
        .await
        .unwrap();
    offers.insert(Row::GetWithdrawnOffer, withdrawn);

    // Needs, one seat each: the first and the COUNTER_IED one become arrangements, then
    // one per caller for each row that needs a match or an arrangement of its own.
    const MATCH_ROWS: [Row; 2] = [Row::ApproveMatch, Row::RejectMatch];
    const PENDING_ROWS: [Row; 2] = [Row::RespondToArrangement, Row::CancelArrangement];
    let per_row = if pools { CALLERS.len() } else { 0 };
    let count = 1 + per_row * (MATCH_ROWS.len() + PENDING_ROWS.len() + 2);
    let mut needs = Vec::new();
    for i in 0..count {
        needs.push(create_need(&s, &uga, one_seat_need(Engineering, format!("Engineers {i}"))).await);
    }
    let counter_ied = create_need(&s, &uga, one_seat_need(CounterIed, "Searchers".into())).await;
    let proposed = s
        .matching()
        .await
        .propose_matches(authed(&s.admin, api::ProposeMatchesRequest::default()))
        .await
        .unwrap()
        .into_inner()
        .matches;
    assert_eq!(proposed.len(), count + 1, "one match per need");
    let match_of = |need: &str| proposed.iter().find(|m| m.need_id == need).unwrap().id.clone();
    let matched = match_of(&needs[0]);
    let arrangement = approve(&s, &matched).await;
    approve(&s, &match_of(&counter_ied)).await;

    let mut pool_map: HashMap<Row, Vec<String>> = HashMap::new();
    let mut rest = needs[1..].iter();
    let mut take = |n: usize| rest.by_ref().take(n).map(|need| match_of(need)).collect::<Vec<_>>();
    for row in MATCH_ROWS {
        pool_map.insert(row, take(per_row));
    }
    for row in PENDING_ROWS {
        let mut ids = Vec::new();
        for m in take(per_row) {
            ids.push(approve(&s, &m).await);
        }
        pool_map.insert(row, ids);
    }
    // SCHEDULED for StartDelivery, IN_DELIVERY for RecordOutcome.
    for row in [Row::StartDelivery, Row::RecordOutcome] {
        let mut ids = Vec::new();
        for m in take(per_row) {
            let id = approve(&s, &m).await;
            for token in [&uga, &gbr, &nor, &ken] {
                let req = api::RespondToArrangementRequest { id: id.clone(), accept: true, ..Default::default() };
                s.arrangements().await.respond_to_arrangement(authed(token, req)).await.unwrap();
            }
            transition(&s, &s.admin, &id, api::ArrangementStatus::Scheduled).await;
            if row == Row::RecordOutcome {
                transition(&s, &s.admin, &id, api::ArrangementStatus::InDelivery).await;
            }
            ids.push(id);
        }
        pool_map.insert(row, ids);
    }
    // Needs and offers that no match refers to (so changing them stales nothing).
    for row in [Row::UpdateNeed, Row::WithdrawNeed] {
        let mut ids = Vec::new();
        for i in 0..per_row {
            ids.push(create_need(&s, &uga, one_seat_need(Engineering, format!("{row:?} {i}"))).await);
        }
        pool_map.insert(row, ids);
    }
    for row in [Row::UpdateOffer, Row::UpdateCoProvidedOffer, Row::WithdrawOffer] {
        let mut ids = Vec::new();
        for i in 0..per_row {
            let mut offer =
                api::Offer { eligible_recipients: only_owner.clone(), ..medical_offer(&format!("{row:?} {i}")) };
            if row == Row::UpdateCoProvidedOffer {
                offer.providers = vec![PARTY.into(), FUNDER.into()];
            }
            ids.push(create_offer(&s, &gbr, offer).await);
        }
        pool_map.insert(row, ids);
    }
    let mut principals = Vec::new();
    for _ in 0..per_row {
        principals.push(create_principal(&s, api::PrincipalKind::MemberState, OTHER, "").await.0);
    }
    pool_map.insert(Row::RevokePrincipal, principals);
    World {
        s,
        tokens,
        hosting_centre,
        other_centre,
        need: needs[0].clone(),
        matched,
        arrangement,
        offers,
        pools: pool_map,
    }
}

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

/// Makes the call of one cell.
async fn call(w: &World, row: Row, who: Who) -> Result<Seen, Status> {
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
        | GetWithdrawnOffer => {
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
            w.s.matching().await.explain_need(w.request(who, req)).await?;
            None
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
            let outcome = api::Outcome { trained: 1, women_trained: 0, certified: 1, deployed_missions: Vec::new() };
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
async fn visible(w: &World, row: Row, who: Who, seen: &BTreeSet<String>) -> Result<BTreeSet<String>, Status> {
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

fn differences(seen: &BTreeSet<String>, want: &BTreeSet<String>) -> String {
    let extra: Vec<&String> = seen.difference(want).collect();
    let missing: Vec<&String> = want.difference(seen).collect();
    format!("saw {} items, expected {}; extra {extra:?}, missing {missing:?}", seen.len(), want.len())
}

#[tokio::test]
async fn every_method_by_every_caller_follows_the_api_table() {
    // The table names every method the server declares, and nothing else.
    let declared = declared_methods();
    let tabled: BTreeSet<String> = TABLE.iter().map(|(row, _)| row.method().to_string()).collect();
    let untabled: Vec<&String> = declared.difference(&tabled).collect();
    assert!(untabled.is_empty(), "methods missing from the access matrix: {untabled:?}");
    let undeclared: Vec<&String> = tabled.difference(&declared).collect();
    assert!(undeclared.is_empty(), "the access matrix names methods the server does not declare: {undeclared:?}");
    let rows: BTreeSet<String> = TABLE.iter().map(|(row, _)| format!("{row:?}")).collect();
    assert_eq!(rows.len(), TABLE.len(), "each row once");

    let started = std::time::Instant::now();
    let w = world(true).await;
    let setup = started.elapsed();
    let mut mismatches = Vec::new();
    let (mut cells, mut listings) = (0, 0);
    for &(row, codes) in TABLE {
        assert_eq!(row.needs_fresh_targets(), w.pools.contains_key(&row), "{row:?}");
        for who in CALLERS {
            cells += 1;
            let want = expected(codes, who);
            match call(&w, row, who).await {
                Err(status) if status.code() == want => {}
                Err(status) => mismatches.push(format!(
                    "{row:?} ({}) by {who:?}: {:?} {:?}, expected {want:?}",
                    row.method(),
                    status.code(),
                    status.message()
                )),
                Ok(_) if want != Code::Ok => {
                    mismatches.push(format!("{row:?} ({}) by {who:?}: OK, expected {want:?}", row.method()))
                }
                Ok(None) => {}
                Ok(Some(seen)) => {
                    listings += 1;
                    let want = visible(&w, row, who, &seen).await.unwrap();
                    if seen != want {
                        mismatches.push(format!("{row:?} by {who:?}: {}", differences(&seen, &want)));
                    }
                }
            }
        }
    }
    println!(
        "access matrix: {} rows x {} callers = {cells} cells ({listings} listings compared), {} methods, \
         {} mismatches; setup {setup:?}, total {:?}",
        TABLE.len(),
        CALLERS.len(),
        declared.len(),
        mismatches.len(),
        started.elapsed()
    );
    assert!(
        mismatches.is_empty(),
        "{} of {cells} cells differ from API.md:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

fn tampered(token: &str) -> String {
    let mut bytes = token.as_bytes().to_vec();
    bytes[3] = if bytes[3] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

/// A token of the right shape (position 0 and a made-up MAC).
fn forged() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0u8; 40])
}

#[track_caller]
fn assert_bad_page_token<T: std::fmt::Debug>(result: Result<T, Status>, what: &str) {
    match result {
        Err(s) if s.code() == Code::InvalidArgument && violations(&s) == ["page_token"] => {}
        other => panic!("{what}: expected INVALID_ARGUMENT on page_token, got {other:?}"),
    }
}

/// For one list method: UGA's second-page token is refused to FRA, to GBR (a party to
/// UGA's matches and arrangements) and to the Secretariat; a Secretariat token is refused
/// to UGA and FRA; tampered and forged tokens and a token replayed on another query are
/// refused; and UGA, continuing with its own token, reads exactly its own listing.
macro_rules! page_token_checks {
    ($w:expr, $client:ident, $method:ident, $Req:ident, $items:ident, $vary:expr) => {{
        let w: &World = $w;
        let what = stringify!($method);
        let mut client = w.s.$client().await;
        let page = |page_token: String| api::$Req { page_size: 1, page_token, ..Default::default() };
        let first = client.$method(w.request(Who::Owner, page(String::new()))).await.unwrap().into_inner();
        let token = first.next_page_token.clone();
        assert!(!token.is_empty(), "{what}: UGA sees more than one item");
        for intruder in [Who::Other, Who::Party, Who::Secretariat] {
            let r = client.$method(w.request(intruder, page(token.clone()))).await;
            assert_bad_page_token(r, &format!("{what}: UGA's token used by {intruder:?}"));
        }
        let admin_token = client
            .$method(w.request(Who::Secretariat, page(String::new())))
            .await
            .unwrap()
            .into_inner()
            .next_page_token;
        assert!(!admin_token.is_empty());
        for intruder in [Who::Owner, Who::Other] {
            let r = client.$method(w.request(intruder, page(admin_token.clone()))).await;
            assert_bad_page_token(r, &format!("{what}: the Secretariat's token used by {intruder:?}"));
        }
        let r = client.$method(w.request(Who::Owner, page(tampered(&token)))).await;
        assert_bad_page_token(r, &format!("{what}: tampered"));
        let r = client.$method(w.request(Who::Owner, page(forged()))).await;
        assert_bad_page_token(r, &format!("{what}: forged"));
        let vary: Option<fn(&mut api::$Req)> = $vary;
        if let Some(vary) = vary {
            let mut other_query = page(token.clone());
            vary(&mut other_query);
            let r = client.$method(w.request(Who::Owner, other_query)).await;
            assert_bad_page_token(r, &format!("{what}: replayed on another query"));
        }
        // The owner's own token still works and pages through exactly its listing.
        let mut paged: Vec<String> = first.$items.iter().map(|x| x.id.clone()).collect();
        let mut next = token;
        while !next.is_empty() {
            let p = client.$method(w.request(Who::Owner, page(next))).await.unwrap().into_inner();
            paged.extend(p.$items.iter().map(|x| x.id.clone()));
            next = p.next_page_token;
        }
        let whole = client
            .$method(w.request(Who::Owner, api::$Req { page_size: 500, ..Default::default() }))
            .await
            .unwrap()
            .into_inner();
        let whole: Vec<String> = whole.$items.iter().map(|x| x.id.clone()).collect();
        assert_eq!(paged, whole, "{what}: pages of UGA's own listing");
        1
    }};
}

#[tokio::test]
#[allow(clippy::needless_update)] // the macro builds every list request the same way
async fn page_tokens_are_bound_to_their_caller_and_query_and_cannot_be_forged() {
    let w = world(false).await;
    let mut lists = 0;
    lists += page_token_checks!(
        &w,
        needs,
        list_needs,
        ListNeedsRequest,
        needs,
        Some(|r: &mut api::ListNeedsRequest| { r.state = api::NeedState::Open as i32 })
    );
    lists += page_token_checks!(
        &w,
        offers,
        list_offers,
        ListOffersRequest,
        offers,
        Some(|r: &mut api::ListOffersRequest| { r.role = api::OfferRole::Delivery as i32 })
    );
    lists += page_token_checks!(
        &w,
        matching,
        list_matches,
        ListMatchesRequest,
        matches,
        Some(|r: &mut api::ListMatchesRequest| { r.state = api::MatchState::Approved as i32 })
    );
    lists += page_token_checks!(
        &w,
        arrangements,
        list_arrangements,
        ListArrangementsRequest,
        arrangements,
        Some(|r: &mut api::ListArrangementsRequest| r.status = api::ArrangementStatus::PendingConsent as i32)
    );
    lists += page_token_checks!(&w, centres, list_training_centres, ListTrainingCentresRequest, training_centres, None);
    assert_eq!(lists, 5);

    // Secretariat-only lists: tampered and forged tokens are refused too.
    let mut events = w.s.events().await;
    let page = |page_token: String| api::ListEventsRequest { page_size: 1, page_token, ..Default::default() };
    let token = events.list_events(w.request(Who::Secretariat, page(String::new()))).await.unwrap().into_inner();
    assert!(!token.next_page_token.is_empty());
    let r = events.list_events(w.request(Who::Secretariat, page(tampered(&token.next_page_token)))).await;
    assert_bad_page_token(r, "ListEvents: tampered");
    let r = events.list_events(w.request(Who::Secretariat, page(forged()))).await;
    assert_bad_page_token(r, "ListEvents: forged");
    let mut admin = w.s.admin_client().await;
    let page = |page_token: String| api::ListPrincipalsRequest { page_size: 1, page_token };
    let token = admin.list_principals(w.request(Who::Secretariat, page(String::new()))).await.unwrap().into_inner();
    assert!(!token.next_page_token.is_empty());
    let r = admin.list_principals(w.request(Who::Secretariat, page(tampered(&token.next_page_token)))).await;
    assert_bad_page_token(r, "ListPrincipals: tampered");
}

//! The access-control matrix of issue 7: every method of every lcm.v1 service, called by
//! eleven kinds of caller, against a table written once below from API.md's rules ("Who
//! calls it", "Visibility", "Errors, in this order" and the services table). For list
//! methods (and reports and the event stream) the test also compares what each caller
//! sees with what API.md's visibility rules let it see. A second test (`page_tokens.rs`)
//! shows that page tokens are bound to the caller and the query they were issued for and
//! cannot be forged. `scenario.rs` builds the world the cells run against; `calls.rs`
//! makes each cell's call and judges listings by API.md's visibility rules.
//!
//! The scenario: UGA requests (the owner of the needs); GBR delivers at a centre hosted
//! by KEN and NOR pays, so each arrangement is triangular with parties UGA, GBR, NOR and
//! KEN; FRA is a bystander; a second centre hosts nothing. Every cell that might write
//! gets a fresh resource of its own, so no cell's outcome depends on the order in which
//! the cells run (or on whether another cell wrongly succeeded).

mod calls;
mod page_tokens;
mod scenario;

use calls::{call, differences, visible};
use lcm::api;
use scenario::world;
use std::collections::BTreeSet;
use tonic::Code;

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
    GetOfferNotForOwner,
    ListOffers,
    UpdateOffer,
    UpdateCoProvidedOffer,
    WithdrawOffer,
    CreateTrainingCentre,
    GetTrainingCentre,
    ListTrainingCentres,
    UpdateTrainingCentre,
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
    CapacityReport,
    ReadinessReport,
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
            | GetWithdrawnOffer
            | GetOfferNotForOwner => "lcm.v1.OfferService/GetOffer",
            ListOffers => "lcm.v1.OfferService/ListOffers",
            UpdateOffer | UpdateCoProvidedOffer => "lcm.v1.OfferService/UpdateOffer",
            WithdrawOffer => "lcm.v1.OfferService/WithdrawOffer",
            CreateTrainingCentre => "lcm.v1.TrainingCentreService/CreateTrainingCentre",
            GetTrainingCentre => "lcm.v1.TrainingCentreService/GetTrainingCentre",
            ListTrainingCentres => "lcm.v1.TrainingCentreService/ListTrainingCentres",
            UpdateTrainingCentre => "lcm.v1.TrainingCentreService/UpdateTrainingCentre",
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
            CapacityReport => "lcm.v1.ReportService/GetCapacityReport",
            ReadinessReport => "lcm.v1.ReportService/GetReadinessReport",
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
    (Row::GetOfferNotForOwner,   [OK, NF, OK, NF, NF, PD, PD]), // GBR's ENGINEERING, eligible [KEN]
    (Row::ListOffers,            [OK, OK, OK, OK, OK, PD, PD]),
    (Row::UpdateOffer,           [OK, PD, OK, NF, NF, PD, PD]), // GBR's, eligible [UGA]
    (Row::UpdateCoProvidedOffer, [OK, PD, OK, OK, NF, PD, PD]), // providers [GBR, NOR], eligible [UGA]
    (Row::WithdrawOffer,         [OK, PD, OK, NF, NF, PD, PD]), // GBR's, eligible [UGA]
    // TrainingCentreService: "create: Secretariat; read: any principal".
    (Row::CreateTrainingCentre,  [OK, PD, PD, PD, PD, PD, PD]),
    (Row::GetTrainingCentre,     [OK, OK, OK, OK, OK, OK, OK]),
    (Row::ListTrainingCentres,   [OK, OK, OK, OK, OK, OK, OK]),
    (Row::UpdateTrainingCentre,  [OK, PD, PD, PD, PD, PD, PD]), // the other centre, un_recognized
    // MatchingService: propose/approve/reject Secretariat only; matches "Secretariat,
    // parties"; ExplainNeed "requester, Secretariat"; centres read no match.
    (Row::ProposeMatches,        [OK, PD, PD, PD, PD, PD, PD]), // dry run
    (Row::GetMatch,              [OK, OK, OK, OK, NF, PD, PD]),
    (Row::ListMatches,           [OK, OK, OK, OK, OK, PD, PD]),
    (Row::ApproveMatch,          [OK, PD, PD, PD, PD, PD, PD]),
    (Row::RejectMatch,           [OK, PD, PD, PD, PD, PD, PD]),
    (Row::ExplainNeed,           [OK, OK, NF, NF, NF, PD, PD]), // candidates: only offers the caller reads
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
    (Row::CapacityReport,        [OK, OK, OK, OK, OK, PD, PD]), // a state: its own row only
    (Row::ReadinessReport,       [OK, OK, OK, OK, OK, PD, PD]), // a state: its own needs' rows
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

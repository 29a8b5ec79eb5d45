//! Which message types the CLI prints, and the key columns of each in tables and CSV.

use super::render::{Cell, Column, View};
use crate::api;
use Cell::{Date, Decimal, Joined, Plain, Short, Time};

macro_rules! views {
    ($($ty:ident => [$($col:expr),* $(,)?];)+) => {$(
        impl View for api::$ty {
            const FULL_NAME: &'static str = concat!("lcm.v1.", stringify!($ty));
            const COLUMNS: &'static [Column] = &[$($col),*];
        }
    )+};
}

views! {
    Need => [
        Column("ID", "id", Plain),
        Column("STATE", "state", Plain),
        Column("REQUESTER", "requester", Plain),
        Column("CATEGORY", "category", Plain),
        Column("CAPABILITY", "capability", Plain),
        Column("PRIORITY", "priority", Plain),
        Column("QTY", "quantity", Plain),
        Column("WOMEN", "women_quantity", Plain),
        Column("RESERVED", "reserved_quantity", Plain),
        Column("DELIVERED", "delivered_quantity", Plain),
        Column("NEEDED_BY", "needed_by", Date),
        Column("TITLE", "title", Short(40)),
    ];
    Offer => [
        Column("ID", "id", Plain),
        Column("STATE", "state", Plain),
        Column("ROLE", "role", Plain),
        Column("PROVIDERS", "providers", Plain),
        Column("CATEGORY", "category", Plain),
        Column("CAPABILITY", "capability", Plain),
        Column("MODE", "mode", Plain),
        Column("CAPACITY", "capacity", Plain),
        Column("RESERVED", "reserved_quantity", Plain),
        Column("DELIVERED", "delivered_quantity", Plain),
        Column("FROM", "available_from", Date),
        Column("UNTIL", "available_until", Date),
        Column("TITLE", "title", Short(40)),
    ];
    TrainingCentre => [
        Column("ID", "id", Plain),
        Column("HOST", "host_state", Plain),
        Column("LANGUAGES", "languages", Plain),
        Column("UN", "un_recognized", Plain),
        Column("NAME", "name", Short(50)),
        Column("CAPABILITIES", "capabilities", Short(40)),
    ];
    Match => [
        Column("ID", "id", Plain),
        Column("STATE", "state", Plain),
        Column("NEED", "need_id", Plain),
        Column("QTY", "quantity", Plain),
        Column("WOMEN", "women_quantity", Plain),
        Column("PARTIES", "parties", Plain),
        Column("TRIANGULAR", "triangular", Plain),
        Column("OFFERS", "allocations.offer_id", Plain),
        Column("FUNDERS", "allocations.funding_offer_id", Plain),
        Column("SCORE", "score", Decimal),
    ];
    Allocation => [
        Column("OFFER", "offer_id", Plain),
        Column("FUNDING", "funding_offer_id", Plain),
        Column("QTY", "quantity", Plain),
        Column("WOMEN", "women_quantity", Plain),
        Column("CENTRE", "training_centre_id", Plain),
    ];
    Arrangement => [
        Column("ID", "id", Plain),
        Column("STATUS", "status", Plain),
        Column("RECIPIENT", "recipient", Plain),
        Column("PARTIES", "parties", Plain),
        Column("TRIANGULAR", "triangular", Plain),
        Column("CAPABILITY", "capability", Plain),
        Column("QTY", "quantity", Plain),
        Column("WOMEN", "women_quantity", Plain),
        Column("OFFER", "allocation.offer_id", Plain),
        Column("FUNDING", "allocation.funding_offer_id", Plain),
        Column("CENTRE", "training_centre_id", Plain),
        Column("START", "scheduled_start", Date),
        Column("END", "scheduled_end", Date),
    ];
    Principal => [
        Column("ID", "id", Plain),
        Column("KIND", "kind", Plain),
        Column("STATE", "member_state", Plain),
        Column("CENTRE", "training_centre_id", Plain),
        Column("REVOKED", "revoked", Plain),
        Column("CREATED", "create_time", Date),
        Column("NAME", "display_name", Short(50)),
    ];
    Event => [
        Column("SEQ", "sequence", Plain),
        Column("TIME", "time", Time),
        Column("KIND", "kind", Plain),
        Column("ACTOR", "actor", Plain),
        Column("RESOURCE", "resource_id", Plain),
    ];
    Candidate => [
        Column("OFFER", "offer_id", Plain),
        Column("COMPATIBLE", "compatible", Plain),
        Column("REMAINING", "remaining_capacity", Plain),
        Column("BLOCKERS", "blockers", Joined("; ")),
    ];
    GapRow => [
        Column("KEY", "key", Plain),
        Column("NEEDED", "needed", Plain),
        Column("WOMEN_NEEDED", "women_needed", Plain),
        Column("RESERVED", "reserved", Plain),
        Column("DELIVERED", "delivered", Plain),
        Column("OPEN", "open", Plain),
        Column("CRITICAL_OPEN", "critical_open", Plain),
        Column("OVERDUE", "overdue", Plain),
    ];
    DeconflictionFinding => [
        Column("RECIPIENT", "recipient", Plain),
        Column("CATEGORY", "category", Plain),
        Column("CAPABILITY", "capability", Plain),
        Column("OVERLAP_START", "overlap_start", Date),
        Column("OVERLAP_END", "overlap_end", Date),
        Column("RESOURCES", "resource_ids", Plain),
        Column("SUMMARY", "summary", Plain),
    ];
    GenderRow => [
        Column("REQUESTER", "requester", Plain),
        Column("WOMEN_NEEDED", "women_needed", Plain),
        Column("WOMEN_RESERVED", "women_reserved", Plain),
        Column("WOMEN_TRAINED", "women_trained", Plain),
        Column("SEATS_TOTAL", "seats_total", Plain),
        Column("WOMEN_SHARE", "women_share", Decimal),
        Column("TARGET_SHARE", "target_share", Decimal),
        Column("BELOW_TARGET", "below_target", Plain),
    ];
    CapacityRow => [
        Column("REQUESTER", "requester", Plain),
        Column("SEATS_DELIVERED", "seats_delivered", Plain),
        Column("IN_COUNTRY", "in_country_seats", Plain),
        Column("IN_COUNTRY_SHARE", "in_country_share", Decimal),
        Column("TRAINERS", "trainers_qualified", Plain),
        Column("NATIONAL_CENTRES", "national_centres", Plain),
        Column("UN_RECOGNIZED", "un_recognized_centres", Plain),
        Column("REPEAT_CAPABILITIES", "repeat_capabilities", Plain),
    ];
    ReadinessRow => [
        Column("STATUS", "status", Plain),
        Column("NEED", "need_id", Plain),
        Column("REQUESTER", "requester", Plain),
        Column("CAPABILITY", "capability", Plain),
        Column("PLEDGE", "pledge_level", Plain),
        Column("NEEDED_BY", "needed_by", Plain),
        Column("DAYS_LEFT", "days_left", Plain),
        Column("OPEN", "open", Plain),
        Column("COMPATIBLE_OFFERS", "compatible_offers", Plain),
    ];
    MatchSummary => [];
    ProposeMatchesResponse => [];
    ApproveMatchResponse => [];
    ExplainNeedResponse => [];
    CreatePrincipalResponse => [];
    GetGapReportResponse => [];
    GetDeconflictionReportResponse => [];
    GetGenderReportResponse => [];
    GetCapacityReportResponse => [];
    GetReadinessReportResponse => [];
}

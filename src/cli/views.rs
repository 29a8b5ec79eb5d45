//! Which message types the CLI prints, and the key columns of each in tables and CSV.

use super::render::{Cell, Column, View};
use crate::api;
use Cell::{Date, Decimal, Joined, Plain, Short, Time};

/// `Type => [HEADER = "field.path", HEADER = "field": Cell, ...]`: each column's header,
/// the field it shows and how (`Plain` unless given).
macro_rules! views {
    ($($ty:ident => [$($head:ident = $path:literal $(: $cell:expr)?),* $(,)?];)+) => {$(
        impl View for api::$ty {
            const FULL_NAME: &'static str = concat!("lcm.v1.", stringify!($ty));
            const COLUMNS: &'static [Column] = &[$(Column(stringify!($head), $path, cell!($($cell)?))),*];
        }
    )+};
}

macro_rules! cell {
    () => {
        Plain
    };
    ($cell:expr) => {
        $cell
    };
}

views! {
    Need => [ID = "id", STATE = "state", REQUESTER = "requester", CATEGORY = "category",
        CAPABILITY = "capability", PRIORITY = "priority", QTY = "quantity",
        WOMEN = "women_quantity", RESERVED = "reserved_quantity", DELIVERED = "delivered_quantity",
        NEEDED_BY = "needed_by": Date, TITLE = "title": Short(40)];
    Offer => [ID = "id", STATE = "state", ROLE = "role", PROVIDERS = "providers",
        CATEGORY = "category", CAPABILITY = "capability", MODE = "mode", CAPACITY = "capacity",
        RESERVED = "reserved_quantity", DELIVERED = "delivered_quantity",
        FROM = "available_from": Date, UNTIL = "available_until": Date, TITLE = "title": Short(40)];
    TrainingCentre => [ID = "id", HOST = "host_state", LANGUAGES = "languages",
        UN = "un_recognized", NAME = "name": Short(50), CAPABILITIES = "capabilities": Short(40)];
    Match => [ID = "id", STATE = "state", NEED = "need_id", QTY = "quantity",
        WOMEN = "women_quantity", PARTIES = "parties", TRIANGULAR = "triangular",
        OFFERS = "allocations.offer_id", FUNDERS = "allocations.funding_offer_id",
        SCORE = "score": Decimal];
    Allocation => [OFFER = "offer_id", FUNDING = "funding_offer_id", QTY = "quantity",
        WOMEN = "women_quantity", CENTRE = "training_centre_id"];
    Arrangement => [ID = "id", STATUS = "status", RECIPIENT = "recipient", PARTIES = "parties",
        TRIANGULAR = "triangular", CAPABILITY = "capability", QTY = "quantity",
        WOMEN = "women_quantity", OFFER = "allocation.offer_id",
        FUNDING = "allocation.funding_offer_id", CENTRE = "training_centre_id",
        START = "scheduled_start": Date, END = "scheduled_end": Date];
    Principal => [ID = "id", KIND = "kind", STATE = "member_state", CENTRE = "training_centre_id",
        REVOKED = "revoked", CREATED = "create_time": Date, NAME = "display_name": Short(50)];
    Event => [SEQ = "sequence", TIME = "time": Time, KIND = "kind", ACTOR = "actor",
        RESOURCE = "resource_id"];
    Candidate => [OFFER = "offer_id", COMPATIBLE = "compatible", REMAINING = "remaining_capacity",
        BLOCKERS = "blockers": Joined("; ")];
    GapRow => [KEY = "key", NEEDED = "needed", WOMEN_NEEDED = "women_needed",
        RESERVED = "reserved", DELIVERED = "delivered", OPEN = "open",
        CRITICAL_OPEN = "critical_open", OVERDUE = "overdue"];
    DeconflictionFinding => [RECIPIENT = "recipient", CATEGORY = "category",
        CAPABILITY = "capability", OVERLAP_START = "overlap_start": Date,
        OVERLAP_END = "overlap_end": Date, RESOURCES = "resource_ids", SUMMARY = "summary"];
    GenderRow => [REQUESTER = "requester", WOMEN_NEEDED = "women_needed",
        WOMEN_RESERVED = "women_reserved", WOMEN_TRAINED = "women_trained",
        SEATS_TOTAL = "seats_total", WOMEN_SHARE = "women_share": Decimal,
        TARGET_SHARE = "target_share": Decimal, BELOW_TARGET = "below_target"];
    CapacityRow => [REQUESTER = "requester", SEATS_DELIVERED = "seats_delivered",
        IN_COUNTRY = "in_country_seats", IN_COUNTRY_SHARE = "in_country_share": Decimal,
        TRAINERS = "trainers_qualified", NATIONAL_CENTRES = "national_centres",
        UN_RECOGNIZED = "un_recognized_centres", REPEAT_CAPABILITIES = "repeat_capabilities"];
    ReadinessRow => [STATUS = "status", NEED = "need_id", REQUESTER = "requester",
        CAPABILITY = "capability", PLEDGE = "pledge_level", NEEDED_BY = "needed_by",
        DAYS_LEFT = "days_left", OPEN = "open", COMPATIBLE_OFFERS = "compatible_offers"];
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

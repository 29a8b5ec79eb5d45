//! The stored resources: needs, offers, training centres, principals and events.
//!
//! A record is built only from validated values (see `convert.rs`), so these types
//! trust their fields. Derived figures (a need's state, open seats) are computed, never
//! stored, so they cannot disagree with the seat counters.

use super::types::*;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Microseconds since the Unix epoch (UTC).
pub type UnixMicros = i64;

pub const MICROS_PER_SECOND: i64 = 1_000_000;

/// The day an instant falls on.
pub fn day_of_micros(t: UnixMicros) -> Day {
    t.div_euclid(MICROS_PER_SECOND * SECONDS_PER_DAY)
}

/// A day as an ISO date, e.g. `2026-03-01` (proleptic Gregorian, UTC).
pub fn show_day(day: Day) -> String {
    // Clamp far outside any real date so the arithmetic below cannot overflow.
    let z = day.clamp(-1_000_000_000, 1_000_000_000) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// What kind of resource an id names; the id's text prefix.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum Kind {
    Need,
    Offer,
    Centre,
    Principal,
    Match,
    Arrangement,
}

impl Kind {
    pub const ALL: [Kind; 6] = [Kind::Need, Kind::Offer, Kind::Centre, Kind::Principal, Kind::Match, Kind::Arrangement];

    pub fn prefix(self) -> &'static str {
        match self {
            Kind::Need => "need",
            Kind::Offer => "offer",
            Kind::Centre => "centre",
            Kind::Principal => "principal",
            Kind::Match => "match",
            Kind::Arrangement => "arrangement",
        }
    }
}

/// A server-assigned id: a kind and a number, shown as `need-17`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct Id(pub u64);

impl Id {
    pub fn render(self, kind: Kind) -> String {
        format!("{}-{}", kind.prefix(), self.0)
    }

    /// Parses `text` as an id of `kind`; `None` for anything else.
    pub fn parse(kind: Kind, text: &str) -> Option<Id> {
        let rest = text.strip_prefix(kind.prefix())?.strip_prefix('-')?;
        if rest.is_empty() || rest.len() > 20 || !rest.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if rest.len() > 1 && rest.starts_with('0') {
            return None;
        }
        rest.parse().ok().map(Id)
    }
}

/// Bookkeeping every resource carries.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Meta {
    pub id: Id,
    /// Incremented on every write; the etag is derived from it.
    pub version: u64,
    pub create_time: UnixMicros,
    pub update_time: UnixMicros,
}

impl Meta {
    pub fn new(id: Id, now: UnixMicros) -> Meta {
        Meta { id, version: 1, create_time: now, update_time: now }
    }

    pub fn etag(&self) -> String {
        format!("W/\"{}\"", self.version)
    }

    /// The meta after one more write at `now`.
    pub fn touched(self, now: UnixMicros) -> Meta {
        Meta { version: self.version + 1, update_time: now.max(self.update_time), ..self }
    }
}

/// Seats held against a need or an offer by live (reserved) and completed (delivered)
/// arrangements.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct Seats {
    pub reserved: u32,
    pub reserved_women: u32,
    pub delivered: u32,
    pub delivered_women: u32,
}

impl Seats {
    pub fn consumed(&self) -> u32 {
        self.reserved.saturating_add(self.delivered)
    }

    pub fn consumed_women(&self) -> u32 {
        self.reserved_women.saturating_add(self.delivered_women)
    }

    pub fn any(&self) -> bool {
        self.consumed() > 0
    }
}

/// What a member state asks for; every field a client may set. `T` is how `needed_by` is
/// told: an instant in a record, whole days after the import instant in a scenario file.
/// A scenario file's need is read by these fields' names (`scenario::ScenarioNeed`), so
/// the names, `default` and the `needed_by_days` key are the file's; the store encodes
/// by position, which they do not touch.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct NeedSpec<T = UnixMicros> {
    pub requester: Alpha3,
    pub category: SupportCategory,
    pub capability: CapabilityArea,
    pub title: String,
    pub description: String,
    pub quantity: u32,
    pub women_quantity: u32,
    pub languages: Vec<Language>,
    #[serde(rename(deserialize = "needed_by_days"))]
    pub needed_by: T,
    pub priority: Priority,
    #[serde(default)]
    pub pledge_ref: String,
    pub pledge_level: Option<ReadinessLevel>,
    #[serde(default)]
    pub mission: String,
    pub accepted_modes: Vec<DeliveryMode>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum NeedState {
    Open,
    Fulfilled,
    Withdrawn,
}

#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Need {
    pub meta: Meta,
    pub spec: NeedSpec,
    pub withdrawn: bool,
    pub seats: Seats,
}

impl Need {
    pub fn open_seats(&self) -> u32 {
        self.spec.quantity.saturating_sub(self.seats.consumed())
    }

    pub fn state(&self) -> NeedState {
        if self.withdrawn {
            NeedState::Withdrawn
        } else if self.open_seats() == 0 {
            NeedState::Fulfilled
        } else {
            NeedState::Open
        }
    }
}

/// The delivery-only part of an offer.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct DeliveryTerms {
    pub languages: Vec<Language>,
    pub mode: DeliveryMode,
    /// Set exactly when `mode` is `AtTrainingCentre`.
    pub training_centre: Option<Id>,
    pub duration_days: u32,
    pub women_only: bool,
    pub requires_funding: bool,
}

/// An offer's role with the fields only that role has: a FUNDING offer cannot carry
/// delivery terms.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub enum OfferTerms {
    Delivery(DeliveryTerms),
    Funding,
}

impl OfferTerms {
    pub fn role(&self) -> OfferRole {
        match self {
            OfferTerms::Delivery(_) => OfferRole::Delivery,
            OfferTerms::Funding => OfferRole::Funding,
        }
    }

    pub fn delivery(&self) -> Option<&DeliveryTerms> {
        match self {
            OfferTerms::Delivery(d) => Some(d),
            OfferTerms::Funding => None,
        }
    }
}

#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct OfferSpec {
    /// At least one; the first is the lead.
    pub providers: Vec<Alpha3>,
    pub terms: OfferTerms,
    pub category: SupportCategory,
    pub capability: CapabilityArea,
    pub title: String,
    pub description: String,
    pub capacity: u32,
    pub available_from: UnixMicros,
    pub available_until: UnixMicros,
    pub eligible_recipients: Vec<Alpha3>,
    pub excluded_recipients: Vec<Alpha3>,
    pub max_per_recipient: u32,
}

impl OfferSpec {
    /// Whether `state` may receive from this offer by its recipient lists (providers are
    /// not checked here).
    pub fn admits(&self, state: Alpha3) -> bool {
        admitted(&self.eligible_recipients, &self.excluded_recipients, state)
    }
}

/// Whether recipient lists admit `state`: on the eligible list (empty = any) and not
/// excluded.
pub fn admitted(eligible: &[Alpha3], excluded: &[Alpha3], state: Alpha3) -> bool {
    (eligible.is_empty() || eligible.contains(&state)) && !excluded.contains(&state)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum OfferState {
    Open,
    Exhausted,
    Withdrawn,
}

impl OfferState {
    /// The state of an offer withdrawn or not, with `open_seats` left.
    pub fn of(withdrawn: bool, open_seats: u32) -> OfferState {
        if withdrawn {
            OfferState::Withdrawn
        } else if open_seats == 0 {
            OfferState::Exhausted
        } else {
            OfferState::Open
        }
    }
}

#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Offer {
    pub meta: Meta,
    pub spec: OfferSpec,
    pub withdrawn: bool,
    pub seats: Seats,
}

impl Offer {
    pub fn open_seats(&self) -> u32 {
        self.spec.capacity.saturating_sub(self.seats.consumed())
    }

    pub fn state(&self) -> OfferState {
        OfferState::of(self.withdrawn, self.open_seats())
    }
}

/// A need or an offer: filed by a member state, changed at its etag, withdrawn (never
/// deleted) by it.
pub trait Filing: Sized {
    const KIND: Kind;
    fn meta(&self) -> &Meta;
    fn is_withdrawn(&self) -> bool;
    /// This resource, withdrawn at `now`.
    fn withdrawn_at(self, now: UnixMicros) -> Self;
}

macro_rules! filing {
    ($($t:ident),*) => {$(
        impl Filing for $t {
            const KIND: Kind = Kind::$t;
            fn meta(&self) -> &Meta {
                &self.meta
            }
            fn is_withdrawn(&self) -> bool {
                self.withdrawn
            }
            fn withdrawn_at(self, now: UnixMicros) -> $t {
                $t { meta: self.meta.touched(now), withdrawn: true, ..self }
            }
        }
    )*};
}
filing!(Need, Offer);

#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct CentreSpec {
    pub name: String,
    pub host_state: Alpha3,
    pub languages: Vec<Language>,
    pub capabilities: Vec<CapabilityArea>,
    pub un_recognized: bool,
}

#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct TrainingCentre {
    pub meta: Meta,
    pub spec: CentreSpec,
}

/// Who a principal is, with the binding its kind requires.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum Role {
    Secretariat,
    MemberState(Alpha3),
    TrainingCentre(Id),
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Role::Secretariat => f.write_str("SECRETARIAT"),
            Role::MemberState(s) => write!(f, "MEMBER_STATE {s}"),
            Role::TrainingCentre(c) => write!(f, "TRAINING_CENTRE {}", c.render(Kind::Centre)),
        }
    }
}

#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Principal {
    pub meta: Meta,
    pub role: Role,
    pub display_name: String,
    pub revoked: bool,
    /// SHA-256 of the bearer token; the token itself is never stored.
    pub token_hash: [u8; 32],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_reject_other_kinds_and_junk() {
        let id = Id(17);
        assert_eq!(id.render(Kind::Need), "need-17");
        assert_eq!(Id::parse(Kind::Need, "need-17"), Some(id));
        for bad in ["offer-17", "need-", "need-017", "need-1x", "need17", "", "need--1"] {
            assert_eq!(Id::parse(Kind::Need, bad), None, "{bad}");
        }
        assert_eq!(Id::parse(Kind::Need, "need-99999999999999999999999"), None);
    }

    #[test]
    fn day_of_micros_floors() {
        assert_eq!(day_of_micros(86_400 * MICROS_PER_SECOND - 1), 0);
        assert_eq!(day_of_micros(86_400 * MICROS_PER_SECOND), 1);
    }
}

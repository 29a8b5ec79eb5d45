//! What the engine is given: plain values onto which the service maps its store records.
//!
//! Nothing here is trusted: figures may disagree (consumed above capacity, women seats
//! above quantity, ids repeated) and the engine must still answer without panicking. The
//! `open_*` helpers clamp such figures to what the seat rules of API.md allow.

use std::sync::Arc;

use crate::domain::{Alpha3, CapabilityArea, Day, DeliveryMode, Language, OfferRole, Priority, SupportCategory};

/// A short list kept inline (a few providers, recipients or languages): ExplainNeed and
/// the engine read these on every candidate pair, and a list behind its own pointer costs
/// a cache miss each time.
pub type Few<T> = smallvec::SmallVec<[T; 4]>;

/// One need as the engine sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NeedInput {
    pub id: String,
    pub requester: Alpha3,
    pub category: SupportCategory,
    pub capability: CapabilityArea,
    /// Seats or units asked for.
    pub quantity: u32,
    /// Seats of `quantity` to be filled by women.
    pub women_quantity: u32,
    /// Seats reserved plus delivered.
    pub consumed: u32,
    /// Women seats reserved plus delivered.
    pub consumed_women: u32,
    /// Accepted languages.
    pub languages: Vec<Language>,
    pub needed_by: Day,
    pub priority: Priority,
    /// Accepted delivery modes; empty = any.
    pub accepted_modes: Vec<DeliveryMode>,
    /// WITHDRAWN needs are never matched.
    pub withdrawn: bool,
}

impl NeedInput {
    /// Seats still open: quantity − consumed, never negative.
    pub fn open_seats(&self) -> u32 {
        self.quantity.saturating_sub(self.consumed)
    }

    /// Women seats still open, never more than the open seats.
    pub fn open_women_seats(&self) -> u32 {
        self.women_quantity.saturating_sub(self.consumed_women).min(self.open_seats())
    }
}

/// A registered training centre, as far as matching needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CentreRef {
    pub id: String,
    /// Display name used in reasons (may be empty).
    pub name: String,
    pub host_state: Alpha3,
}

/// The DELIVERY-only terms of an offer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryTerms {
    pub languages: Few<Language>,
    pub mode: DeliveryMode,
    /// Set iff `mode` is AT_TRAINING_CENTRE. Shared: every offer at a centre names the same.
    pub training_centre: Option<Arc<CentreRef>>,
    /// At least 1 (a smaller value is treated as 1).
    pub duration_days: i64,
    pub women_only: bool,
    pub requires_funding: bool,
}

/// One offer (DELIVERY or FUNDING) as the engine sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfferInput {
    pub id: String,
    /// Display title used in reasons (may be empty). Shared with whoever made the input, so
    /// copying an offer's input copies no text but its id.
    pub title: Arc<str>,
    /// First is the lead.
    pub providers: Few<Alpha3>,
    pub role: OfferRole,
    pub category: SupportCategory,
    pub capability: CapabilityArea,
    /// Seats or units given (DELIVERY) or seats funded (FUNDING).
    pub capacity: u32,
    /// Seats reserved plus delivered.
    pub consumed: u32,
    pub available_from: Day,
    pub available_until: Day,
    /// Empty = any member state.
    pub eligible_recipients: Few<Alpha3>,
    pub excluded_recipients: Few<Alpha3>,
    /// 0 = no cap.
    pub max_per_recipient: u32,
    /// `Some` for DELIVERY offers; ignored on FUNDING offers. A DELIVERY offer without
    /// terms is treated as unable to deliver (it gets a blocker, never seats).
    pub delivery: Option<DeliveryTerms>,
    /// WITHDRAWN offers are never matched nor explained.
    pub withdrawn: bool,
}

impl OfferInput {
    /// Seats still open: capacity − consumed, never negative.
    pub fn open_seats(&self) -> u32 {
        self.capacity.saturating_sub(self.consumed)
    }

    /// The delivery terms when this is a DELIVERY offer that has them.
    pub fn delivery_terms(&self) -> Option<&DeliveryTerms> {
        match self.role {
            OfferRole::Delivery => self.delivery.as_ref(),
            OfferRole::Funding => None,
        }
    }

    /// The course length in days (at least 1).
    pub fn duration_days(&self) -> i64 {
        self.delivery_terms().map_or(1, |d| d.duration_days.max(1))
    }

    /// Whether this DELIVERY offer needs a FUNDING offer for each seat.
    pub fn requires_funding(&self) -> bool {
        self.delivery_terms().is_some_and(|d| d.requires_funding)
    }

    /// Whether this DELIVERY offer fills only women seats.
    pub fn women_only(&self) -> bool {
        self.delivery_terms().is_some_and(|d| d.women_only)
    }

    /// The host state of the offer's centre, if any.
    pub fn host_state(&self) -> Option<Alpha3> {
        self.delivery_terms().and_then(|d| d.training_centre.as_ref()).map(|c| c.host_state)
    }
}

/// Seats already reserved or delivered by one offer to one recipient (over all that
/// recipient's needs); counts against `max_per_recipient`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecipientConsumption {
    pub offer_id: String,
    pub recipient: Alpha3,
    pub seats: u32,
}

/// A (need, offer) pair barred by a remembered refusal (RejectMatch or a refused consent),
/// for DELIVERY and FUNDING offers alike.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct BarredPair {
    pub need_id: String,
    pub offer_id: String,
}

/// Everything one ProposeMatches (or ExplainNeed) call needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MatchInput {
    /// "today" of the delivery window.
    pub today: Day,
    pub needs: Vec<NeedInput>,
    pub offers: Vec<OfferInput>,
    pub recipient_consumption: Vec<RecipientConsumption>,
    pub barred: Vec<BarredPair>,
    /// Capabilities to match; empty = all. ExplainNeed ignores it.
    pub capabilities: Vec<CapabilityArea>,
}

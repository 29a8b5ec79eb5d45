//! Who may read and change what: API.md's permission and visibility rules, in one place.
//!
//! Handlers ask these functions; a resource the caller may not read is reported as
//! NOT_FOUND by the caller of [`Caller::can_read_need`] and friends, so nobody learns
//! that it exists.

use super::events::{Event, EventResource};
use super::records::*;
use super::types::Alpha3;
use super::workflow::{Arrangement, Match};

/// The authenticated principal behind a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub principal_id: String,
    pub role: Role,
}

impl Caller {
    pub fn is_secretariat(&self) -> bool {
        matches!(self.role, Role::Secretariat)
    }

    pub fn state(&self) -> Option<Alpha3> {
        match self.role {
            Role::MemberState(s) => Some(s),
            _ => None,
        }
    }

    pub fn can_read_need(&self, need: &Need) -> bool {
        match self.role {
            Role::Secretariat => true,
            Role::MemberState(s) => need.spec.requester == s,
            Role::TrainingCentre(_) => false,
        }
    }

    /// A state reads offers it provides and OPEN offers it is eligible for. (It also reads
    /// the offers it is a party to, which takes the store: `service::offers::may_read_offer`.)
    pub fn can_read_offer(&self, offer: &Offer) -> bool {
        match self.role {
            Role::Secretariat => true,
            Role::MemberState(s) => {
                offer.spec.providers.contains(&s) || (offer.state() == OfferState::Open && offer.spec.admits(s))
            }
            Role::TrainingCentre(_) => false,
        }
    }

    /// A state changes needs it requests (the Secretariat any need).
    pub fn can_write_need(&self, need: &NeedSpec) -> bool {
        match self.role {
            Role::Secretariat => true,
            Role::MemberState(s) => need.requester == s,
            Role::TrainingCentre(_) => false,
        }
    }

    /// Any state among an offer's providers may act on it.
    pub fn can_write_offer(&self, offer: &OfferSpec) -> bool {
        match self.role {
            Role::Secretariat => true,
            Role::MemberState(s) => offer.providers.contains(&s),
            Role::TrainingCentre(_) => false,
        }
    }

    /// Whether the caller may see an event, judged on the resource it carries.
    pub fn can_read_event(&self, event: &Event) -> bool {
        match &event.resource {
            EventResource::Need(n) => self.can_read_need(n),
            EventResource::Offer(o) => self.can_read_offer(o),
            EventResource::Centre(_) => true,
            EventResource::Principal(_) => self.is_secretariat(),
            EventResource::Match(m) => self.can_read_match(m),
            EventResource::Arrangement(a) => self.can_read_arrangement(a),
        }
    }

    /// The Secretariat and the match's parties.
    pub fn can_read_match(&self, m: &Match) -> bool {
        match self.role {
            Role::Secretariat => true,
            Role::MemberState(s) => m.parties.contains(&s),
            Role::TrainingCentre(_) => false,
        }
    }

    /// Who may start and complete a delivery and record its outcome: the hosting centre,
    /// a delivering party, or the Secretariat.
    pub fn is_delivery_team(&self, a: &Arrangement) -> bool {
        match self.role {
            Role::Secretariat => true,
            Role::MemberState(s) => a.delivering.contains(&s),
            Role::TrainingCentre(c) => a.allocation.training_centre == Some(c),
        }
    }

    /// The Secretariat, the parties, and the centre that hosts it.
    pub fn can_read_arrangement(&self, a: &Arrangement) -> bool {
        match self.role {
            Role::Secretariat => true,
            Role::MemberState(s) => a.is_party(s),
            Role::TrainingCentre(c) => a.allocation.training_centre == Some(c),
        }
    }
}

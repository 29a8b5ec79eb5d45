//! Who may read and change what: API.md's permission and visibility rules, in one place.
//!
//! Handlers ask these functions; a resource the caller may not read is reported as
//! NOT_FOUND by the caller of [`Caller::can_read_need`] and friends, so nobody learns
//! that it exists.

use super::events::{Event, EventResource};
use super::records::*;
use super::refusal::Refusal;
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

    /// Methods only the Secretariat calls (API.md: admin, approvals, centres' registration).
    pub fn require_secretariat(&self) -> Result<(), Refusal> {
        if self.is_secretariat() {
            Ok(())
        } else {
            Err(Refusal::Denied("only the Secretariat may call this method".into()))
        }
    }

    /// Refuses a training centre, saying `why`, where the method never allows one.
    pub fn refuse_centres(&self, why: &str) -> Result<(), Refusal> {
        match self.role {
            Role::TrainingCentre(_) => Err(Refusal::Denied(why.into())),
            _ => Ok(()),
        }
    }

    /// What a NeedService request's body may say (API.md): a state names only itself as
    /// `requester` (and must name itself when `creating`) and never sets CRITICAL
    /// (`sets_critical`); centres never call NeedService.
    pub fn may_file_need(&self, requester: &str, creating: bool, sets_critical: bool) -> Result<(), Refusal> {
        match self.role {
            Role::Secretariat => Ok(()),
            Role::TrainingCentre(_) => Err(Refusal::Denied("training centres cannot call NeedService".into())),
            Role::MemberState(own) => {
                if !requester.is_empty() && requester != own.as_str() {
                    return Err(Refusal::Denied(format!("{own} cannot act for {requester}")));
                }
                if sets_critical {
                    return Err(Refusal::Denied("only the Secretariat sets CRITICAL priority".into()));
                }
                if creating && requester.is_empty() {
                    return Err(Refusal::Denied(format!("{own} must name itself as requester")));
                }
                Ok(())
            }
        }
    }

    /// What an OfferService request's body may say: a state acts only on offers it
    /// provides (`providers`, empty when the request names none) and lists itself when
    /// `creating`; centres never call OfferService.
    pub fn may_file_offer(&self, providers: &[String], creating: bool) -> Result<(), Refusal> {
        match self.role {
            Role::Secretariat => Ok(()),
            Role::TrainingCentre(_) => Err(Refusal::Denied("training centres cannot call OfferService".into())),
            Role::MemberState(own) => {
                if !providers.is_empty() && !providers.iter().any(|p| p == own.as_str()) {
                    return Err(Refusal::Denied(format!("{own} is not among the offer's providers")));
                }
                if creating && providers.is_empty() {
                    return Err(Refusal::Denied("a state must list itself among the providers".into()));
                }
                Ok(())
            }
        }
    }

    /// The state that gives or refuses its consent to an arrangement (RespondToArrangement):
    /// only a state may; whether it is a party the command checks.
    pub fn consenting_state(&self) -> Result<Alpha3, Refusal> {
        self.state().ok_or_else(|| Refusal::Denied("only a party state gives or refuses its consent".into()))
    }

    /// Who moves an arrangement's delivery (start, complete): [`Caller::is_delivery_team`].
    pub fn may_deliver(&self, a: &Arrangement) -> Result<(), Refusal> {
        if self.is_delivery_team(a) {
            Ok(())
        } else {
            Err(Refusal::Denied("only the hosting centre, a delivering party or the Secretariat may do this".into()))
        }
    }

    /// Who records an arrangement's outcome: [`Caller::is_delivery_team`].
    pub fn may_record_outcome(&self, a: &Arrangement) -> Result<(), Refusal> {
        if self.is_delivery_team(a) {
            Ok(())
        } else {
            Err(Refusal::Denied(
                "only the hosting centre, a delivering party or the Secretariat record outcomes".into(),
            ))
        }
    }

    /// Who may change a stored need: its requester or the Secretariat.
    pub fn may_change_need(&self, need: &Need) -> Result<(), Refusal> {
        match self.role {
            Role::Secretariat => Ok(()),
            Role::MemberState(s) if need.spec.requester == s => Ok(()),
            _ => Err(Refusal::Denied("only the need's requester or the Secretariat may change it".into())),
        }
    }

    /// Who may change a stored offer: any of its providers or the Secretariat.
    pub fn may_change_offer(&self, offer: &Offer) -> Result<(), Refusal> {
        match self.role {
            Role::Secretariat => Ok(()),
            Role::MemberState(s) if offer.spec.providers.contains(&s) => Ok(()),
            _ => Err(Refusal::Denied("only the offer's providers or the Secretariat may change it".into())),
        }
    }

    /// API.md's visibility of offers: [`Caller::can_read_offer`], and for a state the
    /// offers it is a party to: those of the matches (and so of the arrangements) it is a
    /// party to, whatever the offer's state or eligibility now. A recipient keeps reading
    /// the offer its seats come from after the offer is exhausted, and a funder reads the
    /// delivery offer it pays for. `party_to` answers whether a state is a party to a match
    /// drawing on the offer (the store knows).
    pub fn may_read_offer<E>(
        &self,
        offer: &Offer,
        party_to: impl FnOnce(Alpha3) -> Result<bool, E>,
    ) -> Result<bool, E> {
        if self.can_read_offer(offer) {
            return Ok(true);
        }
        match self.state() {
            Some(state) => party_to(state),
            None => Ok(false),
        }
    }

    /// A state reads offers it provides and OPEN offers it is eligible for (see also
    /// [`Caller::may_read_offer`]).
    pub fn can_read_offer(&self, offer: &Offer) -> bool {
        self.can_read_offer_face(&OfferFace {
            providers: &offer.spec.providers,
            open: offer.state() == OfferState::Open,
            eligible: &offer.spec.eligible_recipients,
            excluded: &offer.spec.excluded_recipients,
        })
    }

    /// [`Caller::can_read_offer`] on what the rule looks at of an offer, wherever that
    /// comes from (ExplainNeed judges its candidates on the matching view's copy).
    pub fn can_read_offer_face(&self, offer: &OfferFace<'_>) -> bool {
        match self.role {
            Role::Secretariat => true,
            Role::MemberState(s) => {
                offer.providers.contains(&s) || (offer.open && admitted(offer.eligible, offer.excluded, s))
            }
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
            Role::MemberState(s) => m.terms.parties.contains(&s),
            Role::TrainingCentre(_) => false,
        }
    }

    /// Who may start and complete a delivery and record its outcome: the hosting centre,
    /// a delivering party, or the Secretariat.
    fn is_delivery_team(&self, a: &Arrangement) -> bool {
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

#[cfg(test)]
#[path = "access_tests.rs"]
mod tests;

/// What API.md's offer read rule looks at ([`Caller::can_read_offer_face`]): the
/// providers, whether the offer is OPEN, and its recipient lists.
pub struct OfferFace<'a> {
    pub providers: &'a [Alpha3],
    pub open: bool,
    pub eligible: &'a [Alpha3],
    pub excluded: &'a [Alpha3],
}

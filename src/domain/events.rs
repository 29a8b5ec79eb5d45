//! The audit log's entries: what changed ([`EventKind`]), the resource as it was after the
//! change ([`EventResource`]), who and when ([`Event`]).

use super::records::*;
use super::workflow::{Arrangement, Match, MatchState};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum EventKind {
    NeedCreated,
    NeedUpdated,
    NeedWithdrawn,
    OfferCreated,
    OfferUpdated,
    OfferWithdrawn,
    CentreRegistered,
    MatchProposed,
    MatchApproved,
    MatchRejected,
    MatchStale,
    ArrangementChanged,
    OutcomeRecorded,
    PrincipalChanged,
    CentreUpdated,
    /// Recorded by the server (actor `system`) when a need enters the at-risk set of the
    /// readiness report.
    NeedAtRisk,
}

impl EventKind {
    /// The match as it was right after an event of this kind about it, where that can be
    /// rendered from the match as it is now (`m`): after its proposal
    /// ([`Match::as_proposed`]) and after it turned STALE (a STALE match never changes
    /// again: only a PROPOSED one is approved, rejected or turned STALE). The event log
    /// names such matches instead of copying them.
    pub fn match_after(self, m: &Match) -> Option<Match> {
        match self {
            EventKind::MatchProposed => Some(m.as_proposed()),
            EventKind::MatchStale if m.state == MatchState::Stale => Some(m.clone()),
            _ => None,
        }
    }
}

/// The resource an event carries, as it was after the change.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub enum EventResource {
    Need(Need),
    Offer(Offer),
    Centre(TrainingCentre),
    Principal(Principal),
    Match(Match),
    Arrangement(Arrangement),
}

impl EventResource {
    pub fn resource_id(&self) -> String {
        match self {
            EventResource::Need(n) => n.meta.id.render(Kind::Need),
            EventResource::Offer(o) => o.meta.id.render(Kind::Offer),
            EventResource::Centre(c) => c.meta.id.render(Kind::Centre),
            EventResource::Principal(p) => p.meta.id.render(Kind::Principal),
            EventResource::Match(m) => m.meta.id.render(Kind::Match),
            EventResource::Arrangement(a) => a.meta.id.render(Kind::Arrangement),
        }
    }
}

/// One entry of the audit log. `sequence` is gapless from 1.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Event {
    pub sequence: u64,
    pub kind: EventKind,
    pub time: UnixMicros,
    pub actor: String,
    pub resource: EventResource,
}

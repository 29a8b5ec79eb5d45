//! The enum mappings, both directions, one table each; lists of enum values.

use super::Violations;
use crate::api as pb;
use crate::domain::*;

macro_rules! enum_map {
    ($to_domain:ident, $to_proto:ident, $domain:ty, $proto:ty, { $($d:ident => $p:ident),+ $(,)? }) => {
        pub fn $to_domain(v: i32) -> Option<$domain> {
            match <$proto>::try_from(v).ok()? {
                $(<$proto>::$p => Some(<$domain>::$d),)+
                _ => None,
            }
        }
        pub fn $to_proto(v: $domain) -> i32 {
            match v { $(<$domain>::$d => <$proto>::$p as i32),+ }
        }
    };
}

enum_map!(category_from, category_to, SupportCategory, pb::SupportCategory, {
    Training => Training, Equipment => Equipment, Mentoring => Mentoring,
    AdviseAndAssist => AdviseAndAssist, Infrastructure => Infrastructure, Logistics => Logistics,
});
enum_map!(capability_from, capability_to, CapabilityArea, pb::CapabilityArea, {
    Engineering => Engineering, Medical => Medical, CounterIed => CounterIed, Aviation => Aviation,
    SignalsC4isr => SignalsC4isr, CampSecurity => CampSecurity, RapidReaction => RapidReaction,
    SituationalAwareness => SituationalAwareness, FormedPoliceUnit => FormedPoliceUnit,
    IndividualPolice => IndividualPolice, ProtectionOfCivilians => ProtectionOfCivilians,
    ConductAndDiscipline => ConductAndDiscipline, StaffAndObservers => StaffAndObservers,
    Language => Language, TrainingOfTrainers => TrainingOfTrainers,
});
enum_map!(priority_from, priority_to, Priority, pb::Priority, {
    Routine => Routine, High => High, Critical => Critical,
});
enum_map!(level_from, level_to, ReadinessLevel, pb::ReadinessLevel, {
    Level1 => Level1, Level2 => Level2, Level3 => Level3, RapidDeployment => RapidDeployment,
});
enum_map!(mode_from, mode_to, DeliveryMode, pb::DeliveryMode, {
    MobileTrainingTeam => MobileTrainingTeam, AtProvider => AtProvider,
    AtTrainingCentre => AtTrainingCentre, Remote => Remote,
});
enum_map!(role_from, role_to, OfferRole, pb::OfferRole, { Delivery => Delivery, Funding => Funding });
enum_map!(need_state_from, need_state_to, NeedState, pb::NeedState, {
    Open => Open, Fulfilled => Fulfilled, Withdrawn => Withdrawn,
});
enum_map!(offer_state_from, offer_state_to, OfferState, pb::OfferState, {
    Open => Open, Exhausted => Exhausted, Withdrawn => Withdrawn,
});
enum_map!(event_kind_from, event_kind_to, EventKind, pb::EventKind, {
    NeedCreated => NeedCreated, NeedUpdated => NeedUpdated, NeedWithdrawn => NeedWithdrawn,
    OfferCreated => OfferCreated, OfferUpdated => OfferUpdated, OfferWithdrawn => OfferWithdrawn,
    CentreRegistered => CentreRegistered, MatchProposed => MatchProposed,
    MatchApproved => MatchApproved, MatchRejected => MatchRejected, MatchStale => MatchStale,
    ArrangementChanged => ArrangementChanged, OutcomeRecorded => OutcomeRecorded,
    PrincipalChanged => PrincipalChanged, CentreUpdated => CentreUpdated, NeedAtRisk => NeedAtRisk,
});

/// Parses a list of enum values, each checked, no repeats. A list longer than the
/// `known` values it may hold is refused whole (one violation, not one per element).
fn enum_list<T: Copy + PartialEq>(
    v: &mut Violations,
    field: &str,
    values: &[i32],
    known: usize,
    map: impl Fn(i32) -> Option<T>,
) -> Vec<T> {
    if values.len() > known {
        v.add(field, format!("must list at most {known} distinct values"));
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, raw) in values.iter().enumerate() {
        let path = format!("{field}[{i}]");
        match v.enum_value(&path, *raw, &map) {
            Some(x) if out.contains(&x) => v.add(path, "is listed twice"),
            Some(x) => out.push(x),
            None => {}
        }
    }
    out
}

pub fn modes_from(v: &mut Violations, field: &str, values: &[i32]) -> Vec<DeliveryMode> {
    enum_list(v, field, values, DeliveryMode::ALL.len(), mode_from)
}

pub fn capabilities_from(v: &mut Violations, field: &str, values: &[i32]) -> Vec<CapabilityArea> {
    enum_list(v, field, values, CapabilityArea::ALL.len(), capability_from)
}

/// The number of `EventKind` values: the wire values that name one (the API numbers
/// them from 1; 255 leaves room for every kind it will add).
pub(super) fn event_kinds() -> usize {
    static COUNT: std::sync::LazyLock<usize> =
        std::sync::LazyLock::new(|| (1..=255).filter(|v| event_kind_from(*v).is_some()).count());
    *COUNT
}

pub fn event_kinds_from(v: &mut Violations, field: &str, values: &[i32]) -> Vec<EventKind> {
    enum_list(v, field, values, event_kinds(), event_kind_from)
}

enum_map!(match_state_from, match_state_to, MatchState, pb::MatchState, {
    Proposed => Proposed, Approved => Approved, Rejected => Rejected, Stale => Stale,
});
enum_map!(status_from, status_to, ArrangementStatus, pb::ArrangementStatus, {
    PendingConsent => PendingConsent, Agreed => Agreed, Scheduled => Scheduled,
    InDelivery => InDelivery, Completed => Completed, Declined => Declined, Cancelled => Cancelled,
});
enum_map!(consent_from, consent_to, ConsentDecision, pb::ConsentDecision, {
    Pending => Pending, Accepted => Accepted, Refused => Refused,
});

//! The boundary between protobuf and the domain: proto → domain with validation (every
//! bad field collected as a scoped field violation), and domain → proto.
//!
//! Nothing past this module sees an unvalidated value. Bounds are documented in README
//! ("Limits") and enforced here.

use crate::api as pb;
use crate::domain::*;
use crate::error::{AppError, FieldViolation};
use prost_types::Timestamp;

/// Documented bounds on request content.
pub mod limits {
    pub const MAX_QUANTITY: u32 = 100_000;
    pub const MAX_TITLE_CHARS: usize = 200;
    pub const MAX_DESCRIPTION_CHARS: usize = 4_000;
    pub const MAX_SHORT_TEXT_CHARS: usize = 100;
    pub const MAX_NOTE_CHARS: usize = 2_000;
    pub const MAX_LANGUAGES: usize = 20;
    pub const MAX_PROVIDERS: usize = 10;
    pub const MAX_RECIPIENT_LIST: usize = 193;
    pub const MAX_DURATION_DAYS: u32 = 3_650;
    pub const MAX_YEARS_AHEAD_DAYS: i64 = 3_653;
    pub const MAX_REQUEST_ID_CHARS: usize = 64;
    pub const MAX_UPDATE_MASK_PATHS: usize = 32;
    pub const MAX_PAGE_SIZE: i32 = 500;
    pub const DEFAULT_PAGE_SIZE: i32 = 50;
}

/// Collects the violations of one request.
#[derive(Default)]
pub struct Violations(pub Vec<FieldViolation>);

impl Violations {
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation::new(field, description));
    }

    /// `Ok(value)` when nothing was reported, else every violation at once.
    pub fn finish<T>(self, value: T) -> Result<T, AppError> {
        if self.0.is_empty() { Ok(value) } else { Err(AppError::InvalidArgument(self.0)) }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Checks a piece of text: length in characters and no control characters (newlines
    /// and tabs allowed only where `multiline`).
    pub fn text(&mut self, field: &str, value: &str, min: usize, max: usize, multiline: bool) {
        let chars = value.chars().count();
        if chars < min {
            self.add(field, format!("must have at least {min} character(s)"));
        } else if chars > max {
            self.add(field, format!("must have at most {max} characters (has {chars})"));
        } else if value.chars().any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\t' || c == '\r'))) {
            self.add(field, "must not contain control characters");
        }
    }

    pub fn state(&mut self, field: &str, value: &str) -> Option<Alpha3> {
        match value.parse() {
            Ok(s) => Some(s),
            Err(e) => {
                self.add(field, e);
                None
            }
        }
    }

    /// A list of distinct member states, each checked.
    pub fn states(&mut self, field: &str, values: &[String], min: usize, max: usize) -> Vec<Alpha3> {
        if values.len() < min {
            self.add(field, format!("must list at least {min} state(s)"));
        }
        if values.len() > max {
            self.add(field, format!("must list at most {max} states"));
            return Vec::new();
        }
        let mut out = Vec::with_capacity(values.len());
        for (i, v) in values.iter().enumerate() {
            let path = format!("{field}[{i}]");
            if let Some(s) = self.state(&path, v) {
                if out.contains(&s) {
                    self.add(path, format!("{s} is listed twice"));
                } else {
                    out.push(s);
                }
            }
        }
        out
    }

    pub fn languages(&mut self, field: &str, values: &[String], min: usize) -> Vec<Language> {
        if values.len() < min {
            self.add(field, format!("must list at least {min} language(s)"));
        }
        if values.len() > limits::MAX_LANGUAGES {
            self.add(field, format!("must list at most {} languages", limits::MAX_LANGUAGES));
            return Vec::new();
        }
        let mut out = Vec::with_capacity(values.len());
        for (i, v) in values.iter().enumerate() {
            let path = format!("{field}[{i}]");
            match v.parse::<Language>() {
                Ok(l) if out.contains(&l) => self.add(path, format!("{l} is listed twice")),
                Ok(l) => out.push(l),
                Err(e) => self.add(path, e),
            }
        }
        out
    }

    pub fn quantity(&mut self, field: &str, value: u32, min: u32) -> u32 {
        if value < min || value > limits::MAX_QUANTITY {
            self.add(field, format!("must be between {min} and {}", limits::MAX_QUANTITY));
        }
        value
    }

    /// A timestamp within sane bounds (years 1970..=9999), as microseconds.
    pub fn time(&mut self, field: &str, ts: Option<&Timestamp>) -> Option<UnixMicros> {
        let Some(ts) = ts else {
            self.add(field, "is required");
            return None;
        };
        const MAX_SECONDS: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
        if ts.seconds < 0 || ts.seconds > MAX_SECONDS || !(0..1_000_000_000).contains(&ts.nanos) {
            self.add(field, "must be a valid time between 1970 and 9999");
            return None;
        }
        Some(ts.seconds * MICROS_PER_SECOND + i64::from(ts.nanos) / 1_000)
    }

    /// A required enum: 0 (UNSPECIFIED) and unknown numbers are refused.
    pub fn enum_value<T: Copy>(&mut self, field: &str, value: i32, map: impl Fn(i32) -> Option<T>) -> Option<T> {
        if value == 0 {
            self.add(field, "is required (UNSPECIFIED is not a valid value)");
            return None;
        }
        let out = map(value);
        if out.is_none() {
            self.add(field, format!("{value} is not a known value"));
        }
        out
    }
}

pub fn timestamp(t: UnixMicros) -> Timestamp {
    Timestamp { seconds: t.div_euclid(MICROS_PER_SECOND), nanos: (t.rem_euclid(MICROS_PER_SECOND) * 1_000) as i32 }
}

// ---- enum mappings (both directions, one table each) ----

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
fn event_kinds() -> usize {
    static COUNT: std::sync::LazyLock<usize> =
        std::sync::LazyLock::new(|| (1..=255).filter(|v| event_kind_from(*v).is_some()).count());
    *COUNT
}

pub fn event_kinds_from(v: &mut Violations, field: &str, values: &[i32]) -> Vec<EventKind> {
    enum_list(v, field, values, event_kinds(), event_kind_from)
}

/// The checks on a date relative to now, given as what to enforce.
#[derive(Clone, Copy)]
pub struct Clock {
    pub now: UnixMicros,
}

impl Clock {
    pub fn horizon(&self) -> UnixMicros {
        self.now + limits::MAX_YEARS_AHEAD_DAYS * SECONDS_PER_DAY * MICROS_PER_SECOND
    }
}

/// proto Need → NeedSpec. `prefix` scopes field paths (`need`); `needed_by_must_be_future`
/// is set on create and when an update changes the date.
pub fn need_spec(
    p: &pb::Need,
    prefix: &str,
    clock: Clock,
    needed_by_must_be_future: bool,
) -> Result<NeedSpec, AppError> {
    let mut v = Violations::default();
    let f = |name: &str| format!("{prefix}.{name}");
    let requester = v.state(&f("requester"), &p.requester);
    let category = v.enum_value(&f("category"), p.category, category_from);
    let capability = v.enum_value(&f("capability"), p.capability, capability_from);
    v.text(&f("title"), &p.title, 1, limits::MAX_TITLE_CHARS, false);
    v.text(&f("description"), &p.description, 0, limits::MAX_DESCRIPTION_CHARS, true);
    let quantity = v.quantity(&f("quantity"), p.quantity, 1);
    if p.women_quantity > p.quantity {
        v.add(f("women_quantity"), "must not exceed quantity");
    } else if let Some(c) = category {
        if p.women_quantity > 0 && !c.has_women_seats() {
            v.add(
                f("women_quantity"),
                format!(
                    "must be 0 for {c} needs (women seats exist only in TRAINING, MENTORING and ADVISE_AND_ASSIST)"
                ),
            );
        }
    }
    let languages = v.languages(&f("languages"), &p.languages, 1);
    let needed_by = v.time(&f("needed_by"), p.needed_by.as_ref());
    if let Some(t) = needed_by {
        if needed_by_must_be_future && t <= clock.now {
            v.add(f("needed_by"), "must be in the future");
        }
        if t > clock.horizon() {
            v.add(f("needed_by"), "must be at most 10 years ahead");
        }
    }
    let priority = v.enum_value(&f("priority"), p.priority, priority_from);
    v.text(&f("pledge_ref"), &p.pledge_ref, 0, limits::MAX_SHORT_TEXT_CHARS, false);
    let pledge_level =
        if p.pledge_level == 0 { None } else { v.enum_value(&f("pledge_level"), p.pledge_level, level_from) };
    v.text(&f("mission"), &p.mission, 0, 40, false);
    let accepted_modes = modes_from(&mut v, &f("accepted_modes"), &p.accepted_modes);
    match (requester, category, capability, needed_by, priority) {
        (Some(requester), Some(category), Some(capability), Some(needed_by), Some(priority)) if v.is_empty() => {
            Ok(NeedSpec {
                requester,
                category,
                capability,
                title: p.title.clone(),
                description: p.description.clone(),
                quantity,
                women_quantity: p.women_quantity,
                languages,
                needed_by,
                priority,
                pledge_ref: p.pledge_ref.clone(),
                pledge_level,
                mission: p.mission.clone(),
                accepted_modes,
            })
        }
        _ => Err(AppError::InvalidArgument(v.0)),
    }
}

pub fn need_to_proto(n: &Need) -> pb::Need {
    let s = &n.spec;
    pb::Need {
        id: n.meta.id.render(Kind::Need),
        etag: n.meta.etag(),
        create_time: Some(timestamp(n.meta.create_time)),
        update_time: Some(timestamp(n.meta.update_time)),
        requester: s.requester.to_string(),
        category: category_to(s.category),
        capability: capability_to(s.capability),
        title: s.title.clone(),
        description: s.description.clone(),
        quantity: s.quantity,
        women_quantity: s.women_quantity,
        languages: s.languages.iter().map(|l| l.to_string()).collect(),
        needed_by: Some(timestamp(s.needed_by)),
        priority: priority_to(s.priority),
        pledge_ref: s.pledge_ref.clone(),
        pledge_level: s.pledge_level.map_or(0, level_to),
        mission: s.mission.clone(),
        accepted_modes: s.accepted_modes.iter().map(|m| mode_to(*m)).collect(),
        state: need_state_to(n.state()),
        reserved_quantity: n.seats.reserved,
        reserved_women_quantity: n.seats.reserved_women,
        delivered_quantity: n.seats.delivered,
    }
}

/// proto Offer → OfferSpec. `centre_exists` answers whether a training centre id is
/// registered, so a dangling reference is reported with the other violations.
pub fn offer_spec(
    p: &pb::Offer,
    prefix: &str,
    clock: Clock,
    centre_exists: &dyn Fn(Id) -> bool,
) -> Result<OfferSpec, AppError> {
    let mut v = Violations::default();
    let f = |name: &str| format!("{prefix}.{name}");
    let providers = v.states(&f("providers"), &p.providers, 1, limits::MAX_PROVIDERS);
    let role = v.enum_value(&f("role"), p.role, role_from);
    let category = v.enum_value(&f("category"), p.category, category_from);
    let capability = v.enum_value(&f("capability"), p.capability, capability_from);
    v.text(&f("title"), &p.title, 1, limits::MAX_TITLE_CHARS, false);
    v.text(&f("description"), &p.description, 0, limits::MAX_DESCRIPTION_CHARS, true);
    let capacity = v.quantity(&f("capacity"), p.capacity, 1);
    let from = v.time(&f("available_from"), p.available_from.as_ref());
    let until = v.time(&f("available_until"), p.available_until.as_ref());
    if let (Some(a), Some(b)) = (from, until) {
        if a > b {
            v.add(f("available_until"), "must not be before available_from");
        }
        if b > clock.horizon() {
            v.add(f("available_until"), "must be at most 10 years ahead");
        }
    }
    let eligible = v.states(&f("eligible_recipients"), &p.eligible_recipients, 0, limits::MAX_RECIPIENT_LIST);
    let excluded = v.states(&f("excluded_recipients"), &p.excluded_recipients, 0, limits::MAX_RECIPIENT_LIST);
    if p.max_per_recipient > limits::MAX_QUANTITY {
        v.add(f("max_per_recipient"), format!("must be at most {}", limits::MAX_QUANTITY));
    }
    let terms = match role {
        Some(OfferRole::Delivery) => {
            let languages = v.languages(&f("languages"), &p.languages, 1);
            let mode = v.enum_value(&f("mode"), p.mode, mode_from);
            let centre = if p.training_centre_id.is_empty() {
                if mode == Some(DeliveryMode::AtTrainingCentre) {
                    v.add(f("training_centre_id"), "is required when mode is AT_TRAINING_CENTRE");
                }
                None
            } else if mode != Some(DeliveryMode::AtTrainingCentre) {
                v.add(f("training_centre_id"), "must be empty unless mode is AT_TRAINING_CENTRE");
                None
            } else {
                match Id::parse(Kind::Centre, &p.training_centre_id).filter(|id| centre_exists(*id)) {
                    Some(id) => Some(id),
                    None => {
                        v.add(
                            f("training_centre_id"),
                            format!("no training centre {:?} is registered", p.training_centre_id),
                        );
                        None
                    }
                }
            };
            if p.duration_days < 1 || p.duration_days > limits::MAX_DURATION_DAYS {
                v.add(f("duration_days"), format!("must be between 1 and {}", limits::MAX_DURATION_DAYS));
            }
            if p.women_only {
                if let Some(c) = category.filter(|c| !c.has_women_seats()) {
                    v.add(f("women_only"), format!("must be false for {c} offers (women seats exist only in TRAINING, MENTORING and ADVISE_AND_ASSIST)"));
                }
            }
            mode.map(|mode| {
                OfferTerms::Delivery(DeliveryTerms {
                    languages,
                    mode,
                    training_centre: centre,
                    duration_days: p.duration_days,
                    women_only: p.women_only,
                    requires_funding: p.requires_funding,
                })
            })
        }
        Some(OfferRole::Funding) => {
            let unset = [
                ("languages", !p.languages.is_empty()),
                ("mode", p.mode != 0),
                ("training_centre_id", !p.training_centre_id.is_empty()),
                ("duration_days", p.duration_days != 0),
                ("women_only", p.women_only),
                ("requires_funding", p.requires_funding),
            ];
            for (name, set) in unset {
                if set {
                    v.add(f(name), "must be unset on a FUNDING offer");
                }
            }
            Some(OfferTerms::Funding)
        }
        None => None,
    };
    match (terms, category, capability, from, until) {
        (Some(terms), Some(category), Some(capability), Some(available_from), Some(available_until))
            if v.is_empty() =>
        {
            Ok(OfferSpec {
                providers,
                terms,
                category,
                capability,
                title: p.title.clone(),
                description: p.description.clone(),
                capacity,
                available_from,
                available_until,
                eligible_recipients: eligible,
                excluded_recipients: excluded,
                max_per_recipient: p.max_per_recipient,
            })
        }
        _ => Err(AppError::InvalidArgument(v.0)),
    }
}

pub fn offer_to_proto(o: &Offer) -> pb::Offer {
    let s = &o.spec;
    let d = s.terms.delivery();
    pb::Offer {
        id: o.meta.id.render(Kind::Offer),
        etag: o.meta.etag(),
        create_time: Some(timestamp(o.meta.create_time)),
        update_time: Some(timestamp(o.meta.update_time)),
        providers: s.providers.iter().map(|p| p.to_string()).collect(),
        role: role_to(s.terms.role()),
        category: category_to(s.category),
        capability: capability_to(s.capability),
        title: s.title.clone(),
        description: s.description.clone(),
        capacity: s.capacity,
        available_from: Some(timestamp(s.available_from)),
        available_until: Some(timestamp(s.available_until)),
        eligible_recipients: s.eligible_recipients.iter().map(|p| p.to_string()).collect(),
        excluded_recipients: s.excluded_recipients.iter().map(|p| p.to_string()).collect(),
        max_per_recipient: s.max_per_recipient,
        languages: d.map(|d| d.languages.iter().map(|l| l.to_string()).collect()).unwrap_or_default(),
        mode: d.map_or(0, |d| mode_to(d.mode)),
        training_centre_id: d.and_then(|d| d.training_centre).map(|c| c.render(Kind::Centre)).unwrap_or_default(),
        duration_days: d.map_or(0, |d| d.duration_days),
        women_only: d.is_some_and(|d| d.women_only),
        requires_funding: d.is_some_and(|d| d.requires_funding),
        state: offer_state_to(o.state()),
        reserved_quantity: o.seats.reserved,
        delivered_quantity: o.seats.delivered,
    }
}

pub fn centre_spec(p: &pb::TrainingCentre, prefix: &str) -> Result<CentreSpec, AppError> {
    let mut v = Violations::default();
    let f = |name: &str| format!("{prefix}.{name}");
    v.text(&f("name"), &p.name, 1, limits::MAX_TITLE_CHARS, false);
    let host_state = v.state(&f("host_state"), &p.host_state);
    let languages = v.languages(&f("languages"), &p.languages, 1);
    let capabilities = capabilities_from(&mut v, &f("capabilities"), &p.capabilities);
    match host_state {
        Some(host_state) if v.is_empty() => {
            Ok(CentreSpec { name: p.name.clone(), host_state, languages, capabilities, un_recognized: p.un_recognized })
        }
        _ => Err(AppError::InvalidArgument(v.0)),
    }
}

pub fn centre_to_proto(c: &TrainingCentre) -> pb::TrainingCentre {
    pb::TrainingCentre {
        id: c.meta.id.render(Kind::Centre),
        etag: c.meta.etag(),
        create_time: Some(timestamp(c.meta.create_time)),
        update_time: Some(timestamp(c.meta.update_time)),
        name: c.spec.name.clone(),
        host_state: c.spec.host_state.to_string(),
        languages: c.spec.languages.iter().map(|l| l.to_string()).collect(),
        capabilities: c.spec.capabilities.iter().map(|c| capability_to(*c)).collect(),
        un_recognized: c.spec.un_recognized,
    }
}

pub fn principal_to_proto(p: &Principal) -> pb::Principal {
    let (kind, member_state, centre) = match p.role {
        Role::Secretariat => (pb::PrincipalKind::Secretariat, String::new(), String::new()),
        Role::MemberState(s) => (pb::PrincipalKind::MemberState, s.to_string(), String::new()),
        Role::TrainingCentre(c) => (pb::PrincipalKind::TrainingCentre, String::new(), c.render(Kind::Centre)),
    };
    pb::Principal {
        id: p.meta.id.render(Kind::Principal),
        kind: kind as i32,
        member_state,
        training_centre_id: centre,
        display_name: p.display_name.clone(),
        revoked: p.revoked,
        create_time: Some(timestamp(p.meta.create_time)),
    }
}

pub fn event_to_proto(e: &Event) -> pb::Event {
    use pb::event::Resource as R;
    let resource = match &e.resource {
        EventResource::Need(n) => R::Need(need_to_proto(n)),
        EventResource::Offer(o) => R::Offer(offer_to_proto(o)),
        EventResource::Centre(c) => R::TrainingCentre(centre_to_proto(c)),
        EventResource::Principal(p) => R::Principal(principal_to_proto(p)),
        EventResource::Match(m) => R::Match(match_to_proto(m)),
        EventResource::Arrangement(a) => R::Arrangement(arrangement_to_proto(a)),
    };
    pb::Event {
        sequence: e.sequence,
        kind: event_kind_to(e.kind),
        time: Some(timestamp(e.time)),
        actor: e.actor.clone(),
        resource_id: e.resource.resource_id(),
        resource: Some(resource),
    }
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

fn states(list: &[Alpha3]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

pub fn allocation_to_proto(a: &AllocationRecord) -> pb::Allocation {
    pb::Allocation {
        offer_id: a.offer.render(Kind::Offer),
        funding_offer_id: a.funding_offer.map(|f| f.render(Kind::Offer)).unwrap_or_default(),
        quantity: a.quantity,
        women_quantity: a.women_quantity,
        training_centre_id: a.training_centre.map(|c| c.render(Kind::Centre)).unwrap_or_default(),
    }
}

pub fn match_to_proto(m: &Match) -> pb::Match {
    pb::Match {
        id: m.meta.id.render(Kind::Match),
        etag: m.meta.etag(),
        create_time: Some(timestamp(m.meta.create_time)),
        update_time: Some(timestamp(m.meta.update_time)),
        need_id: m.need.render(Kind::Need),
        allocations: m.allocations.iter().map(allocation_to_proto).collect(),
        quantity: m.quantity,
        women_quantity: m.women_quantity,
        parties: states(&m.parties),
        triangular: m.triangular,
        score: m.score,
        reasons: m.reasons.clone(),
        state: match_state_to(m.state),
        decided_by: m.decided_by.clone(),
        decision_comment: m.decision_comment.clone(),
        decide_time: m.decide_time.map(timestamp),
        arrangement_ids: m.arrangements.iter().map(|a| a.render(Kind::Arrangement)).collect(),
    }
}

pub fn arrangement_to_proto(a: &Arrangement) -> pb::Arrangement {
    pb::Arrangement {
        id: a.meta.id.render(Kind::Arrangement),
        etag: a.meta.etag(),
        create_time: Some(timestamp(a.meta.create_time)),
        update_time: Some(timestamp(a.meta.update_time)),
        match_id: a.match_id.render(Kind::Match),
        need_id: a.need.render(Kind::Need),
        recipient: a.recipient.to_string(),
        allocation: Some(allocation_to_proto(&a.allocation)),
        parties: states(&a.allocation.parties),
        triangular: a.triangular(),
        capability: capability_to(a.capability),
        quantity: a.allocation.quantity,
        women_quantity: a.allocation.women_quantity,
        training_centre_id: a.allocation.training_centre.map(|c| c.render(Kind::Centre)).unwrap_or_default(),
        scheduled_start: a.scheduled_start.map(timestamp),
        scheduled_end: a.scheduled_end.map(timestamp),
        consents: a
            .consents
            .iter()
            .map(|c| pb::Consent {
                state: c.state.to_string(),
                decision: consent_to(c.decision),
                note: c.note.clone(),
                time: c.time.map(timestamp),
            })
            .collect(),
        outcome: a.outcome.as_ref().map(|o| pb::Outcome {
            trained: o.trained,
            women_trained: o.women_trained,
            trainers_qualified: o.trainers_qualified,
            certified: o.certified,
            deployed_missions: o.deployed_missions.clone(),
        }),
        history: a
            .history
            .iter()
            .map(|h| pb::HistoryEntry {
                from_status: h.from.map_or(0, status_to),
                to_status: status_to(h.to),
                actor: h.actor.clone(),
                time: Some(timestamp(h.time)),
                note: h.note.clone(),
            })
            .collect(),
        status: status_to(a.status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = SECONDS_PER_DAY * MICROS_PER_SECOND;

    fn clock() -> Clock {
        Clock { now: 20_000 * DAY }
    }

    fn ts(day: i64) -> Option<Timestamp> {
        Some(timestamp(day * DAY))
    }

    fn need() -> pb::Need {
        pb::Need {
            requester: "UGA".into(),
            category: pb::SupportCategory::Training as i32,
            capability: pb::CapabilityArea::Medical as i32,
            title: "Field medics".into(),
            quantity: 10,
            women_quantity: 2,
            languages: vec!["en".into()],
            needed_by: ts(20_100),
            priority: pb::Priority::High as i32,
            ..Default::default()
        }
    }

    fn fields(e: AppError) -> Vec<String> {
        match e {
            AppError::InvalidArgument(v) => v.into_iter().map(|v| v.field).collect(),
            other => panic!("expected InvalidArgument, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_need_converts_and_round_trips() {
        let spec = need_spec(&need(), "need", clock(), true).unwrap();
        assert_eq!(spec.requester.as_str(), "UGA");
        assert_eq!(spec.needed_by, 20_100 * DAY);
        let record = Need { meta: Meta::new(Id(1), 0), spec, withdrawn: false, seats: Seats::default() };
        let back = need_to_proto(&record);
        assert_eq!(back.requester, "UGA");
        assert_eq!(back.needed_by, ts(20_100));
        assert_eq!(back.state, pb::NeedState::Open as i32);
    }

    #[test]
    fn every_bad_need_field_is_reported_once_with_its_path() {
        let bad = pb::Need {
            requester: "uga".into(),
            quantity: 0,
            women_quantity: 1,
            languages: vec!["en".into(), "en".into(), "xx1".into()],
            needed_by: ts(19_999),
            priority: 9,
            title: "x".repeat(201),
            ..need()
        };
        let got = fields(need_spec(&bad, "need", clock(), true).unwrap_err());
        assert_eq!(
            got,
            [
                "need.requester",
                "need.title",
                "need.quantity",
                "need.women_quantity",
                "need.languages[1]",
                "need.languages[2]",
                "need.needed_by",
                "need.priority"
            ]
        );
        // The past is fine when the date is not being set (an update of another field).
        let old = pb::Need { needed_by: ts(19_999), ..need() };
        assert!(need_spec(&old, "need", clock(), false).is_ok());
        let far = pb::Need { needed_by: ts(20_000 + 3_700), ..need() };
        assert_eq!(fields(need_spec(&far, "need", clock(), true).unwrap_err()), ["need.needed_by"]);
    }

    #[test]
    fn funding_offers_refuse_delivery_fields_and_centres_must_exist() {
        let funding = pb::Offer {
            providers: vec!["JPN".into()],
            role: pb::OfferRole::Funding as i32,
            category: pb::SupportCategory::Training as i32,
            capability: pb::CapabilityArea::Engineering as i32,
            title: "Funds".into(),
            capacity: 20,
            available_from: ts(20_000),
            available_until: ts(20_300),
            mode: pb::DeliveryMode::Remote as i32,
            ..Default::default()
        };
        assert_eq!(fields(offer_spec(&funding, "offer", clock(), &|_| true).unwrap_err()), ["offer.mode"]);
        let ok = pb::Offer { mode: 0, ..funding.clone() };
        assert_eq!(offer_spec(&ok, "offer", clock(), &|_| true).unwrap().terms, OfferTerms::Funding);
        let at_centre = pb::Offer {
            role: pb::OfferRole::Delivery as i32,
            mode: pb::DeliveryMode::AtTrainingCentre as i32,
            training_centre_id: "centre-3".into(),
            languages: vec!["en".into()],
            duration_days: 10,
            ..funding
        };
        assert_eq!(
            fields(offer_spec(&at_centre, "offer", clock(), &|_| false).unwrap_err()),
            ["offer.training_centre_id"]
        );
        let spec = offer_spec(&at_centre, "offer", clock(), &|id| id == Id(3)).unwrap();
        assert_eq!(spec.terms.delivery().and_then(|d| d.training_centre), Some(Id(3)));
    }

    #[test]
    fn enum_lists_are_bounded_by_the_values_they_can_hold() {
        assert_eq!((1..1_000).filter(|v| event_kind_from(*v).is_some()).count(), event_kinds());
        let mut v = Violations::default();
        assert!(modes_from(&mut v, "modes", &[9; 100_000]).is_empty());
        let all: Vec<i32> = (1..=15).collect();
        assert_eq!(capabilities_from(&mut v, "capabilities", &all).len(), 15);
        let got: Vec<String> = v.0.into_iter().map(|f| f.field).collect();
        assert_eq!(got, ["modes"]);
    }

    #[test]
    fn text_checks_length_then_control_characters() {
        let mut v = Violations::default();
        v.text("a", "", 1, 5, false);
        v.text("b", "toolong", 1, 5, false);
        v.text("c", "a\u{7}b", 1, 5, false);
        v.text("d", "a\nb", 1, 5, true);
        let got: Vec<String> = v.0.into_iter().map(|f| f.field).collect();
        assert_eq!(got, ["a", "b", "c"]);
    }
}

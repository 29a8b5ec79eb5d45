//! The rules of API.md ("Matching: what the engine must honour"), one function each.
//!
//! Every rule returns `None` when it holds and `Some(Blocker)` when it keeps an offer from
//! giving a need seats; a [`Blocker`]'s `Display` is the plain sentence ExplainNeed shows.
//! The engine (`prepare.rs`) decides compatibility by calling exactly these functions, and
//! `explain.rs` lists the blockers they return, so an explanation can never disagree with
//! the engine. The funding rules live in `funding_rules.rs`.
//!
//! Rules never panic and never overflow: day arithmetic saturates.

use super::input::{Few, NeedInput, OfferInput};
use super::text::{join_languages, join_modes, show_day};
use crate::domain::{Alpha3, CapabilityArea, Day, DeliveryMode, Language, OfferRole, SupportCategory};
use std::collections::{HashMap, HashSet};
use std::fmt;

/// Why an offer cannot give a need seats (one failing rule).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Blocker {
    /// The offer is of another category or capability.
    OtherKind { offer: (SupportCategory, CapabilityArea), need: (SupportCategory, CapabilityArea) },
    /// The offer is withdrawn.
    OfferWithdrawn,
    /// The offer is a DELIVERY offer without delivery terms, or not a DELIVERY offer.
    NotDelivery,
    /// The need is withdrawn.
    NeedWithdrawn,
    /// The need has no open seats (FULFILLED).
    NeedFulfilled,
    /// No shared language.
    Language { offer: Few<Language>, need: Few<Language> },
    /// The need does not accept the offer's mode.
    Mode { offer: DeliveryMode, accepted: Vec<DeliveryMode> },
    /// No start day fits; `limit_name` says which bound is binding.
    Window { earliest_start: Day, duration_days: i64, latest_end: Day, limit_name: String },
    /// The requester is not on the eligibility list.
    NotEligible { recipient: Alpha3, who: String },
    /// The requester is excluded.
    Excluded { recipient: Alpha3, who: String },
    /// The requester is one of the providers.
    SelfProvision { recipient: Alpha3, who: String },
    /// A remembered refusal bars the pair.
    Barred { who: String },
    /// The offer has no open seats (EXHAUSTED).
    NoOpenSeats { who: String },
    /// `max_per_recipient` is used up for this recipient.
    RecipientCap { recipient: Alpha3, cap: u32, who: String },
    /// A women-only offer, and the need has no open women seats.
    WomenOnly,
    /// The offer requires funding and no FUNDING offer can pay; one reason per funder.
    NoFunder { reasons: Vec<(String, Blocker)> },
}

impl fmt::Display for Blocker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Blocker::OtherKind { offer, need } => {
                write!(f, "offer is {} {}; need is {} {}", offer.0, offer.1, need.0, need.1)
            }
            Blocker::OfferWithdrawn => f.write_str("the offer is withdrawn"),
            Blocker::NotDelivery => f.write_str("the offer has no delivery terms"),
            Blocker::NeedWithdrawn => f.write_str("the need is withdrawn"),
            Blocker::NeedFulfilled => f.write_str("the need has no open seats left"),
            Blocker::Language { offer, need } => {
                write!(f, "offer delivers in {}; need accepts {}", join_languages(offer), join_languages(need))
            }
            Blocker::Mode { offer, accepted } => {
                write!(f, "offer is {offer}; need accepts only {}", join_modes(accepted))
            }
            Blocker::Window { earliest_start, duration_days, latest_end, limit_name } => write!(
                f,
                "the course cannot start before {} and lasts {duration_days} days, so it cannot end before {}, after {limit_name} ({})",
                show_day(*earliest_start),
                show_day(earliest_start.saturating_add(*duration_days)),
                show_day(*latest_end)
            ),
            Blocker::NotEligible { recipient, who } => {
                write!(f, "{recipient} is not among the eligible recipients of {who}")
            }
            Blocker::Excluded { recipient, who } => write!(f, "{who} excludes {recipient}"),
            Blocker::SelfProvision { recipient, who } => {
                write!(f, "{recipient} is one of the providers of {who}")
            }
            Blocker::Barred { who } => {
                write!(f, "a refusal of this need with {who} is remembered until the need or the offer is updated")
            }
            Blocker::NoOpenSeats { who } => write!(f, "{who} has no open seats left"),
            Blocker::RecipientCap { recipient, cap, who } => {
                write!(f, "{who} gives at most {cap} seats per recipient and {recipient} has used them up")
            }
            Blocker::WomenOnly => f.write_str("the offer is women-only and the need has no open women seats"),
            Blocker::NoFunder { reasons } => {
                if reasons.is_empty() {
                    return f.write_str(
                        "the offer requires funding and no FUNDING offer of its category and capability is open",
                    );
                }
                f.write_str("the offer requires funding and no FUNDING offer can pay: ")?;
                for (i, (id, why)) in reasons.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{id}: {why}")?;
                }
                Ok(())
            }
        }
    }
}

/// Facts shared by every rule of one call: today, refusals, per-recipient consumption.
#[derive(Clone, Debug, Default)]
pub struct RuleContext {
    pub today: Day,
    barred: HashSet<(String, String)>,
    consumption: HashMap<(String, Alpha3), u64>,
}

impl RuleContext {
    /// Builds the lookup tables (lookups only: no iteration order leaks into output).
    pub fn new(input: &super::input::MatchInput) -> RuleContext {
        RuleContext::from_parts(input.today, &input.barred, &input.recipient_consumption)
    }

    /// The same from the parts of an input that rules read.
    pub fn from_parts(
        today: Day,
        barred: &[super::input::BarredPair],
        recipient_consumption: &[super::input::RecipientConsumption],
    ) -> RuleContext {
        let barred = barred.iter().map(|b| (b.need_id.clone(), b.offer_id.clone())).collect();
        let mut consumption: HashMap<(String, Alpha3), u64> = HashMap::new();
        for c in recipient_consumption {
            *consumption.entry((c.offer_id.clone(), c.recipient)).or_default() += u64::from(c.seats);
        }
        RuleContext { today, barred, consumption }
    }

    /// Whether a remembered refusal bars this pair.
    pub fn is_barred(&self, need_id: &str, offer_id: &str) -> bool {
        !self.barred.is_empty() && self.barred.contains(&(need_id.to_string(), offer_id.to_string()))
    }

    /// Seats of `offer` already consumed by `recipient`.
    pub fn consumed_by(&self, offer_id: &str, recipient: Alpha3) -> u64 {
        if self.consumption.is_empty() {
            return 0;
        }
        self.consumption.get(&(offer_id.to_string(), recipient)).copied().unwrap_or(0)
    }

    /// What is left of `max_per_recipient` for `recipient` (`None` when uncapped).
    pub fn cap_left(&self, offer: &OfferInput, recipient: Alpha3) -> Option<u32> {
        if offer.max_per_recipient == 0 {
            return None;
        }
        let left = u64::from(offer.max_per_recipient).saturating_sub(self.consumed_by(&offer.id, recipient));
        Some(u32::try_from(left).unwrap_or(u32::MAX))
    }

    /// Seats `offer` may still give `recipient` under its cap (its open seats when uncapped).
    pub fn remaining_for(&self, offer: &OfferInput, recipient: Alpha3) -> u32 {
        let open = offer.open_seats();
        if offer.max_per_recipient == 0 {
            return open;
        }
        let left = u64::from(offer.max_per_recipient).saturating_sub(self.consumed_by(&offer.id, recipient));
        open.min(u32::try_from(left).unwrap_or(u32::MAX))
    }
}

/// Name of an offer in sentences: `offer <id>`.
pub fn offer_name(offer: &OfferInput) -> String {
    format!("offer {}", offer.id)
}

/// Same category and capability.
pub fn rule_same_kind(need: &NeedInput, offer: &OfferInput) -> Option<Blocker> {
    (need.category != offer.category || need.capability != offer.capability).then_some(Blocker::OtherKind {
        offer: (offer.category, offer.capability),
        need: (need.category, need.capability),
    })
}

/// The offer is not withdrawn and is a DELIVERY offer with terms.
pub fn rule_offer_open(offer: &OfferInput) -> Option<Blocker> {
    if offer.withdrawn {
        Some(Blocker::OfferWithdrawn)
    } else if offer.delivery_terms().is_none() {
        Some(Blocker::NotDelivery)
    } else {
        None
    }
}

/// The need is neither withdrawn nor fulfilled.
pub fn rule_need_open(need: &NeedInput) -> Option<Blocker> {
    if need.withdrawn {
        Some(Blocker::NeedWithdrawn)
    } else if need.open_seats() == 0 {
        Some(Blocker::NeedFulfilled)
    } else {
        None
    }
}

/// A shared language.
pub fn rule_language(need: &NeedInput, offer: &OfferInput) -> Option<Blocker> {
    let terms = offer.delivery_terms()?;
    let shared = terms.languages.iter().any(|l| need.languages.contains(l));
    (!shared).then(|| Blocker::Language { offer: terms.languages.clone(), need: Few::from_slice(&need.languages) })
}

/// The offer's mode is accepted (empty = any).
pub fn rule_mode(need: &NeedInput, offer: &OfferInput) -> Option<Blocker> {
    let terms = offer.delivery_terms()?;
    let accepted = need.accepted_modes.is_empty() || need.accepted_modes.contains(&terms.mode);
    (!accepted).then(|| Blocker::Mode { offer: terms.mode, accepted: need.accepted_modes.clone() })
}

/// The earliest start day and the latest end day of a delivery of `offer` to `need`
/// (before any funding offer's dates): start ≥ max(today, from), end ≤ min(until, needed_by).
/// The third value names the binding end, for sentences.
pub fn delivery_bounds(today: Day, need: &NeedInput, offer: &OfferInput) -> (Day, Day, String) {
    let (earliest, latest_end) = delivery_days(today, need, offer);
    (earliest, latest_end, delivery_limit_name(need, offer))
}

fn delivery_days(today: Day, need: &NeedInput, offer: &OfferInput) -> (Day, Day) {
    (today.max(offer.available_from), need.needed_by.min(offer.available_until))
}

fn delivery_limit_name(need: &NeedInput, offer: &OfferInput) -> String {
    if need.needed_by <= offer.available_until {
        "the need's deadline".to_string()
    } else {
        format!("the end of {}'s availability", offer_name(offer))
    }
}

/// A delivery window exists: some start day `s` with max(today, from) ≤ s and
/// s + duration ≤ min(until, needed_by).
pub fn rule_window(today: Day, need: &NeedInput, offer: &OfferInput) -> Option<Blocker> {
    let (earliest, latest_end) = delivery_days(today, need, offer);
    if earliest.saturating_add(offer.duration_days()) <= latest_end {
        return None;
    }
    window_blocker(earliest, offer.duration_days(), latest_end, delivery_limit_name(need, offer))
}

/// `Some(Blocker::Window)` when a course of `duration_days` starting no earlier than
/// `earliest` cannot end by `latest_end`.
pub fn window_blocker(earliest: Day, duration_days: i64, latest_end: Day, limit_name: String) -> Option<Blocker> {
    (earliest.saturating_add(duration_days) > latest_end).then_some(Blocker::Window {
        earliest_start: earliest,
        duration_days,
        latest_end,
        limit_name,
    })
}

/// The requester is on the offer's eligibility list (empty = any).
pub fn rule_eligible(recipient: Alpha3, offer: &OfferInput) -> Option<Blocker> {
    (!offer.eligible_recipients.is_empty() && !offer.eligible_recipients.contains(&recipient))
        .then(|| Blocker::NotEligible { recipient, who: offer_name(offer) })
}

/// The requester is not excluded.
pub fn rule_not_excluded(recipient: Alpha3, offer: &OfferInput) -> Option<Blocker> {
    offer.excluded_recipients.contains(&recipient).then(|| Blocker::Excluded { recipient, who: offer_name(offer) })
}

/// The requester is not one of the offer's providers.
pub fn rule_not_provider(recipient: Alpha3, offer: &OfferInput) -> Option<Blocker> {
    offer.providers.contains(&recipient).then(|| Blocker::SelfProvision { recipient, who: offer_name(offer) })
}

/// No remembered refusal bars the pair.
pub fn rule_not_barred(ctx: &RuleContext, need: &NeedInput, offer: &OfferInput) -> Option<Blocker> {
    ctx.is_barred(&need.id, &offer.id).then(|| Blocker::Barred { who: offer_name(offer) })
}

/// The offer has open seats.
pub fn rule_offer_seats(offer: &OfferInput) -> Option<Blocker> {
    (offer.open_seats() == 0).then(|| Blocker::NoOpenSeats { who: offer_name(offer) })
}

/// `max_per_recipient` leaves seats for the requester.
pub fn rule_recipient_cap(ctx: &RuleContext, recipient: Alpha3, offer: &OfferInput) -> Option<Blocker> {
    (offer.max_per_recipient > 0 && offer.open_seats() > 0 && ctx.remaining_for(offer, recipient) == 0)
        .then(|| Blocker::RecipientCap { recipient, cap: offer.max_per_recipient, who: offer_name(offer) })
}

/// A women-only offer needs open women seats.
pub fn rule_women_only(need: &NeedInput, offer: &OfferInput) -> Option<Blocker> {
    (offer.women_only() && need.open_women_seats() == 0).then_some(Blocker::WomenOnly)
}

/// The rules every offer that gives `need` seats obeys, DELIVERY and FUNDING alike (the
/// recipient lists, the providers, refusals, open seats and the per-recipient cap), in
/// API order: each rule's verdict goes to `check`, until `check` answers false. Returns
/// whether every `check` answered true.
#[inline]
pub fn recipient_rules(
    ctx: &RuleContext,
    need: &NeedInput,
    offer: &OfferInput,
    mut check: impl FnMut(Option<Blocker>) -> bool,
) -> bool {
    let recipient = need.requester;
    check(rule_eligible(recipient, offer))
        && check(rule_not_excluded(recipient, offer))
        && check(rule_not_provider(recipient, offer))
        && check(rule_not_barred(ctx, need, offer))
        && check(rule_offer_seats(offer))
        && check(rule_recipient_cap(ctx, recipient, offer))
}

/// Every compatibility and seat rule for a DELIVERY offer and a need, in API order (funding
/// is checked separately, by `funding_rules::rule_funding`), each verdict to `check` as in
/// [`recipient_rules`].
#[inline]
fn delivery_rules(
    ctx: &RuleContext,
    need: &NeedInput,
    offer: &OfferInput,
    mut check: impl FnMut(Option<Blocker>) -> bool,
) -> bool {
    check(rule_same_kind(need, offer))
        && check(rule_offer_open(offer))
        && check(rule_need_open(need))
        && check(rule_language(need, offer))
        && check(rule_mode(need, offer))
        && check(rule_window(ctx.today, need, offer))
        && recipient_rules(ctx, need, offer, &mut check)
        && check(rule_women_only(need, offer))
}

/// Every rule of [`delivery_rules`] that `offer` fails for `need`.
pub fn compatibility_and_seat_blockers(ctx: &RuleContext, need: &NeedInput, offer: &OfferInput) -> Vec<Blocker> {
    let mut out = Vec::new();
    delivery_rules(ctx, need, offer, |b| {
        out.extend(b);
        true
    });
    out
}

/// Whether `offer` may give `need` seats apart from funding (every rule of
/// [`delivery_rules`] holds). Stops at the first failing rule; used by the engine on every
/// candidate pair.
pub fn delivery_allowed(ctx: &RuleContext, need: &NeedInput, offer: &OfferInput) -> bool {
    delivery_rules(ctx, need, offer, |b| b.is_none())
}

/// Whether `offer` is a FUNDING offer (helper for the funding rules).
pub fn is_funding(offer: &OfferInput) -> bool {
    offer.role == OfferRole::Funding
}

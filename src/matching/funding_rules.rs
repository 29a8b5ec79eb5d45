//! The funding rule of API.md: seats of a `requires_funding` DELIVERY offer are given only
//! with a FUNDING offer that pays for each of them, with its own eligibility, exclusions,
//! providers, per-recipient cap, open seats and dates (one start day fits the delivery
//! window and the funder's availability). One function per rule, as in `rules.rs`.

use super::input::{NeedInput, OfferInput};
use super::rules::{Blocker, RuleContext, is_funding, offer_name, recipient_rules, window_blocker};
use crate::domain::Day;

/// `funder` is an open FUNDING offer of the delivery's category and capability.
pub fn rule_funder_kind(delivery: &OfferInput, funder: &OfferInput) -> bool {
    is_funding(funder)
        && !funder.withdrawn
        && funder.category == delivery.category
        && funder.capability == delivery.capability
}

/// Earliest start and latest end of a funded delivery, with the name of the binding end.
pub fn funded_bounds(today: Day, need: &NeedInput, delivery: &OfferInput, funder: &OfferInput) -> (Day, Day, String) {
    let earliest = today.max(delivery.available_from).max(funder.available_from);
    let mut latest = need.needed_by;
    let mut name = "the need's deadline".to_string();
    if delivery.available_until < latest {
        latest = delivery.available_until;
        name = format!("the end of {}'s availability", offer_name(delivery));
    }
    if funder.available_until < latest {
        latest = funder.available_until;
        name = format!("the end of {}'s availability", offer_name(funder));
    }
    (earliest, latest, name)
}

/// One start day fits the delivery window and the funder's dates.
pub fn rule_funded_window(today: Day, need: &NeedInput, delivery: &OfferInput, funder: &OfferInput) -> Option<Blocker> {
    let earliest = today.max(delivery.available_from).max(funder.available_from);
    let latest = need.needed_by.min(delivery.available_until).min(funder.available_until);
    if earliest.saturating_add(delivery.duration_days()) <= latest {
        return None;
    }
    let (earliest, latest, name) = funded_bounds(today, need, delivery, funder);
    window_blocker(earliest, delivery.duration_days(), latest, name)
}

/// The rules `funder` obeys to pay `delivery`'s seats for `need` (kind assumed): those of
/// any offer giving seats, then the funded window; each verdict to `check` as in
/// [`recipient_rules`].
#[inline]
fn funder_rules(
    ctx: &RuleContext,
    need: &NeedInput,
    delivery: &OfferInput,
    funder: &OfferInput,
    mut check: impl FnMut(Option<Blocker>) -> bool,
) -> bool {
    recipient_rules(ctx, need, funder, &mut check) && check(rule_funded_window(ctx.today, need, delivery, funder))
}

/// Every rule `funder` fails for paying `delivery`'s seats for `need` (kind assumed).
pub fn funder_blockers(
    ctx: &RuleContext,
    need: &NeedInput,
    delivery: &OfferInput,
    funder: &OfferInput,
) -> Vec<Blocker> {
    let mut out = Vec::new();
    funder_rules(ctx, need, delivery, funder, |b| {
        out.extend(b);
        true
    });
    out
}

/// Whether `funder` may pay for `delivery`'s seats for `need` (stops at the first failing
/// rule).
pub fn funder_allowed(ctx: &RuleContext, need: &NeedInput, delivery: &OfferInput, funder: &OfferInput) -> bool {
    rule_funder_kind(delivery, funder) && funder_rules(ctx, need, delivery, funder, |b| b.is_none())
}

/// A `requires_funding` offer has at least one FUNDING offer that can pay. `funders` are
/// the candidate FUNDING offers (any order; those of another kind are skipped).
pub fn rule_funding<'a>(
    ctx: &RuleContext,
    need: &NeedInput,
    delivery: &OfferInput,
    funders: impl IntoIterator<Item = &'a OfferInput>,
) -> Option<Blocker> {
    if !delivery.requires_funding() {
        return None;
    }
    let mut reasons = Vec::new();
    for funder in funders {
        if !rule_funder_kind(delivery, funder) {
            continue;
        }
        let blockers = funder_blockers(ctx, need, delivery, funder);
        if blockers.is_empty() {
            return None;
        }
        reasons.extend(blockers.into_iter().map(|b| (funder.id.clone(), b)));
    }
    Some(Blocker::NoFunder { reasons })
}

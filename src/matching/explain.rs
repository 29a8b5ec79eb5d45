//! ExplainNeed: for one need, every DELIVERY offer of its category and capability that is
//! not withdrawn, with every rule that keeps it from giving the need seats. The blockers
//! come from the very rule functions the engine uses (`rules.rs`, `funding_rules.rs`).

use super::funding_rules::rule_funding;
use super::input::{MatchInput, NeedInput, OfferInput};
use super::rules::{Blocker, RuleContext, compatibility_and_seat_blockers};
use crate::domain::OfferRole;
use std::fmt::Write;

/// One candidate offer of ExplainNeed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub offer_id: String,
    /// True when no rule blocks the offer.
    pub compatible: bool,
    /// One plain sentence per failing rule (compatibility, seats, funding), in API order.
    pub blockers: Vec<String>,
    /// The offer's open seats (capacity − reserved − delivered).
    pub remaining_capacity: u32,
}

/// The candidates for `need_id`, sorted by offer id; `None` when no such need exists.
/// The capability filter of `input` is ignored.
pub fn explain_need(input: &MatchInput, need_id: &str) -> Option<Vec<Candidate>> {
    let need = input.needs.iter().find(|n| n.id == need_id)?;
    Some(explain_candidates(&RuleContext::new(input), need, &input.offers))
}

/// The candidates for `need` among `offers` (any offers: those not of the need's kind, not
/// DELIVERY or withdrawn are skipped; FUNDING offers among them may pay), sorted by offer
/// id, under the facts of `ctx`.
pub fn explain_candidates<'a>(
    ctx: &RuleContext,
    need: &NeedInput,
    offers: impl IntoIterator<Item = &'a OfferInput>,
) -> Vec<Candidate> {
    let offers: Vec<&OfferInput> = offers.into_iter().collect();
    let mut candidates: Vec<&OfferInput> = offers
        .iter()
        .copied()
        .filter(|o| {
            o.role == OfferRole::Delivery
                && !o.withdrawn
                && o.category == need.category
                && o.capability == need.capability
        })
        .collect();
    candidates.sort_by(|a, b| a.id.cmp(&b.id));
    candidates.dedup_by(|b, a| a.id == b.id);
    let mut funders: Vec<&OfferInput> = offers.iter().copied().filter(|o| o.role == OfferRole::Funding).collect();
    funders.sort_by(|a, b| a.id.cmp(&b.id));
    funders.dedup_by(|b, a| a.id == b.id);
    candidates
        .into_iter()
        .map(|offer| {
            let mut blockers = compatibility_and_seat_blockers(ctx, need, offer);
            blockers.extend(rule_funding(ctx, need, offer, funders.iter().copied()));
            Candidate {
                offer_id: offer.id.clone(),
                compatible: blockers.is_empty(),
                blockers: blockers.iter().map(sentence).collect(),
                remaining_capacity: offer.open_seats(),
            }
        })
        .collect()
}

/// A blocker's sentence, written into a string sized for most of them at once (thousands
/// per call; growing each one from empty was a tenth of ExplainNeed's time).
fn sentence(blocker: &Blocker) -> String {
    let mut s = String::with_capacity(96);
    let _ = write!(s, "{blocker}");
    s
}

//! The store's typed API over its secondary indexes. Each index is written here, with the
//! record it follows and in the same [`WriteSet`] (so in the same commit and landing), and
//! read here; no code outside `store/` sees a key's bytes or a table id. The indexes by
//! state, by need and by offer are kept in memory, not in sled ([`super::memory_indexes`]).
//!
//! | index | kept by | read by |
//! |---|---|---|
//! | needs by requester (memory) | [`WriteSet::put_new_need`] | [`Store::needs_of_requester`] |
//! | offers by provider (memory) | [`WriteSet::put_new_offer`] | [`Store::offers_of_provider`] |
//! | matches by need, by offer (memory) | [`WriteSet::put_new_match`] | [`Store::matches_of_need`], [`Store::matches_of_offer`] |
//! | PROPOSED matches | [`WriteSet::put_new_match`], [`WriteSet::put_match`] | [`Store::proposed_matches`] |
//! | refusals (by need and by offer) | [`WriteSet::remember_refusal`], [`WriteSet::forget_refusal`] | [`Store::refusals_of_need`], [`Store::refusals_of_offer`], [`Store::refusals`] |
//! | seats per offer and recipient | [`WriteSet::set_recipient_seats`] | [`Store::recipient_seats`], [`Store::every_recipient_seats`] |
//! | tokens | [`WriteSet::put_new_principal`] | [`Store::principal_by_token_hash`] |

use super::keys::{self, TreeId};
use super::memory_indexes::{self, IdsAfter, Owned};
use super::{Record, Store, StoreError, StoreResult, WriteSet, Writer, decode};
use crate::domain::*;
use std::ops::Bound;

impl WriteSet {
    /// A new need, with its entry in the requester index (a need's requester never
    /// changes, so updates write the record alone).
    pub fn put_new_need(&mut self, need: &Need) {
        self.put_record(need);
        self.indexed.extend(memory_indexes::need_entries(need));
    }

    /// A new offer, with its entries in the provider index (providers never change).
    pub fn put_new_offer(&mut self, offer: &Offer) {
        self.put_record(offer);
        self.indexed.extend(memory_indexes::offer_entries(offer));
    }

    /// A new match (PROPOSED), with its entries in the indexes by need, by offer and of
    /// PROPOSED matches.
    pub fn put_new_match(&mut self, m: &Match) {
        debug_assert_eq!(m.state, MatchState::Proposed, "a new match is PROPOSED");
        self.put_record(m);
        self.put_key(TreeId::ProposedMatches, &keys::id_key(m.meta.id));
        self.indexed.extend(memory_indexes::match_entries(m));
    }

    /// A match in a new state: it leaves the PROPOSED index once it is not PROPOSED (no
    /// state leads back to PROPOSED).
    pub fn put_match(&mut self, m: &Match) {
        self.put_record(m);
        if m.state != MatchState::Proposed {
            self.delete(TreeId::ProposedMatches, &keys::id_key(m.meta.id));
        }
    }

    /// A refusal to remember: `need` and `offer` are not proposed together again until
    /// one of them changes. Kept by need and by offer.
    pub fn remember_refusal(&mut self, need: Id, offer: Id) {
        self.put_key(TreeId::Refusals, &keys::pair_key(need, offer));
        self.put_key(TreeId::RefusalsByOffer, &keys::pair_key(offer, need));
    }

    /// Forgets a refusal, by need and by offer.
    pub fn forget_refusal(&mut self, need: Id, offer: Id) {
        self.delete(TreeId::Refusals, &keys::pair_key(need, offer));
        self.delete(TreeId::RefusalsByOffer, &keys::pair_key(offer, need));
    }

    /// The seats of `offer` reserved or delivered for recipient `state`.
    pub fn set_recipient_seats(&mut self, offer: Id, state: Alpha3, seats: u32) {
        self.put_raw(TreeId::RecipientSeats, keys::recipient_key(offer, state).to_vec(), seats.to_be_bytes().to_vec());
    }

    /// A new principal, with its token hash in the token index.
    pub fn put_new_principal(&mut self, principal: &Principal) {
        self.put_record(principal);
        self.put_raw(TreeId::Tokens, principal.token_hash.to_vec(), keys::id_key(principal.meta.id).to_vec());
    }
}

impl Writer<'_> {
    /// A new need from `spec`, into `ws`: its id, record, requester index entry and
    /// NEED_CREATED event. The one way a need comes into being (CreateNeed, store fills);
    /// `answer` sees it before its event takes it.
    pub fn create_need<T>(
        &mut self,
        ws: &mut WriteSet,
        now: UnixMicros,
        actor: &str,
        spec: NeedSpec,
        answer: impl FnOnce(&Need) -> T,
    ) -> T {
        let id = self.allocate_id(Kind::Need);
        let need = crate::domain::commands::file_need(id, spec, now);
        ws.put_new_need(&need);
        let out = answer(&need);
        ws.event(EventKind::NeedCreated, now, actor, EventResource::Need(need));
        out
    }

    /// A new offer from `spec`, into `ws`: its id, record, provider index entries and
    /// OFFER_CREATED event. The one way an offer comes into being (CreateOffer, store
    /// fills); `answer` sees it before its event takes it.
    pub fn create_offer<T>(
        &mut self,
        ws: &mut WriteSet,
        now: UnixMicros,
        actor: &str,
        spec: OfferSpec,
        answer: impl FnOnce(&Offer) -> T,
    ) -> T {
        let id = self.allocate_id(Kind::Offer);
        let offer = crate::domain::commands::file_offer(id, spec, now);
        ws.put_new_offer(&offer);
        let out = answer(&offer);
        ws.event(EventKind::OfferCreated, now, actor, EventResource::Offer(offer));
        out
    }
}

/// The ids at the end of the keys of `tree` that start with `id`'s key, in order.
fn ids_under(store: &Store, tree: TreeId, id: Id) -> StoreResult<Vec<Id>> {
    store
        .keys_with_prefix(tree, &keys::id_key(id))?
        .iter()
        .map(|k| keys::id_from_index_key(k).ok_or_else(|| short_key(tree)))
        .collect()
}

fn short_key(tree: TreeId) -> StoreError {
    StoreError::Corrupt { tree: tree.name(), detail: "short index key".into() }
}

impl Store {
    /// The ids of `state`'s needs, in id order, after `after`.
    pub fn needs_of_requester(&self, state: Alpha3, after: Option<Id>) -> StoreResult<IdsAfter<'_>> {
        self.inner.indexes.ids_after(Owned::Need, memory_indexes::state_key(state), after)
    }

    /// The ids of the offers `state` provides, in id order, after `after`.
    pub fn offers_of_provider(&self, state: Alpha3, after: Option<Id>) -> StoreResult<IdsAfter<'_>> {
        self.inner.indexes.ids_after(Owned::Offer, memory_indexes::state_key(state), after)
    }

    /// The ids of the matches of `need`, in id order.
    pub fn matches_of_need(&self, need: Id) -> StoreResult<Vec<Id>> {
        self.visible_matches(Owned::MatchOfNeed, need)
    }

    /// The ids of the matches that allocate seats of `offer` (or fund through it).
    pub fn matches_of_offer(&self, offer: Id) -> StoreResult<Vec<Id>> {
        self.visible_matches(Owned::MatchOfOffer, offer)
    }

    /// The matches `owner` lists in `owned`'s index that readers see (below the match
    /// watermark, `staging.rs`).
    fn visible_matches(&self, owned: Owned, owner: Id) -> StoreResult<Vec<Id>> {
        let watermark = self.match_watermark();
        Ok(self.inner.indexes.ids_after(owned, owner.0, None)?.take_while(|m| m.0 < watermark).collect())
    }

    /// The ids of every PROPOSED match, in id order.
    pub fn proposed_matches(&self) -> StoreResult<Vec<Id>> {
        self.keys_with_prefix(TreeId::ProposedMatches, &[])?
            .iter()
            .map(|k| keys::id_from_key(k).ok_or_else(|| short_key(TreeId::ProposedMatches)))
            .collect()
    }

    /// The offers a refusal bars from `need`.
    pub fn refusals_of_need(&self, need: Id) -> StoreResult<Vec<Id>> {
        ids_under(self, TreeId::Refusals, need)
    }

    /// The needs a refusal bars from `offer`.
    pub fn refusals_of_offer(&self, offer: Id) -> StoreResult<Vec<Id>> {
        ids_under(self, TreeId::RefusalsByOffer, offer)
    }

    /// Every remembered refusal, as (need, offer).
    pub fn refusals(&self) -> StoreResult<Vec<(Id, Id)>> {
        self.range(TreeId::Refusals, Bound::Unbounded, Bound::Unbounded)
            .map(|kv| keys::pair_from_key(&kv?.0).ok_or_else(|| short_key(TreeId::Refusals)))
            .collect()
    }

    /// The seats of `offer` reserved or delivered for recipient `state` (0 if none).
    pub fn recipient_seats(&self, offer: Id, state: Alpha3) -> StoreResult<u32> {
        self.value(TreeId::RecipientSeats, &keys::recipient_key(offer, state))?
            .map_or(Ok(0), |v| keys::seats_from_value(&v).ok_or_else(bad_seats))
    }

    /// Every offer and recipient with seats, as ((offer, state), seats).
    pub fn every_recipient_seats(&self) -> StoreResult<Vec<((Id, Alpha3), u32)>> {
        self.range(TreeId::RecipientSeats, Bound::Unbounded, Bound::Unbounded)
            .map(|kv| {
                let (k, v) = kv?;
                let key = keys::recipient_from_key(&k).ok_or_else(|| short_key(TreeId::RecipientSeats))?;
                Ok((key, keys::seats_from_value(&v).ok_or_else(bad_seats)?))
            })
            .collect()
    }
}

fn bad_seats() -> StoreError {
    StoreError::Corrupt { tree: TreeId::RecipientSeats.name(), detail: "a seat count is not 4 bytes".into() }
}

/// One committed change a [`CommitFollower`] is told of, decoded.
#[derive(Clone, Debug)]
pub enum Followed {
    /// A need as it now is (`None`: removed).
    Need(Id, Option<Need>),
    Offer(Id, Option<Offer>),
    Centre(Id, Option<TrainingCentre>),
    /// The seats of an offer for a recipient (`None`: the counter was removed).
    RecipientSeats {
        offer: Id,
        state: Alpha3,
        seats: Option<u32>,
    },
    /// A refusal remembered or forgotten.
    Refusal {
        need: Id,
        offer: Id,
        remembered: bool,
    },
    /// A change the store wrote but cannot read back: a follower can no longer be trusted.
    Unreadable {
        table: &'static str,
        error: String,
    },
}

/// Follows the commits to needs, offers, centres, seat counters and refusals, to keep a
/// view of them in memory (the matching engine's input): told of every commit's changes to
/// them, in commit order.
pub trait CommitFollower: Send + Sync {
    /// Commit number `commit` made these changes, in order. Called under the writer gate,
    /// after the commit is visible to reads: must be quick and must not call back into
    /// the store.
    fn committed(&self, commit: u64, changes: Vec<Followed>);
}

fn record<R: Record>(key: &[u8], value: Option<&[u8]>) -> StoreResult<(Id, Option<R>)> {
    let id = keys::id_from_key(key).ok_or_else(|| short_key(R::TREE))?;
    Ok((id, value.map(|v| decode(R::TREE, v)).transpose()?))
}

/// What a follower is told of one write, if it follows that table.
pub(super) fn followed(tree: TreeId, key: &[u8], value: Option<&[u8]>) -> Option<Followed> {
    let change = match tree {
        TreeId::Needs => record(key, value).map(|(id, r)| Followed::Need(id, r)),
        TreeId::Offers => record(key, value).map(|(id, r)| Followed::Offer(id, r)),
        TreeId::Centres => record(key, value).map(|(id, r)| Followed::Centre(id, r)),
        TreeId::RecipientSeats => {
            keys::recipient_from_key(key).ok_or_else(|| short_key(tree)).and_then(|(offer, state)| {
                let seats = value.map(|v| keys::seats_from_value(v).ok_or_else(bad_seats)).transpose()?;
                Ok(Followed::RecipientSeats { offer, state, seats })
            })
        }
        TreeId::Refusals => keys::pair_from_key(key)
            .ok_or_else(|| short_key(tree))
            .map(|(need, offer)| Followed::Refusal { need, offer, remembered: value.is_some() }),
        _ => return None,
    };
    Some(change.unwrap_or_else(|e| Followed::Unreadable { table: tree.name(), error: e.to_string() }))
}

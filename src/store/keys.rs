//! Key layout. Every table lives in one sled tree, [`TABLES`], each under a one-byte
//! prefix (its [`TreeId`] number), so that a landing of any number of commits touching
//! any tables is one `Tree::apply_batch` (see docs/STORAGE.md). Within a table, integers
//! are big-endian so that iteration order is numeric; composite keys put the fixed-width
//! part first. The prefix never leaves `store/`: callers name a table and a key.

use crate::domain::{Alpha3, Id};

/// The name of the one sled tree that holds every table.
pub(super) const TABLES: &str = "lcm_tables";

/// The tables of the store (historically one sled tree each, hence the name). Every state
/// change is applied atomically to the tables it touches.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TreeId {
    /// Format version, page-token key.
    Meta = 0,
    Needs,
    Offers,
    Centres,
    Principals,
    /// SHA-256(token) → principal id.
    Tokens,
    /// sequence → event.
    Events,
    /// principal id, 0, request id (16 bytes; until store format 5 its 36 characters) →
    /// first response ([`idempotency_key`]). Since store format 9 only pending commits
    /// write here (the overlay); a landing packs their entries into
    /// [`TreeId::IdempotencyPacks`], and a store of an earlier format has its entries
    /// packed at open.
    Idempotency,
    /// Store formats 2 to 6 only: requester (3 bytes) ++ need id → (). Emptied when such a
    /// store is opened; the index is kept in memory now (`memory_indexes.rs`).
    NeedsByRequester,
    /// Store formats 2 to 6 only: provider (3 bytes) ++ offer id → (). Emptied likewise.
    OffersByProvider,
    Matches,
    Arrangements,
    /// match id → () for every match still PROPOSED.
    ProposedMatches,
    /// Store formats 2 to 9 only: need id ++ match id → (). Emptied when such a store is
    /// opened; the index is kept in memory now (`memory_indexes.rs`).
    MatchesByNeed,
    /// Store formats 2 to 9 only: offer id ++ match id → (). Emptied likewise.
    MatchesByOffer,
    /// need id ++ offer id → (): remembered refusals.
    Refusals,
    /// offer id ++ need id → (): the same refusals, by offer.
    RefusalsByOffer,
    /// offer id ++ recipient (3 bytes) → u32 seats reserved or delivered.
    RecipientSeats,
    /// Store formats 2 to 5 only: time (8 bytes, big-endian micros) ++ idempotency key →
    /// (), the entries oldest first, for pruning. Emptied when such a store is opened;
    /// pruning now follows the entries' times in memory (`idempotency.rs`).
    IdempotencyByTime,
    /// Store format 9: pack number (u64) → the idempotency entries of one landing, as many
    /// as fit in one piece (`idempotency.rs`).
    IdempotencyPacks,
}

impl TreeId {
    pub const ALL: [TreeId; 20] = [
        TreeId::Meta,
        TreeId::Needs,
        TreeId::Offers,
        TreeId::Centres,
        TreeId::Principals,
        TreeId::Tokens,
        TreeId::Events,
        TreeId::Idempotency,
        TreeId::NeedsByRequester,
        TreeId::OffersByProvider,
        TreeId::Matches,
        TreeId::Arrangements,
        TreeId::ProposedMatches,
        TreeId::MatchesByNeed,
        TreeId::MatchesByOffer,
        TreeId::Refusals,
        TreeId::RefusalsByOffer,
        TreeId::RecipientSeats,
        TreeId::IdempotencyByTime,
        TreeId::IdempotencyPacks,
    ];

    pub fn name(self) -> &'static str {
        match self {
            TreeId::Meta => "meta",
            TreeId::Needs => "needs",
            TreeId::Offers => "offers",
            TreeId::Centres => "centres",
            TreeId::Principals => "principals",
            TreeId::Tokens => "tokens",
            TreeId::Events => "events",
            TreeId::Idempotency => "idempotency",
            TreeId::NeedsByRequester => "needs_by_requester",
            TreeId::OffersByProvider => "offers_by_provider",
            TreeId::Matches => "matches",
            TreeId::Arrangements => "arrangements",
            TreeId::ProposedMatches => "proposed_matches",
            TreeId::MatchesByNeed => "matches_by_need",
            TreeId::MatchesByOffer => "matches_by_offer",
            TreeId::Refusals => "refusals",
            TreeId::RefusalsByOffer => "refusals_by_offer",
            TreeId::RecipientSeats => "recipient_seats",
            TreeId::IdempotencyByTime => "idempotency_by_time",
            TreeId::IdempotencyPacks => "idempotency_packs",
        }
    }
}

impl TreeId {
    /// The one-byte prefix of this table's keys in [`TABLES`].
    pub(super) fn prefix(self) -> u8 {
        self as u8
    }
}

/// `key` of `table` as stored in [`TABLES`]: the table's prefix, then the key.
pub(super) fn table_key(table: TreeId, key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + key.len());
    k.push(table.prefix());
    k.extend_from_slice(key);
    k
}

/// The prefix under which values too long to be stored whole are kept in pieces
/// ([`super::tables`]): above every table's prefix, and not a table of its own (its
/// entries are part of the values they hold, never listed, backed up or digested apart).
pub(super) const PIECES: u8 = 0xF0;

/// The key of piece `n` of the value of `stored_key` (a key of [`TABLES`], with its
/// table's prefix): [`PIECES`], the key's length (u16), the key, then `n` (u32), all
/// big-endian. The length makes one key's pieces a prefix no other key's pieces share.
pub(super) fn piece_key(stored_key: &[u8], n: u32) -> Vec<u8> {
    let mut k = piece_prefix(stored_key);
    k.extend_from_slice(&n.to_be_bytes());
    k
}

/// The common prefix of the keys of `stored_key`'s pieces, [`piece_key`].
pub(super) fn piece_prefix(stored_key: &[u8]) -> Vec<u8> {
    let len = u16::try_from(stored_key.len()).unwrap_or(u16::MAX);
    let mut k = Vec::with_capacity(1 + 2 + stored_key.len() + 4);
    k.push(PIECES);
    k.extend_from_slice(&len.to_be_bytes());
    k.extend_from_slice(stored_key);
    k
}

/// The stored key and piece number of a key under [`PIECES`].
pub(super) fn from_piece_key(key: &[u8]) -> Option<(&[u8], u32)> {
    let rest = key.strip_prefix(&[PIECES])?;
    let (len, rest) = rest.split_first_chunk::<2>()?;
    let len = usize::from(u16::from_be_bytes(*len));
    let (stored, n) = (rest.get(..len)?, rest.get(len..)?);
    Some((stored, u32::from_be_bytes(n.try_into().ok()?)))
}

pub fn id_key(id: Id) -> [u8; 8] {
    id.0.to_be_bytes()
}

pub fn id_from_key(key: &[u8]) -> Option<Id> {
    Some(Id(u64::from_be_bytes(key.try_into().ok()?)))
}

pub fn sequence_key(sequence: u64) -> [u8; 8] {
    sequence.to_be_bytes()
}

/// The id at the end of an index key ([`pair_key`]).
pub fn id_from_index_key(key: &[u8]) -> Option<Id> {
    key.len().checked_sub(8).and_then(|at| id_from_key(&key[at..]))
}

/// Two ids, the first one grouping.
pub fn pair_key(first: Id, second: Id) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&id_key(first));
    k[8..].copy_from_slice(&id_key(second));
    k
}

/// The two ids of a [`pair_key`].
pub fn pair_from_key(key: &[u8]) -> Option<(Id, Id)> {
    (key.len() == 16).then_some(())?;
    Some((id_from_key(&key[..8])?, id_from_key(&key[8..])?))
}

/// The offer and the recipient of a [`recipient_key`].
pub fn recipient_from_key(key: &[u8]) -> Option<(Id, Alpha3)> {
    let (offer, state) = (key.get(..8)?, key.get(8..)?);
    Some((id_from_key(offer)?, std::str::from_utf8(state).ok()?.parse().ok()?))
}

/// A [`TreeId::RecipientSeats`] value: the seats.
pub fn seats_from_value(value: &[u8]) -> Option<u32> {
    <[u8; 4]>::try_from(value).ok().map(u32::from_be_bytes)
}

/// An offer and a recipient state.
pub fn recipient_key(offer: Id, state: Alpha3) -> [u8; 11] {
    let mut k = [0u8; 11];
    k[..8].copy_from_slice(&id_key(offer));
    k[8..].copy_from_slice(state.as_str().as_bytes());
    k
}

/// The key of the first response to `request_id` from `principal_id`: the principal id
/// (which holds no 0 byte), a 0, the request id's 16 bytes. Store formats up to 5 kept the
/// request id's 36 characters ([`legacy_idempotency_key`]); a 20-byte shorter key makes
/// sled's index pages, which it rewrites whole on every split, that much smaller.
pub fn idempotency_key(principal_id: &str, request_id: &uuid::Uuid) -> Vec<u8> {
    let mut k = Vec::with_capacity(principal_id.len() + 1 + 16);
    k.extend_from_slice(principal_id.as_bytes());
    k.push(0);
    k.extend_from_slice(request_id.as_bytes());
    k
}

/// The current key ([`idempotency_key`]) of an entry that store formats up to 5 keyed
/// by the request id's characters; `None` if `key` is current already. A key whose request
/// id is not a UUID (none that a server accepted) has no current form: `Some(None)`.
pub(super) fn legacy_idempotency_key(key: &[u8]) -> Option<Option<Vec<u8>>> {
    let split = key.iter().position(|&b| b == 0)?;
    let (principal, request_id) = (&key[..split], &key[split + 1..]);
    if request_id.len() == 16 {
        return None;
    }
    let current = std::str::from_utf8(principal)
        .ok()
        .zip(std::str::from_utf8(request_id).ok().and_then(|r| uuid::Uuid::parse_str(r).ok()))
        .map(|(p, r)| idempotency_key(p, &r));
    Some(current)
}

pub const META_FORMAT_VERSION: &[u8] = b"format_version";
pub const META_PAGE_TOKEN_KEY: &[u8] = b"page_token_key";
/// Store formats up to 5: present once every idempotency entry had its
/// [`TreeId::IdempotencyByTime`] entry. Removed when such a store is opened.
pub const META_IDEMPOTENCY_INDEXED: &[u8] = b"idempotency_indexed";
/// The first match id readers do not see (store format 5): matches at or above it are a
/// proposal being staged (`staging.rs`).
pub const META_MATCH_WATERMARK: &[u8] = b"match_watermark";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_keys_sort_numerically() {
        let mut keys: Vec<[u8; 8]> = [300u64, 2, 70_000, 1].iter().map(|n| id_key(Id(*n))).collect();
        keys.sort();
        let ids: Vec<u64> = keys.iter().filter_map(|k| id_from_key(k)).map(|i| i.0).collect();
        assert_eq!(ids, vec![1, 2, 300, 70_000]);
    }

    #[test]
    fn idempotency_keys_do_not_collide_across_principals() {
        let a = uuid::Uuid::from_u128(0x32 << 120);
        let b = uuid::Uuid::from_u128(0x32);
        assert_ne!(idempotency_key("principal-1", &a), idempotency_key("principal-12", &b));
    }

    #[test]
    fn a_legacy_key_is_rewritten_to_the_current_one_and_a_current_key_is_left() {
        let id = uuid::Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
        let current = idempotency_key("principal-1", &id);
        let legacy = [b"principal-1\0".as_slice(), id.hyphenated().to_string().as_bytes()].concat();
        assert_eq!(legacy_idempotency_key(&legacy), Some(Some(current.clone())));
        assert_eq!(legacy_idempotency_key(&current), None);
        assert_eq!(legacy_idempotency_key(b"principal-1\0not-a-uuid"), Some(None));
    }
}

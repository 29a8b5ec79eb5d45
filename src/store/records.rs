//! How records are stored: their encoding ([`encode`], [`decode`]) and table
//! ([`Record`]).

use super::keys::TreeId;
use super::{FORMAT_VERSION, StoreError, StoreResult};
use crate::domain::*;
use serde::{Serialize, de::DeserializeOwned};

/// `value` behind the [`FORMAT_VERSION`] byte. Fails only for a value serde cannot
/// encode (none of lcm's records), which [`Writer::commit`] refuses as a whole.
pub fn encode<T: Serialize>(tree: TreeId, value: &T) -> StoreResult<Vec<u8>> {
    let mut out = vec![FORMAT_VERSION];
    let body = bincode::serde::encode_to_vec(value, bincode::config::standard())
        .map_err(|e| StoreError::Encode { tree: tree.name(), detail: e.to_string() })?;
    out.extend(body);
    Ok(out)
}

pub fn decode<T: DeserializeOwned>(tree: TreeId, bytes: &[u8]) -> StoreResult<T> {
    match bytes.split_first() {
        Some((&FORMAT_VERSION, rest)) => bincode::serde::borrow_decode_from_slice(rest, bincode::config::standard())
            .map(|(v, _)| v)
            .map_err(|e| StoreError::Corrupt { tree: tree.name(), detail: e.to_string() }),
        Some((&other, _)) => Err(StoreError::UnknownFormat(other)),
        None => Err(StoreError::Corrupt { tree: tree.name(), detail: "empty value".into() }),
    }
}

/// A stored resource with its tree.
pub trait Record: Serialize + DeserializeOwned {
    const TREE: TreeId;
    fn id(&self) -> Id;
}

impl Record for Need {
    const TREE: TreeId = TreeId::Needs;
    fn id(&self) -> Id {
        self.meta.id
    }
}
impl Record for Offer {
    const TREE: TreeId = TreeId::Offers;
    fn id(&self) -> Id {
        self.meta.id
    }
}
impl Record for TrainingCentre {
    const TREE: TreeId = TreeId::Centres;
    fn id(&self) -> Id {
        self.meta.id
    }
}
impl Record for Match {
    const TREE: TreeId = TreeId::Matches;
    fn id(&self) -> Id {
        self.meta.id
    }
}
impl Record for Arrangement {
    const TREE: TreeId = TreeId::Arrangements;
    fn id(&self) -> Id {
        self.meta.id
    }
}
impl Record for Principal {
    const TREE: TreeId = TreeId::Principals;
    fn id(&self) -> Id {
        self.meta.id
    }
}

/// The first response to a request that carried a `request_id`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct IdempotencyEntry {
    pub method: String,
    /// SHA-256 of the encoded request.
    pub fingerprint: [u8; 32],
    /// The encoded response to return on a replay.
    pub response: Vec<u8>,
    pub time: UnixMicros,
}

//! What the client was told: one entry per resource version in an acknowledged response.

use lcm::api;
use prost::Message;
use std::hash::{Hash, Hasher};

/// A resource version that an acknowledged response carried.
#[derive(Clone, Debug)]
pub struct Ack {
    pub cycle: usize,
    pub method: &'static str,
    pub id: String,
    pub etag: String,
    /// Digest of the resource as encoded in the response; the event log must hold an
    /// event with the same id and etag whose resource has the same digest.
    pub digest: u64,
    /// The resource's creation time (seconds, nanos): which resource the id named. A
    /// resource read before a crash and later found under the same id with another
    /// creation time means the id was handed out twice.
    pub created: (i64, i32),
    pub state: AckedState,
}

/// The part of an acknowledged state that later writes may only extend.
#[derive(Clone, Debug)]
pub enum AckedState {
    Need {
        withdrawn: bool,
    },
    Offer {
        withdrawn: bool,
    },
    Match {
        approved: bool,
        arrangement_ids: Vec<String>,
    },
    /// The statuses of its history, in order: the current history starts with them.
    Arrangement {
        history: Vec<i32>,
    },
}

fn created(t: &Option<prost_types::Timestamp>) -> (i64, i32) {
    t.as_ref().map_or((0, 0), |t| (t.seconds, t.nanos))
}

pub fn digest<M: Message>(m: &M) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    m.encode_to_vec().hash(&mut h);
    h.finish()
}

/// The version in an etag (`W/"7"` → 7).
pub fn version(etag: &str) -> Option<u64> {
    etag.strip_prefix("W/\"")?.strip_suffix('"')?.parse().ok()
}

/// A resource that an acknowledged response (or a read) may carry.
pub trait Acked: Message + Sized {
    fn ack(&self, cycle: usize, method: &'static str) -> Ack;
    fn id(&self) -> &str;
}

impl Acked for api::Need {
    fn ack(&self, cycle: usize, method: &'static str) -> Ack {
        let state = AckedState::Need { withdrawn: self.state == api::NeedState::Withdrawn as i32 };
        Ack {
            cycle,
            method,
            id: self.id.clone(),
            etag: self.etag.clone(),
            digest: digest(self),
            created: created(&self.create_time),
            state,
        }
    }

    fn id(&self) -> &str {
        &self.id
    }
}

impl Acked for api::Offer {
    fn ack(&self, cycle: usize, method: &'static str) -> Ack {
        let state = AckedState::Offer { withdrawn: self.state == api::OfferState::Withdrawn as i32 };
        Ack {
            cycle,
            method,
            id: self.id.clone(),
            etag: self.etag.clone(),
            digest: digest(self),
            created: created(&self.create_time),
            state,
        }
    }

    fn id(&self) -> &str {
        &self.id
    }
}

impl Acked for api::Match {
    fn ack(&self, cycle: usize, method: &'static str) -> Ack {
        let state = AckedState::Match {
            approved: self.state == api::MatchState::Approved as i32,
            arrangement_ids: self.arrangement_ids.clone(),
        };
        Ack {
            cycle,
            method,
            id: self.id.clone(),
            etag: self.etag.clone(),
            digest: digest(self),
            created: created(&self.create_time),
            state,
        }
    }

    fn id(&self) -> &str {
        &self.id
    }
}

impl Acked for api::Arrangement {
    fn ack(&self, cycle: usize, method: &'static str) -> Ack {
        let state = AckedState::Arrangement { history: self.history.iter().map(|h| h.to_status).collect() };
        Ack {
            cycle,
            method,
            id: self.id.clone(),
            etag: self.etag.clone(),
            digest: digest(self),
            created: created(&self.create_time),
            state,
        }
    }

    fn id(&self) -> &str {
        &self.id
    }
}

//! The event log as readers see it: durable events only, the recent ones from memory; and
//! how an event is logged ([`logged`], [`Store::read_logged`]).

use super::*;

/// The first byte of a logged event that names its match instead of copying it (store
/// format 4); any other logged event is encoded whole, behind [`FORMAT_VERSION`].
const NAMED_MATCH: u8 = 0xE1;

/// An event as the log keeps it. A match event whose match can be rendered from the
/// record as it is now ([`EventKind::match_after`]: a proposal, a turn to STALE) names the match:
/// a proposal at 100 000 needs logs some 94 000 of each, and a match with its reasons is
/// the larger part of its event.
pub(super) fn logged(e: &Event) -> StoreResult<Vec<u8>> {
    if let EventResource::Match(m) = &e.resource
        && e.kind.match_after(m).as_ref() == Some(m)
    {
        let named = (e.sequence, e.kind, e.time, e.actor.as_str(), m.meta.id);
        let mut out = vec![NAMED_MATCH];
        out.extend(
            bincode::serde::encode_to_vec(named, bincode::config::standard())
                .map_err(|e| StoreError::Encode { tree: TreeId::Events.name(), detail: e.to_string() })?,
        );
        return Ok(out);
    }
    encode(TreeId::Events, e)
}

impl Store {
    /// Durable events with sequence > `after`, at most `limit`: from memory when they are
    /// recent, else from the log.
    pub fn events_after(&self, after: u64, limit: usize) -> StoreResult<Vec<Arc<Event>>> {
        let durable = self.durable_sequence();
        if after >= durable {
            return Ok(Vec::new());
        }
        let recent = self.inner.recent.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(front) = recent.front()
            && front.sequence <= after + 1
        {
            let skip = usize::try_from(after + 1 - front.sequence).unwrap_or(usize::MAX);
            return Ok(recent.iter().skip(skip).take_while(|e| e.sequence <= durable).take(limit).cloned().collect());
        }
        drop(recent);
        // Durable events are in sled: the flusher lands a group before flushing it.
        self.inner.failure.check()?;
        self.inner
            .tables
            .range(
                TreeId::Events,
                Bound::Included(keys::sequence_key(after + 1).to_vec()),
                Bound::Included(keys::sequence_key(durable).to_vec()),
            )
            .take(limit)
            .map(|kv| {
                let (_, v) = kv?;
                self.read_logged(&v).map(Arc::new)
            })
            .collect()
    }

    /// An event as [`logged`] kept it, whole: a named match is read from its record.
    pub fn read_logged(&self, bytes: &[u8]) -> StoreResult<Event> {
        let Some((&NAMED_MATCH, rest)) = bytes.split_first() else { return decode(TreeId::Events, bytes) };
        let corrupt = |detail: String| StoreError::Corrupt { tree: TreeId::Events.name(), detail };
        let ((sequence, kind, time, actor, id), _): ((u64, EventKind, UnixMicros, String, Id), _) =
            bincode::serde::decode_from_slice(rest, bincode::config::standard()).map_err(|e| corrupt(e.to_string()))?;
        let m = self
            .get::<Match>(id)?
            .and_then(|m| kind.match_after(&m))
            .ok_or_else(|| corrupt(format!("event {sequence} names match {}, which cannot show it", id.0)))?;
        Ok(Event { sequence, kind, time, actor, resource: EventResource::Match(m) })
    }

    /// Keeps just-committed events in memory (called under the writer gate, in order).
    pub(super) fn remember(&self, events: &[Event]) {
        if events.is_empty() {
            return;
        }
        // Nothing panics while the lock is held, so a poisoned lock still holds whole data.
        let mut recent = self.inner.recent.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        for e in events {
            if recent.len() == RECENT_EVENTS {
                recent.pop_front();
            }
            recent.push_back(Arc::new(e.clone()));
        }
    }

    /// The highest event sequence that is on disk.
    pub fn durable_sequence(&self) -> u64 {
        *self.inner.flusher.durable_events().borrow()
    }

    /// Follows the durable event sequence.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.inner.flusher.durable_events()
    }
}

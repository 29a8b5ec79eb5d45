//! The event log as readers see it: durable events only, the recent ones from memory.

use super::*;

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
                decode(TreeId::Events, &v).map(Arc::new)
            })
            .collect()
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

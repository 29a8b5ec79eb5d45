//! The event log as readers see it: durable events only, the recent ones from memory; and
//! how an event is logged ([`logged`], [`Store::read_logged`]) and how a landing's events
//! share log entries ([`packed`], since store format 8).

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

/// The first byte of a log entry that holds several events (store format 8): each as
/// [`logged`] makes it, behind its length (4 bytes, big-endian). Any other entry is one
/// event, as [`logged`] makes it.
const PACK: u8 = 0xE2;

/// A landing's events, in sequence order and consecutive, as log entries: each entry is
/// keyed by the sequence of its first event and holds as many of the following ones as fit
/// in [`tables::PIECE`] bytes, so that none is stored in pieces unless one event alone is
/// that long. One key per event made each landing a sled batch of one more operation per
/// commit, and most of the landing's cost is per operation.
pub(super) fn packed(events: &[(u64, IVec)]) -> Vec<tables::Op> {
    let mut entries = Vec::new();
    let mut rest = events;
    while let Some(((first, bytes), after)) = rest.split_first() {
        let mut size = 1 + 4 + bytes.len();
        let n = 1 + after
            .iter()
            .take_while(|(_, b)| {
                size += 4 + b.len();
                size <= tables::PIECE
            })
            .count();
        let (pack, next) = rest.split_at(n);
        debug_assert!(pack.windows(2).all(|w| w[1].0 == w[0].0 + 1), "a landing's events are consecutive");
        let value = match pack {
            [(_, one)] => one.clone(),
            _ => {
                let mut v = Vec::with_capacity(1 + pack.iter().map(|(_, b)| 4 + b.len()).sum::<usize>());
                v.push(PACK);
                for (_, b) in pack {
                    v.extend_from_slice(&(b.len() as u32).to_be_bytes());
                    v.extend_from_slice(b);
                }
                IVec::from(v)
            }
        };
        entries.push((TreeId::Events, IVec::from(&keys::sequence_key(*first)), Some(value)));
        rest = next;
    }
    entries
}

/// The events of a log entry, as [`logged`] made them, in order (the first has the entry's
/// sequence, each next one the next).
fn unpacked(entry: &[u8]) -> StoreResult<Vec<&[u8]>> {
    let Some((&PACK, mut rest)) = entry.split_first() else { return Ok(vec![entry]) };
    let mut events = Vec::new();
    while !rest.is_empty() {
        let corrupt =
            || StoreError::Corrupt { tree: TreeId::Events.name(), detail: "a pack of events is cut short".into() };
        let (len, tail) = rest.split_first_chunk::<4>().ok_or_else(corrupt)?;
        let len = u32::from_be_bytes(*len) as usize;
        if tail.len() < len {
            return Err(corrupt());
        }
        let (event, tail) = tail.split_at(len);
        events.push(event);
        rest = tail;
    }
    if events.is_empty() {
        return Err(StoreError::Corrupt { tree: TreeId::Events.name(), detail: "an empty pack of events".into() });
    }
    Ok(events)
}

/// The sequence of the first event of the log entry keyed `key`.
fn first_sequence(key: &[u8]) -> StoreResult<u64> {
    keys::id_from_key(key)
        .map(|id| id.0)
        .ok_or_else(|| StoreError::Corrupt { tree: TreeId::Events.name(), detail: format!("malformed key {key:?}") })
}

/// The sequence of the last event landed in `tables` (0 if none): the last entry's key
/// plus its events less one.
pub(super) fn last_landed(tables: &Tables) -> StoreResult<u64> {
    let Some((key, value)) = tables.last(TreeId::Events)? else { return Ok(0) };
    Ok(first_sequence(&key)? + unpacked(&value)?.len() as u64 - 1)
}

impl Store {
    /// Durable events with sequence > `after`, at most `limit`: from memory when they are
    /// recent, else from the log.
    pub fn events_after(&self, after: u64, limit: usize) -> StoreResult<Vec<Arc<Event>>> {
        Ok(self.durable_events_after(after, limit, true)?.0)
    }

    /// The durable events with sequence > `after` that are not about a match, among the
    /// next `limit` events, and the sequence of the last of those `limit` (`after` if
    /// there is none): for a reader that follows the log for needs, offers and the like,
    /// and is not to read the match record that each event of a proposal names (a stored
    /// proposal logs some 94 000 of them).
    pub fn events_after_except_matches(&self, after: u64, limit: usize) -> StoreResult<(Vec<Arc<Event>>, u64)> {
        self.durable_events_after(after, limit, false)
    }

    /// Among the next `limit` durable events after `after`, those about matches only if
    /// `matches`; and the sequence of the last looked at.
    fn durable_events_after(&self, after: u64, limit: usize, matches: bool) -> StoreResult<(Vec<Arc<Event>>, u64)> {
        let wanted = |e: &Event| matches || !matches!(e.resource, EventResource::Match(_));
        let durable = self.durable_sequence();
        if after >= durable {
            return Ok((Vec::new(), after));
        }
        let recent = self.inner.recent.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(front) = recent.front()
            && front.sequence <= after + 1
        {
            let skip = usize::try_from(after + 1 - front.sequence).unwrap_or(usize::MAX);
            let looked: Vec<&Arc<Event>> =
                recent.iter().skip(skip).take_while(|e| e.sequence <= durable).take(limit).collect();
            let last = looked.last().map_or(after, |e| e.sequence);
            return Ok((looked.into_iter().filter(|e| wanted(e)).cloned().collect(), last));
        }
        drop(recent);
        // Durable events are in sled: the flusher lands a group before flushing it.
        self.inner.failure.check()?;
        let tables = &self.inner.tables;
        let first_wanted = keys::sequence_key(after + 1);
        // The entry holding `after + 1` is the last one keyed at or before it.
        let from = tables
            .last_at_or_before(TreeId::Events, &first_wanted)?
            .map_or_else(|| first_wanted.to_vec(), |k| k.to_vec());
        let (mut events, mut last) = (Vec::new(), after);
        for kv in
            tables.range(TreeId::Events, Bound::Included(from), Bound::Included(keys::sequence_key(durable).to_vec()))
        {
            let (key, value) = kv?;
            let first = first_sequence(&key)?;
            for (sequence, bytes) in (first..).zip(unpacked(&value)?) {
                if sequence > durable || last - after == limit as u64 {
                    return Ok((events, last));
                }
                if sequence <= after {
                    continue;
                }
                last = sequence;
                // A named match is read from its record only if it is wanted.
                if !matches && bytes.first() == Some(&NAMED_MATCH) {
                    continue;
                }
                let event = self.read_one(bytes)?;
                if wanted(&event) {
                    events.push(Arc::new(event));
                }
            }
        }
        Ok((events, last))
    }

    /// The events of a log entry as [`packed`] and [`logged`] kept them, whole: a named
    /// match is read from its record.
    pub fn read_logged(&self, entry: &[u8]) -> StoreResult<Vec<Event>> {
        unpacked(entry)?.into_iter().map(|bytes| self.read_one(bytes)).collect()
    }

    /// An event as [`logged`] kept it, whole.
    fn read_one(&self, bytes: &[u8]) -> StoreResult<Event> {
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
        // Only the last RECENT_EVENTS can stay (a stored proposal commits some 94 000).
        for e in &events[events.len().saturating_sub(RECENT_EVENTS)..] {
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

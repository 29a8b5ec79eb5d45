//! After a restart: read the whole store back through the API as the Secretariat and
//! check it against the ledger of acknowledged responses and against its own invariants.
//!
//! - *Lost*: an acknowledged resource version that the event log does not hold (or holds
//!   with other content), or a resource now older than acknowledged (a lower version, a
//!   withdrawal undone, an approval gone, an arrangement history that does not start with
//!   the acknowledged one).
//! - *Broken*: a gap in the event sequence; a stored record that differs from the
//!   resource its last event carries, or an event whose resource is not stored (a change
//!   half applied); reserved ≠ Σ live arrangements, delivered ≠ Σ completed ones, or
//!   reserved + delivered > quantity or capacity, for any need or offer; a state that
//!   does not follow from the seats; an approved match without its arrangements or an
//!   arrangement without its approved match.
//! - *Unsafe reads*: a resource version that a client READ before the crash (Get or
//!   List) and that the event log does not hold with that content, or that the store now
//!   holds at an older version: the server showed a change that was not yet durable. If
//!   the id now names a different resource (another creation time), the id was handed out
//!   twice, which the finding says.

use super::ledger::{Ack, AckedState, digest, version};
use crate::harness::authed;
use lcm::api;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use tonic::Status;
use tonic::transport::Channel;

#[derive(Default)]
pub struct Findings {
    /// One line per acknowledged resource version that is not there.
    pub lost: Vec<String>,
    /// One line per broken invariant.
    pub broken: Vec<String>,
    /// One line per read version that is not there (see the module docs).
    pub reads: Vec<String>,
    pub events: u64,
    /// The highest number in the ids of needs, offers, matches and arrangements stored.
    pub max_ids: [u64; 4],
    /// Arrangements that are not final, for the next storm to move along.
    pub live: Vec<api::Arrangement>,
}

const PAGE: i32 = 500;
/// A page of 500 resources with texts at their limits is far over tonic's default 4 MiB.
const MAX_PAGE_BYTES: usize = 256 << 20;

/// Every item of a paged list.
async fn all<T, F, Fut>(mut page: F) -> Result<Vec<T>, Status>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, String), Status>>,
{
    let (mut out, mut token) = (Vec::new(), String::new());
    loop {
        let (items, next) = page(token).await?;
        out.extend(items);
        if next.is_empty() {
            return Ok(out);
        }
        token = next;
    }
}

struct Store {
    events: Vec<api::Event>,
    needs: Vec<api::Need>,
    offers: Vec<api::Offer>,
    matches: Vec<api::Match>,
    arrangements: Vec<api::Arrangement>,
}

async fn read_store(channel: &Channel, admin: &str) -> Result<Store, Status> {
    use api::arrangement_service_client::ArrangementServiceClient as Arrangements;
    use api::event_service_client::EventServiceClient as Events;
    use api::matching_service_client::MatchingServiceClient as Matching;
    use api::need_service_client::NeedServiceClient as Needs;
    use api::offer_service_client::OfferServiceClient as Offers;
    let events = all(|page_token| {
        let mut c = Events::new(channel.clone()).max_decoding_message_size(MAX_PAGE_BYTES);
        let r = authed(admin, api::ListEventsRequest { page_size: PAGE, page_token, ..Default::default() });
        async move { c.list_events(r).await.map(|r| r.into_inner()).map(|r| (r.events, r.next_page_token)) }
    })
    .await?;
    let needs = all(|page_token| {
        let mut c = Needs::new(channel.clone()).max_decoding_message_size(MAX_PAGE_BYTES);
        let r = authed(admin, api::ListNeedsRequest { page_size: PAGE, page_token, ..Default::default() });
        async move { c.list_needs(r).await.map(|r| r.into_inner()).map(|r| (r.needs, r.next_page_token)) }
    })
    .await?;
    let offers = all(|page_token| {
        let mut c = Offers::new(channel.clone()).max_decoding_message_size(MAX_PAGE_BYTES);
        let r = authed(admin, api::ListOffersRequest { page_size: PAGE, page_token, ..Default::default() });
        async move { c.list_offers(r).await.map(|r| r.into_inner()).map(|r| (r.offers, r.next_page_token)) }
    })
    .await?;
    let matches = all(|page_token| {
        let mut c = Matching::new(channel.clone()).max_decoding_message_size(MAX_PAGE_BYTES);
        let r = authed(admin, api::ListMatchesRequest { page_size: PAGE, page_token, ..Default::default() });
        async move { c.list_matches(r).await.map(|r| r.into_inner()).map(|r| (r.matches, r.next_page_token)) }
    })
    .await?;
    let arrangements = all(|page_token| {
        let mut c = Arrangements::new(channel.clone()).max_decoding_message_size(MAX_PAGE_BYTES);
        let r = authed(admin, api::ListArrangementsRequest { page_size: PAGE, page_token, ..Default::default() });
        async move { c.list_arrangements(r).await.map(|r| r.into_inner()).map(|r| (r.arrangements, r.next_page_token)) }
    })
    .await?;
    Ok(Store { events, needs, offers, matches, arrangements })
}

/// The id, etag and digest of the resource an event carries (needs, offers, matches,
/// arrangements).
fn event_version(e: &api::Event) -> Option<(String, String, u64)> {
    use api::event::Resource as R;
    match e.resource.as_ref()? {
        R::Need(n) => Some((n.id.clone(), n.etag.clone(), digest(n))),
        R::Offer(o) => Some((o.id.clone(), o.etag.clone(), digest(o))),
        R::Match(m) => Some((m.id.clone(), m.etag.clone(), digest(m))),
        R::Arrangement(a) => Some((a.id.clone(), a.etag.clone(), digest(a))),
        R::TrainingCentre(_) | R::Principal(_) => None,
    }
}

fn is_live(status: i32) -> bool {
    use api::ArrangementStatus as S;
    [S::PendingConsent, S::Agreed, S::Scheduled, S::InDelivery].iter().any(|s| *s as i32 == status)
}

/// Reserved, reserved women and delivered seats that the arrangements account for.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Held {
    reserved: u32,
    reserved_women: u32,
    delivered: u32,
}

impl Held {
    fn add(&mut self, a: &api::Arrangement) {
        if is_live(a.status) {
            self.reserved += a.quantity;
            self.reserved_women += a.women_quantity;
        } else if a.status == api::ArrangementStatus::Completed as i32 {
            self.delivered += a.quantity;
        }
    }
}

/// The kinds whose ids a reader probes, in the order of [`Findings::max_ids`].
pub const KINDS: [&str; 4] = ["need", "offer", "match", "arrangement"];

/// The number in an id (`need-17` → 17) and the index of its kind in [`KINDS`].
pub fn id_number(id: &str) -> Option<(usize, u64)> {
    let (kind, n) = id.rsplit_once('-')?;
    Some((KINDS.iter().position(|k| *k == kind)?, n.parse().ok()?))
}

pub async fn verify(channel: &Channel, admin: &str, ledger: &[Ack], reads: &[Ack]) -> Findings {
    let mut f = Findings::default();
    let store = match read_store(channel, admin).await {
        Ok(s) => s,
        Err(s) => {
            f.broken.push(format!("the restarted server does not serve the store: {:?} {}", s.code(), s.message()));
            return f;
        }
    };
    f.events = store.events.len() as u64;
    // The event log: gapless, and what each resource version was.
    let mut versions: HashMap<(String, String), u64> = HashMap::new();
    let mut latest: HashMap<String, u64> = HashMap::new();
    let mut expected = 1;
    for e in &store.events {
        if e.sequence != expected {
            f.broken.push(format!("event sequence gap: {} follows {}", e.sequence, expected - 1));
        }
        expected = e.sequence + 1;
        if let Some((id, etag, d)) = event_version(e) {
            latest.insert(id.clone(), d);
            versions.insert((id, etag), d);
        }
    }
    let needs: HashMap<&str, &api::Need> = store.needs.iter().map(|n| (n.id.as_str(), n)).collect();
    let offers: HashMap<&str, &api::Offer> = store.offers.iter().map(|o| (o.id.as_str(), o)).collect();
    let matches: HashMap<&str, &api::Match> = store.matches.iter().map(|m| (m.id.as_str(), m)).collect();
    let arrangements: HashMap<&str, &api::Arrangement> =
        store.arrangements.iter().map(|a| (a.id.as_str(), a)).collect();
    let current = |ack: &Ack| -> Option<(String, (i64, i32))> {
        fn created(t: &Option<prost_types::Timestamp>) -> (i64, i32) {
            t.as_ref().map_or((0, 0), |t| (t.seconds, t.nanos))
        }
        match &ack.state {
            AckedState::Need { .. } => needs.get(ack.id.as_str()).map(|n| (n.etag.clone(), created(&n.create_time))),
            AckedState::Offer { .. } => offers.get(ack.id.as_str()).map(|o| (o.etag.clone(), created(&o.create_time))),
            AckedState::Match { .. } => matches.get(ack.id.as_str()).map(|m| (m.etag.clone(), created(&m.create_time))),
            AckedState::Arrangement { .. } => {
                arrangements.get(ack.id.as_str()).map(|a| (a.etag.clone(), created(&a.create_time)))
            }
        }
    };
    // Every acknowledged (or read) version, at least as far along as acknowledged.
    let problem = |ack: &Ack| -> Option<String> {
        let in_log = versions.get(&(ack.id.clone(), ack.etag.clone()));
        let now = current(ack);
        let reused = match &now {
            Some((etag, created)) if *created != ack.created => format!(
                "; the id now names a different resource (created {created:?}, not {:?}; now at {etag}): the id was reused",
                ack.created
            ),
            _ => String::new(),
        };
        match in_log {
            None => Some(format!("the event log does not hold that version{reused}")),
            Some(d) if *d != ack.digest => Some(format!("the event log holds that version with other content{reused}")),
            Some(_) => match now {
                None => Some("it is no longer stored".into()),
                Some((etag, _)) if version(&etag) < version(&ack.etag) => {
                    Some(format!("the store holds older {etag}{reused}"))
                }
                Some(_) if !reused.is_empty() => Some(reused[2..].to_string()),
                Some(_) => went_back(ack, &needs, &offers, &matches, &arrangements),
            },
        }
    };
    for ack in ledger {
        if let Some(p) = problem(ack) {
            f.lost.push(format!("cycle {} {}: {} {}: {p}", ack.cycle, ack.method, ack.id, ack.etag));
        }
    }
    for read in reads {
        if let Some(p) = problem(read) {
            f.reads.push(format!(
                "cycle {} {} read {} {}, then the crash: {p}",
                read.cycle, read.method, read.id, read.etag
            ));
        }
    }
    // Records and events were written together: each record is its last event's resource.
    let stored: Vec<(&str, u64)> = store
        .needs
        .iter()
        .map(|n| (n.id.as_str(), digest(n)))
        .chain(store.offers.iter().map(|o| (o.id.as_str(), digest(o))))
        .chain(store.matches.iter().map(|m| (m.id.as_str(), digest(m))))
        .chain(store.arrangements.iter().map(|a| (a.id.as_str(), digest(a))))
        .collect();
    let stored_ids: HashSet<&str> = stored.iter().map(|(id, _)| *id).collect();
    for (id, d) in &stored {
        if latest.get(*id) != Some(d) {
            f.broken.push(format!("{id}: the stored record is not the resource of its last event"));
        }
    }
    for id in latest.keys() {
        if !stored_ids.contains(id.as_str()) {
            f.broken.push(format!("{id}: named by an event but not stored"));
        }
    }
    for (id, _) in &stored {
        if let Some((kind, n)) = id_number(id) {
            f.max_ids[kind] = f.max_ids[kind].max(n);
        }
    }
    check_seats(&mut f, &store);
    check_links(&mut f, &store, &matches, &arrangements);
    f.live = store.arrangements.into_iter().filter(|a| is_live(a.status)).collect();
    f
}

/// Whether the current resource undid part of the acknowledged state.
fn went_back(
    ack: &Ack,
    needs: &HashMap<&str, &api::Need>,
    offers: &HashMap<&str, &api::Offer>,
    matches: &HashMap<&str, &api::Match>,
    arrangements: &HashMap<&str, &api::Arrangement>,
) -> Option<String> {
    let id = ack.id.as_str();
    match &ack.state {
        AckedState::Need { withdrawn: true } if needs[id].state != api::NeedState::Withdrawn as i32 => {
            Some("the withdrawal is undone".into())
        }
        AckedState::Offer { withdrawn: true } if offers[id].state != api::OfferState::Withdrawn as i32 => {
            Some("the withdrawal is undone".into())
        }
        AckedState::Match { approved: true, arrangement_ids } => {
            let m = matches[id];
            (m.state != api::MatchState::Approved as i32 || &m.arrangement_ids != arrangement_ids)
                .then(|| "the approval or its arrangements are gone".into())
        }
        AckedState::Arrangement { history } => {
            let now: Vec<i32> = arrangements[id].history.iter().map(|h| h.to_status).collect();
            (!now.starts_with(history)).then(|| format!("its history {now:?} does not extend {history:?}"))
        }
        _ => None,
    }
}

/// reserved = Σ live arrangements, delivered = Σ completed ones, both within quantity or
/// capacity, and the state that follows, for every need and offer.
fn check_seats(f: &mut Findings, store: &Store) {
    let mut by_need: HashMap<&str, Held> = HashMap::new();
    let mut by_offer: HashMap<&str, Held> = HashMap::new();
    for a in &store.arrangements {
        by_need.entry(a.need_id.as_str()).or_default().add(a);
        if let Some(al) = &a.allocation {
            by_offer.entry(al.offer_id.as_str()).or_default().add(a);
            if !al.funding_offer_id.is_empty() {
                by_offer.entry(al.funding_offer_id.as_str()).or_default().add(a);
            }
        }
    }
    for n in &store.needs {
        let held = by_need.get(n.id.as_str()).copied().unwrap_or_default();
        let have = Held {
            reserved: n.reserved_quantity,
            reserved_women: n.reserved_women_quantity,
            delivered: n.delivered_quantity,
        };
        if have != held {
            f.broken.push(format!("{}: seats {have:?}, but its arrangements hold {held:?}", n.id));
        }
        let used = n.reserved_quantity + n.delivered_quantity;
        if used > n.quantity {
            f.broken.push(format!("{}: {used} seats reserved or delivered of {}", n.id, n.quantity));
        }
        let want = if n.state == api::NeedState::Withdrawn as i32 {
            n.state
        } else if used >= n.quantity {
            api::NeedState::Fulfilled as i32
        } else {
            api::NeedState::Open as i32
        };
        if n.state != want {
            f.broken.push(format!("{}: state {} with {used} of {} seats used", n.id, n.state, n.quantity));
        }
    }
    for o in &store.offers {
        let held = by_offer.get(o.id.as_str()).copied().unwrap_or_default();
        if (o.reserved_quantity, o.delivered_quantity) != (held.reserved, held.delivered) {
            f.broken.push(format!(
                "{}: reserved {} delivered {}, but its arrangements hold {} and {}",
                o.id, o.reserved_quantity, o.delivered_quantity, held.reserved, held.delivered
            ));
        }
        let used = o.reserved_quantity + o.delivered_quantity;
        if used > o.capacity {
            f.broken.push(format!("{}: {used} seats reserved or delivered of {}", o.id, o.capacity));
        }
        let want = if o.state == api::OfferState::Withdrawn as i32 {
            o.state
        } else if used >= o.capacity {
            api::OfferState::Exhausted as i32
        } else {
            api::OfferState::Open as i32
        };
        if o.state != want {
            f.broken.push(format!("{}: state {} with {used} of {} seats used", o.id, o.state, o.capacity));
        }
    }
    let need_ids: HashSet<&str> = store.needs.iter().map(|n| n.id.as_str()).collect();
    let offer_ids: HashSet<&str> = store.offers.iter().map(|o| o.id.as_str()).collect();
    for a in &store.arrangements {
        if !need_ids.contains(a.need_id.as_str()) {
            f.broken.push(format!("{}: its need {} is not stored", a.id, a.need_id));
        }
        if a.allocation.as_ref().is_none_or(|al| !offer_ids.contains(al.offer_id.as_str())) {
            f.broken.push(format!("{}: its offer is not stored", a.id));
        }
    }
}

/// Approved matches and their arrangements point at each other; arrangements' histories
/// and consents fit their status.
fn check_links(
    f: &mut Findings,
    store: &Store,
    matches: &HashMap<&str, &api::Match>,
    arrangements: &HashMap<&str, &api::Arrangement>,
) {
    use api::ArrangementStatus as S;
    for m in &store.matches {
        let approved = m.state == api::MatchState::Approved as i32;
        if !approved {
            if !m.arrangement_ids.is_empty() {
                f.broken.push(format!("{}: not approved but names arrangements", m.id));
            }
            continue;
        }
        if m.arrangement_ids.len() != m.allocations.len() {
            f.broken.push(format!(
                "{}: approved with {} allocations but {} arrangements",
                m.id,
                m.allocations.len(),
                m.arrangement_ids.len()
            ));
        }
        for aid in &m.arrangement_ids {
            match arrangements.get(aid.as_str()) {
                Some(a) if a.match_id == m.id && a.need_id == m.need_id => {}
                Some(_) => f.broken.push(format!("{}: arrangement {aid} belongs elsewhere", m.id)),
                None => f.broken.push(format!("{}: approved, but its arrangement {aid} is not stored", m.id)),
            }
        }
    }
    for a in &store.arrangements {
        match matches.get(a.match_id.as_str()) {
            Some(m) if m.state == api::MatchState::Approved as i32 && m.arrangement_ids.contains(&a.id) => {}
            _ => f.broken.push(format!("{}: its match {} is not approved with it", a.id, a.match_id)),
        }
        let statuses: Vec<i32> = a.history.iter().map(|h| h.to_status).collect();
        if statuses.first() != Some(&(S::PendingConsent as i32)) || statuses.last() != Some(&a.status) {
            f.broken.push(format!("{}: status {} with history {statuses:?}", a.id, a.status));
        }
        let accepted = a.consents.iter().all(|c| c.decision == api::ConsentDecision::Accepted as i32);
        let consented = [S::Agreed, S::Scheduled, S::InDelivery, S::Completed].iter().any(|s| *s as i32 == a.status);
        if consented && !accepted {
            f.broken.push(format!("{}: status {} without every party's consent", a.id, a.status));
        }
    }
}

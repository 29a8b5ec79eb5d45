//! The storm: concurrent writers against the running server until it is killed. Every
//! acknowledged response goes into the ledger; refusals the API allows under contention
//! (FAILED_PRECONDITION, ABORTED) are skipped; any other error before the kill is a
//! finding. Some requests are sent twice at once with the same `request_id`, as a client
//! retrying on a timeout would.
//!
//! Texts are at their documented limits (titles 200, descriptions 4 000, notes 2 000
//! characters, most of them four-byte characters), so one commit writes tens of KiB three
//! times (record, event, stored response): landings are hundreds of KiB, and the values,
//! stored in pieces, would pass sled's blob threshold (a quarter of a 512 KiB segment)
//! whole, a few to a page.
//!
//! Readers run alongside the writers: they Get the ids just past the highest ones seen
//! (the resources being created right now), Get resources just written, and List the
//! cycle's needs. Every resource version they are shown goes into the read ledger, which
//! the checks hold to the same standard as acknowledged writes.

use super::check::{KINDS, id_number};
use super::ledger::{Ack, Acked};
use super::process::Server;
use crate::harness::{authed, new_request_id, ts_days};
use lcm::api;
use lcm::api::arrangement_service_client::ArrangementServiceClient;
use lcm::api::matching_service_client::MatchingServiceClient;
use lcm::api::need_service_client::NeedServiceClient;
use lcm::api::offer_service_client::OfferServiceClient;
use lcm::convert::limits::{
    MAX_DESCRIPTION_CHARS as MAX_DESCRIPTION, MAX_NOTE_CHARS as MAX_NOTE, MAX_SHORT_TEXT_CHARS as MAX_SHORT,
    MAX_TITLE_CHARS as MAX_TITLE,
};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tonic::transport::Channel;
use tonic::{Code, Status};

pub const RECIPIENTS: [&str; 4] = ["UGA", "RWA", "KEN", "GHA"];
pub const PROVIDERS: [&str; 4] = ["JPN", "FRA", "BRA", "IRL"];
/// Writers that create, update and withdraw needs and offers.
const CREATORS: usize = 3;
/// Writers that move arrangements along (consent, schedule, deliver, complete, cancel).
const PROGRESSORS: usize = 3;
/// Creations per creator and cycle: bounds how much matching there is to do.
const CREATES_PER_CREATOR: usize = 24;
/// Share of requests sent twice at once with the same request_id.
const DUPLICATE_SHARE: f64 = 0.1;
/// Days every offer's course lasts.
const DURATION_DAYS: i64 = 5;
/// Readers per storm.
const READERS: usize = 3;
/// How far past the highest id seen a reader probes.
const PROBE_AHEAD: u64 = 3;

/// Characters the large texts are made of: mostly four bytes in UTF-8, none of them
/// control characters.
const WIDE: [char; 6] = ['𝄞', '𝔸', '🕊', '🌍', 'é', '€'];

/// `chars` characters: `tag` first (it makes the text unique), then wide characters, with
/// a newline every 80 when `multiline`.
pub fn text(tag: &str, chars: usize, multiline: bool) -> String {
    let mut out: String = tag.chars().take(chars).collect();
    let mut n = out.chars().count();
    while n < chars {
        let c = if multiline && n % 80 == 79 { '\n' } else { WIDE[n % WIDE.len()] };
        out.push(c);
        n += 1;
    }
    out
}

pub struct Tokens {
    pub admin: String,
    pub states: BTreeMap<&'static str, String>,
}

impl Tokens {
    fn state(&self, code: &str) -> &str {
        self.states.get(code).map_or("", String::as_str)
    }
}

pub struct Storm {
    channel: Channel,
    tokens: Arc<Tokens>,
    cycle: usize,
    capability: i32,
    stop: AtomicBool,
    /// The server may abort by itself (`--test-abort-mid-landing`): a lost connection
    /// then ends a writer instead of counting as unexpected, if the server did abort.
    may_abort: bool,
    lost_connections: AtomicUsize,
    acked_calls: AtomicUsize,
    acks: Mutex<Vec<Ack>>,
    /// Every resource version a reader was shown (once per id and etag).
    reads: Mutex<BTreeMap<(String, String), Ack>>,
    /// Per kind (`check::KINDS`), the highest id number seen so far.
    max_ids: [AtomicU64; 4],
    /// Per kind, ids recently acknowledged, for the readers to read back.
    recent: Mutex<[VecDeque<String>; 4]>,
    unexpected: Mutex<Vec<String>>,
    /// Arrangements that are not final, with the last state seen.
    queue: Mutex<VecDeque<api::Arrangement>>,
}

/// What the storm leaves: the acknowledged versions, and errors no writer expected.
pub struct StormOutcome {
    /// Acknowledged responses (a request sent twice can be acknowledged twice).
    pub acked_calls: usize,
    pub acks: Vec<Ack>,
    pub reads: Vec<Ack>,
    pub unexpected: Vec<String>,
    /// The server aborted by itself before the kill.
    pub aborted: bool,
}

enum Answer<T> {
    Acked(T),
    Refused,
    Stop,
}

impl Storm {
    pub fn new(
        channel: Channel,
        tokens: Arc<Tokens>,
        cycle: usize,
        capability: api::CapabilityArea,
        live: Vec<api::Arrangement>,
        may_abort: bool,
        max_ids: [u64; 4],
    ) -> Arc<Storm> {
        Arc::new(Storm {
            channel,
            tokens,
            cycle,
            capability: capability as i32,
            stop: AtomicBool::new(false),
            may_abort,
            lost_connections: AtomicUsize::new(0),
            acked_calls: AtomicUsize::new(0),
            acks: Mutex::default(),
            reads: Mutex::default(),
            max_ids: max_ids.map(AtomicU64::new),
            recent: Mutex::default(),
            unexpected: Mutex::default(),
            queue: Mutex::new(live.into()),
        })
    }

    /// Runs the writers, kills `server` with SIGKILL after `kill_after`, and waits for
    /// the writers to notice.
    pub async fn run(self: Arc<Storm>, mut server: Server, kill_after: Duration, seed: u64) -> StormOutcome {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..CREATORS {
            workers.spawn(self.clone().creator(StdRng::seed_from_u64(rng.r#gen())));
        }
        for _ in 0..PROGRESSORS {
            workers.spawn(self.clone().progressor(StdRng::seed_from_u64(rng.r#gen())));
        }
        workers.spawn(self.clone().matcher(StdRng::seed_from_u64(rng.r#gen())));
        for _ in 0..READERS {
            workers.spawn(self.clone().reader(StdRng::seed_from_u64(rng.r#gen())));
        }
        let kill_at = tokio::time::Instant::now() + kill_after;
        let mut aborted = false;
        while tokio::time::Instant::now() < kill_at {
            if self.may_abort && server.exited() {
                aborted = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(5).min(kill_at - tokio::time::Instant::now())).await;
        }
        // Set before the kill, so that errors from here on are the kill's.
        self.stop.store(true, Ordering::SeqCst);
        server.kill();
        let drained = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(done) = workers.join_next().await {
                if let Err(e) = done {
                    self.note(format!("a writer panicked: {e}"));
                }
            }
        })
        .await;
        if drained.is_err() {
            self.note("writers still running 30 s after the kill".into());
            workers.abort_all();
        }
        let lost = self.lost_connections.load(Ordering::SeqCst);
        if lost > 0 && !aborted {
            self.note(format!("{lost} requests lost their connection, but the server did not abort"));
        }
        StormOutcome {
            aborted,
            acked_calls: self.acked_calls.load(Ordering::SeqCst),
            acks: std::mem::take(&mut *self.acks.lock().unwrap()),
            reads: std::mem::take(&mut *self.reads.lock().unwrap()).into_values().collect(),
            unexpected: std::mem::take(&mut *self.unexpected.lock().unwrap()),
        }
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    fn note(&self, finding: String) {
        self.unexpected.lock().unwrap().push(finding);
    }

    fn record<R: Acked>(&self, method: &'static str, resource: &R) {
        self.acks.lock().unwrap().push(resource.ack(self.cycle, method));
        if let Some((kind, n)) = id_number(resource.id()) {
            self.max_ids[kind].fetch_max(n, Ordering::SeqCst);
            let mut recent = self.recent.lock().unwrap();
            recent[kind].push_back(resource.id().to_string());
            if recent[kind].len() > 32 {
                recent[kind].pop_front();
            }
        }
    }

    /// Logs a resource version a reader was shown.
    fn saw<R: Acked>(&self, method: &'static str, resource: &R) {
        let read = resource.ack(self.cycle, method);
        if let Some((kind, n)) = id_number(&read.id) {
            self.max_ids[kind].fetch_max(n, Ordering::SeqCst);
        }
        self.reads.lock().unwrap().entry((read.id.clone(), read.etag.clone())).or_insert(read);
    }

    /// Reads until the kill: Gets ids just past the highest seen (resources being
    /// created), Gets ids just written, Lists the cycle's needs; logs what it is shown.
    async fn reader(self: Arc<Storm>, mut rng: StdRng) {
        let admin = self.tokens.admin.clone();
        let needs = NeedServiceClient::new(self.channel.clone());
        let offers = OfferServiceClient::new(self.channel.clone());
        let matching = MatchingServiceClient::new(self.channel.clone());
        let arrangements = ArrangementServiceClient::new(self.channel.clone());
        while !self.stopped() {
            let kind = rng.gen_range(0..KINDS.len());
            let roll = rng.gen_range(0..10);
            let id = if roll < 6 {
                let n = self.max_ids[kind].load(Ordering::SeqCst) + rng.gen_range(1..=PROBE_AHEAD);
                format!("{}-{n}", KINDS[kind])
            } else if roll < 9 {
                let recent = self.recent.lock().unwrap();
                match recent[kind].len() {
                    0 => continue,
                    len => recent[kind][rng.gen_range(0..len)].clone(),
                }
            } else {
                let req = api::ListNeedsRequest { page_size: 100, capability: self.capability, ..Default::default() };
                match needs.clone().list_needs(authed(&admin, req)).await {
                    Ok(r) => r.into_inner().needs.iter().for_each(|n| self.saw("ListNeeds", n)),
                    Err(s) => self.read_error("ListNeeds", s),
                }
                continue;
            };
            let get = api::GetNeedRequest { id: id.clone() };
            let result = match kind {
                0 => needs.clone().get_need(authed(&admin, get)).await.map(|r| self.saw("GetNeed", r.get_ref())),
                1 => offers
                    .clone()
                    .get_offer(authed(&admin, api::GetOfferRequest { id }))
                    .await
                    .map(|r| self.saw("GetOffer", r.get_ref())),
                2 => matching
                    .clone()
                    .get_match(authed(&admin, api::GetMatchRequest { id }))
                    .await
                    .map(|r| self.saw("GetMatch", r.get_ref())),
                _ => arrangements
                    .clone()
                    .get_arrangement(authed(&admin, api::GetArrangementRequest { id }))
                    .await
                    .map(|r| self.saw("GetArrangement", r.get_ref())),
            };
            match result {
                Ok(()) => {}
                Err(s) if s.code() == Code::NotFound => {}
                Err(s) => self.read_error("Get", s),
            }
        }
    }

    fn read_error(&self, method: &str, s: Status) {
        if self.stopped() || (self.may_abort && matches!(s.code(), Code::Unavailable | Code::Unknown | Code::Cancelled))
        {
            return;
        }
        self.note(format!("{method}: unexpected {:?}: {}", s.code(), s.message()));
    }

    fn answer<T>(&self, method: &'static str, result: Result<tonic::Response<T>, Status>) -> Answer<T> {
        match result {
            Ok(r) => {
                self.acked_calls.fetch_add(1, Ordering::SeqCst);
                Answer::Acked(r.into_inner())
            }
            Err(_) if self.stopped() => Answer::Stop,
            Err(s) if self.may_abort && matches!(s.code(), Code::Unavailable | Code::Unknown | Code::Cancelled) => {
                self.lost_connections.fetch_add(1, Ordering::SeqCst);
                Answer::Stop
            }
            Err(s) if matches!(s.code(), Code::FailedPrecondition | Code::Aborted) => Answer::Refused,
            Err(s) => {
                self.note(format!("{method}: unexpected {:?}: {}", s.code(), s.message()));
                Answer::Stop
            }
        }
    }

    /// Sends a request once, or twice at once (same request_id) when `twice`: then both
    /// answers, when acknowledged, must be the same.
    async fn send<T, F, Fut>(&self, method: &'static str, twice: bool, call: F) -> Answer<T>
    where
        T: PartialEq,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<tonic::Response<T>, Status>>,
    {
        if !twice {
            return self.answer(method, call().await);
        }
        let (a, b) = tokio::join!(call(), call());
        match (self.answer(method, a), self.answer(method, b)) {
            (Answer::Acked(x), Answer::Acked(y)) => {
                if x != y {
                    self.note(format!("{method}: a retry with the same request_id was answered differently"));
                }
                Answer::Acked(x)
            }
            (Answer::Acked(x), _) | (_, Answer::Acked(x)) => Answer::Acked(x),
            (Answer::Stop, _) | (_, Answer::Stop) => Answer::Stop,
            _ => Answer::Refused,
        }
    }

    /// Creates needs and offers (as their states), then updates and withdraws them.
    async fn creator(self: Arc<Storm>, mut rng: StdRng) {
        let needs_client = NeedServiceClient::new(self.channel.clone());
        let offers_client = OfferServiceClient::new(self.channel.clone());
        let (mut needs, mut offers): (Vec<api::Need>, Vec<api::Offer>) = (Vec::new(), Vec::new());
        let mut created = 0;
        while !self.stopped() {
            let roll = rng.gen_range(0..100);
            let twice = rng.gen_bool(DUPLICATE_SHARE);
            let rid = new_request_id();
            let go_on = if created < CREATES_PER_CREATOR && roll < 70 {
                created += 1;
                if roll % 2 == 0 {
                    let requester = *RECIPIENTS.choose(&mut rng).unwrap();
                    let req = api::CreateNeedRequest { need: Some(self.need(requester, &mut rng)), request_id: rid };
                    let token = self.tokens.state(requester);
                    let a = self
                        .send("CreateNeed", twice, || {
                            let (mut c, r) = (needs_client.clone(), authed(token, req.clone()));
                            async move { c.create_need(r).await }
                        })
                        .await;
                    self.keep("CreateNeed", a, &mut needs, None)
                } else {
                    let provider = *PROVIDERS.choose(&mut rng).unwrap();
                    let req = api::CreateOfferRequest { offer: Some(self.offer(provider, &mut rng)), request_id: rid };
                    let token = self.tokens.state(provider);
                    let a = self
                        .send("CreateOffer", twice, || {
                            let (mut c, r) = (offers_client.clone(), authed(token, req.clone()));
                            async move { c.create_offer(r).await }
                        })
                        .await;
                    self.keep("CreateOffer", a, &mut offers, None)
                }
            } else if roll % 2 == 0 && !needs.is_empty() {
                let i = rng.gen_range(0..needs.len());
                let mut n = needs[i].clone();
                let token = self.tokens.state(&n.requester).to_string();
                if roll < 90 {
                    n.quantity = (i64::from(n.quantity) + rng.gen_range(-2..=3)).clamp(1, 40) as u32;
                    if rng.gen_bool(0.5) {
                        n.etag.clear(); // unconditional: races the approvals on purpose
                    }
                    let mask = Some(prost_types::FieldMask { paths: vec!["quantity".into()] });
                    let req = api::UpdateNeedRequest { need: Some(n), update_mask: mask, request_id: rid };
                    let a = self
                        .send("UpdateNeed", twice, || {
                            let (mut c, r) = (needs_client.clone(), authed(&token, req.clone()));
                            async move { c.update_need(r).await }
                        })
                        .await;
                    self.keep("UpdateNeed", a, &mut needs, Some(i))
                } else {
                    let req = api::WithdrawNeedRequest { id: n.id, etag: String::new(), request_id: rid };
                    let a = self
                        .send("WithdrawNeed", twice, || {
                            let (mut c, r) = (needs_client.clone(), authed(&token, req.clone()));
                            async move { c.withdraw_need(r).await }
                        })
                        .await;
                    let go_on = self.keep("WithdrawNeed", a, &mut needs, Some(i));
                    needs.remove(i);
                    go_on
                }
            } else if !offers.is_empty() {
                let i = rng.gen_range(0..offers.len());
                let mut o = offers[i].clone();
                let token = self.tokens.state(&o.providers[0]).to_string();
                if roll < 90 {
                    o.capacity = (i64::from(o.capacity) + rng.gen_range(-3..=3)).clamp(1, 40) as u32;
                    if rng.gen_bool(0.5) {
                        o.etag.clear();
                    }
                    let mask = Some(prost_types::FieldMask { paths: vec!["capacity".into()] });
                    let req = api::UpdateOfferRequest { offer: Some(o), update_mask: mask, request_id: rid };
                    let a = self
                        .send("UpdateOffer", twice, || {
                            let (mut c, r) = (offers_client.clone(), authed(&token, req.clone()));
                            async move { c.update_offer(r).await }
                        })
                        .await;
                    self.keep("UpdateOffer", a, &mut offers, Some(i))
                } else {
                    let req = api::WithdrawOfferRequest { id: o.id, etag: String::new(), request_id: rid };
                    let a = self
                        .send("WithdrawOffer", twice, || {
                            let (mut c, r) = (offers_client.clone(), authed(&token, req.clone()));
                            async move { c.withdraw_offer(r).await }
                        })
                        .await;
                    let go_on = self.keep("WithdrawOffer", a, &mut offers, Some(i));
                    offers.remove(i);
                    go_on
                }
            } else {
                tokio::time::sleep(Duration::from_millis(2)).await;
                true
            };
            if !go_on {
                return;
            }
        }
    }

    /// Records an acknowledged need or offer and keeps it (at `slot`, or appended) for
    /// later updates. Returns whether the writer goes on.
    fn keep<R: Acked + Clone>(
        &self,
        method: &'static str,
        a: Answer<R>,
        mine: &mut Vec<R>,
        slot: Option<usize>,
    ) -> bool {
        match a {
            Answer::Acked(r) => {
                self.record(method, &r);
                match slot {
                    Some(i) => mine[i] = r,
                    None => mine.push(r),
                }
                true
            }
            Answer::Refused => true,
            Answer::Stop => false,
        }
    }

    fn need(&self, requester: &str, rng: &mut StdRng) -> api::Need {
        api::Need {
            requester: requester.into(),
            category: api::SupportCategory::Training as i32,
            capability: self.capability,
            title: text(&format!("crash cycle {} need {} ", self.cycle, new_request_id()), MAX_TITLE, false),
            description: text("need ", MAX_DESCRIPTION, true),
            pledge_ref: text("P-", MAX_SHORT, false),
            quantity: rng.gen_range(2..=8),
            women_quantity: 0,
            languages: vec!["en".into()],
            needed_by: Some(ts_days(120)),
            priority: *[api::Priority::Routine, api::Priority::High].choose(rng).unwrap() as i32,
            pledge_level: api::ReadinessLevel::Level2 as i32,
            ..Default::default()
        }
    }

    fn offer(&self, provider: &str, rng: &mut StdRng) -> api::Offer {
        api::Offer {
            providers: vec![provider.into()],
            role: api::OfferRole::Delivery as i32,
            category: api::SupportCategory::Training as i32,
            capability: self.capability,
            title: text(&format!("crash cycle {} offer {} ", self.cycle, new_request_id()), MAX_TITLE, false),
            description: text("offer ", MAX_DESCRIPTION, true),
            capacity: rng.gen_range(3..=15),
            available_from: Some(ts_days(1)),
            available_until: Some(ts_days(200)),
            languages: vec!["en".into()],
            mode: api::DeliveryMode::MobileTrainingTeam as i32,
            duration_days: DURATION_DAYS as u32,
            ..Default::default()
        }
    }

    /// Proposes matches for this cycle's capability, then approves (or rejects) every
    /// proposal at once.
    async fn matcher(self: Arc<Storm>, mut rng: StdRng) {
        let client = MatchingServiceClient::new(self.channel.clone());
        let admin = self.tokens.admin.clone();
        while !self.stopped() {
            let req = api::ProposeMatchesRequest {
                capabilities: vec![self.capability],
                dry_run: false,
                request_id: new_request_id(),
                ..Default::default()
            };
            let proposed = self
                .send("ProposeMatches", rng.gen_bool(DUPLICATE_SHARE), || {
                    let (mut c, r) = (client.clone(), authed(&admin, req.clone()));
                    async move { c.propose_matches(r).await }
                })
                .await;
            let matches = match proposed {
                Answer::Acked(r) => r.matches,
                Answer::Refused => Vec::new(),
                Answer::Stop => return,
            };
            let mut decisions = tokio::task::JoinSet::new();
            for m in matches {
                self.record("ProposeMatches", &m);
                let (reject, twice) = (rng.gen_bool(0.1), rng.gen_bool(DUPLICATE_SHARE));
                decisions.spawn(self.clone().decide(client.clone(), m, reject, twice));
            }
            while decisions.join_next().await.is_some() {}
            tokio::time::sleep(Duration::from_millis(rng.gen_range(0..20))).await;
        }
    }

    async fn decide(
        self: Arc<Storm>,
        client: MatchingServiceClient<Channel>,
        m: api::Match,
        reject: bool,
        twice: bool,
    ) {
        let admin = self.tokens.admin.as_str();
        let rid = new_request_id();
        if reject {
            let req = api::RejectMatchRequest {
                id: m.id,
                etag: m.etag,
                reason: text("reject ", MAX_NOTE, true),
                request_id: rid,
            };
            let a = self
                .send("RejectMatch", twice, || {
                    let (mut c, r) = (client.clone(), authed(admin, req.clone()));
                    async move { c.reject_match(r).await }
                })
                .await;
            if let Answer::Acked(m) = a {
                self.record("RejectMatch", &m);
            }
            return;
        }
        let req = api::ApproveMatchRequest {
            id: m.id,
            etag: m.etag,
            comment: text("approve ", MAX_NOTE, true),
            request_id: rid,
        };
        let a = self
            .send("ApproveMatch", twice, || {
                let (mut c, r) = (client.clone(), authed(admin, req.clone()));
                async move { c.approve_match(r).await }
            })
            .await;
        if let Answer::Acked(r) = a {
            match &r.r#match {
                Some(m) => self.record("ApproveMatch", m),
                None => self.note("ApproveMatch: acknowledged without its match".into()),
            }
            for arr in &r.arrangements {
                self.record("ApproveMatch", arr);
            }
            self.queue.lock().unwrap().extend(r.arrangements);
        }
    }

    /// Takes arrangements from the queue and moves each one step along.
    async fn progressor(self: Arc<Storm>, mut rng: StdRng) {
        let client = ArrangementServiceClient::new(self.channel.clone());
        while !self.stopped() {
            let next = self.queue.lock().unwrap().pop_front();
            let Some(a) = next else {
                tokio::time::sleep(Duration::from_millis(3)).await;
                continue;
            };
            match self.step(&client, a, &mut rng).await {
                Answer::Acked(a) => {
                    use api::ArrangementStatus as S;
                    if ![S::Completed as i32, S::Declined as i32, S::Cancelled as i32].contains(&a.status) {
                        self.queue.lock().unwrap().push_back(a);
                    }
                }
                Answer::Refused => {}
                Answer::Stop => return,
            }
        }
    }

    async fn step(
        &self,
        client: &ArrangementServiceClient<Channel>,
        a: api::Arrangement,
        rng: &mut StdRng,
    ) -> Answer<api::Arrangement> {
        use api::ArrangementStatus as S;
        let (admin, rid, twice) = (self.tokens.admin.as_str(), new_request_id(), rng.gen_bool(DUPLICATE_SHARE));
        let provider = a.parties.iter().find(|p| **p != a.recipient).cloned().unwrap_or_default();
        let transition = |to: S, start: i64| api::TransitionArrangementRequest {
            id: a.id.clone(),
            etag: a.etag.clone(),
            to: to as i32,
            note: text("transition ", MAX_NOTE, true),
            scheduled_start: (start > 0).then_some(prost_types::Timestamp { seconds: start, nanos: 0 }),
            scheduled_end: (start > 0)
                .then_some(prost_types::Timestamp { seconds: start + DURATION_DAYS * 86_400, nanos: 0 }),
            request_id: rid.clone(),
        };
        let cancel = rng.gen_bool(0.08);
        let (method, token, req) = match S::try_from(a.status) {
            Ok(S::PendingConsent) if !cancel => {
                let Some(c) = a.consents.iter().find(|c| c.decision == api::ConsentDecision::Pending as i32) else {
                    return Answer::Refused;
                };
                let req = api::RespondToArrangementRequest {
                    id: a.id.clone(),
                    etag: a.etag.clone(),
                    accept: rng.gen_bool(0.93),
                    note: text("transition ", MAX_NOTE, true),
                    request_id: rid.clone(),
                };
                let token = self.tokens.state(&c.state);
                let a = self
                    .send("RespondToArrangement", twice, || {
                        let (mut cl, r) = (client.clone(), authed(token, req.clone()));
                        async move { cl.respond_to_arrangement(r).await }
                    })
                    .await;
                return self.arrangement_answer("RespondToArrangement", a);
            }
            Ok(S::PendingConsent | S::Agreed | S::Scheduled) if cancel => {
                ("TransitionArrangement", admin, transition(S::Cancelled, 0))
            }
            Ok(S::Agreed) => {
                let today = ts_days(0).seconds.div_euclid(86_400);
                ("TransitionArrangement", admin, transition(S::Scheduled, (today + 3) * 86_400))
            }
            Ok(S::Scheduled) => ("TransitionArrangement", self.tokens.state(&provider), transition(S::InDelivery, 0)),
            Ok(S::InDelivery) if rng.gen_bool(0.3) => {
                let req = api::RecordOutcomeRequest {
                    id: a.id.clone(),
                    etag: a.etag.clone(),
                    outcome: Some(api::Outcome {
                        trained: a.quantity,
                        women_trained: 0,
                        certified: a.quantity / 2,
                        deployed_missions: vec!["MINUSCA".into()],
                        ..Default::default()
                    }),
                    request_id: rid.clone(),
                };
                let token = self.tokens.state(&provider);
                let a = self
                    .send("RecordOutcome", twice, || {
                        let (mut cl, r) = (client.clone(), authed(token, req.clone()));
                        async move { cl.record_outcome(r).await }
                    })
                    .await;
                return self.arrangement_answer("RecordOutcome", a);
            }
            Ok(S::InDelivery) => ("TransitionArrangement", self.tokens.state(&provider), transition(S::Completed, 0)),
            _ => return Answer::Refused,
        };
        let a = self
            .send(method, twice, || {
                let (mut cl, r) = (client.clone(), authed(token, req.clone()));
                async move { cl.transition_arrangement(r).await }
            })
            .await;
        self.arrangement_answer(method, a)
    }

    fn arrangement_answer(&self, method: &'static str, a: Answer<api::Arrangement>) -> Answer<api::Arrangement> {
        if let Answer::Acked(arr) = &a {
            self.record(method, arr);
        }
        a
    }
}

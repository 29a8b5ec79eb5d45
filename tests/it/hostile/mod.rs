//! Hostile input for every write method of every service (issue 7).
//!
//! Each property starts one server with a fixture (needs, offers, a centre, matches in
//! every state, arrangements pending, agreed and in delivery, a revoked principal) and
//! sends requests built from a valid one by applying one to three *defects*: huge strings
//! (just over a README limit and far over it), control characters and odd unicode,
//! unknown enum numbers, negative or huge quantities, dates far in the past or future or
//! out of range, references to missing ids or ids of another kind, wrong etags, request
//! ids that are not UUIDs or that were already used with another body, callers that may
//! not act, and resources in a state that forbids the change. Each defect alone makes the
//! request fail with a known code; the properties check that
//!
//! - every request is refused, with that code when it carries one defect and with the
//!   code of one of its defects otherwise, never INTERNAL, UNKNOWN or a broken stream;
//! - INVALID_ARGUMENT carries `BadRequest` field violations, every refusal an
//!   `ErrorInfo` reason, and the answer stays small whatever the request echoes;
//! - the store's content (`Store::content_digest`, over every tree) is exactly what it
//!   was before the request;
//! - the server still serves reads and writes afterwards.
//!
//! The one change a refusal may make — a refused ApproveMatch turns its match STALE — is
//! checked entry by entry in `a_refused_approval_changes_only_its_match_to_stale`.

use crate::harness::*;
use lcm::api;
use lcm::api::admin_service_client::AdminServiceClient;
use lcm::api::arrangement_service_client::ArrangementServiceClient;
use lcm::api::matching_service_client::MatchingServiceClient;
use lcm::api::need_service_client::NeedServiceClient;
use lcm::api::offer_service_client::OfferServiceClient;
use lcm::api::training_centre_service_client::TrainingCentreServiceClient;
use lcm::domain::{EventKind, EventResource, MatchState};
use lcm::store::{Store, TreeId};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::future::Future;
use std::pin::Pin;
use tonic::transport::Channel;
use tonic::{Code, Status};

/// Cases per property: each is one request (plus two digests of a small store).
const CASES: u32 = 48;

/// The largest status message a refusal may carry (it echoes parts of the request).
const MAX_MESSAGE_BYTES: usize = 2048;

// ------------------------------------------------------------------ hostile values

fn pick<T: Clone>(k: u32, options: &[T]) -> T {
    options[k as usize % options.len()].clone()
}

/// Text that breaks a `min..=max` character bound or has a forbidden control character.
fn bad_text(k: u32, min: usize, max: usize, multiline: bool) -> String {
    match k % 11 {
        0 if min > 0 => String::new(),
        0 | 1 => "x".repeat(max + 1),
        2 => "é".repeat(max + 1),
        3 => "w".repeat(max * 20 + 50_000),
        4 => "nul\u{0}byte".into(),
        5 => "bell\u{7}".into(),
        6 => "\u{1b}[2Jescape".into(),
        7 => "del\u{7f}".into(),
        8 => "next line\u{85}".into(),
        9 => format!("{}\u{0}", "ü".repeat(max.min(10))),
        _ if multiline => "vertical\u{b}tab and form\u{c}feed".into(),
        _ => "two\nlines".into(),
    }
}

fn bad_state(k: u32) -> String {
    match k % 14 {
        13 => "A".repeat(100_000),
        i => pick(
            i,
            &["", "uga", "XXX", "TWN", "PSE", "VAT", "UG", "UGAA", "ÜGA", "U\u{0}A", " UGA", "UGA\n", "\u{202e}AGU"],
        )
        .to_string(),
    }
}

fn bad_language(k: u32) -> String {
    match k % 10 {
        9 => "q".repeat(60_000),
        i => pick(i, &["", "EN", "eng", "e", "e1", "é", "e\u{0}", " en", "en-GB"]).to_string(),
    }
}

/// An enum number that is not a known value (0 included when `required`).
fn bad_enum(k: u32, known_max: i32, required: bool) -> i32 {
    let options = [known_max + 1, known_max + 1_000, i32::MAX, -1, i32::MIN, 0];
    if required { pick(k, &options) } else { pick(k, &options[..5]) }
}

fn bad_quantity(k: u32) -> u32 {
    pick(k, &[0, 100_001, 1_000_000, u32::MAX, 1 << 31])
}

/// A timestamp no field accepts (missing, before 1970, after 9999, bad nanos).
fn bad_time(k: u32) -> Option<prost_types::Timestamp> {
    let t = |seconds, nanos| Some(prost_types::Timestamp { seconds, nanos });
    pick(
        k,
        &[
            None,
            t(-1, 0),
            t(i64::MIN, 0),
            t(i64::MAX, 0),
            t(253_402_300_800, 0),
            t(1_000, -1),
            t(1_000, 1_000_000_000),
            t(1_000, i32::MIN),
        ],
    )
}

/// A valid time more than ten years ahead.
fn far_future(k: u32) -> Option<prost_types::Timestamp> {
    Some(ts_days(pick(k, &[3_660, 36_500, 2_900_000])))
}

fn bad_request_id(k: u32) -> String {
    let uuid = new_request_id();
    match k % 8 {
        0 => "x".into(),
        1 => "not-a-uuid".into(),
        2 => format!("{uuid}0"),
        3 => "00000000-0000-0000-0000-00000000000g".into(),
        4 => "\u{0}".into(),
        5 => "z".repeat(100_000),
        6 => format!("{{{uuid}"),
        _ => format!("{uuid}{}", "-".repeat(40)),
    }
}

/// An id that names nothing: missing, malformed, of another kind, or absurdly long.
fn bad_id(prefix: &str, k: u32) -> String {
    let other = if prefix == "offer" { "need" } else { "offer" };
    match k % 16 {
        0 => String::new(),
        1 => prefix.into(),
        2 => format!("{prefix}-"),
        3 => format!("{prefix}-0"),
        4 => format!("{prefix}-999999"),
        5 => format!("{prefix}-18446744073709551615"),
        6 => format!("{prefix}-18446744073709551616"),
        7 => format!("{prefix}-01"),
        8 => format!("{prefix}--1"),
        9 => format!("{prefix}-1 "),
        10 => format!("{}-1", prefix.to_uppercase()),
        11 => format!("{prefix}-1\u{0}"),
        12 => format!("{prefix}-{}", "9".repeat(100_000)),
        13 => format!("{other}-1"),
        14 => format!("{prefix}-\u{661}"),
        _ => "\u{202e}1-".to_string() + prefix,
    }
}

/// An etag that is not the current one (and not empty, which means "any").
fn bad_etag(k: u32, current: &str) -> String {
    match k % 8 {
        0 => "W/\"0\"".into(),
        1 => "W/\"999\"".into(),
        2 => "\"1\"".into(),
        3 => "*".into(),
        4 => "e".repeat(100_000),
        5 => "W/\"1\u{0}\"".into(),
        6 => format!("{current} "),
        _ => "garbage".into(),
    }
}

fn bad_token(k: u32, w: &World) -> String {
    match k % 4 {
        0 => String::new(),
        1 => "garbage".into(),
        2 => "a".repeat(5_000),
        _ => w.revoked_token.clone(),
    }
}

fn all_states() -> Vec<String> {
    lcm::domain::Alpha3::all().map(|s| s.to_string()).collect()
}

/// A list of languages that is refused: empty, too long, repeated, or with a bad code.
fn bad_languages(k: u32) -> Vec<String> {
    match k % 4 {
        0 => Vec::new(),
        1 => (0..21u8).map(|i| format!("{}{}", (b'a' + i) as char, 'a')).collect(),
        2 => vec!["en".into(), "en".into()],
        _ => vec!["en".into(), bad_language(k / 4)],
    }
}

/// A list of enum numbers that is refused: an unknown value, a repeat, or a huge list.
fn bad_enum_list(k: u32, known_max: i32) -> Vec<i32> {
    match k % 4 {
        0 => vec![bad_enum(k / 4, known_max, true)],
        1 => vec![1, 1],
        2 => vec![1, bad_enum(k / 4, known_max, true)],
        _ => vec![known_max + 1; 200_000],
    }
}

// ------------------------------------------------------------------ the fixture

struct World {
    s: TestServer,
    store: Store,
    channel: Channel,
    admin: String,
    uga: String,
    jpn: String,
    ken: String,
    fra: String,
    centre: String,
    centre_id: String,
    revoked_token: String,
    revoked_principal: String,
    /// Request ids already used (by the admin, UGA and JPN) with other requests.
    admin_rid: String,
    uga_rid: String,
    jpn_rid: String,
    need_open: api::Need,
    need_withdrawn: api::Need,
    need_reserved: api::Need,
    offer_open: api::Offer,
    offer_withdrawn: api::Offer,
    offer_reserved: api::Offer,
    match_proposed: api::Match,
    match_approved: api::Match,
    match_rejected: api::Match,
    match_stale: api::Match,
    /// UGA has accepted; JPN and KEN have not answered.
    pending: api::Arrangement,
    agreed: api::Arrangement,
    in_delivery: api::Arrangement,
}

impl World {
    fn used_rid(&self, token: &str) -> String {
        if token == self.uga {
            self.uga_rid.clone()
        } else if token == self.jpn {
            self.jpn_rid.clone()
        } else {
            self.admin_rid.clone()
        }
    }

    async fn needs(&self) -> api::need_service_client::NeedServiceClient<Channel> {
        api::need_service_client::NeedServiceClient::new(self.channel.clone())
    }
    async fn offers(&self) -> api::offer_service_client::OfferServiceClient<Channel> {
        api::offer_service_client::OfferServiceClient::new(self.channel.clone())
    }
    async fn matching(&self) -> api::matching_service_client::MatchingServiceClient<Channel> {
        api::matching_service_client::MatchingServiceClient::new(self.channel.clone())
    }
    async fn arrangements(&self) -> api::arrangement_service_client::ArrangementServiceClient<Channel> {
        api::arrangement_service_client::ArrangementServiceClient::new(self.channel.clone())
    }

    async fn need(&self, id: &str) -> api::Need {
        let req = authed(&self.admin, api::GetNeedRequest { id: id.into() });
        self.needs().await.get_need(req).await.unwrap().into_inner()
    }
    async fn offer(&self, id: &str) -> api::Offer {
        let req = authed(&self.admin, api::GetOfferRequest { id: id.into() });
        self.offers().await.get_offer(req).await.unwrap().into_inner()
    }
    async fn get_match(&self, id: &str) -> api::Match {
        let req = authed(&self.admin, api::GetMatchRequest { id: id.into() });
        self.matching().await.get_match(req).await.unwrap().into_inner()
    }
    async fn arrangement(&self, id: &str) -> api::Arrangement {
        let req = authed(&self.admin, api::GetArrangementRequest { id: id.into() });
        self.arrangements().await.get_arrangement(req).await.unwrap().into_inner()
    }

    async fn create_need(&self, token: &str, n: api::Need, request_id: String) -> api::Need {
        let req = authed(token, api::CreateNeedRequest { need: Some(n), request_id });
        self.needs().await.create_need(req).await.unwrap().into_inner()
    }
    async fn create_offer(&self, token: &str, o: api::Offer, request_id: String) -> api::Offer {
        let req = authed(token, api::CreateOfferRequest { offer: Some(o), request_id });
        self.offers().await.create_offer(req).await.unwrap().into_inner()
    }
    async fn propose(&self, capability: api::CapabilityArea) -> Vec<api::Match> {
        let req = api::ProposeMatchesRequest {
            capabilities: vec![capability as i32],
            dry_run: false,
            request_id: String::new(),
            ..Default::default()
        };
        self.matching().await.propose_matches(authed(&self.admin, req)).await.unwrap().into_inner().matches
    }
    async fn approve(&self, m: &api::Match) -> Result<api::ApproveMatchResponse, Status> {
        let req = api::ApproveMatchRequest { id: m.id.clone(), etag: m.etag.clone(), ..Default::default() };
        self.matching().await.approve_match(authed(&self.admin, req)).await.map(|r| r.into_inner())
    }
    async fn respond(&self, token: &str, id: &str) {
        let req = api::RespondToArrangementRequest { id: id.into(), accept: true, ..Default::default() };
        self.arrangements().await.respond_to_arrangement(authed(token, req)).await.unwrap();
    }
    async fn transition(&self, token: &str, id: &str, to: api::ArrangementStatus) {
        let (start, end) = schedule_dates();
        let req = api::TransitionArrangementRequest {
            id: id.into(),
            to: to as i32,
            scheduled_start: start,
            scheduled_end: end,
            ..Default::default()
        };
        self.arrangements().await.transition_arrangement(authed(token, req)).await.unwrap();
    }

    /// The server still answers reads and accepts a valid write.
    async fn still_serving(&self) {
        let list = api::ListNeedsRequest { page_size: 5, ..Default::default() };
        self.needs().await.list_needs(authed(&self.admin, list)).await.expect("reads still work");
        let n = api::Need { title: "Still serving".into(), ..need("UGA") };
        self.create_need(&self.uga, n, new_request_id()).await;
    }
}

/// Dates that fit the engineering offer (available from day 10, 28-day course).
fn schedule_dates() -> (Option<prost_types::Timestamp>, Option<prost_types::Timestamp>) {
    let start = ts_days(20).seconds.div_euclid(86_400) * 86_400;
    let ts = |seconds| Some(prost_types::Timestamp { seconds, nanos: 0 });
    (ts(start), ts(start + 28 * 86_400))
}

fn small_need(requester: &str, capability: api::CapabilityArea, title: &str) -> api::Need {
    api::Need { title: title.into(), capability: capability as i32, quantity: 2, women_quantity: 0, ..need(requester) }
}

fn small_offer(provider: &str, capability: api::CapabilityArea, capacity: u32) -> api::Offer {
    api::Offer { capability: capability as i32, capacity, ..delivery_offer(provider) }
}

async fn world() -> World {
    use api::CapabilityArea as C;
    let (s, store) = TestServer::start_with_store().await;
    let channel = s.channel().await;
    let admin = s.admin.clone();
    let admin_rid = new_request_id();
    let centre_body = api::TrainingCentre {
        name: "IPSTC".into(),
        host_state: "KEN".into(),
        languages: vec!["en".into()],
        capabilities: vec![C::Engineering as i32],
        un_recognized: true,
        ..Default::default()
    };
    let centre_id = s
        .centres()
        .await
        .create_training_centre(authed(
            &admin,
            api::CreateTrainingCentreRequest { training_centre: Some(centre_body), request_id: admin_rid.clone() },
        ))
        .await
        .unwrap()
        .into_inner()
        .id;
    let (uga, jpn, ken, fra) = (s.state("UGA").await, s.state("JPN").await, s.state("KEN").await, s.state("FRA").await);
    let centre = s.principal(api::PrincipalKind::TrainingCentre, "", &centre_id).await;
    let created = s
        .admin_client()
        .await
        .create_principal(authed(
            &admin,
            api::CreatePrincipalRequest {
                kind: api::PrincipalKind::MemberState as i32,
                member_state: "RWA".into(),
                display_name: "to be revoked".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let revoked_principal = created.principal.unwrap().id;
    s.admin_client()
        .await
        .revoke_principal(authed(&admin, api::RevokePrincipalRequest { id: revoked_principal.clone() }))
        .await
        .unwrap();
    let mut w = World {
        store,
        channel,
        admin,
        uga,
        jpn,
        ken,
        fra,
        centre,
        centre_id: centre_id.clone(),
        revoked_token: created.token,
        revoked_principal,
        admin_rid,
        uga_rid: new_request_id(),
        jpn_rid: new_request_id(),
        need_open: api::Need::default(),
        need_withdrawn: api::Need::default(),
        need_reserved: api::Need::default(),
        offer_open: api::Offer::default(),
        offer_withdrawn: api::Offer::default(),
        offer_reserved: api::Offer::default(),
        match_proposed: api::Match::default(),
        match_approved: api::Match::default(),
        match_rejected: api::Match::default(),
        match_stale: api::Match::default(),
        pending: api::Arrangement::default(),
        agreed: api::Arrangement::default(),
        in_delivery: api::Arrangement::default(),
        s,
    };

    // Engineering: three needs share one offer at the centre; each match is approved.
    let mut need_ids = Vec::new();
    for i in 0..3 {
        let n = small_need("UGA", C::Engineering, &format!("Engineers {i}"));
        need_ids.push(w.create_need(&w.uga, n, String::new()).await.id);
    }
    let offer = api::Offer {
        mode: api::DeliveryMode::AtTrainingCentre as i32,
        training_centre_id: centre_id,
        ..small_offer("JPN", C::Engineering, 6)
    };
    let offer_id = w.create_offer(&w.jpn, offer, String::new()).await.id;
    let proposed = w.propose(C::Engineering).await;
    assert_eq!(proposed.len(), 3, "one match per engineering need");
    let mut arrangements = Vec::new();
    for m in &proposed {
        arrangements.push(w.approve(m).await.unwrap().arrangements.remove(0).id);
    }
    for id in &arrangements[1..] {
        for token in [&w.uga, &w.jpn, &w.ken] {
            w.respond(token, id).await;
        }
    }
    w.transition(&w.admin, &arrangements[2], api::ArrangementStatus::Scheduled).await;
    w.transition(&w.jpn, &arrangements[2], api::ArrangementStatus::InDelivery).await;
    w.respond(&w.uga, &arrangements[0]).await;

    // Counter-IED: a rejected match. Medical: a stale match and a proposed one.
    w.create_need(&w.uga, small_need("UGA", C::CounterIed, "Searchers"), String::new()).await;
    w.create_offer(&w.jpn, small_offer("JPN", C::CounterIed, 2), String::new()).await;
    let rejected = w.propose(C::CounterIed).await.remove(0);
    let reject = api::RejectMatchRequest { id: rejected.id.clone(), etag: rejected.etag.clone(), ..Default::default() };
    w.matching().await.reject_match(authed(&w.admin, reject)).await.unwrap();
    w.create_need(&w.uga, small_need("UGA", C::Medical, "Medics"), String::new()).await;
    w.create_offer(&w.jpn, small_offer("JPN", C::Medical, 2), String::new()).await;
    let stale = w.propose(C::Medical).await.remove(0);
    w.match_proposed = w.propose(C::Medical).await.remove(0);

    // Needs and offers with nothing to match, open and withdrawn (created with the
    // request ids that the "reused request id" defect replays).
    let open = small_need("UGA", C::SignalsC4isr, "Signallers");
    w.need_open = w.create_need(&w.uga, open, w.uga_rid.clone()).await;
    let gone = w.create_need(&w.uga, small_need("UGA", C::SignalsC4isr, "Gone"), String::new()).await;
    let withdraw = api::WithdrawNeedRequest { id: gone.id.clone(), etag: gone.etag, request_id: String::new() };
    w.need_withdrawn = w.needs().await.withdraw_need(authed(&w.uga, withdraw)).await.unwrap().into_inner();
    w.offer_open = w.create_offer(&w.jpn, small_offer("JPN", C::Aviation, 4), w.jpn_rid.clone()).await;
    let gone = w.create_offer(&w.jpn, small_offer("JPN", C::Aviation, 4), String::new()).await;
    let withdraw = api::WithdrawOfferRequest { id: gone.id.clone(), etag: gone.etag, request_id: String::new() };
    w.offer_withdrawn = w.offers().await.withdraw_offer(authed(&w.jpn, withdraw)).await.unwrap().into_inner();

    w.need_reserved = w.need(&need_ids[0]).await;
    w.offer_reserved = w.offer(&offer_id).await;
    w.match_approved = w.get_match(&proposed[0].id).await;
    w.match_rejected = w.get_match(&rejected.id).await;
    w.match_stale = w.get_match(&stale.id).await;
    w.pending = w.arrangement(&arrangements[0]).await;
    w.agreed = w.arrangement(&arrangements[1]).await;
    w.in_delivery = w.arrangement(&arrangements[2]).await;
    assert_eq!(w.need_reserved.reserved_quantity, 2);
    assert_eq!(w.offer_reserved.reserved_quantity, 6);
    assert_eq!(w.match_stale.state, api::MatchState::Stale as i32);
    assert_eq!(w.match_rejected.state, api::MatchState::Rejected as i32);
    assert_eq!(w.pending.status, api::ArrangementStatus::PendingConsent as i32);
    assert_eq!(w.agreed.status, api::ArrangementStatus::Agreed as i32);
    assert_eq!(w.in_delivery.status, api::ArrangementStatus::InDelivery as i32);
    w
}

// ------------------------------------------------------------------ the runner

/// A request and who sends it.
struct Call<R> {
    token: String,
    req: R,
}

/// A defect: its name, the code it alone earns, and how it spoils a valid request
/// (given a knob that picks the hostile value).
struct Defect<R> {
    name: String,
    code: Code,
    apply: Spoiler<R>,
}

type Spoiler<R> = Box<dyn Fn(&mut Call<R>, &World, u32)>;

fn defect<R>(name: &str, code: Code, apply: impl Fn(&mut Call<R>, &World, u32) + 'static) -> Defect<R> {
    Defect { name: name.into(), code, apply: Box::new(apply) }
}

fn invalid<R>(name: &str, apply: impl Fn(&mut Call<R>, &World, u32) + 'static) -> Defect<R> {
    defect(name, Code::InvalidArgument, apply)
}

type Sent = Pin<Box<dyn Future<Output = Result<String, Status>> + Send>>;

/// A function that sends a request through one client method and renders the answer.
macro_rules! rpc {
    ($client:ident, $method:ident) => {
        |channel: Channel, token: String, req| -> Sent {
            Box::pin(async move {
                $client::new(channel).$method(authed(&token, req)).await.map(|r| format!("{:?}", r.into_inner()))
            })
        }
    };
}

/// Stops the world's server (its client channel first, so shutdown need not wait).
fn stop(rt: &tokio::runtime::Runtime, w: World) {
    let World { mut s, channel, .. } = w;
    drop(channel);
    rt.block_on(s.stop());
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

fn shorten(text: &str) -> String {
    let cut: String = text.chars().take(300).collect();
    if cut.len() < text.len() { format!("{cut}… ({} bytes)", text.len()) } else { cut }
}

/// What every refusal must look like, whatever the request held.
fn check_refusal(status: &Status, what: &str) {
    assert!(
        !matches!(status.code(), Code::Internal | Code::Unknown | Code::Unavailable | Code::DataLoss | Code::Ok),
        "{what}: refused with {:?}: {}",
        status.code(),
        shorten(status.message())
    );
    assert!(
        status.message().len() <= MAX_MESSAGE_BYTES,
        "{what}: the {:?} message is {} bytes: {}",
        status.code(),
        status.message().len(),
        shorten(status.message())
    );
    if status.code() == Code::InvalidArgument {
        assert!(
            !violations(status).is_empty(),
            "{what}: INVALID_ARGUMENT without field violations: {}",
            shorten(status.message())
        );
    }
    if status.code() != Code::ResourceExhausted {
        assert!(!reason(status).is_empty(), "{what}: {:?} without an ErrorInfo reason", status.code());
    }
}

/// Sends a request that must be refused: checks the refusal and that the store is unchanged.
async fn refused(store: &Store, what: &str, sent: Sent) -> Status {
    let before = store.content_digest().unwrap();
    let status = match sent.await {
        Ok(answer) => panic!("{what}: accepted: {}", shorten(&answer)),
        Err(status) => status,
    };
    check_refusal(&status, what);
    let after = store.content_digest().unwrap();
    assert!(
        before == after,
        "{what}: refused with {:?} but the store changed in {:?}",
        status.code(),
        before.changed_trees(&after)
    );
    status
}

/// Runs one property on its own server: `CASES` requests, each `base` spoiled by one to
/// three `defects`.
fn property<R: Send + 'static>(
    method: &str,
    base: fn(&World) -> Call<R>,
    defects: Vec<Defect<R>>,
    send: fn(Channel, String, R) -> Sent,
) {
    let rt = runtime();
    let w = rt.block_on(world());
    let indices: Vec<usize> = (0..defects.len()).collect();
    let strategy = (proptest::sample::subsequence(indices, 1..=3), prop::array::uniform3(any::<u32>()));
    let config = Config { cases: CASES, failure_persistence: None, max_shrink_iters: 200, ..Config::default() };
    let tried = std::cell::Cell::new(0u64);
    let mut runner = TestRunner::new(config);
    let result = runner.run(&strategy, |(picked, knobs)| {
        let mut call = base(&w);
        let base_token = call.token.clone();
        for (d, k) in picked.iter().zip(knobs) {
            (defects[*d].apply)(&mut call, &w, k);
        }
        let names: Vec<&str> = picked.iter().map(|d| defects[*d].name.as_str()).collect();
        let codes: Vec<Code> = picked.iter().map(|d| defects[*d].code).collect();
        let what = format!("{method} with {names:?} (knobs {knobs:?})");
        let caller_changed = call.token != base_token;
        let status = rt.block_on(refused(&w.store, &what, send(w.channel.clone(), call.token, call.req)));
        tried.set(tried.get() + 1);
        // With several defects, the answer is one of theirs; when one of them changed the
        // caller, another may point that caller at a resource it cannot read (NOT_FOUND) or
        // put a body naming another state in its mouth (PERMISSION_DENIED).
        let fits = if codes.len() == 1 {
            status.code() == codes[0]
        } else {
            codes.contains(&status.code())
                || (caller_changed && matches!(status.code(), Code::NotFound | Code::PermissionDenied))
        };
        if fits {
            Ok(())
        } else {
            Err(TestCaseError::fail(format!(
                "{what}: {:?} ({}), expected {}{codes:?}",
                status.code(),
                shorten(status.message()),
                if codes.len() == 1 { "" } else { "one of " }
            )))
        }
    });
    if let Err(e) = result {
        panic!("{method}: {e}");
    }
    rt.block_on(w.still_serving());
    stop(&rt, w);
    eprintln!("hostile {method}: {} requests refused with the expected code, store unchanged", tried.get());
}

/// Defects every write method with a `request_id` shares.
fn common<R: 'static>(request_id: fn(&mut R) -> &mut String) -> Vec<Defect<R>> {
    vec![
        invalid("request_id not a UUID", move |c: &mut Call<R>, _, k| *request_id(&mut c.req) = bad_request_id(k)),
        invalid("request_id reused with another body", move |c: &mut Call<R>, w, _| {
            *request_id(&mut c.req) = w.used_rid(&c.token)
        }),
        defect("unknown or revoked token", Code::Unauthenticated, |c: &mut Call<R>, w, k| c.token = bad_token(k, w)),
        defect("a training centre calls", Code::PermissionDenied, |c: &mut Call<R>, w, _| c.token = w.centre.clone()),
    ]
}

fn and<R>(mut list: Vec<Defect<R>>, more: Vec<Defect<R>>) -> Vec<Defect<R>> {
    list.extend(more);
    list
}

/// An update mask path that names no updatable field.
fn bad_path(k: u32) -> String {
    match k % 9 {
        8 => "p".repeat(100_000),
        i => pick(i, &["", "id", "etag", "state", "reserved_quantity", "title.x", "TITLE", "title\u{0}"]).to_string(),
    }
}

fn mask_defects<R: 'static>(mask: fn(&mut R) -> &mut Vec<String>) -> Vec<Defect<R>> {
    vec![
        invalid("update_mask empty", move |c: &mut Call<R>, _, _| mask(&mut c.req).clear()),
        invalid("update_mask names an unknown field", move |c: &mut Call<R>, _, k| mask(&mut c.req).push(bad_path(k))),
        invalid("update_mask with 50 000 unknown paths", move |c: &mut Call<R>, _, _| {
            mask(&mut c.req).extend(std::iter::repeat_n("nope".to_string(), 50_000))
        }),
    ]
}

mod needs_offers;
mod workflow;

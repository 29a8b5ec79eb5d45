//! A fuzzing harness for the request-decoding and validation path (issue 7), for the
//! stable toolchain (cargo fuzz needs nightly): random bytes, read through `arbitrary`,
//! become a write request of one of the 15 write methods, either as raw bytes, as a
//! mutated valid request, or as a request built field by field from hostile values. The
//! bytes are decoded with prost as tonic does, and the decoded request goes through the
//! real handler (`service::*` → `convert` → `domain` → `store`), in process, as one of
//! six callers, on a store that holds a small fixture (a centre, needs, offers, a
//! proposed match, an arrangement).
//!
//! Every call runs under `catch_unwind`. A finding is: a panic, an answer coded INTERNAL,
//! UNKNOWN or DATA_LOSS, an INVALID_ARGUMENT without field violations, an error whose
//! message or details are too large for a client's header limits, or a refused request
//! that changed the store's content (`Store::content_digest`; a refused ApproveMatch may
//! turn its match STALE). Requests that do not decode are counted: tonic answers them
//! before any of lcm's code runs.
//!
//! Run outside CI, for a fixed time:
//!
//! ```text
//! cargo run --release --example fuzz_requests -- --seconds 900 [--seed N]
//! ```
//!
//! It prints what it tried and found, and exits non-zero when it found anything.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use arbitrary::{Arbitrary, Unstructured};
use lcm::api as pb;
use lcm::api::admin_service_server::AdminService;
use lcm::api::arrangement_service_server::ArrangementService;
use lcm::api::matching_service_server::MatchingService;
use lcm::api::need_service_server::NeedService;
use lcm::api::offer_service_server::OfferService;
use lcm::api::training_centre_service_server::TrainingCentreService;
use lcm::domain::{Caller, Id, Role};
use lcm::service::Services;
use prost::Message;
use rand::{Rng, RngCore, SeedableRng};
use std::collections::BTreeMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};
use tonic::{Code, Status};
use tonic_types::StatusExt;

const METHODS: [&str; 15] = [
    "CreateNeed",
    "UpdateNeed",
    "WithdrawNeed",
    "CreateOffer",
    "UpdateOffer",
    "WithdrawOffer",
    "CreateTrainingCentre",
    "ProposeMatches",
    "ApproveMatch",
    "RejectMatch",
    "RespondToArrangement",
    "TransitionArrangement",
    "RecordOutcome",
    "CreatePrincipal",
    "RevokePrincipal",
];

/// Bounds on a refusal: a gRPC client reads the status from headers (hyper and gRPC
/// C-core accept 8 to 16 KiB of them).
const MAX_MESSAGE_BYTES: usize = 2_048;
const MAX_DETAILS_BYTES: usize = 8_192;

/// What the fuzzer draws strings from, besides arbitrary text: valid and nearly valid
/// reference values, ids of the fixture and of other kinds, etags, paths.
const WORDS: &[&str] = &[
    "",
    "UGA",
    "JPN",
    "KEN",
    "FRA",
    "RWA",
    "uga",
    "XXX",
    "TWN",
    "en",
    "fr",
    "EN",
    "eng",
    "need-1",
    "need-2",
    "need-3",
    "need-0",
    "offer-1",
    "offer-2",
    "offer-3",
    "centre-1",
    "centre-2",
    "match-1",
    "match-2",
    "arrangement-1",
    "principal-1",
    "principal-2",
    "need-18446744073709551615",
    "need-18446744073709551616",
    "W/\"1\"",
    "W/\"2\"",
    "W/\"3\"",
    "*",
    "title",
    "description",
    "quantity",
    "women_quantity",
    "languages",
    "needed_by",
    "priority",
    "capacity",
    "providers",
    "role",
    "mode",
    "training_centre_id",
    "available_from",
    "available_until",
    "duration_days",
    "requester",
    "category",
    "capability",
    "00000000-0000-0000-0000-000000000000",
    "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
    "{6ba7b810-9dad-11d1-80b4-00c04fd430c8}",
    "urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8",
    "MINUSCA",
    "\u{0}",
    "\u{202e}",
    "\u{85}",
    "\r\n",
    "é",
];

/// Lengths around the README limits.
const LENGTHS: &[usize] =
    &[1, 2, 3, 39, 40, 41, 64, 65, 99, 100, 101, 199, 200, 201, 1_999, 2_000, 2_001, 4_000, 4_001];

const CHARS: &[char] =
    &['x', 'é', '中', '😀', '\u{0}', '\n', '\t', '\r', '\u{7}', '\u{1b}', '\u{7f}', '\u{85}', '\u{202e}'];

type U<'a> = Unstructured<'a>;
type R<T> = arbitrary::Result<T>;

fn text(u: &mut U) -> R<String> {
    Ok(match u.int_in_range(0..=9)? {
        0..=3 => (*u.choose(WORDS)?).to_string(),
        4 | 5 => {
            let c = *u.choose(CHARS)?;
            std::iter::repeat_n(c, *u.choose(LENGTHS)?).collect()
        }
        6 => {
            let mut s = (*u.choose(WORDS)?).to_string();
            s.push(*u.choose(CHARS)?);
            s
        }
        7 => "y".repeat(u.int_in_range(0..=200_000)?),
        _ => String::arbitrary(u)?,
    })
}

fn texts(u: &mut U) -> R<Vec<String>> {
    let n = if u.ratio(1, 20)? { u.int_in_range(0..=400)? } else { u.int_in_range(0..=4)? };
    (0..n).map(|_| text(u)).collect()
}

fn number(u: &mut U) -> R<u32> {
    Ok(match u.int_in_range(0..=5)? {
        0 => *u.choose(&[0, 1, 2, 3, 100_000, 100_001, 3_650, 3_651, u32::MAX, 1 << 31])?,
        1..=3 => u.int_in_range(0..=30)?,
        _ => u32::arbitrary(u)?,
    })
}

fn enum_value(u: &mut U) -> R<i32> {
    Ok(match u.int_in_range(0..=5)? {
        0 => *u.choose(&[-1, i32::MAX, i32::MIN, 1_000])?,
        1..=4 => u.int_in_range(0..=16)?,
        _ => i32::arbitrary(u)?,
    })
}

fn enums(u: &mut U) -> R<Vec<i32>> {
    let n = if u.ratio(1, 20)? { u.int_in_range(0..=100_000)? } else { u.int_in_range(0..=4)? };
    (0..n).map(|_| enum_value(u)).collect()
}

fn time(u: &mut U) -> R<Option<prost_types::Timestamp>> {
    if u.ratio(1, 8)? {
        return Ok(None);
    }
    let now = lcm::clock::now_micros() / 1_000_000;
    let seconds = match u.int_in_range(0..=6)? {
        0 => *u.choose(&[0, -1, i64::MAX, i64::MIN, 253_402_300_799, 253_402_300_800])?,
        1..=4 => now + i64::from(u.int_in_range(-400..=4_000)?) * 86_400,
        _ => i64::arbitrary(u)?,
    };
    let nanos = match u.int_in_range(0..=4)? {
        0 => *u.choose(&[-1, 999_999_999, 1_000_000_000, i32::MIN])?,
        _ => 0,
    };
    Ok(Some(prost_types::Timestamp { seconds, nanos }))
}

fn need(u: &mut U) -> R<pb::Need> {
    Ok(pb::Need {
        id: text(u)?,
        etag: text(u)?,
        requester: text(u)?,
        category: enum_value(u)?,
        capability: enum_value(u)?,
        title: text(u)?,
        description: text(u)?,
        quantity: number(u)?,
        women_quantity: number(u)?,
        languages: texts(u)?,
        needed_by: time(u)?,
        priority: enum_value(u)?,
        pledge_ref: text(u)?,
        pledge_level: enum_value(u)?,
        mission: text(u)?,
        accepted_modes: enums(u)?,
        ..Default::default()
    })
}

fn offer(u: &mut U) -> R<pb::Offer> {
    Ok(pb::Offer {
        id: text(u)?,
        etag: text(u)?,
        providers: texts(u)?,
        role: enum_value(u)?,
        category: enum_value(u)?,
        capability: enum_value(u)?,
        title: text(u)?,
        description: text(u)?,
        capacity: number(u)?,
        available_from: time(u)?,
        available_until: time(u)?,
        eligible_recipients: texts(u)?,
        excluded_recipients: texts(u)?,
        max_per_recipient: number(u)?,
        languages: texts(u)?,
        mode: enum_value(u)?,
        training_centre_id: text(u)?,
        duration_days: number(u)?,
        women_only: bool::arbitrary(u)?,
        requires_funding: bool::arbitrary(u)?,
        ..Default::default()
    })
}

fn mask(u: &mut U) -> R<Option<prost_types::FieldMask>> {
    Ok(if u.ratio(1, 8)? { None } else { Some(prost_types::FieldMask { paths: texts(u)? }) })
}

/// A request of method `m` built from hostile values, encoded.
fn structured(m: usize, u: &mut U) -> R<Vec<u8>> {
    Ok(match m {
        0 => pb::CreateNeedRequest { need: Some(need(u)?), request_id: text(u)? }.encode_to_vec(),
        1 => {
            pb::UpdateNeedRequest { need: Some(need(u)?), update_mask: mask(u)?, request_id: text(u)? }.encode_to_vec()
        }
        2 => pb::WithdrawNeedRequest { id: text(u)?, etag: text(u)?, request_id: text(u)? }.encode_to_vec(),
        3 => pb::CreateOfferRequest { offer: Some(offer(u)?), request_id: text(u)? }.encode_to_vec(),
        4 => pb::UpdateOfferRequest { offer: Some(offer(u)?), update_mask: mask(u)?, request_id: text(u)? }
            .encode_to_vec(),
        5 => pb::WithdrawOfferRequest { id: text(u)?, etag: text(u)?, request_id: text(u)? }.encode_to_vec(),
        6 => pb::CreateTrainingCentreRequest {
            training_centre: Some(pb::TrainingCentre {
                name: text(u)?,
                host_state: text(u)?,
                languages: texts(u)?,
                capabilities: enums(u)?,
                un_recognized: bool::arbitrary(u)?,
                ..Default::default()
            }),
            request_id: text(u)?,
        }
        .encode_to_vec(),
        7 => pb::ProposeMatchesRequest {
            capabilities: enums(u)?,
            dry_run: false,
            request_id: text(u)?,
            ..Default::default()
        }
        .encode_to_vec(),
        8 => pb::ApproveMatchRequest { id: text(u)?, etag: text(u)?, request_id: text(u)?, comment: text(u)? }
            .encode_to_vec(),
        9 => pb::RejectMatchRequest { id: text(u)?, etag: text(u)?, reason: text(u)?, request_id: text(u)? }
            .encode_to_vec(),
        10 => pb::RespondToArrangementRequest {
            id: text(u)?,
            etag: text(u)?,
            accept: bool::arbitrary(u)?,
            note: text(u)?,
            request_id: text(u)?,
        }
        .encode_to_vec(),
        11 => pb::TransitionArrangementRequest {
            id: text(u)?,
            etag: text(u)?,
            to: enum_value(u)?,
            note: text(u)?,
            scheduled_start: time(u)?,
            scheduled_end: time(u)?,
            request_id: text(u)?,
        }
        .encode_to_vec(),
        12 => pb::RecordOutcomeRequest {
            id: text(u)?,
            etag: text(u)?,
            outcome: if u.ratio(1, 8)? {
                None
            } else {
                Some(pb::Outcome {
                    trained: number(u)?,
                    women_trained: number(u)?,
                    certified: number(u)?,
                    deployed_missions: texts(u)?,
                    trainers_qualified: number(u)?,
                })
            },
            request_id: text(u)?,
        }
        .encode_to_vec(),
        13 => pb::CreatePrincipalRequest {
            kind: enum_value(u)?,
            member_state: text(u)?,
            training_centre_id: text(u)?,
            display_name: text(u)?,
            request_id: text(u)?,
        }
        .encode_to_vec(),
        _ => pb::RevokePrincipalRequest { id: text(u)? }.encode_to_vec(),
    })
}

/// A valid request's bytes, mutated: bits flipped, bytes set, inserted, removed, a
/// tail cut or random fields appended.
fn mutated(seed: &[u8], u: &mut U) -> R<Vec<u8>> {
    let mut bytes = seed.to_vec();
    for _ in 0..u.int_in_range(1..=8)? {
        let at = if bytes.is_empty() { 0 } else { u.choose_index(bytes.len())? };
        match u.int_in_range(0..=5)? {
            0 if !bytes.is_empty() => bytes[at] ^= 1 << u.int_in_range(0..=7)?,
            1 if !bytes.is_empty() => bytes[at] = u8::arbitrary(u)?,
            2 => {
                let n = u.int_in_range(0..=16)?;
                let extra: Vec<u8> = u.bytes(n)?.to_vec();
                bytes.splice(at..at, extra);
            }
            3 if !bytes.is_empty() => {
                let end = (at + u.int_in_range(1..=16)?).min(bytes.len());
                bytes.drain(at..end);
            }
            4 => bytes.truncate(at),
            _ => {
                // A field with a random number and wire type, then random content.
                let tag: u32 = (u.int_in_range(1..=40)? << 3) | u.int_in_range(0..=5)?;
                prost::encoding::encode_varint(u64::from(tag), &mut bytes);
                let n = u.int_in_range(0..=12)?;
                bytes.extend_from_slice(u.bytes(n)?);
            }
        }
    }
    Ok(bytes)
}

#[derive(Default)]
struct Tally {
    iterations: u64,
    undecodable: u64,
    accepted: BTreeMap<&'static str, u64>,
    refused: BTreeMap<String, u64>,
    findings: Vec<String>,
}

enum Outcome {
    Undecodable,
    Accepted,
    Refused(Status),
}

async fn handle<M, T, F, Fut>(bytes: &[u8], caller: &Caller, call: F) -> Outcome
where
    M: Message + Default,
    F: FnOnce(tonic::Request<M>) -> Fut,
    Fut: Future<Output = Result<tonic::Response<T>, Status>>,
{
    let Ok(msg) = M::decode(bytes) else { return Outcome::Undecodable };
    let mut req = tonic::Request::new(msg);
    req.extensions_mut().insert(caller.clone());
    match call(req).await {
        Ok(_) => Outcome::Accepted,
        Err(status) => Outcome::Refused(status),
    }
}

/// Decodes `bytes` as method `m`'s request and runs its handler.
async fn dispatch(ctx: &Services, m: usize, caller: &Caller, bytes: &[u8]) -> Outcome {
    match m {
        0 => handle(bytes, caller, |r| NeedService::create_need(ctx, r)).await,
        1 => handle(bytes, caller, |r| NeedService::update_need(ctx, r)).await,
        2 => handle(bytes, caller, |r| NeedService::withdraw_need(ctx, r)).await,
        3 => handle(bytes, caller, |r| OfferService::create_offer(ctx, r)).await,
        4 => handle(bytes, caller, |r| OfferService::update_offer(ctx, r)).await,
        5 => handle(bytes, caller, |r| OfferService::withdraw_offer(ctx, r)).await,
        6 => handle(bytes, caller, |r| TrainingCentreService::create_training_centre(ctx, r)).await,
        7 => handle(bytes, caller, |r| MatchingService::propose_matches(ctx, r)).await,
        8 => handle(bytes, caller, |r| MatchingService::approve_match(ctx, r)).await,
        9 => handle(bytes, caller, |r| MatchingService::reject_match(ctx, r)).await,
        10 => handle(bytes, caller, |r| ArrangementService::respond_to_arrangement(ctx, r)).await,
        11 => handle(bytes, caller, |r| ArrangementService::transition_arrangement(ctx, r)).await,
        12 => handle(bytes, caller, |r| ArrangementService::record_outcome(ctx, r)).await,
        13 => handle(bytes, caller, |r| AdminService::create_principal(ctx, r)).await,
        _ => handle(bytes, caller, |r| AdminService::revoke_principal(ctx, r)).await,
    }
}

fn caller(id: u64, role: Role) -> Caller {
    Caller { principal_id: format!("principal-{id}"), role }
}

/// What is wrong with a refusal, if anything.
fn judge(status: &Status) -> Option<String> {
    if matches!(status.code(), Code::Internal | Code::Unknown | Code::DataLoss | Code::Unavailable | Code::Ok) {
        return Some(format!("refused with {:?}", status.code()));
    }
    if status.message().len() > MAX_MESSAGE_BYTES {
        return Some(format!("{:?} message of {} bytes", status.code(), status.message().len()));
    }
    if status.details().len() > MAX_DETAILS_BYTES {
        return Some(format!("{:?} details of {} bytes", status.code(), status.details().len()));
    }
    if status.code() == Code::InvalidArgument
        && status.get_details_bad_request().is_none_or(|b| b.field_violations.is_empty())
    {
        return Some("INVALID_ARGUMENT without field violations".into());
    }
    None
}

/// A centre, an arrangement (engineering) and a proposed match (medical), made through
/// the handlers; returns valid requests of every method, encoded, to mutate.
async fn fixture(ctx: &Services, admin: &Caller, uga: &Caller, jpn: &Caller) -> Vec<Vec<u8>> {
    async fn ok<M, T, F, Fut>(msg: M, caller: &Caller, call: F) -> T
    where
        F: FnOnce(tonic::Request<M>) -> Fut,
        Fut: Future<Output = Result<tonic::Response<T>, Status>>,
    {
        let mut req = tonic::Request::new(msg);
        req.extensions_mut().insert(caller.clone());
        call(req).await.expect("fixture request").into_inner()
    }
    let days = |d: i64| {
        let now = lcm::clock::now_micros() / 1_000_000;
        Some(prost_types::Timestamp { seconds: now + d * 86_400, nanos: 0 })
    };
    let centre = pb::TrainingCentre {
        name: "IPSTC".into(),
        host_state: "KEN".into(),
        languages: vec!["en".into()],
        capabilities: vec![pb::CapabilityArea::Engineering as i32],
        ..Default::default()
    };
    let centre_req = pb::CreateTrainingCentreRequest { training_centre: Some(centre), request_id: String::new() };
    let centre = ok(centre_req.clone(), admin, |r| TrainingCentreService::create_training_centre(ctx, r)).await;
    let mut seeds = Vec::new();
    let mut proposed = Vec::new();
    for capability in [pb::CapabilityArea::Engineering, pb::CapabilityArea::Medical] {
        let need = pb::Need {
            requester: "UGA".into(),
            category: pb::SupportCategory::Training as i32,
            capability: capability as i32,
            title: "Field engineers".into(),
            quantity: 4,
            women_quantity: 1,
            languages: vec!["en".into()],
            needed_by: days(120),
            priority: pb::Priority::High as i32,
            ..Default::default()
        };
        let offer = pb::Offer {
            providers: vec!["JPN".into()],
            role: pb::OfferRole::Delivery as i32,
            category: pb::SupportCategory::Training as i32,
            capability: capability as i32,
            title: "Course".into(),
            capacity: 8,
            available_from: days(10),
            available_until: days(200),
            languages: vec!["en".into()],
            mode: pb::DeliveryMode::AtTrainingCentre as i32,
            training_centre_id: centre.id.clone(),
            duration_days: 28,
            ..Default::default()
        };
        let need_req = pb::CreateNeedRequest { need: Some(need), request_id: String::new() };
        let need = ok(need_req.clone(), uga, |r| NeedService::create_need(ctx, r)).await;
        let offer_req = pb::CreateOfferRequest { offer: Some(offer), request_id: String::new() };
        let offer = ok(offer_req.clone(), jpn, |r| OfferService::create_offer(ctx, r)).await;
        let propose = pb::ProposeMatchesRequest {
            capabilities: vec![capability as i32],
            dry_run: false,
            // The first one's id is in WORDS, so fuzzed requests replay it with other bodies.
            request_id: if seeds.is_empty() { "6ba7b810-9dad-11d1-80b4-00c04fd430c8".into() } else { String::new() },
            ..Default::default()
        };
        let m = ok(propose.clone(), admin, |r| MatchingService::propose_matches(ctx, r)).await.matches.remove(0);
        if seeds.is_empty() {
            seeds.push(need_req.encode_to_vec());
            let mask = Some(prost_types::FieldMask { paths: vec!["title".into(), "quantity".into()] });
            seeds.push(
                pb::UpdateNeedRequest {
                    need: Some(need.clone()),
                    update_mask: mask.clone(),
                    request_id: String::new(),
                }
                .encode_to_vec(),
            );
            seeds.push(
                pb::WithdrawNeedRequest { id: need.id, etag: need.etag, request_id: String::new() }.encode_to_vec(),
            );
            seeds.push(offer_req.encode_to_vec());
            let mask = Some(prost_types::FieldMask { paths: vec!["capacity".into(), "languages".into()] });
            seeds.push(
                pb::UpdateOfferRequest { offer: Some(offer.clone()), update_mask: mask, request_id: String::new() }
                    .encode_to_vec(),
            );
            seeds.push(
                pb::WithdrawOfferRequest { id: offer.id, etag: offer.etag, request_id: String::new() }.encode_to_vec(),
            );
            seeds.push(centre_req.encode_to_vec());
            seeds.push(propose.encode_to_vec());
        }
        proposed.push(m);
    }
    // Approve the engineering match: one arrangement, waiting for consent.
    let approve =
        pb::ApproveMatchRequest { id: proposed[0].id.clone(), etag: proposed[0].etag.clone(), ..Default::default() };
    let approved = ok(approve, admin, |r| MatchingService::approve_match(ctx, r)).await;
    let a = &approved.arrangements[0];
    let m = &proposed[1];
    seeds.push(
        pb::ApproveMatchRequest {
            id: m.id.clone(),
            etag: m.etag.clone(),
            comment: "ok".into(),
            request_id: String::new(),
        }
        .encode_to_vec(),
    );
    seeds.push(
        pb::RejectMatchRequest {
            id: m.id.clone(),
            etag: m.etag.clone(),
            reason: "no".into(),
            request_id: String::new(),
        }
        .encode_to_vec(),
    );
    seeds.push(
        pb::RespondToArrangementRequest {
            id: a.id.clone(),
            etag: a.etag.clone(),
            accept: true,
            note: "yes".into(),
            request_id: String::new(),
        }
        .encode_to_vec(),
    );
    seeds.push(
        pb::TransitionArrangementRequest {
            id: a.id.clone(),
            etag: a.etag.clone(),
            to: pb::ArrangementStatus::Scheduled as i32,
            scheduled_start: days(20),
            scheduled_end: days(48),
            ..Default::default()
        }
        .encode_to_vec(),
    );
    let outcome = pb::Outcome {
        trained: 3,
        women_trained: 1,
        certified: 2,
        deployed_missions: vec!["MINUSCA".into()],
        trainers_qualified: 1,
    };
    seeds.push(
        pb::RecordOutcomeRequest {
            id: a.id.clone(),
            etag: a.etag.clone(),
            outcome: Some(outcome),
            request_id: String::new(),
        }
        .encode_to_vec(),
    );
    seeds.push(
        pb::CreatePrincipalRequest {
            kind: pb::PrincipalKind::TrainingCentre as i32,
            training_centre_id: centre.id.clone(),
            display_name: "IPSTC".into(),
            ..Default::default()
        }
        .encode_to_vec(),
    );
    seeds.push(pb::RevokePrincipalRequest { id: "principal-2".into() }.encode_to_vec());
    assert_eq!(seeds.len(), METHODS.len());
    seeds
}

fn main() {
    let mut seconds = 60u64;
    let mut seed: u64 = rand::random();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let value = args.next().and_then(|v| v.parse().ok());
        match (a.as_str(), value) {
            ("--seconds", Some(v)) => seconds = v,
            ("--seed", Some(v)) => seed = v,
            _ => {
                eprintln!("usage: fuzz_requests [--seconds N] [--seed N]");
                std::process::exit(2);
            }
        }
    }
    // Panics are findings, reported once each below; keep the default report short.
    std::panic::set_hook(Box::new(|info| eprintln!("panic: {info}")));
    let dir = tempfile::tempdir().expect("temporary directory");
    let opened = lcm::server::open(&lcm::config::ServeArgs::for_data_dir(dir.path().to_path_buf())).expect("store");
    let ctx = opened.ctx;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let states = |code: &str| Role::MemberState(code.parse().expect("member state"));
    let admin = caller(1, Role::Secretariat);
    let (uga, jpn) = (caller(2, states("UGA")), caller(3, states("JPN")));
    let seeds = rt.block_on(fixture(&ctx, &admin, &uga, &jpn));
    let callers =
        [admin, uga, jpn, caller(4, states("KEN")), caller(5, states("FRA")), caller(6, Role::TrainingCentre(Id(1)))];

    println!("fuzz_requests: seed {seed}, {seconds} s, {} methods, {} callers", METHODS.len(), callers.len());
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut tally = Tally::default();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut buf = vec![0u8; 1 << 16];
    while Instant::now() < deadline {
        let len = if rng.gen_ratio(1, 16) { rng.gen_range(0..buf.len()) } else { rng.gen_range(0..1_024) };
        rng.fill_bytes(&mut buf[..len]);
        let mut u = Unstructured::new(&buf[..len]);
        let m = u.choose_index(METHODS.len()).unwrap_or(0);
        let who = u.choose_index(callers.len()).unwrap_or(0);
        let bytes = match u.int_in_range(0..=2u8).unwrap_or(0) {
            0 => u.take_rest().to_vec(),
            1 => mutated(&seeds[m], &mut u).unwrap_or_else(|_| seeds[m].clone()),
            _ => match structured(m, &mut u) {
                Ok(b) => b,
                Err(_) => seeds[m].clone(),
            },
        };
        tally.iterations += 1;
        let before = ctx.store.content_digest().expect("digest");
        let outcome =
            std::panic::catch_unwind(AssertUnwindSafe(|| rt.block_on(dispatch(&ctx, m, &callers[who], &bytes))));
        let label = |what: &str| {
            format!(
                "{} as {:?}: {what} (request {} bytes: {})",
                METHODS[m],
                callers[who].role,
                bytes.len(),
                hex_prefix(&bytes)
            )
        };
        match outcome {
            Err(_) => tally.findings.push(label("PANIC")),
            Ok(Outcome::Undecodable) => tally.undecodable += 1,
            Ok(Outcome::Accepted) => *tally.accepted.entry(METHODS[m]).or_default() += 1,
            Ok(Outcome::Refused(status)) => {
                *tally.refused.entry(format!("{:?}", status.code())).or_default() += 1;
                if let Some(problem) = judge(&status) {
                    tally
                        .findings
                        .push(label(&format!("{problem}: {}", status.message().chars().take(200).collect::<String>())));
                }
                let after = ctx.store.content_digest().expect("digest");
                let changed = before.changed_trees(&after);
                // A refused approval may turn its match STALE (and nothing else).
                let stale_only = m == 8
                    && status.code() == Code::FailedPrecondition
                    && changed.iter().all(|t| {
                        matches!(
                            t,
                            lcm::store::TreeId::Matches
                                | lcm::store::TreeId::ProposedMatches
                                | lcm::store::TreeId::Events
                        )
                    });
                if !changed.is_empty() && !stale_only {
                    tally.findings.push(label(&format!("refused with {:?} but changed {changed:?}", status.code())));
                }
            }
        }
    }
    let elapsed = started.elapsed();
    println!(
        "{} iterations in {:.1} s ({:.0}/s); {} did not decode; accepted {:?}; refused {:?}",
        tally.iterations,
        elapsed.as_secs_f64(),
        tally.iterations as f64 / elapsed.as_secs_f64(),
        tally.undecodable,
        tally.accepted,
        tally.refused
    );
    let mut distinct: BTreeMap<String, u64> = BTreeMap::new();
    for f in &tally.findings {
        let key: String = f.split(" (request").next().unwrap_or(f).chars().take(160).collect();
        *distinct.entry(key).or_default() += 1;
    }
    println!("findings: {} ({} distinct)", tally.findings.len(), distinct.len());
    for (f, n) in &distinct {
        println!("  {n} × {f}");
    }
    for f in tally.findings.iter().take(5) {
        println!("  e.g. {f}");
    }
    if !tally.findings.is_empty() {
        std::process::exit(1);
    }
}

fn hex_prefix(bytes: &[u8]) -> String {
    let shown: String = bytes.iter().take(48).map(|b| format!("{b:02x}")).collect();
    if bytes.len() > 48 { format!("{shown}…") } else { shown }
}

//! ReportService over a real socket: every figure is recomputed here from what the list
//! methods return (ListNeeds, ListOffers, ListArrangements), after matching, approval,
//! consent, refusal, cancellation and a recorded outcome on the demo scenario.

use crate::harness::*;
use lcm::api;
use lcm::api::ArrangementStatus as S;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use tonic::Code;

const DAY: i64 = 86_400;

type Reports = api::report_service_client::ReportServiceClient<tonic::transport::Channel>;

async fn reports(s: &TestServer) -> Reports {
    api::report_service_client::ReportServiceClient::new(s.channel().await)
}

async fn gaps(s: &TestServer, token: &str, by: api::GapGrouping) -> Result<Vec<api::GapRow>, tonic::Status> {
    let req = api::GetGapReportRequest { group_by: by as i32 };
    reports(s).await.get_gap_report(authed(token, req)).await.map(|r| r.into_inner().rows)
}

async fn findings(s: &TestServer) -> Vec<api::DeconflictionFinding> {
    let req = api::GetDeconflictionReportRequest {};
    reports(s).await.get_deconfliction_report(authed(&s.admin, req)).await.unwrap().into_inner().findings
}

async fn gender(s: &TestServer) -> api::GetGenderReportResponse {
    reports(s).await.get_gender_report(authed(&s.admin, api::GetGenderReportRequest {})).await.unwrap().into_inner()
}

fn day(ts: &Option<prost_types::Timestamp>) -> i64 {
    ts.as_ref().unwrap().seconds.div_euclid(DAY)
}

fn today() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64 / DAY
}

fn cap_name(c: i32) -> String {
    api::CapabilityArea::try_from(c).unwrap().as_str_name().trim_start_matches("CAPABILITY_AREA_").to_string()
}

/// (recipient, category, capability) → (first day, last day, resource ids).
type Overlaps = BTreeMap<(String, i32, i32), (i64, i64, BTreeSet<String>)>;

/// Everything the Secretariat lists: the ground truth the reports are checked against.
struct Listed {
    needs: Vec<api::Need>,
    offers: Vec<api::Offer>,
    arrangements: Vec<api::Arrangement>,
}

async fn listed(s: &TestServer) -> Listed {
    let (mut needs, mut offers, mut arrangements) = (Vec::new(), Vec::new(), Vec::new());
    let mut token = String::new();
    loop {
        let req = api::ListNeedsRequest { page_size: 500, page_token: token, ..Default::default() };
        let page = s.needs().await.list_needs(authed(&s.admin, req)).await.unwrap().into_inner();
        needs.extend(page.needs);
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    loop {
        let req = api::ListOffersRequest { page_size: 500, page_token: token, ..Default::default() };
        let page = s.offers().await.list_offers(authed(&s.admin, req)).await.unwrap().into_inner();
        offers.extend(page.offers);
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    loop {
        let req = api::ListArrangementsRequest { page_size: 500, page_token: token, ..Default::default() };
        let page = s.arrangements().await.list_arrangements(authed(&s.admin, req)).await.unwrap().into_inner();
        arrangements.extend(page.arrangements);
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    Listed { needs, offers, arrangements }
}

fn counts(a: &api::Arrangement) -> bool {
    [S::PendingConsent, S::Agreed, S::Scheduled, S::InDelivery, S::Completed].iter().any(|s| *s as i32 == a.status)
}

fn people_category(c: i32) -> bool {
    [api::SupportCategory::Training, api::SupportCategory::Mentoring, api::SupportCategory::AdviseAndAssist]
        .iter()
        .any(|x| *x as i32 == c)
}

impl Listed {
    fn live_needs(&self) -> impl Iterator<Item = &api::Need> {
        self.needs.iter().filter(|n| n.state != api::NeedState::Withdrawn as i32)
    }

    fn expected_gaps(&self, by_capability: bool) -> Vec<api::GapRow> {
        let mut rows: BTreeMap<String, api::GapRow> = BTreeMap::new();
        for n in self.live_needs() {
            let key = if by_capability { cap_name(n.capability) } else { n.requester.clone() };
            let r = rows.entry(key.clone()).or_insert_with(|| api::GapRow { key, ..Default::default() });
            let open = u64::from(n.quantity - n.reserved_quantity - n.delivered_quantity);
            r.needed += u64::from(n.quantity);
            r.women_needed += u64::from(n.women_quantity);
            r.reserved += u64::from(n.reserved_quantity);
            r.delivered += u64::from(n.delivered_quantity);
            r.open += open;
            if n.priority == api::Priority::Critical as i32 {
                r.critical_open += open;
            }
            if day(&n.needed_by) < today() {
                r.overdue += open;
            }
        }
        rows.into_values().collect()
    }

    /// Gender rows as (requester, women_needed, women_reserved, women_trained, seats_total),
    /// with the seats per capability for the target.
    fn expected_gender(&self) -> BTreeMap<String, ([u64; 4], BTreeMap<i32, u64>)> {
        let mut rows: BTreeMap<String, ([u64; 4], BTreeMap<i32, u64>)> = BTreeMap::new();
        let people: BTreeSet<&str> =
            self.live_needs().filter(|n| people_category(n.category)).map(|n| n.id.as_str()).collect();
        for n in self.live_needs().filter(|n| people_category(n.category)) {
            rows.entry(n.requester.clone()).or_default().0[0] += u64::from(n.women_quantity);
        }
        for a in self.arrangements.iter().filter(|a| counts(a) && people.contains(a.need_id.as_str())) {
            let (f, caps) = rows.entry(a.recipient.clone()).or_default();
            f[1] += u64::from(a.women_quantity);
            f[2] += a.outcome.as_ref().map_or(0, |o| u64::from(o.women_trained));
            f[3] += u64::from(a.quantity);
            *caps.entry(a.capability).or_default() += u64::from(a.quantity);
        }
        rows
    }

    /// Deconfliction by another method than the server's: count, per day, how many
    /// sources cover it. Returns (recipient, category, capability) → (first day, last
    /// day, resource ids sorted).
    fn expected_overlaps(&self) -> Overlaps {
        let need_category: HashMap<&str, i32> = self.needs.iter().map(|n| (n.id.as_str(), n.category)).collect();
        let offer_by_id: HashMap<&str, &api::Offer> = self.offers.iter().map(|o| (o.id.as_str(), o)).collect();
        // key → offer id → (days covered, resource ids)
        type Sources = BTreeMap<String, (BTreeSet<i64>, BTreeSet<String>)>;
        let mut by_key: BTreeMap<(String, i32, i32), Sources> = BTreeMap::new();
        for o in &self.offers {
            if o.role != api::OfferRole::Delivery as i32 || o.state != api::OfferState::Open as i32 {
                continue;
            }
            for r in &o.eligible_recipients {
                if o.excluded_recipients.contains(r) || o.providers.contains(r) {
                    continue;
                }
                let src =
                    by_key.entry((r.clone(), o.category, o.capability)).or_default().entry(o.id.clone()).or_default();
                src.0.extend(day(&o.available_from)..=day(&o.available_until));
                src.1.insert(o.id.clone());
            }
        }
        for a in self.arrangements.iter().filter(|a| counts(a)) {
            let offer_id = a.allocation.as_ref().unwrap().offer_id.clone();
            let key = (a.recipient.clone(), need_category[a.need_id.as_str()], a.capability);
            let src = by_key.entry(key).or_default().entry(offer_id.clone()).or_default();
            let o = offer_by_id[offer_id.as_str()];
            let (from, to) = match (&a.scheduled_start, &a.scheduled_end) {
                (Some(_), Some(_)) => (day(&a.scheduled_start), day(&a.scheduled_end)),
                _ => (day(&o.available_from), day(&o.available_until)),
            };
            src.0.extend(from..=to);
            src.1.insert(offer_id);
            src.1.insert(a.id.clone());
        }
        let mut out = BTreeMap::new();
        for (key, sources) in by_key {
            let mut cover: BTreeMap<i64, usize> = BTreeMap::new();
            for (days, _) in sources.values() {
                for d in days {
                    *cover.entry(*d).or_default() += 1;
                }
            }
            let doubled: Vec<i64> = cover.iter().filter(|(_, n)| **n >= 2).map(|(d, _)| *d).collect();
            let (Some(first), Some(last)) = (doubled.first(), doubled.last()) else { continue };
            let ids = sources
                .values()
                .filter(|(days, _)| doubled.iter().any(|d| days.contains(d)))
                .flat_map(|(_, ids)| ids.iter().cloned())
                .collect();
            out.insert(key, (*first, *last, ids));
        }
        out
    }
}

/// Answers every pending consent of `a` with `accept` (tokens made on demand).
async fn consent(s: &TestServer, tokens: &mut HashMap<String, String>, a: &api::Arrangement, accept: bool) {
    for c in &a.consents {
        if !tokens.contains_key(&c.state) {
            tokens.insert(c.state.clone(), s.state(&c.state).await);
        }
        let req = api::RespondToArrangementRequest { id: a.id.clone(), accept, ..Default::default() };
        s.arrangements().await.respond_to_arrangement(authed(&tokens[&c.state], req)).await.unwrap();
        if !accept {
            return;
        }
    }
}

async fn transition(s: &TestServer, id: &str, to: S, dates: Option<(i64, i64)>) -> api::Arrangement {
    let ts = |secs: i64| Some(prost_types::Timestamp { seconds: secs, nanos: 0 });
    let req = api::TransitionArrangementRequest {
        id: id.into(),
        to: to as i32,
        scheduled_start: dates.and_then(|d| ts(d.0)),
        scheduled_end: dates.and_then(|d| ts(d.1)),
        ..Default::default()
    };
    s.arrangements().await.transition_arrangement(authed(&s.admin, req)).await.unwrap().into_inner()
}

/// Imports the demo, proposes and approves every match; returns the demo's ids and the
/// arrangements by need ref.
async fn demo_approved(s: &TestServer) -> (lcm::cli::ImportReport, HashMap<String, Vec<api::Arrangement>>) {
    let demo = s.import_demo().await;
    let req = api::ProposeMatchesRequest {
        capabilities: vec![],
        dry_run: false,
        request_id: new_request_id(),
        ..Default::default()
    };
    let proposed = s.matching().await.propose_matches(authed(&s.admin, req)).await.unwrap().into_inner();
    let need_ref: HashMap<&String, &String> = demo.needs.iter().map(|(r, id)| (id, r)).collect();
    let mut by_need = HashMap::new();
    for m in &proposed.matches {
        let req = api::ApproveMatchRequest { id: m.id.clone(), etag: m.etag.clone(), ..Default::default() };
        let approved = s.matching().await.approve_match(authed(&s.admin, req)).await.unwrap().into_inner();
        by_need.insert(need_ref[&m.need_id].clone(), approved.arrangements);
    }
    (demo, by_need)
}

async fn get_offer(s: &TestServer, id: &str) -> api::Offer {
    let req = api::GetOfferRequest { id: id.into() };
    s.offers().await.get_offer(authed(&s.admin, req)).await.unwrap().into_inner()
}

fn assert_gaps(got: &[api::GapRow], want: &[api::GapRow]) {
    let got: BTreeMap<&str, &api::GapRow> = got.iter().map(|r| (r.key.as_str(), r)).collect();
    let want: BTreeMap<&str, &api::GapRow> = want.iter().map(|r| (r.key.as_str(), r)).collect();
    assert_eq!(got, want);
}

#[tokio::test]
async fn reports_agree_with_the_listed_resources_through_the_workflow() {
    let s = TestServer::start().await;
    let (demo, arrs) = demo_approved(&s).await;
    // The fixture's figures right after approving every match.
    let g = gender(&s).await;
    let overall = g.overall.clone().unwrap();
    assert_eq!((overall.women_needed, overall.women_reserved, overall.seats_total), (115, 103, 470));
    let below: Vec<&str> = g.rows.iter().filter(|r| r.below_target).map(|r| r.requester.as_str()).collect();
    assert_eq!(below, ["NER", "RWA", "SEN"]);
    let keys: BTreeSet<(String, String)> =
        findings(&s).await.iter().map(|f| (f.recipient.clone(), cap_name(f.capability))).collect();
    let want: BTreeSet<(String, String)> = [
        ("BEN", "ENGINEERING"),
        ("NER", "COUNTER_IED"),
        ("RWA", "ENGINEERING"),
        ("SEN", "ENGINEERING"),
        ("SEN", "FORMED_POLICE_UNIT"),
        ("UGA", "ENGINEERING"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(keys, want);

    // Consent, a refusal, a cancellation, and a delivery with its outcome.
    let mut tokens = HashMap::new();
    for a in &arrs["ner-cied"] {
        consent(&s, &mut tokens, a, true).await;
    }
    consent(&s, &mut tokens, &arrs["tza-sea"][0], false).await;
    transition(&s, &arrs["gha-epm"][0].id, S::Cancelled, None).await;
    let sen = arrs["sen-hee-fr"][0].clone();
    consent(&s, &mut tokens, &sen, true).await;
    let o = get_offer(&s, &demo.offers["mar-hee-tot-fr"]).await;
    let start = (day(&o.available_from) + 1) * DAY;
    let end = start + i64::from(o.duration_days) * DAY;
    transition(&s, &sen.id, S::Scheduled, Some((start, end))).await;
    transition(&s, &sen.id, S::InDelivery, None).await;
    let outcome =
        api::Outcome { trained: 12, women_trained: 5, certified: 11, deployed_missions: vec![], ..Default::default() };
    let req = api::RecordOutcomeRequest { id: sen.id.clone(), outcome: Some(outcome), ..Default::default() };
    s.arrangements().await.record_outcome(authed(&s.admin, req)).await.unwrap();
    transition(&s, &sen.id, S::Completed, None).await;
    // An NER arrangement is scheduled too: its window becomes its dates.
    let ner = &arrs["ner-cied"][0];
    let ner_offer = ner.allocation.as_ref().unwrap().offer_id.clone();
    let o = get_offer(&s, &ner_offer).await;
    let start = (day(&o.available_from) + 2) * DAY;
    transition(&s, &ner.id, S::Scheduled, Some((start, start + i64::from(o.duration_days) * DAY))).await;

    let l = listed(&s).await;
    assert!(l.arrangements.iter().any(|a| a.status == S::Completed as i32));
    assert!(l.arrangements.iter().any(|a| a.status == S::Cancelled as i32));
    assert!(l.arrangements.iter().any(|a| a.status == S::Declined as i32));

    assert_gaps(&gaps(&s, &s.admin, api::GapGrouping::Capability).await.unwrap(), &l.expected_gaps(true));
    assert_gaps(&gaps(&s, &s.admin, api::GapGrouping::Requester).await.unwrap(), &l.expected_gaps(false));
    let eng = l.expected_gaps(true).into_iter().find(|r| r.key == "ENGINEERING").unwrap();
    assert!(eng.delivered == 12 && eng.reserved > 0, "the workflow moved seats: {eng:?}");

    let g = gender(&s).await;
    let want = l.expected_gender();
    let got: Vec<&str> = g.rows.iter().map(|r| r.requester.as_str()).collect();
    assert_eq!(got, want.keys().map(String::as_str).collect::<Vec<_>>());
    let mut total = [0u64; 4];
    for r in &g.rows {
        let (f, _) = &want[&r.requester];
        assert_eq!([r.women_needed, r.women_reserved, r.women_trained, r.seats_total], *f, "{}", r.requester);
        let share = if f[3] == 0 { 0.0 } else { f[1] as f64 / f[3] as f64 };
        assert!((r.women_share - share).abs() < 1e-12);
        assert_eq!(r.target_share, 0.15);
        assert_eq!(r.below_target, f[3] > 0 && share < 0.15, "{}", r.requester);
        for (t, x) in total.iter_mut().zip(f) {
            *t += x;
        }
    }
    let overall = g.overall.unwrap();
    assert_eq!(overall.requester, "");
    assert_eq!([overall.women_needed, overall.women_reserved, overall.women_trained, overall.seats_total], total);
    assert_eq!(overall.women_trained, 5, "the recorded outcome counts");

    // Plant sources for MLI: two offers that overlap on days 50..=100 (a finding), and for
    // NGA two that meet end to end without a shared day (none); and duplicate needs.
    let plant = |provider: &str, state: &str, cap: api::CapabilityArea, from: i64, until: i64| {
        let mut o = delivery_offer(provider);
        o.capability = cap as i32;
        o.eligible_recipients = vec![state.into()];
        o.available_from = Some(ts_days(from));
        o.available_until = Some(ts_days(until));
        let req = api::CreateOfferRequest { offer: Some(o), request_id: String::new() };
        let s = &s;
        async move { s.offers().await.create_offer(authed(&s.admin, req)).await.unwrap().into_inner().id }
    };
    let mli_a = plant("CHN", "MLI", api::CapabilityArea::Medical, 10, 100).await;
    let mli_b = plant("EGY", "MLI", api::CapabilityArea::Medical, 50, 150).await;
    plant("CHN", "NGA", api::CapabilityArea::Medical, 10, 40).await;
    plant("EGY", "NGA", api::CapabilityArea::Medical, 41, 90).await;
    let mut dup_ids = Vec::new();
    for due in [100, 150, 300] {
        let mut n = need("MLI");
        n.capability = api::CapabilityArea::Medical as i32;
        n.needed_by = Some(ts_days(due));
        let req = api::CreateNeedRequest { need: Some(n), request_id: String::new() };
        dup_ids.push(s.needs().await.create_need(authed(&s.admin, req)).await.unwrap().into_inner().id);
    }

    let l = listed(&s).await;
    let want = l.expected_overlaps();
    let got = findings(&s).await;
    let sources: Vec<&api::DeconflictionFinding> =
        got.iter().filter(|f| !f.resource_ids.iter().any(|id| id.starts_with("need-"))).collect();
    let mut seen = BTreeMap::new();
    for f in &sources {
        let ids: BTreeSet<String> = f.resource_ids.iter().cloned().collect();
        assert_eq!(ids.len(), f.resource_ids.len(), "no id twice: {f:?}");
        let start = f.overlap_start.unwrap();
        assert_eq!(start.seconds.rem_euclid(DAY), 0, "the start of a day");
        assert_eq!(f.overlap_end.unwrap().seconds.rem_euclid(DAY), DAY - 1, "the end of a day");
        assert!(!f.summary.is_empty() && f.summary.contains(&f.recipient));
        seen.insert((f.recipient.clone(), f.category, f.capability), (day(&f.overlap_start), day(&f.overlap_end), ids));
    }
    assert_eq!(seen, want);
    let mli = &want[&("MLI".to_string(), api::SupportCategory::Training as i32, api::CapabilityArea::Medical as i32)];
    let d0 = today();
    assert_eq!((mli.0, mli.1), (d0 + 50, d0 + 100));
    assert_eq!(mli.2, [mli_a, mli_b].into_iter().collect());
    assert!(!seen.keys().any(|k| k.0 == "NGA"), "windows that share no day are no finding");
    // The NER finding now spans the scheduled course's days within the other's window.
    assert!(seen.keys().any(|k| k.0 == "NER"));

    let dups: Vec<&api::DeconflictionFinding> =
        got.iter().filter(|f| f.resource_ids.iter().any(|id| id.starts_with("need-"))).collect();
    assert_eq!(dups.len(), 1, "{dups:?}");
    assert_eq!(dups[0].recipient, "MLI");
    assert_eq!(dups[0].resource_ids, dup_ids[..2]);
    assert_eq!((day(&dups[0].overlap_start), day(&dups[0].overlap_end)), (d0 + 100, d0 + 150));
    // Deterministic: the same state gives the same report, sorted.
    assert_eq!(findings(&s).await, got);
    let order: Vec<(String, i32, i32)> = got.iter().map(|f| (f.recipient.clone(), f.category, f.capability)).collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
}

#[tokio::test]
async fn states_read_their_own_gap_row_and_anonymous_capability_rows_only() {
    let s = TestServer::start().await;
    s.import_demo().await;
    let (uga, centre) = (s.state("UGA").await, s.principal(api::PrincipalKind::TrainingCentre, "", "centre-1").await);
    let all = gaps(&s, &s.admin, api::GapGrouping::Requester).await.unwrap();
    assert!(all.len() > 10);
    let own = gaps(&s, &uga, api::GapGrouping::Requester).await.unwrap();
    assert_eq!(own, all.into_iter().filter(|r| r.key == "UGA").collect::<Vec<_>>());
    assert_eq!(own.len(), 1);
    let by_cap = gaps(&s, &uga, api::GapGrouping::Capability).await.unwrap();
    assert_eq!(by_cap, gaps(&s, &s.admin, api::GapGrouping::Capability).await.unwrap(), "computed over all states");
    assert!(by_cap.iter().all(|r| r.key.parse::<lcm::domain::CapabilityArea>().is_ok()), "no requester named");
    assert_eq!(by_cap.iter().map(|r| r.needed).sum::<u64>(), 646);
    for by in [api::GapGrouping::Capability, api::GapGrouping::Requester] {
        assert_code(gaps(&s, &centre, by).await, Code::PermissionDenied);
    }
    assert_code(gaps(&s, &s.admin, api::GapGrouping::Unspecified).await, Code::InvalidArgument);
    let mut r = reports(&s).await;
    for token in [&uga, &centre] {
        let d = r.get_deconfliction_report(authed(token, api::GetDeconflictionReportRequest {})).await;
        assert_code(d, Code::PermissionDenied);
        assert_code(r.get_gender_report(authed(token, api::GetGenderReportRequest {})).await, Code::PermissionDenied);
    }
    assert_code(r.get_gap_report(api::GetGapReportRequest { group_by: 1 }).await, Code::Unauthenticated);
}

#[tokio::test]
async fn a_per_capability_target_weighs_the_target_share_by_seats() {
    let s = TestServer::start_with(|args| {
        args.women_target_share = 0.10;
        args.targets_file = Some(lcm::config::TargetOverrides(
            [(lcm::domain::CapabilityArea::FormedPoliceUnit, 0.5)].into_iter().collect(),
        ));
    })
    .await;
    demo_approved(&s).await;
    let l = listed(&s).await;
    let g = gender(&s).await;
    let want = l.expected_gender();
    let fpu = api::CapabilityArea::FormedPoliceUnit as i32;
    for r in &g.rows {
        let (f, caps) = &want[&r.requester];
        let target = match caps.keys().collect::<Vec<_>>()[..] {
            [] => 0.10,
            [only] if *only == fpu => 0.5,
            [_] => 0.10,
            _ if !caps.contains_key(&fpu) => 0.10,
            _ => caps.iter().map(|(c, n)| if *c == fpu { 0.5 } else { 0.10 } * *n as f64).sum::<f64>() / f[3] as f64,
        };
        assert!((r.target_share - target).abs() < 1e-12, "{}: {} vs {target}", r.requester, r.target_share);
        assert_eq!(r.below_target, f[3] > 0 && r.women_share < r.target_share);
    }
    // SEN: 140 FPU seats at 0.5 and 22 others at 0.10, so below target; NER has no FPU seats.
    let sen = g.rows.iter().find(|r| r.requester == "SEN").unwrap();
    assert!((sen.target_share - (140.0 * 0.5 + 22.0 * 0.10) / 162.0).abs() < 1e-12);
    assert!(sen.below_target);
    let ner = g.rows.iter().find(|r| r.requester == "NER").unwrap();
    assert_eq!(ner.target_share, 0.10);
    assert!(ner.below_target, "2/24 is below 0.10");
    let cmr = g.rows.iter().find(|r| r.requester == "CMR").unwrap();
    assert!(cmr.target_share > 0.10 && cmr.target_share < 0.5, "CMR mixes FPU and other seats");
}

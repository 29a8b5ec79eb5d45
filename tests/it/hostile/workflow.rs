//! Hostile requests to MatchingService, ArrangementService and AdminService; the one
//! change a refusal may make; messages too large to read.

use super::*;

// ------------------------------------------------------------------ matching

#[test]
fn propose_matches_refuses_hostile_runs() {
    type C = Call<api::ProposeMatchesRequest>;
    let defects = and(
        common(|r: &mut api::ProposeMatchesRequest| &mut r.request_id),
        vec![
            invalid("capabilities", |c: &mut C, _, k| c.req.capabilities = bad_enum_list(k, 15)),
            defect("a state calls", Code::PermissionDenied, |c: &mut C, w, _| c.token = w.uga.clone()),
        ],
    );
    property(
        "ProposeMatches",
        |w| Call {
            token: w.admin.clone(),
            req: api::ProposeMatchesRequest {
                capabilities: vec![api::CapabilityArea::Medical as i32],
                dry_run: false,
                request_id: new_request_id(),
                ..Default::default()
            },
        },
        defects,
        rpc!(MatchingServiceClient, propose_matches),
    );
}

/// Defects of a decision on a match (ApproveMatch, RejectMatch).
fn decision_defects<R: 'static>(
    id: fn(&mut R) -> &mut String,
    etag: fn(&mut R) -> &mut String,
    text: fn(&mut R) -> &mut String,
    text_name: &str,
) -> Vec<Defect<R>> {
    vec![
        invalid(text_name, move |c: &mut Call<R>, _, k| *text(&mut c.req) = bad_text(k, 0, 2_000, true)),
        defect("missing id", Code::NotFound, move |c: &mut Call<R>, _, k| *id(&mut c.req) = bad_id("match", k)),
        defect("stale etag", Code::Aborted, move |c: &mut Call<R>, _, k| {
            let current = etag(&mut c.req).clone();
            *etag(&mut c.req) = bad_etag(k, &current);
        }),
        defect("match no longer PROPOSED", Code::FailedPrecondition, move |c: &mut Call<R>, w, k| {
            let m = pick(k, &[&w.match_approved, &w.match_rejected, &w.match_stale]);
            id(&mut c.req).clone_from(&m.id);
            etag(&mut c.req).clone_from(&m.etag);
        }),
        defect("a state calls", Code::PermissionDenied, |c: &mut Call<R>, w, _| c.token = w.uga.clone()),
    ]
}

#[test]
fn approve_match_refuses_hostile_approvals() {
    type R = api::ApproveMatchRequest;
    let defects = and(
        common(|r: &mut R| &mut r.request_id),
        decision_defects(|r: &mut R| &mut r.id, |r: &mut R| &mut r.etag, |r: &mut R| &mut r.comment, "comment"),
    );
    property(
        "ApproveMatch",
        |w| Call {
            token: w.admin.clone(),
            req: api::ApproveMatchRequest {
                id: w.match_proposed.id.clone(),
                etag: w.match_proposed.etag.clone(),
                request_id: new_request_id(),
                comment: "Approved".into(),
            },
        },
        defects,
        rpc!(MatchingServiceClient, approve_match),
    );
}

#[test]
fn reject_match_refuses_hostile_rejections() {
    type R = api::RejectMatchRequest;
    let defects = and(
        common(|r: &mut R| &mut r.request_id),
        decision_defects(|r: &mut R| &mut r.id, |r: &mut R| &mut r.etag, |r: &mut R| &mut r.reason, "reason"),
    );
    property(
        "RejectMatch",
        |w| Call {
            token: w.admin.clone(),
            req: api::RejectMatchRequest {
                id: w.match_proposed.id.clone(),
                etag: w.match_proposed.etag.clone(),
                reason: "Not now".into(),
                request_id: new_request_id(),
            },
        },
        defects,
        rpc!(MatchingServiceClient, reject_match),
    );
}

// ------------------------------------------------------------------ arrangements

#[test]
fn respond_to_arrangement_refuses_hostile_answers() {
    type C = Call<api::RespondToArrangementRequest>;
    let defects = and(
        common(|r: &mut api::RespondToArrangementRequest| &mut r.request_id),
        vec![
            invalid("note", |c: &mut C, _, k| c.req.note = bad_text(k, 0, 2_000, true)),
            defect("missing id", Code::NotFound, |c: &mut C, _, k| c.req.id = bad_id("arrangement", k)),
            defect("a state that is not a party", Code::NotFound, |c: &mut C, w, _| c.token = w.fra.clone()),
            defect("stale etag", Code::Aborted, |c: &mut C, _, k| c.req.etag = bad_etag(k, &c.req.etag.clone())),
            defect("already answered", Code::FailedPrecondition, |c: &mut C, w, _| c.token = w.uga.clone()),
            defect("no longer waiting for consent", Code::FailedPrecondition, |c: &mut C, w, k| {
                let a = pick(k, &[&w.agreed, &w.in_delivery]);
                c.req.id.clone_from(&a.id);
                c.req.etag.clone_from(&a.etag);
            }),
            defect("the Secretariat answers", Code::PermissionDenied, |c: &mut C, w, _| c.token = w.admin.clone()),
        ],
    );
    property(
        "RespondToArrangement",
        |w| Call {
            token: w.jpn.clone(),
            req: api::RespondToArrangementRequest {
                id: w.pending.id.clone(),
                etag: w.pending.etag.clone(),
                accept: w.pending.id.len() % 2 == 0,
                note: "Agreed in principle".into(),
                request_id: new_request_id(),
            },
        },
        defects,
        rpc!(ArrangementServiceClient, respond_to_arrangement),
    );
}

#[test]
fn transition_arrangement_refuses_hostile_moves() {
    use api::ArrangementStatus as S;
    type C = Call<api::TransitionArrangementRequest>;
    let defects = and(
        common(|r: &mut api::TransitionArrangementRequest| &mut r.request_id),
        vec![
            invalid("to", |c: &mut C, _, k| c.req.to = bad_enum(k, 7, true)),
            defect("to a status reached by consent", Code::FailedPrecondition, |c: &mut C, _, k| {
                c.req.to = pick(k, &[S::PendingConsent, S::Agreed, S::Declined]) as i32
            }),
            defect("a move the status forbids", Code::FailedPrecondition, |c: &mut C, _, k| {
                c.req.to = pick(k, &[S::InDelivery, S::Completed]) as i32
            }),
            invalid("scheduled_start", |c: &mut C, _, k| {
                c.req.scheduled_start = match k % 2 {
                    0 => bad_time(k / 2),
                    // A day outside the delivery window, with an end that fits it.
                    _ => {
                        let day = pick(k / 2, &[-30_i64, 2, 150, 400]);
                        let start = ts_days(day).seconds.div_euclid(86_400) * 86_400;
                        c.req.scheduled_end = Some(prost_types::Timestamp { seconds: start + 28 * 86_400, nanos: 0 });
                        Some(prost_types::Timestamp { seconds: start, nanos: 0 })
                    }
                }
            }),
            invalid("scheduled_end", |c: &mut C, _, k| {
                c.req.scheduled_end = match k % 2 {
                    0 => bad_time(k / 2),
                    _ => c.req.scheduled_start.map(|s| prost_types::Timestamp {
                        seconds: s.seconds + pick(k / 2, &[0, 27, 29, -1, 3_650]) * 86_400,
                        nanos: 0,
                    }),
                }
            }),
            invalid("note", |c: &mut C, _, k| c.req.note = bad_text(k, 0, 2_000, true)),
            defect("missing id", Code::NotFound, |c: &mut C, _, k| c.req.id = bad_id("arrangement", k)),
            defect("stale etag", Code::Aborted, |c: &mut C, _, k| c.req.etag = bad_etag(k, &c.req.etag.clone())),
            defect("a state schedules", Code::PermissionDenied, |c: &mut C, w, k| {
                c.token = pick(k, &[w.uga.clone(), w.jpn.clone(), w.fra.clone()])
            }),
        ],
    );
    property(
        "TransitionArrangement",
        |w| {
            let (scheduled_start, scheduled_end) = schedule_dates();
            Call {
                token: w.admin.clone(),
                req: api::TransitionArrangementRequest {
                    id: w.agreed.id.clone(),
                    etag: w.agreed.etag.clone(),
                    to: S::Scheduled as i32,
                    note: "Scheduled".into(),
                    scheduled_start,
                    scheduled_end,
                    request_id: new_request_id(),
                },
            }
        },
        defects,
        rpc!(ArrangementServiceClient, transition_arrangement),
    );
}

fn outcome(r: &mut api::RecordOutcomeRequest) -> &mut api::Outcome {
    r.outcome.get_or_insert_with(Default::default)
}

#[test]
fn record_outcome_refuses_hostile_outcomes() {
    type C = Call<api::RecordOutcomeRequest>;
    // The hosting centre may record outcomes: a centre calling is no defect here.
    let mut shared = common(|r: &mut api::RecordOutcomeRequest| &mut r.request_id);
    shared.retain(|d| d.name != "a training centre calls");
    let defects = and(
        shared,
        vec![
            invalid("women_trained above trained", |c: &mut C, _, k| {
                let o = outcome(&mut c.req);
                o.women_trained = o.trained.saturating_add(1 + k % 100);
            }),
            invalid("certified above trained", |c: &mut C, _, k| {
                let o = outcome(&mut c.req);
                o.certified = o.trained.saturating_add(1 + k);
            }),
            invalid("trained above the seats", |c: &mut C, _, k| {
                *outcome(&mut c.req) = api::Outcome { trained: pick(k, &[3, 100_001, u32::MAX]), ..Default::default() }
            }),
            invalid("deployed_missions", |c: &mut C, _, k| {
                outcome(&mut c.req).deployed_missions = match k % 3 {
                    0 => vec!["MINUSCA".into(); 21],
                    1 => vec!["MINUSCA".into(), bad_text(k / 3, 1, 40, false)],
                    _ => vec!["M".into(); 100_000],
                }
            }),
            defect("missing id", Code::NotFound, |c: &mut C, _, k| c.req.id = bad_id("arrangement", k)),
            defect("a state that is not a party", Code::NotFound, |c: &mut C, w, _| c.token = w.fra.clone()),
            defect("the recipient records", Code::PermissionDenied, |c: &mut C, w, _| c.token = w.uga.clone()),
            defect("stale etag", Code::Aborted, |c: &mut C, _, k| c.req.etag = bad_etag(k, &c.req.etag.clone())),
            defect("not in delivery", Code::FailedPrecondition, |c: &mut C, w, k| {
                let a = pick(k, &[&w.pending, &w.agreed]);
                c.req.id.clone_from(&a.id);
                c.req.etag.clone_from(&a.etag);
            }),
            invalid("outcome missing", |c: &mut C, _, _| c.req.outcome = None),
        ],
    );
    property(
        "RecordOutcome",
        |w| Call {
            token: w.jpn.clone(),
            req: api::RecordOutcomeRequest {
                id: w.in_delivery.id.clone(),
                etag: w.in_delivery.etag.clone(),
                outcome: Some(api::Outcome {
                    trained: 2,
                    women_trained: 1,
                    certified: 1,
                    deployed_missions: vec!["MINUSCA".into()],
                    ..Default::default()
                }),
                request_id: new_request_id(),
            },
        },
        defects,
        rpc!(ArrangementServiceClient, record_outcome),
    );
}

// ------------------------------------------------------------------ administration

#[test]
fn create_principal_refuses_hostile_principals() {
    use api::PrincipalKind as K;
    type C = Call<api::CreatePrincipalRequest>;
    let defects = and(
        common(|r: &mut api::CreatePrincipalRequest| &mut r.request_id),
        vec![
            invalid("kind", |c: &mut C, _, k| c.req.kind = bad_enum(k, 3, true)),
            invalid("member_state", |c: &mut C, _, k| c.req.member_state = bad_state(k)),
            invalid("display_name", |c: &mut C, _, k| c.req.display_name = bad_text(k, 1, 200, false)),
            invalid("training_centre_id names no centre", |c: &mut C, _, k| {
                c.req.kind = K::TrainingCentre as i32;
                c.req.member_state = String::new();
                c.req.training_centre_id = bad_id("centre", k);
            }),
            invalid("fields of another kind", |c: &mut C, w, k| {
                // Each variant sets every field it relies on, so no other defect undoes it.
                let (kind, centre) = match k % 3 {
                    0 => (K::Secretariat, String::new()),
                    1 => (K::MemberState, w.centre_id.clone()),
                    _ => (K::TrainingCentre, w.centre_id.clone()),
                };
                c.req.kind = kind as i32;
                c.req.member_state = "UGA".into();
                c.req.training_centre_id = centre;
            }),
            defect("a state calls", Code::PermissionDenied, |c: &mut C, w, _| c.token = w.uga.clone()),
        ],
    );
    property(
        "CreatePrincipal",
        |w| Call {
            token: w.admin.clone(),
            req: api::CreatePrincipalRequest {
                kind: K::MemberState as i32,
                member_state: "UGA".into(),
                training_centre_id: String::new(),
                display_name: "UGA mission".into(),
                request_id: new_request_id(),
            },
        },
        defects,
        rpc!(AdminServiceClient, create_principal),
    );
}

#[test]
fn revoke_principal_refuses_hostile_revocations() {
    type C = Call<api::RevokePrincipalRequest>;
    let defects = vec![
        defect("missing id", Code::NotFound, |c: &mut C, _, k| c.req.id = bad_id("principal", k)),
        defect("unknown or revoked token", Code::Unauthenticated, |c: &mut C, w, k| c.token = bad_token(k, w)),
        defect("a training centre calls", Code::PermissionDenied, |c: &mut C, w, _| c.token = w.centre.clone()),
        defect("a state calls", Code::PermissionDenied, |c: &mut C, w, k| {
            c.token = pick(k, &[w.uga.clone(), w.jpn.clone()])
        }),
    ];
    // The base revokes a principal that is already revoked: no defect, no change.
    property(
        "RevokePrincipal",
        |w| Call { token: w.admin.clone(), req: api::RevokePrincipalRequest { id: w.revoked_principal.clone() } },
        defects,
        rpc!(AdminServiceClient, revoke_principal),
    );
}

// ------------------------------------------------------------------ the one allowed change

fn entries(store: &Store, tree: TreeId) -> Vec<(Vec<u8>, Vec<u8>)> {
    store.entries(tree).unwrap()
}

/// A refused ApproveMatch (the need or an offer was withdrawn after the proposal) turns
/// that match STALE — one new version of the match, its PROPOSED index entry removed, one
/// MATCH_STALE event — and changes nothing else; approving it again changes nothing.
#[test]
fn a_refused_approval_changes_only_its_match_to_stale() {
    use api::CapabilityArea as C;
    use lcm::domain::{Id, Kind, Match};
    let rt = runtime();
    rt.block_on(async {
        let w = world().await;
        let free = [
            C::CampSecurity,
            C::RapidReaction,
            C::SituationalAwareness,
            C::FormedPoliceUnit,
            C::IndividualPolice,
            C::ProtectionOfCivilians,
            C::ConductAndDiscipline,
            C::StaffAndObservers,
        ];
        for (round, capability) in free.into_iter().enumerate() {
            let n = w.create_need(&w.uga, small_need("UGA", capability, "Refused later"), String::new()).await;
            let o = w.create_offer(&w.jpn, small_offer("JPN", capability, 2), String::new()).await;
            let m = w.propose(capability).await.remove(0);
            if round % 2 == 0 {
                let req =
                    api::WithdrawOfferRequest { id: o.id.clone(), etag: o.etag.clone(), request_id: String::new() };
                w.offers().await.withdraw_offer(authed(&w.jpn, req)).await.unwrap();
            } else {
                let req =
                    api::WithdrawNeedRequest { id: n.id.clone(), etag: n.etag.clone(), request_id: String::new() };
                w.needs().await.withdraw_need(authed(&w.uga, req)).await.unwrap();
            }
            let digest = w.store.content_digest().unwrap();
            // In `TreeId::ALL` order, as `changed_trees` reports them.
            let trees = [TreeId::Events, TreeId::Matches, TreeId::ProposedMatches];
            let before: Vec<_> = trees.iter().map(|t| entries(&w.store, *t)).collect();

            let status = w.approve(&m).await.unwrap_err();
            check_refusal(&status, "ApproveMatch after a withdrawal");
            assert_eq!((status.code(), reason(&status).as_str()), (Code::FailedPrecondition, "WITHDRAWN"));

            let changed = digest.changed_trees(&w.store.content_digest().unwrap());
            assert_eq!(changed, trees, "round {round}: a refused approval may change only its match");
            let after: Vec<_> = trees.iter().map(|t| entries(&w.store, *t)).collect();
            let key = lcm::store::keys::id_key(Id::parse(Kind::Match, &m.id).unwrap()).to_vec();
            // Matches: only this match, one version later, STALE, otherwise the same.
            let differs = |a: &[(Vec<u8>, Vec<u8>)], b: &[(Vec<u8>, Vec<u8>)]| {
                let keys: std::collections::BTreeSet<&Vec<u8>> = a.iter().chain(b).map(|(k, _)| k).collect();
                keys.into_iter()
                    .filter(|k| a.iter().find(|(x, _)| x == *k) != b.iter().find(|(x, _)| x == *k))
                    .cloned()
                    .collect::<Vec<_>>()
            };
            assert_eq!(differs(&before[1], &after[1]), std::slice::from_ref(&key));
            let decode = |entries: &[(Vec<u8>, Vec<u8>)]| -> Match {
                let (_, v) = entries.iter().find(|(k, _)| *k == key).unwrap();
                lcm::store::decode(TreeId::Matches, v).unwrap()
            };
            let (old, new) = (decode(&before[1]), decode(&after[1]));
            assert_eq!((old.state, new.state), (MatchState::Proposed, MatchState::Stale));
            assert_eq!(new.meta.version, old.meta.version + 1);
            assert_eq!(Match { state: old.state, meta: old.meta, ..new.clone() }, old);
            // ProposedMatches: exactly this key removed.
            let mut expected = before[2].clone();
            expected.retain(|(k, _)| *k != key);
            assert_eq!(after[2], expected);
            // Events: exactly one more, MATCH_STALE, carrying the stale match.
            assert_eq!(after[0][..before[0].len()], before[0][..]);
            assert_eq!(after[0].len(), before[0].len() + 1);
            let [event]: [lcm::domain::Event; 1] =
                w.store.read_logged(&after[0][before[0].len()].1).unwrap().try_into().unwrap();
            assert_eq!(event.kind, EventKind::MatchStale);
            assert!(matches!(&event.resource, EventResource::Match(x) if *x == new));
            assert_eq!(w.get_match(&m.id).await.state, api::MatchState::Stale as i32);

            // Approving the stale match again is refused and changes nothing.
            let again = api::ApproveMatchRequest { id: m.id.clone(), ..Default::default() };
            let status = refused(&w.store, "ApproveMatch of a STALE match", {
                (rpc!(MatchingServiceClient, approve_match))(w.channel.clone(), w.admin.clone(), again)
            })
            .await;
            assert_eq!((status.code(), reason(&status).as_str()), (Code::FailedPrecondition, "WRONG_STATE"));
        }
        w.still_serving().await;
    });
}

// ------------------------------------------------------------------ too large to read

/// Every write method refuses a message over 1 MiB with RESOURCE_EXHAUSTED, reading and
/// storing nothing; the server goes on serving.
#[test]
fn every_write_method_refuses_a_message_over_one_mebibyte() {
    let rt = runtime();
    rt.block_on(async {
        let w = world().await;
        let big = "x".repeat((1 << 20) + 1);
        let (ch, admin) = (w.channel.clone(), w.admin.clone());
        let big_need = api::Need { description: big.clone(), ..need("UGA") };
        let big_offer = api::Offer { description: big.clone(), ..delivery_offer("JPN") };
        let calls: Vec<(&str, Sent)> = vec![
            (
                "CreateNeed",
                (rpc!(NeedServiceClient, create_need))(
                    ch.clone(),
                    admin.clone(),
                    api::CreateNeedRequest { need: Some(big_need.clone()), request_id: new_request_id() },
                ),
            ),
            (
                "UpdateNeed",
                (rpc!(NeedServiceClient, update_need))(
                    ch.clone(),
                    admin.clone(),
                    api::UpdateNeedRequest {
                        need: Some(api::Need { id: w.need_open.id.clone(), ..big_need }),
                        update_mask: Some(prost_types::FieldMask { paths: vec!["description".into()] }),
                        request_id: new_request_id(),
                    },
                ),
            ),
            (
                "WithdrawNeed",
                (rpc!(NeedServiceClient, withdraw_need))(
                    ch.clone(),
                    admin.clone(),
                    api::WithdrawNeedRequest {
                        id: w.need_open.id.clone(),
                        etag: big.clone(),
                        request_id: new_request_id(),
                    },
                ),
            ),
            (
                "CreateOffer",
                (rpc!(OfferServiceClient, create_offer))(
                    ch.clone(),
                    admin.clone(),
                    api::CreateOfferRequest { offer: Some(big_offer.clone()), request_id: new_request_id() },
                ),
            ),
            (
                "UpdateOffer",
                (rpc!(OfferServiceClient, update_offer))(
                    ch.clone(),
                    admin.clone(),
                    api::UpdateOfferRequest {
                        offer: Some(api::Offer { id: w.offer_open.id.clone(), ..big_offer }),
                        update_mask: Some(prost_types::FieldMask { paths: vec!["description".into()] }),
                        request_id: new_request_id(),
                    },
                ),
            ),
            (
                "WithdrawOffer",
                (rpc!(OfferServiceClient, withdraw_offer))(
                    ch.clone(),
                    admin.clone(),
                    api::WithdrawOfferRequest {
                        id: w.offer_open.id.clone(),
                        etag: big.clone(),
                        request_id: new_request_id(),
                    },
                ),
            ),
            (
                "CreateTrainingCentre",
                (rpc!(TrainingCentreServiceClient, create_training_centre))(
                    ch.clone(),
                    admin.clone(),
                    api::CreateTrainingCentreRequest {
                        training_centre: Some(api::TrainingCentre {
                            name: big.clone(),
                            host_state: "KEN".into(),
                            languages: vec!["en".into()],
                            ..Default::default()
                        }),
                        request_id: new_request_id(),
                    },
                ),
            ),
            (
                "ProposeMatches",
                (rpc!(MatchingServiceClient, propose_matches))(
                    ch.clone(),
                    admin.clone(),
                    api::ProposeMatchesRequest {
                        capabilities: vec![1; (1 << 20) + 1],
                        dry_run: false,
                        request_id: new_request_id(),
                        ..Default::default()
                    },
                ),
            ),
            (
                "ApproveMatch",
                (rpc!(MatchingServiceClient, approve_match))(
                    ch.clone(),
                    admin.clone(),
                    api::ApproveMatchRequest {
                        id: w.match_proposed.id.clone(),
                        etag: w.match_proposed.etag.clone(),
                        comment: big.clone(),
                        request_id: new_request_id(),
                    },
                ),
            ),
            (
                "RejectMatch",
                (rpc!(MatchingServiceClient, reject_match))(
                    ch.clone(),
                    admin.clone(),
                    api::RejectMatchRequest {
                        id: w.match_proposed.id.clone(),
                        etag: w.match_proposed.etag.clone(),
                        reason: big.clone(),
                        request_id: new_request_id(),
                    },
                ),
            ),
            (
                "RespondToArrangement",
                (rpc!(ArrangementServiceClient, respond_to_arrangement))(
                    ch.clone(),
                    w.jpn.clone(),
                    api::RespondToArrangementRequest {
                        id: w.pending.id.clone(),
                        etag: w.pending.etag.clone(),
                        accept: true,
                        note: big.clone(),
                        request_id: new_request_id(),
                    },
                ),
            ),
            (
                "TransitionArrangement",
                (rpc!(ArrangementServiceClient, transition_arrangement))(
                    ch.clone(),
                    admin.clone(),
                    api::TransitionArrangementRequest {
                        id: w.agreed.id.clone(),
                        etag: w.agreed.etag.clone(),
                        to: api::ArrangementStatus::Cancelled as i32,
                        note: big.clone(),
                        ..Default::default()
                    },
                ),
            ),
            (
                "RecordOutcome",
                (rpc!(ArrangementServiceClient, record_outcome))(
                    ch.clone(),
                    w.jpn.clone(),
                    api::RecordOutcomeRequest {
                        id: w.in_delivery.id.clone(),
                        etag: w.in_delivery.etag.clone(),
                        outcome: Some(api::Outcome {
                            trained: 1,
                            deployed_missions: vec![big.clone()],
                            ..Default::default()
                        }),
                        request_id: new_request_id(),
                    },
                ),
            ),
            (
                "CreatePrincipal",
                (rpc!(AdminServiceClient, create_principal))(
                    ch.clone(),
                    admin.clone(),
                    api::CreatePrincipalRequest {
                        kind: api::PrincipalKind::MemberState as i32,
                        member_state: "UGA".into(),
                        display_name: big.clone(),
                        ..Default::default()
                    },
                ),
            ),
            (
                "RevokePrincipal",
                (rpc!(AdminServiceClient, revoke_principal))(
                    ch.clone(),
                    admin.clone(),
                    api::RevokePrincipalRequest { id: big.clone() },
                ),
            ),
        ];
        for (method, sent) in calls {
            let status = refused(&w.store, method, sent).await;
            assert_eq!(status.code(), Code::ResourceExhausted, "{method}: {}", shorten(status.message()));
        }
        w.still_serving().await;
    });
}

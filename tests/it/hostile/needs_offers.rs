//! Hostile requests to NeedService, OfferService and TrainingCentreService.

use super::*;

// ------------------------------------------------------------------ needs

/// How to spoil each field of a Need (named as its update-mask path).
#[allow(clippy::type_complexity)]
const NEED_FIELDS: &[(&str, fn(&mut api::Need, u32))] = &[
    ("category", |n, k| n.category = bad_enum(k, 6, true)),
    ("capability", |n, k| n.capability = bad_enum(k, 15, true)),
    ("title", |n, k| n.title = bad_text(k, 1, 200, false)),
    ("description", |n, k| n.description = bad_text(k, 0, 4_000, true)),
    ("quantity", |n, k| n.quantity = bad_quantity(k)),
    ("women_quantity", |n, k| {
        n.women_quantity = n.quantity.saturating_add(1 + k % 1_000);
        if k % 2 == 1 {
            n.category = api::SupportCategory::Equipment as i32;
        }
    }),
    ("languages", |n, k| n.languages = bad_languages(k)),
    ("needed_by", |n, k| {
        n.needed_by = match k % 3 {
            0 => bad_time(k / 3),
            1 => far_future(k / 3),
            _ => Some(ts_days(-pick(k / 3, &[1, 400, 19_000]))),
        }
    }),
    ("priority", |n, k| n.priority = bad_enum(k, 3, true)),
    ("pledge_ref", |n, k| n.pledge_ref = bad_text(k, 0, 100, false)),
    ("pledge_level", |n, k| n.pledge_level = bad_enum(k, 4, false)),
    ("mission", |n, k| n.mission = bad_text(k, 0, 40, false)),
    ("accepted_modes", |n, k| n.accepted_modes = bad_enum_list(k, 4)),
];

/// One INVALID_ARGUMENT defect per Need field; `mask`, when given, also names the field.
fn need_field_defects<R: 'static>(
    body: fn(&mut R) -> &mut api::Need,
    mask: Option<fn(&mut R) -> &mut Vec<String>>,
) -> Vec<Defect<R>> {
    NEED_FIELDS
        .iter()
        .map(|&(name, spoil)| {
            invalid(name, move |c: &mut Call<R>, _, k| {
                spoil(body(&mut c.req), k);
                if let Some(mask) = mask {
                    mask(&mut c.req).push(name.to_string());
                }
            })
        })
        .collect()
}

fn create_need_body(r: &mut api::CreateNeedRequest) -> &mut api::Need {
    r.need.get_or_insert_with(Default::default)
}

#[test]
fn create_need_refuses_hostile_needs() {
    type C = Call<api::CreateNeedRequest>;
    let mut defects = and(
        common(|r: &mut api::CreateNeedRequest| &mut r.request_id),
        vec![
            invalid("requester", |c: &mut C, _, k| create_need_body(&mut c.req).requester = bad_state(k)),
            defect("a state names another requester", Code::PermissionDenied, |c: &mut C, w, _| {
                c.token = w.uga.clone();
                create_need_body(&mut c.req).requester = "RWA".into();
            }),
            defect("a state sets CRITICAL", Code::PermissionDenied, |c: &mut C, w, _| {
                c.token = w.uga.clone();
                create_need_body(&mut c.req).priority = api::Priority::Critical as i32;
            }),
        ],
    );
    defects.extend(need_field_defects(create_need_body, None));
    // Last, so that no later defect puts a body back.
    defects.push(invalid("need missing", |c: &mut C, w, _| {
        c.token = w.admin.clone();
        c.req.need = None;
    }));
    property(
        "CreateNeed",
        |w| Call {
            token: w.admin.clone(),
            req: api::CreateNeedRequest { need: Some(need("UGA")), request_id: new_request_id() },
        },
        defects,
        rpc!(NeedServiceClient, create_need),
    );
}

fn update_need_body(r: &mut api::UpdateNeedRequest) -> &mut api::Need {
    r.need.get_or_insert_with(Default::default)
}

fn update_need_mask(r: &mut api::UpdateNeedRequest) -> &mut Vec<String> {
    &mut r.update_mask.get_or_insert_with(Default::default).paths
}

#[test]
fn update_need_refuses_hostile_updates() {
    type C = Call<api::UpdateNeedRequest>;
    let mut defects = and(common(|r: &mut api::UpdateNeedRequest| &mut r.request_id), mask_defects(update_need_mask));
    defects.extend(vec![
        defect("missing id", Code::NotFound, |c: &mut C, _, k| update_need_body(&mut c.req).id = bad_id("need", k)),
        defect("a state that cannot read it", Code::NotFound, |c: &mut C, w, _| {
            c.token = w.fra.clone();
            update_need_body(&mut c.req).requester = String::new();
        }),
        defect("a state names another requester", Code::PermissionDenied, |c: &mut C, w, _| {
            c.token = w.fra.clone();
        }),
        defect("a state sets CRITICAL", Code::PermissionDenied, |c: &mut C, w, _| {
            c.token = w.uga.clone();
            update_need_body(&mut c.req).priority = api::Priority::Critical as i32;
            update_need_mask(&mut c.req).push("priority".into());
        }),
        defect("stale etag", Code::Aborted, |c: &mut C, _, k| {
            let body = update_need_body(&mut c.req);
            body.etag = bad_etag(k, &body.etag.clone());
        }),
        defect("withdrawn need", Code::FailedPrecondition, |c: &mut C, w, _| {
            let body = update_need_body(&mut c.req);
            body.id.clone_from(&w.need_withdrawn.id);
            body.etag.clone_from(&w.need_withdrawn.etag);
        }),
        invalid("capability never changes", |c: &mut C, _, _| {
            update_need_body(&mut c.req).capability = api::CapabilityArea::Medical as i32;
            update_need_mask(&mut c.req).push("capability".into());
        }),
        defect("quantity below the reserved seats", Code::FailedPrecondition, |c: &mut C, w, _| {
            c.req.need = Some(api::Need { quantity: 1, ..w.need_reserved.clone() });
            c.req.update_mask = Some(prost_types::FieldMask { paths: vec!["quantity".into()] });
        }),
        defect("frozen field while seats are reserved", Code::FailedPrecondition, |c: &mut C, w, k| {
            let mut n = w.need_reserved.clone();
            let path = if k % 2 == 0 {
                n.languages = vec!["fr".into()];
                "languages"
            } else {
                n.needed_by = Some(ts_days(110));
                "needed_by"
            };
            c.req.need = Some(n);
            c.req.update_mask = Some(prost_types::FieldMask { paths: vec![path.into()] });
        }),
    ]);
    defects.extend(need_field_defects(update_need_body, Some(update_need_mask)));
    property(
        "UpdateNeed",
        |w| Call {
            token: w.uga.clone(),
            req: api::UpdateNeedRequest {
                need: Some(api::Need { title: "Retitled".into(), ..w.need_open.clone() }),
                update_mask: Some(prost_types::FieldMask { paths: vec!["title".into()] }),
                request_id: new_request_id(),
            },
        },
        defects,
        rpc!(NeedServiceClient, update_need),
    );
}

#[test]
fn withdraw_need_refuses_hostile_withdrawals() {
    type C = Call<api::WithdrawNeedRequest>;
    let defects = and(
        common(|r: &mut api::WithdrawNeedRequest| &mut r.request_id),
        vec![
            defect("missing id", Code::NotFound, |c: &mut C, _, k| c.req.id = bad_id("need", k)),
            defect("a state that cannot read it", Code::NotFound, |c: &mut C, w, _| c.token = w.fra.clone()),
            defect("stale etag", Code::Aborted, |c: &mut C, _, k| c.req.etag = bad_etag(k, &c.req.etag.clone())),
            defect("already withdrawn", Code::FailedPrecondition, |c: &mut C, w, _| {
                c.req.id.clone_from(&w.need_withdrawn.id);
                c.req.etag.clone_from(&w.need_withdrawn.etag);
            }),
        ],
    );
    property(
        "WithdrawNeed",
        |w| Call {
            token: w.uga.clone(),
            req: api::WithdrawNeedRequest {
                id: w.need_open.id.clone(),
                etag: w.need_open.etag.clone(),
                request_id: new_request_id(),
            },
        },
        defects,
        rpc!(NeedServiceClient, withdraw_need),
    );
}

// ------------------------------------------------------------------ offers

/// How to spoil each field of an Offer (named as its update-mask path).
#[allow(clippy::type_complexity)]
const OFFER_FIELDS: &[(&str, fn(&mut api::Offer, u32))] = &[
    ("providers", |o, k| {
        o.providers = match k % 4 {
            0 => vec!["JPN".into(), bad_state(k / 4)],
            1 => vec!["JPN".into(), "JPN".into()],
            2 => std::iter::once("JPN".to_string()).chain(all_states().into_iter().take(10)).collect(),
            _ => std::iter::once("JPN".to_string()).chain(std::iter::repeat_n("XXX".to_string(), 50_000)).collect(),
        }
    }),
    ("role", |o, k| o.role = bad_enum(k, 2, true)),
    ("category", |o, k| o.category = bad_enum(k, 6, true)),
    ("capability", |o, k| o.capability = bad_enum(k, 15, true)),
    ("title", |o, k| o.title = bad_text(k, 1, 200, false)),
    ("description", |o, k| o.description = bad_text(k, 0, 4_000, true)),
    ("capacity", |o, k| o.capacity = bad_quantity(k)),
    ("available_from", |o, k| o.available_from = bad_time(k)),
    ("available_until", |o, k| {
        o.available_until = match k % 3 {
            0 => bad_time(k / 3),
            1 => far_future(k / 3),
            _ => Some(ts_days(5)),
        }
    }),
    ("eligible_recipients", |o, k| {
        o.eligible_recipients = match k % 3 {
            0 => vec![bad_state(k / 3)],
            1 => vec!["UGA".into(), "UGA".into()],
            _ => all_states().into_iter().chain(["UGA".to_string()]).collect(),
        }
    }),
    ("excluded_recipients", |o, k| {
        o.excluded_recipients = match k % 3 {
            0 => vec!["UGA".into(), bad_state(k / 3)],
            1 => vec!["KEN".into(), "KEN".into()],
            _ => std::iter::repeat_n("UGA".to_string(), 60_000).collect(),
        }
    }),
    ("max_per_recipient", |o, k| o.max_per_recipient = pick(k, &[100_001, u32::MAX, 1 << 31])),
    ("languages", |o, k| o.languages = bad_languages(k)),
    ("mode", |o, k| o.mode = bad_enum(k, 4, true)),
    ("training_centre_id", |o, k| match k % 3 {
        0 => {
            o.mode = api::DeliveryMode::AtTrainingCentre as i32;
            o.training_centre_id = bad_id("centre", k / 3);
        }
        1 => {
            o.mode = api::DeliveryMode::Remote as i32;
            o.training_centre_id = "centre-1".into();
        }
        _ => {
            o.mode = api::DeliveryMode::AtTrainingCentre as i32;
            o.training_centre_id = String::new();
        }
    }),
    ("duration_days", |o, k| o.duration_days = pick(k, &[0, 3_651, u32::MAX])),
    ("women_only", |o, _| {
        o.women_only = true;
        o.category = api::SupportCategory::Equipment as i32;
    }),
    ("requires_funding", |o, _| {
        // Delivery terms on a FUNDING offer.
        o.role = api::OfferRole::Funding as i32;
        o.requires_funding = true;
    }),
];

fn offer_field_defects<R: 'static>(
    body: fn(&mut R) -> &mut api::Offer,
    mask: Option<fn(&mut R) -> &mut Vec<String>>,
) -> Vec<Defect<R>> {
    OFFER_FIELDS
        .iter()
        .map(|&(name, spoil)| {
            invalid(name, move |c: &mut Call<R>, _, k| {
                spoil(body(&mut c.req), k);
                if let Some(mask) = mask {
                    let paths = mask(&mut c.req);
                    paths.push(name.to_string());
                    // Fields a spoiler sets besides its own.
                    match name {
                        "training_centre_id" => paths.push("mode".into()),
                        "women_only" => paths.push("category".into()),
                        "requires_funding" => paths.push("role".into()),
                        _ => {}
                    }
                }
            })
        })
        .collect()
}

fn create_offer_body(r: &mut api::CreateOfferRequest) -> &mut api::Offer {
    r.offer.get_or_insert_with(Default::default)
}

#[test]
fn create_offer_refuses_hostile_offers() {
    type C = Call<api::CreateOfferRequest>;
    let mut defects = and(
        common(|r: &mut api::CreateOfferRequest| &mut r.request_id),
        vec![defect("a state offers for others", Code::PermissionDenied, |c: &mut C, w, _| {
            c.token = w.jpn.clone();
            create_offer_body(&mut c.req).providers = vec!["RWA".into()];
        })],
    );
    defects.extend(offer_field_defects(create_offer_body, None));
    defects.push(invalid("offer missing", |c: &mut C, w, _| {
        c.token = w.admin.clone();
        c.req.offer = None;
    }));
    property(
        "CreateOffer",
        |w| Call {
            token: w.jpn.clone(),
            req: api::CreateOfferRequest { offer: Some(delivery_offer("JPN")), request_id: new_request_id() },
        },
        defects,
        rpc!(OfferServiceClient, create_offer),
    );
}

fn update_offer_body(r: &mut api::UpdateOfferRequest) -> &mut api::Offer {
    r.offer.get_or_insert_with(Default::default)
}

fn update_offer_mask(r: &mut api::UpdateOfferRequest) -> &mut Vec<String> {
    &mut r.update_mask.get_or_insert_with(Default::default).paths
}

#[test]
fn update_offer_refuses_hostile_updates() {
    type C = Call<api::UpdateOfferRequest>;
    let mut defects = and(common(|r: &mut api::UpdateOfferRequest| &mut r.request_id), mask_defects(update_offer_mask));
    defects.extend(vec![
        defect("missing id", Code::NotFound, |c: &mut C, _, k| update_offer_body(&mut c.req).id = bad_id("offer", k)),
        defect("a state that is not a provider", Code::PermissionDenied, |c: &mut C, w, _| {
            c.token = w.fra.clone();
            update_offer_body(&mut c.req).providers.clear();
        }),
        defect("stale etag", Code::Aborted, |c: &mut C, _, k| {
            let body = update_offer_body(&mut c.req);
            body.etag = bad_etag(k, &body.etag.clone());
        }),
        defect("withdrawn offer", Code::FailedPrecondition, |c: &mut C, w, _| {
            let body = update_offer_body(&mut c.req);
            body.id.clone_from(&w.offer_withdrawn.id);
            body.etag.clone_from(&w.offer_withdrawn.etag);
        }),
        invalid("providers never change", |c: &mut C, _, _| {
            update_offer_body(&mut c.req).providers = vec!["JPN".into(), "KEN".into()];
            update_offer_mask(&mut c.req).push("providers".into());
        }),
        defect("capacity below the reserved seats", Code::FailedPrecondition, |c: &mut C, w, k| {
            c.req.offer = Some(api::Offer { capacity: 1 + k % 5, ..w.offer_reserved.clone() });
            c.req.update_mask = Some(prost_types::FieldMask { paths: vec!["capacity".into()] });
        }),
        defect("frozen field while seats are reserved", Code::FailedPrecondition, |c: &mut C, w, k| {
            let mut o = w.offer_reserved.clone();
            let path = match k % 3 {
                0 => {
                    o.available_until = Some(ts_days(150));
                    "available_until"
                }
                1 => {
                    o.max_per_recipient = 1;
                    "max_per_recipient"
                }
                _ => {
                    o.duration_days = 20;
                    "duration_days"
                }
            };
            c.req.offer = Some(o);
            c.req.update_mask = Some(prost_types::FieldMask { paths: vec![path.into()] });
        }),
    ]);
    defects.extend(offer_field_defects(update_offer_body, Some(update_offer_mask)));
    property(
        "UpdateOffer",
        |w| Call {
            token: w.jpn.clone(),
            req: api::UpdateOfferRequest {
                offer: Some(api::Offer { title: "Retitled".into(), ..w.offer_open.clone() }),
                update_mask: Some(prost_types::FieldMask { paths: vec!["title".into()] }),
                request_id: new_request_id(),
            },
        },
        defects,
        rpc!(OfferServiceClient, update_offer),
    );
}

#[test]
fn withdraw_offer_refuses_hostile_withdrawals() {
    type C = Call<api::WithdrawOfferRequest>;
    let defects = and(
        common(|r: &mut api::WithdrawOfferRequest| &mut r.request_id),
        vec![
            defect("missing id", Code::NotFound, |c: &mut C, _, k| c.req.id = bad_id("offer", k)),
            defect("a state that is not a provider", Code::PermissionDenied, |c: &mut C, w, _| c.token = w.fra.clone()),
            defect("stale etag", Code::Aborted, |c: &mut C, _, k| c.req.etag = bad_etag(k, &c.req.etag.clone())),
            defect("already withdrawn", Code::FailedPrecondition, |c: &mut C, w, _| {
                c.req.id.clone_from(&w.offer_withdrawn.id);
                c.req.etag.clone_from(&w.offer_withdrawn.etag);
            }),
        ],
    );
    property(
        "WithdrawOffer",
        |w| Call {
            token: w.jpn.clone(),
            req: api::WithdrawOfferRequest {
                id: w.offer_open.id.clone(),
                etag: w.offer_open.etag.clone(),
                request_id: new_request_id(),
            },
        },
        defects,
        rpc!(OfferServiceClient, withdraw_offer),
    );
}

// ------------------------------------------------------------------ training centres

fn centre_body(r: &mut api::CreateTrainingCentreRequest) -> &mut api::TrainingCentre {
    r.training_centre.get_or_insert_with(Default::default)
}

#[test]
fn create_training_centre_refuses_hostile_centres() {
    type C = Call<api::CreateTrainingCentreRequest>;
    let defects = and(
        common(|r: &mut api::CreateTrainingCentreRequest| &mut r.request_id),
        vec![
            invalid("name", |c: &mut C, _, k| centre_body(&mut c.req).name = bad_text(k, 1, 200, false)),
            invalid("host_state", |c: &mut C, _, k| centre_body(&mut c.req).host_state = bad_state(k)),
            invalid("languages", |c: &mut C, _, k| centre_body(&mut c.req).languages = bad_languages(k)),
            invalid("capabilities", |c: &mut C, _, k| centre_body(&mut c.req).capabilities = bad_enum_list(k, 15)),
            defect("a state calls", Code::PermissionDenied, |c: &mut C, w, _| c.token = w.uga.clone()),
            invalid("training_centre missing", |c: &mut C, w, _| {
                c.token = w.admin.clone();
                c.req.training_centre = None;
            }),
        ],
    );
    property(
        "CreateTrainingCentre",
        |w| Call {
            token: w.admin.clone(),
            req: api::CreateTrainingCentreRequest {
                training_centre: Some(api::TrainingCentre {
                    name: "Centre".into(),
                    host_state: "GHA".into(),
                    languages: vec!["en".into(), "fr".into()],
                    capabilities: vec![api::CapabilityArea::Medical as i32],
                    ..Default::default()
                }),
                request_id: new_request_id(),
            },
        },
        defects,
        rpc!(TrainingCentreServiceClient, create_training_centre),
    );
}

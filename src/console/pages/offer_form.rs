//! An offer's form: create (a state for offers it provides, or the Secretariat) and edit,
//! with the service's field violations shown on the fields, as for needs.

use super::forms::{self, number};
use crate::api as pb;
use crate::api::offer_service_server::OfferService;
use crate::console::call::{self, Refusal};
use crate::console::html::{self, E, date, described, field, select};
use crate::console::{Form, Ui, form_of};
use axum::body::Bytes;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use std::fmt::Write;

/// The form's values as an offer (and the fields the form itself could not read).
fn offer_from_form(form: &Form) -> (pb::Offer, Vec<(String, String)>) {
    let mut bad = Vec::new();
    let mut num = |name: &str| match number(form.get(name)) {
        Ok(n) => n,
        Err(()) => {
            bad.push((name.to_string(), "must be a whole number".to_string()));
            0
        }
    };
    let capacity = num("capacity");
    let max_per_recipient = num("max_per_recipient");
    let duration_days = num("duration_days");
    let mut day = |name: &str| {
        let d = forms::date(form.get(name));
        if d.is_none() && !form.get(name).trim().is_empty() {
            bad.push((name.to_string(), "must be a date (YYYY-MM-DD)".to_string()));
        }
        d
    };
    let available_from = day("available_from");
    let available_until = day("available_until");
    let codes = |name: &str| forms::list(form.get(name)).into_iter().map(|c| c.to_ascii_uppercase()).collect();
    let offer = pb::Offer {
        providers: codes("providers"),
        role: forms::enum_number(form.get("role")),
        category: forms::enum_number(form.get("category")),
        capability: forms::enum_number(form.get("capability")),
        title: form.get("title").to_string(),
        description: form.get("description").to_string(),
        capacity,
        available_from,
        available_until,
        eligible_recipients: codes("eligible_recipients"),
        excluded_recipients: codes("excluded_recipients"),
        max_per_recipient,
        languages: forms::list(form.get("languages")),
        mode: forms::enum_number(form.get("mode")),
        training_centre_id: form.get("training_centre_id").trim().to_string(),
        duration_days,
        women_only: form.has("women_only"),
        requires_funding: form.has("requires_funding"),
        ..Default::default()
    };
    (offer, bad)
}

/// The offer form, filled with `offer`, marked with `refusal`.
fn offer_form(ui: &Ui, offer: &pb::Offer, editing: bool, refusal: Option<&Refusal>) -> String {
    let err = |name: &str| refusal.and_then(|r| r.field(name));
    let mut out = String::new();
    if let Some(r) = refusal {
        out.push_str(&html::notice("error", &format!("{} {}", r.message, ui.t("check_fields"))));
    }
    let action = if editing { format!("/offers/{}", offer.id) } else { "/offers".to_string() };
    let _ = write!(
        out,
        "<form method=\"post\" action=\"{}\" class=\"card\" novalidate>{}{}",
        E(&action),
        html::csrf_field(&ui.csrf),
        html::request_id_field()
    );
    if editing {
        let _ = write!(
            out,
            "<input type=\"hidden\" name=\"action\" value=\"update\"><input type=\"hidden\" name=\"etag\" value=\"{}\">",
            E(&offer.etag)
        );
    }
    let text = |name: &str, label: &str, value: &str, extra: &str, help: Option<&str>| {
        let e = err(name);
        field(
            name,
            label,
            &format!(
                "<input id=\"{name}\" name=\"{name}\" value=\"{}\"{extra}{}>",
                E(value),
                described(name, help.is_some(), e.is_some())
            ),
            e,
            help,
        )
    };
    let sel = |name: &str, label: &str, options: Vec<(String, String)>, value: i32| {
        let e = err(name);
        field(name, label, &select(name, &options, &value.to_string(), &described(name, false, e.is_some())), e, None)
    };
    let check = |name: &str, label: &str, on: bool| {
        let e = err(name);
        let mut out = format!(
            "<div class=\"check{}\"><input type=\"checkbox\" id=\"{name}\" name=\"{name}\" value=\"1\"{}{}>\
             <label for=\"{name}\">{}</label>",
            if e.is_some() { " invalid" } else { "" },
            if on { " checked" } else { "" },
            described(name, false, e.is_some()),
            E(label)
        );
        if let Some(e) = e {
            let _ = write!(out, "<p class=\"error\" id=\"{name}-error\">{}</p>", E(e));
        }
        out.push_str("</div>");
        out
    };
    let count = |n: u32| if n == 0 { String::new() } else { n.to_string() };
    let numeric = " type=\"number\" min=\"0\" inputmode=\"numeric\"";
    out.push_str(&text(
        "providers",
        ui.t("providers"),
        &offer.providers.join(", "),
        " autocomplete=\"off\"",
        Some(ui.t("providers_help")),
    ));
    out.push_str(&sel("role", ui.t("role"), forms::roles(ui.lang, "—"), offer.role));
    out.push_str(&sel("category", ui.t("category"), forms::categories(ui.lang, "—"), offer.category));
    out.push_str(&sel("capability", ui.t("capability"), forms::capabilities(ui.lang, "—"), offer.capability));
    out.push_str(&text("title", ui.t("title"), &offer.title, "", None));
    {
        let e = err("description");
        out.push_str(&field(
            "description",
            ui.t("description"),
            &format!(
                "<textarea id=\"description\" name=\"description\" rows=\"3\"{}>{}</textarea>",
                described("description", false, e.is_some()),
                E(&offer.description)
            ),
            e,
            None,
        ));
    }
    out.push_str(&text("capacity", ui.t("capacity"), &count(offer.capacity), numeric, None));
    let day = |t: Option<&prost_types::Timestamp>| t.map(|t| date(Some(t))).unwrap_or_default();
    out.push_str(&text(
        "available_from",
        ui.t("available_from"),
        &day(offer.available_from.as_ref()),
        " type=\"date\"",
        None,
    ));
    out.push_str(&text(
        "available_until",
        ui.t("available_until"),
        &day(offer.available_until.as_ref()),
        " type=\"date\"",
        None,
    ));
    out.push_str(&text(
        "eligible_recipients",
        ui.t("eligible_recipients"),
        &offer.eligible_recipients.join(", "),
        "",
        Some(ui.t("recipients_help")),
    ));
    out.push_str(&text(
        "excluded_recipients",
        ui.t("excluded_recipients"),
        &offer.excluded_recipients.join(", "),
        "",
        None,
    ));
    out.push_str(&text(
        "max_per_recipient",
        ui.t("max_per_recipient"),
        &count(offer.max_per_recipient),
        numeric,
        Some(ui.t("max_per_recipient_help")),
    ));
    out.push_str(&text("languages", ui.t("languages"), &offer.languages.join(", "), "", Some(ui.t("languages_help"))));
    out.push_str(&sel("mode", ui.t("mode"), forms::modes(ui.lang, "—"), offer.mode));
    out.push_str(&text(
        "training_centre_id",
        ui.t("centre"),
        &offer.training_centre_id,
        " autocomplete=\"off\"",
        Some(ui.t("centre_help")),
    ));
    out.push_str(&text("duration_days", ui.t("duration_days"), &count(offer.duration_days), numeric, None));
    out.push_str(&check("women_only", ui.t("women_only"), offer.women_only));
    out.push_str(&check("requires_funding", ui.t("requires_funding"), offer.requires_funding));
    let _ = write!(
        out,
        "<button type=\"submit\" class=\"primary\">{}</button></form>",
        if editing { ui.t("save") } else { ui.t("create") }
    );
    out
}

fn form_refusal(ui: &Ui, bad: Vec<(String, String)>) -> Refusal {
    Refusal {
        message: ui.t("error").to_string(),
        fields: bad.into_iter().map(|(f, m)| (f, crate::console::i18n::service_message(ui.lang, &m))).collect(),
    }
}

fn refused_form(ui: &Ui, title: &str, offer: &pb::Offer, editing: bool, r: &Refusal) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, ui.page(title, &offer_form(ui, offer, editing, Some(r)))).into_response()
}

/// `/offers/new`: an empty form (the state's own code as provider), or with `?edit=id`
/// the offer's.
pub async fn new_form(ui: Ui, uri: http::Uri) -> Response {
    let q = Form::query(&uri);
    let edit = q.get("edit");
    if !edit.is_empty() {
        return match ui.ctx().get_offer(ui.rq(pb::GetOfferRequest { id: edit.to_string() })).await {
            Ok(o) => {
                let o = o.into_inner();
                ui.page(&format!("{} {}", ui.t("edit"), o.id), &offer_form(&ui, &o, true, None))
            }
            Err(_) => ui.not_found(),
        };
    }
    let offer = pb::Offer {
        providers: ui.caller.state().map(|s| vec![s.to_string()]).unwrap_or_default(),
        duration_days: 0,
        ..Default::default()
    };
    ui.page(ui.t("new_offer"), &offer_form(&ui, &offer, false, None))
}

pub async fn create(ui: Ui, body: Bytes) -> Response {
    let form = form_of(&body);
    let (offer, bad) = offer_from_form(&form);
    if !bad.is_empty() {
        return refused_form(&ui, ui.t("new_offer"), &offer, false, &form_refusal(&ui, bad));
    }
    let req = pb::CreateOfferRequest { offer: Some(offer.clone()), request_id: form.get("request_id").to_string() };
    match ui.ctx().create_offer(ui.rq(req)).await {
        Ok(created) => {
            let id = created.into_inner().id;
            ui.redirect_with(&format!("/offers/{id}"), "ok", format!("{} {id}", ui.t("done")))
        }
        Err(status) => refused_form(&ui, ui.t("new_offer"), &offer, false, &call::refusal(ui.lang, &status)),
    }
}

/// The fields of `offer` that differ from `current`, as an update mask.
fn changed_paths(offer: &pb::Offer, current: &pb::Offer) -> Vec<String> {
    let day = |t: Option<prost_types::Timestamp>| t.map(|t| t.seconds.div_euclid(86_400));
    let changes = [
        ("providers", offer.providers != current.providers),
        ("role", offer.role != current.role),
        ("category", offer.category != current.category),
        ("capability", offer.capability != current.capability),
        ("title", offer.title != current.title),
        ("description", offer.description != current.description),
        ("capacity", offer.capacity != current.capacity),
        ("available_from", day(offer.available_from) != day(current.available_from)),
        ("available_until", day(offer.available_until) != day(current.available_until)),
        ("eligible_recipients", offer.eligible_recipients != current.eligible_recipients),
        ("excluded_recipients", offer.excluded_recipients != current.excluded_recipients),
        ("max_per_recipient", offer.max_per_recipient != current.max_per_recipient),
        ("languages", offer.languages != current.languages),
        ("mode", offer.mode != current.mode),
        ("training_centre_id", offer.training_centre_id != current.training_centre_id),
        ("duration_days", offer.duration_days != current.duration_days),
        ("women_only", offer.women_only != current.women_only),
        ("requires_funding", offer.requires_funding != current.requires_funding),
    ];
    changes.iter().filter(|(_, differs)| *differs).map(|(name, _)| name.to_string()).collect()
}

/// An edited offer, as UpdateOffer with the fields that changed.
pub async fn update(ui: &Ui, id: &str, form: &Form) -> Response {
    let here = format!("/offers/{id}");
    let current = match ui.ctx().get_offer(ui.rq(pb::GetOfferRequest { id: id.to_string() })).await {
        Ok(o) => o.into_inner(),
        Err(_) => return ui.not_found(),
    };
    let (mut offer, bad) = offer_from_form(form);
    offer.id = id.to_string();
    offer.etag = form.get("etag").to_string();
    if !bad.is_empty() {
        return refused_form(ui, ui.t("edit"), &offer, true, &form_refusal(ui, bad));
    }
    let paths = changed_paths(&offer, &current);
    if paths.is_empty() {
        return ui.redirect(&here);
    }
    let req = pb::UpdateOfferRequest {
        offer: Some(offer.clone()),
        update_mask: Some(prost_types::FieldMask { paths }),
        request_id: form.get("request_id").to_string(),
    };
    match ui.ctx().update_offer(ui.rq(req)).await {
        Ok(_) => ui.redirect_with(&here, "ok", ui.t("done").to_string()),
        Err(status) => refused_form(ui, ui.t("edit"), &offer, true, &call::refusal(ui.lang, &status)),
    }
}

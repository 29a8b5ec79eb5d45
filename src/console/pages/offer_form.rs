//! An offer's form: create (a state for offers it provides, or the Secretariat) and edit,
//! with the service's field violations shown on the fields, as for needs.

use super::forms::{self, FormHtml, FormReader, form_refusal};
use crate::api as pb;
use crate::api::offer_service_server::OfferService;
use crate::console::call::{self, Refusal};
use crate::console::html::date;
use crate::console::{Form, Ui, form_of};
use axum::body::Bytes;
use axum::response::{IntoResponse, Response};
use http::StatusCode;

/// The form's values as an offer (and the fields the form itself could not read).
fn offer_from_form(form: &Form) -> (pb::Offer, Vec<(String, String)>) {
    let mut read = FormReader::new(form);
    let codes = |name: &str| forms::list(form.get(name)).into_iter().map(|c| c.to_ascii_uppercase()).collect();
    let offer = pb::Offer {
        providers: codes("providers"),
        role: forms::enum_number(form.get("role")),
        category: forms::enum_number(form.get("category")),
        capability: forms::enum_number(form.get("capability")),
        title: form.get("title").to_string(),
        description: form.get("description").to_string(),
        capacity: read.number("capacity"),
        available_from: read.date("available_from"),
        available_until: read.date("available_until"),
        eligible_recipients: codes("eligible_recipients"),
        excluded_recipients: codes("excluded_recipients"),
        max_per_recipient: read.number("max_per_recipient"),
        languages: forms::list(form.get("languages")),
        mode: forms::enum_number(form.get("mode")),
        training_centre_id: form.get("training_centre_id").trim().to_string(),
        duration_days: read.number("duration_days"),
        women_only: form.has("women_only"),
        requires_funding: form.has("requires_funding"),
        ..Default::default()
    };
    (offer, read.bad)
}

/// The offer form, filled with `offer`, marked with `refusal`.
fn offer_form(ui: &Ui, offer: &pb::Offer, editing: bool, refusal: Option<&Refusal>) -> String {
    let action = if editing { format!("/offers/{}", offer.id) } else { "/offers".to_string() };
    let mut f = FormHtml::open(ui, &action, editing.then_some(offer.etag.as_str()), refusal);
    let count = |n: u32| if n == 0 { String::new() } else { n.to_string() };
    let numeric = " type=\"number\" min=\"0\" inputmode=\"numeric\"";
    let day = |t: Option<&prost_types::Timestamp>| t.map(|t| date(Some(t))).unwrap_or_default();
    let providers = offer.providers.join(", ");
    f.text("providers", ui.t("providers"), &providers, " autocomplete=\"off\"", Some(ui.t("providers_help")));
    f.select("role", ui.t("role"), forms::roles(ui.lang, "—"), offer.role);
    f.select("category", ui.t("category"), forms::categories(ui.lang, "—"), offer.category);
    f.select("capability", ui.t("capability"), forms::capabilities(ui.lang, "—"), offer.capability);
    f.text("title", ui.t("title"), &offer.title, "", None);
    f.textarea("description", ui.t("description"), &offer.description);
    f.text("capacity", ui.t("capacity"), &count(offer.capacity), numeric, None);
    f.text("available_from", ui.t("available_from"), &day(offer.available_from.as_ref()), " type=\"date\"", None);
    f.text("available_until", ui.t("available_until"), &day(offer.available_until.as_ref()), " type=\"date\"", None);
    let eligible = offer.eligible_recipients.join(", ");
    f.text("eligible_recipients", ui.t("eligible_recipients"), &eligible, "", Some(ui.t("recipients_help")));
    let excluded = offer.excluded_recipients.join(", ");
    f.text("excluded_recipients", ui.t("excluded_recipients"), &excluded, "", None);
    let most = count(offer.max_per_recipient);
    f.text("max_per_recipient", ui.t("max_per_recipient"), &most, numeric, Some(ui.t("max_per_recipient_help")));
    f.text("languages", ui.t("languages"), &offer.languages.join(", "), "", Some(ui.t("languages_help")));
    f.select("mode", ui.t("mode"), forms::modes(ui.lang, "—"), offer.mode);
    let centre = &offer.training_centre_id;
    f.text("training_centre_id", ui.t("centre"), centre, " autocomplete=\"off\"", Some(ui.t("centre_help")));
    f.text("duration_days", ui.t("duration_days"), &count(offer.duration_days), numeric, None);
    f.check("women_only", ui.t("women_only"), offer.women_only);
    f.check("requires_funding", ui.t("requires_funding"), offer.requires_funding);
    f.finish(if editing { ui.t("save") } else { ui.t("create") })
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

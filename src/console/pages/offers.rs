//! Offers: a filtered, paged list (id order, or sorted by a column over the whole
//! list) and one offer (withdraw for its providers).

use super::forms;
use super::matches::numeric;
use super::{Sort, SortKey, id_link, sortable_table};
use crate::api as pb;
use crate::api::offer_service_server::OfferService;
use crate::console::call::{self, is_not_found};
use crate::console::html::{self, E, date, select};
use crate::console::{Form, Ui, form_of};
use axum::body::Bytes;
use axum::extract::Path;
use axum::response::Response;
use std::fmt::Write;

pub async fn list(ui: Ui, uri: http::Uri) -> Response {
    let q = Form::query(&uri);
    let req = pb::ListOffersRequest {
        page_size: super::needs::PAGE_SIZE,
        page_token: q.get("page_token").to_string(),
        provider: q.get("provider").trim().to_ascii_uppercase(),
        capability: forms::enum_number(q.get("capability")),
        role: 0,
        state: forms::enum_number(q.get("state")),
    };
    let mut body = String::new();
    if !ui.is_centre() {
        let _ = write!(body, "<p><a class=\"button\" href=\"/offers/new\">{}</a></p>", ui.t("new_offer"));
    }
    let _ = write!(
        body,
        "<form method=\"get\" action=\"/offers\" class=\"filters\">\
         <div class=\"field\"><label for=\"provider\">{pv}</label><input id=\"provider\" name=\"provider\" value=\"{pvv}\" size=\"5\" maxlength=\"3\"></div>\
         <div class=\"field\"><label for=\"capability\">{cap}</label>{caps}</div>\
         <div class=\"field\"><label for=\"state\">{st}</label>{sts}</div>\
         <input type=\"hidden\" name=\"sort\" value=\"{so}\"><button type=\"submit\">{f}</button></form>",
        so = E(q.get("sort")),
        pv = ui.t("providers"),
        pvv = E(&req.provider),
        cap = ui.t("capability"),
        caps = select("capability", &forms::capabilities(ui.lang, ui.t("any")), &req.capability.to_string(), ""),
        st = ui.t("state"),
        sts = select("state", &forms::offer_states(ui.lang, ui.t("any")), &req.state.to_string(), ""),
        f = ui.t("filter"),
    );
    let sort = Sort::parse(q.get("sort"), &COLUMNS.map(|(_, k)| k));
    let filters = format!("provider={}&capability={}&state={}", html::url(&req.provider), req.capability, req.state);
    let read = |page_token: String, page_size: i32| {
        let req = pb::ListOffersRequest { page_size, page_token, ..req.clone() };
        let ui = &ui;
        async move {
            let r = ui.ctx().list_offers(ui.rq(req)).await?.into_inner();
            Ok((r.offers, r.next_page_token))
        }
    };
    let key_of = |o: &pb::Offer| (sort_key(&ui, &sort.key, o), o.id.clone());
    let get = |id: String| {
        let ui = &ui;
        async move { ui.ctx().get_offer(ui.rq(pb::GetOfferRequest { id })).await.map(|r| r.into_inner()) }
    };
    let listed = super::list_page(&ui, &q, "/offers", &filters, &sort, read, key_of, get).await;
    match listed {
        Ok((offers, pager)) => {
            let rows: Vec<Vec<String>> = offers
                .iter()
                .map(|o| {
                    vec![
                        id_link("/offers", &o.id),
                        E(&o.providers.join(", ")).to_string(),
                        ui.label(o.role().as_str_name()),
                        ui.label(o.capability().as_str_name()),
                        E(&o.title).to_string(),
                        o.capacity.to_string(),
                        o.reserved_quantity.to_string(),
                        format!("{} – {}", date(o.available_from.as_ref()), date(o.available_until.as_ref())),
                        ui.label(o.state().as_str_name()),
                    ]
                })
                .collect();
            if rows.is_empty() {
                let _ = write!(body, "<p>{}</p>", ui.t("none"));
            } else {
                let columns: Vec<(&str, &str)> = COLUMNS.iter().map(|(label, key)| (ui.t(label), *key)).collect();
                let href = format!("/offers?{filters}&");
                body.push_str(&sortable_table(&ui, ui.t("offers"), &columns, &sort, &href, &rows));
            }
            body.push_str(&pager);
        }
        Err(status) => body.push_str(&html::notice("error", &call::refusal(ui.lang, &status).plain())),
    }
    ui.page(ui.t("offers"), &body)
}

/// The list's columns: catalogue key of the header, sort key.
const COLUMNS: [(&str, &str); 9] = [
    ("id", "id"),
    ("providers", "providers"),
    ("role", "role"),
    ("capability", "capability"),
    ("title", "title"),
    ("capacity", "capacity"),
    ("reserved", "reserved"),
    ("available", "available"),
    ("state", "state"),
];

fn sort_key(ui: &Ui, key: &str, o: &pb::Offer) -> SortKey {
    match key {
        "id" => SortKey::Number(numeric(&o.id) as i64),
        "providers" => SortKey::Text(o.providers.join(",")),
        "role" => SortKey::Text(ui.label(o.role().as_str_name())),
        "capability" => SortKey::Text(ui.label(o.capability().as_str_name())),
        "title" => SortKey::Text(o.title.to_lowercase()),
        "capacity" => SortKey::Number(o.capacity.into()),
        "reserved" => SortKey::Number(o.reserved_quantity.into()),
        "available" => SortKey::Number(o.available_from.map_or(i64::MAX, |t| t.seconds)),
        "state" => SortKey::Text(ui.label(o.state().as_str_name())),
        _ => SortKey::Number(0),
    }
}

pub async fn show(ui: Ui, Path(id): Path<String>) -> Response {
    let o = match ui.ctx().get_offer(ui.rq(pb::GetOfferRequest { id })).await {
        Ok(o) => o.into_inner(),
        Err(s) if is_not_found(&s) => return ui.not_found(),
        Err(s) => return ui.page(ui.t("error"), &html::notice("error", &call::refusal(ui.lang, &s).plain())),
    };
    let mut body = format!("<p class=\"id\">{}</p><dl class=\"facts\">", E(&o.id));
    let facts: Vec<(&str, String)> = vec![
        (ui.t("providers"), E(&o.providers.join(", ")).to_string()),
        (ui.t("role"), ui.label(o.role().as_str_name())),
        (ui.t("category"), ui.label(o.category().as_str_name())),
        (ui.t("capability"), ui.label(o.capability().as_str_name())),
        (ui.t("capacity"), o.capacity.to_string()),
        (ui.t("reserved"), o.reserved_quantity.to_string()),
        (ui.t("delivered"), o.delivered_quantity.to_string()),
        (ui.t("available"), format!("{} – {}", date(o.available_from.as_ref()), date(o.available_until.as_ref()))),
        (ui.t("languages"), E(&o.languages.join(", ")).to_string()),
        (ui.t("mode"), ui.label(o.mode().as_str_name())),
        (ui.t("centre"), E(&o.training_centre_id).to_string()),
        (ui.t("duration_days"), o.duration_days.to_string()),
        (ui.t("funding"), (if o.requires_funding { ui.t("yes") } else { ui.t("no") }).to_string()),
        (ui.t("state"), ui.label(o.state().as_str_name())),
        (ui.t("description"), E(&o.description).to_string()),
    ];
    for (k, v) in facts {
        let _ = write!(body, "<div><dt>{}</dt><dd>{v}</dd></div>", E(k));
    }
    body.push_str("</dl>");
    if o.state() == pb::OfferState::Open && !ui.is_centre() {
        let _ = write!(
            body,
            "<p class=\"actions\"><a class=\"button\" href=\"/offers/new?edit={}\">{}</a> ",
            E(&o.id),
            ui.t("edit")
        );
        body.push_str(&html::button_form(
            &format!("/offers/{}", o.id),
            &ui.csrf,
            &[("action", "withdraw"), ("etag", &o.etag)],
            ui.t("withdraw"),
            "danger",
        ));
        body.push_str("</p>");
    }
    ui.page(&format!("{} {}", ui.t("offer"), o.title), &body)
}

pub async fn act(ui: Ui, Path(id): Path<String>, body: Bytes) -> Response {
    let form = form_of(&body);
    let here = format!("/offers/{id}");
    match form.get("action") {
        "withdraw" => {}
        "update" => return super::offer_form::update(&ui, &id, &form).await,
        _ => return ui.redirect(&here),
    }
    let req = pb::WithdrawOfferRequest {
        id,
        etag: form.get("etag").to_string(),
        request_id: form.get("request_id").to_string(),
    };
    let result = ui.ctx().withdraw_offer(ui.rq(req)).await;
    ui.after(&here, result)
}

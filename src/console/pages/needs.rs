//! Needs: a filtered, paged list (ids in numeric order, as the store keeps them, or
//! sorted by a column over the whole list); one
//! need with its explanation (ExplainNeed) and its matches; create, edit and withdraw
//! with the service's field violations shown on the fields.

use super::forms::{self, FormHtml, FormReader, form_refusal};
use super::matches::numeric;
use super::{Sort, SortKey, id_link, sortable_table, table};
use crate::api as pb;
use crate::api::matching_service_server::MatchingService;
use crate::api::need_service_server::NeedService;
use crate::console::call::service_message;
use crate::console::call::{self, Refusal, is_not_found};
use crate::console::html::{self, E, date, select};
use crate::console::{Form, Ui, form_of};
use axum::body::Bytes;
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use std::fmt::Write;

pub const PAGE_SIZE: i32 = 25;
/// Candidate offers of a need's explanation shown per page.
const EXPLAIN_PAGE: usize = 50;

pub async fn list(ui: Ui, uri: http::Uri) -> Response {
    let q = Form::query(&uri);
    let req = pb::ListNeedsRequest {
        page_size: PAGE_SIZE,
        page_token: q.get("page_token").to_string(),
        requester: q.get("requester").trim().to_ascii_uppercase(),
        capability: forms::enum_number(q.get("capability")),
        state: forms::enum_number(q.get("state")),
    };
    let mut body = String::new();
    if !ui.is_centre() {
        let _ = write!(body, "<p><a class=\"button\" href=\"/needs/new\">{}</a></p>", ui.t("new_need"));
    }
    // Filters
    let _ = write!(
        body,
        "<form method=\"get\" action=\"/needs\" class=\"filters\">\
         <div class=\"field\"><label for=\"requester\">{rq}</label><input id=\"requester\" name=\"requester\" value=\"{rv}\" size=\"5\" maxlength=\"3\"></div>\
         <div class=\"field\"><label for=\"capability\">{cap}</label>{caps}</div>\
         <div class=\"field\"><label for=\"state\">{st}</label>{sts}</div>\
         <input type=\"hidden\" name=\"sort\" value=\"{so}\"><button type=\"submit\">{f}</button></form>",
        so = E(q.get("sort")),
        rq = ui.t("requester"),
        rv = E(&req.requester),
        cap = ui.t("capability"),
        caps = select("capability", &forms::capabilities(ui.lang, ui.t("any")), &req.capability.to_string(), ""),
        st = ui.t("state"),
        sts = select("state", &forms::need_states(ui.lang, ui.t("any")), &req.state.to_string(), ""),
        f = ui.t("filter"),
    );
    let sort = Sort::parse(q.get("sort"), &COLUMNS.map(|(_, k)| k));
    let filters = format!("requester={}&capability={}&state={}", html::url(&req.requester), req.capability, req.state);
    let read = |page_token: String, page_size: i32| {
        let req = pb::ListNeedsRequest { page_size, page_token, ..req.clone() };
        let ui = &ui;
        async move {
            let r = ui.ctx().list_needs(ui.rq(req)).await?.into_inner();
            Ok((r.needs, r.next_page_token))
        }
    };
    let key_of = |n: &pb::Need| (sort_key(&ui, &sort.key, n), n.id.clone());
    let get = |id: String| {
        let ui = &ui;
        async move { ui.ctx().get_need(ui.rq(pb::GetNeedRequest { id })).await.map(|r| r.into_inner()) }
    };
    let listed = super::list_page(&ui, &q, "/needs", &filters, &sort, read, key_of, get).await;
    match listed {
        Ok((needs, pager)) => {
            if needs.is_empty() {
                let _ = write!(body, "<p>{}</p>", ui.t("none"));
            } else {
                let rows: Vec<Vec<String>> = needs.iter().map(|n| row(&ui, n)).collect();
                let columns: Vec<(&str, &str)> = COLUMNS.iter().map(|(label, key)| (ui.t(label), *key)).collect();
                let href = format!("/needs?{filters}&");
                body.push_str(&sortable_table(&ui, ui.t("needs"), &columns, &sort, &href, &rows));
            }
            body.push_str(&pager);
        }
        Err(status) => body.push_str(&html::notice("error", &call::refusal(ui.lang, &status).plain())),
    }
    ui.page(ui.t("needs"), &body)
}

/// The list's columns: catalogue key of the header, sort key.
const COLUMNS: [(&str, &str); 10] = [
    ("id", "id"),
    ("requester", "requester"),
    ("capability", "capability"),
    ("title", "title"),
    ("quantity", "quantity"),
    ("reserved", "reserved"),
    ("delivered", "delivered"),
    ("needed_by", "needed_by"),
    ("priority", "priority"),
    ("state", "state"),
];

fn sort_key(ui: &Ui, key: &str, n: &pb::Need) -> SortKey {
    match key {
        "id" => SortKey::Number(numeric(&n.id) as i64),
        "requester" => SortKey::Text(n.requester.clone()),
        "capability" => SortKey::Text(ui.label(n.capability().as_str_name())),
        "title" => SortKey::Text(n.title.to_lowercase()),
        "quantity" => SortKey::Number(n.quantity.into()),
        "reserved" => SortKey::Number(n.reserved_quantity.into()),
        "delivered" => SortKey::Number(n.delivered_quantity.into()),
        "needed_by" => SortKey::Number(n.needed_by.map_or(i64::MAX, |t| t.seconds)),
        "priority" => SortKey::Number(n.priority.into()),
        "state" => SortKey::Text(ui.label(n.state().as_str_name())),
        _ => SortKey::Number(0),
    }
}

fn row(ui: &Ui, n: &pb::Need) -> Vec<String> {
    vec![
        id_link("/needs", &n.id),
        E(&n.requester).to_string(),
        ui.label(n.capability().as_str_name()),
        E(&n.title).to_string(),
        n.quantity.to_string(),
        n.reserved_quantity.to_string(),
        n.delivered_quantity.to_string(),
        date(n.needed_by.as_ref()),
        ui.label(n.priority().as_str_name()),
        ui.label(n.state().as_str_name()),
    ]
}

pub async fn show(ui: Ui, Path(id): Path<String>, uri: http::Uri) -> Response {
    let need = match ui.ctx().get_need(ui.rq(pb::GetNeedRequest { id: id.clone() })).await {
        Ok(n) => n.into_inner(),
        Err(s) if is_not_found(&s) => return ui.not_found(),
        Err(s) => return ui.page(ui.t("error"), &html::notice("error", &call::refusal(ui.lang, &s).plain())),
    };
    let mut body = String::new();
    let _ = write!(body, "<p class=\"id\">{}</p>", E(&need.id));
    body.push_str("<dl class=\"facts\">");
    let facts: Vec<(&str, String)> = vec![
        (ui.t("requester"), E(&need.requester).to_string()),
        (ui.t("category"), ui.label(need.category().as_str_name())),
        (ui.t("capability"), ui.label(need.capability().as_str_name())),
        (ui.t("quantity"), need.quantity.to_string()),
        (ui.t("women_quantity"), need.women_quantity.to_string()),
        (ui.t("reserved"), need.reserved_quantity.to_string()),
        (ui.t("delivered"), need.delivered_quantity.to_string()),
        (ui.t("languages"), E(&need.languages.join(", ")).to_string()),
        (ui.t("needed_by"), date(need.needed_by.as_ref())),
        (ui.t("priority"), ui.label(need.priority().as_str_name())),
        (ui.t("pledge_level"), ui.label(need.pledge_level().as_str_name())),
        (ui.t("mission"), E(&need.mission).to_string()),
        (ui.t("state"), ui.label(need.state().as_str_name())),
        (ui.t("description"), E(&need.description).to_string()),
    ];
    for (k, v) in facts {
        let _ = write!(body, "<div><dt>{}</dt><dd>{v}</dd></div>", E(k));
    }
    body.push_str("</dl>");
    if need.state() == pb::NeedState::Open && !ui.is_centre() {
        let _ = write!(
            body,
            "<p class=\"actions\"><a class=\"button\" href=\"/needs/new?edit={}\">{}</a> ",
            E(&need.id),
            ui.t("edit")
        );
        body.push_str(&html::button_form(
            &format!("/needs/{}", need.id),
            &ui.csrf,
            &[("action", "withdraw"), ("etag", &need.etag)],
            ui.t("withdraw"),
            "danger",
        ));
        body.push_str("</p>");
    }
    // Explanation
    let _ = write!(
        body,
        "<section aria-labelledby=\"explain-h\"><h2 id=\"explain-h\">{}</h2><p>{}</p>",
        ui.t("explanation"),
        ui.t("explanation_help")
    );
    match ui.ctx().explain_need(ui.rq(pb::ExplainNeedRequest { need_id: need.id.clone() })).await {
        Ok(r) => {
            // Offers that can serve the need first; then the blocked ones, paged.
            let mut candidates = r.into_inner().candidates;
            candidates.sort_by_key(|c| !c.compatible);
            let base = format!("/needs/{}?", html::url(&need.id));
            let (range, pager) =
                super::page_of(&ui, &Form::query(&uri), "explain_page", &base, candidates.len(), EXPLAIN_PAGE);
            let rows: Vec<Vec<String>> = candidates[range]
                .iter()
                .map(|c| {
                    let blockers = if c.blockers.is_empty() {
                        "—".to_string()
                    } else {
                        let mut ul = String::from("<ul>");
                        for b in &c.blockers {
                            let _ = write!(ul, "<li>{}</li>", E(&service_message(ui.lang, b)));
                        }
                        ul.push_str("</ul>");
                        ul
                    };
                    vec![
                        id_link("/offers", &c.offer_id),
                        (if c.compatible { ui.t("yes") } else { ui.t("no") }).to_string(),
                        c.remaining_capacity.to_string(),
                        blockers,
                    ]
                })
                .collect();
            if rows.is_empty() {
                let _ = write!(body, "<p>{}</p>", ui.t("none"));
            } else {
                body.push_str(&table(
                    ui.t("explanation"),
                    &[ui.t("offer"), ui.t("compatible"), ui.t("remaining"), ui.t("blockers")],
                    &rows,
                ));
                body.push_str(&pager);
            }
        }
        Err(s) => body.push_str(&html::notice("error", &call::refusal(ui.lang, &s).plain())),
    }
    body.push_str("</section>");
    // Matches
    let _ = write!(body, "<section aria-labelledby=\"matches-h\"><h2 id=\"matches-h\">{}</h2>", ui.t("matches"));
    match ui
        .ctx()
        .list_matches(ui.rq(pb::ListMatchesRequest { page_size: 100, need_id: need.id.clone(), ..Default::default() }))
        .await
    {
        Ok(r) => {
            let matches = r.into_inner().matches;
            if matches.is_empty() {
                let _ = write!(body, "<p>{}</p>", ui.t("none"));
            }
            for m in &matches {
                body.push_str(&super::matches::card(&ui, m, false));
            }
        }
        Err(s) => body.push_str(&html::notice("error", &call::refusal(ui.lang, &s).plain())),
    }
    body.push_str("</section>");
    ui.page(&format!("{} {}", ui.t("need"), need.title), &body)
}

/// The form's values as a need (and the fields the form itself could not read).
fn need_from_form(form: &Form) -> (pb::Need, Vec<(String, String)>) {
    let mut read = FormReader::new(form);
    let need = pb::Need {
        requester: form.get("requester").trim().to_ascii_uppercase(),
        category: forms::enum_number(form.get("category")),
        capability: forms::enum_number(form.get("capability")),
        title: form.get("title").to_string(),
        description: form.get("description").to_string(),
        quantity: read.number("quantity"),
        women_quantity: read.number("women_quantity"),
        languages: forms::list(form.get("languages")),
        needed_by: read.date("needed_by"),
        priority: forms::enum_number(form.get("priority")),
        pledge_ref: form.get("pledge_ref").to_string(),
        pledge_level: forms::enum_number(form.get("pledge_level")),
        mission: form.get("mission").to_string(),
        ..Default::default()
    };
    (need, read.bad)
}

/// The need form, filled with `need`, marked with `refusal`.
fn need_form(ui: &Ui, need: &pb::Need, editing: bool, refusal: Option<&Refusal>) -> String {
    let action = if editing { format!("/needs/{}", need.id) } else { "/needs".to_string() };
    let mut f = FormHtml::open(ui, &action, editing.then_some(need.etag.as_str()), refusal);
    let ro = if editing { " readonly" } else { "" };
    f.text(
        "requester",
        ui.t("requester"),
        &need.requester,
        &format!(" maxlength=\"3\" autocomplete=\"off\"{ro}"),
        None,
    );
    f.select("category", ui.t("category"), forms::categories(ui.lang, "—"), need.category);
    f.select("capability", ui.t("capability"), forms::capabilities(ui.lang, "—"), need.capability);
    f.text("title", ui.t("title"), &need.title, "", None);
    f.textarea("description", ui.t("description"), &need.description);
    let q = if need.quantity == 0 { String::new() } else { need.quantity.to_string() };
    f.text("quantity", ui.t("quantity"), &q, " type=\"number\" min=\"1\" inputmode=\"numeric\"", None);
    let women = need.women_quantity.to_string();
    f.text("women_quantity", ui.t("women_quantity"), &women, " type=\"number\" min=\"0\" inputmode=\"numeric\"", None);
    f.text("languages", ui.t("languages"), &need.languages.join(", "), "", Some(ui.t("languages_help")));
    let nb = need.needed_by.as_ref().map(|t| date(Some(t))).unwrap_or_default();
    f.text("needed_by", ui.t("needed_by"), &nb, " type=\"date\"", None);
    f.select("priority", ui.t("priority"), forms::priorities(ui.lang, "—"), need.priority);
    f.select("pledge_level", ui.t("pledge_level"), forms::levels(ui.lang, "—"), need.pledge_level);
    f.text("pledge_ref", ui.t("pledge_ref"), &need.pledge_ref, "", None);
    f.text("mission", ui.t("mission"), &need.mission, "", None);
    f.finish(if editing { ui.t("save") } else { ui.t("create") })
}

pub async fn new_form(ui: Ui, uri: http::Uri) -> Response {
    let q = Form::query(&uri);
    let edit = q.get("edit");
    if !edit.is_empty() {
        return match ui.ctx().get_need(ui.rq(pb::GetNeedRequest { id: edit.to_string() })).await {
            Ok(n) => {
                let n = n.into_inner();
                ui.page(&format!("{} {}", ui.t("edit"), n.id), &need_form(&ui, &n, true, None))
            }
            Err(_) => ui.not_found(),
        };
    }
    let need = pb::Need {
        requester: ui.caller.state().map(|s| s.to_string()).unwrap_or_default(),
        women_quantity: 0,
        ..Default::default()
    };
    ui.page(ui.t("new_need"), &need_form(&ui, &need, false, None))
}

pub async fn create(ui: Ui, body: Bytes) -> Response {
    let form = form_of(&body);
    let (need, bad) = need_from_form(&form);
    if !bad.is_empty() {
        let r = form_refusal(&ui, bad);
        return (StatusCode::UNPROCESSABLE_ENTITY, ui.page(ui.t("new_need"), &need_form(&ui, &need, false, Some(&r))))
            .into_response();
    }
    let req = pb::CreateNeedRequest { need: Some(need.clone()), request_id: form.get("request_id").to_string() };
    match ui.ctx().create_need(ui.rq(req)).await {
        Ok(created) => {
            let id = created.into_inner().id;
            ui.redirect_with(&format!("/needs/{id}"), "ok", format!("{} {id}", ui.t("done")))
        }
        Err(status) => {
            let r = call::refusal(ui.lang, &status);
            (StatusCode::UNPROCESSABLE_ENTITY, ui.page(ui.t("new_need"), &need_form(&ui, &need, false, Some(&r))))
                .into_response()
        }
    }
}

/// Withdraw or update one need.
pub async fn act(ui: Ui, Path(id): Path<String>, body: Bytes) -> Response {
    let form = form_of(&body);
    let here = format!("/needs/{id}");
    match form.get("action") {
        "withdraw" => {
            let req = pb::WithdrawNeedRequest {
                id,
                etag: form.get("etag").to_string(),
                request_id: form.get("request_id").to_string(),
            };
            let result = ui.ctx().withdraw_need(ui.rq(req)).await;
            ui.after(&here, result)
        }
        "update" => {
            let current = match ui.ctx().get_need(ui.rq(pb::GetNeedRequest { id: id.clone() })).await {
                Ok(n) => n.into_inner(),
                Err(_) => return ui.not_found(),
            };
            let (mut need, bad) = need_from_form(&form);
            need.id = id.clone();
            need.etag = form.get("etag").to_string();
            need.requester = current.requester.clone();
            if !bad.is_empty() {
                let r = form_refusal(&ui, bad);
                return (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ui.page(ui.t("edit"), &need_form(&ui, &need, true, Some(&r))),
                )
                    .into_response();
            }
            let mut paths = Vec::new();
            let mut changed = |name: &str, differs: bool| {
                if differs {
                    paths.push(name.to_string());
                }
            };
            changed("category", need.category != current.category);
            changed("capability", need.capability != current.capability);
            changed("title", need.title != current.title);
            changed("description", need.description != current.description);
            changed("quantity", need.quantity != current.quantity);
            changed("women_quantity", need.women_quantity != current.women_quantity);
            changed("languages", need.languages != current.languages);
            changed(
                "needed_by",
                need.needed_by.map(|t| t.seconds / 86_400) != current.needed_by.map(|t| t.seconds / 86_400),
            );
            changed("priority", need.priority != current.priority);
            changed("pledge_ref", need.pledge_ref != current.pledge_ref);
            changed("pledge_level", need.pledge_level != current.pledge_level);
            changed("mission", need.mission != current.mission);
            if paths.is_empty() {
                return ui.redirect(&here);
            }
            let req = pb::UpdateNeedRequest {
                need: Some(need.clone()),
                update_mask: Some(prost_types::FieldMask { paths }),
                request_id: form.get("request_id").to_string(),
            };
            match ui.ctx().update_need(ui.rq(req)).await {
                Ok(_) => ui.redirect_with(&here, "ok", ui.t("done").to_string()),
                Err(status) => {
                    let r = call::refusal(ui.lang, &status);
                    (StatusCode::UNPROCESSABLE_ENTITY, ui.page(ui.t("edit"), &need_form(&ui, &need, true, Some(&r))))
                        .into_response()
                }
            }
        }
        _ => ui.redirect(&here),
    }
}

//! Arrangements: a board by status; one arrangement with its consents and history, and
//! the actions its status allows (consent, schedule, start, complete, cancel, outcome).
//! Who may take an action is the service's decision; a refusal is shown in plain words.

use super::id_link;
use crate::api as pb;
use crate::api::arrangement_service_server::ArrangementService;
use crate::api::need_service_server::NeedService;
use crate::api::offer_service_server::OfferService;
use crate::console::call::{self, is_not_found};
use crate::console::html::{self, E, date, date_time};
use crate::console::pages::forms;
use crate::console::{Form, Ui, form_of};
use axum::body::Bytes;
use axum::extract::Path;
use axum::response::Response;
use std::fmt::Write;

const BOARD: [pb::ArrangementStatus; 7] = [
    pb::ArrangementStatus::PendingConsent,
    pb::ArrangementStatus::Agreed,
    pb::ArrangementStatus::Scheduled,
    pb::ArrangementStatus::InDelivery,
    pb::ArrangementStatus::Completed,
    pb::ArrangementStatus::Declined,
    pb::ArrangementStatus::Cancelled,
];

fn status_text(ui: &Ui, s: pb::ArrangementStatus) -> String {
    ui.label(s.as_str_name())
}

/// Cards per column on the board; the rest of a column is paged on its own.
const BOARD_CARDS: i32 = 20;
/// Cards per page of one status.
const STATUS_PAGE: i32 = 50;

/// The board (one column per status, its first cards), or with `?status=N` every
/// arrangement with that status, paged through ListArrangements.
pub async fn board(ui: Ui, uri: http::Uri) -> Response {
    let q = Form::query(&uri);
    let only = pb::ArrangementStatus::try_from(forms::enum_number(q.get("status")))
        .ok()
        .filter(|s| *s != pb::ArrangementStatus::Unspecified);
    let mut body = format!("<p class=\"hint\">{}</p><div data-live id=\"board\" class=\"board\">", ui.t("live_note"));
    let statuses: Vec<pb::ArrangementStatus> = match only {
        Some(s) => vec![s],
        None => BOARD.to_vec(),
    };
    let page_token = if only.is_some() { q.get("page_token").to_string() } else { String::new() };
    for status in statuses {
        // The anchor keeps the API name (the overview links to it); the heading is read.
        let name = status.as_str_name().strip_prefix("ARRANGEMENT_STATUS_").unwrap_or(status.as_str_name());
        let _ = write!(
            body,
            "<section class=\"column\" id=\"status-{name}\" aria-labelledby=\"h-{name}\"><h2 id=\"h-{name}\">{}</h2>",
            E(&status_text(&ui, status))
        );
        let req = pb::ListArrangementsRequest {
            page_size: if only.is_some() { STATUS_PAGE } else { BOARD_CARDS },
            page_token: page_token.clone(),
            status: status as i32,
            ..Default::default()
        };
        match ui.ctx().list_arrangements(ui.rq(req)).await.map(|r| r.into_inner()) {
            Ok(r) if r.arrangements.is_empty() => {
                let _ = write!(body, "<p>{}</p>", ui.t("none"));
            }
            Ok(r) => {
                body.push_str("<ul class=\"cards\">");
                for a in &r.arrangements {
                    let _ = write!(
                        body,
                        "<li class=\"card\">{} {}<br>{} · {} {} · {}</li>",
                        id_link("/arrangements", &a.id),
                        if a.triangular {
                            format!("<span class=\"tag\">{}</span>", ui.t("triangular"))
                        } else {
                            String::new()
                        },
                        E(&a.recipient),
                        a.quantity,
                        ui.t("quantity").to_lowercase(),
                        E(&ui.label(a.capability().as_str_name())),
                    );
                }
                body.push_str("</ul>");
                if !r.next_page_token.is_empty() {
                    let href = match only {
                        Some(_) => format!(
                            "/arrangements?status={}&page_token={}",
                            status as i32,
                            html::url(&r.next_page_token)
                        ),
                        None => format!("/arrangements?status={}", status as i32),
                    };
                    let text = if only.is_some() { ui.t("next_page") } else { ui.t("more") };
                    let _ = write!(body, "<p><a href=\"{}\" rel=\"next\">{text}</a></p>", E(&href));
                }
            }
            Err(s) => body.push_str(&html::notice("error", &call::refusal(ui.lang, &s).plain())),
        }
        body.push_str("</section>");
    }
    body.push_str("</div>");
    if only.is_some() {
        let _ = write!(body, "<p><a href=\"/arrangements\">{}</a></p>", ui.t("arrangements"));
    }
    ui.page_live(ui.t("arrangements"), &body, true)
}

fn text_input(id: &str, label: &str, kind: &str, extra: &str) -> String {
    format!(
        "<div class=\"field\"><label for=\"{id}\">{}</label><input id=\"{id}\" name=\"{id}\" type=\"{kind}\"{extra}></div>",
        E(label)
    )
}

fn action_form(ui: &Ui, a: &pb::Arrangement, action: &str, fields: &str, button: &str, class: &str) -> String {
    format!(
        "<form method=\"post\" action=\"/arrangements/{id}\" class=\"card action\">{}{}\
         <input type=\"hidden\" name=\"action\" value=\"{action}\"><input type=\"hidden\" name=\"etag\" value=\"{etag}\">\
         {fields}<button type=\"submit\" class=\"{class}\">{}</button></form>",
        html::csrf_field(&ui.csrf),
        html::request_id_field(),
        E(button),
        id = E(&a.id),
        etag = E(&a.etag),
    )
}

pub async fn show(ui: Ui, Path(id): Path<String>) -> Response {
    let a = match ui.ctx().get_arrangement(ui.rq(pb::GetArrangementRequest { id })).await {
        Ok(a) => a.into_inner(),
        Err(s) if is_not_found(&s) => return ui.not_found(),
        Err(s) => return ui.page(ui.t("error"), &html::notice("error", &call::refusal(ui.lang, &s).plain())),
    };
    let alloc = a.allocation.clone().unwrap_or_default();
    let mut body = format!("<p class=\"id\">{}</p><div data-live id=\"arrangement\"><dl class=\"facts\">", E(&a.id));
    let outcome = a.outcome.clone();
    let facts: Vec<(&str, String)> = vec![
        (ui.t("status"), status_text(&ui, a.status())),
        (ui.t("need"), id_link("/needs", &a.need_id)),
        (ui.t("match"), E(&a.match_id).to_string()),
        (ui.t("recipient"), E(&a.recipient).to_string()),
        (ui.t("parties"), E(&a.parties.join(", ")).to_string()),
        (ui.t("triangular"), (if a.triangular { ui.t("yes") } else { ui.t("no") }).to_string()),
        (ui.t("offer"), id_link("/offers", &alloc.offer_id)),
        (
            ui.t("funding"),
            if alloc.funding_offer_id.is_empty() { "—".into() } else { id_link("/offers", &alloc.funding_offer_id) },
        ),
        (ui.t("capability"), ui.label(a.capability().as_str_name())),
        (ui.t("quantity"), format!("{} / {}", a.quantity, a.women_quantity)),
        (ui.t("centre"), E(&a.training_centre_id).to_string()),
        (ui.t("start"), date(a.scheduled_start.as_ref())),
        (ui.t("end"), date(a.scheduled_end.as_ref())),
    ];
    for (k, v) in facts {
        let _ = write!(body, "<div><dt>{}</dt><dd>{v}</dd></div>", E(k));
    }
    body.push_str("</dl>");
    let consents: Vec<Vec<String>> = a
        .consents
        .iter()
        .map(|c| {
            vec![
                E(&c.state).to_string(),
                ui.label(c.decision().as_str_name()),
                E(&c.note).to_string(),
                date_time(c.time.as_ref()),
            ]
        })
        .collect();
    body.push_str(&super::table(
        ui.t("consents"),
        &[ui.t("state"), ui.t("status"), ui.t("note"), ui.t("time")],
        &consents,
    ));
    if let Some(o) = &outcome {
        let _ = write!(
            body,
            "<h2>{}</h2><dl class=\"facts\"><div><dt>{}</dt><dd>{}</dd></div><div><dt>{}</dt><dd>{}</dd></div>\
             <div><dt>{}</dt><dd>{}</dd></div><div><dt>{}</dt><dd>{}</dd></div><div><dt>{}</dt><dd>{}</dd></div></dl>",
            ui.t("outcome"),
            ui.t("trained"),
            o.trained,
            ui.t("women_trained"),
            o.women_trained,
            ui.t("certified"),
            o.certified,
            ui.t("trainers_qualified"),
            o.trainers_qualified,
            ui.t("deployed_missions"),
            E(&o.deployed_missions.join(", "))
        );
    }
    let names = super::admin::principal_names(&ui).await;
    let history: Vec<Vec<String>> = a
        .history
        .iter()
        .map(|h| {
            // No previous status: the arrangement was created in this one.
            let from = match h.from_status() {
                pb::ArrangementStatus::Unspecified => ui.t("created").to_string(),
                from => status_text(&ui, from),
            };
            vec![
                date_time(h.time.as_ref()),
                E(&format!("{from} → {}", status_text(&ui, h.to_status()))).to_string(),
                super::admin::actor(
                    &ui,
                    &names,
                    &h.actor,
                    Some(super::admin::change_author(h.from_status(), h.to_status())),
                ),
                E(&h.note).to_string(),
            ]
        })
        .collect();
    body.push_str(&super::table(
        ui.t("history"),
        &[ui.t("time"), ui.t("status"), ui.t("actor"), ui.t("note")],
        &history,
    ));
    body.push_str("</div><div class=\"actions-grid\">");
    let own_pending = ui
        .caller
        .state()
        .map(|s| s.to_string())
        .is_some_and(|s| a.consents.iter().any(|c| c.state == s && c.decision() == pb::ConsentDecision::Pending));
    match a.status() {
        pb::ArrangementStatus::PendingConsent if own_pending => {
            let note = text_input("note", ui.t("note"), "text", "");
            body.push_str(&action_form(&ui, &a, "accept", &note, ui.t("accept"), "primary"));
            let note2 = text_input("decline_note", ui.t("note"), "text", "");
            body.push_str(&action_form(&ui, &a, "decline", &note2, ui.t("decline"), "danger"));
        }
        pb::ArrangementStatus::Agreed => {
            let mut fields = String::new();
            // The parts of the start window, as the service reads them; the service's own
            // refusal names the exact window if a date falls outside it.
            if let Ok(o) = ui.ctx().get_offer(ui.rq(pb::GetOfferRequest { id: alloc.offer_id.clone() })).await {
                let o = o.into_inner();
                let deadline = match ui.ctx().get_need(ui.rq(pb::GetNeedRequest { id: a.need_id.clone() })).await {
                    Ok(n) => date(n.get_ref().needed_by.as_ref()),
                    Err(_) => "—".into(),
                };
                let semicolon = crate::console::i18n::semicolon(ui.lang);
                let _ = write!(
                    fields,
                    "<p class=\"hint\">{} {} {} – {}{semicolon} {} {}{semicolon} {} {}</p>",
                    ui.t_colon("window"),
                    ui.t("available").to_lowercase(),
                    date(o.available_from.as_ref()),
                    date(o.available_until.as_ref()),
                    ui.t("needed_by").to_lowercase(),
                    deadline,
                    ui.t("duration_days").to_lowercase(),
                    o.duration_days,
                );
            }
            fields.push_str(&text_input("start", ui.t("start"), "date", " required"));
            fields.push_str(&text_input("end", ui.t("end"), "date", " required"));
            body.push_str(&action_form(&ui, &a, "schedule", &fields, ui.t("schedule"), "primary"));
            body.push_str(&action_form(&ui, &a, "cancel", "", ui.t("cancel"), "danger"));
        }
        pb::ArrangementStatus::Scheduled => {
            body.push_str(&action_form(&ui, &a, "start_delivery", "", ui.t("start_delivery"), "primary"));
            body.push_str(&action_form(&ui, &a, "cancel", "", ui.t("cancel"), "danger"));
        }
        pb::ArrangementStatus::InDelivery => {
            body.push_str(&action_form(&ui, &a, "complete", "", ui.t("complete"), "primary"));
        }
        pb::ArrangementStatus::Completed if outcome.is_none() => {
            let n = " type=\"number\" min=\"0\" inputmode=\"numeric\"";
            let mut fields = String::new();
            fields.push_str(&text_input("trained", ui.t("trained"), "text", n));
            fields.push_str(&text_input("women_trained", ui.t("women_trained"), "text", n));
            fields.push_str(&text_input("certified", ui.t("certified"), "text", n));
            fields.push_str(&text_input("trainers_qualified", ui.t("trainers_qualified"), "text", n));
            fields.push_str(&text_input("deployed_missions", ui.t("deployed_missions"), "text", ""));
            body.push_str(&action_form(&ui, &a, "outcome", &fields, ui.t("record_outcome"), "primary"));
        }
        _ => {}
    }
    body.push_str("</div>");
    ui.page_live(&format!("{} {}", ui.t("arrangement"), a.id), &body, true)
}

pub async fn act(ui: Ui, Path(id): Path<String>, body: Bytes) -> Response {
    let form = form_of(&body);
    let here = format!("/arrangements/{id}");
    let etag = form.get("etag").to_string();
    let request_id = form.get("request_id").to_string();
    let ctx = ui.ctx();
    let transition =
        |to: pb::ArrangementStatus, start: Option<prost_types::Timestamp>, end: Option<prost_types::Timestamp>| {
            pb::TransitionArrangementRequest {
                id: id.clone(),
                etag: etag.clone(),
                to: to as i32,
                note: String::new(),
                scheduled_start: start,
                scheduled_end: end,
                request_id: request_id.clone(),
            }
        };
    let result = match form.get("action") {
        "accept" | "decline" => {
            let accept = form.get("action") == "accept";
            let note = if accept { form.get("note") } else { form.get("decline_note") };
            let req = pb::RespondToArrangementRequest {
                id: id.clone(),
                etag: etag.clone(),
                accept,
                note: note.to_string(),
                request_id: request_id.clone(),
            };
            ctx.respond_to_arrangement(ui.rq(req)).await
        }
        "schedule" => {
            let req = transition(
                pb::ArrangementStatus::Scheduled,
                forms::date(form.get("start")),
                forms::date(form.get("end")),
            );
            ctx.transition_arrangement(ui.rq(req)).await
        }
        "start_delivery" => {
            ctx.transition_arrangement(ui.rq(transition(pb::ArrangementStatus::InDelivery, None, None))).await
        }
        "complete" => ctx.transition_arrangement(ui.rq(transition(pb::ArrangementStatus::Completed, None, None))).await,
        "cancel" => ctx.transition_arrangement(ui.rq(transition(pb::ArrangementStatus::Cancelled, None, None))).await,
        "outcome" => {
            let n = |name: &str| forms::number(form.get(name)).unwrap_or(u32::MAX);
            let outcome = pb::Outcome {
                trained: n("trained"),
                women_trained: n("women_trained"),
                certified: n("certified"),
                trainers_qualified: forms::number(form.get("trainers_qualified")).unwrap_or(0),
                deployed_missions: forms::list(form.get("deployed_missions")),
            };
            let req = pb::RecordOutcomeRequest {
                id: id.clone(),
                etag: etag.clone(),
                outcome: Some(outcome),
                request_id: request_id.clone(),
            };
            ctx.record_outcome(ui.rq(req)).await
        }
        _ => return ui.redirect(&here),
    };
    ui.after(&here, result)
}

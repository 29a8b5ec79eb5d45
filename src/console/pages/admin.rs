//! The Secretariat's pages: the event trail (live) and principals (create, token shown
//! once with a copy button; revoke).

use super::{forms, table};
use crate::api as pb;
use crate::api::admin_service_server::AdminService;
use crate::api::event_service_server::EventService;
use crate::console::call::{self, is_not_found};
use crate::console::html::{self, E, date_time, select};
use crate::console::{Ui, form_of};
use axum::body::Bytes;
use axum::response::Response;
use std::fmt::Write;

/// Display names by principal id, for the Secretariat (who may list principals); empty
/// for everyone else, whose pages then show role words (see [`actor`]). One page of ListPrincipals at a time,
/// at most 20 pages.
pub async fn principal_names(ui: &Ui) -> std::collections::HashMap<String, String> {
    let mut names = std::collections::HashMap::new();
    if !ui.is_secretariat() {
        return names;
    }
    let mut page_token = String::new();
    for _ in 0..20 {
        let Ok(r) = ui.ctx().list_principals(ui.rq(pb::ListPrincipalsRequest { page_size: 500, page_token })).await
        else {
            break;
        };
        let r = r.into_inner();
        names.extend(r.principals.into_iter().map(|p| (p.id, p.display_name)));
        if r.next_page_token.is_empty() {
            break;
        }
        page_token = r.next_page_token;
    }
    names
}

/// An actor as the caller may read it. The Secretariat (who may list principals) reads
/// display names with their ids (`names`), else the id. Anyone else reads their own
/// display name, "System", or otherwise a role word: `role`, the catalogue key of what
/// the change itself says of its author (see [`change_author`]), or "another account" —
/// never another principal's id or name.
pub fn actor(
    ui: &Ui,
    names: &std::collections::HashMap<String, String>,
    id: &str,
    role: Option<&'static str>,
) -> String {
    if let Some(name) = names.get(id).filter(|n| !n.trim().is_empty()) {
        return format!("{} ({})", E(name), E(id));
    }
    if ui.is_secretariat() {
        return E(id).to_string();
    }
    if id == ui.caller.principal_id {
        return format!("{} ({})", E(&ui.name), ui.t("actor_you"));
    }
    if id == crate::service::reports::at_risk::SYSTEM_ACTOR {
        return E(ui.t("actor_system")).to_string();
    }
    E(ui.t(role.unwrap_or("actor_other"))).to_string()
}

/// Who may have made an arrangement's change from `from` to `to`, as a catalogue key:
/// creation is the Secretariat's approval; AGREED and DECLINED follow a party's consent;
/// the other moves follow API.md's rules (the Secretariat, or the delivery team).
pub fn change_author(from: pb::ArrangementStatus, to: pb::ArrangementStatus) -> &'static str {
    use crate::domain::{Mover, transition_rule};
    if from == pb::ArrangementStatus::Unspecified {
        return "actor_secretariat";
    }
    match crate::convert::status_from(to as i32).and_then(transition_rule) {
        Some((_, Mover::Secretariat)) => "actor_secretariat",
        Some((_, Mover::DeliveryTeam)) => "actor_delivery",
        None if matches!(to, pb::ArrangementStatus::Agreed | pb::ArrangementStatus::Declined) => "actor_party",
        None => "actor_other",
    }
}

/// Events shown on the page (the newest).
const RECENT_EVENTS: u64 = 100;

pub async fn events(ui: Ui) -> Response {
    let durable = ui.ctx().store.durable_sequence();
    let after = durable.saturating_sub(RECENT_EVENTS);
    let req = pb::ListEventsRequest {
        after_sequence: after,
        kinds: vec![],
        page_size: RECENT_EVENTS as i32,
        page_token: String::new(),
    };
    let events = match ui.ctx().list_events(ui.rq(req)).await {
        Ok(r) => r.into_inner().events,
        Err(s) if is_not_found(&s) => return ui.not_found(),
        Err(s) => return ui.page(ui.t("events"), &html::notice("error", &call::refusal(ui.lang, &s).plain())),
    };
    let names = principal_names(&ui).await;
    let rows: Vec<Vec<String>> = events
        .iter()
        .rev()
        .map(|e| {
            vec![
                e.sequence.to_string(),
                date_time(e.time.as_ref()),
                ui.label(e.kind().as_str_name()),
                E(&e.resource_id).to_string(),
                actor(&ui, &names, &e.actor, None),
            ]
        })
        .collect();
    let mut body = format!("<p class=\"hint\">{}</p><div data-live id=\"events\">", ui.t("live_note"));
    body.push_str(&table(
        ui.t("events"),
        &[ui.t("sequence"), ui.t("time"), ui.t("kind"), ui.t("resource"), ui.t("actor")],
        &rows,
    ));
    body.push_str("</div>");
    ui.page_live(ui.t("events"), &body, true)
}

async fn principals_page(ui: &Ui, prefix: String) -> Response {
    let mut body = prefix;
    let mut all = Vec::new();
    let mut page_token = String::new();
    loop {
        match ui.ctx().list_principals(ui.rq(pb::ListPrincipalsRequest { page_size: 500, page_token })).await {
            Ok(r) => {
                let r = r.into_inner();
                all.extend(r.principals);
                if r.next_page_token.is_empty() {
                    break;
                }
                page_token = r.next_page_token;
            }
            Err(s) if is_not_found(&s) => return ui.not_found(),
            Err(s) => return ui.page(ui.t("principals"), &html::notice("error", &call::refusal(ui.lang, &s).plain())),
        }
    }
    let _ = write!(
        body,
        "<form method=\"post\" action=\"/principals\" class=\"card\"><h2>{}</h2>{}{}<input type=\"hidden\" name=\"action\" value=\"create\">\
         <div class=\"field\"><label for=\"kind\">{}</label>{}</div>\
         <div class=\"field\"><label for=\"member_state\">{}</label><input id=\"member_state\" name=\"member_state\" maxlength=\"3\"></div>\
         <div class=\"field\"><label for=\"training_centre_id\">{}</label><input id=\"training_centre_id\" name=\"training_centre_id\"></div>\
         <div class=\"field\"><label for=\"display_name\">{}</label><input id=\"display_name\" name=\"display_name\"></div>\
         <button type=\"submit\" class=\"primary\">{}</button></form>",
        ui.t("new_principal"),
        html::csrf_field(&ui.csrf),
        html::request_id_field(),
        ui.t("role"),
        select("kind", &forms::principal_kinds(ui.lang, "—"), "0", ""),
        ui.t("member_state"),
        ui.t("centre"),
        ui.t("name"),
        ui.t("create"),
    );
    let rows: Vec<Vec<String>> = all
        .iter()
        .map(|p| {
            let action = if p.revoked || p.id == ui.caller.principal_id {
                String::new()
            } else {
                html::button_form(
                    "/principals",
                    &ui.csrf,
                    &[("action", "revoke"), ("id", &p.id)],
                    ui.t("revoke"),
                    "danger",
                )
            };
            vec![
                E(&p.id).to_string(),
                ui.label(p.kind().as_str_name()),
                E(&p.member_state).to_string(),
                E(&p.training_centre_id).to_string(),
                E(&p.display_name).to_string(),
                (if p.revoked { ui.t("yes") } else { ui.t("no") }).to_string(),
                action,
            ]
        })
        .collect();
    body.push_str(&table(
        ui.t("principals"),
        &[ui.t("id"), ui.t("role"), ui.t("member_state"), ui.t("centre"), ui.t("name"), ui.t("revoked"), ""],
        &rows,
    ));
    ui.page(ui.t("principals"), &body)
}

pub async fn principals(ui: Ui) -> Response {
    principals_page(&ui, String::new()).await
}

pub async fn principals_act(ui: Ui, body: Bytes) -> Response {
    let form = form_of(&body);
    match form.get("action") {
        "create" => {
            let req = pb::CreatePrincipalRequest {
                kind: forms::enum_number(form.get("kind")),
                member_state: form.get("member_state").trim().to_ascii_uppercase(),
                training_centre_id: form.get("training_centre_id").trim().to_string(),
                display_name: form.get("display_name").to_string(),
                request_id: form.get("request_id").to_string(),
            };
            match ui.ctx().create_principal(ui.rq(req)).await {
                Ok(r) => {
                    let r = r.into_inner();
                    let id = r.principal.map(|p| p.id).unwrap_or_default();
                    // Rendered, not redirected: the token is in this one response only
                    // (Cache-Control: no-store), never in a URL or the session.
                    let shown = if r.token.is_empty() {
                        html::notice("ok", &format!("{} {id}", ui.t("done")))
                    } else {
                        format!(
                            "<section class=\"notice ok\" role=\"status\"><p>{} ({})</p>\
                             <p><code id=\"new-token\" class=\"token\">{}</code> \
                             <button type=\"button\" data-copy=\"new-token\" data-copied=\"{}\">{}</button></p></section>",
                            ui.t("token_once"),
                            E(&id),
                            E(&r.token),
                            ui.t("copied"),
                            ui.t("copy")
                        )
                    };
                    principals_page(&ui, shown).await
                }
                Err(s) => {
                    let r = call::refusal(ui.lang, &s);
                    principals_page(&ui, html::notice("error", &format!("{} {}", ui.t_colon("refused"), r.plain())))
                        .await
                }
            }
        }
        "revoke" => {
            let id = form.get("id").to_string();
            let result = ui.ctx().revoke_principal(ui.rq(pb::RevokePrincipalRequest { id: id.clone() })).await;
            if result.is_ok() {
                ui.console.sessions.end_principal(&id);
            }
            ui.after("/principals", result)
        }
        _ => ui.redirect("/principals"),
    }
}

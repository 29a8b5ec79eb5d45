//! Matches: the Secretariat proposes (a dry run first, if it likes), approves or rejects
//! with a reason; parties see the proposals that concern them.

use super::forms;
use super::id_link;
use crate::api as pb;
use crate::api::matching_service_server::MatchingService;
use crate::console::call;
use crate::console::html::{self, E, select};
use crate::console::{Form, Ui, form_of};
use axum::body::Bytes;
use axum::response::Response;
use std::fmt::Write;

/// One match as a card: id, need, allocations, parties, funding, triangular marker,
/// reasons; Approve and Reject when `actions` and it is PROPOSED.
pub fn card(ui: &Ui, m: &pb::Match, actions: bool) -> String {
    let mut out = format!(
        "<article class=\"card match\" id=\"{id}\" aria-labelledby=\"{id}-h\"><h3 id=\"{id}-h\">{id}{tri}</h3>",
        id = E(&m.id),
        tri = if m.triangular { format!(" <span class=\"tag\">{}</span>", ui.t("triangular")) } else { String::new() },
    );
    let _ = write!(
        out,
        "<dl class=\"facts\"><div><dt>{}</dt><dd>{}</dd></div><div><dt>{}</dt><dd>{}</dd></div>\
         <div><dt>{}</dt><dd>{} / {}</dd></div><div><dt>{}</dt><dd>{}</dd></div><div><dt>{}</dt><dd>{:.2}</dd></div></dl>",
        ui.t("need"),
        id_link("/needs", &m.need_id),
        ui.t("status"),
        ui.label(m.state().as_str_name()),
        ui.t("quantity"),
        m.quantity,
        m.women_quantity,
        ui.t("parties"),
        E(&m.parties.join(", ")),
        ui.t("score"),
        m.score,
    );
    let _ = write!(
        out,
        "<table><caption>{}</caption><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
        ui.t("allocations"),
        ui.t("offer"),
        ui.t("funding"),
        ui.t("quantity"),
        ui.t("centre")
    );
    for a in &m.allocations {
        let funding =
            if a.funding_offer_id.is_empty() { "—".to_string() } else { id_link("/offers", &a.funding_offer_id) };
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{} / {}</td><td>{}</td></tr>",
            id_link("/offers", &a.offer_id),
            funding,
            a.quantity,
            a.women_quantity,
            E(&a.training_centre_id)
        );
    }
    out.push_str("</tbody></table>");
    if !m.reasons.is_empty() {
        let _ = write!(out, "<details><summary>{}</summary><ul>", ui.t("reasons"));
        for r in &m.reasons {
            let _ = write!(out, "<li>{}</li>", E(&crate::console::reasons_fr::reason(ui.lang, r)));
        }
        out.push_str("</ul></details>");
    }
    if !m.arrangement_ids.is_empty() {
        let links: Vec<String> = m.arrangement_ids.iter().map(|a| id_link("/arrangements", a)).collect();
        let _ = write!(out, "<p>{} {}</p>", ui.t_colon("arrangements"), links.join(", "));
    }
    if !m.decision_comment.is_empty() {
        let _ = write!(out, "<p>{} {}</p>", ui.t_colon("reason"), E(&m.decision_comment));
    }
    if actions && ui.is_secretariat() && m.state() == pb::MatchState::Proposed {
        out.push_str("<div class=\"actions\">");
        out.push_str(&html::button_form(
            "/matches",
            &ui.csrf,
            &[("action", "approve"), ("id", &m.id), ("etag", &m.etag)],
            ui.t("approve"),
            "primary",
        ));
        let _ = write!(
            out,
            "<form method=\"post\" action=\"/matches\" class=\"inline reject\">{}{}\
             <input type=\"hidden\" name=\"action\" value=\"reject\"><input type=\"hidden\" name=\"id\" value=\"{id}\">\
             <input type=\"hidden\" name=\"etag\" value=\"{etag}\">\
             <label for=\"reason-{id}\">{reason}</label><input id=\"reason-{id}\" name=\"reason\">\
             <button type=\"submit\" class=\"danger\">{reject}</button></form>",
            html::csrf_field(&ui.csrf),
            html::request_id_field(),
            id = E(&m.id),
            etag = E(&m.etag),
            reason = ui.t("reason"),
            reject = ui.t("reject"),
        );
        out.push_str("</div>");
    }
    out.push_str("</article>");
    out
}

fn propose_form(ui: &Ui) -> String {
    format!(
        "<form method=\"post\" action=\"/matches\" class=\"card\">{}{}<input type=\"hidden\" name=\"action\" value=\"propose\">\
         <div class=\"check\"><input type=\"checkbox\" id=\"dry_run\" name=\"dry_run\" value=\"1\" aria-describedby=\"dry_run-help\">\
         <label for=\"dry_run\">{}</label></div><small id=\"dry_run-help\">{}</small>\
         <p><button type=\"submit\" class=\"primary\">{}</button></p></form>",
        html::csrf_field(&ui.csrf),
        html::request_id_field(),
        ui.t("dry_run"),
        ui.t("dry_run_help"),
        ui.t("propose"),
    )
}

/// Matches per page (ListMatches pages them in id order).
const PAGE_SIZE: i32 = 100;

async fn render(ui: &Ui, state: i32, page_token: &str, prefix: String) -> Response {
    let mut body = prefix;
    if ui.is_secretariat() {
        body.push_str(&propose_form(ui));
    }
    let _ = write!(
        body,
        "<form method=\"get\" action=\"/matches\" class=\"filters\"><div class=\"field\"><label for=\"state\">{}</label>{}</div>\
         <button type=\"submit\">{}</button></form>",
        ui.t("state"),
        select("state", &forms::match_states(ui.lang, ui.t("any")), &state.to_string(), ""),
        ui.t("filter")
    );
    body.push_str("<div data-live id=\"match-list\">");
    let req = pb::ListMatchesRequest {
        page_size: PAGE_SIZE,
        page_token: page_token.to_string(),
        state,
        ..Default::default()
    };
    match ui.ctx().list_matches(ui.rq(req)).await {
        Ok(r) => {
            let r = r.into_inner();
            let mut matches = r.matches;
            if matches.is_empty() {
                let _ = write!(body, "<p>{}</p>", ui.t("none"));
            }
            // On this page: proposals waiting for a decision first, newest first.
            matches.sort_by_key(|m| (m.state() != pb::MatchState::Proposed, std::cmp::Reverse(numeric(&m.id))));
            for m in &matches {
                body.push_str(&card(ui, m, true));
            }
            body.push_str("<nav class=\"pager\" aria-label=\"pages\">");
            if !page_token.is_empty() {
                let _ = write!(body, "<a href=\"/matches?state={state}\">{}</a> ", ui.t("first_page"));
            }
            if !r.next_page_token.is_empty() {
                let _ = write!(
                    body,
                    "<a href=\"/matches?state={state}&amp;page_token={}\" rel=\"next\">{}</a>",
                    html::url(&r.next_page_token),
                    ui.t("next_page")
                );
            }
            body.push_str("</nav>");
        }
        Err(s) => body.push_str(&html::notice("error", &call::refusal(ui.lang, &s).plain())),
    }
    body.push_str("</div>");
    ui.page_live(ui.t("matches"), &body, true)
}

/// The number in an id such as `match-12` (ids sort numerically).
pub fn numeric(id: &str) -> u64 {
    id.rsplit('-').next().and_then(|n| n.parse().ok()).unwrap_or(0)
}

pub async fn list(ui: Ui, uri: http::Uri) -> Response {
    let q = Form::query(&uri);
    render(&ui, forms::enum_number(q.get("state")), q.get("page_token"), String::new()).await
}

pub async fn act(ui: Ui, body: Bytes) -> Response {
    let form = form_of(&body);
    let request_id = form.get("request_id").to_string();
    match form.get("action") {
        "propose" => {
            let dry_run = form.has("dry_run");
            let req = pb::ProposeMatchesRequest {
                capabilities: vec![],
                dry_run,
                request_id: if dry_run { String::new() } else { request_id },
                ..Default::default()
            };
            match ui.ctx().propose_matches(ui.rq(req)).await {
                Ok(r) => {
                    let r = r.into_inner();
                    let s = r.summary.unwrap_or_default();
                    let summary = format!(
                        "{} {} {} / {} {}, {} {}",
                        ui.t_colon("summary"),
                        s.seats_matched,
                        ui.t("seats_reserved").to_lowercase(),
                        s.seats_demanded,
                        ui.t("seats_demanded").to_lowercase(),
                        r.matches.len(),
                        ui.t("matches").to_lowercase()
                    );
                    if dry_run {
                        let mut prefix = format!(
                            "<section class=\"dry-run\" aria-labelledby=\"dry-h\"><h2 id=\"dry-h\">{}</h2>{}",
                            ui.t("dry_run_result"),
                            html::notice("ok", &summary)
                        );
                        for m in &r.matches {
                            prefix.push_str(&card(&ui, m, false));
                        }
                        prefix.push_str("</section>");
                        render(&ui, 0, "", prefix).await
                    } else {
                        ui.redirect_with("/matches", "ok", summary)
                    }
                }
                Err(status) => ui.after("/matches", Err::<(), _>(status)),
            }
        }
        "approve" => {
            let req = pb::ApproveMatchRequest {
                id: form.get("id").to_string(),
                etag: form.get("etag").to_string(),
                request_id,
                comment: String::new(),
            };
            let result = ui.ctx().approve_match(ui.rq(req)).await;
            ui.after("/matches", result)
        }
        "reject" => {
            let req = pb::RejectMatchRequest {
                id: form.get("id").to_string(),
                etag: form.get("etag").to_string(),
                reason: form.get("reason").to_string(),
                request_id,
            };
            let result = ui.ctx().reject_match(ui.rq(req)).await;
            ui.after("/matches", result)
        }
        _ => ui.redirect("/matches"),
    }
}

//! The overview: the figures of CONSOLE.md (each in a `data-figure` element), a chart of
//! open seats by capability and of women's share by requester, computed from the same
//! report calls a gRPC client makes (kept while the store is unchanged: [`reports`]).

use super::table;
use crate::api as pb;
use crate::api::arrangement_service_server::ArrangementService;
use crate::api::report_service_server::ReportService;
use crate::clock::now_micros;
use crate::console::html::E;
use crate::console::{Ui, charts};
use crate::domain::day_of_micros;
use axum::response::Response;
use std::fmt::Write;
use std::sync::Arc;

/// The overview's figures; `None` where the caller may not read the source.
#[derive(Debug, Default)]
pub struct Figures {
    pub seats_demanded: u64,
    pub seats_reserved: u64,
    pub seats_delivered: u64,
    pub seats_open: u64,
    pub critical_open: u64,
    pub overdue: u64,
    pub women_share: Option<f64>,
    pub deconfliction_findings: Option<usize>,
    /// Readiness rows (needs at risk or overdue) the caller may read.
    pub at_risk_needs: Option<usize>,
    pub pending_consents: usize,
}

/// Every arrangement with `status` the caller may read.
pub async fn all_arrangements(ui: &Ui, status: pb::ArrangementStatus) -> Result<Vec<pb::Arrangement>, tonic::Status> {
    let mut out = Vec::new();
    let mut page_token = String::new();
    loop {
        let resp = ui
            .ctx()
            .list_arrangements(ui.rq(pb::ListArrangementsRequest {
                page_size: 500,
                page_token,
                status: status as i32,
                ..Default::default()
            }))
            .await?
            .into_inner();
        out.extend(resp.arrangements);
        if resp.next_page_token.is_empty() {
            return Ok(out);
        }
        page_token = resp.next_page_token;
    }
}

/// Rows of a list shown on the overview at most; the rest is a click away.
const OVERVIEW_ROWS: usize = 10;

/// "All N" under a list cut to [`OVERVIEW_ROWS`], linking to the whole of it.
fn all_of(ui: &Ui, total: usize, href: &str) -> String {
    if total <= OVERVIEW_ROWS {
        return String::new();
    }
    format!("<p><a href=\"{href}\">{} ({total})</a></p>", ui.t("see_all"))
}

/// What the overview is drawn from: the caller's report and list responses.
#[derive(Clone, Default)]
pub struct Reports {
    gap: Vec<pb::GapRow>,
    by_capability: Vec<pb::GapRow>,
    gender: Option<pb::GetGenderReportResponse>,
    deconfliction: Option<pb::GetDeconflictionReportResponse>,
    readiness: Option<pb::GetReadinessReportResponse>,
    pending: Vec<pb::Arrangement>,
}

/// The caller's reports for the overview. At 100 000 needs they take a second or more
/// (each reads the whole store), so they are kept per principal while the store's last
/// visible commit and the day (overdue and at-risk depend on it) are unchanged: the
/// overview viewed again, or refreshed live, then costs no report.
pub async fn reports(ui: &Ui) -> Arc<Reports> {
    let store = &ui.ctx().store;
    let commit = store.visible_commit();
    let key = format!("{}|{}", ui.caller.principal_id, day_of_micros(now_micros()));
    if let Some(kept) = ui.console.overviews.find(&key, commit) {
        return kept;
    }
    let computed = Arc::new(compute(ui).await);
    // Kept only if nothing changed meanwhile (then it is the state at `commit`); any
    // commit after makes a later view compute anew.
    if store.visible_commit() == commit {
        ui.console.overviews.keep(key, commit, computed.clone());
    }
    computed
}

async fn compute(ui: &Ui) -> Reports {
    let ctx = ui.ctx();
    let grouping = if ui.is_secretariat() { pb::GapGrouping::Capability } else { pb::GapGrouping::Requester };
    // The reports are computed off the async workers, each from its own snapshot: asked
    // for together, they take as long as the slowest rather than as all of them.
    let capability_rows = async {
        if ui.is_secretariat() {
            return None;
        }
        ctx.get_gap_report(ui.rq(pb::GetGapReportRequest { group_by: pb::GapGrouping::Capability as i32 }))
            .await
            .ok()
            .map(|g| g.into_inner().rows)
    };
    let (gap, capability_rows, gender, deconfliction, readiness, pending) = tokio::join!(
        ctx.get_gap_report(ui.rq(pb::GetGapReportRequest { group_by: grouping as i32 })),
        capability_rows,
        ctx.get_gender_report(ui.rq(pb::GetGenderReportRequest {})),
        ctx.get_deconfliction_report(ui.rq(pb::GetDeconflictionReportRequest {})),
        ctx.get_readiness_report(ui.rq(pb::GetReadinessReportRequest {})),
        all_arrangements(ui, pb::ArrangementStatus::PendingConsent),
    );
    let gap = gap.map(|g| g.into_inner().rows).unwrap_or_default();
    Reports {
        by_capability: capability_rows.unwrap_or_else(|| gap.clone()),
        gap,
        gender: gender.ok().map(|r| r.into_inner()),
        deconfliction: deconfliction.ok().map(|r| r.into_inner()),
        readiness: readiness.ok().map(|r| r.into_inner()),
        pending: pending.unwrap_or_default(),
    }
}

pub async fn show(ui: Ui) -> Response {
    let reports = reports(&ui).await;
    let Reports { gap, by_capability, gender, deconfliction, readiness, pending } = &*reports;
    let own_state = ui.caller.state().map(|s| s.to_string());
    let mut f = Figures::default();
    for row in gap {
        f.seats_demanded += row.needed;
        f.seats_reserved += row.reserved;
        f.seats_delivered += row.delivered;
        f.seats_open += row.open;
        f.critical_open += row.critical_open;
        f.overdue += row.overdue;
    }
    f.women_share = gender.as_ref().and_then(|g| g.overall.as_ref()).map(|o| o.women_share);
    f.deconfliction_findings = deconfliction.as_ref().map(|d| d.findings.len());
    f.at_risk_needs = readiness.as_ref().map(|r| r.rows.len());
    f.pending_consents = pending
        .iter()
        .flat_map(|a| a.consents.iter())
        .filter(|c| c.decision == pb::ConsentDecision::Pending as i32)
        .filter(|c| own_state.as_ref().is_none_or(|s| &c.state == s))
        .count();

    let mut body = String::new();
    let _ = write!(
        body,
        "<section aria-labelledby=\"figures-h\" data-live id=\"figures\"><h2 id=\"figures-h\">{}</h2><dl class=\"figures\">",
        ui.t("figures")
    );
    let mut figure = |name: &str, key: &'static str, value: String, href: &str| {
        let _ = write!(
            body,
            "<div class=\"figure\"><dt><a href=\"{href}\">{}</a></dt><dd data-figure=\"{name}\">{}</dd></div>",
            ui.t(key),
            E(&value)
        );
    };
    figure("seats_demanded", "seats_demanded", f.seats_demanded.to_string(), "/reports/gaps");
    figure("seats_reserved", "seats_reserved", f.seats_reserved.to_string(), "/reports/gaps");
    figure("seats_delivered", "seats_delivered", f.seats_delivered.to_string(), "/reports/gaps");
    figure("seats_open", "seats_open", f.seats_open.to_string(), "/reports/gaps");
    figure("critical_open", "critical_open", f.critical_open.to_string(), "/reports/gaps");
    figure("overdue", "overdue", f.overdue.to_string(), "/reports/gaps");
    if let Some(share) = f.women_share {
        figure("women_share", "women_share", format!("{share:.2}"), "/reports/gender");
    }
    if let Some(n) = f.at_risk_needs {
        figure("at_risk_needs", "at_risk_needs", n.to_string(), "/reports/readiness");
    }
    if let Some(n) = f.deconfliction_findings {
        figure("deconfliction_findings", "deconfliction_findings", n.to_string(), "/reports/deconfliction");
    }
    figure(
        "pending_consents",
        "pending_consents",
        f.pending_consents.to_string(),
        "/arrangements#status-PENDING_CONSENT",
    );
    body.push_str("</dl></section>");

    let _ = write!(body, "<section data-live id=\"charts\" class=\"charts\"><h2>{}</h2>", ui.t("open_by_capability"));
    body.push_str(&charts::open_seats(ui.lang, by_capability));
    if let Some(g) = gender {
        let _ = write!(body, "<h2>{}</h2>", ui.t("women_by_requester"));
        body.push_str(&charts::women_share(ui.lang, &g.rows));
    }
    if let Some(r) = readiness.as_ref().filter(|r| !r.rows.is_empty()) {
        // Needs at risk or overdue, the closest deadline first (as the report orders them).
        let rows: Vec<Vec<String>> = r
            .rows
            .iter()
            .take(OVERVIEW_ROWS)
            .map(|row| {
                vec![
                    super::id_link("/needs", &row.need_id),
                    E(&row.requester).to_string(),
                    E(&ui.label(row.capability().as_str_name())).to_string(),
                    row.days_left.to_string(),
                    row.open.to_string(),
                    E(&ui.label(row.status().as_str_name())).to_string(),
                ]
            })
            .collect();
        body.push_str(&table(
            ui.t("at_risk_needs"),
            &[
                ui.t("need"),
                ui.t("requester"),
                ui.t("capability"),
                ui.t("days_left"),
                ui.t("seats_open"),
                ui.t("status"),
            ],
            &rows,
        ));
        body.push_str(&all_of(&ui, r.rows.len(), "/reports/readiness"));
    }
    if let Some(d) = deconfliction {
        let rows: Vec<Vec<String>> = d
            .findings
            .iter()
            .take(OVERVIEW_ROWS)
            .map(|x| {
                vec![
                    E(&x.recipient).to_string(),
                    E(&x.resource_ids.join(", ")).to_string(),
                    E(&super::reports::finding_summary(ui.lang, x)).to_string(),
                ]
            })
            .collect();
        if !rows.is_empty() {
            body.push_str(&table(
                ui.t("deconfliction_findings"),
                &[ui.t("recipient"), ui.t("resources"), ui.t("summary")],
                &rows,
            ));
            body.push_str(&all_of(&ui, d.findings.len(), "/reports/deconfliction"));
        }
    }
    if f.pending_consents > 0 {
        // The arrangements waiting for a consent the caller counts (its own, for a state).
        let waiting: Vec<&pb::Arrangement> = pending
            .iter()
            .filter(|a| {
                a.consents.iter().any(|c| {
                    c.decision == pb::ConsentDecision::Pending as i32
                        && own_state.as_ref().is_none_or(|s| &c.state == s)
                })
            })
            .collect();
        let rows: Vec<Vec<String>> = waiting
            .iter()
            .take(OVERVIEW_ROWS)
            .map(|a| {
                let waiting: Vec<&str> = a
                    .consents
                    .iter()
                    .filter(|c| c.decision == pb::ConsentDecision::Pending as i32)
                    .map(|c| c.state.as_str())
                    .collect();
                vec![
                    super::id_link("/arrangements", &a.id),
                    E(&a.need_id).to_string(),
                    E(&waiting.join(", ")).to_string(),
                ]
            })
            .collect();
        body.push_str(&table(ui.t("pending_consents"), &[ui.t("id"), ui.t("need"), ui.t("parties")], &rows));
        body.push_str(&all_of(&ui, waiting.len(), "/arrangements?status=1"));
    }
    body.push_str("</section>");
    ui.page_live(ui.t("overview"), &body, true)
}

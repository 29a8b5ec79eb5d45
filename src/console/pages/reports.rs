//! Reports as tables and charts, each with a CSV download of exactly the rows the
//! report call returned.

use super::table;
use crate::api as pb;
use crate::api::report_service_server::ReportService;
use crate::console::call;
use crate::console::charts;
use crate::console::html::{self, E, date, enum_text};
use crate::console::i18n::{self, Lang};
use crate::console::{Form, Ui};
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use http::header;
use std::fmt::Write;

const REPORTS: [(&str, &str); 5] = [
    ("gaps", "gap_report"),
    ("gender", "gender_report"),
    ("deconfliction", "deconfliction_report"),
    ("capacity", "capacity_report"),
    ("readiness", "readiness_report"),
];

fn tabs(ui: &Ui, current: &str) -> String {
    let mut out = String::from("<nav class=\"tabs\" aria-label=\"reports\"><ul>");
    for (name, key) in REPORTS {
        let _ = write!(
            out,
            "<li><a href=\"/reports/{name}\"{}>{}</a></li>",
            if name == current { " aria-current=\"page\"" } else { "" },
            ui.t(key)
        );
    }
    out.push_str("</ul></nav>");
    out
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_string() }
}

fn csv(name: &str, header: &[&str], rows: &[Vec<String>]) -> Response {
    let mut out = header.join(",");
    out.push('\n');
    for r in rows {
        out.push_str(&r.iter().map(|c| csv_field(c)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"lcm-{name}.csv\"")),
        ],
        out,
    )
        .into_response()
}

fn download(ui: &Ui, href: &str) -> String {
    format!("<p><a class=\"button\" href=\"{}\" download>{}</a></p>", E(href), ui.t("download_csv"))
}

/// An enum value's cell: its short API name in a CSV (what a program reads and the CLI
/// takes), its name in the page's language on the page.
fn enum_cell(ui: &Ui, csv: bool, api_name: &str, prefix: &str) -> String {
    if csv { enum_text(api_name, prefix) } else { ui.label(api_name) }
}

/// Rows of a long report shown per page (its CSV holds them all).
const REPORT_PAGE: usize = 100;

/// Plain-text cells of a row, escaped for the HTML table.
fn escaped(rows: &[Vec<String>]) -> Vec<Vec<String>> {
    rows.iter().map(|r| r.iter().map(|c| html::esc(c)).collect()).collect()
}

pub async fn show(ui: Ui, Path(name): Path<String>, uri: http::Uri) -> Response {
    let q = Form::query(&uri);
    let want_csv = q.get("format") == "csv";
    let Some((_, key)) = REPORTS.iter().find(|(n, _)| *n == name) else { return ui.not_found() };
    let mut body = tabs(&ui, &name);
    let refused = |ui: &Ui, s: tonic::Status| {
        if call::is_not_found(&s) {
            ui.not_found()
        } else {
            ui.page(ui.t(key), &html::notice("error", &call::refusal(ui.lang, &s).plain()))
        }
    };
    match name.as_str() {
        "gaps" => {
            let grouping =
                if q.get("group_by") == "requester" { pb::GapGrouping::Requester } else { pb::GapGrouping::Capability };
            let rows = match ui.ctx().get_gap_report(ui.rq(pb::GetGapReportRequest { group_by: grouping as i32 })).await
            {
                Ok(r) => r.into_inner().rows,
                Err(s) => return refused(&ui, s),
            };
            let header = ["key", "needed", "women_needed", "reserved", "delivered", "open", "critical_open", "overdue"];
            let cells: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        r.key.clone(),
                        r.needed.to_string(),
                        r.women_needed.to_string(),
                        r.reserved.to_string(),
                        r.delivered.to_string(),
                        r.open.to_string(),
                        r.critical_open.to_string(),
                        r.overdue.to_string(),
                    ]
                })
                .collect();
            let g = if grouping == pb::GapGrouping::Requester { "requester" } else { "capability" };
            if want_csv {
                return csv(&format!("gaps-{g}"), &header, &cells);
            }
            let _ = write!(
                body,
                "<p><a href=\"/reports/gaps?group_by=capability\"{}>{}</a> · <a href=\"/reports/gaps?group_by=requester\"{}>{}</a></p>",
                if g == "capability" { " aria-current=\"true\"" } else { "" },
                ui.t("by_capability"),
                if g == "requester" { " aria-current=\"true\"" } else { "" },
                ui.t("by_requester")
            );
            body.push_str(&download(&ui, &format!("/reports/gaps?group_by={g}&format=csv")));
            if grouping == pb::GapGrouping::Capability {
                body.push_str(&charts::open_seats(ui.lang, &rows));
            }
            let heads = [
                ui.t("key"),
                ui.t("seats_demanded"),
                ui.t("women_needed"),
                ui.t("seats_reserved"),
                ui.t("seats_delivered"),
                ui.t("seats_open"),
                ui.t("critical_open"),
                ui.t("overdue"),
            ];
            let mut shown = escaped(&cells);
            if grouping == pb::GapGrouping::Capability {
                for (row, cells) in rows.iter().zip(shown.iter_mut()) {
                    cells[0] = html::esc(&charts::capability_name(ui.lang, &row.key));
                }
            }
            body.push_str(&table(ui.t(key), &heads, &shown));
        }
        "gender" => {
            let r = match ui.ctx().get_gender_report(ui.rq(pb::GetGenderReportRequest {})).await {
                Ok(r) => r.into_inner(),
                Err(s) => return refused(&ui, s),
            };
            let header = [
                "requester",
                "women_needed",
                "women_reserved",
                "women_trained",
                "seats_total",
                "women_share",
                "target_share",
                "below_target",
            ];
            let row = |g: &pb::GenderRow| {
                vec![
                    g.requester.clone(),
                    g.women_needed.to_string(),
                    g.women_reserved.to_string(),
                    g.women_trained.to_string(),
                    g.seats_total.to_string(),
                    g.women_share.to_string(),
                    g.target_share.to_string(),
                    g.below_target.to_string(),
                ]
            };
            let mut cells: Vec<Vec<String>> = r.rows.iter().map(row).collect();
            if let Some(o) = &r.overall {
                cells.push(row(o));
            }
            if want_csv {
                return csv("gender", &header, &cells);
            }
            body.push_str(&download(&ui, "/reports/gender?format=csv"));
            body.push_str(&charts::women_share(ui.lang, &r.rows));
            let mut shown = escaped(&cells);
            if r.overall.is_some()
                && let Some(last) = shown.last_mut()
            {
                last[0] = html::esc(ui.t("overall"));
            }
            let heads = [
                ui.t("requester"),
                ui.t("women_needed"),
                ui.t("women_reserved"),
                ui.t("women_trained"),
                ui.t("seats_total"),
                ui.t("women_share"),
                ui.t("target_share"),
                ui.t("below_target"),
            ];
            body.push_str(&table(ui.t(key), &heads, &shown));
        }
        "deconfliction" => {
            let r = match ui.ctx().get_deconfliction_report(ui.rq(pb::GetDeconflictionReportRequest {})).await {
                Ok(r) => r.into_inner(),
                Err(s) => return refused(&ui, s),
            };
            let header =
                ["recipient", "category", "capability", "resource_ids", "overlap_start", "overlap_end", "summary"];
            let cells: Vec<Vec<String>> = r
                .findings
                .iter()
                .map(|f| {
                    vec![
                        f.recipient.clone(),
                        enum_cell(&ui, want_csv, f.category().as_str_name(), "SUPPORT_CATEGORY_"),
                        enum_cell(&ui, want_csv, f.capability().as_str_name(), "CAPABILITY_AREA_"),
                        f.resource_ids.join(" "),
                        date(f.overlap_start.as_ref()),
                        date(f.overlap_end.as_ref()),
                        if want_csv { f.summary.clone() } else { finding_summary(ui.lang, f) },
                    ]
                })
                .collect();
            if want_csv {
                return csv("deconfliction", &header, &cells);
            }
            body.push_str(&download(&ui, "/reports/deconfliction?format=csv"));
            let heads = [
                ui.t("recipient"),
                ui.t("category"),
                ui.t("capability"),
                ui.t("resources"),
                ui.t("start"),
                ui.t("end"),
                ui.t("summary"),
            ];
            let (range, pager) = super::page_of(&ui, &q, "page", "/reports/deconfliction?", cells.len(), REPORT_PAGE);
            body.push_str(&table(ui.t(key), &heads, &escaped(&cells[range])));
            body.push_str(&pager);
        }
        "capacity" => {
            let r = match ui.ctx().get_capacity_report(ui.rq(pb::GetCapacityReportRequest {})).await {
                Ok(r) => r.into_inner(),
                Err(s) => return refused(&ui, s),
            };
            let header = [
                "requester",
                "seats_delivered",
                "in_country_seats",
                "in_country_share",
                "trainers_qualified",
                "national_centres",
                "un_recognized_centres",
                "repeat_capabilities",
            ];
            let cells: Vec<Vec<String>> = r
                .rows
                .iter()
                .map(|c| {
                    vec![
                        c.requester.clone(),
                        c.seats_delivered.to_string(),
                        c.in_country_seats.to_string(),
                        c.in_country_share.to_string(),
                        c.trainers_qualified.to_string(),
                        c.national_centres.to_string(),
                        c.un_recognized_centres.to_string(),
                        c.repeat_capabilities()
                            .map(|k| enum_cell(&ui, want_csv, k.as_str_name(), "CAPABILITY_AREA_"))
                            .collect::<Vec<_>>()
                            .join(if want_csv { " " } else { ", " }),
                    ]
                })
                .collect();
            if want_csv {
                return csv("capacity", &header, &cells);
            }
            body.push_str(&download(&ui, "/reports/capacity?format=csv"));
            let heads = [
                ui.t("requester"),
                ui.t("seats_delivered"),
                ui.t("in_country_seats"),
                ui.t("in_country_share"),
                ui.t("trainers_qualified"),
                ui.t("national_centres"),
                ui.t("un_recognized_centres"),
                ui.t("repeat_capabilities"),
            ];
            body.push_str(&table(ui.t(key), &heads, &escaped(&cells)));
        }
        "readiness" => {
            let r = match ui.ctx().get_readiness_report(ui.rq(pb::GetReadinessReportRequest {})).await {
                Ok(r) => r.into_inner(),
                Err(s) => return refused(&ui, s),
            };
            let header = [
                "need_id",
                "requester",
                "capability",
                "pledge_level",
                "needed_by",
                "days_left",
                "open",
                "compatible_offers",
                "status",
            ];
            let cells: Vec<Vec<String>> = r
                .rows
                .iter()
                .map(|row| {
                    vec![
                        row.need_id.clone(),
                        row.requester.clone(),
                        enum_cell(&ui, want_csv, row.capability().as_str_name(), "CAPABILITY_AREA_"),
                        enum_cell(&ui, want_csv, row.pledge_level().as_str_name(), "READINESS_LEVEL_"),
                        date(row.needed_by.as_ref()),
                        row.days_left.to_string(),
                        row.open.to_string(),
                        row.compatible_offers.to_string(),
                        enum_cell(&ui, want_csv, row.status().as_str_name(), "READINESS_STATUS_"),
                    ]
                })
                .collect();
            if want_csv {
                return csv("readiness", &header, &cells);
            }
            body.push_str(&download(&ui, "/reports/readiness?format=csv"));
            let heads = [
                ui.t("need"),
                ui.t("requester"),
                ui.t("capability"),
                ui.t("pledge_level"),
                ui.t("needed_by"),
                ui.t("days_left"),
                ui.t("seats_open"),
                ui.t("compatible_offers"),
                ui.t("status"),
            ];
            let (range, pager) = super::page_of(&ui, &q, "page", "/reports/readiness?", cells.len(), REPORT_PAGE);
            let mut shown = escaped(&cells[range.clone()]);
            for (row, cells) in r.rows[range].iter().zip(shown.iter_mut()) {
                cells[0] = format!("<a href=\"/needs/{}\">{}</a>", E(&row.need_id), html::esc(&row.need_id));
            }
            body.push_str(&table(ui.t(key), &heads, &shown));
            body.push_str(&pager);
        }
        _ => return ui.not_found(),
    }
    ui.page(ui.t(key), &body)
}

/// A deconfliction finding in the page's language, from its structured fields through the
/// catalogue (the service's `summary` is English, and stays as it is in the CSV). English
/// pages keep the service's summary, which also describes each source.
pub fn finding_summary(lang: Lang, f: &pb::DeconflictionFinding) -> String {
    if lang == Lang::En && !f.summary.is_empty() {
        return f.summary.clone();
    }
    // Offers among the resources: sources that overlap; needs only: duplicate needs.
    let offers = f.resource_ids.iter().filter(|id| id.starts_with("offer-")).count();
    let (key, n) = if offers > 0 { ("finding_overlap", offers) } else { ("finding_duplicates", f.resource_ids.len()) };
    i18n::t(lang, key)
        .replace("{recipient}", &f.recipient)
        .replace("{n}", &n.to_string())
        .replace("{category}", &i18n::label(lang, f.category().as_str_name()))
        .replace("{capability}", &i18n::label(lang, f.capability().as_str_name()))
        .replace("{start}", &date(f.overlap_start.as_ref()))
        .replace("{end}", &date(f.overlap_end.as_ref()))
        .replace("{ids}", &f.resource_ids.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_read_in_french_from_their_fields() {
        let day = |seconds| Some(prost_types::Timestamp { seconds, nanos: 0 });
        let mut f = pb::DeconflictionFinding {
            recipient: "GHA".into(),
            category: pb::SupportCategory::Training as i32,
            capability: pb::CapabilityArea::Engineering as i32,
            resource_ids: vec!["need-2".into(), "need-10".into()],
            overlap_start: day(1_803_859_200),
            overlap_end: day(1_803_945_600),
            summary: "GHA has 2 open Training needs in Engineering due between …".into(),
        };
        let fr = finding_summary(Lang::Fr, &f);
        assert!(fr.starts_with("GHA a 2 besoins ouverts (Formation) en Génie"), "{fr}");
        assert!(fr.contains("entre le 2027-03-01 et le 2027-03-02 (need-2, need-10)"), "{fr}");
        assert!(!fr.contains("{") && !fr.contains("Training") && !fr.contains("Engineering"), "{fr}");
        assert_eq!(finding_summary(Lang::En, &f), f.summary, "English keeps the service's own words");
        f.resource_ids = vec!["offer-3".into(), "arrangement-1".into(), "offer-7".into()];
        let fr = finding_summary(Lang::Fr, &f);
        assert!(fr.starts_with("GHA pourrait recevoir une aide (Formation) en Génie de 2 sources"), "{fr}");
    }
}

//! Server-side SVG charts with text alternatives: a `<title>` and `<desc>` on the chart
//! and a `<title>` on every bar, so a screen reader reads the numbers.

use super::html::E;
use super::i18n::{Lang, label, t};
use crate::api as pb;
use std::fmt::Write;

const WIDTH: u32 = 640;
const LABEL: u32 = 230;
const BAR_H: u32 = 22;
const GAP: u32 = 8;

/// A gap report's capability key (`ENGINEERING`) as people read it.
pub fn capability_name(lang: Lang, key: &str) -> String {
    let name = label(lang, &format!("CAPABILITY_AREA_{key}"));
    if name.starts_with("CAPABILITY_AREA_") { key.to_string() } else { name }
}

/// Open seats per capability, critical part drawn apart.
pub fn open_seats(lang: Lang, rows: &[pb::GapRow]) -> String {
    let rows: Vec<&pb::GapRow> = rows.iter().filter(|r| r.open > 0).collect();
    if rows.is_empty() {
        return format!("<p>{}</p>", t(lang, "none"));
    }
    let max = rows.iter().map(|r| r.open).max().unwrap_or(1).max(1);
    let height = rows.len() as u32 * (BAR_H + GAP) + GAP;
    let mut out = format!(
        "<figure class=\"chart\"><svg role=\"img\" aria-labelledby=\"oc-title oc-desc\" viewBox=\"0 0 {WIDTH} {height}\" \
         width=\"100%\" preserveAspectRatio=\"xMinYMin meet\"><title id=\"oc-title\">{}</title><desc id=\"oc-desc\">{}</desc>",
        E(t(lang, "open_by_capability")),
        E(t(lang, "open_by_capability_desc"))
    );
    let span = WIDTH - LABEL - 60;
    for (i, r) in rows.iter().enumerate() {
        let y = GAP + i as u32 * (BAR_H + GAP);
        let w = ((r.open as f64 / max as f64) * span as f64).round().max(1.0) as u32;
        let cw = ((r.critical_open.min(r.open) as f64 / max as f64) * span as f64).round() as u32;
        let name = capability_name(lang, &r.key);
        let colon = super::i18n::colon(lang);
        let _ = write!(
            out,
            "<g><title>{name}{colon} {open} {open_t}, {crit} {crit_t}</title>\
             <text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\" class=\"lbl\">{name}</text>\
             <rect x=\"{LABEL}\" y=\"{y}\" width=\"{w}\" height=\"{BAR_H}\" class=\"bar\"></rect>\
             <rect x=\"{LABEL}\" y=\"{y}\" width=\"{cw}\" height=\"{BAR_H}\" class=\"bar-critical\"></rect>\
             <text x=\"{vx}\" y=\"{ty}\" class=\"val\">{open}</text></g>",
            name = E(&name),
            open = r.open,
            open_t = E(t(lang, "seats_open")),
            crit = r.critical_open,
            crit_t = E(t(lang, "critical_part")),
            lx = LABEL - 8,
            ty = y + BAR_H - 6,
            vx = LABEL + w + 6,
        );
    }
    out.push_str("</svg></figure>");
    out
}

/// Women's share per requester against its target.
pub fn women_share(lang: Lang, rows: &[pb::GenderRow]) -> String {
    if rows.is_empty() {
        return format!("<p>{}</p>", t(lang, "none"));
    }
    let height = rows.len() as u32 * (BAR_H + GAP) + GAP;
    let mut out = format!(
        "<figure class=\"chart\"><svg role=\"img\" aria-labelledby=\"ws-title\" viewBox=\"0 0 {WIDTH} {height}\" \
         width=\"100%\" preserveAspectRatio=\"xMinYMin meet\"><title id=\"ws-title\">{}</title>",
        E(t(lang, "women_by_requester"))
    );
    let span = (WIDTH - LABEL - 60) as f64;
    for (i, r) in rows.iter().enumerate() {
        let y = GAP + i as u32 * (BAR_H + GAP);
        let w = (r.women_share.clamp(0.0, 1.0) * span).round() as u32;
        let tx = LABEL + (r.target_share.clamp(0.0, 1.0) * span).round() as u32;
        let class = if r.below_target { "bar-below" } else { "bar" };
        let _ = write!(
            out,
            "<g><title>{name}{colon} {share:.2} ({target_t} {target:.2})</title>\
             <text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\" class=\"lbl\">{name}</text>\
             <rect x=\"{LABEL}\" y=\"{y}\" width=\"{w}\" height=\"{BAR_H}\" class=\"{class}\"></rect>\
             <line x1=\"{tx}\" x2=\"{tx}\" y1=\"{y0}\" y2=\"{y1}\" class=\"target\"></line>\
             <text x=\"{vx}\" y=\"{ty}\" class=\"val\">{share:.2}</text></g>",
            name = E(&r.requester),
            colon = super::i18n::colon(lang),
            share = r.women_share,
            target = r.target_share,
            target_t = E(t(lang, "target")),
            lx = LABEL - 8,
            ty = y + BAR_H - 6,
            y0 = y.saturating_sub(2),
            y1 = y + BAR_H + 2,
            vx = LABEL + w.max(tx - LABEL) + 6,
        );
    }
    out.push_str("</svg></figure>");
    out
}

//! One module per area of the console. Handlers are thin: read the form, call the
//! service as the signed-in caller, render.

pub mod admin;
pub mod arrangements;
pub mod forms;
pub mod login;
pub mod matches;
pub mod needs;
pub mod offers;
pub mod overview;
pub mod reports;

use super::html::E;
use std::fmt::Write;

/// A table with a caption, header cells and rows of already-escaped cells.
pub fn table(caption: &str, headers: &[&str], rows: &[Vec<String>]) -> String {
    // Focusable and named: a table wider than a phone screen scrolls by keyboard too.
    let mut out = format!(
        "<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"{c}\"><table><caption>{c}</caption><thead><tr>",
        c = E(caption)
    );
    for h in headers {
        let _ = write!(out, "<th scope=\"col\">{}</th>", E(h));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{cell}</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
    out
}

/// A link to a resource page with its id as text.
pub fn id_link(base: &str, id: &str) -> String {
    format!("<a href=\"{base}/{}\">{}</a>", E(id), E(id))
}

//! One module per area of the console. Handlers are thin: read the form, call the
//! service as the signed-in caller, render.

pub mod admin;
pub mod arrangements;
pub mod forms;
pub mod login;
pub mod matches;
pub mod needs;
pub mod offer_form;
pub mod offers;
pub mod overview;
pub mod reports;

use super::html::E;
use super::{Form, Ui};
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

/// A table whose column headers sort the rows shown (`?sort=key`, `?sort=-key` for
/// descending): `columns` are (header, sort key), `href` the page's address with its
/// filters and page token, ending in `?` or `&`.
pub fn sortable_table(
    ui: &Ui,
    caption: &str,
    columns: &[(&str, &str)],
    sort: &Sort,
    href: &str,
    rows: &[Vec<String>],
) -> String {
    let mut out = format!(
        "<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"{c}\"><table><caption>{c}          <small>({h})</small></caption><thead><tr>",
        c = E(caption),
        h = E(ui.t("sort_page")),
    );
    for (head, key) in columns {
        let (aria, next, mark) = match sort {
            Sort { key: k, descending: false } if k == key => (" aria-sort=\"ascending\"", format!("-{key}"), " ▲"),
            Sort { key: k, descending: true } if k == key => (" aria-sort=\"descending\"", key.to_string(), " ▼"),
            _ => ("", key.to_string(), ""),
        };
        let _ = write!(
            out,
            "<th scope=\"col\"{aria}><a href=\"{}sort={}\">{}<span aria-hidden=\"true\">{mark}</span></a></th>",
            E(href),
            E(&next),
            E(head)
        );
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

/// A list's `?sort=`: a column key, `-` in front for descending.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Sort {
    pub key: String,
    pub descending: bool,
}

impl Sort {
    /// The sort asked for, if its key is one of `keys`.
    pub fn parse(text: &str, keys: &[&str]) -> Sort {
        let (descending, key) = match text.strip_prefix('-') {
            Some(k) => (true, k),
            None => (false, text),
        };
        if keys.contains(&key) { Sort { key: key.to_string(), descending } } else { Sort::default() }
    }

    /// Sorts `items` by the key `key_of` gives for this sort's column (stable, so equal
    /// keys keep the service's id order).
    pub fn apply<T, K: Ord>(&self, items: &mut [T], key_of: impl Fn(&str, &T) -> K) {
        if self.key.is_empty() {
            return;
        }
        items.sort_by(|a, b| {
            let o = key_of(&self.key, a).cmp(&key_of(&self.key, b));
            if self.descending { o.reverse() } else { o }
        });
    }
}

/// A sort key of mixed kinds: numbers before text, ids by their number.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SortKey {
    Number(i64),
    Text(String),
}

/// A link to a resource page with its id as text.
pub fn id_link(base: &str, id: &str) -> String {
    format!("<a href=\"{base}/{}\">{}</a>", E(id), E(id))
}

/// For a list the service returns whole (a report's rows, a need's candidates): the rows
/// of page `?{param}=N` (from 1) of `total`, and links to the pages around it. `base` is
/// the page's address up to the parameter, ending in `?` or `&`.
pub fn page_of(
    ui: &Ui,
    q: &Form,
    param: &str,
    base: &str,
    total: usize,
    per_page: usize,
) -> (std::ops::Range<usize>, String) {
    let pages = total.div_ceil(per_page).max(1);
    let page = q.get(param).parse::<usize>().unwrap_or(1).clamp(1, pages);
    let range = (page - 1) * per_page..(page * per_page).min(total);
    if pages == 1 {
        return (range, String::new());
    }
    let mut pager = format!(
        "<nav class=\"pager\" aria-label=\"pages\"><span>{} {page} / {pages} ({}–{} / {total})</span> ",
        ui.t("page"),
        range.start + 1,
        range.end
    );
    if page > 1 {
        let _ =
            write!(pager, "<a href=\"{}{param}={}\" rel=\"prev\">{}</a> ", E(base), page - 1, ui.t("previous_page"));
    }
    if page < pages {
        let _ = write!(pager, "<a href=\"{}{param}={}\" rel=\"next\">{}</a>", E(base), page + 1, ui.t("next_page"));
    }
    pager.push_str("</nav>");
    (range, pager)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_by_a_known_column_either_way_and_ids_numerically() {
        let keys = ["id", "title"];
        assert_eq!(Sort::parse("-id", &keys), Sort { key: "id".into(), descending: true });
        assert_eq!(Sort::parse("secret", &keys), Sort::default());
        let mut ids = vec!["need-10", "need-2", "need-1"];
        let by = |_: &str, id: &&str| SortKey::Number(super::matches::numeric(id) as i64);
        Sort::parse("id", &keys).apply(&mut ids, by);
        assert_eq!(ids, ["need-1", "need-2", "need-10"]);
        Sort::parse("-id", &keys).apply(&mut ids, by);
        assert_eq!(ids, ["need-10", "need-2", "need-1"]);
        Sort::default().apply(&mut ids, by);
        assert_eq!(ids, ["need-10", "need-2", "need-1"], "no sort keeps the service's order");
    }
}

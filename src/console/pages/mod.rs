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
use super::{Form, Ui, order};
use std::fmt::Write;

/// A table with a caption, header cells and rows of already-escaped cells.
pub fn table(caption: &str, headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = table_head(caption, "");
    for h in headers {
        let _ = write!(out, "<th scope=\"col\">{}</th>", E(h));
    }
    table_body(out, rows)
}

/// A table whose column headers sort the whole list (`?sort=key`, `?sort=-key` for
/// descending; see [`sorted_page`]): `columns` are (header, sort key), `href` the list's
/// address with its filters, ending in `?` or `&`.
pub fn sortable_table(
    ui: &Ui,
    caption: &str,
    columns: &[(&str, &str)],
    sort: &Sort,
    href: &str,
    rows: &[Vec<String>],
) -> String {
    let mut out = table_head(caption, ui.t("sort_page"));
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
    table_body(out, rows)
}

/// A table's opening up to its first header cell; `note` (if any) follows the caption.
fn table_head(caption: &str, note: &str) -> String {
    // Focusable and named: a table wider than a phone screen scrolls by keyboard too.
    let note = if note.is_empty() { String::new() } else { format!(" <small>({})</small>", E(note)) };
    format!(
        "<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"{c}\"><table><caption>{c}{note}</caption><thead><tr>",
        c = E(caption)
    )
}

/// Closes the header row of `out`, writes `rows` and closes the table.
fn table_body(mut out: String, rows: &[Vec<String>]) -> String {
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

/// One page of a list (needs, offers) and its pager. Unsorted, the page of the service's
/// own paging (`?page_token=`, id order). Sorted, page `?page=N` of the whole list in
/// `sort`'s order: the order comes from the caller's own List calls (see
/// [`order::Orders`]), the rows shown from the caller's own Get calls (`get`; a row gone
/// since is left out). `read(page_token, page_size)` is one List call (its rows and next
/// page token), `key_of` a row's sort key for `sort` and its id. `path` is the list's
/// address, `filters` its query without page or sort.
#[allow(clippy::too_many_arguments)]
pub async fn list_page<T, K, R, RFut, G, GFut>(
    ui: &Ui,
    q: &Form,
    path: &str,
    filters: &str,
    sort: &Sort,
    read: R,
    key_of: impl Fn(&T) -> (K, String),
    get: G,
) -> Result<(Vec<T>, String), tonic::Status>
where
    K: Ord,
    R: Fn(String, i32) -> RFut,
    RFut: std::future::Future<Output = Result<(Vec<T>, String), tonic::Status>>,
    G: Fn(String) -> GFut,
    GFut: std::future::Future<Output = Result<T, tonic::Status>>,
{
    if sort.key.is_empty() {
        let token = q.get("page_token").to_string();
        let later = !token.is_empty();
        let (rows, next) = read(token, needs::PAGE_SIZE).await?;
        return Ok((rows, token_pager(ui, path, filters, later, &next)));
    }
    let key = format!(
        "{path}|{}|{filters}|{}{}|{}",
        ui.caller.principal_id,
        if sort.descending { "-" } else { "" },
        sort.key,
        ui.lang.code()
    );
    let read_page = |token: String| {
        let page = read(token, order::READ_PAGE);
        let key_of = &key_of;
        async move {
            let (rows, next) = page.await?;
            let keyed = rows
                .iter()
                .map(|row| {
                    let (k, id) = key_of(row);
                    (k, matches::numeric(&id), id)
                })
                .collect();
            Ok((keyed, next))
        }
    };
    let ids = ui.console.orders.ids(&ui.ctx().store, key, sort.descending, read_page).await?;
    let href = format!("{path}?{filters}{}&", sort.param());
    let (range, pager) = page_of(ui, q, "page", &href, ids.len(), needs::PAGE_SIZE as usize);
    let mut rows = Vec::with_capacity(range.len());
    for id in &ids[range] {
        match get(id.clone()).await {
            Ok(row) => rows.push(row),
            Err(status) => tracing::debug!(%id, code = ?status.code(), "console sorted list: row no longer readable"),
        }
    }
    Ok((rows, pager))
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

    /// `&sort=key` (`-key` descending) to add to a list's address, "" for no sort.
    pub fn param(&self) -> String {
        if self.key.is_empty() {
            String::new()
        } else {
            format!("&sort={}{}", if self.descending { "-" } else { "" }, self.key)
        }
    }
}

/// A sort key of mixed kinds: numbers before text, ids by their number.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SortKey {
    Number(i64),
    Text(String),
}

/// The pager of a list the service pages (in id order): a link to the first page (when
/// not on it) and to the next (`next_token`, when there is one). `path` is the list's
/// address, `filters` its query without page token, `later` whether this page is not the first.
pub fn token_pager(ui: &Ui, path: &str, filters: &str, later: bool, next_token: &str) -> String {
    let mut out = String::from("<nav class=\"pager\" aria-label=\"pages\">");
    if later {
        let _ = write!(out, "<a href=\"{path}?{}\">{}</a> ", E(filters), ui.t("first_page"));
    }
    if !next_token.is_empty() {
        let _ = write!(
            out,
            "<a href=\"{path}?{}&amp;page_token={}\" rel=\"next\">{}</a>",
            E(filters),
            super::html::url(next_token),
            ui.t("next_page")
        );
    }
    out.push_str("</nav>");
    out
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
    fn a_sort_is_a_known_column_either_way() {
        let keys = ["id", "title"];
        assert_eq!(Sort::parse("-id", &keys), Sort { key: "id".into(), descending: true });
        assert_eq!(Sort::parse("title", &keys).param(), "&sort=title");
        assert_eq!(Sort::parse("-title", &keys).param(), "&sort=-title");
        assert_eq!(Sort::parse("secret", &keys), Sort::default());
        assert_eq!(Sort::default().param(), "");
    }
}

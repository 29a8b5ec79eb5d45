//! A sort order over a whole filtered list (needs, offers), with paging over it; and
//! [`Memo`], values computed from the store kept while it is unchanged (these orders,
//! the overview's reports).
//!
//! The List APIs page in id order and have no sort field. To sort across pages, the
//! console reads the caller's whole filtered list through the same List call it shows
//! unsorted (so a mission orders exactly what its gRPC calls show), keeps only
//! (sort key, id) pairs, sorts them and remembers the sorted ids per (caller, list,
//! filters, sort, language) while the store's last visible commit is unchanged: paging
//! through a sorted list then costs one point read (Get, as the caller) per row shown.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex};

/// Sorted orders kept at once (each at most a list's ids: 100 000 ids ≈ 3 MB).
const KEPT: usize = 16;

/// Rows read per List call while building an order (the API's largest page).
pub const READ_PAGE: i32 = crate::convert::limits::MAX_PAGE_SIZE;

/// Values computed from the store, each kept under a key with the store's last visible
/// commit at the time: valid while no commit came since. At most `capacity`, the oldest
/// dropped first.
pub struct Memo<T> {
    kept: Mutex<VecDeque<Kept<T>>>,
    capacity: usize,
}

struct Kept<T> {
    key: String,
    commit: u64,
    value: T,
}

impl<T: Clone> Memo<T> {
    pub fn new(capacity: usize) -> Memo<T> {
        Memo { kept: Mutex::new(VecDeque::new()), capacity: capacity.max(1) }
    }

    /// The value kept for `key` at `commit`.
    pub fn find(&self, key: &str, commit: u64) -> Option<T> {
        let kept = self.kept.lock().ok()?;
        kept.iter().find(|k| k.key == key && k.commit == commit).map(|k| k.value.clone())
    }

    /// Keeps `value` for `key` at `commit` (replacing an older one for `key`).
    pub fn keep(&self, key: String, commit: u64, value: T) {
        if let Ok(mut kept) = self.kept.lock() {
            kept.retain(|k| k.key != key);
            if kept.len() >= self.capacity {
                kept.pop_front();
            }
            kept.push_back(Kept { key, commit, value });
        }
    }
}

/// The sorted orders recently built.
pub struct Orders {
    memo: Memo<Arc<[String]>>,
}

impl Default for Orders {
    fn default() -> Orders {
        Orders { memo: Memo::new(KEPT) }
    }
}

impl Orders {
    /// The ids of the list `key` in sorted order, as of the store's last visible commit:
    /// the kept order if it was built at that commit, otherwise a new one. `read_page`
    /// reads one page of the list from a page token ("" for the first) and gives its
    /// (sort key, numeric id, id) triples and the next token ("" at the end). Equal keys
    /// keep ascending id order; `descending` reverses the keys' order only.
    pub async fn ids<K, F, Fut>(
        &self,
        store: &crate::store::Store,
        key: String,
        descending: bool,
        mut read_page: F,
    ) -> Result<Arc<[String]>, tonic::Status>
    where
        K: Ord,
        F: FnMut(String) -> Fut,
        Fut: Future<Output = Result<(Vec<(K, u64, String)>, String), tonic::Status>>,
    {
        let commit = store.visible_commit();
        if let Some(ids) = self.memo.find(&key, commit) {
            return Ok(ids);
        }
        let started = std::time::Instant::now();
        let mut rows = Vec::new();
        let mut token = String::new();
        loop {
            let (page, next) = read_page(token).await?;
            rows.extend(page);
            if next.is_empty() {
                break;
            }
            token = next;
        }
        let ids = sorted(rows, descending);
        // Kept only if no commit came in while reading: then the pages read one state.
        if store.visible_commit() == commit {
            self.memo.keep(key.clone(), commit, ids.clone());
        }
        tracing::debug!(%key, rows = ids.len(), elapsed_ms = started.elapsed().as_millis() as u64, "console sort order built");
        Ok(ids)
    }
}

/// The ids of `rows` (sort key, numeric id, id) by key, equal keys by ascending id.
fn sorted<K: Ord>(mut rows: Vec<(K, u64, String)>, descending: bool) -> Arc<[String]> {
    rows.sort_unstable_by(|a, b| {
        let by_key = if descending { b.0.cmp(&a.0) } else { a.0.cmp(&b.0) };
        by_key.then(a.1.cmp(&b.1))
    });
    rows.into_iter().map(|(_, _, id)| id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_key_then_numerically_by_id() {
        let rows = || {
            ["need-10", "need-2", "need-1", "need-11"]
                .iter()
                .map(|id| {
                    let n: u64 = id[5..].parse().unwrap_or(0);
                    (n % 2, n, id.to_string())
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(&*sorted(rows(), false), ["need-2", "need-10", "need-1", "need-11"]);
        assert_eq!(&*sorted(rows(), true), ["need-1", "need-11", "need-2", "need-10"], "ties stay in id order");
        let by_id: Vec<_> = rows().into_iter().map(|(_, n, id)| (n, n, id)).collect();
        assert_eq!(&*sorted(by_id, false), ["need-1", "need-2", "need-10", "need-11"]);
    }

    #[test]
    fn a_value_is_kept_per_key_and_commit_and_the_oldest_goes_first() {
        let memo = Memo::new(3);
        memo.keep("a".into(), 7, 1);
        assert_eq!(memo.find("a", 7), Some(1));
        assert_eq!(memo.find("a", 8), None, "a later commit builds anew");
        assert_eq!(memo.find("b", 7), None);
        memo.keep("a".into(), 8, 2);
        assert_eq!((memo.find("a", 7), memo.find("a", 8)), (None, Some(2)), "replaced");
        for i in 0..3 {
            memo.keep(format!("k{i}"), 7, i);
        }
        assert_eq!(memo.find("a", 8), None, "the oldest value was dropped");
        assert_eq!(memo.find("k2", 7), Some(2));
    }
}

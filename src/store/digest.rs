//! A digest of everything the store holds, so a test (or an operator comparing two
//! copies) can tell whether anything changed: per tree, SHA-256 over its entries in key
//! order, each key and value length-prefixed. Taken under the writer gate, so it is one
//! consistent state; reads only, never flushes or writes.

use super::{Store, StoreResult, TreeId};
use sha2::{Digest, Sha256};

/// The content of every tree of a store, as digests.
#[derive(Clone, PartialEq, Eq)]
pub struct ContentDigest {
    /// Each tree of [`TreeId::ALL`], in that order, with its entry count and digest.
    pub trees: Vec<(TreeId, u64, [u8; 32])>,
}

impl ContentDigest {
    /// One digest over all trees (names, counts and tree digests, in order).
    pub fn total(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        for (tree, count, digest) in &self.trees {
            h.update(tree.name().as_bytes());
            h.update([0]);
            h.update(count.to_be_bytes());
            h.update(digest);
        }
        h.finalize().into()
    }

    /// The trees whose content differs between `self` and `other`.
    pub fn changed_trees(&self, other: &ContentDigest) -> Vec<TreeId> {
        TreeId::ALL
            .iter()
            .copied()
            .filter(|t| {
                let find = |d: &ContentDigest| d.trees.iter().find(|(x, _, _)| x == t).map(|(_, c, h)| (*c, *h));
                find(self) != find(other)
            })
            .collect()
    }
}

impl std::fmt::Debug for ContentDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut m = f.debug_map();
        for (tree, count, digest) in &self.trees {
            m.entry(&tree.name(), &format_args!("{count} entries, {}", hex::encode(&digest[..8])));
        }
        m.finish()
    }
}

impl Store {
    /// The digest of every tree's content, under the writer gate.
    pub fn content_digest(&self) -> StoreResult<ContentDigest> {
        let _gate = self.writer()?;
        let mut trees = Vec::with_capacity(TreeId::ALL.len());
        for tree in TreeId::ALL {
            let mut h = Sha256::new();
            let mut count = 0u64;
            for kv in self.range(tree, std::ops::Bound::Unbounded, std::ops::Bound::Unbounded) {
                let (k, v) = kv?;
                h.update((k.len() as u64).to_be_bytes());
                h.update(&k);
                h.update((v.len() as u64).to_be_bytes());
                h.update(&v);
                count += 1;
            }
            trees.push((tree, count, h.finalize().into()));
        }
        Ok(ContentDigest { trees })
    }
}

#[cfg(test)]
mod tests {
    use super::super::*;

    #[test]
    fn the_digest_changes_with_any_entry_and_names_the_tree() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let config = StoreConfig::durable(8 << 20);
        let store = Store::open(dir.path(), &config).unwrap_or_else(|e| panic!("{e}"));
        let empty = store.content_digest().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(empty, store.content_digest().unwrap_or_else(|e| panic!("{e}")), "reading changes nothing");
        let w = store.writer().unwrap_or_else(|e| panic!("{e}"));
        let mut ws = WriteSet::default();
        ws.put_key(TreeId::Refusals, &keys::pair_key(Id(1), Id(2)));
        let _ticket = w.commit(ws).unwrap_or_else(|e| panic!("{e}"));
        let one = store.content_digest().unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(empty.total(), one.total());
        assert_eq!(empty.changed_trees(&one), [TreeId::Refusals]);
        // A key moved between entries is a change too (length prefixes).
        let w = store.writer().unwrap_or_else(|e| panic!("{e}"));
        let mut ws = WriteSet::default();
        ws.delete(TreeId::Refusals, &keys::pair_key(Id(1), Id(2)));
        ws.put_raw(TreeId::Refusals, keys::id_key(Id(1)).to_vec(), keys::id_key(Id(2)).to_vec());
        let _ticket = w.commit(ws).unwrap_or_else(|e| panic!("{e}"));
        let moved = store.content_digest().unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(one.total(), moved.total());
        assert_eq!(moved.trees.iter().find(|(t, _, _)| *t == TreeId::Refusals).map(|(_, c, _)| *c), Some(1));
    }
}

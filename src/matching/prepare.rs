//! From raw input to the matching problem: which needs and offers are considered, which
//! (need, delivery offer) pairs and (need, delivery offer, funding offer) triples the rules
//! allow, and how they split into independent components.
//!
//! Determinism: needs and offers are sorted by id (a repeated id keeps its first record),
//! candidates are generated in that order, and hash tables are used for lookups only.
//! Candidate offers come from an index by (category, capability, language), so a need only
//! looks at offers it shares a language with; every candidate is then checked with the
//! rule functions of `rules.rs` / `funding_rules.rs`, the same ones ExplainNeed reports.

use super::funding_rules::funder_allowed;
use super::input::{MatchInput, NeedInput, OfferInput};
use super::rules::{RuleContext, delivery_allowed};
use super::solution::{MatchError, Stop};
use crate::domain::{CapabilityArea, Language, OfferRole, SupportCategory};
use std::collections::{BTreeSet, HashMap};

/// A pair the rules allow, for an offer that needs no funding. Indices into [`Prepared`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pair {
    pub need: u32,
    pub offer: u32,
}

/// A funded triple the rules allow: `offer` requires funding and `funder` may pay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Triple {
    pub need: u32,
    pub offer: u32,
    pub funder: u32,
}

/// The considered records and the allowed pairs and triples.
#[derive(Debug)]
pub struct Prepared<'a> {
    pub ctx: RuleContext,
    /// Needs in the capability filter, not withdrawn, with open seats; sorted by id.
    pub needs: Vec<&'a NeedInput>,
    /// DELIVERY offers in the filter, not withdrawn, with terms and open seats; by id.
    pub offers: Vec<&'a OfferInput>,
    /// FUNDING offers in the filter, not withdrawn, with open seats; by id.
    pub funders: Vec<&'a OfferInput>,
    /// Allowed unfunded pairs, sorted.
    pub pairs: Vec<Pair>,
    /// Allowed funded triples, sorted.
    pub triples: Vec<Triple>,
    /// Checked by every step of the solve of this problem.
    pub stop: Stop,
}

/// Sorted by id, first record of a repeated id kept.
fn sorted_unique<'a, T>(items: impl Iterator<Item = &'a T>, id: impl Fn(&T) -> &str) -> Vec<&'a T> {
    let mut v: Vec<&T> = items.collect();
    v.sort_by(|a, b| id(a).cmp(id(b)));
    v.dedup_by(|b, a| id(a) == id(b));
    v
}

type Kind = (SupportCategory, CapabilityArea);

/// Which records of an input a proposal considers.
#[derive(Clone, Copy)]
pub struct Considered<'a>(pub &'a MatchInput);

impl Considered<'_> {
    fn wanted(&self, c: CapabilityArea) -> bool {
        self.0.capabilities.is_empty() || self.0.capabilities.contains(&c)
    }

    /// A need in the capability filter, not withdrawn, with open seats.
    pub fn need(&self, n: &NeedInput) -> bool {
        self.wanted(n.capability) && !n.withdrawn && n.open_seats() > 0
    }

    /// A DELIVERY offer in the filter, not withdrawn, with terms and open seats.
    pub fn delivery(&self, o: &OfferInput) -> bool {
        self.wanted(o.capability) && !o.withdrawn && o.open_seats() > 0 && o.delivery_terms().is_some()
    }

    /// A FUNDING offer in the filter, not withdrawn, with open seats.
    pub fn funder(&self, o: &OfferInput) -> bool {
        self.wanted(o.capability) && !o.withdrawn && o.open_seats() > 0 && o.role == OfferRole::Funding
    }
}

impl<'a> Prepared<'a> {
    /// Applies the filter and the rules.
    pub fn new(input: &'a MatchInput) -> Prepared<'a> {
        let (prepared, found) = Prepared::unchecked(input, Stop::never());
        // Only a stop ends the search for candidates early, and this one never stops.
        debug_assert!(found.is_ok());
        prepared
    }

    /// Like [`Prepared::new`], giving up with [`MatchError::Stopped`] once `stop` is pulled;
    /// the solve of the result checks it too.
    pub fn with_stop(input: &'a MatchInput, stop: Stop) -> Result<Prepared<'a>, MatchError> {
        let (prepared, found) = Prepared::unchecked(input, stop);
        found.map(|()| prepared)
    }

    /// The prepared problem and whether its candidates were all found (not stopped).
    fn unchecked(input: &'a MatchInput, stop: Stop) -> (Prepared<'a>, Result<(), MatchError>) {
        let ctx = RuleContext::new(input);
        let filter = Considered(input);
        // Dedupe over all records first, so a repeated id keeps its first record whatever
        // its state.
        let all_needs = sorted_unique(input.needs.iter(), |n| n.id.as_str());
        let all_offers = sorted_unique(input.offers.iter(), |o| o.id.as_str());
        let needs: Vec<&NeedInput> = all_needs.into_iter().filter(|n| filter.need(n)).collect();
        let offers: Vec<&OfferInput> = all_offers.iter().copied().filter(|o| filter.delivery(o)).collect();
        let funders: Vec<&OfferInput> = all_offers.into_iter().filter(|o| filter.funder(o)).collect();
        let mut prepared = Prepared { ctx, needs, offers, funders, pairs: Vec::new(), triples: Vec::new(), stop };
        let found = prepared.find_candidates();
        (prepared, found)
    }

    fn find_candidates(&mut self) -> Result<(), MatchError> {
        let mut by_language: HashMap<(Kind, Language), Vec<u32>> = HashMap::new();
        for (i, o) in self.offers.iter().enumerate() {
            if let Some(terms) = o.delivery_terms() {
                let mut langs = terms.languages.clone();
                langs.sort();
                langs.dedup();
                for l in langs {
                    by_language.entry(((o.category, o.capability), l)).or_default().push(i as u32);
                }
            }
        }
        let mut funders_by_kind: HashMap<Kind, Vec<u32>> = HashMap::new();
        for (i, f) in self.funders.iter().enumerate() {
            funders_by_kind.entry((f.category, f.capability)).or_default().push(i as u32);
        }
        let mut candidates: Vec<u32> = Vec::new();
        for (ni, need) in self.needs.iter().enumerate() {
            if ni % 256 == 0 {
                self.stop.check()?;
            }
            candidates.clear();
            for l in &need.languages {
                if let Some(list) = by_language.get(&((need.category, need.capability), *l)) {
                    candidates.extend_from_slice(list);
                }
            }
            candidates.sort_unstable();
            candidates.dedup();
            for &oi in &candidates {
                let offer = self.offers[oi as usize];
                if !delivery_allowed(&self.ctx, need, offer) {
                    continue;
                }
                if !offer.requires_funding() {
                    self.pairs.push(Pair { need: ni as u32, offer: oi });
                    continue;
                }
                if let Some(list) = funders_by_kind.get(&(offer.category, offer.capability)) {
                    for &fi in list {
                        if funder_allowed(&self.ctx, need, offer, self.funders[fi as usize]) {
                            self.triples.push(Triple { need: ni as u32, offer: oi, funder: fi });
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Splits needs into components connected by pairs and triples. Returns, per need, its
    /// component id (`u32::MAX` for a need with no candidate) and the set of component ids
    /// that contain a funded triple.
    pub fn components(&self) -> (Vec<u32>, BTreeSet<u32>) {
        let n = self.needs.len();
        let m = self.offers.len();
        let mut uf = UnionFind::new(n + m + self.funders.len());
        for p in &self.pairs {
            uf.union(p.need as usize, n + p.offer as usize);
        }
        for t in &self.triples {
            uf.union(t.need as usize, n + t.offer as usize);
            uf.union(t.need as usize, n + m + t.funder as usize);
        }
        let mut has_edge = vec![false; n];
        for p in &self.pairs {
            has_edge[p.need as usize] = true;
        }
        for t in &self.triples {
            has_edge[t.need as usize] = true;
        }
        let comp: Vec<u32> = (0..n).map(|i| if has_edge[i] { uf.find(i) as u32 } else { u32::MAX }).collect();
        let funded: BTreeSet<u32> = self.triples.iter().map(|t| comp[t.need as usize]).collect();
        (comp, funded)
    }
}

/// Disjoint sets with path halving and union by size.
struct UnionFind {
    parent: Vec<usize>,
    size: Vec<u32>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        UnionFind { parent: (0..n).collect(), size: vec![1; n] }
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    fn union(&mut self, a: usize, b: usize) {
        let (mut a, mut b) = (self.find(a), self.find(b));
        if a == b {
            return;
        }
        if self.size[a] < self.size[b] {
            std::mem::swap(&mut a, &mut b);
        }
        self.parent[b] = a;
        self.size[a] += self.size[b];
    }
}

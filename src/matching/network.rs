//! The unfunded part of the problem as a min-cost flow, solved goal by goal.
//!
//! Network: source → offer (its open seats) → [offer × recipient node, capacity the
//! recipient's remaining `max_per_recipient`, only for capped offers] → need node, or, for
//! a women-only offer, → the need's women-only node → need node (capacity: open women
//! seats) → sink by two parallel arcs: the "women" arc (open women seats) and the "other"
//! arc (the remaining open seats). A zero-cost source → sink bypass takes unused seats, so
//! the network is always feasible.
//!
//! Goals are solved in phases with `fix_nonoptimal_arcs` (see docs/MATCHING.md): each
//! phase sets the costs of one goal only, so costs stay small (−1, 0, or a day offset) and
//! nothing can overflow. The model keeps its solver, so the incremental engine can change
//! it and re-solve warm.

use super::flow::{ArcId, Network, NetworkSimplex, NodeId, Status};
use super::input::{NeedInput, OfferInput};
use super::solution::{MatchError, SeatGrant, Stop, add_need_seats};
use crate::domain::{Alpha3, Day, Priority};
use std::collections::HashMap;

#[derive(Clone, Copy, Debug)]
enum ArcKind {
    Supply { offer: u32 },
    NeedSink { need: u32, women: bool },
    Pair { need: u32, offer: u32 },
    Other,
}

#[derive(Clone, Debug)]
struct ModelNeed {
    id: String,
    priority: Priority,
    needed_by: Day,
    women_open: u32,
    women_only_cap: u32,
    node: NodeId,
    women_only_node: Option<NodeId>,
    recipient: Alpha3,
}

#[derive(Clone, Debug)]
struct ModelOffer {
    id: String,
    available_until: Day,
    open: u32,
    node: NodeId,
    supply_arc: ArcId,
    women_only: bool,
}

/// One flow network with its warm solver state.
#[derive(Debug)]
pub struct FlowModel {
    simplex: NetworkSimplex,
    source: NodeId,
    sink: NodeId,
    bypass: ArcId,
    supply: i64,
    kinds: Vec<ArcKind>,
    needs: Vec<ModelNeed>,
    need_index: HashMap<String, u32>,
    offers: Vec<ModelOffer>,
    offer_index: HashMap<String, u32>,
    cap_nodes: HashMap<(u32, Alpha3), NodeId>,
    base_needed_by: Day,
    base_until: Day,
}

/// What an offer can give one recipient: `None` when uncapped, else the remaining cap.
pub type RecipientRoom = Option<u32>;

impl FlowModel {
    /// An empty model (source, sink, bypass) whose day offsets count from the given bases.
    pub fn new(base_needed_by: Day, base_until: Day) -> FlowModel {
        let mut net = Network::new();
        let source = net.add_node();
        let sink = net.add_node();
        let bypass = net.add_arc(source, sink, 0, 0, 0);
        FlowModel {
            simplex: NetworkSimplex::new(net),
            source,
            sink,
            bypass,
            supply: 0,
            kinds: vec![ArcKind::Other],
            needs: Vec::new(),
            need_index: HashMap::new(),
            offers: Vec::new(),
            offer_index: HashMap::new(),
            cap_nodes: HashMap::new(),
            base_needed_by,
            base_until,
        }
    }

    /// Number of arcs.
    pub fn arc_count(&self) -> usize {
        self.simplex.arc_count()
    }

    fn arc(&mut self, from: NodeId, to: NodeId, upper: u32, kind: ArcKind) -> ArcId {
        let a = self.simplex.add_arc(from, to, 0, i64::from(upper), 0);
        self.kinds.push(kind);
        a
    }

    fn set_supply(&mut self, supply: i64) {
        self.supply = supply.max(0);
        self.simplex.set_supply(self.source, self.supply);
        self.simplex.set_supply(self.sink, -self.supply);
        self.simplex.set_bounds(self.bypass, 0, self.supply);
    }

    /// Adds an offer (once); returns its model index.
    pub fn add_offer(&mut self, offer: &OfferInput) -> u32 {
        if let Some(&i) = self.offer_index.get(&offer.id) {
            return i;
        }
        let i = self.offers.len() as u32;
        let node = self.simplex.add_node();
        let open = offer.open_seats();
        let supply_arc = self.arc(self.source, node, open, ArcKind::Supply { offer: i });
        self.offers.push(ModelOffer {
            id: offer.id.clone(),
            available_until: offer.available_until,
            open,
            node,
            supply_arc,
            women_only: offer.women_only(),
        });
        self.offer_index.insert(offer.id.clone(), i);
        self.set_supply(self.supply + i64::from(open));
        i
    }

    /// Adds a need (once); returns its model index.
    pub fn add_need(&mut self, need: &NeedInput) -> u32 {
        let women = need.open_women_seats();
        self.add_need_with(need, need.open_seats(), women, women)
    }

    /// Adds a need with explicit room: `open` seats in all, of which the sink's women arc
    /// takes `women_open` (≤ open) and women-only offers may fill `women_only_cap`. Used for
    /// what is left of a need after its funded seats are fixed.
    pub fn add_need_with(&mut self, need: &NeedInput, open: u32, women_open: u32, women_only_cap: u32) -> u32 {
        if let Some(&i) = self.need_index.get(&need.id) {
            return i;
        }
        let women_open = women_open.min(open);
        let i = self.needs.len() as u32;
        let node = self.simplex.add_node();
        self.arc(node, self.sink, women_open, ArcKind::NeedSink { need: i, women: true });
        self.arc(node, self.sink, open - women_open, ArcKind::NeedSink { need: i, women: false });
        self.needs.push(ModelNeed {
            id: need.id.clone(),
            priority: need.priority,
            needed_by: need.needed_by,
            women_open,
            women_only_cap,
            node,
            women_only_node: None,
            recipient: need.requester,
        });
        self.need_index.insert(need.id.clone(), i);
        i
    }

    /// Adds the arc(s) letting offer `o` give need `n` seats (both already added).
    /// `room` is the offer's remaining cap for the need's recipient (`None` = uncapped).
    pub fn add_pair(&mut self, n: u32, o: u32, room: RecipientRoom, need_open: u32) {
        let (Some(need), Some(offer)) = (self.needs.get(n as usize).cloned(), self.offers.get(o as usize).cloned())
        else {
            return;
        };
        let from = match room {
            None => offer.node,
            Some(room) => match self.cap_nodes.get(&(o, need.recipient)) {
                Some(&node) => node,
                None => {
                    let node = self.simplex.add_node();
                    self.arc(offer.node, node, room, ArcKind::Other);
                    self.cap_nodes.insert((o, need.recipient), node);
                    node
                }
            },
        };
        if offer.women_only {
            let w = match need.women_only_node {
                Some(w) => w,
                None => {
                    let w = self.simplex.add_node();
                    self.arc(w, need.node, need.women_only_cap, ArcKind::Other);
                    self.needs[n as usize].women_only_node = Some(w);
                    w
                }
            };
            self.arc(from, w, need.women_only_cap, ArcKind::Pair { need: n, offer: o });
        } else {
            self.arc(from, need.node, need_open, ArcKind::Pair { need: n, offer: o });
        }
    }

    /// Model index of a need id.
    pub fn need_of(&self, id: &str) -> Option<u32> {
        self.need_index.get(id).copied()
    }

    /// Model index of an offer id.
    pub fn offer_of(&self, id: &str) -> Option<u32> {
        self.offer_index.get(id).copied()
    }

    /// Changes an offer's open seats (0 withdraws it from matching).
    pub fn set_offer_open(&mut self, o: u32, open: u32) {
        let Some(offer) = self.offers.get_mut(o as usize) else { return };
        let delta = i64::from(open) - i64::from(offer.open);
        offer.open = open;
        let arc = offer.supply_arc;
        self.simplex.set_bounds(arc, 0, i64::from(open));
        self.set_supply(self.supply + delta);
    }

    /// Changes a need's priority (its goal costs follow at the next solve).
    pub fn set_need_priority(&mut self, n: u32, priority: Priority) {
        if let Some(need) = self.needs.get_mut(n as usize) {
            need.priority = priority;
        }
    }

    fn cost(&self, kind: ArcKind, phase: usize) -> i64 {
        match kind {
            ArcKind::Supply { offer } if phase == 5 => {
                self.offers[offer as usize].available_until.saturating_sub(self.base_until)
            }
            ArcKind::NeedSink { need, women } => {
                let need = &self.needs[need as usize];
                match phase {
                    0..=2 => -i64::from(need.priority == PRIORITY_OF_PHASE[phase]),
                    3 => -i64::from(women),
                    4 => need.needed_by.saturating_sub(self.base_needed_by),
                    _ => 0,
                }
            }
            _ => 0,
        }
    }

    fn phase_is_empty(&self, phase: usize) -> bool {
        match phase {
            0..=2 => !self.needs.iter().any(|n| n.priority == PRIORITY_OF_PHASE[phase]),
            3 => !self.needs.iter().any(|n| n.women_open > 0),
            _ => false,
        }
    }

    /// Solves the six goals in order (warm from the previous state, if any); `stop` is
    /// checked before each. A stopped solve leaves the model unusable for a warm re-solve.
    pub fn solve(&mut self, stop: &Stop) -> Result<(), MatchError> {
        self.simplex.unfix_all();
        for phase in 0..6 {
            stop.check()?;
            if self.phase_is_empty(phase) {
                continue;
            }
            for a in 0..self.kinds.len() {
                let cost = self.cost(self.kinds[a], phase);
                if self.simplex.network().arc(a as ArcId).4 != cost {
                    self.simplex.set_cost(a as ArcId, cost);
                }
            }
            match self.simplex.solve() {
                Ok(Status::Optimal) => {}
                Ok(_) => return Err(MatchError::Solver("flow network reported infeasible".into())),
                Err(e) => return Err(MatchError::Solver(e.to_string())),
            }
            if phase < 5 {
                self.simplex.fix_nonoptimal_arcs();
            }
        }
        Ok(())
    }

    /// Ids of the model's needs, in model order.
    pub fn need_ids(&self) -> impl Iterator<Item = &str> {
        self.needs.iter().map(|n| n.id.as_str())
    }

    /// Ids of the model's offers, in model order.
    pub fn offer_ids(&self) -> impl Iterator<Item = &str> {
        self.offers.iter().map(|o| o.id.as_str())
    }

    /// The six goal totals of the current flows (same definition as
    /// `solution::objective_of`), in exact integer arithmetic.
    pub fn objective(&self) -> [i128; 6] {
        let mut total = [0i128; 6];
        let mut per_need = vec![0i128; self.needs.len()];
        for (a, kind) in self.kinds.iter().enumerate() {
            if let ArcKind::Pair { need, offer } = *kind {
                let seats = i128::from(self.simplex.flow(a as ArcId));
                if seats == 0 {
                    continue;
                }
                let n = &self.needs[need as usize];
                add_need_seats(&mut total, seats, n.priority, n.needed_by);
                total[5] += seats * i128::from(self.offers[offer as usize].available_until);
                per_need[need as usize] += seats;
            }
        }
        for (n, seats) in self.needs.iter().zip(per_need) {
            total[3] += seats.min(i128::from(n.women_open));
        }
        total
    }

    /// The seats granted on each pair arc with flow, in arc order.
    pub fn grants(&self) -> Vec<SeatGrant> {
        let mut out = Vec::new();
        for (a, kind) in self.kinds.iter().enumerate() {
            if let ArcKind::Pair { need, offer } = *kind {
                let flow = self.simplex.flow(a as ArcId);
                if flow > 0 {
                    out.push(SeatGrant {
                        need_id: self.needs[need as usize].id.clone(),
                        offer_id: self.offers[offer as usize].id.clone(),
                        funder_id: None,
                        seats: u32::try_from(flow).unwrap_or(u32::MAX),
                    });
                }
            }
        }
        out
    }
}

const PRIORITY_OF_PHASE: [Priority; 3] = [Priority::Critical, Priority::High, Priority::Routine];

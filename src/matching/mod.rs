//! The matching engine: a pure library (no I/O, no clock, no store) that turns open needs,
//! open offers and what is already reserved into optimal allocations with reasons.

pub mod flow;

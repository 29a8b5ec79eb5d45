//! Tests of the engine: the demo fixture's every figure (`fixture.rs`), brute-force
//! optimality and rule obedience on small random instances (`brute.rs`, `props.rs`).

mod brute;
mod fixture;
mod props;

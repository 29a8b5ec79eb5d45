//! lcm: the UN light coordination mechanism for peacekeeping training and capacity
//! building, as a gRPC service. The library holds everything; `main.rs` only parses the
//! command line. Integration tests use the library to start real servers.
#![forbid(unsafe_code)]

pub mod admission;
pub mod api;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod coalesce;
pub mod config;
pub mod console;
pub mod convert;
pub mod domain;
pub mod error;
pub mod loadtest;
pub mod matching;
pub mod metrics;
pub mod metrics_http;
pub mod middleware;
pub mod reports;
pub mod scenario;
pub mod server;
pub mod service;
pub mod settle;
pub mod store;
pub mod telemetry;

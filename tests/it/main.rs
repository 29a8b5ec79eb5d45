//! Integration tests: each starts a real server on 127.0.0.1:0 with a fresh temporary
//! store and talks to it with real tonic clients over a real socket.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

mod access_matrix;
mod admin;
mod at_risk;
mod auth;
mod backup;
mod capacity;
mod cli;
mod console;
mod crash;
mod demo;
mod events;
mod explain;
mod failstop;
mod hostile;
mod loadtest;
mod metrics;
mod needs;
mod offers;
mod overload;
mod prune;
mod race;
mod readiness;
mod reflection;
mod reports;
mod restart;
mod staging;
mod tls;
mod transitions;
mod what_if;
mod workflow;

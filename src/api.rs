//! Generated protobuf and gRPC code (lcm.v1), quarantined here: nothing under `domain/`,
//! `matching/` or `store/` imports it. Lints are relaxed for this module only.
#![allow(clippy::all, clippy::pedantic, missing_docs, unreachable_pub)]

tonic::include_proto!("lcm.v1");

/// The encoded file descriptor set of `proto/`, served by gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("lcm_descriptor");

/// The encoded file descriptor set of `google/rpc/error_details.proto` (and what it
/// imports), served by reflection so that generic clients decode error details.
pub const GOOGLE_RPC_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("google_rpc_descriptor");

//! Domain values and rules. Never imports generated protobuf code nor sled.

pub mod access;
pub mod records;
pub mod types;
pub mod workflow;

pub use access::*;
pub use records::*;
pub use types::*;
pub use workflow::*;

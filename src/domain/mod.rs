//! Domain values and rules. Never imports generated protobuf code nor sled.

pub mod access;
pub mod events;
pub mod records;
pub mod types;
pub mod workflow;

pub use access::*;
pub use events::*;
pub use records::*;
pub use types::*;
pub use workflow::*;

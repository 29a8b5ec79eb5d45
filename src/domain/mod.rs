//! Domain values and rules. Never imports generated protobuf code nor sled.

pub mod access;
pub mod commands;
pub mod events;
pub mod records;
pub mod refusal;
pub mod types;
pub mod workflow;

pub use access::*;
pub use commands::{Approval, Changed, Changes, Seating};
pub use events::*;
pub use records::*;
pub use refusal::*;
pub use types::*;
pub use workflow::*;

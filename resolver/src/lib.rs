//! The resolver: turns an evaluated register into a checked device graph
//! for one target. See [`model`] for the result codegen consumes and
//! [`connect`] for the connect-template format.

pub mod connect;
pub mod model;

pub use model::*;

//! The resolver: turns an evaluated register into a checked device graph
//! for one target. See [`model`] for the result codegen consumes,
//! [`connect`] for the connect-template format and [`session`] for the
//! whole pipeline (catalogue, evaluation, resolution) over a target matrix.

pub mod bootargs;
pub mod catalogue;
pub mod connect;
mod crates;
pub mod describe;
mod graph;
mod input;
mod keys;
pub mod model;
mod resolve;
pub mod session;
mod typing;

pub use model::*;
pub use resolve::{Input, Outcome, resolve};

//! The binary's own parts: rendering. Argument parsing is in `main.rs`.

pub mod render;

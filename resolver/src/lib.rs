//! placeholder until the issue that builds this crate lands

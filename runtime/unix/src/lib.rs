//! unix runtime

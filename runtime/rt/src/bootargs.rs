//! Boot command lines (MirageOS 3.3 `bootvar` semantics).
//!
//! Tenders pass arguments as one string: they are joined with spaces and
//! split again in the guest. A space inside an argument is written `\ ` and
//! a backslash `\\`, so every non-empty argument survives the round trip.
//! Empty arguments cannot be represented and are dropped.

use alloc::string::String;
use alloc::vec::Vec;

/// Joins arguments into one command line, escaping spaces and backslashes.
pub fn join<S: AsRef<str>>(args: &[S]) -> String {
    let mut out = String::new();
    for arg in args.iter().map(AsRef::as_ref).filter(|a| !a.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        for c in arg.chars() {
            if c == ' ' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out
}

/// Splits a command line at unescaped spaces; `\x` stands for `x`. Runs of
/// spaces separate like one; a trailing lone backslash is kept literally.
pub fn split(cmdline: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut current = String::new();
    let mut chars = cmdline.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => current.push(chars.next().unwrap_or('\\')),
            ' ' => {
                if !current.is_empty() {
                    args.push(core::mem::take(&mut current));
                }
            }
            other => current.push(other),
        }
    }
    if !current.is_empty() {
        args.push(current);
    }
    args
}

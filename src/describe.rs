//! `unikc describe`: the device graph of one target as a tree, Graphviz dot
//! or JSON, or the catalogue reference; and the note `check` prints about
//! targets the default matrix skipped.

use crate::driver::{self, Checked};
use crate::{EXIT_ERRORS, EXIT_OK};
use std::collections::BTreeMap;
use std::path::PathBuf;
use unik_resolver::describe;
use unik_resolver::session::Matrix;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Text,
    Dot,
    Json,
    Catalogue,
}

pub fn run(
    file: Option<PathBuf>,
    target: String,
    keys: BTreeMap<String, String>,
    form: Form,
    json_diagnostics: bool,
) -> u8 {
    if form == Form::Catalogue {
        return match unik_resolver::catalogue::reference() {
            Ok(text) => {
                print!("{text}");
                EXIT_OK
            }
            Err(e) => {
                eprintln!("error: the catalogue reference cannot be generated: {e}");
                EXIT_ERRORS
            }
        };
    }
    let (_, checked) = match driver::check_config(
        file.as_deref(),
        Matrix::Only(vec![target.clone()]),
        keys,
        driver::Want::Graphs,
        json_diagnostics,
    ) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let Some(graph) = checked.resolved.get(&target) else {
        return EXIT_ERRORS;
    };
    let text = match form {
        Form::Text => describe::text(graph),
        Form::Dot => describe::dot(graph),
        Form::Json | Form::Catalogue => describe::json(graph),
    };
    print!("{text}");
    if checked.errors() > 0 {
        EXIT_ERRORS
    } else {
        EXIT_OK
    }
}

/// Says which targets the default matrix left out, and why.
pub fn skipped(checked: &Checked) {
    for s in &checked.skipped {
        let mut reasons = s.reasons.clone();
        reasons.dedup();
        eprintln!("note: skipped target {}: {}", s.target, reasons.join("; "));
    }
}

//! Formatting never changes what a program evaluates to: every `.unik` file
//! of the repository gives the same JSON value (or the same error) before
//! and after `unikc fmt`, for several targets.

mod common;

use common::files::unik_files;
use std::path::Path;
use unik_lang::eval::{Evaluator, ModuleArena, Options, Stop, to_json};
use unik_lang::fmt::format;

/// The evaluated value as JSON text, or the error's code and message.
pub fn outcome(path: &Path, text: &str, target: &str) -> Result<String, String> {
    let arena = ModuleArena::new();
    let mut options = Options::new(target.parse().expect("a target"));
    options.max_steps = 2_000_000;
    let ev = Evaluator::new(&arena, options);
    let describe = |s: Stop| match s {
        Stop::Error(d) => format!("{} {}", d.code, d.message),
        Stop::Poison => "poison".to_string(),
    };
    let (_, v) = ev.eval_root(path, text);
    let v = v.map_err(describe)?;
    to_json(&ev, &v).map(|j| j.to_string()).map_err(describe)
}

#[test]
fn formatting_keeps_every_value() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut files = Vec::new();
    for dir in [
        "lang/tests/corpus",
        "examples",
        "stdlib-devices",
        "lang/tests/fmt",
    ] {
        files.extend(unik_files(&root.join(dir)));
    }
    let mut values = 0;
    for path in &files {
        let src = std::fs::read_to_string(path).unwrap();
        let Ok(out) = format(&src) else { continue };
        for target in ["unix", "hvt", "xen"] {
            let before = outcome(path, &src, target);
            let after = outcome(path, &out, target);
            assert_eq!(
                before,
                after,
                "{} ({target}) changed:\n{out}",
                path.display()
            );
            values += usize::from(before.is_ok());
        }
    }
    assert!(
        values >= 30,
        "too few files evaluate to a value ({values}) to test anything"
    );
}

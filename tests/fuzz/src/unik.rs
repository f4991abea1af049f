//! The `.unik` parser and evaluator: any text parses and evaluates to a value or to
//! diagnostics, within a step budget, never a panic. Imports resolve against an empty
//! directory, so the input alone decides what is evaluated.

use unik_lang::eval::{Evaluator, ModuleArena, Options, to_json};

pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Deep nesting is a diagnostic, but very long inputs only slow the fuzzer down.
    if text.len() > 64 * 1024 {
        return;
    }
    let dir = std::env::temp_dir().join("unik-fuzz-empty");
    let path = dir.join("config.unik");
    let arena = ModuleArena::new();
    let mut options = Options::new(unik_lang::Target::Unix);
    options.max_steps = 100_000;
    let ev = Evaluator::new(&arena, options);
    let (_, v) = ev.eval_root(&path, text);
    if let Ok(v) = v {
        let _ = to_json(&ev, &v);
    }
    let _ = unik_lang::syntax::parse_fast(text);
}

//! No input makes the language crash: every prefix of every known-good file
//! and random mutations of them parse and evaluate to a value or to
//! diagnostics, never a panic, a stack overflow or a hang.

use proptest::prelude::*;
use std::panic::{AssertUnwindSafe, catch_unwind};
mod common;

use common::files::{repo, unik_files};
use std::path::{Path, PathBuf};
use unik_lang::eval::{Evaluator, ModuleArena, Options, to_json};

fn sources() -> &'static [(PathBuf, String)] {
    static ALL: std::sync::OnceLock<Vec<(PathBuf, String)>> = std::sync::OnceLock::new();
    ALL.get_or_init(read_sources)
}

fn read_sources() -> Vec<(PathBuf, String)> {
    let root = repo();
    let mut out = Vec::new();
    for dir in [
        "lang/tests/corpus",
        "tests/diagnostics",
        "examples",
        "stdlib-devices",
    ] {
        for p in unik_files(&root.join(dir)) {
            let text = std::fs::read_to_string(&p).unwrap();
            out.push((p, text));
        }
    }
    out.sort();
    assert!(
        out.len() >= 10,
        "expected a corpus to mutate, found {}",
        out.len()
    );
    out
}

/// Parses and evaluates; panics only if the language itself panics.
fn run(path: &Path, text: &str) {
    let result = catch_unwind(AssertUnwindSafe(|| {
        let arena = ModuleArena::new();
        let mut options = Options::new(unik_lang::Target::Unix);
        options.max_steps = 200_000;
        let ev = Evaluator::new(&arena, options);
        let (_, v) = ev.eval_root(path, text);
        if let Ok(v) = v {
            let _ = to_json(&ev, &v);
        }
    }));
    if result.is_err() {
        panic!(
            "the evaluator panicked on this input ({}):\n{text}",
            path.display()
        );
    }
}

#[test]
fn every_prefix_is_handled() {
    // Every prefix of the corpus and of the diagnostics examples; larger
    // files (examples, the catalogue) are covered by the mutation test.
    for (path, text) in sources() {
        let s = path.to_string_lossy();
        if !(s.contains("/lang/tests/corpus/") || s.contains("/tests/diagnostics/")) {
            continue;
        }
        for (i, _) in text.char_indices() {
            run(path, &text[..i]);
        }
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    for src in [
        format!("{}1{}", "(".repeat(50_000), ")".repeat(50_000)),
        format!("{}1{}", "[".repeat(50_000), "]".repeat(50_000)),
        "let a = 1; in ".repeat(50_000) + "a",
        "x: ".repeat(50_000) + "1",
        "1 + ".repeat(50_000) + "1",
        "let f = n: if n == 0 then 0 else 1 + f (n - 1); in f 1000000".to_string(),
    ] {
        run(&dir.join("deep.unik"), &src);
    }
}

fn mutate(text: &str, at: usize, len: usize, kind: u8, insert: &str) -> String {
    let b = text.as_bytes();
    let at = at % (b.len() + 1);
    let end = (at + len).min(b.len());
    let mut out: Vec<u8> = b[..at].to_vec();
    match kind % 3 {
        0 => out.extend_from_slice(&b[end..]),
        1 => {
            out.extend_from_slice(insert.as_bytes());
            out.extend_from_slice(&b[at..]);
        }
        _ => {
            out.extend_from_slice(&b[at..end]);
            out.extend_from_slice(&b[at..]);
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, .. ProptestConfig::default() })]
    #[test]
    fn mutations_are_handled(
        file in any::<prop::sample::Index>(),
        at in 0usize..4096,
        len in 0usize..40,
        kind in any::<u8>(),
        insert in prop::sample::select(vec![
            "{", "}", "[", "]", "(", ")", ";", ",", "\"", "''", "${", "/*", "#", "let", "in",
            "rec", "inherit", "@->", "$", ":", "?", "...", "x", "1", "\\", "or", "import ./x.unik",
        ]),
    ) {
        let all = sources();
        let (path, text) = &all[file.index(all.len())];
        run(path, &mutate(text, at, len, kind, insert));
    }
}

/// Nesting the builder cuts off is always reported, never a silent error node.
#[test]
fn every_depth_cut_is_reported() {
    for depth in [100, 300, 600, 2000] {
        let src = format!("{}1{}", "(".repeat(depth), ")".repeat(depth));
        let parsed = unik_lang::syntax::parse(0, &src);
        let has_error_node = parsed.module.expr.as_ref().is_some_and(contains_error);
        assert!(
            !has_error_node || parsed.has_errors(),
            "depth {depth}: an Error node must come with a diagnostic"
        );
    }
}

fn contains_error(root: &unik_lang::syntax::Expr) -> bool {
    let mut stack = vec![root];
    while let Some(e) = stack.pop() {
        if matches!(e.kind, unik_lang::syntax::ExprKind::Error) {
            return true;
        }
        stack.extend(e.children());
    }
    false
}

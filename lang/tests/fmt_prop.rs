//! Property tests of `unikc fmt`: random syntactically valid programs (built
//! from a random tree, with blanks and comments between every two tokens)
//! format without error, idempotently, keeping every comment and the tree.

use proptest::collection::vec;
use proptest::prelude::*;
use unik_lang::eval::{Evaluator, ModuleArena, Options, Stop, to_json};
use unik_lang::fmt::{comment_texts, format, same_expr};
use unik_lang::syntax::parse;

mod common;
use common::programs::*;

/// The tree's debug text without spans: an independent check of `same_expr`.
fn shape(src: &str) -> String {
    let p = parse(0, src);
    let text = format!("{:?}", p.module.expr);
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(i) = rest.find("Span { start: ") {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        let close = after.find('}').expect("span closes");
        out.push_str("Span");
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

fn check(src: &str) -> Result<(), TestCaseError> {
    let before = parse(0, src);
    prop_assert!(
        !before.has_errors(),
        "the generator wrote an invalid program:\n{src}\n{:?}",
        before.diagnostics
    );
    let out = match format(src) {
        Ok(o) => o,
        Err(d) => {
            return Err(TestCaseError::fail(format!(
                "format failed on\n{src}\n{d:?}"
            )));
        }
    };
    let after = parse(0, &out);
    prop_assert!(
        !after.has_errors(),
        "formatted output does not parse:\n{out}"
    );
    let (a, b) = (before.module.expr.as_ref(), after.module.expr.as_ref());
    prop_assert!(
        a.zip(b).is_some_and(|(a, b)| same_expr(a, b)),
        "tree changed:\n{src}\n---\n{out}"
    );
    prop_assert_eq!(
        shape(src),
        shape(&out),
        "tree changed:\n{}\n---\n{}",
        src,
        out
    );
    prop_assert_eq!(
        comment_texts(&before.module.comments),
        comment_texts(&after.module.comments)
    );
    prop_assert!(out.ends_with('\n') && !out.ends_with("\n\n"));
    prop_assert!(
        out.lines().all(|l| !l.ends_with(' ')) || src.contains("''"),
        "trailing blanks:\n{out}"
    );
    let again = format(&out).map_err(|d| TestCaseError::fail(format!("{d:?}")))?;
    prop_assert_eq!(&again, &out, "not idempotent:\n{}\n---\n{}", src, out);
    Ok(())
}

/// Defines every name the generator uses, so that many programs evaluate.
const PRELUDE: &str = "let a = 1; b = 2; x = 3; foo = \"s\"; bar_baz = [ 1, 2 ]; \
    x' = { a = 1; name = \"n\"; }; _u = null; stack = true; main = y: y; \
    a_rather_long_identifier_name = 4; another_quite_long_identifier_too = { b = 5; }; in ";

/// The value as JSON text, or the error's code and message.
fn outcome(text: &str) -> Result<String, String> {
    let arena = ModuleArena::new();
    let mut options = Options::new(unik_lang::Target::Unix);
    options.max_steps = 200_000;
    let ev = Evaluator::new(&arena, options);
    let describe = |s: Stop| match s {
        Stop::Error(d) => format!("{} {}", d.code, d.message),
        Stop::Poison => "poison".to_string(),
    };
    let (_, v) = ev.eval_root(std::path::Path::new("/nonexistent/prop.unik"), text);
    let v = v.map_err(describe)?;
    to_json(&ev, &v).map(|j| j.to_string()).map_err(describe)
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn random_programs_format_faithfully(g in document(), noise in vec(0u8..16, 0..48)) {
        check(&render(&g, &noise))?;
    }

    #[test]
    fn random_programs_without_noise(g in document()) {
        check(&render(&g, &[]))?;
    }

    #[test]
    fn random_programs_evaluate_the_same(g in program(), noise in vec(0u8..16, 0..24)) {
        let src = format!("{PRELUDE}{}", render(&g, &noise));
        let out = format(&src).map_err(|d| TestCaseError::fail(format!("{d:?}")))?;
        prop_assert_eq!(outcome(&src), outcome(&out), "value changed:\n{}\n---\n{}", src, out);
    }
}

//! The grammar parses without exponential backtracking. pest's call limit
//! is process-wide, so this test has its own binary: under a budget that a
//! linear parse needs a fraction of, an exponential one fails outright.

use std::num::NonZeroUsize;

fn parses_within_budget(src: &str) -> bool {
    let parsed = unik_lang::syntax::parse(0, src);
    parsed.diagnostics.is_empty()
}

#[test]
fn nested_pattern_defaults_are_linear() {
    pest::set_call_limit(NonZeroUsize::new(2_000_000));
    // `{ a ? { a ? … 1 }: a }: a` nested 40 deep: 2^40 steps if a pattern
    // were parsed once per lambda-head alternative.
    let mut src = String::from("1");
    for _ in 0..40 {
        src = format!("{{ a ? {src} }}: a");
    }
    assert!(
        parses_within_budget(&src),
        "nested defaults exceeded the call budget"
    );
    let mut src = String::from("x");
    for _ in 0..40 {
        src = format!("(y: {src}) 1");
    }
    assert!(
        parses_within_budget(&src),
        "nested lambdas exceeded the call budget"
    );
    pest::set_call_limit(None);
}

use proptest::prelude::*;
use unik_rt::bootargs::{join, split};

#[test]
fn spaces_are_escaped() {
    let args = ["--name=hello world", "--path=C:\\x", "plain"];
    let line = join(&args);
    assert_eq!(line, "--name=hello\\ world --path=C:\\\\x plain");
    assert_eq!(split(&line), args);
}

#[test]
fn split_collapses_space_runs_and_keeps_a_trailing_backslash() {
    assert_eq!(split("  a   b\\  c\\"), vec!["a", "b ", "c\\"]);
    assert!(split("   ").is_empty());
}

proptest! {
    #[test]
    fn join_then_split_round_trips(args in prop::collection::vec("[ a-z\\\\=\\-\t]{1,12}|\\PC{1,8}", 0..8)) {
        prop_assert_eq!(split(&join(&args)), args);
    }

    #[test]
    fn split_never_yields_empty_args(line in "\\PC{0,40}") {
        prop_assert!(split(&line).iter().all(|a| !a.is_empty()));
    }
}

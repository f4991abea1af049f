//! Resolver benchmark: synthetic configurations of N devices, checked for
//! all seven targets as `unikc check --all-targets` does, and one target at
//! a time for comparison. Prints times; asserts nothing.
//!
//! `cargo run --release -p unik-resolver --example bench [N…]`
//!
//! The configuration builds, in the language itself, a balanced tree of
//! `pair : t @-> t @-> t` applications over N/2 distinct leaves; every leaf
//! is a `match_impl` on the target between two implementations (so typing
//! visits both) that each need a crate with bounds and a runtime key.

// The allocator of the `unikc` binary, so that figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::Path;
use std::time::{Duration, Instant};
use unik_lang::Target;
use unik_resolver::session::{self, Matrix, Request};

fn config(devices: usize) -> String {
    let leaves = (devices / 2).max(1);
    format!(
        r#"let
  t = typ "t";
  k = key "level" {{ type = "int"; default = 1; stage = "runtime"; doc = "a runtime key"; }};
  rt = package "bench-rt" {{ min = "1.0.0"; max = "2.0.0"; }};
  leaf_a = i: impl {{ name = "leaf_a"; module = "bench::A"; type = t; keys = [ k ];
                     packages = [ rt ]; params = {{ inherit i; }};
                     connect = "{{module}}::connect({{param:i}}, {{key:level}})"; doc = "a leaf"; }};
  leaf_b = i: impl {{ name = "leaf_b"; module = "bench::B"; type = t;
                     packages = [ (package "bench-rt" {{ min = "1.2.0"; max = "2.0.0"; }}) ];
                     params = {{ inherit i; }}; connect = "{{module}}::connect({{param:i}})"; doc = "a leaf"; }};
  leaf = i: match_impl target {{ unix = leaf_a i; default = leaf_b i; }};
  pair = impl {{ name = "pair"; module = "bench::Pair"; type = t @-> t @-> t;
                connect = "{{module}}::connect({{0}}, {{1}})"; doc = "a pair"; packages = [ rt ]; }};
  tree = lo: hi:
    if hi - lo == 1 then leaf lo
    else let mid = lo + (hi - lo) / 2; in pair $ tree lo mid $ tree mid hi;
  main = foreign "bench::Main" (console @-> t @-> job);
in
register "bench" [ main $ default_console $ tree 0 {leaves} ]
"#
    )
}

/// The median of `runs` measurements (the first run warms up and is
/// dropped when there are more than one).
fn median(runs: usize, mut f: impl FnMut() -> Duration) -> Duration {
    if runs > 1 {
        f();
    }
    let mut times: Vec<Duration> = (0..runs).map(|_| f()).collect();
    times.sort();
    times[runs / 2]
}

/// Wall time of `session::run` for `matrix`, as `unikc check` calls it
/// (`model` false), or as `describe` and `build` do (true).
fn check(file: &Path, matrix: Matrix, model: bool) -> (Duration, usize, usize) {
    let mut req = Request::new(file, matrix);
    req.max_steps = u64::MAX;
    req.model = model;
    let start = Instant::now();
    let s = session::run(&req).expect("the benchmark configuration is readable");
    let took = start.elapsed();
    assert_eq!(s.errors(), 0, "{:?}", s.diagnostics);
    let nodes = s.targets[0]
        .1
        .resolved
        .as_ref()
        .map_or(0, |g| g.nodes.len());
    assert_eq!(model, nodes > 0);
    (took, nodes, s.evaluations)
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![1_000, 10_000, 100_000]
    } else {
        sizes
    };
    println!("Median wall times of `unikc check --all-targets` (session::run), catalogue included");
    println!("  matrix: the 7 targets in one run (one evaluation and typing serve them all)");
    println!("  one by one: 7 runs of `-t TARGET`, the comparison");
    println!("  with graphs: the matrix building every target's resolved graph (`describe`)");
    println!(
        "devices  nodes/target  evaluations  matrix ms  µs/device  one by one ms  one by one / matrix  with graphs ms"
    );
    let dir = tempfile::tempdir().expect("a temporary directory");
    for n in sizes {
        let file = dir.path().join(format!("bench-{n}.unik"));
        std::fs::write(&file, config(n)).expect("writable temporary directory");
        let runs = if n <= 10_000 { 7 } else { 3 };
        let (_, nodes, evaluations) = check(&file, Matrix::All, true);
        let matrix = median(runs, || check(&file, Matrix::All, false).0);
        let alone = median(runs, || {
            Target::ALL
                .iter()
                .map(|t| check(&file, Matrix::Only(vec![*t]), false).0)
                .sum()
        });
        let graphs = median(runs, || check(&file, Matrix::All, true).0);
        println!(
            "{n:>7}  {nodes:>12}  {evaluations:>11}  {:>9}  {:>9.2}  {:>13}  {:>19.2}  {:>14}",
            ms(matrix),
            matrix.as_secs_f64() * 1e6 / n as f64,
            ms(alone),
            alone.as_secs_f64() / matrix.as_secs_f64(),
            ms(graphs)
        );
    }
}

//! Resolver benchmark: synthetic configurations of N devices, evaluated and
//! resolved for all seven targets. Prints times; asserts nothing.
//!
//! `cargo run --release -p unik-resolver --example bench [N…]`
//!
//! The configuration builds, in the language itself, a balanced tree of
//! `pair : t @-> t @-> t` applications over N/2 distinct leaves; every leaf
//! is a `match_impl` on the target between two implementations (so typing
//! visits both) that each need a crate with bounds and a runtime key.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};
use unik_lang::diag::SourceMap;
use unik_lang::eval::{Evaluator, ModuleArena, Options, TARGETS, Value};
use unik_resolver::session::load_catalogue;
use unik_resolver::{Input, resolve};

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

/// CPU time of this thread (Linux `schedstat`), so that other processes on
/// a shared machine do not inflate the figures; wall time elsewhere.
fn cpu_now() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

struct Clock {
    wall: Instant,
    cpu: Option<Duration>,
}

impl Clock {
    fn start() -> Clock {
        Clock {
            wall: Instant::now(),
            cpu: cpu_now(),
        }
    }
    /// CPU time since start when available, else wall time.
    fn elapsed(&self) -> Duration {
        match (self.cpu, cpu_now()) {
            (Some(a), Some(b)) => b - a,
            _ => self.wall.elapsed(),
        }
    }
}

struct Times {
    eval: Duration,
    resolve: Duration,
    nodes: usize,
}

fn run(devices: usize) -> Times {
    let text = config(devices);
    let dir = std::env::temp_dir();
    let path = dir.join(format!("unik-bench-{devices}.unik"));
    let keys = BTreeMap::new();
    let mut t = Times {
        eval: Duration::ZERO,
        resolve: Duration::ZERO,
        nodes: 0,
    };
    // One arena for the matrix, as `unikc check` does: files are parsed once.
    let arena = ModuleArena::new();
    for target in TARGETS {
        let mut options = Options::new(target);
        options.max_steps = u64::MAX;
        let ev = Evaluator::with_sources(&arena, options, SourceMap::new());
        let start = Clock::start();
        load_catalogue(&ev).unwrap_or_else(|_| panic!("catalogue"));
        let (_, v) = ev.eval_root(&path, &text);
        let Ok(Value::Register(reg)) = v else {
            panic!("the benchmark configuration must evaluate to a register");
        };
        t.eval += start.elapsed();
        let sources = ev.sources.borrow().clone();
        let start = Clock::start();
        let out = resolve(&Input {
            register: &reg,
            target,
            sources: &sources,
            keys: &keys,
            keys_read: &ev.keys_read(),
            root_dir: Path::new("/"),
        });
        t.resolve += start.elapsed();
        let g = out
            .resolved
            .unwrap_or_else(|| panic!("{:?}", out.diagnostics));
        t.nodes = g.nodes.len();
        drop(reg);
    }
    t
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
    let unit = if cpu_now().is_some() { "CPU" } else { "wall" };
    println!("{unit} times summed over the 7 targets (eval includes loading the catalogue)");
    println!(
        "devices  nodes/target  eval ms  resolve ms  total ms  total µs/device  per target ms"
    );
    for n in sizes {
        // One warm-up run for the smallest sizes keeps allocator effects out.
        if n <= 10_000 {
            run(n);
        }
        let t = run(n);
        let total = t.eval + t.resolve;
        println!(
            "{n:>7}  {:>12}  {:>7}  {:>10}  {:>8}  {:>15.2}  {:>13}",
            t.nodes,
            ms(t.eval),
            ms(t.resolve),
            ms(total),
            total.as_secs_f64() * 1e6 / n as f64,
            ms(total / 7)
        );
    }
}

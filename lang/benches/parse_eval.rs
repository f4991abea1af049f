//! Parse + evaluate a generated 10,000-line configuration and print the
//! time and lines per second (target: under 50 ms). Run with
//! `cargo bench -p unik-lang --bench parse_eval`.

use std::fmt::Write;
use std::path::Path;
use std::time::Instant;
use unik_lang::eval::{Evaluator, ModuleArena, Options, to_json};

/// A realistic mix: keys, attribute sets, lists, functions, strings, maps.
fn generate(lines: usize) -> String {
    let mut s = String::from("# generated benchmark input\nlet\n");
    let mut n = 0;
    let mut i = 0;
    while n < lines - 4 {
        match i % 5 {
            0 => {
                let _ = writeln!(
                    s,
                    "  port{i} = key \"port{i}\" {{ type = \"int\"; default = {i}; doc = \"port {i}\"; }};"
                );
                n += 1;
            }
            1 => {
                let _ = writeln!(
                    s,
                    "  cfg{i} = {{\n    name = \"dev{i}\";\n    size = {i} * 512 + 7;\n    tags = [ \"a\", \"b{i}\" ];\n  }};"
                );
                n += 5;
            }
            2 => {
                let _ = writeln!(s, "  f{i} = {{ a, b ? {i}, ... }}: a + b;");
                n += 1;
            }
            3 => {
                let _ = writeln!(
                    s,
                    "  s{i} = \"item-${{toString (f{} {{ a = {i}; }})}}\";",
                    i - 1
                );
                n += 1;
            }
            _ => {
                let _ = writeln!(s, "  l{i} = map (x: x + 1) [ {i}, {}, {} ];", i + 1, i + 2);
                n += 1;
            }
        }
        i += 1;
    }
    s.push_str("in\n{\n");
    for j in 0..i {
        let name = match j % 5 {
            0 => format!("port{j}"),
            1 => format!("cfg{j}"),
            2 => continue,
            3 => format!("s{j}"),
            _ => format!("l{j}"),
        };
        let _ = write!(s, " inherit {name};");
    }
    s.push_str("\n}\n");
    s
}

fn main() {
    let src = generate(10_000);
    let lines = src.lines().count();
    let path = Path::new("/bench/generated.unik");
    let mut parse_ms = Vec::new();
    let mut total_ms = Vec::new();
    for _ in 0..11 {
        let t0 = Instant::now();
        let parsed = unik_lang::syntax::parse(0, &src);
        let t1 = Instant::now();
        assert!(
            parsed.diagnostics.is_empty(),
            "{:?}",
            parsed.diagnostics.first()
        );
        drop(parsed);
        let arena = ModuleArena::new();
        let ev = Evaluator::new(&arena, Options::new(unik_lang::Target::Unix));
        let (_, v) = ev.eval_root(path, &src);
        let json = to_json(&ev, &v.expect("evaluates")).expect("forces");
        let t2 = Instant::now();
        assert!(json.as_object().is_some_and(|o| o.len() > 1000));
        parse_ms.push((t1 - t0).as_secs_f64() * 1e3);
        // The evaluation includes its own parse and scope check.
        total_ms.push((t2 - t1).as_secs_f64() * 1e3);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    // Both parsers on the same input in the same run, so that the ratio
    // holds on a loaded machine.
    let mut pest_ms = Vec::new();
    let mut fast_ms = Vec::new();
    for _ in 0..11 {
        let t0 = Instant::now();
        let slow = unik_lang::syntax::parse_pest(0, &src);
        let t1 = Instant::now();
        let fast = unik_lang::syntax::parse_fast(&src);
        let t2 = Instant::now();
        assert!(!slow.has_errors() && fast.is_some());
        pest_ms.push((t1 - t0).as_secs_f64() * 1e3);
        fast_ms.push((t2 - t1).as_secs_f64() * 1e3);
    }
    let p = median(&mut parse_ms);
    let (ps, fs) = (median(&mut pest_ms), median(&mut fast_ms));
    println!("pest parser:                {ps:8.2} ms");
    println!(
        "hand-written parser:        {fs:8.2} ms  ({:.1}x faster)",
        ps / fs
    );
    let t = median(&mut total_ms);
    println!("input: {lines} lines, {} bytes", src.len());
    println!(
        "parse only:                 {p:8.2} ms  ({:.0} lines/s)",
        lines as f64 / p * 1e3
    );
    println!(
        "parse + check + evaluate:   {t:8.2} ms  ({:.0} lines/s)",
        lines as f64 / t * 1e3
    );
    println!(
        "target: under 50 ms -> {}",
        if t < 50.0 { "met" } else { "NOT met" }
    );
}

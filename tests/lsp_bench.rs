//! Language-server latency, run by `benches/lsp.sh` (ignored by `cargo
//! test`): time from an incremental `didChange` to the server's
//! `publishDiagnostics` — the quick pass (syntax and scope) and the full
//! check (evaluation and resolution on all seven targets) — on a generated
//! 2,000-line configuration and on an example. Prints figures, asserts
//! nothing about time.

mod lsp_client;

use lsp_client::{Client, Scratch};
use serde_json::json;
use std::time::{Duration, Instant};

/// A configuration of `n` keyed devices (15 lines each) used by one job.
fn config(n: usize) -> String {
    let mut out = String::from("# Generated for the language-server benchmark.\nlet\n");
    for i in 0..n {
        out.push_str(&format!(
            "  level_{i} = key \"level-{i}\" {{\n    type = \"int\";\n    default = {i};\n    stage = \"runtime\";\n    doc = \"Level of device {i}\";\n  }};\n  dev_{i} = impl {{\n    name = \"dev_{i}\";\n    module = \"bench::dev{i}\";\n    type = console @-> console;\n    keys = [ level_{i} ];\n    packages = [ (package \"bench-{}\" {{ min = \"1.{}.0\"; max = \"2.0.0\"; }}) ];\n    connect = \"{{module}}::connect({{0}}, {{key:level-{i}}})\";\n    doc = \"Device number {i}.\";\n  }};\n",
            i % 7,
            i % 5
        ));
    }
    let deps: Vec<String> = (0..n)
        .map(|i| format!("dev_{i} $ default_console"))
        .collect();
    out.push_str(&format!(
        "  main = foreign \"bench::Main\" {{\n    deps = [ {} ];\n  }} (console @-> job);\nin\nregister \"bench\" [ main $ default_console ]\n",
        deps.join(", ")
    ));
    out
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn summary(name: &str, mut v: Vec<Duration>) {
    v.sort();
    println!(
        "{name:<44} min {:>7.1} ms  median {:>7.1} ms  max {:>7.1} ms  ({} edits)",
        ms(v[0]),
        ms(v[v.len() / 2]),
        ms(v[v.len() - 1]),
        v.len()
    );
}

/// Edits the digit at (`line`, `col`) `runs` times, timing the quick and
/// the full publication after each edit.
fn measure(
    c: &mut Client,
    file: &std::path::Path,
    line: u32,
    col: u32,
    runs: usize,
) -> (Vec<Duration>, Vec<Duration>) {
    let mut quick = Vec::new();
    let mut full = Vec::new();
    for i in 0..runs {
        let digit = ["7", "8"][i % 2];
        let range = json!({ "start": { "line": line, "character": col }, "end": { "line": line, "character": col + 1 } });
        let t0 = Instant::now();
        c.edit(file, i as i32 + 2, range, digit);
        c.next_diagnostics(file);
        quick.push(t0.elapsed());
        c.next_diagnostics(file);
        full.push(t0.elapsed());
    }
    (quick, full)
}

#[test]
#[ignore = "a benchmark: run benches/lsp.sh"]
fn didchange_to_publishdiagnostics() {
    let exe =
        std::env::var("UNIKC_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_unikc").to_string());
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(20);
    let s = Scratch::new();
    let text = config(133);
    let lines = text.lines().count();
    let file = s.write("config.unik", &text);
    let mut c = Client::start_with(&exe, &s.path("cache"));
    c.open(&file, &text);
    c.diagnostics_until(&file, |_| true);
    let first = c.next_diagnostics(&file);
    assert!(
        first.is_empty(),
        "the generated file must check cleanly: {first:?}"
    );
    // The `default = 66;` line of device 66, in the middle of the file.
    let line = text
        .lines()
        .position(|l| l.contains("default = 66;"))
        .unwrap() as u32;
    let col = text.lines().nth(line as usize).unwrap().find("66").unwrap() as u32;
    println!("unikc lsp: {exe}");
    let (quick, full) = measure(&mut c, &file, line, col, runs);
    summary(
        &format!("{lines}-line file, quick pass (syntax + scope)"),
        quick,
    );
    summary(&format!("{lines}-line file, full check (7 targets)"), full);
    c.shutdown();

    let example = include_str!("../examples/network/config.unik");
    let file = s.write("network/config.unik", example);
    let mut c = Client::start_with(&exe, &s.path("cache"));
    c.open(&file, example);
    c.next_diagnostics(&file);
    c.next_diagnostics(&file);
    let line = example
        .lines()
        .position(|l| l.contains("default = 8080"))
        .unwrap() as u32;
    let col = example
        .lines()
        .nth(line as usize)
        .unwrap()
        .find("8080")
        .unwrap() as u32;
    let (quick, full) = measure(&mut c, &file, line, col, runs);
    summary("examples/network (23 lines), quick pass", quick);
    summary("examples/network (23 lines), full check", full);
    c.shutdown();
}

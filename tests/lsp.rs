//! Protocol tests: JSON-RPC over stdio to the real `unikc lsp` process.

mod lsp_client;

use lsp_client::{Client, Scratch, pos, uri};
use serde_json::{Value, json};

fn codes(diags: &[Value]) -> Vec<String> {
    diags
        .iter()
        .map(|d| d["code"].as_str().unwrap_or("").to_string())
        .collect()
}

fn range(line: u32, start: u32, end: u32) -> Value {
    json!({ "start": { "line": line, "character": start }, "end": { "line": line, "character": end } })
}

fn hover_text(h: &Value) -> String {
    h["contents"]["value"].as_str().unwrap_or("").to_string()
}

/// A `unik.lock` locking `crates` (name, version) on unix, as codegen's
/// lock module writes it (the server reads it with the same module).
fn lock_text(crates: &[(&str, &str)]) -> String {
    use unik_codegen::lock::{Inputs, Lock, LockedCrate, TargetLock, Toolchain};
    let toolchain = Toolchain {
        rustc: "1.95.0".into(),
        commit_hash: "0".into(),
        commit_date: "2026-01-01".into(),
        host: "x86_64-unknown-linux-gnu".into(),
        llvm: "20".into(),
        cargo: "cargo 1.95.0".into(),
    };
    let mut lock = Lock::new("config.unik", toolchain);
    let crates = crates
        .iter()
        .map(|(name, version)| LockedCrate {
            name: name.to_string(),
            version: version.to_string(),
            source: "registry+https://github.com/rust-lang/crates.io-index".into(),
            checksum: None,
            dependencies: Vec::new(),
            original: None,
        })
        .collect();
    let inputs = Inputs {
        files: Default::default(),
        catalogue: String::new(),
        runtime: String::new(),
        keys: Default::default(),
    };
    lock.targets.insert(
        "unix".into(),
        TargetLock {
            inputs,
            graph: Vec::new(),
            crates,
            unused_patches: Vec::new(),
            cargo_lock_version: 4,
        },
    );
    lock.render()
}

fn labels(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["label"].as_str().unwrap_or("").to_string())
        .collect()
}

const BROKEN: &str = "let
  a = 1 +;
  b = { x = ; };
  c = (2 * );
  main = foreign \"hello::Hello\" (console @-> job);
in
register \"hello\" [ main $ default_console ]
";

const FIXED: &str = "let
  main = foreign \"hello::Hello\" (console @-> job);
in
register \"hello\" [ main $ default_console ]
";

#[test]
fn several_syntax_errors_at_once_then_cleared() {
    let s = Scratch::new();
    let cache = s.path("cache");
    let file = s.write("config.unik", BROKEN);
    let mut c = Client::start(&cache);
    c.open(&file, BROKEN);
    let diags = c.next_diagnostics(&file);
    assert_eq!(codes(&diags), ["E0101", "E0101", "E0101"], "{diags:#?}");
    assert_eq!(diags[0]["range"], range(1, 9, 10));
    assert_eq!(diags[1]["range"], range(2, 12, 13));
    assert_eq!(diags[2]["range"], range(3, 11, 12));
    assert_eq!(diags[0]["message"], "expected an expression, found `;`");
    assert_eq!(diags[2]["message"], "expected an expression, found `)`");
    for d in &diags {
        assert_eq!(d["severity"], 1);
        assert_eq!(d["source"], "unikc");
        // The code links to its explanation, the text `unikc explain` prints.
        let href = d["codeDescription"]["href"].as_str().expect("an href");
        let path = href.strip_prefix("file://").expect("a file URI");
        assert!(path.starts_with(cache.to_str().unwrap()), "{href}");
        let text = std::fs::read_to_string(path).expect("the explanation was written");
        assert!(text.contains("E0101"), "{text}");
        let related = d["relatedInformation"]
            .as_array()
            .expect("related locations");
        assert!(
            related
                .iter()
                .any(|r| r["message"] == "this binding is broken"),
            "{d}"
        );
    }
    // The full check (evaluation, every target) agrees and reports it once more.
    let full = c.next_diagnostics(&file);
    assert_eq!(codes(&full), ["E0101", "E0101", "E0101"], "{full:#?}");

    c.change(&file, 2, FIXED);
    let diags = c.diagnostics_until(&file, |d| d.is_empty());
    assert!(diags.is_empty());
    c.shutdown();
}

#[test]
fn type_errors_say_which_targets_and_point_at_both_sides() {
    let s = Scratch::new();
    let text = "let
  main = foreign \"hello::Hello\" (console @-> job);
  dev = if target == \"hvt\" then default_time else default_console;
in
register \"hello\" [ main $ dev ]
";
    let file = s.write("config.unik", text);
    let mut c = Client::start(&s.path("cache"));
    c.open(&file, text);
    let diags = c.diagnostics_until(&file, |d| codes(d).contains(&"E0301".to_string()));
    let d = diags.iter().find(|d| d["code"] == "E0301").expect("E0301");
    let msg = d["message"].as_str().unwrap();
    assert!(
        msg.starts_with("device type mismatch: expected `console`, found `time` (target hvt)"),
        "{msg}"
    );
    assert!(
        msg.contains("\nhelp: pass a device of type `console`"),
        "{msg}"
    );
    // The argument, then the functor's declaration as a related location.
    assert_eq!(d["range"]["start"], pos(text, "dev ]", 0, 0));
    let related = d["relatedInformation"].as_array().unwrap();
    let decl = related
        .iter()
        .find(|r| {
            r["message"]
                .as_str()
                .unwrap()
                .contains("expects `console` here")
        })
        .expect("the declaration");
    assert_eq!(decl["location"]["uri"], uri(&file));
    assert_eq!(
        decl["location"]["range"]["start"],
        pos(text, "foreign", 0, 0)
    );
    c.shutdown();
}

const NETWORK: &str = include_str!("../examples/network/config.unik");

#[test]
fn hover_answers_for_devices_keys_and_builtins() {
    let s = Scratch::new();
    let file = s.write("config.unik", NETWORK);
    // A lock beside the file adds locked versions.
    s.write("unik.lock", &lock_text(&[("bytes", "1.10.1")]));
    let mut c = Client::start(&s.path("cache"));
    c.open(&file, NETWORK);

    let h = hover_text(&c.hover(&file, pos(NETWORK, "stack ]", 0, 1)));
    assert!(h.starts_with("```unik\nstack : stackv4\n```"), "{h}");
    assert!(
        h.contains("`socket_stackv4` (`unik_unix::stack`) on unix"),
        "{h}"
    );
    assert!(h.contains("**Targets**: every target"), "{h}");
    assert!(h.contains("- `unik-unix` `>=0.1.0, <0.2.0` on unix"), "{h}");

    let h = c.hover(&file, pos(NETWORK, "main $", 0, 1));
    assert_eq!(h["range"], range(22, 21, 25));
    let h = hover_text(&h);
    assert!(h.starts_with("```unik\nmain : stackv4 @-> job\n```"), "{h}");
    assert!(
        h.contains("- `bytes` `>=1.5.0, <2.0.0` — locked 1.10.1"),
        "{h}"
    );

    let h = hover_text(&c.hover(&file, pos(NETWORK, "port, connections ]", 0, 0)));
    assert!(h.contains("port : key \"port\""), "{h}");
    assert!(h.contains("`--port` : `int` — runtime key"), "{h}");
    assert!(h.contains("default: `8080`"), "{h}");
    assert!(h.contains("TCP port to listen on"), "{h}");

    let h = hover_text(&c.hover(&file, pos(NETWORK, "key \"port\"", 0, 1)));
    assert!(
        h.starts_with("```unik\nkey NAME { type; default; doc; stage; }\n```"),
        "{h}"
    );

    let h = hover_text(&c.hover(&file, pos(NETWORK, "default_network", 0, 3)));
    assert!(
        h.starts_with("```unik\ndefault_network : network\n```"),
        "{h}"
    );
    assert!(h.contains("*catalogue: network.unik*"), "{h}");

    // Nothing to say about a keyword.
    assert_eq!(c.hover(&file, pos(NETWORK, "in\n", 0, 0)), Value::Null);
    c.shutdown();
}

#[test]
fn definition_of_locals_imports_and_catalogue_entries() {
    let s = Scratch::new();
    let cache = s.path("cache");
    let lib = "{ console_dev = default_console; }\n";
    let text = "let
  lib = import ./lib.unik;
  main = foreign \"hello::Hello\" (console @-> job);
in
register \"hello\" [ main $ lib.console_dev ]
";
    s.write("lib.unik", lib);
    let file = s.write("config.unik", text);
    let mut c = Client::start(&cache);
    c.open(&file, text);

    let d = c.definition(&file, pos(text, "main $", 0, 2));
    assert_eq!(d["uri"], uri(&file));
    assert_eq!(d["range"], range(2, 2, 6));

    let d = c.definition(&file, pos(text, "./lib.unik", 0, 3));
    assert_eq!(d["uri"], uri(&s.path("lib.unik")));

    // A catalogue entry opens its source, written to the cache directory.
    let d = c.definition(&file, pos(lib, "default_console", 0, 0));
    assert_eq!(
        d,
        Value::Null,
        "the position is in config.unik, not lib.unik"
    );
    c.open(&s.path("lib.unik"), lib);
    let d = c.definition(&s.path("lib.unik"), pos(lib, "default_console", 0, 2));
    let target = d["uri"]
        .as_str()
        .expect("a location")
        .strip_prefix("file://")
        .unwrap()
        .to_string();
    assert!(target.starts_with(cache.to_str().unwrap()), "{target}");
    let source = std::fs::read_to_string(&target).expect("the catalogue file");
    let line = d["range"]["start"]["line"].as_u64().unwrap() as usize;
    let col = d["range"]["start"]["character"].as_u64().unwrap() as usize;
    assert!(
        source.lines().nth(line).unwrap()[col..].starts_with("default_console ="),
        "{d}"
    );
    c.shutdown();
}

#[test]
fn completion_filters_devices_by_the_expected_type() {
    let s = Scratch::new();
    let text = "let
  main = foreign \"hello::Hello\" (console @-> time @-> job);
  port = key \"port\" { type = \"int\"; doc = \"p\"; };
in
register \"hello\" [ main $ default_console $ default_time ]
";
    let file = s.write("config.unik", text);
    let mut c = Client::start(&s.path("cache"));
    c.open(&file, text);
    c.next_diagnostics(&file);

    // The first argument of `main` is a console, the second a clock.
    let items = labels(&c.completion(&file, pos(text, "default_console $", 0, 0)));
    assert!(items.contains(&"default_console".to_string()), "{items:?}");
    assert!(!items.contains(&"default_time".to_string()), "{items:?}");
    let items = labels(&c.completion(&file, pos(text, "default_time ]", 0, 0)));
    assert!(items.contains(&"default_time".to_string()), "{items:?}");
    assert!(!items.contains(&"default_console".to_string()), "{items:?}");

    // While typing (the file does not parse), the last good parse still
    // knows `main`'s type.
    let typing = text.replace("default_time ]", "de");
    c.change(&file, 2, &typing);
    let items = c.completion(&file, pos(&typing, "de\n", 0, 2));
    let l = labels(&items);
    assert!(l.contains(&"default_time".to_string()), "{l:?}");
    assert!(!l.contains(&"default_console".to_string()), "{l:?}");
    let time = items.iter().find(|i| i["label"] == "default_time").unwrap();
    assert_eq!(time["detail"], "time");

    // Names in scope, key fields, target names, key types.
    let items = labels(&c.completion(&file, pos(&typing, "main $", 0, 1)));
    for n in ["main", "port", "map", "default_console", "is_unix"] {
        assert!(items.contains(&n.to_string()), "{n} in {items:?}");
    }
    let t = "let k = key \"k\" { type = \"\"; doc = \"\"; }; in if target == \"\" then 1 else 2";
    let f2 = s.write("other.unik", t);
    c.open(&f2, t);
    let items = labels(&c.completion(&f2, pos(t, "type = \"", 0, 8)));
    assert_eq!(items, ["int", "string", "bool"]);
    let items = labels(&c.completion(&f2, pos(t, "doc", 0, 0)));
    assert!(
        items.contains(&"stage".to_string()) && items.contains(&"default".to_string()),
        "{items:?}"
    );
    let items = labels(&c.completion(&f2, pos(t, "== \"", 0, 4)));
    assert_eq!(
        items,
        ["unix", "hvt", "spt", "virtio", "muen", "genode", "xen"]
    );
    c.shutdown();
}

#[test]
fn formatting_symbols_and_inlay_hints() {
    let s = Scratch::new();
    let messy = "let   main=foreign \"hello::Hello\" (console @-> job);\n  c = default_console;\nin register \"hello\" [main $ c]";
    let file = s.write("config.unik", messy);
    s.write("unik.lock", &lock_text(&[("bytes", "1.10.1")]));
    let mut c = Client::start(&s.path("cache"));
    c.open(&file, messy);
    let edits = c.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": uri(&file) }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    let edits = edits.as_array().expect("edits");
    assert_eq!(edits.len(), 1);
    assert_eq!(
        edits[0]["newText"],
        fmt_cli(messy),
        "the edit is `unikc fmt`'s output"
    );
    assert_eq!(
        edits[0]["range"]["end"],
        json!({ "line": 2, "character": 30 })
    );

    let syms = c.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": uri(&file) } }),
    );
    let names: Vec<&str> = syms
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["main", "c", "register \"hello\""]);

    let hints = c.request(
        "textDocument/inlayHint",
        json!({ "textDocument": { "uri": uri(&file) }, "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 9, "character": 0 } } }),
    );
    let hints: Vec<(Value, Value)> = hints
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["position"].clone(), h["label"].clone()))
        .collect();
    assert_eq!(
        hints,
        [
            (
                json!({ "line": 0, "character": 10 }),
                json!(": console @-> job")
            ),
            (json!({ "line": 1, "character": 3 }), json!(": console")),
        ]
    );

    // A package with a locked version gets a hint too.
    let text = "let\n  main = foreign \"a::B\" { packages = [ (package \"bytes\" { min = \"1.0.0\"; }) ]; } job;\nin\nregister \"a\" [ main ]\n";
    c.change(&file, 2, text);
    let hints = c.request(
        "textDocument/inlayHint",
        json!({ "textDocument": { "uri": uri(&file) }, "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 9, "character": 0 } } }),
    );
    let labels: Vec<&str> = hints
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, [": job", "locked 1.10.1"]);
    assert_eq!(hints[1]["position"], pos(text, "\"bytes\"", 0, 7));
    c.shutdown();
}

/// `unikc fmt`'s output (through the binary: the tests do not link the language crate).
fn fmt_cli(src: &str) -> String {
    let s = Scratch::new();
    let f = s.write("x.unik", src);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_unikc"))
        .arg("fmt")
        .arg(&f)
        .output()
        .expect("unikc fmt");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(&f).unwrap()
}

#[test]
fn the_last_good_parse_answers_while_the_file_is_broken() {
    let s = Scratch::new();
    let file = s.write("config.unik", NETWORK);
    let mut c = Client::start(&s.path("cache"));
    c.open(&file, NETWORK);
    // Break the file's structure at its start: nothing parses as a `let` any more.
    let broken = format!("(( ]{NETWORK}");
    c.change(&file, 2, &broken);
    let diags = c.diagnostics_until(&file, |d| !d.is_empty());
    assert!(codes(&diags).iter().all(|c| c == "E0101"), "{diags:#?}");
    let h = c.hover(&file, pos(&broken, "stack ]", 0, 1));
    assert!(
        hover_text(&h).starts_with("```unik\nstack : stackv4\n```"),
        "{h}"
    );
    assert_eq!(h["range"]["start"], pos(&broken, "stack ]", 0, 0));
    let d = c.definition(&file, pos(&broken, "port, connections ]", 0, 1));
    assert_eq!(d["range"]["start"], pos(&broken, "port = key", 0, 0));
    let items = labels(&c.completion(&file, pos(&broken, "stack ]", 0, 0)));
    assert!(items.contains(&"stack".to_string()), "{items:?}");
    c.shutdown();
}

#[test]
fn positions_are_utf16_in_non_ascii_text() {
    let s = Scratch::new();
    let text = "# ünï 😀\nlet\n  s = \"😀é\" + ;\n  greeting = \"héllo 😀\"; main = foreign \"hello::Hello\" (console @-> job);\nin\nregister \"hello\" [ main $ default_console ]\n";
    let file = s.write("config.unik", text);
    let mut c = Client::start(&s.path("cache"));
    c.open(&file, text);
    let diags = c.next_diagnostics(&file);
    assert_eq!(codes(&diags), ["E0101"]);
    // `;` follows `  s = "😀é" + ` — 14 UTF-16 units (the emoji counts two).
    assert_eq!(diags[0]["range"], range(2, 14, 15));
    // Hover after an emoji on the same line.
    let at = pos(text, "main =", 0, 1);
    assert_eq!(at, json!({ "line": 3, "character": 26 }));
    let h = hover_text(&c.hover(&file, at));
    assert!(h.contains("main : console @-> job"), "{h}");
    // An incremental edit addressed in UTF-16: the string `"😀é"` (five
    // units) becomes `1`, which moves the error to column 10.
    c.edit(&file, 2, range(2, 6, 11), "1");
    let diags = c.diagnostics_until(&file, |d| {
        codes(d) == ["E0101"] && d[0]["range"] == range(2, 10, 11)
    });
    assert_eq!(diags[0]["message"], "expected an expression, found `;`");
    c.shutdown();
}

#[test]
fn unsaved_imported_files_are_checked_from_the_editor() {
    let s = Scratch::new();
    let lib_path = s.write("lib.unik", "{ dev = default_console; }\n");
    let text = "let
  lib = import ./lib.unik;
  main = foreign \"hello::Hello\" (console @-> job);
in
register \"hello\" [ main $ lib.dev ]
";
    let file = s.write("config.unik", text);
    let mut c = Client::start(&s.path("cache"));
    c.open(&file, text);
    c.diagnostics_until(&file, |d| d.is_empty());
    // The buffer of lib.unik (not saved) now gives a clock: config.unik's
    // check reads the buffer.
    let lib = "{ dev = default_time; }\n";
    c.open(&lib_path, lib);
    let diags = c.diagnostics_until(&file, |d| codes(d) == ["E0301"]);
    assert!(
        diags[0]["message"]
            .as_str()
            .unwrap()
            .contains("found `time`")
    );
    // A syntax error in the buffer is shown in lib.unik itself.
    c.change(&lib_path, 2, "{ dev = ; }\n");
    let diags = c.diagnostics_until(&lib_path, |d| codes(d) == ["E0101"]);
    assert_eq!(diags[0]["range"], range(0, 8, 9));
    c.shutdown();
}

#[test]
fn bounds_conflicts_warnings_and_the_quick_pass() {
    let s = Scratch::new();
    let text = "let
  unused = 1;
  a = foreign \"a::A\" { packages = [ (package \"bytes\" { min = \"2.0.0\"; }) ]; } (console @-> job);
  b = foreign \"b::B\" { packages = [ (package \"bytes\" { max = \"1.5.0\"; }) ]; } (console @-> job);
in
register \"x\" [ a $ default_console, b $ default_console ]
";
    let file = s.write("config.unik", text);
    let mut c = Client::start(&s.path("cache"));
    c.open(&file, text);
    let diags = c.diagnostics_until(&file, |d| codes(d) == ["W0101", "E0502"]);
    let w = &diags[0];
    assert_eq!(w["severity"], 2, "a warning");
    assert_eq!(w["tags"], json!([1]), "marked unnecessary");
    assert_eq!(w["range"], range(1, 2, 8));
    let e = &diags[1];
    assert_eq!(e["severity"], 1);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .starts_with("the version bounds of crate `bytes` cannot be satisfied together"),
        "{e}"
    );
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("\nnote: `<1.5.0` at"),
        "{e}"
    );
    // Both bounds are related locations.
    let related: Vec<&str> = e["relatedInformation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["message"].as_str().unwrap())
        .collect();
    assert_eq!(related, ["`>=2.0.0` for a::A", "`<1.5.0` for b::B"]);

    // An edit above: the quick pass (first publication) already shows the
    // bounds error moved one line down, before the full check confirms it.
    c.edit(&file, 2, range(0, 0, 0), "# a new first line\n");
    let quick = c.next_diagnostics(&file);
    assert_eq!(codes(&quick), ["W0101", "E0502"], "{quick:#?}");
    assert_eq!(quick[0]["range"], range(2, 2, 8));
    assert_eq!(quick[1]["range"]["start"]["line"], 3);
    let full = c.next_diagnostics(&file);
    let places = |d: &[Value]| -> Vec<(Value, Value)> {
        d.iter()
            .map(|d| (d["code"].clone(), d["range"].clone()))
            .collect()
    };
    // (Notes written with line numbers are updated by the full check only.)
    assert_eq!(places(&quick), places(&full));
    c.shutdown();
}

/// Every third prefix of two examples (as if typed), with completion, hover
/// and definition at the cursor and inlay hints each time: the server
/// answers them all and never dies.
#[test]
fn typing_an_example_never_breaks_the_server() {
    let s = Scratch::new();
    let mut c = Client::start(&s.path("cache"));
    for (name, text) in [
        ("network", NETWORK),
        ("kv_ro", include_str!("../examples/kv_ro/config.unik")),
    ] {
        let file = s.write(&format!("{name}/config.unik"), "");
        c.open(&file, "");
        let mut version = 1;
        let cuts: Vec<usize> = (0..=text.len())
            .filter(|&i| text.is_char_boundary(i))
            .step_by(3)
            .collect();
        for &cut in &cuts {
            version += 1;
            let prefix = &text[..cut];
            c.change(&file, version, prefix);
            let end = pos(&format!("{prefix}\u{0}"), "\u{0}", 0, 0);
            c.completion(&file, end.clone());
            c.hover(&file, end.clone());
            c.definition(&file, end);
            // Evaluates the broken prefix's bindings.
            c.request(
                "textDocument/inlayHint",
                json!({ "textDocument": { "uri": uri(&file) },
                        "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 99, "character": 0 } } }),
            );
        }
        for req in ["textDocument/documentSymbol", "textDocument/formatting"] {
            c.request(
                req,
                json!({ "textDocument": { "uri": uri(&file) }, "options": { "tabSize": 2, "insertSpaces": true } }),
            );
        }
        // The whole file is back: no diagnostics (unused bindings aside).
        c.change(&file, version + 1, text);
        c.diagnostics_until(&file, |d| d.iter().all(|d| d["severity"] != 1));
    }
    c.shutdown();
}

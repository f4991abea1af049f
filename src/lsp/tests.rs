//! Fixture tests below the protocol, in the style of rust-analyzer and nil:
//! a fixture is the text of `config.unik` with `$0` at the cursor (or
//! several files, each after a line `#- NAME`; the one with the cursor is
//! opened), the analysis functions are
//! called directly on a [`World`] (no JSON-RPC, no process), and the
//! answer is rendered as text and compared with the expectation written
//! inline. `UPDATE_EXPECT=1 cargo test --bin unikc lsp::tests` rewrites
//! the expectations after an intended change.
//!
//! The end-to-end tests (`tests/lsp.rs`) cover the protocol itself.

use super::catalogue::Catalogue;
use super::complete;
use super::doc::Doc;
use super::requests::{self, info_detail};
use super::{World, uri};
use expect_test::{Expect, expect};
use lsp_types::{GotoDefinitionResponse, HoverContents, Position, Range};
use std::path::{Path, PathBuf};
use tempfile::TempDir;

const CURSOR: &str = "$0";

struct Fixture {
    world: World,
    /// The file holding the cursor, opened in the world.
    path: PathBuf,
    offset: u32,
    dir: TempDir,
}

impl Fixture {
    /// Writes every file of `text` into a fresh directory and opens the one
    /// with the cursor. Without `#- NAME` lines the text is `config.unik`.
    fn new(text: &str) -> Fixture {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut files: Vec<(String, String)> = Vec::new();
        for line in text.split_inclusive('\n') {
            match line.strip_prefix("#- ") {
                Some(name) => files.push((name.trim().to_string(), String::new())),
                None => {
                    if files.is_empty() {
                        files.push(("config.unik".into(), String::new()));
                    }
                    files.last_mut().expect("a file").1.push_str(line);
                }
            }
        }
        let cat = Catalogue::in_cache(Some(&dir.path().join("cache")));
        let mut world = World::new(cat);
        let mut cursor = None;
        for (name, body) in &files {
            let path = dir.path().join(name);
            let text = match body.find(CURSOR) {
                Some(at) => {
                    assert!(cursor.is_none(), "one cursor per fixture");
                    cursor = Some((path.clone(), at as u32));
                    body.replacen(CURSOR, "", 1)
                }
                None => body.clone(),
            };
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).expect("a fixture directory");
            }
            std::fs::write(&path, &text).expect("write a fixture file");
        }
        // Without a cursor, `config.unik` is the file opened.
        let (path, offset) = cursor.unwrap_or_else(|| (dir.path().join("config.unik"), 0));
        let text = std::fs::read_to_string(&path).expect("read back");
        let uri = uri::from_path(&path).expect("a file URI");
        world
            .docs
            .insert(path.clone(), Doc::new(uri, path.clone(), 0, text));
        Fixture {
            world,
            path,
            offset,
            dir,
        }
    }

    /// Opens `text` (with `$0`) as the new text of the cursor's file, the
    /// way an edit does: the fixture's text stays the last good parse.
    fn edit(&mut self, text: &str) {
        let at = text.find(CURSOR).expect("a `$0` cursor in the edit");
        self.offset = at as u32;
        let doc = self.world.docs.get_mut(&self.path).expect("the open file");
        doc.set_text(text.replacen(CURSOR, "", 1));
    }

    /// `s` with the fixture's directory written `$DIR`.
    fn clean(&self, s: &str) -> String {
        s.replace(&self.dir.path().display().to_string(), "$DIR")
    }

    fn doc(&self) -> &Doc {
        &self.world.docs[&self.path]
    }

    fn position(&self) -> Position {
        self.doc().now.position(self.offset)
    }

    /// A path as the expectations write it: relative to the fixture, or
    /// `<stdlib>/FILE` for the catalogue.
    fn show_path(&self, p: &Path) -> String {
        if let Some(f) = self.world.cat.stdlib_file_of(p) {
            return unik_stdlib::path_of(f);
        }
        p.strip_prefix(self.dir.path())
            .unwrap_or(p)
            .display()
            .to_string()
    }
}

/// The text `range` covers in `text`.
fn covered(text: &str, range: Range) -> String {
    let f = unik_lang::diag::SourceFile::new(PathBuf::new(), String::new(), text.to_string());
    let a = f.offset_of_lsp(range.start.line, range.start.character) as usize;
    let b = f.offset_of_lsp(range.end.line, range.end.character) as usize;
    text[a..b].to_string()
}

fn check_hover(fixture: &str, expect: Expect) {
    let f = Fixture::new(fixture);
    let actual = match requests::hover(&f.world, f.doc(), f.position()) {
        None => "no hover".to_string(),
        Some(h) => {
            let HoverContents::Markup(m) = h.contents else {
                panic!("hover is Markdown");
            };
            let on = h
                .range
                .map(|r| covered(f.doc().now.text(), r))
                .unwrap_or_default();
            format!("[{on}]\n{}", m.value)
        }
    };
    expect.assert_eq(&f.clean(&actual));
}

fn check_definition(fixture: &str, expect: Expect) {
    let f = Fixture::new(fixture);
    let actual = match requests::definition(&f.world, f.doc(), f.position()) {
        Some(GotoDefinitionResponse::Scalar(loc)) => {
            let path = uri::to_path(&loc.uri).expect("a file");
            let text = std::fs::read_to_string(&path)
                .ok()
                .or_else(|| (path == f.path).then(|| f.doc().now.text().to_string()))
                .unwrap_or_default();
            let r = loc.range;
            format!(
                "{} {}:{}-{}:{} {:?}",
                f.show_path(&path),
                r.start.line,
                r.start.character,
                r.end.line,
                r.end.character,
                covered(&text, r)
            )
        }
        Some(other) => format!("{other:?}"),
        None => "no definition".to_string(),
    };
    expect.assert_eq(&actual);
}

/// The items a client shows: those starting with the name being typed.
fn check_completion(fixture: &str, expect: Expect) {
    completion_of(&Fixture::new(fixture), expect);
}

/// Completion after the file (`before`, which parses) was edited into
/// `after`, which need not.
fn check_completion_after_edit(before: &str, after: &str, expect: Expect) {
    let mut f = Fixture::new(before);
    f.edit(after);
    completion_of(&f, expect);
}

fn completion_of(f: &Fixture, expect: Expect) {
    let before = &f.doc().now.text()[..f.offset as usize];
    let (_, prefix) = complete::context(before);
    let items = requests::completion(&f.world, f.doc(), f.position());
    let mut lines: Vec<String> = items
        .iter()
        .filter(|i| i.label.starts_with(&prefix))
        .map(|i| {
            let mut line = i.label.clone();
            if let Some(d) = &i.detail {
                line.push_str(&format!(" — {}", d.lines().next().unwrap_or("")));
            }
            if let Some(t) = &i.insert_text {
                line.push_str(&format!(" ⇒ {t}"));
            }
            line
        })
        .collect();
    lines.sort();
    let actual = if lines.is_empty() {
        "no completion".to_string()
    } else {
        lines.join("\n")
    };
    expect.assert_eq(&actual);
}

/// The file with every hint written in `«…»` where the editor shows it.
fn check_inlay_hints(fixture: &str, expect: Expect) {
    let f = Fixture::new(fixture);
    let doc = f.doc();
    let text = doc.now.text();
    let whole = Range::new(Position::new(0, 0), doc.now.position(text.len() as u32));
    let hints = requests::inlay_hints(&f.world, doc, whole);
    let mut out = String::new();
    let mut at = 0;
    for h in &hints {
        let o = doc.now.offset(h.position) as usize;
        out.push_str(&text[at..o]);
        let lsp_types::InlayHintLabel::String(l) = &h.label else {
            panic!("plain hint labels");
        };
        out.push_str(&format!("«{l}»"));
        at = o;
    }
    out.push_str(&text[at..]);
    expect.assert_eq(&out);
}

/// The top-level bindings' values on each target, as completion and
/// hints describe them.
fn check_probe(fixture: &str, targets: &[&str], expect: Expect) {
    let f = Fixture::new(fixture);
    let overlays = f.world.overlays(&f.path);
    let mut out = String::new();
    for t in targets {
        let values = f.doc().now.probe(t, &overlays, &f.world.arena);
        let mut names: Vec<&String> = values.keys().collect();
        names.sort();
        out.push_str(&format!("{t}:\n"));
        for n in names {
            let d = info_detail(values.get(n)).unwrap_or_else(|| "(failed)".into());
            out.push_str(&format!("  {n}: {d}\n"));
        }
    }
    expect.assert_eq(&out);
}

// ------------------------------------------------------------------ hover

#[test]
fn hover_on_a_local_and_a_parameter() {
    check_hover("let f = x: x + 1; in f 2$0", expect![[r#"no hover"#]]);
    check_hover(
        "let f = x: $0x + 1; in f 2",
        expect![[r#"
        [x]
        ```unik
        x
        ```

        function parameter"#]],
    );
    check_hover(
        "let a = 1; in let $0b = a; in b",
        expect![[r#"
        [b]
        ```unik
        b : an int
        ```
    "#]],
    );
}

#[test]
fn hover_on_top_level_bindings_shows_their_values() {
    check_hover(
        r#"let
  main = foreign "hello::Hello" (console @-> job);
in
register "hello" [ ma$0in $ default_console ]
"#,
        expect![[r#"
            [main]
            ```unik
            main : console @-> job
            ```

            **Implementation**: `hello::Hello` (`hello::Hello`)

            **Targets**: every target
        "#]],
    );
    check_hover(
        r#"let port = key "port" { type = "int"; default = 8080; doc = "The port."; stage = "runtime"; }; in $0port"#,
        expect![[r#"
            [port]
            ```unik
            port : key "port"
            ```

            `--port` : `int` — runtime key (a boot argument `--port=…`)

            default: `8080`

            The port."#]],
    );
}

#[test]
fn hover_shows_the_comment_above_a_binding() {
    check_hover(
        r#"let
  # The greeter.
  ## It says hello.
  main = foreign "hello::Hello" (console @-> job);
in
register "hello" [ ma$0in $ default_console ]
"#,
        expect![[r#"
            [main]
            ```unik
            main : console @-> job
            ```

            The greeter.
            It says hello.

            **Implementation**: `hello::Hello` (`hello::Hello`)

            **Targets**: every target
        "#]],
    );
    check_hover(
        "let a = 1; in let\n  /* Twice a. */\n  b = a * 2;\nin $0b",
        expect![[r#"
            [b]
            ```unik
            b : an int
            ```

            Twice a."#]],
    );
    check_hover(
        "rec {\n  # Not about x: a blank line follows.\n\n  x = 1;\n  # The y.\n  y = $0x + 1; # trailing\n}",
        expect![[r#"
            [x]
            ```unik
            x
            ```

            attribute of a `rec` set

            `= 1`"#]],
    );
    check_hover(
        "rec {\n  # The y.\n  y = 1;\n  z = $0y;\n}",
        expect![[r#"
            [y]
            ```unik
            y
            ```

            attribute of a `rec` set

            The y.

            `= 1`"#]],
    );
}

#[test]
fn hover_on_catalogue_names_and_builtins() {
    check_hover(
        "default_cons$0ole",
        expect![[r#"
        [default_console]
        ```unik
        default_console : console
        ```

        The platform console: standard output on unix, COM1 on virtio, the
        Solo5 console on hvt, spt, muen and genode, the Xen console on xen.

        **Implementation**:
        - `default_console` (`unik_unix::console`) on unix
        - `default_console` (`unik_solo5::console`) on hvt, spt, muen, genode
        - `default_console` (`unik_virtio::console`) on virtio
        - `default_console` (`unik_xen::console`) on xen

        **Targets**: every target

        **Crates**:
        - `unik-rt` `>=0.1.0, <0.2.0`
        - `unik-solo5` `>=0.1.0, <0.2.0` on hvt, spt, muen, genode
        - `unik-unix` `>=0.1.0, <0.2.0` on unix
        - `unik-virtio` `>=0.1.0, <0.2.0` on virtio
        - `unik-xen` `>=0.1.0, <0.2.0` on xen

        *catalogue: base.unik*"#]],
    );
    check_hover(
        "ma$0p (x: x) [ ]",
        expect![[r#"
        [map]
        ```unik
        map f list
        ```

        a new list of f applied to each element (lazily)"#]],
    );
    check_hover(
        "[ tar$0get ]",
        expect![[r#"
        [target]
        ```unik
        target
        ```

        the target being evaluated: unix, hvt, spt, virtio, muen, genode or xen"#]],
    );
}

#[test]
fn hover_while_the_file_is_broken() {
    // The current parse has the binding in an error node; the last good
    // parse does not exist, so only what parsed answers.
    check_hover(
        "let a = 1 +; b = 2; in $0b",
        expect![[r#"
        [b]
        ```unik
        b : an int
        ```
    "#]],
    );
    check_hover(
        "let a = (1; in $0a",
        expect![[r#"
        [a]
        ```unik
        a
        ```

        its value could not be computed (see the diagnostics)"#]],
    );
}

#[test]
fn hover_on_an_import_path() {
    check_hover(
        "#- lib.unik\n{ x = 1; }\n#- config.unik\n(import ./l$0ib.unik).x\n",
        expect![[r#"
            [./lib.unik]
            `$DIR/lib.unik`"#]],
    );
    check_hover(
        "import ./miss$0ing.unik",
        expect![[r#"
            [./missing.unik]
            `$DIR/missing.unik` (missing)"#]],
    );
}

// ------------------------------------------------------------- definition

#[test]
fn definition_of_locals() {
    check_definition("let a = 1; in $0a", expect![[r#"config.unik 0:4-0:5 "a""#]]);
    check_definition(
        "let a = 1; in let a = 2; in $0a",
        expect![[r#"config.unik 0:18-0:19 "a""#]],
    );
    check_definition("{ x ? 1 }: $0x", expect![[r#"config.unik 0:2-0:3 "x""#]]);
    check_definition(
        "rec { a = 1; b = $0a; }",
        expect![[r#"config.unik 0:6-0:7 "a""#]],
    );
    check_definition("let a = 1; in $0zzz", expect!["no definition"]);
}

#[test]
fn definition_of_catalogue_names_and_imports() {
    check_definition(
        "default_cons$0ole",
        expect![[r#"<stdlib>/base.unik 4:2-4:17 "default_console""#]],
    );
    check_definition(
        "[ cons$0ole ]",
        expect![[r#"<stdlib>/types.unik 4:2-4:9 "console""#]],
    );
    check_definition(
        "#- lib.unik\n{ x = 1; }\n#- config.unik\n(import ./l$0ib.unik).x\n",
        expect![[r#"lib.unik 0:0-0:0 """#]],
    );
    check_definition(
        "#- sub/config.unik\n1\n#- config.unik\nimport ./s$0ub\n",
        expect![[r#"sub/config.unik 0:0-0:0 """#]],
    );
}

#[test]
fn definition_with_broken_syntax() {
    check_definition(
        "let a = 1; b = ]; in $0a",
        expect![[r#"config.unik 0:4-0:5 "a""#]],
    );
    check_definition("let a = 1; in [ $0a, ", expect!["no definition"]);
}

// ------------------------------------------------------------- completion

#[test]
fn completion_of_names() {
    check_completion(
        "let alpha = 1; alps = 2; in al$0",
        expect![[r#"
        alpha — an int
        alps — an int"#]],
    );
    check_completion("default_con$0", expect!["default_console — console"]);
    check_completion(
        "let a = 1; in builtins.ma$0",
        expect![[r#"
        main — main NAME [OPTIONS] TYPE: alias of foreign
        map — map f list: a new list of f applied to each element (lazily)
        match_impl — match_impl VALUE { CASE = device; …; default = device; }"#]],
    );
}

#[test]
fn completion_in_option_sets_and_strings() {
    check_completion(
        r#"key "p" { ty$0"#,
        expect![[r#"type — "int", "string" or "bool" (required)"#]],
    );
    check_completion(
        r#"key "p" { type = "$0"#,
        expect![[r#"
        bool
        int
        string"#]],
    );
    check_completion(
        r#"if target == "s$0"#,
        expect![[r#"
        genode
        hvt
        muen
        spt
        unix
        virtio
        xen"#]],
    );
    check_completion(
        r#"package "bytes" { mi$0"#,
        expect!["min — the least version, inclusive (semver)"],
    );
}

#[test]
fn completion_of_devices_by_expected_type() {
    check_completion(
        r#"let
  main = foreign "hello::Hello" (console @-> time @-> job);
in
register "hello" [ main $ default_console $ def$0 ]
"#,
        expect![[r#"
            default_sleep — time
            default_time — time"#]],
    );
    // The list is broken here, so only its element is an error node.
    check_completion(
        r#"let
  main = foreign "hello::Hello" (console @-> job);
  c = default_console;
in
register "hello" [ main $ $0 ]"#,
        expect![[r#"
            by_platform — console (e.g. by_platform { unix = default_console; solo5 = default_console; virtio = default_console; xen = default_console; }) ⇒ by_platform { unix = default_console; solo5 = default_console; virtio = default_console; xen = default_console; }
            c — console
            default_console — console
            everywhere — console (e.g. everywhere { name = "my_console"; type = console; module = "console"; connect = "{module}::connect()"; doc = "the console"; }) ⇒ everywhere { name = "my_console"; type = console; module = "console"; connect = "{module}::connect()"; doc = "the console"; }
            platform_impl — console (e.g. platform_impl platforms.unix { name = "my_console"; type = console; module = "console"; connect = "{module}::connect()"; doc = "stdout"; }) ⇒ platform_impl platforms.unix { name = "my_console"; type = console; module = "console"; connect = "{module}::connect()"; doc = "stdout"; }"#]],
    );
}

#[test]
fn completion_while_typing_uses_the_last_good_parse() {
    let good = r#"let
  main = foreign "hello::Hello" (console @-> time @-> job);
  c = default_console;
in
register "hello" [ main $ c $ default_time ]
"#;
    // The edit leaves nothing closed: the bindings come from the last
    // good parse, the context from the tokens before the cursor.
    check_completion_after_edit(
        good,
        r#"let
  main = foreign "hello::Hello" (console @-> time @-> job);
  c = default_console;
in
register "hello" [ main $ c $ $0"#,
        expect![[r#"
            default_sleep — time
            default_time — time"#]],
    );
    // A `;` deleted: `main` and `c` are one broken binding now, and only
    // the last good parse knows them.
    check_completion_after_edit(
        good,
        r#"let
  main = foreign "hello::Hello" (console @-> time @-> job)
  c = default_console;
in
register "hello" [ main $ $0 $ default_time ]
"#,
        expect![[r#"
            by_platform — console (e.g. by_platform { unix = default_console; solo5 = default_console; virtio = default_console; xen = default_console; }) ⇒ by_platform { unix = default_console; solo5 = default_console; virtio = default_console; xen = default_console; }
            c — console
            default_console — console
            everywhere — console (e.g. everywhere { name = "my_console"; type = console; module = "console"; connect = "{module}::connect()"; doc = "the console"; }) ⇒ everywhere { name = "my_console"; type = console; module = "console"; connect = "{module}::connect()"; doc = "the console"; }
            platform_impl — console (e.g. platform_impl platforms.unix { name = "my_console"; type = console; module = "console"; connect = "{module}::connect()"; doc = "stdout"; }) ⇒ platform_impl platforms.unix { name = "my_console"; type = console; module = "console"; connect = "{module}::connect()"; doc = "stdout"; }"#]],
    );
    check_completion_after_edit(
        good,
        "let
  main = foreign \"hello::Hello\" (console @-> time @-> job);
  c = default_console;
in
register \"hello\" [ m$0",
        expect![[r#"
            main — console @-> time @-> job
            map — map f list: a new list of f applied to each element (lazily)
            match_impl — match_impl VALUE { CASE = device; …; default = device; }
            mclock — type mclock"#]],
    );
}

#[test]
fn no_completion_where_no_name_fits() {
    check_completion("let a = 1; # a comm$0", expect!["no completion"]);
    check_completion("let a = 1; $0", expect!["no completion"]);
    check_completion(r#""just te$0"#, expect!["no completion"]);
}

// ------------------------------------------------------------ inlay hints

#[test]
fn inlay_hints_for_devices_and_locked_crates() {
    let f = r#"let
  main = foreign "hello::Hello" { packages = [ package "bytes" { min = "1.5.0"; } ]; } (console @-> job);
  c = default_console;
  n = 1;
in
register "hello" [ main $ c ]
"#;
    check_inlay_hints(
        f,
        expect![[r#"
            let
              main«: console @-> job» = foreign "hello::Hello" { packages = [ package "bytes" { min = "1.5.0"; } ]; } (console @-> job);
              c«: console» = default_console;
              n = 1;
            in
            register "hello" [ main $ c ]
        "#]],
    );
    let lock = super::lock::tests::lock_text(&[("unix", &[("bytes", "1.10.1")])]);
    check_inlay_hints(
        &format!("#- unik.lock\n{lock}\n#- config.unik\n{f}$0"),
        expect![[r#"
            let
              main«: console @-> job» = foreign "hello::Hello" { packages = [ package "bytes"«locked 1.10.1» { min = "1.5.0"; } ]; } (console @-> job);
              c«: console» = default_console;
              n = 1;
            in
            register "hello" [ main $ c ]
        "#]],
    );
}

#[test]
fn inlay_hints_of_a_broken_file_come_from_what_evaluates() {
    check_inlay_hints(
        "let\n  c = default_console;\n  d = (;\nin\n$0c\n",
        expect![[r#"
            let
              c«: console» = default_console;
              d = (;
            in
            c
        "#]],
    );
}

// ----------------------------------------------------------------- probes

#[test]
fn probes_per_target() {
    check_probe(
        r#"let
  c = default_console;
  t = if target == "unix" then 1 else "two";
  f = x: x;
  k = key "k" { type = "bool"; doc = "A flag."; default = false; };
  broken = 1 + "a";
in
$0c
"#,
        &["unix", "hvt"],
        expect![[r#"
            unix:
              broken: (failed)
              c: console
              f: function
              k: key --k : bool
              t: an int
            hvt:
              broken: (failed)
              c: console
              f: function
              k: key --k : bool
              t: a string
        "#]],
    );
}

#[test]
fn probes_through_an_import() {
    check_probe(
        "#- lib.unik\n{ clock = default_time; }\n#- config.unik\nlet\n  lib = import ./lib.unik;\n  t = lib.clock;\nin\n$0t\n",
        &["unix"],
        expect![[r#"
            unix:
              lib: an attribute set
              t: time
        "#]],
    );
}

//! The VS Code extension's TextMate grammar, run by `vscode-textmate` (the
//! engine VS Code uses) over every example, corpus and catalogue file, and
//! checked against the language's own parser: the grammar must end every
//! file at the top level, scope exactly the parser's comments as comments,
//! and give the keyword scope to keywords only.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn node_ok() {
    let ok = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "node is required to test the TextMate grammar (Debian: apt-get install nodejs npm)"
    );
}

/// Installs the extension's locked npm packages when they are missing.
fn npm_packages(ext: &Path) {
    if ext.join("node_modules/vscode-textmate").is_dir()
        && ext.join("node_modules/vscode-oniguruma").is_dir()
    {
        return;
    }
    let out = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(ext)
        .output()
        .expect("npm is required to test the TextMate grammar (Debian: apt-get install npm)");
    assert!(
        out.status.success(),
        "npm ci in {} failed:\n{}",
        ext.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn unik_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("a directory")
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        let name = e.file_name();
        if p.is_dir() && name != "_build" && name != "target" && name != "node_modules" {
            unik_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "unik") {
            out.push(p);
        }
    }
}

const KEYWORDS: &[&str] = &[
    "let", "in", "if", "then", "else", "assert", "import", "rec", "inherit", "or",
];

/// A tricky file: indented strings with escapes, interpolation holding a
/// set, a block comment, paths, `'` in names.
const TRICKY: &str = "/* a /* b */ let x' = ''a ''${b} ''' c '''' d''; # ''
  y = \"s\\\"${ { a = \"}\"; }.a }\"; p = ./a/b.unik; q = x' // { };
in x
";

#[test]
fn textmate_grammar_agrees_with_the_parser() {
    node_ok();
    let ext = repo().join("editors/vscode");
    npm_packages(&ext);
    let scratch = tempfile::tempdir().expect("tempdir");
    let tricky = scratch.path().join("tricky.unik");
    std::fs::write(&tricky, TRICKY).expect("writing");

    let mut files = vec![tricky.clone()];
    for d in ["examples", "lang/tests/corpus", "stdlib-devices/catalogue"] {
        unik_files(&repo().join(d), &mut files);
    }
    assert!(files.len() > 50, "{files:?}");
    let out = Command::new("node")
        .arg(ext.join("test/grammar.js"))
        .arg("--json")
        .args(&files)
        .output()
        .expect("running node");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).expect("JSON from grammar.js");
    assert_eq!(results.len(), files.len());

    let mut comments_seen = 0;
    for r in &results {
        let file = r["file"].as_str().unwrap();
        let text = std::fs::read_to_string(file).unwrap();
        let parsed = unik_lang::syntax::parse(0, &text);
        assert!(
            !parsed.has_errors(),
            "{file} does not parse: {:?}",
            parsed.diagnostics
        );
        assert_eq!(
            r["closed"], true,
            "{file}: the grammar ends inside a string, comment or brace"
        );
        let tokens: Vec<(usize, usize, &str)> = r["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t[0].as_u64().unwrap() as usize,
                    t[1].as_u64().unwrap() as usize,
                    t[2].as_str().unwrap(),
                )
            })
            .collect();
        let in_comment = |at: usize| {
            parsed
                .module
                .comments
                .iter()
                .any(|c| c.span.range().contains(&at))
        };
        for c in &parsed.module.comments {
            comments_seen += 1;
            for (s, e, scopes) in &tokens {
                if *s < c.span.end as usize && *e > c.span.start as usize {
                    assert!(
                        scopes.contains("comment"),
                        "{file}: {:?} is in a comment but scoped `{scopes}`",
                        &text[*s..*e]
                    );
                }
            }
        }
        for (s, e, scopes) in &tokens {
            if scopes.contains("comment") {
                assert!(
                    in_comment(*s),
                    "{file}: {:?} scoped `{scopes}` outside comments",
                    &text[*s..*e]
                );
            }
            if scopes.contains("keyword.control") {
                assert!(
                    KEYWORDS.contains(&&text[*s..*e]),
                    "{file}: {:?} scoped as a keyword",
                    &text[*s..*e]
                );
            }
        }
    }
    assert!(
        comments_seen > 20,
        "the files should hold comments to check"
    );

    // In the tricky file the constructs after the strings are still seen.
    let t = &results[0];
    assert_eq!(t["file"], tricky.to_str().unwrap());
    let scope_of = |needle: &str| -> String {
        let at = TRICKY.find(needle).unwrap();
        t["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .find(|tok| {
                tok[0].as_u64().unwrap() as usize <= at && at < tok[1].as_u64().unwrap() as usize
            })
            .map(|tok| tok[2].as_str().unwrap().to_string())
            .unwrap_or_default()
    };
    assert!(
        scope_of("y =").contains("entity.name.variable.binding"),
        "{}",
        scope_of("y =")
    );
    assert!(scope_of("''' c").contains("constant.character.escape"));
    assert!(scope_of("./a/b.unik").contains("string.unquoted.path"));
    assert!(scope_of("\\\"$").contains("constant.character.escape"));
    assert!(scope_of("{ a = \"}\"").contains("meta.embedded.interpolation"));
    assert!(scope_of("in x").contains("keyword.control"));
    assert!(scope_of("// {").contains("keyword.operator"));
    assert!(!scope_of("x' =").contains("string"), "{}", scope_of("x' ="));
}

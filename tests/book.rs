//! Every `unik` code block of the book gives what the text around it says.
//!
//! A block's fence info says what it is (mdBook ignores what follows the
//! first comma):
//!
//! - ` ```unik `: a whole configuration; `unikc check` reports nothing.
//! - ` ```unik,E0301 `: `unikc check` reports that code. When a `console`
//!   block running `unikc` follows right after (nothing but blank lines
//!   between), its `-t` and `--KEY=VALUE` arguments are passed too (the
//!   code comes from the command line).
//! - ` ```unik,eval `: an expression, not a configuration: it evaluates
//!   (as `unikc eval` does) without a diagnostic, or with the code given.
//! - ` ```unik,file=NAME `: a file the page's later blocks import; it is
//!   written beside them and must parse.
//! - ` ```unik,fragment `: an excerpt (bindings, or an expression using
//!   names from around it); it must parse as a file or as the bindings of
//!   an attribute set.
//!
//! On an error page (`errors/CODE.md`), every block under "Erroneous
//! example" must be marked with the page's code, and every block under
//! "Corrected example" with none, except for the codes `unikc check` cannot
//! give (lock and build errors), whose examples are clean configurations.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use unik_resolver::session::{self, Matrix, Request};

/// Codes that come from `lock`, `configure`, `build`, `package` or `push`,
/// never from the configuration alone: their pages' examples check clean.
const NOT_FROM_CHECK: &[&str] = &[
    "E0001", "E0504", "E0505", "E0506", "E0701", "E0702", "E0703", "E0704", "E0705", "E0706",
    "E0707", "E0708", "E0709",
];

#[derive(Debug)]
struct Block {
    /// `page:line` of the opening fence.
    at: String,
    /// Fence info after `unik,`.
    attrs: Vec<String>,
    text: String,
    /// The nearest heading above the block.
    heading: String,
    /// The command of a `console` block right after this one.
    command: Option<String>,
}

impl Block {
    fn has(&self, attr: &str) -> bool {
        self.attrs.iter().any(|a| a == attr)
    }
    fn code(&self) -> Option<&str> {
        self.attrs.iter().map(String::as_str).find(|a| is_code(a))
    }
    fn file(&self) -> Option<&str> {
        self.attrs.iter().find_map(|a| a.strip_prefix("file="))
    }
}

fn is_code(a: &str) -> bool {
    a.len() == 5
        && (a.starts_with('E') || a.starts_with('W'))
        && a[1..].chars().all(|c| c.is_ascii_digit())
}

/// The fenced blocks of one page, `unik` ones with their attributes.
fn blocks(page: &Path) -> Vec<Block> {
    let text = std::fs::read_to_string(page).unwrap();
    let mut out: Vec<Block> = Vec::new();
    let mut heading = String::new();
    let mut open: Option<(usize, String, String)> = None;
    // Whether the last block closed was a `unik` one with nothing but blank
    // lines since, so a `console` block now is its command.
    let mut last_unik = false;
    for (i, line) in text.lines().enumerate() {
        let fence = line.trim_start().strip_prefix("```");
        match (&mut open, fence) {
            (None, Some(info)) => open = Some((i + 1, info.trim().to_string(), String::new())),
            (Some(_), Some(_)) => {
                let (n, info, body) = open.take().unwrap();
                let mut parts = info.split(',').map(str::trim);
                let lang = parts.next().unwrap_or("");
                if lang == "unik" {
                    out.push(Block {
                        at: format!("{}:{n}", page.display()),
                        attrs: parts.map(String::from).collect(),
                        text: body,
                        heading: heading.clone(),
                        command: None,
                    });
                    last_unik = true;
                } else {
                    if last_unik && lang == "console" {
                        let cmd = body.lines().find(|l| l.starts_with("$ unikc "));
                        out.last_mut().unwrap().command = cmd.map(String::from);
                    }
                    last_unik = false;
                }
            }
            (Some((_, _, body)), None) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {
                if !line.trim().is_empty() {
                    last_unik = false;
                }
                if line.starts_with('#') {
                    heading = line.trim_start_matches('#').trim().to_string();
                }
            }
        }
    }
    assert!(open.is_none(), "{}: an unclosed code block", page.display());
    out
}

/// `-t T` and `--KEY=VALUE` of a `$ unikc COMMAND …` line.
fn command_args(cmd: &str) -> (Option<String>, BTreeMap<String, String>) {
    let mut target = None;
    let mut keys = BTreeMap::new();
    let mut words = cmd.split_whitespace().skip(3);
    while let Some(w) = words.next() {
        if w == "-t" || w == "--target" {
            target = words.next().map(String::from);
        } else if let Some((k, v)) = w.strip_prefix("--").and_then(|kv| kv.split_once('=')) {
            keys.insert(k.to_string(), v.to_string());
        }
    }
    (target, keys)
}

/// The codes `unikc check` (or `eval`) reports for `text` as
/// `dir/config.unik`.
fn codes(dir: &Path, b: &Block) -> Result<Vec<&'static str>, String> {
    let file = dir.join("config.unik");
    std::fs::write(&file, &b.text).unwrap();
    let (target, keys) = b.command.as_deref().map(command_args).unwrap_or_default();
    let matrix = match target {
        Some(t) => {
            Matrix::Only(vec![t.parse().map_err(|()| {
                format!("`-t {t}` in the console line is not a target")
            })?])
        }
        None if b.has("eval") => Matrix::Only(vec![unik_lang::Target::Unix]),
        None => Matrix::Allowed,
    };
    let mut req = Request::new(&file, matrix);
    req.keys = keys;
    req.resolve = !b.has("eval");
    req.model = false;
    let s = session::run(&req)?;
    Ok(s.diagnostics.iter().map(|d| d.code).collect())
}

fn parses(text: &str) -> bool {
    use unik_lang::syntax::parse;
    !parse(0, text).has_errors() || !parse(0, &format!("{{\n{text}\n}}")).has_errors()
}

/// What is wrong with one block, if anything.
fn check(dir: &Path, page_code: Option<&str>, b: &Block) -> Option<String> {
    for a in &b.attrs {
        if !(is_code(a) || a == "eval" || a == "fragment" || a.starts_with("file=")) {
            return Some(format!("unknown fence attribute `{a}`"));
        }
    }
    if let Some(code) = page_code {
        let expected = if b.heading.contains("Erroneous") && !NOT_FROM_CHECK.contains(&code) {
            Some(code)
        } else {
            None
        };
        if b.file().is_none() && !b.has("fragment") && b.code() != expected {
            return Some(format!(
                "under \"{}\" on the page of {code}, the block should be marked {}",
                b.heading,
                expected.map_or("with no code".to_string(), |c| format!("`unik,{c}`"))
            ));
        }
    }
    if let Some(name) = b.file() {
        std::fs::create_dir_all(dir.join(name).parent().unwrap()).unwrap();
        std::fs::write(dir.join(name), &b.text).unwrap();
        return (!parses(&b.text)).then(|| format!("`{name}` does not parse"));
    }
    if b.has("fragment") {
        return (!parses(&b.text)).then(|| "the fragment does not parse".to_string());
    }
    let got = match codes(dir, b) {
        Ok(c) => c,
        Err(e) => return Some(format!("the checker failed: {e}")),
    };
    match b.code() {
        None if got.is_empty() => None,
        None => Some(format!("expected no diagnostic, got {got:?}")),
        Some(c) if got.contains(&c) => None,
        Some(c) => Some(format!("expected {c}, got {got:?}")),
    }
}

fn pages(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(pages(&p));
        } else if p.extension().is_some_and(|e| e == "md") {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn every_unik_block_gives_what_the_book_says() {
    let root = common::repo().join("book/src");
    let mut failures = Vec::new();
    let mut checked = 0;
    for page in pages(&root) {
        let page_code = page
            .strip_prefix(root.join("errors"))
            .ok()
            .and_then(|p| p.file_stem())
            .and_then(|s| s.to_str())
            .filter(|s| is_code(s))
            .map(String::from);
        let tmp = tempfile::tempdir().unwrap();
        for b in blocks(&page) {
            checked += 1;
            if let Some(why) = check(tmp.path(), page_code.as_deref(), &b) {
                failures.push(format!("{}: {why}\n{}", b.at, b.text));
            }
        }
    }
    assert!(checked >= 90, "only {checked} unik blocks found");
    assert!(
        failures.is_empty(),
        "{} of {checked} book blocks do not give what the book says:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The markers the test relies on are read as written.
#[test]
fn fence_attributes_and_commands_are_read() {
    let tmp = tempfile::tempdir().unwrap();
    let page = tmp.path().join("E0602.md");
    std::fs::write(
        &page,
        "# E0602\n\n## Erroneous example\n\n```unik,E0602\nregister \"x\" [ ]\n```\n\n```console\n$ unikc configure -t unix --workers=four\n```\n\n```unik\n1\n```\n\nOn the command line:\n\n```console\n$ unikc build -t kvm\n```\n",
    )
    .unwrap();
    let b = blocks(&page);
    assert_eq!(b.len(), 2);
    assert_eq!(b[1].command, None, "prose between: not its command");
    assert_eq!(b[0].code(), Some("E0602"));
    assert_eq!(b[0].heading, "Erroneous example");
    let (t, keys) = command_args(b[0].command.as_deref().unwrap());
    assert_eq!(t.as_deref(), Some("unix"));
    assert_eq!(keys.get("workers").map(String::as_str), Some("four"));
}

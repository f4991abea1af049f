//! Hover texts (Markdown): what a name is on every target — a device's
//! type, documentation, implementations, targets and crates (with locked
//! versions), a key's type, default and documentation, a builtin's
//! signature.

use super::catalogue::{Catalogue, Global, example_key};
use super::index::{Def, DefKind};
use super::lock::Locked;
use super::probe::{self, Info};
use std::collections::BTreeMap;
use std::fmt::Write;
use unik_lang::Target;
use unik_lang::eval::{KeyValue, ModuleArena, Pin, Stage};

fn code_block(line: &str) -> String {
    format!("```unik\n{line}\n```\n")
}

/// Hover of a global name.
pub fn global(cat: &Catalogue, name: &str, locked: &Locked, arena: &ModuleArena) -> Option<String> {
    match cat.lookup(name)? {
        Global::Builtin { doc, .. } => Some(builtin(doc)),
        Global::Constant { name, doc } => Some(format!("{}\n{doc}", code_block(name))),
        Global::Entry(entry) => {
            let per_target = cat.per_target(&entry.name, arena);
            let mut md = value(name, &per_target, &entry.doc, locked);
            if let Some(ex) = &entry.example {
                let ty = cat
                    .values("unix", arena)
                    .get(&example_key(&entry.name))
                    .and_then(Info::device_type);
                match ty {
                    Some(t) => {
                        let _ = write!(md, "\n\nExample: `{ex}` : `{t}`");
                    }
                    None => {
                        let _ = write!(md, "\n\nExample: `{ex}`");
                    }
                }
            }
            let _ = write!(md, "\n\n*catalogue: {}*", entry.file);
            Some(md)
        }
    }
}

/// `"map f list: a new list …"` → the signature as code, then the text.
fn builtin(doc: &str) -> String {
    match doc.split_once(": ") {
        Some((sig, text)) => format!("{}\n{text}", code_block(sig)),
        None => code_block(doc),
    }
}

/// Hover of a local binding; `per_target`, its values per target, is given
/// only for a binding of the top-level `let` chain; `doc` is the comment
/// written above it.
pub fn local(
    def: &Def,
    text: &str,
    doc: &str,
    per_target: &[(&'static str, Info)],
    locked: &Locked,
) -> String {
    if !per_target.is_empty() {
        return value(&def.name, per_target, doc, locked);
    }
    let what = match def.kind {
        DefKind::Param => "function parameter",
        DefKind::Rec => "attribute of a `rec` set",
        DefKind::Let => "`let` binding",
    };
    let mut md = format!("{}\n{what}", code_block(&def.name));
    if !doc.is_empty() {
        let _ = write!(md, "\n\n{doc}");
    }
    if let Some(v) = def.value {
        let src = &text[v.range()];
        let first = src.lines().next().unwrap_or("");
        let more = if src.lines().nth(1).is_some() {
            " …"
        } else {
            ""
        };
        let _ = write!(md, "\n\n`= {}{more}`", first.trim());
    }
    md
}

/// The description of a value known per target.
fn value(name: &str, per_target: &[(&'static str, Info)], doc: &str, locked: &Locked) -> String {
    let first = per_target
        .iter()
        .find(|(_, i)| !matches!(i, Info::Failed))
        .map(|(_, i)| i.clone())
        .unwrap_or(Info::Failed);
    let mut md = String::new();
    match &first {
        Info::Device(d, target) => {
            let ty = probe::device_type(d, target)
                .map(|t| t.to_string())
                .unwrap_or_else(|| "?".into());
            md.push_str(&code_block(&format!("{name} : {ty}")));
            // An implementation's own doc only when every target uses it.
            let heads: Vec<String> = per_target
                .iter()
                .filter_map(|(_, i)| match i {
                    Info::Device(d, t) => probe::head_impl(d, t).map(|h| h.name.to_string()),
                    _ => None,
                })
                .collect();
            let one_impl = heads.windows(2).all(|w| w[0] == w[1]);
            let impl_doc = match probe::head_impl(d, target) {
                Some(i) if one_impl => i.doc.to_string(),
                _ => String::new(),
            };
            let text = if doc.is_empty() {
                impl_doc
            } else {
                doc.to_string()
            };
            if !text.is_empty() {
                let _ = write!(md, "\n{text}\n");
            }
            device_facts(&mut md, per_target, locked);
        }
        Info::Type(t) => {
            md.push_str(&code_block(&format!("{name} : device type")));
            let _ = write!(md, "\n`{t}`");
            if !doc.is_empty() {
                let _ = write!(md, "\n\n{doc}");
            }
        }
        Info::Key(k) => {
            md.push_str(&code_block(&format!("{name} : key \"{}\"", k.name)));
            let stage = match k.stage {
                Stage::Configure => "configure key (set with `unikc configure --{n}=…`)",
                Stage::Runtime => "runtime key (a boot argument `--{n}=…`)",
            }
            .replace("{n}", &k.name);
            let _ = write!(md, "\n`--{}` : `{}` — {stage}", k.name, k.expected());
            match &k.default {
                Some(KeyValue::Str(s)) => {
                    let _ = write!(md, "\n\ndefault: `\"{s}\"`");
                }
                Some(v) => {
                    let _ = write!(md, "\n\ndefault: `{v}`");
                }
                None => md.push_str("\n\nrequired: no default"),
            }
            let text = if k.doc.is_empty() { doc } else { &k.doc };
            if !text.is_empty() {
                let _ = write!(md, "\n\n{text}");
            }
        }
        Info::Package(p) => {
            md.push_str(&code_block(&format!("{name} : package \"{}\"", p.name)));
            let _ = write!(md, "\ncrate `{}` `{}`", p.name, probe::bounds(p));
            if !p.features.is_empty() {
                let _ = write!(md, ", features {}", p.features.join(", "));
            }
            match &p.pin {
                Some(Pin::Path(path)) => {
                    let _ = write!(md, ", pinned to path `{path}`");
                }
                Some(Pin::Git { url, rev }) => {
                    let _ = write!(md, ", pinned to `{url}` at `{rev}`");
                }
                None => {}
            }
            if let Some(v) = locked.version(&p.name) {
                let _ = write!(md, " — locked {v}");
            }
            if !doc.is_empty() {
                let _ = write!(md, "\n\n{doc}");
            }
        }
        Info::Function => {
            md.push_str(&code_block(&format!("{name} : function")));
            if !doc.is_empty() {
                let _ = write!(md, "\n{doc}");
            }
        }
        Info::Other(kind) => {
            md.push_str(&code_block(&format!("{name} : {kind}")));
            if !doc.is_empty() {
                let _ = write!(md, "\n{doc}");
            }
        }
        Info::Failed => {
            md.push_str(&code_block(name));
            md.push_str("\nits value could not be computed (see the diagnostics)");
            if !doc.is_empty() {
                let _ = write!(md, "\n\n{doc}");
            }
        }
    }
    md
}

/// Implementations, targets and crates of a device across targets.
fn device_facts(md: &mut String, per_target: &[(&'static str, Info)], locked: &Locked) {
    // implementation (name, module) → targets choosing it
    let mut chosen: Vec<((String, String), Vec<&str>)> = Vec::new();
    let mut available = Vec::new();
    let mut missing: Vec<(&str, Vec<String>)> = Vec::new();
    // crate → bounds → targets
    let mut crates: BTreeMap<String, BTreeMap<String, Vec<&str>>> = BTreeMap::new();
    for (t, info) in per_target {
        let Info::Device(d, _) = info else { continue };
        if let Some(i) = probe::head_impl(d, t) {
            let key = (i.name.to_string(), i.module.to_string());
            match chosen.iter_mut().find(|(k, _)| *k == key) {
                Some((_, ts)) => ts.push(t),
                None => chosen.push((key, vec![t])),
            }
        }
        let not = probe::unsupported(d, t);
        if not.is_empty() {
            available.push(*t);
        } else {
            missing.push((t, not.iter().map(|n| n.to_string()).collect()));
        }
        for i in probe::impls(d, t) {
            for p in &i.packages {
                let ts = crates
                    .entry(p.name.to_string())
                    .or_default()
                    .entry(probe::bounds(p))
                    .or_default();
                if !ts.contains(t) {
                    ts.push(t);
                }
            }
        }
    }
    let devices = per_target
        .iter()
        .filter(|(_, i)| matches!(i, Info::Device(..)))
        .count();
    let everywhere = |ts: &[&str]| ts.len() == devices;
    let targets_of = |ts: &[&str]| {
        if everywhere(ts) && devices == Target::ALL.len() {
            "every target".to_string()
        } else {
            ts.join(", ")
        }
    };
    if !chosen.is_empty() {
        md.push_str("\n**Implementation**");
        if chosen.len() == 1 {
            let ((n, m), _) = &chosen[0];
            let _ = write!(md, ": `{n}` (`{m}`)");
        } else {
            md.push(':');
            for ((n, m), ts) in &chosen {
                let _ = write!(md, "\n- `{n}` (`{m}`) on {}", targets_of(ts));
            }
        }
        md.push('\n');
    }
    let _ = write!(
        md,
        "\n**Targets**: {}",
        if available.is_empty() {
            "none".into()
        } else {
            targets_of(&available)
        }
    );
    for (t, impls) in &missing {
        let _ = write!(
            md,
            "\n- not {t}: {} not available there",
            impls
                .iter()
                .map(|i| format!("`{i}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    md.push('\n');
    if !crates.is_empty() {
        md.push_str("\n**Crates**:");
        for (name, by_bounds) in &crates {
            let locked = locked
                .version(name)
                .map(|v| format!(" — locked {v}"))
                .unwrap_or_default();
            for (b, ts) in by_bounds {
                let on = if everywhere(ts) {
                    String::new()
                } else {
                    format!(" on {}", ts.join(", "))
                };
                let _ = write!(md, "\n- `{name}` `{b}`{on}{locked}");
            }
        }
    }
}

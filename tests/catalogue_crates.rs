//! Every runtime crate (`unik-*`) a catalogue device names is bundled
//! with unikc (runtime/): an entry naming one that does not exist would
//! check and then fail to build.

#[test]
fn every_runtime_crate_the_catalogue_names_is_bundled() {
    let bounds = unik_resolver::catalogue::crate_bounds().expect("the catalogue evaluates");
    let bundled: Vec<&str> = unik_codegen::bundle::CRATES
        .iter()
        .map(|c| c.name)
        .collect();
    assert!(bundled.contains(&"unik-rt"), "{bundled:?}");
    let missing: Vec<String> = bounds
        .iter()
        .filter(|(name, _)| name.starts_with("unik-") && !bundled.contains(&name.as_str()))
        .map(|(name, b)| format!("{name} (named by `{}`)", b[0].entry))
        .collect();
    assert!(missing.is_empty(), "not in runtime/: {missing:?}");
}

/// Whether `path` (`a::b::c`, relative to the crate's `src/`) names a module
/// (or, capitalised, a type) the crate declares: `mod c` in a file of the
/// crate, or `c` re-exported
/// from the crate root (`pub use x::{c, ..}`, as unik-xen does with the
/// modules of its `rt.rs`).
fn declares(src: &std::path::Path, path: &[&str]) -> bool {
    let mut text = String::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                text.push_str(&std::fs::read_to_string(&p).unwrap());
                text.push('\n');
            }
        }
    }
    let root = std::fs::read_to_string(src.join("lib.rs")).unwrap_or_default();
    let word = |hay: &str, w: &str| {
        hay.match_indices(w).any(|(i, _)| {
            let before = hay[..i].chars().next_back();
            let after = hay[i + w.len()..].chars().next();
            let edge = |c: Option<char>| !c.is_some_and(|c| c.is_alphanumeric() || c == '_');
            edge(before) && edge(after)
        })
    };
    path.iter().all(|m| {
        // A type (`unik_rt::kv::Crunch`) rather than a module.
        let item = m.starts_with(char::is_uppercase)
            && ["struct", "enum", "type"]
                .iter()
                .any(|k| word(&text, &format!("{k} {m}")));
        item || word(&text, &format!("mod {m}"))
            || root
                .lines()
                .any(|l| l.trim_start().starts_with("pub use") && word(l, m))
    })
}

/// Every implementation's Rust module, on every target the catalogue
/// offers it, exists in its bundled crate: an entry naming one that does
/// not (`unik_rt::ramdisk`, `unik_unix::resolver` and `unik_xen::qubesdb`
/// did) checks and then fails to build. Read from the generated reference,
/// that is from the evaluated catalogue, not from a list kept by hand.
#[test]
fn every_module_the_catalogue_names_exists() {
    let reference = unik_resolver::catalogue::reference().expect("the reference generates");
    let runtime = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("runtime");
    let mut seen = 0;
    let mut missing = Vec::new();
    for row in reference.lines().filter(|l| l.starts_with("| ")) {
        let cells: Vec<&str> = row.split(" | ").collect();
        let Some(module) = cells
            .get(2)
            .and_then(|c| c.strip_prefix('`'))
            .and_then(|c| c.strip_suffix('`'))
            .filter(|m| m.starts_with("unik_"))
        else {
            continue;
        };
        seen += 1;
        let mut parts: Vec<&str> = module.split("::").collect();
        let krate = parts.remove(0).replace('_', "-");
        let Some(bundled) = unik_codegen::bundle::lookup(&krate) else {
            missing.push(format!("{module}: no bundled crate {krate}"));
            continue;
        };
        if !declares(&runtime.join(bundled.dir).join("src"), &parts) {
            missing.push(format!("{module} ({})", cells[0].trim_start_matches("| ")));
        }
    }
    assert!(
        seen > 30,
        "the reference lists only {seen} modules:\n{reference}"
    );
    assert!(missing.is_empty(), "modules that do not exist: {missing:?}");
}

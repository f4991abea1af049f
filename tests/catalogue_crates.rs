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

//! The catalogue: its reference chapter is generated and current, and no
//! two of its devices ask for disjoint versions of one crate (the MirageOS
//! `mirage-kv-mem` bug cannot happen in it).

use semver::Version;
use std::path::Path;

#[test]
fn reference_chapter_is_current() {
    let text = unik_resolver::catalogue::reference().expect("the reference generates");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../book/src/catalogue.md");
    if std::env::var_os("UNIK_BLESS").is_some() {
        std::fs::write(&path, &text).expect("writing the chapter");
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == text,
        "book/src/catalogue.md is stale: run `UNIK_BLESS=1 cargo test -p unik-resolver --test catalogue`"
    );
}

#[test]
fn every_crate_has_one_version_that_fits_all_its_bounds() {
    let bounds = unik_resolver::catalogue::crate_bounds().expect("the catalogue evaluates");
    assert!(
        bounds.contains_key("unik-rt"),
        "the runtime core is bounded: {bounds:?}"
    );
    for (name, list) in &bounds {
        let lower = list
            .iter()
            .filter_map(|b| b.min.as_deref().map(|v| (Version::parse(v).unwrap(), b)))
            .max_by(|a, b| a.0.cmp(&b.0));
        let upper = list
            .iter()
            .filter_map(|b| b.max.as_deref().map(|v| (Version::parse(v).unwrap(), b)))
            .min_by(|a, b| a.0.cmp(&b.0));
        if let (Some((lo, lb)), Some((hi, hb))) = (lower, upper) {
            assert!(
                lo < hi,
                "crate `{name}`: `{}` on {} needs >={lo}, `{}` on {} needs <{hi}",
                lb.entry,
                lb.target,
                hb.entry,
                hb.target
            );
        }
    }
}

#[test]
fn runtime_crates_in_the_repo_satisfy_the_catalogue() {
    let bounds = unik_resolver::catalogue::crate_bounds().expect("the catalogue evaluates");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for (name, dir) in [
        ("unik-rt", "runtime/rt"),
        ("unik-unix", "runtime/unix"),
        ("unik-net", "runtime/net"),
    ] {
        let manifest = std::fs::read_to_string(root.join(dir).join("Cargo.toml")).unwrap();
        let version = manifest
            .lines()
            .find_map(|l| l.strip_prefix("version = \""))
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or_else(|| panic!("{dir}: no version line"));
        let v = Version::parse(version).unwrap();
        for b in &bounds[name] {
            if let Some(min) = &b.min {
                assert!(
                    v >= Version::parse(min).unwrap(),
                    "{name} {v} below {min} ({})",
                    b.entry
                );
            }
            if let Some(max) = &b.max {
                assert!(
                    v < Version::parse(max).unwrap(),
                    "{name} {v} not below {max} ({})",
                    b.entry
                );
            }
        }
    }
}

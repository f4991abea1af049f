//! The templates of `unikc new --template NAME`: the examples, packed into
//! the binary by `build.rs`, renamed for the new project.

include!(concat!(env!("OUT_DIR"), "/templates.rs"));

/// The files of a project named `name` (crate `krate`) made from
/// `template`: the example's files, its package, library and register
/// renamed.
pub fn files(template: &str, name: &str, krate: &str) -> Option<Vec<(String, Vec<u8>)>> {
    let files = FILES[NAMES.iter().position(|n| *n == template)?];
    let manifest = files
        .iter()
        .find(|(p, _)| *p == "Cargo.toml")
        .map(|(_, b)| String::from_utf8_lossy(b).into_owned())?;
    let package = section_name(&manifest, "package")?;
    let old_crate = section_name(&manifest, "lib").unwrap_or_else(|| package.replace('-', "_"));
    let out = files
        .iter()
        .map(|(path, bytes)| {
            let bytes = match *path {
                "Cargo.toml" => rename_sections(&manifest, &[("package", name), ("lib", krate)]),
                "config.unik" => String::from_utf8_lossy(bytes)
                    .replace(&format!("\"{old_crate}::"), &format!("\"{krate}::"))
                    .replace(
                        &format!("register \"{package}\""),
                        &format!("register \"{name}\""),
                    )
                    .into_bytes(),
                _ => bytes.to_vec(),
            };
            (path.to_string(), bytes)
        })
        .collect();
    Some(out)
}

/// The `name = "…"` of a manifest section.
fn section_name(manifest: &str, section: &str) -> Option<String> {
    let mut current = "";
    for line in manifest.lines() {
        let t = line.trim();
        if let Some(s) = t.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            current = s;
        } else if current == section
            && let Some(v) = t.strip_prefix("name").map(str::trim_start)
            && let Some(v) = v.strip_prefix('=')
        {
            return Some(v.trim().trim_matches('"').to_string());
        }
    }
    None
}

/// The manifest with the `name` of each given section replaced.
fn rename_sections(manifest: &str, names: &[(&str, &str)]) -> Vec<u8> {
    let mut current = String::new();
    let mut out = String::new();
    for line in manifest.lines() {
        let t = line.trim();
        if let Some(s) = t.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            current = s.to_string();
        }
        let renamed = names
            .iter()
            .find(|(s, _)| *s == current)
            .filter(|_| t.starts_with("name") && t[4..].trim_start().starts_with('='));
        match renamed {
            Some((_, n)) => out.push_str(&format!("name = \"{n}\"")),
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(files: &[(String, Vec<u8>)], path: &str) -> String {
        let (_, b) = files.iter().find(|(p, _)| p == path).expect(path);
        String::from_utf8(b.clone()).unwrap()
    }

    #[test]
    fn every_example_is_a_template() {
        for n in ["hello", "network", "static-website", "tcp-echo", "prng"] {
            assert!(NAMES.contains(&n), "{n} missing from {NAMES:?}");
        }
    }

    #[test]
    fn a_template_is_renamed_with_its_library() {
        let files = files("static-website", "my-site", "my_site").unwrap();
        let manifest = text(&files, "Cargo.toml");
        assert!(
            manifest.contains("[package]\nname = \"my-site\"\n"),
            "{manifest}"
        );
        assert!(
            manifest.contains("[lib]\nname = \"my_site\"\n"),
            "{manifest}"
        );
        let config = text(&files, "config.unik");
        assert!(config.contains("foreign \"my_site::Server\""), "{config}");
        assert!(config.contains("register \"my-site\""), "{config}");
        assert!(!config.contains("\"static_website::"), "{config}");
        // The data travels too, and no build output does.
        assert!(files.iter().any(|(p, _)| p == "htdocs/index.html"));
        assert!(
            files
                .iter()
                .all(|(p, _)| !p.starts_with("_build") && !p.starts_with("dist"))
        );
    }

    #[test]
    fn a_template_without_a_library_section_is_renamed() {
        let files = files("hello-key", "greeter", "greeter").unwrap();
        let manifest = text(&files, "Cargo.toml");
        assert!(manifest.contains("name = \"greeter\""), "{manifest}");
        assert!(!manifest.contains("hello"), "{manifest}");
        let config = text(&files, "config.unik");
        assert!(config.contains("\"greeter::Hello\""), "{config}");
    }

    #[test]
    fn an_unknown_template_is_none() {
        assert!(files("nope", "a", "a").is_none());
    }
}

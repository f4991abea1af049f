//! `new`: a project that builds and runs as it is, from a scaffold or a
//! template (the examples, packed into the binary).

use super::failure::Failure;
use super::report::Reporter;
use std::path::{Path, PathBuf};

/// `unikc new NAME`: a project that builds and runs as it is.
pub fn new(name: &Path, template: Option<&str>, rep: &mut dyn Reporter) -> Result<(), Failure> {
    let Some(base) = name.file_name().and_then(|n| n.to_str()) else {
        return Err(Failure::usage(format!(
            "{} is not a project name",
            name.display()
        )));
    };
    let valid = base.starts_with(|c: char| c.is_ascii_alphabetic())
        && base
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return Err(Failure::usage(format!(
            "`{base}` cannot name a project: use letters, digits, `-` and `_`, starting with a letter"
        )));
    }
    if name.exists() {
        return Err(Failure::usage(format!("{} already exists", name.display())));
    }
    let krate = base.replace('-', "_");
    let files: Vec<(String, Vec<u8>)> = match template {
        None => scaffold(base, &krate)
            .into_iter()
            .map(|(p, t)| (p.to_string(), t.into_bytes()))
            .collect(),
        Some(t) => match super::templates::files(t, base, &krate) {
            Some(mut files) => {
                files.push((".gitignore".into(), GITIGNORE.as_bytes().to_vec()));
                files
            }
            None => return Err(Failure::usage(format!("no template named `{t}`"))),
        },
    };
    let parent = match name.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(p) => p.to_path_buf(),
        None => PathBuf::from("."),
    };
    // Written under a temporary name, then renamed: all or nothing.
    let result = (|| -> std::io::Result<()> {
        let tmp = tempfile::Builder::new()
            .prefix(".unikc-new-")
            .tempdir_in(&parent)?;
        for (path, text) in &files {
            let p = tmp.path().join(path);
            if let Some(d) = p.parent() {
                std::fs::create_dir_all(d)?;
            }
            std::fs::write(p, text)?;
        }
        let kept = tmp.keep();
        std::fs::rename(&kept, name).inspect_err(|_| {
            let _ = std::fs::remove_dir_all(&kept);
        })
    })();
    match result {
        Ok(()) => {
            rep.status("Created", &name.display().to_string());
            Ok(())
        }
        Err(e) => Err(Failure::usage(format!(
            "cannot create {}: {e}",
            name.display()
        ))),
    }
}

fn scaffold(name: &str, krate: &str) -> Vec<(&'static str, String)> {
    vec![
        (
            "config.unik",
            format!(
                r#"# The unikernel `{name}`: `unikc run` builds and runs it on unix;
# `unikc run -- --greeting=Hi` changes the greeting at boot.
let
  greeting = key "greeting" {{
    type = "string";
    default = "Hello from {name}!";
    stage = "runtime";
    doc = "What to print";
  }};
  main = foreign "{krate}::Main" {{ keys = [ greeting ]; }} (console @-> time @-> job);
in
register "{name}" [ main $ default_console $ default_time ]
"#
            ),
        ),
        (
            "Cargo.toml",
            format!(
                r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"

[dependencies]
# The unikc runtime: device traits, keys, logging. `unikc build` uses the
# copy bundled with unikc.
unik-rt = "0.1"
"#
            ),
        ),
        (
            "src/lib.rs",
            format!(
                r#"//! The job of `{name}`; `config.unik` names it `{krate}::Main`.
//! `no_std` (with `alloc`), so the same crate builds for every target.

#![no_std]

use unik_rt::{{Console, JobError, Sleep}};

pub struct Main;

impl Main {{
    /// Runs at boot with one device per argument of its type in
    /// `config.unik`: `console @-> time @-> job`.
    pub async fn start(
        console: &'static impl Console,
        time: &'static impl Sleep,
    ) -> Result<(), JobError> {{
        let greeting = unik_rt::keys::string("greeting")?;
        for _ in 0..3 {{
            console.log(&greeting)?;
            time.sleep_ns(100_000_000).await;
        }}
        Ok(())
    }}
}}
"#
            ),
        ),
        (".gitignore", GITIGNORE.to_string()),
    ]
}

/// Build outputs a project's repository need not keep.
const GITIGNORE: &str = "_build/\ndist/\n";

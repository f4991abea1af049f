//! A job whose `start` does not match its declared type is a unikc
//! diagnostic at the declaration in config.unik and at `start` in the
//! user's crate, never rustc's error in the generated main.rs: one
//! argument too few, one too many, one of the wrong trait.

mod unikernel;

use unikernel::{build_lock, copy_example, unikc};

const CONFIG: &str = r#"let
  few = foreign "hello::Few" (console @-> time @-> job);
  many = foreign "hello::Many" (console @-> job);
  trait = foreign "hello::Trait" (console @-> job);
in
register "hello" [
  (few $ default_console $ default_time),
  (many $ default_console),
  (trait $ default_console)
]
"#;

const LIB: &str = r#"#![no_std]

use unik_rt::{Console, JobError, Sleep};

pub struct Few;

impl Few {
    pub async fn start(console: &'static impl Console) -> Result<(), JobError> {
        console.log("few")?;
        Ok(())
    }
}

pub struct Many;

impl Many {
    pub async fn start(
        console: &'static impl Console,
        time: &'static impl Sleep,
    ) -> Result<(), JobError> {
        time.sleep_ns(1).await;
        console.log("many")?;
        Ok(())
    }
}

pub struct Trait;

impl Trait {
    pub async fn start(time: &'static impl Sleep) -> Result<(), JobError> {
        time.sleep_ns(1).await;
        Ok(())
    }
}
"#;

#[test]
fn each_mismatched_start_is_a_diagnostic_at_the_declaration_and_at_start() {
    let (_tmp, dir) = copy_example("hello");
    std::fs::write(dir.join("config.unik"), CONFIG).unwrap();
    std::fs::write(dir.join("src/lib.rs"), LIB).unwrap();
    let out = {
        let _g = build_lock();
        unikc(&dir, &["build", "-t", "unix"])
    };
    let all = out.all();
    assert_ne!(out.code, 0, "{all}");
    for (job, decl) in [
        ("Few", "few = foreign"),
        ("Many", "many = foreign"),
        ("Trait", "trait = foreign"),
    ] {
        let head = format!("`hello::{job}::start` does not match the declared type");
        let at = all
            .find(&head)
            .unwrap_or_else(|| panic!("{job}: E0703\n{all}"));
        // The diagnostic's own text, up to the next one.
        let rest = &all[at..];
        let end = rest[1..].find("E0703").map_or(rest.len(), |e| e + 1);
        let one = &rest[..end];
        let decl_line = CONFIG.lines().position(|l| l.contains(decl)).unwrap() + 1;
        assert!(
            one.contains(&format!("config.unik:{decl_line}:")),
            "{job}: labelled at its declaration\n{one}"
        );
        assert!(
            one.contains("src/lib.rs:") && one.contains("is defined here"),
            "{job}: labelled at its start\n{one}"
        );
        assert!(
            one.contains("rustc: error[E0"),
            "{job}: rustc's text as a note\n{one}"
        );
    }
    assert_eq!(
        all.matches("does not match the declared type").count(),
        3,
        "{all}"
    );
    assert!(
        !all.contains("main.rs:"),
        "no span in generated code:\n{all}"
    );
}

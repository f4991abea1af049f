//! Every place that lists targets agrees with `Target::ALL`: the `-t`
//! values of every command, code generation, `unikc run`, the book's
//! target table and `unikc explain E0401`. This test adds nothing; a
//! target added to `Target` and forgotten elsewhere fails it.

use std::process::Command;
use unik_lang::Target;
use unik_lang::target::Run;

fn unikc(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_unikc"))
        .args(args)
        .output()
        .expect("unikc runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_target_option_offers_the_target_list() {
    let want = Target::NAMES.join(", ");
    for cmd in [
        "check",
        "eval",
        "describe",
        "configure",
        "lock",
        "build",
        "run",
    ] {
        let (code, help, _) = unikc(&[cmd, "--help"]);
        assert_eq!(code, 0, "{cmd} --help");
        let values = help
            .split("[possible values: ")
            .nth(1)
            .and_then(|rest| rest.split(']').next())
            .unwrap_or_else(|| panic!("`unikc {cmd} --help` lists no target values:\n{help}"));
        assert_eq!(values, want, "unikc {cmd} -t");
    }
    // A name outside the list is refused with the list.
    let (code, _, err) = unikc(&["check", "-t", "solo5"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&want), "{err}");
}

#[test]
fn codegen_and_run_follow_the_target() {
    for t in Target::ALL {
        let backend = unik_codegen::backends::lookup(t);
        assert_eq!(backend.is_ok(), t.builds(), "codegen for {t}");
        if let Err(e) = backend {
            assert!(e.message.contains(t.name()), "{}", e.message);
        }
        match t.run() {
            // What runs must build.
            Run::Process | Run::Qemu | Run::Tender(_) => assert!(t.builds(), "{t}"),
            Run::Unsupported(why) => assert!(!why.is_empty(), "{t}"),
        }
    }
    // `unikc run` of a target that cannot run says why before building.
    let hello = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/hello");
    for t in Target::ALL {
        if let Run::Unsupported(why) = t.run() {
            let (code, _, err) = unikc(&["run", hello, "-t", t.name()]);
            assert_eq!(code, 1, "{err}");
            assert!(err.contains(why), "run -t {t}: {err}");
            assert!(!err.contains("Building"), "run -t {t} built: {err}");
        }
    }
}

#[test]
fn the_book_table_lists_each_target_as_it_is() {
    let book = include_str!("../book/src/targets.md");
    let rows: Vec<Vec<&str>> = book
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| l.trim_matches('|').split(" | ").map(str::trim).collect())
        .collect();
    let names: Vec<&str> = rows.iter().map(|r| r[0].trim_matches('`')).collect();
    assert_eq!(names, Target::NAMES, "the book's target table");
    let yes = |b: bool| if b { "yes" } else { "no" };
    for (t, row) in Target::ALL.into_iter().zip(&rows) {
        if t.builds() {
            let image = format!("`dist/{}`", t.image_file("NAME"));
            let image_ext = format!("`dist/{}", t.image_file("NAME"));
            assert!(
                row[1].contains(&image) || row[1].contains(&image_ext),
                "{t}: the book says the image is {}",
                row[1]
            );
        }
        assert_eq!(row[3], yes(t.builds()), "{t}: `unikc build` column");
        let runs = !matches!(t.run(), Run::Unsupported(_));
        assert_eq!(row[4], yes(runs), "{t}: `unikc run` column");
    }
}

#[test]
fn explain_e0401_names_every_target() {
    let (code, text, _) = unikc(&["explain", "E0401"]);
    assert_eq!(code, 0);
    let listed = Target::NAMES
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains(&listed),
        "E0401 should list {listed}:\n{text}"
    );
    let count = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    ][Target::ALL.len()];
    assert!(flat.contains(&format!("the {count} targets")), "{text}");
}

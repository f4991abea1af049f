//! The resolver through the session API, on small configurations.

use std::collections::BTreeMap;
use unik_lang::Target;
use unik_resolver::session::{self, Matrix, Request, Session};
use unik_resolver::{HostDeviceKind, Resolved};

fn run_with(text: &str, matrix: Matrix, keys: &[(&str, &str)]) -> Session {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.unik");
    std::fs::write(&file, text).unwrap();
    let mut req = Request::new(&file, matrix);
    req.keys = keys
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect::<BTreeMap<_, _>>();
    session::run(&req).unwrap()
}

fn codes(s: &Session) -> Vec<&'static str> {
    s.diagnostics.iter().map(|d| d.code).collect()
}

fn unix(text: &str) -> Resolved {
    let s = run_with(text, Matrix::Only(vec![Target::Unix]), &[]);
    assert_eq!(codes(&s), Vec::<&str>::new(), "{:?}", s.diagnostics);
    s.resolved(Target::Unix).unwrap().clone()
}

#[test]
fn a_device_used_twice_is_one_node() {
    let g = unix(
        r#"let
             a = foreign "a::A" (console @-> network @-> job);
             b = foreign "b::B" (console @-> network @-> job);
           in register "two" [ a $ default_console $ netif "tap0", b $ default_console $ netif "tap0" ]"#,
    );
    // console, one tap0 (built twice from equal parts), two jobs.
    assert_eq!(g.nodes.len(), 4, "{:#?}", g.nodes);
    assert_eq!(g.nodes[g.jobs[0].0].args, g.nodes[g.jobs[1].0].args);
}

#[test]
fn different_parameters_make_different_nodes() {
    let g = unix(
        r#"let a = foreign "a::A" (network @-> network @-> job);
           in register "two" [ a $ netif "tap0" $ netif "tap1" ]"#,
    );
    assert_eq!(g.nodes.len(), 3);
    let names: Vec<_> = g
        .nodes
        .iter()
        .filter_map(|n| n.host_device.as_ref())
        .map(|h| (h.kind, h.name.clone()))
        .collect();
    assert_eq!(
        names,
        vec![
            (HostDeviceKind::Net, "tap0".into()),
            (HostDeviceKind::Net, "tap1".into())
        ]
    );
}

#[test]
fn nodes_come_in_dependency_order() {
    let g = unix(
        r#"let main = foreign "n::N" (stackv4 @-> job);
           in register "n" [ main $ generic_stackv4 default_network ]"#,
    );
    for n in g.nodes.iter() {
        for a in n.args.iter().chain(&n.deps) {
            assert!(a.0 < n.id.0, "{} uses {} declared later", n.var, a.0);
        }
    }
}

#[test]
fn both_branches_are_type_checked_on_every_target() {
    let s = run_with(
        r#"let main = foreign "h::H" (console @-> job);
           in register "h" [ main $ (if_impl is_xen (block_of_file "d") default_console) ]"#,
        Matrix::All,
        &[],
    );
    assert_eq!(codes(&s), vec!["E0301"]);
    // Reported once, for every target.
    assert!(s.diagnostics[0].targets.is_empty());
}

#[test]
fn only_the_chosen_branch_must_support_the_target() {
    let s = run_with(
        r#"let main = foreign "k::K" (kv_rw @-> job);
           in register "k" [ main $ (if_impl is_unix (direct_kv_rw "d") kv_rw_mem) ]"#,
        Matrix::All,
        &[],
    );
    assert_eq!(codes(&s), Vec::<&str>::new(), "{:?}", s.diagnostics);
    assert_eq!(s.targets.len(), 7);
    assert_eq!(
        s.resolved(Target::Unix).unwrap().nodes[0].module,
        "unik_unix::kv_rw"
    );
    assert_eq!(
        s.resolved(Target::Hvt).unwrap().nodes[0].module,
        "unik_solo5::kv_mem"
    );
}

#[test]
fn the_default_matrix_skips_unsupported_targets() {
    let text = r#"let main = foreign "k::K" (kv_rw @-> job);
                  in register "k" [ main $ direct_kv_rw "d" ]"#;
    let s = run_with(text, Matrix::Allowed, &[]);
    assert_eq!(s.errors(), 0);
    assert_eq!(
        s.targets.iter().map(|(t, _)| t.name()).collect::<Vec<_>>(),
        vec!["unix"]
    );
    assert_eq!(s.skipped.len(), 6);
    let all = run_with(text, Matrix::All, &[]);
    assert_eq!(codes(&all), vec!["E0402"]);
    assert_eq!(
        all.diagnostics[0].targets,
        vec!["hvt", "spt", "virtio", "muen", "genode", "xen"]
    );
}

#[test]
fn configure_keys_choose_and_are_reported() {
    let text = r#"let main = foreign "n::N" (stackv4 @-> job);
                  in register "n" [ main $ generic_stackv4 default_network ]"#;
    let s = run_with(text, Matrix::Only(vec![Target::Unix]), &[("net", "direct")]);
    assert_eq!(s.errors(), 0, "{:?}", s.diagnostics);
    let g = s.resolved(Target::Unix).unwrap();
    assert!(g.nodes.iter().any(|n| n.impl_name == "direct_stackv4"));
    let net = g.configure_keys.iter().find(|k| k.name == "net").unwrap();
    assert_eq!(net.value, serde_json::json!("direct"));
    assert!(net.from_command_line);
    // The direct stack's static address comes from boot keys.
    let names: Vec<_> = g.runtime_keys.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(names, vec!["ipv4", "ipv4-gateway"]);
}

#[test]
fn runtime_key_values_make_an_escaped_boot_command_line() {
    let text = r#"let
                    greeting = key "hello" { type = "string"; default = "hi"; stage = "runtime"; doc = "greeting"; };
                    main = foreign "h::H" { keys = [ greeting ]; } (console @-> job);
                  in register "h" [ main $ default_console ]"#;
    let s = run_with(
        text,
        Matrix::Only(vec![Target::Unix]),
        &[("hello", "Bonjour à tous \\o/")],
    );
    let g = s.resolved(Target::Unix).unwrap();
    assert_eq!(g.boot_cmdline, "--hello=Bonjour\\ à\\ tous\\ \\\\o/");
    assert_eq!(
        unik_resolver::bootargs::split(&g.boot_cmdline),
        vec!["--hello=Bonjour à tous \\o/"]
    );
    assert_eq!(g.runtime_keys[0].default, Some(serde_json::json!("hi")));
}

#[test]
fn bounds_merge_per_crate() {
    let g = unix(
        r#"let
             a = foreign "a::A" { packages = [ (package "bytes" { min = "1.2.0"; max = "2.0.0"; features = [ "std" ]; }) ]; } (console @-> job);
             b = foreign "b::B" { packages = [ (package "bytes" { min = "1.5.0"; max = "1.9.0"; features = [ "serde" ]; }) ]; } (console @-> job);
           in register "ab" [ a $ default_console, b $ default_console ]"#,
    );
    let bytes = g.crates.iter().find(|c| c.name == "bytes").unwrap();
    assert_eq!(bytes.req, ">=1.5.0, <1.9.0");
    assert_eq!(bytes.features, vec!["serde", "std"]);
    assert_eq!(bytes.sources.len(), 2);
    assert_eq!(bytes.sources[1].chain, vec!["b::B"]);
}

#[test]
fn disjoint_bounds_of_catalogue_style_devices_are_e0502() {
    // The MirageOS catalogue bug: crunch wants mirage-kv-mem >=4 <5 and
    // kv_rw_mem >=3 <4.
    let s = run_with(
        r#"let
             ro = impl { name = "crunch"; type = kv_ro; module = "x::Ro"; connect = "{module}::connect()"; doc = "ro";
                         packages = [ (package "mirage-kv-mem" { min = "4.0.0"; max = "5.0.0"; }) ]; };
             rw = impl { name = "kv_rw_mem"; type = kv_rw; module = "x::Rw"; connect = "{module}::connect()"; doc = "rw";
                         packages = [ (package "mirage-kv-mem" { min = "3.0.0"; max = "4.0.0"; }) ]; };
             main = foreign "s::S" (kv_ro @-> kv_rw @-> job);
           in register "s" [ main $ ro $ rw ]"#,
        Matrix::All,
        &[],
    );
    assert_eq!(codes(&s), vec!["E0502"]);
    let d = &s.diagnostics[0];
    assert_eq!(d.labels.len(), 2);
    assert!(
        d.notes.iter().any(|n| n.contains("s::S → crunch")),
        "{:?}",
        d.notes
    );
    assert!(
        d.notes.iter().any(|n| n.contains("s::S → kv_rw_mem")),
        "{:?}",
        d.notes
    );
}

#[test]
fn connect_templates_render() {
    let g = unix(
        r#"let main = foreign "b::B" (block @-> job);
           in register "b" [ main $ block_of_file "disk \"1\".img" ]"#,
    );
    let node = &g.nodes[0];
    let fill = unik_resolver::connect::Fill {
        args: &[],
        deps: &[],
        key: &|k| format!("key({k})"),
        embed: None,
    };
    assert_eq!(
        unik_resolver::connect::render(node, &fill).unwrap(),
        r#"unik_unix::block::connect("disk \"1\".img")"#
    );
}

#[test]
fn a_bad_connect_template_is_reported() {
    let s = run_with(
        r#"let d = impl { name = "d"; type = console; module = "x::D"; connect = "{module}::connect({1})"; doc = "d"; };
               main = foreign "h::H" (console @-> job);
           in register "h" [ main $ d ]"#,
        Matrix::Only(vec![Target::Unix]),
        &[],
    );
    assert_eq!(codes(&s), vec!["E0202"]);
    assert!(
        s.diagnostics[0].message.contains("argument 1"),
        "{}",
        s.diagnostics[0].message
    );
}

#[test]
fn embed_directories_are_absolute() {
    let s = run_with(
        r#"let main = foreign "w::W" (kv_ro @-> job);
           in register "w" [ main $ crunch ./htdocs ]"#,
        Matrix::Only(vec![Target::Unix]),
        &[],
    );
    let g = s.resolved(Target::Unix).unwrap();
    let dir = g.nodes[0].embed_dir.as_deref().unwrap();
    assert!(dir.starts_with('/') && dir.ends_with("/htdocs"), "{dir}");
}

#[test]
fn resolution_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.unik");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/network/config.unik"
        ),
        &file,
    )
    .unwrap();
    let json = || {
        let mut req = Request::new(&file, Matrix::Only(vec![Target::Hvt]));
        req.keys.insert("dhcp".into(), "true".into());
        let s = session::run(&req).unwrap();
        unik_resolver::describe::json(s.resolved(Target::Hvt).unwrap())
    };
    assert_eq!(json(), json());
}

#[test]
fn chains_are_shortest_paths_from_a_job() {
    let g = unix(
        r#"let main = foreign "n::N" (stackv4 @-> job);
           in register "n" [ main $ generic_stackv4 default_network ]"#,
    );
    let _ = g;
    let s = run_with(
        r#"let main = foreign "n::N" (stackv4 @-> job);
           in register "n" [ main $ generic_stackv4 default_network ]"#,
        Matrix::Only(vec![Target::Hvt]),
        &[],
    );
    let g = s.resolved(Target::Hvt).unwrap();
    let rt = g.crates.iter().find(|c| c.name == "unik-solo5").unwrap();
    let netif = rt
        .sources
        .iter()
        .find(|b| g.nodes[b.node.0].impl_name == "netif")
        .unwrap();
    assert_eq!(netif.chain, vec!["n::N", "direct_stackv4", "netif"]);
}

#[test]
fn deeply_nested_devices_resolve() {
    // A fold of 50,000 `$`: the typing and graph passes must not overflow
    // (they grow the stack). The thread is 64 MiB because dropping the
    // evaluated value recurses (as in the unikc binary, which runs on a
    // 512 MiB stack).
    let worker = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(|| {
            let s = run_with(
                r#"let
                     t = typ "t";
                     layer = impl { name = "layer"; module = "x::L"; type = t @-> t; connect = "{module}::connect({0})"; doc = "l"; };
                     base = impl { name = "base"; module = "x::B"; type = t; connect = "{module}::connect()"; doc = "b"; };
                     range = lo: hi: if hi - lo == 0 then [] else if hi - lo == 1 then [ lo ]
                       else let mid = lo + (hi - lo) / 2; in range lo mid ++ range mid hi;
                     main = foreign "x::M" (t @-> job);
                   in register "deep" [ main $ foldl (acc: i: layer $ acc) base (range 0 50000) ]"#,
                Matrix::Only(vec![Target::Unix]),
                &[],
            );
            assert_eq!(codes(&s), Vec::<&str>::new());
            s.resolved(Target::Unix).unwrap().nodes.len()
        })
        .unwrap();
    assert_eq!(worker.join().unwrap(), 50_002);
}

/// Writes `files` (relative path, text) under a fresh directory and checks
/// `config.unik` there on unix.
fn project(files: &[(&str, &str)]) -> (tempfile::TempDir, Session) {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
    }
    let file = dir.path().join("config.unik");
    let s = session::run(&Request::new(&file, Matrix::Only(vec![Target::Unix]))).unwrap();
    (dir, s)
}

fn pinned_path(s: &Session, name: &str) -> String {
    let g = s
        .resolved(Target::Unix)
        .unwrap_or_else(|| panic!("{:?}", s.diagnostics));
    match &g.crates.iter().find(|c| c.name == name).unwrap().pin {
        Some(unik_resolver::PinReq::Path { path }) => path.clone(),
        other => panic!("{name} is pinned to {other:?}"),
    }
}

/// `pin = { path = ./dir; }`: a path literal, resolved against the file it
/// is written in, here an import in another directory; a string beside it
/// is resolved against the file that declares its `package`.
#[test]
fn path_pins_resolve_against_their_file() {
    let (dir, s) = project(&[
        (
            "config.unik",
            r#"let
  lib = import ./sub/lib.unik;
  main = foreign "a::A" { packages = [ lib.helper, lib.other ]; } job;
in register "a" [ main ]"#,
        ),
        (
            "sub/lib.unik",
            r#"{
  helper = package "helper" { pin = { path = ./helper; }; };
  other = package "other" { pin = { path = "../vendor/other"; }; };
}"#,
        ),
    ]);
    assert_eq!(codes(&s), Vec::<&str>::new(), "{:?}", s.diagnostics);
    let root = dir.path().to_str().unwrap();
    assert_eq!(pinned_path(&s, "helper"), format!("{root}/sub/helper"));
    assert_eq!(pinned_path(&s, "other"), format!("{root}/vendor/other"));
}

/// Pins are compared by the place they name: a literal and a string for
/// the same directory agree; two directories are E0503, each shown as it
/// would be written in its file (no machine-specific absolute path).
#[test]
fn path_pins_are_compared_by_place() {
    let two = |a: &str, b: &str| {
        format!(
            r#"let
  a = foreign "a::A" {{ packages = [ (package "dep" {{ pin = {{ path = {a}; }}; }}) ]; }} job;
  b = foreign "b::B" {{ packages = [ (package "dep" {{ pin = {{ path = {b}; }}; }}) ]; }} job;
in register "ab" [ a, b ]"#
        )
    };
    let (dir, s) = project(&[("config.unik", &two("./dep", "\"dep\""))]);
    assert_eq!(codes(&s), Vec::<&str>::new(), "{:?}", s.diagnostics);
    assert_eq!(
        pinned_path(&s, "dep"),
        format!("{}/dep", dir.path().display())
    );

    let (_dir, s) = project(&[("config.unik", &two("./dep", "../elsewhere/dep"))]);
    assert_eq!(codes(&s), ["E0503"], "{:?}", s.diagnostics);
    let labels: Vec<&str> = s.diagnostics[0]
        .labels
        .iter()
        .map(|l| l.message.as_str())
        .collect();
    assert_eq!(
        labels,
        [
            "pinned to path `./dep`",
            "pinned to path `../elsewhere/dep`"
        ]
    );
}

/// A pin's path of the wrong kind is E0202, naming both accepted kinds.
#[test]
fn a_pin_path_of_the_wrong_kind() {
    let (_dir, s) = project(&[(
        "config.unik",
        r#"register "a" [ (foreign "a::A" { packages = [ (package "dep" { pin = { path = 3; }; }) ]; } job) ]"#,
    )]);
    assert_eq!(codes(&s), ["E0202"], "{:?}", s.diagnostics);
    assert_eq!(
        s.diagnostics[0].message,
        "field `path` of `pin` must be a path (`./crate`) or a string, found an int"
    );
}

/// `deprecated = "…"` in an `impl`: a used implementation warns once
/// (W0301, at the use and the definition) and still resolves; an unused
/// one does not warn.
#[test]
fn a_deprecated_implementation_warns_once_and_resolves() {
    let config = |used: &str| {
        format!(
            r#"let
  old = impl {{
    name = "old";
    type = console;
    module = "m";
    connect = "{{module}}::connect()";
    deprecated = "use `default_console`";
  }};
  a = foreign "a::A" (console @-> job);
  b = foreign "b::B" (console @-> job);
in register "a" [ a $ {used}, b $ {used} ]"#
        )
    };
    let s = run_with(&config("old"), Matrix::Only(vec![Target::Unix]), &[]);
    assert_eq!(codes(&s), ["W0301"], "{:?}", s.diagnostics);
    let d = &s.diagnostics[0];
    assert!(!d.is_error());
    assert_eq!(d.message, "`old` is deprecated: use `default_console`");
    assert_eq!(d.labels.len(), 2);
    assert!(
        s.resolved(Target::Unix).is_some(),
        "a warning keeps the graph"
    );

    let s = run_with(
        &config("default_console").replace("  a = ", "  c = old;\n  a = "),
        Matrix::Only(vec![Target::Unix]),
        &[],
    );
    assert!(!codes(&s).contains(&"W0301"), "{:?}", s.diagnostics);
}

//! Every stored input of every fuzz target, run through its harness: the seeds the stack and
//! the repository provide, the corpus `run.sh` grew (`corpus/TARGET/`), and every crash a
//! campaign found (`regressions/TARGET/`, kept once fixed).

use std::path::Path;

fn stored(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<_> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    v.sort();
    v
}

fn replay(target: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut inputs: Vec<(String, Vec<u8>)> = unik_fuzz::seeds::for_target(target)
        .into_iter()
        .enumerate()
        .map(|(i, s)| (format!("seed {i}"), s))
        .collect();
    inputs.extend(stored(&root.join("corpus").join(target)));
    inputs.extend(stored(&root.join("regressions").join(target)));
    assert!(!inputs.is_empty(), "no inputs for {target}");
    eprintln!("{target}: {} inputs", inputs.len());
    for (name, data) in &inputs {
        let r = std::panic::catch_unwind(|| unik_fuzz::run(target, data));
        assert!(r.is_ok(), "{target}: input {name} fails");
    }
}

#[test]
fn wire() {
    replay("wire");
}

#[test]
fn iface() {
    replay("iface");
}

#[test]
fn tcp() {
    replay("tcp");
}

#[test]
fn unik() {
    replay("unik");
}

#[test]
fn lock() {
    replay("lock");
}

#[test]
fn hvt() {
    replay("hvt");
}

#[test]
fn http() {
    replay("http");
}

#[test]
fn dns() {
    replay("dns");
}

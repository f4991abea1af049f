//! Writes every target's seeds to DIR/TARGET/seed-N (run.sh starts libFuzzer from them).

fn main() {
    let dir = std::env::args().nth(1).expect("usage: fuzz-seeds DIR");
    for target in unik_fuzz::TARGETS {
        let d = std::path::Path::new(&dir).join(target);
        std::fs::create_dir_all(&d).unwrap();
        for (i, s) in unik_fuzz::seeds::for_target(target).iter().enumerate() {
            std::fs::write(d.join(format!("seed-{i}")), s).unwrap();
        }
    }
}

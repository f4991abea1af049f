//! Fuzz harnesses. Each module's `run` takes arbitrary bytes and must neither panic, hang nor
//! break an invariant it checks; libFuzzer drives them (`fuzz_targets/`, see `run.sh`) and
//! `tests/replay.rs` runs every stored input through them under `cargo test`.

pub mod dns;
pub mod http;
pub mod hvt;
pub mod iface;
pub mod lock;
pub mod seeds;
pub mod tcp;
pub mod unik;
pub mod wire;

/// The targets, in the order `run.sh` runs them.
pub const TARGETS: [&str; 8] = ["wire", "iface", "tcp", "unik", "lock", "hvt", "http", "dns"];

/// Runs `target`'s harness on `data`.
pub fn run(target: &str, data: &[u8]) {
    match target {
        "wire" => wire::run(data),
        "iface" => iface::run(data),
        "tcp" => tcp::run(data),
        "unik" => unik::run(data),
        "lock" => lock::run(data),
        "hvt" => hvt::run(data),
        "http" => http::run(data),
        "dns" => dns::run(data),
        _ => panic!("no fuzz target `{target}`"),
    }
}

/// The repository root (for seeds read from its files).
pub fn repo() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A byte reader that yields zeros once the input is used up.
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    pub fn new(data: &'a [u8]) -> Input<'a> {
        Input { data }
    }
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((b, rest)) => {
                self.data = rest;
                *b
            }
            None => 0,
        }
    }
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }
    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    /// Up to `n` bytes.
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (a, b) = self.data.split_at(n.min(self.data.len()));
        self.data = b;
        a
    }
    pub fn rest(&mut self) -> &'a [u8] {
        self.bytes(usize::MAX)
    }
}

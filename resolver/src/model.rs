//! The resolved device graph of one configuration for one target: the
//! stable interface between the resolver and its consumers (codegen,
//! `unikc describe --json`, the lock file).
//!
//! Everything here is plain, immutable, deterministic data (the node list
//! is shared between targets that resolve to the same graph). `describe --json`
//! prints exactly this structure (serde), so field names are a contract:
//! fields may be added, never renamed or removed without bumping
//! [`FORMAT_VERSION`].

use serde::Serialize;
use std::collections::BTreeMap;

/// Version of the JSON form of [`Resolved`].
pub const FORMAT_VERSION: u32 = 1;

/// One configuration resolved for one target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resolved {
    /// Always [`FORMAT_VERSION`].
    pub format: u32,
    /// The register's name (`register "hello" …`).
    pub name: String,
    /// The target: `unix`, `hvt`, `spt`, `virtio`, `muen`, `genode` or `xen`.
    pub target: unik_lang::Target,
    /// Every device, in dependency order: a node comes after all its
    /// `args` and `deps`, so connecting them in this order is valid.
    /// `nodes[i].id == NodeId(i)`. A device used twice is one node.
    pub nodes: std::sync::Arc<[Node]>,
    /// The registered jobs, in the register's order (each a node of type `job`).
    pub jobs: Vec<NodeId>,
    /// `register NAME { reporter = …; }`, when given (type `reporter`).
    pub reporter: Option<NodeId>,
    /// `register NAME { argv = …; }`, when given (type `argv`).
    pub argv: Option<NodeId>,
    /// Every crate the reachable devices need, merged per name, sorted by name.
    pub crates: Vec<CrateReq>,
    /// Keys read at boot, sorted by name. Generated code declares them.
    pub runtime_keys: Vec<RuntimeKey>,
    /// Keys fixed when configuring, sorted by name, with their values.
    pub configure_keys: Vec<ConfigureKey>,
    /// The boot command line for the runtime keys given a value on unikc's
    /// command line (`--port=80`): `--NAME=VALUE` arguments joined with
    /// spaces, a space inside a value written `\ ` and a backslash `\\`
    /// (MirageOS 3.3 boot-argument semantics; `unik_rt::bootargs::split`
    /// reverses it). Empty when there are none.
    pub boot_cmdline: String,
}

/// Index of a node in [`Resolved::nodes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct NodeId(pub usize);

/// One device: an implementation applied to all its functor arguments.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Node {
    pub id: NodeId,
    /// A Rust identifier unique in this graph, e.g. `console_0`, for the
    /// variable holding the connected device.
    pub var: String,
    /// The implementation's name (`default_console`, `netif "tap0"`, or the
    /// Rust path of a `foreign`).
    pub impl_name: String,
    /// The Rust path implementing it: a runtime module
    /// (`unik_unix::console`) or, for a `foreign` job, the user's item
    /// (`hello::Hello`).
    pub module: String,
    /// The implementation's declared type, e.g. `network @-> ethernet`.
    pub impl_type: String,
    /// The type of this (fully applied) node, e.g. `ethernet` or `job`.
    #[serde(rename = "type")]
    pub ty: String,
    /// True for the user's code (`foreign`/`main`): generated code calls
    /// `MODULE::start(args…).await` instead of a connect expression.
    pub foreign: bool,
    /// The functor arguments, in the order of the functor type.
    pub args: Vec<NodeId>,
    /// Data dependencies: connected before this node, not passed to it.
    pub deps: Vec<NodeId>,
    /// The connect template (see [`crate::connect`]); `None` for `foreign`.
    /// It is a Rust expression of type `Result<T, E>` with `E: Display`.
    pub connect: Option<String>,
    /// Literal parameters the template refers to as `{param:NAME}`.
    pub params: BTreeMap<String, serde_json::Value>,
    /// A directory to embed (`crunch`): absolute path. The template refers
    /// to the generated `static &[(&str, &[u8])]` as `{embed}`.
    pub embed_dir: Option<String>,
    /// A device the host or tender must provide (Solo5 manifest entry,
    /// QEMU `-device`, tap name or image file).
    pub host_device: Option<HostDevice>,
    /// Names of the keys this implementation declares (see
    /// [`Resolved::runtime_keys`] and [`Resolved::configure_keys`]).
    pub keys: Vec<String>,
    /// Names of the crates this implementation requires (see [`Resolved::crates`]).
    pub crates: Vec<String>,
    /// The implementation's documentation.
    pub doc: String,
    /// Where the implementation was defined (`impl`/`foreign` call).
    pub defined_at: SourcePos,
    /// Where this device was built in the configuration (the outermost `$`
    /// or the device expression), for `# line`-style comments.
    pub used_at: SourcePos,
    /// [`Node::defined_at`] as a span in the session's sources, so later
    /// stages (codegen, builds) label their diagnostics exactly.
    #[serde(skip)]
    pub defined_loc: unik_lang::Loc,
    /// [`Node::used_at`] as a span in the session's sources.
    #[serde(skip)]
    pub used_loc: unik_lang::Loc,
}

/// A file position, 1-based, with the file's display name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct SourcePos {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

/// A device the platform provides by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostDevice {
    pub kind: HostDeviceKind,
    /// Manifest/tap/file name: `service`, `tap0`, `disk.img`, `storage`.
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HostDeviceKind {
    Net,
    Block,
}

/// One crate, with the bounds of every device that needs it merged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CrateReq {
    pub name: String,
    /// A Cargo version requirement (`semver::VersionReq` syntax), e.g.
    /// `>=0.1.0, <0.2.0`, or `*` when no device bounds it.
    pub req: String,
    /// The greatest minimum (inclusive), if any.
    pub min: Option<String>,
    /// The least maximum (exclusive), if any.
    pub max: Option<String>,
    /// Union of every requested feature, sorted.
    pub features: Vec<String>,
    /// A pin overrides where the crate comes from (the bounds still apply).
    pub pin: Option<PinReq>,
    /// Every distinct `package` declaration (place and bounds) that asked
    /// for it, in graph order, each with the first device that used it.
    /// [`Node::crates`] says which devices need the crate.
    pub sources: Vec<BoundSource>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PinReq {
    /// Absolute: a relative pin is resolved against the directory of the
    /// file that declares it.
    Path {
        path: String,
    },
    Git {
        git: String,
        rev: String,
    },
}

/// Who asked for a crate, and with which bounds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BoundSource {
    pub min: Option<String>,
    pub max: Option<String>,
    /// Where the `package` was written.
    pub at: SourcePos,
    /// [`BoundSource::at`] as a span in the session's sources.
    #[serde(skip)]
    pub loc: unik_lang::Loc,
    /// The first device (in graph order) that declared it.
    pub node: NodeId,
    /// Device names from a registered job down to that device, along a
    /// shortest path.
    pub chain: Vec<String>,
}

/// A key read at boot (`stage = "runtime"`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuntimeKey {
    pub name: String,
    /// `int`, `string` or `bool`.
    #[serde(rename = "type")]
    pub ty: String,
    /// The declared default; `None` means the key is required at boot.
    pub default: Option<serde_json::Value>,
    /// A value given on unikc's command line; it goes to `boot_cmdline`.
    pub value: Option<serde_json::Value>,
    pub doc: String,
    /// The nodes that declare it.
    pub used_by: Vec<NodeId>,
}

/// A key fixed when configuring (`stage = "configure"`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigureKey {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    /// The value in effect: from the command line, else the default.
    pub value: serde_json::Value,
    /// True when the value came from the command line.
    pub from_command_line: bool,
    pub doc: String,
}

/// The 1-based position of `loc` in `sources`, with the file's display name.
pub fn source_pos(sources: &unik_lang::diag::SourceMap, loc: unik_lang::Loc) -> SourcePos {
    let f = sources.get(loc.file);
    let (line, column) = f.line_col(loc.span.start);
    SourcePos {
        file: f.name.clone(),
        line,
        column,
    }
}

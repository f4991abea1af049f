//! unikc's code generator: from a resolved device graph
//! ([`unik_resolver::Resolved`]), a Cargo workspace that builds the
//! unikernel image (`configure`), and the cargo run that builds it
//! (`cargo::build`).
//!
//! The output directory (default `_build/NAME-TARGET/` beside the
//! configuration) holds `Cargo.toml`, `src/main.rs`, the target's files
//! (`.cargo/config.toml`, …) and `.unikc-manifest`. Output is a function
//! of the inputs alone: same configuration, user crate, runtime and
//! machine paths give the same bytes. Nothing is written outside the
//! output directory except the runtime cache (see [`bundle`]).

pub mod backends;
pub mod bundle;
pub mod cargo;
pub mod devices;
mod digest;
mod embed;
pub mod error;
pub mod freestanding;
pub mod genode;
mod layout;
mod libvirt;
mod links;
pub mod lock;
mod main_rs;
pub mod muen;
pub mod output;
pub mod paths;
mod plan;
pub mod record;
pub mod stage;
pub mod target;
pub mod user;
mod workspace;
pub mod xen;

pub use devices::{HostDev, host_devices};
pub use error::Error;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use unik_resolver::Resolved;

/// The version of unikc written into generated files.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What to configure.
pub struct Request<'a> {
    pub resolved: &'a Resolved,
    /// The configuration file.
    pub config: &'a Path,
    /// The output directory; `None` is `_build/NAME-TARGET` beside the configuration.
    pub out_dir: Option<&'a Path>,
    /// Overwrite generated files even if they were edited by hand.
    pub force: bool,
    /// Where the runtime is materialised; `None` is [`bundle::default_cache_dir`].
    pub cache_dir: Option<&'a Path>,
}

/// A configured workspace.
#[derive(Debug, Clone)]
pub struct Configured {
    /// The register's name.
    pub name: String,
    pub target: unik_lang::Target,
    /// The configuration's directory.
    pub project_dir: PathBuf,
    pub out_dir: PathBuf,
    /// The cargo binary target.
    pub bin: String,
    /// The generated package's name.
    pub package: String,
    /// Where `unikc build` puts the image: `PROJECT/dist/NAME` on unix.
    pub image: PathBuf,
    pub runtime_dir: PathBuf,
    pub user_crate: Option<user::UserCrate>,
    pub report: output::Report,
    /// Which node produced which lines of the generated `src/main.rs`.
    pub main_lines: Vec<(u32, u32, unik_resolver::NodeId)>,
    /// Where cargo runs a relocatable workspace (`None`: in `out_dir`).
    pub stage: Option<stage::Stage>,
}

/// Generates the workspace. Every check runs before anything is written;
/// then each file is replaced atomically, unchanged files are not touched,
/// and files edited by hand are an error (E0704) unless `force`.
pub fn configure(req: &Request) -> Result<Configured, Error> {
    let plan = plan::prepare(&plan::Inputs {
        resolved: req.resolved,
        config: req.config,
        out_dir: req.out_dir,
        cache_dir: req.cache_dir,
    })?;
    let (files, main_lines) = render(&plan)?;
    let report = output::write(&plan.out_dir, &files, req.force)?;
    links::write(&plan.out_dir, &plan.links, req.force)?;
    let stage = (plan.relocatable()
        && !stage::project_cargo_config(&plan.out_dir, plan.cargo_home.as_deref()))
    .then(|| stage::Stage::new(&plan, &files));
    Ok(Configured {
        name: plan.name.clone(),
        target: plan.target,
        image: plan
            .project_dir
            .join("dist")
            .join(plan.target.image_file(&plan.bin)),
        project_dir: plan.project_dir,
        out_dir: plan.out_dir,
        bin: plan.bin,
        package: plan.package,
        runtime_dir: plan.runtime_dir,
        user_crate: plan.user,
        report,
        main_lines,
        stage,
    })
}

/// Every generated file, by `/` path relative to the output directory.
fn render(plan: &plan::Plan) -> Result<(BTreeMap<String, String>, main_rs::LineMap), Error> {
    let mut files = BTreeMap::new();
    files.insert("Cargo.toml".to_string(), workspace::render(plan));
    let (main, main_lines) = main_rs::render_mapped(plan)?;
    files.insert("src/main.rs".to_string(), main);
    let devices = devices::host_devices(plan.resolved);
    let image = plan
        .project_dir
        .join("dist")
        .join(plan.target.image_file(&plan.bin));
    let ctx = target::Context {
        runtime_dir: &plan.runtime_dir,
        cargo_home: plan.cargo_home.as_deref(),
        bin: &plan.bin,
        project_dir: &plan.project_dir,
        build_root: &plan.build_root,
        relocatable: plan.relocatable(),
        image: &image,
        devices: &devices,
    };
    for (path, text) in plan.backend.files(&ctx) {
        files.insert(path, text);
    }
    Ok((files, main_lines))
}

/// A TOML basic string.
pub(crate) fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

//! The backend of each target: the one `match` over [`Target`] in code
//! generation (the compiler asks for a new target here).

use crate::error::Error;
use crate::freestanding::{Solo5, Virtio};
use crate::genode::Genode;
use crate::muen::Muen;
use crate::target::{Backend, Unix};
use crate::xen::Xen;
use unik_lang::Target;

/// The backend of a target, or why unikc cannot build images for it.
pub fn lookup(target: Target) -> Result<Box<dyn Backend>, Error> {
    let backend: Box<dyn Backend> = match target {
        Target::Unix => Box::new(Unix),
        Target::Virtio => Box::new(Virtio),
        Target::Spt => Box::new(Solo5::Spt),
        Target::Hvt => Box::new(Solo5::Hvt),
        Target::Muen => Box::new(Muen),
        Target::Genode => Box::new(Genode),
        Target::Xen => Box::new(Xen),
    };
    debug_assert!(target.builds());
    Ok(backend)
}

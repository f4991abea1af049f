//! Per-thread state for the executor (a thread-local under `std`, a plain
//! static on the single-core freestanding targets).

#[cfg(feature = "std")]
macro_rules! local_state {
    ($name:ident : $ty:ty = $init:expr) => {
        std::thread_local!(static $name: $ty = $init);
    };
}

#[cfg(not(feature = "std"))]
macro_rules! local_state {
    ($name:ident : $ty:ty = $init:expr) => {
        static $name: $crate::local::Local<$ty> = $crate::local::Local::new($init);
    };
}

pub(crate) use local_state;

#[cfg(not(feature = "std"))]
pub(crate) struct Local<T>(T);

#[cfg(not(feature = "std"))]
impl<T> Local<T> {
    pub(crate) const fn new(value: T) -> Self {
        Self(value)
    }

    /// Same shape as `LocalKey::with`, so callers are identical on both builds.
    pub(crate) fn with<R>(&'static self, f: impl FnOnce(&T) -> R) -> R {
        f(&self.0)
    }

    /// Same shape as `LocalKey::try_with`; a static is always there.
    pub(crate) fn try_with<R>(&'static self, f: impl FnOnce(&T) -> R) -> Result<R, ()> {
        Ok(f(&self.0))
    }
}

// SAFETY: without `std` the runtime only runs on single-core unikernel
// targets with one thread and no interrupt handlers touching this state.
#[cfg(not(feature = "std"))]
unsafe impl<T> Sync for Local<T> {}

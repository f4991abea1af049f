//! Read-write key-value store on a host directory (MirageOS
//! `direct_kv_rw`): every `set` is atomic (temporary file + rename).

use unik_rt::{EntryKind, Key, KvError};

use crate::dir_kv::DirKv;

#[derive(Debug)]
pub struct DirRw(DirKv);

/// Opens the directory `root`; it must exist.
pub fn connect(root: &str) -> Result<DirRw, KvError> {
    DirKv::open(root).map(DirRw)
}

impl unik_rt::KvRo for DirRw {
    async fn exists(&self, key: &Key) -> Result<Option<EntryKind>, KvError> {
        self.0.exists(key)
    }

    async fn get(&self, key: &Key) -> Result<Vec<u8>, KvError> {
        self.0.get(key)
    }

    async fn list(&self, key: &Key) -> Result<Vec<(Key, EntryKind)>, KvError> {
        self.0.list(key)
    }

    async fn last_modified(&self, key: &Key) -> Result<u64, KvError> {
        self.0.last_modified(key)
    }

    async fn size(&self, key: &Key) -> Result<u64, KvError> {
        self.0.size(key)
    }
}

impl unik_rt::KvRw for DirRw {
    async fn set(&self, key: &Key, value: &[u8]) -> Result<(), KvError> {
        self.0.set(key, value)
    }

    async fn remove(&self, key: &Key) -> Result<(), KvError> {
        self.0.remove(key)
    }
}

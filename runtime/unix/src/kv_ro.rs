//! Read-only key-value store on a host directory (MirageOS `direct_kv_ro`).

use unik_rt::{EntryKind, Key, KvError};

use crate::dir_kv::DirKv;

#[derive(Debug)]
pub struct DirRo(DirKv);

/// Opens the directory `root`; it must exist.
pub fn connect(root: &str) -> Result<DirRo, KvError> {
    DirKv::open(root).map(DirRo)
}

impl unik_rt::KvRo for DirRo {
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

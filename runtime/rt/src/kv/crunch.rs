use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use super::tree;
use crate::devices::{EntryKind, Key, KvError, KvRo};

/// A read-only store compiled into the image (MirageOS `crunch`): codegen
/// embeds a directory as a static slice of `(path, contents)`.
pub struct Crunch {
    files: BTreeMap<Key, &'static [u8]>,
    modified_ns: u64,
}

impl Crunch {
    /// Builds the store; paths are `a/b/c`. Fails on an invalid path, a
    /// duplicate, or a path that is both a value and a dictionary.
    pub fn new(files: &'static [(&'static str, &'static [u8])]) -> Result<Self, KvError> {
        let mut map = BTreeMap::new();
        for (path, data) in files {
            let key = Key::parse(path)?;
            tree::check_set(&map, &key)?;
            if map.insert(key.clone(), *data).is_some() {
                return Err(KvError::ValueExpected(key));
            }
        }
        Ok(Self {
            files: map,
            modified_ns: 0,
        })
    }

    /// Sets the time `last_modified` reports for every key (default 0:
    /// the contents are fixed when the image is built).
    pub fn with_modified_ns(mut self, ns: u64) -> Self {
        self.modified_ns = ns;
        self
    }
}

impl KvRo for Crunch {
    async fn exists(&self, key: &Key) -> Result<Option<EntryKind>, KvError> {
        Ok(tree::exists(&self.files, key))
    }

    async fn get(&self, key: &Key) -> Result<Vec<u8>, KvError> {
        Ok(tree::value(&self.files, key)?.to_vec())
    }

    async fn list(&self, key: &Key) -> Result<Vec<(Key, EntryKind)>, KvError> {
        tree::list(&self.files, key)
    }

    async fn last_modified(&self, key: &Key) -> Result<u64, KvError> {
        match tree::exists(&self.files, key) {
            Some(_) => Ok(self.modified_ns),
            None => Err(KvError::NotFound(key.clone())),
        }
    }

    async fn size(&self, key: &Key) -> Result<u64, KvError> {
        Ok(tree::value(&self.files, key)?.len() as u64)
    }
}

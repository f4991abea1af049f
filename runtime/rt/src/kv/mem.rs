use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::cell::RefCell;

use super::tree;
use crate::devices::{EntryKind, Key, KvError, KvRo, KvRw, Op};

struct Entry {
    data: Vec<u8>,
    modified_ns: u64,
}

/// A read-write store in memory (MirageOS `kv_rw_mem`). Batches are
/// all-or-nothing.
pub struct MemKv {
    map: RefCell<BTreeMap<Key, Entry>>,
    clock: Box<dyn Fn() -> u64>,
}

impl MemKv {
    /// `clock` gives wall-clock nanoseconds for `last_modified`.
    pub fn new(clock: impl Fn() -> u64 + 'static) -> Self {
        Self {
            map: RefCell::new(BTreeMap::new()),
            clock: Box::new(clock),
        }
    }

    fn apply(map: &mut BTreeMap<Key, Entry>, op: &Op, now: u64) -> Result<(), KvError> {
        match op {
            Op::Set(key, value) => {
                tree::check_set(map, key)?;
                map.insert(
                    key.clone(),
                    Entry {
                        data: value.clone(),
                        modified_ns: now,
                    },
                );
            }
            Op::Remove(key) => tree::remove(map, key),
        }
        Ok(())
    }
}

impl KvRo for MemKv {
    async fn exists(&self, key: &Key) -> Result<Option<EntryKind>, KvError> {
        Ok(tree::exists(&self.map.borrow(), key))
    }

    async fn get(&self, key: &Key) -> Result<Vec<u8>, KvError> {
        Ok(tree::value(&self.map.borrow(), key)?.data.clone())
    }

    async fn list(&self, key: &Key) -> Result<Vec<(Key, EntryKind)>, KvError> {
        tree::list(&self.map.borrow(), key)
    }

    /// A dictionary reports the newest time of the values below it.
    async fn last_modified(&self, key: &Key) -> Result<u64, KvError> {
        let map = self.map.borrow();
        if let Some(entry) = map.get(key) {
            return Ok(entry.modified_ns);
        }
        map.iter()
            .filter(|(k, _)| k.starts_with(key))
            .map(|(_, e)| e.modified_ns)
            .max()
            .ok_or_else(|| KvError::NotFound(key.clone()))
    }
}

impl KvRw for MemKv {
    async fn set(&self, key: &Key, value: &[u8]) -> Result<(), KvError> {
        let now = (self.clock)();
        Self::apply(
            &mut self.map.borrow_mut(),
            &Op::Set(key.clone(), value.to_vec()),
            now,
        )
    }

    async fn remove(&self, key: &Key) -> Result<(), KvError> {
        tree::remove(&mut self.map.borrow_mut(), key);
        Ok(())
    }

    async fn batch(&self, ops: &[Op]) -> Result<(), KvError> {
        let now = (self.clock)();
        let mut map = self.map.borrow_mut();
        // Check the whole batch against a scratch copy of the keys first.
        let mut scratch: BTreeMap<Key, ()> = map.keys().map(|k| (k.clone(), ())).collect();
        for op in ops {
            match op {
                Op::Set(key, _) => {
                    tree::check_set(&scratch, key)?;
                    scratch.insert(key.clone(), ());
                }
                Op::Remove(key) => tree::remove(&mut scratch, key),
            }
        }
        for op in ops {
            Self::apply(&mut map, op, now)?;
        }
        Ok(())
    }
}

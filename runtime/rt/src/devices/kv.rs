use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use sha2::{Digest, Sha256};

/// A key: a path of segments (MirageOS `Mirage_kv.Key`). Segments are
/// non-empty and are never `.`, `..` or contain `/` or NUL, so a key can
/// never escape a directory-backed store. Displayed as `/a/b`.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    segments: Vec<String>,
}

impl Key {
    pub fn root() -> Self {
        Self::default()
    }

    /// Parses `a/b/c` (leading, trailing and repeated `/` are ignored).
    pub fn parse(path: &str) -> Result<Self, KvError> {
        let mut key = Key::root();
        for seg in path.split('/').filter(|s| !s.is_empty()) {
            key = key.child(seg)?;
        }
        Ok(key)
    }

    /// This key extended by one segment.
    pub fn child(&self, segment: &str) -> Result<Self, KvError> {
        let bad = segment.is_empty()
            || segment == "."
            || segment == ".."
            || segment.contains(['/', '\0']);
        if bad {
            return Err(KvError::InvalidKey(segment.to_string()));
        }
        let mut segments = self.segments.clone();
        segments.push(segment.to_string());
        Ok(Self { segments })
    }

    pub fn segments(&self) -> &[String] {
        &self.segments
    }

    pub fn is_root(&self) -> bool {
        self.segments.is_empty()
    }

    /// The last segment; `None` for the root.
    pub fn basename(&self) -> Option<&str> {
        self.segments.last().map(String::as_str)
    }

    /// The key without its last segment; `None` for the root.
    pub fn parent(&self) -> Option<Key> {
        let (_, rest) = self.segments.split_last()?;
        Some(Key {
            segments: rest.to_vec(),
        })
    }

    /// True if `self` is `other` or lies below it.
    pub fn starts_with(&self, other: &Key) -> bool {
        self.segments.starts_with(&other.segments)
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.segments.is_empty() {
            return f.write_str("/");
        }
        for seg in &self.segments {
            write!(f, "/{seg}")?;
        }
        Ok(())
    }
}

/// What a key names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntryKind {
    Value,
    Dictionary,
}

/// Errors of key-value stores.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KvError {
    NotFound(Key),
    /// A value was found where a dictionary is needed.
    DictionaryExpected(Key),
    /// A dictionary was found where a value is needed.
    ValueExpected(Key),
    /// A segment that cannot be part of a key, or a write to the root.
    InvalidKey(String),
    /// An offset past the end of a value.
    OutOfRange {
        key: Key,
        offset: u64,
        size: u64,
    },
    NoSpace,
    /// The backend failed (OS error code where there is one).
    Io(i32),
}

impl fmt::Display for KvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KvError::NotFound(k) => write!(f, "key {k} not found"),
            KvError::DictionaryExpected(k) => {
                write!(f, "key {k} is a value, a dictionary was expected")
            }
            KvError::ValueExpected(k) => write!(f, "key {k} is a dictionary, a value was expected"),
            KvError::InvalidKey(s) => write!(f, "invalid key segment {s:?}"),
            KvError::OutOfRange { key, offset, size } => {
                write!(f, "offset {offset} is past the end of {key} ({size} bytes)")
            }
            KvError::NoSpace => f.write_str("no space left in the store"),
            KvError::Io(code) => write!(f, "store I/O failed (os error {code})"),
        }
    }
}

/// Read-only key-value store (MirageOS `Mirage_kv.RO`).
pub trait KvRo {
    /// `None` if nothing is stored at `key`.
    async fn exists(&self, key: &Key) -> Result<Option<EntryKind>, KvError>;

    async fn get(&self, key: &Key) -> Result<Vec<u8>, KvError>;

    /// At most `len` bytes of the value from `offset` on.
    async fn get_partial(&self, key: &Key, offset: u64, len: usize) -> Result<Vec<u8>, KvError> {
        let value = self.get(key).await?;
        let size = value.len() as u64;
        if offset > size {
            return Err(KvError::OutOfRange {
                key: key.clone(),
                offset,
                size,
            });
        }
        let start = offset as usize;
        let end = start.saturating_add(len).min(value.len());
        Ok(value[start..end].to_vec())
    }

    /// The direct children of a dictionary, sorted by key (full keys).
    async fn list(&self, key: &Key) -> Result<Vec<(Key, EntryKind)>, KvError>;

    /// Last modification time, nanoseconds since the Unix epoch.
    async fn last_modified(&self, key: &Key) -> Result<u64, KvError>;

    async fn size(&self, key: &Key) -> Result<u64, KvError> {
        Ok(self.get(key).await?.len() as u64)
    }

    /// SHA-256 of a value; for a dictionary, SHA-256 over every value below
    /// it in key order, each as relative path, NUL, 8-byte big-endian
    /// length and contents.
    async fn digest(&self, key: &Key) -> Result<[u8; 32], KvError> {
        match self.exists(key).await? {
            None => Err(KvError::NotFound(key.clone())),
            Some(EntryKind::Value) => Ok(Sha256::digest(self.get(key).await?).into()),
            Some(EntryKind::Dictionary) => {
                let mut hasher = Sha256::new();
                let mut pending = alloc::vec![key.clone()];
                let mut values = Vec::new();
                while let Some(dir) = pending.pop() {
                    for (child, kind) in self.list(&dir).await? {
                        match kind {
                            EntryKind::Value => values.push(child),
                            EntryKind::Dictionary => pending.push(child),
                        }
                    }
                }
                values.sort();
                for value_key in values {
                    let data = self.get(&value_key).await?;
                    for seg in &value_key.segments()[key.segments().len()..] {
                        hasher.update(b"/");
                        hasher.update(seg.as_bytes());
                    }
                    hasher.update([0]);
                    hasher.update((data.len() as u64).to_be_bytes());
                    hasher.update(&data);
                }
                Ok(hasher.finalize().into())
            }
        }
    }
}

/// One change in a [`KvRw::batch`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    Set(Key, Vec<u8>),
    Remove(Key),
}

/// Read-write key-value store (MirageOS `Mirage_kv.RW`).
pub trait KvRw: KvRo {
    /// Stores `value` at `key`, creating the dictionaries above it.
    async fn set(&self, key: &Key, value: &[u8]) -> Result<(), KvError>;

    /// Removes a value or a whole dictionary; removing nothing succeeds.
    async fn remove(&self, key: &Key) -> Result<(), KvError>;

    /// Applies `ops` in order. In-memory stores apply all or none; stores
    /// on a file system apply each op atomically and stop at the first error.
    async fn batch(&self, ops: &[Op]) -> Result<(), KvError> {
        for op in ops {
            match op {
                Op::Set(key, value) => self.set(key, value).await?,
                Op::Remove(key) => self.remove(key).await?,
            }
        }
        Ok(())
    }
}

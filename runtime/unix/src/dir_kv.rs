//! Key-value stores on a host directory: keys map to relative paths
//! (segments can never be `..`). Writes go to a temporary file in the same
//! directory that is synced and renamed over the target, so a reader never
//! sees a partial value; leftovers of a crash are hidden from `list`.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::UNIX_EPOCH;

use unik_rt::{EntryKind, Key, KvError};

pub(crate) const TMP_PREFIX: &str = ".unik-tmp-";

#[derive(Debug)]
pub(crate) struct DirKv {
    root: PathBuf,
}

fn io_error(key: &Key, e: &io::Error) -> KvError {
    match e.kind() {
        io::ErrorKind::NotFound => KvError::NotFound(key.clone()),
        io::ErrorKind::StorageFull => KvError::NoSpace,
        _ => KvError::Io(crate::sys::code(e)),
    }
}

impl DirKv {
    pub(crate) fn open(root: &str) -> Result<Self, KvError> {
        let meta = fs::metadata(root).map_err(|e| io_error(&Key::root(), &e))?;
        if !meta.is_dir() {
            return Err(KvError::DictionaryExpected(Key::root()));
        }
        Ok(Self { root: root.into() })
    }

    fn path(&self, key: &Key) -> PathBuf {
        let mut p = self.root.clone();
        p.extend(key.segments());
        p
    }

    pub(crate) fn exists(&self, key: &Key) -> Result<Option<EntryKind>, KvError> {
        match fs::metadata(self.path(key)) {
            Ok(m) if m.is_dir() => Ok(Some(EntryKind::Dictionary)),
            Ok(_) => Ok(Some(EntryKind::Value)),
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR)) => Ok(None),
            Err(e) => Err(io_error(key, &e)),
        }
    }

    fn expect(&self, key: &Key, kind: EntryKind) -> Result<(), KvError> {
        match self.exists(key)? {
            None => Err(KvError::NotFound(key.clone())),
            Some(k) if k == kind => Ok(()),
            Some(EntryKind::Dictionary) => Err(KvError::ValueExpected(key.clone())),
            Some(EntryKind::Value) => Err(KvError::DictionaryExpected(key.clone())),
        }
    }

    pub(crate) fn get(&self, key: &Key) -> Result<Vec<u8>, KvError> {
        self.expect(key, EntryKind::Value)?;
        fs::read(self.path(key)).map_err(|e| io_error(key, &e))
    }

    pub(crate) fn size(&self, key: &Key) -> Result<u64, KvError> {
        self.expect(key, EntryKind::Value)?;
        fs::metadata(self.path(key))
            .map(|m| m.len())
            .map_err(|e| io_error(key, &e))
    }

    pub(crate) fn list(&self, key: &Key) -> Result<Vec<(Key, EntryKind)>, KvError> {
        self.expect(key, EntryKind::Dictionary)?;
        let mut out = Vec::new();
        for entry in fs::read_dir(self.path(key)).map_err(|e| io_error(key, &e))? {
            let entry = entry.map_err(|e| io_error(key, &e))?;
            // Names that cannot be keys are not part of the store.
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if name.starts_with(TMP_PREFIX) {
                continue;
            }
            let Ok(child) = key.child(&name) else {
                continue;
            };
            if let Some(kind) = self.exists(&child)? {
                out.push((child, kind));
            }
        }
        out.sort();
        Ok(out)
    }

    pub(crate) fn last_modified(&self, key: &Key) -> Result<u64, KvError> {
        let meta = fs::metadata(self.path(key)).map_err(|e| io_error(key, &e))?;
        let modified = meta.modified().map_err(|e| io_error(key, &e))?;
        Ok(modified
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)))
    }

    pub(crate) fn set(&self, key: &Key, value: &[u8]) -> Result<(), KvError> {
        let Some(parent) = key.parent() else {
            return Err(KvError::InvalidKey("/".into()));
        };
        let mut up = Some(parent.clone());
        while let Some(k) = up {
            if self.exists(&k)? == Some(EntryKind::Value) {
                return Err(KvError::DictionaryExpected(k));
            }
            up = k.parent();
        }
        if self.exists(key)? == Some(EntryKind::Dictionary) {
            return Err(KvError::ValueExpected(key.clone()));
        }
        let dir = self.path(&parent);
        fs::create_dir_all(&dir).map_err(|e| io_error(key, &e))?;
        let tmp = dir.join(temp_name());
        write_synced(&tmp, value)
            .and_then(|()| fs::rename(&tmp, self.path(key)))
            .map_err(|e| {
                // Best effort: the write already failed, keep that error.
                let _ = fs::remove_file(&tmp);
                io_error(key, &e)
            })
    }

    pub(crate) fn remove(&self, key: &Key) -> Result<(), KvError> {
        let path = self.path(key);
        let result = match self.exists(key)? {
            None => return Ok(()),
            Some(EntryKind::Value) => fs::remove_file(&path),
            Some(EntryKind::Dictionary) if key.is_root() => clear_dir(&path),
            Some(EntryKind::Dictionary) => fs::remove_dir_all(&path),
        };
        result.map_err(|e| io_error(key, &e))
    }
}

fn temp_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{TMP_PREFIX}{}-{n}", std::process::id())
}

fn write_synced(path: &Path, value: &[u8]) -> io::Result<()> {
    let mut file = fs::File::create(path)?;
    file.write_all(value)?;
    file.sync_all()
}

fn clear_dir(path: &Path) -> io::Result<()> {
    for entry in fs::read_dir(path)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            fs::remove_dir_all(entry.path())?;
        } else {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

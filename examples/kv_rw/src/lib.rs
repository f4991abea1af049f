//! A read-write store: set keys, read them back, list, update in a batch
//! and remove. Runs on `kv_rw_mem` (the configuration) or on a host
//! directory with `direct_kv_rw`, where a failing write (a read-only
//! directory) ends the job with the failing key in the error.

#![no_std]

extern crate alloc;

use alloc::format;
use alloc::string::{String, ToString as _};
use alloc::vec::Vec;
use unik_rt::{JobError, Key, KvRw as Store, Op};

pub struct KvRw;

impl KvRw {
    pub async fn start(store: &'static impl Store) -> Result<(), JobError> {
        let greeting = Key::parse("greeting")?;
        let a = Key::parse("dir/a")?;
        let b = Key::parse("dir/b")?;
        set(store, &greeting, b"hello").await?;
        set(store, &a, b"1").await?;
        set(store, &b, b"2").await?;
        let got = store.get(&greeting).await?;
        log(&format!("greeting = {}", String::from_utf8_lossy(&got)));
        let listed: Vec<String> = store
            .list(&Key::parse("dir")?)
            .await?
            .into_iter()
            .map(|(k, _)| k.to_string())
            .collect();
        log(&format!("dir holds {}", listed.join(" ")));
        store
            .batch(&[Op::Set(a.clone(), b"one".to_vec()), Op::Remove(b.clone())])
            .await
            .map_err(|e| JobError::new(format!("batch: {e}")))?;
        let a_now = store.get(&a).await?;
        log(&format!(
            "after the batch: dir/a = {}, dir/b exists: {}",
            String::from_utf8_lossy(&a_now),
            store.exists(&b).await?.is_some()
        ));
        store.remove(&Key::parse("dir")?).await?;
        log(&format!(
            "after removing dir: dir/a exists: {}",
            store.exists(&a).await?.is_some()
        ));
        Ok(())
    }
}

async fn set(store: &impl Store, key: &Key, value: &[u8]) -> Result<(), JobError> {
    store
        .set(key, value)
        .await
        .map_err(|e| JobError::new(format!("cannot set {key}: {e}")))
}

fn log(line: &str) {
    unik_rt::log::info!(target: "kv_rw", "{line}");
}

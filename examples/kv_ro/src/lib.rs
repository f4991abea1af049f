//! mirage-skeleton device-usage/kv_ro: walk a read-only store and print
//! each value's size and SHA-256, then the value of `secret`. The store is
//! the directory `t`, embedded (`--kv_ro=crunch`) or read from the host
//! (`--kv_ro=direct`); the output is the same.

#![no_std]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec;
use unik_rt::{EntryKind, JobError, Key, KvRo as Store};

pub struct KvRo;

impl KvRo {
    pub async fn start(store: &'static impl Store) -> Result<(), JobError> {
        let mut pending = vec![Key::root()];
        while let Some(dir) = pending.pop() {
            // `list` is sorted; walk depth-first in that order.
            let mut children = store.list(&dir).await?;
            children.reverse();
            for (key, kind) in children {
                match kind {
                    EntryKind::Dictionary => pending.push(key),
                    EntryKind::Value => {
                        let size = store.size(&key).await?;
                        let digest = store.digest(&key).await?;
                        unik_rt::log::info!(target: "kv_ro", "{key}: {size} bytes, sha256 {}", hex(&digest));
                    }
                }
            }
        }
        let secret = store.get(&Key::parse("secret")?).await?;
        let text = String::from_utf8_lossy(&secret);
        unik_rt::log::info!(target: "kv_ro", "secret: {}", text.trim_end());
        Ok(())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

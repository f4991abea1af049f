//! The OCI image layout of `unikc package`: one uncompressed layer holding
//! the unikernel and `urunc.json`, a config and a manifest carrying urunc's
//! keys, and an index. Everything is a pure function of its inputs (tar
//! entries with mtime 0 and owner 0, JSON with sorted keys), so the same
//! inputs give the same digests wherever they are packaged.

use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

pub const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
pub const INDEX_TYPE: &str = "application/vnd.oci.image.index.v1+json";
pub const CONFIG_TYPE: &str = "application/vnd.oci.image.config.v1+json";
pub const LAYER_TYPE: &str = "application/vnd.oci.image.layer.v1.tar";
/// The prefix of every urunc key.
pub const URUNC: &str = "com.urunc.unikernel.";

/// What goes into the image.
#[derive(Debug, Clone)]
pub struct Spec<'a> {
    /// The image's file name under `/unikernel/` (`hello.spt`).
    pub file_name: &'a str,
    pub image: &'a [u8],
    /// urunc's keys without their prefix (`hypervisor` → `spt`).
    pub urunc: BTreeMap<String, String>,
    /// The config's `Cmd`: boot arguments after urunc's own.
    pub cmd: Vec<String>,
    /// `org.opencontainers.image.*` annotations of the manifest.
    pub annotations: BTreeMap<String, String>,
    /// RFC 3339 creation time, when known (`SOURCE_DATE_EPOCH`).
    pub created: Option<String>,
    /// `org.opencontainers.image.ref.name` in the index (`latest`).
    pub tag: &'a str,
}

/// A content-addressed blob.
#[derive(Debug, Clone)]
pub struct Blob {
    pub media_type: &'static str,
    /// `sha256:HEX`.
    pub digest: String,
    pub data: Vec<u8>,
}

impl Blob {
    fn new(media_type: &'static str, data: Vec<u8>) -> Blob {
        Blob {
            media_type,
            digest: digest(&data),
            data,
        }
    }

    fn descriptor(&self) -> Value {
        json!({
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": self.data.len(),
        })
    }

    /// The blob's path inside a layout (`blobs/sha256/HEX`).
    pub fn path(&self) -> String {
        format!("blobs/{}", self.digest.replacen(':', "/", 1))
    }
}

/// A complete image layout, in memory.
#[derive(Debug, Clone)]
pub struct Layout {
    pub layer: Blob,
    pub config: Blob,
    pub manifest: Blob,
    /// `index.json`.
    pub index: Vec<u8>,
}

pub const OCI_LAYOUT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;

pub fn digest(data: &[u8]) -> String {
    let mut s = String::from("sha256:");
    for b in Sha256::digest(data) {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// urunc's keys with their prefix, plain.
pub fn urunc_keys(spec: &Spec) -> BTreeMap<String, String> {
    spec.urunc
        .iter()
        .map(|(k, v)| (format!("{URUNC}{k}"), v.clone()))
        .collect()
}

/// `/urunc.json`: urunc's keys, values in padded standard base64.
pub fn urunc_json(spec: &Spec) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let map: BTreeMap<String, String> = urunc_keys(spec)
        .into_iter()
        .map(|(k, v)| (k, b64.encode(v)))
        .collect();
    let mut out = serde_json::to_vec_pretty(&map).expect("strings serialise");
    out.push(b'\n');
    out
}

pub fn build(spec: &Spec) -> Layout {
    let layer = Blob::new(LAYER_TYPE, layer_tar(spec));
    let labels = urunc_keys(spec);
    let mut config = json!({
        "architecture": "amd64",
        "os": "linux",
        "config": { "Labels": labels },
        "rootfs": { "type": "layers", "diff_ids": [layer.digest] },
    });
    if !spec.cmd.is_empty() {
        config["config"]["Cmd"] = json!(spec.cmd);
    }
    if let Some(t) = &spec.created {
        config["created"] = json!(t);
    }
    let config = Blob::new(CONFIG_TYPE, to_json(&config));
    let mut annotations = labels;
    annotations.extend(spec.annotations.clone());
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": config.descriptor(),
        "layers": [layer.descriptor()],
        "annotations": annotations,
    });
    let manifest = Blob::new(MANIFEST_TYPE, to_json(&manifest));
    let mut entry = manifest.descriptor();
    entry["platform"] = json!({ "architecture": "amd64", "os": "linux" });
    entry["annotations"] = json!({ "org.opencontainers.image.ref.name": spec.tag });
    let index = to_json(&json!({
        "schemaVersion": 2,
        "mediaType": INDEX_TYPE,
        "manifests": [entry],
    }));
    Layout {
        layer,
        config,
        manifest,
        index,
    }
}

/// Compact JSON; serde_json's maps keep keys sorted, so this is canonical.
fn to_json(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).expect("JSON values serialise")
}

/// A tar with fixed metadata: entries in the order given, mtime 0, owner 0.
struct Tar(tar::Builder<Vec<u8>>);

impl Tar {
    fn new() -> Tar {
        Tar(tar::Builder::new(Vec::new()))
    }

    fn entry(&mut self, path: &str, mode: u32, data: Option<&[u8]>) {
        let mut h = tar::Header::new_ustar();
        let kind = match data {
            Some(_) => tar::EntryType::Regular,
            None => tar::EntryType::Directory,
        };
        h.set_entry_type(kind);
        h.set_path(path).expect("short relative paths");
        h.set_mode(mode);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        let data = data.unwrap_or(&[]);
        h.set_size(data.len() as u64);
        h.set_cksum();
        self.0
            .append(&h, data)
            .expect("writing to memory cannot fail");
    }

    fn finish(self) -> Vec<u8> {
        self.0.into_inner().expect("writing to memory cannot fail")
    }
}

/// The layer: `unikernel/NAME.EXT` (0755) and `urunc.json` (0644).
fn layer_tar(spec: &Spec) -> Vec<u8> {
    let mut t = Tar::new();
    t.entry("unikernel/", 0o755, None);
    t.entry(
        &format!("unikernel/{}", spec.file_name),
        0o755,
        Some(spec.image),
    );
    t.entry("urunc.json", 0o644, Some(&urunc_json(spec)));
    t.finish()
}

impl Layout {
    /// Every file of the layout directory, sorted by path.
    pub fn files(&self) -> Vec<(String, &[u8])> {
        let mut files = vec![
            ("index.json".to_string(), &self.index[..]),
            ("oci-layout".to_string(), OCI_LAYOUT),
        ];
        for b in [&self.layer, &self.config, &self.manifest] {
            files.push((b.path(), &b.data[..]));
        }
        files.sort();
        files.dedup_by(|a, b| a.0 == b.0);
        files
    }

    /// The layout as an `oci-archive` tarball (what `skopeo copy
    /// oci-archive:FILE` reads), with the same fixed metadata as the layer.
    pub fn archive(&self) -> Vec<u8> {
        let mut t = Tar::new();
        t.entry("blobs/", 0o755, None);
        t.entry("blobs/sha256/", 0o755, None);
        for (path, data) in self.files() {
            t.entry(&path, 0o644, Some(data));
        }
        t.finish()
    }

    /// Writes the layout directory at `dir`, replacing what was there:
    /// built beside it and renamed into place, so `dir` is never half written.
    pub fn write_dir(&self, dir: &Path) -> std::io::Result<()> {
        let parent = dir.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent)?;
        let tmp = tempfile::Builder::new()
            .prefix(".unikc-oci-")
            .tempdir_in(parent)?;
        std::fs::create_dir_all(tmp.path().join("blobs/sha256"))?;
        for (path, data) in self.files() {
            let mut f = std::fs::File::create(tmp.path().join(&path))?;
            f.write_all(data)?;
            f.sync_all()?;
        }
        let staged = tmp.keep();
        let old = parent.join(format!(
            ".unikc-oci-old-{}",
            dir.file_name().and_then(|n| n.to_str()).unwrap_or("layout")
        ));
        if dir.exists() {
            let _ = std::fs::remove_dir_all(&old);
            std::fs::rename(dir, &old)?;
        }
        let moved = std::fs::rename(&staged, dir);
        if moved.is_err() {
            let _ = std::fs::remove_dir_all(&staged);
        }
        moved?;
        if old.exists() {
            std::fs::remove_dir_all(&old)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(image: &[u8]) -> Spec<'_> {
        Spec {
            file_name: "hello.spt",
            image,
            urunc: BTreeMap::from([
                ("hypervisor".into(), "spt".into()),
                ("binary".into(), "/unikernel/hello.spt".into()),
            ]),
            cmd: vec!["--hello=Hi".into()],
            annotations: BTreeMap::new(),
            created: None,
            tag: "latest",
        }
    }

    #[test]
    fn the_layer_is_a_pure_function_of_the_inputs() {
        let a = build(&spec(b"\x7fELF one"));
        let b = build(&spec(b"\x7fELF one"));
        assert_eq!(a.manifest.digest, b.manifest.digest);
        assert_ne!(a.layer.digest, build(&spec(b"\x7fELF two")).layer.digest);
        let mut entries = tar::Archive::new(&a.layer.data[..]);
        let names: Vec<(String, u32, u64)> = entries
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let h = e.header();
                (
                    e.path().unwrap().display().to_string(),
                    h.mode().unwrap(),
                    h.mtime().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                ("unikernel/".into(), 0o755, 0),
                ("unikernel/hello.spt".into(), 0o755, 0),
                ("urunc.json".into(), 0o644, 0)
            ]
        );
    }

    #[test]
    fn urunc_json_values_are_base64() {
        let j: BTreeMap<String, String> = serde_json::from_slice(&urunc_json(&spec(b""))).unwrap();
        assert_eq!(j["com.urunc.unikernel.hypervisor"], "c3B0");
        assert_eq!(j.len(), 2);
    }
}

mod common;

use std::fs;
use std::path::Path;

use unik_rt::{EntryKind, Key, KvError, KvRo, KvRw, Op};

fn k(s: &str) -> Key {
    Key::parse(s).unwrap()
}

fn tree(root: &Path) {
    fs::create_dir_all(root.join("css/print")).unwrap();
    fs::write(root.join("index.html"), "<h1>hi</h1>").unwrap();
    fs::write(root.join("css/site.css"), "body{}").unwrap();
    fs::write(root.join("css/print/a.css"), "").unwrap();
    fs::write(root.join("abc"), "abc").unwrap();
}

static SAME: &[(&str, &[u8])] = &[
    ("index.html", b"<h1>hi</h1>"),
    ("css/site.css", b"body{}"),
    ("css/print/a.css", b""),
    ("abc", b"abc"),
];

#[test]
fn dir_ro_matches_crunch_of_the_same_tree() {
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path());
    let d = unik_unix::kv_ro::connect(dir.path().to_str().unwrap()).unwrap();
    let c = unik_unix::crunch::connect(SAME).unwrap();
    common::run(async {
        for key in [
            "",
            "css",
            "css/print",
            "abc",
            "index.html",
            "css/site.css",
            "nope",
            "abc/x",
        ] {
            let key = k(key);
            assert_eq!(d.exists(&key).await, c.exists(&key).await, "exists {key}");
            assert_eq!(d.get(&key).await.ok(), c.get(&key).await.ok(), "get {key}");
            assert_eq!(
                d.list(&key).await.ok(),
                c.list(&key).await.ok(),
                "list {key}"
            );
            assert_eq!(
                d.digest(&key).await.ok(),
                c.digest(&key).await.ok(),
                "digest {key}"
            );
        }
        assert_eq!(
            d.list(&Key::root()).await.unwrap(),
            vec![
                (k("abc"), EntryKind::Value),
                (k("css"), EntryKind::Dictionary),
                (k("index.html"), EntryKind::Value)
            ]
        );
        assert_eq!(
            d.get(&k("css")).await,
            Err(KvError::ValueExpected(k("css")))
        );
        assert_eq!(d.get(&k("zz")).await, Err(KvError::NotFound(k("zz"))));
        assert_eq!(
            d.list(&k("abc")).await,
            Err(KvError::DictionaryExpected(k("abc")))
        );
        assert_eq!(d.size(&k("index.html")).await, Ok(11));
        let now = unik_unix::pclock::now_ns();
        let modified = d.last_modified(&k("abc")).await.unwrap();
        assert!(modified > 0 && modified <= now + 1_000_000_000);
    });
}

#[test]
fn dir_ro_missing_root_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("absent");
    assert_eq!(
        unik_unix::kv_ro::connect(missing.to_str().unwrap()).err(),
        Some(KvError::NotFound(Key::root()))
    );
}

fn leftovers(root: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in fs::read_dir(root).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.contains("unik-tmp") {
            found.push(name);
        }
        if entry.file_type().unwrap().is_dir() {
            found.extend(leftovers(&entry.path()));
        }
    }
    found
}

#[test]
fn dir_rw_atomic_writes() {
    let dir = tempfile::tempdir().unwrap();
    let kv = unik_unix::kv_rw::connect(dir.path().to_str().unwrap()).unwrap();
    common::run(async {
        kv.set(&k("a/b/c"), b"one").await.unwrap();
        kv.set(&k("a/b/c"), b"two, longer").await.unwrap();
        kv.set(&k("top"), &vec![9u8; 100_000]).await.unwrap();
        assert_eq!(kv.get(&k("a/b/c")).await.unwrap(), b"two, longer");
        assert_eq!(fs::read(dir.path().join("a/b/c")).unwrap(), b"two, longer");
        assert_eq!(
            kv.set(&k("a/b/c/d"), b"").await,
            Err(KvError::DictionaryExpected(k("a/b/c")))
        );
        assert_eq!(
            kv.set(&k("a"), b"").await,
            Err(KvError::ValueExpected(k("a")))
        );
        assert!(matches!(
            kv.set(&Key::root(), b"").await,
            Err(KvError::InvalidKey(_))
        ));
        kv.batch(&[Op::Remove(k("a/b")), Op::Set(k("a/new"), b"n".to_vec())])
            .await
            .unwrap();
        assert_eq!(
            kv.list(&k("a")).await.unwrap(),
            vec![(k("a/new"), EntryKind::Value)]
        );
        kv.remove(&k("missing")).await.unwrap();
    });
    assert_eq!(leftovers(dir.path()), Vec::<String>::new());
    // A temporary file left by a crash is not part of the store.
    fs::write(dir.path().join(".unik-tmp-1-1"), "partial").unwrap();
    common::run(async {
        assert_eq!(
            kv.list(&Key::root()).await.unwrap(),
            vec![
                (k("a"), EntryKind::Dictionary),
                (k("top"), EntryKind::Value)
            ]
        );
        kv.remove(&Key::root()).await.unwrap();
        assert_eq!(kv.list(&Key::root()).await.unwrap(), vec![]);
    });
    assert!(
        dir.path().is_dir(),
        "removing the root must keep the directory"
    );
}

#[test]
fn mem_kv_connects() {
    let kv = unik_unix::kv_mem::connect().unwrap();
    common::run(async {
        kv.set(&k("x"), b"1").await.unwrap();
        assert_eq!(kv.get(&k("x")).await.unwrap(), b"1");
        assert!(kv.last_modified(&k("x")).await.unwrap() > 1_600_000_000_000_000_000);
    });
}

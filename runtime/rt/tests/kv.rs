use std::cell::Cell;
use std::rc::Rc;

use sha2_check::sha256;
use unik_rt::kv::{Crunch, MemKv};
use unik_rt::{
    EntryKind, Interest, Key, KvError, KvRo, KvRw, Platform, ReadySet, block_on, devices::Op,
};

mod sha2_check {
    /// Known-answer check of the digest without trusting the crate under test.
    pub fn sha256(hex: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, b) in out.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
        }
        out
    }
}

struct Now;
impl Platform for Now {
    fn now_ns(&self) -> u64 {
        0
    }
    fn wait(&self, _: Option<u64>, _: &[Interest]) -> ReadySet {
        ReadySet::new()
    }
}

fn run<T>(f: impl Future<Output = T>) -> T {
    block_on(&Now, f).expect("in-memory stores never block")
}

fn k(s: &str) -> Key {
    Key::parse(s).unwrap()
}

static FILES: &[(&str, &[u8])] = &[
    ("index.html", b"<h1>hi</h1>"),
    ("css/site.css", b"body{}"),
    ("css/print/a.css", b""),
    ("abc", b"abc"),
];

#[test]
fn keys_reject_escapes() {
    assert_eq!(k("/a//b/").to_string(), "/a/b");
    assert_eq!(Key::root().to_string(), "/");
    assert_eq!(Key::parse("a/../b"), Err(KvError::InvalidKey("..".into())));
    assert_eq!(Key::parse("./x"), Err(KvError::InvalidKey(".".into())));
    assert_eq!(k("a/b").parent(), Some(k("a")));
    assert_eq!(k("a/b").basename(), Some("b"));
}

#[test]
fn crunch_get_list_exists_digest() {
    let c = Crunch::new(FILES).unwrap();
    run(async {
        assert_eq!(c.get(&k("css/site.css")).await.unwrap(), b"body{}");
        assert_eq!(c.exists(&k("css")).await, Ok(Some(EntryKind::Dictionary)));
        assert_eq!(c.exists(&k("abc")).await, Ok(Some(EntryKind::Value)));
        assert_eq!(c.exists(&k("nope")).await, Ok(None));
        assert_eq!(c.exists(&k("css/site")).await, Ok(None));
        assert_eq!(
            c.list(&Key::root()).await.unwrap(),
            vec![
                (k("abc"), EntryKind::Value),
                (k("css"), EntryKind::Dictionary),
                (k("index.html"), EntryKind::Value)
            ]
        );
        assert_eq!(
            c.list(&k("css")).await.unwrap(),
            vec![
                (k("css/print"), EntryKind::Dictionary),
                (k("css/site.css"), EntryKind::Value)
            ]
        );
        assert_eq!(
            c.get(&k("css")).await,
            Err(KvError::ValueExpected(k("css")))
        );
        assert_eq!(c.get(&k("zzz")).await, Err(KvError::NotFound(k("zzz"))));
        assert_eq!(
            c.list(&k("abc")).await,
            Err(KvError::DictionaryExpected(k("abc")))
        );
        assert_eq!(
            c.digest(&k("abc")).await.unwrap(),
            sha256("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        let dir = c.digest(&k("css")).await.unwrap();
        assert_ne!(dir, c.digest(&Key::root()).await.unwrap());
        assert_eq!(
            c.get_partial(&k("index.html"), 4, 100).await.unwrap(),
            b"hi</h1>"
        );
        assert_eq!(c.size(&k("index.html")).await, Ok(11));
    });
}

#[test]
fn crunch_rejects_conflicting_paths() {
    static BAD: &[(&str, &[u8])] = &[("a", b"1"), ("a/b", b"2")];
    assert_eq!(
        Crunch::new(BAD).err(),
        Some(KvError::DictionaryExpected(k("a")))
    );
    static ESCAPE: &[(&str, &[u8])] = &[("../etc/passwd", b"")];
    assert!(matches!(Crunch::new(ESCAPE), Err(KvError::InvalidKey(_))));
}

#[test]
fn mem_kv_set_remove_batch() {
    let t = Rc::new(Cell::new(100u64));
    let clock = t.clone();
    let m = MemKv::new(move || clock.get());
    run(async {
        m.set(&k("a/b"), b"one").await.unwrap();
        t.set(200);
        m.set(&k("a/c"), b"two").await.unwrap();
        assert_eq!(m.last_modified(&k("a/b")).await, Ok(100));
        assert_eq!(m.last_modified(&k("a")).await, Ok(200));
        assert_eq!(
            m.set(&k("a/b/x"), b"").await,
            Err(KvError::DictionaryExpected(k("a/b")))
        );
        assert_eq!(
            m.set(&k("a"), b"").await,
            Err(KvError::ValueExpected(k("a")))
        );
        // All or nothing: the second op conflicts, so the first is not applied.
        let bad = [Op::Set(k("z"), b"1".to_vec()), Op::Set(k("a/c/d"), vec![])];
        assert_eq!(
            m.batch(&bad).await,
            Err(KvError::DictionaryExpected(k("a/c")))
        );
        assert_eq!(m.exists(&k("z")).await, Ok(None));
        let good = [Op::Remove(k("a")), Op::Set(k("a"), b"flat".to_vec())];
        m.batch(&good).await.unwrap();
        assert_eq!(m.get(&k("a")).await.unwrap(), b"flat");
        assert_eq!(
            m.list(&Key::root()).await.unwrap(),
            vec![(k("a"), EntryKind::Value)]
        );
        m.remove(&k("missing")).await.unwrap();
    });
}

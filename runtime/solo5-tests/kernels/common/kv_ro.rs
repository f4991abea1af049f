//! A crunch (embedded, read-only) store read through unik_rt's KvRo on the
//! executor: lists the root, reads a file, prints a digest.
#![no_std]
#![no_main]

extern crate alloc;

use unik_rt::kv::Crunch;
use unik_rt::{Key, KvRo};
use unik_solo5::{BootInfo, kprintln};

unik_solo5::entry!(main);
unik_solo5::manifest! {}

static FILES: &[(&str, &[u8])] = &[
    ("index.html", b"<h1>hello from crunch</h1>\n"),
    ("css/site.css", b"body { color: black }\n"),
];

async fn run(kv: &Crunch) -> Result<(), unik_rt::KvError> {
    for (key, kind) in kv.list(&Key::root()).await? {
        kprintln!("entry: {key} {kind:?}");
    }
    let page = kv.get(&Key::parse("index.html")?).await?;
    kprintln!(
        "index.html: {}",
        core::str::from_utf8(&page).unwrap_or("?").trim_end()
    );
    let css = kv.get_partial(&Key::parse("css/site.css")?, 0, 4).await?;
    kprintln!("css prefix: {}", core::str::from_utf8(&css).unwrap_or("?"));
    let digest = kv.digest(&Key::parse("index.html")?).await?;
    kprintln!("digest: {:02x?}", &digest[..4]);
    kprintln!("missing: {:?}", kv.exists(&Key::parse("nope")?).await?);
    Ok(())
}

fn main(_: &BootInfo) -> i32 {
    let kv = match Crunch::new(FILES) {
        Ok(kv) => kv,
        Err(e) => {
            kprintln!("crunch: {e}");
            return 1;
        }
    };
    match unik_rt::block_on(&unik_solo5::Solo5Platform::new(), run(&kv)) {
        Ok(Ok(())) => 0,
        Ok(Err(e)) => {
            kprintln!("kv: {e}");
            1
        }
        Err(e) => {
            kprintln!("executor: {e}");
            1
        }
    }
}

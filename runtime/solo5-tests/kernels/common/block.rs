//! Block device: the host wrote sector i full of byte i; the guest checks
//! them, writes sectors 8..12 full of 0xa0 + i, and tries every invalid
//! request (each must be refused with EINVAL, not reach the host).
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec;
use unik_rt::Block as _;
use unik_solo5::{BootInfo, Error, kprintln};

unik_solo5::entry!(main);
unik_solo5::manifest! { block "storage" }

fn main(_: &BootInfo) -> i32 {
    let (h, info) = match unik_solo5::block_acquire("storage") {
        Ok(d) => d,
        Err(e) => {
            kprintln!("acquire failed: {e}");
            return 1;
        }
    };
    kprintln!(
        "info: capacity={} block_size={}",
        info.capacity,
        info.block_size
    );
    kprintln!(
        "acquire again: {:?}",
        unik_solo5::block_acquire("storage").err()
    );
    let bs = info.block_size as usize;
    let blocks = info.capacity / info.block_size;
    let mut buf = vec![0u8; bs];
    let mut good = 0;
    for i in 0..blocks.min(8) {
        match unik_solo5::block_read(h, i * info.block_size, &mut buf) {
            Ok(()) if buf.iter().all(|&b| b == i as u8) => good += 1,
            Ok(()) => kprintln!("sector {i}: unexpected content {:?}", &buf[..4]),
            Err(e) => kprintln!("sector {i}: {e}"),
        }
    }
    kprintln!("read_ok={good}");
    let mut written = 0;
    for i in 8..12u64 {
        buf.fill(0xa0 + i as u8);
        if unik_solo5::block_write(h, i * info.block_size, &buf).is_ok() {
            written += 1;
        }
    }
    kprintln!("write_ok={written}");
    let last = info.capacity - info.block_size;
    let checks: [(&str, Result<(), Error>); 6] = [
        ("unaligned", unik_solo5::block_read(h, 1, &mut buf)),
        ("short", unik_solo5::block_read(h, 0, &mut buf[..bs / 2])),
        (
            "two_blocks",
            unik_solo5::block_write(h, 0, &vec![0u8; 2 * bs]),
        ),
        (
            "at_capacity",
            unik_solo5::block_read(h, info.capacity, &mut buf),
        ),
        (
            "overflow",
            unik_solo5::block_read(h, u64::MAX - info.block_size + 1, &mut buf),
        ),
        ("bad_handle", unik_solo5::block_read(h + 1, 0, &mut buf)),
    ];
    for (what, r) in checks {
        kprintln!("invalid {what}: {r:?}");
    }
    kprintln!(
        "last block: {:?}",
        unik_solo5::block_read(h, last, &mut buf)
    );

    // The same device through unik_rt (sectors = blocks), two blocks at once.
    let dev = unik_solo5::rt::block::Block::from_acquired(h, info);
    let mut two = vec![0u8; 2 * bs];
    let r = unik_rt::block_on(&unik_solo5::rt::Solo5Platform, async {
        dev.read(2, &mut two).await
    });
    let ok = matches!(r, Ok(Ok(())))
        && two[..bs].iter().all(|&b| b == 2)
        && two[bs..].iter().all(|&b| b == 3);
    kprintln!("rt_read_ok={ok}");
    0
}

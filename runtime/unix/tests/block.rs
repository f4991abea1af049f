mod common;

use std::io::Write;

use unik_rt::{Block, BlockError, BlockInfo};

#[test]
fn aligned_round_trip_and_rejections() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(&vec![0u8; 8 * 512 + 100]).unwrap();
    let path = file.path().to_str().unwrap().to_string();
    let b = unik_unix::block::connect(&path).unwrap();
    assert_eq!(
        b.info(),
        BlockInfo {
            read_write: true,
            sector_size: 512,
            sectors: 8
        }
    );
    common::run(async {
        let data: Vec<u8> = (0..1024u32).map(|i| (i * 7 % 251) as u8).collect();
        b.write(2, &data).await.unwrap();
        let mut back = vec![0u8; 1024];
        b.read(2, &mut back).await.unwrap();
        assert_eq!(back, data);
        let mut first = vec![0xffu8; 1024];
        b.read(0, &mut first).await.unwrap();
        assert!(
            first.iter().all(|x| *x == 0),
            "neighbouring sectors changed"
        );

        let mut odd = vec![0u8; 100];
        assert_eq!(
            b.read(0, &mut odd).await,
            Err(BlockError::Unaligned {
                len: 100,
                sector_size: 512
            })
        );
        assert_eq!(
            b.write(0, &[0u8; 513]).await,
            Err(BlockError::Unaligned {
                len: 513,
                sector_size: 512
            })
        );
        assert_eq!(
            b.write(7, &data).await,
            Err(BlockError::OutOfRange {
                sector: 7,
                count: 2,
                sectors: 8
            })
        );
        let mut one = vec![0u8; 512];
        assert!(matches!(
            b.read(u64::MAX, &mut one).await,
            Err(BlockError::OutOfRange { .. })
        ));
        b.read(7, &mut one).await.unwrap();
        b.disconnect();
        assert_eq!(b.read(0, &mut one).await, Err(BlockError::Disconnected));
    });
    let on_disk = std::fs::read(file.path()).unwrap();
    assert_eq!(on_disk.len(), 8 * 512 + 100, "the file must not grow");
    assert_eq!(on_disk[1024], 0);
    assert_eq!(on_disk[1025], 7);
}

#[test]
fn missing_file_and_directory_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.img");
    assert_eq!(
        unik_unix::block::connect(missing.to_str().unwrap()).err(),
        Some(BlockError::NotFound)
    );
    assert_eq!(
        unik_unix::block::connect(dir.path().to_str().unwrap()).err(),
        Some(BlockError::Io(libc::EISDIR))
    );
}

#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| unik_fuzz::dns::run(data));

#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| unik_fuzz::http::run(data));

#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| wxdesk_wechat::fuzz::decrypt_push(data));

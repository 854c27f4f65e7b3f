//! A review protocol's TOML source: a protocol or a list of issues, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(source) = std::str::from_utf8(data) {
        let _ = guildmark_review_protocols::Protocol::parse(source);
    }
});

//! Status list bitstrings (GZIP inside base64url) and serial-number ranges: decoded or
//! refused within their bounds, never a panic.
#![no_main]

use guildmark_credentials::status_list::Bitstring;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Bitstring::decode(text);
        let items: Vec<String> = text.split(',').map(str::to_owned).collect();
        let _ = guildmark_review_protocols::serials::expand(&items);
    }
    // Raw GZIP too, as multibase base64url.
    use base64::Engine as _;
    let encoded = format!("u{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data));
    let _ = Bitstring::decode(&encoded);
});

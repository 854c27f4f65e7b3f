//! Signed notes, checkpoints, verifier keys and receipts from a log or a bundle: parsed
//! or refused, never a panic.
#![no_main]

use guildmark_credentials::checkpoint::Checkpoint;
use guildmark_credentials::note::{Note, VerifierKey};
use guildmark_credentials::receipt::Receipt;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(note) = Note::parse(data) {
        // The log key of the checkpoints in the corpus (from testdata's tlog vectors).
        static KEY: std::sync::OnceLock<Option<VerifierKey>> = std::sync::OnceLock::new();
        let key = KEY.get_or_init(|| std::env::var("GUILDMARK_FUZZ_LOG_KEY").ok()?.parse().ok());
        let _ = note.open(key.as_slice());
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Checkpoint::parse(text);
        let _ = text.parse::<VerifierKey>();
        let _ = Receipt::from_tlog_proof(text);
        let _ = guildmark_credentials::tile::Tile::parse(text);
    }
});

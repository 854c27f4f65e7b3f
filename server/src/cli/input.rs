//! Reading what commands are given: documents from files or standard input, JSON-LD
//! context directories, times and keys.

use anyhow::{anyhow, Context as _};
use guildmark_credentials::{Contexts, KeyPair, Timestamp};
use std::io::Read as _;
use std::path::{Path, PathBuf};

/// Reads a file, or standard input when the path is absent or `-`.
pub fn read_document(path: Option<&Path>) -> anyhow::Result<Vec<u8>> {
    match path {
        None => read_stdin(),
        Some(p) if p == Path::new("-") => read_stdin(),
        Some(p) => std::fs::read(p).with_context(|| format!("reading {}", p.display())),
    }
}

fn read_stdin() -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .context("reading standard input")?;
    Ok(bytes)
}

/// A name for the input, for messages.
pub fn input_name(path: Option<&Path>) -> String {
    match path {
        Some(p) if p != Path::new("-") => p.display().to_string(),
        _ => "standard input".into(),
    }
}

/// The bundled contexts, plus those of a directory holding an `index.json` (a map from
/// context URL to file name, as in the W3C vectors' `contexts/` folder).
pub fn load_contexts(dir: Option<&PathBuf>) -> anyhow::Result<Contexts> {
    let mut contexts = Contexts::bundled();
    if let Some(dir) = dir {
        let index_path = dir.join("index.json");
        let index = std::fs::read_to_string(&index_path)
            .with_context(|| format!("reading the context index {}", index_path.display()))?;
        contexts
            .register_index(&index, |file| std::fs::read_to_string(dir.join(file)))
            .with_context(|| format!("loading contexts from {}", dir.display()))?;
    }
    Ok(contexts)
}

/// Parses an RFC 3339 / XML Schema date-time given on the command line.
pub fn parse_time(text: &str) -> Result<Timestamp, String> {
    Timestamp::parse(text).map_err(|e| e.to_string())
}

/// Reads a key file.
pub fn read_key(path: &Path) -> anyhow::Result<KeyPair> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the key file {}", path.display()))?;
    KeyPair::from_key_file(&text)
        .with_context(|| format!("reading the key file {}", path.display()))
}

/// The current time, whole seconds (proofs and reports are dated to the second).
pub fn now() -> Timestamp {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp::from_unix_seconds(since.as_secs() as i64)
}

/// Parses `ID=z6Mk…`: a verification method id and its Multikey public key.
pub fn parse_known_key(text: &str) -> Result<(String, guildmark_credentials::DidKey), String> {
    let (id, key) = text.split_once('=').ok_or_else(|| {
        "expected VERIFICATION_METHOD_ID=z6Mk… (the public key multibase)".to_string()
    })?;
    let key =
        guildmark_credentials::DidKey::from_public_key_multibase(key).map_err(|e| e.to_string())?;
    Ok((id.to_owned(), key))
}

/// Turns a JSON input error into a message naming the input.
pub fn json_error(name: &str, error: guildmark_credentials::JsonError) -> anyhow::Error {
    anyhow!("{name} is not valid JSON: {error}")
}

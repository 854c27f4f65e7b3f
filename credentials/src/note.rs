//! C2SP signed notes (<https://c2sp.org/signed-note>): text plus signature lines, the
//! envelope of transparency-log checkpoints and of witness cosignatures
//! (<https://c2sp.org/tlog-cosignature>).
//!
//! A note is its text (ending in a newline), one empty line, then one or more lines
//! `— <key name> <base64(key ID ‖ signature)>`. Verifier keys are written
//! `<name>+<key ID hex>+<base64(type ‖ public key)>`. Two signature types are supported:
//! Ed25519 (0x01), which logs sign checkpoints with, and Ed25519 cosignature/v1 (0x04),
//! which witnesses add; signatures by unknown keys are carried along and ignored.

use base64::Engine as _;
use ed25519_dalek::{Signature, Verifier as _, VerifyingKey};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

use crate::did_key::KeyPair;

/// The most signatures a note may carry (as Go's implementation; C2SP requires ≥ 16).
pub const MAX_SIGNATURES: usize = 100;

const EM_DASH: &str = "\u{2014} ";

/// Why a note or key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    /// The note does not have the signed-note shape.
    #[error("malformed note: {0}")]
    Malformed(&'static str),
    /// A verifier key string is invalid.
    #[error("invalid verifier key {key:?}: {reason}")]
    BadKey {
        /// The key as given.
        key: String,
        /// Why.
        reason: &'static str,
    },
    /// A signature by a known key does not verify.
    #[error("invalid signature for key {name}+{key_id:08x}")]
    InvalidSignature {
        /// Key name.
        name: String,
        /// Key ID.
        key_id: u32,
    },
    /// No signature by any of the given keys.
    #[error("note has no verifiable signatures")]
    NoVerifiableSignature,
}

/// The signature algorithms of a note signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureType {
    /// Ed25519 over the note text (0x01).
    Ed25519,
    /// Ed25519 cosignature/v1 over a timestamped checkpoint (0x04).
    Cosignature,
}

impl SignatureType {
    fn byte(self) -> u8 {
        match self {
            SignatureType::Ed25519 => 0x01,
            SignatureType::Cosignature => 0x04,
        }
    }
}

/// A note verifier key: name, key ID, type and Ed25519 public key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VerifierKey {
    name: String,
    id: u32,
    kind: SignatureType,
    key: VerifyingKey,
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.contains('+') && !name.chars().any(char::is_whitespace)
}

fn key_id(name: &str, kind: SignatureType, key: &[u8; 32]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', kind.byte()]);
    h.update(key);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

impl VerifierKey {
    /// The Ed25519 (0x01) verifier key of `name`.
    pub fn ed25519(name: &str, key: VerifyingKey) -> Result<Self, NoteError> {
        Self::new(name, SignatureType::Ed25519, key)
    }

    /// The cosignature/v1 (0x04) verifier key of a witness `name`.
    pub fn cosigner(name: &str, key: VerifyingKey) -> Result<Self, NoteError> {
        Self::new(name, SignatureType::Cosignature, key)
    }

    fn new(name: &str, kind: SignatureType, key: VerifyingKey) -> Result<Self, NoteError> {
        if !valid_name(name) {
            return Err(NoteError::BadKey {
                key: name.into(),
                reason: "a key name must be non-empty, without spaces or '+'",
            });
        }
        Ok(VerifierKey {
            name: name.into(),
            id: key_id(name, kind, key.as_bytes()),
            kind,
            key,
        })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 32-bit key ID.
    pub fn key_id(&self) -> u32 {
        self.id
    }

    /// The signature type.
    pub fn kind(&self) -> SignatureType {
        self.kind
    }

    /// The Ed25519 public key.
    pub fn public_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// Checks `signature` (without its key ID) over the note `text`; returns the
    /// cosignature timestamp for a cosigner key.
    fn check(&self, text: &str, signature: &[u8]) -> Option<Option<u64>> {
        match self.kind {
            SignatureType::Ed25519 => {
                let sig = Signature::from_slice(signature).ok()?;
                self.key.verify(text.as_bytes(), &sig).ok().map(|()| None)
            }
            SignatureType::Cosignature => {
                let (time, sig) = signature.split_at_checked(8)?;
                let time = u64::from_be_bytes(time.try_into().ok()?);
                if time > i64::MAX as u64 {
                    return None;
                }
                let sig = Signature::from_slice(sig).ok()?;
                let message = cosignature_message(text, time);
                self.key
                    .verify(message.as_bytes(), &sig)
                    .ok()
                    .map(|()| Some(time))
            }
        }
    }
}

/// The message a cosignature/v1 signs: header, time, then the checkpoint text.
fn cosignature_message(text: &str, time: u64) -> String {
    format!("cosignature/v1\ntime {time}\n{text}")
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut bytes = Vec::with_capacity(33);
        bytes.push(self.kind.byte());
        bytes.extend_from_slice(self.key.as_bytes());
        write!(
            f,
            "{}+{:08x}+{}",
            self.name,
            self.id,
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )
    }
}

impl FromStr for VerifierKey {
    type Err = NoteError;

    fn from_str(text: &str) -> Result<Self, NoteError> {
        let bad = |reason| NoteError::BadKey {
            key: text.into(),
            reason,
        };
        // Split on the first two '+' only: base64 may contain '+'.
        let mut parts = text.splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("expected <name>+<key ID>+<base64 key>"));
        };
        if !valid_name(name) {
            return Err(bad("invalid key name"));
        }
        if id.len() != 8 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad("the key ID must be 8 hex digits"));
        }
        let id = u32::from_str_radix(id, 16).map_err(|_| bad("invalid key ID"))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(key)
            .map_err(|_| bad("the key is not base64"))?;
        let (kind, raw) = match bytes.split_first() {
            Some((0x01, raw)) => (SignatureType::Ed25519, raw),
            Some((0x04, raw)) => (SignatureType::Cosignature, raw),
            Some(_) => return Err(bad("unsupported signature type")),
            None => return Err(bad("empty key")),
        };
        let raw: [u8; 32] = raw
            .try_into()
            .map_err(|_| bad("an Ed25519 key has 32 bytes"))?;
        let key = VerifyingKey::from_bytes(&raw).map_err(|_| bad("not an Ed25519 point"))?;
        if key_id(name, kind, &raw) != id {
            return Err(bad("the key ID does not match the key"));
        }
        Ok(VerifierKey {
            name: name.into(),
            id,
            kind,
            key,
        })
    }
}

impl serde::Serialize for VerifierKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for VerifierKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Signs notes with an Ed25519 key, as a log (type 0x01) or a witness (type 0x04).
#[derive(Debug, Clone)]
pub struct NoteSigner {
    verifier: VerifierKey,
    pair: KeyPair,
}

impl NoteSigner {
    /// A log signer (Ed25519, 0x01).
    pub fn ed25519(name: &str, pair: KeyPair) -> Result<Self, NoteError> {
        Ok(NoteSigner {
            verifier: VerifierKey::ed25519(name, *pair.did_key().public_key())?,
            pair,
        })
    }

    /// A witness signer (cosignature/v1, 0x04).
    pub fn cosigner(name: &str, pair: KeyPair) -> Result<Self, NoteError> {
        Ok(NoteSigner {
            verifier: VerifierKey::cosigner(name, *pair.did_key().public_key())?,
            pair,
        })
    }

    /// The matching verifier key.
    pub fn verifier(&self) -> &VerifierKey {
        &self.verifier
    }

    /// The signature of `text` (for a cosigner, as of `time`, POSIX seconds).
    pub fn signature(&self, text: &str, time: u64) -> NoteSignature {
        let mut bytes = Vec::with_capacity(76);
        match self.verifier.kind {
            SignatureType::Ed25519 => {
                bytes.extend_from_slice(&self.pair.sign(text.as_bytes()).to_bytes());
            }
            SignatureType::Cosignature => {
                bytes.extend_from_slice(&time.to_be_bytes());
                let message = cosignature_message(text, time);
                bytes.extend_from_slice(&self.pair.sign(message.as_bytes()).to_bytes());
            }
        }
        NoteSignature {
            name: self.verifier.name.clone(),
            key_id: self.verifier.id,
            signature: bytes,
        }
    }
}

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// The key name.
    pub name: String,
    /// The key ID.
    pub key_id: u32,
    /// The signature bytes after the key ID (for cosignatures: timestamp ‖ signature).
    pub signature: Vec<u8>,
}

impl fmt::Display for NoteSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut bytes = Vec::with_capacity(4 + self.signature.len());
        bytes.extend_from_slice(&self.key_id.to_be_bytes());
        bytes.extend_from_slice(&self.signature);
        writeln!(
            f,
            "{EM_DASH}{} {}",
            self.name,
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )
    }
}

/// A signed note: its text and signature lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The text, ending in a newline; this is what signatures sign.
    pub text: String,
    /// The signatures, in order.
    pub signatures: Vec<NoteSignature>,
}

/// The signatures of a note that verified, and those from unknown keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// Keys whose signatures verified, each with its cosignature time (if a cosigner).
    pub verified: Vec<(VerifierKey, Option<u64>)>,
    /// Names of signatures by keys that were not given (ignored, as the spec says).
    pub unknown: Vec<String>,
}

impl Note {
    /// A note with `text` (which must end in a newline) and no signatures yet.
    pub fn new(text: impl Into<String>) -> Result<Self, NoteError> {
        let text = text.into();
        check_text(&text)?;
        Ok(Note {
            text,
            signatures: Vec::new(),
        })
    }

    /// Parses a note: UTF-8, no control characters but newline, text, an empty line, then
    /// 1 to 100 well-formed signature lines.
    pub fn parse(bytes: &[u8]) -> Result<Self, NoteError> {
        let message = std::str::from_utf8(bytes).map_err(|_| NoteError::Malformed("not UTF-8"))?;
        if message.chars().any(|c| c < '\u{20}' && c != '\n') {
            return Err(NoteError::Malformed("control character"));
        }
        let split = message
            .rfind("\n\n")
            .ok_or(NoteError::Malformed("no empty line before the signatures"))?;
        let (text, signatures) = (&message[..=split], &message[split + 2..]);
        if signatures.is_empty() {
            return Err(NoteError::Malformed("no signature lines"));
        }
        if !signatures.ends_with('\n') {
            return Err(NoteError::Malformed(
                "the last signature line has no newline",
            ));
        }
        let mut parsed = Vec::new();
        for line in signatures[..signatures.len() - 1].split('\n') {
            let rest = line.strip_prefix(EM_DASH).ok_or(NoteError::Malformed(
                "a signature line must start with '— '",
            ))?;
            let (name, b64) = rest.split_once(' ').ok_or(NoteError::Malformed(
                "a signature line needs a key name and a signature",
            ))?;
            if !valid_name(name) {
                return Err(NoteError::Malformed("invalid key name in a signature line"));
            }
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|_| NoteError::Malformed("signature is not base64"))?;
            if bytes.len() < 5 {
                return Err(NoteError::Malformed("signature too short"));
            }
            parsed.push(NoteSignature {
                name: name.into(),
                key_id: u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]),
                signature: bytes[4..].to_vec(),
            });
            if parsed.len() > MAX_SIGNATURES {
                return Err(NoteError::Malformed("more than 100 signatures"));
            }
        }
        Ok(Note {
            text: text.into(),
            signatures: parsed,
        })
    }

    /// Adds `signer`'s signature, replacing an earlier one by the same key.
    pub fn sign(&mut self, signer: &NoteSigner, time: u64) {
        let new = signer.signature(&self.text, time);
        self.signatures
            .retain(|s| !(s.name == new.name && s.key_id == new.key_id));
        self.signatures.push(new);
    }

    /// The signatures by `key`, an Ed25519 note key, left for the caller to check (in a
    /// batch with others): each signs the note's text. `None` for a cosigner key, whose
    /// signatures sign another message.
    pub fn ed25519_signatures_by(&self, key: &VerifierKey) -> Option<Vec<Signature>> {
        if key.kind != SignatureType::Ed25519 {
            return None;
        }
        Some(
            self.signatures
                .iter()
                .filter(|s| s.name == key.name && s.key_id == key.id)
                .map(|s| {
                    // A wrong length can never verify: the all-zero signature stands in.
                    Signature::from_slice(&s.signature)
                        .unwrap_or_else(|_| Signature::from_bytes(&[0; 64]))
                })
                .collect(),
        )
    }

    /// What the note says for one key: `None` if it carries no signature by that key,
    /// `Some(Ok(time))` if one verifies (the cosignature time; 0 for a log key), and
    /// `Some(Err(()))` if a signature by that key does not verify.
    pub fn signed_by(&self, key: &VerifierKey) -> Option<Result<u64, ()>> {
        let mut found = None;
        for sig in &self.signatures {
            if sig.name != key.name || sig.key_id != key.id {
                continue;
            }
            match key.check(&self.text, &sig.signature) {
                Some(time) => return Some(Ok(time.unwrap_or(0))),
                None => found = Some(Err(())),
            }
        }
        found
    }

    /// Checks the signatures by the given keys: every such signature must verify and at
    /// least one must be present. Signatures by other keys are ignored.
    pub fn open(&self, keys: &[VerifierKey]) -> Result<Opened, NoteError> {
        let mut opened = Opened {
            verified: Vec::new(),
            unknown: Vec::new(),
        };
        for sig in &self.signatures {
            let Some(key) = keys
                .iter()
                .find(|k| k.name == sig.name && k.id == sig.key_id)
            else {
                opened.unknown.push(sig.name.clone());
                continue;
            };
            match key.check(&self.text, &sig.signature) {
                Some(time) => {
                    if !opened.verified.iter().any(|(k, _)| k == key) {
                        opened.verified.push((key.clone(), time));
                    }
                }
                None => {
                    return Err(NoteError::InvalidSignature {
                        name: sig.name.clone(),
                        key_id: sig.key_id,
                    })
                }
            }
        }
        if opened.verified.is_empty() {
            return Err(NoteError::NoVerifiableSignature);
        }
        Ok(opened)
    }
}

fn check_text(text: &str) -> Result<(), NoteError> {
    if !text.ends_with('\n') {
        return Err(NoteError::Malformed("the text must end with a newline"));
    }
    if text.chars().any(|c| c < '\u{20}' && c != '\n') {
        return Err(NoteError::Malformed("control character"));
    }
    Ok(())
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)?;
        f.write_str("\n")?;
        for sig in &self.signatures {
            write!(f, "{sig}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c2sp_example_key_parses_and_prints_back() {
        let text = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
        let key: VerifierKey = text.parse().unwrap();
        assert_eq!(key.name(), "example.com/foo");
        assert_eq!(key.to_string(), text);
    }

    #[test]
    fn sign_and_open_round_trip_and_tampering_is_caught() {
        let signer = NoteSigner::ed25519("log.example", KeyPair::from_seed(&[5; 32])).unwrap();
        let witness =
            NoteSigner::cosigner("witness.example", KeyPair::from_seed(&[6; 32])).unwrap();
        let mut note = Note::new("log.example\n3\nAAAA\n").unwrap();
        note.sign(&signer, 0);
        note.sign(&witness, 1_767_139_200);
        let parsed = Note::parse(note.to_string().as_bytes()).unwrap();
        let opened = parsed
            .open(&[signer.verifier().clone(), witness.verifier().clone()])
            .unwrap();
        assert_eq!(opened.verified.len(), 2);
        assert_eq!(opened.verified[1].1, Some(1_767_139_200));
        let tampered = note.to_string().replace("\n3\n", "\n4\n");
        assert!(matches!(
            Note::parse(tampered.as_bytes())
                .unwrap()
                .open(&[signer.verifier().clone()]),
            Err(NoteError::InvalidSignature { .. })
        ));
    }
}

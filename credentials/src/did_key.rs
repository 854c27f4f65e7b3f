//! did:key for Ed25519 Multikeys (<https://w3c-ccg.github.io/did-method-key/>).
//!
//! A did:key names its public key, so resolution is computation: no network, no registry.
//! Guildmark signs only with Ed25519 (`z6Mk…`, multicodec `ed25519-pub` 0xed); other key
//! types are recognised by their multicodec and refused with a message naming them.

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use rand_core::CryptoRngCore;
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::multibase::{self, MultibaseError};

/// Multicodec varint header of an Ed25519 public key (`ed25519-pub`, 0xed).
const ED25519_PUB: [u8; 2] = [0xed, 0x01];
/// Multicodec varint header of an Ed25519 seed (`ed25519-priv`, 0x1300).
const ED25519_PRIV: [u8; 2] = [0x80, 0x26];

/// Why a DID, verification method or key file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DidKeyError {
    /// The string is not a `did:key:` DID or DID URL.
    #[error("{0:?} is not a did:key")]
    NotDidKey(String),
    /// The multibase value could not be decoded.
    #[error("invalid multibase key: {0}")]
    Multibase(#[from] MultibaseError),
    /// The key is of a type other than Ed25519.
    #[error("key type {name} (multicodec 0x{codec:x}) is not supported; Guildmark uses Ed25519 (z6Mk…) keys only")]
    UnsupportedKeyType {
        /// The multicodec code found in the key.
        codec: u64,
        /// Its multicodec table name, where known.
        name: &'static str,
    },
    /// The key bytes have the wrong length.
    #[error("{what} has {found} bytes where {expected} are required")]
    WrongLength {
        /// Which value.
        what: &'static str,
        /// Bytes found.
        found: usize,
        /// Bytes required.
        expected: usize,
    },
    /// The public key is not a valid Ed25519 point, or a small-order (weak) one.
    #[error("public key is not a valid Ed25519 point or is a weak (small-order) key")]
    InvalidPoint,
    /// The fragment of a verification method id names a different key than the DID.
    #[error("verification method fragment #{fragment} does not name the key of {did}")]
    FragmentMismatch {
        /// The DID.
        did: String,
        /// The fragment that was given.
        fragment: String,
    },
    /// A key file's public key does not belong to its secret key.
    #[error("the key file's publicKeyMultibase does not match its secret key")]
    SecretKeyMismatch,
    /// A key file has no secret key.
    #[error("the key file has no secretKeyMultibase (or privateKeyMultibase)")]
    MissingSecretKey,
    /// A key file is not JSON of the W3C Multikey key-file shape.
    #[error("not a Multikey key file: {0}")]
    KeyFile(String),
}

/// An Ed25519 did:key: the DID and the public key it encodes.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DidKey {
    did: String,
    key: VerifyingKey,
}

impl fmt::Debug for DidKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.did)
    }
}

impl fmt::Display for DidKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.did)
    }
}

impl DidKey {
    /// The did:key of a public key.
    pub fn from_public_key(key: VerifyingKey) -> Self {
        let mut bytes = Vec::with_capacity(34);
        bytes.extend_from_slice(&ED25519_PUB);
        bytes.extend_from_slice(key.as_bytes());
        DidKey {
            did: format!("did:key:{}", multibase::encode_base58btc(&bytes)),
            key,
        }
    }

    /// Parses a `did:key:z6Mk…` DID (no path, query or fragment).
    pub fn parse(did: &str) -> Result<Self, DidKeyError> {
        let multikey = did
            .strip_prefix("did:key:")
            .ok_or_else(|| DidKeyError::NotDidKey(did.into()))?;
        if multikey.contains(['#', '/', '?']) {
            return Err(DidKeyError::NotDidKey(did.into()));
        }
        let key = decode_public_multikey(multikey)?;
        Ok(DidKey {
            did: did.to_owned(),
            key,
        })
    }

    /// Parses a bare Multikey public key value (`z6Mk…`, a `publicKeyMultibase`).
    pub fn from_public_key_multibase(value: &str) -> Result<Self, DidKeyError> {
        Ok(DidKey::from_public_key(decode_public_multikey(value)?))
    }

    /// Resolves a verification method URL to the did:key it names.
    ///
    /// Accepts `did:key:X#X` (the form the did:key spec produces) and, as an
    /// implementation choice shared with the 1EdTech validator, the bare DID `did:key:X`,
    /// which can only mean its one key. A fragment naming any other key is refused.
    pub fn resolve_verification_method(vm: &str) -> Result<Self, DidKeyError> {
        let (did, fragment) = match vm.split_once('#') {
            Some((did, fragment)) => (did, Some(fragment)),
            None => (vm, None),
        };
        let resolved = DidKey::parse(did)?;
        if let Some(fragment) = fragment {
            if fragment != resolved.public_key_multibase() {
                return Err(DidKeyError::FragmentMismatch {
                    did: did.into(),
                    fragment: fragment.into(),
                });
            }
        }
        Ok(resolved)
    }

    /// The DID, `did:key:z6Mk…`.
    pub fn did(&self) -> &str {
        &self.did
    }

    /// The public key as a multibase Multikey value, `z6Mk…`.
    pub fn public_key_multibase(&self) -> &str {
        &self.did["did:key:".len()..]
    }

    /// The id of the DID's one verification method, `did:key:z6Mk…#z6Mk…`.
    pub fn verification_method_id(&self) -> String {
        format!("{}#{}", self.did, self.public_key_multibase())
    }

    /// The Ed25519 public key.
    pub fn public_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// Checks an Ed25519 signature over `message` by this key.
    pub fn verify(&self, message: &[u8], signature: &Signature) -> bool {
        use ed25519_dalek::Verifier as _;
        self.key.verify(message, signature).is_ok()
    }
}

impl Serialize for DidKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.did)
    }
}

impl<'de> Deserialize<'de> for DidKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        DidKey::parse(&text).map_err(serde::de::Error::custom)
    }
}

fn decode_public_multikey(value: &str) -> Result<VerifyingKey, DidKeyError> {
    let bytes = multibase::decode_base58btc(value)?;
    let (codec, header_len) = read_varint(&bytes).ok_or(DidKeyError::WrongLength {
        what: "Multikey",
        found: bytes.len(),
        expected: 34,
    })?;
    if codec != 0xed {
        return Err(DidKeyError::UnsupportedKeyType {
            codec,
            name: multicodec_name(codec),
        });
    }
    let raw = &bytes[header_len..];
    let raw: [u8; 32] = raw.try_into().map_err(|_| DidKeyError::WrongLength {
        what: "Ed25519 public key",
        found: raw.len(),
        expected: 32,
    })?;
    let key = VerifyingKey::from_bytes(&raw).map_err(|_| DidKeyError::InvalidPoint)?;
    // A small-order key makes signatures that verify for many messages; refuse it.
    if key.is_weak() {
        return Err(DidKeyError::InvalidPoint);
    }
    Ok(key)
}

/// Reads an unsigned LEB128 varint (multicodec header), returning (value, bytes used).
fn read_varint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(9) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

fn multicodec_name(codec: u64) -> &'static str {
    match codec {
        0xe7 => "secp256k1-pub",
        0xec => "x25519-pub",
        0xeb => "bls12_381-g2-pub",
        0x1200 => "p256-pub",
        0x1201 => "p384-pub",
        0x1202 => "p521-pub",
        0x1205 => "rsa-pub",
        0x1300 => "ed25519-priv (a secret key, not a public key)",
        _ => "unknown",
    }
}

/// An Ed25519 key pair with its did:key.
#[derive(Clone)]
pub struct KeyPair {
    signing: SigningKey,
    did: DidKey,
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secret.
        f.debug_struct("KeyPair").field("did", &self.did).finish()
    }
}

impl KeyPair {
    /// Generates a new key pair from a cryptographic random number generator.
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        Self::from_signing_key(SigningKey::generate(rng))
    }

    /// The key pair for a 32-byte Ed25519 seed (RFC 8032 secret key).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self::from_signing_key(SigningKey::from_bytes(seed))
    }

    fn from_signing_key(signing: SigningKey) -> Self {
        let did = DidKey::from_public_key(signing.verifying_key());
        KeyPair { signing, did }
    }

    /// Reads a W3C Multikey key file (JSON with `publicKeyMultibase` and
    /// `secretKeyMultibase` or `privateKeyMultibase`).
    ///
    /// The secret may be the 34-byte form (`0x8026` + seed, `z3u2…`, as in the W3C test
    /// vectors) or the 66-byte form (`0x8026` + seed + public key, as Digital Bazaar and
    /// the Open Badges guide export). A public key that does not match is refused.
    pub fn from_key_file(json: &str) -> Result<Self, DidKeyError> {
        let file: KeyFile =
            serde_json::from_str(json).map_err(|e| DidKeyError::KeyFile(e.to_string()))?;
        Self::from_multibase(
            file.secret_key_multibase
                .as_deref()
                .or(file.private_key_multibase.as_deref())
                .ok_or(DidKeyError::MissingSecretKey)?,
            file.public_key_multibase.as_deref(),
        )
    }

    /// Builds a key pair from a multibase secret key and, optionally, the public key it
    /// must match.
    pub fn from_multibase(secret: &str, public: Option<&str>) -> Result<Self, DidKeyError> {
        let bytes = multibase::decode_base58btc(secret)?;
        let body = bytes
            .strip_prefix(&ED25519_PRIV)
            .ok_or_else(|| match read_varint(&bytes) {
                Some((codec, _)) => DidKeyError::UnsupportedKeyType {
                    codec,
                    name: multicodec_name(codec),
                },
                None => DidKeyError::WrongLength {
                    what: "secret key",
                    found: bytes.len(),
                    expected: 34,
                },
            })?;
        let (seed, embedded_public) = match body.len() {
            32 => (body, None),
            64 => (&body[..32], Some(&body[32..])),
            n => {
                return Err(DidKeyError::WrongLength {
                    what: "Ed25519 secret key",
                    found: n,
                    expected: 32,
                })
            }
        };
        let seed: [u8; 32] = seed.try_into().expect("length checked above");
        let pair = KeyPair::from_seed(&seed);
        if let Some(embedded) = embedded_public {
            if embedded != pair.did.public_key().as_bytes() {
                return Err(DidKeyError::SecretKeyMismatch);
            }
        }
        if let Some(public) = public {
            if public != pair.did.public_key_multibase() {
                return Err(DidKeyError::SecretKeyMismatch);
            }
        }
        Ok(pair)
    }

    /// The key file for this pair, in the W3C shape (34-byte `secretKeyMultibase`).
    pub fn to_key_file(&self) -> KeyFile {
        let mut secret = Vec::with_capacity(34);
        secret.extend_from_slice(&ED25519_PRIV);
        secret.extend_from_slice(self.signing.as_bytes());
        KeyFile {
            context: Some("https://w3id.org/security/multikey/v1".into()),
            id: Some(self.did.verification_method_id()),
            type_: Some("Multikey".into()),
            controller: Some(self.did.did().to_owned()),
            public_key_multibase: Some(self.did.public_key_multibase().to_owned()),
            secret_key_multibase: Some(multibase::encode_base58btc(&secret)),
            private_key_multibase: None,
        }
    }

    /// The did:key of this pair.
    pub fn did_key(&self) -> &DidKey {
        &self.did
    }

    /// Signs `message` (deterministic, RFC 8032).
    pub fn sign(&self, message: &[u8]) -> Signature {
        self.signing.sign(message)
    }
}

/// A Multikey key file, as the W3C test vectors and `guildmark keygen` write it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyFile {
    /// JSON-LD context of the Multikey document.
    #[serde(rename = "@context", skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// Verification method id, `did:key:z6Mk…#z6Mk…`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Always `Multikey`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// The DID that controls the key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub controller: Option<String>,
    /// The public key, `z6Mk…`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_key_multibase: Option<String>,
    /// The secret key, `z3u2…` (W3C name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_key_multibase: Option<String>,
    /// The secret key under the name the W3C test vectors use.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_key_multibase: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const W3C_PUBLIC: &str = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2";
    const W3C_SECRET: &str = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq";

    #[test]
    fn w3c_key_pair_matches() {
        let pair = KeyPair::from_multibase(W3C_SECRET, Some(W3C_PUBLIC)).unwrap();
        assert_eq!(pair.did_key().did(), format!("did:key:{W3C_PUBLIC}"));
    }

    #[test]
    fn key_file_round_trips() {
        let pair = KeyPair::from_seed(&[7; 32]);
        let json = serde_json::to_string(&pair.to_key_file()).unwrap();
        let back = KeyPair::from_key_file(&json).unwrap();
        assert_eq!(back.did_key(), pair.did_key());
    }

    #[test]
    fn mismatched_public_key_is_refused() {
        let other = KeyPair::from_seed(&[1; 32]);
        let err = KeyPair::from_multibase(W3C_SECRET, Some(other.did_key().public_key_multibase()))
            .unwrap_err();
        assert_eq!(err, DidKeyError::SecretKeyMismatch);
    }

    #[test]
    fn p256_key_is_named_in_the_error() {
        // did:key for a P-256 key from the did:key spec's examples.
        let err =
            DidKey::parse("did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169").unwrap_err();
        assert!(
            matches!(err, DidKeyError::UnsupportedKeyType { codec: 0x1200, .. }),
            "{err}"
        );
    }

    #[test]
    fn fragment_must_name_the_key() {
        let vm = format!("did:key:{W3C_PUBLIC}#z6MkhWqdDBPojHA7cprTGTt5yHv5yUi1B8cnXn8ReLumkw6E");
        assert!(matches!(
            DidKey::resolve_verification_method(&vm),
            Err(DidKeyError::FragmentMismatch { .. })
        ));
        let bare = format!("did:key:{W3C_PUBLIC}");
        assert!(DidKey::resolve_verification_method(&bare).is_ok());
    }

    #[test]
    fn not_a_did_key() {
        for bad in [
            "did:web:example.com",
            "z6Mk",
            "did:key:",
            "did:key:z6Mk/path",
        ] {
            assert!(DidKey::parse(bad).is_err(), "{bad}");
        }
    }
}

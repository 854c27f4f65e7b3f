//! `ecdsa-sd-2023` (W3C Data Integrity ECDSA Cryptosuites v1.0 §3.5): verifying a
//! derived proof, the selectively disclosed form of a credential that a holder shows.
//!
//! The proof value (multibase base64url, header `0xd9 0x5d 0x01`) is CBOR: the issuer's
//! P-256 base signature, the ephemeral P-256 public key (multikey bytes), one signature
//! per non-mandatory statement, the label map (canonical blank node label → HMAC label)
//! and the indexes of the mandatory statements. Verification canonicalizes the revealed
//! document (RDFC-1.0), relabels its blank nodes with the label map, checks the base
//! signature over SHA-256(proof configuration) ‖ public key ‖ SHA-256(mandatory
//! statements) with the issuer's key, and each other statement's signature with the
//! ephemeral key. Base proofs (header `0xd9 0x5d 0x00`) are for the holder, not verifiers.

use std::collections::HashMap;

use base64::Engine as _;
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use crate::jsonld::{self, Contexts};

/// The cryptosuite's name.
pub const CRYPTOSUITE: &str = "ecdsa-sd-2023";

/// Why a derived proof does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdError {
    /// The proof value is not a derived `ecdsa-sd-2023` proof.
    #[error("proofValue: {0}")]
    ProofValue(String),
    /// A base proof was given; verifiers check derived proofs.
    #[error("this is an ecdsa-sd-2023 base proof, which only its holder uses; verify the derived (disclosed) credential")]
    BaseProof,
    /// The proof is not well formed (type, purpose, verification method).
    #[error("{0}")]
    Malformed(String),
    /// The verification method is not a key this verifier resolves offline.
    #[error("the verification method {0} is not a did:key this verifier resolves offline")]
    Unresolvable(String),
    /// JSON-LD processing failed.
    #[error("{0}")]
    JsonLd(#[from] jsonld::JsonLdError),
    /// The issuer's signature over the mandatory statements does not verify.
    #[error("the base signature over the mandatory statements does not verify")]
    BaseSignature,
    /// A disclosed statement's signature does not verify.
    #[error("the signature of disclosed statement {0} does not verify")]
    StatementSignature(usize),
}

/// A derived proof that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerivedProof {
    /// The verification method's DID (the issuer's key).
    pub controller: String,
    /// How many statements were mandatory.
    pub mandatory: usize,
    /// How many more were disclosed.
    pub disclosed: usize,
}

/// The parts of a derived proof value.
struct Parts {
    base_signature: Vec<u8>,
    public_key: Vec<u8>,
    signatures: Vec<Vec<u8>>,
    label_map: HashMap<String, String>,
    mandatory_indexes: Vec<usize>,
}

fn bytes(value: &ciborium::Value, what: &str) -> Result<Vec<u8>, SdError> {
    value
        .as_bytes()
        .cloned()
        .ok_or_else(|| SdError::ProofValue(format!("{what} is not a byte string")))
}

fn parse_proof_value(text: &str) -> Result<Parts, SdError> {
    let encoded = text
        .strip_prefix('u')
        .ok_or_else(|| SdError::ProofValue("not multibase base64url (u…)".into()))?;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|e| SdError::ProofValue(format!("not base64url: {e}")))?;
    match raw.get(..3) {
        Some([0xd9, 0x5d, 0x01]) => {}
        Some([0xd9, 0x5d, 0x00]) => return Err(SdError::BaseProof),
        _ => return Err(SdError::ProofValue("no ecdsa-sd-2023 header".into())),
    }
    let value: ciborium::Value = ciborium::from_reader(&raw[3..])
        .map_err(|e| SdError::ProofValue(format!("not CBOR: {e}")))?;
    let items = value
        .as_array()
        .filter(|a| a.len() == 5)
        .ok_or_else(|| SdError::ProofValue("not a CBOR array of five".into()))?;
    let base_signature = bytes(&items[0], "the base signature")?;
    let public_key = bytes(&items[1], "the public key")?;
    let signatures = items[2]
        .as_array()
        .ok_or_else(|| SdError::ProofValue("the signatures are not an array".into()))?
        .iter()
        .map(|s| bytes(s, "a signature"))
        .collect::<Result<Vec<_>, _>>()?;
    let mut label_map = HashMap::new();
    for (key, label) in items[3]
        .as_map()
        .ok_or_else(|| SdError::ProofValue("the label map is not a map".into()))?
    {
        let index: u64 = key
            .as_integer()
            .and_then(|i| u64::try_from(i).ok())
            .ok_or_else(|| SdError::ProofValue("a label map key is not an index".into()))?;
        let label = bytes(label, "a label")?;
        label_map.insert(
            format!("c14n{index}"),
            format!(
                "u{}",
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(label)
            ),
        );
    }
    let mandatory_indexes = items[4]
        .as_array()
        .ok_or_else(|| SdError::ProofValue("the mandatory indexes are not an array".into()))?
        .iter()
        .map(|i| {
            i.as_integer()
                .and_then(|i| usize::try_from(i).ok())
                .ok_or_else(|| SdError::ProofValue("a mandatory index is not an index".into()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Parts {
        base_signature,
        public_key,
        signatures,
        label_map,
        mandatory_indexes,
    })
}

/// A P-256 key from multikey bytes (`0x80 0x24` and a compressed point).
fn p256_key(multikey: &[u8], what: &str) -> Result<VerifyingKey, SdError> {
    match multikey {
        [0x80, 0x24, point @ ..] => VerifyingKey::from_sec1_bytes(point)
            .map_err(|_| SdError::Malformed(format!("{what} is not a P-256 point"))),
        _ => Err(SdError::Malformed(format!(
            "{what} is not a P-256 multikey"
        ))),
    }
}

fn signature(bytes: &[u8], what: &str) -> Result<Signature, SdError> {
    Signature::from_slice(bytes)
        .map_err(|_| SdError::ProofValue(format!("{what} is not a 64-byte P-256 signature")))
}

/// Verifies `proof`, an `ecdsa-sd-2023` derived proof of `document` (which may still hold
/// its `proof`; it is left out). The verification method must be a P-256 `did:key`.
pub fn verify_derived(
    document: &Value,
    proof: &Map<String, Value>,
    contexts: &Contexts,
) -> Result<DerivedProof, SdError> {
    let text = |name: &str| proof.get(name).and_then(Value::as_str);
    if text("type") != Some("DataIntegrityProof") || text("cryptosuite") != Some(CRYPTOSUITE) {
        return Err(SdError::Malformed(
            "not a DataIntegrityProof with cryptosuite ecdsa-sd-2023".into(),
        ));
    }
    if text("proofPurpose") != Some("assertionMethod") {
        return Err(SdError::Malformed(
            "proofPurpose must be assertionMethod".into(),
        ));
    }
    let method = text("verificationMethod")
        .ok_or_else(|| SdError::Malformed("no verificationMethod".into()))?;
    let did = method.split('#').next().unwrap_or(method);
    let issuer_key = did
        .strip_prefix("did:key:")
        .and_then(|m| crate::multibase::decode_base58btc(m).ok())
        .ok_or_else(|| SdError::Unresolvable(method.to_owned()))
        .and_then(|bytes| p256_key(&bytes, "the verification method"))?;
    let parts = parse_proof_value(
        text("proofValue").ok_or_else(|| SdError::Malformed("no proofValue".into()))?,
    )?;

    let Some(object) = document.as_object() else {
        return Err(SdError::Malformed("the document is not an object".into()));
    };
    let mut unsecured = object.clone();
    unsecured.remove("proof");
    let mut config = proof.clone();
    config.remove("proofValue");
    if let Some(context) = object.get("@context") {
        config.insert("@context".into(), context.clone());
    }
    let proof_hash = Sha256::digest(jsonld::canonical_nquads(&Value::Object(config), contexts)?);
    let lines = jsonld::canonical_lines_relabeled(&Value::Object(unsecured), contexts, &|label| {
        parts.label_map.get(label).cloned()
    })?;
    let mut mandatory = String::new();
    let mut non_mandatory = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if parts.mandatory_indexes.contains(&i) {
            mandatory.push_str(line);
        } else {
            non_mandatory.push(line);
        }
    }
    if parts.mandatory_indexes.iter().any(|i| *i >= lines.len()) {
        return Err(SdError::ProofValue(
            "a mandatory index is beyond the disclosed statements".into(),
        ));
    }
    if parts.signatures.len() != non_mandatory.len() {
        return Err(SdError::ProofValue(format!(
            "{} signatures for {} non-mandatory statements",
            parts.signatures.len(),
            non_mandatory.len()
        )));
    }
    let mut to_verify = proof_hash.to_vec();
    to_verify.extend_from_slice(&parts.public_key);
    to_verify.extend_from_slice(&Sha256::digest(mandatory.as_bytes()));
    issuer_key
        .verify(
            &to_verify,
            &signature(&parts.base_signature, "the base signature")?,
        )
        .map_err(|_| SdError::BaseSignature)?;
    let ephemeral = p256_key(&parts.public_key, "the proof's public key")?;
    for (i, (line, sig)) in non_mandatory.iter().zip(&parts.signatures).enumerate() {
        ephemeral
            .verify(line.as_bytes(), &signature(sig, "a statement signature")?)
            .map_err(|_| SdError::StatementSignature(i))?;
    }
    Ok(DerivedProof {
        controller: did.to_owned(),
        mandatory: parts.mandatory_indexes.len(),
        disclosed: non_mandatory.len(),
    })
}

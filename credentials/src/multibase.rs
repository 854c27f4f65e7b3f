//! Multibase strings: the self-describing base encodings of did:key, proof values and
//! status lists (<https://www.w3.org/TR/controller-document/#multibase-0>).
//!
//! Only the two encodings the specs we follow allow are supported: base58-btc (`z`) for keys
//! and signatures, base64url without padding (`u`) for Bitstring Status Lists.

use base64::Engine as _;

/// Why a multibase string could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MultibaseError {
    /// The string is empty.
    #[error("empty multibase string")]
    Empty,
    /// The string starts with a different multibase header than the one required.
    #[error("multibase header {found:?} where {expected:?} ({encoding}) is required")]
    WrongHeader {
        /// The header character that was found.
        found: char,
        /// The header character that is required.
        expected: char,
        /// The encoding the header stands for.
        encoding: &'static str,
    },
    /// The body is not valid in the encoding.
    #[error("invalid {encoding} data: {detail}")]
    InvalidData {
        /// The encoding.
        encoding: &'static str,
        /// What the decoder reported.
        detail: String,
    },
}

/// Encodes bytes as multibase base58-btc (`z…`).
pub fn encode_base58btc(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(1 + bytes.len() * 138 / 100 + 1);
    out.push('z');
    out.push_str(&bs58::encode(bytes).into_string());
    out
}

/// Decodes a multibase base58-btc (`z…`) string.
pub fn decode_base58btc(text: &str) -> Result<Vec<u8>, MultibaseError> {
    let body = strip_header(text, 'z', "base58-btc")?;
    bs58::decode(body)
        .into_vec()
        .map_err(|e| MultibaseError::InvalidData {
            encoding: "base58-btc",
            detail: e.to_string(),
        })
}

/// Decodes a multibase base58-btc (`z…`) string that must hold exactly `N` bytes.
pub fn decode_base58btc_array<const N: usize>(text: &str) -> Result<[u8; N], MultibaseError> {
    let bytes = decode_base58btc(text)?;
    <[u8; N]>::try_from(bytes.as_slice()).map_err(|_| MultibaseError::InvalidData {
        encoding: "base58-btc",
        detail: format!("{} bytes where {N} are required", bytes.len()),
    })
}

/// Encodes bytes as multibase base64url without padding (`u…`).
pub fn encode_base64url(bytes: &[u8]) -> String {
    let mut out = String::from("u");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode_string(bytes, &mut out);
    out
}

/// Decodes a multibase base64url-no-padding (`u…`) string.
pub fn decode_base64url(text: &str) -> Result<Vec<u8>, MultibaseError> {
    let body = strip_header(text, 'u', "base64url")?;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|e| MultibaseError::InvalidData {
            encoding: "base64url",
            detail: e.to_string(),
        })
}

fn strip_header<'a>(
    text: &'a str,
    expected: char,
    encoding: &'static str,
) -> Result<&'a str, MultibaseError> {
    let mut chars = text.chars();
    match chars.next() {
        None => Err(MultibaseError::Empty),
        Some(c) if c == expected => Ok(chars.as_str()),
        Some(found) => Err(MultibaseError::WrongHeader {
            found,
            expected,
            encoding,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base58_round_trip_keeps_leading_zeros() {
        let bytes = [0u8, 0, 1, 2, 255];
        assert_eq!(decode_base58btc(&encode_base58btc(&bytes)).unwrap(), bytes);
    }

    #[test]
    fn wrong_header_names_both() {
        let err = decode_base58btc("uAAAA").unwrap_err();
        assert!(matches!(
            err,
            MultibaseError::WrongHeader {
                found: 'u',
                expected: 'z',
                ..
            }
        ));
    }

    #[test]
    fn base64url_rejects_padding() {
        assert!(decode_base64url("uAA==").is_err());
        assert_eq!(decode_base64url("uAAE").unwrap(), [0, 1]);
    }
}

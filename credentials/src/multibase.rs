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
    decode_base58(body)
}

/// The Bitcoin base58 alphabet's value for each ASCII byte (255 = not in the alphabet).
const BASE58_VALUES: [u8; 128] = {
    let alphabet = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut table = [255u8; 128];
    let mut i = 0;
    while i < alphabet.len() {
        table[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// Base58 decoding, five digits at a time into 32-bit limbs (58^5 < 2^32).
///
/// Every proof value and did:key is base58; this is several times faster than a
/// digit-by-digit decoder, which matters on the verification path. The tests check it
/// against the `bs58` crate.
fn decode_base58(body: &str) -> Result<Vec<u8>, MultibaseError> {
    let invalid = |detail: String| MultibaseError::InvalidData {
        encoding: "base58-btc",
        detail,
    };
    let digits = body.as_bytes();
    let mut values = Vec::with_capacity(digits.len());
    for (i, &c) in digits.iter().enumerate() {
        match BASE58_VALUES.get(usize::from(c)).copied() {
            Some(v) if v != 255 => values.push(u64::from(v)),
            _ => {
                let ch = body[i..].chars().next().unwrap_or('?');
                return Err(invalid(format!(
                    "provided string contained invalid character {ch:?} at byte {i}"
                )));
            }
        }
    }
    let leading_zeros = values.iter().take_while(|&&v| v == 0).count();
    // Little-endian 32-bit limbs of the number.
    let mut limbs: Vec<u32> = Vec::with_capacity(digits.len() * 733 / 4000 + 2);
    for chunk in values[leading_zeros..].chunks(5) {
        let (mut carry, multiplier) = chunk
            .iter()
            .fold((0u64, 1u64), |(acc, m), &d| (acc * 58 + d, m * 58));
        for limb in limbs.iter_mut() {
            let product = u64::from(*limb) * multiplier + carry;
            *limb = product as u32;
            carry = product >> 32;
        }
        if carry != 0 {
            limbs.push(carry as u32);
        }
    }
    let mut out = vec![0u8; leading_zeros];
    let mut bytes: Vec<u8> = limbs.iter().rev().flat_map(|l| l.to_be_bytes()).collect();
    let first_nonzero = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    out.extend(bytes.drain(first_nonzero..));
    Ok(out)
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

    proptest::proptest! {
        #[test]
        fn base58_decoding_agrees_with_bs58(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..80), zeros in 0usize..4) {
            let mut input = vec![0u8; zeros];
            input.extend(bytes);
            let text = bs58::encode(&input).into_string();
            proptest::prop_assert_eq!(decode_base58(&text).unwrap(), bs58::decode(&text).into_vec().unwrap());
            proptest::prop_assert_eq!(decode_base58(&text).unwrap(), input);
        }
    }

    #[test]
    fn base58_rejects_characters_outside_the_alphabet() {
        for bad in ["0", "O", "I", "l", "é", "+"] {
            assert!(decode_base58(bad).is_err(), "{bad}");
        }
    }
}

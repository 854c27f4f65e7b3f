//! Ed25519 batch verification with one term per distinct key.
//!
//! The equation is ed25519-dalek's `verify_batch`: for random 128-bit `zᵢ`,
//!
//! ```text
//! [−Σ zᵢsᵢ] B + Σ [zᵢ] Rᵢ + Σ [zᵢ H(Rᵢ‖Aᵢ‖Mᵢ)] Aᵢ = 0
//! ```
//!
//! A provenance bundle's dozen signatures come from a handful of keys (a community signs
//! its badges and its status lists), so the `Aᵢ` terms are summed per key first:
//! `Σₖ [Σ_{i∈k} zᵢhᵢ] Aₖ` is the same point with fewer terms in the multiscalar
//! multiplication, where the full-width `hᵢ` scalars are the expensive ones. Scalars `s`
//! must be canonical and every `R` must decompress, as in ed25519-dalek without
//! `legacy_compatibility`.

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use ed25519_dalek::{Signature, VerifyingKey};
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha512};

/// One signature to check: the message, the signature and the key.
pub type Signed<'a> = (&'a [u8], &'a Signature, &'a VerifyingKey);

/// Whether every signature verifies (one multiscalar multiplication for all). `false`
/// says only that at least one does not: check them one by one to learn which.
pub fn verify(items: &[Signed<'_>]) -> bool {
    let mut keys: Vec<&VerifyingKey> = Vec::new();
    let mut key_scalars: Vec<Scalar> = Vec::new();
    let mut r_scalars: Vec<Scalar> = Vec::with_capacity(items.len());
    let mut rs: Vec<Option<EdwardsPoint>> = Vec::with_capacity(items.len());
    let mut b_scalar = Scalar::ZERO;
    let mut random = vec![0u8; 16 * items.len()];
    if OsRng.try_fill_bytes(&mut random).is_err() {
        // No randomness, no batch: the caller checks each signature alone.
        return false;
    }
    for (&(message, signature, key), z) in items.iter().zip(random.chunks_exact(16)) {
        let Some(s) = Option::<Scalar>::from(Scalar::from_canonical_bytes(*signature.s_bytes()))
        else {
            return false;
        };
        let mut z_bytes = [0u8; 32];
        z_bytes[..16].copy_from_slice(z);
        let z = Scalar::from_bytes_mod_order(z_bytes);
        let hram = Scalar::from_hash(
            Sha512::new()
                .chain_update(signature.r_bytes())
                .chain_update(key.as_bytes())
                .chain_update(message),
        );
        b_scalar -= z * s;
        r_scalars.push(z);
        rs.push(CompressedEdwardsY(*signature.r_bytes()).decompress());
        match keys.iter().position(|k| k.as_bytes() == key.as_bytes()) {
            Some(k) => key_scalars[k] += z * hram,
            None => {
                keys.push(key);
                key_scalars.push(z * hram);
            }
        }
    }
    let points = std::iter::once(Some(ED25519_BASEPOINT_POINT))
        .chain(rs)
        .chain(keys.iter().map(|k| Some(k.to_edwards())));
    let scalars = std::iter::once(b_scalar)
        .chain(r_scalars)
        .chain(key_scalars);
    EdwardsPoint::optional_multiscalar_mul(scalars, points).is_some_and(|p| p.is_identity())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    fn signed(keys: usize, count: usize) -> (Vec<VerifyingKey>, Vec<Vec<u8>>, Vec<Signature>) {
        let signing: Vec<SigningKey> = (0..keys)
            .map(|k| SigningKey::from_bytes(&[k as u8 + 7; 32]))
            .collect();
        let messages: Vec<Vec<u8>> = (0..count)
            .map(|i| format!("message {i}").into_bytes())
            .collect();
        let signatures = messages
            .iter()
            .enumerate()
            .map(|(i, m)| signing[i % keys].sign(m))
            .collect();
        let verifying = (0..count)
            .map(|i| signing[i % keys].verifying_key())
            .collect();
        (verifying, messages, signatures)
    }

    fn items<'a>(
        keys: &'a [VerifyingKey],
        messages: &'a [Vec<u8>],
        signatures: &'a [Signature],
    ) -> Vec<Signed<'a>> {
        (0..keys.len())
            .map(|i| (&messages[i][..], &signatures[i], &keys[i]))
            .collect()
    }

    #[test]
    fn accepts_what_ed25519_dalek_accepts_with_shared_and_distinct_keys() {
        for (keys, count) in [(1, 1), (1, 5), (3, 12), (12, 12), (5, 40)] {
            let (k, m, s) = signed(keys, count);
            assert!(
                verify(&items(&k, &m, &s)),
                "{keys} keys, {count} signatures"
            );
            let refs: Vec<&[u8]> = m.iter().map(|m| &m[..]).collect();
            assert!(ed25519_dalek::verify_batch(&refs, &s, &k).is_ok());
        }
    }

    #[test]
    fn refuses_any_wrong_message_signature_or_key() {
        let (k, m, s) = signed(3, 9);
        for i in 0..9 {
            let mut messages = m.clone();
            messages[i].push(b'!');
            assert!(!verify(&items(&k, &messages, &s)), "message {i}");

            let mut signatures = s.clone();
            let mut bytes = signatures[i].to_bytes();
            bytes[i % 64] ^= 1;
            signatures[i] = Signature::from_bytes(&bytes);
            assert!(!verify(&items(&k, &m, &signatures)), "signature {i}");

            let mut keys = k.clone();
            keys[i] = k[(i + 1) % 9];
            assert!(!verify(&items(&keys, &m, &s)), "key {i}");
        }
        // Two signatures swapped between messages of the same key.
        let mut swapped = s.clone();
        swapped.swap(0, 3);
        assert!(!verify(&items(&k, &m, &swapped)));
    }

    #[test]
    fn refuses_a_non_canonical_s() {
        let (k, m, s) = signed(1, 2);
        let mut bytes = s[1].to_bytes();
        // s + ℓ: the same point equation, but not the canonical encoding.
        let mut l = [0u8; 32];
        l[..16].copy_from_slice(&0x14def9dea2f79cd65812631a5cf5d3ed_u128.to_le_bytes());
        l[31] = 0x10;
        let mut carry = 0u16;
        for j in 0..32 {
            let sum = u16::from(bytes[32 + j]) + u16::from(l[j]) + carry;
            bytes[32 + j] = sum as u8;
            carry = sum >> 8;
        }
        let mut signatures = s.clone();
        signatures[1] = Signature::from_bytes(&bytes);
        assert!(!verify(&items(&k, &m, &signatures)));
    }
}

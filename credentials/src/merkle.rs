//! RFC 6962 / RFC 9162 Merkle trees: leaf and node hashes, inclusion and consistency
//! proofs (<https://www.rfc-editor.org/rfc/rfc9162#section-2.1>).
//!
//! Verification is RFC 9162 §2.1.3.2 and §2.1.4.2 exactly, with the exact proof lengths
//! checked. Proof *generation* is here too, over any [`SubtreeHashes`] source, so that a
//! log (which stores hashes) and a test (which computes them) share one implementation.
//!
//! # Consistency with the empty tree
//!
//! RFC 9162 defines no consistency proof from a tree of size 0, and [`verify_consistency`]
//! refuses one (as transparency-dev/merkle does). That the empty tree is a prefix of every
//! tree is still true: [`crate::checkpoint::check_consistency`] accepts an old checkpoint of
//! size 0 with an empty proof when, and only when, its root is the empty root, as C2SP
//! tlog-witness specifies.

use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::fmt;

/// A SHA-256 hash in a Merkle tree.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// Standard base64 (as checkpoints and proofs write hashes).
    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.0)
    }

    /// Reads standard base64.
    pub fn from_base64(text: &str) -> Result<Self, MerkleError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|_| MerkleError::BadHash(text.to_owned()))?;
        Self::from_slice(&bytes).ok_or_else(|| MerkleError::BadHash(text.to_owned()))
    }

    /// A hash from exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Hash)
    }

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_base64())
    }
}

impl serde::Serialize for Hash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_base64())
    }
}

impl<'de> serde::Deserialize<'de> for Hash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Hash::from_base64(&text).map_err(serde::de::Error::custom)
    }
}

/// The root of the empty tree, SHA-256 of nothing.
pub const EMPTY_ROOT: Hash = Hash([
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
]);

/// `SHA-256(0x00 ‖ entry)`: the hash of a leaf.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(entry);
    Hash(h.finalize().into())
}

/// [`leaf_hash`] of the concatenation of `parts`, without concatenating them.
pub fn leaf_hash_of_parts(parts: &[&[u8]]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    for part in parts {
        h.update(part);
    }
    Hash(h.finalize().into())
}

/// `SHA-256(0x01 ‖ left ‖ right)`: the hash of an interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left.0);
    h.update(right.0);
    Hash(h.finalize().into())
}

/// The Merkle Tree Hash of a list of leaf hashes (RFC 6962 §2.1).
pub fn root_of(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => EMPTY_ROOT,
        1 => leaves[0],
        n => {
            let k = largest_power_of_two_below(n as u64) as usize;
            node_hash(&root_of(&leaves[..k]), &root_of(&leaves[k..]))
        }
    }
}

/// The largest power of two strictly less than `n` (n ≥ 2).
fn largest_power_of_two_below(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// Why a proof does not verify or cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MerkleError {
    /// The leaf index is not inside the tree.
    #[error("leaf index {index} is not in a tree of size {size}")]
    IndexOutOfRange {
        /// The leaf index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// The proof has the wrong number of hashes for the sizes.
    #[error("proof has {found} hashes where {expected} are required")]
    WrongProofLength {
        /// Hashes required.
        expected: usize,
        /// Hashes given.
        found: usize,
    },
    /// The computed root differs from the expected one.
    #[error("the proof leads to a different root")]
    RootMismatch,
    /// The new tree is smaller than the old one.
    #[error("consistency from size {old} to smaller size {new}")]
    SizeOrder {
        /// Old size.
        old: u64,
        /// New size.
        new: u64,
    },
    /// A consistency proof from the empty tree (see the module docs).
    #[error("no consistency proof exists from the empty tree (compare checkpoints instead)")]
    FromEmptyTree,
    /// A hash is not 32 bytes of base64.
    #[error("{0:?} is not a base64 SHA-256 hash")]
    BadHash(String),
    /// A hash needed to build a proof could not be read.
    #[error("reading the hash of subtree (level {level}, index {index}): {detail}")]
    Read {
        /// Level of the subtree.
        level: u8,
        /// Index of the subtree at its level.
        index: u64,
        /// What went wrong.
        detail: String,
    },
}

/// Inner and border lengths of an inclusion proof (transparency-dev's decomposition).
fn decompose_inclusion(index: u64, size: u64) -> (usize, usize) {
    let inner = (64 - (index ^ (size - 1)).leading_zeros()) as usize;
    let border = (index >> inner).count_ones() as usize;
    (inner, border)
}

/// The number of hashes in the inclusion proof of `index` in a tree of `size`.
pub fn inclusion_proof_length(index: u64, size: u64) -> usize {
    let (inner, border) = decompose_inclusion(index, size);
    inner + border
}

/// Checks that `leaf` is the leaf at `index` of the tree of `size` whose root is `root`
/// (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), MerkleError> {
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    let expected = inclusion_proof_length(index, size);
    if proof.len() != expected {
        return Err(MerkleError::WrongProofLength {
            expected,
            found: proof.len(),
        });
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return Err(MerkleError::WrongProofLength {
                expected,
                found: proof.len(),
            });
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn == 0 && r == *root {
        Ok(())
    } else {
        Err(MerkleError::RootMismatch)
    }
}

/// The number of hashes in the consistency proof from `old` to `new` (0 < old ≤ new).
pub fn consistency_proof_length(old: u64, new: u64) -> usize {
    if old == new {
        return 0;
    }
    // RFC 9162 §2.1.4.1: inner + border of the inclusion path of old-1 in new, plus one
    // unless old is a power of two (then the old root itself starts the path).
    let (inner, border) = decompose_inclusion(old - 1, new);
    let shift = old.trailing_zeros() as usize;
    inner - shift + border + usize::from(!old.is_power_of_two())
}

/// Checks that the tree of `old` leaves with root `old_root` is a prefix of the tree of
/// `new` leaves with root `new_root` (RFC 9162 §2.1.4.2). Refuses `old == 0` (see the
/// module docs).
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), MerkleError> {
    if new < old {
        return Err(MerkleError::SizeOrder { old, new });
    }
    if old == 0 {
        return Err(MerkleError::FromEmptyTree);
    }
    if old == new {
        if !proof.is_empty() {
            return Err(MerkleError::WrongProofLength {
                expected: 0,
                found: proof.len(),
            });
        }
        return if old_root == new_root {
            Ok(())
        } else {
            Err(MerkleError::RootMismatch)
        };
    }
    let expected = consistency_proof_length(old, new);
    if proof.len() != expected {
        return Err(MerkleError::WrongProofLength {
            expected,
            found: proof.len(),
        });
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let (mut fn_, mut sn) = (old - 1, new - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if sn == 0 {
            return Err(MerkleError::WrongProofLength {
                expected,
                found: proof.len(),
            });
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn == 0 && fr == *old_root && sr == *new_root {
        Ok(())
    } else {
        Err(MerkleError::RootMismatch)
    }
}

/// A source of complete-subtree hashes: the hash of leaves
/// `[index·2^level, (index+1)·2^level)`, which a log stores (e.g. as tiles).
pub trait SubtreeHashes {
    /// The hash of the complete subtree at `level`, `index`.
    fn subtree(&mut self, level: u8, index: u64) -> Result<Hash, MerkleError>;
}

/// The Merkle Tree Hash of leaves `[lo, hi)` (`lo` aligned as RFC 6962's recursion makes it).
pub fn range_hash<S: SubtreeHashes + ?Sized>(
    source: &mut S,
    lo: u64,
    hi: u64,
) -> Result<Hash, MerkleError> {
    let n = hi - lo;
    if n == 0 {
        return Ok(EMPTY_ROOT);
    }
    if n.is_power_of_two() && lo.is_multiple_of(n) {
        return source.subtree(n.trailing_zeros() as u8, lo / n);
    }
    let k = largest_power_of_two_below(n);
    let left = range_hash(source, lo, lo + k)?;
    let right = range_hash(source, lo + k, hi)?;
    Ok(node_hash(&left, &right))
}

/// The root of the tree of `size` leaves.
pub fn tree_root<S: SubtreeHashes + ?Sized>(
    source: &mut S,
    size: u64,
) -> Result<Hash, MerkleError> {
    range_hash(source, 0, size)
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves (RFC 6962 `PATH`).
pub fn inclusion_proof<S: SubtreeHashes + ?Sized>(
    source: &mut S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, MerkleError> {
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    let mut proof = Vec::with_capacity(inclusion_proof_length(index, size));
    path(source, index, 0, size, &mut proof)?;
    Ok(proof)
}

fn path<S: SubtreeHashes + ?Sized>(
    source: &mut S,
    m: u64,
    lo: u64,
    hi: u64,
    proof: &mut Vec<Hash>,
) -> Result<(), MerkleError> {
    let n = hi - lo;
    if n == 1 {
        return Ok(());
    }
    let k = largest_power_of_two_below(n);
    if m < k {
        path(source, m, lo, lo + k, proof)?;
        proof.push(range_hash(source, lo + k, hi)?);
    } else {
        path(source, m - k, lo + k, hi, proof)?;
        proof.push(range_hash(source, lo, lo + k)?);
    }
    Ok(())
}

/// The consistency proof from the tree of `old` leaves to that of `new` leaves
/// (RFC 6962 `PROOF`; 0 < old ≤ new).
pub fn consistency_proof<S: SubtreeHashes + ?Sized>(
    source: &mut S,
    old: u64,
    new: u64,
) -> Result<Vec<Hash>, MerkleError> {
    if new < old {
        return Err(MerkleError::SizeOrder { old, new });
    }
    if old == 0 {
        return Err(MerkleError::FromEmptyTree);
    }
    let mut proof = Vec::with_capacity(consistency_proof_length(old, new));
    if old < new {
        subproof(source, old, 0, new, true, &mut proof)?;
    }
    Ok(proof)
}

fn subproof<S: SubtreeHashes + ?Sized>(
    source: &mut S,
    m: u64,
    lo: u64,
    hi: u64,
    whole: bool,
    proof: &mut Vec<Hash>,
) -> Result<(), MerkleError> {
    let n = hi - lo;
    if m == n {
        if !whole {
            proof.push(range_hash(source, lo, hi)?);
        }
        return Ok(());
    }
    let k = largest_power_of_two_below(n);
    if m <= k {
        subproof(source, m, lo, lo + k, whole, proof)?;
        proof.push(range_hash(source, lo + k, hi)?);
    } else {
        subproof(source, m - k, lo + k, hi, false, proof)?;
        proof.push(range_hash(source, lo, lo + k)?);
    }
    Ok(())
}

/// Complete-subtree hashes computed from all leaf hashes in memory (for tests and small
/// trees).
impl SubtreeHashes for [Hash] {
    fn subtree(&mut self, level: u8, index: u64) -> Result<Hash, MerkleError> {
        let width = 1u64 << level;
        let (lo, hi) = (index * width, (index + 1) * width);
        if hi > self.len() as u64 {
            return Err(MerkleError::Read {
                level,
                index,
                detail: format!("only {} leaves", self.len()),
            });
        }
        Ok(root_of(&self[lo as usize..hi as usize]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(format!("entry {i}").as_bytes()))
            .collect()
    }

    #[test]
    fn a_leaf_hashed_in_parts_is_the_leaf_hash_of_their_concatenation() {
        let whole = b"{\"kind\":\"badge\",\"payload\":{},\"time\":\"t\"}";
        for (a, b) in [(0, 0), (0, 9), (9, 30), (30, whole.len())] {
            let parts: [&[u8]; 3] = [&whole[..a], &whole[a..b], &whole[b..]];
            assert_eq!(leaf_hash_of_parts(&parts), leaf_hash(whole));
        }
        assert_ne!(leaf_hash_of_parts(&[&whole[1..]]), leaf_hash(whole));
    }

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(EMPTY_ROOT.0, <[u8; 32]>::from(Sha256::digest(b"")));
    }

    #[test]
    fn every_generated_proof_verifies_and_has_the_computed_length() {
        for size in 1..=70u64 {
            let mut l = leaves(size);
            let root = root_of(&l);
            for index in 0..size {
                let proof = inclusion_proof(l.as_mut_slice(), index, size).unwrap();
                assert_eq!(proof.len(), inclusion_proof_length(index, size));
                verify_inclusion(&l[index as usize], index, size, &proof, &root).unwrap();
            }
            for old in 1..=size {
                let old_root = root_of(&l[..old as usize]);
                let proof = consistency_proof(l.as_mut_slice(), old, size).unwrap();
                assert_eq!(
                    proof.len(),
                    consistency_proof_length(old, size),
                    "{old}->{size}"
                );
                verify_consistency(old, size, &old_root, &root, &proof).unwrap();
            }
        }
    }

    #[test]
    fn a_wrong_leaf_or_root_is_refused() {
        let mut l = leaves(13);
        let root = root_of(&l);
        let proof = inclusion_proof(l.as_mut_slice(), 5, 13).unwrap();
        assert_eq!(
            verify_inclusion(&l[6], 5, 13, &proof, &root),
            Err(MerkleError::RootMismatch)
        );
        // The size is bound by the signed root, not by the path: index 5 has the same
        // path shape in trees of 12 and 13 leaves. A size with another shape is refused.
        assert!(matches!(
            verify_inclusion(&l[5], 5, 40, &proof, &root),
            Err(MerkleError::WrongProofLength { .. })
        ));
        assert_eq!(
            verify_consistency(0, 13, &EMPTY_ROOT, &root, &[]),
            Err(MerkleError::FromEmptyTree)
        );
    }
}

//! Password hashes: argon2id PHC strings, computed in memory each hashing thread keeps.
//!
//! The argon2 crate allocates its 19 MiB of blocks afresh for every hash. Under glibc,
//! once one such block has been freed the allocator keeps later ones in its heap, and
//! each sign-in left another 19 MiB resident (12 sequential wrong passwords: 27 → 262
//! MiB). Here every thread reuses one buffer, so the node holds at most one per hashing
//! thread ([`super::throttle::CONCURRENT_HASHES`]).

use std::cell::RefCell;

use argon2::password_hash::{Output, ParamsString, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};

/// The largest memory a stored hash may ask for (256 MiB), so a damaged or hostile
/// record cannot make a hashing thread allocate without bound.
const MAX_BLOCKS: usize = 256 * 1024;

thread_local! {
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Runs argon2 with this thread's blocks, grown to `params`' size.
fn with_blocks(
    argon: &Argon2<'_>,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), argon2::Error> {
    let count = params.block_count();
    if count > MAX_BLOCKS {
        return Err(argon2::Error::MemoryTooMuch);
    }
    BLOCKS.with(|blocks| {
        let mut blocks = blocks.borrow_mut();
        if blocks.len() < count {
            blocks.resize(count, Block::default());
        }
        argon.hash_password_into_with_memory(password, salt, out, &mut blocks[..count])
    })
}

/// A new hash of `password` with a fresh salt and argon2's default (OWASP) parameters.
pub fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut rand_core::OsRng);
    let params = Params::default();
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.as_salt().decode_b64(&mut salt_bytes)?;
    let output = Output::init_with(Params::DEFAULT_OUTPUT_LEN, |out| {
        with_blocks(&argon, &params, password.as_bytes(), salt_bytes, out)
            .map_err(argon2::password_hash::Error::from)
    })?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Whether `password` is the one hashed in the PHC string `phc` (compared in constant
/// time); a string that does not parse matches nothing.
pub fn matches(password: &str, phc: &str) -> bool {
    let Ok(stored) = PasswordHash::new(phc) else {
        return false;
    };
    let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) = (
        Algorithm::try_from(stored.algorithm),
        Params::try_from(&stored),
        stored.salt,
        stored.hash,
    ) else {
        return false;
    };
    let version = match stored.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let argon = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0u8; expected.len()];
    with_blocks(&argon, &params, password.as_bytes(), salt, &mut out).is_ok()
        // Output's equality is constant-time.
        && Output::new(&out).is_ok_and(|computed| computed == expected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::{PasswordHasher as _, PasswordVerifier as _};

    #[test]
    fn hashes_are_argon2_phc_strings_both_ways() {
        let ours = hash("correct horse battery").unwrap();
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        assert!(matches("correct horse battery", &ours));
        assert!(!matches("wrong horse battery", &ours));
        // The argon2 crate's own verifier accepts ours, and we accept its hashes (every
        // account stored before this module).
        let parsed = PasswordHash::new(&ours).unwrap();
        Argon2::default()
            .verify_password(b"correct horse battery", &parsed)
            .unwrap();
        let salt = SaltString::generate(&mut rand_core::OsRng);
        let theirs = Argon2::default()
            .hash_password(b"guildmark-demo", &salt)
            .unwrap()
            .to_string();
        assert!(matches("guildmark-demo", &theirs));
        assert!(!matches("guildmark-dem0", &theirs));
        for broken in ["", "$argon2id$", "plain", &theirs[..theirs.len() - 3]] {
            assert!(!matches("guildmark-demo", broken), "{broken}");
        }
    }
}

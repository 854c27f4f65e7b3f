//! Bad input never panics: every signed vector, mutated at random (bit flips, inserted
//! and deleted bytes, truncation, splices), goes through the verifier's entry point.
//! More cases with `PROPTEST_CASES=20000 cargo test -p guildmark-credentials --test vectors mutations`.

use crate::common::{contexts, now, vectors};
use guildmark_credentials::{verify_text, KnownKeys, VerifyOptions};
use proptest::prelude::*;
use std::sync::OnceLock;

/// Every JSON document under testdata/ that carries a proof, as bytes.
fn corpus() -> &'static Vec<(String, Vec<u8>)> {
    static CORPUS: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let mut files = Vec::new();
        let mut stack = vec![vectors()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "json") {
                    let bytes = std::fs::read(&path).unwrap();
                    if bytes
                        .windows(8)
                        .any(|w| w == b"\"proof\":" || w == b"\"proof\" ")
                    {
                        files.push((path.display().to_string(), bytes));
                    }
                }
            }
        }
        files.sort();
        assert!(
            files.len() > 80,
            "only {} signed vectors found",
            files.len()
        );
        files
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    FlipBit { at: usize, bit: u8 },
    Insert { at: usize, byte: u8 },
    Delete { at: usize, len: usize },
    Truncate { at: usize },
    Splice { from: usize, to: usize, len: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = any::<usize>();
    prop_oneof![
        (at, 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit { at, bit }),
        (
            at,
            prop::sample::select(b"{}[]\":,\\0123456789 eE.-tfnu\x00\xff".to_vec())
        )
            .prop_map(|(at, byte)| Mutation::Insert { at, byte }),
        (at, 1usize..16).prop_map(|(at, len)| Mutation::Delete { at, len }),
        at.prop_map(|at| Mutation::Truncate { at }),
        (at, at, 1usize..64).prop_map(|(from, to, len)| Mutation::Splice { from, to, len }),
    ]
}

fn apply(bytes: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for m in mutations {
        if out.is_empty() {
            break;
        }
        let n = out.len();
        match *m {
            Mutation::FlipBit { at, bit } => out[at % n] ^= 1 << bit,
            Mutation::Insert { at, byte } => out.insert(at % (n + 1), byte),
            Mutation::Delete { at, len } => {
                let start = at % n;
                out.drain(start..(start + len).min(n));
            }
            Mutation::Truncate { at } => out.truncate(at % n),
            Mutation::Splice { from, to, len } => {
                let start = from % n;
                let chunk: Vec<u8> = out[start..(start + len).min(n)].to_vec();
                let to = to % (out.len() + 1);
                out.splice(to..to, chunk);
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn mutated_vectors_never_panic(file in any::<prop::sample::Index>(), mutations in prop::collection::vec(mutation(), 1..4)) {
        let (name, bytes) = file.get(corpus());
        let mutated = apply(bytes, &mutations);
        let contexts = contexts_once();
        let keys = KnownKeys::default();
        let outcome = std::panic::catch_unwind(|| {
            verify_text(&mutated, &VerifyOptions::new(now(), contexts, &keys)).map(|v| v.report.verified)
        });
        prop_assert!(outcome.is_ok(), "{name} with {mutations:?} panicked");
    }
}

fn contexts_once() -> &'static guildmark_credentials::Contexts {
    static CONTEXTS: OnceLock<guildmark_credentials::Contexts> = OnceLock::new();
    CONTEXTS.get_or_init(contexts)
}

#[test]
fn the_unmutated_corpus_verifies_without_panicking() {
    let contexts = contexts();
    let keys = KnownKeys::default();
    for (name, bytes) in corpus() {
        let result = std::panic::catch_unwind(|| {
            verify_text(bytes, &VerifyOptions::new(now(), &contexts, &keys)).is_ok()
        });
        assert!(result.is_ok(), "{name} panicked");
    }
    eprintln!("{} signed vectors in the mutation corpus", corpus().len());
}

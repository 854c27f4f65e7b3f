//! Paths, loaders and the mismatch collector shared by the vector tests.

use guildmark_credentials::did_key::KeyPair;
use guildmark_credentials::jsonld::Contexts;
use guildmark_credentials::proof::{Cryptosuite, ProofOptions, ProofPurpose};
use guildmark_credentials::time::Timestamp;
use serde_json::Value;
use std::path::PathBuf;

/// `testdata/` at the repository root: the standards' vectors, with their sources in
/// `testdata/README.md`.
pub fn vectors() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata"))
}

pub fn read_text(rel: &str) -> String {
    let path = vectors().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

pub fn read_json(rel: &str) -> Value {
    serde_json::from_str(&read_text(rel)).unwrap_or_else(|e| panic!("parsing {rel}: {e}"))
}

/// The bundled contexts plus every context in `testdata/contexts/index.json`.
pub fn contexts() -> Contexts {
    let mut contexts = Contexts::bundled();
    let dir = vectors().join("contexts");
    let index = std::fs::read_to_string(dir.join("index.json")).unwrap();
    let n = contexts
        .register_index(&index, |file| std::fs::read_to_string(dir.join(file)))
        .unwrap();
    assert!(n >= 10, "only {n} contexts in the index");
    contexts
}

/// A fixed "now" so validity checks do not depend on the day the tests run.
pub fn now() -> Timestamp {
    Timestamp::parse("2026-01-01T00:00:00Z").unwrap()
}

/// The key pair of a `{publicKeyMultibase, privateKeyMultibase|secretKeyMultibase}` object.
pub fn key_pair(value: &Value) -> KeyPair {
    KeyPair::from_key_file(&value.to_string()).expect("vector key pair")
}

/// Proof options read from a vector's proof configuration object.
pub fn proof_options(config: &Value) -> ProofOptions {
    let s = |k: &str| config.get(k).and_then(Value::as_str).map(str::to_owned);
    let suite = Cryptosuite::from_name(&s("cryptosuite").unwrap());
    let mut options = ProofOptions::new(suite, s("created").map(|c| Timestamp::parse(&c).unwrap()));
    options.purpose = ProofPurpose::from_name(&s("proofPurpose").unwrap());
    options.id = s("id");
    options.previous_proof = match config.get("previousProof") {
        None => vec![],
        Some(Value::String(p)) => vec![p.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect(),
        Some(other) => panic!("previousProof {other}"),
    };
    options
}

/// Collects (case, expected, got) mismatches and reports them all at once.
#[derive(Default)]
pub struct Mismatches {
    found: Vec<String>,
    ran: usize,
}

impl Mismatches {
    pub fn ran(&mut self) {
        self.ran += 1;
    }

    pub fn check<T: PartialEq + std::fmt::Debug>(
        &mut self,
        case: &str,
        what: &str,
        expected: T,
        got: T,
    ) {
        if expected != got {
            self.found.push(format!(
                "{case}: {what}\n  expected: {expected:?}\n  got:      {got:?}"
            ));
        }
    }

    pub fn fail(&mut self, case: &str, message: impl std::fmt::Display) {
        self.found.push(format!("{case}: {message}"));
    }

    /// Asserts nothing mismatched and that exactly `expected_runs` cases ran.
    pub fn finish(self, expected_runs: usize) {
        assert!(
            self.found.is_empty(),
            "{} mismatch(es):\n{}",
            self.found.len(),
            self.found.join("\n")
        );
        assert_eq!(self.ran, expected_runs, "cases run");
        eprintln!("{} cases ran, all matched", self.ran);
    }
}

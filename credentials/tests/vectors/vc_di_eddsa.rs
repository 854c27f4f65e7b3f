//! EdDSA Cryptosuites v1.0: the REC's test vectors byte for byte, Digital Bazaar's
//! intermediates, the proof set/chain vectors, and the negative fixtures.

use crate::common::{self, contexts, now, read_json, read_text, Mismatches};
use guildmark_credentials::jsonld::Contexts;
use guildmark_credentials::proof::{
    self, canonical_forms, Cryptosuite, KnownKeys, ProofPurpose, VerifyProofOptions,
};
use guildmark_credentials::report::Outcome;
use guildmark_credentials::verify::{verify_credential, VerifyOptions};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

const TV: &str = "vc-di-eddsa/TestVectors";

fn proof_options<'a>(contexts: &'a Contexts, keys: &'a KnownKeys) -> VerifyProofOptions<'a> {
    VerifyProofOptions {
        contexts,
        keys,
        purpose: &ProofPurpose::AssertionMethod,
        at: now(),
        domain: None,
        challenge: None,
    }
}

/// Every proof of `doc` verifies; returns the per-proof errors otherwise.
fn proof_errors(doc: &Value, contexts: &Contexts) -> Vec<String> {
    let keys = KnownKeys::default();
    match proof::verify(doc, &proof_options(contexts, &keys)) {
        Err(e) => vec![format!("document: {e}")],
        Ok(results) => results
            .iter()
            .filter_map(|r| {
                r.result
                    .as_ref()
                    .err()
                    .map(|e| format!("proof[{}]: {e}", r.index))
            })
            .collect(),
    }
}

/// One W3C vector set: the unsigned document, proof config and every intermediate.
struct W3cCase {
    name: &'static str,
    unsigned: &'static str,
    dir: &'static str,
    suffix: &'static str,
    proof_canon: &'static str,
}

const W3C_CASES: &[W3cCase] = &[
    W3cCase {
        name: "eddsa-jcs-2022",
        unsigned: "unsigned.json",
        dir: "eddsa-jcs-2022",
        suffix: "JCS",
        proof_canon: "proofCanonJCS.txt",
    },
    W3cCase {
        name: "eddsa-rdfc-2022",
        unsigned: "unsigned.json",
        dir: "eddsa-rdfc-2022",
        suffix: "DataInt",
        proof_canon: "proofCanonDataInt.txt",
    },
    W3cCase {
        name: "eddsa-rdfc-2022/employ",
        unsigned: "employmentAuth.json",
        dir: "eddsa-rdfc-2022/employ",
        suffix: "DataInt",
        proof_canon: "proofCanonDataInt.txt",
    },
];

#[test]
fn w3c_test_vectors_reproduce_byte_for_byte() {
    let contexts = contexts();
    let key = common::key_pair(&read_json(&format!("{TV}/keyPair.json")));
    let mut m = Mismatches::default();
    for case in W3C_CASES {
        m.ran();
        let file = |stem: &str, ext: &str| format!("{TV}/{}/{stem}{}.{ext}", case.dir, case.suffix);
        let unsigned = read_json(&format!("{TV}/{}", case.unsigned));
        let config = read_json(&file("proofConfig", "json"));
        let suite = Cryptosuite::from_name(config["cryptosuite"].as_str().unwrap());
        let forms = canonical_forms(&unsigned, &config, &suite, &contexts).unwrap();
        m.check(
            case.name,
            "canonical document",
            read_text(&file("canonDoc", "txt")),
            String::from_utf8(forms.document.clone()).unwrap(),
        );
        m.check(
            case.name,
            "canonical proof config",
            read_text(&format!("{TV}/{}/{}", case.dir, case.proof_canon)),
            String::from_utf8(forms.proof_config.clone()).unwrap(),
        );
        let hash_data = forms.hash_data();
        m.check(
            case.name,
            "proof hash",
            read_text(&file("proofHash", "txt")).trim().to_owned(),
            hex::encode(&hash_data[..32]),
        );
        m.check(
            case.name,
            "document hash",
            read_text(&file("docHash", "txt")).trim().to_owned(),
            hex::encode(&hash_data[32..]),
        );
        m.check(
            case.name,
            "hash data",
            read_text(&file("combinedHash", "txt")).trim().to_owned(),
            hex::encode(hash_data),
        );
        m.check(
            case.name,
            "signature",
            read_text(&file("sigHex", "txt")).trim().to_owned(),
            hex::encode(key.sign(&hash_data).to_bytes()),
        );

        let mut signed = unsigned.clone();
        proof::sign(
            &mut signed,
            &key,
            &common::proof_options(&config),
            &contexts,
        )
        .unwrap();
        let expected = read_json(&file("signed", "json"));
        m.check(
            case.name,
            "proofValue",
            read_text(&file("sigBTC58", "txt")).trim(),
            signed["proof"]["proofValue"].as_str().unwrap(),
        );
        m.check(case.name, "signed document", &expected, &signed);
        m.check(
            case.name,
            "verification errors",
            Vec::<String>::new(),
            proof_errors(&expected, &contexts),
        );
    }
    m.finish(W3C_CASES.len());
}

#[test]
fn w3c_proof_set_and_chain_reproduce_step_by_step() {
    let contexts = contexts();
    let dir = format!("{TV}/proof-set-chain");
    let keys = read_json(&format!("{dir}/multiKeyPairs.json"));
    let mut doc = read_json(&format!("{dir}/unsigned.json"));
    let steps = [
        ("keyPair1", "proofSetConfig1.json", "signedProofSet1.json"),
        ("keyPair2", "proofSetConfig2.json", "signedProofSet2.json"),
        (
            "keyPair3",
            "proofChainConfig1.json",
            "signedProofChain1.json",
        ),
        (
            "keyPair4",
            "proofChainConfig2.json",
            "signedProofChain2.json",
        ),
    ];
    let mut m = Mismatches::default();
    for (key, config, expected) in steps {
        m.ran();
        let key = common::key_pair(&keys[key]);
        let config = read_json(&format!("{dir}/{config}"));
        proof::sign(&mut doc, &key, &common::proof_options(&config), &contexts).unwrap();
        let expected_doc = read_json(&format!("{dir}/{expected}"));
        // A one-proof set is written as a single object upstream; compare the proofs.
        let as_list = |v: &Value| match &v["proof"] {
            Value::Array(items) => items.clone(),
            one => vec![one.clone()],
        };
        m.check(expected, "proofs", as_list(&expected_doc), as_list(&doc));
        m.check(
            expected,
            "verification errors",
            Vec::<String>::new(),
            proof_errors(&expected_doc, &contexts),
        );
    }
    // The temporary documents are what a chained proof signs: proof = the previous proofs.
    for (temp, chained_config) in [
        ("proofChainTempDoc1.json", "proofChainConfigSigned1.json"),
        ("proofChainTempDoc2.json", "proofChainConfigSigned2.json"),
    ] {
        m.ran();
        // The temporary document already carries `proof` = the proofs being chained to.
        let temp_doc = read_json(&format!("{dir}/{temp}"));
        let signed = read_json(&format!("{dir}/{chained_config}"));
        let key = ["keyPair3", "keyPair4"]
            .iter()
            .map(|k| common::key_pair(&keys[k]))
            .find(|k| k.did_key().verification_method_id() == signed["verificationMethod"])
            .unwrap();
        let mut config = signed.clone();
        config.as_object_mut().unwrap().remove("proofValue");
        config["@context"] = temp_doc["@context"].clone();
        let forms =
            canonical_forms(&temp_doc, &config, &Cryptosuite::EddsaRdfc2022, &contexts).unwrap();
        let signature = key.sign(&forms.hash_data());
        m.check(
            temp,
            "chained proofValue over the temporary document",
            signed["proofValue"].as_str().unwrap().to_owned(),
            guildmark_credentials::multibase::encode_base58btc(&signature.to_bytes()),
        );
    }
    m.finish(steps.len() + 2);
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Intermediate {
    cryptosuite: String,
    canonical_document: String,
    canonical_proof_config: String,
    document_hash_hex: String,
    proof_config_hash_hex: String,
    hash_data_hex: String,
    signature_hex: String,
    proof_value: String,
}

#[test]
fn digital_bazaar_intermediates_reproduce() {
    let contexts = contexts();
    let dir = "vc-di-eddsa/generated-by-digitalbazaar";
    let file = read_json(&format!("{dir}/expected-intermediates.json"));
    let key = common::key_pair(&file["key"]);
    let vectors: BTreeMap<String, Intermediate> =
        serde_json::from_value(file["vectors"].clone()).unwrap();
    let mut m = Mismatches::default();
    for (name, expected) in &vectors {
        m.ran();
        // "file.json (in ../../other/dir/)" names a file kept in another folder.
        let path = match name.split_once(" (in ") {
            Some((file, rest)) => format!("{dir}/{}{file}", rest.trim_end_matches(')')),
            None => format!("{dir}/{name}"),
        };
        let signed = read_json(&path);
        // Proof sets name several proofs; reproduce the one whose suite this entry names.
        let proofs: Vec<Value> = match &signed["proof"] {
            Value::Array(items) => items.clone(),
            one => vec![one.clone()],
        };
        let proof = proofs
            .iter()
            .find(|p| p["cryptosuite"] == expected.cryptosuite.as_str())
            .unwrap()
            .clone();
        let mut unsigned = signed.clone();
        unsigned.as_object_mut().unwrap().remove("proof");
        let mut config = proof.clone();
        config.as_object_mut().unwrap().remove("proofValue");
        let suite = Cryptosuite::from_name(&expected.cryptosuite);
        if suite == Cryptosuite::EddsaRdfc2022 {
            config["@context"] = unsigned["@context"].clone();
        }
        let forms = canonical_forms(&unsigned, &config, &suite, &contexts).unwrap();
        let hash = forms.hash_data();
        m.check(
            name,
            "canonical document",
            expected.canonical_document.as_str(),
            std::str::from_utf8(&forms.document).unwrap(),
        );
        m.check(
            name,
            "canonical proof config",
            expected.canonical_proof_config.as_str(),
            std::str::from_utf8(&forms.proof_config).unwrap(),
        );
        m.check(
            name,
            "proof config hash",
            expected.proof_config_hash_hex.clone(),
            hex::encode(&hash[..32]),
        );
        m.check(
            name,
            "document hash",
            expected.document_hash_hex.clone(),
            hex::encode(&hash[32..]),
        );
        m.check(
            name,
            "hash data",
            expected.hash_data_hex.clone(),
            hex::encode(hash),
        );
        m.check(
            name,
            "signature",
            expected.signature_hex.clone(),
            hex::encode(key.sign(&hash).to_bytes()),
        );
        m.check(
            name,
            "proofValue",
            expected.proof_value.as_str(),
            proof["proofValue"].as_str().unwrap(),
        );
        m.check(
            name,
            "verification errors",
            Vec::<String>::new(),
            proof_errors(&signed, &contexts),
        );

        // And signing the unsigned document from scratch yields the same proof.
        if !name.contains("proof-set") {
            let mut fresh = unsigned.clone();
            proof::sign(&mut fresh, &key, &common::proof_options(&proof), &contexts).unwrap();
            let fresh_proof = match &fresh["proof"] {
                Value::Array(items) => items[0].clone(),
                one => one.clone(),
            };
            m.check(name, "re-signed proof", &proof, &fresh_proof);
        }
    }
    m.finish(vectors.len());
}

/// The expectation vocabulary of `generated-negative/expectations.json`, and what
/// Guildmark decides for the cases the standards leave open.
fn decision(expected: &str) -> bool {
    match expected {
        "accept" => true,
        "reject" | "reject-recommended" | "reject-at-validation" => false,
        // created without an offset: accepted, read as UTC (DI §2.1 allows it; W3C expects it).
        "may-accept" => true,
        // a bare did:key VM: accepted, as the 1EdTech validator does (it can only mean its one key).
        "implementation-defined" => true,
        other => panic!("unknown expectation {other}"),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NegativeFixture {
    file: String,
    expected: String,
    reason: String,
    error_type: Option<String>,
}

/// The error codes an `errorType` such as "PROOF_VERIFICATION_ERROR / unsupported
/// cryptosuite" or "PROOF_VERIFICATION_ERROR (MALFORMED)" allows.
fn allowed_codes(error_type: &str) -> Vec<&str> {
    error_type
        .split([' ', '/', '(', ')'])
        .filter(|w| w.len() > 3 && w.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .collect()
}

#[test]
fn negative_fixtures_are_decided_as_expected() {
    let contexts = contexts();
    let keys = KnownKeys::default();
    let dir = "vc-di-eddsa/generated-negative";
    let expectations = read_json(&format!("{dir}/expectations.json"));
    let fixtures: Vec<NegativeFixture> =
        serde_json::from_value(expectations["fixtures"].clone()).unwrap();
    let mut m = Mismatches::default();
    for fixture in &fixtures {
        m.ran();
        let doc = read_json(&format!("{dir}/{}", fixture.file));
        let options = VerifyOptions::new(now(), &contexts, &keys);
        let verification = verify_credential(&doc, &options);
        let accepted = verification.report.verified;
        // A rejection must be for the right reason: a failed check names an allowed code.
        if !accepted {
            let codes = fixture
                .error_type
                .as_deref()
                .map(allowed_codes)
                .unwrap_or_default();
            // A proof that could not be checked (an unknown cryptosuite or proof type)
            // is not verified either, and names its code among the unknown checks.
            let mut failed = verification.report.with_outcome(Outcome::Failed);
            if !verification.report.complete {
                failed.extend(verification.report.with_outcome(Outcome::Unknown));
            }
            if !codes.is_empty()
                && !failed
                    .iter()
                    .any(|c| codes.iter().any(|code| c.reason.contains(code)))
            {
                m.fail(
                    &fixture.file,
                    format!("rejected, but not with {codes:?}:\n{}", verification.report),
                );
            }
        }
        if accepted != decision(&fixture.expected) {
            m.fail(
                &fixture.file,
                format!(
                    "expected {} ({}), got {}:\n{}",
                    fixture.expected,
                    fixture.reason,
                    if accepted { "accept" } else { "reject" },
                    verification.report
                ),
            );
        }
    }
    m.finish(fixtures.len());
    assert_eq!(fixtures.len(), 42);
}

#[test]
fn data_integrity_assertion_suite_chains() {
    let contexts = contexts();
    let dir = "vc-di-eddsa/di-assertion-suite-inputs";
    let expectations = read_json(&format!("{dir}/expectations.json"));
    let fixtures = expectations["fixtures"].as_object().unwrap();
    let mut m = Mismatches::default();
    let mut skipped = 0;
    for (file, fixture) in fixtures {
        if fixture["expected"] == "n/a" {
            // validVc.json is the unsigned template the suite signs at run time.
            skipped += 1;
            continue;
        }
        m.ran();
        let doc = read_json(&format!("{dir}/{file}"));
        let errors = proof_errors(&doc, &contexts);
        let expect_accept = fixture["expected"] == "accept";
        if errors.is_empty() != expect_accept {
            m.fail(
                file,
                format!("expected {}, got errors {errors:?}", fixture["expected"]),
            );
        }
    }
    assert_eq!(skipped, 1, "only the unsigned template is skipped");
    m.finish(fixtures.len() - skipped);
    assert_eq!(
        fixtures.len(),
        13,
        "12 chain fixtures + the validVc template"
    );
}

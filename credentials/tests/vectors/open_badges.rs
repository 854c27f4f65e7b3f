//! Open Badges 3.0: the 1EdTech JSON schemas, the Implementation Guide's signing vector,
//! the 1EdTech validator samples, and badges Guildmark builds itself.

use crate::common::{self, contexts, now, read_json, read_text, Mismatches};
use guildmark_credentials::badge::{
    Achievement, EndorsementCredential, Evidence, OpenBadgeCredential, Profile,
};
use guildmark_credentials::did_key::{DidKey, KeyPair};
use guildmark_credentials::proof::{
    self, canonical_forms, Cryptosuite, KnownKeys, ProofOptions, ProofPurpose, VerifyProofOptions,
};
use guildmark_credentials::time::Timestamp;
use guildmark_credentials::verify::{verify_credential, VerifyOptions};
use serde_json::Value;

const OB: &str = "open-badges-3";

/// A JSON-schema validator for one of the 1EdTech schemas.
pub fn schema(name: &str) -> jsonschema::Validator {
    let schema = read_json(&format!("{OB}/schemas/{name}"));
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft201909)
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("schema {name}: {e}"))
}

/// Resolves https verification methods whose fragment is the Multikey itself, as the
/// 1EdTech samples use them (the expectations were computed the same way).
fn keys_from_fragments(doc: &Value) -> KnownKeys {
    let mut keys = KnownKeys::default();
    let proofs = match doc.get("proof") {
        Some(Value::Array(items)) => items.clone(),
        Some(one) => vec![one.clone()],
        None => vec![],
    };
    for p in proofs {
        let Some(vm) = p.get("verificationMethod").and_then(Value::as_str) else {
            continue;
        };
        if let (true, Some((_, fragment))) = (vm.starts_with("https://"), vm.split_once('#')) {
            if let Ok(did) = DidKey::from_public_key_multibase(fragment) {
                keys.insert(vm, *did.public_key(), None);
            }
        }
    }
    keys
}

#[test]
fn json_schema_results_match() {
    let expectations = read_json(&format!("{OB}/expectations.json"));
    let files = expectations["files"].as_object().unwrap();
    let mut m = Mismatches::default();
    let mut validators = std::collections::HashMap::new();
    for (file, expected) in files {
        let Some(expected) = expected.get("canonicalJsonSchema") else {
            continue;
        };
        m.ran();
        let schema_file = expected["schema"]
            .as_str()
            .unwrap()
            .trim_start_matches("schemas/");
        let validator = validators
            .entry(schema_file.to_owned())
            .or_insert_with(|| schema(schema_file));
        let doc = read_json(&resolve(file));
        m.check(
            file,
            "schema valid",
            expected["valid"].as_bool().unwrap(),
            validator.is_valid(&doc),
        );
    }
    m.finish(
        files
            .values()
            .filter(|v| v.get("canonicalJsonSchema").is_some())
            .count(),
    );
}

/// Paths in the OB expectations are relative to `open-badges-3/` (the generated badges
/// as `../vc-di-eddsa/…`). A file that is missing fails the test that reads it.
fn resolve(file: &str) -> String {
    match file.strip_prefix("../") {
        Some(from_root) => from_root.to_owned(),
        None => format!("{OB}/{file}"),
    }
}

#[test]
fn signatures_match_the_independent_check() {
    let contexts = contexts();
    let expectations = read_json(&format!("{OB}/expectations.json"));
    let files = expectations["files"].as_object().unwrap();
    let mut m = Mismatches::default();
    let mut expected_runs = 0;
    for (file, expected) in files {
        let Some(independent) = expected
            .pointer("/signature/independent")
            .and_then(Value::as_array)
        else {
            continue;
        };
        expected_runs += 1;
        m.ran();
        let doc = read_json(&resolve(file));
        let keys = keys_from_fragments(&doc);
        let options = VerifyProofOptions {
            contexts: &contexts,
            keys: &keys,
            purpose: &ProofPurpose::AssertionMethod,
            at: now(),
            domain: None,
            challenge: None,
        };
        let ours: Vec<bool> = match proof::verify(&doc, &options) {
            Ok(results) => results.iter().map(|r| r.result.is_ok()).collect(),
            Err(_) => vec![],
        };
        let theirs: Vec<bool> = independent
            .iter()
            .map(|v| v == &Value::Bool(true))
            .collect();
        m.check(file, "per-proof signature results", theirs, ours);
    }
    m.finish(expected_runs);
}

#[test]
fn implementation_guide_vector_reproduces() {
    let dir = format!("{OB}/test-vector-eddsa-rdfc-2022");
    let contexts = contexts();
    let keypair = read_json(&format!("{dir}/keypair.json"));
    let key = common::key_pair(&keypair);
    let unsigned = read_json(&format!("{dir}/unsigned.json"));
    let mut options = read_json(&format!("{dir}/proof-options.json"));
    let expected = read_json(&format!("{dir}/expected.json"));
    // eddsa-rdfc-2022 canonicalizes the proof options with the document's @context.
    options["@context"] = unsigned["@context"].clone();
    let forms =
        canonical_forms(&unsigned, &options, &Cryptosuite::EddsaRdfc2022, &contexts).unwrap();
    let mut m = Mismatches::default();
    m.ran();
    m.check(
        "document",
        "canonical form",
        read_text(&format!("{dir}/document-canon.txt")),
        String::from_utf8(forms.document.clone()).unwrap(),
    );
    m.check(
        "proof",
        "canonical form",
        read_text(&format!("{dir}/proof-canon.txt")),
        String::from_utf8(forms.proof_config.clone()).unwrap(),
    );
    let hash = forms.hash_data();
    m.check(
        "hash",
        "document",
        expected["documentHashHex"].as_str().unwrap(),
        &hex::encode(&hash[32..]),
    );
    m.check(
        "hash",
        "proof",
        expected["proofHashHex"].as_str().unwrap(),
        &hex::encode(&hash[..32]),
    );
    m.check(
        "hash",
        "data to sign",
        expected["dataToSignHex"].as_str().unwrap(),
        &hex::encode(hash),
    );
    m.check(
        "signature",
        "hex",
        expected["signatureHex"].as_str().unwrap(),
        &hex::encode(key.sign(&hash).to_bytes()),
    );

    options.as_object_mut().unwrap().remove("@context");
    let mut proof_options = common::proof_options(&options);
    proof_options.verification_method = Some(keypair["id"].as_str().unwrap().to_owned());
    let mut signed = unsigned.clone();
    proof::sign(&mut signed, &key, &proof_options, &contexts).unwrap();
    m.check("signed", "proof", &expected["proof"], &signed["proof"]);
    let published = read_json(&format!("{dir}/signed.json"));
    let published_proof = match &published["proof"] {
        Value::Array(items) => items[0].clone(),
        one => one.clone(),
    };
    m.check("signed.json", "proof", &expected["proof"], &published_proof);
    m.finish(1);
}

/// Guildmark's verdict on each 1EdTech validator sample, and why where it differs.
const VALIDATOR_VERDICTS: &[(&str, bool, &str)] = &[
    ("simple.json", true, ""),
    ("simple-did-key-method.json", true, ""),
    ("simple-context-alias.json", true, ""),
    ("endorsement-valid.json", true, ""),
    ("simple-context-version.json", true, "1EdTech flags the older 3.0.2 context; it is a published OB 3.0 context, so Guildmark accepts it"),
    ("complete.json", true, "1EdTech fails its inline-schema probe; Guildmark does not fetch schemas and reports the schema check as unknown"),
    ("simple-multiple-proofs.json", false, "1EdTech flags the undefined first proof but passes the second; Data Integrity requires every proof of a set to verify"),
    ("simple-err-context.json", false, ""),
    ("simple-err-credential-subject-achievement-result-description-type.json", false, ""),
    ("simple-err-credential-subject-identifier-type.json", false, ""),
    ("simple-err-credential-subject-profile-type.json", false, ""),
    ("simple-err-credential-subject-result-type.json", false, ""),
    ("simple-err-credential-subject-type.json", false, ""),
    ("simple-err-evidence-type.json", false, ""),
    ("simple-err-expired.json", false, ""),
    ("simple-err-issued.json", false, ""),
    ("simple-err-issuer-otheridentifier-type.json", false, ""),
    ("simple-err-issuer-parentorg-type.json", false, ""),
    ("simple-err-issuer-type.json", false, ""),
    ("simple-err-issuer.json", false, ""),
    ("simple-err-proof-method-no-scheme.json", false, ""),
    ("simple-err-proof-method-unknown-did-method.json", false, ""),
    ("simple-err-proof-method-unknown-scheme.json", false, ""),
    ("simple-err-proof-method.json", false, ""),
    ("simple-err-proof-value.json", false, ""),
    ("simple-err-type.json", false, ""),
    ("legacy-vcdm1/simple-eddsa-2022.json", false, "1EdTech accepts VCDM 1.1 with the pre-REC eddsa-2022 suite with a warning; Guildmark is VC 2.0 with the REC suites only"),
];

#[test]
fn validator_samples_get_guildmark_verdicts() {
    let contexts = contexts();
    let dir = common::vectors().join(OB).join("1edtech-validator-samples");
    let on_disk = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "json")
        })
        .count()
        + 1; // + legacy-vcdm1/simple-eddsa-2022.json
    assert_eq!(
        on_disk,
        VALIDATOR_VERDICTS.len(),
        "every sample has a verdict"
    );
    let mut m = Mismatches::default();
    for (file, accept, why) in VALIDATOR_VERDICTS {
        m.ran();
        let doc = read_json(&format!("{OB}/1edtech-validator-samples/{file}"));
        let keys = keys_from_fragments(&doc);
        let report = verify_credential(&doc, &VerifyOptions::new(now(), &contexts, &keys)).report;
        if report.verified != *accept {
            m.fail(
                file,
                format!(
                    "expected {} {why}\n{report}",
                    if *accept { "accept" } else { "reject" }
                ),
            );
        }
    }
    m.finish(VALIDATOR_VERDICTS.len());
}

#[test]
fn issued_badges_and_endorsements_validate_against_the_1edtech_schemas() {
    let contexts = contexts();
    let community = KeyPair::from_seed(&[3; 32]);
    let apprentice = KeyPair::from_seed(&[4; 32]);
    let at = Timestamp::parse("2026-03-01T10:00:00Z").unwrap();
    let mut achievement = Achievement::new(
        "https://valley.example/achievements/soldering-l1",
        "Soldering L1",
        "Makes reliable through-hole joints.",
        "Solder 20 through-hole joints that pass IPC-A-610 class 2 inspection.",
    );
    achievement.tag = Some(vec!["electronics".into()]);
    let mut badge = OpenBadgeCredential::new(
        "urn:uuid:5f7d8a6e-7a1b-4c52-9b56-1b2c3d4e5f60",
        Profile::new(community.did_key().did(), "Valley Microfactory"),
        at.into(),
        apprentice.did_key().did(),
        achievement,
    );
    badge.evidence = Some(
        vec![Evidence::narrative(
            "Board #12, inspected by two assessors.",
        )]
        .into(),
    );
    let endorsement = EndorsementCredential::new(
        "urn:uuid:0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9",
        "Endorsement of Soldering L1",
        Profile::new(apprentice.did_key().did(), "Ada"),
        at.into(),
        "https://valley.example/achievements/soldering-l1",
        Some("Well-designed assessment.".into()),
    );
    let keys = KnownKeys::default();
    let mut m = Mismatches::default();
    for suite in [Cryptosuite::EddsaJcs2022, Cryptosuite::EddsaRdfc2022] {
        for (name, doc, schema_file, signer) in [
            (
                "badge",
                serde_json::to_value(&badge).unwrap(),
                "achievementcredential.json",
                &community,
            ),
            (
                "endorsement",
                serde_json::to_value(&endorsement).unwrap(),
                "endorsementcredential.json",
                &apprentice,
            ),
        ] {
            m.ran();
            let mut doc = doc;
            proof::sign(
                &mut doc,
                signer,
                &ProofOptions::new(suite.clone(), Some(at)),
                &contexts,
            )
            .unwrap();
            // The schema wants `proof` as an array even with one proof.
            let single = doc["proof"].take();
            doc["proof"] = Value::Array(vec![single]);
            let case = format!("{name} ({suite})");
            let validator = schema(schema_file);
            let errors: Vec<String> = validator
                .iter_errors(&doc)
                .map(|e| format!("{} at {}", e, e.instance_path))
                .collect();
            m.check(&case, "schema errors", Vec::<String>::new(), errors);
            let report = verify_credential(&doc, &VerifyOptions::new(at, &contexts, &keys)).report;
            if !report.verified
                || !report
                    .with_outcome(guildmark_credentials::Outcome::Unknown)
                    .is_empty()
            {
                m.fail(&case, format!("expected every check to pass:\n{report}"));
            }
        }
    }
    // And the typed value round-trips through JSON unchanged.
    let back: OpenBadgeCredential =
        serde_json::from_value(serde_json::to_value(&badge).unwrap()).unwrap();
    assert_eq!(back, badge);
    m.finish(4);
}

/// Regression: the JSON-LD→RDF path behind ssi drops `@list` members, so a change to one
/// (here an `allowedValue` of the 1EdTech `complete.json` sample) left the signature valid.
/// Guildmark's own toRdf keeps them, and RDFC-1.0 labels the graph as jsonld.js does.
#[test]
fn changing_a_list_member_breaks_the_signature() {
    let contexts = contexts();
    let original = read_json(&format!("{OB}/1edtech-validator-samples/complete.json"));
    let keys = keys_from_fragments(&original);
    let options = VerifyProofOptions {
        contexts: &contexts,
        keys: &keys,
        purpose: &ProofPurpose::AssertionMethod,
        at: now(),
        domain: None,
        challenge: None,
    };
    let ok = |doc: &Value| {
        proof::verify(doc, &options)
            .unwrap()
            .iter()
            .all(|r| r.result.is_ok())
    };
    assert!(ok(&original), "the sample verifies as signed");
    let text = original.to_string();
    assert!(text.contains(r#""allowedValue":["D","C","B","A"]"#));
    let tampered: Value = serde_json::from_str(&text.replace(
        r#""allowedValue":["D","C","B","A"]"#,
        r#""allowedValue":["D","C","B","F"]"#,
    ))
    .unwrap();
    assert!(
        !ok(&tampered),
        "a changed list member must invalidate the proof"
    );
    // Booleans keep their coerced datatype: flipping `hashed` must break it too.
    let flipped: Value =
        serde_json::from_str(&text.replacen(r#""hashed":false"#, r#""hashed":true"#, 1)).unwrap();
    assert_ne!(flipped, original);
    assert!(!ok(&flipped));
}

#[test]
fn the_bundled_open_badges_context_is_the_published_one() {
    let (_, text) = guildmark_credentials::jsonld::bundled_documents()
        .iter()
        .find(|(url, _)| *url == guildmark_credentials::badge::OB_CONTEXT)
        .expect("Open Badges 3.0.3 is bundled");
    let bundled: Value = serde_json::from_str(text).unwrap();
    assert_eq!(bundled, read_json("contexts/ob-v3p0-context-3.0.3.json"));
    assert!(
        guildmark_credentials::Contexts::bundled().knows(guildmark_credentials::badge::OB_CONTEXT)
    );
    // Every other bundled context is the testdata copy, byte for byte.
    let index = read_json("contexts/index.json");
    let mut compared = 0;
    for (url, text) in guildmark_credentials::jsonld::bundled_documents() {
        let Some(file) = index["contexts"][*url].as_str() else {
            continue; // Guildmark's own
        };
        let published = read_text(&format!("contexts/{file}"));
        assert_eq!(*text, published, "{url}");
        compared += 1;
    }
    assert_eq!(
        compared, 6,
        "the Open Badges revisions, extensions and status contexts"
    );
    for url in guildmark_credentials::badge::OB_CONTEXTS {
        assert!(
            guildmark_credentials::Contexts::bundled().knows(url),
            "{url}"
        );
    }
}

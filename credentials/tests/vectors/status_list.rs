//! Bitstring Status List v1.0: every list decodes to the expected bits, every credential
//! check gives the expected status, and every error case of the spec is produced.

use crate::common::{contexts, now, read_json, Mismatches};
use guildmark_credentials::did_key::KeyPair;
use guildmark_credentials::proof::{self, Cryptosuite, KnownKeys, ProofOptions};
use guildmark_credentials::report::Outcome;
use guildmark_credentials::status_list::{
    Bitstring, StatusEntry, StatusListCredential, StatusPurpose, MIN_ENTRIES,
};
use guildmark_credentials::verify::{verify_credential, VerifyOptions};
use serde_json::{json, Value};

#[test]
fn every_list_decodes_to_the_expected_bits() {
    let expected = read_json("status-list/expected.json");
    let lists = expected["lists"].as_object().unwrap();
    let mut m = Mismatches::default();
    for (file, want) in lists {
        m.ran();
        let credential = read_json(file);
        let list = StatusListCredential::parse(&credential).unwrap().list;
        m.check(
            file,
            "decoded bits",
            want["decodedLengthBits"].as_u64().unwrap() as usize,
            list.len(),
        );
        let set: Vec<u64> = want["setBits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b.as_u64().unwrap())
            .collect();
        m.check(
            file,
            "set bits",
            set,
            list.set_bits().map(|b| b as u64).collect(),
        );
    }
    m.finish(lists.len());
}

#[test]
fn credential_checks_give_the_expected_status() {
    let expected = read_json("status-list/expected.json");
    let checks = expected["credentialChecks"].as_array().unwrap();
    let mut m = Mismatches::default();
    let mut runs = 0;
    for check in checks {
        let list =
            StatusListCredential::parse(&read_json(check["statusList"].as_str().unwrap())).unwrap();
        // "a.json (and .b.json)" names two credentials checked against the same list.
        let name = check["credential"].as_str().unwrap();
        let files: Vec<String> = match name.split_once(" (and ") {
            Some((first, second)) => {
                let stem = first.rsplit_once(".eddsa").unwrap().0;
                vec![
                    first.to_owned(),
                    format!("{stem}{}", second.trim_end_matches(')')),
                ]
            }
            None => vec![name.to_owned()],
        };
        for file in files {
            runs += 1;
            m.ran();
            let credential = read_json(&file);
            let want_valid = check["result"]["valid"].as_bool().unwrap();
            let status = &credential["credentialStatus"];
            let got_valid = match StatusEntry::parse(status) {
                // A JSON-number index is malformed, so the credential's status is not valid.
                Err(e) => {
                    m.check(&file, "error code", "MALFORMED_VALUE_ERROR", e.code());
                    false
                }
                Ok(entry) => {
                    let entry = entry.unwrap();
                    let status = list.status_of(&entry).unwrap();
                    m.check(
                        &file,
                        "status bit",
                        check["expectedStatusBit"].as_u64().unwrap(),
                        status.value,
                    );
                    !status.is_set()
                }
            };
            m.check(&file, "valid", want_valid, got_valid);
        }
    }
    m.finish(runs);
    assert_eq!(runs, 7);
}

/// The signed Digital Bazaar badges, verified end to end with their signed list.
#[test]
fn signed_badges_report_revocation_with_the_list_date() {
    let contexts = contexts();
    let keys = KnownKeys::default();
    let list = read_json("status-list/generated/status-list-credential.eddsa-rdfc-2022.json");
    let lists = [list.clone()];
    let mut m = Mismatches::default();
    for (file, revoked) in [
        ("ob3-badge-revoked.eddsa-jcs-2022.json", true),
        ("ob3-badge-revoked.eddsa-rdfc-2022.json", true),
        ("ob3-badge-active.eddsa-jcs-2022.json", false),
        ("ob3-badge-active.eddsa-rdfc-2022.json", false),
    ] {
        m.ran();
        let badge = read_json(&format!("vc-di-eddsa/generated-by-digitalbazaar/{file}"));
        let options = VerifyOptions {
            status_lists: &lists,
            ..VerifyOptions::new(now(), &contexts, &keys)
        };
        let report = verify_credential(&badge, &options).report;
        let status = report.check("status").unwrap();
        m.check(
            file,
            "status outcome",
            if revoked {
                Outcome::Failed
            } else {
                Outcome::Passed
            },
            status.outcome,
        );
        let word = if revoked {
            "revoked as of"
        } else {
            "not revoked as of"
        };
        if !status.reason.starts_with(word) {
            m.fail(
                file,
                format!(
                    "status reason {:?} should start with {word:?}",
                    status.reason
                ),
            );
        }
        // Without the list the status is unknown, never passed.
        let report = verify_credential(&badge, &VerifyOptions::new(now(), &contexts, &keys)).report;
        m.check(
            file,
            "status without a list",
            Outcome::Unknown,
            report.check("status").unwrap().outcome,
        );
    }
    // A list whose bits were changed after signing is refused.
    m.ran();
    let mut forged = list.clone();
    let mut bits = Bitstring::new(0);
    bits.set(12345, true);
    forged["credentialSubject"]["encodedList"] = bits.encode().into();
    let badge =
        read_json("vc-di-eddsa/generated-by-digitalbazaar/ob3-badge-active.eddsa-jcs-2022.json");
    let lists = [forged];
    let options = VerifyOptions {
        status_lists: &lists,
        ..VerifyOptions::new(now(), &contexts, &keys)
    };
    let status = verify_credential(&badge, &options)
        .report
        .check("status")
        .unwrap()
        .clone();
    m.check("forged list", "outcome", Outcome::Failed, status.outcome);
    m.check(
        "forged list",
        "mentions",
        true,
        status.reason.contains("STATUS_VERIFICATION_ERROR"),
    );
    m.finish(5);
}

/// Every error type of `expected.json`'s `errorCases`, produced on purpose.
#[test]
fn every_error_case_is_produced() {
    let expected = read_json("status-list/expected.json");
    let cases = expected["errorCases"].as_array().unwrap();
    let entry = |index: &str, purpose: &str| {
        StatusEntry::parse(
            &json!({"type": "BitstringStatusListEntry", "statusPurpose": purpose,
            "statusListIndex": index, "statusListCredential": "https://example.com/list"}),
        )
        .unwrap()
        .unwrap()
    };
    let list = |bits: usize, purpose: &str| StatusListCredential {
        id: "https://example.com/list".into(),
        issuer: "did:example:issuer".into(),
        purposes: vec![StatusPurpose::from_name(purpose)],
        valid_from: None,
        valid_until: None,
        list: {
            let mut b = Bitstring::new(bits);
            b.set(0, true);
            b
        },
    };
    let mut produced = Vec::new();
    // RANGE_ERROR: index 131072 on a 131072-bit list.
    produced.push(
        list(MIN_ENTRIES, "revocation")
            .status_of(&entry("131072", "revocation"))
            .unwrap_err()
            .code(),
    );
    // STATUS_LIST_LENGTH_ERROR: a list shorter than 16 KB, decoded from its encoding.
    let short = json!({"id": "https://example.com/list", "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": "did:example:issuer", "credentialSubject": {"type": "BitstringStatusList", "statusPurpose": "revocation",
        "encodedList": guildmark_credentials::multibase::encode_base64url(&gzip(&[0u8; 1024]))}});
    produced.push(StatusListCredential::parse(&short).unwrap_err().code());
    // STATUS_VERIFICATION_ERROR: purpose mismatch.
    produced.push(
        list(MIN_ENTRIES, "suspension")
            .status_of(&entry("1", "revocation"))
            .unwrap_err()
            .code(),
    );
    // STATUS_VERIFICATION_ERROR: the list's proof does not verify (report level).
    let contexts = contexts();
    let keys = KnownKeys::default();
    let issuer = KeyPair::from_seed(&[9; 32]);
    let at = now();
    let list_id = "https://example.com/status/1";
    let mut list_vc = StatusListCredential::unsigned(
        list_id,
        issuer.did_key().did(),
        &StatusPurpose::Revocation,
        &Bitstring::new(0),
        at,
        None,
    );
    proof::sign(
        &mut list_vc,
        &issuer,
        &ProofOptions::new(Cryptosuite::EddsaJcs2022, Some(at)),
        &contexts,
    )
    .unwrap();
    let mut credential = json!({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
        "issuer": issuer.did_key().did(), "credentialSubject": {"id": "did:example:x", "name": "x"},
        "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation",
            "statusListIndex": "7", "statusListCredential": list_id}});
    proof::sign(
        &mut credential,
        &issuer,
        &ProofOptions::new(Cryptosuite::EddsaJcs2022, Some(at)),
        &contexts,
    )
    .unwrap();
    let mut tampered = list_vc.clone();
    tampered["validFrom"] = "2020-01-01T00:00:00Z".into();
    let status_of = |lists: &[Value]| {
        let options = VerifyOptions {
            status_lists: lists,
            ..VerifyOptions::new(at, &contexts, &keys)
        };
        verify_credential(&credential, &options)
            .report
            .check("status")
            .unwrap()
            .clone()
    };
    let code_in = |reason: &str| {
        ["STATUS_VERIFICATION_ERROR", "STATUS_RETRIEVAL_ERROR"]
            .into_iter()
            .find(|c| reason.contains(c))
            .unwrap_or("none")
    };
    let good = status_of(std::slice::from_ref(&list_vc));
    assert_eq!(good.outcome, Outcome::Passed, "{}", good.reason);
    let bad = status_of(&[tampered]);
    assert_eq!(bad.outcome, Outcome::Failed);
    produced.push(code_in(&bad.reason));
    // STATUS_RETRIEVAL_ERROR: the list was not given; the status is unknown.
    let missing = status_of(&[]);
    assert_eq!(missing.outcome, Outcome::Unknown);
    produced.push(code_in(&missing.reason));
    // MALFORMED_VALUE_ERROR: an index that is not a base-10 string.
    produced.push(
        StatusEntry::parse(
            &json!({"type": "BitstringStatusListEntry", "statusPurpose": "revocation",
            "statusListIndex": true, "statusListCredential": "https://example.com/list"}),
        )
        .unwrap_err()
        .code(),
    );
    let wanted: Vec<&str> = cases
        .iter()
        .map(|c| c["expected"].as_str().unwrap())
        .collect();
    assert_eq!(wanted.len(), 6);
    let mut want_sorted = wanted.clone();
    want_sorted.sort();
    produced.sort();
    assert_eq!(produced, want_sorted);
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

//! VC Data Model 2.0: every fixture of the W3C test suite, as its issuer and verifier
//! tests use it (`vc-data-model-2/expectations.json`).

use crate::common::{contexts, now, read_json, Mismatches};
use guildmark_credentials::did_key::KeyPair;
use guildmark_credentials::jsonld::Contexts;
use guildmark_credentials::proof::{self, Cryptosuite, KnownKeys, ProofOptions, ProofPurpose};
use guildmark_credentials::time::Timestamp;
use guildmark_credentials::validation::validate_for_issuance;
use guildmark_credentials::verify::{verify_credential, verify_presentation, VerifyOptions};
use guildmark_credentials::Conclusion;
use serde_json::Value;

const YEAR: i64 = 365 * 86_400;

#[derive(Debug, PartialEq)]
enum Expect {
    Accept,
    Reject,
}

/// Maps the file's expectation to a decision, or to a skip with its reason.
fn expectation(expected: &str, file: &str) -> Result<Expect, &'static str> {
    match expected {
        "accept" if file == "validVc.json" => Err(
            "the suite helpers' VCDM 1.1 template (credentials/v1 context); Guildmark is VC 2.0 only",
        ),
        "accept" | "accept (by file name)" => Ok(Expect::Accept),
        "reject" | "reject (by file name)" | "reject at issue OR at verify" => Ok(Expect::Reject),
        // Guildmark's issuer refuses rather than injecting a missing base context.
        "reject-or-inject" | "reject-or-inject (by file name)" => Ok(Expect::Reject),
        "accept? (by file name)" if file.ends_with("credential-proof-ok.json") => Err(
            "unreferenced input that carries an Ed25519Signature2020 proof by an unknown key; \
             no normative outcome",
        ),
        "unspecified" | "unspecified (likely reject)" => Err(
            "unreferenced self-asserted presentation with no -ok/-fail suffix; no normative outcome",
        ),
        other => panic!("unknown expectation {other:?} for {file}"),
    }
}

fn sign(doc: &mut Value, key: &KeyPair, purpose: ProofPurpose, contexts: &Contexts) {
    let mut options = ProofOptions::new(Cryptosuite::EddsaJcs2022, Some(now()));
    options.purpose = purpose;
    proof::sign(doc, key, &options, contexts).unwrap();
}

#[test]
fn w3c_vc_data_model_fixtures() {
    let contexts = contexts();
    let keys = KnownKeys::default();
    let issuer = KeyPair::from_seed(&[42; 32]);
    let expectations = read_json("vc-data-model-2/expectations.json");
    let fixtures = expectations["fixtures"].as_object().unwrap();
    let mut m = Mismatches::default();
    let mut skipped = Vec::new();
    let (mut accepts, mut rejects) = (0, 0);
    for (file, fixture) in fixtures {
        let expected = fixture["expected"].as_str().unwrap();
        let expect = match expectation(expected, file) {
            Ok(e) => e,
            Err(reason) => {
                skipped.push((file.clone(), reason));
                continue;
            }
        };
        m.ran();
        match expect {
            Expect::Accept => accepts += 1,
            Expect::Reject => rejects += 1,
        }
        // The suite replaces these placeholders with dates a year either side of now.
        let text = crate::common::read_text(&format!("vc-data-model-2/{file}"))
            .replace("PAST DATE", &now().plus_seconds(-YEAR).to_string())
            .replace("FUTURE DATE", &now().plus_seconds(YEAR).to_string());
        let mut doc: Value = serde_json::from_str(&text).unwrap();
        let name = file.rsplit('/').next().unwrap();
        let options = VerifyOptions::new(now(), &contexts, &keys);
        if name.starts_with("presentation-") {
            // Sign every credential and the presentation, so a rejection can only come from
            // the fixture's own defect.
            // A did:key holder we hold no key for becomes our own everywhere it appears
            // (keeping self-asserted credentials self-asserted), in the same shape.
            let holder = match doc.get("holder") {
                Some(Value::String(h)) => Some(h.clone()),
                Some(Value::Object(h)) => h.get("id").and_then(Value::as_str).map(str::to_owned),
                _ => None,
            };
            if let Some(holder) = holder.filter(|h| h.starts_with("did:key:")) {
                let text = doc.to_string().replace(&holder, issuer.did_key().did());
                doc = serde_json::from_str(&text).unwrap();
            }
            if let Some(Value::Array(vcs)) = doc.get_mut("verifiableCredential") {
                for vc in vcs
                    .iter_mut()
                    .filter(|vc| vc.is_object() && vc["type"] != "EnvelopedVerifiableCredential")
                {
                    sign(vc, &issuer, ProofPurpose::AssertionMethod, &contexts);
                }
            }
            sign(&mut doc, &issuer, ProofPurpose::Authentication, &contexts);
            let report = verify_presentation(&doc, &options);
            // The suite judges data-model conformance: an enveloped credential Guildmark
            // cannot open leaves the report incomplete ("could not be fully verified",
            // tested in the CLI suite), which conforms; only a failed check rejects.
            let conforms = report.conclusion() != Conclusion::Failed;
            if conforms != (expect == Expect::Accept) {
                m.fail(file, format!("expected {expected}, got:\n{report}"));
            }
        } else {
            // The suite gives the issuer's own id to inputs that have no issuer at all, or
            // an issuer object without an id.
            if doc.is_object() && doc.get("issuer").is_none() {
                doc["issuer"] = issuer.did_key().did().into();
            }
            if let Some(Value::Object(o)) = doc.get_mut("issuer") {
                o.entry("id")
                    .or_insert_with(|| issuer.did_key().did().into());
            }
            let issuable = validate_for_issuance(&doc, &contexts);
            match (&expect, issuable) {
                (Expect::Accept, Ok(())) => {
                    sign(&mut doc, &issuer, ProofPurpose::AssertionMethod, &contexts);
                    // Issuing a credential that is expired or not yet valid is allowed;
                    // verify it at a time inside its validity period.
                    let time = |p: &str| {
                        doc.get(p)
                            .and_then(Value::as_str)
                            .and_then(|t| Timestamp::parse(t).ok())
                    };
                    let at = match (time("validFrom"), time("validUntil")) {
                        (_, Some(until)) if until <= now() => until.plus_seconds(-1),
                        (Some(from), _) if from > now() => from,
                        _ => now(),
                    };
                    let report = verify_credential(&doc, &VerifyOptions { at, ..options }).report;
                    if !report.verified {
                        m.fail(file, format!("issued, but does not verify:\n{report}"));
                    }
                }
                (Expect::Accept, Err(e)) => {
                    m.fail(file, format!("expected {expected}, refused: {e}"))
                }
                (Expect::Reject, Ok(())) => {
                    m.fail(file, format!("expected {expected}, but it is issuable"))
                }
                (Expect::Reject, Err(_)) => {}
            }
        }
    }
    for (file, reason) in &skipped {
        eprintln!("skipped {file}: {reason}");
    }
    assert_eq!(skipped.len(), 5, "skips: {skipped:?}");
    eprintln!("{accepts} accepted, {rejects} rejected");
    m.finish(fixtures.len() - skipped.len());
}

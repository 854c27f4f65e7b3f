//! Protocol and attestation credentials: signed with both cryptosuites, verified (every
//! term defined by the bundled Guildmark context), read back, checked against their JSON
//! Schemas, and evaluated end to end from real badges.

use guildmark_credentials::badge::{Achievement, IdentityObject, OpenBadgeCredential, Profile};
use guildmark_credentials::credential::DateTimeStamp;
use guildmark_credentials::did_key::KeyPair;
use guildmark_credentials::jsonld::Contexts;
use guildmark_credentials::proof::{self, Cryptosuite, KnownKeys, ProofOptions};
use guildmark_credentials::time::Timestamp;
use guildmark_credentials::verify::{verify_credential, VerifyOptions};
use guildmark_credentials::VerifiedCredential;
use guildmark_review_protocols::attestation::AttestationError;
use guildmark_review_protocols::publication::PublicationError;
use guildmark_review_protocols::{
    evaluate, Batch, Held, Protocol, ReviewClaims, ReviewerVerdict, Verdict, VerifiedAttestation,
};
use serde_json::Value;

use crate::common::{batch, now, passing_results, protocol, time};

/// The bundled contexts plus the standards' (Open Badges) from `testdata/contexts`.
fn contexts() -> Contexts {
    let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/contexts"));
    let mut contexts = Contexts::bundled();
    let index = std::fs::read_to_string(dir.join("index.json"))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.join("index.json").display()));
    contexts
        .register_index(&index, |file| std::fs::read_to_string(dir.join(file)))
        .unwrap();
    contexts
}

fn schema(name: &str) -> jsonschema::Validator {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("schemas")
        .join(name);
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&schema)
        .unwrap()
}

fn schema_errors(validator: &jsonschema::Validator, document: &Value) -> Vec<String> {
    validator
        .iter_errors(document)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect()
}

fn sign(mut document: Value, key: &KeyPair, suite: Cryptosuite, created: Timestamp) -> Value {
    let options = ProofOptions::new(suite, Some(created));
    proof::sign(&mut document, key, &options, &contexts()).unwrap();
    document
}

fn verify(document: &Value, at: Timestamp) -> VerifiedCredential {
    let contexts = contexts();
    let keys = KnownKeys::default();
    let verification = verify_credential(document, &VerifyOptions::new(at, &contexts, &keys));
    assert!(verification.report.verified, "{}", verification.report);
    verification.credential.expect("verified")
}

fn verifies(document: &Value, at: Timestamp) -> bool {
    let contexts = contexts();
    let keys = KnownKeys::default();
    verify_credential(document, &VerifyOptions::new(at, &contexts, &keys))
        .report
        .verified
}

const SUITES: [Cryptosuite; 2] = [Cryptosuite::EddsaJcs2022, Cryptosuite::EddsaRdfc2022];

struct Community {
    slug: &'static str,
    key: KeyPair,
}

impl Community {
    fn new(slug: &'static str, seed: u8) -> Self {
        Community {
            slug,
            key: KeyPair::from_seed(&[seed; 32]),
        }
    }

    fn did(&self) -> String {
        self.key.did_key().did().to_owned()
    }

    /// A signed badge for `holder`, optionally carrying a member identifier.
    fn badge(&self, id: &str, achievement: &str, holder: &str, member: Option<&str>) -> Value {
        let achievement = Achievement::new(
            format!(
                "https://guildmark.example/{}/achievements/{achievement}",
                self.slug
            ),
            achievement,
            "Qualified to review power electronics under Guildmark protocols.",
            "Passed the community's reviewer assessment.",
        );
        let issued = time("2026-01-10T09:00:00Z");
        let mut badge = OpenBadgeCredential::new(
            id,
            Profile::new(self.did(), self.slug),
            DateTimeStamp::from(issued),
            holder,
            achievement,
        );
        if let Some(member) = member {
            badge.credential_subject.identifier = Some(vec![IdentityObject {
                type_: "IdentityObject".into(),
                hashed: false,
                identity_hash: member.into(),
                identity_type: "identifier".into(),
                salt: None,
                extra: Default::default(),
            }]);
        }
        sign(
            serde_json::to_value(badge).unwrap(),
            &self.key,
            Cryptosuite::EddsaJcs2022,
            issued,
        )
    }
}

fn claims(
    protocol: &Protocol,
    batch: &Batch,
    sample: usize,
    qualification: &[&str],
) -> ReviewClaims {
    let sampled: Vec<String> = batch.serials.iter().take(sample).cloned().collect();
    ReviewClaims {
        id: batch.id.clone(),
        type_: "ReviewedBatch".into(),
        protocol: guildmark_review_protocols::attestation::ProtocolReference {
            id: protocol.urn(),
            digest: protocol.hash(),
        },
        results: passing_results(protocol, &sampled),
        sampled,
        verdict: ReviewerVerdict::Pass,
        qualification: qualification.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn published_protocols_verify_and_read_back_under_both_suites() {
    let kestrel = Community::new("kestrel", 1);
    let validator = schema("review-protocol-credential.schema.json");
    for name in ["mppt20-batch-qa", "soldering-l1", "laptop-battery-refurb"] {
        let p = protocol(name);
        for suite in SUITES {
            let credential = p.to_credential(
                "urn:uuid:5e1f6b0c-0000-4000-8000-000000000001",
                &kestrel.did(),
                time("2026-11-01T00:00:00Z"),
            );
            assert_eq!(
                schema_errors(&validator, &credential),
                Vec::<String>::new(),
                "{name}"
            );
            let signed = sign(
                credential,
                &kestrel.key,
                suite.clone(),
                time("2026-11-01T00:00:00Z"),
            );
            let verified = verify(&signed, now());
            assert_eq!(
                Protocol::from_credential(verified.document()).unwrap(),
                p,
                "{name} {suite:?}"
            );
            assert_eq!(schema_errors(&validator, &signed), Vec::<String>::new());

            // The definition is signed content under either suite (under RDFC as a JSON literal).
            let mut tampered = signed.clone();
            tampered["credentialSubject"]["definition"]["reviewers"]["maxAgeDays"] = 999.into();
            assert!(
                !verifies(&tampered, now()),
                "{name} {suite:?}: tampered definition verified"
            );
        }
    }
}

#[test]
fn a_published_protocol_must_match_its_digest_and_name() {
    let p = protocol("mppt20-batch-qa");
    let good = p.to_credential("urn:uuid:1", "did:key:z6MkKestrel", now());
    let mut weaker = good.clone();
    weaker["credentialSubject"]["definition"]["reviewers"]["maxAgeDays"] = 999.into();
    assert!(matches!(
        Protocol::from_credential(&weaker),
        Err(PublicationError::Digest { .. })
    ));
    let mut renamed = good.clone();
    renamed["credentialSubject"]["id"] = "urn:guildmark:protocol:mppt20-batch-qa:9".into();
    assert!(matches!(
        Protocol::from_credential(&renamed),
        Err(PublicationError::Id { .. })
    ));
    let mut extra = good.clone();
    extra["credentialSubject"]["note"] = "x".into();
    assert!(matches!(
        Protocol::from_credential(&extra),
        Err(PublicationError::Subject(_))
    ));
    let mut invalid = good.clone();
    invalid["credentialSubject"]["definition"]["steps"] = Value::Array(vec![]);
    assert!(matches!(
        Protocol::from_credential(&invalid),
        Err(PublicationError::Definition(_))
    ));
    let mut other = good;
    other["type"] = serde_json::json!(["VerifiableCredential"]);
    assert_eq!(
        Protocol::from_credential(&other),
        Err(PublicationError::NotAProtocol)
    );
}

#[test]
fn attestation_credentials_round_trip_and_match_their_schema() {
    let p = protocol("mppt20-batch-qa");
    let b = batch(&p, 120);
    let validator = schema("review-attestation.schema.json");
    let c = claims(&p, &b, 20, &["urn:uuid:badge-1"]);
    let credential = c.to_credential(
        "urn:uuid:att-1",
        "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        now(),
    );
    assert_eq!(schema_errors(&validator, &credential), Vec::<String>::new());
    assert_eq!(ReviewClaims::from_credential(&credential).unwrap(), c);
    let first = &credential["credentialSubject"]["results"][0];
    assert_eq!(
        first,
        &serde_json::json!({"serial": "MP20-2611-0001", "step": "visual-solder", "passed": true})
    );
    let measured = &credential["credentialSubject"]["results"][2];
    assert_eq!(
        measured,
        &serde_json::json!({"serial": "MP20-2611-0001", "step": "no-load-current", "value": "15 mA"})
    );

    for (path, value, schema_too) in [
        (
            "/credentialSubject/results/0/value",
            Value::from("3 V"),
            true,
        ),
        (
            "/credentialSubject/results/2/value",
            Value::from("fifteen"),
            true,
        ),
        (
            "/credentialSubject/protocol/digest",
            Value::from("sha256:ABC"),
            true,
        ),
        ("/credentialSubject/verdict", Value::from("maybe"), true),
        ("/credentialSubject/type", Value::from("Batch"), true),
        ("/credentialSubject/reviewer", Value::from("me"), true),
    ] {
        let mut bad = credential.clone();
        let (parent, key) = path.rsplit_once('/').unwrap();
        bad.pointer_mut(parent)
            .unwrap()
            .as_object_mut()
            .unwrap()
            .insert(key.into(), value.clone());
        assert!(
            ReviewClaims::from_credential(&bad).is_err(),
            "{path} = {value} accepted"
        );
        assert_eq!(
            !schema_errors(&validator, &bad).is_empty(),
            schema_too,
            "schema on {path} = {value}"
        );
    }
    let mut no_context = credential.clone();
    no_context["@context"] = serde_json::json!(["https://www.w3.org/ns/credentials/v2"]);
    assert_eq!(
        ReviewClaims::from_credential(&no_context),
        Err(AttestationError::MissingContext)
    );
}

/// Two communities, three reviewers (Ada with two keys), badges verified as of signing.
#[test]
fn attestations_from_real_badges_certify_a_batch() {
    let kestrel = Community::new("kestrel", 1);
    let ironbridge = Community::new("ironbridge", 2);
    let lumen = Community::new("lumen", 3);
    let ada = KeyPair::from_seed(&[10; 32]);
    let ada_second_key = KeyPair::from_seed(&[11; 32]);
    let bo = KeyPair::from_seed(&[12; 32]);
    let did = |k: &KeyPair| k.did_key().did().to_owned();

    let p = protocol("mppt20-batch-qa");
    let mut b = batch(&p, 120);
    b.producer = kestrel.did();

    let badges = [
        ironbridge.badge(
            "urn:uuid:badge-ada",
            "power-electronics-reviewer",
            &did(&ada),
            Some("member-17"),
        ),
        ironbridge.badge(
            "urn:uuid:badge-ada-2",
            "power-electronics-reviewer",
            &did(&ada_second_key),
            Some("member-17"),
        ),
        lumen.badge(
            "urn:uuid:badge-bo",
            "power-electronics-reviewer",
            &did(&bo),
            None,
        ),
    ];
    let signed_at = time("2026-11-18T15:30:00Z");
    let badges_then: Vec<VerifiedCredential> =
        badges.iter().map(|b| verify(b, signed_at)).collect();

    let attest = |key: &KeyPair, id: &str, badge: &str, suite: Cryptosuite| {
        let credential = claims(&p, &b, 20, &[badge]).to_credential(id, &did(key), signed_at);
        let signed = sign(credential, key, suite, signed_at);
        assert_eq!(
            schema_errors(&schema("review-attestation.schema.json"), &signed),
            Vec::<String>::new()
        );
        let verified = verify(&signed, now());
        VerifiedAttestation::from_verified(&verified, signed_at, &badges_then).unwrap()
    };
    let a1 = attest(
        &ada,
        "urn:uuid:att-ada",
        "urn:uuid:badge-ada",
        Cryptosuite::EddsaJcs2022,
    );
    let a2 = attest(
        &ada_second_key,
        "urn:uuid:att-ada-2",
        "urn:uuid:badge-ada-2",
        Cryptosuite::EddsaRdfc2022,
    );
    let a3 = attest(
        &bo,
        "urn:uuid:att-bo",
        "urn:uuid:badge-bo",
        Cryptosuite::EddsaRdfc2022,
    );
    let held = Held {
        community: ironbridge.did(),
        achievement: "https://guildmark.example/ironbridge/achievements/power-electronics-reviewer"
            .into(),
    };
    assert_eq!(a1.reviewer().held, [held].into());
    assert_eq!(
        a1.reviewer().identities,
        [format!("{} identifier:member-17", ironbridge.did())].into()
    );
    assert!(
        a1.reviewer().unproven.is_empty(),
        "{:?}",
        a1.reviewer().unproven
    );

    // Ada's two keys are one person: not yet two reviewers.
    let e = evaluate(&p, &b, &[a1.clone(), a2.clone()], now()).unwrap();
    assert_eq!(e.verdict, Verdict::Pending, "{e}");
    assert_eq!(e.passing, 1);
    let e = evaluate(&p, &b, &[a1, a2, a3], now()).unwrap();
    assert_eq!(e.verdict, Verdict::Certified, "{e}");
    assert_eq!(e.communities, {
        let mut c = vec![ironbridge.did(), lumen.did()];
        c.sort();
        c
    });
}

#[test]
fn badges_that_do_not_prove_qualification_are_listed_not_used() {
    let ironbridge = Community::new("ironbridge", 2);
    let ada = KeyPair::from_seed(&[10; 32]);
    let eve = KeyPair::from_seed(&[13; 32]);
    let did = |k: &KeyPair| k.did_key().did().to_owned();
    let p = protocol("mppt20-batch-qa");
    let b = batch(&p, 120);
    let signed_at = time("2026-11-18T15:30:00Z");
    let ada_badge = ironbridge.badge(
        "urn:uuid:badge-ada",
        "power-electronics-reviewer",
        &did(&ada),
        None,
    );
    let attest = |key: &KeyPair, cited: &[&str], badges: &[VerifiedCredential]| {
        let credential =
            claims(&p, &b, 20, cited).to_credential("urn:uuid:att", &did(key), signed_at);
        let verified = verify(
            &sign(credential, key, Cryptosuite::EddsaJcs2022, signed_at),
            now(),
        );
        VerifiedAttestation::from_verified(&verified, signed_at, badges)
            .unwrap()
            .reviewer()
            .clone()
    };
    // Verified as of today, not as of signing.
    let r = attest(&ada, &["urn:uuid:badge-ada"], &[verify(&ada_badge, now())]);
    assert!(r.held.is_empty());
    assert!(
        r.unproven[0].contains("not as of the attestation's signing time"),
        "{:?}",
        r.unproven
    );
    // Someone else's badge.
    let r = attest(
        &eve,
        &["urn:uuid:badge-ada"],
        &[verify(&ada_badge, signed_at)],
    );
    assert!(r.held.is_empty());
    assert!(
        r.unproven[0].contains("issued to someone other than the signer"),
        "{:?}",
        r.unproven
    );
    // Cited but not given; given but not cited.
    let r = attest(
        &ada,
        &["urn:uuid:badge-missing"],
        &[verify(&ada_badge, signed_at)],
    );
    assert!(r.held.is_empty());
    assert_eq!(
        r.unproven,
        ["badge urn:uuid:badge-missing was cited but not given"]
    );
    // And the evaluation says why the reviewer does not count.
    let verified = verify(
        &sign(
            claims(&p, &b, 20, &[]).to_credential("urn:uuid:att", &did(&ada), signed_at),
            &ada,
            Cryptosuite::EddsaJcs2022,
            signed_at,
        ),
        now(),
    );
    let a =
        VerifiedAttestation::from_verified(&verified, signed_at, &[verify(&ada_badge, signed_at)])
            .unwrap();
    let e = evaluate(&p, &b, &[a], now()).unwrap();
    assert!(!e.attestations[0].counted);
}

#[test]
fn rdfc_signatures_cover_every_result() {
    let ada = KeyPair::from_seed(&[10; 32]);
    let p = protocol("mppt20-batch-qa");
    let b = batch(&p, 120);
    let credential =
        claims(&p, &b, 20, &[]).to_credential("urn:uuid:att", ada.did_key().did(), now());
    let signed = sign(credential, &ada, Cryptosuite::EddsaRdfc2022, now());
    assert!(verifies(&signed, now()));
    for (path, value) in [
        ("/credentialSubject/results/2/value", Value::from("16 mA")),
        (
            "/credentialSubject/sampled/0",
            Value::from("MP20-2611-0100"),
        ),
        ("/credentialSubject/verdict", Value::from("fail")),
        (
            "/credentialSubject/protocol/digest",
            Value::from(protocol("soldering-l1").hash().to_string()),
        ),
    ] {
        let mut tampered = signed.clone();
        *tampered.pointer_mut(path).unwrap() = value;
        assert!(
            !verifies(&tampered, now()),
            "{path} changed and still verified"
        );
    }
}

/// What the credentials crate's verifier makes of `document` as of `at`, whatever its report
/// says: a `VerifiedCredential` needs sound data and proofs that verify, not that the
/// issuer made them or that the credential is valid at `at`.
fn verified_anyway(document: &Value, at: Timestamp) -> (bool, VerifiedCredential) {
    let contexts = contexts();
    let keys = KnownKeys::default();
    let verification = verify_credential(document, &VerifyOptions::new(at, &contexts, &keys));
    let credential = verification
        .credential
        .expect("sound, and its proof verifies");
    (verification.report.verified, credential)
}

#[test]
fn an_attestation_signed_by_another_key_than_its_issuer_is_refused() {
    let ada = KeyPair::from_seed(&[10; 32]);
    let eve = KeyPair::from_seed(&[13; 32]);
    let p = protocol("mppt20-batch-qa");
    let b = batch(&p, 120);
    let signed_at = time("2026-11-18T15:30:00Z");
    // Eve signs an attestation that names Ada as its issuer.
    let forged = sign(
        claims(&p, &b, 20, &[]).to_credential(
            "urn:uuid:att-forged",
            ada.did_key().did(),
            signed_at,
        ),
        &eve,
        Cryptosuite::EddsaJcs2022,
        signed_at,
    );
    let (report_verified, credential) = verified_anyway(&forged, signed_at);
    assert!(!report_verified, "the report says who signed it");
    assert_eq!(
        VerifiedAttestation::from_verified(&credential, signed_at, &[]),
        Err(AttestationError::NotSignedByIssuer(
            ada.did_key().did().to_owned()
        ))
    );
}

#[test]
fn a_badge_its_issuer_did_not_sign_or_not_valid_when_signing_is_not_held() {
    let ironbridge = Community::new("ironbridge", 2);
    let ada = KeyPair::from_seed(&[10; 32]);
    let eve = KeyPair::from_seed(&[13; 32]);
    let did = |k: &KeyPair| k.did_key().did().to_owned();
    let p = protocol("mppt20-batch-qa");
    let b = batch(&p, 120);
    let signed_at = time("2026-11-18T15:30:00Z");
    let attest = |cited: &str, badge: &VerifiedCredential| {
        let credential =
            claims(&p, &b, 20, &[cited]).to_credential("urn:uuid:att", &did(&ada), signed_at);
        let verified = verify(
            &sign(credential, &ada, Cryptosuite::EddsaJcs2022, signed_at),
            signed_at,
        );
        VerifiedAttestation::from_verified(&verified, signed_at, std::slice::from_ref(badge))
            .unwrap()
    };

    // A badge naming Ironbridge as its issuer, re-signed by Eve alone.
    let mut forged = ironbridge.badge(
        "urn:uuid:badge-forged",
        "power-electronics-reviewer",
        &did(&ada),
        None,
    );
    forged.as_object_mut().unwrap().remove("proof");
    let forged = sign(forged, &eve, Cryptosuite::EddsaJcs2022, signed_at);
    let (report_verified, badge) = verified_anyway(&forged, signed_at);
    assert!(!report_verified);
    let a = attest("urn:uuid:badge-forged", &badge);
    assert!(a.reviewer().held.is_empty());
    assert!(
        a.reviewer().unproven[0].contains("not signed by its issuer"),
        "{:?}",
        a.reviewer().unproven
    );

    // A badge that became valid only after the attestation was signed.
    let mut late = ironbridge.badge(
        "urn:uuid:badge-late",
        "power-electronics-reviewer",
        &did(&ada),
        None,
    );
    late.as_object_mut().unwrap().remove("proof");
    late["validFrom"] = "2026-11-19T00:00:00Z".into();
    let late = sign(late, &ironbridge.key, Cryptosuite::EddsaJcs2022, signed_at);
    let (report_verified, badge) = verified_anyway(&late, signed_at);
    assert!(!report_verified);
    let a = attest("urn:uuid:badge-late", &badge);
    assert!(a.reviewer().held.is_empty());
    assert!(
        a.reviewer().unproven[0].contains("not valid at the attestation's signing time"),
        "{:?}",
        a.reviewer().unproven
    );
    // Either way the reviewer does not count.
    let e = evaluate(&p, &b, &[a], now()).unwrap();
    assert!(!e.attestations[0].counted);
}

#[test]
fn a_note_on_an_unproven_badge_explains_and_never_qualifies() {
    let ada = KeyPair::from_seed(&[10; 32]);
    let p = protocol("mppt20-batch-qa");
    let b = batch(&p, 120);
    let signed_at = time("2026-11-18T15:30:00Z");
    let credential = claims(&p, &b, 20, &["urn:uuid:badge-ada"]).to_credential(
        "urn:uuid:att",
        ada.did_key().did(),
        signed_at,
    );
    let verified = verify(
        &sign(credential, &ada, Cryptosuite::EddsaJcs2022, signed_at),
        signed_at,
    );
    let mut a = VerifiedAttestation::from_verified(&verified, signed_at, &[]).unwrap();
    a.note_unproven("badge urn:uuid:badge-ada (ada.json) is revoked".into());
    assert!(a.reviewer().held.is_empty());
    assert_eq!(
        a.reviewer().unproven,
        [
            "badge urn:uuid:badge-ada was cited but not given",
            "badge urn:uuid:badge-ada (ada.json) is revoked"
        ]
    );
    let e = evaluate(&p, &b, &[a], now()).unwrap();
    assert!(!e.attestations[0].counted);
    assert!(e.attestations[0].findings[0]
        .message
        .contains("; badge urn:uuid:badge-ada (ada.json) is revoked"));
}

//! Verification speed: eddsa-jcs-2022 on a ~2 KB Open Badge (≤ 50 µs), batch signature
//! checks (≥ 40,000 signatures/s in batches of 64), and eddsa-rdfc-2022 on 1,024 distinct
//! ~2 KB Open Badges (verify and sign ≤ 0.3 ms each; a batch of 64 at ≥ 5,000 badges/s;
//! `scripts/bench-rdfc` sets it beside Digital Bazaar's). Run: `cargo bench -p guildmark-credentials --features bench --bench verify`.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use guildmark_credentials::badge::{Achievement, Evidence, Image, OpenBadgeCredential, Profile};
use guildmark_credentials::json::Json;
use guildmark_credentials::proof::{
    self, Cryptosuite, KnownKeys, ProofOptions, ProofPurpose, VerifyProofOptions,
};
use guildmark_credentials::status_list::{StatusEntry, StatusPurpose};
use guildmark_credentials::{Contexts, KeyPair, Timestamp, VerifyOptions};
use serde_json::Value;

fn badge(issuer: &KeyPair, n: u32, suite: Cryptosuite, contexts: &Contexts) -> Vec<u8> {
    let at = Timestamp::parse("2026-03-01T10:00:00Z").unwrap();
    let recipient = KeyPair::from_seed(&[n as u8; 32]);
    let mut achievement = Achievement::new(
        "https://valley.example/achievements/power-electronics-reviewer",
        "Power electronics reviewer",
        "Qualified to review DC-DC converters and solar charge controllers under Guildmark protocols.",
        "Hold Soldering L2 and Power electronics L2; complete two supervised reviews of MPPT \
         controller batches with measurements within 1 % of the supervising reviewer's; pass \
         the isolation and reverse-polarity safety checklist.",
    );
    achievement.image = Some(Image::new(
        "https://valley.example/achievements/pe-reviewer.svg",
    ));
    achievement.tag = Some(vec![
        "power electronics".into(),
        "review".into(),
        "solar".into(),
    ]);
    let mut issuer_profile = Profile::new(issuer.did_key().did(), "Valley Microfactory");
    issuer_profile.url = Some("https://valley.example".into());
    let mut credential = OpenBadgeCredential::new(
        format!("urn:uuid:7b0e5c1a-3f7d-4a8e-9c2b-{n:012}"),
        issuer_profile,
        at.into(),
        recipient.did_key().did(),
        achievement,
    );
    credential.evidence = Some(
        vec![
            Evidence::narrative("Reviewed batch MPPT20-2026-03 with Coastal Repair Café; efficiency at 20 A within 0.4 % of the lead reviewer."),
            Evidence::narrative("Reviewed batch MPPT20-2026-04; no-load draw 11.8 mA, regulation ±0.6 %."),
        ]
        .into(),
    );
    let status = StatusEntry {
        id: None,
        purpose: StatusPurpose::Revocation,
        index: 4711,
        list_credential: "https://valley.example/status/revocation/1".into(),
        size: 1,
    };
    let mut doc = serde_json::to_value(&credential).unwrap();
    doc["credentialStatus"] = status.to_json();
    proof::sign(
        &mut doc,
        issuer,
        &ProofOptions::new(suite, Some(at)),
        contexts,
    )
    .unwrap();
    serde_json::to_vec(&doc).unwrap()
}

fn benches(c: &mut Criterion) {
    let contexts = Contexts::bundled();
    let keys = KnownKeys::default();
    let issuer = KeyPair::from_seed(&[1; 32]);
    let at = Timestamp::parse("2026-06-01T00:00:00Z").unwrap();
    let jcs = badge(&issuer, 1, Cryptosuite::EddsaJcs2022, &contexts);
    eprintln!("badge size: {} bytes (eddsa-jcs-2022)", jcs.len());
    let proof_options = VerifyProofOptions {
        contexts: &contexts,
        keys: &keys,
        purpose: &ProofPurpose::AssertionMethod,
        at,
        domain: None,
        challenge: None,
    };

    let mut group = c.benchmark_group("eddsa-jcs-2022");
    group.throughput(Throughput::Elements(1));
    group.bench_function(
        "verify proof of a 2 KB badge (parse + canonicalize + ed25519)",
        |b| {
            b.iter(|| {
                let doc = Json::parse(&jcs).unwrap();
                let results = proof::verify_json(&doc, &proof_options).unwrap();
                assert!(results[0].result.is_ok());
            })
        },
    );
    group.bench_function(
        "same, issuer key not yet resolved (did:key decompressed each time)",
        |b| {
            b.iter_batched(
                KnownKeys::default,
                |cold| {
                    let doc = Json::parse(&jcs).unwrap();
                    let options = VerifyProofOptions {
                        keys: &cold,
                        ..proof_options
                    };
                    assert!(proof::verify_json(&doc, &options).unwrap()[0]
                        .result
                        .is_ok());
                },
                BatchSize::SmallInput,
            )
        },
    );
    let options = VerifyOptions {
        check_terms: false,
        ..VerifyOptions::new(at, &contexts, &keys)
    };
    group.bench_function(
        "verify_credential report (data model + badge rules + proof, no JSON-LD)",
        |b| {
            b.iter(|| {
                let doc: Value = serde_json::from_slice(&jcs).unwrap();
                assert!(
                    guildmark_credentials::verify_credential(&doc, &options)
                        .report
                        .verified
                );
            })
        },
    );
    group.bench_function("sign a 2 KB badge", |b| {
        let unsigned: Value = {
            let mut v: Value = serde_json::from_slice(&jcs).unwrap();
            v.as_object_mut().unwrap().remove("proof");
            v
        };
        let opts = ProofOptions::new(Cryptosuite::EddsaJcs2022, Some(at));
        b.iter_batched(
            || unsigned.clone(),
            |mut doc| proof::sign(&mut doc, &issuer, &opts, &contexts).unwrap(),
            BatchSize::SmallInput,
        )
    });
    group.finish();

    // 64 badges from 64 issuers: prepare each, then one batch signature check.
    let issuers: Vec<KeyPair> = (0..64u8)
        .map(|i| KeyPair::from_seed(&[i + 10; 32]))
        .collect();
    let docs: Vec<Value> = issuers
        .iter()
        .enumerate()
        .map(|(i, k)| {
            serde_json::from_slice(&badge(k, i as u32, Cryptosuite::EddsaJcs2022, &contexts))
                .unwrap()
        })
        .collect();
    let prepared: Vec<proof::Prepared> = docs
        .iter()
        .map(|d| {
            proof::prepare(
                &guildmark_credentials::json::Json::from_value(d),
                &proof_options,
            )
            .unwrap()
            .remove(0)
            .unwrap()
        })
        .collect();
    let mut group = c.benchmark_group("batch of 64");
    group.throughput(Throughput::Elements(64));
    group.bench_function(
        "ed25519 batch verification of 64 prepared signatures",
        |b| b.iter(|| assert!(proof::verify_signatures(&prepared).iter().all(|ok| *ok))),
    );
    group.bench_function("64 badges: parse + prepare + batch verify", |b| {
        let bytes: Vec<Vec<u8>> = docs
            .iter()
            .map(|d| serde_json::to_vec(d).unwrap())
            .collect();
        b.iter(|| {
            let docs: Vec<Value> = bytes
                .iter()
                .map(|b| serde_json::from_slice(b).unwrap())
                .collect();
            let prepared: Vec<proof::Prepared> = docs
                .iter()
                .map(|d| {
                    proof::prepare(
                        &guildmark_credentials::json::Json::from_value(d),
                        &proof_options,
                    )
                    .unwrap()
                    .remove(0)
                    .unwrap()
                })
                .collect();
            assert!(proof::verify_signatures(&prepared).iter().all(|ok| *ok));
        })
    });
    group.finish();

    let mut group = c.benchmark_group("baseline");
    let message = [7u8; 64];
    let signature = issuer.sign(&message);
    group.bench_function("raw ed25519-dalek verify (64-byte message)", |b| {
        b.iter(|| assert!(issuer.did_key().verify(&message, &signature)))
    });
    group.finish();

    rdfc_benches(c, &issuer, &proof_options, at);
}

/// How many distinct rdfc badges the rdfc rows cycle through: more than any cache of
/// documents could hold, so every verification is of a document as if never seen.
const DISTINCT: usize = 1024;

/// eddsa-rdfc-2022 (the Open Badges suite): verify and sign distinct 2 KB badges, and a
/// batch of 64. The badges are also written to `target/bench-rdfc/badges.json`, where
/// `scripts/bench-rdfc` has Digital Bazaar's verifier time the same files.
fn rdfc_benches(
    c: &mut Criterion,
    issuer: &KeyPair,
    proof_options: &VerifyProofOptions<'_>,
    at: Timestamp,
) {
    let mut contexts = Contexts::bundled();
    // The OB context and the others from testdata/contexts (the vectors' offline loader).
    let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/contexts"));
    let index = std::fs::read_to_string(dir.join("index.json"))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.join("index.json").display()));
    contexts
        .register_index(&index, |f| std::fs::read_to_string(dir.join(f)))
        .unwrap();
    let issuers: Vec<KeyPair> = (0..64u8)
        .map(|i| KeyPair::from_seed(&[i + 100; 32]))
        .collect();
    let signed: Vec<Vec<u8>> = (0..DISTINCT)
        .map(|i| {
            badge(
                &issuers[i % 64],
                i as u32 + 1000,
                Cryptosuite::EddsaRdfc2022,
                &contexts,
            )
        })
        .collect();
    eprintln!(
        "rdfc badges: {DISTINCT} distinct, {}-{} bytes",
        signed.iter().map(Vec::len).min().unwrap_or(0),
        signed.iter().map(Vec::len).max().unwrap_or(0)
    );
    let out = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/bench-rdfc"));
    std::fs::create_dir_all(out).unwrap();
    let listing: Vec<Value> = signed
        .iter()
        .enumerate()
        .map(|(i, b)| serde_json::json!({"name": format!("badge-{i}"), "credential": serde_json::from_slice::<Value>(b).unwrap()}))
        .collect();
    std::fs::write(
        out.join("badges.json"),
        serde_json::to_vec(&listing).unwrap(),
    )
    .unwrap();
    let options = VerifyProofOptions {
        contexts: &contexts,
        ..*proof_options
    };

    let mut group = c.benchmark_group("eddsa-rdfc-2022");
    group.throughput(Throughput::Elements(1));
    let mut next = 0usize;
    group.bench_function("verify a 2 KB badge (1,024 distinct, in turn)", |b| {
        b.iter(|| {
            next = (next + 1) % DISTINCT;
            let doc = Json::parse(&signed[next]).unwrap();
            assert!(proof::verify_json(&doc, &options).unwrap()[0]
                .result
                .is_ok());
        })
    });
    let keys = KnownKeys::default();
    let full = VerifyOptions::new(at, &contexts, &keys);
    let mut next = 0usize;
    group.bench_function(
        "full report of a 2 KB badge (1,024 distinct, in turn)",
        |b| {
            b.iter(|| {
                next = (next + 1) % DISTINCT;
                let verification =
                    guildmark_credentials::verify_text(&signed[next], &full).unwrap();
                assert!(verification.report.verified);
            })
        },
    );
    let unsigned: Vec<Value> = signed
        .iter()
        .map(|b| {
            let mut v: Value = serde_json::from_slice(b).unwrap();
            v.as_object_mut().unwrap().remove("proof");
            v
        })
        .collect();
    let opts = ProofOptions::new(Cryptosuite::EddsaRdfc2022, Some(at));
    let mut next = 0usize;
    group.bench_function("sign a 2 KB badge (1,024 distinct, in turn)", |b| {
        b.iter_batched(
            || {
                next = (next + 1) % DISTINCT;
                unsigned[next].clone()
            },
            |mut doc| proof::sign(&mut doc, issuer, &opts, &contexts).unwrap(),
            BatchSize::SmallInput,
        )
    });
    group.finish();

    // Where the time goes: each phase of canonicalizing the document, cumulatively.
    let mut group = c.benchmark_group("eddsa-rdfc-2022 phases");
    let documents: Vec<Value> = unsigned.clone();
    let safe = guildmark_credentials::jsonld::ExpandOptions {
        safe: true,
        ..Default::default()
    };
    let rdf = guildmark_credentials::jsonld::RdfOptions {
        safe: true,
        rdf_direction: None,
    };
    let mut next = 0usize;
    group.bench_function("parse the badge's JSON", |b| {
        b.iter(|| {
            next = (next + 1) % DISTINCT;
            serde_json::from_slice::<Value>(&signed[next]).unwrap()
        })
    });
    group.bench_function("expand (safe mode)", |b| {
        b.iter(|| {
            next = (next + 1) % DISTINCT;
            guildmark_credentials::jsonld::expand(&documents[next], &contexts, &safe).unwrap()
        })
    });
    group.bench_function("expand + toRdf", |b| {
        b.iter(|| {
            next = (next + 1) % DISTINCT;
            let expanded =
                guildmark_credentials::jsonld::expand(&documents[next], &contexts, &safe).unwrap();
            guildmark_credentials::jsonld::to_rdf(expanded, &rdf).unwrap()
        })
    });
    group.bench_function("expand + toRdf + RDFC-1.0 (canonical N-Quads)", |b| {
        b.iter(|| {
            next = (next + 1) % DISTINCT;
            guildmark_credentials::jsonld::canonical_nquads(&documents[next], &contexts).unwrap()
        })
    });
    group.finish();

    let mut group = c.benchmark_group("eddsa-rdfc-2022 batch of 64");
    group.throughput(Throughput::Elements(64));
    let mut start = 0usize;
    group.bench_function("64 distinct badges: parse + prepare + batch verify", |b| {
        b.iter(|| {
            start = (start + 64) % DISTINCT;
            let prepared: Vec<proof::Prepared> = signed[start..start + 64]
                .iter()
                .map(|bytes| {
                    let doc = Json::parse(bytes).unwrap();
                    proof::prepare(&doc, &options).unwrap().remove(0).unwrap()
                })
                .collect();
            assert!(proof::verify_signatures(&prepared).iter().all(|ok| *ok));
        })
    });
    group.finish();
}

criterion_group!(verify, benches);
criterion_main!(verify);

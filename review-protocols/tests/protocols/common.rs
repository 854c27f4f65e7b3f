//! Fixtures: the example protocols, batches, and reviewers whose attestations are really
//! signed.
//!
//! Evaluation takes only `VerifiedAttestation`s, so every attestation here is made the
//! way a node or a buyer makes one: each community and each reviewer has an Ed25519 key
//! from a fixed seed; badges are issued by the community key to the reviewer's did:key;
//! the attestation is signed by the reviewer's key citing those badges; attestation and
//! badges are verified as of the signing time; and `VerifiedAttestation::from_verified`
//! reads the result. A test that needs an unqualified reviewer, a stale attestation or a
//! failing result signs different content, never edits what verification produced.

use std::path::PathBuf;
use std::sync::OnceLock;

use guildmark_credentials::badge::{Achievement, IdentityObject, OpenBadgeCredential, Profile};
use guildmark_credentials::credential::DateTimeStamp;
use guildmark_credentials::did_key::KeyPair;
use guildmark_credentials::jsonld::Contexts;
use guildmark_credentials::proof::{self, Cryptosuite, KnownKeys, ProofOptions};
use guildmark_credentials::time::Timestamp;
use guildmark_credentials::verify::{verify_credential, VerifyOptions};
use guildmark_credentials::VerifiedCredential;
use guildmark_review_protocols::attestation::{ProtocolReference, Recorded};
use guildmark_review_protocols::step::StepKind;
use guildmark_review_protocols::{
    Batch, Protocol, ReviewClaims, ReviewerVerdict, StepResult, VerifiedAttestation,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The directory of example protocols.
pub fn protocols_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("protocols")
}

/// The source of an example protocol.
pub fn source(name: &str) -> String {
    let path = protocols_dir().join(format!("{name}.toml"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// An example protocol, parsed.
pub fn protocol(name: &str) -> Protocol {
    Protocol::parse(&source(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A timestamp.
pub fn time(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

/// The evaluation time used throughout.
pub fn now() -> Timestamp {
    time("2026-11-20T12:00:00Z")
}

/// When [`draft`] attestations are signed: a day before [`now`].
pub fn signed_yesterday() -> Timestamp {
    time("2026-11-19T12:00:00Z")
}

/// When every fixture badge is issued: before any attestation a test signs.
fn badges_issued() -> Timestamp {
    time("2024-01-01T00:00:00Z")
}

/// The bundled contexts plus the standards' (Open Badges) from `testdata/contexts`.
pub fn contexts() -> &'static Contexts {
    static CONTEXTS: OnceLock<Contexts> = OnceLock::new();
    CONTEXTS.get_or_init(|| {
        let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/contexts"));
        let mut contexts = Contexts::bundled();
        let index = std::fs::read_to_string(dir.join("index.json"))
            .unwrap_or_else(|e| panic!("{}: {e}", dir.join("index.json").display()));
        contexts
            .register_index(&index, |file| std::fs::read_to_string(dir.join(file)))
            .unwrap();
        contexts
    })
}

/// The Ed25519 key for `name`: its seed is the SHA-256 of the name, so every run (and
/// every test) gets the same key and the same did:key.
pub fn key(name: &str) -> KeyPair {
    let seed: [u8; 32] =
        Sha256::digest(format!("guildmark review-protocols test key {name}")).into();
    KeyPair::from_seed(&seed)
}

/// `document` with an `eddsa-jcs-2022` proof by `key`, created at `created`.
pub fn sign(mut document: Value, key: &KeyPair, created: Timestamp) -> Value {
    let options = ProofOptions::new(Cryptosuite::EddsaJcs2022, Some(created));
    proof::sign(&mut document, key, &options, contexts()).unwrap();
    document
}

/// `document` verified as of `at`, every check passed: data model, proof, the issuer's
/// key, validity and status. (Terms are not checked: an `eddsa-jcs-2022` signature covers
/// the JSON itself, and the expansion would cost milliseconds per credential; the
/// `credentials` tests check terms.)
pub fn verified(document: &Value, at: Timestamp) -> VerifiedCredential {
    let keys = KnownKeys::default();
    let mut options = VerifyOptions::new(at, contexts(), &keys);
    options.check_terms = false;
    let verification = verify_credential(document, &options);
    assert!(verification.report.verified, "{}", verification.report);
    verification.credential.expect("verified")
}

/// A community: its key issues badges.
pub struct Community {
    /// `ironbridge`, `lumen`, `kestrel`.
    pub slug: &'static str,
    key: KeyPair,
    did: String,
}

impl Community {
    fn new(slug: &'static str) -> Community {
        let key = key(&format!("community {slug}"));
        let did = key.did_key().did().to_owned();
        Community { slug, key, did }
    }

    /// The community's did:key: the issuer of its badges, as evaluation names it.
    pub fn did(&self) -> &str {
        &self.did
    }

    /// The achievement `name` of this community (`power-electronics-reviewer`, `member`…).
    pub fn achievement(&self, name: &str) -> String {
        format!(
            "https://guildmark.example/{}/achievements/{name}",
            self.slug
        )
    }
}

/// Kestrel Microfactory, which produces the MPPT20 batches.
pub fn kestrel() -> &'static Community {
    static C: OnceLock<Community> = OnceLock::new();
    C.get_or_init(|| Community::new("kestrel"))
}

/// Ironbridge Repair Café.
pub fn ironbridge() -> &'static Community {
    static C: OnceLock<Community> = OnceLock::new();
    C.get_or_init(|| Community::new("ironbridge"))
}

/// Lumen Makerspace.
pub fn lumen() -> &'static Community {
    static C: OnceLock<Community> = OnceLock::new();
    C.get_or_init(|| Community::new("lumen"))
}

/// A community by slug.
pub fn community(slug: &str) -> &'static Community {
    match slug {
        "ironbridge" => ironbridge(),
        "lumen" => lumen(),
        "kestrel" => kestrel(),
        other => panic!("no community {other}"),
    }
}

/// `dids` sorted, as an evaluation lists communities.
pub fn sorted<const N: usize>(dids: [&str; N]) -> Vec<String> {
    let mut dids: Vec<String> = dids.iter().map(|d| d.to_string()).collect();
    dids.sort();
    dids
}

/// The achievement that qualifies MPPT20 reviewers in `community`.
pub fn power_reviewer(community: &str) -> String {
    format!("https://guildmark.example/{community}/achievements/power-electronics-reviewer")
}

/// A batch of `lot` MPPT20 units produced by Kestrel, under `protocol`.
pub fn batch(protocol: &Protocol, lot: u64) -> Batch {
    Batch {
        id: "https://guildmark.example/kestrel/batches/mppt20-2026-11".into(),
        producer: kestrel().did().into(),
        product: Some("MPPT20".into()),
        protocol: protocol.hash(),
        lot_size: lot,
        serials: (1..=lot).map(|i| format!("MP20-2611-{i:04}")).collect(),
    }
}

/// A reviewer's key and the signed badges they cite.
#[derive(Clone)]
pub struct Signer {
    name: String,
    key: KeyPair,
    did: String,
    /// Signed badge credentials, each issued to `did`.
    badges: Vec<Value>,
    /// Badge ids cited without a badge to show for them.
    missing: Vec<String>,
}

/// A reviewer with the key for `name` and no badge yet.
pub fn signer(name: &str) -> Signer {
    let key = key(&format!("reviewer {name}"));
    Signer {
        name: name.into(),
        did: key.did_key().did().to_owned(),
        key,
        badges: Vec::new(),
        missing: Vec::new(),
    }
}

impl Signer {
    /// The reviewer's did:key.
    pub fn did(&self) -> &str {
        &self.did
    }

    /// With a badge from `community` for `achievement` (a URL), optionally carrying the
    /// member identifier `identifier:<member>`, issued to this reviewer's key.
    pub fn badge(mut self, community: &Community, achievement: &str, member: Option<&str>) -> Self {
        let name = achievement.rsplit('/').next().unwrap_or(achievement);
        let id = format!(
            "urn:guildmark:test:badge:{}:{name}:{}:{}",
            community.slug,
            self.name,
            self.badges.len()
        );
        let mut badge = OpenBadgeCredential::new(
            id,
            Profile::new(community.did(), community.slug),
            DateTimeStamp::from(badges_issued()),
            self.did.clone(),
            Achievement::new(
                achievement,
                name,
                "Awarded by the community to a member.",
                "Passed the community's assessment.",
            ),
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
        let signed = sign(
            serde_json::to_value(badge).unwrap(),
            &community.key,
            badges_issued(),
        );
        self.badges.push(signed);
        self
    }

    /// Also citing the badge `id`, which the reviewer cannot show.
    pub fn citing_missing(mut self, id: &str) -> Self {
        self.missing.push(id.into());
        self
    }

    /// The badge ids this reviewer's attestations cite.
    fn qualification(&self) -> Vec<String> {
        self.badges
            .iter()
            .map(|b| b["id"].as_str().unwrap().to_owned())
            .chain(self.missing.iter().cloned())
            .collect()
    }
}

/// A reviewer with the key for `name`, holding `achievement` from `community`.
pub fn reviewer(name: &str, community: &Community, achievement: &str) -> Signer {
    signer(name).badge(community, achievement, None)
}

/// A qualified MPPT20 reviewer from `community` (`ironbridge`, `lumen`, `kestrel`).
pub fn power_reviewer_from(name: &str, community: &str) -> Signer {
    reviewer(name, self::community(community), &power_reviewer(community))
}

/// An attestation before it is signed: what a reviewer is about to state, and when.
#[derive(Clone)]
pub struct Draft {
    /// The credential's id.
    pub id: String,
    /// Who signs it.
    pub signer: Signer,
    /// When it is signed (its `validFrom` and proof `created`); it and its badges are
    /// verified as of this time.
    pub signed_at: Timestamp,
    /// What it states; `qualification` cites the signer's badges.
    pub claims: ReviewClaims,
}

impl Draft {
    /// Signs the attestation with the reviewer's key, verifies it and the badges it cites
    /// as of the signing time, and reads them into a `VerifiedAttestation`.
    pub fn sign(&self) -> VerifiedAttestation {
        let credential = self
            .claims
            .to_credential(&self.id, self.signer.did(), self.signed_at);
        let signed = sign(credential, &self.signer.key, self.signed_at);
        let attestation = verified(&signed, self.signed_at);
        let badges: Vec<VerifiedCredential> = self
            .signer
            .badges
            .iter()
            .map(|b| verified(b, self.signed_at))
            .collect();
        VerifiedAttestation::from_verified(&attestation, self.signed_at, &badges)
            .unwrap_or_else(|e| panic!("{}: {e}", self.id))
    }
}

/// A result within limits for every step of `protocol` on every serial: the limit
/// itself where there is one (limits are inclusive), the nominal value otherwise.
pub fn passing_results(protocol: &Protocol, serials: &[String]) -> Vec<StepResult> {
    let mut results = Vec::new();
    for serial in serials {
        for step in &protocol.steps {
            let recorded = match &step.kind {
                StepKind::Measurement { limits, .. } => Recorded::Measured(
                    limits
                        .nominal
                        .clone()
                        .or_else(|| limits.min.clone())
                        .or_else(|| limits.max.clone())
                        .expect("a measurement has limits"),
                ),
                StepKind::Check => Recorded::Checked(true),
                StepKind::Observation => Recorded::Noted("nothing unusual".into()),
            };
            results.push(StepResult {
                serial: serial.clone(),
                step: step.id.clone(),
                recorded,
            });
        }
    }
    results
}

/// Replaces the result of `step` on `serial`.
pub fn set(results: &mut [StepResult], serial: &str, step: &str, recorded: Recorded) {
    let result = results
        .iter_mut()
        .find(|r| r.serial == serial && r.step == step)
        .unwrap_or_else(|| panic!("no result for {serial} {step}"));
    result.recorded = recorded;
}

/// A measured value.
pub fn measured(text: &str) -> Recorded {
    Recorded::Measured(text.parse().unwrap())
}

/// An unsigned attestation of `batch` sampling its first `sample` units, all passing,
/// to be signed a day before [`now`].
pub fn draft(id: &str, signer: Signer, protocol: &Protocol, batch: &Batch, sample: usize) -> Draft {
    let sampled: Vec<String> = batch.serials.iter().take(sample).cloned().collect();
    let results = passing_results(protocol, &sampled);
    attestation(
        id,
        signer,
        protocol,
        batch,
        sampled,
        results,
        ReviewerVerdict::Pass,
    )
}

/// A signed and verified attestation of `batch` sampling its first `sample` units, all
/// passing.
pub fn passing(
    id: &str,
    signer: Signer,
    protocol: &Protocol,
    batch: &Batch,
    sample: usize,
) -> VerifiedAttestation {
    draft(id, signer, protocol, batch, sample).sign()
}

/// An unsigned attestation with the given content, to be signed a day before [`now`].
pub fn attestation(
    id: &str,
    signer: Signer,
    protocol: &Protocol,
    batch: &Batch,
    sampled: Vec<String>,
    results: Vec<StepResult>,
    verdict: ReviewerVerdict,
) -> Draft {
    let qualification = signer.qualification();
    Draft {
        id: id.into(),
        signer,
        signed_at: signed_yesterday(),
        claims: ReviewClaims {
            id: batch.id.clone(),
            type_: "ReviewedBatch".into(),
            protocol: ProtocolReference {
                id: protocol.urn(),
                digest: protocol.hash(),
            },
            sampled,
            results,
            verdict,
            qualification,
        },
    }
}

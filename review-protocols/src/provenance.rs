//! The provenance bundle: everything a buyer needs to check, offline, who reviewed one
//! device's batch, what they measured, that they were qualified and independent, that the
//! quorum was met and that all of it is in the community's ledger. The format is
//! documented in `docs/provenance-bundle.md`.
//!
//! [`verify_bundle`] checks a bundle with nothing but the bundle (and, for the trust
//! check, the buyer's list of trusted communities and logs). The node computes the
//! verdict it publishes with the same function, so a verifier recomputing it from the
//! measured values gets the same evaluation.
//!
//! # When an attestation was signed
//!
//! An attestation's `validFrom` and proof `created` are the reviewer's word. What the
//! verifier relies on instead is the ledger: the attestation's entry carries the time the
//! node logged it, covered by the receipt's inclusion proof and the log's signed
//! checkpoint. The attestation existed by then, so that is when it was signed at the
//! latest; badges are checked as held *at that time* (their validity window, and, when
//! badge and attestation are in the same log, the badge's entry coming first). A badge
//! whose status list says revoked or suspended does not qualify, whenever that happened:
//! status lists do not say when a bit was set.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use guildmark_credentials::checkpoint::{open_checkpoint, Checkpoint, UncheckedCheckpoint};
use guildmark_credentials::jcs::{self, Canonical};
use guildmark_credentials::merkle;
use guildmark_credentials::note::{SignatureType, VerifierKey};
use guildmark_credentials::proof::batch::Signed;
use guildmark_credentials::receipt::Receipt;
use guildmark_credentials::report::{DocumentKind, Outcome, Report};
use guildmark_credentials::status_list::{StatusEntry, StatusListCredential, MAX_DECODED_BYTES};
use guildmark_credentials::time::Timestamp;
use guildmark_credentials::verify::{party_id, Verification};
use guildmark_credentials::witness::Policy;
use guildmark_credentials::{
    verify_shared_credentials, Contexts, KnownKeys, SharedCredential, VerifiedCredential,
    VerifyOptions,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::attestation::VerifiedAttestation;
use crate::evaluation::{evaluate_hashed, Batch, Evaluation, Standing, Verdict};
use crate::protocol::{Protocol, ProtocolHash};
use crate::registration::BatchRegistration;

/// The bundle's `type`.
pub const BUNDLE_TYPE: &str = "GuildmarkProvenanceBundle";

/// The format version this code reads and writes.
pub const BUNDLE_VERSION: u32 = 1;

/// How far an attestation's proof `created` may be after its ledger time (clock skew).
pub const CLOCK_SKEW_SECONDS: i64 = 300;

/// One device's provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Bundle {
    /// [`BUNDLE_TYPE`].
    #[serde(rename = "type")]
    pub type_: String,
    /// [`BUNDLE_VERSION`].
    pub version: u32,
    /// The device's serial number.
    pub serial: String,
    /// When the node assembled the bundle; the verdict is as of this time.
    pub assembled_at: Timestamp,
    /// The logs the receipts lead to, with their checkpoint verifier keys.
    pub logs: Vec<VerifierKey>,
    /// The community keys involved (issuers of the credentials below), with names.
    pub issuers: Vec<Issuer>,
    /// The batch registration credential.
    pub batch: Logged,
    /// The protocol credential the batch is reviewed under.
    pub protocol: Logged,
    /// Every attestation of the batch.
    pub attestations: Vec<Logged>,
    /// The badge credentials the attestations cite.
    pub badges: Vec<Logged>,
    /// The status list credentials of those badges, as of assembly.
    pub status_lists: Vec<Logged>,
    /// The node's evaluation as of `assembledAt` (absent while the node computes it).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub evaluation: Option<Evaluation>,
}

/// A community key named in a bundle.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Issuer {
    /// The did:key.
    pub id: String,
    /// The community's name, as its credentials state it.
    pub name: String,
}

/// A credential with the ledger entry that logged it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Logged {
    /// The entry's kind (`credential`, `batch`, `protocol`, `status-list`).
    pub kind: String,
    /// When the node logged it.
    pub time: Timestamp,
    /// The signed credential (the entry's payload), shared with what verifies it.
    pub credential: Arc<Value>,
    /// Proof that the entry is in the log.
    pub receipt: Receipt,
}

impl Logged {
    /// The ledger entry's bytes: the JCS form of `{kind, payload, time}`.
    pub fn entry_bytes(&self) -> Vec<u8> {
        entry_bytes(&self.kind, self.time, &self.credential)
    }
}

/// The bytes of a node's ledger entry: `{"kind":…,"payload":…,"time":…}` in JCS form
/// (keys in that order, which is JCS's), written without building the object.
pub fn entry_bytes(kind: &str, time: Timestamp, payload: &Value) -> Vec<u8> {
    entry_around(kind, time, 4096, |out| jcs::write_value(payload, out))
}

/// The Merkle leaf hash of the entry [`entry_bytes`] would write around a payload
/// already in its JCS form, hashed in place rather than copied into an entry first.
pub fn entry_leaf_hash_of_canonical(kind: &str, time: Timestamp, payload: &[u8]) -> merkle::Hash {
    let (head, tail) = entry_parts(kind, time);
    merkle::leaf_hash_of_parts(&[&head, payload, &tail])
}

fn entry_around(
    kind: &str,
    time: Timestamp,
    capacity: usize,
    payload: impl FnOnce(&mut Vec<u8>),
) -> Vec<u8> {
    let (head, tail) = entry_parts(kind, time);
    let mut out = Vec::with_capacity(capacity);
    out.extend_from_slice(&head);
    payload(&mut out);
    out.extend_from_slice(&tail);
    out
}

/// What comes before and after the payload in an entry.
fn entry_parts(kind: &str, time: Timestamp) -> (Vec<u8>, Vec<u8>) {
    let mut head = Vec::with_capacity(64);
    head.extend_from_slice(b"{\"kind\":");
    jcs::write_value(&Value::String(kind.to_owned()), &mut head);
    head.extend_from_slice(b",\"payload\":");
    let mut tail = Vec::with_capacity(48);
    tail.extend_from_slice(b",\"time\":");
    jcs::write_value(&Value::String(time.to_string()), &mut tail);
    tail.push(b'}');
    (head, tail)
}

/// What a buyer trusts: community keys, log keys, and the witnesses that must have
/// cosigned the checkpoints receipts lead to (`--trust FILE`, TOML).
///
/// ```toml
/// communities = ["did:key:z6Mk…"]
/// logs = ["guildmark.example/log+1a2b3c4d+AQ…"]
/// witnesses = ["a.example/witness+5e6f7a8b+BA…", "b.example/witness+0c1d2e3f+BA…"]
/// witness_quorum = 2
/// ```
///
/// Without `witnesses`, a log's own signature is enough; with them, every checkpoint
/// needs `witness_quorum` of their cosignatures (default: all of them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trust {
    /// Community did:keys whose registrations, protocols and badges the buyer trusts.
    #[serde(default)]
    pub communities: BTreeSet<String>,
    /// Log verifier keys (C2SP note keys) whose checkpoints the buyer trusts.
    #[serde(default)]
    pub logs: BTreeSet<String>,
    /// Witness verifier keys (C2SP cosignature/v1 note keys).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub witnesses: BTreeSet<String>,
    /// How many of `witnesses` must have cosigned each checkpoint (default: all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub witness_quorum: Option<usize>,
}

impl Trust {
    /// Reads a trust file.
    pub fn parse(text: &str) -> Result<Trust, String> {
        let trust: Trust = toml::from_str(text).map_err(|e| e.to_string())?;
        for log in &trust.logs {
            log.parse::<VerifierKey>()
                .map_err(|e| format!("logs: {log:?} is not a verifier key: {e}"))?;
        }
        for witness in &trust.witnesses {
            let key = witness
                .parse::<VerifierKey>()
                .map_err(|e| format!("witnesses: {witness:?} is not a verifier key: {e}"))?;
            if key.kind() != SignatureType::Cosignature {
                return Err(format!(
                    "witnesses: {witness:?} is not a cosignature/v1 key (type 0x04)"
                ));
            }
        }
        match trust.witness_quorum {
            Some(0) => return Err("witness_quorum must be at least 1".into()),
            Some(k) if k > trust.witnesses.len() => {
                return Err(format!(
                    "witness_quorum is {k}, but only {} witnesses are listed",
                    trust.witnesses.len()
                ))
            }
            _ => {}
        }
        if let Some(bad) = trust.communities.iter().find(|c| !c.starts_with("did:")) {
            return Err(format!("communities: {bad:?} is not a DID"));
        }
        Ok(trust)
    }

    /// The witness policy the file states (empty without witnesses).
    pub fn witness_policy(&self) -> Policy {
        let witnesses: Vec<VerifierKey> = self
            .witnesses
            .iter()
            .filter_map(|w| w.parse().ok())
            .collect();
        Policy {
            quorum: self.witness_quorum.unwrap_or(witnesses.len()),
            witnesses,
        }
    }

    /// The trust file's text, written by the TOML serializer (so no value can add a
    /// line of its own).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }
}

/// The outcome of verifying a bundle.
#[derive(Debug, Clone)]
pub struct BundleVerification {
    /// Every check, with one nested report per credential.
    pub report: Report,
    /// The evaluation recomputed from the bundle's verified credentials, when the batch
    /// and protocol could be read.
    pub evaluation: Option<Evaluation>,
}

/// The roles of a bundle's credentials, for naming them in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Batch,
    Protocol,
    Attestation(usize),
    /// A badge, checked as of its earliest citing attestation's ledger time.
    Badge(usize),
    StatusList(usize),
}

impl Role {
    fn name(&self) -> String {
        match self {
            Role::Batch => "batch".into(),
            Role::Protocol => "protocol".into(),
            Role::Attestation(i) => format!("attestations[{i}]"),
            Role::Badge(i) => format!("badges[{i}]"),
            Role::StatusList(i) => format!("statusLists[{i}]"),
        }
    }
}

/// One credential check: which credential, as of when.
struct Item<'a> {
    role: Role,
    logged: &'a Logged,
    at: Timestamp,
}

/// Verifies a bundle offline as of `now`; see the module documentation for what is
/// checked. Without `trust`, the trust check is unknown, never passed.
pub fn verify_bundle(
    bundle: &Bundle,
    trust: Option<&Trust>,
    contexts: &Contexts,
    now: Timestamp,
) -> BundleVerification {
    let mut report = Report::new(DocumentKind::Bundle, now);
    report.id = Some(bundle.serial.clone());
    report.types = vec![bundle.type_.clone()];
    if !check_format(&mut report, bundle) {
        return BundleVerification {
            report,
            evaluation: None,
        };
    }
    check_assembled(&mut report, bundle, now);
    let (items, citations) = items_to_check(&mut report, bundle);

    // Each credential is canonicalized once: its ledger entry embeds these bytes, and
    // without the proof they are what an eddsa-jcs-2022 proof signs.
    let canonical: Vec<Canonical> = items
        .iter()
        .map(|item| Canonical::of(&item.logged.credential))
        .collect();
    let checkpoints = open_checkpoints(bundle, &items);
    let (verifications, also_verified) =
        verify_signatures(&items, &canonical, &checkpoints, contexts);
    check_receipts(
        &mut report,
        bundle,
        &items,
        &canonical,
        checkpoints,
        also_verified,
    );
    if let Some(trust) = trust {
        check_witnessed(&mut report, &items, &trust.witness_policy());
    }
    let verified = check_signatures(&mut report, &items, verifications);

    let checked = Checked {
        bundle,
        items: &items,
        citations: &citations,
        verified: &verified.credentials,
        lists: &verified.lists,
    };
    let evaluation = review(&mut report, &checked);
    if let Some(evaluation) = &evaluation {
        trust_check(&mut report, bundle, evaluation, trust);
    }
    for document in verified.reports {
        report.nest(document);
    }
    BundleVerification { report, evaluation }
}

/// Whether the bundle is of the type and version this verifier reads; if not, nothing
/// else is checked.
fn check_format(report: &mut Report, bundle: &Bundle) -> bool {
    if bundle.type_ != BUNDLE_TYPE || bundle.version != BUNDLE_VERSION {
        report.fail(
            "format",
            format!(
                "a {:?} version {}; this verifier reads {BUNDLE_TYPE} version {BUNDLE_VERSION}",
                bundle.type_, bundle.version
            ),
        );
        return false;
    }
    true
}

/// Whether the bundle was assembled by `now` (within the clock skew): its verdict is as
/// of then.
fn check_assembled(report: &mut Report, bundle: &Bundle, now: Timestamp) {
    let at = bundle.assembled_at;
    if at > now.plus_seconds(CLOCK_SKEW_SECONDS) {
        report.fail(
            "assembled",
            format!("the bundle claims to be assembled at {at}, after now ({now})"),
        );
    } else {
        report.pass(
            "assembled",
            format!("assembled at {at}; the verdict is as of then"),
        );
    }
}

/// Every credential in one list, so that their signatures go in one batch, and which
/// attestation cites which badge. Badges are checked as of each citing attestation's
/// ledger time, everything else as of assembly; a badge nobody cites fails `contents`.
fn items_to_check<'b>(
    report: &mut Report,
    bundle: &'b Bundle,
) -> (Vec<Item<'b>>, Vec<(usize, usize)>) {
    let at = bundle.assembled_at;
    let mut items = vec![
        Item {
            role: Role::Batch,
            logged: &bundle.batch,
            at,
        },
        Item {
            role: Role::Protocol,
            logged: &bundle.protocol,
            at,
        },
    ];
    for (i, logged) in bundle.attestations.iter().enumerate() {
        items.push(Item {
            role: Role::Attestation(i),
            logged,
            at,
        });
    }
    for (i, logged) in bundle.status_lists.iter().enumerate() {
        items.push(Item {
            role: Role::StatusList(i),
            logged,
            at,
        });
    }
    let (citations, earliest) = badge_citations(bundle);
    for (&b, &when) in &earliest {
        items.push(Item {
            role: Role::Badge(b),
            logged: &bundle.badges[b],
            at: when,
        });
    }
    check_contents(report, bundle, &earliest);
    (items, citations)
}

/// (attestation, badge) for every citation of a badge the bundle carries, and for each
/// cited badge the earliest ledger time of an attestation citing it: each badge is
/// checked once, as of then.
fn badge_citations(bundle: &Bundle) -> (Vec<(usize, usize)>, BTreeMap<usize, Timestamp>) {
    let mut citations: Vec<(usize, usize)> = Vec::new();
    let mut earliest: BTreeMap<usize, Timestamp> = BTreeMap::new();
    for (a, attestation) in bundle.attestations.iter().enumerate() {
        for id in cited_badges(&attestation.credential) {
            let found = bundle
                .badges
                .iter()
                .position(|b| b.credential.get("id").and_then(Value::as_str) == Some(id));
            if let Some(b) = found {
                citations.push((a, b));
                let when = earliest.entry(b).or_insert(attestation.time);
                *when = (*when).min(attestation.time);
            }
        }
    }
    (citations, earliest)
}

/// Whether every badge in the bundle is cited by an attestation (`earliest` holds the
/// cited ones).
fn check_contents(report: &mut Report, bundle: &Bundle, earliest: &BTreeMap<usize, Timestamp>) {
    let uncited: Vec<usize> = (0..bundle.badges.len())
        .filter(|b| !earliest.contains_key(b))
        .collect();
    if !uncited.is_empty() {
        let names: Vec<String> = uncited.iter().map(|b| format!("badges[{b}]")).collect();
        report.fail(
            "contents",
            format!("{} cited by no attestation", names.join(", ")),
        );
    }
}

/// Verifies every credential as of its item's time, with the checkpoints' log signatures
/// in the same Ed25519 batch. Returns one verification per item and, in `checkpoints`'
/// order, whether each checkpoint signature verified.
fn verify_signatures(
    items: &[Item<'_>],
    canonical: &[Canonical],
    checkpoints: &BTreeMap<&str, Result<UncheckedCheckpoint, String>>,
    contexts: &Contexts,
) -> (Vec<Verification>, Vec<bool>) {
    let also: Vec<Signed<'_>> = checkpoints
        .values()
        .filter_map(|c| c.as_ref().ok())
        .flat_map(UncheckedCheckpoint::signed)
        .collect();
    let keys = KnownKeys::default();
    let shared: Vec<SharedCredential<'_>> = items
        .iter()
        .zip(canonical)
        .map(|(item, canonical)| {
            let mut options = VerifyOptions::new(item.at, contexts, &keys);
            // eddsa-jcs-2022 signs the JSON itself; the JSON-LD term check would cost a
            // full expansion per credential and decides nothing the signature does not.
            options.check_terms = false;
            SharedCredential {
                document: item.logged.credential.clone(),
                options,
                canonical: Some(canonical),
            }
        })
        .collect();
    verify_shared_credentials(&shared, &also)
}

/// What the credential checks left: per item, its credential if it verified and its
/// report; and the status lists read from the verified ones.
struct Verified {
    credentials: Vec<Option<VerifiedCredential>>,
    reports: Vec<Report>,
    lists: Vec<StatusListCredential>,
}

/// Whether every credential's proofs verified. Names each item's report after its role,
/// leaving out the status checks (the bundle checks badge status itself, against its own
/// lists), and reads the status lists.
fn check_signatures(
    report: &mut Report,
    items: &[Item<'_>],
    verifications: Vec<Verification>,
) -> Verified {
    let mut failed_signatures = Vec::new();
    let mut verified: Vec<Option<VerifiedCredential>> = Vec::with_capacity(items.len());
    let mut reports: Vec<Report> = Vec::with_capacity(items.len());
    let mut lists: Vec<StatusListCredential> = Vec::new();
    let mut decoded = 0usize;
    for (item, verification) in items.iter().zip(verifications) {
        let mut document = verification.report;
        document.id = Some(item.role.name());
        if !matches!(item.role, Role::StatusList(_)) {
            document.checks.retain(|c| !c.check.starts_with("status"));
            document.verified = document.checks.iter().all(|c| c.outcome != Outcome::Failed);
        }
        match &verification.credential {
            None => failed_signatures.push(item.role.name()),
            Some(credential) => {
                if let Role::StatusList(_) = item.role {
                    if decoded >= MAX_DECODED_BYTES {
                        document.fail(
                            "status list",
                            format!("not read: the bundle's status lists decode to more than {} MiB in all", MAX_DECODED_BYTES >> 20),
                        );
                    } else {
                        match StatusListCredential::parse(credential.document()) {
                            Ok(list) => {
                                decoded += list.list.len() / 8;
                                lists.push(list);
                            }
                            Err(e) => document.fail("status list", e.to_string()),
                        }
                    }
                }
            }
        }
        verified.push(verification.credential);
        reports.push(document);
    }
    if failed_signatures.is_empty() {
        report.pass(
            "signatures",
            format!(
                "{} credential checks, every proof verified (one Ed25519 batch)",
                items.len()
            ),
        );
    } else {
        report.fail(
            "signatures",
            format!(
                "{} did not verify (see their reports)",
                failed_signatures.join(", ")
            ),
        );
    }
    Verified {
        credentials: verified,
        reports,
        lists,
    }
}

/// The bundle with what its credential checks established, shared by the review's steps.
struct Checked<'a> {
    bundle: &'a Bundle,
    items: &'a [Item<'a>],
    /// (attestation, badge) for every citation of a badge the bundle carries.
    citations: &'a [(usize, usize)],
    /// Per item, its credential if it verified.
    verified: &'a [Option<VerifiedCredential>],
    /// The status lists that verified and could be read.
    lists: &'a [StatusListCredential],
}

impl Checked<'_> {
    /// The credential in `role`, if it verified.
    fn of(&self, role: Role) -> Option<&VerifiedCredential> {
        self.items
            .iter()
            .position(|i| i.role == role)
            .and_then(|i| self.verified[i].as_ref())
    }
}

/// The badge ids an attestation cites.
fn cited_badges(attestation: &Value) -> impl Iterator<Item = &str> {
    attestation["credentialSubject"]["qualification"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

/// The review itself: batch and serial, protocol, which badges qualify whom, and the
/// verdict recomputed and compared with the node's.
fn review(report: &mut Report, checked: &Checked<'_>) -> Option<Evaluation> {
    let bundle = checked.bundle;
    let batch = review_batch(report, checked)?;
    let (protocol, hash) = review_protocol(report, checked, &batch)?;
    let attestations = review_attestations(report, checked);
    let evaluation =
        match evaluate_hashed(&protocol, hash, &batch, &attestations, bundle.assembled_at) {
            Ok(e) => e,
            Err(e) => {
                report.fail("evaluation", e.to_string());
                return None;
            }
        };
    report_attestation_reviews(report, bundle, &evaluation);
    for reason in &evaluation.reasons {
        report.push(
            format!("review: {}", reason.rule.as_str()),
            reason.outcome,
            reason.detail.clone(),
        );
    }
    if let Some(stated) = &bundle.evaluation {
        compare(report, &evaluation, stated);
    } else {
        report.unknown(
            "verdict recomputed",
            format!(
                "{} from the measured values; the bundle states no verdict of the node's to compare",
                evaluation.verdict
            ),
        );
    }
    report_verdict(report, &batch, &protocol, &evaluation);
    Some(evaluation)
}

/// The batch registration: verified, readable, and listing the bundle's serial.
fn review_batch(report: &mut Report, checked: &Checked<'_>) -> Option<Batch> {
    let bundle = checked.bundle;
    let Some(batch_credential) = checked.of(Role::Batch) else {
        report.fail("batch", "the batch registration did not verify");
        return None;
    };
    let batch = match BatchRegistration::from_credential(batch_credential.document())
        .and_then(|r| r.to_batch(batch_credential.issuer()))
    {
        Ok(batch) => batch,
        Err(e) => {
            report.fail("batch", e.to_string());
            return None;
        }
    };
    match batch.serials.iter().position(|s| *s == bundle.serial) {
        Some(i) => report.pass(
            "serial",
            format!(
                "{} is unit {} of {} in batch {}",
                bundle.serial,
                i + 1,
                batch.lot_size,
                batch.id
            ),
        ),
        None => report.fail(
            "serial",
            format!("{} is not a unit of batch {}", bundle.serial, batch.id),
        ),
    }
    Some(batch)
}

/// The protocol credential: verified, readable, and the protocol the batch is registered
/// under.
fn review_protocol(
    report: &mut Report,
    checked: &Checked<'_>,
    batch: &Batch,
) -> Option<(Protocol, ProtocolHash)> {
    let Some(protocol_credential) = checked.of(Role::Protocol) else {
        report.fail("protocol", "the protocol credential did not verify");
        return None;
    };
    let (protocol, hash) = match Protocol::from_credential_hashed(protocol_credential.document()) {
        Ok(p) => p,
        Err(e) => {
            report.fail("protocol", e.to_string());
            return None;
        }
    };
    if hash != batch.protocol {
        report.fail(
            "protocol",
            format!(
                "the batch is registered under {}, but the bundle's protocol is {}",
                batch.protocol, hash
            ),
        );
        return None;
    }
    report.pass(
        "protocol",
        format!(
            "{} version {} ({}), published by {}",
            protocol.id,
            protocol.version,
            hash,
            protocol_credential.issuer()
        ),
    );
    Some((protocol, hash))
}

/// The attestations that go into the evaluation: verified, their proofs made no later
/// than the ledger logged them (within the clock skew), each with the badges its signer
/// held then.
fn review_attestations(report: &mut Report, checked: &Checked<'_>) -> Vec<VerifiedAttestation> {
    let mut attestations = Vec::new();
    for (a, logged) in checked.bundle.attestations.iter().enumerate() {
        let Some(credential) = checked.of(Role::Attestation(a)) else {
            report.fail(
                format!("attestations[{a}]"),
                "did not verify; it is left out of the evaluation",
            );
            continue;
        };
        let signed_at = logged.time;
        let created_late = proof_created(credential.document())
            .filter(|created| *created > signed_at.plus_seconds(CLOCK_SKEW_SECONDS));
        if let Some(created) = created_late {
            report.fail(
                format!("attestations[{a}] time"),
                format!("its proof claims to be made at {created}, after the ledger logged it at {signed_at}"),
            );
            continue;
        }
        let qualifying = qualifying_badges(report, checked, a, logged);
        match VerifiedAttestation::from_verified(credential, signed_at, &qualifying) {
            Ok(attestation) => attestations.push(attestation),
            Err(e) => report.fail(format!("attestations[{a}]"), e.to_string()),
        }
    }
    attestations
}

/// The badges attestation `a` cites that its signer held when it was logged, each as of
/// then; every cited badge gets a check saying whether it was held.
fn qualifying_badges(
    report: &mut Report,
    checked: &Checked<'_>,
    a: usize,
    logged: &Logged,
) -> Vec<VerifiedCredential> {
    let mut qualifying = Vec::new();
    for &(_, b) in checked
        .citations
        .iter()
        .filter(|(cited_by, _)| *cited_by == a)
    {
        let name = format!("badges[{b}] held by attestations[{a}]'s signer");
        let badge = &checked.bundle.badges[b];
        match held(logged, badge, checked.of(Role::Badge(b)), checked.lists) {
            Ok((why, at_signing)) => {
                report.pass(name, why);
                qualifying.push(at_signing);
            }
            Err((outcome, why)) => report.push(name, outcome, why),
        }
    }
    qualifying
}

/// One check per judged attestation: passed when its pass counts, failed when it fails
/// and the batch is rejected, unknown otherwise, with its findings.
fn report_attestation_reviews(report: &mut Report, bundle: &Bundle, evaluation: &Evaluation) {
    for outcome in &evaluation.attestations {
        let position = bundle
            .attestations
            .iter()
            .position(|a| a.credential.get("id").and_then(Value::as_str) == Some(&outcome.id));
        let name = match position {
            Some(i) => format!("attestations[{i}] review"),
            None => format!("attestation {} review", outcome.id),
        };
        let findings: Vec<&str> = outcome
            .findings
            .iter()
            .map(|f| f.message.as_str())
            .collect();
        let detail = format!(
            "{}: {} units inspected, {} nonconforming{}{}",
            outcome.standing.as_str(),
            outcome.inspected,
            outcome.nonconforming,
            if outcome.counted { "" } else { ", not counted" },
            if findings.is_empty() {
                String::new()
            } else {
                format!("; {}", findings.join("; "))
            }
        );
        let result = match outcome.standing {
            Standing::Passes if outcome.counted => Outcome::Passed,
            Standing::Fails | Standing::FailsCritical
                if evaluation.verdict == Verdict::Rejected =>
            {
                Outcome::Failed
            }
            _ => Outcome::Unknown,
        };
        report.push(name, result, detail);
    }
}

/// The verdict as the `certified` check: passed, failed when rejected, unknown (with what
/// is missing) while pending.
fn report_verdict(
    report: &mut Report,
    batch: &Batch,
    protocol: &Protocol,
    evaluation: &Evaluation,
) {
    match evaluation.verdict {
        Verdict::Certified => report.pass(
            "certified",
            format!(
                "batch {} is certified under {} by {} independent qualified reviewer(s)",
                batch.id, protocol.id, evaluation.passing
            ),
        ),
        Verdict::Rejected => report.fail(
            "certified",
            format!("batch {} is rejected under {}", batch.id, protocol.id),
        ),
        Verdict::Pending => report.unknown(
            "certified",
            format!(
                "batch {} is still under review: {}",
                batch.id,
                evaluation.missing.join("; ")
            ),
        ),
    }
}

/// Compares the recomputed evaluation with the node's.
fn compare(report: &mut Report, evaluation: &Evaluation, stated: &Evaluation) {
    if evaluation == stated {
        report.pass(
            "verdict recomputed",
            format!(
                "{} from the measured values, as the node states",
                evaluation.verdict
            ),
        );
    } else if evaluation.verdict != stated.verdict {
        report.fail(
            "verdict recomputed",
            format!(
                "the node states {}, but the bundle's credentials give {}",
                stated.verdict, evaluation.verdict
            ),
        );
    } else {
        report.fail(
            "verdict recomputed",
            format!(
                "{} as the node states, but the node's evaluation differs in its details from the recomputed one",
                evaluation.verdict
            ),
        );
    }
}

/// The `created` of a credential's first proof.
fn proof_created(document: &Value) -> Option<Timestamp> {
    let proof = match document.get("proof")? {
        Value::Array(items) => items.first()?,
        other => other,
    };
    Timestamp::parse(proof.get("created")?.as_str()?).ok()
}

/// Whether a cited badge shows its holder held it when the attestation was logged:
/// verified as of then (validity window included), logged before the attestation (same
/// log), and neither revoked nor suspended in the bundle's status lists.
fn held(
    attestation: &Logged,
    badge: &Logged,
    verified: Option<&VerifiedCredential>,
    lists: &[StatusListCredential],
) -> Result<(String, VerifiedCredential), (Outcome, String)> {
    let failed = |why: String| Err((Outcome::Failed, why));
    let Some(verified) = verified else {
        return failed("the badge did not verify".into());
    };
    let when = attestation.time;
    let verified = match verified.as_of(when) {
        Ok(v) => v,
        Err(why) => return failed(format!("as of {when}: {why}")),
    };
    check_logged_before(attestation, badge)?;
    let issuer = verified.issuer();
    let standing = badge_status(&verified, lists)?;
    let achievement = verified.document()["credentialSubject"]["achievement"]["name"]
        .as_str()
        .unwrap_or("an achievement");
    let why = format!(
        "{achievement} from {issuer}, valid at {when}, logged before the attestation{}",
        if standing.is_empty() {
            String::new()
        } else {
            format!(", {}", standing.join(", "))
        }
    );
    Ok((why, verified))
}

/// Whether the badge was logged before the attestation: an earlier entry when both are in
/// the same log, and a ledger time no later than the attestation's.
fn check_logged_before(attestation: &Logged, badge: &Logged) -> Result<(), (Outcome, String)> {
    let same_log =
        badge.receipt.checkpoint.lines().next() == attestation.receipt.checkpoint.lines().next();
    if same_log && badge.receipt.index >= attestation.receipt.index {
        return Err((
            Outcome::Failed,
            format!(
                "the badge is entry {} of the ledger, not before the attestation (entry {})",
                badge.receipt.index, attestation.receipt.index
            ),
        ));
    }
    if badge.time > attestation.time {
        return Err((
            Outcome::Failed,
            format!(
                "the badge was logged at {}, after the attestation ({})",
                badge.time, attestation.time
            ),
        ));
    }
    Ok(())
}

/// The badge's standing in each of its status lists ("not revoked as of …"): failed when
/// a bit is set or a list is not its issuer's, unknown when a list or an entry type is
/// not one this verifier has.
fn badge_status(
    verified: &VerifiedCredential,
    lists: &[StatusListCredential],
) -> Result<Vec<String>, (Outcome, String)> {
    let failed = |why: String| Err((Outcome::Failed, why));
    let issuer = verified.issuer();
    let statuses = match verified.document().get("credentialStatus") {
        None => Vec::new(),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one) => vec![one],
    };
    let mut standing = Vec::new();
    for status in statuses {
        let entry = match StatusEntry::parse(status) {
            Ok(Some(entry)) => entry,
            Ok(None) => {
                return Err((
                    Outcome::Unknown,
                    "it has a status entry of a type this verifier does not read".into(),
                ))
            }
            Err(e) => return failed(e.to_string()),
        };
        let Some(list) = lists.iter().find(|l| l.id == entry.list_credential) else {
            return Err((
                Outcome::Unknown,
                format!(
                    "its {} list {} is not in the bundle, so its status is unknown",
                    entry.purpose, entry.list_credential
                ),
            ));
        };
        if list.issuer != issuer {
            return failed(format!(
                "its status list {} is issued by {}, not by the badge's issuer",
                list.id, list.issuer
            ));
        }
        match list.status_of(&entry) {
            Ok(status) if status.is_set() => {
                let as_of = status
                    .as_of
                    .map(|t| format!(" as of {t}"))
                    .unwrap_or_default();
                return failed(format!("the badge is {}{as_of}", set_word(&entry)));
            }
            Ok(status) => standing.push(format!(
                "not {}{}",
                set_word(&entry),
                status
                    .as_of
                    .map(|t| format!(" as of {t}"))
                    .unwrap_or_default()
            )),
            Err(e) => return failed(e.to_string()),
        }
    }
    Ok(standing)
}

fn set_word(entry: &StatusEntry) -> &'static str {
    use guildmark_credentials::status_list::StatusPurpose;
    match entry.purpose {
        StatusPurpose::Revocation => "revoked",
        StatusPurpose::Suspension => "suspended",
        _ => "flagged",
    }
}

/// Whether the buyer trusts the producer, the protocol's publisher, the communities the
/// counted reviewers stand for, and the logs.
fn trust_check(
    report: &mut Report,
    bundle: &Bundle,
    evaluation: &Evaluation,
    trust: Option<&Trust>,
) {
    let name_of = |did: &str| {
        bundle
            .issuers
            .iter()
            .find(|i| i.id == did)
            .map(|i| format!("{} ({did})", i.name))
            .unwrap_or_else(|| did.to_owned())
    };
    let producer = party_id(bundle.batch.credential.get("issuer")).unwrap_or_default();
    let publisher = party_id(bundle.protocol.credential.get("issuer")).unwrap_or_default();
    let mut communities: BTreeSet<&str> = [producer, publisher].into_iter().collect();
    communities.extend(evaluation.communities.iter().map(String::as_str));
    let logs: BTreeSet<String> = bundle.logs.iter().map(ToString::to_string).collect();
    let Some(trust) = trust else {
        let named: Vec<String> = communities.iter().map(|c| name_of(c)).collect();
        report.unknown(
            "trust",
            format!(
                "no trust file given: the producer is {}, the reviewers stand for {}, and the ledger is {}; whether these are who they say cannot be decided without --trust",
                name_of(producer),
                if named.is_empty() { "no community".into() } else { named.join(", ") },
                logs.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
        );
        return;
    };
    let untrusted: Vec<String> = communities
        .iter()
        .filter(|c| !trust.communities.contains(**c))
        .map(|c| name_of(c))
        .chain(
            logs.iter()
                .filter(|l| !trust.logs.contains(*l))
                .map(|l| format!("log key {l}")),
        )
        .collect();
    if untrusted.is_empty() {
        report.pass(
            "trust",
            format!(
                "the producer, the protocol's publisher, the {} reviewing communities and the ledger are all trusted",
                evaluation.communities.len()
            ),
        );
    } else {
        report.fail(
            "trust",
            format!("not in the trust file: {}", untrusted.join(", ")),
        );
    }
}

/// Whether every checkpoint the receipts lead to was cosigned by the trust file's
/// quorum of witnesses; which log lacked which cosignatures if not. Without a policy
/// there is nothing to check (the trust check then rests on the log keys alone).
fn check_witnessed(report: &mut Report, items: &[Item<'_>], policy: &Policy) {
    if policy.is_empty() {
        return;
    }
    let notes: BTreeSet<&str> = items
        .iter()
        .map(|item| item.logged.receipt.checkpoint.as_str())
        .collect();
    let names = |keys: &[VerifierKey]| {
        keys.iter()
            .map(|k| k.name().to_owned())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut failures = Vec::new();
    let mut met = Vec::new();
    for note in notes {
        let mut lines = note.lines();
        let (origin, size) = (
            lines.next().unwrap_or_default(),
            lines.next().unwrap_or("?"),
        );
        let seen = policy.cosigners(note);
        if policy.met_by(&seen) {
            met.push(format!(
                "{origin} at size {size} by {}",
                names(
                    &seen
                        .valid
                        .iter()
                        .map(|(k, _)| k.clone())
                        .collect::<Vec<_>>()
                )
            ));
            continue;
        }
        let mut lacking = format!(
            "{origin} at size {size} has {} of the {} cosignatures required",
            seen.valid.len(),
            policy.quorum
        );
        if !seen.missing.is_empty() {
            lacking.push_str(&format!("; missing: {}", names(&seen.missing)));
        }
        if !seen.invalid.is_empty() {
            lacking.push_str(&format!("; not verifying: {}", names(&seen.invalid)));
        }
        failures.push(lacking);
    }
    if failures.is_empty() {
        report.pass(
            "witnessed",
            format!(
                "every checkpoint is cosigned by {} of the {} trusted witnesses: {}",
                policy.quorum,
                policy.witnesses.len(),
                met.join("; ")
            ),
        );
    } else {
        report.fail("witnessed", failures.join("; "));
    }
}

/// Every distinct checkpoint the items' receipts lead to, read and matched to its log's
/// key in the bundle, its signatures left for the batch.
fn open_checkpoints<'b>(
    bundle: &'b Bundle,
    items: &[Item<'b>],
) -> BTreeMap<&'b str, Result<UncheckedCheckpoint, String>> {
    let mut checkpoints = BTreeMap::new();
    for item in items {
        let note = item.logged.receipt.checkpoint.as_str();
        checkpoints.entry(note).or_insert_with(|| {
            let origin = note.lines().next().unwrap_or_default();
            let key = bundle
                .logs
                .iter()
                .find(|k| k.name() == origin)
                .ok_or_else(|| {
                    format!("its checkpoint is from {origin:?}, a log the bundle names no key for")
                })?;
            open_checkpoint(note, key).map_err(|e| e.to_string())
        });
    }
    checkpoints
}

/// Checks every receipt: its checkpoint's signature by a log named in the bundle (each
/// distinct checkpoint once; `verified` says, in `checkpoints`' order, whether each of
/// their signatures held in the batch), and the entry's inclusion.
fn check_receipts(
    report: &mut Report,
    bundle: &Bundle,
    items: &[Item<'_>],
    canonical: &[Canonical],
    checkpoints: BTreeMap<&str, Result<UncheckedCheckpoint, String>>,
    verified: Vec<bool>,
) {
    let mut verified = verified.into_iter();
    let checkpoints: BTreeMap<&str, Result<Checkpoint, String>> = checkpoints
        .into_iter()
        .map(|(note, opened)| {
            let checked = opened.and_then(|c| {
                let signatures = c.signed().len();
                // Consume all of this checkpoint's verdicts before looking at them.
                let verdicts: Vec<bool> = verified.by_ref().take(signatures).collect();
                if verdicts.iter().all(|ok| *ok) {
                    Ok(c.checkpoint)
                } else {
                    Err("its checkpoint's signature by the log key does not verify".to_owned())
                }
            });
            (note, checked)
        })
        .collect();
    let mut failures = Vec::new();
    let mut sizes = BTreeSet::new();
    for (item, canonical) in items.iter().zip(canonical) {
        let (role, logged) = (item.role, item.logged);
        let checkpoint = match &checkpoints[logged.receipt.checkpoint.as_str()] {
            Ok(c) => c,
            Err(e) => {
                failures.push(format!("{}: {e}", role.name()));
                continue;
            }
        };
        if logged.time > bundle.assembled_at {
            failures.push(format!(
                "{}: logged at {}, after the bundle was assembled",
                role.name(),
                logged.time
            ));
        }
        match merkle::verify_inclusion(
            &entry_leaf_hash_of_canonical(&logged.kind, logged.time, canonical.bytes()),
            logged.receipt.index,
            checkpoint.size,
            &logged.receipt.proof,
            &checkpoint.root,
        ) {
            Ok(()) => {
                sizes.insert((checkpoint.origin.clone(), checkpoint.size));
            }
            Err(e) => failures.push(format!(
                "{}: entry {} is not in the log: {e}",
                role.name(),
                logged.receipt.index
            )),
        }
    }
    if failures.is_empty() {
        let at: Vec<String> = sizes
            .iter()
            .map(|(origin, size)| format!("{origin} at size {size}"))
            .collect();
        report.pass(
            "receipts",
            format!(
                "all {} credentials are in the ledger ({}), checkpoint signatures verified",
                items.len(),
                at.join(", ")
            ),
        );
    } else {
        report.fail("receipts", failures.join("; "));
    }
}

#[cfg(test)]
mod tests {
    use super::Trust;
    use guildmark_credentials::note::NoteSigner;
    use guildmark_credentials::KeyPair;

    #[test]
    fn a_trust_file_states_its_witness_policy_or_is_refused() {
        let a = NoteSigner::cosigner("a.example/witness", KeyPair::from_seed(&[1; 32])).unwrap();
        let b = NoteSigner::cosigner("b.example/witness", KeyPair::from_seed(&[2; 32])).unwrap();
        let log = NoteSigner::ed25519("log.example", KeyPair::from_seed(&[3; 32])).unwrap();
        let (a, b, log) = (a.verifier(), b.verifier(), log.verifier());
        let file =
            |rest: &str| format!("logs = [\"{log}\"]\nwitnesses = [\"{a}\", \"{b}\"]\n{rest}");

        let all = Trust::parse(&file("")).unwrap().witness_policy();
        assert_eq!(
            (all.witnesses.len(), all.quorum),
            (2, 2),
            "default: all of them"
        );
        let one = Trust::parse(&file("witness_quorum = 1")).unwrap();
        assert_eq!(one.witness_policy().quorum, 1);
        // Written back, the policy survives.
        assert_eq!(Trust::parse(&one.to_toml()).unwrap(), one);
        assert!(Trust::parse(&file("witness_quorum = 0")).is_err());
        assert!(Trust::parse(&file("witness_quorum = 3")).is_err());
        // A log key is not a witness key.
        let wrong = format!("witnesses = [\"{log}\"]");
        assert!(Trust::parse(&wrong).unwrap_err().contains("cosignature/v1"));
        assert!(Trust::parse("").unwrap().witness_policy().is_empty());
    }
}

//! Fixtures: the example protocols, batches, reviewers and passing results.

use std::collections::BTreeSet;
use std::path::PathBuf;

use guildmark_credentials::time::Timestamp;
use guildmark_review_protocols::attestation::{ProtocolReference, Recorded};
use guildmark_review_protocols::step::StepKind;
use guildmark_review_protocols::{
    Attestation, Batch, Held, Protocol, ReviewClaims, Reviewer, ReviewerVerdict, StepResult,
};

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

/// Community ids (as evaluation sees them: the issuers of badges).
pub const KESTREL: &str = "did:key:z6MkKestrelMicrofactory";
pub const IRONBRIDGE: &str = "did:key:z6MkIronbridgeRepairCafe";
pub const LUMEN: &str = "did:key:z6MkLumenMakerspace";

/// The achievement that qualifies MPPT20 reviewers in `community`.
pub fn power_reviewer(community: &str) -> String {
    format!("https://guildmark.example/{community}/achievements/power-electronics-reviewer")
}

/// A batch of `lot` MPPT20 units produced by Kestrel, under `protocol`.
pub fn batch(protocol: &Protocol, lot: u64) -> Batch {
    Batch {
        id: "https://guildmark.example/kestrel/batches/mppt20-2026-11".into(),
        producer: KESTREL.into(),
        product: Some("MPPT20".into()),
        protocol: protocol.hash(),
        lot_size: lot,
        serials: (1..=lot).map(|i| format!("MP20-2611-{i:04}")).collect(),
    }
}

/// A reviewer with one key, vouched for by `community` with `achievement`.
pub fn reviewer(key: &str, community: &str, achievement: &str) -> Reviewer {
    Reviewer {
        key: key.into(),
        identities: BTreeSet::new(),
        held: [Held {
            community: community.to_owned(),
            achievement: achievement.to_owned(),
        }]
        .into(),
        unproven: Vec::new(),
    }
}

/// A qualified MPPT20 reviewer from `community` (`ironbridge`, `lumen`, `kestrel`).
pub fn power_reviewer_from(key: &str, community: &str) -> Reviewer {
    let did = match community {
        "ironbridge" => IRONBRIDGE,
        "lumen" => LUMEN,
        "kestrel" => KESTREL,
        other => panic!("no community {other}"),
    };
    reviewer(key, did, &power_reviewer(community))
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

/// An attestation of `batch` sampling its first `sample` units, all passing.
pub fn passing(
    id: &str,
    reviewer: Reviewer,
    protocol: &Protocol,
    batch: &Batch,
    sample: usize,
) -> Attestation {
    let sampled: Vec<String> = batch.serials.iter().take(sample).cloned().collect();
    let results = passing_results(protocol, &sampled);
    attestation(
        id,
        reviewer,
        protocol,
        batch,
        sampled,
        results,
        ReviewerVerdict::Pass,
    )
}

/// An attestation with the given content, signed a day before [`now`].
pub fn attestation(
    id: &str,
    reviewer: Reviewer,
    protocol: &Protocol,
    batch: &Batch,
    sampled: Vec<String>,
    results: Vec<StepResult>,
    verdict: ReviewerVerdict,
) -> Attestation {
    Attestation {
        id: id.into(),
        reviewer,
        signed_at: time("2026-11-19T12:00:00Z"),
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
            qualification: Vec::new(),
        },
    }
}

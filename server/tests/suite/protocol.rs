//! `guildmark protocol check` and `evaluate`, as a workshop runs them: keys made with
//! `keygen`, badges and attestations signed with `sign`, the verdict read from the exit
//! status.

use crate::common::{guildmark, vectors};
use guildmark_credentials::badge::{Achievement, OpenBadgeCredential, Profile};
use guildmark_credentials::credential::DateTimeStamp;
use guildmark_credentials::time::Timestamp;
use guildmark_review_protocols::attestation::{ProtocolReference, Recorded};
use guildmark_review_protocols::step::StepKind;
use guildmark_review_protocols::{Batch, Protocol, ReviewClaims, ReviewerVerdict, StepResult};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn protocol_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../review-protocols/protocols")
        .join(name)
}

fn contexts() -> String {
    vectors().join("contexts").display().to_string()
}

#[test]
fn check_prints_the_hash_of_a_valid_protocol() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["mppt20-batch-qa", "soldering-l1", "laptop-battery-refurb"] {
        let path = protocol_file(&format!("{name}.toml"));
        let expected = Protocol::parse(&std::fs::read_to_string(&path).unwrap())
            .unwrap()
            .hash();
        let run = guildmark(
            dir.path(),
            &["protocol", "check", path.to_str().unwrap()],
            None,
        )
        .expect(0);
        assert!(
            run.stdout.contains(&format!("hash: {expected}")),
            "{}",
            run.stdout
        );
        let json = guildmark(
            dir.path(),
            &["protocol", "check", "--json", path.to_str().unwrap()],
            None,
        )
        .expect(0);
        let form: Value = serde_json::from_str(&json.stdout).unwrap();
        assert_eq!(Protocol::from_json(&form).unwrap().hash(), expected);
    }
}

#[test]
fn check_names_the_line_and_field_of_each_problem() {
    let dir = tempfile::tempdir().unwrap();
    let source = std::fs::read_to_string(protocol_file("mppt20-batch-qa.toml"))
        .unwrap()
        .replace("max = \"15 mA\"", "max = \"15 furlongs\"")
        .replace("quorum = 2", "quorum = 0");
    std::fs::write(dir.path().join("broken.toml"), &source).unwrap();
    let run = guildmark(dir.path(), &["protocol", "check", "broken.toml"], None).expect(1);
    let line_of = |needle: &str| source.lines().position(|l| l.contains(needle)).unwrap() + 1;
    assert!(
        run.stderr.contains(&format!(
            "broken.toml: line {}: steps[2].max: unknown unit \"furlongs\"",
            line_of("furlongs")
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("line {}: reviewers.quorum", line_of("quorum = 0"))),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());
    let run = guildmark(dir.path(), &["protocol", "check", "missing.toml"], None).expect(2);
    assert!(run.stderr.contains("missing.toml"), "{}", run.stderr);
    guildmark(dir.path(), &["protocol", "check"], None).expect(2);
    std::fs::write(dir.path().join("binary.toml"), [0xff, 0xfe, 0x00]).unwrap();
    guildmark(dir.path(), &["protocol", "check", "binary.toml"], None).expect(2);
}

/// A workshop: three communities with keys, reviewers with badges, a batch of 60.
struct Workshop {
    dir: tempfile::TempDir,
    protocol: Protocol,
    batch: Batch,
}

const SIGNED_AT: &str = "2026-11-18T15:30:00Z";

impl Workshop {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let protocol = Protocol::parse(
            &std::fs::read_to_string(protocol_file("mppt20-batch-qa.toml")).unwrap(),
        )
        .unwrap();
        let producer = Self::keygen(dir.path(), "kestrel");
        let batch = Batch {
            id: "https://guildmark.example/kestrel/batches/2611".into(),
            producer,
            product: Some("MPPT20".into()),
            protocol: protocol.hash(),
            lot_size: 60,
            serials: (1..=60).map(|i| format!("MP20-{i:03}")).collect(),
        };
        std::fs::write(
            dir.path().join("batch.json"),
            serde_json::to_string_pretty(&batch).unwrap(),
        )
        .unwrap();
        Workshop {
            dir,
            protocol,
            batch,
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn keygen(dir: &Path, name: &str) -> String {
        let run = guildmark(dir, &["keygen", "--out", &format!("{name}.key")], None).expect(0);
        run.stdout.trim().to_owned()
    }

    fn sign(&self, key: &str, document: &Value, out: &str, created: &str) {
        let run = guildmark(
            self.path(),
            &[
                "sign",
                "--key",
                &format!("{key}.key"),
                "--created",
                created,
                "--contexts",
                &contexts(),
            ],
            Some(document.to_string().as_bytes()),
        )
        .expect(0);
        std::fs::write(self.path().join(out), run.stdout).unwrap();
    }

    /// A reviewer `name` with a power-electronics badge from `community`; returns the
    /// badge file.
    fn reviewer(&self, name: &str, community: &str) -> String {
        let did = Self::keygen(self.path(), name);
        let community_did =
            match std::fs::exists(self.path().join(format!("{community}.key"))).unwrap() {
                true => guildmark_credentials::KeyPair::from_key_file(
                    &std::fs::read_to_string(self.path().join(format!("{community}.key"))).unwrap(),
                )
                .unwrap()
                .did_key()
                .did()
                .to_owned(),
                false => Self::keygen(self.path(), community),
            };
        let achievement = Achievement::new(
            format!(
                "https://guildmark.example/{community}/achievements/power-electronics-reviewer"
            ),
            "Power electronics reviewer",
            "Reviews power electronics under Guildmark protocols.",
            "Passed the reviewer assessment.",
        );
        let issued = Timestamp::parse("2026-02-01T00:00:00Z").unwrap();
        let badge = OpenBadgeCredential::new(
            format!("urn:uuid:badge-{name}"),
            Profile::new(community_did, community),
            DateTimeStamp::from(issued),
            did,
            achievement,
        );
        let file = format!("badge-{name}.json");
        self.sign(
            community,
            &serde_json::to_value(badge).unwrap(),
            &file,
            "2026-02-01T00:00:00Z",
        );
        file
    }

    /// `name`'s signed attestation of the first `sample` units, with `change` applied.
    fn attest(
        &self,
        name: &str,
        sample: usize,
        change: impl FnOnce(&mut Vec<StepResult>),
    ) -> String {
        let did = guildmark_credentials::KeyPair::from_key_file(
            &std::fs::read_to_string(self.path().join(format!("{name}.key"))).unwrap(),
        )
        .unwrap()
        .did_key()
        .did()
        .to_owned();
        let sampled: Vec<String> = self.batch.serials.iter().take(sample).cloned().collect();
        let mut results = Vec::new();
        for serial in &sampled {
            for step in &self.protocol.steps {
                let recorded = match &step.kind {
                    StepKind::Measurement { limits, .. } => Recorded::Measured(
                        limits
                            .nominal
                            .clone()
                            .or(limits.max.clone())
                            .or(limits.min.clone())
                            .unwrap(),
                    ),
                    StepKind::Check => Recorded::Checked(true),
                    StepKind::Observation => Recorded::Noted("ambient 22 °C".into()),
                };
                results.push(StepResult {
                    serial: serial.clone(),
                    step: step.id.clone(),
                    recorded,
                });
            }
        }
        change(&mut results);
        let claims = ReviewClaims {
            id: self.batch.id.clone(),
            type_: "ReviewedBatch".into(),
            protocol: ProtocolReference {
                id: self.protocol.urn(),
                digest: self.protocol.hash(),
            },
            sampled,
            results,
            verdict: ReviewerVerdict::Pass,
            qualification: vec![format!("urn:uuid:badge-{name}")],
        };
        let credential = claims.to_credential(
            &format!("urn:uuid:attestation-{name}"),
            &did,
            Timestamp::parse(SIGNED_AT).unwrap(),
        );
        let file = format!("attestation-{name}.json");
        self.sign(name, &credential, &file, SIGNED_AT);
        file
    }

    fn evaluate(
        &self,
        extra: &[&str],
        badges: &[&str],
        attestations: &[&str],
    ) -> crate::common::Run {
        let protocol = protocol_file("mppt20-batch-qa.toml");
        let contexts = contexts();
        let mut args = vec![
            "protocol",
            "evaluate",
            protocol.to_str().unwrap(),
            "--batch",
            "batch.json",
            "--contexts",
            &contexts,
            "--at",
            "2026-11-20T00:00:00Z",
        ];
        args.extend_from_slice(extra);
        for badge in badges {
            args.extend(["--badge", badge]);
        }
        args.extend_from_slice(attestations);
        guildmark(self.path(), &args, None)
    }
}

#[test]
fn evaluate_certifies_rejects_and_says_what_is_pending() {
    let w = Workshop::new();
    let ada = w.reviewer("ada", "ironbridge");
    let bo = w.reviewer("bo", "lumen");
    let eve = w.reviewer("eve", "lumen");
    let ada_att = w.attest("ada", 20, |_| {});
    let bo_att = w.attest("bo", 20, |_| {});
    let eve_att = w.attest("eve", 20, |results| {
        let r = results
            .iter_mut()
            .find(|r| r.serial == "MP20-004" && r.step == "reverse-polarity-pv")
            .unwrap();
        r.recorded = Recorded::Checked(false);
    });

    // Both reviewers: certified.
    let run = w
        .evaluate(&[], &[&ada, &bo], &[&ada_att, &bo_att])
        .expect(0);
    assert!(
        run.stdout
            .starts_with("CERTIFIED — batch https://guildmark.example/kestrel/batches/2611"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("plan: inspect 20 units, accept 0 nonconforming"),
        "{}",
        run.stdout
    );

    // One: pending, and the message says who else is needed.
    let run = w.evaluate(&[], &[&ada, &bo], &[&ada_att]).expect(3);
    assert!(
        run.stdout
            .contains("missing: needs 1 more qualified reviewer"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("from a community other than"),
        "{}",
        run.stdout
    );

    // Without their badges, nobody is qualified.
    let run = w.evaluate(&["--json"], &[], &[&ada_att, &bo_att]).expect(3);
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["verdict"], "pending");
    let qualification = json["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "qualification")
        .unwrap();
    assert_eq!(qualification["outcome"], "failed");
    assert!(json["attestations"][0]["findings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("badge urn:uuid:badge-ada was cited but not given"));

    // A critical failure rejects.
    let run = w
        .evaluate(
            &["--json"],
            &[&ada, &bo, &eve],
            &[&ada_att, &bo_att, &eve_att],
        )
        .expect(1);
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["verdict"], "rejected");
    assert_eq!(json["unverified"], Value::Array(vec![]));
}

#[test]
fn evaluate_does_not_count_what_does_not_verify() {
    let w = Workshop::new();
    let ada = w.reviewer("ada", "ironbridge");
    let bo = w.reviewer("bo", "lumen");
    let ada_att = w.attest("ada", 20, |_| {});
    let bo_att = w.attest("bo", 20, |_| {});
    // Bo's numbers "improved" after signing.
    let forged = std::fs::read_to_string(w.path().join(&bo_att))
        .unwrap()
        .replacen("15 mA", "1 mA", 1);
    std::fs::write(w.path().join("forged.json"), forged).unwrap();
    let run = w
        .evaluate(&[], &[&ada, &bo], &[&ada_att, "forged.json"])
        .expect(3);
    assert!(
        run.stdout
            .contains("not counted: forged.json does not verify"),
        "{}",
        run.stdout
    );

    // A badge signed by someone other than its issuer proves nothing.
    let badge = std::fs::read_to_string(w.path().join(&bo)).unwrap();
    let mut badge: Value = serde_json::from_str(&badge).unwrap();
    badge["credentialSubject"]["achievement"]["name"] = "Grand master".into();
    std::fs::write(w.path().join("badge-forged.json"), badge.to_string()).unwrap();
    let run = w
        .evaluate(&[], &[&ada, "badge-forged.json"], &[&ada_att, &bo_att])
        .expect(3);
    assert!(run.stdout.contains("badge urn:uuid:badge-bo (badge-forged.json) does not verify as of 2026-11-18T15:30:00Z"), "{}", run.stdout);
}

#[test]
fn evaluate_refuses_bad_input_with_a_message() {
    let w = Workshop::new();
    let ada = w.reviewer("ada", "ironbridge");
    let ada_att = w.attest("ada", 20, |_| {});
    std::fs::write(w.path().join("batch.json"), "{\"id\": \"x\"}").unwrap();
    let run = w.evaluate(&[], &[&ada], &[&ada_att]).expect(2);
    assert!(
        run.stderr.contains("batch.json is not a batch") && run.stderr.contains("missing field"),
        "{}",
        run.stderr
    );

    let mut batch = w.batch.clone();
    batch.serials.pop();
    std::fs::write(
        w.path().join("batch.json"),
        serde_json::to_string(&batch).unwrap(),
    )
    .unwrap();
    let run = w.evaluate(&[], &[&ada], &[&ada_att]).expect(2);
    assert!(
        run.stderr
            .contains("the lot size is 60 but 59 serial numbers are listed"),
        "{}",
        run.stderr
    );

    std::fs::write(
        w.path().join("batch.json"),
        serde_json::to_string(&w.batch).unwrap(),
    )
    .unwrap();
    std::fs::write(w.path().join("junk.json"), "{not json").unwrap();
    let run = w.evaluate(&[], &[&ada], &["junk.json"]).expect(2);
    assert!(
        run.stderr.contains("junk.json is not valid JSON"),
        "{}",
        run.stderr
    );
    let run = w.evaluate(&[], &[&ada], &[&ada]).expect(2);
    assert!(
        run.stderr.contains("is not a review attestation"),
        "{}",
        run.stderr
    );
}

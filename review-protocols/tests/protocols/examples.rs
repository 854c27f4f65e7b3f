//! The example protocols: each parses, hashes stably, round-trips through its JSON form,
//! and says what a workshop means.

use guildmark_review_protocols::protocol::SubjectKind;
use guildmark_review_protocols::reviewers::DecisionRule;
use guildmark_review_protocols::sampling::Requirement;
use guildmark_review_protocols::step::StepKind;
use guildmark_review_protocols::Protocol;

use crate::common::{protocol, protocols_dir, source};

/// The content hashes of the published examples. A change here changes what every
/// attestation citing them means: edit a protocol only by giving it a new version.
const PINNED: &[(&str, &str)] = &[
    (
        "mppt20-batch-qa",
        "sha256:4fae70b6b1d69068714f7d122a6bd201e2a6c8f7795d9381dc44961fa29e0cf8",
    ),
    (
        "soldering-l1",
        "sha256:8a73a93d7f3fc91bb54ac2670277f112e33991caa7e4f734dfe5915129e1c3b4",
    ),
    (
        "laptop-battery-refurb",
        "sha256:836d8ae4a06890765485a90d2f328b06b86b7e1e5b3b1ec220acfe92139bdf1d",
    ),
];

#[test]
fn every_example_parses_and_round_trips() {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(protocols_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).unwrap();
            let parsed =
                Protocol::parse(&text).unwrap_or_else(|e| panic!("{}:\n{e}", path.display()));
            let json = parsed.to_json();
            let back = Protocol::from_json(&json).unwrap();
            assert_eq!(back, parsed, "{}", path.display());
            assert_eq!(back.hash(), parsed.hash());
            assert_eq!(
                format!("{}.toml", parsed.id),
                path.file_name().unwrap().to_str().unwrap()
            );
            names.push(parsed.id);
        }
    }
    names.sort();
    assert_eq!(
        names,
        ["laptop-battery-refurb", "mppt20-batch-qa", "soldering-l1"]
    );
}

#[test]
fn hashes_are_pinned() {
    for (name, hash) in PINNED {
        assert_eq!(protocol(name).hash().to_string(), *hash, "{name}");
    }
}

#[test]
fn the_hash_is_of_the_content_not_the_text() {
    let original = protocol("mppt20-batch-qa");
    // Comments, layout and equivalent spellings do not change what the protocol says.
    let respelled: String = source("mppt20-batch-qa")
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("nominal = \"14.40 V\"", "nominal = \"14.4 V\"");
    assert_eq!(Protocol::parse(&respelled).unwrap().hash(), original.hash());
    // Any change of substance does.
    for (from, to) in [
        ("max = \"15 mA\"", "max = \"16 mA\""),
        ("quorum = 2", "quorum = 3"),
        ("max-age-days = 180", "max-age-days = 181"),
        ("version = \"1.0.0\"", "version = \"1.0.1\""),
        (
            "{ lots = \"14-50\", sample = 13, accept = 0 }",
            "{ lots = \"14-50\", sample = 13, accept = 1 }",
        ),
    ] {
        let changed = source("mppt20-batch-qa").replace(from, to);
        assert_ne!(changed, source("mppt20-batch-qa"), "{from} not found");
        assert_ne!(
            Protocol::parse(&changed).unwrap().hash(),
            original.hash(),
            "{from} → {to}"
        );
    }
}

#[test]
fn mppt20_says_what_the_workshop_means() {
    let p = protocol("mppt20-batch-qa");
    assert_eq!(p.subject.kind, SubjectKind::Product);
    let critical: Vec<&str> = p
        .steps
        .iter()
        .filter(|s| s.critical)
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(
        critical,
        [
            "efficiency-rated-load",
            "reverse-polarity-battery",
            "reverse-polarity-pv"
        ]
    );
    let StepKind::Measurement { unit, limits } = &p.step("absorption-voltage").unwrap().kind else {
        panic!("absorption-voltage is a measurement")
    };
    let (low, high) = limits.range(unit).unwrap();
    assert_eq!(
        (low.unwrap().to_string(), high.unwrap().to_string()),
        ("14.3".into(), "14.5".into())
    );
    // ±1 % of 11.1 V.
    let StepKind::Measurement { unit, limits } = &p.step("low-voltage-disconnect").unwrap().kind
    else {
        panic!()
    };
    let (low, high) = limits.range(unit).unwrap();
    assert_eq!(
        (low.unwrap().to_string(), high.unwrap().to_string()),
        ("10.989".into(), "11.211".into())
    );
    assert!(!p.step("output-ripple").unwrap().required);
    assert!(!p.step("notes").unwrap().required);
    for (lot, sample, accept) in [
        (1, 1, 0),
        (13, 13, 0),
        (14, 13, 0),
        (120, 20, 0),
        (151, 32, 1),
        (1000, 80, 2),
        (50_000, 200, 5),
    ] {
        assert_eq!(
            p.sampling.requirement(lot),
            Some(Requirement { sample, accept }),
            "lot {lot}"
        );
    }
    assert_eq!(
        (p.reviewers.quorum, p.reviewers.distinct_communities),
        (2, 2)
    );
    assert!(p.reviewers.independent_of_producer);
    assert_eq!(p.decision, DecisionRule::AnyFailureRejects);
}

#[test]
fn soldering_and_battery_protocols_say_what_they_mean() {
    let solder = protocol("soldering-l1");
    assert_eq!(solder.subject.kind, SubjectKind::Skill);
    assert_eq!(solder.decision, DecisionRule::CriticalFailureRejects);
    assert!(!solder.reviewers.independent_of_producer);
    assert!(solder
        .reviewers
        .achievements
        .iter()
        .all(|a| a.ends_with("/soldering-l2")));
    assert_eq!(
        solder.sampling.requirement(1),
        Some(Requirement {
            sample: 1,
            accept: 0
        })
    );

    let battery = protocol("laptop-battery-refurb");
    assert_eq!(
        battery.sampling.requirement(12),
        Some(Requirement {
            sample: 12,
            accept: 0
        })
    );
    let StepKind::Measurement { unit, limits } = &battery.step("internal-resistance").unwrap().kind
    else {
        panic!()
    };
    let (_, high) = limits.range(unit).unwrap();
    assert_eq!(high.unwrap().to_string(), "0.18", "180 mΩ in ohms");
}

#[test]
fn the_hash_is_sha256_of_the_jcs_form_by_an_independent_canonicalizer() {
    use sha2::{Digest, Sha256};
    for name in ["mppt20-batch-qa", "soldering-l1", "laptop-battery-refurb"] {
        let p = protocol(name);
        let bytes = serde_jcs::to_vec(&p.to_json()).unwrap();
        let hex: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(p.hash().to_string(), format!("sha256:{hex}"), "{name}");
    }
}

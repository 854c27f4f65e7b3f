//! Properties of evaluation, over random sets of attestations drawn from a small pool of
//! reviewers (some sharing a member identifier, some unqualified, some from the producer).

use guildmark_review_protocols::attestation::Recorded;
use guildmark_review_protocols::{
    evaluate, Attestation, Batch, Evaluation, Held, Protocol, ReviewerVerdict, Verdict,
};
use proptest::prelude::*;

use crate::common::*;

/// What an attestation's evidence shows.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Pass,
    FailCritical,
    FailNonCritical,
    SaysFail,
    TooFewUnits,
    Stale,
}

#[derive(Debug, Clone, Copy)]
struct Spec {
    reviewer: usize,
    community: usize,
    qualified: bool,
    kind: Kind,
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        4 => Just(Kind::Pass),
        1 => Just(Kind::FailCritical),
        1 => Just(Kind::FailNonCritical),
        1 => Just(Kind::SaysFail),
        1 => Just(Kind::TooFewUnits),
        1 => Just(Kind::Stale),
    ]
}

fn failing_kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        Just(Kind::FailCritical),
        Just(Kind::FailNonCritical),
        Just(Kind::SaysFail)
    ]
}

fn spec_with(kind: impl Strategy<Value = Kind>) -> impl Strategy<Value = Spec> {
    (0..6usize, 0..3usize, prop::bool::weighted(0.85), kind).prop_map(
        |(reviewer, community, qualified, kind)| Spec {
            reviewer,
            community,
            qualified,
            kind,
        },
    )
}

fn specs() -> impl Strategy<Value = Vec<Spec>> {
    prop::collection::vec(spec_with(kind()), 0..7)
}

struct Fixture {
    protocol: Protocol,
    batch: Batch,
}

impl Fixture {
    fn new() -> Self {
        let protocol = protocol("mppt20-batch-qa");
        let batch = batch(&protocol, 120);
        Fixture { protocol, batch }
    }

    /// Reviewers 0 and 3 (and 1 and 4) are one person with two keys.
    fn build(&self, n: usize, spec: Spec) -> Attestation {
        let community = ["ironbridge", "lumen", "kestrel"][spec.community];
        let mut reviewer =
            power_reviewer_from(&format!("did:key:z6MkReviewer{}", spec.reviewer), community);
        reviewer.identities.insert(format!(
            "{IRONBRIDGE} identifier:member-{}",
            spec.reviewer % 3
        ));
        if !spec.qualified {
            // A badge of the same community, but not one the protocol asks for.
            let community = reviewer.held.iter().next().unwrap().community.clone();
            let achievement = "https://guildmark.example/any/achievements/soldering-l1".into();
            reviewer.held = [Held {
                community,
                achievement,
            }]
            .into();
        }
        let sample = if matches!(spec.kind, Kind::TooFewUnits) {
            19
        } else {
            20
        };
        let mut a = passing(
            &format!("urn:p:{n:03}"),
            reviewer,
            &self.protocol,
            &self.batch,
            sample,
        );
        match spec.kind {
            Kind::FailCritical => set(
                &mut a.claims.results,
                "MP20-2611-0004",
                "reverse-polarity-pv",
                Recorded::Checked(false),
            ),
            Kind::FailNonCritical => set(
                &mut a.claims.results,
                "MP20-2611-0004",
                "no-load-current",
                measured("19 mA"),
            ),
            Kind::SaysFail => a.claims.verdict = ReviewerVerdict::Fail,
            Kind::Stale => a.signed_at = time("2026-01-01T00:00:00Z"),
            Kind::Pass | Kind::TooFewUnits => {}
        }
        a
    }

    fn all(&self, specs: &[Spec]) -> Vec<Attestation> {
        specs
            .iter()
            .enumerate()
            .map(|(n, s)| self.build(n, *s))
            .collect()
    }

    fn evaluate(&self, attestations: &[Attestation]) -> Evaluation {
        evaluate(&self.protocol, &self.batch, attestations, now()).unwrap()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Submitting the same review again, under a new id, changes nothing.
    #[test]
    fn an_exact_duplicate_changes_nothing(specs in specs(), pick in any::<prop::sample::Index>()) {
        prop_assume!(!specs.is_empty());
        let f = Fixture::new();
        let mut attestations = f.all(&specs);
        let before = f.evaluate(&attestations);
        let mut copy = attestations[pick.index(attestations.len())].clone();
        copy.id = "urn:p:duplicate".into();
        attestations.push(copy);
        let after = f.evaluate(&attestations);
        prop_assert_eq!(after.verdict, before.verdict);
        prop_assert_eq!(after.passing, before.passing);
        prop_assert_eq!(after.communities, before.communities);
    }

    /// The same review from the same person under another key never raises the count
    /// of passing persons; vouched for by the same community, it changes no verdict either.
    /// (Vouched for by another community it may: the person then stands for either.)
    #[test]
    fn a_second_key_never_raises_the_count(specs in specs(), pick in any::<prop::sample::Index>(), community in 0..3usize) {
        prop_assume!(!specs.is_empty());
        let f = Fixture::new();
        let attestations = f.all(&specs);
        let before = f.evaluate(&attestations);
        let mut spec = specs[pick.index(specs.len())];
        spec.reviewer = (spec.reviewer + 3) % 6; // same member identifier, other key
        let same_community = f.evaluate(&[attestations.clone(), vec![f.build(99, spec)]].concat());
        prop_assert!(same_community.passing <= before.passing, "{} → {}", before.passing, same_community.passing);
        if before.verdict != Verdict::Certified {
            prop_assert_ne!(same_community.verdict, Verdict::Certified);
        }
        spec.community = community;
        let any_community = f.evaluate(&[attestations, vec![f.build(99, spec)]].concat());
        prop_assert!(any_community.passing <= before.passing, "{} → {}", before.passing, any_community.passing);
    }

    /// A failing attestation never turns a rejection into a certification, nor anything
    /// else into one.
    #[test]
    fn a_failing_attestation_never_helps(specs in specs(), failing in spec_with(failing_kind())) {
        let f = Fixture::new();
        let mut attestations = f.all(&specs);
        let before = f.evaluate(&attestations);
        attestations.push(f.build(99, failing));
        let after = f.evaluate(&attestations);
        if before.verdict == Verdict::Rejected {
            prop_assert_eq!(after.verdict, Verdict::Rejected);
        }
        if before.verdict != Verdict::Certified {
            prop_assert_ne!(after.verdict, Verdict::Certified);
        }
        prop_assert!(after.passing <= before.passing);
    }

    /// The order attestations are given in does not matter, down to the last reason.
    #[test]
    fn order_does_not_matter(specs in specs(), seed in any::<u64>()) {
        let f = Fixture::new();
        let attestations = f.all(&specs);
        let mut shuffled = attestations.clone();
        // A seeded Fisher-Yates shuffle.
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        prop_assert_eq!(f.evaluate(&shuffled), f.evaluate(&attestations));
    }

    /// The same inputs give the same evaluation, byte for byte.
    #[test]
    fn evaluation_is_deterministic(specs in specs()) {
        let f = Fixture::new();
        let attestations = f.all(&specs);
        let first = serde_json::to_string(&f.evaluate(&attestations)).unwrap();
        let second = serde_json::to_string(&f.evaluate(&attestations)).unwrap();
        prop_assert_eq!(first, second);
    }
}

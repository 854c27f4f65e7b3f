//! Properties of evaluation, over random sets of attestations drawn from a small pool of
//! reviewers (some sharing a member identifier, some unqualified, some from the producer).
//!
//! Every attestation is signed and verified (see `common`). The pool is small, so each
//! reviewer's key and badges, and each distinct attestation, are made once and shared by
//! every case: signing and verifying an attestation of 20 units and its badges takes about
//! 15 ms in a debug build, evaluating it far less.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use guildmark_review_protocols::attestation::Recorded;
use guildmark_review_protocols::{
    evaluate, Batch, Evaluation, Protocol, ReviewerVerdict, Verdict, VerifiedAttestation,
};
use proptest::prelude::*;

use crate::common::*;

/// What an attestation's evidence shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Pass,
    FailCritical,
    FailNonCritical,
    SaysFail,
    TooFewUnits,
    Stale,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    fn build(&self, n: usize, spec: Spec) -> VerifiedAttestation {
        self.build_named(&format!("urn:p:{n:03}"), spec)
    }

    /// The attestation `spec` describes, under the credential id `id`: signed and
    /// verified the first time it is asked for, then taken from the cache.
    fn build_named(&self, id: &str, spec: Spec) -> VerifiedAttestation {
        type Cache = Mutex<HashMap<(String, Spec), VerifiedAttestation>>;
        static ATTESTATIONS: OnceLock<Cache> = OnceLock::new();
        let cache = ATTESTATIONS.get_or_init(Default::default);
        let key = (id.to_owned(), spec);
        if let Some(made) = cache.lock().unwrap().get(&key) {
            return made.clone();
        }
        let made = self.sign(id, spec);
        cache.lock().unwrap().insert(key, made.clone());
        made
    }

    fn sign(&self, id: &str, spec: Spec) -> VerifiedAttestation {
        let sample = if matches!(spec.kind, Kind::TooFewUnits) {
            19
        } else {
            20
        };
        let mut a = draft(
            id,
            (*reviewer_of(spec)).clone(),
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
        a.sign()
    }

    fn all(&self, specs: &[Spec]) -> Vec<VerifiedAttestation> {
        specs
            .iter()
            .enumerate()
            .map(|(n, s)| self.build(n, *s))
            .collect()
    }

    fn evaluate(&self, attestations: &[VerifiedAttestation]) -> Evaluation {
        evaluate(&self.protocol, &self.batch, attestations, now()).unwrap()
    }
}

/// Reviewer `spec.reviewer`'s key with their badges: the reviewer's badge of the spec's
/// community (or, unqualified, a badge of that community the protocol does not ask for),
/// and Ironbridge's membership badge naming member `reviewer % 3`, so that reviewers 0
/// and 3 (and 1 and 4, 2 and 5) are one person. Made once per reviewer, community and
/// qualification.
fn reviewer_of(spec: Spec) -> Arc<Signer> {
    type Cache = Mutex<HashMap<(usize, usize, bool), Arc<Signer>>>;
    static SIGNERS: OnceLock<Cache> = OnceLock::new();
    let key = (spec.reviewer, spec.community, spec.qualified);
    let cache = SIGNERS.get_or_init(Default::default);
    if let Some(made) = cache.lock().unwrap().get(&key) {
        return made.clone();
    }
    let slug = ["ironbridge", "lumen", "kestrel"][spec.community];
    let achievement = if spec.qualified {
        power_reviewer(slug)
    } else {
        "https://guildmark.example/any/achievements/soldering-l1".into()
    };
    let made = Arc::new(
        signer(&format!("reviewer{}", spec.reviewer))
            .badge(community(slug), &achievement, None)
            .badge(
                ironbridge(),
                &ironbridge().achievement("member"),
                Some(&format!("member-{}", spec.reviewer % 3)),
            ),
    );
    cache.lock().unwrap().insert(key, made.clone());
    made
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
        // The same review signed again by the same key, under a new id.
        let copy = f.build_named("urn:p:duplicate", specs[pick.index(specs.len())]);
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

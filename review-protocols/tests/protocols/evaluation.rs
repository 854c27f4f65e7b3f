//! Evaluation scenarios, one rule at a time, on the example protocols.
//!
//! MPPT20 lots of 120 units: the plan asks for 20 units and accepts no nonconforming
//! one; two qualified reviewers from two communities other than Kestrel (the producer).
//!
//! Every attestation is signed by its reviewer's key and verified with its badges (see
//! `common`): a failing result, an old date or a missing badge is signed content.

use guildmark_credentials::report::Outcome;
use guildmark_review_protocols::attestation::Recorded;
use guildmark_review_protocols::evaluation::{BatchError, Standing};
use guildmark_review_protocols::{
    evaluate, Batch, Evaluation, Protocol, ReviewerVerdict, Rule, Verdict, VerifiedAttestation,
};

use crate::common::*;

fn mppt() -> (Protocol, Batch) {
    let p = protocol("mppt20-batch-qa");
    let b = batch(&p, 120);
    (p, b)
}

fn run(p: &Protocol, b: &Batch, attestations: &[VerifiedAttestation]) -> Evaluation {
    evaluate(p, b, attestations, now()).unwrap()
}

fn outcome(e: &Evaluation, rule: Rule) -> Outcome {
    e.reason(rule).unwrap().outcome
}

fn findings(e: &Evaluation, id: &str) -> String {
    let a = e.attestations.iter().find(|a| a.id == id).unwrap();
    a.findings
        .iter()
        .map(|f| format!("{}: {}\n", f.rule.as_str(), f.message))
        .collect()
}

#[test]
fn two_independent_qualified_reviewers_certify() {
    let (p, b) = mppt();
    let e = run(
        &p,
        &b,
        &[
            passing(
                "urn:a:1",
                power_reviewer_from("ada", "ironbridge"),
                &p,
                &b,
                20,
            ),
            passing("urn:a:2", power_reviewer_from("bo", "lumen"), &p, &b, 20),
        ],
    );
    assert_eq!(e.verdict, Verdict::Certified, "{e}");
    assert_eq!((e.sample, e.accept, e.passing), (20, 0, 2));
    assert_eq!(e.communities, sorted([ironbridge().did(), lumen().did()]));
    assert!(
        e.reasons.iter().all(|r| r.outcome == Outcome::Passed),
        "{e}"
    );
    assert!(e.missing.is_empty());
    assert_eq!(e.reasons.len(), 12, "one reason per rule");
}

#[test]
fn one_reviewer_is_pending_and_says_what_is_missing() {
    let (p, b) = mppt();
    let e = run(
        &p,
        &b,
        &[passing(
            "urn:a:1",
            power_reviewer_from("ada", "ironbridge"),
            &p,
            &b,
            20,
        )],
    );
    assert_eq!(e.verdict, Verdict::Pending, "{e}");
    assert_eq!(outcome(&e, Rule::Quorum), Outcome::Failed);
    assert_eq!(outcome(&e, Rule::Communities), Outcome::Failed);
    assert_eq!(e.missing.len(), 1);
    let missing = &e.missing[0];
    assert!(
        missing.starts_with("needs 1 more qualified reviewer (holding "),
        "{missing}"
    );
    assert!(
        missing.ends_with(&format!(
            "to pass the batch from a community other than {}, {}",
            ironbridge().did(),
            kestrel().did()
        )),
        "{missing}"
    );
}

#[test]
fn no_attestations_is_pending_with_unknown_rules() {
    let (p, b) = mppt();
    let e = run(&p, &b, &[]);
    assert_eq!(e.verdict, Verdict::Pending);
    assert_eq!(outcome(&e, Rule::Qualification), Outcome::Unknown);
    assert!(
        e.missing[0].starts_with("needs 2 more qualified reviewers"),
        "{}",
        e.missing[0]
    );
    assert!(
        e.missing[0].contains(&format!(
            "from distinct communities other than {}",
            kestrel().did()
        )),
        "{}",
        e.missing[0]
    );
}

#[test]
fn two_reviewers_of_one_community_are_not_two_communities() {
    let (p, b) = mppt();
    let e = run(
        &p,
        &b,
        &[
            passing(
                "urn:a:1",
                power_reviewer_from("ada", "ironbridge"),
                &p,
                &b,
                20,
            ),
            passing(
                "urn:a:2",
                power_reviewer_from("cy", "ironbridge"),
                &p,
                &b,
                20,
            ),
        ],
    );
    assert_eq!(e.verdict, Verdict::Pending, "{e}");
    assert_eq!(outcome(&e, Rule::Quorum), Outcome::Passed);
    assert_eq!(outcome(&e, Rule::Communities), Outcome::Failed);
    assert!(
        e.missing[0].contains(&format!(
            "from a community other than {}, {}",
            ironbridge().did(),
            kestrel().did()
        )),
        "{}",
        e.missing[0]
    );
}

#[test]
fn a_person_vouched_for_by_two_communities_stands_for_one() {
    let (p, b) = mppt();
    let both =
        power_reviewer_from("ada", "ironbridge").badge(lumen(), &power_reviewer("lumen"), None);
    // Ada could stand for Lumen and Cy for Ironbridge: a matching finds that.
    let e = run(
        &p,
        &b,
        &[
            passing("urn:a:1", both.clone(), &p, &b, 20),
            passing(
                "urn:a:2",
                power_reviewer_from("cy", "ironbridge"),
                &p,
                &b,
                20,
            ),
        ],
    );
    assert_eq!(e.verdict, Verdict::Certified, "{e}");
    // Alone, Ada is one person: one community, however many vouch for her.
    let e = run(&p, &b, &[passing("urn:a:1", both, &p, &b, 20)]);
    assert_eq!(e.verdict, Verdict::Pending, "{e}");
    assert_eq!(e.communities.len(), 1);
}

#[test]
fn the_same_key_counts_once() {
    let (p, b) = mppt();
    let ada = power_reviewer_from("ada", "ironbridge");
    // The same key, citing only a Lumen badge this time.
    let ada_again = reviewer("ada", lumen(), &power_reviewer("lumen"));
    assert_eq!(ada_again.did(), ada.did());
    let e = run(
        &p,
        &b,
        &[
            passing("urn:a:1", ada, &p, &b, 20),
            passing("urn:a:2", ada_again, &p, &b, 20),
        ],
    );
    assert_eq!(e.verdict, Verdict::Pending, "{e}");
    assert_eq!(e.passing, 1);
    assert_eq!(e.attestations[0].person, e.attestations[1].person);
}

#[test]
fn one_person_with_two_keys_counts_once() {
    let (p, b) = mppt();
    // Both keys' badges carry Ironbridge's member identifier 17: the old key's reviewer
    // badge, the new key's Ironbridge membership badge.
    let key1 = signer("ada-old").badge(
        ironbridge(),
        &power_reviewer("ironbridge"),
        Some("member-17"),
    );
    let key2 = power_reviewer_from("ada-new", "lumen").badge(
        ironbridge(),
        &ironbridge().achievement("member"),
        Some("member-17"),
    );
    let e = run(
        &p,
        &b,
        &[
            passing("urn:a:1", key1, &p, &b, 20),
            passing("urn:a:2", key2, &p, &b, 20),
        ],
    );
    assert_eq!(e.verdict, Verdict::Pending, "{e}");
    assert_eq!(e.passing, 1);
}

#[test]
fn a_reviewer_from_the_producing_community_does_not_count() {
    let (p, b) = mppt();
    let e = run(
        &p,
        &b,
        &[
            passing(
                "urn:a:1",
                power_reviewer_from("ada", "ironbridge"),
                &p,
                &b,
                20,
            ),
            passing("urn:a:2", power_reviewer_from("kes", "kestrel"), &p, &b, 20),
        ],
    );
    assert_eq!(e.verdict, Verdict::Pending, "{e}");
    assert_eq!(outcome(&e, Rule::Independence), Outcome::Failed);
    assert!(
        findings(&e, "urn:a:2").contains("belongs to the producing community"),
        "{e}"
    );
}

#[test]
fn a_person_linked_to_the_producer_by_another_key_is_not_independent() {
    let (p, b) = mppt();
    // Dee is Lumen's member "dee" under both keys: the clean key's Lumen reviewer badge
    // and the producer key's Lumen membership badge say so.
    let clean_key = signer("dee-lumen").badge(lumen(), &power_reviewer("lumen"), Some("dee"));
    let producer_key = power_reviewer_from("dee-kestrel", "kestrel").badge(
        lumen(),
        &lumen().achievement("member"),
        Some("dee"),
    );
    let e = run(
        &p,
        &b,
        &[
            passing(
                "urn:a:1",
                power_reviewer_from("ada", "ironbridge"),
                &p,
                &b,
                20,
            ),
            passing("urn:a:2", clean_key.clone(), &p, &b, 20),
        ],
    );
    assert_eq!(e.verdict, Verdict::Certified, "{e}");
    let mut with_link = vec![
        passing(
            "urn:a:1",
            power_reviewer_from("ada", "ironbridge"),
            &p,
            &b,
            20,
        ),
        passing("urn:a:2", clean_key, &p, &b, 20),
    ];
    with_link.push(passing("urn:a:3", producer_key, &p, &b, 20));
    let e = run(&p, &b, &with_link);
    assert_eq!(e.verdict, Verdict::Pending, "{e}");
    assert!(
        findings(&e, "urn:a:2").contains("linked to the producing community"),
        "{e}"
    );
}

#[test]
fn a_failed_critical_step_rejects_whatever_the_others_say() {
    let (p, b) = mppt();
    let mut failing = draft("urn:a:3", power_reviewer_from("eve", "lumen"), &p, &b, 20);
    set(
        &mut failing.claims.results,
        "MP20-2611-0007",
        "reverse-polarity-battery",
        Recorded::Checked(false),
    );
    let e = run(
        &p,
        &b,
        &[
            passing(
                "urn:a:1",
                power_reviewer_from("ada", "ironbridge"),
                &p,
                &b,
                20,
            ),
            passing("urn:a:2", power_reviewer_from("bo", "lumen"), &p, &b, 20),
            failing.sign(),
        ],
    );
    assert_eq!(e.verdict, Verdict::Rejected, "{e}");
    assert_eq!(outcome(&e, Rule::Decision), Outcome::Failed);
    let found = findings(&e, "urn:a:3");
    assert!(
        found.contains(
            "unit \"MP20-2611-0007\", critical step reverse-polarity-battery: check failed"
        ),
        "{found}"
    );
    assert!(
        found.contains("the reviewer's verdict is pass, but the results fail"),
        "{found}"
    );
    assert_eq!(e.attestations[2].standing, Standing::FailsCritical);
}

#[test]
fn one_nonconforming_unit_rejects_when_the_plan_accepts_none() {
    let (p, b) = mppt();
    let mut failing = draft(
        "urn:a:1",
        power_reviewer_from("ada", "ironbridge"),
        &p,
        &b,
        20,
    );
    set(
        &mut failing.claims.results,
        "MP20-2611-0003",
        "no-load-current",
        measured("15.1 mA"),
    );
    failing.claims.verdict = ReviewerVerdict::Fail;
    let e = run(
        &p,
        &b,
        &[
            failing.sign(),
            passing("urn:a:2", power_reviewer_from("bo", "lumen"), &p, &b, 20),
        ],
    );
    assert_eq!(e.verdict, Verdict::Rejected, "{e}");
    let found = findings(&e, "urn:a:1");
    assert!(
        found.contains("step no-load-current: 15.1 mA outside ≤ 15 mA"),
        "{found}"
    );
    assert!(
        found.contains("1 nonconforming units; the plan accepts 0"),
        "{found}"
    );
    assert_eq!(e.attestations[0].nonconforming, 1);
}

#[test]
fn the_acceptance_number_allows_that_many_nonconforming_units() {
    let p = protocol("mppt20-batch-qa");
    let b = batch(&p, 200); // 32 units, accept 1
    let with = |bad: &[&str]| {
        let mut a = draft(
            "urn:a:1",
            power_reviewer_from("ada", "ironbridge"),
            &p,
            &b,
            32,
        );
        for serial in bad {
            set(
                &mut a.claims.results,
                serial,
                "output-ripple",
                measured("0.2 V"),
            );
        }
        let e = run(
            &p,
            &b,
            &[
                a.sign(),
                passing("urn:a:2", power_reviewer_from("bo", "lumen"), &p, &b, 32),
            ],
        );
        (e.verdict, e.attestations[0].nonconforming)
    };
    assert_eq!(with(&[]), (Verdict::Certified, 0));
    assert_eq!(with(&["MP20-2611-0001"]), (Verdict::Certified, 1));
    assert_eq!(
        with(&["MP20-2611-0001", "MP20-2611-0002"]),
        (Verdict::Rejected, 2)
    );
}

#[test]
fn units_convert_exactly_and_limits_are_inclusive() {
    let (p, b) = mppt();
    let verdict = |step: &str, value: &str| {
        let mut a = draft(
            "urn:a:1",
            power_reviewer_from("ada", "ironbridge"),
            &p,
            &b,
            20,
        );
        set(
            &mut a.claims.results,
            "MP20-2611-0001",
            step,
            measured(value),
        );
        run(
            &p,
            &b,
            &[
                a.sign(),
                passing("urn:a:2", power_reviewer_from("bo", "lumen"), &p, &b, 20),
            ],
        )
        .verdict
    };
    for (step, value, expected) in [
        ("no-load-current", "0.015 A", Verdict::Certified),
        ("no-load-current", "15000 µA", Verdict::Certified),
        ("no-load-current", "0.0150001 A", Verdict::Rejected),
        ("absorption-voltage", "14300 mV", Verdict::Certified),
        ("absorption-voltage", "14.5 V", Verdict::Certified),
        ("absorption-voltage", "14.29 V", Verdict::Rejected),
        ("absorption-voltage", "14.501 V", Verdict::Rejected),
        // 11.1 V ± 1 %: 10.989 V … 11.211 V.
        ("low-voltage-disconnect", "10.989 V", Verdict::Certified),
        ("low-voltage-disconnect", "10.988 V", Verdict::Rejected),
        ("low-voltage-disconnect", "11211 mV", Verdict::Certified),
        ("efficiency-rated-load", "94.0 %", Verdict::Certified),
        ("efficiency-rated-load", "93.9 %", Verdict::Rejected),
        ("temperature-rise", "40 °C", Verdict::Certified),
        ("temperature-rise", "40.1 °C", Verdict::Rejected),
    ] {
        assert_eq!(verdict(step, value), expected, "{step} = {value}");
    }
}

#[test]
fn a_value_in_the_wrong_unit_is_not_a_result() {
    let (p, b) = mppt();
    let mut a = draft(
        "urn:a:1",
        power_reviewer_from("ada", "ironbridge"),
        &p,
        &b,
        20,
    );
    set(
        &mut a.claims.results,
        "MP20-2611-0001",
        "no-load-current",
        measured("12 mV"),
    );
    let e = run(&p, &b, &[a.sign()]);
    assert_eq!(e.attestations[0].standing, Standing::Incomplete, "{e}");
    let found = findings(&e, "urn:a:1");
    assert!(found.contains("mV cannot be compared with mA"), "{found}");
    assert!(
        found.contains("unit \"MP20-2611-0001\" has no result for no-load-current"),
        "{found}"
    );
}

#[test]
fn a_result_of_the_wrong_kind_is_not_a_result() {
    let (p, b) = mppt();
    let mut a = draft(
        "urn:a:1",
        power_reviewer_from("ada", "ironbridge"),
        &p,
        &b,
        20,
    );
    set(
        &mut a.claims.results,
        "MP20-2611-0001",
        "reverse-polarity-pv",
        measured("1 V"),
    );
    let e = run(&p, &b, &[a.sign()]);
    assert_eq!(e.attestations[0].standing, Standing::Incomplete);
    assert!(
        findings(&e, "urn:a:1").contains("expected passed: true or false"),
        "{e}"
    );
}

#[test]
fn too_small_a_sample_cannot_certify_but_its_failures_reject() {
    let (p, b) = mppt();
    let small = |id: &str, name: &str, community: &str| {
        draft(id, power_reviewer_from(name, community), &p, &b, 19)
    };
    let e = run(
        &p,
        &b,
        &[
            small("urn:a:1", "ada", "ironbridge").sign(),
            small("urn:a:2", "bo", "lumen").sign(),
        ],
    );
    assert_eq!(e.verdict, Verdict::Pending, "{e}");
    assert_eq!(outcome(&e, Rule::Sampling), Outcome::Failed);
    assert!(findings(&e, "urn:a:1")
        .contains("19 distinct units of the batch inspected; the plan asks for 20"));

    let mut failing = small("urn:a:3", "eve", "lumen");
    set(
        &mut failing.claims.results,
        "MP20-2611-0002",
        "efficiency-rated-load",
        measured("90 %"),
    );
    let e = run(&p, &b, &[failing.sign()]);
    assert_eq!(e.verdict, Verdict::Rejected, "{e}");
}

#[test]
fn units_outside_the_batch_or_listed_twice_do_not_count() {
    let (p, b) = mppt();
    let mut a = draft(
        "urn:a:1",
        power_reviewer_from("ada", "ironbridge"),
        &p,
        &b,
        19,
    );
    let mut sampled = a.claims.sampled.clone();
    sampled.push("MP20-2611-0001".into());
    sampled.push("FAKE-0001".into());
    a.claims
        .results
        .extend(passing_results(&p, &["FAKE-0001".to_owned()]));
    a.claims.sampled = sampled;
    let e = run(&p, &b, &[a.sign()]);
    let found = findings(&e, "urn:a:1");
    assert!(
        found.contains("unit \"FAKE-0001\" is not in the batch"),
        "{found}"
    );
    assert!(
        found.contains("unit \"MP20-2611-0001\" is listed twice"),
        "{found}"
    );
    assert_eq!(e.attestations[0].inspected, 19);
    assert_eq!(e.attestations[0].standing, Standing::Incomplete);
}

#[test]
fn a_missing_required_result_leaves_the_attestation_incomplete() {
    let (p, b) = mppt();
    let mut a = draft(
        "urn:a:1",
        power_reviewer_from("ada", "ironbridge"),
        &p,
        &b,
        20,
    );
    a.claims
        .results
        .retain(|r| !(r.serial == "MP20-2611-0005" && r.step == "temperature-rise"));
    // Optional steps may be left out.
    a.claims
        .results
        .retain(|r| r.step != "output-ripple" && r.step != "notes");
    let e = run(&p, &b, &[a.sign()]);
    assert_eq!(e.attestations[0].standing, Standing::Incomplete);
    let found = findings(&e, "urn:a:1");
    assert_eq!(
        found,
        "results: unit \"MP20-2611-0005\" has no result for temperature-rise\n"
    );
}

#[test]
fn results_for_unknown_steps_or_unsampled_units_are_reported() {
    let (p, b) = mppt();
    let mut a = draft(
        "urn:a:1",
        power_reviewer_from("ada", "ironbridge"),
        &p,
        &b,
        20,
    );
    a.claims
        .results
        .push(guildmark_review_protocols::StepResult {
            serial: "MP20-2611-0001".into(),
            step: "smoke-test".into(),
            recorded: Recorded::Checked(true),
        });
    a.claims
        .results
        .extend(passing_results(&p, &["MP20-2611-0099".to_owned()]));
    let e = run(&p, &b, &[a.sign()]);
    let found = findings(&e, "urn:a:1");
    assert!(
        found.contains("a result for \"smoke-test\", which is not a step"),
        "{found}"
    );
    assert!(
        found.contains("a result for unit \"MP20-2611-0099\", which is not listed as sampled"),
        "{found}"
    );
    // They do not make a complete attestation fail.
    assert_eq!(e.attestations[0].standing, Standing::Passes);
}

#[test]
fn conflicting_results_for_one_unit_take_the_failing_one() {
    let (p, b) = mppt();
    let mut a = draft(
        "urn:a:1",
        power_reviewer_from("ada", "ironbridge"),
        &p,
        &b,
        20,
    );
    a.claims
        .results
        .push(guildmark_review_protocols::StepResult {
            serial: "MP20-2611-0001".into(),
            step: "no-load-current".into(),
            recorded: measured("30 mA"),
        });
    let e = run(&p, &b, &[a.sign()]);
    assert_eq!(e.attestations[0].standing, Standing::Fails, "{e}");
}

#[test]
fn an_unqualified_reviewer_counts_neither_way() {
    let (p, b) = mppt();
    // Mal holds a Lumen badge the protocol does not ask for, and cites one he cannot show.
    let unqualified = reviewer(
        "mal",
        lumen(),
        "https://guildmark.example/lumen/achievements/soldering-l1",
    )
    .citing_missing("urn:uuid:x");
    let mut failing = draft("urn:a:2", unqualified.clone(), &p, &b, 20);
    set(
        &mut failing.claims.results,
        "MP20-2611-0001",
        "reverse-polarity-pv",
        Recorded::Checked(false),
    );
    let e = run(
        &p,
        &b,
        &[
            passing(
                "urn:a:1",
                power_reviewer_from("ada", "ironbridge"),
                &p,
                &b,
                20,
            ),
            passing("urn:a:3", unqualified, &p, &b, 20),
            failing.sign(),
        ],
    );
    assert_eq!(e.verdict, Verdict::Pending, "{e}");
    assert_eq!(outcome(&e, Rule::Qualification), Outcome::Failed);
    let found = findings(&e, "urn:a:3");
    assert!(found.contains("held none of https://guildmark.example/ironbridge/achievements/power-electronics-reviewer"), "{found}");
    assert!(
        found.contains("badge urn:uuid:x was cited but not given"),
        "{found}"
    );
}

#[test]
fn old_passes_expire_but_old_failures_still_reject() {
    let (p, b) = mppt();
    let mut old = draft("urn:a:2", power_reviewer_from("bo", "lumen"), &p, &b, 20);
    old.signed_at = time("2026-05-23T11:59:59Z"); // 181 days before now
    let fresh = passing(
        "urn:a:1",
        power_reviewer_from("ada", "ironbridge"),
        &p,
        &b,
        20,
    );
    let e = run(&p, &b, &[fresh.clone(), old.sign()]);
    assert_eq!(e.verdict, Verdict::Pending, "{e}");
    assert!(
        findings(&e, "urn:a:2").contains("more than 180 days before"),
        "{e}"
    );

    old.signed_at = time("2026-05-24T12:00:00Z"); // exactly 180 days
    assert_eq!(
        run(&p, &b, &[fresh.clone(), old.sign()]).verdict,
        Verdict::Certified
    );

    old.signed_at = time("2025-01-01T00:00:00Z");
    old.claims.verdict = ReviewerVerdict::Fail;
    assert_eq!(run(&p, &b, &[fresh, old.sign()]).verdict, Verdict::Rejected);
}

#[test]
fn attestations_of_other_batches_protocols_or_the_future_are_irrelevant() {
    let (p, b) = mppt();
    let mut other_batch = draft("urn:a:2", power_reviewer_from("bo", "lumen"), &p, &b, 20);
    other_batch.claims.id = "https://guildmark.example/kestrel/batches/other".into();
    let mut other_protocol = draft("urn:a:3", power_reviewer_from("cy", "lumen"), &p, &b, 20);
    other_protocol.claims.protocol.digest = protocol("soldering-l1").hash();
    let mut future = draft("urn:a:4", power_reviewer_from("dee", "lumen"), &p, &b, 20);
    future.signed_at = time("2026-11-21T00:00:00Z");
    let e = run(
        &p,
        &b,
        &[
            passing(
                "urn:a:1",
                power_reviewer_from("ada", "ironbridge"),
                &p,
                &b,
                20,
            ),
            other_batch.sign(),
            other_protocol.sign(),
            future.sign(),
        ],
    );
    assert_eq!(e.verdict, Verdict::Pending, "{e}");
    for (rule, id) in [
        (Rule::Batch, "urn:a:2"),
        (Rule::Protocol, "urn:a:3"),
        (Rule::Time, "urn:a:4"),
    ] {
        assert_eq!(outcome(&e, rule), Outcome::Failed);
        assert!(e.reason(rule).unwrap().detail.contains(id));
        assert_eq!(
            e.attestations.iter().find(|a| a.id == id).unwrap().standing,
            Standing::Irrelevant
        );
    }
}

#[test]
fn a_reviewer_who_says_fail_fails_even_with_good_numbers() {
    let (p, b) = mppt();
    let mut a = draft(
        "urn:a:1",
        power_reviewer_from("ada", "ironbridge"),
        &p,
        &b,
        20,
    );
    a.claims.verdict = ReviewerVerdict::Fail;
    let e = run(
        &p,
        &b,
        &[
            a.sign(),
            passing("urn:a:2", power_reviewer_from("bo", "lumen"), &p, &b, 20),
        ],
    );
    assert_eq!(e.verdict, Verdict::Rejected, "{e}");
    assert!(findings(&e, "urn:a:1").contains("the reviewer's verdict is fail"));
}

#[test]
fn a_failing_person_does_not_also_count_as_passing() {
    let soldering = protocol("soldering-l1");
    // The candidate's did:key is the one "serial" of the assessment.
    let candidate = signer("candidate").did().to_owned();
    let assessment = Batch {
        id: "https://guildmark.example/lumen/assessments/42".into(),
        producer: lumen().did().into(),
        product: None,
        protocol: soldering.hash(),
        lot_size: 1,
        serials: vec![candidate.clone()],
    };
    let assessor = |name: &str| {
        reviewer(
            name,
            lumen(),
            "https://guildmark.example/lumen/achievements/soldering-l2",
        )
    };
    let attempt = |id: &str, name: &str| draft(id, assessor(name), &soldering, &assessment, 1);
    let pass = |id: &str, name: &str| attempt(id, name).sign();
    let mut shaky = attempt("urn:s:2", "bea");
    set(
        &mut shaky.claims.results,
        &candidate,
        "acceptable-joints",
        measured("94.1 %"),
    );
    let shaky = shaky.sign();
    // Critical-only: a non-critical shortfall does not reject, but Bea is not passing.
    let e = run(
        &soldering,
        &assessment,
        &[pass("urn:s:1", "al"), shaky.clone()],
    );
    assert_eq!(e.verdict, Verdict::Pending, "{e}");
    assert_eq!(e.passing, 1);
    // Bea passing on a second try does not make her count: her failure stands.
    let e = run(
        &soldering,
        &assessment,
        &[pass("urn:s:1", "al"), shaky.clone(), pass("urn:s:3", "bea")],
    );
    assert_eq!(e.verdict, Verdict::Pending, "{e}");
    assert!(
        findings(&e, "urn:s:3").contains("the same person's attestation urn:s:2 fails"),
        "{e}"
    );
    // A third assessor decides.
    let e = run(
        &soldering,
        &assessment,
        &[pass("urn:s:1", "al"), shaky.clone(), pass("urn:s:4", "cal")],
    );
    assert_eq!(e.verdict, Verdict::Certified, "{e}");
    // Unsafe work rejects at once.
    let mut unsafe_work = attempt("urn:s:5", "dot");
    set(
        &mut unsafe_work.claims.results,
        &candidate,
        "safety",
        Recorded::Checked(false),
    );
    let e = run(
        &soldering,
        &assessment,
        &[
            pass("urn:s:1", "al"),
            pass("urn:s:4", "cal"),
            unsafe_work.sign(),
        ],
    );
    assert_eq!(e.verdict, Verdict::Rejected, "{e}");
}

#[test]
fn every_battery_pack_is_tested() {
    let battery = protocol("laptop-battery-refurb");
    let mut lot = batch(&battery, 6);
    lot.serials = (1..=6).map(|i| format!("BAT-{i}")).collect();
    let tester = reviewer(
        "fin",
        lumen(),
        "https://guildmark.example/lumen/achievements/battery-safety",
    );
    let e = run(
        &battery,
        &lot,
        &[passing("urn:b:1", tester.clone(), &battery, &lot, 5)],
    );
    assert_eq!(e.verdict, Verdict::Pending, "{e}");
    assert_eq!(e.sample, 6);
    let e = run(
        &battery,
        &lot,
        &[passing("urn:b:1", tester.clone(), &battery, &lot, 6)],
    );
    assert_eq!(e.verdict, Verdict::Certified, "{e}");
    let mut weak = draft("urn:b:2", tester, &battery, &lot, 6);
    set(
        &mut weak.claims.results,
        "BAT-4",
        "capacity",
        measured("3950 mAh"),
    );
    let e = run(&battery, &lot, &[weak.sign()]);
    assert_eq!(e.verdict, Verdict::Rejected, "{e}");
}

#[test]
fn batch_facts_are_checked_before_anything_else() {
    let (p, b) = mppt();
    let mut other = b.clone();
    other.protocol = protocol("soldering-l1").hash();
    assert!(matches!(
        evaluate(&p, &other, &[], now()),
        Err(BatchError::OtherProtocol { .. })
    ));
    let mut short = b.clone();
    short.serials.pop();
    assert_eq!(
        evaluate(&p, &short, &[], now()).unwrap_err().to_string(),
        "the lot size is 120 but 119 serial numbers are listed"
    );
    let mut twice = b.clone();
    twice.serials[1] = twice.serials[0].clone();
    assert!(matches!(
        evaluate(&p, &twice, &[], now()),
        Err(BatchError::Serial(_))
    ));
    let mut empty = b.clone();
    empty.lot_size = 0;
    empty.serials.clear();
    assert!(matches!(
        evaluate(&p, &empty, &[], now()),
        Err(BatchError::NotCovered(0))
    ));
    let capped = Protocol::parse(
        &crate::common::source("mppt20-batch-qa").replace("\"3201+\"", "\"3201-5000\""),
    )
    .unwrap();
    let big = batch(&capped, 5001);
    assert!(matches!(
        evaluate(&capped, &big, &[], now()),
        Err(BatchError::NotCovered(5001))
    ));
}

#[test]
fn the_evaluation_serializes_and_reads_back() {
    let (p, b) = mppt();
    let e = run(
        &p,
        &b,
        &[passing(
            "urn:a:1",
            power_reviewer_from("ada", "ironbridge"),
            &p,
            &b,
            20,
        )],
    );
    let json = serde_json::to_value(&e).unwrap();
    assert_eq!(json["verdict"], "pending");
    assert_eq!(json["reasons"][0]["rule"], "batch");
    assert_eq!(json["reasons"][0]["outcome"], "passed");
    assert_eq!(json["attestations"][0]["standing"], "passes");
    let back: Evaluation = serde_json::from_value(json).unwrap();
    assert_eq!(back, e);
}

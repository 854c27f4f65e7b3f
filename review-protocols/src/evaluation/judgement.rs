//! Judging one attestation on its own: relevance, qualification, independence, age,
//! sampling, completeness and limits.

use std::collections::{BTreeMap, BTreeSet};

use guildmark_credentials::time::Timestamp;

use super::{Batch, Finding, Rule, Standing};
use crate::attestation::{Recorded, Reviewer, ReviewerVerdict, StepResult, VerifiedAttestation};
use crate::protocol::{Protocol, ProtocolHash};
use crate::reviewers::ReviewerRequirements;
use crate::sampling::Requirement;
use crate::step::{Bounds, Step, StepKind};

/// What one attestation showed, before persons are formed.
pub(super) struct Judged<'a> {
    pub(super) attestation: &'a VerifiedAttestation,
    pub(super) standing: Standing,
    pub(super) qualified: bool,
    pub(super) independent: bool,
    pub(super) fresh: bool,
    /// A pass that does not count because of the person's other attestations.
    pub(super) person_excluded: bool,
    pub(super) inspected: usize,
    pub(super) nonconforming: usize,
    pub(super) findings: Vec<Finding>,
}

impl Judged<'_> {
    pub(super) fn fails(&self) -> bool {
        matches!(self.standing, Standing::Fails | Standing::FailsCritical)
    }

    /// Counted failures need only a qualified reviewer; counted passes more.
    pub(super) fn counted(&self) -> bool {
        match self.standing {
            Standing::Fails | Standing::FailsCritical => self.qualified,
            Standing::Passes => {
                self.qualified && self.independent && self.fresh && !self.person_excluded
            }
            Standing::Incomplete | Standing::Irrelevant => false,
        }
    }
}

/// Judges one attestation on its own, rule by rule, in the order findings are reported.
pub(super) fn judge<'a>(
    protocol: &Protocol,
    hash: &ProtocolHash,
    batch: &Batch,
    serials: &BTreeSet<&str>,
    plan: Requirement,
    attestation: &'a VerifiedAttestation,
    at: Timestamp,
) -> Judged<'a> {
    let claims = attestation.claims();
    let reviewer = attestation.reviewer();
    let signed_at = attestation.signed_at();
    let requirements = &protocol.reviewers;
    let mut findings = Vec::new();

    let relevant = check_relevance(attestation, hash, batch, at, &mut findings);
    let qualified = check_qualification(requirements, reviewer, &mut findings);
    let independent = check_independence(requirements, reviewer, batch, &mut findings);
    let fresh = check_age(requirements, signed_at, at, &mut findings);
    let steps = &protocol.steps;
    let mut units = sampled_units(steps.len(), serials, plan, &claims.sampled, &mut findings);
    record_results(steps, serials, &claims.results, &mut units, &mut findings);
    let tally = tally_units(steps, &units, &mut findings);
    let too_many = check_evidence(plan, claims.verdict, &tally, &mut findings);

    let standing = if !relevant {
        Standing::Irrelevant
    } else if tally.critical {
        Standing::FailsCritical
    } else if too_many || claims.verdict == ReviewerVerdict::Fail {
        Standing::Fails
    } else if tally.incomplete || (units.len() as u64) < plan.sample {
        Standing::Incomplete
    } else {
        Standing::Passes
    };
    Judged {
        attestation,
        standing,
        qualified,
        independent,
        fresh,
        person_excluded: false,
        inspected: units.len(),
        nonconforming: tally.nonconforming,
        findings,
    }
}

/// Whether the attestation is about this batch, under this protocol, and signed by the
/// evaluation time; if not, it is irrelevant: neither a pass nor a failure.
fn check_relevance(
    attestation: &VerifiedAttestation,
    hash: &ProtocolHash,
    batch: &Batch,
    at: Timestamp,
    findings: &mut Vec<Finding>,
) -> bool {
    let claims = attestation.claims();
    let signed_at = attestation.signed_at();
    let mut finding = |rule: Rule, message: String| findings.push(Finding { rule, message });
    let mut relevant = true;
    if claims.id != batch.id {
        finding(
            Rule::Batch,
            format!("about batch {}, not this one", claims.id),
        );
        relevant = false;
    }
    if claims.protocol.digest != *hash {
        finding(
            Rule::Protocol,
            format!(
                "follows protocol {} ({}), not this one",
                claims.protocol.id, claims.protocol.digest
            ),
        );
        relevant = false;
    }
    if signed_at > at {
        finding(
            Rule::Time,
            format!("signed at {signed_at}, after the evaluation time"),
        );
        relevant = false;
    }
    relevant
}

/// Whether the reviewer held a required achievement when signing.
fn check_qualification(
    requirements: &ReviewerRequirements,
    reviewer: &Reviewer,
    findings: &mut Vec<Finding>,
) -> bool {
    let qualified = reviewer.holds_any(&requirements.achievements);
    if !qualified {
        let mut message = format!(
            "the reviewer held none of {} when signing",
            requirements.achievements.join(", ")
        );
        for why in &reviewer.unproven {
            message.push_str(&format!("; {why}"));
        }
        findings.push(Finding {
            rule: Rule::Qualification,
            message,
        });
    }
    qualified
}

/// Whether the reviewer is outside the producing community, when the protocol asks it.
fn check_independence(
    requirements: &ReviewerRequirements,
    reviewer: &Reviewer,
    batch: &Batch,
    findings: &mut Vec<Finding>,
) -> bool {
    let independent = !(requirements.independent_of_producer
        && reviewer.affiliations().any(|c| c == batch.producer));
    if !independent {
        findings.push(Finding {
            rule: Rule::Independence,
            message: format!(
                "the reviewer belongs to the producing community {}",
                batch.producer
            ),
        });
    }
    independent
}

/// Whether the attestation is no older at `at` than the protocol's maximum age.
fn check_age(
    requirements: &ReviewerRequirements,
    signed_at: Timestamp,
    at: Timestamp,
    findings: &mut Vec<Finding>,
) -> bool {
    let max_age = i64::from(requirements.max_age_days) * 86_400;
    let fresh = signed_at.plus_seconds(max_age) >= at;
    if !fresh {
        findings.push(Finding {
            rule: Rule::Age,
            message: format!(
                "signed at {signed_at}, more than {} days before {at}",
                requirements.max_age_days
            ),
        });
    }
    fresh
}

/// The sampled units that count: distinct serials of this batch, sorted by serial, with
/// nothing recorded yet; and whether there are as many as the plan asks.
fn sampled_units<'c, 'p>(
    steps: usize,
    serials: &BTreeSet<&str>,
    plan: Requirement,
    sampled: &'c [String],
    findings: &mut Vec<Finding>,
) -> Vec<(&'c str, UnitRecord<'p>)> {
    let mut finding = |rule: Rule, message: String| findings.push(Finding { rule, message });
    let mut units: BTreeMap<&str, UnitRecord> = BTreeMap::new();
    for serial in sampled {
        if !serials.contains(serial.as_str()) {
            finding(
                Rule::Sampling,
                format!("unit {serial:?} is not in the batch"),
            );
        } else if units
            .insert(serial.as_str(), UnitRecord::new(steps))
            .is_some()
        {
            finding(Rule::Sampling, format!("unit {serial:?} is listed twice"));
        }
    }
    // Sorted by serial, as the map was, for `find_unit`.
    let units: Vec<(&str, UnitRecord)> = units.into_iter().collect();
    if (units.len() as u64) < plan.sample {
        finding(
            Rule::Sampling,
            format!(
                "{} distinct units of the batch inspected; the plan asks for {}",
                units.len(),
                plan.sample
            ),
        );
    }
    units
}

/// Records each result on its unit: well formed (a sampled unit, a step of the protocol,
/// a value the step can judge) and, if so, within the step's limits or a failure.
fn record_results<'p>(
    steps: &'p [Step],
    serials: &BTreeSet<&str>,
    results: &[StepResult],
    units: &mut [(&str, UnitRecord<'p>)],
    findings: &mut Vec<Finding>,
) {
    let mut finding = |rule: Rule, message: String| findings.push(Finding { rule, message });
    let bounds: Vec<Bounds<'_>> = steps.iter().map(Step::bounds).collect();
    let mut last_unit = 0;
    let mut next_step = 0;
    for result in results {
        let Some(i) = find_unit(units, last_unit, &result.serial) else {
            if serials.contains(result.serial.as_str()) {
                finding(
                    Rule::Results,
                    format!(
                        "a result for unit {:?}, which is not listed as sampled",
                        result.serial
                    ),
                );
            }
            continue;
        };
        last_unit = i;
        let unit = &mut units[i].1;
        let Some(position) = find_step(steps, next_step, &result.step) else {
            finding(
                Rule::Results,
                format!(
                    "a result for {:?}, which is not a step of the protocol",
                    result.step
                ),
            );
            continue;
        };
        next_step = position + 1;
        let step = &steps[position];
        match bounds[position].accepts(&result.recorded) {
            Ok(within) => {
                unit.recorded[position] = true;
                if !within {
                    let why = why_outside(step, &result.recorded);
                    unit.failures.push((step.id.as_str(), step.critical, why));
                }
            }
            Err(e) => finding(
                Rule::Results,
                format!("unit {:?}, step {:?}: {e}", result.serial, step.id),
            ),
        }
    }
}

/// The unit `serial` in `units` (sorted by serial). Results come grouped by unit, so the
/// previous result's unit, `last`, is tried first.
fn find_unit(units: &[(&str, UnitRecord<'_>)], last: usize, serial: &str) -> Option<usize> {
    match units.get(last) {
        Some((s, _)) if *s == serial => Some(last),
        _ => units.binary_search_by(|(s, _)| (*s).cmp(serial)).ok(),
    }
}

/// The step `id` in `steps`. Results come in step order, so the step after the previous
/// result's, `next`, is tried first.
fn find_step(steps: &[Step], next: usize, id: &str) -> Option<usize> {
    if steps.get(next).is_some_and(|s| s.id == id) {
        Some(next)
    } else {
        steps.iter().position(|s| s.id == id)
    }
}

/// Why a result is outside its step's limits. Described only when it is a finding: the
/// check runs for every result.
fn why_outside(step: &Step, recorded: &Recorded) -> String {
    match (&step.kind, recorded) {
        (StepKind::Measurement { limits, .. }, Recorded::Measured(quantity)) => {
            format!("{quantity} outside {}", limits.describe())
        }
        _ => "check failed".to_owned(),
    }
}

/// What the units' records add up to.
struct Tally {
    /// Units with at least one failed step.
    nonconforming: usize,
    /// Whether a critical step failed on any unit.
    critical: bool,
    /// Whether a unit lacks a result for a required step.
    incomplete: bool,
}

/// Every sampled unit has a result for every required step, and every failure is listed;
/// a unit with any failure is nonconforming.
fn tally_units(
    steps: &[Step],
    units: &[(&str, UnitRecord<'_>)],
    findings: &mut Vec<Finding>,
) -> Tally {
    let mut finding = |rule: Rule, message: String| findings.push(Finding { rule, message });
    let mut tally = Tally {
        nonconforming: 0,
        critical: false,
        incomplete: false,
    };
    for (serial, unit) in units {
        let missing: Vec<&str> = steps
            .iter()
            .zip(&unit.recorded)
            .filter(|(s, recorded)| s.required && !**recorded)
            .map(|(s, _)| s.id.as_str())
            .collect();
        if !missing.is_empty() {
            tally.incomplete = true;
            finding(
                Rule::Results,
                format!("unit {serial:?} has no result for {}", missing.join(", ")),
            );
        }
        if !unit.failures.is_empty() {
            tally.nonconforming += 1;
        }
        for (step, is_critical, why) in &unit.failures {
            tally.critical |= is_critical;
            let kind = if *is_critical {
                "critical step"
            } else {
                "step"
            };
            finding(
                Rule::Limits,
                format!("unit {serial:?}, {kind} {step}: {why}"),
            );
        }
    }
    tally
}

/// Whether more units were nonconforming than the plan accepts (returned), and whether
/// the reviewer's verdict agrees with the evidence: a critical failure or too many
/// nonconforming units fail it.
fn check_evidence(
    plan: Requirement,
    verdict: ReviewerVerdict,
    tally: &Tally,
    findings: &mut Vec<Finding>,
) -> bool {
    let mut finding = |rule: Rule, message: String| findings.push(Finding { rule, message });
    let too_many = tally.nonconforming as u64 > plan.accept;
    if too_many {
        finding(
            Rule::Limits,
            format!(
                "{} nonconforming units; the plan accepts {}",
                tally.nonconforming, plan.accept
            ),
        );
    }
    let evidence_fails = tally.critical || too_many;
    if verdict == ReviewerVerdict::Pass && evidence_fails {
        finding(
            Rule::Limits,
            "the reviewer's verdict is pass, but the results fail".into(),
        );
    }
    if verdict == ReviewerVerdict::Fail && !evidence_fails {
        finding(Rule::Limits, "the reviewer's verdict is fail".into());
    }
    too_many
}

/// What was recorded on one unit.
struct UnitRecord<'a> {
    /// Per protocol step, in order: whether it has a result.
    recorded: Vec<bool>,
    failures: Vec<(&'a str, bool, String)>,
}

impl UnitRecord<'_> {
    fn new(steps: usize) -> Self {
        UnitRecord {
            recorded: vec![false; steps],
            failures: Vec::new(),
        }
    }
}

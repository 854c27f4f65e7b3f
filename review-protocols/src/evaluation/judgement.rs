//! Judging one attestation on its own: relevance, qualification, independence, age,
//! sampling, completeness and limits.

use std::collections::{BTreeMap, BTreeSet};

use guildmark_credentials::time::Timestamp;

use super::{Batch, Finding, Rule, Standing};
use crate::attestation::{Recorded, ReviewerVerdict, VerifiedAttestation};
use crate::protocol::{Protocol, ProtocolHash};
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

/// Judges one attestation on its own.
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
    let mut findings = Vec::new();
    let mut finding = |rule: Rule, message: String| findings.push(Finding { rule, message });

    let mut irrelevant = false;
    if claims.id != batch.id {
        finding(
            Rule::Batch,
            format!("about batch {}, not this one", claims.id),
        );
        irrelevant = true;
    }
    if claims.protocol.digest != *hash {
        finding(
            Rule::Protocol,
            format!(
                "follows protocol {} ({}), not this one",
                claims.protocol.id, claims.protocol.digest
            ),
        );
        irrelevant = true;
    }
    if signed_at > at {
        finding(
            Rule::Time,
            format!("signed at {signed_at}, after the evaluation time"),
        );
        irrelevant = true;
    }

    let requirements = &protocol.reviewers;
    let qualified = reviewer.holds_any(&requirements.achievements);
    if !qualified {
        let mut message = format!(
            "the reviewer held none of {} when signing",
            requirements.achievements.join(", ")
        );
        for why in &reviewer.unproven {
            message.push_str(&format!("; {why}"));
        }
        finding(Rule::Qualification, message);
    }
    let independent = !(requirements.independent_of_producer
        && reviewer.affiliations().any(|c| c == batch.producer));
    if !independent {
        finding(
            Rule::Independence,
            format!(
                "the reviewer belongs to the producing community {}",
                batch.producer
            ),
        );
    }
    let max_age = i64::from(requirements.max_age_days) * 86_400;
    let fresh = signed_at.plus_seconds(max_age) >= at;
    if !fresh {
        finding(
            Rule::Age,
            format!(
                "signed at {signed_at}, more than {} days before {at}",
                requirements.max_age_days
            ),
        );
    }

    // Units: distinct, sampled serials of this batch.
    let mut units: BTreeMap<&str, UnitRecord> = BTreeMap::new();
    for serial in &claims.sampled {
        if !serials.contains(serial.as_str()) {
            finding(
                Rule::Sampling,
                format!("unit {serial:?} is not in the batch"),
            );
        } else if units
            .insert(serial.as_str(), UnitRecord::new(protocol.steps.len()))
            .is_some()
        {
            finding(Rule::Sampling, format!("unit {serial:?} is listed twice"));
        }
    }
    // Sorted by serial, as the map was; looked up for every result, which come grouped by
    // unit and in step order, so the previous unit and the next step are tried first.
    let mut units: Vec<(&str, UnitRecord)> = units.into_iter().collect();
    let mut last_unit = 0;
    let bounds: Vec<Bounds<'_>> = protocol.steps.iter().map(Step::bounds).collect();
    let mut next_step = 0;
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

    for result in &claims.results {
        let found = match units.get(last_unit) {
            Some((serial, _)) if *serial == result.serial => Ok(last_unit),
            _ => units.binary_search_by(|(serial, _)| (*serial).cmp(result.serial.as_str())),
        };
        let Some((_, unit)) = found.ok().and_then(|i| {
            last_unit = i;
            units.get_mut(i)
        }) else {
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
        let guessed = protocol
            .steps
            .get(next_step)
            .is_some_and(|s| s.id == result.step);
        let position = if guessed {
            Some(next_step)
        } else {
            protocol.steps.iter().position(|s| s.id == result.step)
        };
        let Some(position) = position else {
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
        let step = &protocol.steps[position];
        let judged = match bounds[position].accepts(&result.recorded) {
            Ok(within) => {
                // Described only when it is a finding: this runs for every result.
                let why = match (&step.kind, &result.recorded) {
                    _ if within => String::new(),
                    (StepKind::Measurement { limits, .. }, Recorded::Measured(quantity)) => {
                        format!("{quantity} outside {}", limits.describe())
                    }
                    _ => "check failed".to_owned(),
                };
                Some((within, why))
            }
            Err(e) => {
                finding(
                    Rule::Results,
                    format!("unit {:?}, step {:?}: {e}", result.serial, step.id),
                );
                None
            }
        };
        if let Some((within, why)) = judged {
            unit.recorded[position] = true;
            if !within {
                unit.failures.push((step.id.as_str(), step.critical, why));
            }
        }
    }

    let mut nonconforming = 0;
    let mut critical = false;
    let mut incomplete = false;
    for (serial, unit) in &units {
        let missing: Vec<&str> = protocol
            .steps
            .iter()
            .zip(&unit.recorded)
            .filter(|(s, recorded)| s.required && !**recorded)
            .map(|(s, _)| s.id.as_str())
            .collect();
        if !missing.is_empty() {
            incomplete = true;
            finding(
                Rule::Results,
                format!("unit {serial:?} has no result for {}", missing.join(", ")),
            );
        }
        if !unit.failures.is_empty() {
            nonconforming += 1;
        }
        for (step, is_critical, why) in &unit.failures {
            critical |= is_critical;
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
    let too_many = nonconforming as u64 > plan.accept;
    if too_many {
        finding(
            Rule::Limits,
            format!(
                "{nonconforming} nonconforming units; the plan accepts {}",
                plan.accept
            ),
        );
    }
    let evidence_fails = critical || too_many;
    if claims.verdict == ReviewerVerdict::Pass && evidence_fails {
        finding(
            Rule::Limits,
            "the reviewer's verdict is pass, but the results fail".into(),
        );
    }
    if claims.verdict == ReviewerVerdict::Fail && !evidence_fails {
        finding(Rule::Limits, "the reviewer's verdict is fail".into());
    }
    let standing = if irrelevant {
        Standing::Irrelevant
    } else if critical {
        Standing::FailsCritical
    } else if too_many || claims.verdict == ReviewerVerdict::Fail {
        Standing::Fails
    } else if incomplete || (units.len() as u64) < plan.sample {
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
        nonconforming,
        findings,
    }
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

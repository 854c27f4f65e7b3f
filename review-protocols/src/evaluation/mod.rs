//! Evaluation: a protocol, the batch facts and verified attestations in, a verdict out,
//! with one reason per rule. A pure function: the same inputs give the same evaluation on
//! any machine, so anyone holding the credentials can redo it offline.
//!
//! # Rules decided here
//!
//! - An attestation *passes* only on complete evidence: at least the plan's sample of
//!   distinct units of this batch, a result for every required step on each, every value
//!   within limits (or at most the acceptance number of nonconforming units), and the
//!   reviewer's own verdict `pass`.
//! - An attestation *fails* as soon as its evidence decides it: a critical step failed on
//!   a unit of the batch, or more units were nonconforming than the acceptance number (a
//!   larger sample could only add more), or the reviewer's verdict is `fail`. Evidence on
//!   too small a sample can reject but never certify.
//! - A pass counts only from a qualified reviewer (holding a listed achievement when
//!   signing), independent of the producer when the protocol says so, and not older than
//!   the protocol's maximum age. A failure counts from any qualified reviewer, however old
//!   and even from the producing community: independence and age guard against
//!   self-certification and stale passes, not against reports of defects.
//! - One person counts once. Attestations signed by the same key, or whose badges carry
//!   the same member identifier from the same community, are one person; a person with
//!   any counted failure is not a passing reviewer, and a person linked to the producing
//!   community through any of their keys is not independent.
//! - Distinct communities are counted by a matching of passing persons to the communities
//!   that awarded them a required achievement in their counted passes, so one person never
//!   stands for two communities. Independence looks wider: a badge of any kind from the
//!   producing community, cited in any of the person's attestations, makes them affiliated.

use std::collections::BTreeSet;
use std::fmt;

use guildmark_credentials::report::Outcome;
use guildmark_credentials::time::Timestamp;
use serde::{Deserialize, Serialize};

use crate::attestation::VerifiedAttestation;
use crate::protocol::{Protocol, ProtocolHash};
use crate::reviewers::{DecisionRule, ReviewerRequirements};
use crate::sampling::Requirement;

mod judgement;
mod persons;
mod reasons;

use judgement::{judge, Judged};
use persons::{match_communities, Persons};
use reasons::reasons;

/// The facts of a batch under review, as its producer registered them.
///
/// For a skill assessment the "batch" is the assessment: a lot of one, whose serial is
/// the candidate's DID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Batch {
    /// The batch's URL, which attestations name as their subject.
    pub id: String,
    /// The producing community (the id its badges are issued under).
    pub producer: String,
    /// The product, for people reading the verdict.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub product: Option<String>,
    /// The protocol the batch is to be reviewed under.
    pub protocol: ProtocolHash,
    /// Number of units in the lot.
    pub lot_size: u64,
    /// Serial numbers of every unit in the lot.
    pub serials: Vec<String>,
}

/// Why a batch cannot be evaluated at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    /// The batch is registered under another protocol.
    #[error("the batch is to be reviewed under {batch}, not under this protocol ({protocol})")]
    OtherProtocol {
        /// The batch's protocol.
        batch: ProtocolHash,
        /// The protocol given.
        protocol: ProtocolHash,
    },
    /// The serial list does not match the lot size.
    #[error("the lot size is {lot_size} but {serials} serial numbers are listed")]
    SerialCount {
        /// The stated lot size.
        lot_size: u64,
        /// Serials listed.
        serials: usize,
    },
    /// A serial number is listed twice or is empty.
    #[error("serial number {0:?} is empty or listed twice")]
    Serial(String),
    /// The sampling plan has no row for this lot size.
    #[error("the sampling plan does not cover a lot of {0} units")]
    NotCovered(u64),
}

/// The outcome of a review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Enough qualified, independent reviewers passed and nothing rejects.
    Certified,
    /// A counted failure rejects the batch under the protocol's decision rule.
    Rejected,
    /// Not decided yet; [`Evaluation::missing`] says what is needed.
    Pending,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Certified => "certified",
            Verdict::Rejected => "rejected",
            Verdict::Pending => "pending",
        })
    }
}

/// The rules an evaluation reports on, in the order they are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// The attestation is about this batch.
    Batch,
    /// It cites this protocol's hash.
    Protocol,
    /// It was signed no later than the evaluation time.
    Time,
    /// The reviewer held a required achievement when signing.
    Qualification,
    /// The reviewer is independent of the producer.
    Independence,
    /// The attestation is not older than the protocol allows.
    Age,
    /// Enough distinct units of this batch were sampled.
    Sampling,
    /// Every required step has a well-formed result on every sampled unit.
    Results,
    /// The results are within limits.
    Limits,
    /// The decision rule: whether a counted failure rejects.
    Decision,
    /// Enough distinct passing persons.
    Quorum,
    /// From enough distinct communities.
    Communities,
}

impl Rule {
    /// The rule's name, as reports print it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Rule::Batch => "batch",
            Rule::Protocol => "protocol",
            Rule::Time => "time",
            Rule::Qualification => "qualification",
            Rule::Independence => "independence",
            Rule::Age => "age",
            Rule::Sampling => "sampling",
            Rule::Results => "results",
            Rule::Limits => "limits",
            Rule::Decision => "decision",
            Rule::Quorum => "quorum",
            Rule::Communities => "communities",
        }
    }
}

/// One rule's outcome over the whole evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// The rule.
    pub rule: Rule,
    /// Passed, failed, or unknown (no attestation to judge it on).
    pub outcome: Outcome,
    /// Why, naming attestations where it failed.
    pub detail: String,
}

/// What an attestation's evidence says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Standing {
    /// About another batch, another protocol, or signed after the evaluation time.
    Irrelevant,
    /// Complete evidence, all within the plan.
    Passes,
    /// A critical step failed.
    FailsCritical,
    /// Too many nonconforming units, or the reviewer's verdict is `fail`.
    Fails,
    /// Neither: too few units or missing results.
    Incomplete,
}

impl Standing {
    /// The standing in words, as reports print it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Standing::Irrelevant => "irrelevant",
            Standing::Passes => "passes",
            Standing::FailsCritical => "fails a critical step",
            Standing::Fails => "fails",
            Standing::Incomplete => "incomplete",
        }
    }
}

/// A problem found in one attestation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule concerned.
    pub rule: Rule,
    /// What is wrong.
    pub message: String,
}

/// How one attestation was judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttestationOutcome {
    /// The attestation's id.
    pub id: String,
    /// The key that signed it.
    pub reviewer: String,
    /// Which person it belongs to (1-based, in order of each person's first key).
    pub person: usize,
    /// What its evidence says.
    pub standing: Standing,
    /// Whether it counts toward the verdict.
    pub counted: bool,
    /// Distinct units of this batch it inspected.
    pub inspected: usize,
    /// How many of them were nonconforming.
    pub nonconforming: usize,
    /// Everything found wrong, by rule.
    pub findings: Vec<Finding>,
}

/// A verdict and how it was reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Evaluation {
    /// The verdict.
    pub verdict: Verdict,
    /// The protocol's hash.
    pub protocol: ProtocolHash,
    /// The batch's id.
    pub batch: String,
    /// Units to inspect and nonconforming units accepted, for this lot size.
    pub sample: u64,
    /// The acceptance number.
    pub accept: u64,
    /// The evaluation time (for attestation age).
    pub at: Timestamp,
    /// Distinct persons whose passes count toward the quorum.
    pub passing: usize,
    /// Communities those persons stand for (a maximum matching, one per person).
    pub communities: Vec<String>,
    /// One reason per rule.
    pub reasons: Vec<Reason>,
    /// For a pending verdict, what is still needed.
    pub missing: Vec<String>,
    /// Each attestation, in a canonical order.
    pub attestations: Vec<AttestationOutcome>,
}

impl Evaluation {
    /// The reason given for `rule`.
    pub fn reason(&self, rule: Rule) -> Option<&Reason> {
        self.reasons.iter().find(|r| r.rule == rule)
    }
}

impl fmt::Display for Evaluation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} — batch {} under {}",
            self.verdict.to_string().to_uppercase(),
            self.batch,
            self.protocol
        )?;
        writeln!(
            f,
            "plan: inspect {} units, accept {} nonconforming",
            self.sample, self.accept
        )?;
        for r in &self.reasons {
            writeln!(
                f,
                "  {:<7} {}: {}",
                r.outcome.as_str(),
                r.rule.as_str(),
                r.detail
            )?;
        }
        for m in &self.missing {
            writeln!(f, "missing: {m}")?;
        }
        for a in &self.attestations {
            let counted = if a.counted { "counted" } else { "not counted" };
            writeln!(
                f,
                "attestation {} by {} (person {}): {}, {counted}, {} units inspected, {} nonconforming",
                a.id,
                a.reviewer,
                a.person,
                a.standing.as_str(),
                a.inspected,
                a.nonconforming
            )?;
            for finding in &a.findings {
                writeln!(f, "    {}: {}", finding.rule.as_str(), finding.message)?;
            }
        }
        Ok(())
    }
}

/// Evaluates `attestations` of `batch` under `protocol`, as of `at`.
///
/// Only [`VerifiedAttestation`]s are accepted, which only verified credentials make: an
/// attestation whose signature or badges nobody checked cannot count toward a quorum.
pub fn evaluate(
    protocol: &Protocol,
    batch: &Batch,
    attestations: &[VerifiedAttestation],
    at: Timestamp,
) -> Result<Evaluation, BatchError> {
    evaluate_hashed(protocol, protocol.hash(), batch, attestations, at)
}

/// [`evaluate`] for a caller that already computed `hash = protocol.hash()` (hashing
/// canonicalizes the whole protocol).
pub fn evaluate_hashed(
    protocol: &Protocol,
    hash: ProtocolHash,
    batch: &Batch,
    attestations: &[VerifiedAttestation],
    at: Timestamp,
) -> Result<Evaluation, BatchError> {
    let (serials, plan) = check_batch(protocol, hash, batch)?;
    let ordered = canonical_order(attestations);
    let mut judged: Vec<Judged<'_>> = ordered
        .iter()
        .map(|a| judge(protocol, &hash, batch, &serials, plan, a, at))
        .collect();

    let persons = Persons::form(&judged);
    let requirements = &protocol.reviewers;
    let passing = passing_persons(requirements, batch, &persons, &mut judged);
    let matched = match_communities(&passing);
    let rejecting = rejecting_attestations(protocol.decision, &judged);

    let quorum = requirements.quorum as usize;
    let wanted_communities = requirements.distinct_communities as usize;
    let certified = passing.len() >= quorum && matched.len() >= wanted_communities;
    let verdict = if !rejecting.is_empty() {
        Verdict::Rejected
    } else if certified {
        Verdict::Certified
    } else {
        Verdict::Pending
    };
    let mut missing = Vec::new();
    if verdict == Verdict::Pending {
        missing.push(still_needed(requirements, batch, passing.len(), &matched));
    }

    let reasons = reasons(
        protocol,
        &judged,
        &rejecting,
        passing.len(),
        &matched,
        batch,
    );
    let outcomes = outcomes(&judged, &persons);
    Ok(Evaluation {
        verdict,
        protocol: hash,
        batch: batch.id.clone(),
        sample: plan.sample,
        accept: plan.accept,
        at,
        passing: passing.len(),
        communities: matched.iter().map(|c| c.to_string()).collect(),
        reasons,
        missing,
        attestations: outcomes,
    })
}

/// Whether the batch can be evaluated under this protocol at all: registered under it,
/// one distinct, non-empty serial per unit, and a lot the sampling plan covers. Returns
/// the serials and what the plan asks of this lot.
fn check_batch<'b>(
    protocol: &Protocol,
    hash: ProtocolHash,
    batch: &'b Batch,
) -> Result<(BTreeSet<&'b str>, Requirement), BatchError> {
    if batch.protocol != hash {
        return Err(BatchError::OtherProtocol {
            batch: batch.protocol,
            protocol: hash,
        });
    }
    if batch.serials.len() as u64 != batch.lot_size {
        return Err(BatchError::SerialCount {
            lot_size: batch.lot_size,
            serials: batch.serials.len(),
        });
    }
    let mut serials = BTreeSet::new();
    for serial in &batch.serials {
        if serial.is_empty() || !serials.insert(serial.as_str()) {
            return Err(BatchError::Serial(serial.clone()));
        }
    }
    let plan = protocol
        .sampling
        .requirement(batch.lot_size)
        .filter(|_| batch.lot_size > 0)
        .ok_or(BatchError::NotCovered(batch.lot_size))?;
    Ok((serials, plan))
}

/// The attestations in a canonical order, which makes the evaluation independent of the
/// order given.
fn canonical_order(attestations: &[VerifiedAttestation]) -> Vec<&VerifiedAttestation> {
    let mut ordered: Vec<&VerifiedAttestation> = attestations.iter().collect();
    ordered.sort_by(|a, b| {
        (a.id(), &a.reviewer().key, a.signed_at())
            .cmp(&(b.id(), &b.reviewer().key, b.signed_at()))
            .then_with(|| a.canonical_json().cmp(&b.canonical_json()))
    });
    ordered
}

/// The passing persons, each with the communities that qualified them in their counted
/// passes: a counted pass, no counted failure, and (when the protocol asks) independent
/// through every key. Whoever else has counted passes gets them excluded, with why.
fn passing_persons<'a>(
    requirements: &'a ReviewerRequirements,
    batch: &Batch,
    persons: &Persons,
    judged: &mut [Judged<'a>],
) -> Vec<(usize, BTreeSet<&'a str>)> {
    let mut passing: Vec<(usize, BTreeSet<&str>)> = Vec::new();
    for (person, members) in persons.members.iter().enumerate() {
        let any_failure = members
            .iter()
            .any(|&i| judged[i].counted() && judged[i].fails());
        let passes: Vec<usize> = members
            .iter()
            .copied()
            .filter(|&i| judged[i].counted() && judged[i].standing == Standing::Passes)
            .collect();
        let linked_to_producer = requirements.independent_of_producer
            && members.iter().any(|&i| {
                judged[i]
                    .attestation
                    .reviewer()
                    .affiliations()
                    .any(|c| c == batch.producer)
            });
        if !passes.is_empty() && !any_failure && !linked_to_producer {
            let vouched = passes
                .iter()
                .flat_map(|&i| {
                    judged[i]
                        .attestation
                        .reviewer()
                        .vouched_by(&requirements.achievements)
                })
                .collect();
            passing.push((person, vouched));
            continue;
        }
        exclude_passes(batch, members, judged);
    }
    passing
}

/// Marks the counted passes of a person who does not pass as not counted, saying why:
/// one of their attestations fails, or another of their keys links them to the producer.
fn exclude_passes(batch: &Batch, members: &[usize], judged: &mut [Judged<'_>]) {
    let failure = members
        .iter()
        .find(|&&i| judged[i].counted() && judged[i].fails());
    let why = match failure {
        Some(&f) => format!(
            "the same person's attestation {} fails",
            judged[f].attestation.id()
        ),
        None => format!(
            "the same person is linked to the producing community {} through another key",
            batch.producer
        ),
    };
    for &i in members {
        if judged[i].counted() && judged[i].standing == Standing::Passes {
            judged[i].person_excluded = true;
            judged[i].findings.push(Finding {
                rule: Rule::Quorum,
                message: format!("not counted: {why}"),
            });
        }
    }
}

/// The counted attestations that reject the batch under the protocol's decision rule.
fn rejecting_attestations<'j, 'a>(
    rule: DecisionRule,
    judged: &'j [Judged<'a>],
) -> Vec<&'j Judged<'a>> {
    judged
        .iter()
        .filter(|j| j.counted())
        .filter(|j| match rule {
            DecisionRule::AnyFailureRejects => j.fails(),
            DecisionRule::CriticalFailureRejects => j.standing == Standing::FailsCritical,
        })
        .collect()
}

/// What a pending review still needs: how many more qualified reviewers, and from which
/// communities (not those already matched, nor the producer when it is excluded).
fn still_needed(
    requirements: &ReviewerRequirements,
    batch: &Batch,
    passing: usize,
    matched: &BTreeSet<&str>,
) -> String {
    let more_people = (requirements.quorum as usize).saturating_sub(passing);
    let more_communities =
        (requirements.distinct_communities as usize).saturating_sub(matched.len());
    let needed = more_people.max(more_communities);
    let mut excluded: Vec<&str> = matched.iter().copied().collect();
    if requirements.independent_of_producer && !excluded.contains(&batch.producer.as_str()) {
        excluded.push(batch.producer.as_str());
    }
    let reviewers = if needed == 1 { "reviewer" } else { "reviewers" };
    let achievements = requirements.achievements.join(" or ");
    let mut text = format!(
        "needs {needed} more qualified {reviewers} (holding {achievements}) to pass the batch"
    );
    if more_communities > 0 {
        let from = if more_communities == needed {
            String::new()
        } else {
            format!(", {more_communities} of them")
        };
        let communities = if more_communities == 1 {
            "a community"
        } else {
            "distinct communities"
        };
        text.push_str(&format!(
            "{from} from {communities} other than {}",
            excluded.join(", ")
        ));
    } else if requirements.independent_of_producer {
        text.push_str(&format!(
            ", not from the producing community {}",
            batch.producer
        ));
    }
    text
}

/// Each attestation's outcome, in the canonical order, with its person numbered from 1.
fn outcomes(judged: &[Judged<'_>], persons: &Persons) -> Vec<AttestationOutcome> {
    judged
        .iter()
        .enumerate()
        .map(|(i, j)| AttestationOutcome {
            id: j.attestation.id().to_owned(),
            reviewer: j.attestation.reviewer().key.clone(),
            person: persons.of[i] + 1,
            standing: j.standing,
            counted: j.counted(),
            inspected: j.inspected,
            nonconforming: j.nonconforming,
            findings: j.findings.clone(),
        })
        .collect()
}

//! The reasons of an evaluation: one per rule, naming the attestations that fail it.

use std::collections::BTreeSet;

use guildmark_credentials::report::Outcome;

use super::judgement::Judged;
use super::{Batch, Reason, Rule, Standing};
use crate::protocol::Protocol;
use crate::reviewers::DecisionRule;

/// The rules judged attestation by attestation, in report order.
const PER_ATTESTATION: [Rule; 9] = [
    Rule::Batch,
    Rule::Protocol,
    Rule::Time,
    Rule::Qualification,
    Rule::Independence,
    Rule::Age,
    Rule::Sampling,
    Rule::Results,
    Rule::Limits,
];

/// One reason per rule.
pub(super) fn reasons(
    protocol: &Protocol,
    judged: &[Judged<'_>],
    rejecting: &[&Judged<'_>],
    passing: usize,
    matched: &BTreeSet<&str>,
    batch: &Batch,
) -> Vec<Reason> {
    let relevant: Vec<&Judged<'_>> = judged
        .iter()
        .filter(|j| j.standing != Standing::Irrelevant)
        .collect();
    let mut reasons: Vec<Reason> = PER_ATTESTATION
        .into_iter()
        .map(|rule| {
            // Relevance rules look at every attestation; the others at the relevant ones.
            let pool: Vec<&Judged<'_>> =
                if matches!(rule, Rule::Batch | Rule::Protocol | Rule::Time) {
                    judged.iter().collect()
                } else {
                    relevant.clone()
                };
            per_attestation(rule, &pool)
        })
        .collect();
    reasons.push(decision(protocol, rejecting));
    reasons.push(quorum(protocol, passing));
    reasons.push(communities(protocol, matched, batch));
    reasons
}

/// Rule `rule` over the attestations in `pool`: passed when none fails it, naming those
/// that do otherwise.
fn per_attestation(rule: Rule, pool: &[&Judged<'_>]) -> Reason {
    let offending: Vec<&str> = pool
        .iter()
        .filter(|j| j.findings.iter().any(|f| f.rule == rule))
        .map(|j| j.attestation.id())
        .collect();
    let (outcome, detail) = if pool.is_empty() {
        (Outcome::Unknown, "no attestation to judge".to_owned())
    } else if offending.is_empty() {
        (
            Outcome::Passed,
            format!("{}: {}", attestations(pool.len()), rule_holds(rule)),
        )
    } else {
        (
            Outcome::Failed,
            format!(
                "{} of {} fail it: {}",
                offending.len(),
                attestations(pool.len()),
                offending.join(", ")
            ),
        )
    };
    Reason {
        rule,
        outcome,
        detail,
    }
}

/// The decision rule: failed when a counted attestation rejects the batch.
fn decision(protocol: &Protocol, rejecting: &[&Judged<'_>]) -> Reason {
    if rejecting.is_empty() {
        return Reason {
            rule: Rule::Decision,
            outcome: Outcome::Passed,
            detail: "no counted attestation rejects the batch".into(),
        };
    }
    Reason {
        rule: Rule::Decision,
        outcome: Outcome::Failed,
        detail: format!(
            "{} counted attestation(s) reject the batch ({}): {}",
            rejecting.len(),
            match protocol.decision {
                DecisionRule::AnyFailureRejects => "any failure rejects",
                DecisionRule::CriticalFailureRejects => "a failed critical step rejects",
            },
            rejecting
                .iter()
                .map(|j| j.attestation.id())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The quorum: enough distinct qualified, independent persons passed the batch.
fn quorum(protocol: &Protocol, passing: usize) -> Reason {
    let quorum = protocol.reviewers.quorum;
    Reason {
        rule: Rule::Quorum,
        outcome: if passing >= quorum as usize {
            Outcome::Passed
        } else {
            Outcome::Failed
        },
        detail: format!(
            "{passing} of {quorum} distinct qualified, independent persons passed the batch"
        ),
    }
}

/// The communities rule: the passing persons came from enough distinct communities.
fn communities(protocol: &Protocol, matched: &BTreeSet<&str>, batch: &Batch) -> Reason {
    let r = &protocol.reviewers;
    let names: Vec<&str> = matched.iter().copied().collect();
    Reason {
        rule: Rule::Communities,
        outcome: if matched.len() >= r.distinct_communities as usize {
            Outcome::Passed
        } else {
            Outcome::Failed
        },
        detail: format!(
            "{} of {} distinct communities among them{}{}",
            matched.len(),
            r.distinct_communities,
            if names.is_empty() {
                String::new()
            } else {
                format!(": {}", names.join(", "))
            },
            if r.independent_of_producer {
                format!(" (producer {} excluded)", batch.producer)
            } else {
                String::new()
            }
        ),
    }
}

/// "1 attestation", "3 attestations".
fn attestations(n: usize) -> String {
    format!("{n} attestation{}", if n == 1 { "" } else { "s" })
}

fn rule_holds(rule: Rule) -> &'static str {
    match rule {
        Rule::Batch => "all about this batch",
        Rule::Protocol => "all cite this protocol's hash",
        Rule::Time => "all signed before the evaluation time",
        Rule::Qualification => "every reviewer held a required achievement when signing",
        Rule::Independence => "every reviewer independent of the producer",
        Rule::Age => "all within the maximum age",
        Rule::Sampling => "all inspected enough distinct units of this batch",
        Rule::Results => "all have a well-formed result for every required step",
        Rule::Limits => "every result within limits",
        Rule::Decision | Rule::Quorum | Rule::Communities => "",
    }
}

//! The reasons of an evaluation: one per rule, naming the attestations that fail it.

use std::collections::BTreeSet;

use guildmark_credentials::report::Outcome;

use super::judgement::Judged;
use super::{Batch, Reason, Rule, Standing};
use crate::protocol::Protocol;
use crate::reviewers::DecisionRule;

/// One reason per rule.
pub(super) fn reasons(
    protocol: &Protocol,
    judged: &[Judged<'_>],
    rejecting: &[&Judged<'_>],
    passing: usize,
    matched: &BTreeSet<&str>,
    batch: &Batch,
) -> Vec<Reason> {
    let mut reasons = Vec::new();
    let relevant: Vec<&Judged<'_>> = judged
        .iter()
        .filter(|j| j.standing != Standing::Irrelevant)
        .collect();
    for rule in [
        Rule::Batch,
        Rule::Protocol,
        Rule::Time,
        Rule::Qualification,
        Rule::Independence,
        Rule::Age,
        Rule::Sampling,
        Rule::Results,
        Rule::Limits,
    ] {
        // Relevance rules look at every attestation; the others at the relevant ones.
        let pool: Vec<&Judged<'_>> = if matches!(rule, Rule::Batch | Rule::Protocol | Rule::Time) {
            judged.iter().collect()
        } else {
            relevant.clone()
        };
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
        reasons.push(Reason {
            rule,
            outcome,
            detail,
        });
    }
    let decision = match (rejecting.first(), protocol.decision) {
        (Some(_), rule) => Reason {
            rule: Rule::Decision,
            outcome: Outcome::Failed,
            detail: format!(
                "{} counted attestation(s) reject the batch ({}): {}",
                rejecting.len(),
                match rule {
                    DecisionRule::AnyFailureRejects => "any failure rejects",
                    DecisionRule::CriticalFailureRejects => "a failed critical step rejects",
                },
                rejecting
                    .iter()
                    .map(|j| j.attestation.id())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
        (None, _) => Reason {
            rule: Rule::Decision,
            outcome: Outcome::Passed,
            detail: "no counted attestation rejects the batch".into(),
        },
    };
    reasons.push(decision);
    let r = &protocol.reviewers;
    reasons.push(Reason {
        rule: Rule::Quorum,
        outcome: if passing >= r.quorum as usize {
            Outcome::Passed
        } else {
            Outcome::Failed
        },
        detail: format!(
            "{passing} of {} distinct qualified, independent persons passed the batch",
            r.quorum
        ),
    });
    let communities: Vec<&str> = matched.iter().copied().collect();
    reasons.push(Reason {
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
            if communities.is_empty() {
                String::new()
            } else {
                format!(": {}", communities.join(", "))
            },
            if r.independent_of_producer {
                format!(" (producer {} excluded)", batch.producer)
            } else {
                String::new()
            }
        ),
    });
    reasons
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

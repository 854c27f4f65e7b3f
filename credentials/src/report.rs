//! Verification reports: an ordered list of checks, each passed, failed or unknown, with
//! a human reason. Verification never guesses: what could not be checked is `unknown`,
//! never `passed`. A document is verified only if no check failed and its report is
//! complete: every proof, context and embedded credential that decides its authenticity
//! was actually checked. Other unknowns (status without a list, trust without a trust
//! file) are shown but do not stop a verdict.

use serde::Serialize;
use std::fmt;

use crate::time::Timestamp;

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Checked and correct.
    Passed,
    /// Checked and wrong.
    Failed,
    /// Could not be checked with what the verifier was given.
    Unknown,
}

impl Outcome {
    /// The outcome as a word, as it appears in reports.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed => "failed",
            Outcome::Unknown => "unknown",
        }
    }
}

/// One check in a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// What was checked, e.g. `proof[0]`, `status`, `validity`.
    pub check: String,
    /// The outcome.
    pub outcome: Outcome,
    /// Why, in words a person can act on.
    pub reason: String,
}

/// What kind of document a report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DocumentKind {
    /// A verifiable credential.
    Credential,
    /// A verifiable presentation.
    Presentation,
    /// A Guildmark provenance bundle.
    Bundle,
}

/// What a report concludes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Conclusion {
    /// Every check that decides authenticity passed.
    Verified,
    /// A check failed.
    Failed,
    /// Nothing failed, but a proof, context or embedded credential could not be checked.
    Incomplete,
}

/// The result of verifying one document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// What was verified.
    pub kind: DocumentKind,
    /// The document's `id`, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The document's types.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<String>,
    /// Issuer (credential) or holder (presentation), as stated in the document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The time the checks were made against.
    pub checked_at: Timestamp,
    /// Whether no check failed and the report is complete (here and in nested reports).
    pub verified: bool,
    /// Whether every proof, context and embedded credential that decides authenticity
    /// could be checked (here and in nested reports). An incomplete report is not
    /// verified: "could not be fully verified".
    pub complete: bool,
    /// The checks, in the order they were made.
    pub checks: Vec<Check>,
    /// Reports of documents inside this one (a presentation's credentials).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<Report>,
}

impl Report {
    /// An empty report.
    pub fn new(kind: DocumentKind, checked_at: Timestamp) -> Self {
        Report {
            kind,
            id: None,
            types: Vec::new(),
            issuer: None,
            checked_at,
            verified: true,
            complete: true,
            checks: Vec::new(),
            documents: Vec::new(),
        }
    }

    /// Adds a check.
    pub fn push(&mut self, check: impl Into<String>, outcome: Outcome, reason: impl Into<String>) {
        if outcome == Outcome::Failed {
            self.verified = false;
        }
        self.checks.push(Check {
            check: check.into(),
            outcome,
            reason: reason.into(),
        });
    }

    /// Adds a passed check.
    pub fn pass(&mut self, check: impl Into<String>, reason: impl Into<String>) {
        self.push(check, Outcome::Passed, reason);
    }

    /// Adds a failed check.
    pub fn fail(&mut self, check: impl Into<String>, reason: impl Into<String>) {
        self.push(check, Outcome::Failed, reason);
    }

    /// Adds a check that could not be made.
    pub fn unknown(&mut self, check: impl Into<String>, reason: impl Into<String>) {
        self.push(check, Outcome::Unknown, reason);
    }

    /// Adds a check that could not be made and that authenticity depends on (a proof in
    /// an unknown cryptosuite, a context the verifier lacks, an envelope it cannot
    /// open): the report becomes incomplete, so not verified.
    pub fn unverifiable(&mut self, check: impl Into<String>, reason: impl Into<String>) {
        self.complete = false;
        self.verified = false;
        self.push(check, Outcome::Unknown, reason);
    }

    /// Adds a nested report; it counts against this one if it is not verified, and
    /// makes this one incomplete if it is.
    pub fn nest(&mut self, report: Report) {
        if !report.verified {
            self.verified = false;
        }
        if !report.complete {
            self.complete = false;
        }
        self.documents.push(report);
    }

    /// The conclusion: verified, failed (some check failed) or incomplete (nothing failed,
    /// but something authenticity depends on could not be checked).
    pub fn conclusion(&self) -> Conclusion {
        if self.verified {
            Conclusion::Verified
        } else if self.with_outcome(Outcome::Failed).is_empty() && !self.complete {
            Conclusion::Incomplete
        } else {
            Conclusion::Failed
        }
    }

    /// The checks with a given outcome, here and in nested reports.
    pub fn with_outcome(&self, outcome: Outcome) -> Vec<&Check> {
        let mut found: Vec<&Check> = self
            .checks
            .iter()
            .filter(|c| c.outcome == outcome)
            .collect();
        for nested in &self.documents {
            found.extend(nested.with_outcome(outcome));
        }
        found
    }

    /// The first check with this name, if any.
    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.check == name)
    }
}

impl fmt::Display for Report {
    /// The human form: one line per check, then the verdict.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_report(self, f, 0)?;
        let failed = self.with_outcome(Outcome::Failed).len();
        let unknown = self.with_outcome(Outcome::Unknown).len();
        match self.conclusion() {
            Conclusion::Verified => {
                write!(f, "VERIFIED")?;
                if unknown > 0 {
                    write!(f, " ({unknown} check(s) unknown; see above)")?;
                }
            }
            Conclusion::Failed => write!(f, "NOT VERIFIED: {failed} check(s) failed")?,
            Conclusion::Incomplete => write!(
                f,
                "NOT VERIFIED: could not be fully verified ({unknown} check(s) unknown, marked ?? above)"
            )?,
        }
        writeln!(f)
    }
}

fn write_report(report: &Report, f: &mut fmt::Formatter<'_>, depth: usize) -> fmt::Result {
    let indent = "  ".repeat(depth);
    let kind = match report.kind {
        DocumentKind::Credential => "credential",
        DocumentKind::Presentation => "presentation",
        DocumentKind::Bundle => "provenance bundle",
    };
    write!(f, "{indent}{kind}")?;
    if let Some(id) = &report.id {
        write!(f, " {id}")?;
    }
    writeln!(f, " (checked at {})", report.checked_at)?;
    for check in &report.checks {
        let mark = match check.outcome {
            Outcome::Passed => "ok  ",
            Outcome::Failed => "FAIL",
            Outcome::Unknown => "??  ",
        };
        writeln!(f, "{indent}  {mark} {}: {}", check.check, check.reason)?;
    }
    for nested in &report.documents {
        write_report(nested, f, depth + 1)?;
    }
    Ok(())
}

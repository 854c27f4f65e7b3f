//! Review attestations: what a reviewer signs (the batch, the protocol's hash, the units
//! sampled, every result with its unit, a verdict, and the badges that qualify them), as
//! a VC 2.0 credential, and the facts evaluation reads from it.
//!
//! A [`VerifiedAttestation`] is built only from [`VerifiedCredential`]s, so evaluation
//! never sees an unverified signature: the attestation itself, signed by its issuer, and
//! the reviewer's badges, signed by theirs and verified as of the attestation's signing
//! time.

use std::collections::BTreeSet;

use guildmark_credentials::jsonld::GUILDMARK_CONTEXT;
use guildmark_credentials::time::Timestamp;
use guildmark_credentials::VerifiedCredential;
use serde::de::value::MapDeserializer;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::evaluation::Batch;
use crate::protocol::{Protocol, ProtocolHash};
use crate::step::StepKind;
use crate::unit::Quantity;

/// The credential type of a review attestation.
pub const ATTESTATION_TYPE: &str = "ReviewAttestation";

/// The type of an attestation's subject: the batch reviewed.
pub const SUBJECT_TYPE: &str = "ReviewedBatch";

/// Why a credential is not a well-formed review attestation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AttestationError {
    /// The credential's `type` lacks `ReviewAttestation`.
    #[error("not a review attestation (type lacks {ATTESTATION_TYPE})")]
    NotAnAttestation,
    /// The credential does not use the Guildmark context.
    #[error("a review attestation must list the context {GUILDMARK_CONTEXT}")]
    MissingContext,
    /// A field is missing or malformed.
    #[error("credentialSubject: {0}")]
    Subject(String),
    /// The issuer is not a DID the reviewer signs with.
    #[error("the issuer {0:?} is not a did:key")]
    Issuer(String),
    /// No verified proof of the attestation was made with its issuer's key.
    #[error("the attestation is not signed by its issuer {0}")]
    NotSignedByIssuer(String),
}

/// A reviewer's own verdict on what they inspected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReviewerVerdict {
    /// Everything inspected conforms.
    Pass,
    /// The batch should not be certified.
    Fail,
}

/// What was recorded for one step on one unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// A measured quantity (`"value": "11.8 mA"`).
    Measured(Quantity),
    /// A check's outcome (`"passed": true`).
    Checked(bool),
    /// An observation (`"note": "clean fillets"`).
    Noted(String),
}

/// One step's result on one sampled unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "RawResult")]
pub struct StepResult {
    /// The unit's serial number.
    pub serial: String,
    /// The protocol step's id.
    pub step: String,
    /// What was recorded.
    pub recorded: Recorded,
}

/// The JSON form: exactly one of `value`, `passed`, `note`.
#[derive(Serialize)]
struct RawResult {
    serial: String,
    step: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    value: Option<Quantity>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    passed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    note: Option<String>,
}

/// The JSON form's member names.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum ResultField {
    Serial,
    Step,
    Value,
    Passed,
    Note,
}

/// Reads the JSON form straight into a [`StepResult`] (every result of every attestation
/// passes through here).
impl<'de> Deserialize<'de> for StepResult {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = StepResult;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a result: serial, step and one of value, passed, note")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<StepResult, A::Error> {
                use serde::de::Error;
                let (mut serial, mut step, mut recorded, mut given) = (None, None, None, 0);
                while let Some(field) = map.next_key()? {
                    let (name, duplicate) = match field {
                        ResultField::Serial => ("serial", serial.replace(map.next_value()?)),
                        ResultField::Step => ("step", step.replace(map.next_value()?)),
                        ResultField::Value => {
                            recorded = Some(Recorded::Measured(map.next_value()?));
                            given += 1;
                            continue;
                        }
                        ResultField::Passed => {
                            recorded = Some(Recorded::Checked(map.next_value()?));
                            given += 1;
                            continue;
                        }
                        ResultField::Note => {
                            recorded = Some(Recorded::Noted(map.next_value()?));
                            given += 1;
                            continue;
                        }
                    };
                    if duplicate.is_some() {
                        return Err(A::Error::duplicate_field(name));
                    }
                }
                let serial: String = serial.ok_or_else(|| A::Error::missing_field("serial"))?;
                let step: String = step.ok_or_else(|| A::Error::missing_field("step"))?;
                let (Some(recorded), 1) = (recorded, given) else {
                    return Err(A::Error::custom(format!(
                        "the result of step {step:?} on {serial:?} needs exactly one of value, passed, note"
                    )));
                };
                Ok(StepResult {
                    serial,
                    step,
                    recorded,
                })
            }
        }
        d.deserialize_map(Visitor)
    }
}

/// A subject's claims as `ReviewClaims::deserialize` reads them, the results walked by
/// [`plain_result`]: every result of every attestation is read on every verification,
/// and serde's map access over a `Value` costs a third more per result.
fn claims_of_subject(subject: &Value) -> Result<ReviewClaims, serde_json::Error> {
    static NO_RESULTS: Value = Value::Array(Vec::new());
    let (Value::Object(members), Some(Value::Array(results))) = (subject, subject.get("results"))
    else {
        return ReviewClaims::deserialize(subject);
    };
    let others = members.iter().map(|(name, value)| {
        let value = if name == "results" {
            &NO_RESULTS
        } else {
            value
        };
        (name.as_str(), value)
    });
    let mut claims = ReviewClaims::deserialize(MapDeserializer::new(others))?;
    claims.results.reserve_exact(results.len());
    for result in results {
        claims.results.push(match plain_result(result) {
            Some(read) => read,
            // Anything unusual goes through serde, which says what is wrong.
            None => StepResult::deserialize(result)?,
        });
    }
    Ok(claims)
}

/// A result made of exactly a serial, a step and one well-typed record, read without
/// serde; `None` for anything else (serde then reads it, to refuse it the same way).
fn plain_result(result: &Value) -> Option<StepResult> {
    let Value::Object(members) = result else {
        return None;
    };
    if members.len() != 3 {
        return None;
    }
    let (mut serial, mut step, mut recorded) = (None, None, None);
    for (name, value) in members {
        match (name.as_str(), value) {
            ("serial", Value::String(s)) => serial = Some(s.clone()),
            ("step", Value::String(s)) => step = Some(s.clone()),
            ("value", Value::String(s)) => recorded = Some(Recorded::Measured(s.parse().ok()?)),
            ("passed", Value::Bool(b)) => recorded = Some(Recorded::Checked(*b)),
            ("note", Value::String(s)) => recorded = Some(Recorded::Noted(s.clone())),
            _ => return None,
        }
    }
    Some(StepResult {
        serial: serial?,
        step: step?,
        recorded: recorded?,
    })
}

impl From<StepResult> for RawResult {
    fn from(r: StepResult) -> Self {
        let (value, passed, note) = match r.recorded {
            Recorded::Measured(q) => (Some(q), None, None),
            Recorded::Checked(b) => (None, Some(b), None),
            Recorded::Noted(n) => (None, None, Some(n)),
        };
        RawResult {
            serial: r.serial,
            step: r.step,
            value,
            passed,
            note,
        }
    }
}

/// The protocol an attestation follows: its URN and content hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtocolReference {
    /// `urn:guildmark:protocol:<id>:<version>`.
    pub id: String,
    /// The protocol's content hash; this, not the URN, decides which text applies.
    pub digest: ProtocolHash,
}

/// What a reviewer states: the attestation's `credentialSubject`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReviewClaims {
    /// The batch's URL (the subject's `id`).
    pub id: String,
    /// `ReviewedBatch`.
    #[serde(rename = "type")]
    pub type_: String,
    /// The protocol followed.
    pub protocol: ProtocolReference,
    /// Serial numbers of the units inspected.
    pub sampled: Vec<String>,
    /// Every result, per unit and step.
    pub results: Vec<StepResult>,
    /// The reviewer's verdict.
    pub verdict: ReviewerVerdict,
    /// Ids of the badge credentials that qualify the reviewer.
    pub qualification: Vec<String>,
}

impl ReviewClaims {
    /// The unsigned attestation credential, issued by `reviewer` (a did:key).
    pub fn to_credential(&self, id: &str, reviewer: &str, valid_from: Timestamp) -> Value {
        json!({
            "@context": ["https://www.w3.org/ns/credentials/v2", GUILDMARK_CONTEXT],
            "id": id,
            "type": ["VerifiableCredential", ATTESTATION_TYPE],
            "issuer": reviewer,
            "validFrom": valid_from.to_rfc3339(),
            "credentialSubject": self,
        })
    }

    /// Reads the claims of an attestation credential (its shape only, not its proof).
    pub fn from_credential(document: &Value) -> Result<ReviewClaims, AttestationError> {
        let has = |field: &str, wanted: &str| match document.get(field) {
            Some(Value::String(s)) => s == wanted,
            Some(Value::Array(items)) => items.iter().any(|t| t == wanted),
            _ => false,
        };
        if !has("type", ATTESTATION_TYPE) {
            return Err(AttestationError::NotAnAttestation);
        }
        if !has("@context", GUILDMARK_CONTEXT) {
            return Err(AttestationError::MissingContext);
        }
        let subject = document
            .get("credentialSubject")
            .ok_or_else(|| AttestationError::Subject("missing".into()))?;
        let claims =
            claims_of_subject(subject).map_err(|e| AttestationError::Subject(e.to_string()))?;
        if claims.type_ != SUBJECT_TYPE {
            return Err(AttestationError::Subject(format!(
                "type is {:?}, not {SUBJECT_TYPE:?}",
                claims.type_
            )));
        }
        Ok(claims)
    }
}

impl ReviewClaims {
    /// Checks that the claims read under `protocol` for `batch`: they name the batch and
    /// the protocol's hash, every sampled serial is a unit of the batch (once), and every
    /// result is for a sampled unit and a step of the protocol, recorded the way the step
    /// asks (a quantity in a unit convertible to the step's, a check's `passed`, or an
    /// observation's `note`), at most once per unit and step.
    ///
    /// This is whether the attestation *parses*, not whether it passes: failing values
    /// are fine here. Returns every problem found.
    pub fn check(&self, protocol: &Protocol, batch: &Batch) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        if self.id != batch.id {
            problems.push(format!(
                "it is about {:?}, not this batch ({})",
                self.id, batch.id
            ));
        }
        if self.protocol.digest != protocol.hash() {
            problems.push(format!(
                "it cites the protocol {}, but the batch is reviewed under {}",
                self.protocol.digest,
                protocol.hash()
            ));
        } else if self.protocol.id != protocol.urn() {
            problems.push(format!(
                "it names the protocol {:?}, whose hash is that of {}",
                self.protocol.id,
                protocol.urn()
            ));
        }
        let in_batch: BTreeSet<&str> = batch.serials.iter().map(String::as_str).collect();
        let mut sampled = BTreeSet::new();
        if self.sampled.is_empty() {
            problems.push("no unit was sampled".into());
        }
        for serial in &self.sampled {
            if !in_batch.contains(serial.as_str()) {
                problems.push(format!("sampled unit {serial:?} is not in the batch"));
            } else if !sampled.insert(serial.as_str()) {
                problems.push(format!("unit {serial:?} is sampled twice"));
            }
        }
        let mut seen = BTreeSet::new();
        for result in &self.results {
            let at = format!("the result of {:?} on {:?}", result.step, result.serial);
            if !sampled.contains(result.serial.as_str()) {
                problems.push(format!("{at}: the unit is not among the sampled"));
            }
            if !seen.insert((result.serial.as_str(), result.step.as_str())) {
                problems.push(format!("{at}: given twice"));
            }
            let Some(step) = protocol.step(&result.step) else {
                problems.push(format!("{at}: the protocol has no such step"));
                continue;
            };
            match (&step.kind, &result.recorded) {
                (StepKind::Measurement { unit, .. }, Recorded::Measured(q)) => {
                    if let Err(e) = q.in_base_of(unit) {
                        problems.push(format!("{at}: {e}"));
                    }
                }
                (StepKind::Check, Recorded::Checked(_))
                | (StepKind::Observation, Recorded::Noted(_)) => {}
                (StepKind::Measurement { unit, .. }, _) => problems.push(format!(
                    "{at}: the step is a measurement; give a value in {}",
                    unit.symbol()
                )),
                (StepKind::Check, _) => {
                    problems.push(format!("{at}: the step is a check; give passed"))
                }
                (StepKind::Observation, _) => {
                    problems.push(format!("{at}: the step is an observation; give a note"))
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

/// An achievement a reviewer held when signing, and the community that awarded it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Held {
    /// The issuing community (the badge's issuer).
    pub community: String,
    /// The achievement's id.
    pub achievement: String,
}

/// Who reviewed, as established from verified badges.
///
/// An output: evaluation reads the reviewer of a [`VerifiedAttestation`], which only
/// [`VerifiedAttestation::from_verified`] fills in; a `Reviewer` built by hand goes nowhere.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Reviewer {
    /// The DID that signed the attestation.
    pub key: String,
    /// Other names of the same person: member identifiers in their badges, written
    /// `<badge issuer> <identityType>:<identityHash>`. Attestations sharing a key or an
    /// identity are one person.
    pub identities: BTreeSet<String>,
    /// What the reviewer held when signing, by community.
    pub held: BTreeSet<Held>,
    /// Cited badges that could not be used, and why.
    pub unproven: Vec<String>,
}

impl Reviewer {
    /// Whether the reviewer held any of `achievements`.
    pub fn holds_any(&self, achievements: &[String]) -> bool {
        self.held
            .iter()
            .any(|h| achievements.contains(&h.achievement))
    }

    /// The communities that awarded the reviewer one of `achievements`: those the
    /// reviewer can stand for as a qualified reviewer.
    pub fn vouched_by<'a>(
        &'a self,
        achievements: &'a [String],
    ) -> impl Iterator<Item = &'a str> + 'a {
        self.held
            .iter()
            .filter(|h| achievements.contains(&h.achievement))
            .map(|h| h.community.as_str())
    }

    /// Every community that awarded the reviewer anything: their affiliations.
    pub fn affiliations(&self) -> impl Iterator<Item = &str> {
        self.held.iter().map(|h| h.community.as_str())
    }
}

/// A review attestation that verification produced: the only kind
/// [`evaluate`](crate::evaluate) accepts.
///
/// Its fields are private and [`VerifiedAttestation::from_verified`] is its only
/// constructor. That takes [`VerifiedCredential`]s, which only the credentials crate's
/// verification creates, so the reviewer, what they held and what they state all come
/// from checked signatures. An unchecked attestation — a struct written by hand with a
/// made-up reviewer, badge or result — cannot be built, and so cannot count toward a
/// quorum. For the same reason there is no `Deserialize` (reading one back from JSON would
/// skip the checks) and no way to change one afterwards except
/// [`VerifiedAttestation::note_unproven`], which can only say why a badge was not used.
///
/// ```compile_fail
/// # use guildmark_review_protocols::{Reviewer, VerifiedAttestation};
/// # fn forge(claims: guildmark_review_protocols::ReviewClaims, at: guildmark_credentials::Timestamp) {
/// // Writing one by hand does not compile: the fields are private.
/// let forged = VerifiedAttestation {
///     id: "urn:uuid:forged".into(),
///     reviewer: Reviewer::default(),
///     signed_at: at,
///     claims,
/// };
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAttestation {
    id: String,
    reviewer: Reviewer,
    signed_at: Timestamp,
    claims: ReviewClaims,
}

impl VerifiedAttestation {
    /// Builds an attestation from its verified credential and the reviewer's badges.
    ///
    /// The attestation must be signed by its issuer, a did:key: that key is the reviewer.
    /// Each badge must have been verified as of `signed_at` (so that "held when signing"
    /// is what was checked), be signed by its issuer (the community), be valid at
    /// `signed_at`, be issued to the attestation's signer, and be cited in its
    /// `qualification`; badges that are not are listed in [`Reviewer::unproven`] rather
    /// than silently dropped, and cited badges not given are listed too.
    ///
    /// A badge's revocation status is not part of a [`VerifiedCredential`]: the caller
    /// passes only badges whose status it checked (a bundle against its status lists, the
    /// CLI through the verification report).
    pub fn from_verified(
        attestation: &VerifiedCredential,
        signed_at: Timestamp,
        badges: &[VerifiedCredential],
    ) -> Result<VerifiedAttestation, AttestationError> {
        let document = attestation.document();
        let claims = ReviewClaims::from_credential(document)?;
        let key = attestation.issuer().to_owned();
        if !key.starts_with("did:key:") {
            return Err(AttestationError::Issuer(key));
        }
        // A credential verifies when its proofs do, whoever made them; the reviewer is
        // the issuer only if the issuer's key is among the signers.
        if !signed_by_issuer(attestation) {
            return Err(AttestationError::NotSignedByIssuer(key));
        }
        let id = document
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| AttestationError::Subject("the attestation needs an id".into()))?;
        let mut reviewer = Reviewer {
            key: key.clone(),
            ..Reviewer::default()
        };
        for cited in &claims.qualification {
            let Some(badge) = badges
                .iter()
                .find(|b| b.document().get("id").and_then(Value::as_str) == Some(cited))
            else {
                reviewer
                    .unproven
                    .push(format!("badge {cited} was cited but not given"));
                continue;
            };
            match qualification(badge, &key, signed_at) {
                Ok((achievement, identities)) => {
                    reviewer.held.insert(Held {
                        community: badge.issuer().to_owned(),
                        achievement,
                    });
                    reviewer.identities.extend(identities);
                }
                Err(why) => reviewer.unproven.push(format!("badge {cited}: {why}")),
            }
        }
        Ok(VerifiedAttestation {
            id,
            reviewer,
            signed_at,
            claims,
        })
    }

    /// The credential's `id`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Who signed it, and what their verified badges show.
    pub fn reviewer(&self) -> &Reviewer {
        &self.reviewer
    }

    /// When it was signed, as the caller established it (the ledger time of its entry, or
    /// the proof's `created`); its badges were checked as of this time.
    pub fn signed_at(&self) -> Timestamp {
        self.signed_at
    }

    /// What it states.
    pub fn claims(&self) -> &ReviewClaims {
        &self.claims
    }

    /// Adds to [`Reviewer::unproven`] why a badge the reviewer cites could not be used
    /// (for example, the caller could not verify it, so never passed it in).
    ///
    /// This only adds an explanation that evaluation prints; it never qualifies a
    /// reviewer or makes the attestation count for anything.
    pub fn note_unproven(&mut self, why: String) {
        self.reviewer.unproven.push(why);
    }

    /// The whole attestation as JSON: the last tie-break of evaluation's canonical order.
    pub(crate) fn canonical_json(&self) -> Option<String> {
        /// The attestation's fields, written as they always have been for ordering.
        #[derive(Serialize)]
        struct Written<'a> {
            id: &'a str,
            reviewer: &'a Reviewer,
            signed_at: Timestamp,
            claims: &'a ReviewClaims,
        }
        serde_json::to_string(&Written {
            id: &self.id,
            reviewer: &self.reviewer,
            signed_at: self.signed_at,
            claims: &self.claims,
        })
        .ok()
    }
}

/// Whether one of the credential's verified proofs was made by its issuer.
fn signed_by_issuer(credential: &VerifiedCredential) -> bool {
    credential
        .signers()
        .iter()
        .any(|method| method.controller == credential.issuer())
}

/// The achievement a verified badge proves `holder` held at `at`, and the holder's
/// identifiers in it.
fn qualification(
    badge: &VerifiedCredential,
    holder: &str,
    at: Timestamp,
) -> Result<(String, Vec<String>), String> {
    if badge.checked_at() != at {
        return Err(format!(
            "verified as of {}, not as of the attestation's signing time {at}",
            badge.checked_at()
        ));
    }
    if !signed_by_issuer(badge) {
        return Err(format!("not signed by its issuer {}", badge.issuer()));
    }
    // Verified as of `at` says the signatures held, not that the badge was valid then.
    badge
        .as_of(at)
        .map_err(|why| format!("not valid at the attestation's signing time {at}: {why}"))?;
    let subject = &badge.document()["credentialSubject"];
    if subject.get("id").and_then(Value::as_str) != Some(holder) {
        return Err(format!("issued to someone other than the signer {holder}"));
    }
    let achievement = subject
        .pointer("/achievement/id")
        .and_then(Value::as_str)
        .ok_or("names no achievement id")?
        .to_owned();
    let issuer = badge.issuer();
    let identities = subject
        .get("identifier")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|i| {
            let kind = i.get("identityType")?.as_str()?;
            let hash = i.get("identityHash")?.as_str()?;
            Some(format!("{issuer} {kind}:{hash}"))
        })
        .collect();
    Ok((achievement, identities))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<StepResult, String> {
        // The API reads results from text, evaluation from a parsed credential: both
        // must agree.
        let from_text = serde_json::from_str::<StepResult>(text).map_err(|e| e.to_string());
        let value: Value = serde_json::from_str(text).unwrap();
        let from_value = StepResult::deserialize(&value).map_err(|e| e.to_string());
        assert_eq!(from_text.is_ok(), from_value.is_ok(), "{text}");
        // Credentials' results are walked without serde when plain: never differently.
        if let Some(walked) = plain_result(&value) {
            assert_eq!(Ok(walked), from_value, "{text}");
        }
        from_value
    }

    #[test]
    fn a_result_has_a_serial_a_step_and_exactly_one_record() {
        let measured = read(r#"{"serial": "A-1", "step": "v", "value": "14.4 V"}"#).unwrap();
        assert_eq!(
            measured.recorded,
            Recorded::Measured("14.4 V".parse().unwrap())
        );
        let checked = read(r#"{"step": "c", "passed": false, "serial": "A-1"}"#).unwrap();
        assert_eq!(checked.recorded, Recorded::Checked(false));
        let noted = read(r#"{"serial": "A-1", "step": "n", "note": "clean"}"#).unwrap();
        assert_eq!(noted.recorded, Recorded::Noted("clean".into()));
        // Written back in the same form.
        assert_eq!(
            serde_json::to_value(&measured).unwrap(),
            serde_json::json!({"serial": "A-1", "step": "v", "value": "14.4 V"})
        );

        for (bad, why) in [
            (r#"{"serial": "A-1", "step": "v"}"#, "exactly one of"),
            (
                r#"{"serial": "A-1", "step": "v", "value": "1 V", "passed": true}"#,
                "exactly one of",
            ),
            (
                r#"{"serial": "A-1", "value": "1 V"}"#,
                "missing field `step`",
            ),
            (r#"{"step": "v", "value": "1 V"}"#, "missing field `serial`"),
            (
                r#"{"serial": "A-1", "step": "v", "value": "1 V", "unit": "V"}"#,
                "unknown field `unit`",
            ),
            (
                r#"{"serial": "A-1", "step": "v", "value": "1 parsec"}"#,
                "parsec",
            ),
            (
                r#"{"serial": 7, "step": "v", "value": "1 V"}"#,
                "invalid type",
            ),
        ] {
            let error = read(bad).unwrap_err();
            assert!(error.contains(why), "{bad}: {error}");
        }
        // A duplicate serial or step is refused when read from text (a parsed `Value`
        // has already kept only the last).
        let error = serde_json::from_str::<StepResult>(
            r#"{"serial": "A-1", "serial": "A-2", "step": "v", "value": "1 V"}"#,
        )
        .unwrap_err();
        assert!(
            error.to_string().contains("duplicate field `serial`"),
            "{error}"
        );
        let error = serde_json::from_str::<StepResult>(
            r#"{"serial": "A-1", "step": "v", "value": "1 V", "value": "2 V"}"#,
        )
        .unwrap_err();
        assert!(error.to_string().contains("exactly one of"), "{error}");
    }

    #[test]
    fn claims_read_from_a_credential_are_what_serde_reads() {
        let good = serde_json::json!({
            "id": "https://node.example/batches/1",
            "type": SUBJECT_TYPE,
            "protocol": {"id": "urn:guildmark:protocol:p:1", "digest": format!("sha256:{}", "ab".repeat(32))},
            "sampled": ["A-1", "A-2"],
            "results": [
                {"serial": "A-1", "step": "v", "value": "14.4 V"},
                {"step": "c", "passed": true, "serial": "A-2"},
                {"serial": "A-2", "note": "clean", "step": "n"}
            ],
            "verdict": "pass",
            "qualification": ["urn:uuid:1"]
        });
        let read = claims_of_subject(&good).unwrap();
        assert_eq!(read, ReviewClaims::deserialize(&good).unwrap());
        assert_eq!(read.results.len(), 3);
        assert!(good["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| plain_result(r).is_some()));
        let variants: Vec<(&str, Value)> = vec![
            ("results", Value::Null),
            (
                "results",
                serde_json::json!([{"serial": "A-1", "step": "v"}]),
            ),
            (
                "results",
                serde_json::json!([{"serial": "A-1", "step": "v", "value": "1 parsec"}]),
            ),
            (
                "results",
                serde_json::json!([{"serial": "A-1", "value": "1 V", "passed": true}]),
            ),
            (
                "results",
                serde_json::json!([{"serial": "A-1", "step": "v", "value": "1 V", "unit": "V"}]),
            ),
            (
                "results",
                serde_json::json!([{"serial": "A-1", "step": 7, "value": "1 V"}]),
            ),
            ("results", serde_json::json!([7])),
            ("verdict", serde_json::json!("maybe")),
            ("sampled", serde_json::json!("A-1")),
            ("extra", serde_json::json!(1)),
        ];
        for (member, value) in variants {
            let mut bad = good.clone();
            bad[member] = value;
            let theirs = ReviewClaims::deserialize(&bad).unwrap_err().to_string();
            assert_eq!(
                claims_of_subject(&bad).unwrap_err().to_string(),
                theirs,
                "{member}"
            );
        }
        for missing in ["results", "verdict", "id"] {
            let mut bad = good.clone();
            bad.as_object_mut().unwrap().remove(missing);
            let theirs = ReviewClaims::deserialize(&bad).unwrap_err().to_string();
            assert_eq!(
                claims_of_subject(&bad).unwrap_err().to_string(),
                theirs,
                "{missing}"
            );
        }
        let theirs = ReviewClaims::deserialize(&Value::from(3))
            .unwrap_err()
            .to_string();
        assert_eq!(
            claims_of_subject(&Value::from(3)).unwrap_err().to_string(),
            theirs
        );
    }
}

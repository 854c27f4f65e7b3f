//! VC Data Model 2.0 conformance rules that can be checked on the JSON alone
//! (<https://www.w3.org/TR/vc-data-model-2.0/>, the checks the W3C test suite makes).
//!
//! Rules that need term definitions (types must map to URLs, protected terms must not be
//! redefined) are checked by JSON-LD expansion in [`jsonld::check_terms`](crate::jsonld::check_terms).
//! Every violation is a [`DataModelError`] naming the JSON path it was found at.

use serde_json::{Map, Value};
use std::fmt;

use crate::time::{TimeError, Timestamp};

/// The base context every VC 2.0 credential and presentation starts with.
pub const CREDENTIALS_V2: &str = "https://www.w3.org/ns/credentials/v2";

/// The base context of VC Data Model 1.1, which Open Badges 3.0 issuers also use: read and
/// verified (with `issuanceDate` and `expirationDate`), never written by Guildmark.
pub const CREDENTIALS_V1: &str = "https://www.w3.org/2018/credentials/v1";

/// Whether a document is in VC Data Model 1.1 form (its first context is
/// [`CREDENTIALS_V1`]).
pub fn is_vcdm1(document: &Map<String, Value>) -> bool {
    match document.get("@context") {
        Some(Value::String(s)) => s == CREDENTIALS_V1,
        Some(Value::Array(items)) => items.first().and_then(Value::as_str) == Some(CREDENTIALS_V1),
        _ => false,
    }
}

/// A JSON path such as `credentialSubject[1].id`, for messages.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JsonPath(String);

impl JsonPath {
    /// The document root.
    pub fn root() -> Self {
        JsonPath(String::new())
    }

    /// This path extended with a member name.
    pub fn key(&self, name: &str) -> Self {
        if self.0.is_empty() {
            JsonPath(name.to_owned())
        } else {
            JsonPath(format!("{}.{name}", self.0))
        }
    }

    /// This path extended with an array index.
    pub fn index(&self, i: usize) -> Self {
        JsonPath(format!("{}[{i}]", self.0))
    }

    /// The path as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("(document)")
        } else {
            f.write_str(&self.0)
        }
    }
}

/// A violation of a VC Data Model 2.0 rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DataModelError {
    /// The document (or a part that must be) is not a JSON object.
    #[error("{path}: must be a JSON object")]
    NotAnObject {
        /// Where.
        path: JsonPath,
    },
    /// A required property is absent (or null).
    #[error("{path}: required property is missing")]
    Missing {
        /// Where.
        path: JsonPath,
    },
    /// `@context` does not start with the VC 2.0 base context.
    #[error("{path}: the first @context must be {CREDENTIALS_V2} (or {CREDENTIALS_V1} for a VC Data Model 1.1 credential)")]
    BaseContext {
        /// Where.
        path: JsonPath,
    },
    /// A further `@context` item is neither a URL nor an object.
    #[error("{path}: a @context item must be a URL or a context object")]
    ContextItem {
        /// Where.
        path: JsonPath,
    },
    /// A value that must be a single URL is not.
    #[error("{path}: must be a single URL")]
    NotUrl {
        /// Where.
        path: JsonPath,
    },
    /// `type` is not a string or an array of strings.
    #[error("{path}: type must be a string or an array of strings")]
    TypeShape {
        /// Where.
        path: JsonPath,
    },
    /// `type` lacks a type the rules require.
    #[error("{path}: type must include {required}")]
    MissingType {
        /// Where.
        path: JsonPath,
        /// The required type.
        required: &'static str,
    },
    /// A `name` or `description` is neither a string nor language value object(s).
    #[error("{path}: must be a string or language value objects (@value, @language, @direction)")]
    LanguageValue {
        /// Where.
        path: JsonPath,
    },
    /// A credential subject makes no claim.
    #[error("{path}: a credential subject must make at least one claim")]
    EmptySubject {
        /// Where.
        path: JsonPath,
    },
    /// A date-time is not an XML Schema dateTimeStamp.
    #[error("{path}: {error}")]
    DateTime {
        /// Where.
        path: JsonPath,
        /// Why it does not parse.
        error: TimeError,
    },
    /// `validUntil` is earlier than `validFrom`.
    #[error("validUntil ({valid_until}) is earlier than validFrom ({valid_from})")]
    ValidityOrder {
        /// `validFrom`.
        valid_from: Timestamp,
        /// `validUntil`.
        valid_until: Timestamp,
    },
    /// An item of `verifiableCredential` is not an object.
    #[error("{path}: a verifiable credential in a presentation must be an object")]
    EmbeddedNotObject {
        /// Where.
        path: JsonPath,
    },
    /// Two `relatedResource` entries share an `id`, or one lacks a digest.
    #[error("{path}: {detail}")]
    RelatedResource {
        /// Where.
        path: JsonPath,
        /// What is wrong.
        detail: &'static str,
    },
}

/// Whether `text` is a URL (an absolute IRI, RFC 3987): a scheme followed by `:`.
pub fn is_url(text: &str) -> bool {
    plain_ascii_iri(text) || oxiri::Iri::parse(text).is_ok()
}

/// Whether `text` has the shape nearly every credential URL has, checked in one pass:
/// ASCII, `scheme:` then either a rootless path (`did:key:…`, `urn:uuid:…`) or `//host`
/// with an optional port (no user info, no IP literal) and an absolute path, then an
/// optional query and fragment. Every such text is an IRI; `false` only means "ask the
/// full parser", which runs about ten times slower. Checked against it in the tests.
fn plain_ascii_iri(text: &str) -> bool {
    // ipchar without percent-encoding: unreserved, sub-delims, ':' and '@'.
    fn pchar(b: u8) -> bool {
        b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&b)
    }
    let bytes = text.as_bytes();
    let Some(colon) = bytes.iter().position(|&b| b == b':') else {
        return false;
    };
    let (scheme, mut rest) = (&bytes[..colon], &bytes[colon + 1..]);
    let scheme_ok = scheme.first().is_some_and(u8::is_ascii_alphabetic)
        && scheme
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if !scheme_ok {
        return false;
    }
    if let Some(after) = rest.strip_prefix(b"//") {
        let end = after
            .iter()
            .position(|&b| matches!(b, b'/' | b'?' | b'#'))
            .unwrap_or(after.len());
        let (host, port) = match after[..end].iter().position(|&b| b == b':') {
            Some(i) => (&after[..i], &after[i + 1..end]),
            None => (&after[..end], &b""[..]),
        };
        // A reg-name: unreserved and sub-delims only.
        let host_ok = host.iter().all(|&b| pchar(b) && b != b':' && b != b'@');
        if !host_ok || !port.iter().all(u8::is_ascii_digit) {
            return false;
        }
        rest = &after[end..];
    } else if rest.first() == Some(&b'/') {
        // An absolute path without authority must not start with "//" (handled above);
        // left to the full parser for simplicity.
        return false;
    }
    // Path, then query ('/' and '?' allowed), then fragment (the same set).
    let mut part = 0; // 0 path, 1 query, 2 fragment
    let mut i = 0;
    while i < rest.len() {
        let b = rest[i];
        match b {
            b'?' if part == 0 => part = 1,
            b'#' if part < 2 => part = 2,
            b'/' => {}
            b'?' => {}
            b'%' => {
                let hex = |j: usize| rest.get(j).is_some_and(u8::is_ascii_hexdigit);
                if !(hex(i + 1) && hex(i + 2)) {
                    return false;
                }
                i += 2;
            }
            _ if pchar(b) => {}
            _ => return false,
        }
        i += 1;
    }
    true
}

/// Checks a credential against the VC Data Model 2.0 rules.
pub fn validate_credential(document: &Value) -> Result<(), Vec<DataModelError>> {
    let mut errors = Vec::new();
    let root = JsonPath::root();
    match document.as_object() {
        None => errors.push(DataModelError::NotAnObject { path: root }),
        Some(map) => credential_rules(map, &root, &mut errors),
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Checks a presentation against the VC Data Model 2.0 rules (not the credentials it
/// carries, which are validated on their own).
pub fn validate_presentation(document: &Value) -> Result<(), Vec<DataModelError>> {
    let mut errors = Vec::new();
    let root = JsonPath::root();
    let Some(map) = document.as_object() else {
        return Err(vec![DataModelError::NotAnObject { path: root }]);
    };
    context_rule(map, &root, &mut errors);
    optional_url(map, "id", &root, &mut errors);
    type_rule(map, &root, "VerifiablePresentation", &mut errors);
    match map.get("holder") {
        None => {}
        Some(Value::String(s)) if is_url(s) => {}
        Some(Value::Object(holder)) => {
            required_url(holder, "id", &root.key("holder"), &mut errors);
        }
        Some(_) => errors.push(DataModelError::NotUrl {
            path: root.key("holder"),
        }),
    }
    if let Some(vcs) = map.get("verifiableCredential") {
        let path = root.key("verifiableCredential");
        for (i, item) in as_items(vcs).iter().enumerate() {
            let path = if vcs.is_array() {
                path.index(i)
            } else {
                path.clone()
            };
            match item {
                Value::Object(vc) if is_enveloped(vc) => enveloped_rules(vc, &path, &mut errors),
                Value::Object(_) => {}
                _ => errors.push(DataModelError::EmbeddedNotObject { path }),
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Whether a credential object is an `EnvelopedVerifiableCredential` (secured by JOSE or
/// COSE, which Guildmark does not verify).
pub fn is_enveloped(vc: &Map<String, Value>) -> bool {
    type_values(vc.get("type")).any(|t| t == "EnvelopedVerifiableCredential")
}

fn enveloped_rules(vc: &Map<String, Value>, path: &JsonPath, errors: &mut Vec<DataModelError>) {
    context_rule(vc, path, errors);
    match vc.get("id") {
        Some(Value::String(id)) if id.starts_with("data:") => {}
        _ => errors.push(DataModelError::NotUrl {
            path: path.key("id"),
        }),
    }
}

fn credential_rules(map: &Map<String, Value>, root: &JsonPath, errors: &mut Vec<DataModelError>) {
    context_rule(map, root, errors);
    optional_url(map, "id", root, errors);
    type_rule(map, root, "VerifiableCredential", errors);
    language_rule(map, "name", root, errors);
    language_rule(map, "description", root, errors);

    match map.get("issuer") {
        None | Some(Value::Null) => errors.push(DataModelError::Missing {
            path: root.key("issuer"),
        }),
        Some(Value::String(s)) if is_url(s) => {}
        Some(Value::Object(issuer)) => {
            let path = root.key("issuer");
            required_url(issuer, "id", &path, errors);
            language_rule(issuer, "name", &path, errors);
            language_rule(issuer, "description", &path, errors);
        }
        Some(_) => errors.push(DataModelError::NotUrl {
            path: root.key("issuer"),
        }),
    }

    match map.get("credentialSubject") {
        None | Some(Value::Null) => errors.push(DataModelError::Missing {
            path: root.key("credentialSubject"),
        }),
        Some(subjects) => {
            let path = root.key("credentialSubject");
            let items = as_items(subjects);
            if items.is_empty() {
                errors.push(DataModelError::EmptySubject { path: path.clone() });
            }
            for (i, subject) in items.iter().enumerate() {
                let path = if subjects.is_array() {
                    path.index(i)
                } else {
                    path.clone()
                };
                match subject {
                    Value::Object(s) if s.is_empty() => {
                        errors.push(DataModelError::EmptySubject { path })
                    }
                    Value::Object(s) => optional_url(s, "id", &path, errors),
                    _ => errors.push(DataModelError::NotAnObject { path }),
                }
            }
        }
    }

    // VC Data Model 1.1: issuanceDate (required) and expirationDate.
    let (from, until) = if is_vcdm1(map) {
        if map.get("issuanceDate").is_none() {
            errors.push(DataModelError::Missing {
                path: root.key("issuanceDate"),
            });
        }
        ("issuanceDate", "expirationDate")
    } else {
        ("validFrom", "validUntil")
    };
    let valid_from = date_time(map, from, root, errors);
    let valid_until = date_time(map, until, root, errors);
    if let (Some(valid_from), Some(valid_until)) = (valid_from, valid_until) {
        if valid_until < valid_from {
            errors.push(DataModelError::ValidityOrder {
                valid_from,
                valid_until,
            });
        }
    }

    for (property, needs_id) in [
        ("credentialStatus", false),
        ("credentialSchema", true),
        ("termsOfUse", false),
        ("evidence", false),
        ("refreshService", false),
    ] {
        typed_objects_rule(map, property, needs_id, root, errors);
    }
    related_resource_rule(map, root, errors);
}

fn context_rule(map: &Map<String, Value>, root: &JsonPath, errors: &mut Vec<DataModelError>) {
    let path = root.key("@context");
    match map.get("@context") {
        None | Some(Value::Null) => errors.push(DataModelError::Missing { path }),
        Some(Value::String(s)) if s == CREDENTIALS_V2 || s == CREDENTIALS_V1 => {}
        Some(Value::Array(items)) => {
            let first = items.first().and_then(Value::as_str);
            if first != Some(CREDENTIALS_V2) && first != Some(CREDENTIALS_V1) {
                errors.push(DataModelError::BaseContext {
                    path: path.index(0),
                });
            }
            for (i, item) in items.iter().enumerate().skip(1) {
                match item {
                    Value::String(s) if is_url(s) => {}
                    Value::Object(_) => {}
                    _ => errors.push(DataModelError::ContextItem {
                        path: path.index(i),
                    }),
                }
            }
        }
        Some(_) => errors.push(DataModelError::BaseContext { path }),
    }
}

fn type_rule(
    map: &Map<String, Value>,
    root: &JsonPath,
    required: &'static str,
    errors: &mut Vec<DataModelError>,
) {
    let path = root.key("type");
    match map.get("type") {
        None | Some(Value::Null) => errors.push(DataModelError::Missing { path }),
        Some(value) if !is_type_shape(value) => errors.push(DataModelError::TypeShape { path }),
        Some(value) => {
            if !type_values(Some(value)).any(|t| t == required) {
                errors.push(DataModelError::MissingType { path, required });
            }
        }
    }
}

fn is_type_shape(value: &Value) -> bool {
    match value {
        Value::String(_) => true,
        Value::Array(items) => !items.is_empty() && items.iter().all(Value::is_string),
        _ => false,
    }
}

/// The string values of a `type` property (a string or an array of strings).
pub fn type_values(value: Option<&Value>) -> impl Iterator<Item = &str> {
    let items: &[Value] = match value {
        Some(Value::Array(items)) => items,
        Some(v @ Value::String(_)) => std::slice::from_ref(v),
        _ => &[],
    };
    items.iter().filter_map(Value::as_str)
}

fn language_rule(
    map: &Map<String, Value>,
    property: &str,
    root: &JsonPath,
    errors: &mut Vec<DataModelError>,
) {
    let Some(value) = map.get(property) else {
        return;
    };
    let ok = match value {
        Value::String(_) => true,
        Value::Object(o) => is_language_value(o),
        Value::Array(items) => items.iter().all(|item| match item {
            Value::String(_) => true,
            Value::Object(o) => is_language_value(o),
            _ => false,
        }),
        _ => false,
    };
    if !ok {
        errors.push(DataModelError::LanguageValue {
            path: root.key(property),
        });
    }
}

fn is_language_value(o: &Map<String, Value>) -> bool {
    o.get("@value").is_some_and(Value::is_string)
        && o.iter().all(|(k, v)| match k.as_str() {
            "@value" => true,
            "@language" | "@direction" => v.is_string(),
            _ => false,
        })
}

fn optional_url(
    map: &Map<String, Value>,
    property: &str,
    root: &JsonPath,
    errors: &mut Vec<DataModelError>,
) {
    match map.get(property) {
        None => {}
        Some(Value::String(s)) if is_url(s) => {}
        Some(_) => errors.push(DataModelError::NotUrl {
            path: root.key(property),
        }),
    }
}

fn required_url(
    map: &Map<String, Value>,
    property: &str,
    root: &JsonPath,
    errors: &mut Vec<DataModelError>,
) {
    if map.get(property).is_none_or(Value::is_null) {
        errors.push(DataModelError::Missing {
            path: root.key(property),
        });
    } else {
        optional_url(map, property, root, errors);
    }
}

fn date_time(
    map: &Map<String, Value>,
    property: &str,
    root: &JsonPath,
    errors: &mut Vec<DataModelError>,
) -> Option<Timestamp> {
    let value = map.get(property)?;
    let text = value.as_str().unwrap_or_default();
    match Timestamp::parse(text) {
        Ok(ts) => Some(ts),
        Err(error) => {
            errors.push(DataModelError::DateTime {
                path: root.key(property),
                error,
            });
            None
        }
    }
}

/// `credentialStatus`, `termsOfUse`, … : an object or a set of objects, each with a `type`;
/// `id`, where present, a single URL (required for `credentialSchema`).
fn typed_objects_rule(
    map: &Map<String, Value>,
    property: &str,
    needs_id: bool,
    root: &JsonPath,
    errors: &mut Vec<DataModelError>,
) {
    let Some(value) = map.get(property) else {
        return;
    };
    let path = root.key(property);
    for (i, item) in as_items(value).iter().enumerate() {
        let path = if value.is_array() {
            path.index(i)
        } else {
            path.clone()
        };
        let Value::Object(object) = item else {
            errors.push(DataModelError::NotAnObject { path });
            continue;
        };
        match object.get("type") {
            None | Some(Value::Null) => errors.push(DataModelError::Missing {
                path: path.key("type"),
            }),
            Some(t) if !is_type_shape(t) => errors.push(DataModelError::TypeShape {
                path: path.key("type"),
            }),
            Some(_) => {}
        }
        if needs_id {
            required_url(object, "id", &path, errors);
        } else {
            optional_url(object, "id", &path, errors);
        }
    }
}

fn related_resource_rule(
    map: &Map<String, Value>,
    root: &JsonPath,
    errors: &mut Vec<DataModelError>,
) {
    let Some(value) = map.get("relatedResource") else {
        return;
    };
    let path = root.key("relatedResource");
    let mut seen = Vec::new();
    for (i, item) in as_items(value).iter().enumerate() {
        let path = if value.is_array() {
            path.index(i)
        } else {
            path.clone()
        };
        let Value::Object(object) = item else {
            errors.push(DataModelError::NotAnObject { path });
            continue;
        };
        required_url(object, "id", &path, errors);
        if let Some(id) = object.get("id").and_then(Value::as_str) {
            if seen.contains(&id) {
                errors.push(DataModelError::RelatedResource {
                    path: path.key("id"),
                    detail: "two related resources have the same id",
                });
            }
            seen.push(id);
        }
        if !object.contains_key("digestSRI") && !object.contains_key("digestMultibase") {
            errors.push(DataModelError::RelatedResource {
                path,
                detail: "a related resource needs digestSRI or digestMultibase",
            });
        }
    }
}

/// The items of a value that may be one object or an array of them.
pub(crate) fn as_items(value: &Value) -> &[Value] {
    match value {
        Value::Array(items) => items,
        other => std::slice::from_ref(other),
    }
}

/// Why a document may not be issued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IssuanceError {
    /// It breaks VC Data Model rules.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    DataModel(Vec<DataModelError>),
    /// A term or type is undefined, or a context is unavailable.
    #[error("{0}")]
    Terms(#[from] crate::jsonld::JsonLdError),
}

/// Everything an issuer checks before signing a credential: the data-model rules and,
/// with `contexts`, that every term and type is defined (so nothing would be signed that
/// a JSON-LD verifier silently drops).
pub fn validate_for_issuance(
    document: &Value,
    contexts: &crate::jsonld::Contexts,
) -> Result<(), IssuanceError> {
    let is_presentation = type_values(document.get("type")).any(|t| t == "VerifiablePresentation");
    let result = if is_presentation {
        validate_presentation(document)
    } else {
        validate_credential(document)
    };
    result.map_err(IssuanceError::DataModel)?;
    crate::jsonld::check_terms(document, contexts)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn full_parser(text: &str) -> bool {
        oxiri::Iri::parse(text).is_ok()
    }

    #[test]
    fn credential_urls_take_the_one_pass_check() {
        for url in [
            "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
            "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
            "http://localhost:8080/status/3#94567",
            "https://example.org/a%20b?x=1&y=/z?#frag/?",
            "file:///etc/hosts",
            "urn:guildmark:protocol:mppt20-batch-qa:1.0",
            "mailto:a@example.org",
        ] {
            assert!(plain_ascii_iri(url), "{url}");
            assert!(full_parser(url), "{url}");
        }
        for text in [
            "no scheme",
            "1http://x",
            ":empty",
            "https://ex ample.org",
            "https://example.org/%zz",
            "https://example.org#a#b",
            "https://example.org:80a/",
            "a:b c",
        ] {
            assert!(!plain_ascii_iri(text), "{text}");
            assert!(!is_url(text), "{text}");
        }
        // Shapes the one pass leaves to the full parser, which accepts them.
        for url in [
            "https://user@host/",
            "http://[::1]/",
            "https://例え.jp/",
            "a:/b",
        ] {
            assert!(!plain_ascii_iri(url), "{url}");
            assert!(is_url(url), "{url}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]
        #[test]
        fn the_one_pass_check_accepts_only_iris(
            text in "[a-z]{0,3}[+.:1]?(:|://)?[a-zA-Z0-9:/?#%@\\[\\] .~!$&'()*+,;=_-]{0,14}"
        ) {
            if plain_ascii_iri(&text) {
                prop_assert!(full_parser(&text), "{text:?} is not an IRI");
            }
        }
    }
}

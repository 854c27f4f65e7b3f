//! JSON-LD 1.1 to RDF over an expanded document: Node Map Generation (JSON-LD 1.1 API
//! §7.2) then Deserialize JSON-LD to RDF (§8.3), in safe mode.
//!
//! Written here because both Rust implementations behind ssi lose data: the `linked_data`
//! path ssi's `canonical_form_of` takes drops the members of `@list` values and ignores a
//! coerced datatype on booleans, and json-ld-core's node map replaces (rather than
//! merges) the types of a node that appears twice. Each of these would let a signature
//! survive a change to the dropped data; the 1EdTech `complete.json` sample shows all
//! three. Expansion before this step is json-ld's (the crate ssi wraps, used directly in
//! `jsonld/mod.rs`); RDFC-1.0 after it is ours (`rdfc.rs`).
//!
//! Safe mode: anything the algorithm would silently skip (a relative IRI, a blank-node
//! predicate, a malformed language tag) is an error instead.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

use super::FastMap as HashMap;

use super::rdfc::{Quad, Term};
use super::JsonLdError;

const RDF: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
const DEFAULT_GRAPH: &str = "@default";
const XSD_STRING: &str = "http://www.w3.org/2001/XMLSchema#string";
const XSD_INTEGER: &str = "http://www.w3.org/2001/XMLSchema#integer";
const XSD_DOUBLE: &str = "http://www.w3.org/2001/XMLSchema#double";
const XSD_BOOLEAN: &str = "http://www.w3.org/2001/XMLSchema#boolean";
const RDF_LANGSTRING: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString";
const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
const RDF_FIRST: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#first";
const RDF_REST: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#rest";
const RDF_NIL: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#nil";

/// graph name → subject → node object, ordered so that output order is deterministic.
type NodeMap = BTreeMap<String, BTreeMap<String, Map<String, Value>>>;

/// Issues fresh blank node identifiers, mapping each input label to one output label.
#[derive(Default)]
struct BlankIssuer {
    issued: HashMap<String, String>,
    counter: usize,
}

impl BlankIssuer {
    fn issue(&mut self, existing: Option<&str>) -> String {
        if let Some(label) = existing {
            if let Some(issued) = self.issued.get(label) {
                return issued.clone();
            }
        }
        let fresh = format!("_:b{}", self.counter);
        self.counter += 1;
        if let Some(label) = existing {
            self.issued.insert(label.to_owned(), fresh.clone());
        }
        fresh
    }
}

fn data_loss(detail: impl Into<String>) -> JsonLdError {
    JsonLdError::Rdf {
        detail: detail.into(),
    }
}

fn is_blank(id: &str) -> bool {
    id.starts_with("_:")
}

/// The active subject of Node Map Generation.
#[derive(Clone)]
enum Subject {
    None,
    Node(String),
    /// A node reference the values of a `@reverse` property point back to.
    Reverse(Value),
}

/// How a literal's base direction is represented in RDF (JSON-LD 1.1 API `rdfDirection`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RdfDirection {
    /// As a datatype `https://www.w3.org/ns/i18n#{language}_{direction}`.
    I18nDatatype,
    /// As a blank node with `rdf:value`, `rdf:language` and `rdf:direction`.
    CompoundLiteral,
}

/// How [`to_rdf`] converts.
#[derive(Debug, Clone, Copy, Default)]
pub struct RdfOptions {
    /// Refuse what standard conversion would silently skip (a relative IRI, a
    /// blank-node predicate, a malformed language tag) rather than skip it.
    pub safe: bool,
    /// `None`: `@direction` is not represented (the default, as in jsonld.js).
    pub rdf_direction: Option<RdfDirection>,
}

/// `Ok(Some)` for what converted, `Ok(None)` to skip it (standard mode), the error in
/// safe mode.
fn keep<T>(options: &RdfOptions, result: Result<T, JsonLdError>) -> Result<Option<T>, JsonLdError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e) if options.safe => Err(e),
        Err(_) => Ok(None),
    }
}

/// Converts an expanded JSON-LD document to RDF quads.
pub fn to_rdf(expanded: Vec<Value>, options: &RdfOptions) -> Result<Vec<Quad>, JsonLdError> {
    let mut issuer = BlankIssuer::default();
    let mut map = NodeMap::new();
    map.insert(DEFAULT_GRAPH.into(), BTreeMap::new());
    for element in expanded {
        generate(
            element,
            &mut map,
            DEFAULT_GRAPH,
            &Subject::None,
            None,
            None,
            &mut issuer,
        )?;
    }
    deserialize(&map, &mut issuer, options)
}

/// Appends `value` to `node[property]`, unless an equal value is there and `dedupe`.
fn append(node: &mut Map<String, Value>, property: &str, value: Value, dedupe: bool) {
    let entry = node
        .entry(property.to_owned())
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(items) = entry {
        if !(dedupe && items.contains(&value)) {
            items.push(value);
        }
    }
}

/// JSON-LD 1.1 API §7.2.2, the Node Map Generation algorithm.
fn generate(
    element: Value,
    map: &mut NodeMap,
    graph: &str,
    subject: &Subject,
    property: Option<&str>,
    mut list: Option<&mut Vec<Value>>,
    issuer: &mut BlankIssuer,
) -> Result<(), JsonLdError> {
    let mut element = match element {
        Value::Array(items) => {
            for item in items {
                generate(
                    item,
                    map,
                    graph,
                    subject,
                    property,
                    list.as_deref_mut(),
                    issuer,
                )?;
            }
            return Ok(());
        }
        Value::Object(element) => element,
        // Expanded documents hold only arrays and objects at this level.
        _ => return Ok(()),
    };
    // Step 3: relabel blank node types.
    if let Some(types) = element.get_mut("@type") {
        relabel_all(types, issuer);
    }

    if element.contains_key("@value") {
        match list {
            Some(list) => list.push(Value::Object(element)),
            None => {
                if let (Subject::Node(s), Some(p)) = (subject, property) {
                    let node = node_mut(map, graph, s);
                    append(node, p, Value::Object(element), true);
                }
            }
        }
        return Ok(());
    }

    if let Some(items) = element.remove("@list") {
        let mut members = Vec::new();
        generate(
            items,
            map,
            graph,
            subject,
            property,
            Some(&mut members),
            issuer,
        )?;
        let mut result = Map::new();
        result.insert("@list".into(), Value::Array(members));
        match list {
            Some(list) => list.push(Value::Object(result)),
            None => {
                if let (Subject::Node(s), Some(p)) = (subject, property) {
                    append(node_mut(map, graph, s), p, Value::Object(result), false);
                }
            }
        }
        return Ok(());
    }

    // A node object. One whose `@id` expanded to null (a reserved `@…` form) names
    // nothing and is dropped (safe expansion refuses it before this).
    if element.get("@id").is_some_and(Value::is_null) {
        return Ok(());
    }
    let id = match element.get("@id").and_then(Value::as_str) {
        Some(id) if is_blank(id) => issuer.issue(Some(id)),
        Some(id) => id.to_owned(),
        None => issuer.issue(None),
    };
    node_mut(map, graph, &id);
    let reference = || {
        let mut r = Map::new();
        r.insert("@id".into(), Value::String(id.clone()));
        Value::Object(r)
    };
    match (subject, property) {
        (Subject::Reverse(referenced), Some(p)) => {
            append(node_mut(map, graph, &id), p, referenced.clone(), true);
        }
        (Subject::Node(s), Some(p)) => match list {
            Some(list) => list.push(reference()),
            None => append(node_mut(map, graph, s), p, reference(), true),
        },
        _ => {}
    }
    if let Some(types) = element.get("@type") {
        let node = node_mut(map, graph, &id);
        for t in crate::validation::as_items(types) {
            append(node, "@type", t.clone(), true);
        }
    }
    if let Some(index) = element.get("@index") {
        let node = node_mut(map, graph, &id);
        match node.get("@index") {
            Some(existing) if existing != index => {
                return Err(data_loss(format!("conflicting @index values for {id}")))
            }
            _ => {
                node.insert("@index".into(), index.clone());
            }
        }
    }
    if let Some(Value::Object(reverse)) = element.remove("@reverse") {
        let referenced = Subject::Reverse(reference());
        for (p, values) in reverse {
            generate(values, map, graph, &referenced, Some(&p), None, issuer)?;
        }
    }
    if let Some(inner) = element.remove("@graph") {
        map.entry(id.clone()).or_default();
        generate(inner, map, &id, &Subject::None, None, None, issuer)?;
    }
    if let Some(included) = element.remove("@included") {
        generate(included, map, graph, &Subject::None, None, None, issuer)?;
    }
    let mut properties: Vec<(String, Value)> = element
        .into_iter()
        .filter(|(k, _)| !matches!(k.as_str(), "@id" | "@type" | "@index"))
        .collect();
    properties.sort_by(|a, b| a.0.cmp(&b.0));
    let subject = Subject::Node(id.clone());
    for (p, value) in properties {
        let p = if is_blank(&p) {
            issuer.issue(Some(&p))
        } else {
            p
        };
        node_mut(map, graph, &id)
            .entry(p.clone())
            .or_insert_with(|| Value::Array(Vec::new()));
        generate(value, map, graph, &subject, Some(&p), None, issuer)?;
    }
    Ok(())
}

fn relabel_all(types: &mut Value, issuer: &mut BlankIssuer) {
    let relabel = |t: &mut Value, issuer: &mut BlankIssuer| {
        if let Some(s) = t.as_str().filter(|s| is_blank(s)) {
            *t = Value::String(issuer.issue(Some(s)));
        }
    };
    match types {
        Value::Array(items) => items.iter_mut().for_each(|t| relabel(t, issuer)),
        t => relabel(t, issuer),
    }
}

fn node_mut<'a>(map: &'a mut NodeMap, graph: &str, id: &str) -> &'a mut Map<String, Value> {
    // Looked up before inserting: this runs for every property of every node, and
    // `entry` would allocate both keys each time.
    if !map.contains_key(graph) {
        map.insert(graph.to_owned(), BTreeMap::new());
    }
    let nodes = map.get_mut(graph).expect("inserted above");
    if !nodes.contains_key(id) {
        let mut node = Map::new();
        node.insert("@id".into(), Value::String(id.to_owned()));
        nodes.insert(id.to_owned(), node);
    }
    nodes.get_mut(id).expect("inserted above")
}

/// A subject, object or graph identifier: an absolute IRI or a blank node.
fn node_id(id: &str) -> Result<Term, JsonLdError> {
    match id.strip_prefix("_:") {
        Some(label) if !label.is_empty() => Ok(Term::Blank(label.to_owned())),
        Some(_) => Err(data_loss("an empty blank node identifier")),
        None => iri(id).map(Term::Iri),
    }
}

fn iri(text: &str) -> Result<String, JsonLdError> {
    if crate::validation::is_url(text) {
        Ok(text.to_owned())
    } else {
        Err(data_loss(format!(
            "{text:?} is not an absolute IRI and would be dropped"
        )))
    }
}

/// BCP 47 well-formedness, as JSON-LD checks it: alphanumeric subtags of 1–8
/// characters, the first alphabetic.
fn is_language_tag(tag: &str) -> bool {
    let mut subtags = tag.split('-');
    let first_ok = subtags
        .next()
        .is_some_and(|s| (1..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphabetic()));
    first_ok
        && subtags
            .all(|s| (1..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// JSON-LD 1.1 API §8.3, Deserialize JSON-LD to RDF (no generalized RDF; `rdfDirection`
/// null, so `@direction` is not represented, as in jsonld.js and pyld).
fn deserialize(
    map: &NodeMap,
    issuer: &mut BlankIssuer,
    options: &RdfOptions,
) -> Result<Vec<Quad>, JsonLdError> {
    let mut quads = Vec::new();
    let rdf_type = RDF_TYPE.to_owned();
    for (graph_name, graph) in map {
        let graph_label = if graph_name == DEFAULT_GRAPH {
            None
        } else {
            match keep(options, node_id(graph_name))? {
                Some(label) => Some(label),
                None => continue,
            }
        };
        for (subject, node) in graph {
            let Some(subject) = keep(options, node_id(subject))? else {
                continue;
            };
            let mut properties: Vec<(&String, &Value)> = node.iter().collect();
            properties.sort_by(|a, b| a.0.cmp(b.0));
            for (property, values) in properties {
                let values = crate::validation::as_items(values);
                if property == "@type" {
                    for t in values {
                        let t = t
                            .as_str()
                            .ok_or_else(|| data_loss("a type that is not a string"))?;
                        quads.push(Quad {
                            subject: subject.clone(),
                            predicate: rdf_type.clone(),
                            object: match keep(options, node_id(t))? {
                                Some(object) => object,
                                None => continue,
                            },
                            graph: graph_label.clone(),
                        });
                    }
                    continue;
                }
                if property.starts_with('@') {
                    continue;
                }
                if is_blank(property) {
                    if !options.safe {
                        continue;
                    }
                    return Err(data_loss(format!(
                        "the blank node {property} is used as a property (generalized RDF)"
                    )));
                }
                let Some(predicate) = keep(options, iri(property))? else {
                    continue;
                };
                for item in values {
                    let mut list_quads = Vec::new();
                    if let Some(object) = object_to_rdf(item, &mut list_quads, issuer, options)? {
                        quads.push(Quad {
                            subject: subject.clone(),
                            predicate: predicate.clone(),
                            object,
                            graph: graph_label.clone(),
                        });
                    }
                    quads.extend(
                        list_quads
                            .into_iter()
                            .map(|(subject, predicate, object)| Quad {
                                subject,
                                predicate,
                                object,
                                graph: graph_label.clone(),
                            }),
                    );
                }
            }
        }
    }
    Ok(quads)
}

type Triple = (Term, String, Term);

/// JSON-LD 1.1 API §8.3.2, Object to RDF Conversion.
fn object_to_rdf(
    item: &Value,
    triples: &mut Vec<Triple>,
    issuer: &mut BlankIssuer,
    options: &RdfOptions,
) -> Result<Option<Term>, JsonLdError> {
    let Some(object) = item.as_object() else {
        return Err(data_loss(
            "an expanded property value that is not an object",
        ));
    };
    if let Some(members) = object.get("@list") {
        return list_to_rdf(
            crate::validation::as_items(members),
            triples,
            issuer,
            options,
        )
        .map(Some);
    }
    let Some(value) = object.get("@value") else {
        // A node reference.
        let id = object
            .get("@id")
            .and_then(Value::as_str)
            .ok_or_else(|| data_loss("a node reference without @id"))?;
        return keep(options, node_id(id));
    };
    let mut datatype = object
        .get("@type")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let language = object.get("@language").and_then(Value::as_str);
    let lexical = if datatype.as_deref() == Some("@json") {
        datatype = Some(format!("{RDF}JSON"));
        String::from_utf8(crate::jcs::canonicalize(value)).expect("JCS output is UTF-8")
    } else {
        match value {
            Value::Bool(b) => {
                datatype.get_or_insert_with(|| XSD_BOOLEAN.to_owned());
                b.to_string()
            }
            Value::Number(n) => {
                let double_type = XSD_DOUBLE.to_owned();
                let typed_double = datatype.as_deref() == Some(double_type.as_str());
                let (text, integer) = number_literal(n, typed_double);
                if integer {
                    datatype.get_or_insert_with(|| XSD_INTEGER.to_owned());
                } else {
                    datatype.get_or_insert(double_type);
                }
                text
            }
            Value::String(s) => s.clone(),
            _ => return Err(data_loss("a @value that is not a scalar")),
        }
    };
    let direction = object.get("@direction").and_then(Value::as_str);
    if let (Some(direction), Some(mode), None) = (direction, options.rdf_direction, &datatype) {
        let language = language.unwrap_or_default().to_lowercase();
        let string = |value: String| Term::Literal {
            value,
            datatype: XSD_STRING.to_owned(),
            language: None,
        };
        return Ok(Some(match mode {
            RdfDirection::I18nDatatype => Term::Literal {
                value: lexical,
                datatype: format!("https://www.w3.org/ns/i18n#{language}_{direction}"),
                language: None,
            },
            RdfDirection::CompoundLiteral => {
                let node = node_id(&issuer.issue(None))?;
                triples.push((node.clone(), format!("{RDF}value"), string(lexical)));
                if !language.is_empty() {
                    triples.push((node.clone(), format!("{RDF}language"), string(language)));
                }
                triples.push((
                    node.clone(),
                    format!("{RDF}direction"),
                    string(direction.to_owned()),
                ));
                node
            }
        }));
    }
    let (datatype, language) = match (datatype, language) {
        (Some(datatype), _) => match keep(options, iri(&datatype))? {
            Some(datatype) => (datatype, None),
            None => return Ok(None),
        },
        (None, Some(language)) if is_language_tag(language) => {
            (RDF_LANGSTRING.to_owned(), Some(language.to_owned()))
        }
        (None, Some(_)) if !options.safe => return Ok(None),
        (None, Some(language)) => {
            return Err(data_loss(format!(
                "{language:?} is not a well-formed language tag"
            )))
        }
        (None, None) => (XSD_STRING.to_owned(), None),
    };
    Ok(Some(Term::Literal {
        value: lexical,
        datatype,
        language,
    }))
}

/// JSON-LD 1.1 API §8.4, List to RDF Conversion.
fn list_to_rdf(
    members: &[Value],
    triples: &mut Vec<Triple>,
    issuer: &mut BlankIssuer,
    options: &RdfOptions,
) -> Result<Term, JsonLdError> {
    let nil = Term::Iri(RDF_NIL.to_owned());
    if members.is_empty() {
        return Ok(nil);
    }
    let (first, rest) = (RDF_FIRST.to_owned(), RDF_REST.to_owned());
    let nodes: Vec<Term> = members
        .iter()
        .map(|_| node_id(&issuer.issue(None)))
        .collect::<Result<_, _>>()?;
    for (i, member) in members.iter().enumerate() {
        let mut embedded = Vec::new();
        if let Some(object) = object_to_rdf(member, &mut embedded, issuer, options)? {
            triples.push((nodes[i].clone(), first.clone(), object));
        }
        let next = nodes.get(i + 1).cloned().unwrap_or_else(|| nil.clone());
        triples.push((nodes[i].clone(), rest.clone(), next));
        triples.extend(embedded);
    }
    Ok(nodes[0].clone())
}

/// A JSON number's RDF literal: its lexical form, and whether it is an xsd:integer
/// (else an xsd:double).
///
/// JSON-LD's numbers are ECMAScript doubles: an integral one below 10^21 (not typed
/// double) is an xsd:integer written as `toFixed(0)` writes the double, so a long integer
/// is first rounded to the nearest double (12914528248096470000 is 12914528248096468992,
/// as jsonld.js signs it).
fn number_literal(n: &serde_json::Number, typed_double: bool) -> (String, bool) {
    let f = n.as_f64().unwrap_or(0.0);
    if f.fract() == 0.0 && f.abs() < 1e21 && !typed_double {
        let text = if f == 0.0 {
            "0".to_owned() // also -0
        } else {
            format!("{f:.0}")
        };
        (text, true)
    } else {
        (canonical_double(f), false)
    }
}

/// The canonical lexical form of an xsd:double, as JSON-LD (and jsonld.js) writes it:
/// `toExponential(15)` with trailing zeros of the mantissa removed, e.g. `1.5E0`.
///
/// ECMAScript's `toExponential` rounds a tie up (to the larger magnitude) where Rust's
/// formatting rounds it to even, so the rounding is done here on the exact decimal
/// expansion (at most 767 significant digits for an f64). Found by Digital Bazaar's
/// signer: 461.01373291015625 is `4.610137329101563E2`, not `…562E2`.
fn canonical_double(f: f64) -> String {
    let exact = format!("{:.800e}", f.abs());
    let (mantissa, exponent) = exact.split_once('e').unwrap_or((&exact, "0"));
    let mut exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    let mut kept: Vec<u8> = digits[..16].to_vec();
    if digits[16] >= b'5' {
        let mut i = 15;
        loop {
            if kept[i] != b'9' {
                kept[i] += 1;
                break;
            }
            kept[i] = b'0';
            if i == 0 {
                kept.insert(0, b'1');
                kept.pop();
                exponent += 1;
                break;
            }
            i -= 1;
        }
    }
    let fraction = std::str::from_utf8(&kept[1..])
        .unwrap_or("0")
        .trim_end_matches('0');
    format!(
        "{}{}.{}E{exponent}",
        if f < 0.0 { "-" } else { "" },
        kept[0] as char,
        if fraction.is_empty() { "0" } else { fraction }
    )
}

#[cfg(test)]
mod tests {
    use super::{canonical_double, number_literal};

    #[test]
    fn numbers_are_ecmascript_doubles() {
        let literal = |text: &str| {
            let n: serde_json::Number = serde_json::from_str(text).unwrap();
            number_literal(&n, false)
        };
        assert_eq!(literal("42"), ("42".into(), true));
        assert_eq!(literal("-0"), ("0".into(), true));
        assert_eq!(literal("2.0"), ("2".into(), true));
        assert_eq!(
            literal("12914528248096470000"),
            ("12914528248096468992".into(), true)
        );
        assert_eq!(
            literal("-9007199254740993"),
            ("-9007199254740992".into(), true)
        );
        assert_eq!(literal("1e21"), ("1.0E21".into(), false));
        assert_eq!(literal("0.5"), ("5.0E-1".into(), false));
        let n: serde_json::Number = serde_json::from_str("7").unwrap();
        assert_eq!(number_literal(&n, true), ("7.0E0".into(), false));
    }

    #[test]
    fn doubles_are_written_as_json_ld_does() {
        assert_eq!(canonical_double(1.5), "1.5E0");
        assert_eq!(canonical_double(0.1), "1.0E-1");
        assert_eq!(canonical_double(42.5), "4.25E1");
        assert_eq!(canonical_double(-2.0e30), "-2.0E30");
        assert_eq!(canonical_double(0.0), "0.0E0");
        // Ties round up, as ECMAScript's toExponential does (Rust's formatting rounds
        // them to even): values jsonld.js signs.
        assert_eq!(canonical_double(461.01373291015625), "4.610137329101563E2");
        assert_eq!(
            canonical_double(-461.01373291015625),
            "-4.610137329101563E2"
        );
        assert_eq!(canonical_double(0.30000000000000004), "3.0E-1");
        assert_eq!(canonical_double(9.9999999999999995), "1.0E1");
        assert_eq!(canonical_double(1e21), "1.0E21");
        assert_eq!(canonical_double(5e-324), "4.940656458412465E-324");
    }
}

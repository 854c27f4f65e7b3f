//! JSON-LD 1.1 API §5.1 Expansion (with §5.3 Value Expansion), in JSON-LD 1.1 processing
//! mode, over `serde_json` values.
//!
//! Safe mode (what Data Integrity signing needs, and what 1EdTech's validator and Digital
//! Bazaar's `safe` option do): where the algorithm would silently drop a property or keep
//! a type that is not an absolute IRI, expansion fails instead, naming the JSON path.

use serde_json::{Map, Value};
use std::borrow::Cow;
use std::sync::Arc;

use crate::validation::as_items;

use super::context::{fail, is_keyword, ActiveContext, Container, Failure, Flags, Processor};

/// Where in the input document expansion is: a chain of keys and indices, rendered
/// only when an error needs it.
#[derive(Clone, Copy)]
pub(crate) enum Path<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl std::fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Path::Root => f.write_str("$"),
            Path::Key(parent, key) => {
                write!(f, "{parent}")?;
                if key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '@')
                {
                    write!(f, ".{key}")
                } else {
                    write!(f, "[{key:?}]")
                }
            }
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

/// A failure with the JSON path where it happened.
#[derive(Debug)]
pub(crate) struct Located {
    pub failure: Failure,
    pub path: String,
}

fn at<T>(path: &Path<'_>, result: Result<T, Failure>) -> Result<T, Located> {
    result.map_err(|failure| Located {
        failure,
        path: path.to_string(),
    })
}

fn fail_at<T>(
    path: &Path<'_>,
    code: &'static str,
    detail: impl Into<String>,
) -> Result<T, Located> {
    at(path, fail(code, detail))
}

/// What the entries of one node object expand against (§5.1 step 13's inputs).
#[derive(Clone, Copy)]
struct Frame<'a> {
    active: &'a Arc<ActiveContext>,
    /// The context before type-scoped contexts applied, for `@type` values.
    type_scoped: &'a Arc<ActiveContext>,
    active_property: Option<&'a str>,
    /// The node's last type, expanded (`@json` makes `@value` a JSON literal).
    input_type: Option<&'a str>,
}

/// Expansion of one document.
pub(crate) struct Expander<'c> {
    pub processor: Processor<'c>,
    /// Refuse what standard expansion would drop (see the module documentation).
    pub safe: bool,
    /// The document's URL, for relative context references.
    pub base_url: Option<String>,
}

fn into_vec(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        Value::Null => Vec::new(),
        single => vec![single],
    }
}

/// §5.1 "add value" with `as array` true.
fn add_value(object: &mut Map<String, Value>, key: &str, value: Value) {
    let entry = object
        .entry(key.to_owned())
        .or_insert_with(|| Value::Array(Vec::new()));
    if !entry.is_array() {
        let old = entry.take();
        *entry = Value::Array(vec![old]);
    }
    let Value::Array(items) = entry else {
        unreachable!("made an array above")
    };
    match value {
        Value::Array(values) => items.extend(values),
        single => items.push(single),
    }
}

/// Adds `items` to `result`'s reverse map under `property` (§5.1 steps 13.4.13.4 and
/// 13.13): a reverse property links node objects only.
fn add_reverse(
    result: &mut Map<String, Value>,
    property: &str,
    items: Value,
    path: &Path<'_>,
) -> Result<(), Located> {
    let Value::Object(reverse_map) = result
        .entry("@reverse")
        .or_insert_with(|| Value::Object(Map::new()))
    else {
        return fail_at(
            path,
            "invalid reverse property map",
            "@reverse is not an object",
        );
    };
    for item in into_vec(items) {
        if is_value_object(&item) || is_list_object(&item) {
            return fail_at(
                path,
                "invalid reverse property value",
                "a reverse property cannot hold values or lists",
            );
        }
        add_value(reverse_map, property, item);
    }
    Ok(())
}

fn is_value_object(value: &Value) -> bool {
    value.get("@value").is_some()
}

fn is_list_object(value: &Value) -> bool {
    value.get("@list").is_some()
}

fn is_graph_object(value: &Value) -> bool {
    value.as_object().is_some_and(|m| {
        m.contains_key("@graph")
            && m.keys()
                .all(|k| matches!(k.as_str(), "@graph" | "@id" | "@index" | "@context"))
    })
}

impl Expander<'_> {
    /// Expands a whole document (JSON-LD 1.1 API `expand()`, steps after loading).
    pub(crate) fn expand_document(
        &self,
        document: &Value,
        active: Arc<ActiveContext>,
    ) -> Result<Vec<Value>, Located> {
        let expanded = self.expand(&active, None, document, false, &Path::Root)?;
        let expanded = match expanded {
            Value::Object(mut m) if m.len() == 1 && m.contains_key("@graph") => {
                m.remove("@graph").unwrap_or(Value::Null)
            }
            other => other,
        };
        Ok(into_vec(expanded))
    }

    /// §5.1: `Value::Null` is null.
    fn expand(
        &self,
        active: &Arc<ActiveContext>,
        active_property: Option<&str>,
        element: &Value,
        from_map: bool,
        path: &Path<'_>,
    ) -> Result<Value, Located> {
        let property_definition = active_property.and_then(|p| active.term(p));
        let property_scoped =
            property_definition.and_then(|d| d.context.clone().map(|c| (c, d.base_url.clone())));
        match element {
            Value::Null => Ok(Value::Null),
            Value::Array(items) => {
                let list = property_definition.is_some_and(|d| d.container.has(Container::LIST));
                let mut result = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let expanded = self.expand(
                        active,
                        active_property,
                        item,
                        from_map,
                        &Path::Index(path, i),
                    )?;
                    match expanded {
                        Value::Array(inner) if list => result.push(Value::Object(Map::from_iter(
                            [("@list".to_owned(), Value::Array(inner))],
                        ))),
                        Value::Array(inner) => result.extend(inner),
                        Value::Null => {}
                        other => result.push(other),
                    }
                }
                Ok(Value::Array(result))
            }
            Value::Object(element) => self.expand_object(
                active,
                active_property,
                element,
                from_map,
                property_scoped,
                path,
            ),
            scalar => {
                if matches!(active_property, None | Some("@graph")) {
                    return Ok(Value::Null);
                }
                let active = match &property_scoped {
                    Some((scoped, base)) => at(
                        path,
                        self.processor.apply_scoped(
                            active,
                            scoped,
                            base.as_deref(),
                            Flags::DEFAULT,
                        ),
                    )?,
                    None => active.clone(),
                };
                Ok(value_expansion(
                    &active,
                    active_property.unwrap_or_default(),
                    scalar,
                ))
            }
        }
    }

    fn expand_object(
        &self,
        active: &Arc<ActiveContext>,
        active_property: Option<&str>,
        element: &Map<String, Value>,
        from_map: bool,
        property_scoped: Option<(Arc<super::context::Scoped>, Option<String>)>,
        path: &Path<'_>,
    ) -> Result<Value, Located> {
        let mut active = active.clone();
        // Step 7: a type-scoped context does not reach into new node objects.
        if let Some(previous) = &active.previous {
            if !from_map {
                let mut value_or_id_only = false;
                for key in element.keys() {
                    if active.is_alias_of(key, "@value")
                        || (element.len() == 1 && active.is_alias_of(key, "@id"))
                    {
                        value_or_id_only = true;
                    }
                }
                if !value_or_id_only {
                    active = previous.clone();
                }
            }
        }
        if let Some((scoped, base)) = &property_scoped {
            let flags = Flags {
                override_protected: true,
                propagate: true,
            };
            active = at(
                path,
                self.processor
                    .apply_scoped(&active, scoped, base.as_deref(), flags),
            )?;
        }
        if let Some(local) = element.get("@context") {
            let context_path = Path::Key(path, "@context");
            active = at(
                &context_path,
                self.processor.process(
                    &active,
                    local,
                    self.base_url.as_deref(),
                    &mut Vec::new(),
                    Flags::DEFAULT,
                    true,
                ),
            )?;
        }
        let type_scoped = active.clone();
        let mut keys: Vec<&String> = element.keys().collect();
        keys.sort_unstable();
        let type_keys: Vec<&String> = keys
            .iter()
            .copied()
            .filter(|k| active.is_alias_of(k, "@type"))
            .collect();
        for key in &type_keys {
            let mut terms: Vec<&str> = as_items(&element[key.as_str()])
                .iter()
                .filter_map(Value::as_str)
                .collect();
            terms.sort_unstable();
            for term in terms {
                if let Some(definition) = type_scoped.term(term) {
                    if let Some(scoped) = &definition.context {
                        let flags = Flags {
                            override_protected: false,
                            propagate: false,
                        };
                        active = at(
                            path,
                            self.processor.apply_scoped(
                                &active,
                                scoped,
                                definition.base_url.as_deref(),
                                flags,
                            ),
                        )?;
                    }
                }
            }
        }
        let input_type = type_keys
            .first()
            .and_then(|k| as_items(&element[k.as_str()]).last())
            .and_then(Value::as_str)
            .and_then(|t| active.expand_iri(t, false, true));
        let mut result = Map::new();
        let mut nests: Vec<String> = Vec::new();
        let frame = Frame {
            active: &active,
            type_scoped: &type_scoped,
            active_property,
            input_type: input_type.as_deref(),
        };
        self.expand_entries(frame, element, &keys, &mut result, &mut nests, path)?;
        self.expand_nests(frame, element, nests, &mut result, path)?;
        self.finish_object(active_property, result, path)
    }

    /// Step 14: the entries of nested objects, as if they were the element's own.
    fn expand_nests(
        &self,
        frame: Frame<'_>,
        element: &Map<String, Value>,
        mut nests: Vec<String>,
        result: &mut Map<String, Value>,
        path: &Path<'_>,
    ) -> Result<(), Located> {
        let active = frame.active;
        nests.sort_unstable();
        for nesting_key in nests {
            let nest_path = Path::Key(path, &nesting_key);
            let nested_values = as_items(&element[nesting_key.as_str()]);
            for (i, nested) in nested_values.iter().enumerate() {
                let nested_path = Path::Index(&nest_path, i);
                let Value::Object(nested) = nested else {
                    return fail_at(
                        &nested_path,
                        "invalid @nest value",
                        "a nested value must be an object",
                    );
                };
                let mut nested_active = active.clone();
                if let Some(definition) = active.term(&nesting_key) {
                    if let Some(scoped) = &definition.context {
                        let flags = Flags {
                            override_protected: true,
                            propagate: true,
                        };
                        nested_active = at(
                            &nested_path,
                            self.processor.apply_scoped(
                                active,
                                scoped,
                                definition.base_url.as_deref(),
                                flags,
                            ),
                        )?;
                    }
                }
                if nested
                    .keys()
                    .any(|k| nested_active.is_alias_of(k, "@value"))
                {
                    return fail_at(
                        &nested_path,
                        "invalid @nest value",
                        "a nested value cannot be a value object",
                    );
                }
                let mut keys: Vec<&String> = nested.keys().collect();
                keys.sort_unstable();
                let mut inner_nests = Vec::new();
                let nested_frame = Frame {
                    active: &nested_active,
                    ..frame
                };
                self.expand_entries(
                    nested_frame,
                    nested,
                    &keys,
                    result,
                    &mut inner_nests,
                    &nested_path,
                )?;
                self.expand_nests(nested_frame, nested, inner_nests, result, &nested_path)?;
            }
        }
        Ok(())
    }

    /// Step 13: each entry of `element` into `result`.
    fn expand_entries(
        &self,
        frame: Frame<'_>,
        element: &Map<String, Value>,
        keys: &[&String],
        result: &mut Map<String, Value>,
        nests: &mut Vec<String>,
        path: &Path<'_>,
    ) -> Result<(), Located> {
        let active = frame.active;
        for &key in keys {
            if key == "@context" {
                continue;
            }
            let value = &element[key.as_str()];
            let key_path = Path::Key(path, key);
            let expanded_property = match active.expand_iri(key, false, true) {
                Some(p) if p.contains(':') || is_keyword(&p) => p,
                other => {
                    if self.safe {
                        let what = match other {
                            Some(p) => format!("expands to the relative IRI {p:?}"),
                            None => "is not defined".to_owned(),
                        };
                        return fail_at(
                            &key_path,
                            "invalid property",
                            format!("the property {key:?} {what} by the document's contexts"),
                        );
                    }
                    continue;
                }
            };
            if is_keyword(&expanded_property) {
                self.expand_keyword(
                    frame,
                    key,
                    &expanded_property,
                    value,
                    result,
                    nests,
                    &key_path,
                )?;
                continue;
            }
            self.expand_property(active, key, &expanded_property, value, result, &key_path)?;
        }
        Ok(())
    }

    /// Step 13.4: an entry whose key is (an alias of) a keyword.
    #[allow(clippy::too_many_arguments)]
    fn expand_keyword(
        &self,
        frame: Frame<'_>,
        key: &str,
        keyword: &str,
        value: &Value,
        result: &mut Map<String, Value>,
        nests: &mut Vec<String>,
        path: &Path<'_>,
    ) -> Result<(), Located> {
        let Frame {
            active,
            type_scoped,
            active_property,
            input_type,
        } = frame;
        if active_property == Some("@reverse") {
            return fail_at(
                path,
                "invalid reverse property map",
                "a reverse property map cannot hold keywords",
            );
        }
        if result.contains_key(keyword) && keyword != "@included" && keyword != "@type" {
            return fail_at(
                path,
                "colliding keywords",
                format!("{keyword} is given twice (through aliases)"),
            );
        }
        let expanded: Value = match keyword {
            "@id" => {
                let Value::String(id) = value else {
                    return fail_at(path, "invalid @id value", "@id must be a string");
                };
                // A reserved `@…` form expands to null and is kept as null; its node is
                // then dropped from RDF, which safe mode refuses.
                let iri = active
                    .expand_iri(id, true, false)
                    .map_or(Value::Null, |i| Value::String(i.into_owned()));
                if self.safe && iri.is_null() {
                    return fail_at(
                        path,
                        "invalid @id value",
                        format!("the @id {id:?} is a reserved keyword form"),
                    );
                }
                result.insert("@id".into(), iri);
                return Ok(());
            }
            "@type" => {
                let strings: Vec<&str> = match value {
                    Value::String(s) => vec![s],
                    Value::Array(items) => items
                        .iter()
                        .map(|v| v.as_str())
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| Located {
                            failure: Failure {
                                code: "invalid type value",
                                detail: "@type must be a string or an array of strings".into(),
                            },
                            path: path.to_string(),
                        })?,
                    _ => {
                        return fail_at(
                            path,
                            "invalid type value",
                            "@type must be a string or an array of strings",
                        )
                    }
                };
                let mut types = Vec::with_capacity(strings.len());
                for (i, t) in strings.iter().enumerate() {
                    let expanded = type_scoped.expand_iri(t, true, true);
                    if self.safe {
                        let ok = expanded.as_deref().is_some_and(|e| {
                            super::iri::is_absolute(e)
                                || e.starts_with("_:")
                                || e == "@json"
                                || e == "@none"
                        });
                        if !ok {
                            let type_path = if value.is_array() {
                                Path::Index(path, i)
                            } else {
                                *path
                            };
                            return fail_at(
                                &type_path,
                                "invalid type value",
                                format!("the type {t:?} is not defined by the document's contexts"),
                            );
                        }
                    }
                    types.push(expanded.map_or(Value::Null, |e| Value::String(e.into_owned())));
                }
                let mut expanded = if value.is_array() {
                    Value::Array(types)
                } else {
                    types.pop().unwrap_or(Value::Null)
                };
                if let Some(existing) = result.remove("@type") {
                    let mut all = into_vec(existing);
                    all.extend(into_vec(expanded));
                    expanded = Value::Array(all);
                }
                expanded
            }
            "@graph" => {
                let graph = self.expand(active, Some("@graph"), value, false, path)?;
                Value::Array(
                    into_vec(graph)
                        .into_iter()
                        .filter(Value::is_object)
                        .collect(),
                )
            }
            "@included" => {
                let included = match self.expand(active, None, value, false, path)? {
                    Value::Array(items) => items,
                    single => vec![single],
                };
                if included.iter().any(|v| {
                    !v.is_object()
                        || is_value_object(v)
                        || is_list_object(v)
                        || v.get("@set").is_some()
                }) {
                    return fail_at(
                        path,
                        "invalid @included value",
                        "@included must hold node objects",
                    );
                }
                let mut all = result.remove("@included").map(into_vec).unwrap_or_default();
                all.extend(included);
                Value::Array(all)
            }
            "@value" => {
                if input_type == Some("@json") {
                    result.insert("@value".into(), value.clone());
                    return Ok(());
                }
                if value.is_object() || value.is_array() {
                    return fail_at(
                        path,
                        "invalid value object value",
                        "@value must be a string, number, boolean or null",
                    );
                }
                if value.is_null() {
                    result.insert("@value".into(), Value::Null);
                    return Ok(());
                }
                value.clone()
            }
            "@language" => match value {
                Value::String(s) => Value::String(s.to_lowercase()),
                _ => {
                    return fail_at(
                        path,
                        "invalid language-tagged string",
                        "@language must be a string",
                    )
                }
            },
            "@direction" => match value.as_str() {
                Some("ltr" | "rtl") => value.clone(),
                _ => {
                    return fail_at(
                        path,
                        "invalid base direction",
                        "@direction must be \"ltr\" or \"rtl\"",
                    )
                }
            },
            "@index" => match value {
                Value::String(_) => value.clone(),
                _ => return fail_at(path, "invalid @index value", "@index must be a string"),
            },
            "@list" => {
                if matches!(active_property, None | Some("@graph")) {
                    return Ok(());
                }
                Value::Array(into_vec(self.expand(
                    active,
                    active_property,
                    value,
                    false,
                    path,
                )?))
            }
            "@set" => self.expand(active, active_property, value, false, path)?,
            "@reverse" => {
                if !value.is_object() {
                    return fail_at(path, "invalid @reverse value", "@reverse must be an object");
                }
                let Value::Object(mut expanded) =
                    self.expand(active, Some("@reverse"), value, false, path)?
                else {
                    return Ok(());
                };
                if let Some(Value::Object(twice)) = expanded.remove("@reverse") {
                    for (property, items) in twice {
                        add_value(result, &property, items);
                    }
                }
                for (property, items) in expanded {
                    add_reverse(result, &property, items, path)?;
                }
                return Ok(());
            }
            "@nest" => {
                if !nests.iter().any(|n| n == key) {
                    nests.push(key.to_owned());
                }
                return Ok(());
            }
            _ => return Ok(()),
        };
        if !expanded.is_null() {
            result.insert(keyword.to_owned(), expanded);
        }
        Ok(())
    }

    /// Steps 13.5–13.13: an entry whose key is a property.
    fn expand_property(
        &self,
        active: &Arc<ActiveContext>,
        key: &str,
        expanded_property: &str,
        value: &Value,
        result: &mut Map<String, Value>,
        path: &Path<'_>,
    ) -> Result<(), Located> {
        let definition = active.term(key);
        let container = definition.map(|d| d.container).unwrap_or_default();
        let mut expanded = if definition.and_then(|d| d.type_mapping.as_deref()) == Some("@json") {
            Value::Object(Map::from_iter([
                ("@value".to_owned(), value.clone()),
                ("@type".to_owned(), Value::String("@json".into())),
            ]))
        } else if let (true, Value::Object(map)) = (container.has(Container::LANGUAGE), value) {
            self.expand_language_map(active, key, map, path)?
        } else if let (true, Value::Object(map)) = (
            container.has(Container::INDEX)
                || container.has(Container::TYPE)
                || container.has(Container::ID),
            value,
        ) {
            self.expand_index_map(active, key, container, map, path)?
        } else {
            self.expand(active, Some(key), value, false, path)?
        };
        if expanded.is_null() {
            return Ok(());
        }
        if container.has(Container::LIST) && !is_list_object(&expanded) {
            let items = into_vec(expanded);
            expanded = Value::Object(Map::from_iter([("@list".to_owned(), Value::Array(items))]));
        }
        if container.has(Container::GRAPH)
            && !container.has(Container::ID)
            && !container.has(Container::INDEX)
        {
            expanded = Value::Array(
                into_vec(expanded)
                    .into_iter()
                    .map(|ev| {
                        Value::Object(Map::from_iter([(
                            "@graph".to_owned(),
                            Value::Array(into_vec(ev)),
                        )]))
                    })
                    .collect(),
            );
        }
        if definition.is_some_and(|d| d.reverse) {
            add_reverse(result, expanded_property, expanded, path)?;
        } else {
            add_value(result, expanded_property, expanded);
        }
        Ok(())
    }

    /// Step 13.7: a language map.
    fn expand_language_map(
        &self,
        active: &Arc<ActiveContext>,
        key: &str,
        map: &Map<String, Value>,
        path: &Path<'_>,
    ) -> Result<Value, Located> {
        let definition = active.term(key);
        let direction = match definition.and_then(|d| d.direction) {
            Some(d) => d,
            None => active.direction,
        };
        let mut languages: Vec<(&String, &Value)> = map.iter().collect();
        languages.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut expanded = Vec::new();
        for (language, language_value) in languages {
            let language_path = Path::Key(path, language);
            for item in as_items(language_value) {
                match item {
                    Value::Null => continue,
                    Value::String(_) => {}
                    _ => {
                        return fail_at(
                            &language_path,
                            "invalid language map value",
                            "a language map holds strings",
                        )
                    }
                }
                let mut v = Map::new();
                v.insert("@value".into(), item.clone());
                let none = language == "@none"
                    || active.expand_iri(language, false, true).as_deref() == Some("@none");
                if !none {
                    v.insert("@language".into(), Value::String(language.to_lowercase()));
                }
                if let Some(d) = direction {
                    v.insert("@direction".into(), Value::String(d.as_str().into()));
                }
                expanded.push(Value::Object(v));
            }
        }
        Ok(Value::Array(expanded))
    }

    /// Step 13.8: an index, id or type map.
    fn expand_index_map(
        &self,
        active: &Arc<ActiveContext>,
        key: &str,
        container: Container,
        map: &Map<String, Value>,
        path: &Path<'_>,
    ) -> Result<Value, Located> {
        let index_key = active
            .term(key)
            .and_then(|d| d.index.clone())
            .unwrap_or_else(|| "@index".into());
        let mut entries: Vec<(&String, &Value)> = map.iter().collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut expanded = Vec::new();
        for (index, index_value) in entries {
            let index_path = Path::Key(path, index);
            let mut map_context = active.clone();
            if container.has(Container::ID) || container.has(Container::TYPE) {
                if let Some(previous) = &active.previous {
                    map_context = previous.clone();
                }
            }
            if container.has(Container::TYPE) {
                if let Some(definition) = map_context.term(index) {
                    if let Some(scoped) = definition.context.clone() {
                        let base = definition.base_url.clone();
                        map_context = at(
                            &index_path,
                            self.processor.apply_scoped(
                                &map_context,
                                &scoped,
                                base.as_deref(),
                                Flags::DEFAULT,
                            ),
                        )?;
                    }
                }
            }
            let expanded_index = active.expand_iri(index, false, true);
            let items = match index_value {
                Value::Array(_) => index_value.clone(),
                single => Value::Array(vec![single.clone()]),
            };
            let items =
                into_vec(self.expand(&map_context, Some(key), &items, true, &index_path)?);
            for mut item in items {
                if container.has(Container::GRAPH) && !is_graph_object(&item) {
                    item = Value::Object(Map::from_iter([(
                        "@graph".to_owned(),
                        Value::Array(into_vec(item)),
                    )]));
                }
                let none = expanded_index.as_deref() == Some("@none");
                let Value::Object(object) = &mut item else {
                    expanded.push(item);
                    continue;
                };
                if container.has(Container::INDEX) && index_key != "@index" && !none {
                    let re_expanded =
                        value_expansion(active, &index_key, &Value::String(index.clone()));
                    let Some(expanded_index_key) = active.expand_iri(&index_key, false, true)
                    else {
                        continue;
                    };
                    let mut values = vec![re_expanded];
                    if let Some(existing) = object.remove(expanded_index_key.as_ref()) {
                        values.extend(into_vec(existing));
                    }
                    object.insert(expanded_index_key.into_owned(), Value::Array(values));
                    if object.contains_key("@value") {
                        return fail_at(
                            &index_path,
                            "invalid value object",
                            "a value object cannot take a property-valued index",
                        );
                    }
                } else if container.has(Container::INDEX) && !object.contains_key("@index") && !none
                {
                    object.insert("@index".into(), Value::String(index.clone()));
                } else if container.has(Container::ID) && !object.contains_key("@id") && !none {
                    if let Some(id) = active.expand_iri(index, true, false) {
                        object.insert("@id".into(), Value::String(id.into_owned()));
                    }
                } else if container.has(Container::TYPE) && !none {
                    let mut types = vec![expanded_index
                        .clone()
                        .map_or(Value::Null, |e| Value::String(e.into_owned()))];
                    if let Some(existing) = object.remove("@type") {
                        types.extend(into_vec(existing));
                    }
                    object.insert("@type".into(), Value::Array(types));
                }
                expanded.push(item);
            }
        }
        Ok(Value::Array(expanded))
    }

    /// Steps 15–20: checks and simplifications of the expanded object.
    fn finish_object(
        &self,
        active_property: Option<&str>,
        mut result: Map<String, Value>,
        path: &Path<'_>,
    ) -> Result<Value, Located> {
        if result.contains_key("@value") {
            if result.keys().any(|k| {
                !matches!(
                    k.as_str(),
                    "@direction" | "@index" | "@language" | "@type" | "@value"
                )
            }) || (result.contains_key("@type")
                && (result.contains_key("@language") || result.contains_key("@direction")))
            {
                return fail_at(
                    path,
                    "invalid value object",
                    "a value object holds only @value, @type or @language/@direction, and @index",
                );
            }
            let json = result.get("@type").and_then(Value::as_str) == Some("@json");
            if !json {
                let value = &result["@value"];
                if value.is_null() || value.as_array().is_some_and(Vec::is_empty) {
                    return Ok(Value::Null);
                }
                if !value.is_string() && result.contains_key("@language") {
                    return fail_at(
                        path,
                        "invalid language-tagged value",
                        "only strings can be language-tagged",
                    );
                }
                if let Some(t) = result.get("@type") {
                    let ok = t.as_str().is_some_and(super::iri::is_absolute);
                    if !ok {
                        return fail_at(
                            path,
                            "invalid typed value",
                            format!("the datatype {t} is not an IRI"),
                        );
                    }
                }
            }
        } else if let Some(t) = result.get_mut("@type") {
            if !t.is_array() {
                let single = t.take();
                *t = Value::Array(vec![single]);
            }
        } else if result.contains_key("@set") || result.contains_key("@list") {
            if result.len() > 2 || (result.len() == 2 && !result.contains_key("@index")) {
                return fail_at(
                    path,
                    "invalid set or list object",
                    "@set and @list objects hold only @index besides",
                );
            }
            if let Some(set) = result.remove("@set") {
                return Ok(set);
            }
        }
        if result.len() == 1 && result.contains_key("@language") {
            return Ok(Value::Null);
        }
        if matches!(active_property, None | Some("@graph")) {
            let drop = result.is_empty()
                || result.contains_key("@value")
                || result.contains_key("@list")
                || (result.len() == 1 && result.contains_key("@id"));
            if drop {
                return Ok(Value::Null);
            }
        }
        Ok(Value::Object(result))
    }
}

/// §5.3 Value Expansion.
pub(crate) fn value_expansion(
    active: &ActiveContext,
    active_property: &str,
    value: &Value,
) -> Value {
    let definition = active.term(active_property);
    let type_mapping = definition.and_then(|d| d.type_mapping.as_deref());
    if let Value::String(s) = value {
        match type_mapping {
            Some("@id") => {
                return id_object(active.expand_iri(s, true, false).map(Cow::into_owned))
            }
            Some("@vocab") => {
                return id_object(active.expand_iri(s, true, true).map(Cow::into_owned))
            }
            _ => {}
        }
    }
    let mut result = Map::new();
    result.insert("@value".into(), value.clone());
    match type_mapping {
        Some(t) if !matches!(t, "@id" | "@vocab" | "@none") => {
            result.insert("@type".into(), Value::String(t.to_owned()));
        }
        _ if value.is_string() => {
            let language = match definition.and_then(|d| d.language.clone()) {
                Some(l) => l,
                None => active.language.clone(),
            };
            let direction = match definition.and_then(|d| d.direction) {
                Some(d) => d,
                None => active.direction,
            };
            if let Some(l) = language {
                result.insert("@language".into(), Value::String(l));
            }
            if let Some(d) = direction {
                result.insert("@direction".into(), Value::String(d.as_str().into()));
            }
        }
        _ => {}
    }
    Value::Object(result)
}

fn id_object(iri: Option<String>) -> Value {
    Value::Object(Map::from_iter([(
        "@id".to_owned(),
        iri.map_or(Value::Null, Value::String),
    )]))
}

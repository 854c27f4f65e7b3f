//! The W3C JSON-LD 1.1 test suites for expansion and toRdf (`testdata/json-ld-api/`),
//! run against Guildmark's own processor. Every test of each manifest runs; one that
//! does not apply is listed below with the reason, and a listed test that passes (or is
//! not in the manifest) fails the run, so the lists cannot rot.

use crate::common::vectors;
use guildmark_credentials::jsonld::dataset::{canonicalize, parse_nquads};
use guildmark_credentials::jsonld::{
    expand, to_rdf, Contexts, ExpandOptions, JsonLdError, RdfDirection, RdfOptions,
};
use serde_json::Value;
use std::path::Path;

/// Where the suite's documents live on the web; test documents name each other by it.
const SUITE_BASE: &str = "https://w3c.github.io/json-ld-api/tests/";

/// Expansion tests that do not apply, with the reason.
const EXPAND_SKIPPED: &[(&str, &str)] = &[];

/// toRdf tests that do not apply, with the reason.
const TO_RDF_SKIPPED: &[(&str, &str)] = &[];

/// Every `.jsonld` file of the suite, registered at its URL, so that relative and
/// absolute references to them resolve offline.
fn suite_contexts() -> Contexts {
    let mut contexts = Contexts::bundled();
    let root = vectors().join("json-ld-api");
    for dir in ["expand", "toRdf"] {
        let mut pending = vec![root.join(dir)];
        while let Some(folder) = pending.pop() {
            for entry in std::fs::read_dir(&folder).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    pending.push(path);
                    continue;
                }
                let rel = path
                    .strip_prefix(&root)
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .replace('\\', "/");
                if !rel.ends_with(".jsonld") && !rel.ends_with(".json") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                // Some inputs are deliberately not JSON (negative tests): they are never
                // loaded as contexts.
                let _ = contexts.register(&format!("{SUITE_BASE}{rel}"), &text);
            }
        }
    }
    contexts
}

/// One manifest entry.
struct Case<'a> {
    id: String,
    entry: &'a Value,
}

impl Case<'_> {
    fn option(&self, name: &str) -> Option<&Value> {
        self.entry.get("option").and_then(|o| o.get(name))
    }

    fn is_negative(&self) -> bool {
        self.entry["@type"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "jld:NegativeEvaluationTest")
    }

    /// Why the test does not apply to a JSON-LD 1.1 processor that never fetches, if so.
    fn not_applicable(&self) -> Option<&'static str> {
        if self.option("specVersion").and_then(Value::as_str) == Some("json-ld-1.0") {
            return Some("JSON-LD 1.0 only");
        }
        if self.option("processingMode").and_then(Value::as_str) == Some("json-ld-1.0") {
            return Some("JSON-LD 1.0 processing mode");
        }
        None
    }
}

fn manifest(name: &str) -> Value {
    let path = vectors().join("json-ld-api").join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn read_json(rel: &str) -> Result<Value, String> {
    let path = vectors().join("json-ld-api").join(rel);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{rel} is not JSON: {e}"))
}

/// JSON-LD object comparison (the suite's README): objects by member, arrays without
/// regard to order except `@list` values, language tags case-insensitively.
fn equivalent(a: &Value, b: &Value, key: Option<&str>) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| equivalent(v, w, Some(k))))
        }
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                return false;
            }
            if key == Some("@list") {
                return x.iter().zip(y).all(|(v, w)| equivalent(v, w, None));
            }
            let mut used = vec![false; y.len()];
            x.iter().all(|v| {
                let found = y
                    .iter()
                    .enumerate()
                    .find(|(i, w)| !used[*i] && equivalent(v, w, key));
                match found {
                    Some((i, _)) => {
                        used[i] = true;
                        true
                    }
                    None => false,
                }
            })
        }
        (Value::String(x), Value::String(y)) if key == Some("@language") => {
            x.eq_ignore_ascii_case(y)
        }
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// The options the processor takes for a test.
fn options(case: &Case<'_>, input: &str) -> Result<ExpandOptions, String> {
    let base = case
        .option("base")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{SUITE_BASE}{input}"));
    let expand_context = match case.option("expandContext").and_then(Value::as_str) {
        Some(rel) => Some(read_json(rel)?),
        None => None,
    };
    Ok(ExpandOptions {
        base: Some(base),
        expand_context,
        safe: false,
    })
}

/// A negative test's outcome: passed when `result` is the expected error.
fn expect_error<T>(
    case: &Case<'_>,
    result: Result<T, JsonLdError>,
    got: impl FnOnce(T) -> String,
) -> Result<(), String> {
    let expected = case.entry["expectErrorCode"].as_str().unwrap();
    match result {
        Err(e) if e.code() == Some(expected) => Ok(()),
        Err(e) => Err(format!(
            "expected the error {expected:?}, got {:?}: {e}",
            e.code()
        )),
        Ok(v) => Err(format!("expected the error {expected:?}, got {}", got(v))),
    }
}

/// Runs one expansion test: `Ok` when it passed.
fn run_expand(case: &Case<'_>, contexts: &Contexts) -> Result<(), String> {
    let input_rel = case.entry["input"].as_str().unwrap();
    let input = read_json(input_rel)?;
    let options = options(case, input_rel)?;
    let result = expand(&input, contexts, &options);
    if case.is_negative() {
        return expect_error(case, result, |v| Value::Array(v).to_string());
    }
    let expected = read_json(case.entry["expect"].as_str().unwrap())?;
    match result {
        Ok(v) => {
            let got = Value::Array(v);
            if equivalent(&got, &expected, None) {
                Ok(())
            } else {
                Err(format!("got      {got}\nexpected {expected}"))
            }
        }
        Err(e) => Err(format!("failed: {e}")),
    }
}

/// Runs a manifest; returns (passed, skipped as not applicable, skipped as listed).
fn run_suite(
    name: &str,
    manifest_file: &str,
    listed: &[(&str, &str)],
    run: impl Fn(&Case<'_>, &Contexts) -> Result<(), String>,
) {
    let contexts = suite_contexts();
    let manifest = manifest(manifest_file);
    let sequence = manifest["sequence"].as_array().unwrap();
    let (mut passed, mut inapplicable, mut skipped) = (0, 0, 0);
    let mut failures = Vec::new();
    let mut seen = Vec::new();
    for entry in sequence {
        let case = Case {
            id: entry["@id"].as_str().unwrap().to_owned(),
            entry,
        };
        seen.push(case.id.clone());
        if case.not_applicable().is_some() {
            inapplicable += 1;
            continue;
        }
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&case, &contexts)))
                .unwrap_or_else(|_| Err("panicked".into()));
        let skip = listed.iter().find(|(id, _)| *id == case.id);
        match (outcome, skip) {
            (Ok(()), None) => passed += 1,
            (Ok(()), Some(_)) => {
                failures.push(format!("{} passes but is listed as skipped", case.id))
            }
            (Err(_), Some(_)) => skipped += 1,
            (Err(e), None) => failures.push(format!(
                "{} ({}): {e}",
                case.id,
                entry["name"].as_str().unwrap_or("")
            )),
        }
    }
    for (id, _) in listed {
        if !seen.iter().any(|s| s == id) {
            failures.push(format!(
                "{id} is listed as skipped but is not in {manifest_file}"
            ));
        }
    }
    eprintln!(
        "{name}: {} tests: {passed} passed, {inapplicable} not applicable (JSON-LD 1.0), {skipped} skipped as listed, {} failed",
        sequence.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{name}: {} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(passed + inapplicable + skipped, sequence.len());
}

#[test]
fn json_ld_expand_suite() {
    run_suite(
        "JSON-LD 1.1 expand",
        "expand-manifest.jsonld",
        EXPAND_SKIPPED,
        run_expand,
    );
}

/// Runs one toRdf test: expansion, then conversion to RDF, compared with the expected
/// N-Quads as datasets (RDF dataset isomorphism: both sides canonicalized with RDFC-1.0,
/// which `rdf_canon.rs` proves on its own suite).
fn run_to_rdf(case: &Case<'_>, contexts: &Contexts) -> Result<(), String> {
    let input_rel = case.entry["input"].as_str().unwrap();
    let input = read_json(input_rel)?;
    let options = options(case, input_rel)?;
    let rdf_options = RdfOptions {
        safe: false,
        rdf_direction: match case.option("rdfDirection").and_then(Value::as_str) {
            Some("i18n-datatype") => Some(RdfDirection::I18nDatatype),
            Some("compound-literal") => Some(RdfDirection::CompoundLiteral),
            Some(other) => return Err(format!("unknown rdfDirection {other}")),
            None => None,
        },
    };
    let result =
        expand(&input, contexts, &options).and_then(|expanded| to_rdf(expanded, &rdf_options));
    let types = case.entry["@type"].as_array().unwrap();
    if case.is_negative() {
        return expect_error(case, result, |_| "a dataset".into());
    }
    let quads = result.map_err(|e| format!("failed: {e}"))?;
    if types.iter().any(|t| t == "jld:PositiveSyntaxTest") {
        return Ok(());
    }
    let got = canonicalize(&quads).map_err(|e| format!("canonicalizing ours: {e}"))?;
    let expected_path = vectors()
        .join("json-ld-api")
        .join(case.entry["expect"].as_str().unwrap());
    let expected_text =
        std::fs::read_to_string(Path::new(&expected_path)).map_err(|e| e.to_string())?;
    let expected_quads =
        parse_nquads(&expected_text).map_err(|e| format!("parsing the expected N-Quads: {e}"))?;
    let expected =
        canonicalize(&expected_quads).map_err(|e| format!("canonicalizing expected: {e}"))?;
    if got == expected {
        Ok(())
    } else {
        Err(format!("got\n{got}expected\n{expected}"))
    }
}

#[test]
fn json_ld_to_rdf_suite() {
    run_suite(
        "JSON-LD 1.1 toRdf",
        "toRdf-manifest.jsonld",
        TO_RDF_SKIPPED,
        run_to_rdf,
    );
}

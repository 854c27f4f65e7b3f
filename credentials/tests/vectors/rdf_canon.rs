//! The W3C RDFC-1.0 test suite (`testdata/rdf-canon/`, vendored verbatim): every entry
//! of its manifest, run through the crate's own N-Quads parser and canonicalization.
//!
//! - `rdfc:RDFC10EvalTest`: the canonical N-Quads must equal the `-rdfc10.nq` file byte
//!   for byte, and that file must canonicalize to itself;
//! - `rdfc:RDFC10MapTest`: the issued identifiers map must equal the `-rdfc10map.json`;
//! - `rdfc:RDFC10NegativeEvalTest`: canonicalization must fail on the work bound.

use crate::common::{read_json, read_text};
use guildmark_credentials::jsonld::dataset::{canonicalize_with, parse_nquads, HashAlgorithm};
use serde_json::Value;
use std::collections::BTreeMap;

const SUITE: &str = "rdf-canon";

/// How many entries the vendored manifest holds, so a truncated copy cannot pass.
const ENTRIES: usize = 86;

/// Entries that do not apply here, with the reason: each must still be in the manifest
/// and must still fail (a listed test that passes is reported, so the list shrinks).
const SKIPPED: &[(&str, &str)] = &[];

/// What running one entry found, or why it failed.
fn run(entry: &Value) -> Result<(), String> {
    let field = |k: &str| {
        entry[k]
            .as_str()
            .ok_or_else(|| format!("the manifest entry has no {k}"))
    };
    let kind = field("type")?;
    let hash = match entry.get("hashAlgorithm").and_then(Value::as_str) {
        None | Some("SHA256") => HashAlgorithm::Sha256,
        Some("SHA384") => HashAlgorithm::Sha384,
        Some(other) => return Err(format!("unknown hashAlgorithm {other}")),
    };
    let input = read_text(&format!("{SUITE}/{}", field("action")?));
    let quads = parse_nquads(&input).map_err(|e| format!("parsing the input: {e}"))?;
    let result = canonicalize_with(&quads, hash);
    match kind {
        "rdfc:RDFC10EvalTest" => {
            let expected = read_text(&format!("{SUITE}/{}", field("result")?));
            let got = result.map_err(|e| format!("canonicalization failed: {e}"))?;
            if got.nquads != expected {
                return Err(line_diff(&expected, &got.nquads));
            }
            // A canonical form is a fixed point: the expected output, read back (its
            // escapes and `c14n` labels included), canonicalizes to itself.
            let again = parse_nquads(&expected)
                .and_then(|quads| canonicalize_with(&quads, hash))
                .map_err(|e| format!("re-canonicalizing the expected output: {e}"))?;
            if again.nquads == expected {
                Ok(())
            } else {
                Err(format!(
                    "the expected output does not canonicalize to itself:{}",
                    line_diff(&expected, &again.nquads)
                ))
            }
        }
        "rdfc:RDFC10MapTest" => {
            let expected: BTreeMap<String, String> =
                serde_json::from_value(read_json(&format!("{SUITE}/{}", field("result")?)))
                    .map_err(|e| format!("the expected map is no string map: {e}"))?;
            let got = result.map_err(|e| format!("canonicalization failed: {e}"))?;
            let got: BTreeMap<String, String> = got.issued.into_iter().collect();
            if got == expected {
                Ok(())
            } else {
                Err(format!("\n  expected: {expected:?}\n  got:      {got:?}"))
            }
        }
        "rdfc:RDFC10NegativeEvalTest" => match result {
            Err(e) if e.to_string().contains("work limit") => Ok(()),
            Err(e) => Err(format!("failed, but not on the work bound: {e}")),
            Ok(_) => Err("canonicalized a dataset the work bound must refuse".into()),
        },
        other => Err(format!("unknown test type {other}")),
    }
}

/// The lines only in `expected` (`-`) and only in `got` (`+`), at most a few of each.
fn line_diff(expected: &str, got: &str) -> String {
    let e: Vec<&str> = expected.lines().collect();
    let g: Vec<&str> = got.lines().collect();
    let mut out = String::new();
    for (sign, lines, other) in [('-', &e, &g), ('+', &g, &e)] {
        let only: Vec<&&str> = lines.iter().filter(|l| !other.contains(l)).collect();
        for line in only.iter().take(4) {
            out.push_str(&format!("\n  {sign} {line}"));
        }
        if only.len() > 4 {
            out.push_str(&format!("\n  {sign} … {} more", only.len() - 4));
        }
    }
    if out.is_empty() {
        // Same lines, different bytes: order or line endings.
        out = format!("\n  same lines, different text: expected {expected:?}, got {got:?}");
    }
    out
}

#[test]
fn rdfc10_suite() {
    let manifest = read_json(&format!("{SUITE}/manifest.jsonld"));
    let entries = manifest["entries"].as_array().expect("manifest entries");
    assert_eq!(entries.len(), ENTRIES, "entries in the manifest");
    let mut passed = 0;
    let mut failures = Vec::new();
    let mut skipped = Vec::new();
    for entry in entries {
        let id = entry["id"].as_str().unwrap_or("(no id)");
        let outcome = run(entry);
        match (SKIPPED.iter().find(|(s, _)| *s == id), outcome) {
            (None, Ok(())) => passed += 1,
            (None, Err(why)) => failures.push(format!("{id}: {why}")),
            (Some(_), Ok(())) => failures.push(format!("{id}: listed in SKIPPED but passes")),
            (Some((_, reason)), Err(_)) => skipped.push(format!("{id}: {reason}")),
        }
    }
    for (id, _) in SKIPPED {
        if !entries.iter().any(|e| e["id"].as_str() == Some(id)) {
            failures.push(format!("{id}: listed in SKIPPED but not in the manifest"));
        }
    }
    eprintln!(
        "RDFC-1.0: {passed} passed, {} skipped{}",
        skipped.len(),
        if skipped.is_empty() {
            String::new()
        } else {
            format!(" ({})", skipped.join("; "))
        }
    );
    assert!(
        failures.is_empty(),
        "{} RDFC-1.0 test(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(passed + skipped.len(), ENTRIES);
}

//! JSON Canonicalization Scheme, RFC 8785: the byte form that `eddsa-jcs-2022` signs.
//!
//! Written directly over [`serde_json::Value`] rather than through `serde_jcs` because
//! verification speed matters (a credential is canonicalized twice per proof) and this
//! writer needs no intermediate allocations. `serde_jcs` is the oracle in the tests: both
//! must produce identical bytes for every input.
//!
//! The rules: object members sorted by the UTF-16 code units of their names; no
//! whitespace; strings escaped as ECMAScript's `JSON.stringify` does; numbers written as
//! ECMAScript's `Number.prototype.toString` writes an IEEE 754 double.

use serde_json::{Map, Number, Value};
use std::cmp::Ordering;

use crate::json::{Json, JsonNumber, JsonStr};

mod serialize;
pub use serialize::{to_canonical, JcsError};

/// Returns the RFC 8785 canonical bytes of `value`.
pub fn canonicalize(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    write_value(value, &mut out);
    out
}

/// Appends the canonical bytes of a `serde_json::Value`, without building a [`Json`]
/// tree first (only each object's member order is collected).
pub fn write_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(n, out),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out);
            }
            out.push(b']');
        }
        Value::Object(map) => write_object(map, out, |_, _, _| {}),
    }
}

/// Appends the canonical bytes of an object, telling `member` the position in the
/// sorted order and the byte range (`,` included after the first) of each member.
fn write_object(
    map: &Map<String, Value>,
    out: &mut Vec<u8>,
    mut member: impl FnMut(&str, usize, std::ops::Range<usize>),
) {
    // Most objects are small: sort their members on the stack.
    let mut small = [("", &NULL); SMALL_OBJECT];
    let mut large = Vec::new();
    let sorted: &mut [(&str, &Value)] = if map.len() <= SMALL_OBJECT {
        for (slot, (name, value)) in small.iter_mut().zip(map) {
            *slot = (name, value);
        }
        &mut small[..map.len()]
    } else {
        large.extend(map.iter().map(|(name, value)| (name.as_str(), value)));
        &mut large
    };
    sorted.sort_unstable_by(|a, b| compare_names(a.0, b.0));
    out.push(b'{');
    for (i, (name, value)) in sorted.iter().enumerate() {
        let start = out.len();
        if i > 0 {
            out.push(b',');
        }
        write_string(name, out);
        out.push(b':');
        write_value(value, out);
        member(name, i, start..out.len());
    }
    out.push(b'}');
}

/// Objects up to this many members are sorted without an allocation.
const SMALL_OBJECT: usize = 16;

static NULL: Value = Value::Null;

/// A document's canonical bytes, with where its top-level `proof` member sits: the same
/// bytes then serve as "the document" (a ledger entry's payload) and, with that span cut
/// out, as "the document without its proof" (what an `eddsa-jcs-2022` proof set signs).
/// A bundle verifier needs both for every credential; this writes them once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canonical {
    bytes: Vec<u8>,
    /// The `,"proof":…` (or `"proof":…,` when it comes first) bytes.
    proof: Option<std::ops::Range<usize>>,
}

impl Canonical {
    /// Canonicalizes `value`, noting its `proof` member's span when it is an object.
    pub fn of(value: &Value) -> Canonical {
        let mut bytes = Vec::with_capacity(4096);
        let Value::Object(map) = value else {
            write_value(value, &mut bytes);
            return Canonical { bytes, proof: None };
        };
        let mut proof = None;
        let last = map.len().saturating_sub(1);
        write_object(map, &mut bytes, |name, i, span| {
            if name == "proof" {
                // First member: cut its trailing comma instead of a leading one.
                let end = if i == 0 && i < last {
                    span.end + 1
                } else {
                    span.end
                };
                proof = Some(span.start..end);
            }
        });
        Canonical { bytes, proof }
    }

    /// The canonical bytes of the whole value.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Whether the value is an object with a `proof` member.
    pub fn has_proof(&self) -> bool {
        self.proof.is_some()
    }

    /// The canonical bytes without the `proof` member, as two slices to hash in turn.
    pub fn without_proof(&self) -> [&[u8]; 2] {
        match &self.proof {
            Some(span) => [&self.bytes[..span.start], &self.bytes[span.end..]],
            None => [&self.bytes, &[]],
        }
    }
}

/// Canonical bytes of `map` with some members left out (e.g. `proof`, `proofValue`).
pub fn canonicalize_without(map: &Map<String, Value>, omit: &[&str]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    let members: Vec<(JsonStr<'_>, Json<'_>)> = map
        .iter()
        .filter(|(k, _)| !omit.contains(&k.as_str()))
        .map(|(k, v)| (JsonStr::Plain(k), Json::from_value(v)))
        .collect();
    write_members(members.iter().map(|(k, v)| (k, v)), &mut out);
    out
}

/// Appends the RFC 8785 canonical bytes of `value` to `out`.
pub fn write_json(value: &Json<'_>, out: &mut Vec<u8>) {
    match value {
        Json::Null => out.extend_from_slice(b"null"),
        Json::Bool(true) => out.extend_from_slice(b"true"),
        Json::Bool(false) => out.extend_from_slice(b"false"),
        Json::Number(JsonNumber::Raw(text)) => write_raw_number(text, out),
        Json::Number(JsonNumber::Serde(n)) => write_number(n, out),
        Json::String(s) => write_str(s, out),
        Json::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json(item, out);
            }
            out.push(b']');
        }
        Json::Object(members) => write_members(members.iter().map(|(k, v)| (k, v)), out),
    }
}

/// Appends the canonical bytes of an object given as (name, value) pairs.
///
/// Lets callers canonicalize "this object without its `proof`" without copying it.
pub fn write_members<'v, 'a: 'v>(
    members: impl Iterator<Item = (&'v JsonStr<'a>, &'v Json<'a>)>,
    out: &mut Vec<u8>,
) {
    let mut sorted: Vec<(std::borrow::Cow<'a, str>, &'v JsonStr<'a>, &'v Json<'a>)> =
        members.map(|(k, v)| (k.decoded(), k, v)).collect();
    sorted.sort_unstable_by(|a, b| compare_names(&a.0, &b.0));
    out.push(b'{');
    for (i, (_, name, value)) in sorted.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(name, out);
        out.push(b':');
        write_json(value, out);
    }
    out.push(b'}');
}

/// Orders member names by their UTF-16 code units (RFC 8785 §3.2.3).
fn compare_names(a: &str, b: &str) -> Ordering {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    match x.iter().zip(y).position(|(p, q)| p != q) {
        // One is a prefix of the other: the shorter comes first, in any encoding.
        None => x.len().cmp(&y.len()),
        // An ASCII byte where they differ starts a character in both (the prefixes are
        // equal), and ASCII sorts before everything else in UTF-8 and UTF-16 alike.
        Some(i) if x[i] < 0x80 || y[i] < 0x80 => x[i].cmp(&y[i]),
        // Beyond the BMP, UTF-16 order is not code point order.
        Some(_) => a.encode_utf16().cmp(b.encode_utf16()),
    }
}

/// Whether a string needs an escape in JSON: a quote, a backslash or a control
/// character. Checked 16 bytes at a time without early exit, which vectorizes.
fn needs_escape(bytes: &[u8]) -> bool {
    let special = |b: u8| b < 0x20 || b == b'"' || b == b'\\';
    let mut chunks = bytes.chunks_exact(16);
    for chunk in chunks.by_ref() {
        if chunk.iter().fold(false, |any, &b| any | special(b)) {
            return true;
        }
    }
    chunks.remainder().iter().any(|&b| special(b))
}

fn write_str(s: &JsonStr<'_>, out: &mut Vec<u8>) {
    match *s {
        // Unescaped JSON string text has no quote, backslash or control character, so
        // its canonical form is itself.
        JsonStr::Raw {
            text,
            escaped: false,
        } => {
            out.push(b'"');
            out.extend_from_slice(text.as_bytes());
            out.push(b'"');
        }
        _ => write_string(&s.decoded(), out),
    }
}

/// A JSON number as written: short integers are already canonical.
fn write_raw_number(text: &str, out: &mut Vec<u8>) {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.len() <= 15 && digits.bytes().all(|b| b.is_ascii_digit()) {
        if digits == "0" {
            out.push(b'0'); // "-0" is written 0
        } else {
            out.extend_from_slice(text.as_bytes());
        }
        return;
    }
    write_double(text.parse().unwrap_or(0.0), out);
}

fn write_string(s: &str, out: &mut Vec<u8>) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    // Nearly every string needs no escape, and those that do (multi-line descriptions)
    // have long runs between escapes: copy the runs whole.
    let mut start = 0;
    while let Some(i) = next_special(bytes, start) {
        out.extend_from_slice(&bytes[start..i]);
        let b = bytes[i];
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x09 => b"\\t",
            0x0a => b"\\n",
            0x0c => b"\\f",
            0x0d => b"\\r",
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
                start = i + 1;
                continue;
            }
        };
        out.extend_from_slice(escape);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// The position of the first byte at or after `from` that needs an escape, skipping
/// 16-byte chunks without one.
fn next_special(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(chunk) = bytes.get(at..at + 16) {
        if needs_escape(chunk) {
            break;
        }
        at += 16;
    }
    let special = |b: &u8| *b < 0x20 || *b == b'"' || *b == b'\\';
    bytes[at..].iter().position(special).map(|p| at + p)
}

/// The largest integer a double holds exactly; beyond it integers must round like doubles.
const MAX_SAFE_INTEGER: u64 = 1 << 53;

fn write_number(n: &Number, out: &mut Vec<u8>) {
    if let Some(u) = n.as_u64() {
        if u <= MAX_SAFE_INTEGER {
            out.extend_from_slice(itoa_u64(u, &mut [0u8; 20]));
            return;
        }
    } else if let Some(i) = n.as_i64() {
        if i.unsigned_abs() <= MAX_SAFE_INTEGER {
            out.push(b'-');
            out.extend_from_slice(itoa_u64(i.unsigned_abs(), &mut [0u8; 20]));
            return;
        }
    }
    // serde_json only holds finite numbers, so as_f64 always succeeds here.
    write_double(n.as_f64().unwrap_or(0.0), out);
}

fn itoa_u64(mut v: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    &buf[i..]
}

/// ECMAScript `Number::toString(10)` of a finite double (ECMA-262 §6.1.6.1.20), which
/// RFC 8785 requires: shortest round-trip digits, ties to the even digit, and the
/// ECMAScript choice between plain and exponent notation. `ryu-js` implements exactly
/// this; Rust's own float formatting breaks ties differently.
fn write_double(v: f64, out: &mut Vec<u8>) {
    if v == 0.0 {
        out.push(b'0'); // also -0
        return;
    }
    out.extend_from_slice(ryu_js::Buffer::new().format_finite(v).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn canon(v: &Value) -> String {
        String::from_utf8(canonicalize(v)).unwrap()
    }

    #[test]
    fn canonical_without_proof_is_the_canonical_form_of_the_document_without_it() {
        let documents = [
            json!({"proof": {"b": 1}, "zeta": [1, "x"], "id": "urn:a"}),
            json!({"proof": {"b": 1}}),
            json!({"proof": {"b": 1}, "a": 2}),
            json!({"a": 2, "proof": {"b": 1}}),
            json!({"a": 2, "\u{e9}": true, "proof": [{"b": 1}, {"c": null}], "q": "r"}),
            json!({"a": 2, "b": 3}),
            json!([1, {"proof": 2}]),
        ];
        for document in documents {
            let canonical = Canonical::of(&document);
            assert_eq!(canonical.bytes(), canonicalize(&document), "{document}");
            let mut without = document.clone();
            let removed = without
                .as_object_mut()
                .and_then(|o| o.shift_remove("proof"))
                .is_some();
            assert_eq!(canonical.has_proof(), removed, "{document}");
            assert_eq!(
                canonical.without_proof().concat(),
                canonicalize(&without),
                "{document}"
            );
        }
    }

    macro_rules! number {
        ($name:ident, $value:expr, $expected:expr) => {
            #[test]
            fn $name() {
                let mut out = Vec::new();
                write_double($value, &mut out);
                assert_eq!(String::from_utf8(out).unwrap(), $expected);
            }
        };
    }

    // The number samples of RFC 8785 Appendix B.
    number!(zero, 0.0, "0");
    number!(negative_zero, -0.0, "0");
    number!(min_positive, 5e-324, "5e-324");
    number!(
        max_double,
        1.7976931348623157e308,
        "1.7976931348623157e+308"
    );
    number!(max_safe, 9007199254740992.0, "9007199254740992");
    number!(exp_21, 1e21, "1e+21");
    number!(
        below_exp_21,
        999999999999999700000.0,
        "999999999999999700000"
    );
    number!(small, 0.000001, "0.000001");
    number!(smaller, 0.0000001, "1e-7");
    number!(fraction, 333333333.3333333, "333333333.3333333");
    number!(neg_fraction, -1.5, "-1.5");
    number!(rfc_sample_1, 4.50, "4.5");
    number!(rfc_sample_2, 2e-3, "0.002");
    number!(rfc_sample_3, 0.000000000000000000000000001, "1e-27");
    // Found by the serde_jcs oracle: the double is exactly 1759991468913275.25, halfway
    // between the 17-digit forms …275.2 and …275.3; ES takes the even digit.
    number!(
        tie_to_even_digit,
        1_759_991_468_913_275.2,
        "1759991468913275.2"
    );

    #[test]
    fn rfc8785_section_3_2_2_example() {
        let input: Value = serde_json::from_str(
            r#"{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],
                "string":"\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
                "literals":[null,true,false]}"#,
        )
        .unwrap();
        assert_eq!(
            canon(&input),
            r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        );
    }

    #[test]
    fn names_sort_by_utf16_code_units() {
        // RFC 8785 §3.2.3: U+1F600 (surrogates D83D DE00) sorts before U+FB33 in UTF-16.
        let input = json!({"\u{fb33}": 1, "\u{1f600}": 2, "a": 3, "\r": 4, "1": 5, "\u{80}": 6, "\u{00f6}": 7});
        let got = canon(&input);
        let names: Vec<&str> = [
            "\\r",
            "1",
            "a",
            "\u{80}",
            "\u{00f6}",
            "\u{1f600}",
            "\u{fb33}",
        ]
        .to_vec();
        let mut pos = 0;
        for name in names {
            let at = got[pos..].find(name).expect(name) + pos;
            pos = at;
        }
    }

    #[test]
    fn large_integers_round_like_doubles() {
        assert_eq!(canon(&json!(9007199254740993u64)), "9007199254740992");
        assert_eq!(canon(&json!(-42)), "-42");
    }

    mod oracle {
        //! serde_jcs is the oracle: both writers must agree on every value.
        use super::canonicalize;
        use proptest::prelude::*;
        use serde_json::Value;

        fn json() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                // Integers a double holds exactly, and finite doubles of every magnitude.
                (-(1i64 << 53)..(1i64 << 53)).prop_map(Value::from),
                any::<f64>()
                    .prop_filter("finite", |f| f.is_finite())
                    .prop_map(Value::from),
                "\\PC*".prop_map(Value::String),
                any::<String>().prop_map(Value::String),
            ];
            leaf.prop_recursive(4, 64, 8, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                    prop::collection::btree_map(any::<String>(), inner, 0..8)
                        .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        proptest! {
            #[test]
            fn chunked_checks_find_exactly_the_bytes_needing_escapes(
                bytes in proptest::collection::vec(
                    prop_oneof![any::<u8>(), 0x1eu8..0x24, Just(b'\\'), 0x7eu8..0x82],
                    0..40,
                )
            ) {
                let special = |b: &u8| *b < 0x20 || *b == b'"' || *b == b'\\';
                prop_assert_eq!(super::super::needs_escape(&bytes), bytes.iter().any(special));
                prop_assert_eq!(
                    super::super::next_special(&bytes, 0),
                    bytes.iter().position(special)
                );
            }
        }

        #[test]
        fn escapes_anywhere_in_long_strings_agree() {
            let run = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUV";
            for special in ['"', '\\', '\n', '\u{1}', '\u{1f}', '\u{8}', '\r'] {
                for at in 0..=run.len() {
                    for second in [at, (at + 17) % (run.len() + 1)] {
                        let mut text = run.to_owned();
                        text.insert(at, special);
                        text.insert(second.min(text.len()), special);
                        let value = Value::String(text.repeat(2));
                        assert_eq!(
                            canonicalize(&value),
                            serde_jcs::to_vec(&value).unwrap(),
                            "{value}"
                        );
                    }
                }
            }
        }

        /// Names drawn from characters around the points where UTF-8, UTF-16 and code
        /// point order disagree, so that pairs often share prefixes.
        fn name() -> impl Strategy<Value = String> {
            let chars = prop::sample::select(vec![
                'a',
                'b',
                '\u{7f}',
                '\u{80}',
                '\u{e9}',
                '\u{7ff}',
                '\u{800}',
                '\u{d7ff}',
                '\u{e000}',
                '\u{fb33}',
                '\u{ffff}',
                '\u{10000}',
                '\u{1f600}',
                '\u{10ffff}',
            ]);
            prop::collection::vec(chars, 0..4).prop_map(|c| c.into_iter().collect())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]
            #[test]
            fn names_compare_as_utf16_code_units(prefix in name(), a in name(), b in name()) {
                let (a, b) = (format!("{prefix}{a}"), format!("{prefix}{b}"));
                prop_assert_eq!(
                    super::compare_names(&a, &b),
                    a.encode_utf16().cmp(b.encode_utf16()),
                    "{:?} vs {:?}", a, b
                );
            }

            #[test]
            fn matches_serde_jcs(value in json()) {
                let ours = canonicalize(&value);
                let theirs = serde_jcs::to_vec(&value).unwrap();
                prop_assert_eq!(String::from_utf8_lossy(&ours), String::from_utf8_lossy(&theirs));
            }
        }
    }
}

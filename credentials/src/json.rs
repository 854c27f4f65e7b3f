//! Borrowed JSON: the document a verifier was given, parsed without copying it.
//!
//! Proof checking works on this view so that a credential can be parsed, canonicalized
//! and hashed without allocating a `String` per member (the cost that dominates a
//! serde_json parse). A [`Json`] borrows either the input text ([`Json::parse`]) or an
//! existing [`serde_json::Value`] ([`Json::from_value`]), so both kinds of caller share
//! one proof implementation.
//!
//! Parsing is strict RFC 8259 plus two rules a verifier needs: duplicate member names are
//! refused (JCS forbids them, and two parsers keeping different duplicates could each see
//! a different credential), and nesting is limited so hostile input cannot overflow the
//! stack.

use serde_json::{Map, Number, Value};
use std::borrow::Cow;
use std::fmt;

/// Deepest nesting of arrays and objects accepted.
pub const MAX_DEPTH: usize = 128;

/// A JSON value borrowing its strings and numbers.
#[derive(Debug, Clone)]
pub enum Json<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(JsonNumber<'a>),
    /// A string.
    String(JsonStr<'a>),
    /// An array.
    Array(Vec<Json<'a>>),
    /// An object, members in input order.
    Object(Vec<(JsonStr<'a>, Json<'a>)>),
}

/// A string, as written in JSON text (possibly with escapes) or already decoded.
#[derive(Debug, Clone, Copy)]
pub enum JsonStr<'a> {
    /// The text between the quotes; `escaped` if it contains a backslash.
    Raw {
        /// The text between the quotes.
        text: &'a str,
        /// Whether it contains escapes.
        escaped: bool,
    },
    /// A decoded string.
    Plain(&'a str),
}

/// A number, as written in JSON text or as a serde_json number.
#[derive(Debug, Clone, Copy)]
pub enum JsonNumber<'a> {
    /// Its JSON text.
    Raw(&'a str),
    /// A serde_json number.
    Serde(&'a Number),
}

/// Why JSON text could not be parsed, with the position (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at line {line}, column {column}")]
pub struct JsonError {
    /// What was wrong.
    pub message: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
}

impl<'a> JsonStr<'a> {
    /// The decoded string (borrowed unless it had escapes).
    pub fn decoded(&self) -> Cow<'a, str> {
        match *self {
            JsonStr::Plain(s)
            | JsonStr::Raw {
                text: s,
                escaped: false,
            } => Cow::Borrowed(s),
            JsonStr::Raw {
                text,
                escaped: true,
            } => Cow::Owned(unescape(text)),
        }
    }

    /// Whether the decoded string equals `s`.
    pub fn eq_str(&self, s: &str) -> bool {
        match *self {
            JsonStr::Plain(t)
            | JsonStr::Raw {
                text: t,
                escaped: false,
            } => t == s,
            JsonStr::Raw { escaped: true, .. } => self.decoded() == s,
        }
    }
}

impl PartialEq for JsonStr<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.decoded() == other.decoded()
    }
}

impl fmt::Display for JsonStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.decoded())
    }
}

impl<'a> Json<'a> {
    /// Parses JSON text (which must be UTF-8).
    pub fn parse(bytes: &'a [u8]) -> Result<Json<'a>, JsonError> {
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let mut parser =
                Parser::new(std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default());
            parser.pos = parser.text.len();
            *parser.error("invalid UTF-8")
        })?;
        let mut parser = Parser::new(text);
        parser.skip_whitespace();
        let value = parser.value(0).map_err(|e| *e)?;
        parser.skip_whitespace();
        if parser.pos != text.len() {
            return Err(*parser.error("trailing characters after the JSON value"));
        }
        Ok(value)
    }

    /// A borrowed view of a serde_json value.
    pub fn from_value(value: &'a Value) -> Json<'a> {
        match value {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => Json::Number(JsonNumber::Serde(n)),
            Value::String(s) => Json::String(JsonStr::Plain(s)),
            Value::Array(items) => Json::Array(items.iter().map(Json::from_value).collect()),
            Value::Object(map) => Json::Object(
                map.iter()
                    .map(|(k, v)| (JsonStr::Plain(k.as_str()), Json::from_value(v)))
                    .collect(),
            ),
        }
    }

    /// An owned serde_json value.
    pub fn to_value(&self) -> Value {
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(JsonNumber::Serde(n)) => Value::Number((*n).clone()),
            Json::Number(JsonNumber::Raw(text)) => {
                serde_json::from_str(text).unwrap_or(Value::Null)
            }
            Json::String(s) => Value::String(s.decoded().into_owned()),
            Json::Array(items) => Value::Array(items.iter().map(Json::to_value).collect()),
            Json::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.decoded().into_owned(), v.to_value()))
                    .collect::<Map<String, Value>>(),
            ),
        }
    }

    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Json<'a>> {
        match self {
            Json::Object(members) => members.iter().find(|(k, _)| k.eq_str(key)).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string, decoded.
    pub fn as_str(&self) -> Option<Cow<'a, str>> {
        match self {
            Json::String(s) => Some(s.decoded()),
            _ => None,
        }
    }

    /// The members, if an object.
    pub fn as_object(&self) -> Option<&[(JsonStr<'a>, Json<'a>)]> {
        match self {
            Json::Object(members) => Some(members),
            _ => None,
        }
    }

    /// A short name for the kind of value, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Number(_) => "a number",
            Json::String(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }

    /// JSON equality: members compared regardless of order, numbers by value.
    pub fn json_eq(&self, other: &Json<'_>) -> bool {
        match (self, other) {
            (Json::Null, Json::Null) => true,
            (Json::Bool(a), Json::Bool(b)) => a == b,
            (Json::Number(a), Json::Number(b)) => a.as_f64() == b.as_f64(),
            (Json::String(a), Json::String(b)) => a.decoded() == b.decoded(),
            (Json::Array(a), Json::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.json_eq(y))
            }
            (Json::Object(a), Json::Object(b)) => {
                a.len() == b.len()
                    && a.iter().all(|(k, v)| {
                        b.iter()
                            .find(|(k2, _)| k2.decoded() == k.decoded())
                            .is_some_and(|(_, v2)| v.json_eq(v2))
                    })
            }
            _ => false,
        }
    }
}

impl JsonNumber<'_> {
    /// The number as a double.
    pub fn as_f64(&self) -> f64 {
        match self {
            JsonNumber::Raw(text) => text.parse().unwrap_or(f64::NAN),
            JsonNumber::Serde(n) => n.as_f64().unwrap_or(f64::NAN),
        }
    }
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Parser {
            text,
            bytes: text.as_bytes(),
            pos: 0,
        }
    }

    fn error(&self, message: &str) -> Box<JsonError> {
        let before = &self.text[..self.pos.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        Box::new(JsonError {
            message: message.to_owned(),
            line,
            column,
        })
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json<'a>, Box<JsonError>> {
        match self.bytes.get(self.pos) {
            None => Err(self.error("unexpected end of input")),
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => Ok(Json::String(self.string()?)),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'n') => self.literal("null", Json::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("expected a JSON value")),
        }
    }

    fn literal(&mut self, word: &str, value: Json<'a>) -> Result<Json<'a>, Box<JsonError>> {
        if self.text[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.error("expected a JSON value"))
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json<'a>, Box<JsonError>> {
        if depth > MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        self.pos += 1;
        let mut members: Vec<(JsonStr<'a>, Json<'a>)> = Vec::with_capacity(8);
        self.skip_whitespace();
        if self.bytes.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(Json::Object(members));
        }
        loop {
            self.skip_whitespace();
            if self.bytes.get(self.pos) != Some(&b'"') {
                return Err(self.error("expected a member name in quotes"));
            }
            let key_at = self.pos;
            let key = self.string()?;
            if members.iter().any(|(k, _)| *k == key) {
                self.pos = key_at;
                return Err(self.error(&format!("duplicate member name {:?}", key.decoded())));
            }
            self.skip_whitespace();
            if self.bytes.get(self.pos) != Some(&b':') {
                return Err(self.error("expected ':'"));
            }
            self.pos += 1;
            self.skip_whitespace();
            let value = self.value(depth)?;
            members.push((key, value));
            self.skip_whitespace();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Json::Object(members));
                }
                _ => return Err(self.error("expected ',' or '}'")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Json<'a>, Box<JsonError>> {
        if depth > MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        self.pos += 1;
        let mut items = Vec::with_capacity(4);
        self.skip_whitespace();
        if self.bytes.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(Json::Array(items));
        }
        loop {
            self.skip_whitespace();
            items.push(self.value(depth)?);
            self.skip_whitespace();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Json::Array(items));
                }
                _ => return Err(self.error("expected ',' or ']'")),
            }
        }
    }

    fn string(&mut self) -> Result<JsonStr<'a>, Box<JsonError>> {
        self.pos += 1; // opening quote
        let start = self.pos;
        let mut escaped = false;
        loop {
            // Skip ordinary characters, eight at a time where possible; stop at a quote,
            // backslash or control character.
            self.pos = skip_plain(self.bytes, self.pos);
            match self.bytes.get(self.pos) {
                None => return Err(self.error("unterminated string")),
                Some(b'"') => break,
                Some(b'\\') => {
                    escaped = true;
                    self.pos += 1;
                    match self.bytes.get(self.pos) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            self.pos += 1
                        }
                        Some(b'u') => {
                            let unit = self.hex4(self.pos + 1)?;
                            self.pos += 5;
                            if (0xD800..0xDC00).contains(&unit) {
                                // A high surrogate must be followed by a low one.
                                if self.bytes.get(self.pos..self.pos + 2) != Some(b"\\u") {
                                    return Err(self.error("unpaired surrogate in \\u escape"));
                                }
                                let low = self.hex4(self.pos + 2)?;
                                if !(0xDC00..0xE000).contains(&low) {
                                    return Err(self.error("unpaired surrogate in \\u escape"));
                                }
                                self.pos += 6;
                            } else if (0xDC00..0xE000).contains(&unit) {
                                return Err(self.error("unpaired surrogate in \\u escape"));
                            }
                        }
                        _ => return Err(self.error("invalid escape")),
                    }
                }
                Some(0x00..=0x1f) => {
                    return Err(self.error("control character in string (must be escaped)"))
                }
                Some(_) => self.pos += 1,
            }
        }
        let text = &self.text[start..self.pos];
        self.pos += 1; // closing quote
        Ok(JsonStr::Raw { text, escaped })
    }

    fn hex4(&self, at: usize) -> Result<u32, Box<JsonError>> {
        let digits = self
            .text
            .get(at..at + 4)
            .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.error("invalid \\u escape"))?;
        Ok(u32::from_str_radix(digits, 16).expect("checked hex digits"))
    }

    fn number(&mut self) -> Result<Json<'a>, Box<JsonError>> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            let s = p.pos;
            while p.bytes.get(p.pos).is_some_and(u8::is_ascii_digit) {
                p.pos += 1;
            }
            p.pos - s
        };
        if self.bytes.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        match self.bytes.get(self.pos) {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                digits(self);
            }
            _ => return Err(self.error("invalid number")),
        }
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if digits(self) == 0 {
                return Err(self.error("invalid number: no digits after '.'"));
            }
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.pos) {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.bytes.get(self.pos) {
                self.pos += 1;
            }
            if digits(self) == 0 {
                return Err(self.error("invalid number: no digits in exponent"));
            }
        }
        let text = &self.text[start..self.pos];
        // JSON numbers are finite by grammar, but 1e400 overflows a double: refuse it.
        if text.parse::<f64>().map_or(true, |f| !f.is_finite()) {
            self.pos = start;
            return Err(self.error("number out of range for a double"));
        }
        Ok(Json::Number(JsonNumber::Raw(text)))
    }
}

/// The position of the first byte at or after `at` that is a quote, a backslash or a
/// control character (or the end). Eight bytes per step ("SWAR"): strings are most of a
/// credential, and this is the parser's inner loop.
fn skip_plain(bytes: &[u8], mut at: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let quote = has_zero(word ^ (ONES * u64::from(b'"')));
        let backslash = has_zero(word ^ (ONES * u64::from(b'\\')));
        // A byte < 0x20 (only exact for bytes < 0x80, which is all that matters here).
        let control = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
        if quote | backslash | control != 0 {
            break;
        }
        at += 8;
    }
    while let Some(&b) = bytes.get(at) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            break;
        }
        at += 1;
    }
    at
}

/// Decodes the escapes of string text already validated by the parser.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let mut unit = u32::from_str_radix(&hex, 16).unwrap_or(0xFFFD);
                if (0xD800..0xDC00).contains(&unit) {
                    let low: String = chars.by_ref().skip(2).take(4).collect();
                    let low = u32::from_str_radix(&low, 16).unwrap_or(0xDC00);
                    unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                }
                out.push(char::from_u32(unit).unwrap_or('\u{FFFD}'));
            }
            Some(other) => out.push(other), // '"', '\\', '/'
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_serde_json_on_a_credential() {
        let text = r#"{"@context":["https://www.w3.org/ns/credentials/v2"],"n":[1,-2.5e3,0,{"a\u00e9\n":"\ud83d\ude00 \"q\""}],"t":true,"z":null}"#;
        let ours = Json::parse(text.as_bytes()).unwrap().to_value();
        let theirs: Value = serde_json::from_str(text).unwrap();
        assert_eq!(ours, theirs);
    }

    macro_rules! refused {
        ($name:ident, $text:expr, $fragment:expr) => {
            #[test]
            fn $name() {
                let err = Json::parse($text.as_bytes()).unwrap_err();
                assert!(err.message.contains($fragment), "{err}");
            }
        };
    }

    refused!(duplicate_names, r#"{"a":1,"a":2}"#, "duplicate");
    refused!(trailing_comma, r#"[1,2,]"#, "expected a JSON value");
    refused!(lone_surrogate, r#""\ud800""#, "surrogate");
    refused!(raw_control, "\"a\u{1}b\"", "control character");
    refused!(leading_zero, "01", "trailing");
    refused!(huge_number, "1e400", "out of range");
    refused!(trailing_garbage, "{} x", "trailing");
    refused!(unterminated, r#"{"a":"b"#, "unterminated");

    #[test]
    fn the_fast_scan_stops_where_the_slow_one_would() {
        for text in [
            "",
            "abcdefgh",
            "abcdefghij\"",
            "éèêëàâäôöù\"x",
            "abcdefg\\n\"",
            "abc\u{1}defghijk",
            "0123456789abcdef\"",
        ] {
            let bytes = text.as_bytes();
            let slow = bytes
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .unwrap_or(bytes.len());
            assert_eq!(skip_plain(bytes, 0), slow, "{text:?}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing() {
        let text = "[".repeat(100_000);
        assert!(Json::parse(text.as_bytes())
            .unwrap_err()
            .message
            .contains("deeply"));
    }

    #[test]
    fn errors_give_line_and_column() {
        let err = Json::parse(b"{\n  \"a\": tru\n}").unwrap_err();
        assert_eq!((err.line, err.column), (2, 8), "{err}");
    }
}

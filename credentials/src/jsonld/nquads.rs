//! An N-Quads parser (RDF 1.1 N-Quads, <https://www.w3.org/TR/n-quads/>): the input
//! format of the W3C RDFC-1.0 test suite.
//!
//! It reads outside input, so it never panics: every index is checked and every
//! malformed statement is an error naming its line.

use super::rdfc::{Quad, Term};
use super::JsonLdError;

const XSD_STRING: &str = "http://www.w3.org/2001/XMLSchema#string";
const RDF_LANGSTRING: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString";

/// Parses an N-Quads document into its quads, in document order (duplicates kept).
///
/// A literal without `^^` or `@` gets the datatype `xsd:string`, a language-tagged one
/// `rdf:langString` and its tag, as the RDF 1.1 data model has them. Relative IRIs
/// and escapes that decode to characters an IRI may not hold are refused.
pub fn parse(document: &str) -> Result<Vec<Quad>, JsonLdError> {
    let mut quads = Vec::new();
    for (index, line) in document.split('\n').enumerate() {
        // EOL is [#xD#xA]+: a lone CR also ends a statement, but only LF counts a line.
        for segment in line.split('\r') {
            let mut cursor = Cursor {
                text: segment,
                pos: 0,
                line: index + 1,
            };
            if let Some(quad) = cursor.statement()? {
                quads.push(quad);
            }
        }
    }
    Ok(quads)
}

/// A position within one line.
struct Cursor<'a> {
    text: &'a str,
    /// A byte offset that is always on a character boundary.
    pos: usize,
    line: usize,
}

impl Cursor<'_> {
    fn error(&self, what: impl std::fmt::Display) -> JsonLdError {
        JsonLdError::Rdf {
            detail: format!("N-Quads line {}: {what}", self.line),
        }
    }

    fn rest(&self) -> &str {
        self.text.get(self.pos..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.pos += 1;
        }
    }

    /// What is left of the line is blank or a comment.
    fn at_end(&mut self) -> bool {
        self.skip_ws();
        matches!(self.peek(), None | Some('#'))
    }

    /// A statement, or `None` for a blank or comment line.
    fn statement(&mut self) -> Result<Option<Quad>, JsonLdError> {
        if self.at_end() {
            return Ok(None);
        }
        let subject = match self.peek() {
            Some('<') => Term::Iri(self.iri()?),
            Some('_') => Term::Blank(self.blank()?),
            _ => return Err(self.error("expected a subject (an IRI or a blank node)")),
        };
        self.skip_ws();
        if self.peek() != Some('<') {
            return Err(self.error("expected a predicate IRI"));
        }
        let predicate = self.iri()?;
        self.skip_ws();
        let object = match self.peek() {
            Some('<') => Term::Iri(self.iri()?),
            Some('_') => Term::Blank(self.blank()?),
            Some('"') => self.literal()?,
            _ => return Err(self.error("expected an object (an IRI, blank node or literal)")),
        };
        self.skip_ws();
        let graph = match self.peek() {
            Some('<') => Some(Term::Iri(self.iri()?)),
            Some('_') => Some(Term::Blank(self.blank()?)),
            _ => None,
        };
        self.skip_ws();
        if !self.eat('.') {
            return Err(self.error("expected '.' at the end of the statement"));
        }
        if !self.at_end() {
            return Err(self.error("unexpected text after the statement's '.'"));
        }
        Ok(Some(Quad {
            subject,
            predicate,
            object,
            graph,
        }))
    }

    /// IRIREF: `<` … `>`, UCHAR escapes decoded; the IRI must be absolute.
    fn iri(&mut self) -> Result<String, JsonLdError> {
        self.bump(); // '<'
        let mut iri = String::new();
        loop {
            let c = match self.bump() {
                None => return Err(self.error("an IRI is not closed with '>'")),
                Some('>') => break,
                Some('\\') => {
                    let c = self.uchar()?;
                    if forbidden_in_iri(c) {
                        return Err(self.error(format!(
                            "an IRI escape decodes to U+{:04X}, which an IRI may not hold",
                            c as u32
                        )));
                    }
                    c
                }
                Some(c) if forbidden_in_iri(c) => {
                    return Err(self.error(format!("U+{:04X} is not allowed in an IRI", c as u32)))
                }
                Some(c) => c,
            };
            iri.push(c);
        }
        if !has_scheme(&iri) {
            return Err(self.error(format!("<{iri}> is not an absolute IRI")));
        }
        Ok(iri)
    }

    /// UCHAR after its backslash: `uXXXX` or `UXXXXXXXX`.
    fn uchar(&mut self) -> Result<char, JsonLdError> {
        let digits = match self.bump() {
            Some('u') => 4,
            Some('U') => 8,
            _ => return Err(self.error("an IRI may hold only \\u and \\U escapes")),
        };
        self.hex(digits)
    }

    /// `digits` hexadecimal digits naming a Unicode scalar value.
    fn hex(&mut self, digits: usize) -> Result<char, JsonLdError> {
        let text = self
            .rest()
            .get(..digits)
            .filter(|t| t.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.error(format!("an escape needs {digits} hexadecimal digits")))?;
        // At most 8 hex digits: always fits in u32.
        let value = u32::from_str_radix(text, 16)
            .map_err(|_| self.error("an escape needs hexadecimal digits"))?;
        let c = char::from_u32(value).ok_or_else(|| {
            self.error(format!(
                "the escape U+{value:04X} is no Unicode scalar value"
            ))
        })?;
        self.pos += digits;
        Ok(c)
    }

    /// BLANK_NODE_LABEL: `_:` then PN_CHARS_U or a digit, then PN_CHARS or `.`, not
    /// ending in `.`. Returns the label without `_:`.
    fn blank(&mut self) -> Result<String, JsonLdError> {
        if !self.rest().starts_with("_:") {
            return Err(self.error("expected a blank node ('_:label')"));
        }
        self.pos += 2;
        let start = self.pos;
        match self.peek() {
            Some(c) if pn_chars_u(c) || c.is_ascii_digit() => self.pos += c.len_utf8(),
            _ => return Err(self.error("a blank node label is empty or starts badly")),
        }
        // Take every PN_CHARS or '.', then give back trailing dots: the statement's
        // terminating '.' may follow the label directly.
        let mut end = self.pos;
        while let Some(c) = self.peek() {
            if pn_chars(c) || c == '.' {
                self.pos += c.len_utf8();
                if c != '.' {
                    end = self.pos;
                }
            } else {
                break;
            }
        }
        self.pos = end;
        Ok(self.text.get(start..end).unwrap_or("").to_owned())
    }

    /// STRING_LITERAL_QUOTE, then `^^` IRIREF or LANGTAG.
    fn literal(&mut self) -> Result<Term, JsonLdError> {
        self.bump(); // '"'
        let mut value = String::new();
        loop {
            match self.bump() {
                None => return Err(self.error("a literal is not closed with '\"'")),
                Some('"') => break,
                Some('\\') => {
                    let c = match self.bump() {
                        Some('t') => '\t',
                        Some('b') => '\u{8}',
                        Some('n') => '\n',
                        Some('r') => '\r',
                        Some('f') => '\u{c}',
                        Some('"') => '"',
                        Some('\'') => '\'',
                        Some('\\') => '\\',
                        Some('u') => self.hex(4)?,
                        Some('U') => self.hex(8)?,
                        _ => return Err(self.error("unknown escape in a literal")),
                    };
                    value.push(c);
                }
                Some(c) => value.push(c),
            }
        }
        if self.rest().starts_with("^^") {
            self.pos += 2;
            if self.peek() != Some('<') {
                return Err(self.error("expected a datatype IRI after '^^'"));
            }
            let datatype = self.iri()?;
            return Ok(Term::Literal {
                value,
                datatype,
                language: None,
            });
        }
        if self.eat('@') {
            let language = self.language()?;
            return Ok(Term::Literal {
                value,
                datatype: RDF_LANGSTRING.to_owned(),
                language: Some(language),
            });
        }
        Ok(Term::Literal {
            value,
            datatype: XSD_STRING.to_owned(),
            language: None,
        })
    }

    /// LANGTAG after its `@`: `[a-zA-Z]+ ('-' [a-zA-Z0-9]+)*`, kept as written.
    fn language(&mut self) -> Result<String, JsonLdError> {
        let start = self.pos;
        let mut subtags = 0;
        loop {
            let first = subtags == 0;
            let subtag_start = self.pos;
            while let Some(c) = self.peek() {
                if c.is_ascii_alphabetic() || (!first && c.is_ascii_digit()) {
                    self.pos += 1;
                } else {
                    break;
                }
            }
            if self.pos == subtag_start {
                return Err(self.error("a language tag or one of its subtags is empty"));
            }
            subtags += 1;
            if !self.eat('-') {
                break;
            }
        }
        Ok(self.text.get(start..self.pos).unwrap_or("").to_owned())
    }
}

/// The characters IRIREF excludes: controls, space and `<>"{}|^`\`.
fn forbidden_in_iri(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{20}' | '<' | '>' | '"' | '{' | '}' | '|' | '^' | '`' | '\\'
    )
}

/// An absolute IRI starts with a scheme: `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"`.
fn has_scheme(iri: &str) -> bool {
    let Some((scheme, _)) = iri.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

fn pn_chars_base(c: char) -> bool {
    matches!(c,
        'A'..='Z'
        | 'a'..='z'
        | '\u{C0}'..='\u{D6}'
        | '\u{D8}'..='\u{F6}'
        | '\u{F8}'..='\u{2FF}'
        | '\u{370}'..='\u{37D}'
        | '\u{37F}'..='\u{1FFF}'
        | '\u{200C}'..='\u{200D}'
        | '\u{2070}'..='\u{218F}'
        | '\u{2C00}'..='\u{2FEF}'
        | '\u{3001}'..='\u{D7FF}'
        | '\u{F900}'..='\u{FDCF}'
        | '\u{FDF0}'..='\u{FFFD}'
        | '\u{10000}'..='\u{EFFFF}')
}

fn pn_chars_u(c: char) -> bool {
    pn_chars_base(c) || c == '_' || c == ':'
}

fn pn_chars(c: char) -> bool {
    pn_chars_u(c)
        || c == '-'
        || c.is_ascii_digit()
        || c == '\u{B7}'
        || ('\u{300}'..='\u{36F}').contains(&c)
        || ('\u{203F}'..='\u{2040}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn literal(value: &str, datatype: &str, language: Option<&str>) -> Term {
        Term::Literal {
            value: value.into(),
            datatype: datatype.into(),
            language: language.map(str::to_owned),
        }
    }

    fn object(line: &str) -> Term {
        let quads = parse(line).unwrap();
        assert_eq!(quads.len(), 1, "{line}");
        quads.into_iter().next().unwrap().object
    }

    fn error(document: &str) -> String {
        match parse(document) {
            Err(JsonLdError::Rdf { detail }) => detail,
            other => panic!("{document:?} gave {other:?}"),
        }
    }

    #[test]
    fn statements_comments_and_blank_lines() {
        let doc = "# a comment\n\n<http://a/s> <http://a/p> <http://a/o> .\r\n\
                   _:b0 <http://a/p> _:b1 <http://a/g> . # trailing\n\
                   _:b1 <http://a/p> \"x\" _:g.\r<http://a/s><http://a/p><http://a/o>.";
        let quads = parse(doc).unwrap();
        assert_eq!(quads.len(), 4);
        assert_eq!(quads[1].subject, Term::Blank("b0".into()));
        assert_eq!(quads[1].object, Term::Blank("b1".into()));
        assert_eq!(quads[1].graph, Some(Term::Iri("http://a/g".into())));
        // The label stops before the statement's '.'.
        assert_eq!(quads[2].graph, Some(Term::Blank("g".into())));
        assert_eq!(quads[3].graph, None);
    }

    #[test]
    fn literal_escapes_datatypes_and_languages() {
        assert_eq!(
            object(r#"<http://a/s> <http://a/p> "t\tb\bn\nr\rf\fq\"a\'s\\" ."#),
            literal("t\tb\u{8}n\nr\rf\u{c}q\"a's\\", XSD_STRING, None)
        );
        assert_eq!(
            object(r#"<http://a/s> <http://a/p> "\u00e9\U0001F600\u0000" ."#),
            literal("é😀\u{0}", XSD_STRING, None)
        );
        assert_eq!(
            object(
                r#"<http://a/s> <http://a/p> "1"^^<http://www.w3.org/2001/XMLSchema#integer> ."#
            ),
            literal("1", "http://www.w3.org/2001/XMLSchema#integer", None)
        );
        assert_eq!(
            object(r#"<http://a/s> <http://a/p> "chat"@en-GB-x1 ."#),
            literal("chat", RDF_LANGSTRING, Some("en-GB-x1"))
        );
    }

    #[test]
    fn iri_escapes_are_decoded() {
        assert_eq!(
            object(r"<http://a/s> <http://a/p> <http://a/\u00E9\U0001F600> ."),
            Term::Iri("http://a/é😀".into())
        );
    }

    #[test]
    fn errors_name_the_line() {
        let ok = "<http://a/s> <http://a/p> <http://a/o> .\n";
        for (bad, what) in [
            ("<http://a/s> <http://a/p> <http://a/o>", "expected '.'"),
            ("<http://a/s> <http://a/p> \"open .", "not closed"),
            ("<http://a/s> <http://a/p> <http://a/o", "not closed"),
            ("<rel> <http://a/p> <http://a/o> .", "not an absolute IRI"),
            (
                "<http://a/s> <http://a/p> <http://a/ o> .",
                "not allowed in an IRI",
            ),
            (
                r"<http://a/s> <http://a/p> <http://a/\u0020> .",
                "may not hold",
            ),
            (
                r"<http://a/s> <http://a/p> <http://a/\n> .",
                "only \\u and \\U",
            ),
            (r#"<http://a/s> <http://a/p> "\q" ."#, "unknown escape"),
            (r#"<http://a/s> <http://a/p> "\u12" ."#, "hexadecimal"),
            (
                r#"<http://a/s> <http://a/p> "\uD800" ."#,
                "no Unicode scalar",
            ),
            (
                r#"<http://a/s> <http://a/p> "\UFFFFFFFF" ."#,
                "no Unicode scalar",
            ),
            (r#"<http://a/s> <http://a/p> "x"@ ."#, "language tag"),
            (r#"<http://a/s> <http://a/p> "x"@en- ."#, "language tag"),
            (r#"<http://a/s> <http://a/p> "x"^^"y" ."#, "datatype IRI"),
            ("\"s\" <http://a/p> <http://a/o> .", "subject"),
            ("_:b <http://a/p> .", "object"),
            ("_: <http://a/p> <http://a/o> .", "blank node label"),
            ("_:-b <http://a/p> <http://a/o> .", "blank node label"),
            ("<http://a/s> _:p <http://a/o> .", "predicate"),
            (
                "<http://a/s> <http://a/p> <http://a/o> . <http://a/x>",
                "after the statement",
            ),
            ("<http://a/s> <http://a/p> \"x\" \"y\" .", "expected '.'"),
        ] {
            let detail = error(&format!("{ok}# c\n{bad}\n{ok}"));
            assert!(detail.starts_with("N-Quads line 3: "), "{bad}: {detail}");
            assert!(detail.contains(what), "{bad}: {detail}");
        }
    }

    #[test]
    fn no_input_panics() {
        // Truncations at every byte (on char boundaries) of a line using every feature.
        let line = "_:b\u{e9}.1 <http://a/\\u00E9> \"\\U0001F600é\\\"\"@en-x _:g . # c";
        for end in 0..=line.len() {
            if let Some(prefix) = line.get(..end) {
                let _ = parse(prefix);
            }
        }
        for weird in [
            "\\", "<", "\"", "_", "_:", "\"\\u", "\"x\"^", "\"x\"^^", "\u{feff}",
        ] {
            let _ = parse(weird);
        }
    }
}

//! Baked badges (Open Badges 3.0 §5.3): a credential embedded in its achievement's image,
//! so that the picture a person shares carries the proof.
//!
//! - PNG: an `iTXt` chunk with keyword `openbadgecredential`, uncompressed, holding the
//!   credential's JSON (or a compact JWS), before `IEND`. Chunks are handled with
//!   `img-parts` (which checks every CRC); the `iTXt` layout is read and written here.
//! - SVG: an `<openbadges:credential>` element, the first child of the root `<svg>`, in
//!   the namespace `https://purl.imsglobal.org/ob/v3p0`, holding the JSON as CDATA (or a
//!   JWS in its `verify` attribute). SVG is parsed with `roxmltree` (namespace-aware,
//!   no DTDs or external entities).
//!
//! Baking replaces a credential already baked into the image. Extraction refuses an image
//! with more than one, since which of them a viewer would show is anybody's guess.

use std::io::Read as _;

use bytes::Bytes;
use img_parts::png::{Png, PngChunk};

/// The `iTXt` keyword of a baked Open Badges 3.0 credential.
pub const PNG_KEYWORD: &str = "openbadgecredential";

/// The XML namespace of the SVG element.
pub const SVG_NAMESPACE: &str = "https://purl.imsglobal.org/ob/v3p0";

const ITXT: [u8; 4] = *b"iTXt";
const IEND: [u8; 4] = *b"IEND";

/// The largest decompressed `iTXt` text read (a compressed chunk from another baker
/// could otherwise expand without bound).
const MAX_TEXT: u64 = 4 * 1024 * 1024;

/// The image formats a badge can be baked into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// PNG.
    Png,
    /// SVG.
    Svg,
}

impl ImageFormat {
    /// Recognises a PNG by its signature and an SVG by its root element; `None` for
    /// anything else (JSON, say).
    pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            return Some(ImageFormat::Png);
        }
        let text = std::str::from_utf8(&bytes[..bytes.len().min(4096)]).ok()?;
        let start = text.trim_start_matches('\u{feff}').trim_start();
        (start.starts_with('<') && text.contains("<svg")).then_some(ImageFormat::Svg)
    }

    /// The media type.
    pub fn media_type(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Svg => "image/svg+xml",
        }
    }
}

/// Why an image could not be baked or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BakedError {
    /// Not a PNG or an SVG.
    #[error("not a PNG or SVG image")]
    NotAnImage,
    /// The PNG's chunks do not parse (truncated, bad CRC, …).
    #[error("the PNG is malformed: {0}")]
    Png(String),
    /// The SVG is not well-formed XML, or its root is not `<svg>`.
    #[error("the SVG is malformed: {0}")]
    Svg(String),
    /// No credential is baked into the image.
    #[error("no Open Badges credential is baked into this {0} (looked for {1})")]
    NotBaked(&'static str, &'static str),
    /// More than one credential is baked into the image.
    #[error("{0} credentials are baked into this image; a baked badge carries exactly one")]
    Several(usize),
    /// The baked chunk or element is malformed.
    #[error("the baked credential is unreadable: {0}")]
    Unreadable(String),
}

/// What was found in a baked image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Baked {
    /// The image format.
    pub format: ImageFormat,
    /// The embedded text: the credential's JSON, or a compact JWS.
    pub credential: String,
}

/// Bakes `credential` (JSON text or a compact JWS) into `image`, replacing any credential
/// baked before.
pub fn bake(image: &[u8], credential: &str) -> Result<Vec<u8>, BakedError> {
    match ImageFormat::sniff(image) {
        Some(ImageFormat::Png) => bake_png(image, credential),
        Some(ImageFormat::Svg) => bake_svg(image, credential),
        None => Err(BakedError::NotAnImage),
    }
}

/// Extracts the one credential baked into `image`.
pub fn extract(image: &[u8]) -> Result<Baked, BakedError> {
    match ImageFormat::sniff(image) {
        Some(ImageFormat::Png) => extract_png(image),
        Some(ImageFormat::Svg) => extract_svg(image),
        None => Err(BakedError::NotAnImage),
    }
}

fn parse_png(image: &[u8]) -> Result<Png, BakedError> {
    Png::from_bytes(Bytes::copy_from_slice(image)).map_err(|e| BakedError::Png(e.to_string()))
}

/// An `iTXt` chunk's parts: keyword, compressed flag and method, language tag,
/// translated keyword, text.
struct Itxt<'a> {
    keyword: &'a [u8],
    compressed: bool,
    text: &'a [u8],
}

fn read_itxt(data: &[u8]) -> Result<Itxt<'_>, BakedError> {
    let bad = |what: &str| BakedError::Unreadable(format!("iTXt chunk: {what}"));
    let (keyword, rest) = split_nul(data).ok_or_else(|| bad("no keyword"))?;
    let [flag, method, rest @ ..] = rest else {
        return Err(bad("truncated after the keyword"));
    };
    let (_language, rest) = split_nul(rest).ok_or_else(|| bad("no language tag"))?;
    let (_translated, text) = split_nul(rest).ok_or_else(|| bad("no translated keyword"))?;
    let compressed = match (flag, method) {
        (0, _) => false,
        (1, 0) => true,
        _ => return Err(bad("unknown compression")),
    };
    Ok(Itxt {
        keyword,
        compressed,
        text,
    })
}

fn split_nul(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let at = bytes.iter().position(|b| *b == 0)?;
    Some((&bytes[..at], &bytes[at + 1..]))
}

fn is_badge_chunk(chunk: &PngChunk) -> bool {
    chunk.kind() == ITXT
        && read_itxt(chunk.contents()).is_ok_and(|t| t.keyword == PNG_KEYWORD.as_bytes())
}

fn bake_png(image: &[u8], credential: &str) -> Result<Vec<u8>, BakedError> {
    let mut png = parse_png(image)?;
    let chunks = png.chunks_mut();
    chunks.retain(|c| !is_badge_chunk(c));
    // keyword, NUL, not compressed, method 0, no language tag, no translated keyword.
    let mut data = Vec::with_capacity(PNG_KEYWORD.len() + 5 + credential.len());
    data.extend_from_slice(PNG_KEYWORD.as_bytes());
    data.extend_from_slice(&[0, 0, 0, 0, 0]);
    data.extend_from_slice(credential.as_bytes());
    let end = chunks
        .iter()
        .position(|c| c.kind() == IEND)
        .ok_or_else(|| BakedError::Png("no IEND chunk".into()))?;
    chunks.insert(end, PngChunk::new(ITXT, Bytes::from(data)));
    let mut out = Vec::with_capacity(png.len());
    png.encoder()
        .write_to(&mut out)
        .map_err(|e| BakedError::Png(e.to_string()))?;
    Ok(out)
}

fn extract_png(image: &[u8]) -> Result<Baked, BakedError> {
    let png = parse_png(image)?;
    let found: Vec<&PngChunk> = png
        .chunks_by_type(ITXT)
        .filter(|c| is_badge_chunk(c))
        .collect();
    let chunk = match found.as_slice() {
        [] => {
            return Err(BakedError::NotBaked(
                "PNG",
                "an iTXt chunk with keyword openbadgecredential",
            ))
        }
        [one] => one,
        many => return Err(BakedError::Several(many.len())),
    };
    let itxt = read_itxt(chunk.contents())?;
    let text = if itxt.compressed {
        let mut out = Vec::new();
        flate2::read::ZlibDecoder::new(itxt.text)
            .take(MAX_TEXT + 1)
            .read_to_end(&mut out)
            .map_err(|e| BakedError::Unreadable(format!("iTXt text does not inflate: {e}")))?;
        if out.len() as u64 > MAX_TEXT {
            return Err(BakedError::Unreadable(format!(
                "the iTXt text inflates to more than {MAX_TEXT} bytes"
            )));
        }
        out
    } else {
        itxt.text.to_vec()
    };
    let credential = String::from_utf8(text)
        .map_err(|_| BakedError::Unreadable("the iTXt text is not UTF-8".into()))?;
    Ok(Baked {
        format: ImageFormat::Png,
        credential,
    })
}

fn parse_svg(text: &str) -> Result<roxmltree::Document<'_>, BakedError> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        ..Default::default()
    };
    let document = roxmltree::Document::parse_with_options(text, options)
        .map_err(|e| BakedError::Svg(e.to_string()))?;
    if document.root_element().tag_name().name() != "svg" {
        return Err(BakedError::Svg(format!(
            "the root element is <{}>, not <svg>",
            document.root_element().tag_name().name()
        )));
    }
    Ok(document)
}

fn svg_text(image: &[u8]) -> Result<&str, BakedError> {
    std::str::from_utf8(image).map_err(|_| BakedError::Svg("not UTF-8".into()))
}

/// The baked elements of an SVG: `openbadges:credential` in the Open Badges namespace.
fn badge_elements<'a>(
    document: &'a roxmltree::Document<'a>,
) -> impl Iterator<Item = roxmltree::Node<'a, 'a>> {
    document.descendants().filter(|n| {
        n.is_element()
            && n.tag_name().name() == "credential"
            && n.tag_name().namespace() == Some(SVG_NAMESPACE)
    })
}

fn bake_svg(image: &[u8], credential: &str) -> Result<Vec<u8>, BakedError> {
    let text = svg_text(image)?;
    let document = parse_svg(text)?;
    // Remove what was baked before (their byte ranges, last first).
    let mut ranges: Vec<std::ops::Range<usize>> =
        badge_elements(&document).map(|n| n.range()).collect();
    let root = document.root_element();
    let declared = root
        .namespaces()
        .any(|ns| ns.name() == Some("openbadges") && ns.uri() == SVG_NAMESPACE);
    let clash = root
        .namespaces()
        .any(|ns| ns.name() == Some("openbadges") && ns.uri() != SVG_NAMESPACE);
    if clash {
        return Err(BakedError::Svg(
            "the prefix openbadges is bound to another namespace".into(),
        ));
    }
    // The end of the root's start tag: the first '>' outside attribute quotes.
    let start = root.range().start;
    let mut quote = None;
    let mut tag_end = None;
    for (i, c) in text[start..].char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => {
                tag_end = Some(start + i);
                break;
            }
            _ => {}
        }
    }
    let tag_end = tag_end.ok_or_else(|| BakedError::Svg("unterminated <svg> tag".into()))?;
    let self_closing = text[..tag_end].ends_with('/');
    let cdata = credential.replace("]]>", "]]]]><![CDATA[>");
    let element = if credential.trim_start().starts_with('{') {
        format!("<openbadges:credential><![CDATA[{cdata}]]></openbadges:credential>")
    } else {
        format!(
            "<openbadges:credential verify=\"{}\"></openbadges:credential>",
            escape_attribute(credential)
        )
    };
    let mut out = String::with_capacity(text.len() + element.len() + 64);
    let head_end = if self_closing { tag_end - 1 } else { tag_end };
    out.push_str(&text[..head_end]);
    if !declared {
        out.push_str(&format!(" xmlns:openbadges=\"{SVG_NAMESPACE}\""));
    }
    out.push('>');
    out.push_str(&element);
    ranges.sort_by_key(|r| r.start);
    let mut at = tag_end + 1;
    if self_closing {
        out.push_str("</svg>");
        at = text.len();
    }
    for range in ranges {
        out.push_str(&text[at..range.start]);
        at = range.end;
    }
    out.push_str(&text[at..]);
    Ok(out.into_bytes())
}

fn escape_attribute(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
}

fn extract_svg(image: &[u8]) -> Result<Baked, BakedError> {
    let text = svg_text(image)?;
    let document = parse_svg(text)?;
    let found: Vec<roxmltree::Node<'_, '_>> = badge_elements(&document).collect();
    let element = match found.as_slice() {
        [] => {
            return Err(BakedError::NotBaked(
                "SVG",
                "an <openbadges:credential> element",
            ))
        }
        [one] => *one,
        many => return Err(BakedError::Several(many.len())),
    };
    let credential = match element.attribute("verify") {
        Some(jws) => jws.trim().to_owned(),
        None => element
            .children()
            .filter(|n| n.is_text())
            .filter_map(|n| n.text())
            .collect::<String>()
            .trim()
            .to_owned(),
    };
    if credential.is_empty() {
        return Err(BakedError::Unreadable(
            "the <openbadges:credential> element is empty".into(),
        ));
    }
    Ok(Baked {
        format: ImageFormat::Svg,
        credential,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 1×1 PNG (an IHDR, one IDAT, IEND), written by hand with its CRCs.
    fn tiny_png() -> Vec<u8> {
        let chunk = |kind: [u8; 4], data: &[u8]| {
            PngChunk::new(kind, Bytes::copy_from_slice(data))
                .encoder()
                .flat_map(|b| b.to_vec())
                .collect::<Vec<u8>>()
        };
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(chunk(*b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]));
        // zlib of the one scanline [filter 0, grey 0].
        png.extend(chunk(
            *b"IDAT",
            &[0x78, 0x9c, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01],
        ));
        png.extend(chunk(IEND, &[]));
        png
    }

    const CREDENTIAL: &str =
        r#"{"type":["VerifiableCredential","OpenBadgeCredential"],"name":"a ]]> b"}"#;

    #[test]
    fn png_round_trip_replaces_and_refuses_two() {
        let png = tiny_png();
        assert_eq!(
            extract(&png),
            Err(BakedError::NotBaked(
                "PNG",
                "an iTXt chunk with keyword openbadgecredential"
            ))
        );
        let baked = bake(&png, CREDENTIAL).unwrap();
        let found = extract(&baked).unwrap();
        assert_eq!(found.format, ImageFormat::Png);
        assert_eq!(found.credential, CREDENTIAL);
        // Baking again replaces: still exactly one.
        let again = bake(&baked, "{}").unwrap();
        assert_eq!(extract(&again).unwrap().credential, "{}");
        // The image data is untouched and IEND stays last.
        let parsed = parse_png(&again).unwrap();
        let kinds: Vec<[u8; 4]> = parsed.chunks().iter().map(|c| c.kind()).collect();
        assert_eq!(kinds, [*b"IHDR", *b"IDAT", ITXT, IEND]);
        // Two baked chunks (a careless baker) are refused.
        let mut two = parse_png(&again).unwrap();
        let extra = two.chunks()[2].clone();
        two.chunks_mut().insert(2, extra);
        let mut bytes = Vec::new();
        two.encoder().write_to(&mut bytes).unwrap();
        assert_eq!(extract(&bytes), Err(BakedError::Several(2)));
    }

    #[test]
    fn a_compressed_itxt_from_another_baker_reads_and_a_bad_crc_is_refused() {
        use std::io::Write as _;
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(CREDENTIAL.as_bytes()).unwrap();
        let mut data = b"openbadgecredential\0\x01\x00en\0\0".to_vec();
        data.extend(z.finish().unwrap());
        let mut png = parse_png(&tiny_png()).unwrap();
        png.chunks_mut()
            .insert(1, PngChunk::new(ITXT, Bytes::from(data)));
        let mut bytes = Vec::new();
        png.encoder().write_to(&mut bytes).unwrap();
        assert_eq!(extract(&bytes).unwrap().credential, CREDENTIAL);

        let baked = bake(&tiny_png(), CREDENTIAL).unwrap();
        let at = baked.len() - 20; // inside the iTXt text
        let mut flipped = baked.clone();
        flipped[at] ^= 1;
        assert!(matches!(extract(&flipped), Err(BakedError::Png(_))));
        assert!(matches!(
            extract(&baked[..baked.len() - 5]),
            Err(BakedError::Png(_))
        ));
    }

    #[test]
    fn svg_round_trip_keeps_the_artwork_and_escapes_cdata() {
        let svg = br#"<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" data-x="a>b"><circle r="4"/></svg>"#;
        let baked = bake(svg, CREDENTIAL).unwrap();
        let text = String::from_utf8(baked.clone()).unwrap();
        assert!(text.contains(r#"data-x="a>b" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"><openbadges:credential><![CDATA["#), "{text}");
        assert!(text.contains("<circle r=\"4\"/>"));
        let found = extract(&baked).unwrap();
        assert_eq!(
            (found.format, found.credential.as_str()),
            (ImageFormat::Svg, CREDENTIAL)
        );
        // Baking again replaces.
        let again = bake(&baked, "{\"b\":1}").unwrap();
        assert_eq!(extract(&again).unwrap().credential, "{\"b\":1}");
        assert_eq!(
            String::from_utf8(again)
                .unwrap()
                .matches("openbadges:credential>")
                .count(),
            2,
            "one element, open and close"
        );
        // A JWS goes into the verify attribute.
        let jws = bake(svg, "eyJ.eyJ.sig").unwrap();
        assert_eq!(extract(&jws).unwrap().credential, "eyJ.eyJ.sig");
        // A self-closing root.
        let empty = bake(br#"<svg xmlns="http://www.w3.org/2000/svg"/>"#, "{}").unwrap();
        assert_eq!(extract(&empty).unwrap().credential, "{}");
    }

    #[test]
    fn hostile_svg_is_refused() {
        let dtd = br#"<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x "boom">]><svg xmlns="http://www.w3.org/2000/svg">&x;</svg>"#;
        assert!(matches!(extract(dtd), Err(BakedError::Svg(_))));
        let not_svg = br#"<html><svg/></html>"#;
        assert!(matches!(extract(not_svg), Err(BakedError::Svg(_))));
        assert_eq!(extract(b"{\"a\":1}"), Err(BakedError::NotAnImage));
        let two = br#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:ob="https://purl.imsglobal.org/ob/v3p0"><ob:credential>{}</ob:credential><ob:credential>{}</ob:credential></svg>"#;
        assert_eq!(extract(two), Err(BakedError::Several(2)));
    }
}

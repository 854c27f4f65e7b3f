//! QR codes as inline SVG: one path, each run of dark modules in a row one rectangle,
//! which keeps a sheet of labels small and quick to draw.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, OnceLock};

use qrcode::{Color, EcLevel, QrCode};

/// The quiet zone scanners need around a code, in modules.
const QUIET: usize = 4;

/// Codes drawn so far, by text and size.
type Drawn = HashMap<(String, u32), Arc<str>>;

/// How many codes [`svg`] remembers (a few KiB each) before starting afresh.
const MEMO: usize = 4096;

/// An SVG QR code for `text`, `size` pixels square (medium error correction, which
/// survives a scuffed label), or `None` if the text is too long to encode.
///
/// Choosing the best mask, as the standard asks, is most of a millisecond per code; the
/// codes a node draws (device and credential URLs) never change, so they are remembered.
pub fn svg(text: &str, size: u32) -> Option<Arc<str>> {
    static CODES: OnceLock<Mutex<Drawn>> = OnceLock::new();
    let codes = CODES.get_or_init(Mutex::default);
    let key = (text.to_owned(), size);
    if let Some(svg) = codes.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return Some(svg.clone());
    }
    let svg: Arc<str> = draw(text, size)?.into();
    let mut codes = codes.lock().unwrap_or_else(|e| e.into_inner());
    if codes.len() >= MEMO {
        codes.clear();
    }
    codes.insert(key, svg.clone());
    Some(svg)
}

fn draw(text: &str, size: u32) -> Option<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let width = code.width();
    let colors = code.to_colors();
    let total = width + 2 * QUIET;
    let mut path = String::with_capacity(width * width);
    for y in 0..width {
        let row = &colors[y * width..(y + 1) * width];
        let mut x = 0;
        while x < width {
            if row[x] == Color::Light {
                x += 1;
                continue;
            }
            let start = x;
            while x < width && row[x] == Color::Dark {
                x += 1;
            }
            let run = x - start;
            let _ = write!(path, "M{},{}h{run}v1h-{run}z", start + QUIET, y + QUIET);
        }
    }
    Some(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {total} {total}\" width=\"{size}\" height=\"{size}\" shape-rendering=\"crispEdges\"><rect width=\"{total}\" height=\"{total}\" fill=\"#fff\"/><path fill=\"#000\" d=\"{path}\"/></svg>"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_every_dark_module_and_nothing_else() {
        let text = "http://127.0.0.1:8080/d/MPPT20-2026-0007";
        let svg = svg(text, 120).unwrap();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"), "{svg}");
        // Rebuild the module grid from the path and compare it with the code.
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).unwrap();
        let width = code.width();
        let mut drawn = vec![false; width * width];
        let d = svg
            .split(" d=\"")
            .nth(1)
            .unwrap()
            .trim_end_matches("\"/></svg>");
        for rect in d.split('z').filter(|r| !r.is_empty()) {
            let (start, rest) = rect[1..].split_once('h').unwrap();
            let (x, y) = start.split_once(',').unwrap();
            let run: usize = rest.split('v').next().unwrap().parse().unwrap();
            let (x, y): (usize, usize) = (
                x.parse::<usize>().unwrap() - QUIET,
                y.parse::<usize>().unwrap() - QUIET,
            );
            for i in 0..run {
                drawn[y * width + x + i] = true;
            }
        }
        let expected: Vec<bool> = code.to_colors().iter().map(|c| *c == Color::Dark).collect();
        assert_eq!(drawn, expected);
    }

    #[test]
    fn refuses_what_does_not_fit() {
        assert!(svg(&"x".repeat(5000), 120).is_none());
    }
}

//! Badge artwork drawn by the node: a hexagonal medal in the community's colour, for
//! achievements without an uploaded image (the demo's among them) and for baking a badge
//! into the format its uploaded image is not in. SVG carries the achievement's initials
//! and level; the PNG is the same medal without lettering (drawing text into pixels would
//! need a font rasterizer for a picture that only has to be recognisable).

use std::fmt::Write as _;

/// The PNG's width and height, in pixels.
pub const PNG_SIZE: u32 = 256;

/// A colour for a community, from its slug: a hue that stays the same for the slug.
pub fn hue_of(slug: &str) -> u16 {
    let hash = slug.bytes().fold(2166136261u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(16777619)
    });
    (hash % 360) as u16
}

/// An HSL colour (saturation and lightness in percent) as 8-bit RGB.
fn rgb(hue: u16, saturation: f64, lightness: f64) -> [u8; 3] {
    let (s, l) = (saturation / 100.0, lightness / 100.0);
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let h = f64::from(hue % 360) / 60.0;
    let x = c * (1.0 - (h % 2.0 - 1.0).abs());
    let (r, g, b) = match h as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    let byte = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    [byte(r), byte(g), byte(b)]
}

fn hex(color: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", color[0], color[1], color[2])
}

/// Up to three letters standing for a title: the initials of its first words.
fn initials(title: &str) -> String {
    let letters: String = title
        .split(|c: char| c.is_whitespace() || c == '-')
        .filter_map(|w| w.chars().find(|c| c.is_alphanumeric()))
        .take(3)
        .flat_map(char::to_uppercase)
        .collect();
    if letters.is_empty() {
        "★".into()
    } else {
        letters
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The hexagon's corners (pointy top) around (`cx`, `cy`) with radius `r`, as SVG points.
fn hexagon(cx: f64, cy: f64, r: f64) -> String {
    let mut points = String::new();
    for i in 0..6 {
        let angle = std::f64::consts::PI / 3.0 * f64::from(i) - std::f64::consts::FRAC_PI_2;
        let _ = write!(
            points,
            "{:.1},{:.1} ",
            cx + r * angle.cos(),
            cy + r * angle.sin()
        );
    }
    points.trim_end().to_owned()
}

/// The medal as SVG: `title` (its initials on the medal, the whole title for screen
/// readers), the community's `hue`, and the `level` on a ribbon.
pub fn badge_svg(title: &str, community: &str, level: Option<&str>, hue: u16) -> String {
    let (dark, mid, light) = (
        rgb(hue, 55.0, 30.0),
        rgb(hue, 60.0, 45.0),
        rgb(hue, 70.0, 85.0),
    );
    let ribbon = level
        .map(|l| {
            format!(
                r##"<path d="M58 188 H198 L186 206 L198 224 H58 L70 206 Z" fill="{}"/><text x="128" y="212" text-anchor="middle" font-family="sans-serif" font-size="15" font-weight="700" fill="#fff">LEVEL {}</text>"##,
                hex(dark),
                escape(&l.to_uppercase())
            )
        })
        .unwrap_or_default();
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 256 256" width="256" height="256" role="img" aria-label="{label}"><title>{label}</title><defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="{mid}"/><stop offset="1" stop-color="{dark}"/></linearGradient></defs><polygon points="{outer}" fill="url(#g)"/><polygon points="{inner}" fill="none" stroke="{light}" stroke-width="6"/><text x="128" y="{y}" text-anchor="middle" font-family="sans-serif" font-size="{size}" font-weight="700" fill="#fff">{initials}</text>{ribbon}</svg>"##,
        label = escape(&format!("{title} — {community}")),
        mid = hex(mid),
        dark = hex(dark),
        light = hex(light),
        outer = hexagon(128.0, 120.0, 112.0),
        inner = hexagon(128.0, 120.0, 92.0),
        y = 138,
        size = if initials(title).chars().count() > 2 {
            50
        } else {
            60
        },
        initials = escape(&initials(title)),
    )
}

/// Whether (`x`, `y`) lies in the pointy-top hexagon around (`cx`, `cy`) of radius `r`.
fn in_hexagon(x: f64, y: f64, cx: f64, cy: f64, r: f64) -> bool {
    let (dx, dy) = ((x - cx).abs(), (y - cy).abs());
    let half_width = r * 3f64.sqrt() / 2.0;
    dx <= half_width && dy <= r - dx / 3f64.sqrt()
}

/// The medal as a PNG of [`PNG_SIZE`] pixels square (RGBA, antialiased by 4×4
/// supersampling): the same hexagon, gradient and inner ring as [`badge_svg`], and a
/// ribbon when there is a level.
pub fn badge_png(hue: u16, has_level: bool) -> Vec<u8> {
    let size = PNG_SIZE as usize;
    let scale = 256.0 / PNG_SIZE as f64;
    let (dark, mid, light) = (
        rgb(hue, 55.0, 30.0),
        rgb(hue, 60.0, 45.0),
        rgb(hue, 70.0, 85.0),
    );
    let mut pixels = vec![0u8; size * size * 4];
    for py in 0..size {
        for px in 0..size {
            let mut sum = [0.0f64; 4];
            for sy in 0..4 {
                for sx in 0..4 {
                    let x = (px as f64 + (sx as f64 + 0.5) / 4.0) * scale;
                    let y = (py as f64 + (sy as f64 + 0.5) / 4.0) * scale;
                    let ribbon = has_level && (188.0..=224.0).contains(&y) && {
                        let notch = 12.0 - (y - 206.0).abs() * 12.0 / 18.0;
                        x >= 58.0 + notch && x <= 198.0 - notch
                    };
                    let color = if ribbon {
                        Some(dark)
                    } else if in_hexagon(x, y, 128.0, 120.0, 112.0) {
                        let ring = !in_hexagon(x, y, 128.0, 120.0, 89.0)
                            && in_hexagon(x, y, 128.0, 120.0, 95.0);
                        if ring {
                            Some(light)
                        } else {
                            let t = ((y - 8.0) / 224.0).clamp(0.0, 1.0);
                            Some([0, 1, 2].map(|i| {
                                (f64::from(mid[i]) * (1.0 - t) + f64::from(dark[i]) * t) as u8
                            }))
                        }
                    } else {
                        None
                    };
                    if let Some(c) = color {
                        for i in 0..3 {
                            sum[i] += f64::from(c[i]);
                        }
                        sum[3] += 1.0;
                    }
                }
            }
            let at = (py * size + px) * 4;
            if sum[3] > 0.0 {
                for i in 0..3 {
                    pixels[at + i] = (sum[i] / sum[3]).round() as u8;
                }
                pixels[at + 3] = (sum[3] / 16.0 * 255.0).round() as u8;
            }
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, PNG_SIZE, PNG_SIZE);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    // Writing to a Vec cannot fail, and the header and data sizes agree by construction.
    let mut writer = encoder.write_header().expect("PNG header into memory");
    writer
        .write_image_data(&pixels)
        .expect("PNG data into memory");
    drop(writer);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_artwork_is_a_valid_svg_and_png() {
        let svg = badge_svg(
            "MPPT controller <assembly>",
            "Kestrel",
            Some("2"),
            hue_of("kestrel"),
        );
        roxmltree::Document::parse(&svg).expect("well-formed SVG");
        assert!(
            svg.contains(">MCA<") && svg.contains("LEVEL 2") && svg.contains("&lt;assembly&gt;")
        );
        let png = badge_png(hue_of("kestrel"), true);
        let decoder = png::Decoder::new(std::io::Cursor::new(&png));
        let mut reader = decoder.read_info().unwrap();
        let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
        let frame = reader.next_frame(&mut buffer).unwrap();
        assert_eq!((frame.width, frame.height), (PNG_SIZE, PNG_SIZE));
        // Transparent corners, an opaque middle.
        assert_eq!(buffer[3], 0);
        let middle = (128 * PNG_SIZE as usize + 128) * 4;
        assert_eq!(buffer[middle + 3], 255);
        assert_ne!(hue_of("kestrel"), hue_of("saltmarsh"));
    }
}

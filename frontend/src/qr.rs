//! QR codes as inline SVG.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// An SVG QR code for `text` (medium error correction, which survives a scuffed label),
/// or `None` if the text is too long to encode.
pub fn svg(text: &str, size: u32) -> Option<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let image = code
        .render::<svg::Color>()
        .min_dimensions(size, size)
        .quiet_zone(true)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    // Inline in HTML: the XML declaration has no place there.
    let start = image.find("<svg")?;
    Some(image[start..].to_owned())
}

#[cfg(test)]
mod tests {
    #[test]
    fn encodes_a_device_url_as_svg() {
        let svg = super::svg("http://127.0.0.1:8080/d/MPPT20-2026-0007", 120).unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("<path") || svg.contains("<rect"));
    }

    #[test]
    fn refuses_what_does_not_fit() {
        assert!(super::svg(&"x".repeat(5000), 120).is_none());
    }
}

//! QR codes as inline SVG, drawn on the server: the two-factor enrollment page shows the
//! `otpauth://` URI this way, so the secret never reaches a third-party image service.

use qrcode::{Color, EcLevel, QrCode};

/// Modules of light border around the code; the QR specification asks for four.
const QUIET_ZONE: usize = 4;

/// An SVG of `data` as a QR code (error correction level M), one path of unit squares on a
/// white background, sized by its container. `None` when `data` is too long for a QR code.
pub fn svg(data: &str, label: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M).ok()?;
    let width = code.width();
    let size = width + 2 * QUIET_ZONE;
    let mut path = String::with_capacity(width * width * 4);
    for (i, color) in code.to_colors().into_iter().enumerate() {
        if color == Color::Dark {
            let (x, y) = (i % width + QUIET_ZONE, i / width + QUIET_ZONE);
            path.push_str(&format!("M{x} {y}h1v1h-1z"));
        }
    }
    Some(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" \
         role=\"img\" aria-label=\"{}\" shape-rendering=\"crispEdges\">\
         <rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/>\
         <path d=\"{path}\" fill=\"#000\"/></svg>",
        escape_attribute(label)
    ))
}

fn escape_attribute(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_every_dark_module_inside_the_quiet_zone() {
        let uri = "otpauth://totp/Keyport:ada%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Keyport";
        let svg = svg(uri, "QR code").expect("fits");
        let code = QrCode::with_error_correction_level(uri.as_bytes(), EcLevel::M).unwrap();
        let size = code.width() + 2 * QUIET_ZONE;
        assert!(svg.contains(&format!("viewBox=\"0 0 {size} {size}\"")));
        let dark = code
            .to_colors()
            .iter()
            .filter(|c| **c == Color::Dark)
            .count();
        assert_eq!(svg.matches('M').count(), dark);
        // The top-left finder pattern's corner module sits right after the quiet zone.
        assert!(svg.contains(&format!("M{QUIET_ZONE} {QUIET_ZONE}h1v1h-1z")));
        assert!(!svg.contains("M0 0h1"), "nothing drawn in the quiet zone");
    }

    #[test]
    fn the_label_cannot_break_out_of_its_attribute() {
        let svg = svg("x", "\"><script>alert(1)</script>").expect("fits");
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("aria-label=\"&quot;&gt;&lt;script&gt;"));
    }

    #[test]
    fn too_much_data_is_refused() {
        assert_eq!(svg(&"x".repeat(5000), "QR"), None);
    }
}

//! QR codes for distribution links, ready to print: SVG with the form title and unit under the code, and
//! a plain PNG of the code alone.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// Escapes text for an SVG text node.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// An SVG poster block: the QR code for `url`, and the title and unit below it.
///
/// # Errors
/// When the URL is too long for a QR code.
pub fn svg(url: &str, title: &str, unit: &str) -> Result<String, String> {
    let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M).map_err(|e| e.to_string())?;
    let size = 480u32;
    let inner = code.render::<svg::Color<'_>>().min_dimensions(size, size).quiet_zone(true).build();
    // Drop the XML prolog and nest the code in a taller picture with the two lines of text.
    let body = inner.split_once("?>").map_or(inner.as_str(), |(_, b)| b).trim().to_owned();
    Ok(format!(
        r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">
<rect width="100%" height="100%" fill="#fff"/>
{body}
<text x="{cx}" y="{t1}" font-size="26" text-anchor="middle" font-family="sans-serif" fill="#000">{title}</text>
<text x="{cx}" y="{t2}" font-size="22" text-anchor="middle" font-family="sans-serif" fill="#333">{unit}</text>
</svg>
"##,
        w = size,
        h = size + 90,
        cx = size / 2,
        t1 = size + 36,
        t2 = size + 72,
        title = esc(title),
        unit = esc(unit),
    ))
}

/// A PNG of the QR code for `url` alone (8 pixels a module, 4-module quiet zone).
///
/// # Errors
/// When the URL is too long for a QR code or encoding fails.
pub fn png(url: &str) -> Result<Vec<u8>, String> {
    let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M).map_err(|e| e.to_string())?;
    let modules = code.width();
    let scale = 8usize;
    let quiet = 4usize;
    let side = (modules + 2 * quiet) * scale;
    let colors = code.to_colors();
    let mut pixels = vec![255u8; side * side];
    for y in 0..modules {
        for x in 0..modules {
            if colors[y * modules + x] == qrcode::Color::Dark {
                for dy in 0..scale {
                    let row = (y + quiet) * scale + dy;
                    let start = row * side + (x + quiet) * scale;
                    pixels[start..start + scale].fill(0);
                }
            }
        }
    }
    let mut out = Vec::new();
    {
        let side32 = u32::try_from(side).map_err(|e| e.to_string())?;
        let mut enc = png::Encoder::new(&mut out, side32, side32);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().map_err(|e| e.to_string())?;
        w.write_image_data(&pixels).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

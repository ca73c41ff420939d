//! QR codes for distribution links, ready to print: SVG with the form title and unit under the code, and
//! a plain PNG of the code alone.

use qrcode::{EcLevel, QrCode};

/// Escapes text for an SVG text node.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Side of the code in the SVG (quiet zone included), and the height of the two lines of text below it.
const SVG_SIDE: u32 = 480;
const SVG_TEXT: u32 = 90;
/// Modules of white around the code, as the QR standard asks.
const QUIET: usize = 4;

/// An SVG poster block: the QR code for `url`, centred in a square with its quiet zone, and the title
/// and unit below it.
///
/// # Errors
/// When the URL is too long for a QR code.
pub fn svg(url: &str, title: &str, unit: &str) -> Result<String, String> {
    let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M).map_err(|e| e.to_string())?;
    let n = code.width();
    // One path in module units, scaled by the viewBox to the square: the same margin on every side.
    let mut path = String::new();
    for (i, c) in code.to_colors().iter().enumerate() {
        if *c == qrcode::Color::Dark {
            path.push_str(&format!("M{} {}h1v1h-1z", i % n + QUIET, i / n + QUIET));
        }
    }
    let modules = n + 2 * QUIET;
    Ok(format!(
        r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">
<rect width="100%" height="100%" fill="#fff"/>
<svg class="qr" x="0" y="0" width="{w}" height="{w}" viewBox="0 0 {modules} {modules}" shape-rendering="crispEdges">
<path fill="#000" d="{path}"/>
</svg>
<text x="{cx}" y="{t1}" font-size="26" text-anchor="middle" font-family="sans-serif" fill="#000">{title}</text>
<text x="{cx}" y="{t2}" font-size="22" text-anchor="middle" font-family="sans-serif" fill="#333">{unit}</text>
</svg>
"##,
        w = SVG_SIDE,
        h = SVG_SIDE + SVG_TEXT,
        cx = SVG_SIDE / 2,
        t1 = SVG_SIDE + 36,
        t2 = SVG_SIDE + 72,
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
    let quiet = QUIET;
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

#[cfg(test)]
mod tests {
    /// The dark squares of the SVG's code, in module units, and the square's size in modules.
    fn modules(svg: &str) -> (Vec<(usize, usize)>, usize) {
        let view = svg.split("class=\"qr\"").nth(1).unwrap().split("viewBox=\"0 0 ").nth(1).unwrap();
        let size: usize = view.split(' ').next().unwrap().parse().unwrap();
        let d = svg.split(" d=\"").nth(1).unwrap().split('"').next().unwrap();
        let squares = d
            .split('M')
            .filter(|m| !m.is_empty())
            .map(|m| {
                let xy: Vec<usize> = m.split('h').next().unwrap().split(' ').map(|v| v.parse().unwrap()).collect();
                (xy[0], xy[1])
            })
            .collect();
        (squares, size)
    }

    #[test]
    fn the_svg_code_is_centred_with_equal_margins_and_decodes_to_the_url() {
        let url = "https://wenji.example.gov.cn/f/zhengqiu?t=1.abcdefghijklmnopqrstuvwxyz0123456789";
        let svg = super::svg(url, "分析检查阶段征求意见表", "城南法律服务所").unwrap();
        assert!(svg.contains("width=\"480\" height=\"480\""), "the code fills the 480 square at the top");
        let (dark, size) = modules(&svg);
        let (left, right) = (dark.iter().map(|d| d.0).min().unwrap(), dark.iter().map(|d| d.0).max().unwrap() + 1);
        let (top, bottom) = (dark.iter().map(|d| d.1).min().unwrap(), dark.iter().map(|d| d.1).max().unwrap() + 1);
        assert_eq!(left, size - right, "left and right margins");
        assert_eq!(top, size - bottom, "top and bottom margins");
        assert_eq!(left, super::QUIET, "a four-module quiet zone");
        // Rendered at 6 pixels a module, the picture decodes back to the address.
        let px = 6;
        let side = size * px;
        let mut img = vec![255u8; side * side];
        for (x, y) in &dark {
            for dy in 0..px {
                let row = (y * px + dy) * side;
                img[row + x * px..row + (x + 1) * px].fill(0);
            }
        }
        let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| img[y * side + x]);
        let grids = prepared.detect_grids();
        assert_eq!(grids.len(), 1);
        assert_eq!(grids[0].decode().unwrap().1, url);
    }
}

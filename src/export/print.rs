//! How the workbook prints: one page setup any sheet can call (A4, landscape when wide, fit to the page
//! width, header rows repeated, a header and footer with the title, the generation time and the page
//! number), and row heights that leave room for wrapped text.

use super::sheet::display_width;
use rust_xlsxwriter::{Worksheet, XlsxError};

/// Excel's paper size code for A4.
const A4: u8 = 9;
/// Widest sheet (in Excel character units) that still prints readably on portrait A4.
const PORTRAIT_MAX_WIDTH: f64 = 100.0;
/// Height of one line of 11-point text with CJK glyphs, in points, and the padding of a cell.
const LINE_HEIGHT: f64 = 15.0;
const ROW_PADDING: f64 = 3.0;
/// Excel's tallest row, in points.
const MAX_ROW_HEIGHT: f64 = 409.0;

/// The header and footer every printed page carries.
#[derive(Clone, Debug)]
pub struct PageSetup {
    header: String,
    footer: String,
}

/// How a sheet's content flows over pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// A small table (and its chart) that must print on a single page.
    OnePage,
    /// Rows that continue over pages, the first `header_rows` repeated on each.
    Rows { header_rows: u32 },
}

impl PageSetup {
    /// The header names the sheet and `title`, and says when the data was generated; the footer numbers
    /// the pages.
    pub fn new(title: &str, generated: &str) -> PageSetup {
        // `&` starts a control code in Excel headers; the whole header may not pass 255 characters.
        let title: String = title.replace('&', "&&").chars().take(120).collect();
        PageSetup {
            header: format!("&L&A&C{title}&R生成于 {generated}"), footer: "&C第 &P 页，共 &N 页".to_owned()
        }
    }

    /// Sets the page up for printing: A4, landscape when the columns are wider than `width` characters
    /// of portrait paper, fit to the page width (and height for [`Flow::OnePage`]).
    ///
    /// # Errors
    /// When the repeated rows are out of Excel's range.
    pub fn apply(&self, ws: &mut Worksheet, width: f64, flow: Flow) -> Result<(), XlsxError> {
        ws.set_paper_size(A4);
        if width > PORTRAIT_MAX_WIDTH {
            ws.set_landscape();
        } else {
            ws.set_portrait();
        }
        ws.set_header(&self.header);
        ws.set_footer(&self.footer);
        // The header stays readable when a wide sheet is shrunk to the page width.
        ws.set_header_footer_scale_with_doc(false);
        ws.set_margins(0.5, 0.5, 0.7, 0.6, 0.3, 0.3);
        ws.set_print_center_horizontally(true);
        match flow {
            Flow::OnePage => {
                ws.set_print_fit_to_pages(1, 1);
            }
            Flow::Rows { header_rows } => {
                // Height 0: as many pages down as the rows need.
                ws.set_print_fit_to_pages(1, 0);
                if header_rows > 0 {
                    ws.set_repeat_rows(0, header_rows - 1)?;
                }
            }
        }
        Ok(())
    }
}

/// The height (points) a row needs so each wrapped cell shows all its lines, given `(text, column width)`
/// for the wrapped cells; `None` when one line is enough (the default height then applies).
pub fn row_height<'a>(wrapped: impl IntoIterator<Item = (&'a str, f64)>) -> Option<f64> {
    let lines = wrapped.into_iter().map(|(text, width)| wrapped_lines(text, width)).max().unwrap_or(1);
    (lines > 1).then(|| (lines as f64 * LINE_HEIGHT + ROW_PADDING).min(MAX_ROW_HEIGHT))
}

/// Lines `text` takes in a column `width` characters wide, each of its own lines wrapped. A CJK
/// character counts two; a tenth of the width is kept back because renderers break lines at words.
fn wrapped_lines(text: &str, width: f64) -> usize {
    let room = ((width - 1.0) * 0.9).max(2.0);
    text.split('\n')
        .map(|line| {
            let w = display_width(line) as f64;
            ((w / room).ceil() as usize).max(1)
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_text_keeps_the_default_height() {
        assert_eq!(row_height([("很短的意见", 60.0)]), None);
        assert_eq!(row_height(std::iter::empty()), None);
    }

    #[test]
    fn a_long_text_gets_a_line_for_each_wrap_and_each_newline() {
        // 100 CJK characters are 200 units; 53.1 fit on a line of a 60-wide column: 4 lines.
        let long = "意".repeat(100);
        assert_eq!(row_height([(long.as_str(), 60.0)]), Some(4.0 * LINE_HEIGHT + ROW_PADDING));
        assert_eq!(row_height([("一\n二\n三", 60.0), ("短", 9.0)]), Some(3.0 * LINE_HEIGHT + ROW_PADDING));
    }

    #[test]
    fn a_huge_text_stops_at_excels_tallest_row() {
        let huge = "意".repeat(20_000);
        assert_eq!(row_height([(huge.as_str(), 60.0)]), Some(MAX_ROW_HEIGHT));
    }

    #[test]
    fn headers_escape_the_ampersand_and_stay_short() {
        let p = PageSetup::new(&"A&B".repeat(100), "2026-12-03 10:00");
        assert!(p.header.contains("A&&B"));
        assert!(p.header.chars().count() < 255);
    }
}

//! Worksheet helpers: Excel-safe sheet names, column widths that account for Chinese characters, and a
//! streamed (constant-memory) sheet that continues on a second sheet instead of passing Excel's row limit.

use super::print::{Flow, PageSetup, row_height};
use super::{ExportError, looks_like_formula};
use rust_xlsxwriter::{Format, Workbook};
use std::collections::HashSet;

/// Excel's last row, counted from 1.
pub const EXCEL_MAX_ROWS: u32 = 1_048_576;
/// The longest text Excel keeps in one cell.
pub const EXCEL_MAX_CHARS: usize = 32_767;

/// Rows of a sheet that get a height fitting their wrapped text; later rows keep the default height.
/// rust_xlsxwriter keeps every row's height until the file is saved, even in constant-memory mode (a
/// million heights peaked at 902 MB), and nobody prints past the first two thousand rows.
pub const FITTED_ROWS: u32 = 2_000;

/// How wide a text looks in Excel's character units: CJK and full-width characters take two.
pub fn display_width(s: &str) -> usize {
    s.lines().map(|l| l.chars().map(|c| if is_wide(c) { 2 } else { 1 }).sum()).max().unwrap_or(0)
}

fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x20000..=0x2FFFD | 0x30000..=0x3FFFD)
}

/// A column width for the widest of `samples`, between `min` and `max`.
pub fn width_for<'a>(samples: impl IntoIterator<Item = &'a str>, min: f64, max: f64) -> f64 {
    let w = samples.into_iter().map(display_width).max().unwrap_or(0) as f64 + 2.0;
    w.clamp(min, max)
}

/// Keeps a text within Excel's cell limit.
pub fn clip(s: &str) -> &str {
    // A text of at most that many bytes has at most that many characters: nothing to count.
    if s.len() <= EXCEL_MAX_CHARS {
        return s;
    }
    match s.char_indices().nth(EXCEL_MAX_CHARS) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Sheet names in use, checked the way Excel checks them (case-insensitive).
#[derive(Default)]
pub struct SheetNames(HashSet<String>);

impl SheetNames {
    /// A valid, unused sheet name close to `wanted`: no `[]:*?/\`, no leading or trailing `'`, at most 31
    /// characters, and not already taken.
    pub fn claim(&mut self, wanted: &str) -> String {
        let clean: String = wanted.chars().map(|c| if "[]:*?/\\".contains(c) { '_' } else { c }).collect();
        let clean = clean.trim_matches('\'').trim().to_owned();
        let clean = if clean.is_empty() || clean.eq_ignore_ascii_case("history") { "表".to_owned() } else { clean };
        let fit = |s: &str, room: usize| s.chars().take(room).collect::<String>();
        let mut name = fit(&clean, 31);
        let mut n = 2;
        while self.0.contains(&name.to_lowercase()) {
            let suffix = format!("（{n}）");
            name = format!("{}{suffix}", fit(&clean, 31 - suffix.chars().count()));
            n += 1;
        }
        self.0.insert(name.to_lowercase());
        name
    }
}

/// One column of a streamed sheet.
pub struct Col {
    pub header: String,
    pub width: f64,
    /// Long text: wrapped, top-aligned.
    pub wrap: bool,
}

impl Col {
    pub fn new(header: &str, width: f64, wrap: bool) -> Col {
        Col { header: header.to_owned(), width, wrap }
    }

    /// Whether `text` is wrapped in this column: always in a long-text column, and in any other when it
    /// is wider than the column (it would otherwise run over its neighbours, on screen and on paper).
    fn wraps(&self, text: &str) -> bool {
        self.wrap || display_width(text) as f64 > self.width || text.contains('\n')
    }
}

/// A constant-memory sheet written row by row, in order. When a sheet is full it continues on a new
/// sheet named `…（续2）` with the same header; [`keep_parts_together`] then places it right after it.
pub struct StreamSheet {
    base: String,
    cols: Vec<Col>,
    index: usize,
    /// The workbook indices of every part, in order.
    parts: Vec<usize>,
    part: u32,
    row: u32,
    max_rows: u32,
    header: Format,
    wrap: Format,
    wrap_quoted: Format,
    quoted: Format,
    print: PageSetup,
    /// Data rows written over every part.
    pub written: u64,
}

impl StreamSheet {
    /// Adds the sheet (with its header row, frozen and repeated on every printed page) to `wb`. `max_rows`
    /// is Excel's limit except in tests.
    ///
    /// # Errors
    /// When the sheet's temporary file cannot be created.
    pub fn open(
        wb: &mut Workbook,
        names: &mut SheetNames,
        base: &str,
        cols: Vec<Col>,
        max_rows: u32,
        print: &PageSetup,
    ) -> Result<StreamSheet, ExportError> {
        let mut s = StreamSheet {
            base: base.to_owned(),
            cols,
            index: 0,
            parts: Vec::new(),
            part: 1,
            row: 0,
            max_rows: max_rows.max(2),
            header: super::xlsx::header_format(),
            wrap: super::xlsx::wrap_format(),
            wrap_quoted: super::xlsx::wrap_format().set_quote_prefix(),
            quoted: Format::new().set_quote_prefix(),
            print: print.clone(),
            written: 0,
        };
        let name = names.claim(base);
        s.start_part(wb, &name)?;
        Ok(s)
    }

    fn start_part(&mut self, wb: &mut Workbook, name: &str) -> Result<(), ExportError> {
        self.index = wb.worksheets_mut().len();
        self.parts.push(self.index);
        let ws = wb.add_worksheet_with_constant_memory()?;
        ws.set_name(name)?;
        for (i, c) in self.cols.iter().enumerate() {
            let col = i as u16;
            ws.set_column_width(col, c.width)?;
            ws.write_string_with_format(0, col, &c.header, &self.header)?;
        }
        ws.set_freeze_panes(1, 0)?;
        let width = self.cols.iter().map(|c| c.width).sum();
        self.print.apply(ws, width, Flow::Rows { header_rows: 1 })?;
        self.row = 1;
        Ok(())
    }

    fn close_part(&mut self, wb: &mut Workbook) -> Result<(), ExportError> {
        let last_col = self.cols.len().saturating_sub(1) as u16;
        let ws = wb.worksheet_from_index(self.index)?;
        ws.autofilter(0, 0, self.row.saturating_sub(1), last_col)?;
        Ok(())
    }

    /// Writes one row of text cells (every cell a string: nothing becomes a formula).
    ///
    /// # Errors
    /// When the workbook refuses the write.
    pub fn row<S: AsRef<str>>(
        &mut self,
        wb: &mut Workbook,
        names: &mut SheetNames,
        cells: &[S],
    ) -> Result<(), ExportError> {
        if self.row >= self.max_rows {
            self.close_part(wb)?;
            self.part += 1;
            let name = names.claim(&format!("{}（续{}）", self.base, self.part));
            self.start_part(wb, &name)?;
        }
        let ws = wb.worksheet_from_index(self.index)?;
        // Set before the row's cells: a constant-memory row is written out once the next one starts.
        let wrapped =
            cells.iter().zip(&self.cols).filter(|(t, c)| c.wraps(t.as_ref())).map(|(t, c)| (clip(t.as_ref()), c.width));
        if self.row <= FITTED_ROWS
            && let Some(h) = row_height(wrapped)
        {
            ws.set_row_height(self.row, h)?;
        }
        for (i, cell) in cells.iter().enumerate() {
            let cell = cell.as_ref();
            if cell.is_empty() {
                continue;
            }
            let col = i as u16;
            let wraps = self.cols.get(i).is_some_and(|c| c.wraps(cell));
            // Text that looks like a formula gets Excel's hidden quote prefix: shown as written, and still
            // text after someone edits the cell (a plain string would turn into a formula then).
            match (wraps, looks_like_formula(cell)) {
                (true, true) => ws.write_string_with_format(self.row, col, clip(cell), &self.wrap_quoted)?,
                (true, false) => ws.write_string_with_format(self.row, col, clip(cell), &self.wrap)?,
                (false, true) => ws.write_string_with_format(self.row, col, clip(cell), &self.quoted)?,
                (false, false) => ws.write_string(self.row, col, clip(cell))?,
            };
        }
        self.row += 1;
        self.written += 1;
        Ok(())
    }

    /// Sets the autofilter of the last part; gives the workbook indices of the parts.
    ///
    /// # Errors
    /// When the workbook refuses it.
    pub fn close(mut self, wb: &mut Workbook) -> Result<Vec<usize>, ExportError> {
        self.close_part(wb)?;
        Ok(self.parts)
    }
}

/// Moves the continuation parts of streamed sheets (workbook indices, each list in order) right after the
/// part they continue. Several sheets stream at once, so a continuation is added after sheets that must
/// stay behind it. Call it once every sheet is written: indices change.
pub fn keep_parts_together(wb: &mut Workbook, sheets: &[Vec<usize>]) {
    let n = wb.worksheets_mut().len();
    let mut follows: Vec<Option<usize>> = vec![None; n];
    for parts in sheets {
        for pair in parts.windows(2) {
            if let Some(f) = follows.get_mut(pair[1]) {
                *f = Some(pair[0]);
            }
        }
    }
    if follows.iter().all(Option::is_none) {
        return;
    }
    let mut next: Vec<Option<usize>> = vec![None; n];
    for (part, before) in follows.iter().enumerate() {
        if let Some(b) = before {
            next[*b] = Some(part);
        }
    }
    let mut order = Vec::with_capacity(n);
    for first in (0..n).filter(|i| follows[*i].is_none()) {
        let mut at = Some(first);
        while let Some(i) = at {
            order.push(i);
            at = next[i];
        }
    }
    let mut slots: Vec<Option<rust_xlsxwriter::Worksheet>> =
        std::mem::take(wb.worksheets_mut()).into_iter().map(Some).collect();
    let mut sheets: Vec<_> = order.into_iter().filter_map(|i| slots[i].take()).collect();
    sheets.extend(slots.into_iter().flatten());
    *wb.worksheets_mut() = sheets;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_characters_count_double_width() {
        assert_eq!(display_width("理论学习"), 8);
        assert_eq!(display_width("ab理"), 4);
        assert_eq!(display_width("短\n长一点的行"), 10);
    }

    #[test]
    fn sheet_names_stay_within_excel_rules_and_unique() {
        let mut n = SheetNames::default();
        assert_eq!(n.claim("a/b:c"), "a_b_c");
        let long = "很长".repeat(20);
        let first = n.claim(&long);
        assert_eq!(first.chars().count(), 31);
        let second = n.claim(&long);
        assert_ne!(first, second);
        assert!(second.chars().count() <= 31);
        assert_eq!(n.claim("'History'"), "表");
    }
}

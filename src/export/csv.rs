//! 原始数据 as CSV: UTF-8 with a byte-order mark (so Chinese Excel and WPS open it correctly), RFC 4180
//! quoting of every cell by the csv crate, one row per response, and cells that a spreadsheet would run as a formula
//! (starting with = + - @, a tab or a carriage return) prefixed with `'`.

use super::{Context, ExportError, Feed};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Makes a cell safe to open in a spreadsheet: a leading = + - @ TAB or CR gets a `'` in front, and so does
/// one of = + - @ after a `;`, tab or `|` inside it. Opened with one of those as the separator (LibreOffice
/// asks), "意见;=1+1" made `=1+1` a cell of its own, whatever the quoting.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    let separator = |c: char| matches!(c, ';' | '\t' | '|');
    let formula_after = |i: usize| matches!(cell[i + 1..].chars().next(), Some('=' | '+' | '-' | '@'));
    let inside = cell.char_indices().any(|(i, c)| separator(c) && formula_after(i));
    if !inside {
        return if super::looks_like_formula(cell) { format!("'{cell}").into() } else { cell.into() };
    }
    let mut out = String::with_capacity(cell.len() + 8);
    if super::looks_like_formula(cell) {
        out.push('\'');
    }
    for (i, c) in cell.char_indices() {
        out.push(c);
        if separator(c) && formula_after(i) {
            out.push('\'');
        }
    }
    out.into()
}

/// A CSV file being written.
pub struct RawCsv {
    out: csv::Writer<BufWriter<File>>,
    ctx: Context,
}

impl RawCsv {
    /// Creates the file and writes the BOM and the header row.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn create(path: &Path, ctx: Context) -> Result<RawCsv, ExportError> {
        let mut file = BufWriter::with_capacity(1 << 16, File::create(path)?);
        file.write_all("\u{feff}".as_bytes())?;
        // Every cell quoted: opened with `;` as the separator, "意见;=1+1" stays one cell, not a formula.
        let mut out = csv::WriterBuilder::new()
            .flexible(true)
            .quote_style(csv::QuoteStyle::Always)
            .terminator(csv::Terminator::CRLF)
            .from_writer(file);
        out.write_record(ctx.layout.headers().iter().map(|h| neutralise(h).into_owned()))?;
        if !ctx.shows_rows() {
            out.write_record([ctx.too_small_note()])?;
        }
        Ok(RawCsv { out, ctx })
    }

    /// Writes the raw rows of a batch; other feeds are for the workbook and are ignored.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn feed(&mut self, f: Feed) -> Result<(), ExportError> {
        if let Feed::Raw(batch) = f
            && self.ctx.shows_rows()
        {
            for r in &batch {
                let cells = self.ctx.layout.cells(r, &self.ctx.names);
                self.out.write_record(cells.iter().map(|c| neutralise(c).into_owned()))?;
            }
        }
        Ok(())
    }

    /// Flushes the file to disk.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn finish(self) -> Result<(), ExportError> {
        let file = self.out.into_inner().map_err(|e| ExportError::Io(e.into_error()))?;
        file.into_inner().map_err(|e| ExportError::Io(e.into_error()))?.sync_all()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::neutralise;

    #[test]
    fn formula_looking_cells_are_neutralised_and_others_kept() {
        for (i, o) in [
            ("=1+1", "'=1+1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("+86", "'+86"),
            ("-x", "'-x"),
            ("\tx", "'\tx"),
            ("'引号", "''引号"),
            ("甲;=1+1;乙", "甲;'=1+1;乙"),
            ("=a;@b", "'=a;'@b"),
            ("a|-b\t+c", "a|'-b\t'+c"),
            ("意见;分号后", "意见;分号后"),
        ] {
            assert_eq!(neutralise(i), o);
        }
        assert_eq!(neutralise("意见 = 建议"), "意见 = 建议");
    }
}

//! Human output carries text from remote APIs (names, order numbers, a
//! carrier's refusal): its control characters are taken out before it
//! reaches a terminal, so an order field cannot move the cursor, recolour
//! the screen or rewrite the title. `--format json` stays exact (JSON
//! escapes what it must).

use std::borrow::Cow;
use std::io::Write;

/// Whether `c` would act on a terminal rather than print: C0 controls
/// other than newline and tab, DEL, and the C1 controls (U+0080–U+009F,
/// which some terminals read as ESC sequences).
fn is_control(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || ('\u{80}'..='\u{9f}').contains(&c)
}

/// `text` without terminal control characters.
pub fn plain(text: &str) -> Cow<'_, str> {
    if text.chars().any(is_control) {
        Cow::Owned(text.chars().filter(|c| !is_control(*c)).collect())
    } else {
        Cow::Borrowed(text)
    }
}

/// Print one line of human output, without control characters.
pub fn print_plain(line: &str) {
    let mut out = std::io::stdout().lock();
    // A closed pipe ends the output quietly, as `println!` users expect.
    let _ = writeln!(out, "{}", plain(line));
}

/// `println!` for human output: see the module doc.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::text::print_plain(&format!($($arg)*))
    };
}
pub(crate) use say;

/// A writer for human tables: whatever is written loses its control
/// characters. Text arrives in pieces, so a piece is cleaned on its own
/// when it is valid UTF-8, and passed byte by byte otherwise.
pub struct PlainWriter<W: Write>(pub W);

impl<W: Write> Write for PlainWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match std::str::from_utf8(buf) {
            Ok(text) => self.0.write_all(plain(text).as_bytes())?,
            Err(_) => {
                let kept: Vec<u8> = buf
                    .iter()
                    .copied()
                    .filter(|b| !(b.is_ascii_control() && *b != b'\n' && *b != b'\t'))
                    .collect();
                self.0.write_all(&kept)?;
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// A table for people: each column as wide as its widest cell (in
/// terminal columns, so accents and wide characters line up), two spaces
/// between columns, the last one unpadded. Cells are single lines without
/// control characters.
pub struct Table {
    header: Vec<&'static str>,
    right: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column titles.
    pub fn new(header: &[&'static str]) -> Self {
        Table {
            header: header.to_vec(),
            right: vec![false; header.len()],
            rows: Vec::new(),
        }
    }

    /// Align these columns (from 0) to the right: amounts and counts.
    pub fn right(mut self, columns: &[usize]) -> Self {
        for &c in columns {
            self.right[c] = true;
        }
        self
    }

    /// Add a row (missing cells are empty, extra ones dropped).
    pub fn row(&mut self, cells: Vec<String>) {
        let mut cells: Vec<String> = cells
            .into_iter()
            .take(self.header.len())
            .map(|c| plain(&c).replace(['\n', '\t'], " "))
            .collect();
        cells.resize(self.header.len(), String::new());
        self.rows.push(cells);
    }

    /// Write the header and every row.
    pub fn write(&self, out: &mut impl Write) -> std::io::Result<()> {
        use unicode_width::UnicodeWidthStr;
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.width()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.width());
            }
        }
        let last = self.header.len().saturating_sub(1);
        let mut line = |cells: &mut dyn Iterator<Item = &str>| -> std::io::Result<()> {
            let mut text = String::new();
            for (i, cell) in cells.enumerate() {
                let pad = " ".repeat(widths[i].saturating_sub(cell.width()));
                if i > 0 {
                    text.push_str("  ");
                }
                if self.right[i] {
                    text.push_str(&pad);
                    text.push_str(cell);
                } else {
                    text.push_str(cell);
                    if i < last {
                        text.push_str(&pad);
                    }
                }
            }
            writeln!(out, "{}", text.trim_end())
        };
        line(&mut self.header.iter().copied())?;
        for row in &self.rows {
            line(&mut row.iter().map(String::as_str))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_columns_stay_aligned_whatever_the_cells() {
        let mut t = Table::new(&["CARRIER", "TOTAL", "NOTE"]).right(&[1]);
        t.row(vec![
            "DHL Express Worldwide".into(),
            "12.00".into(),
            "a".into(),
        ]);
        t.row(vec!["Zoë's 配送".into(), "1234.50".into(), "b\nc".into()]);
        t.row(vec!["-".into()]);
        let mut out = Vec::new();
        t.write(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "CARRIER                  TOTAL  NOTE");
        assert_eq!(lines[1], "DHL Express Worldwide    12.00  a");
        // 配送 takes four terminal columns.
        assert_eq!(lines[2], "Zoë's 配送             1234.50  b c");
        assert_eq!(lines[3], "-");
    }

    #[test]
    fn escapes_are_taken_out_and_the_rest_kept() {
        assert_eq!(
            plain("Zoë \u{1b}[31mRED\u{1b}[0m\u{9b}2J\u{7}"),
            "Zoë [31mRED[0m2J"
        );
        assert!(matches!(plain("fine\ttext\n"), Cow::Borrowed(_)));
        let mut out = PlainWriter(Vec::new());
        write!(out, "a\u{1b}]0;title\u{7}b").unwrap();
        assert_eq!(out.0, b"a]0;titleb");
    }
}

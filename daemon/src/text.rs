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

#[cfg(test)]
mod tests {
    use super::*;

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

//! Config errors that say where: `config.toml:14:1: sellers[0].channels[1].schedule: …`.

use std::fmt;
use std::path::{Path, PathBuf};

/// A problem in a config file, located to file, line and key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    /// 1-based; 0 when unknown.
    pub line: usize,
    pub column: usize,
    /// Dotted path of the key (`sellers[0].channels[0].schedule`), if known.
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        if !self.key.is_empty() {
            write!(f, ": {}", self.key)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Maps byte offsets of one file to lines and columns.
#[derive(Debug, Clone)]
pub struct Locator {
    file: PathBuf,
    line_starts: Vec<usize>,
    text: std::sync::Arc<str>,
}

impl Locator {
    /// Index `text`, the contents of `file`.
    pub fn new(file: &Path, text: &str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Locator {
            file: file.to_path_buf(),
            line_starts,
            text: text.into(),
        }
    }

    /// Where the key `table.key` (e.g. `daemon.plugins.memory_mb`) is
    /// written, for checks made after parsing on values that carry no
    /// position: the first `key =` line inside `[table]`.
    pub fn find_key(&self, dotted: &str) -> Option<usize> {
        let (table, key) = dotted.rsplit_once('.')?;
        let header = format!("[{table}]");
        let mut offset = 0;
        let mut inside = false;
        for line in self.text.split_inclusive('\n') {
            let trimmed = line.trim();
            if trimmed.starts_with('[') {
                inside = trimmed == header;
            } else if inside
                && trimmed
                    .strip_prefix(key)
                    .is_some_and(|rest| rest.trim_start().starts_with('='))
            {
                return Some(offset + (line.len() - line.trim_start().len()));
            }
            offset += line.len();
        }
        None
    }

    /// Where `key = …` is written inside the table spanning `within` (a
    /// `[table]` section or an inline `{ … }`), for checks on one key of
    /// a map whose keys carry no position. `None` when not found.
    pub fn key_within(&self, within: std::ops::Range<usize>, key: &str) -> Option<usize> {
        let mut end = within.end.min(self.text.len());
        // A `[table]` section's span is its header: its keys follow, up
        // to the next header.
        if self.text.get(within.start..)?.starts_with('[') {
            let body = self.text[within.start..]
                .find('\n')
                .map_or(self.text.len(), |n| within.start + n + 1);
            end = self.text[body..]
                .split_inclusive('\n')
                .scan(body, |at, line| {
                    let start = *at;
                    *at += line.len();
                    Some((start, line))
                })
                .find(|(_, line)| line.trim_start().starts_with('['))
                .map_or(self.text.len(), |(start, _)| start);
        }
        let text = self.text.get(within.start..end)?;
        let quoted = format!("\"{key}\"");
        for name in [key, quoted.as_str()] {
            for (i, _) in text.match_indices(name) {
                let before = text[..i].chars().next_back();
                let after = text[i + name.len()..].trim_start_matches([' ', '\t']);
                if before.is_none_or(|c| c.is_whitespace() || c == '{' || c == ',')
                    && after.starts_with('=')
                {
                    return Some(within.start + i);
                }
            }
        }
        None
    }

    /// 1-based line and column of byte `offset`.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let column = offset - self.line_starts[line - 1] + 1;
        (line, column)
    }

    /// An error at byte `offset`.
    pub fn error(
        &self,
        offset: Option<usize>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> ConfigError {
        let (line, column) = offset.map(|o| self.position(o)).unwrap_or((0, 0));
        ConfigError {
            file: self.file.clone(),
            line,
            column,
            key: key.into(),
            message: message.into(),
        }
    }

    /// `file:line` of byte `offset`, for messages that point at config.
    pub fn location(&self, offset: usize) -> String {
        format!("{}:{}", self.file.display(), self.position(offset).0)
    }

    /// The file.
    pub fn file(&self) -> &Path {
        &self.file
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_found_on_its_own_line_in_sections_and_inline_tables() {
        let text = "[a]\nx = 1\n\n[a.settings]\nother = 2\n  token = \"t\"\n\n[b]\ntoken = 3\n";
        let l = Locator::new(Path::new("c.toml"), text);
        let header = text.find("[a.settings]").unwrap();
        let found = l.key_within(header..header + 12, "token").unwrap();
        assert_eq!(l.position(found).0, 6);
        assert_eq!(l.key_within(header..header + 12, "missing"), None);
        // Not a key of the next section.
        let a = text.find("[a]").unwrap();
        assert_eq!(l.key_within(a..a + 3, "token"), None);

        let inline = "s = { user = \"u\", \"token\" = \"t\" }\n";
        let l = Locator::new(Path::new("c.toml"), inline);
        let start = inline.find('{').unwrap();
        let at = l.key_within(start..inline.len() - 1, "token").unwrap();
        assert_eq!(&inline[at..at + 7], "\"token\"");
        assert_eq!(l.key_within(start..inline.len() - 1, "ser"), None);
    }
}

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

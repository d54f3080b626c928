//! Label documents on disk:
//! `data_dir/labels/{seller}/{channel}/{order}-{attempt}-{digest}.{ext}`,
//! written to a temporary file, synced, then renamed, so a crash never
//! leaves a half label under the final name.
//!
//! Seller and channel ids are checked by config (safe characters, at most
//! 64). An order id comes from a remote API and may hold anything: its
//! readable part keeps safe characters only and at most
//! [`READABLE_ORDER_CHARS`] of them, and the digest of the exact
//! `(seller, channel, order, attempt)` makes the name unique (`a/b` and
//! `a_b` read alike but differ in their digest). A name is at most about
//! 100 bytes, far under every file system's 255. The path is kept in the
//! shipment record, which is what `labels print` reads. The customs forms
//! a carrier returns are stored beside the label, named for their kind.

use crate::model::LabelFormat;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// How much of an order id the file name shows.
pub const READABLE_ORDER_CHARS: usize = 48;

/// Keep ids safe as file names: letters, digits, `-`, `_`, `.` (a leading
/// dot becomes `_`, so no name is hidden or `..`).
fn safe(part: &str, max: usize) -> String {
    part.chars()
        .take(max)
        .enumerate()
        .map(|(i, c)| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || (c == '.' && i > 0) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Where the label of an order's attempt lives.
pub fn path(
    dir: &Path,
    seller: &str,
    channel: &str,
    order: &str,
    attempt: u32,
    format: LabelFormat,
) -> PathBuf {
    let mut digest = Sha256::new();
    for part in [seller, channel, order, &attempt.to_string()] {
        digest.update(part.as_bytes());
        digest.update([0]);
    }
    let digest = hex::encode(&digest.finalize()[..8]);
    dir.join(safe(seller, 64))
        .join(safe(channel, 64))
        .join(format!(
            "{}-{attempt}-{digest}.{}",
            safe(order, READABLE_ORDER_CHARS),
            format.extension()
        ))
}

/// Where the `index`th customs form of the label at `label` lives: beside
/// it, named for its kind (`…-commercial-invoice-0.pdf`).
pub fn form_path(
    label: &Path,
    index: usize,
    kind: crate::model::CustomsFormKind,
    format: LabelFormat,
) -> PathBuf {
    let stem = label
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("label");
    label.with_file_name(format!(
        "{stem}-{}-{index}.{}",
        kind.name(),
        format.extension()
    ))
}

/// Write `bytes` to `path` durably.
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension("partial");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_bounded() {
        let dir = Path::new("/labels");
        let at = |order: &str| path(dir, "s", "c", order, 1, LabelFormat::Pdf);
        assert_ne!(at("a/b"), at("a_b"));
        assert_ne!(at("a/b"), at("a\\b"));
        assert_ne!(
            path(dir, "s", "c", "1", 1, LabelFormat::Pdf),
            path(dir, "s", "c", "1", 2, LabelFormat::Pdf)
        );
        let long = "x".repeat(10_000);
        let name = at(&long);
        let file = name.file_name().unwrap().to_str().unwrap();
        assert!(file.len() <= 100, "{file}");
        assert_eq!(name.parent().unwrap(), Path::new("/labels/s/c"));
        for hostile in ["..", "../../etc/passwd", ".hidden", "\u{0}\u{1b}[31m", "é"] {
            let p = at(hostile);
            assert_eq!(p.parent().unwrap(), Path::new("/labels/s/c"), "{hostile}");
            assert!(!p.file_name().unwrap().to_str().unwrap().starts_with('.'));
        }
    }
}

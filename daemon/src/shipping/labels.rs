//! Label documents on disk: `data_dir/labels/{seller}/{channel}/{order}-{attempt}.{ext}`,
//! written to a temporary file, synced, then renamed, so a crash never
//! leaves a half label under the final name.

use crate::model::LabelFormat;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Keep ids safe as file names.
fn safe(part: &str) -> String {
    part.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
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
    dir.join(safe(seller)).join(safe(channel)).join(format!(
        "{}-{attempt}.{}",
        safe(order),
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

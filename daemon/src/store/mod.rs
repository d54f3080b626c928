//! The local store: sled, in `data_dir/store`.
//!
//! ## Trees and keys
//! The store owns the trees every part shares:
//!
//! | tree      | key                                   | value                        |
//! |-----------|---------------------------------------|------------------------------|
//! | `orders`  | `seller \0 channel \0 external_id`    | order envelope               |
//! | `cursors` | `seller \0 channel \0 stream`         | JSON envelope of the cursor  |
//! | `events`  | `u64` big-endian, from `generate_id`  | JSON envelope of the change  |
//! | `cache`   | `seller \0 channel \0 key`            | JSON `{expires_at, value}`   |
//! | `quarantine` | `seller \0 channel \0 external_id` | JSON envelope: why the order was refused |
//! | `meta`    | `schema`                              | the layout version (`1`)     |
//!
//! `cursors` also holds each workflow's cursors (a payment account's
//! payouts under `seller \0 settlement:{account} \0 payouts`) and each
//! event consumer's position (`\0 consumer \0 events`). Each workflow
//! owns its further trees, opened by name through [`Store::tree`] and
//! documented in its own store module: `shipping::store` (`shipments`,
//! `shipments_pending`), `settlement::store` (`payouts`, `settlements`,
//! `discrepancies`). Nothing here knows a workflow.
//!
//! ## Value envelopes
//! An order value is `[schema: u8][updated_at: i64 µs since epoch, BE][JSON
//! of model::Order]`: the header lets an upsert decide "newer or not"
//! without parsing the JSON, and equal bytes mean "unchanged" (no write, no
//! event). Other values are `{"schema": 1, "body": …}` JSON. A reader
//! refuses a schema it does not know rather than guess.
//!
//! ## Transactions and crashes
//! One sync page — its orders, the cursor that follows them, and their
//! change events — commits in **one** sled transaction over `orders`,
//! `cursors` and `events`, then the store is flushed; commits of one
//! channel happen strictly in page order, and commits of all channels one
//! at a time, so change events appear in id order (see [`events`]). A
//! `kill -9` therefore leaves either the whole page or none of it; in the
//! second case the cursor has not moved and the next run reads the page
//! again. Upserts are idempotent, so re-reading is harmless. The cursor's
//! watermark only moves forward, and only when a pass completes (see
//! `sync`).

mod cache;
pub mod events;
mod orders;
mod query;
pub mod tokens;

pub use cache::{DEFAULT_CACHE_KB, StoreCache};
pub use orders::{
    ChangeEvent, ChangeKind, MAX_QUARANTINED_PER_CHANNEL, PageOutcome, PassState, QuarantineEntry,
    SyncCursor, encoded_order_len,
};
pub use query::{ExportLine, OrderFilter, StoredOrder};

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use std::path::Path;

/// Free space kept in reserve unless config says otherwise
/// (`[daemon] min_free_mb`).
pub const DEFAULT_RESERVE_BYTES: u64 = 64 << 20;

/// The most one channel's orders may take unless config says otherwise
/// (`[daemon.plugins] max_store_mb_per_channel`).
pub const DEFAULT_CHANNEL_CAP_BYTES: u64 = 4 << 30;

/// The page cache of [`Store::open`] (`[daemon] store_cache_mb` sets it
/// for the daemon).
pub const DEFAULT_CACHE_BYTES: u64 = 16 << 20;

/// The layout version this build writes and reads.
pub const SCHEMA: u8 = 1;

/// Store errors, with what was being done.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store: {0}")]
    Sled(#[from] sled::Error),
    #[error("store: a value in `{tree}` is corrupt: {detail}")]
    Corrupt { tree: &'static str, detail: String },
    #[error("store: {0}")]
    Other(String),
    /// A channel's orders reached `[daemon.plugins] max_store_mb_per_channel`.
    #[error(
        "store: channel {channel} holds {held_mb} MiB of orders, the most `[daemon.plugins] max_store_mb_per_channel` ({cap_mb} MiB) allows; nothing more is written for it"
    )]
    ChannelFull {
        channel: String,
        held_mb: u64,
        cap_mb: u64,
    },
}

/// A handle to the store; cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    orders: sled::Tree,
    cursors: sled::Tree,
    events: sled::Tree,
    cache: sled::Tree,
    quarantine: sled::Tree,
    /// Held across a page commit, so events become visible in id order.
    commit_lock: std::sync::Arc<std::sync::Mutex<()>>,
    /// Where the store lives, for free-space checks.
    dir: std::sync::Arc<std::path::PathBuf>,
    /// Bytes of orders per `seller \0 channel`, counted once per process
    /// (a scan at the channel's first commit) and kept up to date after.
    channel_bytes: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<Vec<u8>, u64>>>,
    /// Set once the disk refused a write: sled may no longer make progress
    /// (its flusher waits on the failed buffer), so nothing more is asked
    /// of it in this process.
    failed: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// The most one channel's orders may take.
    channel_cap: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Free space the store keeps in reserve; below it, writers pause.
    reserve_bytes: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// The id after the newest event, kept in memory: sled's `last()`
    /// walks the tree (55 ms at 50,000 events), and only page commits
    /// append events.
    event_tail: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Store {
    /// Open (or create) the store in `dir` with the default page cache.
    /// Fails if another process has it open.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        Self::open_with_cache(dir, DEFAULT_CACHE_BYTES)
    }

    /// [`Store::open`] with a page cache of `cache_bytes`.
    pub fn open_with_cache(dir: &Path, cache_bytes: u64) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Other(format!("cannot create {}: {e}", dir.display())))?;
        remove_unfinished_snapshots(dir)?;
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(cache_bytes)
            .flush_every_ms(Some(200))
            .open()?;
        let meta = db.open_tree("meta")?;
        match meta.get("schema")? {
            None => {
                meta.insert("schema", &[SCHEMA])?;
            }
            Some(v) if v.as_ref() == [SCHEMA] => {}
            Some(v) => {
                return Err(StoreError::Other(format!(
                    "{} holds store schema {v:?}; this tradelane reads schema {SCHEMA}: export with the version that wrote it",
                    dir.display()
                )));
            }
        }
        let events = db.open_tree("events")?;
        let tail = events::tail_of(&events)?;
        Ok(Store {
            orders: db.open_tree("orders")?,
            cursors: db.open_tree("cursors")?,
            events,
            cache: db.open_tree("cache")?,
            quarantine: db.open_tree("quarantine")?,
            commit_lock: Default::default(),
            dir: std::sync::Arc::new(dir.to_path_buf()),
            reserve_bytes: std::sync::Arc::new(DEFAULT_RESERVE_BYTES.into()),
            channel_bytes: Default::default(),
            failed: Default::default(),
            channel_cap: std::sync::Arc::new(DEFAULT_CHANNEL_CAP_BYTES.into()),
            event_tail: std::sync::Arc::new(tail.into()),
            db,
        })
    }

    /// Make everything committed so far durable.
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.db.flush_async().await?;
        Ok(())
    }

    /// Make everything committed so far durable, from a blocking thread.
    pub fn flush_blocking(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    /// Bytes on disk.
    pub fn size_on_disk(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0)
    }

    /// Keep `bytes` of free space in reserve on the store's file system.
    pub fn set_reserve(&self, bytes: u64) {
        self.reserve_bytes
            .store(bytes, std::sync::atomic::Ordering::Relaxed);
    }

    /// `Some((free, reserve))` when the file system holding the store has
    /// less free space than the reserve: writers pause rather than let a
    /// full disk break the store. `None` when there is room (or the free
    /// space cannot be read).
    pub fn space_low(&self) -> Option<(u64, u64)> {
        let reserve = self
            .reserve_bytes
            .load(std::sync::atomic::Ordering::Relaxed);
        let free = fs2::available_space(self.dir.as_path()).ok()?;
        (free < reserve).then_some((free, reserve))
    }

    /// Note `e` if it is the disk refusing a write; `e` back.
    pub fn noting(&self, e: StoreError) -> StoreError {
        if matches!(&e, StoreError::Sled(sled::Error::Io(_))) {
            self.failed.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        e
    }

    /// Whether the disk refused a write in this process: the caller must
    /// stop using the store and exit (what was committed is kept, as after
    /// `kill -9`).
    pub fn has_failed(&self) -> bool {
        self.failed.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Let one channel's orders take at most `bytes`.
    pub fn set_channel_cap(&self, bytes: u64) {
        self.channel_cap
            .store(bytes, std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn channel_cap(&self) -> u64 {
        self.channel_cap.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Bytes the channel's orders take (keys and values).
    pub fn channel_bytes(&self, seller: &str, channel: &str) -> Result<u64, StoreError> {
        let prefix = {
            let mut k = key(&[seller, channel]);
            k.push(0);
            k
        };
        let mut counts = self.channel_bytes.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = counts.get(&prefix) {
            return Ok(*n);
        }
        let mut n = 0u64;
        for item in self.orders.scan_prefix(&prefix) {
            let (k, v) = item?;
            n += (k.len() + v.len()) as u64;
        }
        counts.insert(prefix, n);
        Ok(n)
    }

    pub(crate) fn add_channel_bytes(&self, seller: &str, channel: &str, delta: i64) {
        let mut prefix = key(&[seller, channel]);
        prefix.push(0);
        let mut counts = self.channel_bytes.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = counts.get_mut(&prefix) {
            *n = n.saturating_add_signed(delta);
        }
    }

    /// A tree a workflow owns, by name (created on first use).
    pub fn tree(&self, name: &str) -> Result<sled::Tree, StoreError> {
        Ok(self.db.open_tree(name)?)
    }

    /// The `cursors` tree, for a workflow that commits its cursor in one
    /// transaction with its own records.
    pub fn cursor_tree(&self) -> &sled::Tree {
        &self.cursors
    }

    /// Number of change events recorded.
    pub fn event_count(&self) -> usize {
        self.events.len()
    }
}

/// sled writes a snapshot to `snap.{lsn}.generating` and renames it when
/// complete; a crash in between (a full disk) leaves the unfinished file,
/// which sled 0.34 then reads as the newest snapshot and refuses the whole
/// store as corrupt. The unfinished file is never the live snapshot, so it
/// is removed before opening; the store recovers from its log as after any
/// crash.
fn remove_unfinished_snapshots(dir: &Path) -> Result<(), StoreError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(StoreError::Other(format!(
                "cannot read {}: {e}",
                dir.display()
            )));
        }
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            tracing::warn!(file = %entry.path().display(), "removing an unfinished store snapshot left by a crash");
            std::fs::remove_file(entry.path()).map_err(|e| {
                StoreError::Other(format!("cannot remove {}: {e}", entry.path().display()))
            })?;
        }
    }
    Ok(())
}

/// `a \0 b \0 c`
pub fn key(parts: &[&str]) -> Vec<u8> {
    let mut k = Vec::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            k.push(0);
        }
        k.extend_from_slice(p.as_bytes());
    }
    k
}

#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    schema: u8,
    body: T,
}

pub fn encode<T: Serialize>(body: &T) -> Vec<u8> {
    serde_json::to_vec(&Envelope {
        schema: SCHEMA,
        body,
    })
    .unwrap_or_default()
}

pub fn decode<T: DeserializeOwned>(tree: &'static str, bytes: &[u8]) -> Result<T, StoreError> {
    let e: Envelope<T> = serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        tree,
        detail: e.to_string(),
    })?;
    if e.schema != SCHEMA {
        return Err(StoreError::Corrupt {
            tree,
            detail: format!("unknown schema {}", e.schema),
        });
    }
    Ok(e.body)
}

#[cfg(test)]
mod recovery_tests {
    use super::*;

    #[test]
    fn a_store_left_with_an_empty_snapshot_in_progress_opens() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            store.cursors.insert("k", "v").unwrap();
            store.flush_blocking().unwrap();
        }
        // What a crash on a full disk left behind.
        std::fs::write(dir.path().join("snap.00000000000000FF.generating"), b"").unwrap();
        let store = Store::open(dir.path()).expect("opens");
        assert_eq!(store.cursors.get("k").unwrap().as_deref(), Some(&b"v"[..]));
    }
}

//! Incremental order sync of one channel: the path
//! cursor → plugin `fetch-orders` → validated page → one store transaction.
//!
//! ## The cursor
//! A pass reads every order updated at or after `since`, page by page,
//! where `since` is the watermark (newest `(updated_at, id)` a completed
//! pass stored) minus the channel's lookback window. Re-reading the
//! lookback costs a few unchanged orders (deduplicated by key, not
//! rewritten) and guarantees that an order updated at the boundary, or
//! while a pass ran, is never skipped:
//! - the watermark moves only when a pass completes, to the newest order
//!   seen but never past the pass's start time, because an order changed
//!   during the pass may sit on a page already read;
//! - pages may come in any order (Shopify pages by id, not by time), so a
//!   crash mid-pass leaves the watermark where it was and the next run
//!   restarts the pass from the same `since`.
//!
//! Each page's orders and the cursor after them commit in one transaction
//! and are flushed; the next page is fetched meanwhile, and its commit
//! waits for the previous one.

pub mod requarantine;

use crate::host::{CallError, CallErrorKind, PluginAccount};
use crate::model::{OrderPage, OrderQuery};
use crate::schedule::Schedule;
use crate::shutdown::Shutdown;
use crate::store::{PageOutcome, PassState, Store, StoreError, SyncCursor};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;

/// The cursor stream name of order sync.
pub const ORDERS: &str = "orders";

/// What a pass may take from a plugin, whatever it returns.
#[derive(Debug, Clone, Copy)]
pub struct PageLimits {
    /// Largest order, encoded as stored, in bytes (`max_order_kb`).
    pub max_order_bytes: usize,
    /// Pages one pass may read (`max_pages_per_pass`).
    pub max_pages: u32,
}

impl Default for PageLimits {
    fn default() -> Self {
        PageLimits {
            max_order_bytes: 256 << 10,
            max_pages: 10_000,
        }
    }
}

/// One channel to sync: its marketplace account and how to read it.
pub struct Channel {
    /// The marketplace plugin account (also where shipping pushes tracking).
    pub account: Arc<PluginAccount>,
    /// Re-read this much before the watermark every pass.
    pub lookback: Duration,
    /// Orders asked per page; more in a page is an invalid response.
    pub page_size: u32,
    pub limits: PageLimits,
    pub schedule: Schedule,
    /// Held while a pass runs: one pass per channel at a time.
    running: tokio::sync::Mutex<()>,
}

impl Channel {
    /// A channel of `account`.
    pub fn new(
        account: Arc<PluginAccount>,
        lookback: Duration,
        page_size: u32,
        limits: PageLimits,
        schedule: Schedule,
    ) -> Self {
        Channel {
            account,
            lookback,
            page_size,
            limits,
            schedule,
            running: tokio::sync::Mutex::new(()),
        }
    }

    /// The seller it belongs to.
    pub fn seller(&self) -> &str {
        self.account.seller()
    }

    /// The channel id.
    pub fn id(&self) -> &str {
        self.account.id()
    }

    /// `seller/channel`
    pub fn label(&self) -> String {
        self.account.label()
    }
}

/// A page commit running on a blocking thread: (outcome, orders, last page).
type CommitTask = tokio::task::JoinHandle<Result<(PageOutcome, usize, bool), StoreError>>;

/// One committed page, for progress lines.
#[derive(Debug, Clone)]
pub struct PageProgress {
    pub page: u32,
    pub orders: usize,
    pub outcome: PageOutcome,
    pub last: bool,
}

/// What a completed pass did.
#[derive(Debug, Clone, Default)]
pub struct PassReport {
    pub pages: u32,
    pub orders: usize,
    pub created: u32,
    pub updated: u32,
    pub unchanged: u32,
    pub stale: u32,
    /// Orders refused by validation, kept in quarantine.
    pub quarantined: u32,
    /// Quarantined orders read again at the end of the pass.
    pub requarantine: requarantine::Retried,
    /// The pass stopped early for shutdown (committed pages are kept).
    pub interrupted: bool,
}

/// Why a pass failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Call(#[from] CallError),
    #[error("{channel}: {source}")]
    Store { channel: String, source: StoreError },
    #[error("{0}: a pass is already running")]
    Busy(String),
    /// The disk holding the store is below its reserve: nothing is written
    /// until space returns.
    #[error(
        "{channel}: paused, disk space low: {free_mb} MiB free, `[daemon] min_free_mb` keeps {reserve_mb} MiB in reserve"
    )]
    DiskLow {
        channel: String,
        free_mb: u64,
        reserve_mb: u64,
    },
}

/// Run one pass over `channel`.
pub async fn run_pass(
    store: &Store,
    channel: &Channel,
    shutdown: &Shutdown,
    mut progress: impl FnMut(&PageProgress),
) -> Result<PassReport, SyncError> {
    let _guard = channel
        .running
        .try_lock()
        .map_err(|_| SyncError::Busy(channel.label()))?;
    let store_err = |source| SyncError::Store {
        channel: channel.label(),
        source,
    };
    let cursor = store
        .cursor(channel.seller(), channel.id(), ORDERS)
        .map_err(store_err)?;
    let now = Utc::now();
    let lookback = chrono::Duration::from_std(channel.lookback).unwrap_or_default();
    // Resume an interrupted pass from its own start, or begin a new one.
    let mut pass = match &cursor.pass {
        Some(p) => p.clone(),
        None => PassState {
            since: cursor.watermark.as_ref().map(|(t, _)| *t - lookback),
            max_seen: None,
            started_at: now,
            pages: 0,
        },
    };
    let mut report = PassReport::default();
    let mut page_token: Option<String> = None;
    // The commit of page N runs (on a blocking thread) while page N+1 is
    // fetched and mapped: the two cores overlap store work and plugin work.
    // Commits stay in order, and each waits for the one before it.
    let mut pending: Option<CommitTask> = None;
    let mut finish = |report: &mut PassReport,
                      done: Result<(PageOutcome, usize, bool), StoreError>|
     -> Result<(), SyncError> {
        let (outcome, orders, last) = done.map_err(store_err)?;
        report.pages += 1;
        report.orders += orders;
        report.created += outcome.created;
        report.updated += outcome.updated;
        report.unchanged += outcome.unchanged;
        report.stale += outcome.stale;
        report.quarantined += outcome.quarantined;
        progress(&PageProgress {
            page: report.pages,
            orders,
            outcome,
            last,
        });
        Ok(())
    };
    let join = |handle: CommitTask| async move {
        handle
            .await
            .unwrap_or_else(|e| Err(StoreError::Other(format!("commit task failed: {e}"))))
    };
    loop {
        if shutdown.is_requested() {
            if let Some(handle) = pending.take() {
                finish(&mut report, join(handle).await)?;
            }
            report.interrupted = true;
            return Ok(report);
        }
        let query = OrderQuery {
            updated_after: pass.since,
            page_token: page_token.clone(),
            page_size: channel.page_size,
        };
        let fetched = channel.account.fetch_orders(&query).await;
        if let Some(handle) = pending.take() {
            finish(&mut report, join(handle).await)?;
        }
        let page = fetched?;
        check_page(channel, &page, report.pages)?;
        for o in &page.orders {
            let seen = (o.updated_at, o.external_id.clone());
            if pass.max_seen.as_ref().is_none_or(|m| &seen > m) {
                pass.max_seen = Some(seen);
            }
        }
        pass.pages += 1;
        let last = page.next_page.is_none();
        let next_cursor = if last {
            SyncCursor {
                watermark: advance(&cursor.watermark, &pass),
                pass: None,
                last_completed: Some(Utc::now()),
            }
        } else {
            SyncCursor {
                watermark: cursor.watermark.clone(),
                pass: Some(pass.clone()),
                last_completed: cursor.last_completed,
            }
        };
        if !last && page.next_page == page_token {
            return Err(SyncError::Call(CallError {
                site: channel.account.site().clone(),
                kind: crate::host::CallErrorKind::InvalidOutput(
                    "the plugin returned the same page token twice".into(),
                ),
            }));
        }
        if let Some((free, reserve)) = store.space_low() {
            // The page is not committed: the next pass reads it again.
            return Err(SyncError::DiskLow {
                channel: channel.label(),
                free_mb: free >> 20,
                reserve_mb: reserve >> 20,
            });
        }
        let (store2, seller, name) = (
            store.clone(),
            channel.seller().to_string(),
            channel.id().to_string(),
        );
        if let Some(first) = page.quarantined.first() {
            // One line per page, however many: a hostile plugin cannot
            // flood the log through its orders.
            tracing::warn!(seller = %channel.seller(), channel = %channel.id(), plugin = %channel.account.plugin_name(),
                count = page.quarantined.len(),
                "orders quarantined (see `tradelane orders quarantined`); first: `{}`: {}",
                crate::text::plain(&first.external_id), crate::text::plain(&first.reason));
        }
        let (orders, quarantined) = (page.orders, page.quarantined);
        let handle = tokio::task::spawn_blocking(move || {
            let outcome = store2
                .commit_page_with(&seller, &name, ORDERS, &orders, &quarantined, &next_cursor)
                .map_err(|e| store2.noting(e))?;
            store2.flush_blocking().map_err(|e| store2.noting(e))?;
            Ok((outcome, orders.len(), last))
        });
        if last {
            finish(&mut report, join(handle).await)?;
            report.requarantine =
                requarantine::retry(store, channel, Utc::now(), requarantine::PER_PASS)
                    .await
                    .map_err(store_err)?;
            return Ok(report);
        }
        pending = Some(handle);
        page_token = page.next_page;
    }
}

/// Refuse a page that breaks the channel's limits, before it is stored:
/// more orders than asked, an order too large, or one page too many.
/// `read` counts the pages this pass already committed.
fn check_page(channel: &Channel, page: &OrderPage, read: u32) -> Result<(), SyncError> {
    let invalid = |why: String| {
        SyncError::Call(CallError {
            site: channel.account.site().clone(),
            kind: CallErrorKind::InvalidOutput(why),
        })
    };
    if page.orders.len() > channel.page_size as usize {
        return Err(invalid(format!(
            "the plugin returned {} orders for a page of {} (`page_size`)",
            page.orders.len(),
            channel.page_size
        )));
    }
    let limit = channel.limits.max_order_bytes;
    for o in &page.orders {
        let size = crate::store::encoded_order_len(o);
        if size > limit {
            return Err(invalid(format!(
                "order `{}` is {} KiB encoded, over the {} KiB of `max_order_kb`",
                crate::text::plain(&o.external_id.chars().take(64).collect::<String>()),
                size >> 10,
                limit >> 10
            )));
        }
    }
    if read + 1 > channel.limits.max_pages && page.next_page.is_some() {
        let error = CallError {
            site: channel.account.site().clone(),
            kind: CallErrorKind::Limit {
                limit: format!("{} pages in one pass", channel.limits.max_pages),
                key: "max_pages_per_pass",
            },
        };
        crate::notify::tell(
            crate::notify::EventKind::PluginLimitHit,
            channel.seller(),
            channel.id(),
            error.to_string(),
        );
        return Err(SyncError::Call(error));
    }
    Ok(())
}

/// The watermark after a completed pass: forward only, never past the
/// pass's start (orders changed during the pass are re-read next time).
fn advance(
    old: &Option<(DateTime<Utc>, String)>,
    pass: &PassState,
) -> Option<(DateTime<Utc>, String)> {
    let candidate = pass.max_seen.clone().map(|(t, id)| {
        if t > pass.started_at {
            (pass.started_at, String::new())
        } else {
            (t, id)
        }
    });
    match (old, candidate) {
        (Some(o), Some(c)) => Some(if &c > o { c } else { o.clone() }),
        (Some(o), None) => Some(o.clone()),
        (None, c) => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn watermark_moves_forward_only_and_not_past_the_pass_start() {
        let t = |h| Utc.with_ymd_and_hms(2026, 11, 1, h, 0, 0).unwrap();
        let pass = |max: Option<u32>, start| PassState {
            since: None,
            max_seen: max.map(|h| (t(h), "9".to_string())),
            started_at: t(start),
            pages: 1,
        };
        assert_eq!(advance(&None, &pass(Some(5), 10)), Some((t(5), "9".into())));
        assert_eq!(
            advance(&Some((t(7), "1".into())), &pass(Some(5), 10)),
            Some((t(7), "1".into()))
        );
        assert_eq!(
            advance(&Some((t(7), "1".into())), &pass(None, 10)),
            Some((t(7), "1".into()))
        );
        assert_eq!(
            advance(&None, &pass(Some(12), 10)),
            Some((t(10), String::new()))
        );
    }
}

//! Runs each channel's sync, and each seller's workflows, on their
//! schedules, with backoff on failure.
//!
//! One task per channel and one per workflow; a semaphore bounds how many
//! channels sync at once. A sync that brings changes wakes its seller's
//! workflows at once. A
//! failing channel backs off exponentially (capped) without touching the
//! others; a failure retrying cannot fix (credentials, settings) stops that
//! channel with a message saying what to fix.

use crate::backoff::backoff;
use crate::host::Remedy;
use crate::shutdown::Shutdown;
use crate::store::Store;
use crate::sync::{self, Channel, SyncError};
use crate::workflow::Workflow;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;
use tracing::{error, info, warn};

/// What a channel is doing, for `tradelane status` and the admin socket.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct ChannelStatus {
    pub state: String,
    pub next_run: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub consecutive_failures: u32,
    pub orders_synced: u64,
}

/// Status of every channel, by `seller/channel`.
pub type StatusBoard = Arc<Mutex<BTreeMap<String, ChannelStatus>>>;

/// Schedule every channel and workflow until `shutdown` is requested.
pub async fn run(
    store: Store,
    channels: Vec<Arc<Channel>>,
    workflows: Vec<Arc<dyn Workflow>>,
    board: StatusBoard,
    concurrency: usize,
    shutdown: Shutdown,
) {
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for channel in channels {
        let wake: Vec<Arc<dyn Workflow>> = workflows
            .iter()
            .filter(|w| w.seller() == channel.seller())
            .cloned()
            .collect();
        let (store, board, permits, shutdown) = (
            store.clone(),
            board.clone(),
            permits.clone(),
            shutdown.clone(),
        );
        tasks.spawn(
            async move { channel_loop(store, channel, wake, board, permits, shutdown).await },
        );
    }
    for workflow in workflows {
        let (store, board, shutdown) = (store.clone(), board.clone(), shutdown.clone());
        tasks.spawn(async move { workflow_loop(store, workflow, board, shutdown).await });
    }
    while tasks.join_next().await.is_some() {}
}

fn update(board: &StatusBoard, label: &str, f: impl FnOnce(&mut ChannelStatus)) {
    let mut b = board.lock().unwrap_or_else(|p| p.into_inner());
    f(b.entry(label.to_string()).or_default());
}

async fn channel_loop(
    store: Store,
    channel: Arc<Channel>,
    wake: Vec<Arc<dyn Workflow>>,
    board: StatusBoard,
    permits: Arc<Semaphore>,
    mut shutdown: Shutdown,
) {
    let label = channel.label();
    let (seller, channel_id, plugin) = (
        channel.seller().to_string(),
        channel.id().to_string(),
        channel.account.plugin_name().to_string(),
    );
    let last = store
        .cursor(&seller, &channel_id, sync::ORDERS)
        .ok()
        .and_then(|c| c.last_completed);
    let mut next = channel.schedule.first_run(last, Utc::now());
    let mut failures = 0u32;
    loop {
        update(&board, &label, |s| {
            s.state = "scheduled".into();
            s.next_run = Some(next);
        });
        let wait = (next - Utc::now()).to_std().unwrap_or_default();
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.requested() => return,
        }
        let Ok(_permit) = permits.acquire().await else {
            return;
        };
        update(&board, &label, |s| s.state = "syncing".into());
        let result = sync::run_pass(&store, &channel, &shutdown, |p| {
            tracing::debug!(channel = %label, page = p.page, orders = p.orders, created = p.outcome.created, updated = p.outcome.updated, "page committed");
        })
        .await;
        match result {
            Ok(report) => {
                failures = 0;
                if report.created + report.updated + report.quarantined > 0 || report.pages > 1 {
                    info!(seller = %seller, channel = %channel_id, plugin = %plugin,
                        pages = report.pages, created = report.created, updated = report.updated, unchanged = report.unchanged,
                        quarantined = report.quarantined, "sync pass complete");
                }
                update(&board, &label, |s| {
                    s.last_success = Some(Utc::now());
                    s.last_error = None;
                    s.consecutive_failures = 0;
                    s.orders_synced += u64::from(report.created + report.updated);
                });
                if report.created + report.updated > 0 {
                    for w in &wake {
                        w.wake().notify_one();
                    }
                }
                if report.interrupted {
                    return;
                }
                next = channel.schedule.next_after(Utc::now());
            }
            Err(SyncError::Busy(_)) => {
                next = Utc::now() + chrono::Duration::seconds(1);
            }
            Err(e @ SyncError::DiskLow { .. }) => {
                let message = e.to_string();
                warn!(seller = %seller, channel = %channel_id, "{message}; retrying in 30 s");
                update(&board, &label, |s| {
                    s.state = "paused: disk space low".into();
                    s.last_error = Some(message.clone());
                });
                next = Utc::now() + chrono::Duration::seconds(30);
            }
            Err(e) if store.has_failed() => {
                // sled cannot make progress after the disk refused a write;
                // staying up would hang. Exit: systemd restarts the daemon,
                // whose disk reserve (`min_free_mb`) then keeps it paused
                // until space returns. Committed pages are kept.
                error!(seller = %seller, channel = %channel_id,
                    "the disk refused a write ({e}); stopping tradelane so nothing hangs. Free space, keep some with `[daemon] min_free_mb`, and start it again");
                std::process::exit(1);
            }
            Err(e) => {
                failures += 1;
                let remedy = match &e {
                    SyncError::Call(c) => c.remedy(),
                    _ => Remedy::Retry,
                };
                let message = e.to_string();
                update(&board, &label, |s| {
                    s.last_error = Some(message.clone());
                    s.consecutive_failures = failures;
                });
                match remedy {
                    Remedy::Fix(what) => {
                        error!(seller = %seller, channel = %channel_id, plugin = %plugin,
                            "sync stopped for this channel: {message}. To fix: {what}; then restart tradelane");
                        update(&board, &label, |s| {
                            s.state = format!("stopped: {what}");
                            s.next_run = None;
                        });
                        return;
                    }
                    Remedy::Defer(d) => {
                        warn!(seller = %seller, channel = %channel_id, plugin = %plugin,
                            "rate limited, deferring {} ms: {message}", d.as_millis());
                        next = Utc::now() + chrono::Duration::from_std(d).unwrap_or_default();
                    }
                    Remedy::Retry => {
                        let delay = backoff(failures);
                        warn!(seller = %seller, channel = %channel_id, plugin = %plugin,
                            failures, "sync failed, retrying in {}s: {message}", delay.as_secs());
                        next = Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
                    }
                }
            }
        }
    }
}

/// Run a workflow on its schedule, and whenever a sync or a person wakes it.
async fn workflow_loop(
    store: Store,
    workflow: Arc<dyn Workflow>,
    board: StatusBoard,
    mut shutdown: Shutdown,
) {
    let label = workflow.label();
    let mut next = Utc::now();
    loop {
        update(&board, &label, |s| {
            s.state = "scheduled".into();
            s.next_run = Some(next);
        });
        let wait = (next - Utc::now()).to_std().unwrap_or_default();
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = workflow.wake().notified() => {}
            _ = shutdown.requested() => return,
        }
        if let Some((free, reserve)) = store.space_low() {
            let message = format!(
                "paused, disk space low: {} MiB free, `[daemon] min_free_mb` keeps {} MiB in reserve",
                free >> 20,
                reserve >> 20
            );
            warn!(workflow = %label, "{message}; retrying in 30 s");
            update(&board, &label, |s| {
                s.state = "paused: disk space low".into();
                s.last_error = Some(message.clone());
            });
            next = Utc::now() + chrono::Duration::seconds(30);
            continue;
        }
        update(&board, &label, |s| s.state = "running".into());
        match workflow.run(&store, &shutdown).await {
            Ok(outcome) => update(&board, &label, |s| {
                s.last_success = Some(Utc::now());
                s.last_error = outcome.warning;
                s.consecutive_failures = 0;
                s.orders_synced += outcome.done;
            }),
            Err(e) => {
                error!(workflow = %label, "pass failed: {e}");
                update(&board, &label, |s| {
                    s.last_error = Some(e);
                    s.consecutive_failures += 1;
                });
            }
        }
        if shutdown.is_requested() {
            return;
        }
        next = workflow.schedule().next_after(Utc::now());
    }
}

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
use crate::control::{ChannelControl, Controls, PassEvent, PassSummary};
use crate::host::Remedy;
use crate::notify::{self, EventKind};
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
    /// Orders the store holds for this channel (channels only, filled in
    /// when status is asked for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orders_stored: Option<u64>,
}

impl ChannelStatus {
    /// Stopped for something a person must fix (retried on a long backoff).
    pub fn is_stopped(&self) -> bool {
        self.state.starts_with("stopped")
    }

    /// Not stopped, but its last run failed.
    pub fn is_failing(&self) -> bool {
        !self.is_stopped() && self.consecutive_failures > 0
    }
}

/// Status of every channel, by `seller/channel`.
pub type StatusBoard = Arc<Mutex<BTreeMap<String, ChannelStatus>>>;

/// How the scheduler paces channels, from `[daemon]`.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Channels synced at once.
    pub concurrency: usize,
    /// The first wait before a stopped channel is tried again.
    pub stopped_retry: std::time::Duration,
    /// Set to the current Unix time every second while the scheduler's
    /// loop runs: what systemd's watchdog is fed from.
    pub heartbeat: Arc<std::sync::atomic::AtomicI64>,
}

/// The scheduler's heartbeat, every second, until `shutdown`.
async fn beat(heartbeat: Arc<std::sync::atomic::AtomicI64>, mut shutdown: Shutdown) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = every.tick() => heartbeat.store(Utc::now().timestamp(), std::sync::atomic::Ordering::Relaxed),
            _ = shutdown.requested() => return,
        }
    }
}

/// The longest wait before a stopped channel is tried again.
pub const STOPPED_RETRY_CAP: std::time::Duration = std::time::Duration::from_secs(6 * 3600);

/// The wait before the `n`-th retry (from 1) of a stopped channel.
pub fn stopped_wait(first: std::time::Duration, n: u32) -> std::time::Duration {
    first
        .saturating_mul(1u32 << n.saturating_sub(1).min(16))
        .min(STOPPED_RETRY_CAP.max(first))
}

/// Schedule every channel and workflow until `shutdown` is requested.
pub async fn run(
    store: Store,
    channels: Vec<Arc<Channel>>,
    workflows: Vec<Arc<dyn Workflow>>,
    board: StatusBoard,
    settings: Settings,
    controls: Controls,
    shutdown: Shutdown,
) {
    let handles: Vec<Arc<ChannelControl>> = channels
        .iter()
        .map(|c| ChannelControl::new(c.label()))
        .collect();
    controls.replace(handles.iter().cloned());
    let permits = Arc::new(Semaphore::new(settings.concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(beat(settings.heartbeat.clone(), shutdown.clone()));
    for (channel, control) in channels.into_iter().zip(handles) {
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
        let retry = settings.stopped_retry;
        tasks.spawn(async move {
            channel_loop(
                store, channel, control, wake, board, permits, retry, shutdown,
            )
            .await
        });
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

#[allow(clippy::too_many_arguments)]
async fn channel_loop(
    store: Store,
    channel: Arc<Channel>,
    control: Arc<ChannelControl>,
    wake: Vec<Arc<dyn Workflow>>,
    board: StatusBoard,
    permits: Arc<Semaphore>,
    stopped_retry: std::time::Duration,
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
    // Why the channel is stopped, and how often it was retried since.
    let mut stopped: Option<(String, u32)> = None;
    // The last pass request a pass started for (`tradelane sync --once`).
    let mut served = 0u64;
    loop {
        let paused = control.is_paused();
        update(&board, &label, |s| {
            s.state = match (&stopped, paused) {
                (_, true) => format!("paused (`tradelane channel resume {label}`)"),
                (Some((what, _)), false) => format!("stopped: {what}"),
                (None, false) => "scheduled".into(),
            };
            s.next_run = (!paused).then_some(next);
        });
        if !control.pass_wanted(served) {
            let wait = (next - Utc::now()).to_std().unwrap_or_default();
            tokio::select! {
                _ = tokio::time::sleep(wait), if !paused => {}
                // Paused, resumed, or a pass asked for: look again.
                _ = control.wake.notified() => continue,
                _ = shutdown.requested() => return,
            }
        }
        let Ok(_permit) = permits.acquire().await else {
            return;
        };
        let serves = control.serving();
        update(&board, &label, |s| s.state = "syncing".into());
        // A pass in flight shows its progress in status, and a long one
        // says how far it got every 10 s.
        let started = std::time::Instant::now();
        let (mut orders, mut logged) = (0usize, started);
        let result = sync::run_pass(&store, &channel, &shutdown, |p| {
            orders += p.orders;
            control.publish(PassEvent::Page {
                serves,
                page: p.page,
                orders: p.orders,
                created: p.outcome.created,
                updated: p.outcome.updated,
                unchanged: p.outcome.unchanged,
                last: p.last,
            });
            tracing::debug!(channel = %label, page = p.page, orders = p.orders, created = p.outcome.created, updated = p.outcome.updated, "page committed");
            let secs = started.elapsed().as_secs_f64().max(0.001);
            update(&board, &label, |s| {
                s.state = format!(
                    "syncing: page {}, {orders} orders, {:.0}/s",
                    p.page,
                    orders as f64 / secs
                );
            });
            if logged.elapsed() >= std::time::Duration::from_secs(10) {
                logged = std::time::Instant::now();
                info!(seller = %seller, channel = %channel_id, pages = p.page, orders,
                    rate = format!("{:.0}/s", orders as f64 / secs), "sync pass in progress");
            }
        })
        .await;
        if !matches!(result, Err(SyncError::Busy(_))) {
            served = serves;
            control.publish(PassEvent::Done {
                serves,
                result: result
                    .as_ref()
                    .map(PassSummary::from)
                    .map_err(|e| e.to_string()),
            });
        }
        match result {
            Ok(report) => {
                failures = 0;
                metrics::counter!("tradelane_orders_synced_total", "seller" => seller.clone(), "channel" => channel_id.clone())
                    .increment(u64::from(report.created + report.updated));
                metrics::histogram!("tradelane_sync_pass_duration_seconds", "seller" => seller.clone(), "channel" => channel_id.clone())
                    .record(started.elapsed().as_secs_f64());
                if let Some((what, _)) = stopped.take() {
                    info!(seller = %seller, channel = %channel_id, plugin = %plugin,
                        "sync recovered: the channel works again (it was stopped: {what})");
                    notify::tell(
                        EventKind::ChannelRecovered,
                        &seller,
                        &channel_id,
                        format!("the channel syncs again (it was stopped: {what})"),
                    );
                }
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
                notify::tell(
                    EventKind::DiskSpaceLow,
                    &seller,
                    &channel_id,
                    format!("sync paused: {message}"),
                );
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
                metrics::counter!("tradelane_sync_failures_total", "seller" => seller.clone(), "channel" => channel_id.clone())
                    .increment(1);
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
                        let tries = stopped.as_ref().map_or(0, |(_, n)| *n) + 1;
                        let wait = stopped_wait(stopped_retry, tries);
                        if tries == 1 {
                            error!(seller = %seller, channel = %channel_id, plugin = %plugin,
                                "sync stopped for this channel: {message}. To fix: {what}; it is tried again in {} (doubling up to 6 h), and at once on reload",
                                humantime::format_duration(wait));
                            notify::tell(
                                EventKind::ChannelStopped,
                                &seller,
                                &channel_id,
                                format!(
                                    "{message}. To fix: {what}. It is tried again in {}, and at once on `tradelane reload`.",
                                    humantime::format_duration(wait)
                                ),
                            );
                        } else {
                            warn!(seller = %seller, channel = %channel_id, plugin = %plugin, tries,
                                "still stopped: {message}; next try in {}", humantime::format_duration(wait));
                        }
                        stopped = Some((what, tries));
                        next = Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
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
            notify::tell(
                EventKind::DiskSpaceLow,
                workflow.seller(),
                &label,
                format!("workflow paused: {message}"),
            );
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_stopped_channel_waits_longer_each_time_up_to_six_hours() {
        let first = Duration::from_secs(15 * 60);
        assert_eq!(stopped_wait(first, 1), first);
        assert_eq!(stopped_wait(first, 2), first * 2);
        assert_eq!(stopped_wait(first, 5), first * 16);
        assert_eq!(stopped_wait(first, 6), STOPPED_RETRY_CAP);
        assert_eq!(stopped_wait(first, 40), STOPPED_RETRY_CAP);
        assert_eq!(
            stopped_wait(Duration::from_secs(1), 3),
            Duration::from_secs(4)
        );
    }
}

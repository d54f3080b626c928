//! Runs each channel's sync, and each seller's shipping workflow, on its
//! schedule, with backoff on failure.
//!
//! One task per channel; a semaphore bounds how many sync at once. A sync
//! that brings changes wakes its seller's shipping workflow at once. A
//! failing channel backs off exponentially (capped) without touching the
//! others; a failure retrying cannot fix (credentials, settings) stops that
//! channel with a message saying what to fix.

use crate::egress::Egress;
use crate::host::Remedy;
use crate::settlement::SettlementRuntime;
use crate::shipping::ShippingRuntime;
use crate::store::Store;
use crate::sync::{self, ChannelRuntime, SyncError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Semaphore, watch};
use tracing::{error, info, warn};

/// First retry delay after a failure; doubles per consecutive failure.
pub const BACKOFF_BASE: Duration = Duration::from_secs(5);
/// Longest delay between retries.
pub const BACKOFF_CAP: Duration = Duration::from_secs(15 * 60);

/// What a channel is doing, for `tradelane status` and the admin socket.
#[derive(Debug, Clone, Default, Serialize)]
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

/// The sellers' workflows on top of order sync.
#[derive(Clone, Default)]
pub struct Workflows {
    pub shipping: Vec<Arc<ShippingRuntime>>,
    pub settlement: Vec<Arc<SettlementRuntime>>,
}

/// Schedule every channel and workflow until `shutdown` flips to true.
pub async fn run(
    store: Store,
    channels: Vec<Arc<ChannelRuntime>>,
    workflows: Workflows,
    egress: Arc<dyn Egress>,
    board: StatusBoard,
    concurrency: usize,
    shutdown: watch::Receiver<bool>,
) {
    let Workflows {
        shipping,
        settlement,
    } = workflows;
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for channel in channels {
        let (store, egress, board, permits, shutdown) = (
            store.clone(),
            egress.clone(),
            board.clone(),
            permits.clone(),
            shutdown.clone(),
        );
        let mut wake: Vec<Arc<tokio::sync::Notify>> = Vec::new();
        for s in shipping.iter().filter(|s| s.seller == channel.seller) {
            wake.push(s.wake.clone());
        }
        for s in settlement.iter().filter(|s| s.seller == channel.seller) {
            wake.push(s.wake.clone());
        }
        tasks.spawn(async move {
            channel_loop(store, channel, wake, egress, board, permits, shutdown).await
        });
    }
    for runtime in shipping {
        let (store, egress, board, shutdown) = (
            store.clone(),
            egress.clone(),
            board.clone(),
            shutdown.clone(),
        );
        tasks.spawn(async move { shipping_loop(store, runtime, egress, board, shutdown).await });
    }
    for runtime in settlement {
        let (store, egress, board, shutdown) = (
            store.clone(),
            egress.clone(),
            board.clone(),
            shutdown.clone(),
        );
        tasks.spawn(async move { settlement_loop(store, runtime, egress, board, shutdown).await });
    }
    while tasks.join_next().await.is_some() {}
}

fn update(board: &StatusBoard, label: &str, f: impl FnOnce(&mut ChannelStatus)) {
    let mut b = board.lock().unwrap_or_else(|p| p.into_inner());
    f(b.entry(label.to_string()).or_default());
}

async fn channel_loop(
    store: Store,
    channel: Arc<ChannelRuntime>,
    wake: Vec<Arc<tokio::sync::Notify>>,
    egress: Arc<dyn Egress>,
    board: StatusBoard,
    permits: Arc<Semaphore>,
    mut shutdown: watch::Receiver<bool>,
) {
    let label = channel.label();
    let last = store
        .cursor(&channel.seller, &channel.channel, sync::ORDERS)
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
            _ = shutdown.wait_for(|s| *s) => return,
        }
        let Ok(_permit) = permits.acquire().await else {
            return;
        };
        update(&board, &label, |s| s.state = "syncing".into());
        let result = sync::run_pass(&store, &channel, egress.clone(), &shutdown, |p| {
            tracing::debug!(channel = %label, page = p.page, orders = p.orders, created = p.outcome.created, updated = p.outcome.updated, "page committed");
        })
        .await;
        match result {
            Ok(report) => {
                failures = 0;
                if report.created + report.updated > 0 || report.pages > 1 {
                    info!(seller = %channel.seller, channel = %channel.channel, plugin = %channel.plugin.manifest.name,
                        pages = report.pages, created = report.created, updated = report.updated, unchanged = report.unchanged, "sync pass complete");
                }
                update(&board, &label, |s| {
                    s.last_success = Some(Utc::now());
                    s.last_error = None;
                    s.consecutive_failures = 0;
                    s.orders_synced += u64::from(report.created + report.updated);
                });
                if report.created + report.updated > 0 {
                    for w in &wake {
                        w.notify_one();
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
                        error!(seller = %channel.seller, channel = %channel.channel, plugin = %channel.plugin.manifest.name,
                            "sync stopped for this channel: {message}. To fix: {what}; then restart tradelane");
                        update(&board, &label, |s| {
                            s.state = format!("stopped: {what}");
                            s.next_run = None;
                        });
                        return;
                    }
                    Remedy::Defer(d) => {
                        warn!(seller = %channel.seller, channel = %channel.channel, plugin = %channel.plugin.manifest.name,
                            "rate limited, deferring {} ms: {message}", d.as_millis());
                        next = Utc::now() + chrono::Duration::from_std(d).unwrap_or_default();
                    }
                    Remedy::Retry => {
                        let delay = backoff(failures);
                        warn!(seller = %channel.seller, channel = %channel.channel, plugin = %channel.plugin.manifest.name,
                            failures, "sync failed, retrying in {}s: {message}", delay.as_secs());
                        next = Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
                    }
                }
            }
        }
    }
}

/// What one workflow pass tells the status board.
struct PassOutcome {
    /// Orders shipped or settled.
    done: u64,
    /// A partial failure worth showing.
    warning: Option<String>,
}

/// Run a workflow on its schedule, and whenever a sync or a person wakes
/// it; `pass` does one pass and logs what it did.
async fn workflow_loop<F, Fut>(
    label: String,
    schedule: crate::schedule::Schedule,
    wake: Arc<tokio::sync::Notify>,
    working: &'static str,
    board: StatusBoard,
    mut shutdown: watch::Receiver<bool>,
    mut pass: F,
) where
    F: FnMut(watch::Receiver<bool>) -> Fut,
    Fut: std::future::Future<Output = Result<PassOutcome, String>>,
{
    let mut next = Utc::now();
    loop {
        update(&board, &label, |s| {
            s.state = "scheduled".into();
            s.next_run = Some(next);
        });
        let wait = (next - Utc::now()).to_std().unwrap_or_default();
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = wake.notified() => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
        update(&board, &label, |s| s.state = working.into());
        match pass(shutdown.clone()).await {
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
        if *shutdown.borrow() {
            return;
        }
        next = schedule.next_after(Utc::now());
    }
}

/// One seller's settlement workflow.
async fn settlement_loop(
    store: Store,
    runtime: Arc<SettlementRuntime>,
    egress: Arc<dyn Egress>,
    board: StatusBoard,
    shutdown: watch::Receiver<bool>,
) {
    let label = format!("{}/settlement", runtime.seller);
    let (schedule, wake) = (runtime.schedule.clone(), runtime.wake.clone());
    workflow_loop(label, schedule, wake, "settling", board, shutdown, |stop| {
        let (store, runtime, egress) = (store.clone(), runtime.clone(), egress.clone());
        async move {
            let r = runtime
                .run_pass_until(&store, egress, &stop)
                .await
                .map_err(|e| e.to_string())?;
            if r.payouts_stored + r.discrepancies_new + r.discrepancies_closed > 0 {
                info!(seller = %runtime.seller, payouts = r.payouts_stored, lines = r.lines_stored,
                    orders_settled = r.orders_settled, new_discrepancies = r.discrepancies_new,
                    closed_discrepancies = r.discrepancies_closed, "settlement pass complete");
            }
            Ok(PassOutcome {
                done: u64::from(r.orders_settled),
                warning: (r.accounts_failed > 0)
                    .then(|| format!("{} account(s) failed; see the log", r.accounts_failed)),
            })
        }
    })
    .await
}

/// One seller's shipping workflow.
async fn shipping_loop(
    store: Store,
    runtime: Arc<ShippingRuntime>,
    egress: Arc<dyn Egress>,
    board: StatusBoard,
    shutdown: watch::Receiver<bool>,
) {
    let label = format!("{}/shipping", runtime.seller);
    let (schedule, wake) = (runtime.schedule.clone(), runtime.wake.clone());
    workflow_loop(label, schedule, wake, "shipping", board, shutdown, |stop| {
        let (store, runtime, egress) = (store.clone(), runtime.clone(), egress.clone());
        async move {
            let report = runtime
                .run_pass_until(&store, egress, &stop)
                .await
                .map_err(|e| e.to_string())?;
            if report != crate::shipping::PassReport::default() {
                info!(seller = %runtime.seller, shipped = report.shipped, held = report.held,
                    dead_lettered = report.dead_lettered, retrying = report.retrying,
                    dry_run = report.dry_run, tracking_updates = report.tracking_updates, "shipping pass complete");
            }
            Ok(PassOutcome {
                done: u64::from(report.shipped),
                warning: None,
            })
        }
    })
    .await
}

/// Exponential backoff with jitter, capped at [`BACKOFF_CAP`].
pub fn backoff(failures: u32) -> Duration {
    let exp = BACKOFF_BASE.saturating_mul(1u32 << failures.saturating_sub(1).min(10));
    let capped = exp.min(BACKOFF_CAP);
    capped.mul_f64(0.75 + fastrand::f64() * 0.25)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(1) <= BACKOFF_BASE);
        assert!(backoff(3) > backoff(1));
        assert!(backoff(30) <= BACKOFF_CAP);
    }
}

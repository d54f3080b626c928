//! A seller's shipping workflow and its passes.
//!
//! A pass looks only at the orders that need it: those whose change
//! events arrived since the workflow's last pass (its position in the
//! store's events), and those whose records are pending (a retry due, a
//! hold to plan again, tracking still followed; see `shipping::store`).
//! The first pass after start, and one every [`SWEEP_EVERY`] after it,
//! looks at every order of the seller instead: a safety net that costs
//! what every pass used to cost. The event position moves only when a pass
//! completes, so a crash or shutdown mid-pass replays the same events;
//! each order's state machine (see [`super::stages`]) is idempotent.

use super::policy::ShippingPolicy;
use super::record::ShipmentRecord;
use super::store::ShipmentStore;
use crate::crash::{CrashPoint, maybe_crash};
use crate::host::PluginAccount;
use crate::schedule::Schedule;
use crate::shutdown::Shutdown;
use crate::store::{OrderFilter, Store, StoreError, StoredOrder};
use crate::workflow::{PassFuture, PassSummary, Workflow};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often a pass looks at every order, not only the changed ones.
pub const SWEEP_EVERY: Duration = Duration::from_secs(6 * 3600);

/// Everything a seller's shipping workflow needs, built once at start.
pub struct ShippingWorkflow {
    pub seller: String,
    pub policy: ShippingPolicy,
    /// Carrier accounts by id.
    pub carriers: BTreeMap<String, PluginAccount>,
    /// The seller's enabled channels, where tracking is pushed.
    pub channels: BTreeMap<String, Arc<PluginAccount>>,
    pub labels_dir: PathBuf,
    pub schedule: Schedule,
    pub crash_at: Option<CrashPoint>,
    /// Orders being worked right now (single flight per order).
    inflight: Mutex<HashSet<String>>,
    /// When the last full sweep completed (none yet: the next pass sweeps).
    swept_at: Mutex<Option<Instant>>,
    /// Poked when a sync brought changes or a person retried an order.
    pub wake: tokio::sync::Notify,
}

/// Holds an order's single-flight slot; frees it when dropped.
pub struct Flight<'a> {
    workflow: &'a ShippingWorkflow,
    key: String,
}

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        self.workflow
            .inflight
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.key);
    }
}

/// What happened to one order in a pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Not an order to ship (unpaid, fulfilled, no record needed).
    Ignored,
    /// Finished earlier, or waiting for a person or a retry time.
    Unchanged,
    /// Another run is working on it.
    Busy,
    /// Reached `done` in this pass.
    Shipped,
    Held,
    DeadLettered,
    DryRun,
    Skipped,
    /// Failed, will retry later.
    Retrying,
}

/// Counts of one pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassReport {
    pub shipped: u32,
    pub held: u32,
    pub dead_lettered: u32,
    pub retrying: u32,
    pub dry_run: u32,
    pub tracking_updates: u32,
}

/// What stops a whole pass: the store failing. A plugin's failure, or one
/// order's label that cannot be written, is recorded on that order.
#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ShippingWorkflow {
    /// A workflow; see `assemble`.
    pub fn new(
        seller: String,
        policy: ShippingPolicy,
        carriers: BTreeMap<String, PluginAccount>,
        channels: BTreeMap<String, Arc<PluginAccount>>,
        labels_dir: PathBuf,
        schedule: Schedule,
    ) -> Self {
        ShippingWorkflow {
            seller,
            policy,
            carriers,
            channels,
            labels_dir,
            schedule,
            crash_at: CrashPoint::from_env(),
            inflight: Mutex::new(HashSet::new()),
            swept_at: Mutex::new(None),
            wake: tokio::sync::Notify::new(),
        }
    }

    /// Take the order's single-flight slot, if free.
    pub fn try_flight(&self, channel: &str, order: &str) -> Option<Flight<'_>> {
        let key = format!("{channel}\0{order}");
        let mut set = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
        set.insert(key.clone()).then(|| Flight {
            workflow: self,
            key,
        })
    }

    /// The name of this workflow's position in the store's events.
    fn consumer(&self) -> String {
        format!("shipping:{}", self.seller)
    }

    /// Whether the next pass looks at every order.
    fn sweep_due(&self) -> bool {
        self.swept_at
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_none_or(|t| t.elapsed() >= SWEEP_EVERY)
    }

    /// Make the next pass a full sweep (tests, benchmarks, a person's retry).
    pub fn sweep_next(&self) {
        *self.swept_at.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Work every order that needs it once, then refresh tracking.
    pub async fn run_pass(&self, store: &Store) -> Result<PassReport, WorkflowError> {
        self.run_pass_until(store, &Shutdown::never()).await
    }

    /// [`run_pass`](Self::run_pass), stopping between orders once `shutdown` is requested.
    pub async fn run_pass_until(
        &self,
        store: &Store,
        shutdown: &Shutdown,
    ) -> Result<PassReport, WorkflowError> {
        let sweep = self.sweep_due();
        let (orders, tail) = {
            let (store, seller, consumer) = (store.clone(), self.seller.clone(), self.consumer());
            tokio::task::spawn_blocking(move || work_set(&store, &seller, &consumer, sweep))
                .await
                .map_err(|e| {
                    StoreError::Other(format!("finding the orders to ship panicked: {e}"))
                })??
        };
        let mut report = PassReport::default();
        for stored in &orders {
            if shutdown.is_requested() {
                return Ok(report);
            }
            if !self.channels.contains_key(&stored.channel) {
                continue;
            }
            match self.process(store, stored).await? {
                Outcome::Shipped => report.shipped += 1,
                Outcome::Held => report.held += 1,
                Outcome::DeadLettered => report.dead_lettered += 1,
                Outcome::Retrying => report.retrying += 1,
                Outcome::DryRun => report.dry_run += 1,
                _ => {}
            }
        }
        report.tracking_updates = self.refresh_tracking(store, false).await?;
        if shutdown.is_requested() {
            return Ok(report);
        }
        store.set_event_position(&self.consumer(), tail)?;
        if sweep {
            *self.swept_at.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
        }
        Ok(report)
    }

    /// Move one order as far as it can go now.
    pub async fn process(
        &self,
        store: &Store,
        stored: &StoredOrder,
    ) -> Result<Outcome, WorkflowError> {
        let order = &stored.order;
        let Some(_flight) = self.try_flight(&stored.channel, &order.external_id) else {
            return Ok(Outcome::Busy);
        };
        let existing = store.shipment(&self.seller, &stored.channel, &order.external_id)?;
        let rec = match existing {
            None => {
                if super::plan::not_shippable(order).is_some() {
                    return Ok(Outcome::Ignored);
                }
                let rec = ShipmentRecord::new(
                    &self.seller,
                    &stored.channel,
                    &order.external_id,
                    &order.number,
                );
                store.put_shipment(&rec)?;
                maybe_crash(self.crash_at, CrashPoint::AfterIntent);
                rec
            }
            Some(rec) => rec,
        };
        self.resume(store, stored, rec).await
    }
}

/// The orders a pass looks at, in key order, and the newest event id it
/// covers: every order of the seller on a sweep, else the ones changed
/// since the consumer's position plus the pending records' orders.
fn work_set(
    store: &Store,
    seller: &str,
    consumer: &str,
    sweep: bool,
) -> Result<(Vec<StoredOrder>, u64), StoreError> {
    let tail = store.event_tail()?;
    let position = store.event_position(consumer)?;
    let Some(mut position) = position.filter(|_| !sweep) else {
        let filter = OrderFilter {
            seller: Some(seller.to_string()),
            ..OrderFilter::default()
        };
        return Ok((store.list_orders(&filter)?, tail));
    };
    let mut keys: BTreeSet<(String, String)> =
        store.pending_shipments(seller)?.into_iter().collect();
    while position < tail {
        let batch = store.events_from(position)?;
        let Some((last, _)) = batch.last() else {
            break;
        };
        position = last.saturating_add(1);
        keys.extend(
            batch
                .into_iter()
                .filter(|(id, e)| *id < tail && e.seller == seller)
                .map(|(_, e)| (e.channel, e.external_id)),
        );
    }
    let mut orders = Vec::with_capacity(keys.len());
    for (channel, id) in keys {
        if let Some(order) = store.order(seller, &channel, &id)? {
            orders.push(order);
        }
    }
    Ok((orders, tail))
}

impl Workflow for ShippingWorkflow {
    fn name(&self) -> &'static str {
        "shipping"
    }

    fn seller(&self) -> &str {
        &self.seller
    }

    fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    fn wake(&self) -> &tokio::sync::Notify {
        &self.wake
    }

    fn run<'a>(&'a self, store: &'a Store, shutdown: &'a Shutdown) -> PassFuture<'a> {
        Box::pin(async move {
            let report = self
                .run_pass_until(store, shutdown)
                .await
                .map_err(|e| e.to_string())?;
            if report != PassReport::default() {
                tracing::info!(seller = %self.seller, shipped = report.shipped, held = report.held,
                    dead_lettered = report.dead_lettered, retrying = report.retrying,
                    dry_run = report.dry_run, tracking_updates = report.tracking_updates, "shipping pass complete");
            }
            Ok(PassSummary {
                done: u64::from(report.shipped),
                warning: None,
            })
        })
    }
}

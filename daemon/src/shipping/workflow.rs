//! The shipping state machine of one order, and a pass over a seller's
//! orders.
//!
//! ```text
//! intent ─quote→ quoted ─rule→ rate_chosen ─buy→ label_bought ─file→ label_stored ─push→ pushed (done)
//! ```
//! Each stage is written and flushed *before* the external call that leads
//! out of it. Resuming at `rate_chosen` (after a crash, a timeout, a 5xx)
//! first asks the carrier for a label under the shipment's reference and
//! adopts it; only if there is none is a label bought. Pushing tracking is
//! idempotent on the channel side (the same tracking number is adopted).
//! Transient failures retry with backoff; after `max_attempts`, or at once
//! for failures retrying cannot fix, the order goes to the dead-letter
//! list with the reason.

use super::labels;
use super::plan::{self, Consignment};
use super::policy::ShippingPolicy;
use super::record::{ShipmentRecord, Stage, Status, TrackingState};
use super::rules::{self, Facts};
use crate::crash::{CrashPoint, maybe_crash};
use crate::egress::Egress;
use crate::host::{CallError, CallSite, Remedy};
use crate::model::{Fulfillment, Label, TrackingStatus};
use crate::schedule::Schedule;
use crate::store::{OrderFilter, Store, StoreError, StoredOrder};
use crate::sync::ChannelRuntime;
use chrono::Utc;
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// A configured carrier account.
pub type CarrierAccount = crate::runtime::Account;

/// Everything a seller's shipping workflow needs, built once at start.
pub struct ShippingRuntime {
    pub seller: String,
    pub policy: ShippingPolicy,
    pub carriers: BTreeMap<String, CarrierAccount>,
    /// The seller's enabled channels, where tracking is pushed.
    pub channels: BTreeMap<String, Arc<ChannelRuntime>>,
    pub labels_dir: PathBuf,
    pub schedule: Schedule,
    pub crash_at: Option<CrashPoint>,
    /// Orders being worked right now (single flight per order).
    inflight: Mutex<HashSet<String>>,
    /// Poked when a sync brought changes or a person retried an order.
    pub wake: Arc<tokio::sync::Notify>,
}

/// Holds an order's single-flight slot; frees it when dropped.
pub struct Flight<'a> {
    runtime: &'a ShippingRuntime,
    key: String,
}

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        self.runtime
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

/// The workflow's own errors (a plugin's failure is recorded, not returned).
#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("seller `{seller}` order `{order}`: cannot store the label: {error}")]
    Label {
        seller: String,
        order: String,
        error: std::io::Error,
    },
}

impl ShippingRuntime {
    /// A runtime; see `runtime::build_shipping`.
    pub fn new(
        seller: String,
        policy: ShippingPolicy,
        carriers: BTreeMap<String, CarrierAccount>,
        channels: BTreeMap<String, Arc<ChannelRuntime>>,
        labels_dir: PathBuf,
        schedule: Schedule,
    ) -> Self {
        ShippingRuntime {
            seller,
            policy,
            carriers,
            channels,
            labels_dir,
            schedule,
            crash_at: CrashPoint::from_env(),
            inflight: Mutex::new(HashSet::new()),
            wake: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// Take the order's single-flight slot, if free.
    pub fn try_flight(&self, channel: &str, order: &str) -> Option<Flight<'_>> {
        let key = format!("{channel}\0{order}");
        let mut set = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
        set.insert(key.clone())
            .then(|| Flight { runtime: self, key })
    }

    /// Work every order of the seller once, then refresh tracking.
    pub async fn run_pass(
        &self,
        store: &Store,
        egress: Arc<dyn Egress>,
    ) -> Result<PassReport, WorkflowError> {
        let (_keep, never) = tokio::sync::watch::channel(false);
        self.run_pass_until(store, egress, &never).await
    }

    /// [`run_pass`](Self::run_pass), stopping between orders once `shutdown` is true.
    pub async fn run_pass_until(
        &self,
        store: &Store,
        egress: Arc<dyn Egress>,
        shutdown: &tokio::sync::watch::Receiver<bool>,
    ) -> Result<PassReport, WorkflowError> {
        let filter = OrderFilter {
            seller: Some(self.seller.clone()),
            ..OrderFilter::default()
        };
        let orders = {
            let store = store.clone();
            tokio::task::spawn_blocking(move || store.list_orders(&filter))
                .await
                .map_err(|e| StoreError::Other(format!("order listing panicked: {e}")))??
        };
        let mut report = PassReport::default();
        for stored in &orders {
            if *shutdown.borrow() {
                return Ok(report);
            }
            if !self.channels.contains_key(&stored.channel) {
                continue;
            }
            match self.process(store, egress.clone(), stored).await? {
                Outcome::Shipped => report.shipped += 1,
                Outcome::Held => report.held += 1,
                Outcome::DeadLettered => report.dead_lettered += 1,
                Outcome::Retrying => report.retrying += 1,
                Outcome::DryRun => report.dry_run += 1,
                _ => {}
            }
        }
        report.tracking_updates = self.refresh_tracking(store, egress, false).await?;
        Ok(report)
    }

    /// Move one order as far as it can go now.
    pub async fn process(
        &self,
        store: &Store,
        egress: Arc<dyn Egress>,
        stored: &StoredOrder,
    ) -> Result<Outcome, WorkflowError> {
        let order = &stored.order;
        let Some(_flight) = self.try_flight(&stored.channel, &order.external_id) else {
            return Ok(Outcome::Busy);
        };
        let existing = store.shipment(&self.seller, &stored.channel, &order.external_id)?;
        let mut rec = match existing {
            None => {
                if plan::not_shippable(order).is_some() {
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
        match rec.status {
            Status::Done | Status::Skipped | Status::DryRun | Status::DeadLetter => {
                return Ok(Outcome::Unchanged);
            }
            Status::Held if rec.held_by_user || rec.stage > Stage::Intent => {
                return Ok(Outcome::Unchanged);
            }
            Status::Active if rec.next_attempt_at.is_some_and(|t| t > Utc::now()) => {
                return Ok(Outcome::Unchanged);
            }
            _ => {}
        }
        if rec.stage < Stage::RateChosen
            && rec.label.is_none()
            && let Some(why) = plan::not_shippable(order)
        {
            rec.stop(Status::Skipped, format!("not shipped: {why}"));
            store.put_shipment(&rec)?;
            return Ok(Outcome::Skipped);
        }
        self.drive(store, egress, stored, rec).await
    }

    /// The state machine proper, from wherever `rec` stands.
    async fn drive(
        &self,
        store: &Store,
        egress: Arc<dyn Egress>,
        stored: &StoredOrder,
        mut rec: ShipmentRecord,
    ) -> Result<Outcome, WorkflowError> {
        let order = &stored.order;
        let mut document: Option<Vec<u8>> = None;
        // A purchase may have happened unless this run itself just chose the rate.
        let mut resumed = true;
        loop {
            match rec.stage {
                Stage::Intent => {
                    let consignment =
                        match plan::consignment(&self.policy, order, &rec.idempotency_key) {
                            Ok(c) => c,
                            Err(why) => return self.hold(store, rec, why),
                        };
                    let Some(channel) = self.channels.get(&stored.channel) else {
                        return self.hold(
                            store,
                            rec,
                            format!("channel `{}` is not enabled", stored.channel),
                        );
                    };
                    let facts = Facts {
                        from: &self.policy.ship_from.country,
                        to: &consignment.shipment.ship_to.country,
                        weight_grams: consignment.weight_grams,
                        value: order.totals.total,
                        channel: &stored.channel,
                        marketplace: &channel.plugin.manifest.name,
                    };
                    let Some(rule) = rules::select(&self.policy.rules, &facts, &self.policy.fx)
                    else {
                        let why = format!(
                            "no shipping rule matches: to {}, {} g, order value {}, channel `{}`; add a rule under [[sellers.shipping.rules]]",
                            facts.to.as_str(),
                            facts.weight_grams,
                            facts.value,
                            facts.channel
                        );
                        return self.hold(store, rec, why);
                    };
                    let carrier = &self.carriers[&rule.carrier];
                    // Known before the quote, so a refusal names who refused.
                    rec.rule = Some(rule.name.clone());
                    rec.carrier_account = Some(carrier.id.clone());
                    let Consignment {
                        mut shipment,
                        notes,
                        ..
                    } = consignment;
                    shipment.incoterm = rule.incoterm.unwrap_or(self.policy.incoterm);
                    let quoted = carrier
                        .plugin
                        .quote(
                            carrier.services(&self.seller, egress.clone()),
                            carrier.limits,
                            &carrier.settings,
                            &shipment,
                        )
                        .await;
                    let quotes = match quoted {
                        Ok(q) => q,
                        Err(e) => return self.fail(store, rec, e),
                    };
                    rec.notes = notes;
                    rec.shipment = Some(shipment);
                    rec.quotes = quotes;
                    let n = rec.quotes.len();
                    rec.advance(
                        Stage::Quoted,
                        format!(
                            "{n} rate(s) quoted by `{}` (rule `{}`)",
                            carrier.id, rule.name
                        ),
                    );
                    store.put_shipment(&rec)?;
                    maybe_crash(self.crash_at, CrashPoint::AfterQuote);
                }
                Stage::Quoted => {
                    let Some(rule) = self
                        .policy
                        .rules
                        .iter()
                        .find(|r| Some(&r.name) == rec.rule.as_ref())
                    else {
                        rec.advance(
                            Stage::Intent,
                            "the rule that quoted is gone from config; planning again",
                        );
                        continue;
                    };
                    let chosen = match rules::choose(rule, &rec.quotes, &self.policy.fx) {
                        Ok(r) => r,
                        Err(why) => {
                            return self.hold(
                                store,
                                rec,
                                format!(
                                    "{why}; change the rule, then `tradelane shipments release {}`",
                                    order.number
                                ),
                            );
                        }
                    };
                    let what =
                        format!("{} {} for {}", chosen.carrier, chosen.service, chosen.price);
                    rec.chosen = Some(chosen);
                    if self.policy.dry_run {
                        rec.stop(
                            Status::DryRun,
                            format!("dry run: would buy {what}; nothing bought"),
                        );
                        store.put_shipment(&rec)?;
                        return Ok(Outcome::DryRun);
                    }
                    rec.advance(Stage::RateChosen, format!("chose {what}"));
                    store.put_shipment(&rec)?;
                    maybe_crash(self.crash_at, CrashPoint::AfterRate);
                    resumed = false;
                }
                Stage::RateChosen => {
                    if resumed || !rec.open_references.is_empty() {
                        match self.adopt(egress.clone(), &rec).await {
                            Ok(Some((label, doc, reference))) => {
                                let note = format!(
                                    "adopted label {} already bought under reference {reference}",
                                    label.tracking_number
                                );
                                rec.label = Some(label);
                                rec.open_references.clear();
                                rec.advance(Stage::LabelBought, note);
                                store.put_shipment(&rec)?;
                                document = Some(doc);
                                continue;
                            }
                            Ok(None) => {}
                            Err(e) => return self.fail(store, rec, e),
                        }
                    }
                    let Some(carrier) = rec
                        .carrier_account
                        .as_ref()
                        .and_then(|c| self.carriers.get(c))
                    else {
                        return self.hold(
                            store,
                            rec,
                            "the carrier account that quoted is gone from config".into(),
                        );
                    };
                    let (Some(shipment), Some(rate)) = (&rec.shipment, &rec.chosen) else {
                        rec.advance(Stage::Intent, "record lacks its shipment; planning again");
                        continue;
                    };
                    let bought = carrier
                        .plugin
                        .buy_label(
                            carrier.services(&self.seller, egress.clone()),
                            carrier.limits,
                            &carrier.settings,
                            shipment,
                            rate,
                            &rec.idempotency_key,
                        )
                        .await;
                    let (label, doc) = match bought {
                        Ok(b) => b,
                        Err(e) => return self.fail(store, rec, e),
                    };
                    maybe_crash(self.crash_at, CrashPoint::AfterBuyCall);
                    let note = format!(
                        "bought {} {} label {} for {}",
                        label.carrier, label.service, label.tracking_number, label.cost
                    );
                    rec.label = Some(label);
                    rec.open_references.clear();
                    rec.advance(Stage::LabelBought, note);
                    store.put_shipment(&rec)?;
                    maybe_crash(self.crash_at, CrashPoint::AfterBought);
                    document = Some(doc);
                }
                Stage::LabelBought => {
                    let Some(label) = rec.label.clone() else {
                        rec.stage = Stage::RateChosen;
                        continue;
                    };
                    let doc = match document.take() {
                        Some(d) => d,
                        None => match self.refetch(egress.clone(), &rec).await {
                            Ok(d) => d,
                            Err(e) => return self.fail(store, rec, e),
                        },
                    };
                    let path = labels::path(
                        &self.labels_dir,
                        &rec.seller,
                        &rec.channel,
                        &rec.order_id,
                        rec.attempt,
                        label.format,
                    );
                    labels::write(&path, &doc).map_err(|error| WorkflowError::Label {
                        seller: rec.seller.clone(),
                        order: rec.order_id.clone(),
                        error,
                    })?;
                    rec.label_path = Some(path.clone());
                    rec.advance(
                        Stage::LabelStored,
                        format!("label stored at {}", path.display()),
                    );
                    store.put_shipment(&rec)?;
                    maybe_crash(self.crash_at, CrashPoint::AfterStored);
                }
                Stage::LabelStored => {
                    let Some(label) = rec.label.clone() else {
                        rec.stage = Stage::RateChosen;
                        continue;
                    };
                    let Some(channel) = self.channels.get(&rec.channel) else {
                        return self.hold(store, rec, format!(
                            "label {} is bought but channel `{}` is not enabled to receive the tracking",
                            label.tracking_number, stored.channel
                        ));
                    };
                    let fulfillment = Fulfillment {
                        order_external_id: rec.order_id.clone(),
                        carrier: label.carrier.clone(),
                        service: Some(label.service.clone()),
                        tracking_number: label.tracking_number.clone(),
                        tracking_url: label.tracking_url.clone(),
                        shipped_at: Utc::now(),
                        lines: Vec::new(),
                        notify_buyer: self.policy.notify_buyer,
                    };
                    let pushed = channel
                        .plugin
                        .push_fulfillment(
                            channel.services(egress.clone()),
                            channel.limits,
                            &channel.settings,
                            &fulfillment,
                        )
                        .await;
                    let id = match pushed {
                        Ok(id) => id,
                        Err(e) => return self.fail(store, rec, e),
                    };
                    maybe_crash(self.crash_at, CrashPoint::AfterPushCall);
                    rec.fulfillment_id = Some(id.clone());
                    rec.stage = Stage::Pushed;
                    rec.status = Status::Done;
                    rec.failures = 0;
                    rec.reason = None;
                    rec.log(format!(
                        "tracking {} pushed to `{}` (fulfillment {id})",
                        label.tracking_number, rec.channel
                    ));
                    store.put_shipment(&rec)?;
                    tracing::info!(seller = %rec.seller, channel = %rec.channel, order = %rec.order_number,
                        tracking = %label.tracking_number, carrier = %label.carrier, "order shipped");
                    return Ok(Outcome::Shipped);
                }
                Stage::Pushed => return Ok(Outcome::Unchanged),
            }
        }
    }

    /// A label bought earlier under this attempt's reference or an open one.
    async fn adopt(
        &self,
        egress: Arc<dyn Egress>,
        rec: &ShipmentRecord,
    ) -> Result<Option<(Label, Vec<u8>, String)>, CallError> {
        let mut candidates = rec.open_references.clone();
        if let Some(account) = &rec.carrier_account {
            candidates.push(super::record::OpenPurchase {
                carrier_account: account.clone(),
                reference: rec.idempotency_key.clone(),
            });
        }
        for open in candidates {
            let Some(carrier) = self.carriers.get(&open.carrier_account) else {
                continue;
            };
            let found = carrier
                .plugin
                .find_label(
                    carrier.services(&self.seller, egress.clone()),
                    carrier.limits,
                    &carrier.settings,
                    &open.reference,
                )
                .await?;
            if let Some((label, doc)) = found {
                return Ok(Some((label, doc, open.reference)));
            }
        }
        Ok(None)
    }

    /// The document of a label recorded before a crash.
    async fn refetch(
        &self,
        egress: Arc<dyn Egress>,
        rec: &ShipmentRecord,
    ) -> Result<Vec<u8>, CallError> {
        match self.adopt(egress, rec).await? {
            Some((_, doc, _)) => Ok(doc),
            None => Err(CallError {
                site: CallSite {
                    seller: rec.seller.clone(),
                    channel: format!(
                        "carrier:{}",
                        rec.carrier_account.clone().unwrap_or_default()
                    ),
                    plugin: "-".into(),
                },
                kind: crate::host::CallErrorKind::Plugin(crate::host::PluginFailure::Transient(
                    format!(
                        "label {} is recorded but the carrier does not return its document yet",
                        rec.label
                            .as_ref()
                            .map(|l| l.tracking_number.as_str())
                            .unwrap_or("?")
                    ),
                )),
            }),
        }
    }

    fn hold(
        &self,
        store: &Store,
        mut rec: ShipmentRecord,
        why: String,
    ) -> Result<Outcome, WorkflowError> {
        if rec.status == Status::Held && rec.reason.as_deref() == Some(why.as_str()) {
            return Ok(Outcome::Unchanged);
        }
        tracing::warn!(seller = %rec.seller, channel = %rec.channel, order = %rec.order_number, "shipment held: {why}");
        rec.held_by_user = false;
        rec.stop(Status::Held, why);
        store.put_shipment(&rec)?;
        Ok(Outcome::Held)
    }

    fn fail(
        &self,
        store: &Store,
        mut rec: ShipmentRecord,
        error: CallError,
    ) -> Result<Outcome, WorkflowError> {
        rec.failures += 1;
        let message = error.to_string();
        let outcome = match error.remedy() {
            Remedy::Fix(what) => {
                let reason = match &error.kind {
                    crate::host::CallErrorKind::Plugin(crate::host::PluginFailure::Rejected(_)) => {
                        message
                    }
                    _ => format!("{message} (to fix: {what})"),
                };
                rec.stop(Status::DeadLetter, reason);
                Outcome::DeadLettered
            }
            _ if rec.failures >= self.policy.max_attempts => {
                rec.stop(
                    Status::DeadLetter,
                    format!("gave up after {} failures: {message}", rec.failures),
                );
                Outcome::DeadLettered
            }
            remedy => {
                let wait = match remedy {
                    Remedy::Defer(d) => d,
                    _ => crate::scheduler::backoff(rec.failures),
                };
                rec.next_attempt_at =
                    Some(Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default());
                rec.log(format!(
                    "failed ({} of {}), retrying in {}s: {message}",
                    rec.failures,
                    self.policy.max_attempts,
                    wait.as_secs()
                ));
                rec.reason = Some(message);
                Outcome::Retrying
            }
        };
        if outcome == Outcome::DeadLettered {
            tracing::error!(seller = %rec.seller, channel = %rec.channel, order = %rec.order_number,
                "shipment dead-lettered: {}", rec.reason.as_deref().unwrap_or(""));
        } else {
            tracing::warn!(seller = %rec.seller, channel = %rec.channel, order = %rec.order_number,
                "shipment step failed, will retry: {}", rec.reason.as_deref().unwrap_or(""));
        }
        store.put_shipment(&rec)?;
        Ok(outcome)
    }

    /// Ask the carrier for new scans of shipped parcels (not more often than
    /// every 15 minutes each, unless `force`); returns how many changed.
    pub async fn refresh_tracking(
        &self,
        store: &Store,
        egress: Arc<dyn Egress>,
        force: bool,
    ) -> Result<u32, WorkflowError> {
        let now = Utc::now();
        let mut changed = 0;
        for mut rec in store.shipments(Some(&self.seller))? {
            let (Some(label), Some(account)) = (rec.label.clone(), rec.carrier_account.clone())
            else {
                continue;
            };
            if rec.status != Status::Done {
                continue;
            }
            let finished = rec
                .tracking
                .as_ref()
                .and_then(|t| t.events.last())
                .is_some_and(|e| {
                    matches!(
                        e.status,
                        TrackingStatus::Delivered | TrackingStatus::Returned
                    )
                });
            let recent = rec
                .tracking
                .as_ref()
                .is_some_and(|t| now - t.checked_at < chrono::Duration::minutes(15));
            let too_old =
                (now - rec.created_at).to_std().unwrap_or_default() > self.policy.track_for;
            if finished || too_old || (recent && !force) {
                continue;
            }
            let Some(carrier) = self.carriers.get(&account) else {
                continue;
            };
            let Some(_flight) = self.try_flight(&rec.channel, &rec.order_id) else {
                continue;
            };
            match carrier
                .plugin
                .track(
                    carrier.services(&self.seller, egress.clone()),
                    carrier.limits,
                    &carrier.settings,
                    &label.carrier,
                    &label.tracking_number,
                )
                .await
            {
                Ok(events) => {
                    let before = rec.tracking.as_ref().map(|t| t.events.len());
                    let grew = before != Some(events.len());
                    rec.tracking = Some(TrackingState {
                        checked_at: now,
                        events,
                    });
                    if grew {
                        changed += 1;
                    }
                    store.put_shipment(&rec)?;
                }
                Err(e) => tracing::debug!(order = %rec.order_number, "tracking not refreshed: {e}"),
            }
        }
        Ok(changed)
    }
}

//! The shipping state machine of one order, one function per stage.
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
use super::record::{OpenPurchase, ShipmentRecord, Stage, Status};
use super::rules::{self, Facts};
use super::store::ShipmentStore;
use super::workflow::{Outcome, ShippingWorkflow, WorkflowError};
use crate::crash::{CrashPoint, maybe_crash};
use crate::host::{CallError, CallErrorKind, PluginFailure, Remedy};
use crate::model::{Fulfillment, Label, LabelDocuments};
use crate::store::{Store, StoredOrder};
use chrono::Utc;

/// What a stage did: the record moved on (go to its next stage), or the
/// order's pass ends here.
enum Step {
    Next,
    End(Outcome),
}

/// What one order's run carries from stage to stage.
struct Run<'a> {
    store: &'a Store,
    stored: &'a StoredOrder,
    /// The label document, when this run bought or adopted the label.
    document: Option<LabelDocuments>,
    /// A purchase may have happened, unless this run itself just chose the rate.
    resumed: bool,
}

impl ShippingWorkflow {
    /// Drive `rec` from wherever it stands, unless it waits for a person,
    /// a retry time, or is finished.
    pub(super) async fn resume(
        &self,
        store: &Store,
        stored: &StoredOrder,
        mut rec: ShipmentRecord,
    ) -> Result<Outcome, WorkflowError> {
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
            && let Some(why) = plan::not_shippable(&stored.order)
        {
            rec.stop(Status::Skipped, format!("not shipped: {why}"));
            store.put_shipment(&rec)?;
            return Ok(Outcome::Skipped);
        }
        let mut run = Run {
            store,
            stored,
            document: None,
            resumed: true,
        };
        loop {
            let step = match rec.stage {
                Stage::Intent => self.quote(&mut run, &mut rec).await?,
                Stage::Quoted => self.choose_rate(&mut run, &mut rec)?,
                Stage::RateChosen => self.buy_label(&mut run, &mut rec).await?,
                Stage::LabelBought => self.store_label(&mut run, &mut rec).await?,
                Stage::LabelStored => self.push_tracking(&mut run, &mut rec).await?,
                Stage::Pushed => Step::End(Outcome::Unchanged),
            };
            if let Step::End(outcome) = step {
                return Ok(outcome);
            }
        }
    }

    /// `intent → quoted`: plan the consignment, pick the rule, ask its carrier.
    async fn quote(
        &self,
        run: &mut Run<'_>,
        rec: &mut ShipmentRecord,
    ) -> Result<Step, WorkflowError> {
        let order = &run.stored.order;
        if let Some(why) = &order.shipping_hold {
            // The marketplace requires its own shipping for this order.
            return self.hold(run.store, rec, why.clone());
        }
        let consignment = match plan::consignment(&self.policy, order, &rec.idempotency_key) {
            Ok(c) => c,
            Err(why) => return self.hold(run.store, rec, why),
        };
        let Some(channel) = self.channels.get(&run.stored.channel) else {
            let why = format!("channel `{}` is not enabled", run.stored.channel);
            return self.hold(run.store, rec, why);
        };
        let facts = Facts {
            from: &self.policy.ship_from.country,
            to: &consignment.shipment.ship_to.country,
            weight_grams: consignment.weight_grams,
            value: order.totals.total,
            channel: &run.stored.channel,
            marketplace: channel.plugin_name(),
        };
        let selected = match rules::select(&self.policy.rules, &facts, &self.policy.fx) {
            Ok(selected) => selected,
            Err(why) => return self.hold(run.store, rec, why),
        };
        let Some(rule) = selected else {
            let why = format!(
                "no shipping rule matches: to {}, {} g, order value {}, channel `{}`; add a rule under [[sellers.shipping.rules]]",
                facts.to.as_str(),
                facts.weight_grams,
                facts.value,
                facts.channel
            );
            return self.hold(run.store, rec, why);
        };
        let carrier = &self.carriers[&rule.carrier];
        // Known before the quote, so a refusal names who refused.
        rec.rule = Some(rule.name.clone());
        rec.carrier_account = Some(carrier.id().to_string());
        let Consignment {
            mut shipment,
            notes,
            duty,
            ..
        } = consignment;
        rec.duty = duty;
        shipment.incoterm = rule.incoterm.unwrap_or(self.policy.incoterm);
        let quotes = match carrier.quote(&shipment).await {
            Ok(q) => q,
            Err(e) => return self.fail(run.store, rec, e),
        };
        rec.notes = notes;
        rec.shipment = Some(shipment);
        rec.quotes = quotes;
        let note = format!(
            "{} rate(s) quoted by `{}` (rule `{}`)",
            rec.quotes.len(),
            carrier.id(),
            rule.name
        );
        rec.advance(Stage::Quoted, note);
        run.store.put_shipment(rec)?;
        maybe_crash(self.crash_at, CrashPoint::AfterQuote);
        Ok(Step::Next)
    }

    /// `quoted → rate_chosen` (or `dry_run`): the rule picks a rate.
    fn choose_rate(
        &self,
        run: &mut Run<'_>,
        rec: &mut ShipmentRecord,
    ) -> Result<Step, WorkflowError> {
        let rules = &self.policy.rules;
        let Some(rule) = rules.iter().find(|r| Some(&r.name) == rec.rule.as_ref()) else {
            rec.advance(
                Stage::Intent,
                "the rule that quoted is gone from config; planning again",
            );
            return Ok(Step::Next);
        };
        let chosen = match rules::choose(rule, &rec.quotes, &self.policy.fx) {
            Ok(r) => r,
            Err(why) => {
                let number = &run.stored.order.number;
                let why =
                    format!("{why}; change the rule, then `tradelane shipments release {number}`");
                return self.hold(run.store, rec, why);
            }
        };
        if let Some(shipment) = &rec.shipment
            && let Some(why) = super::regimes::refuse_postal_dap(
                &shipment.ship_to.country,
                Utc::now().date_naive(),
                &chosen.carrier,
                shipment.incoterm,
            )
        {
            let number = &run.stored.order.number;
            let why = format!("{why}; then `tradelane shipments release {number}`");
            return self.hold(run.store, rec, why);
        }
        let what = format!("{} {} for {}", chosen.carrier, chosen.service, chosen.price);
        rec.chosen = Some(chosen);
        if self.policy.dry_run {
            rec.stop(
                Status::DryRun,
                format!("dry run: would buy {what}; nothing bought"),
            );
            run.store.put_shipment(rec)?;
            return Ok(Step::End(Outcome::DryRun));
        }
        rec.advance(Stage::RateChosen, format!("chose {what}"));
        run.store.put_shipment(rec)?;
        maybe_crash(self.crash_at, CrashPoint::AfterRate);
        run.resumed = false;
        Ok(Step::Next)
    }

    /// `rate_chosen → label_bought`: adopt a label an earlier try may have
    /// bought, else buy one.
    async fn buy_label(
        &self,
        run: &mut Run<'_>,
        rec: &mut ShipmentRecord,
    ) -> Result<Step, WorkflowError> {
        if run.resumed || !rec.open_references.is_empty() {
            match self.adopt(rec).await {
                Ok(Some((label, doc, reference))) => {
                    let note = format!(
                        "adopted label {} already bought under reference {reference}",
                        label.tracking_number
                    );
                    rec.label = Some(label);
                    rec.open_references.clear();
                    rec.advance(Stage::LabelBought, note);
                    run.store.put_shipment(rec)?;
                    run.document = Some(doc);
                    return Ok(Step::Next);
                }
                Ok(None) => {}
                Err(e) => return self.fail(run.store, rec, e),
            }
        }
        let Some(carrier) = rec
            .carrier_account
            .as_ref()
            .and_then(|c| self.carriers.get(c))
        else {
            let why = "the carrier account that quoted is gone from config".to_string();
            return self.hold(run.store, rec, why);
        };
        let (Some(shipment), Some(rate)) = (&rec.shipment, &rec.chosen) else {
            rec.advance(Stage::Intent, "record lacks its shipment; planning again");
            return Ok(Step::Next);
        };
        let (label, doc) = match carrier
            .buy_label(shipment, rate, &rec.idempotency_key)
            .await
        {
            Ok(b) => b,
            Err(e) => return self.fail(run.store, rec, e),
        };
        maybe_crash(self.crash_at, CrashPoint::AfterBuyCall);
        let note = format!(
            "bought {} {} label {} for {}",
            label.carrier, label.service, label.tracking_number, label.cost
        );
        rec.label = Some(label);
        rec.open_references.clear();
        rec.advance(Stage::LabelBought, note);
        run.store.put_shipment(rec)?;
        maybe_crash(self.crash_at, CrashPoint::AfterBought);
        run.document = Some(doc);
        Ok(Step::Next)
    }

    /// `label_bought → label_stored`: the document on disk (fetched again
    /// from the carrier when a crash lost it).
    async fn store_label(
        &self,
        run: &mut Run<'_>,
        rec: &mut ShipmentRecord,
    ) -> Result<Step, WorkflowError> {
        let Some(label) = rec.label.clone() else {
            rec.stage = Stage::RateChosen;
            return Ok(Step::Next);
        };
        let doc = match run.document.take() {
            Some(d) => d,
            None => match self.refetch(rec).await {
                Ok(d) => d,
                Err(e) => return self.fail(run.store, rec, e),
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
        let mut label = label;
        let written = labels::write(&path, &doc.label).and_then(|()| {
            for (i, form) in label.forms.iter_mut().enumerate() {
                let bytes = doc.forms.get(i).filter(|b| !b.is_empty());
                if let Some(bytes) = bytes {
                    let at = labels::form_path(&path, i, form.kind, form.format);
                    labels::write(&at, bytes)?;
                    form.path = Some(at);
                }
            }
            Ok(())
        });
        if let Err(error) = written {
            // This order's trouble (a full disk, a permission): retried,
            // then dead-lettered, while the seller's other orders ship.
            let site = self.carrier_site(rec);
            let why = format!("cannot store the label at {}: {error}", path.display());
            let failure = CallError {
                site,
                kind: CallErrorKind::Host(why),
            };
            return self.fail(run.store, rec, failure);
        }
        rec.label_path = Some(path.clone());
        let forms = label.forms.iter().filter(|f| f.path.is_some()).count();
        rec.label = Some(label);
        rec.advance(
            Stage::LabelStored,
            match forms {
                0 => format!("label stored at {}", path.display()),
                n => format!("label and {n} customs form(s) stored at {}", path.display()),
            },
        );
        run.store.put_shipment(rec)?;
        maybe_crash(self.crash_at, CrashPoint::AfterStored);
        Ok(Step::Next)
    }

    /// `label_stored → pushed`: the tracking number on the order's channel.
    async fn push_tracking(
        &self,
        run: &mut Run<'_>,
        rec: &mut ShipmentRecord,
    ) -> Result<Step, WorkflowError> {
        let Some(label) = rec.label.clone() else {
            rec.stage = Stage::RateChosen;
            return Ok(Step::Next);
        };
        let Some(channel) = self.channels.get(&rec.channel) else {
            let why = format!(
                "label {} is bought but channel `{}` is not enabled to receive the tracking",
                label.tracking_number, rec.channel
            );
            return self.hold(run.store, rec, why);
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
        let id = match channel.push_fulfillment(&fulfillment).await {
            Ok(id) => id,
            Err(e) => return self.fail(run.store, rec, e),
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
        run.store.put_shipment(rec)?;
        tracing::info!(seller = %rec.seller, channel = %rec.channel, order = %rec.order_number,
            tracking = %label.tracking_number, carrier = %label.carrier, "order shipped");
        Ok(Step::End(Outcome::Shipped))
    }

    /// A label bought earlier under this attempt's reference or an open one.
    async fn adopt(
        &self,
        rec: &ShipmentRecord,
    ) -> Result<Option<(Label, LabelDocuments, String)>, CallError> {
        let mut candidates = rec.open_references.clone();
        if let Some(account) = &rec.carrier_account {
            candidates.push(OpenPurchase {
                carrier_account: account.clone(),
                reference: rec.idempotency_key.clone(),
            });
        }
        for open in candidates {
            let Some(carrier) = self.carriers.get(&open.carrier_account) else {
                continue;
            };
            if let Some((label, doc)) = carrier.find_label(&open.reference).await? {
                return Ok(Some((label, doc, open.reference)));
            }
        }
        Ok(None)
    }

    /// The document of a label recorded before a crash.
    async fn refetch(&self, rec: &ShipmentRecord) -> Result<LabelDocuments, CallError> {
        if let Some((_, doc, _)) = self.adopt(rec).await? {
            return Ok(doc);
        }
        let site = self.carrier_site(rec);
        let tracking = rec
            .label
            .as_ref()
            .map_or("?", |l| l.tracking_number.as_str());
        Err(CallError {
            site,
            kind: CallErrorKind::Plugin(PluginFailure::Transient(format!(
                "label {tracking} is recorded but the carrier does not return its document yet"
            ))),
        })
    }

    /// Who an error about the record's label names: its carrier account.
    fn carrier_site(&self, rec: &ShipmentRecord) -> crate::host::CallSite {
        let account = rec.carrier_account.clone().unwrap_or_default();
        match self.carriers.get(&account) {
            Some(carrier) => carrier.site().clone(),
            None => crate::host::CallSite {
                seller: rec.seller.clone(),
                channel: format!("carrier:{account}"),
                plugin: "-".into(),
            },
        }
    }

    /// Hold the order for a person, with the reason.
    fn hold(
        &self,
        store: &Store,
        rec: &mut ShipmentRecord,
        why: String,
    ) -> Result<Step, WorkflowError> {
        if rec.status == Status::Held && rec.reason.as_deref() == Some(why.as_str()) {
            return Ok(Step::End(Outcome::Unchanged));
        }
        tracing::warn!(seller = %rec.seller, channel = %rec.channel, order = %rec.order_number, "shipment held: {why}");
        crate::notify::tell(
            crate::notify::EventKind::OrderHeld,
            &rec.seller,
            &rec.channel,
            format!("order {} held: {why}", rec.order_number),
        );
        rec.held_by_user = false;
        rec.stop(Status::Held, why);
        store.put_shipment(rec)?;
        Ok(Step::End(Outcome::Held))
    }

    /// Record a failed call: retry later, or dead-letter it when retrying
    /// cannot help or attempts ran out.
    fn fail(
        &self,
        store: &Store,
        rec: &mut ShipmentRecord,
        error: CallError,
    ) -> Result<Step, WorkflowError> {
        rec.failures += 1;
        let message = error.to_string();
        let outcome = match error.remedy() {
            Remedy::Fix(what) => {
                let reason = match &error.kind {
                    CallErrorKind::Plugin(PluginFailure::Rejected(_)) => message,
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
                    _ => crate::backoff::backoff(rec.failures),
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
            crate::notify::tell(
                crate::notify::EventKind::OrderDeadLettered,
                &rec.seller,
                &rec.channel,
                format!(
                    "order {} dead-lettered: {} (retry with `tradelane shipments retry {}` once fixed)",
                    rec.order_number,
                    rec.reason.as_deref().unwrap_or(""),
                    rec.order_number
                ),
            );
        } else {
            tracing::warn!(seller = %rec.seller, channel = %rec.channel, order = %rec.order_number,
                "shipment step failed, will retry: {}", rec.reason.as_deref().unwrap_or(""));
        }
        store.put_shipment(rec)?;
        Ok(Step::End(outcome))
    }
}

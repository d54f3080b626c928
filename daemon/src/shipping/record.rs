//! The persisted state of one order's shipment: how far it got (`stage`),
//! whether it is being worked (`status`), and everything needed to resume
//! after a crash without buying a second label.

use crate::model::{Label, Rate, Shipment};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// How far a shipment got. Each stage is written (and flushed) before the
/// external call that leads out of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Recorded that this order is to ship, with its idempotency key.
    Intent,
    /// The carrier quoted rates.
    Quoted,
    /// A rate was chosen by the rule; a purchase may be in flight.
    RateChosen,
    /// The carrier sold the label (tracking number known).
    LabelBought,
    /// The label document is in `data_dir/labels/`.
    LabelStored,
    /// The tracking number is on the order's channel.
    Pushed,
}

impl Stage {
    /// Every stage, in order.
    pub const ALL: [Stage; 6] = [
        Stage::Intent,
        Stage::Quoted,
        Stage::RateChosen,
        Stage::LabelBought,
        Stage::LabelStored,
        Stage::Pushed,
    ];

    /// The name used in the CLI.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Intent => "intent",
            Stage::Quoted => "quoted",
            Stage::RateChosen => "rate_chosen",
            Stage::LabelBought => "label_bought",
            Stage::LabelStored => "label_stored",
            Stage::Pushed => "pushed",
        }
    }
}

/// Whether the workflow works on a shipment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Being worked (possibly waiting for a retry).
    Active,
    /// Waiting for a person: missing customs data, no rule, or held by hand.
    Held,
    /// Failed for good; `tradelane shipments retry` starts it again.
    DeadLetter,
    /// Will not be shipped by tradelane.
    Skipped,
    /// `dry_run`: quoted and chosen, never bought.
    DryRun,
    /// Label bought and tracking on the channel.
    Done,
}

impl Status {
    /// Every status.
    pub const ALL: [Status; 6] = [
        Status::Active,
        Status::Held,
        Status::DeadLetter,
        Status::Skipped,
        Status::DryRun,
        Status::Done,
    ];

    /// The name used in the CLI.
    pub fn name(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Held => "held",
            Status::DeadLetter => "dead_letter",
            Status::Skipped => "skipped",
            Status::DryRun => "dry_run",
            Status::Done => "done",
        }
    }
}

/// One step in a shipment's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    pub at: DateTime<Utc>,
    pub stage: Stage,
    pub status: Status,
    pub note: String,
}

/// The latest known tracking state of a bought label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackingState {
    pub checked_at: DateTime<Utc>,
    pub events: Vec<crate::model::TrackingEvent>,
}

/// Everything tradelane knows about shipping one order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipmentRecord {
    pub seller: String,
    pub channel: String,
    pub order_id: String,
    pub order_number: String,
    pub stage: Stage,
    pub status: Status,
    /// 1 for the first attempt; `retry` after a dead letter starts another.
    pub attempt: u32,
    /// Consecutive failures in this attempt.
    pub failures: u32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Why it is held or dead, or the last error while active.
    pub reason: Option<String>,
    /// Held by a person (`hold`), not by a missing fact.
    pub held_by_user: bool,
    /// `label:{seller}:{channel}:{order}:{attempt}`: sent as the carrier
    /// shipment's reference, so a purchase can be found again.
    pub idempotency_key: String,
    /// Earlier attempts that reached `rate_chosen` without a recorded
    /// label: a purchase may exist under any of them.
    pub open_references: Vec<OpenPurchase>,
    pub rule: Option<String>,
    pub carrier_account: Option<String>,
    pub shipment: Option<Shipment>,
    pub quotes: Vec<Rate>,
    pub chosen: Option<Rate>,
    pub label: Option<Label>,
    pub label_path: Option<PathBuf>,
    pub fulfillment_id: Option<String>,
    pub tracking: Option<TrackingState>,
    /// Facts worth showing (IOSS applied, incoterm…).
    pub notes: Vec<String>,
    /// The import duty the destination levies on the parcel whatever the
    /// incoterm (the EU's flat duty), and who owes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duty: Option<super::plan::DutyEstimate>,
    pub history: Vec<Transition>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A purchase that may have happened: where, and under which reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenPurchase {
    pub carrier_account: String,
    pub reference: String,
}

/// The idempotency key of an attempt.
pub fn idempotency_key(seller: &str, channel: &str, order: &str, attempt: u32) -> String {
    format!("label:{seller}:{channel}:{order}:{attempt}")
}

impl ShipmentRecord {
    /// A fresh intent for an order.
    pub fn new(seller: &str, channel: &str, order_id: &str, order_number: &str) -> Self {
        let now = Utc::now();
        let mut r = ShipmentRecord {
            seller: seller.into(),
            channel: channel.into(),
            order_id: order_id.into(),
            order_number: order_number.into(),
            stage: Stage::Intent,
            status: Status::Active,
            attempt: 1,
            failures: 0,
            next_attempt_at: None,
            reason: None,
            held_by_user: false,
            idempotency_key: idempotency_key(seller, channel, order_id, 1),
            open_references: Vec::new(),
            rule: None,
            carrier_account: None,
            shipment: None,
            quotes: Vec::new(),
            chosen: None,
            label: None,
            label_path: None,
            fulfillment_id: None,
            tracking: None,
            notes: Vec::new(),
            duty: None,
            history: Vec::new(),
            created_at: now,
            updated_at: now,
        };
        r.log("intent recorded");
        r
    }

    /// Append a history line for the current stage and status.
    pub fn log(&mut self, note: impl Into<String>) {
        let now = Utc::now();
        self.updated_at = now;
        self.history.push(Transition {
            at: now,
            stage: self.stage,
            status: self.status,
            note: note.into(),
        });
    }

    /// Move to `stage` (active, failures cleared).
    pub fn advance(&mut self, stage: Stage, note: impl Into<String>) {
        self.stage = stage;
        self.status = Status::Active;
        self.failures = 0;
        self.next_attempt_at = None;
        self.reason = None;
        self.log(note);
    }

    /// Stop at the current stage with `status` and a reason.
    pub fn stop(&mut self, status: Status, reason: impl Into<String>) {
        let reason = reason.into();
        self.status = status;
        self.next_attempt_at = None;
        self.log(reason.clone());
        self.reason = Some(reason);
    }

    /// Start a new attempt from the intent (after a dead letter or a
    /// release). A purchase the previous attempt may have made stays
    /// findable through `open_references`.
    pub fn new_attempt(&mut self, note: &str) {
        if self.label.is_some() {
            // The label exists: resume where it stopped, never buy again.
            self.status = Status::Active;
            self.failures = 0;
            self.next_attempt_at = None;
            self.reason = None;
            self.held_by_user = false;
            self.log(note.to_string());
            return;
        }
        if self.stage >= Stage::RateChosen {
            let open = OpenPurchase {
                carrier_account: self.carrier_account.clone().unwrap_or_default(),
                reference: self.idempotency_key.clone(),
            };
            if !self.open_references.contains(&open) {
                self.open_references.push(open);
            }
        }
        self.attempt += 1;
        self.idempotency_key =
            idempotency_key(&self.seller, &self.channel, &self.order_id, self.attempt);
        self.held_by_user = false;
        self.shipment = None;
        self.quotes.clear();
        self.chosen = None;
        self.rule = None;
        self.carrier_account = None;
        self.notes.clear();
        self.advance(Stage::Intent, format!("{note} (attempt {})", self.attempt));
    }
}

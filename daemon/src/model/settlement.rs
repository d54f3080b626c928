//! Settlement types: payouts from a payment provider and the lines of
//! money inside them (the WIT `payout`, `payout-line`).

use super::{Currency, Money};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a payout is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayoutStatus {
    Pending,
    InTransit,
    Paid,
    Failed,
    Cancelled,
}

impl PayoutStatus {
    /// The name used in the CLI.
    pub fn name(self) -> &'static str {
        match self {
            PayoutStatus::Pending => "pending",
            PayoutStatus::InTransit => "in_transit",
            PayoutStatus::Paid => "paid",
            PayoutStatus::Failed => "failed",
            PayoutStatus::Cancelled => "cancelled",
        }
    }
}

/// Money sent from a provider to the seller's bank.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payout {
    pub external_id: String,
    pub amount: Money,
    pub status: PayoutStatus,
    pub created_at: DateTime<Utc>,
    pub arrival_date: Option<DateTime<Utc>>,
}

/// What a payout line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayoutLineKind {
    Charge,
    Refund,
    Dispute,
    Fee,
    Adjustment,
    Other,
}

/// A conversion exactly as the provider applied it: the rate is the
/// provider's decimal text, never parsed into a float.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangeRate {
    pub source: Currency,
    pub target: Currency,
    pub rate: String,
}

/// One movement of money inside a payout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutLine {
    pub external_id: String,
    pub kind: PayoutLineKind,
    /// In the payout's (settlement) currency.
    pub gross: Money,
    pub fee: Money,
    pub net: Money,
    /// In the buyer's currency, when it differed.
    pub original: Option<Money>,
    pub exchange_rate: Option<ExchangeRate>,
    pub order_reference: Option<String>,
    pub created_at: DateTime<Utc>,
    pub description: Option<String>,
}

/// What the host asks a payment plugin for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    pub created_after: Option<DateTime<Utc>>,
    #[serde(default)]
    pub page_token: Option<String>,
    #[serde(default = "super::default_page_size")]
    pub page_size: u32,
}

/// A page of payouts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutPage {
    pub payouts: Vec<Payout>,
    pub next_page: Option<String>,
}

/// A page of payout lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutLinePage {
    pub lines: Vec<PayoutLine>,
    pub next_page: Option<String>,
}

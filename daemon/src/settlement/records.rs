//! What settlement stores: payouts with their lines as the provider
//! reported them, what each order was paid, and discrepancies.

use crate::model::{Money, Payout, PayoutLine, PayoutLineKind};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A payout and its lines, as read from one payment account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutRecord {
    pub seller: String,
    pub account: String,
    pub payout: Payout,
    pub lines: Vec<PayoutLine>,
}

impl PayoutRecord {
    /// Σ net of the lines in the payout's currency: minor units of two
    /// currencies are never added. Amounts are bounded at the host (10^15
    /// minor units), so no real payout comes near the ends of i64; the
    /// sum saturates rather than wraps if one ever did.
    pub fn lines_net(&self) -> i64 {
        let currency = self.payout.amount.currency;
        self.lines
            .iter()
            .filter(|l| l.net.currency == currency)
            .fold(0i64, |sum, l| sum.saturating_add(l.net.amount_minor))
    }

    /// Lines whose money is in another currency than the payout's (a
    /// provider that mixed balances): they cannot explain its amount.
    pub fn foreign_lines(&self) -> usize {
        let currency = self.payout.amount.currency;
        self.lines
            .iter()
            .filter(|l| l.net.currency != currency)
            .count()
    }

    /// The date the money counts from: arrival, else creation.
    pub fn date(&self) -> DateTime<Utc> {
        self.payout.arrival_date.unwrap_or(self.payout.created_at)
    }
}

/// Where a payout account's reading stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutCursor {
    /// Newest payout creation time stored, as of the last completed pass.
    pub watermark: Option<DateTime<Utc>>,
    /// A pass in progress reads payouts created since this (survives a
    /// crash: the next run starts the pass over from the same point).
    pub pass_since: Option<DateTime<Utc>>,
}

/// One line of money that belongs to an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettledLine {
    pub account: String,
    pub payout_id: String,
    pub line_id: String,
    pub kind: PayoutLineKind,
    /// In the order's currency (the provider's `original`, or the gross
    /// when no conversion happened).
    pub amount: Money,
    /// In the settlement currency.
    pub gross: Money,
    pub fee: Money,
    pub net: Money,
    /// The rate as the provider applied it (its decimal text).
    pub exchange_rate: Option<String>,
    pub settled_at: DateTime<Utc>,
}

/// What one order was paid, net of fees, in the settlement currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderSettlement {
    pub seller: String,
    pub channel: String,
    pub order_id: String,
    pub order_number: String,
    /// The order's total, in its currency.
    pub order_total: Money,
    pub lines: Vec<SettledLine>,
}

/// Kinds of discrepancy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscrepancyKind {
    /// The lines of a payout do not sum to its amount.
    PayoutMismatch,
    /// A line whose reference matches no order.
    LineWithoutOrder,
    /// A charge differs from its order's total beyond the tolerance.
    AmountMismatch,
    /// A charge in another currency than its order.
    CurrencyMismatch,
    /// Money given back to a buyer.
    Refund,
    /// A buyer disputed a charge.
    Dispute,
    /// A paid order with no charge in any payout after the allowed days.
    Unsettled,
}

impl DiscrepancyKind {
    /// The name used in ids and the CLI.
    pub fn name(self) -> &'static str {
        match self {
            DiscrepancyKind::PayoutMismatch => "payout_mismatch",
            DiscrepancyKind::LineWithoutOrder => "line_without_order",
            DiscrepancyKind::AmountMismatch => "amount_mismatch",
            DiscrepancyKind::CurrencyMismatch => "currency_mismatch",
            DiscrepancyKind::Refund => "refund",
            DiscrepancyKind::Dispute => "dispute",
            DiscrepancyKind::Unsettled => "unsettled",
        }
    }
}

/// Who closed a discrepancy, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolution {
    pub at: DateTime<Utc>,
    pub note: String,
    /// Closed by tradelane because it no longer holds (e.g. the order settled).
    pub automatic: bool,
}

/// Something about the money that needs a look.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discrepancy {
    /// Stable: `kind:scope:subject`, so a rerun finds the same one.
    pub id: String,
    pub seller: String,
    pub kind: DiscrepancyKind,
    pub account: Option<String>,
    pub payout_id: Option<String>,
    pub line_id: Option<String>,
    pub channel: Option<String>,
    pub order_id: Option<String>,
    pub order_number: Option<String>,
    /// The amount in question (the line's, the difference…).
    pub amount: Option<Money>,
    /// What was expected instead, where that is known.
    pub expected: Option<Money>,
    pub detail: String,
    pub detected_at: DateTime<Utc>,
    pub resolved: Option<Resolution>,
}

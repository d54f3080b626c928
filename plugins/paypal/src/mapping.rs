//! PayPal transactions → tradelane payouts (withdrawals to the bank) and
//! payout lines (what the balance received and paid in between). Pure
//! functions, run natively by the fixture tests.

use crate::wire;
use tradelane_plugin_sdk::{
    self as sdk, Money, Payout, PayoutLine, PayoutLineKind, PayoutStatus, PluginError, money,
};

/// The event code of a withdrawal to the seller's bank.
pub const WITHDRAWAL: &str = "T0400";

/// PayPal writes `2024-02-10T00:01:56+0000`; RFC 3339 wants `+00:00`.
pub fn time(text: &str) -> Result<String, PluginError> {
    let fixed = match text.len().checked_sub(5).map(|i| text.split_at(i)) {
        Some((head, tail))
            if (tail.starts_with('+') || tail.starts_with('-'))
                && tail[1..].bytes().all(|b| b.is_ascii_digit()) =>
        {
            format!("{head}{}:{}", &tail[..3], &tail[3..])
        }
        _ => text.to_string(),
    };
    sdk::time::utc(&fixed)
}

fn amount(a: &wire::Amount, what: &str) -> Result<Money, PluginError> {
    money::money(&a.value, &a.currency_code)
        .map_err(|e| sdk::invalid_response(format!("{what}: {e}")))
}

/// What a transaction event code means for settlement.
pub fn kind(code: &str, gross: i64) -> PayoutLineKind {
    match code {
        // T11xx reversals: T1107 payment refund, T1106 payment reversal (a
        // chargeback taken back), T1201/T12xx chargebacks and adjustments.
        "T1107" | "T1108" => PayoutLineKind::Refund,
        "T1106" | "T1201" | "T1202" | "T1111" => PayoutLineKind::Dispute,
        c if c.starts_with("T00") && gross > 0 => PayoutLineKind::Charge,
        c if c.starts_with("T01") => PayoutLineKind::Fee,
        c if c.starts_with("T12") => PayoutLineKind::Adjustment,
        _ => PayoutLineKind::Other,
    }
}

/// A withdrawal as a payout (PayPal records it as a negative amount).
pub fn payout(info: &wire::Info) -> Result<Payout, PluginError> {
    let a = amount(&info.transaction_amount, &info.transaction_id)?;
    Ok(Payout {
        external_id: info.transaction_id.clone(),
        amount: Money {
            amount_minor: -a.amount_minor,
            currency: a.currency,
        },
        status: match info.transaction_status.as_deref() {
            Some("S") => PayoutStatus::Paid,
            Some("D") => PayoutStatus::Failed,
            Some("V") => PayoutStatus::Cancelled,
            _ => PayoutStatus::Pending,
        },
        created_at: time(&info.transaction_initiation_date)?,
        arrival_date: None,
    })
}

/// Which field carries the order reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferenceField {
    InvoiceId,
    CustomField,
}

impl ReferenceField {
    /// `invoice_id` or `custom_field`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "invoice_id" => Some(ReferenceField::InvoiceId),
            "custom_field" => Some(ReferenceField::CustomField),
            _ => None,
        }
    }
}

/// A transaction as a payout line. PayPal reports fees as negative
/// amounts; tradelane's `fee` is the positive cost, `net = gross - fee`.
pub fn line(info: &wire::Info, field: ReferenceField) -> Result<PayoutLine, PluginError> {
    let gross = amount(&info.transaction_amount, &info.transaction_id)?;
    let fee = match &info.fee_amount {
        Some(f) => {
            let f = amount(f, &info.transaction_id)?;
            if f.currency != gross.currency {
                return Err(sdk::invalid_response(format!(
                    "transaction {}: fee in {} but amount in {}",
                    info.transaction_id, f.currency, gross.currency
                )));
            }
            -f.amount_minor
        }
        None => 0,
    };
    let reference = match field {
        ReferenceField::InvoiceId => info.invoice_id.clone(),
        ReferenceField::CustomField => info.custom_field.clone(),
    };
    Ok(PayoutLine {
        external_id: info.transaction_id.clone(),
        kind: kind(&info.transaction_event_code, gross.amount_minor),
        net: Money {
            amount_minor: gross.amount_minor - fee,
            currency: gross.currency.clone(),
        },
        fee: Money {
            amount_minor: fee,
            currency: gross.currency.clone(),
        },
        gross,
        original: None,
        exchange_rate: None,
        order_reference: reference.filter(|r| !r.is_empty()),
        created_at: time(&info.transaction_initiation_date)?,
        description: info.transaction_subject.clone(),
    })
}

/// A PayPal error body as one line, PayPal's words kept.
pub fn error_message(status: u16, body: &[u8]) -> String {
    let Ok(e) = sdk::serde_json::from_slice::<wire::ErrorBody>(body) else {
        return format!("HTTP {status}: {}", String::from_utf8_lossy(body));
    };
    let mut parts = Vec::new();
    for p in [&e.name, &e.message, &e.error, &e.error_description]
        .into_iter()
        .flatten()
    {
        parts.push(p.clone());
    }
    for d in &e.details {
        parts.push(format!(
            "{}: {}",
            d.issue.as_deref().unwrap_or(""),
            d.description.as_deref().unwrap_or("")
        ));
    }
    format!("HTTP {status}: {}", parts.join("; "))
}

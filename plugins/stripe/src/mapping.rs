//! Stripe payouts and balance transactions → tradelane payouts and lines.
//! Pure functions, run natively by the fixture tests.

use crate::wire;
use tradelane_plugin_sdk::{
    self as sdk, ExchangeRate, Money, Payout, PayoutLine, PayoutLineKind, PayoutStatus, PluginError,
};

/// Currencies Stripe writes with two decimals for backward compatibility
/// although they have none (ISO 4217 exponent 0): an `amount` of `500` is
/// 5 ISK. Stripe's "Special cases" (docs.stripe.com/currencies): "ISK
/// transitioned to a zero-decimal currency, but backward compatibility
/// requires you to represent it as a two-decimal value, where the decimal
/// amount is always `00`", and the same for UGX. HUF and TWD are two-decimal
/// both in ISO 4217 and in the API (only their payouts are whole units), so
/// their amounts need nothing.
pub const TWO_DECIMAL_IN_STRIPE_ONLY: [&str; 2] = ["ISK", "UGX"];

/// A Stripe `amount` in `currency` as ISO 4217 minor units, exactly.
pub fn money(amount: i64, currency: &str) -> Result<Money, PluginError> {
    let currency = currency.to_ascii_uppercase();
    let amount_minor = if TWO_DECIMAL_IN_STRIPE_ONLY.contains(&currency.as_str()) {
        if amount % 100 != 0 {
            return Err(sdk::invalid_response(format!(
                "{currency} amount {amount} has a fraction of a unit: Stripe writes {currency} with two decimals that must be 00"
            )));
        }
        amount / 100
    } else {
        amount
    };
    Ok(Money {
        amount_minor,
        currency,
    })
}

/// A payout.
pub fn payout(p: &wire::Payout) -> Result<Payout, PluginError> {
    Ok(Payout {
        external_id: p.id.clone(),
        amount: money(p.amount, &p.currency)?,
        status: match p.status.as_str() {
            "paid" => PayoutStatus::Paid,
            "in_transit" => PayoutStatus::InTransit,
            "failed" => PayoutStatus::Failed,
            "canceled" => PayoutStatus::Cancelled,
            _ => PayoutStatus::Pending,
        },
        created_at: sdk::time::from_unix(p.created)?,
        arrival_date: p.arrival_date.map(sdk::time::from_unix).transpose()?,
    })
}

/// Where a line's order reference is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReferenceField {
    /// `metadata.<key>` of the charge.
    Metadata(String),
    /// The charge's description.
    Description,
}

impl ReferenceField {
    /// Parse the `order_reference` setting: `metadata.<key>` or `description`.
    pub fn parse(text: &str) -> Option<Self> {
        match text.split_once('.') {
            Some(("metadata", key)) if !key.is_empty() => {
                Some(ReferenceField::Metadata(key.into()))
            }
            None if text == "description" => Some(ReferenceField::Description),
            _ => None,
        }
    }
}

/// The charge behind a source: itself, or the charge a refund or dispute points at.
fn charge(source: &wire::Source) -> Option<&wire::SourceObject> {
    match source {
        wire::Source::Id(_) => None,
        wire::Source::Object(o) => match (o.object.as_deref(), &o.charge) {
            (Some("refund") | Some("dispute"), Some(wire::Source::Object(c))) => Some(c),
            _ => Some(o),
        },
    }
}

fn kind(bt: &wire::BalanceTransaction) -> PayoutLineKind {
    match (bt.kind.as_str(), bt.reporting_category.as_deref()) {
        (_, Some("dispute") | Some("dispute_reversal")) => PayoutLineKind::Dispute,
        ("charge" | "payment", _) => PayoutLineKind::Charge,
        ("refund" | "payment_refund", _) => PayoutLineKind::Refund,
        (k, _) if k.ends_with("_fee") || k == "stripe_fee" => PayoutLineKind::Fee,
        ("adjustment", _) => PayoutLineKind::Adjustment,
        _ => PayoutLineKind::Other,
    }
}

/// Whether a balance transaction is the payout itself (not a line of it).
pub fn is_payout_itself(bt: &wire::BalanceTransaction) -> bool {
    matches!(
        bt.kind.as_str(),
        "payout" | "payout_cancel" | "payout_failure"
    )
}

/// A balance transaction as a payout line. `exchange_rate` is kept as the
/// exact text Stripe sent; the original amount comes from the charge.
pub fn line(
    bt: &wire::BalanceTransaction,
    field: &ReferenceField,
) -> Result<PayoutLine, PluginError> {
    let settlement = bt.currency.to_ascii_uppercase();
    let source = bt.source.as_ref().and_then(charge);
    let original = source.and_then(|c| match (c.amount, c.currency.as_deref()) {
        (Some(amount), Some(cur)) if !cur.eq_ignore_ascii_case(&settlement) => {
            // A refund or dispute moves the charge's money the other way.
            let sign = if bt.amount < 0 { -1 } else { 1 };
            let own = match &bt.source {
                Some(wire::Source::Object(o)) if o.object.as_deref() != Some("charge") => {
                    o.amount.unwrap_or(amount)
                }
                _ => amount,
            };
            Some(money(sign * own.abs(), cur))
        }
        _ => None,
    });
    let original = original.transpose()?;
    let exchange_rate = match &bt.exchange_rate {
        Some(raw) if raw.get() != "null" => {
            // A JSON number, possibly in exponent form (`1.2e-5`): kept
            // exactly, as plain decimal text.
            let rate = sdk::money::plain_decimal(raw.get()).ok_or_else(|| {
                sdk::invalid_response(format!(
                    "balance transaction {}: exchange_rate `{}` is not a non-negative decimal number",
                    bt.id,
                    raw.get().chars().take(40).collect::<String>()
                ))
            })?;
            let from = source
                .and_then(|c| c.currency.clone())
                .map(|c| c.to_ascii_uppercase())
                .ok_or_else(|| {
                    sdk::invalid_response(format!(
                        "balance transaction {} has an exchange rate but no expanded source to say from which currency",
                        bt.id
                    ))
                })?;
            Some(ExchangeRate {
                source: from,
                target: settlement.clone(),
                rate,
            })
        }
        _ => None,
    };
    let order_reference = source.and_then(|c| match field {
        ReferenceField::Metadata(key) => c.metadata.get(key).cloned(),
        ReferenceField::Description => c.description.clone(),
    });
    Ok(PayoutLine {
        external_id: bt.id.clone(),
        kind: kind(bt),
        gross: money(bt.amount, &settlement)?,
        fee: money(bt.fee, &settlement)?,
        net: money(bt.net, &settlement)?,
        original,
        exchange_rate,
        order_reference: order_reference.filter(|r| !r.is_empty()),
        created_at: sdk::time::from_unix(bt.created)?,
        description: bt.description.clone(),
    })
}

/// A Stripe error body as one line, Stripe's words kept.
pub fn error_message(status: u16, body: &[u8]) -> String {
    match sdk::serde_json::from_slice::<wire::ErrorBody>(body) {
        Ok(b) => format!(
            "HTTP {status}: {}{}",
            b.error.code.map(|c| format!("{c}: ")).unwrap_or_default(),
            b.error.message.unwrap_or_default()
        ),
        Err(_) => format!("HTTP {status}: {}", String::from_utf8_lossy(body)),
    }
}

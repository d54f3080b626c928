//! What the simulated payment providers paid out, computed from the
//! sandbox's orders: a charge per paid order in its own currency,
//! converted into the settlement currency at a recorded rate, minus fees;
//! refunds for cancelled orders; one payout per provider and UTC day.
//! All integer arithmetic; the rate is decimal text with 6 places.
//!
//! With `inject_discrepancies` on, five deliberate ones are added and
//! listed in [`Injected`]: a partial refund, a dispute, a paid order that
//! never settles, a charge whose amount differs from its order, and a
//! charge that belongs to no order.

use crate::money::format_minor;
use crate::world::{CURRENCIES, SimOrder, World};
use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::Serialize;

/// Which provider took a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Stripe,
    Paypal,
}

/// What a ledger line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    Charge,
    Refund,
    Dispute,
}

/// A movement of money, in the settlement currency (and the order's).
#[derive(Debug, Clone, Serialize)]
pub struct LedgerLine {
    pub id: String,
    pub kind: LineKind,
    pub provider: Provider,
    /// `#1001`, or a reference that matches no order.
    pub reference: String,
    pub order_id: Option<u64>,
    /// Signed, in the order's currency.
    pub original_minor: i64,
    /// The currency the provider settled it in.
    pub currency: String,
    /// The charge this line belongs to, in the order's currency.
    pub charge_minor: i64,
    pub original_currency: String,
    /// `None` when the order's currency is the settlement currency.
    pub rate: Option<String>,
    pub gross_minor: i64,
    pub fee_minor: i64,
    pub net_minor: i64,
    pub at: DateTime<Utc>,
}

/// Money sent to the seller's bank.
#[derive(Debug, Clone, Serialize)]
pub struct LedgerPayout {
    pub id: String,
    pub provider: Provider,
    pub amount_minor: i64,
    pub currency: String,
    pub created: DateTime<Utc>,
    pub arrival: DateTime<Utc>,
    pub lines: Vec<LedgerLine>,
}

/// The deliberate discrepancies, for tests and the demo.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Injected {
    pub partial_refund_order: Option<u64>,
    pub dispute_order: Option<u64>,
    pub unsettled_order: Option<u64>,
    pub amount_mismatch_order: Option<u64>,
    /// The reference of the charge with no order.
    pub orphan_reference: Option<String>,
}

/// How much of the settlement currency one unit of each currency buys, as
/// `(numerator, denominator)` of the sandbox's "units per USD" table.
fn per_usd(code: &str) -> (i128, i128) {
    match code {
        "USD" => (100, 100),
        "EUR" => (92, 100),
        "GBP" => (79, 100),
        "JPY" => (150, 1),
        "KWD" => (307, 1000),
        "CAD" => (137, 100),
        "AUD" => (152, 100),
        "CHF" => (88, 100),
        _ => (100, 100),
    }
}

fn decimals(code: &str) -> u32 {
    CURRENCIES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, d)| *d)
        .unwrap_or(2)
}

/// The rate from `from` into `to`, in millionths, rounded half up.
pub fn rate_e6(from: &str, to: &str) -> i128 {
    let (nf, df) = per_usd(from);
    let (nt, dt) = per_usd(to);
    let (num, den) = (nt * df * 1_000_000, dt * nf);
    (2 * num + den) / (2 * den)
}

/// `minor` of `from` in minor units of `to` at the rate, half up.
pub fn convert(minor: i64, from: &str, to: &str) -> i64 {
    if from == to {
        return minor;
    }
    let num = i128::from(minor) * rate_e6(from, to) * 10i128.pow(decimals(to));
    let den = 1_000_000 * 10i128.pow(decimals(from));
    let q = (2 * num.abs() + den) / (2 * den);
    (q as i64) * if minor < 0 { -1 } else { 1 }
}

fn fee(provider: Provider, gross: i64) -> i64 {
    match provider {
        // 2.9 % + 0.25 and 3.49 % + 0.39 of the settlement currency.
        Provider::Stripe => (gross * 29 + 500) / 1000 + 25,
        Provider::Paypal => (gross * 349 + 5000) / 10_000 + 39,
    }
}

/// Which provider an order paid through: some EUR and USD orders through
/// PayPal (which keeps a balance per currency and pays each out as it
/// is), everything else through Stripe (which converts into the
/// settlement currency).
pub fn provider(o: &SimOrder, _settlement: &str) -> Provider {
    match o.currency.as_str() {
        "EUR" if o.number.is_multiple_of(2) => Provider::Paypal,
        "USD" if o.number.is_multiple_of(3) => Provider::Paypal,
        _ => Provider::Stripe,
    }
}

fn line(
    o: &SimOrder,
    kind: LineKind,
    provider: Provider,
    original: i64,
    settlement: &str,
    at: DateTime<Utc>,
) -> LedgerLine {
    let settlement = match provider {
        Provider::Paypal => o.currency.as_str(),
        Provider::Stripe => settlement,
    };
    let gross = convert(original, &o.currency, settlement);
    let fee_minor = match kind {
        LineKind::Charge => fee(provider, gross),
        LineKind::Refund => 0,
        LineKind::Dispute => 1500,
    };
    let prefix = match kind {
        LineKind::Charge => "ch",
        LineKind::Refund => "re",
        LineKind::Dispute => "du",
    };
    LedgerLine {
        id: format!("{prefix}_{}_{}", o.id, at.timestamp()),
        kind,
        provider,
        reference: o.name(),
        order_id: Some(o.id),
        original_minor: original,
        currency: settlement.to_string(),
        charge_minor: original.abs(),
        original_currency: o.currency.clone(),
        rate: (o.currency != settlement)
            .then(|| format_minor(rate_e6(&o.currency, settlement) as i64, 6)),
        gross_minor: gross,
        fee_minor,
        net_minor: gross - fee_minor,
        at,
    }
}

/// Every line up to `now`, and the discrepancies injected.
fn lines(
    world: &World,
    settlement: &str,
    inject: bool,
    now: DateTime<Utc>,
) -> (Vec<LedgerLine>, Injected) {
    let mut out = Vec::new();
    let mut injected = Injected::default();
    // The oldest orders paid at creation, more than ten days ago, through
    // Stripe: a choice later changes (payments, cancellations, new orders)
    // cannot move.
    let mut old_stripe: Vec<&SimOrder> = world
        .orders
        .values()
        .filter(|o| provider(o, settlement) == Provider::Stripe)
        .filter(|o| o.paid_at == Some(o.created_at) && o.created_at < now - Duration::days(10))
        .collect();
    old_stripe.sort_by_key(|o| (o.created_at, o.id));
    if inject && old_stripe.len() >= 4 {
        injected.partial_refund_order = Some(old_stripe[0].id);
        injected.dispute_order = Some(old_stripe[1].id);
        injected.unsettled_order = Some(old_stripe[2].id);
        injected.amount_mismatch_order = Some(old_stripe[3].id);
        injected.orphan_reference = Some("#99999".into());
    }
    for o in world.orders.values() {
        let Some(paid_at) = o.paid_at else { continue };
        if Some(o.id) == injected.unsettled_order {
            continue;
        }
        let p = provider(o, settlement);
        let mut amount = o.total_minor();
        if Some(o.id) == injected.amount_mismatch_order {
            amount -= 100;
        }
        out.push(line(o, LineKind::Charge, p, amount, settlement, paid_at));
        let of_charge = |mut l: LedgerLine| {
            l.charge_minor = amount;
            l
        };
        if let Some(cancelled) = o.cancelled_at {
            out.push(of_charge(line(
                o,
                LineKind::Refund,
                p,
                -amount,
                settlement,
                cancelled,
            )));
        }
        if Some(o.id) == injected.partial_refund_order {
            let at = paid_at + Duration::days(1);
            out.push(of_charge(line(
                o,
                LineKind::Refund,
                p,
                -(amount / 2),
                settlement,
                at,
            )));
        }
        if Some(o.id) == injected.dispute_order {
            let at = paid_at + Duration::days(2);
            out.push(of_charge(line(
                o,
                LineKind::Dispute,
                p,
                -amount,
                settlement,
                at,
            )));
        }
    }
    if let (Some(reference), Some(first)) = (&injected.orphan_reference, old_stripe.first()) {
        let at = first.paid_at.expect("filtered on paid_at") + Duration::hours(1);
        out.push(LedgerLine {
            id: format!("ch_orphan_{}", at.timestamp()),
            kind: LineKind::Charge,
            provider: Provider::Stripe,
            reference: reference.clone(),
            order_id: None,
            original_minor: 1234,
            currency: settlement.into(),
            charge_minor: 1234,
            original_currency: settlement.into(),
            rate: None,
            gross_minor: 1234,
            fee_minor: fee(Provider::Stripe, 1234),
            net_minor: 1234 - fee(Provider::Stripe, 1234),
            at,
        });
    }
    out.retain(|l| l.at <= now);
    (out, injected)
}

/// One payout per provider, currency and day, made the next day at 02:00
/// (Stripe) or 03:00 (PayPal), arriving two days later; only payouts made
/// by `now` exist. A Stripe payout holds the lines of its UTC day (Stripe
/// names a balance transaction's payout). A PayPal withdrawal, as on the
/// real service, sweeps the balance of its currency: every line since the
/// previous withdrawal up to and including its own second, so lines made
/// between midnight and 03:00 go out with that morning's withdrawal.
pub fn ledger(
    world: &World,
    settlement: &str,
    inject: bool,
    now: DateTime<Utc>,
) -> (Vec<LedgerPayout>, Injected) {
    let (lines, injected) = lines(world, settlement, inject, now);
    let mut payouts: std::collections::BTreeMap<(DateTime<Utc>, &str, String), LedgerPayout> =
        Default::default();
    for l in lines {
        let (hour, tag) = match l.provider {
            Provider::Stripe => (2, "stripe"),
            Provider::Paypal => (3, "paypal"),
        };
        let swept = match l.provider {
            Provider::Stripe => l.at,
            // The withdrawal at 03:00:00 takes what came before, to the second.
            Provider::Paypal => l.at - Duration::hours(hour) - Duration::seconds(1),
        };
        let day = swept
            .duration_trunc(Duration::days(1))
            .expect("a day divides time");
        let created = day + Duration::days(1) + Duration::hours(hour);
        if created > now {
            continue;
        }
        let currency = l.currency.clone();
        let p = payouts
            .entry((day, tag, currency.clone()))
            .or_insert_with(|| LedgerPayout {
                id: match l.provider {
                    Provider::Stripe => format!("po_sandbox_{}", day.format("%Y%m%d")),
                    Provider::Paypal => format!("WD{}{currency}SANDBOX", day.format("%Y%m%d")),
                },
                provider: l.provider,
                amount_minor: 0,
                currency,
                created,
                arrival: created + Duration::days(2),
                lines: Vec::new(),
            });
        p.amount_minor += l.net_minor;
        p.lines.push(l);
    }
    (payouts.into_values().collect(), injected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_conversions_are_integer_and_rounded_half_up() {
        assert_eq!(format_minor(rate_e6("USD", "EUR") as i64, 6), "0.920000");
        assert_eq!(format_minor(rate_e6("JPY", "EUR") as i64, 6), "0.006133");
        assert_eq!(format_minor(rate_e6("KWD", "EUR") as i64, 6), "2.996743");
        // 10 000 JPY × 0.006133 = 61.33 EUR; 1.000 KWD × 2.996743 = 3.00 EUR
        assert_eq!(convert(10_000, "JPY", "EUR"), 6133);
        assert_eq!(convert(1_000, "KWD", "EUR"), 300);
        assert_eq!(convert(-1_000, "KWD", "EUR"), -300);
        assert_eq!(convert(1999, "EUR", "EUR"), 1999);
    }

    #[test]
    fn every_payout_is_the_sum_of_its_lines() {
        let now = Utc::now();
        let world = World::new(7, 40, now);
        let (payouts, injected) = ledger(&world, "EUR", true, now);
        assert!(payouts.len() > 10);
        for p in &payouts {
            assert_eq!(
                p.amount_minor,
                p.lines.iter().map(|l| l.net_minor).sum::<i64>()
            );
        }
        assert!(injected.dispute_order.is_some() && injected.orphan_reference.is_some());
        assert!(
            payouts.iter().any(|p| p.provider == Provider::Paypal),
            "seed 7 has PayPal payouts too"
        );
    }
}

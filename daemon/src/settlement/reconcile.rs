//! Matching payout lines to orders, and what does not add up. A pure
//! function of the stored payouts and orders: running it again over the
//! same data gives the same records, so applying them writes nothing.

use super::policy::SettlementPolicy;
use super::records::{Discrepancy, DiscrepancyKind, OrderSettlement, PayoutRecord, SettledLine};
use crate::model::{Money, PaymentStatus, PayoutLineKind};
use crate::store::StoredOrder;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};

/// What reconciliation concluded.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub settlements: Vec<OrderSettlement>,
    /// `detected_at` is the reconciliation time; existing records keep theirs.
    pub discrepancies: Vec<Discrepancy>,
    /// `(account, line id)` → `(channel, order id, order number)`.
    pub matches: HashMap<(String, String), (String, String, String)>,
}

fn discrepancy(
    seller: &str,
    kind: DiscrepancyKind,
    subject: &str,
    now: DateTime<Utc>,
) -> Discrepancy {
    Discrepancy {
        id: format!("{}:{seller}:{subject}", kind.name()),
        seller: seller.into(),
        kind,
        account: None,
        payout_id: None,
        line_id: None,
        channel: None,
        order_id: None,
        order_number: None,
        amount: None,
        expected: None,
        detail: String::new(),
        detected_at: now,
        resolved: None,
    }
}

/// Reconcile every payout of `seller` against its orders.
pub fn reconcile(
    seller: &str,
    policy: &SettlementPolicy,
    payouts: &[PayoutRecord],
    orders: &[StoredOrder],
    now: DateTime<Utc>,
) -> Outcome {
    let mut index: HashMap<String, Vec<&StoredOrder>> = HashMap::new();
    for o in orders {
        index.entry(policy.key_for(&o.order)).or_default().push(o);
    }
    let mut out = Outcome::default();
    let mut settled: BTreeMap<(String, String), OrderSettlement> = BTreeMap::new();
    let mut sorted: Vec<&PayoutRecord> = payouts.iter().collect();
    sorted.sort_by(|a, b| {
        (a.payout.created_at, &a.payout.external_id)
            .cmp(&(b.payout.created_at, &b.payout.external_id))
    });
    for p in sorted {
        let pid = &p.payout.external_id;
        let difference = p.payout.amount.amount_minor - p.lines_net();
        if difference != 0 {
            let mut d = discrepancy(
                seller,
                DiscrepancyKind::PayoutMismatch,
                &format!("{}:{pid}", p.account),
                now,
            );
            d.account = Some(p.account.clone());
            d.payout_id = Some(pid.clone());
            d.amount = Some(Money {
                amount_minor: difference,
                currency: p.payout.amount.currency,
            });
            d.expected = Some(p.payout.amount);
            d.detail = format!(
                "payout {pid} is {} but its {} lines sum to {}: {} unexplained",
                p.payout.amount,
                p.lines.len(),
                Money {
                    amount_minor: p.lines_net(),
                    currency: p.payout.amount.currency
                },
                Money {
                    amount_minor: difference,
                    currency: p.payout.amount.currency
                },
            );
            out.discrepancies.push(d);
        }
        for line in &p.lines {
            let subject = format!("{}:{}", p.account, line.external_id);
            let needs_order = matches!(
                line.kind,
                PayoutLineKind::Charge | PayoutLineKind::Refund | PayoutLineKind::Dispute
            );
            let candidates = line
                .order_reference
                .as_deref()
                .and_then(|r| policy.key_of(r))
                .and_then(|k| index.get(&k));
            let order = match candidates.map(Vec::as_slice) {
                Some([one]) => *one,
                other => {
                    if needs_order {
                        let mut d =
                            discrepancy(seller, DiscrepancyKind::LineWithoutOrder, &subject, now);
                        d.account = Some(p.account.clone());
                        d.payout_id = Some(pid.clone());
                        d.line_id = Some(line.external_id.clone());
                        d.amount = Some(line.net);
                        d.detail = match (other, &line.order_reference) {
                            (Some(many), Some(r)) => format!(
                                "{:?} line {} refers to `{r}`, which matches {} orders",
                                line.kind,
                                line.external_id,
                                many.len()
                            ),
                            (_, Some(r)) => format!(
                                "{:?} line {} refers to `{r}`, which matches no stored order",
                                line.kind, line.external_id
                            ),
                            (_, None) => format!(
                                "{:?} line {} carries no order reference",
                                line.kind, line.external_id
                            ),
                        }
                        .to_lowercase();
                        out.discrepancies.push(d);
                    }
                    continue;
                }
            };
            let o = &order.order;
            let amount = line.original.unwrap_or(line.gross);
            out.matches.insert(
                (p.account.clone(), line.external_id.clone()),
                (
                    order.channel.clone(),
                    o.external_id.clone(),
                    o.number.clone(),
                ),
            );
            let with_order = |mut d: Discrepancy| {
                d.account = Some(p.account.clone());
                d.payout_id = Some(pid.clone());
                d.line_id = Some(line.external_id.clone());
                d.channel = Some(order.channel.clone());
                d.order_id = Some(o.external_id.clone());
                d.order_number = Some(o.number.clone());
                d
            };
            if amount.currency != o.currency {
                let mut d = with_order(discrepancy(
                    seller,
                    DiscrepancyKind::CurrencyMismatch,
                    &subject,
                    now,
                ));
                d.amount = Some(amount);
                d.expected = Some(o.totals.total);
                d.detail = format!(
                    "order {} is in {} but line {} is in {}",
                    o.number, o.currency, line.external_id, amount.currency
                );
                out.discrepancies.push(d);
            } else if line.kind == PayoutLineKind::Charge
                && (amount.amount_minor - o.totals.total.amount_minor).abs()
                    > policy.tolerance_minor
            {
                let mut d = with_order(discrepancy(
                    seller,
                    DiscrepancyKind::AmountMismatch,
                    &subject,
                    now,
                ));
                d.amount = Some(amount);
                d.expected = Some(o.totals.total);
                d.detail = format!(
                    "order {} totals {} but was charged {} ({} off, tolerance {} minor units)",
                    o.number,
                    o.totals.total,
                    amount,
                    Money {
                        amount_minor: amount.amount_minor - o.totals.total.amount_minor,
                        currency: amount.currency
                    },
                    policy.tolerance_minor
                );
                out.discrepancies.push(d);
            }
            match line.kind {
                PayoutLineKind::Refund | PayoutLineKind::Dispute => {
                    let kind = if line.kind == PayoutLineKind::Refund {
                        DiscrepancyKind::Refund
                    } else {
                        DiscrepancyKind::Dispute
                    };
                    let mut d = with_order(discrepancy(seller, kind, &subject, now));
                    d.amount = Some(line.net);
                    d.detail = format!(
                        "{} of {} on order {} (net {} in payout {pid})",
                        kind.name(),
                        amount,
                        o.number,
                        line.net
                    );
                    out.discrepancies.push(d);
                }
                _ => {}
            }
            settled
                .entry((order.channel.clone(), o.external_id.clone()))
                .or_insert_with(|| OrderSettlement {
                    seller: seller.into(),
                    channel: order.channel.clone(),
                    order_id: o.external_id.clone(),
                    order_number: o.number.clone(),
                    order_total: o.totals.total,
                    lines: Vec::new(),
                })
                .lines
                .push(SettledLine {
                    account: p.account.clone(),
                    payout_id: pid.clone(),
                    line_id: line.external_id.clone(),
                    kind: line.kind,
                    amount,
                    gross: line.gross,
                    fee: line.fee,
                    net: line.net,
                    exchange_rate: line.exchange_rate.as_ref().map(|r| r.rate.clone()),
                    settled_at: p.date(),
                });
        }
    }
    for order in orders {
        let o = &order.order;
        let paid = matches!(
            o.payment_status,
            PaymentStatus::Paid | PaymentStatus::PartiallyRefunded
        );
        let charged = settled
            .get(&(order.channel.clone(), o.external_id.clone()))
            .is_some_and(|s| s.lines.iter().any(|l| l.kind == PayoutLineKind::Charge));
        if paid && !charged && now - o.created_at > policy.unsettled_after {
            let mut d = discrepancy(
                seller,
                DiscrepancyKind::Unsettled,
                &format!("{}:{}", order.channel, o.external_id),
                now,
            );
            d.channel = Some(order.channel.clone());
            d.order_id = Some(o.external_id.clone());
            d.order_number = Some(o.number.clone());
            d.expected = Some(o.totals.total);
            d.detail = format!(
                "order {} ({}) is paid but no payout holds its charge, {} days after it was placed",
                o.number,
                o.totals.total,
                (now - o.created_at).num_days()
            );
            out.discrepancies.push(d);
        }
    }
    out.settlements = settled.into_values().collect();
    out
}

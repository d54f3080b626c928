//! Matching payout lines to orders, and what does not add up. A pure
//! function of the stored payouts and orders: running it again over the
//! same data gives the same records, so applying them writes nothing.

use super::policy::SettlementPolicy;
use super::records::{Discrepancy, DiscrepancyKind, OrderSettlement, PayoutRecord, SettledLine};
use crate::model::{Money, PaymentStatus, PayoutLine, PayoutLineKind};
use crate::store::StoredOrder;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};

/// What reconciliation concluded.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub settlements: Vec<OrderSettlement>,
    /// `detected_at` is the reconciliation time; existing records keep theirs.
    pub discrepancies: Vec<Discrepancy>,
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

/// The orders of a seller by the key a line's reference resolves to.
type OrderIndex<'a> = HashMap<String, Vec<&'a StoredOrder>>;

/// Per (channel, order id): what the order was paid, built line by line.
type Settled = BTreeMap<(String, String), OrderSettlement>;

/// Reconcile every payout of `seller` against its orders.
pub fn reconcile(
    seller: &str,
    policy: &SettlementPolicy,
    payouts: &[PayoutRecord],
    orders: &[StoredOrder],
    now: DateTime<Utc>,
) -> Outcome {
    let mut index: OrderIndex = HashMap::new();
    for o in orders {
        index.entry(policy.key_for(&o.order)).or_default().push(o);
    }
    let mut out = Outcome::default();
    let mut settled = Settled::new();
    let mut sorted: Vec<&PayoutRecord> = payouts.iter().collect();
    sorted.sort_by(|a, b| {
        (a.payout.created_at, &a.payout.external_id)
            .cmp(&(b.payout.created_at, &b.payout.external_id))
    });
    let since = orders
        .iter()
        .filter(|o| policy.settles(&o.channel))
        .map(|o| o.order.created_at)
        .min();
    let ctx = Ctx {
        seller,
        policy,
        now,
        since,
    };
    for p in sorted {
        out.discrepancies.extend(ctx.payout_mismatch(p));
        for line in &p.lines {
            let order = match ctx.order_of(p, line, &index) {
                Lookup::Found(order) => order,
                Lookup::Missing(d) => {
                    out.discrepancies.push(*d);
                    continue;
                }
                Lookup::NotNeeded => continue,
            };
            let matched = Matched {
                payout: p,
                line,
                order,
            };
            out.discrepancies.extend(
                ctx.currency_mismatch(&matched)
                    .or_else(|| ctx.amount_mismatch(&matched)),
            );
            out.discrepancies.extend(ctx.refund_or_dispute(&matched));
            settle(seller, &matched, &mut settled);
        }
    }
    out.discrepancies
        .extend(orders.iter().filter_map(|o| ctx.unsettled(o, &settled)));
    out.settlements = settled.into_values().collect();
    out
}

/// What every check needs.
struct Ctx<'a> {
    seller: &'a str,
    policy: &'a SettlementPolicy,
    now: DateTime<Utc>,
    /// When the oldest stored order (of the settled channels) was placed:
    /// money moved before it is "before tradelane", not a discrepancy.
    since: Option<DateTime<Utc>>,
}

/// The order of a payout line.
enum Lookup<'o> {
    /// The one order its reference names.
    Found(&'o StoredOrder),
    /// Money that needs an order has none (or several): `line_without_order`.
    Missing(Box<Discrepancy>),
    /// No order, and none needed (a fee, an adjustment).
    NotNeeded,
}

/// A payout line and the one order its reference names.
struct Matched<'a> {
    payout: &'a PayoutRecord,
    line: &'a PayoutLine,
    order: &'a StoredOrder,
}

impl Matched<'_> {
    /// `account:line`, the subject of a line's discrepancies.
    fn subject(&self) -> String {
        format!("{}:{}", self.payout.account, self.line.external_id)
    }

    /// The amount in the order's terms: the original before conversion.
    fn amount(&self) -> Money {
        self.line.original.unwrap_or(self.line.gross)
    }

    /// A discrepancy about this line and its order.
    fn discrepancy(&self, ctx: &Ctx<'_>, kind: DiscrepancyKind) -> Discrepancy {
        let o = &self.order.order;
        let mut d = discrepancy(ctx.seller, kind, &self.subject(), ctx.now);
        d.account = Some(self.payout.account.clone());
        d.payout_id = Some(self.payout.payout.external_id.clone());
        d.line_id = Some(self.line.external_id.clone());
        d.channel = Some(self.order.channel.clone());
        d.order_id = Some(o.external_id.clone());
        d.order_number = Some(o.number.clone());
        d
    }
}

impl Ctx<'_> {
    /// `payout_mismatch`: the lines do not sum to the payout, to the minor unit.
    fn payout_mismatch(&self, p: &PayoutRecord) -> Option<Discrepancy> {
        let pid = &p.payout.external_id;
        let currency = p.payout.amount.currency;
        let lines_net = p.lines_net();
        let difference = p.payout.amount.amount_minor.saturating_sub(lines_net);
        let foreign = p.foreign_lines();
        if difference == 0 && foreign == 0 {
            return None;
        }
        let mut d = discrepancy(
            self.seller,
            DiscrepancyKind::PayoutMismatch,
            &format!("{}:{pid}", p.account),
            self.now,
        );
        d.account = Some(p.account.clone());
        d.payout_id = Some(pid.clone());
        d.amount = Some(Money {
            amount_minor: difference,
            currency,
        });
        d.expected = Some(p.payout.amount);
        d.detail = format!(
            "payout {pid} is {} but its {} {currency} lines sum to {}: {} unexplained",
            p.payout.amount,
            p.lines.len() - foreign,
            Money {
                amount_minor: lines_net,
                currency
            },
            Money {
                amount_minor: difference,
                currency
            },
        );
        if foreign > 0 {
            d.detail.push_str(&format!(
                "; {foreign} line(s) in another currency were left out of the sum (each currency is paid out on its own)"
            ));
        }
        Some(d)
    }

    /// The one order a line refers to; else a `line_without_order` when
    /// the line is money that needs an order (charge, refund, dispute).
    fn order_of<'o>(
        &self,
        p: &PayoutRecord,
        line: &PayoutLine,
        index: &OrderIndex<'o>,
    ) -> Lookup<'o> {
        let candidates = line
            .order_reference
            .as_deref()
            .and_then(|r| self.policy.key_of(r))
            .and_then(|k| index.get(&k));
        let other = match candidates.map(Vec::as_slice) {
            Some([one]) => return Lookup::Found(one),
            other => other,
        };
        let needs_order = matches!(
            line.kind,
            PayoutLineKind::Charge | PayoutLineKind::Refund | PayoutLineKind::Dispute
        );
        if !needs_order {
            return Lookup::NotNeeded;
        }
        // Before the oldest stored order (or before any): the money of an
        // order tradelane never saw, not a discrepancy.
        if self.since.is_none_or(|since| line.created_at < since) {
            return Lookup::NotNeeded;
        }
        let subject = format!("{}:{}", p.account, line.external_id);
        let mut d = discrepancy(
            self.seller,
            DiscrepancyKind::LineWithoutOrder,
            &subject,
            self.now,
        );
        d.account = Some(p.account.clone());
        d.payout_id = Some(p.payout.external_id.clone());
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
        Lookup::Missing(Box::new(d))
    }

    /// `currency_mismatch`: the line's money is in neither the order's
    /// currency nor the buyer's (presentment) one.
    fn currency_mismatch(&self, m: &Matched<'_>) -> Option<Discrepancy> {
        let (o, amount) = (&m.order.order, m.amount());
        if expected_in(o, amount.currency).is_some() {
            return None;
        }
        let mut d = m.discrepancy(self, DiscrepancyKind::CurrencyMismatch);
        d.amount = Some(amount);
        d.expected = Some(o.totals.total);
        d.detail = format!(
            "order {} is in {} but line {} is in {}",
            o.number, o.currency, m.line.external_id, amount.currency
        );
        Some(d)
    }

    /// `amount_mismatch`: a charge differs from its order's total by more
    /// than the tolerance.
    fn amount_mismatch(&self, m: &Matched<'_>) -> Option<Discrepancy> {
        let (o, amount) = (&m.order.order, m.amount());
        let expected = expected_in(o, amount.currency)?;
        let off = amount.amount_minor.saturating_sub(expected.amount_minor);
        if m.line.kind != PayoutLineKind::Charge
            || off.saturating_abs() <= self.policy.tolerance_minor
        {
            return None;
        }
        let mut d = m.discrepancy(self, DiscrepancyKind::AmountMismatch);
        d.amount = Some(amount);
        d.expected = Some(expected);
        d.detail = format!(
            "order {} totals {} but was charged {} ({} off, tolerance {} minor units)",
            o.number,
            expected,
            amount,
            Money {
                amount_minor: off,
                currency: amount.currency
            },
            self.policy.tolerance_minor
        );
        Some(d)
    }

    /// `refund`, `dispute`: money given or taken back, listed for the books.
    fn refund_or_dispute(&self, m: &Matched<'_>) -> Option<Discrepancy> {
        let kind = match m.line.kind {
            PayoutLineKind::Refund => DiscrepancyKind::Refund,
            PayoutLineKind::Dispute => DiscrepancyKind::Dispute,
            _ => return None,
        };
        let mut d = m.discrepancy(self, kind);
        d.amount = Some(m.line.net);
        d.detail = format!(
            "{} of {} on order {} (net {} in payout {})",
            kind.name(),
            m.amount(),
            m.order.order.number,
            m.line.net,
            m.payout.payout.external_id
        );
        Some(d)
    }

    /// `unsettled`: a paid order with no charge `unsettled_after` after it
    /// was placed.
    fn unsettled(&self, order: &StoredOrder, settled: &Settled) -> Option<Discrepancy> {
        let o = &order.order;
        let paid = matches!(
            o.payment_status,
            PaymentStatus::Paid | PaymentStatus::PartiallyRefunded
        );
        let charged = settled
            .get(&(order.channel.clone(), o.external_id.clone()))
            .is_some_and(|s| s.lines.iter().any(|l| l.kind == PayoutLineKind::Charge));
        if !paid || charged || !self.policy.settles(&order.channel) {
            return None;
        }
        // Paid through a gateway no account pays out (Shopify Payments
        // without its account configured): no payout will ever hold it, so
        // it is flagged at once, not after `unsettled_after`.
        let orphan = !self.policy.can_settle(&o.payment_gateways);
        if !orphan && self.now - o.created_at <= self.policy.unsettled_after {
            return None;
        }
        let mut d = discrepancy(
            self.seller,
            DiscrepancyKind::Unsettled,
            &format!("{}:{}", order.channel, o.external_id),
            self.now,
        );
        d.channel = Some(order.channel.clone());
        d.order_id = Some(o.external_id.clone());
        d.order_number = Some(o.number.clone());
        d.expected = Some(o.totals.total);
        d.detail = if orphan {
            format!(
                "order {} ({}) was paid through {}, which none of this seller's payment accounts pays out: add the account that does, or name the gateway in `gateways` of the account that settles it",
                o.number,
                o.totals.total,
                o.payment_gateways
                    .iter()
                    .map(|g| format!("`{g}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            format!(
                "order {} ({}) is paid but no payout holds its charge, {} days after it was placed",
                o.number,
                o.totals.total,
                (self.now - o.created_at).num_days()
            )
        };
        Some(d)
    }
}

/// The order's total in `currency`: its own, or what the buyer saw
/// (presentment) when they paid in another currency.
fn expected_in(o: &crate::model::Order, currency: crate::model::Currency) -> Option<Money> {
    if o.currency == currency {
        return Some(o.totals.total);
    }
    o.presentment_total.filter(|p| p.currency == currency)
}

/// Add a matched line to its order's settlement.
fn settle(seller: &str, m: &Matched<'_>, settled: &mut Settled) {
    let (order, o, line) = (m.order, &m.order.order, m.line);
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
            account: m.payout.account.clone(),
            payout_id: m.payout.payout.external_id.clone(),
            line_id: line.external_id.clone(),
            kind: line.kind,
            amount: m.amount(),
            gross: line.gross,
            fee: line.fee,
            net: line.net,
            exchange_rate: line.exchange_rate.as_ref().map(|r| r.rate.clone()),
            settled_at: m.payout.date(),
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::settlement::ReferenceField;
    use crate::model::{
        Currency, FulfillmentStatus, Order, OrderStatus, Payout, PayoutLine, PayoutStatus, Totals,
    };

    fn m(amount_minor: i64, code: &str) -> Money {
        Money {
            amount_minor,
            currency: Currency::parse(code).unwrap(),
        }
    }

    fn order(channel: &str, id: &str, number: &str, total: Money) -> StoredOrder {
        let t = Utc::now() - chrono::Duration::days(30);
        StoredOrder {
            seller: "s".into(),
            channel: channel.into(),
            order: Order {
                external_id: id.into(),
                number: number.into(),
                created_at: t,
                updated_at: t,
                status: OrderStatus::Open,
                payment_status: PaymentStatus::Paid,
                fulfillment_status: FulfillmentStatus::Unfulfilled,
                currency: total.currency,
                totals: Totals {
                    subtotal: total,
                    shipping: m(0, total.currency.code()),
                    tax: m(0, total.currency.code()),
                    discount: m(0, total.currency.code()),
                    total,
                },
                buyer: None,
                shipping_address: None,
                billing_address: None,
                line_items: Vec::new(),
                shipping_lines: Vec::new(),
                tax_ids: Vec::new(),
                marketplace_collected_tax: false,
                taxes_included: false,
                tags: Vec::new(),
                marketplace: None,
                fulfilled_by: Default::default(),
                shipping_hold: None,
                payment_gateways: Vec::new(),
                presentment_total: None,
            },
        }
    }

    fn line(id: &str, reference: &str, gross: Money, original: Option<Money>) -> PayoutLine {
        PayoutLine {
            external_id: id.into(),
            kind: PayoutLineKind::Charge,
            gross,
            fee: m(0, gross.currency.code()),
            net: gross,
            original,
            exchange_rate: None,
            order_reference: Some(reference.into()),
            created_at: Utc::now(),
            description: None,
        }
    }

    fn policy() -> SettlementPolicy {
        SettlementPolicy {
            currency: Currency::parse("EUR").unwrap(),
            tolerance_minor: 1,
            unsettled_after: chrono::Duration::days(7),
            lookback: chrono::Duration::days(3),
            history: chrono::Duration::days(90),
            field: ReferenceField::Number,
            pattern: regex::Regex::new(r"^#?(\d+)$").unwrap(),
            channels: None,
            gateways: ["stripe".to_string()].into_iter().collect(),
        }
    }

    #[test]
    fn money_from_before_the_oldest_stored_order_is_not_a_discrepancy() {
        let orders = vec![order("shop", "1", "#1001", m(1000, "EUR"))];
        let mut early = line("ch_old", "#999", m(500, "EUR"), None);
        early.created_at = orders[0].order.created_at - chrono::Duration::days(1);
        let late = line("ch_new", "#998", m(500, "EUR"), None);
        let payout = PayoutRecord {
            seller: "s".into(),
            account: "stripe".into(),
            payout: Payout {
                external_id: "po_1".into(),
                amount: m(1000, "EUR"),
                status: PayoutStatus::Paid,
                created_at: Utc::now(),
                arrival_date: None,
            },
            lines: vec![early, late],
        };
        let out = reconcile("s", &policy(), &[payout], &orders, Utc::now());
        let without: Vec<_> = out
            .discrepancies
            .iter()
            .filter(|d| d.kind == DiscrepancyKind::LineWithoutOrder)
            .collect();
        assert_eq!(without.len(), 1, "{without:?}");
        assert_eq!(without[0].line_id.as_deref(), Some("ch_new"));
    }

    #[test]
    fn only_the_settled_channels_orders_can_be_unsettled() {
        let mut orders = vec![
            order("shop", "1", "#1001", m(1000, "EUR")),
            order("amazon", "202-1", "202-1", m(1000, "EUR")),
        ];
        for o in &mut orders {
            o.order.created_at = Utc::now() - chrono::Duration::days(30);
        }
        let everything = reconcile("s", &policy(), &[], &orders, Utc::now());
        assert_eq!(everything.discrepancies.len(), 2);
        let mut only_shop = policy();
        only_shop.channels = Some(["shop".to_string()].into_iter().collect());
        let out = reconcile("s", &only_shop, &[], &orders, Utc::now());
        assert_eq!(out.discrepancies.len(), 1);
        assert!(
            out.discrepancies[0].id.contains("shop:1"),
            "{:?}",
            out.discrepancies[0].id
        );
    }

    #[test]
    fn mismatched_payouts_currencies_and_ambiguous_references_are_named() {
        let orders = vec![
            order("shop", "1", "#1001", m(1000, "EUR")),
            order("shop", "2", "#1002", m(1500, "JPY")),
            order("shop", "3", "#1003", m(700, "EUR")),
            order("ebay", "9", "#1003", m(700, "EUR")),
        ];
        let payout = PayoutRecord {
            seller: "s".into(),
            account: "stripe".into(),
            payout: Payout {
                external_id: "po_1".into(),
                // One cent more than the lines.
                amount: m(1000 + 990 + 700 + 1, "EUR"),
                status: PayoutStatus::Paid,
                created_at: Utc::now(),
                arrival_date: None,
            },
            lines: vec![
                line("a", "#1001", m(1000, "EUR"), None),
                // Charged in EUR for a JPY order, with no original amount.
                line("b", "1002", m(990, "EUR"), None),
                line("c", "#1003", m(700, "EUR"), None),
            ],
        };
        let out = reconcile("s", &policy(), &[payout], &orders, Utc::now());
        let kinds: Vec<(DiscrepancyKind, &str)> = out
            .discrepancies
            .iter()
            .map(|d| (d.kind, d.id.as_str()))
            .collect();
        assert!(
            kinds.contains(&(
                DiscrepancyKind::PayoutMismatch,
                "payout_mismatch:s:stripe:po_1"
            )),
            "{kinds:?}"
        );
        assert!(
            kinds.contains(&(
                DiscrepancyKind::CurrencyMismatch,
                "currency_mismatch:s:stripe:b"
            )),
            "{kinds:?}"
        );
        let ambiguous = out
            .discrepancies
            .iter()
            .find(|d| d.kind == DiscrepancyKind::LineWithoutOrder)
            .unwrap();
        assert!(
            ambiguous.detail.contains("matches 2 orders"),
            "{}",
            ambiguous.detail
        );
        let mismatch = out
            .discrepancies
            .iter()
            .find(|d| d.kind == DiscrepancyKind::PayoutMismatch)
            .unwrap();
        assert_eq!(mismatch.amount, Some(m(1, "EUR")));
        // #1003 matched nothing, so both its orders are unsettled too.
        assert_eq!(
            out.discrepancies
                .iter()
                .filter(|d| d.kind == DiscrepancyKind::Unsettled)
                .count(),
            2
        );
        assert_eq!(out.settlements.len(), 2, "#1001 and #1002 settled");
        // Same input, same output: the ids are stable.
        let again = reconcile("s", &policy(), &[], &orders, Utc::now());
        assert!(
            again
                .discrepancies
                .iter()
                .all(|d| d.kind == DiscrepancyKind::Unsettled)
        );
    }

    fn payout_of(lines: Vec<PayoutLine>, amount: Money) -> PayoutRecord {
        PayoutRecord {
            seller: "s".into(),
            account: "stripe".into(),
            payout: Payout {
                external_id: "po_1".into(),
                amount,
                status: PayoutStatus::Paid,
                created_at: Utc::now(),
                arrival_date: None,
            },
            lines,
        }
    }

    #[test]
    fn a_charge_in_the_buyers_currency_matches_the_presentment_total() {
        // A GBP shop; the buyer paid €57.50, which Stripe charged and paid
        // out in GBP at its own rate.
        let mut shop = order("shop", "1", "#1001", m(5000, "GBP"));
        shop.order.presentment_total = Some(m(5750, "EUR"));
        let charged = line("ch_1", "#1001", m(4990, "GBP"), Some(m(5750, "EUR")));
        let out = reconcile(
            "s",
            &policy(),
            &[payout_of(vec![charged], m(4990, "GBP"))],
            std::slice::from_ref(&shop),
            Utc::now(),
        );
        assert!(out.discrepancies.is_empty(), "{:?}", out.discrepancies);
        assert_eq!(out.settlements.len(), 1);

        // A euro off in the buyer's currency is an amount mismatch,
        // measured against what the buyer saw.
        let off = line("ch_2", "#1001", m(4990, "GBP"), Some(m(5650, "EUR")));
        let out = reconcile(
            "s",
            &policy(),
            &[payout_of(vec![off], m(4990, "GBP"))],
            std::slice::from_ref(&shop),
            Utc::now(),
        );
        let d = &out.discrepancies[0];
        assert_eq!(d.kind, DiscrepancyKind::AmountMismatch, "{d:?}");
        assert_eq!(d.expected, Some(m(5750, "EUR")));

        // A third currency matches neither.
        let usd = line("ch_3", "#1001", m(4990, "GBP"), Some(m(6300, "USD")));
        let out = reconcile(
            "s",
            &policy(),
            &[payout_of(vec![usd], m(4990, "GBP"))],
            &[shop],
            Utc::now(),
        );
        assert_eq!(out.discrepancies[0].kind, DiscrepancyKind::CurrencyMismatch);
    }

    #[test]
    fn an_order_paid_through_a_gateway_no_account_settles_is_flagged_at_once() {
        let mut fresh = order("shop", "1", "#1001", m(1000, "EUR"));
        fresh.order.created_at = Utc::now() - chrono::Duration::hours(1);
        fresh.order.payment_gateways = vec!["shopify_payments".into()];
        let mut by_stripe = order("shop", "2", "#1002", m(1000, "EUR"));
        by_stripe.order.created_at = Utc::now() - chrono::Duration::hours(1);
        by_stripe.order.payment_gateways = vec!["stripe".into()];
        let out = reconcile("s", &policy(), &[], &[fresh, by_stripe], Utc::now());
        // The Stripe order is young enough to wait for its payout; the
        // Shopify Payments one never gets one from these accounts.
        assert_eq!(out.discrepancies.len(), 1, "{:?}", out.discrepancies);
        let d = &out.discrepancies[0];
        assert_eq!(d.kind, DiscrepancyKind::Unsettled);
        assert_eq!(d.order_number.as_deref(), Some("#1001"));
        assert!(d.detail.contains("`shopify_payments`"), "{}", d.detail);
        assert!(d.detail.contains("`gateways`"), "{}", d.detail);

        // Once an account says it pays Shopify Payments out, it waits too.
        let mut covered = policy();
        covered.gateways.insert("shopify_payments".into());
        let mut young = order("shop", "1", "#1001", m(1000, "EUR"));
        young.order.created_at = Utc::now() - chrono::Duration::hours(1);
        young.order.payment_gateways = vec!["shopify_payments".into()];
        assert!(
            reconcile("s", &covered, &[], &[young], Utc::now())
                .discrepancies
                .is_empty()
        );
    }
}

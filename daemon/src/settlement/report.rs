//! `tradelane report settlement`: one row per line of money in the payouts
//! of a period, with both currencies, the provider's rate, fee and net, the
//! payout and the order, and the net in the seller's book currency with its
//! rate and the rate's source ([`super::book`]); a `cost` row per order for
//! the duty the seller owes on it (the EU flat duty under the seller's
//! IOSS); then one `total` row per settlement currency and one `book` row
//! per seller. The period selects payouts by creation time, so the net of
//! the `line` rows adds up to the payouts' amounts exactly, per currency.
//! Money is printed with each currency's own number of decimals.

use super::book;
use super::records::PayoutRecord;
use crate::model::{Currency, Money, format_minor};
use crate::rates::RatesBook;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// One row of the report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    /// `line`, or `total` for a currency's totals.
    pub row: String,
    pub seller: String,
    pub account: String,
    pub payout_id: String,
    pub payout_created: String,
    pub payout_arrival: String,
    pub line_id: String,
    pub kind: String,
    pub line_created: String,
    pub channel: String,
    pub order_number: String,
    pub order_id: String,
    pub order_currency: String,
    pub order_amount: String,
    pub exchange_rate: String,
    pub settlement_currency: String,
    pub gross: String,
    pub fee: String,
    pub net: String,
    /// The seller's book currency, the net in it, the rate applied and
    /// where the rate came from (`same`, `provider`, `ecb:DAY`, `missing`).
    #[serde(default)]
    pub book_currency: String,
    #[serde(default)]
    pub book_net: String,
    #[serde(default)]
    pub book_rate: String,
    #[serde(default)]
    pub rate_source: String,
}

/// What the rows are converted and costed with.
pub struct Books<'a> {
    /// Each seller's book currency.
    pub currency: &'a BTreeMap<String, Currency>,
    pub rates: &'a RatesBook,
    /// `(seller, channel, order id)` → the duty the seller owes on it.
    pub duties: &'a HashMap<(String, String, String), Money>,
}

/// `(account, line id)` → `(channel, order id, order number)`.
pub type Matches = HashMap<(String, String), (String, String, String)>;

/// The rows for payouts created in `[from, to)`, then totals.
pub fn rows(
    payouts: &[PayoutRecord],
    matches: &Matches,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    books: &Books<'_>,
) -> Vec<Row> {
    let mut selected: Vec<&PayoutRecord> = payouts
        .iter()
        .filter(|p| p.payout.created_at >= from && p.payout.created_at < to)
        .collect();
    selected.sort_by(|a, b| {
        (
            &a.seller,
            a.payout.created_at,
            &a.account,
            &a.payout.external_id,
        )
            .cmp(&(
                &b.seller,
                b.payout.created_at,
                &b.account,
                &b.payout.external_id,
            ))
    });
    let time = |t: &DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut out = Vec::new();
    // currency → (decimals, gross, fee, net, payouts)
    let mut totals: BTreeMap<String, (u32, i64, i64, i64, i64)> = BTreeMap::new();
    // seller → (book currency, Σ book net, rows without a rate)
    let mut booked: BTreeMap<String, (Currency, i64, usize)> = BTreeMap::new();
    let mut costed = std::collections::HashSet::new();
    for p in selected {
        let book_currency = books.currency.get(&p.seller).copied();
        let t = totals
            .entry(p.payout.amount.currency.code().to_string())
            .or_insert((p.payout.amount.currency.decimals(), 0, 0, 0, 0));
        t.4 = t.4.saturating_add(p.payout.amount.amount_minor);
        for l in &p.lines {
            let settlement = l.net.currency;
            let d = settlement.decimals();
            let t = totals
                .entry(settlement.code().to_string())
                .or_insert((d, 0, 0, 0, 0));
            // Amounts are bounded at the host (10^15); totals of any real
            // number of lines fit, and saturate rather than wrap otherwise.
            t.1 = t.1.saturating_add(l.gross.amount_minor);
            t.2 = t.2.saturating_add(l.fee.amount_minor);
            t.3 = t.3.saturating_add(l.net.amount_minor);
            let order = matches.get(&(p.account.clone(), l.external_id.clone()));
            let original = l.original.unwrap_or(l.gross);
            let day = l.created_at.date_naive();
            let mut row = Row {
                row: "line".into(),
                seller: p.seller.clone(),
                account: p.account.clone(),
                payout_id: p.payout.external_id.clone(),
                payout_created: time(&p.payout.created_at),
                payout_arrival: p.payout.arrival_date.as_ref().map(time).unwrap_or_default(),
                line_id: l.external_id.clone(),
                kind: format!("{:?}", l.kind).to_lowercase(),
                line_created: time(&l.created_at),
                channel: order.map(|o| o.0.clone()).unwrap_or_default(),
                order_id: order.map(|o| o.1.clone()).unwrap_or_default(),
                order_number: order.map(|o| o.2.clone()).unwrap_or_default(),
                order_currency: original.currency.code().to_string(),
                order_amount: format_minor(original.amount_minor, original.currency.decimals()),
                exchange_rate: l
                    .exchange_rate
                    .as_ref()
                    .map(|r| r.rate.clone())
                    .unwrap_or_default(),
                settlement_currency: settlement.code().to_string(),
                gross: format_minor(l.gross.amount_minor, d),
                fee: format_minor(l.fee.amount_minor, d),
                net: format_minor(l.net.amount_minor, d),
                ..Row::default()
            };
            if let Some(bc) = book_currency {
                let b = book::convert(l.net, Some(l), day, bc, books.rates);
                tally(&mut booked, &p.seller, bc, b.amount);
                row.fill_book(bc, b);
            }
            // The duty the seller owes on the order, once, as a cost.
            let duty = order.and_then(|o| {
                let key = (p.seller.clone(), o.0.clone(), o.1.clone());
                let duty = books.duties.get(&key)?;
                costed.insert(key).then_some(*duty)
            });
            let cost = duty.map(|duty| {
                let owed = Money {
                    amount_minor: -duty.amount_minor,
                    currency: duty.currency,
                };
                let dd = owed.currency.decimals();
                let mut cost = Row {
                    row: "cost".into(),
                    kind: "duty (estimate)".into(),
                    line_id: format!("duty:{}", row.order_id),
                    settlement_currency: owed.currency.code().to_string(),
                    net: format_minor(owed.amount_minor, dd),
                    ..row.clone()
                };
                cost.gross = String::new();
                cost.fee = String::new();
                cost.exchange_rate = String::new();
                if let Some(bc) = book_currency {
                    let b = book::convert(owed, None, day, bc, books.rates);
                    tally(&mut booked, &p.seller, bc, b.amount);
                    cost.fill_book(bc, b);
                }
                cost
            });
            out.push(row);
            out.extend(cost);
        }
    }
    for (currency, (d, gross, fee, net, paid_out)) in totals {
        out.push(Row {
            row: "total".into(),
            seller: String::new(),
            account: String::new(),
            payout_id: String::new(),
            payout_created: String::new(),
            payout_arrival: String::new(),
            line_id: String::new(),
            kind: format!("payouts {}", format_minor(paid_out, d)),
            line_created: String::new(),
            channel: String::new(),
            order_number: String::new(),
            order_id: String::new(),
            order_currency: String::new(),
            order_amount: String::new(),
            exchange_rate: String::new(),
            settlement_currency: currency,
            gross: format_minor(gross, d),
            fee: format_minor(fee, d),
            net: format_minor(net, d),
            ..Row::default()
        });
    }
    for (seller, (currency, net, missing)) in booked {
        out.push(Row {
            row: "book".into(),
            seller,
            kind: match missing {
                0 => "book total".into(),
                n => format!("book total; {n} row(s) without a rate"),
            },
            book_currency: currency.code().to_string(),
            book_net: format_minor(net, currency.decimals()),
            ..Row::default()
        });
    }
    out
}

/// Add a booked amount to its seller's book total.
fn tally(
    booked: &mut BTreeMap<String, (Currency, i64, usize)>,
    seller: &str,
    currency: Currency,
    amount: Option<Money>,
) {
    let t = booked.entry(seller.to_string()).or_insert((currency, 0, 0));
    match amount {
        Some(m) => t.1 = t.1.saturating_add(m.amount_minor),
        None => t.2 += 1,
    }
}

impl Row {
    fn fill_book(&mut self, currency: Currency, b: book::BookAmount) {
        self.book_currency = currency.code().to_string();
        self.book_net = b
            .amount
            .map(|m| format_minor(m.amount_minor, currency.decimals()))
            .unwrap_or_default();
        self.book_rate = b.rate;
        self.rate_source = b.source;
    }
}

/// Write rows as CSV with a header.
pub fn write_csv(rows: &[Row], out: impl std::io::Write) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(out);
    for r in rows {
        w.serialize(r)?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Payout, PayoutLine, PayoutLineKind, PayoutStatus};

    fn eur(amount_minor: i64) -> Money {
        Money {
            amount_minor,
            currency: Currency::parse("EUR").unwrap(),
        }
    }

    #[test]
    fn the_duty_the_seller_owes_is_a_cost_in_the_book_once_per_order() {
        let at = Utc::now() - chrono::Duration::days(1);
        let charge = |id: &str| PayoutLine {
            external_id: id.into(),
            kind: PayoutLineKind::Charge,
            gross: eur(5_000),
            fee: eur(-150),
            net: eur(4_850),
            original: None,
            exchange_rate: None,
            order_reference: Some("#1001".into()),
            created_at: at,
            description: None,
        };
        let payout = PayoutRecord {
            seller: "s".into(),
            account: "stripe".into(),
            payout: Payout {
                external_id: "po_1".into(),
                amount: eur(9_700),
                status: PayoutStatus::Paid,
                created_at: at,
                arrival_date: None,
            },
            // A charge and a second one for the same order (a top-up).
            lines: vec![charge("ch_1"), charge("ch_2")],
        };
        let mut matches = Matches::new();
        for id in ["ch_1", "ch_2"] {
            matches.insert(
                ("stripe".into(), id.into()),
                ("shop".into(), "1".into(), "#1001".into()),
            );
        }
        let duties: HashMap<_, _> = [(("s".into(), "shop".into(), "1".into()), eur(300))].into();
        let currency: BTreeMap<_, _> = [("s".to_string(), Currency::parse("EUR").unwrap())].into();
        let rates = RatesBook::new();
        let books = Books {
            currency: &currency,
            rates: &rates,
            duties: &duties,
        };
        let rows = rows(
            &[payout],
            &matches,
            (at - chrono::Duration::hours(1), Utc::now()),
            &books,
        );
        let costs: Vec<&Row> = rows.iter().filter(|r| r.row == "cost").collect();
        assert_eq!(costs.len(), 1, "{rows:#?}");
        assert_eq!(
            (
                costs[0].kind.as_str(),
                costs[0].net.as_str(),
                costs[0].book_net.as_str()
            ),
            ("duty (estimate)", "-3.00", "-3.00")
        );
        assert_eq!(costs[0].order_number, "#1001");
        // The payout's own total is untouched; the book carries the cost.
        let total = rows.iter().find(|r| r.row == "total").unwrap();
        assert_eq!(total.net, "97.00");
        let book = rows.iter().find(|r| r.row == "book").unwrap();
        assert_eq!(
            (book.book_net.as_str(), book.kind.as_str()),
            ("94.00", "book total")
        );
    }
}

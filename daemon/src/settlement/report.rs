//! `tradelane report settlement`: one row per line of money in the payouts
//! of a period, with both currencies, the provider's rate, fee and net, the
//! payout and the order; then one total row per settlement currency. The
//! period selects payouts by creation time, so the net of the rows adds up
//! to the payouts' amounts exactly. Money is printed with each currency's
//! own number of decimals.

use super::records::PayoutRecord;
use crate::model::format_minor;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// One row of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
}

/// `(account, line id)` → `(channel, order id, order number)`.
pub type Matches = HashMap<(String, String), (String, String, String)>;

/// The rows for payouts created in `[from, to)`, then totals.
pub fn rows(
    payouts: &[PayoutRecord],
    matches: &Matches,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
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
    for p in selected {
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
            out.push(Row {
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
            });
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
        });
    }
    out
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

//! Statement files an accountant imports into a clearing bank account (one
//! per payment account and currency, e.g. "Stripe EUR"): every movement of
//! money the provider made, signed, in the account's currency, so the
//! account returns to zero each time a payout leaves for the bank.
//!
//! - a charge adds its gross; its fee is a row of its own, negative;
//! - a refund or dispute subtracts its gross (and adds back a returned fee);
//! - the payout itself is negative: the money leaving for the bank.
//!
//! Layouts:
//! - **Xero** (bank statement import, the precoded template's columns):
//!   `*Date,*Amount,Payee,Description,Reference`, dates `DD/MM/YYYY`, one
//!   signed amount, dot decimals, no thousands separators.
//! - **QuickBooks Online** (bank transactions upload, the three-column
//!   layout): `Date,Description,Amount`, dates `MM/DD/YYYY`, one signed
//!   amount.
//!
//! Both read one currency per file; [`statement`] refuses a selection that
//! holds several, naming them.

use super::records::PayoutRecord;
use crate::model::{Money, PayoutLineKind, format_minor};
use chrono::{DateTime, Utc};

/// One signed movement in a clearing account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movement {
    pub at: DateTime<Utc>,
    pub amount: Money,
    pub payee: String,
    pub description: String,
    pub reference: String,
}

/// The movements of the payouts created in `[from, to)` of `account`
/// (every account when `None`) in `currency` (required when they hold
/// several). Oldest first; each payout's lines, then the payout.
pub fn statement(
    payouts: &[PayoutRecord],
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    account: Option<&str>,
    currency: Option<&str>,
) -> Result<Vec<Movement>, String> {
    let mut selected: Vec<&PayoutRecord> = payouts
        .iter()
        .filter(|p| p.payout.created_at >= from && p.payout.created_at < to)
        .filter(|p| account.is_none_or(|a| p.account == a))
        .collect();
    let currencies: std::collections::BTreeSet<&str> = selected
        .iter()
        .map(|p| p.payout.amount.currency.code())
        .collect();
    let wanted = match (currency, currencies.len()) {
        (Some(c), _) => c.to_ascii_uppercase(),
        (None, 0 | 1) => currencies
            .first()
            .map(|c| c.to_string())
            .unwrap_or_default(),
        (None, _) => {
            return Err(format!(
                "the payouts are in {}; a statement holds one currency: export each with --currency",
                currencies.into_iter().collect::<Vec<_>>().join(" and ")
            ));
        }
    };
    selected.retain(|p| p.payout.amount.currency.code() == wanted);
    selected.sort_by_key(|p| {
        (
            p.payout.created_at,
            p.account.clone(),
            p.payout.external_id.clone(),
        )
    });
    let mut out = Vec::new();
    for p in selected {
        for l in p.lines.iter().filter(|l| l.net.currency.code() == wanted) {
            let order = l.order_reference.clone().unwrap_or_default();
            let what = format!("{:?}", l.kind).to_lowercase();
            if l.gross.amount_minor != 0 || l.kind != PayoutLineKind::Fee {
                out.push(Movement {
                    at: l.created_at,
                    amount: l.gross,
                    payee: if order.is_empty() {
                        p.account.clone()
                    } else {
                        format!("Order {order}")
                    },
                    description: format!("{} {what} {}", p.account, l.external_id),
                    reference: l.external_id.clone(),
                });
            }
            // The fee as charged: a negative row (a fee returned on a
            // refund is positive).
            let fee = l.net.amount_minor - l.gross.amount_minor;
            if fee != 0 {
                out.push(Movement {
                    at: l.created_at,
                    amount: Money {
                        amount_minor: fee,
                        currency: l.net.currency,
                    },
                    payee: p.account.clone(),
                    description: format!("{} fee on {what} {}", p.account, l.external_id),
                    reference: l.external_id.clone(),
                });
            }
        }
        out.push(Movement {
            at: p.payout.created_at,
            amount: Money {
                amount_minor: -p.payout.amount.amount_minor,
                currency: p.payout.amount.currency,
            },
            payee: p.account.clone(),
            description: format!("{} payout {} to the bank", p.account, p.payout.external_id),
            reference: p.payout.external_id.clone(),
        });
    }
    Ok(out)
}

fn amount(m: &Money) -> String {
    format_minor(m.amount_minor, m.currency.decimals())
}

/// Xero's bank statement layout.
pub fn write_xero(rows: &[Movement], out: impl std::io::Write) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["*Date", "*Amount", "Payee", "Description", "Reference"])?;
    for r in rows {
        w.write_record([
            r.at.format("%d/%m/%Y").to_string(),
            amount(&r.amount),
            r.payee.clone(),
            r.description.clone(),
            r.reference.clone(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// QuickBooks Online's three-column bank upload layout.
pub fn write_quickbooks(rows: &[Movement], out: impl std::io::Write) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["Date", "Description", "Amount"])?;
    for r in rows {
        w.write_record([
            r.at.format("%m/%d/%Y").to_string(),
            format!("{} ({})", r.description, r.payee),
            amount(&r.amount),
        ])?;
    }
    w.flush()?;
    Ok(())
}

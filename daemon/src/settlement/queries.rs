//! Reading settlement back, for the CLI and the admin socket alike.

use super::records::PayoutRecord;
use super::report::{self, Books, Row};
use super::store::SettlementStore;
use crate::model::{Currency, Money};
use crate::rates::RatesBook;
use crate::shipping::ShipmentStore;
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};

/// Report rows for `[from, to)`, of every seller (or one): the payouts as
/// stored, each line joined to the order the last reconciliation matched
/// it to (the stored order settlements), so the report never reconciles
/// again on its own. `books` names each seller's book currency; lines are
/// converted at the rates the store holds, and the duty each shipment
/// recorded as the seller's is a cost.
pub fn report(
    store: &Store,
    seller: Option<&str>,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    books: &BTreeMap<String, Currency>,
) -> Result<Vec<Row>, StoreError> {
    let mut matches = report::Matches::new();
    for s in store.settlements(seller)? {
        for l in s.lines {
            matches.insert(
                (l.account, l.line_id),
                (
                    s.channel.clone(),
                    s.order_id.clone(),
                    s.order_number.clone(),
                ),
            );
        }
    }
    let rates = RatesBook::new();
    crate::rates::store::load(store, &rates)?;
    let duties: HashMap<(String, String, String), Money> = store
        .shipments(seller)?
        .into_iter()
        .filter_map(|r| {
            let duty = r.duty.filter(|d| d.seller_pays)?;
            Some(((r.seller, r.channel, r.order_id), duty.amount))
        })
        .collect();
    let context = Books {
        currency: books,
        rates: &rates,
        duties: &duties,
    };
    Ok(report::rows(
        &store.payouts(seller)?,
        &matches,
        (from, to),
        &context,
    ))
}

/// Payouts whose id is `id` (any seller, any account).
pub fn find_payout(store: &Store, id: &str) -> Result<Vec<PayoutRecord>, StoreError> {
    Ok(store
        .payouts(None)?
        .into_iter()
        .filter(|p| p.payout.external_id == id)
        .collect())
}

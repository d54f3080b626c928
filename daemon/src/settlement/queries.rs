//! Reading settlement back, for the CLI and the admin socket alike.

use super::records::PayoutRecord;
use super::report::{self, Row};
use super::store::SettlementStore;
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};

/// Report rows for `[from, to)`, of every seller (or one): the payouts as
/// stored, each line joined to the order the last reconciliation matched
/// it to (the stored order settlements), so the report never reconciles
/// again on its own.
pub fn report(
    store: &Store,
    seller: Option<&str>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
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
    Ok(report::rows(&store.payouts(seller)?, &matches, from, to))
}

/// Payouts whose id is `id` (any seller, any account).
pub fn find_payout(store: &Store, id: &str) -> Result<Vec<PayoutRecord>, StoreError> {
    Ok(store
        .payouts(None)?
        .into_iter()
        .filter(|p| p.payout.external_id == id)
        .collect())
}

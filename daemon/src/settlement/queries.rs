//! Reading settlement back, for the CLI and the admin socket alike.

use super::policy::SettlementPolicy;
use super::records::PayoutRecord;
use super::report::{self, Row};
use crate::store::{OrderFilter, Store, StoreError};
use chrono::{DateTime, Utc};

/// Report rows for `[from, to)`, for every seller in `policies` (or one).
pub fn report(
    store: &Store,
    policies: &[(String, SettlementPolicy)],
    seller: Option<&str>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Row>, StoreError> {
    let mut payouts = Vec::new();
    let mut matches = report::Matches::new();
    for (s, policy) in policies
        .iter()
        .filter(|(s, _)| seller.is_none_or(|w| w == s))
    {
        let mine = store.payouts(Some(s))?;
        let orders = store.list_orders(&OrderFilter {
            seller: Some(s.clone()),
            ..OrderFilter::default()
        })?;
        let outcome = super::reconcile::reconcile(s, policy, &mine, &orders, Utc::now());
        matches.extend(outcome.matches);
        payouts.extend(mine);
    }
    Ok(report::rows(&payouts, &matches, from, to))
}

/// Payouts whose id is `id` (any seller, any account).
pub fn find_payout(store: &Store, id: &str) -> Result<Vec<PayoutRecord>, StoreError> {
    Ok(store
        .payouts(None)?
        .into_iter()
        .filter(|p| p.payout.external_id == id)
        .collect())
}

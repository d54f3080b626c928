//! Settlement in the store: trees the settlement workflow owns.
//!
//! | tree            | key                                 | value                                   |
//! |-----------------|-------------------------------------|-----------------------------------------|
//! | `payouts`       | `seller \0 account \0 payout_id`    | JSON envelope: payout + lines           |
//! | `settlements`   | `seller \0 channel \0 external_id`  | JSON envelope: what the order was paid  |
//! | `discrepancies` | `kind:scope:subject` id             | JSON envelope of the discrepancy        |
//!
//! Each account's payout cursor lives in the store's `cursors` tree under
//! `seller \0 settlement:{account} \0 payouts`.
//!
//! A payout, its lines and the account's cursor commit in one transaction;
//! reconciliation writes only what changed, so running it again over the
//! same payouts writes nothing.

use super::records::{Discrepancy, OrderSettlement, PayoutCursor, PayoutRecord, Resolution};
use crate::store::{Store, StoreError, decode, encode, key};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

fn cursor_key(seller: &str, account: &str) -> Vec<u8> {
    key(&[seller, &format!("settlement:{account}"), "payouts"])
}

const PAYOUTS: &str = "payouts";
const SETTLEMENTS: &str = "settlements";
const DISCREPANCIES: &str = "discrepancies";

/// The settlement workflow's records, on the store.
pub trait SettlementStore {
    /// An account's payout cursor.
    fn payout_cursor(&self, seller: &str, account: &str) -> Result<PayoutCursor, StoreError>;
    /// Set an account's payout cursor.
    fn put_payout_cursor(
        &self,
        seller: &str,
        account: &str,
        cursor: &PayoutCursor,
    ) -> Result<(), StoreError>;
    /// A stored payout.
    fn payout(
        &self,
        seller: &str,
        account: &str,
        id: &str,
    ) -> Result<Option<PayoutRecord>, StoreError>;
    /// Store a payout with its lines and move the account's cursor, in one
    /// transaction; unchanged bytes are not rewritten.
    fn commit_payout(
        &self,
        record: &PayoutRecord,
        cursor: &PayoutCursor,
    ) -> Result<bool, StoreError>;
    /// Every stored payout, optionally of one seller.
    fn payouts(&self, seller: Option<&str>) -> Result<Vec<PayoutRecord>, StoreError>;
    /// Write an order's settlement if it changed; `true` when written.
    fn put_settlement(&self, s: &OrderSettlement) -> Result<bool, StoreError>;
    /// Every order settlement, optionally of one seller.
    fn settlements(&self, seller: Option<&str>) -> Result<Vec<OrderSettlement>, StoreError>;
    /// A discrepancy by id.
    fn discrepancy(&self, id: &str) -> Result<Option<Discrepancy>, StoreError>;
    /// Write a discrepancy if it changed; `true` when written.
    fn put_discrepancy(&self, d: &Discrepancy) -> Result<bool, StoreError>;
    /// Every discrepancy, optionally only open ones.
    fn discrepancies(&self, open_only: bool) -> Result<Vec<Discrepancy>, StoreError>;
    /// Close a discrepancy by hand.
    fn resolve_discrepancy(&self, id: &str, note: &str) -> Result<Option<Discrepancy>, StoreError>;
}

impl SettlementStore for Store {
    /// An account's payout cursor.
    fn payout_cursor(&self, seller: &str, account: &str) -> Result<PayoutCursor, StoreError> {
        self.cursor_tree()
            .get(cursor_key(seller, account))?
            .map(|v| decode("cursors", &v))
            .transpose()
            .map(Option::unwrap_or_default)
    }

    /// Set an account's payout cursor.
    fn put_payout_cursor(
        &self,
        seller: &str,
        account: &str,
        cursor: &PayoutCursor,
    ) -> Result<(), StoreError> {
        self.cursor_tree()
            .insert(cursor_key(seller, account), encode(cursor))?;
        self.flush_blocking()?;
        Ok(())
    }

    /// A stored payout.
    fn payout(
        &self,
        seller: &str,
        account: &str,
        id: &str,
    ) -> Result<Option<PayoutRecord>, StoreError> {
        self.tree(PAYOUTS)?
            .get(key(&[seller, account, id]))?
            .map(|v| decode("payouts", &v))
            .transpose()
    }

    /// Store a payout with its lines and move the account's cursor, in one
    /// transaction; unchanged bytes are not rewritten.
    fn commit_payout(
        &self,
        record: &PayoutRecord,
        cursor: &PayoutCursor,
    ) -> Result<bool, StoreError> {
        let (k, v) = (
            key(&[&record.seller, &record.account, &record.payout.external_id]),
            encode(record),
        );
        let (ck, cv) = (cursor_key(&record.seller, &record.account), encode(cursor));
        let payouts = self.tree(PAYOUTS)?;
        let changed = (&payouts, self.cursor_tree())
            .transaction(|(payouts, cursors)| {
                let changed = payouts
                    .get(&k)?
                    .is_none_or(|old| old.as_ref() != v.as_slice());
                if changed {
                    payouts.insert(k.as_slice(), v.as_slice())?;
                }
                if cursors
                    .get(&ck)?
                    .is_none_or(|old| old.as_ref() != cv.as_slice())
                {
                    cursors.insert(ck.as_slice(), cv.as_slice())?;
                }
                Ok::<_, ConflictableTransactionError<()>>(changed)
            })
            .map_err(|e| match e {
                TransactionError::Storage(s) => StoreError::Sled(s),
                TransactionError::Abort(()) => StoreError::Other("payout commit aborted".into()),
            })?;
        self.flush_blocking()?;
        Ok(changed)
    }

    /// Every stored payout, optionally of one seller.
    fn payouts(&self, seller: Option<&str>) -> Result<Vec<PayoutRecord>, StoreError> {
        let prefix = seller.map(|s| key(&[s, ""])).unwrap_or_default();
        self.tree(PAYOUTS)?
            .scan_prefix(prefix)
            .map(|item| decode("payouts", &item?.1))
            .collect()
    }

    /// Write an order's settlement if it changed; `true` when written.
    fn put_settlement(&self, s: &OrderSettlement) -> Result<bool, StoreError> {
        let (k, v) = (key(&[&s.seller, &s.channel, &s.order_id]), encode(s));
        let settlements = self.tree(SETTLEMENTS)?;
        if settlements
            .get(&k)?
            .is_some_and(|old| old.as_ref() == v.as_slice())
        {
            return Ok(false);
        }
        settlements.insert(k, v)?;
        Ok(true)
    }

    /// Every order settlement, optionally of one seller.
    fn settlements(&self, seller: Option<&str>) -> Result<Vec<OrderSettlement>, StoreError> {
        let prefix = seller.map(|s| key(&[s, ""])).unwrap_or_default();
        self.tree(SETTLEMENTS)?
            .scan_prefix(prefix)
            .map(|item| decode("settlements", &item?.1))
            .collect()
    }

    /// A discrepancy by id.
    fn discrepancy(&self, id: &str) -> Result<Option<Discrepancy>, StoreError> {
        self.tree(DISCREPANCIES)?
            .get(id.as_bytes())?
            .map(|v| decode("discrepancies", &v))
            .transpose()
    }

    /// Write a discrepancy if it changed; `true` when written.
    fn put_discrepancy(&self, d: &Discrepancy) -> Result<bool, StoreError> {
        let v = encode(d);
        let discrepancies = self.tree(DISCREPANCIES)?;
        if discrepancies
            .get(d.id.as_bytes())?
            .is_some_and(|old| old.as_ref() == v.as_slice())
        {
            return Ok(false);
        }
        discrepancies.insert(d.id.as_bytes(), v)?;
        Ok(true)
    }

    /// Every discrepancy, optionally only open ones.
    fn discrepancies(&self, open_only: bool) -> Result<Vec<Discrepancy>, StoreError> {
        let mut all: Vec<Discrepancy> = self
            .tree(DISCREPANCIES)?
            .iter()
            .map(|item| decode("discrepancies", &item?.1))
            .collect::<Result<_, _>>()?;
        if open_only {
            all.retain(|d| d.resolved.is_none());
        }
        Ok(all)
    }

    /// Close a discrepancy by hand.
    fn resolve_discrepancy(&self, id: &str, note: &str) -> Result<Option<Discrepancy>, StoreError> {
        let Some(mut d) = self.discrepancy(id)? else {
            return Ok(None);
        };
        d.resolved = Some(Resolution {
            at: chrono::Utc::now(),
            note: note.to_string(),
            automatic: false,
        });
        self.put_discrepancy(&d)?;
        self.flush_blocking()?;
        Ok(Some(d))
    }
}

//! Settlement in the store: `payouts` (with their lines), `settlements`
//! (per order), `discrepancies`, and each account's payout cursor in
//! `cursors`.
//!
//! A payout, its lines and the account's cursor commit in one transaction;
//! reconciliation writes only what changed, so running it again over the
//! same payouts writes nothing.

use super::{Store, StoreError, decode, encode, key};
use crate::settlement::records::{
    Discrepancy, OrderSettlement, PayoutCursor, PayoutRecord, Resolution,
};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

fn cursor_key(seller: &str, account: &str) -> Vec<u8> {
    key(&[seller, &format!("settlement:{account}"), "payouts"])
}

impl Store {
    /// An account's payout cursor.
    pub fn payout_cursor(&self, seller: &str, account: &str) -> Result<PayoutCursor, StoreError> {
        self.cursors
            .get(cursor_key(seller, account))?
            .map(|v| decode("cursors", &v))
            .transpose()
            .map(Option::unwrap_or_default)
    }

    /// Set an account's payout cursor.
    pub fn put_payout_cursor(
        &self,
        seller: &str,
        account: &str,
        cursor: &PayoutCursor,
    ) -> Result<(), StoreError> {
        self.cursors
            .insert(cursor_key(seller, account), encode(cursor))?;
        self.db.flush()?;
        Ok(())
    }

    /// A stored payout.
    pub fn payout(
        &self,
        seller: &str,
        account: &str,
        id: &str,
    ) -> Result<Option<PayoutRecord>, StoreError> {
        self.payouts
            .get(key(&[seller, account, id]))?
            .map(|v| decode("payouts", &v))
            .transpose()
    }

    /// Store a payout with its lines and move the account's cursor, in one
    /// transaction; unchanged bytes are not rewritten.
    pub fn commit_payout(
        &self,
        record: &PayoutRecord,
        cursor: &PayoutCursor,
    ) -> Result<bool, StoreError> {
        let (k, v) = (
            key(&[&record.seller, &record.account, &record.payout.external_id]),
            encode(record),
        );
        let (ck, cv) = (cursor_key(&record.seller, &record.account), encode(cursor));
        let changed = (&self.payouts, &self.cursors)
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
        self.db.flush()?;
        Ok(changed)
    }

    /// Every stored payout, optionally of one seller.
    pub fn payouts(&self, seller: Option<&str>) -> Result<Vec<PayoutRecord>, StoreError> {
        let prefix = seller.map(|s| key(&[s, ""])).unwrap_or_default();
        self.payouts
            .scan_prefix(prefix)
            .map(|item| decode("payouts", &item?.1))
            .collect()
    }

    /// Write an order's settlement if it changed; `true` when written.
    pub fn put_settlement(&self, s: &OrderSettlement) -> Result<bool, StoreError> {
        let (k, v) = (key(&[&s.seller, &s.channel, &s.order_id]), encode(s));
        if self
            .settlements
            .get(&k)?
            .is_some_and(|old| old.as_ref() == v.as_slice())
        {
            return Ok(false);
        }
        self.settlements.insert(k, v)?;
        Ok(true)
    }

    /// Every order settlement, optionally of one seller.
    pub fn settlements(&self, seller: Option<&str>) -> Result<Vec<OrderSettlement>, StoreError> {
        let prefix = seller.map(|s| key(&[s, ""])).unwrap_or_default();
        self.settlements
            .scan_prefix(prefix)
            .map(|item| decode("settlements", &item?.1))
            .collect()
    }

    /// A discrepancy by id.
    pub fn discrepancy(&self, id: &str) -> Result<Option<Discrepancy>, StoreError> {
        self.discrepancies
            .get(id.as_bytes())?
            .map(|v| decode("discrepancies", &v))
            .transpose()
    }

    /// Write a discrepancy if it changed; `true` when written.
    pub fn put_discrepancy(&self, d: &Discrepancy) -> Result<bool, StoreError> {
        let v = encode(d);
        if self
            .discrepancies
            .get(d.id.as_bytes())?
            .is_some_and(|old| old.as_ref() == v.as_slice())
        {
            return Ok(false);
        }
        self.discrepancies.insert(d.id.as_bytes(), v)?;
        Ok(true)
    }

    /// Every discrepancy, optionally only open ones.
    pub fn discrepancies(&self, open_only: bool) -> Result<Vec<Discrepancy>, StoreError> {
        let mut all: Vec<Discrepancy> = self
            .discrepancies
            .iter()
            .map(|item| decode("discrepancies", &item?.1))
            .collect::<Result<_, _>>()?;
        if open_only {
            all.retain(|d| d.resolved.is_none());
        }
        Ok(all)
    }

    /// Close a discrepancy by hand.
    pub fn resolve_discrepancy(
        &self,
        id: &str,
        note: &str,
    ) -> Result<Option<Discrepancy>, StoreError> {
        let Some(mut d) = self.discrepancy(id)? else {
            return Ok(None);
        };
        d.resolved = Some(Resolution {
            at: chrono::Utc::now(),
            note: note.to_string(),
            automatic: false,
        });
        self.put_discrepancy(&d)?;
        self.db.flush()?;
        Ok(Some(d))
    }
}

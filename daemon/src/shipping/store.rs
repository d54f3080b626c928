//! Shipment records in the store: trees the shipping workflow owns.
//!
//! | tree                | key                                  | value                      |
//! |---------------------|--------------------------------------|----------------------------|
//! | `shipments`         | `seller \0 channel \0 external_id`   | JSON envelope of the record |
//! | `shipments_pending` | the same key                         | empty                      |
//!
//! `shipments_pending` indexes the records a pass must look at although
//! their order did not change: active ones (a retry is due), ones held by
//! the workflow before quoting (planned again every pass), and shipped ones
//! whose tracking is still followed. A record and its index entry are
//! written in one transaction.
//!
//! Every write is flushed before it returns: the workflow writes a stage
//! *before* the external call that leads out of it, so after a crash the
//! record always tells whether a label may have been bought.

use super::record::{ShipmentRecord, Stage, Status};
use crate::model::TrackingStatus;
use crate::store::{Store, StoreError, decode, encode, key};
use sled::Transactional;
use sled::transaction::TransactionError;

const SHIPMENTS: &str = "shipments";
const PENDING: &str = "shipments_pending";

/// Whether a pass must look at `rec` even if its order did not change.
pub fn needs_attention(rec: &ShipmentRecord) -> bool {
    match rec.status {
        Status::Active => true,
        Status::Held => !rec.held_by_user && rec.stage == Stage::Intent,
        Status::Done => !rec
            .tracking
            .as_ref()
            .and_then(|t| t.events.last())
            .is_some_and(|e| {
                matches!(
                    e.status,
                    TrackingStatus::Delivered | TrackingStatus::Returned
                )
            }),
        Status::DeadLetter | Status::Skipped | Status::DryRun => false,
    }
}

/// The shipping workflow's records, on the store.
pub trait ShipmentStore {
    /// The record of one order, if any.
    fn shipment(
        &self,
        seller: &str,
        channel: &str,
        order: &str,
    ) -> Result<Option<ShipmentRecord>, StoreError>;
    /// Write a record (and its index entry) and make it durable.
    fn put_shipment(&self, record: &ShipmentRecord) -> Result<(), StoreError>;
    /// Every record, optionally of one seller, in key order.
    fn shipments(&self, seller: Option<&str>) -> Result<Vec<ShipmentRecord>, StoreError>;
    /// Records whose order id or number (`#1001` or `1001`) is `id`.
    fn find_shipments(&self, id: &str) -> Result<Vec<ShipmentRecord>, StoreError>;
    /// `(channel, order id)` of a seller's records that need attention.
    fn pending_shipments(&self, seller: &str) -> Result<Vec<(String, String)>, StoreError>;
    /// Take a record out of the index (its tracking is no longer followed).
    fn forget_pending(&self, record: &ShipmentRecord) -> Result<(), StoreError>;
}

fn seller_prefix(seller: Option<&str>) -> Vec<u8> {
    seller
        .map(|s| {
            let mut k = s.as_bytes().to_vec();
            k.push(0);
            k
        })
        .unwrap_or_default()
}

impl ShipmentStore for Store {
    fn shipment(
        &self,
        seller: &str,
        channel: &str,
        order: &str,
    ) -> Result<Option<ShipmentRecord>, StoreError> {
        self.tree(SHIPMENTS)?
            .get(key(&[seller, channel, order]))?
            .map(|v| decode("shipments", &v))
            .transpose()
    }

    fn put_shipment(&self, record: &ShipmentRecord) -> Result<(), StoreError> {
        let (shipments, pending) = (self.tree(SHIPMENTS)?, self.tree(PENDING)?);
        let k = key(&[&record.seller, &record.channel, &record.order_id]);
        let v = encode(record);
        let attention = needs_attention(record);
        (&shipments, &pending)
            .transaction(|(shipments, pending)| {
                shipments.insert(k.as_slice(), v.as_slice())?;
                if attention {
                    pending.insert(k.as_slice(), &[])?;
                } else {
                    pending.remove(k.as_slice())?;
                }
                Ok(())
            })
            .map_err(|e: TransactionError<()>| match e {
                TransactionError::Storage(s) => StoreError::Sled(s),
                TransactionError::Abort(()) => StoreError::Other("shipment write aborted".into()),
            })?;
        self.flush_blocking()
    }

    fn shipments(&self, seller: Option<&str>) -> Result<Vec<ShipmentRecord>, StoreError> {
        self.tree(SHIPMENTS)?
            .scan_prefix(seller_prefix(seller))
            .map(|item| decode("shipments", &item?.1))
            .collect()
    }

    fn find_shipments(&self, id: &str) -> Result<Vec<ShipmentRecord>, StoreError> {
        let wanted = id.trim_start_matches('#');
        Ok(self
            .shipments(None)?
            .into_iter()
            .filter(|r| r.order_id == id || r.order_number.trim_start_matches('#') == wanted)
            .collect())
    }

    fn pending_shipments(&self, seller: &str) -> Result<Vec<(String, String)>, StoreError> {
        let mut out = Vec::new();
        for item in self.tree(PENDING)?.scan_prefix(seller_prefix(Some(seller))) {
            let (k, _) = item?;
            let mut parts = k.split(|b| *b == 0).skip(1);
            let (Some(channel), Some(order)) = (parts.next(), parts.next()) else {
                continue;
            };
            out.push((
                String::from_utf8_lossy(channel).into_owned(),
                String::from_utf8_lossy(order).into_owned(),
            ));
        }
        Ok(out)
    }

    fn forget_pending(&self, record: &ShipmentRecord) -> Result<(), StoreError> {
        self.tree(PENDING)?
            .remove(key(&[&record.seller, &record.channel, &record.order_id]))?;
        Ok(())
    }
}

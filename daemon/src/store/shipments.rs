//! Shipment records, one per order, in the `shipments` tree.
//!
//! Every write is flushed before it returns: the workflow writes a stage
//! *before* the external call that leads out of it, so after a crash the
//! record always tells whether a label may have been bought.

use super::{Store, StoreError, decode, encode, key};
use crate::shipping::record::ShipmentRecord;

impl Store {
    /// The record of one order, if any.
    pub fn shipment(
        &self,
        seller: &str,
        channel: &str,
        order: &str,
    ) -> Result<Option<ShipmentRecord>, StoreError> {
        self.shipments
            .get(key(&[seller, channel, order]))?
            .map(|v| decode("shipments", &v))
            .transpose()
    }

    /// Write a record and make it durable.
    pub fn put_shipment(&self, record: &ShipmentRecord) -> Result<(), StoreError> {
        self.shipments.insert(
            key(&[&record.seller, &record.channel, &record.order_id]),
            encode(record),
        )?;
        self.shipments.flush()?;
        Ok(())
    }

    /// Every record, optionally of one seller, in key order.
    pub fn shipments(&self, seller: Option<&str>) -> Result<Vec<ShipmentRecord>, StoreError> {
        let prefix = seller
            .map(|s| {
                let mut k = s.as_bytes().to_vec();
                k.push(0);
                k
            })
            .unwrap_or_default();
        self.shipments
            .scan_prefix(prefix)
            .map(|item| decode("shipments", &item?.1))
            .collect()
    }

    /// Records whose order id or number (`#1001` or `1001`) is `id`.
    pub fn find_shipments(&self, id: &str) -> Result<Vec<ShipmentRecord>, StoreError> {
        let wanted = id.trim_start_matches('#');
        Ok(self
            .shipments(None)?
            .into_iter()
            .filter(|r| r.order_id == id || r.order_number.trim_start_matches('#') == wanted)
            .collect())
    }
}

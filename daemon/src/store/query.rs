//! Reading orders back: listing, one order, export and import.

use super::orders::{decode_order, encode_order};
use super::{Store, StoreError, key};
use crate::model::{Order, PaymentStatus};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};

/// An order with the seller and channel it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredOrder {
    pub seller: String,
    pub channel: String,
    pub order: Order,
}

/// One line of `tradelane export --format jsonl`.
pub type ExportLine = StoredOrder;

/// Which orders to list.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OrderFilter {
    pub seller: Option<String>,
    pub channel: Option<String>,
    pub payment_status: Option<PaymentStatus>,
    /// Updated at or after.
    pub since: Option<DateTime<Utc>>,
    pub limit: Option<usize>,
}

fn split_key(k: &[u8]) -> Option<(String, String)> {
    let mut parts = k.split(|b| *b == 0);
    let seller = String::from_utf8(parts.next()?.to_vec()).ok()?;
    let channel = String::from_utf8(parts.next()?.to_vec()).ok()?;
    Some((seller, channel))
}

impl Store {
    /// One order by its full key, if stored.
    pub fn order(
        &self,
        seller: &str,
        channel: &str,
        external_id: &str,
    ) -> Result<Option<StoredOrder>, StoreError> {
        self.orders
            .get(key(&[seller, channel, external_id]))?
            .map(|v| {
                Ok(StoredOrder {
                    seller: seller.to_string(),
                    channel: channel.to_string(),
                    order: decode_order(&v)?,
                })
            })
            .transpose()
    }

    /// Orders matching `filter`, in key order (seller, channel, id).
    pub fn list_orders(&self, filter: &OrderFilter) -> Result<Vec<StoredOrder>, StoreError> {
        let prefix = match (&filter.seller, &filter.channel) {
            (Some(s), Some(c)) => {
                let mut k = key(&[s, c]);
                k.push(0);
                k
            }
            (Some(s), None) => {
                let mut k = s.as_bytes().to_vec();
                k.push(0);
                k
            }
            _ => Vec::new(),
        };
        let mut out = Vec::new();
        for item in self.orders.scan_prefix(prefix) {
            let (k, v) = item?;
            let Some((seller, channel)) = split_key(&k) else {
                continue;
            };
            if filter.channel.as_ref().is_some_and(|c| c != &channel) {
                continue;
            }
            let order = decode_order(&v)?;
            if filter
                .payment_status
                .is_some_and(|p| p != order.payment_status)
            {
                continue;
            }
            if filter.since.is_some_and(|s| order.updated_at < s) {
                continue;
            }
            out.push(StoredOrder {
                seller,
                channel,
                order,
            });
            if filter.limit.is_some_and(|l| out.len() >= l) {
                break;
            }
        }
        Ok(out)
    }

    /// Orders whose external id or number (with or without `#`) is `id`,
    /// in any seller or channel.
    pub fn find_order(&self, id: &str) -> Result<Vec<StoredOrder>, StoreError> {
        let wanted = id.trim_start_matches('#');
        let mut found = Vec::new();
        for item in self.orders.iter() {
            let (k, v) = item?;
            let Some((seller, channel)) = split_key(&k) else {
                continue;
            };
            let order = decode_order(&v)?;
            if order.external_id == id || order.number.trim_start_matches('#') == wanted {
                found.push(StoredOrder {
                    seller,
                    channel,
                    order,
                });
            }
        }
        Ok(found)
    }

    /// Number of orders stored.
    pub fn order_count(&self) -> usize {
        self.orders.len()
    }

    /// Orders stored per `seller/channel` (one pass over the keys).
    pub fn orders_per_channel(&self) -> std::collections::BTreeMap<String, u64> {
        let mut counts = std::collections::BTreeMap::new();
        let mut last: Option<(Vec<u8>, String)> = None;
        for key in self.orders.iter().keys().flatten() {
            // Keys sort by seller and channel: the prefix repeats.
            let prefix_len = key
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == 0)
                .nth(1)
                .map_or(key.len(), |(i, _)| i);
            let prefix = &key[..prefix_len];
            let label = match &last {
                Some((p, label)) if p.as_slice() == prefix => label.clone(),
                _ => {
                    let Some((seller, channel)) = split_key(&key) else {
                        continue;
                    };
                    let label = format!("{seller}/{channel}");
                    last = Some((prefix.to_vec(), label.clone()));
                    label
                }
            };
            *counts.entry(label).or_insert(0) += 1;
        }
        counts
    }

    /// Write every order as JSON lines.
    pub fn export(&self, out: &mut dyn Write) -> Result<usize, StoreError> {
        let mut n = 0;
        for item in self.orders.iter() {
            let (k, v) = item?;
            let Some((seller, channel)) = split_key(&k) else {
                continue;
            };
            let line = StoredOrder {
                seller,
                channel,
                order: decode_order(&v)?,
            };
            serde_json::to_writer(&mut *out, &line)
                .map_err(|e| StoreError::Other(e.to_string()))?;
            out.write_all(b"\n")
                .map_err(|e| StoreError::Other(e.to_string()))?;
            n += 1;
        }
        Ok(n)
    }

    /// Load an export into this store, which must hold no orders.
    pub fn import(&self, input: &mut dyn BufRead) -> Result<usize, StoreError> {
        if !self.orders.is_empty() {
            return Err(StoreError::Other(format!(
                "the store already holds {} orders; import only into an empty data_dir",
                self.orders.len()
            )));
        }
        let mut n = 0;
        let mut batch = sled::Batch::default();
        for (i, line) in input.lines().enumerate() {
            let line = line.map_err(|e| StoreError::Other(e.to_string()))?;
            if line.trim().is_empty() {
                continue;
            }
            let entry: StoredOrder = serde_json::from_str(&line).map_err(|e| {
                StoreError::Other(format!("line {}: not an exported order: {e}", i + 1))
            })?;
            batch.insert(
                key(&[&entry.seller, &entry.channel, &entry.order.external_id]),
                encode_order(&entry.order),
            );
            n += 1;
        }
        self.orders.apply_batch(batch)?;
        self.db.flush()?;
        Ok(n)
    }
}

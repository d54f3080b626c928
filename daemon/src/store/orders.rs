//! Upserting pages of orders together with the cursor that follows them.

use super::{SCHEMA, Store, StoreError, decode, encode, key};
use crate::model::Order;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

/// Where a channel's incremental sync stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncCursor {
    /// `(updated_at, external_id)` up to which every order is known to be
    /// stored, as of the last completed pass. Never moves backwards.
    pub watermark: Option<(DateTime<Utc>, String)>,
    /// A pass in progress (survives a crash; the next run starts it over
    /// from `since`).
    pub pass: Option<PassState>,
    /// When the last pass completed.
    pub last_completed: Option<DateTime<Utc>>,
}

/// A pass in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassState {
    /// `updated_after` the pass reads from (watermark minus lookback).
    pub since: Option<DateTime<Utc>>,
    /// The newest order seen so far in this pass.
    pub max_seen: Option<(DateTime<Utc>, String)>,
    pub started_at: DateTime<Utc>,
    pub pages: u32,
}

/// What one page did to the store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageOutcome {
    pub created: u32,
    pub updated: u32,
    pub unchanged: u32,
    /// Older than what is stored (kept the stored one).
    pub stale: u32,
    /// Refused by validation and kept in quarantine.
    pub quarantined: u32,
}

/// An order in quarantine: what the plugin returned was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineEntry {
    pub seller: String,
    pub channel: String,
    pub external_id: String,
    pub reason: String,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// How many passes returned it invalid.
    pub times: u32,
}

/// Orders one channel may keep in quarantine; past it, new ones are only
/// counted (the pass summary and the log still report them).
pub const MAX_QUARANTINED_PER_CHANNEL: usize = 10_000;

/// A change event, appended to `events` for downstream consumers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChangeEvent {
    pub kind: ChangeKind,
    pub seller: String,
    pub channel: String,
    pub external_id: String,
    pub updated_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
}

/// What changed.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Created,
    Updated,
}

/// Header + JSON, see the module doc of `store`.
pub(crate) fn encode_order(order: &Order) -> Vec<u8> {
    let mut v = Vec::with_capacity(2048);
    v.push(SCHEMA);
    v.extend_from_slice(&order.updated_at.timestamp_micros().to_be_bytes());
    serde_json::to_writer(&mut v, order).unwrap_or_default();
    v
}

/// How many bytes `order` takes stored (header + JSON).
pub fn encoded_order_len(order: &Order) -> usize {
    let mut counter = ByteCount(9);
    let _ = serde_json::to_writer(&mut counter, order);
    counter.0
}

/// A writer that only counts.
struct ByteCount(usize);

impl std::io::Write for ByteCount {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub(crate) fn order_header(bytes: &[u8]) -> Result<i64, StoreError> {
    if bytes.len() < 9 || bytes[0] != SCHEMA {
        return Err(StoreError::Corrupt {
            tree: "orders",
            detail: "bad envelope header".into(),
        });
    }
    let mut ts = [0u8; 8];
    ts.copy_from_slice(&bytes[1..9]);
    Ok(i64::from_be_bytes(ts))
}

pub(crate) fn decode_order(bytes: &[u8]) -> Result<Order, StoreError> {
    order_header(bytes)?;
    serde_json::from_slice(&bytes[9..]).map_err(|e| StoreError::Corrupt {
        tree: "orders",
        detail: e.to_string(),
    })
}

impl Store {
    /// The cursor of `stream` for a channel.
    pub fn cursor(
        &self,
        seller: &str,
        channel: &str,
        stream: &str,
    ) -> Result<SyncCursor, StoreError> {
        match self.cursors.get(key(&[seller, channel, stream]))? {
            Some(bytes) => decode("cursors", &bytes),
            None => Ok(SyncCursor::default()),
        }
    }

    /// Write a cursor alone (starting a pass).
    pub fn put_cursor(
        &self,
        seller: &str,
        channel: &str,
        stream: &str,
        cursor: &SyncCursor,
    ) -> Result<(), StoreError> {
        self.cursors
            .insert(key(&[seller, channel, stream]), encode(cursor))?;
        Ok(())
    }

    /// Upsert a page of orders and write `cursor`, atomically.
    ///
    /// An order replaces the stored one only if it is newer by the
    /// channel's `updated_at`, or as new but different in content; equal
    /// bytes are left alone and produce no event.
    pub fn commit_page(
        &self,
        seller: &str,
        channel: &str,
        stream: &str,
        orders: &[Order],
        cursor: &SyncCursor,
    ) -> Result<PageOutcome, StoreError> {
        self.commit_page_with(seller, channel, stream, orders, &[], cursor)
    }

    /// [`Store::commit_page`], also putting the page's refused orders in
    /// quarantine (and taking out of it the ones that came back valid), in
    /// the same transaction.
    pub fn commit_page_with(
        &self,
        seller: &str,
        channel: &str,
        stream: &str,
        orders: &[Order],
        quarantined: &[crate::model::Quarantined],
        cursor: &SyncCursor,
    ) -> Result<PageOutcome, StoreError> {
        let now_q = Utc::now();
        let room = if quarantined.is_empty() {
            0
        } else {
            MAX_QUARANTINED_PER_CHANNEL.saturating_sub(
                self.quarantine
                    .scan_prefix(key(&[seller, channel, ""]))
                    .count(),
            )
        };
        let mut q_entries = Vec::with_capacity(quarantined.len());
        for q in quarantined {
            let k = key(&[seller, channel, &q.external_id]);
            let mut entry = match self.quarantine.get(&k)? {
                Some(old) => decode::<QuarantineEntry>("quarantine", &old)?,
                None if q_entries.len() >= room => continue,
                None => QuarantineEntry {
                    seller: seller.to_string(),
                    channel: channel.to_string(),
                    external_id: q.external_id.clone(),
                    reason: String::new(),
                    first_seen: now_q,
                    last_seen: now_q,
                    times: 0,
                },
            };
            entry.reason = q.reason.clone();
            entry.last_seen = now_q;
            entry.times = entry.times.saturating_add(1);
            q_entries.push((k, encode(&entry)));
        }
        let encoded: Vec<(Vec<u8>, Vec<u8>, &Order)> = orders
            .iter()
            .map(|o| (key(&[seller, channel, &o.external_id]), encode_order(o), o))
            .collect();
        let cursor_key = key(&[seller, channel, stream]);
        let cursor_value = encode(cursor);
        let now = Utc::now();
        let _serial = self.commit_lock.lock().unwrap_or_else(|p| p.into_inner());
        let held = self.channel_bytes(seller, channel)?;
        let incoming: u64 = encoded
            .iter()
            .map(|(k, v, _)| (k.len() + v.len()) as u64)
            .sum();
        let cap = self.channel_cap();
        if held.saturating_add(incoming) > cap {
            return Err(StoreError::ChannelFull {
                channel: format!("{seller}/{channel}"),
                held_mb: held >> 20,
                cap_mb: cap >> 20,
            });
        }
        let result = (&self.orders, &self.cursors, &self.events, &self.quarantine).transaction(
            |(tx_orders, tx_cursors, tx_events, tx_quarantine)| {
                let mut outcome = PageOutcome {
                    quarantined: quarantined.len() as u32,
                    ..PageOutcome::default()
                };
                let mut newest = None;
                let mut delta: i64 = 0;
                for (k, v) in &q_entries {
                    tx_quarantine.insert(k.as_slice(), v.as_slice())?;
                }
                for (k, v, order) in &encoded {
                    // Valid now: out of quarantine.
                    tx_quarantine.remove(k.as_slice())?;
                    let existing = tx_orders.get(k)?;
                    let old_len = existing.as_ref().map_or(0, |e| (k.len() + e.len()) as i64);
                    let kind = match existing {
                        None => Some(ChangeKind::Created),
                        Some(existing) if existing.as_ref() == v.as_slice() => None,
                        Some(existing) => {
                            let stored_at = order_header(&existing)
                                .map_err(ConflictableTransactionError::Abort)?;
                            let incoming_at = order.updated_at.timestamp_micros();
                            if incoming_at < stored_at {
                                outcome.stale += 1;
                                continue;
                            }
                            Some(ChangeKind::Updated)
                        }
                    };
                    match kind {
                        None => outcome.unchanged += 1,
                        Some(kind) => {
                            match kind {
                                ChangeKind::Created => outcome.created += 1,
                                ChangeKind::Updated => outcome.updated += 1,
                            }
                            tx_orders.insert(k.as_slice(), v.as_slice())?;
                            delta += (k.len() + v.len()) as i64 - old_len;
                            let event = ChangeEvent {
                                kind,
                                seller: seller.to_string(),
                                channel: channel.to_string(),
                                external_id: order.external_id.clone(),
                                updated_at: order.updated_at,
                                recorded_at: now,
                            };
                            let id = tx_events.generate_id()?;
                            tx_events.insert(&id.to_be_bytes(), encode(&event))?;
                            newest = Some(id);
                        }
                    }
                }
                tx_cursors.insert(cursor_key.as_slice(), cursor_value.as_slice())?;
                Ok((outcome, newest, delta))
            },
        );
        match result {
            Ok((outcome, newest, delta)) => {
                if let Some(id) = newest {
                    self.appended(id);
                }
                self.add_channel_bytes(seller, channel, delta);
                Ok(outcome)
            }
            Err(TransactionError::Abort(e)) => Err(e),
            Err(TransactionError::Storage(e)) => Err(StoreError::Sled(e)),
        }
    }
}

impl Store {
    /// Orders in quarantine, optionally of one seller.
    pub fn quarantined(&self, seller: Option<&str>) -> Result<Vec<QuarantineEntry>, StoreError> {
        let prefix = seller.map(|s| key(&[s, ""])).unwrap_or_default();
        self.quarantine
            .scan_prefix(prefix)
            .map(|item| decode("quarantine", &item?.1))
            .collect()
    }

    /// Take one order out of quarantine (its channel no longer has it).
    pub fn release_quarantined(
        &self,
        seller: &str,
        channel: &str,
        external_id: &str,
    ) -> Result<(), StoreError> {
        self.quarantine
            .remove(key(&[seller, channel, external_id]))
            .map_err(|e| self.noting(e.into()))?;
        Ok(())
    }

    /// How many orders are in quarantine.
    pub fn quarantine_count(&self) -> usize {
        self.quarantine.len()
    }
}

//! Change events: every created or updated order appends one, in the same
//! transaction as the order. Consumers (the workflows, an exporter to a
//! broker) read them by their own persisted position.
//!
//! Ids come from sled's `generate_id`, which is monotonic across restarts
//! and crashes, and page commits are serialised, so events become visible
//! in id order: a consumer that has read up to id N never later finds an
//! event below N.

use super::orders::ChangeEvent;
use super::{Store, StoreError, decode, key};

/// Events read per call of [`Store::events_after`] at most.
pub const EVENT_BATCH: usize = 10_000;

impl Store {
    /// The id of the newest event (0 when there is none).
    pub fn last_event_id(&self) -> Result<u64, StoreError> {
        Ok(self.events.last()?.map_or(0, |(k, _)| id_of(&k)))
    }

    /// Events with an id above `after`, oldest first, at most [`EVENT_BATCH`].
    pub fn events_after(&self, after: u64) -> Result<Vec<(u64, ChangeEvent)>, StoreError> {
        let start = after.saturating_add(1).to_be_bytes();
        self.events
            .range(start..)
            .take(EVENT_BATCH)
            .map(|item| {
                let (k, v) = item?;
                Ok((id_of(&k), decode("events", &v)?))
            })
            .collect()
    }

    /// Where `consumer` stands in the events: the last id it handled, or
    /// `None` if it never read them.
    pub fn event_position(&self, consumer: &str) -> Result<Option<u64>, StoreError> {
        self.cursors
            .get(position_key(consumer))?
            .map(|v| decode("cursors", &v))
            .transpose()
    }

    /// Record that `consumer` handled every event up to `id`.
    pub fn set_event_position(&self, consumer: &str, id: u64) -> Result<(), StoreError> {
        self.cursors
            .insert(position_key(consumer), super::encode(&id))?;
        Ok(())
    }
}

fn position_key(consumer: &str) -> Vec<u8> {
    key(&["", consumer, "events"])
}

fn id_of(k: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    let n = k.len().min(8);
    b[8 - n..].copy_from_slice(&k[..n]);
    u64::from_be_bytes(b)
}

//! Change events: every created or updated order appends one, in the same
//! transaction as the order. Consumers (the workflows, an exporter to a
//! broker) read them by their own persisted position.
//!
//! Ids come from sled's `generate_id`, which is monotonic across restarts
//! and crashes, and page commits are serialised, so events become visible
//! in id order: a consumer that has read every id below N never later
//! finds an event below N. A consumer's position is the first id it has
//! not handled yet (ids start at 0).

use super::orders::ChangeEvent;
use super::{Store, StoreError, decode, key};
use std::sync::atomic::Ordering;

/// Events read per call of [`Store::events_from`] at most.
pub const EVENT_BATCH: usize = 10_000;

impl Store {
    /// The id after the newest event (0 when there is none): the position
    /// of a consumer that has handled everything so far.
    pub fn event_tail(&self) -> Result<u64, StoreError> {
        Ok(self.event_tail.load(Ordering::Acquire))
    }

    /// Note that events up to `id` are committed (under the commit lock).
    pub(super) fn appended(&self, id: u64) {
        self.event_tail
            .fetch_max(id.saturating_add(1), Ordering::AcqRel);
    }

    /// Events with an id at or above `from`, oldest first, at most [`EVENT_BATCH`].
    pub fn events_from(&self, from: u64) -> Result<Vec<(u64, ChangeEvent)>, StoreError> {
        self.events
            .range(from.to_be_bytes()..)
            .take(EVENT_BATCH)
            .map(|item| {
                let (k, v) = item?;
                Ok((id_of(&k), decode("events", &v)?))
            })
            .collect()
    }

    /// Where `consumer` stands in the events: the first id it has not
    /// handled, or `None` if it never read them.
    pub fn event_position(&self, consumer: &str) -> Result<Option<u64>, StoreError> {
        self.cursors
            .get(position_key(consumer))?
            .map(|v| decode("cursors", &v))
            .transpose()
    }

    /// Record that `consumer` handled every event below `position`.
    pub fn set_event_position(&self, consumer: &str, position: u64) -> Result<(), StoreError> {
        self.cursors
            .insert(position_key(consumer), super::encode(&position))?;
        Ok(())
    }
}

/// The tail of an events tree, read once at open.
pub(super) fn tail_of(events: &sled::Tree) -> Result<u64, StoreError> {
    Ok(events
        .last()?
        .map_or(0, |(k, _)| id_of(&k).saturating_add(1)))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SyncCursor;

    fn order(id: &str, second: i64) -> crate::model::Order {
        let text = format!(
            r##"{{"external_id":"{id}","number":"#{id}","created_at":"2026-11-01T00:00:00Z","updated_at":"2026-11-01T00:00:{second:02}Z","status":"open","payment_status":"paid","fulfillment_status":"unfulfilled","currency":"EUR","totals":{{"subtotal":{{"amount_minor":100,"currency":"EUR"}},"shipping":{{"amount_minor":0,"currency":"EUR"}},"tax":{{"amount_minor":0,"currency":"EUR"}},"discount":{{"amount_minor":0,"currency":"EUR"}},"total":{{"amount_minor":100,"currency":"EUR"}}}},"buyer":null,"shipping_address":null,"billing_address":null,"line_items":[],"shipping_lines":[],"tax_ids":[],"marketplace_collected_tax":false,"taxes_included":false,"tags":[]}}"##
        );
        serde_json::from_str(&text).expect("an order")
    }

    #[test]
    fn events_come_in_id_order_and_positions_persist() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.event_tail().unwrap(), 0);
        let cursor = SyncCursor::default();
        store
            .commit_page(
                "a",
                "c1",
                "orders",
                &[order("1", 1), order("2", 1)],
                &cursor,
            )
            .unwrap();
        store
            .commit_page("b", "c2", "orders", &[order("3", 1)], &cursor)
            .unwrap();
        // Unchanged: no event. Newer: one.
        store
            .commit_page(
                "a",
                "c1",
                "orders",
                &[order("1", 1), order("2", 2)],
                &cursor,
            )
            .unwrap();
        let all = store.events_from(0).unwrap();
        let seen: Vec<(&str, &str)> = all
            .iter()
            .map(|(_, e)| (e.seller.as_str(), e.external_id.as_str()))
            .collect();
        assert_eq!(seen, [("a", "1"), ("a", "2"), ("b", "3"), ("a", "2")]);
        assert!(all.windows(2).all(|w| w[0].0 < w[1].0));
        let tail = store.event_tail().unwrap();
        assert_eq!(tail, all.last().unwrap().0 + 1);
        let from_fourth = store.events_from(all[2].0 + 1).unwrap();
        assert_eq!(from_fourth.len(), 1);
        assert!(store.events_from(tail).unwrap().is_empty());

        assert_eq!(store.event_position("shipping:a").unwrap(), None);
        store.set_event_position("shipping:a", tail).unwrap();
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.event_position("shipping:a").unwrap(), Some(tail));
        assert_eq!(store.event_position("shipping:b").unwrap(), None);
    }
}

//! The persisted per-channel cache behind the plugins' `cache` import.

use super::{Store, key};
use crate::host::PluginCache;
use chrono::Utc;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Entry {
    expires_at: i64,
    value: String,
}

/// One channel's view of the cache tree.
pub struct StoreCache {
    store: Store,
    seller: String,
    channel: String,
}

impl StoreCache {
    /// The cache of `seller`/`channel`.
    pub fn new(store: Store, seller: &str, channel: &str) -> Self {
        StoreCache {
            store,
            seller: seller.to_string(),
            channel: channel.to_string(),
        }
    }
}

impl PluginCache for StoreCache {
    fn get(&self, k: &str) -> Option<String> {
        let bytes = self
            .store
            .cache
            .get(key(&[&self.seller, &self.channel, k]))
            .ok()??;
        let entry: Entry = serde_json::from_slice(&bytes).ok()?;
        (entry.expires_at > Utc::now().timestamp()).then_some(entry.value)
    }

    fn set(&self, k: &str, value: &str, ttl_seconds: u32) {
        let entry = Entry {
            expires_at: Utc::now().timestamp() + i64::from(ttl_seconds),
            value: value.to_string(),
        };
        if let Ok(bytes) = serde_json::to_vec(&entry) {
            let _ = self
                .store
                .cache
                .insert(key(&[&self.seller, &self.channel, k]), bytes);
        }
    }
}

//! The persisted per-channel cache behind the plugins' `cache` import.
//!
//! Bounded per channel: at most [`MAX_ENTRIES`] entries and `max_bytes`
//! of keys and values (`[daemon.plugins] cache_kb`). A write first drops
//! the channel's expired entries, then, while the new entry would not
//! fit, the ones closest to expiry; an entry larger than the whole budget
//! is not kept. A plugin that writes without end keeps a full cache, not
//! a growing store.

use super::{Store, key};
use crate::host::PluginCache;
use chrono::Utc;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Entry {
    expires_at: i64,
    value: String,
}

/// Entries one channel may keep.
pub const MAX_ENTRIES: usize = 256;
/// Default of `[daemon.plugins] cache_kb`.
pub const DEFAULT_CACHE_KB: u32 = 1024;

/// One channel's view of the cache tree.
pub struct StoreCache {
    store: Store,
    seller: String,
    channel: String,
    max_bytes: usize,
}

impl StoreCache {
    /// The cache of `seller`/`channel`, holding at most `max_bytes`.
    pub fn new(store: Store, seller: &str, channel: &str, max_bytes: usize) -> Self {
        StoreCache {
            store,
            seller: seller.to_string(),
            channel: channel.to_string(),
            max_bytes,
        }
    }

    fn prefix(&self) -> Vec<u8> {
        key(&[&self.seller, &self.channel, ""])
    }

    /// Make room for an entry of `incoming` bytes under `k`: drop expired
    /// entries, then the soonest to expire, until it fits.
    fn make_room(&self, k: &[u8], incoming: usize) {
        let now = Utc::now().timestamp();
        let mut live: Vec<(i64, Vec<u8>, usize)> = Vec::new();
        for item in self.store.cache.scan_prefix(self.prefix()) {
            let Ok((key, bytes)) = item else { continue };
            if key.as_ref() == k {
                continue;
            }
            let expires = serde_json::from_slice::<Entry>(&bytes)
                .map(|e| e.expires_at)
                .unwrap_or(i64::MIN);
            if expires <= now {
                let _ = self.store.cache.remove(&key);
            } else {
                live.push((expires, key.to_vec(), key.len() + bytes.len()));
            }
        }
        live.sort();
        let mut used: usize = live.iter().map(|(_, _, n)| n).sum();
        let mut count = live.len();
        for (_, key, n) in live {
            if count < MAX_ENTRIES && used + incoming <= self.max_bytes {
                break;
            }
            let _ = self.store.cache.remove(&key);
            used -= n;
            count -= 1;
        }
    }
}

/// A cache entry as stored: `(key, value)` bytes.
pub type RawEntry = (Vec<u8>, Vec<u8>);

impl Store {
    /// A channel's cache entries, raw (tests, diagnostics).
    pub fn cache_entries(
        &self,
        seller: &str,
        channel: &str,
    ) -> Result<Vec<RawEntry>, super::StoreError> {
        self.cache
            .scan_prefix(key(&[seller, channel, ""]))
            .map(|item| {
                let (k, v) = item?;
                Ok((k.to_vec(), v.to_vec()))
            })
            .collect()
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
        let Ok(bytes) = serde_json::to_vec(&entry) else {
            return;
        };
        let k = key(&[&self.seller, &self.channel, k]);
        let incoming = k.len() + bytes.len();
        if incoming > self.max_bytes {
            return;
        }
        self.make_room(&k, incoming);
        let _ = self.store.cache.insert(k, bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_cache_stays_within_its_budget() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let cache = StoreCache::new(store.clone(), "s", "c", 64 << 10);
        let other = StoreCache::new(store.clone(), "s", "d", 64 << 10);
        other.set("token", "kept", 3600);
        let value = "v".repeat(10_000);
        for i in 0..10_000 {
            cache.set(&format!("k{i}"), &value, 3600);
        }
        let held: usize = store
            .cache
            .scan_prefix(key(&["s", "c", ""]))
            .map(|i| {
                let (k, v) = i.unwrap();
                k.len() + v.len()
            })
            .sum();
        assert!(held <= 64 << 10, "{held} bytes held");
        assert_eq!(cache.get("k9999").as_deref(), Some(value.as_str()));
        assert_eq!(other.get("token").as_deref(), Some("kept"));
        // Too large for the whole budget: not kept.
        cache.set("huge", &"h".repeat(100 << 10), 3600);
        assert_eq!(cache.get("huge"), None);
        // Expired entries go first.
        let small = StoreCache::new(store.clone(), "s", "e", 1 << 20);
        for i in 0..MAX_ENTRIES {
            small.set(&format!("old{i}"), "x", 0);
        }
        small.set("fresh", "y", 3600);
        assert_eq!(store.cache.scan_prefix(key(&["s", "e", ""])).count(), 1);
    }
}

//! The `oauth` tree: host-managed OAuth tokens, one entry per channel and
//! client (`seller/channel/NAME`), saved with a flush so a rotated refresh
//! token is on disk before it is relied on. The store's files are 0600 in
//! a 0700 directory.

use super::Store;
use crate::egress::oauth::{StoredToken, TokenVault};

/// The tree's name.
pub const TREE: &str = "oauth";

/// The store as a [`TokenVault`].
pub struct StoreVault {
    store: Store,
}

impl StoreVault {
    /// Tokens kept in `store`.
    pub fn new(store: Store) -> Self {
        StoreVault { store }
    }
}

impl TokenVault for StoreVault {
    fn load(&self, key: &str) -> Option<StoredToken> {
        let tree = self.store.tree(TREE).ok()?;
        let bytes = tree.get(key.as_bytes()).ok()??;
        serde_json::from_slice(&bytes).ok()
    }

    fn save(&self, key: &str, token: &StoredToken) -> Result<(), String> {
        let bytes = serde_json::to_vec(token).map_err(|e| e.to_string())?;
        let tree = self.store.tree(TREE).map_err(|e| e.to_string())?;
        tree.insert(key.as_bytes(), bytes)
            .map_err(|e| self.store.noting(e.into()).to_string())?;
        tree.flush()
            .map_err(|e| self.store.noting(e.into()).to_string())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_token_is_there_after_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let token = StoredToken {
            configured: "d".into(),
            refresh_token: Some("rotated".into()),
            access_token: Some("a".into()),
            expires_at: Some(1),
        };
        {
            let vault = StoreVault::new(Store::open(dir.path()).unwrap());
            vault.save("demo/amazon/lwa", &token).unwrap();
        }
        let vault = StoreVault::new(Store::open(dir.path()).unwrap());
        assert_eq!(vault.load("demo/amazon/lwa"), Some(token));
        assert_eq!(vault.load("demo/amazon/other"), None);
    }
}

//! The host's other services: logging, the per-channel cache, and signing
//! with a secret the plugin never sees.

use crate::bindings::host::tradelane::plugin::{
    cache as wit_cache, log as wit_log, secrets as wit_secrets,
};

pub use wit_log::Level;

/// Write a line to the daemon's log (tagged with seller, channel and plugin).
pub fn log(level: Level, message: &str) {
    wit_log::log(level, message);
}

/// A value cached for this channel by an earlier call, if not expired.
pub fn cache_get(key: &str) -> Option<String> {
    wit_cache::get(key)
}

/// Cache `value` for this channel for `ttl_seconds` (e.g. an OAuth token).
pub fn cache_set(key: &str, value: &str, ttl_seconds: u32) {
    wit_cache::set(key, value, ttl_seconds);
}

/// HMAC-SHA256 of `message`, keyed by the secret setting named `secret`.
pub fn hmac_sha256(secret: &str, message: &[u8]) -> Result<Vec<u8>, String> {
    wit_secrets::hmac_sha256(secret, message)
}

/// Log at info level, `format!`-style.
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => { $crate::log($crate::Level::Info, &format!($($arg)*)) };
}

/// Log at warn level, `format!`-style.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => { $crate::log($crate::Level::Warn, &format!($($arg)*)) };
}

/// Log at debug level, `format!`-style.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => { $crate::log($crate::Level::Debug, &format!($($arg)*)) };
}

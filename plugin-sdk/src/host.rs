//! The host's other services: logging, the per-channel cache, and signing
//! with a secret the plugin never sees.

#[cfg_attr(not(target_arch = "wasm32"), allow(unused_imports))]
use crate::bindings::host::tradelane::plugin::{
    cache as wit_cache, log as wit_log, secrets as wit_secrets,
};

pub use wit_log::Level;

/// Write a line to the daemon's log (tagged with seller, channel and plugin).
pub fn log(level: Level, message: &str) {
    #[cfg(not(target_arch = "wasm32"))]
    crate::testkit::log(&format!("{level:?}").to_lowercase(), message);
    #[cfg(target_arch = "wasm32")]
    wit_log::log(level, message);
}

/// A value cached for this channel by an earlier call, if not expired.
pub fn cache_get(key: &str) -> Option<String> {
    #[cfg(not(target_arch = "wasm32"))]
    return crate::testkit::cache_get(key);
    #[cfg(target_arch = "wasm32")]
    wit_cache::get(key)
}

/// Cache `value` for this channel for `ttl_seconds` (e.g. an OAuth token).
pub fn cache_set(key: &str, value: &str, ttl_seconds: u32) {
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = ttl_seconds;
        crate::testkit::cache_set(key, value);
    }
    #[cfg(target_arch = "wasm32")]
    wit_cache::set(key, value, ttl_seconds);
}

/// HMAC-SHA256 of `message`, keyed by the secret setting named `secret`.
pub fn hmac_sha256(secret: &str, message: &[u8]) -> Result<Vec<u8>, String> {
    #[cfg(not(target_arch = "wasm32"))]
    let signed = {
        let _ = message;
        Err(format!(
            "hmac-sha256 with secret `{secret}` needs the host: secrets never enter a native test"
        ))
    };
    #[cfg(target_arch = "wasm32")]
    let signed = wit_secrets::hmac_sha256(secret, message);
    signed
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

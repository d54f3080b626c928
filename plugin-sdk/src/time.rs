//! Timestamps: every time in the contract is RFC 3339 in UTC.

use crate::types::PluginError;
use chrono::{DateTime, SecondsFormat, Utc};

/// Normalise any RFC 3339 time (`2008-01-10T11:00:00-05:00`) to UTC
/// (`2008-01-10T16:00:00Z`), the form the host stores and compares.
pub fn utc(text: &str) -> Result<String, PluginError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| {
            t.with_timezone(&Utc)
                .to_rfc3339_opts(SecondsFormat::AutoSi, true)
        })
        .map_err(|e| PluginError::InvalidResponse(format!("`{text}` is not an RFC 3339 time: {e}")))
}

/// Unix seconds as an RFC 3339 UTC time (for APIs such as Stripe).
pub fn from_unix(seconds: i64) -> Result<String, PluginError> {
    DateTime::<Utc>::from_timestamp(seconds, 0)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .ok_or_else(|| PluginError::InvalidResponse(format!("{seconds} is not a valid unix time")))
}

/// An RFC 3339 time as Unix seconds.
pub fn to_unix(text: &str) -> Result<i64, PluginError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp())
        .map_err(|e| PluginError::InvalidResponse(format!("`{text}` is not an RFC 3339 time: {e}")))
}

/// The current time (the host's wall clock), RFC 3339 UTC: the end of an
/// API's search window.
pub fn now() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    from_unix(seconds).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_utc() {
        assert_eq!(
            utc("2008-01-10T11:00:00-05:00").unwrap(),
            "2008-01-10T16:00:00Z"
        );
        assert_eq!(
            utc("2026-01-01T00:00:00.250Z").unwrap(),
            "2026-01-01T00:00:00.250Z"
        );
        assert!(utc("yesterday").is_err());
        assert_eq!(from_unix(0).unwrap(), "1970-01-01T00:00:00Z");
    }
}

//! Small config value types that validate while they parse, so a bad value
//! is reported with its line and key by the TOML deserializer itself.

use serde::{Deserialize, Deserializer};
use std::time::Duration;

/// A duration written like `30s`, `5m`, `1h 30m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

/// The longest duration config accepts anywhere: no setting means more,
/// and time arithmetic on larger ones would overflow.
pub const MAX_DURATION: Duration = Duration::from_secs(10 * 366 * 24 * 3600);

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let duration = humantime::parse_duration(&text).map_err(|e| {
            serde::de::Error::custom(format!(
                "`{text}` is not a duration like \"30s\" or \"5m\" ({e})"
            ))
        })?;
        if duration > MAX_DURATION {
            return Err(serde::de::Error::custom(format!(
                "`{text}` is longer than any setting allows (at most 10 years)"
            )));
        }
        Ok(HumanDuration(duration))
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable, for a terminal.
    #[default]
    Pretty,
    /// One JSON object per line, for journald and log shippers.
    Json,
}

/// A host pattern from config, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostEntry(pub crate::egress::HostPattern);

impl<'de> Deserialize<'de> for HostEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        crate::egress::HostPattern::parse(&text)
            .map(HostEntry)
            .map_err(serde::de::Error::custom)
    }
}

/// Where a secret's value comes from. Inline values work, with a warning.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum SettingValue {
    /// A plain value (or an inline secret).
    Text(String),
    Integer(i64),
    Bool(bool),
    /// A secret reference.
    Secret(SecretRef),
}

/// `{ env = "NAME" }`, `{ file = "path" }` or `{ credential = "name" }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretRef {
    pub env: Option<String>,
    pub file: Option<String>,
    pub credential: Option<String>,
}

impl SecretRef {
    /// Describe the reference for messages (never the value).
    pub fn describe(&self) -> String {
        match (&self.env, &self.file, &self.credential) {
            (Some(e), None, None) => format!("environment variable `{e}`"),
            (None, Some(f), None) => format!("file `{f}`"),
            (None, None, Some(c)) => format!("systemd credential `{c}`"),
            _ => "an invalid reference".into(),
        }
    }
}

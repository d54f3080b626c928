//! Typed access to a channel's `settings` table.

use crate::types::{PluginError, SettingProblem, Settings as RawSettings};
use std::str::FromStr;

/// The settings the host passed for this call: plain values from
/// `config.toml`, and the *names* of secrets (their values never enter the
/// plugin; see [`Settings::secret`]).
#[derive(Debug, Clone, Default)]
pub struct Settings {
    values: Vec<(String, String)>,
    secrets: Vec<String>,
}

impl From<RawSettings> for Settings {
    fn from(raw: RawSettings) -> Self {
        Settings {
            values: raw.values,
            secrets: raw.secrets,
        }
    }
}

impl Settings {
    /// Settings built by hand, for unit tests of a plugin.
    pub fn new<K: Into<String>, V: Into<String>>(
        values: impl IntoIterator<Item = (K, V)>,
        secrets: impl IntoIterator<Item = K>,
    ) -> Self {
        Settings {
            values: values
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            secrets: secrets.into_iter().map(Into::into).collect(),
        }
    }

    /// Settings with secrets only (by name), for unit tests of a plugin
    /// that has no plain settings.
    pub fn with_secrets<K: Into<String>>(secrets: impl IntoIterator<Item = K>) -> Self {
        Settings {
            values: Default::default(),
            secrets: secrets.into_iter().map(Into::into).collect(),
        }
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `key`, or an `invalid-settings` error naming it.
    pub fn require(&self, key: &str) -> Result<&str, PluginError> {
        self.get(key)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| invalid(key, "is required"))
    }

    /// The value of `key` parsed as `T`, or `default` when unset.
    pub fn parse_or<T: FromStr>(&self, key: &str, default: T) -> Result<T, PluginError>
    where
        T::Err: std::fmt::Display,
    {
        match self.get(key) {
            None => Ok(default),
            Some(raw) => raw
                .parse()
                .map_err(|e: T::Err| invalid(key, &format!("`{raw}` is not valid: {e}"))),
        }
    }

    /// Whether the boolean setting `key` is `"true"`.
    pub fn flag(&self, key: &str) -> bool {
        self.get(key) == Some("true")
    }

    /// A placeholder for the secret `key`, to write in a header or body.
    ///
    /// The host replaces `{{secret:KEY}}` with the value as the request
    /// leaves for an allowed host, so the key never enters plugin memory.
    pub fn secret(&self, key: &str) -> Result<String, PluginError> {
        if self.secrets.iter().any(|s| s == key) {
            Ok(format!("{{{{secret:{key}}}}}"))
        } else {
            Err(invalid(key, "is a required secret and is not set"))
        }
    }

    /// An `Authorization` header value for HTTP Basic auth from two secrets
    /// (`password` may be `None`: EasyPost takes the API key as the user).
    ///
    /// The host encodes `{{basic:USER:PASSWORD}}` as the request leaves.
    pub fn basic_auth(&self, user: &str, password: Option<&str>) -> Result<String, PluginError> {
        self.secret(user)?;
        if let Some(p) = password {
            self.secret(p)?;
        }
        Ok(format!(
            "Basic {{{{basic:{user}:{}}}}}",
            password.unwrap_or("")
        ))
    }
}

/// An `invalid-settings` error for `key`.
pub fn invalid(key: &str, problem: &str) -> PluginError {
    PluginError::InvalidSettings(SettingProblem {
        key: key.to_string(),
        problem: problem.to_string(),
    })
}

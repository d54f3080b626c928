//! A channel's (or account's) settings and egress policy, checked against its plugin's
//! manifest and resolved (secrets read from where config points).

use crate::config::error::ConfigError;
use crate::config::{Connection, LoadedConfig, SettingValue};
use crate::egress::{HostPattern, HostPolicy, Secret, Secrets};
use crate::host::PluginSettings;
use crate::model::Manifest;

/// What a channel hands its plugin, and what stays in the host.
#[derive(Debug, Clone)]
pub struct ResolvedSettings {
    pub settings: PluginSettings,
    pub secrets: Secrets,
    /// Things worth a warning in the log (inline secrets…).
    pub warnings: Vec<String>,
}

impl ResolvedSettings {
    /// A plain setting's value (a manifest default included).
    pub fn plain(&self, key: &str) -> Option<String> {
        self.settings
            .values
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }

    /// A setting's value, secret or plain, when it is set and not empty.
    pub fn value(&self, key: &str) -> Option<Secret> {
        self.secrets
            .get(key)
            .cloned()
            .or_else(|| self.plain(key).map(Secret::new))
            .filter(|v| !v.expose().is_empty())
    }
}

/// Check `channel.settings` against the manifest and read the secrets.
pub fn resolve(
    loaded: &LoadedConfig,
    key_prefix: &str,
    channel: &dyn Connection,
    manifest: &Manifest,
) -> Result<ResolvedSettings, ConfigError> {
    let table = channel.settings().span();
    // A key's own line when it is written, else the settings table's.
    let span_of = |key: &str| {
        loaded
            .locator
            .key_within(table.clone(), key)
            .unwrap_or(table.start)
    };
    let at = |key: &str, message: String| {
        loaded.locator.error(
            Some(span_of(key)),
            format!("{key_prefix}.settings.{key}"),
            message,
        )
    };
    let given = channel.settings().get_ref();
    let mut out = ResolvedSettings {
        settings: PluginSettings::default(),
        secrets: Secrets::new(),
        warnings: Vec::new(),
    };

    for key in given.keys() {
        if !manifest.settings.iter().any(|s| &s.key == key) {
            let known: Vec<&str> = manifest.settings.iter().map(|s| s.key.as_str()).collect();
            return Err(at(
                key,
                format!(
                    "plugin `{}` has no setting `{key}` (it knows: {})",
                    manifest.name,
                    known.join(", ")
                ),
            ));
        }
    }
    for spec in &manifest.settings {
        match given.get(&spec.key) {
            None => {
                if let Some(default) = &spec.default_value {
                    out.settings
                        .values
                        .push((spec.key.clone(), default.clone()));
                } else if spec.required {
                    let what = if spec.secret {
                        " (a secret: write { env = \"NAME\" }, { file = \"path\" } or { credential = \"name\" })"
                    } else {
                        ""
                    };
                    return Err(at(
                        &spec.key,
                        format!(
                            "is required by plugin `{}`: {}{what}",
                            manifest.name, spec.description
                        ),
                    ));
                }
            }
            Some(SettingValue::Secret(reference)) => {
                let value = read_secret(loaded, reference).map_err(|e| at(&spec.key, e))?;
                out.secrets.insert(spec.key.clone(), Secret::new(value));
                out.settings.secret_names.push(spec.key.clone());
            }
            Some(plain) => {
                let text = match plain {
                    SettingValue::Text(t) => t.clone(),
                    SettingValue::Integer(i) => i.to_string(),
                    SettingValue::Bool(b) => b.to_string(),
                    SettingValue::Secret(_) => unreachable!("matched above"),
                };
                if is_url_setting(&spec.key) {
                    check_url(&text).map_err(|why| at(&spec.key, why))?;
                }
                if spec.secret {
                    out.warnings.push(format!(
                        "{}: `{}` is a secret written inline; prefer {{ env = \"…\" }}, {{ file = \"…\" }} or {{ credential = \"…\" }}",
                        loaded.locator.location(span_of(&spec.key)),
                        spec.key
                    ));
                    out.secrets.insert(spec.key.clone(), Secret::new(text));
                    out.settings.secret_names.push(spec.key.clone());
                } else {
                    out.settings.values.push((spec.key.clone(), text));
                }
            }
        }
    }
    Ok(out)
}

/// Settings named `url` or `…_url` hold a URL the plugin will call.
fn is_url_setting(key: &str) -> bool {
    key == "url" || key.ends_with("_url")
}

/// An absolute http(s) URL with a host, or what is wrong with it.
fn check_url(text: &str) -> Result<(), String> {
    let url = reqwest::Url::parse(text).map_err(|e| {
        format!("`{text}` is not a URL ({e}); write e.g. \"https://api.example.com\"")
    })?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none_or(str::is_empty) {
        return Err(format!(
            "`{text}` must be an http(s) URL with a host, e.g. \"https://api.example.com\""
        ));
    }
    Ok(())
}

/// The host a `{{setting:KEY}}` host declaration names, `None` for any
/// other declaration.
fn setting_host(declared: &str, resolved: &ResolvedSettings) -> Result<Option<String>, String> {
    let Some(key) = declared
        .strip_prefix("{{setting:")
        .and_then(|r| r.strip_suffix("}}"))
    else {
        return Ok(None);
    };
    let value = resolved
        .plain(key)
        .ok_or_else(|| format!("`{key}` must be set: the plugin's API host is taken from it"))?;
    let host = match value.split_once("://") {
        Some((_, rest)) => rest,
        None => value.as_str(),
    };
    let host = host.split(['/', '?', '#']).next().unwrap_or_default();
    // user:pass@ never names the host.
    let host = host.rsplit('@').next().unwrap_or_default();
    let host = if host.starts_with('[') {
        host.split_inclusive(']').next().unwrap_or_default()
    } else {
        host.split(':').next().unwrap_or_default()
    };
    if host.is_empty() {
        return Err(format!("`{key}` = `{value}` names no host"));
    }
    Ok(Some(host.trim_matches(['[', ']']).to_ascii_lowercase()))
}

pub(crate) fn read_secret(
    loaded: &LoadedConfig,
    r: &crate::config::SecretRef,
) -> Result<String, String> {
    let value = match (&r.env, &r.file, &r.credential) {
        (Some(name), None, None) => {
            std::env::var(name).map_err(|_| format!("environment variable `{name}` is not set"))?
        }
        (None, Some(file), None) => {
            let path = loaded.resolve(file);
            std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read secret file {}: {e}", path.display()))?
        }
        (None, None, Some(name)) => {
            let dir = std::env::var_os("CREDENTIALS_DIRECTORY")
                .ok_or_else(|| format!("systemd credential `{name}` requested but $CREDENTIALS_DIRECTORY is not set (use LoadCredential= in the unit)"))?;
            let path = std::path::Path::new(&dir).join(name);
            std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read credential {}: {e}", path.display()))?
        }
        _ => {
            return Err(
                "a secret reference takes exactly one of `env`, `file` or `credential`".into(),
            );
        }
    };
    let value = value.trim_end_matches(['\n', '\r']).to_string();
    if value.is_empty() {
        return Err(format!("{} is empty", r.describe()));
    }
    Ok(value)
}

/// The channel's egress policy: the plugin's declared hosts, narrowed or
/// explicitly widened by config.
///
/// A declared host may be `{{setting:KEY}}`: the host of the URL (or the
/// bare host) that plain setting holds, for a plugin whose API lives where
/// each seller says (a WooCommerce store).
pub fn host_policy(
    loaded: &LoadedConfig,
    key_prefix: &str,
    channel: &dyn Connection,
    manifest: &Manifest,
    resolved: &ResolvedSettings,
) -> Result<HostPolicy, ConfigError> {
    let location = loaded.location(channel);
    let declared = manifest
        .allowed_hosts
        .iter()
        .map(|h| {
            let named = setting_host(h, resolved).map_err(|e| {
                loaded.locator.error(
                    Some(channel.settings().span().start),
                    format!("{key_prefix}.settings"),
                    e,
                )
            })?;
            HostPattern::parse(named.as_deref().unwrap_or(h)).map_err(|e| {
                loaded.locator.error(
                    Some(channel.plugin().span().start),
                    format!("{key_prefix}.plugin"),
                    format!("plugin `{}` declares a bad host: {e}", manifest.name),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let narrowed = match channel.allowed_hosts() {
        None => None,
        Some(list) => {
            let mut patterns = Vec::new();
            for entry in list {
                let pattern = entry.0.clone();
                if !declared.iter().any(|d| pattern.within(d)) {
                    return Err(loaded.locator.error(
                        Some(channel.id().span().start),
                        format!("{key_prefix}.allowed_hosts"),
                        format!(
                            "`{pattern}` is not among the hosts plugin `{}` declares ({}); allowed_hosts can only narrow them: to add a host, list it in extra_hosts",
                            manifest.name,
                            manifest.allowed_hosts.join(", ")
                        ),
                    ));
                }
                patterns.push(pattern);
            }
            Some(patterns)
        }
    };
    Ok(HostPolicy {
        declared,
        narrowed,
        extra: channel.extra_hosts().iter().map(|h| h.0.clone()).collect(),
        allow_loopback: channel.allow_loopback(),
        allow_private: channel.allow_private_networks(),
        follow_redirects: channel.follow_redirects(),
        secrets_in_query: channel.secrets_in_query(),
        config_location: location,
    })
}

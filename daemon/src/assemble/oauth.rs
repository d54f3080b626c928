//! The OAuth clients a plugin's manifest declares, resolved against the
//! channel's settings: the token URL filled in, the client credentials
//! and refresh token read. Problems name the setting to fix.

use super::settings::ResolvedSettings;
use crate::egress::oauth::ClientConfig;
use crate::model::{Manifest, OAuthClientAuth, OAuthGrant};

/// Every client of `manifest`, or the first problem, as
/// `(setting key, what is wrong)`.
pub fn clients(
    manifest: &Manifest,
    resolved: &ResolvedSettings,
) -> Result<Vec<ClientConfig>, (String, String)> {
    let value = |key: &str| resolved.value(key);
    let mut out = Vec::new();
    for spec in &manifest.oauth {
        let need = |key: &str, what: &str| {
            value(key).ok_or_else(|| {
                (
                    key.to_string(),
                    format!(
                        "is needed by OAuth client `{}` of plugin `{}` ({what})",
                        spec.name, manifest.name
                    ),
                )
            })
        };
        let client_id = need(&spec.client_id_setting, "the app's client id")?;
        let client_secret = match spec.client_auth {
            // A public client (PKCE) has no secret.
            OAuthClientAuth::Public => crate::egress::Secret::new(""),
            _ => need(&spec.client_secret_setting, "the app's client secret")?,
        };
        let refresh_token = match (&spec.grant, &spec.refresh_token_setting) {
            (OAuthGrant::RefreshToken, Some(key)) => Some(need(
                key,
                "a refresh token: run `tradelane connect SELLER/CHANNEL` to get one",
            )?),
            (OAuthGrant::RefreshToken, None) => {
                return Err((
                    spec.name.clone(),
                    format!(
                        "plugin `{}` declares OAuth client `{}` with the refresh-token grant but names no refresh-token setting",
                        manifest.name, spec.name
                    ),
                ));
            }
            (OAuthGrant::ClientCredentials, _) => None,
        };
        let token_url = fill_settings(&spec.token_url, &|key| resolved.plain(key))
            .map_err(|why| (spec.name.clone(), why))?;
        out.push(ClientConfig {
            spec: spec.clone(),
            token_url,
            client_id,
            client_secret,
            refresh_token,
        });
    }
    Ok(out)
}

/// `text` with every `{{setting:KEY}}` replaced by that plain setting.
pub fn fill_settings(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, String> {
    const OPEN: &str = "{{setting:";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        out.push_str(&rest[..start]);
        let after = &rest[start + OPEN.len()..];
        let end = after
            .find("}}")
            .ok_or_else(|| format!("unterminated `{OPEN}` in `{text}`"))?;
        let key = &after[..end];
        let value = lookup(key).ok_or_else(|| {
            format!("`{text}` names setting `{key}`, which is not a plain setting that is set")
        })?;
        out.push_str(value.trim_end_matches('/'));
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_fill_the_token_url() {
        let lookup = |k: &str| (k == "base_url").then(|| "http://127.0.0.1:8787/".to_string());
        assert_eq!(
            fill_settings("{{setting:base_url}}/identity/v1/oauth2/token", &lookup).unwrap(),
            "http://127.0.0.1:8787/identity/v1/oauth2/token"
        );
        assert!(fill_settings("{{setting:nope}}/x", &lookup).is_err());
        assert!(fill_settings("{{setting:base_url", &lookup).is_err());
        assert_eq!(
            fill_settings("https://api.amazon.com/auth/o2/token", &lookup).unwrap(),
            "https://api.amazon.com/auth/o2/token"
        );
    }
}

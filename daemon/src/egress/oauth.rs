//! Host-managed OAuth 2: a plugin declares its token endpoints in its
//! manifest and writes `{{oauth:NAME}}` where the bearer token goes; the
//! host does the rest, so no token ever enters the plugin.
//!
//! Per channel and client, the host
//! - obtains an access token (refresh-token or client-credentials grant),
//!   and keeps it in memory and in the store ([`TokenVault`]);
//! - refreshes it shortly before it expires, and once when a request that
//!   carried it is answered 401 ([`OAuth::invalidate`]);
//! - serialises refreshes: one lock per client, held across the token
//!   request, so two calls never both refresh;
//! - persists a rotated refresh token (and waits for the disk) before the
//!   new access token is used: a crash right after a rotation cannot lose
//!   the only refresh token that still works.
//!
//! A stored token is used only while the configured credentials are the
//! ones it was obtained with (a digest of them is kept beside it): a new
//! refresh token in config wins over a rotated one in the store.

use super::{ChannelEgress, Egress, Method, Request, Secret, Secrets};
use crate::model::{OAuthClient, OAuthClientAuth, OAuthGrant};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Where tokens persist between runs (the store's `oauth` tree).
pub trait TokenVault: Send + Sync {
    /// The token saved under `key`, if any.
    fn load(&self, key: &str) -> Option<StoredToken>;
    /// Save durably: return only once it is on disk.
    fn save(&self, key: &str, token: &StoredToken) -> Result<(), String>;
}

/// What the vault keeps per client.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredToken {
    /// Digest of the configured credentials this token was obtained with.
    pub configured: String,
    /// The refresh token, when the provider rotated it (else config's).
    pub refresh_token: Option<String>,
    pub access_token: Option<String>,
    /// Unix seconds.
    pub expires_at: Option<i64>,
}

/// A vault that forgets (for `check`, tests and no-store runs).
#[derive(Default)]
pub struct MemoryVault(std::sync::Mutex<BTreeMap<String, StoredToken>>);

impl TokenVault for MemoryVault {
    fn load(&self, key: &str) -> Option<StoredToken> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned()
    }
    fn save(&self, key: &str, token: &StoredToken) -> Result<(), String> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key.to_string(), token.clone());
        Ok(())
    }
}

/// Why no access token could be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The token endpoint refused the credentials: a person must act.
    #[error("{0}")]
    Refused(String),
    /// The endpoint could not be reached or failed; try again later.
    #[error("{0}")]
    Transient(String),
}

/// One client's resolved configuration.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub spec: OAuthClient,
    /// `token_url` with its `{{setting:KEY}}`s filled in.
    pub token_url: String,
    pub client_id: Secret,
    pub client_secret: Secret,
    /// The configured refresh token (refresh-token grant).
    pub refresh_token: Option<Secret>,
}

impl ClientConfig {
    /// A request to the token endpoint carrying `fields` (the grant's), the
    /// client authenticated the way the manifest says (HTTP Basic or in the
    /// body) and the body encoded as it says (form or JSON).
    pub fn token_request(&self, mut fields: Vec<(&str, String)>) -> Request {
        let mut headers = vec![("Accept".to_string(), "application/json".to_string())];
        match self.spec.client_auth {
            OAuthClientAuth::Basic => {
                use base64::Engine as _;
                let basic = base64::engine::general_purpose::STANDARD.encode(format!(
                    "{}:{}",
                    self.client_id.expose(),
                    self.client_secret.expose()
                ));
                headers.push(("Authorization".into(), format!("Basic {basic}")));
            }
            OAuthClientAuth::Body => {
                fields.push(("client_id", self.client_id.expose().to_string()));
                fields.push(("client_secret", self.client_secret.expose().to_string()));
            }
            // A public client has no secret to send.
            OAuthClientAuth::Public => {
                fields.push(("client_id", self.client_id.expose().to_string()));
            }
        }
        let body = if self.spec.json_body {
            headers.push(("Content-Type".into(), "application/json".into()));
            let map: serde_json::Map<String, serde_json::Value> = fields
                .into_iter()
                .map(|(k, v)| (k.to_string(), serde_json::Value::String(v)))
                .collect();
            serde_json::to_vec(&map).unwrap_or_default()
        } else {
            headers.push((
                "Content-Type".into(),
                "application/x-www-form-urlencoded".into(),
            ));
            let mut form = form_urlencoded::Serializer::new(String::new());
            for (k, v) in &fields {
                form.append_pair(k, v);
            }
            form.finish().into_bytes()
        };
        Request::new(Method::Post, self.token_url.clone(), headers, Some(body))
    }

    /// A digest of the credentials, to tell whether a stored token
    /// belongs to them.
    fn digest(&self) -> String {
        let mut h = Sha256::new();
        for part in [
            self.token_url.as_str(),
            self.client_id.expose(),
            self.client_secret.expose(),
            self.refresh_token.as_ref().map_or("", Secret::expose),
        ] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        hex::encode(h.finalize())
    }
}

struct Managed {
    config: ClientConfig,
    key: String,
    state: tokio::sync::Mutex<State>,
}

#[derive(Default)]
struct State {
    loaded: bool,
    access: Option<(Secret, i64)>,
    /// A rotated refresh token (config's is used while this is none).
    rotated: Option<Secret>,
    /// Bumped on every new access token; a 401 invalidates only the
    /// generation it was answered to.
    generation: u64,
    /// A rotation not yet on disk: saved before any token is handed out.
    unsaved: Option<StoredToken>,
}

/// The managed clients of one channel.
pub struct OAuth {
    /// `seller/channel`, for messages and the `tradelane connect` hint.
    label: String,
    clients: BTreeMap<String, Managed>,
    vault: Arc<dyn TokenVault>,
    /// Token requests go out under this policy: the channel's hosts, no
    /// redirects (a token request's body carries the credentials).
    egress: ChannelEgress,
}

impl std::fmt::Debug for OAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth")
            .field("label", &self.label)
            .field("clients", &self.clients.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Refresh this long before expiry: a tenth of the lifetime, 30 s to 5 min.
fn margin(lifetime: i64) -> i64 {
    (lifetime / 10).clamp(30, 300)
}

impl OAuth {
    /// The clients of channel `label`, their tokens kept in `vault` under
    /// `label/NAME`; `egress` is the channel's own (its policy is reused).
    pub fn new(
        label: &str,
        clients: Vec<ClientConfig>,
        vault: Arc<dyn TokenVault>,
        egress: &ChannelEgress,
    ) -> Self {
        let mut policy = egress.policy.clone();
        policy.follow_redirects = false;
        OAuth {
            label: label.to_string(),
            clients: clients
                .into_iter()
                .map(|c| {
                    let name = c.spec.name.clone();
                    let managed = Managed {
                        key: format!("{label}/{name}"),
                        config: c,
                        state: Default::default(),
                    };
                    (name, managed)
                })
                .collect(),
            vault,
            egress: ChannelEgress {
                label: format!("{label} (token endpoint)"),
                policy,
                secrets: Secrets::new(),
                bucket: None,
                operations: BTreeMap::new(),
                retry: egress.retry.clone(),
                oauth: None,
            },
        }
    }

    /// A live access token of client `name` and its generation, fetched
    /// (once, whoever asks at the same time) when there is none or it is
    /// about to expire.
    pub async fn token(&self, name: &str, http: &dyn Egress) -> Result<(Secret, u64), TokenError> {
        let managed = self.clients.get(name).ok_or_else(|| {
            TokenError::Refused(format!(
                "the plugin asked for OAuth client `{name}`, which its manifest does not declare"
            ))
        })?;
        let mut state = managed.state.lock().await;
        if !state.loaded {
            state.loaded = true;
            self.adopt_stored(managed, &mut state);
        }
        if let Some(pending) = state.unsaved.clone() {
            self.vault
                .save(&managed.key, &pending)
                .map_err(|e| self.unsaved_error(name, &e))?;
            state.unsaved = None;
        }
        let now = Utc::now().timestamp();
        if let Some((token, expires_at)) = &state.access
            && now < *expires_at
        {
            return Ok((token.clone(), state.generation));
        }
        self.refresh(managed, &mut state, http).await
    }

    /// Forget the access token of `generation` (a request carrying it was
    /// answered 401); a newer one is kept.
    pub async fn invalidate(&self, name: &str, generation: u64) {
        if let Some(managed) = self.clients.get(name) {
            let mut state = managed.state.lock().await;
            if state.generation == generation {
                state.access = None;
            }
        }
    }

    fn adopt_stored(&self, managed: &Managed, state: &mut State) {
        let Some(stored) = self.vault.load(&managed.key) else {
            return;
        };
        if stored.configured != managed.config.digest() {
            tracing::info!(channel = %self.label, client = %managed.config.spec.name,
                "the configured OAuth credentials changed; the stored token is not used");
            return;
        }
        state.rotated = stored.refresh_token.map(Secret::new);
        let now = Utc::now().timestamp();
        if let (Some(token), Some(expires_at)) = (stored.access_token, stored.expires_at)
            && now < expires_at
        {
            state.access = Some((Secret::new(token), expires_at));
            state.generation += 1;
        }
    }

    async fn refresh(
        &self,
        managed: &Managed,
        state: &mut State,
        http: &dyn Egress,
    ) -> Result<(Secret, u64), TokenError> {
        let config = &managed.config;
        let name = &config.spec.name;
        let refresh_token = state
            .rotated
            .clone()
            .or_else(|| config.refresh_token.clone());
        let mut fields: Vec<(&str, String)> = Vec::new();
        match config.spec.grant {
            OAuthGrant::RefreshToken => {
                let Some(refresh) = &refresh_token else {
                    return Err(TokenError::Refused(format!(
                        "OAuth client `{name}` needs a refresh token and none is set: run `tradelane connect {}`",
                        self.label
                    )));
                };
                fields.push(("grant_type", "refresh_token".into()));
                fields.push(("refresh_token", refresh.expose().to_string()));
            }
            OAuthGrant::ClientCredentials => {
                fields.push(("grant_type", "client_credentials".into()));
            }
        }
        if !config.spec.scopes.is_empty() {
            fields.push(("scope", config.spec.scopes.join(" ")));
        }
        let request = config.token_request(fields);
        let response = http
            .send(&self.egress, request)
            .await
            .map_err(|e| TokenError::Transient(format!("token endpoint of `{name}`: {e}")))?;
        let parsed = parse_token_response(response.status, &response.body).map_err(|e| match e {
            TokenError::Refused(why) => TokenError::Refused(format!(
                "the token endpoint of `{name}` refused the credentials ({why}); {}",
                match config.spec.grant {
                    OAuthGrant::RefreshToken => format!(
                        "the refresh token was revoked or has expired: run `tradelane connect {}` (or set a new one) and restart",
                        self.label
                    ),
                    OAuthGrant::ClientCredentials =>
                        "check the client id and secret in the channel's settings".to_string(),
                }
            )),
            TokenError::Transient(why) => {
                TokenError::Transient(format!("token endpoint of `{name}`: {why}"))
            }
        })?;
        let now = Utc::now().timestamp();
        let lifetime = parsed.expires_in.clamp(60, 366 * 86_400);
        let expires_at = now + lifetime - margin(lifetime);
        if let Some(new) = &parsed.refresh_token
            && refresh_token.as_ref().is_none_or(|old| old.expose() != new)
        {
            state.rotated = Some(Secret::new(new.clone()));
        }
        let stored = StoredToken {
            configured: config.digest(),
            refresh_token: state.rotated.as_ref().map(|s| s.expose().to_string()),
            access_token: Some(parsed.access_token.clone()),
            expires_at: Some(expires_at),
        };
        state.access = Some((Secret::new(parsed.access_token), expires_at));
        state.generation += 1;
        if let Err(e) = self.vault.save(&managed.key, &stored) {
            // The rotated token lives on in memory; nothing is sent with
            // the new access token until it is on disk.
            state.unsaved = Some(stored);
            state.access = None;
            return Err(self.unsaved_error(name, &e));
        }
        crate::crash::maybe_crash(
            crate::crash::CrashPoint::from_env(),
            crate::crash::CrashPoint::AfterTokenSaved,
        );
        tracing::debug!(channel = %self.label, client = %name, expires_in = lifetime, "new OAuth access token");
        let (token, _) = state.access.clone().expect("just set");
        Ok((token, state.generation))
    }

    fn unsaved_error(&self, name: &str, e: &str) -> TokenError {
        TokenError::Transient(format!(
            "a new token of OAuth client `{name}` could not be saved to the store ({e}); it is not used until it is"
        ))
    }
}

/// The fields of a token response this host uses.
#[derive(Debug)]
struct TokenResponse {
    access_token: String,
    expires_in: i64,
    refresh_token: Option<String>,
}

/// A token endpoint's answer: a token, a refusal (4xx, RFC 6749 §5.2
/// `error`), or a passing failure.
fn parse_token_response(status: u16, body: &[u8]) -> Result<TokenResponse, TokenError> {
    #[derive(Deserialize)]
    struct Wire {
        access_token: Option<String>,
        expires_in: Option<serde_json::Value>,
        refresh_token: Option<String>,
        error: Option<String>,
        error_description: Option<String>,
    }
    let wire: Option<Wire> = serde_json::from_slice(body).ok();
    if !(200..300).contains(&status) {
        let why = match &wire {
            Some(Wire {
                error: Some(e),
                error_description,
                ..
            }) => match error_description {
                Some(d) => format!("HTTP {status} {}: {}", clip(e), clip(d)),
                None => format!("HTTP {status} {}", clip(e)),
            },
            _ => format!("HTTP {status}"),
        };
        return Err(if status == 429 || status >= 500 {
            TokenError::Transient(why)
        } else {
            TokenError::Refused(why)
        });
    }
    let wire = wire.ok_or_else(|| TokenError::Transient("the answer is not JSON".into()))?;
    let access_token = wire
        .access_token
        .filter(|t| !t.is_empty() && t.len() <= 8192 && !t.chars().any(char::is_control))
        .ok_or_else(|| TokenError::Transient("the answer has no usable access_token".into()))?;
    let expires_in = match wire.expires_in {
        Some(serde_json::Value::Number(n)) => n.as_i64().unwrap_or(3600),
        Some(serde_json::Value::String(s)) => s.trim().parse().unwrap_or(3600),
        _ => 3600,
    };
    let refresh_token = wire
        .refresh_token
        .filter(|t| !t.is_empty() && t.len() <= 8192 && !t.chars().any(char::is_control));
    Ok(TokenResponse {
        access_token,
        expires_in,
        refresh_token,
    })
}

/// A provider's error text, cut short and without control characters.
fn clip(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_answers_are_classified() {
        let ok = parse_token_response(
            200,
            br#"{"access_token":"Atza|x","token_type":"bearer","expires_in":3600,"refresh_token":"Atzr|y"}"#,
        )
        .unwrap();
        assert_eq!(ok.expires_in, 3600);
        assert_eq!(ok.refresh_token.as_deref(), Some("Atzr|y"));
        let refused = parse_token_response(
            400,
            br#"{"error":"invalid_grant","error_description":"The request has an invalid grant parameter : refresh_token"}"#,
        )
        .unwrap_err();
        assert!(
            matches!(&refused, TokenError::Refused(w) if w.contains("invalid_grant")),
            "{refused:?}"
        );
        assert!(matches!(
            parse_token_response(503, b"<html>"),
            Err(TokenError::Transient(_))
        ));
        assert!(matches!(
            parse_token_response(200, br#"{"access_token":"a\nb"}"#),
            Err(TokenError::Transient(_))
        ));
        // eBay sends expires_in as a number; some send a string.
        assert_eq!(
            parse_token_response(200, br#"{"access_token":"t","expires_in":"7200"}"#)
                .unwrap()
                .expires_in,
            7200
        );
    }

    #[test]
    fn refresh_comes_early_but_not_absurdly() {
        assert_eq!(margin(3600), 300);
        assert_eq!(margin(7200), 300);
        assert_eq!(margin(120), 30);
    }
}

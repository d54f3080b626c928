//! A simulated OAuth 2 authorisation server, one per marketplace (Login
//! with Amazon, eBay's identity service): the refresh-token grant, eBay's
//! authorization-code grant for `tradelane connect`, access tokens that
//! expire, and switches to expire, revoke and rotate them
//! (`POST /_sandbox/oauth?provider=amazon|ebay&expire=true&revoke=true&rotate=true&lifetime=SECS`).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// One provider's tokens.
pub struct OAuthServer {
    /// The access-token prefix the provider uses (`Atza|`, `v^1.1#`).
    access_prefix: &'static str,
    refresh_prefix: &'static str,
    pub client_id: String,
    pub client_secret: String,
    refresh_tokens: HashSet<String>,
    access_tokens: HashMap<String, Instant>,
    /// Authorization codes handed out by the consent page, not yet used,
    /// with the PKCE challenge (`S256`) each was issued for, if any.
    codes: HashMap<String, Option<String>>,
    pub lifetime: Duration,
    /// Hand out a new refresh token on every refresh and revoke the old one.
    pub rotate: bool,
    counter: u64,
    /// Successful grants, by type (tests count refreshes).
    pub grants: HashMap<String, u64>,
}

/// What a token request gets back.
pub enum Grant {
    Issued {
        access_token: String,
        expires_in: u64,
        refresh_token: Option<String>,
    },
    /// `(HTTP status, RFC 6749 error, description)`.
    Refused(u16, &'static str, String),
}

impl OAuthServer {
    /// A server that knows one client and one refresh token.
    pub fn new(
        access_prefix: &'static str,
        refresh_prefix: &'static str,
        client_id: &str,
        client_secret: &str,
        refresh_token: &str,
    ) -> Self {
        OAuthServer {
            access_prefix,
            refresh_prefix,
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            refresh_tokens: [refresh_token.to_string()].into_iter().collect(),
            access_tokens: HashMap::new(),
            codes: HashMap::new(),
            lifetime: Duration::from_secs(3600),
            rotate: false,
            counter: 0,
            grants: HashMap::new(),
        }
    }

    fn next(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}sandbox-{:08x}-{}", fastrand::u32(..), self.counter)
    }

    /// Answer a token request (`client` as authenticated, `form` its body).
    pub fn token(
        &mut self,
        client: Option<(String, String)>,
        form: &HashMap<String, String>,
    ) -> Grant {
        match client {
            Some((id, secret)) if id == self.client_id && secret == self.client_secret => {}
            _ => {
                return Grant::Refused(
                    401,
                    "invalid_client",
                    "Client authentication failed".into(),
                );
            }
        }
        let grant = form.get("grant_type").map(String::as_str).unwrap_or("");
        let refresh = match grant {
            "refresh_token" => {
                let given = form.get("refresh_token").cloned().unwrap_or_default();
                if !self.refresh_tokens.contains(&given) {
                    return Grant::Refused(
                        400,
                        "invalid_grant",
                        "The request has an invalid grant parameter : refresh_token".into(),
                    );
                }
                if self.rotate {
                    self.refresh_tokens.remove(&given);
                    let new = self.next(self.refresh_prefix);
                    self.refresh_tokens.insert(new.clone());
                    Some(new)
                } else {
                    None
                }
            }
            "authorization_code" => {
                let code = form.get("code").cloned().unwrap_or_default();
                let Some(challenge) = self.codes.remove(&code) else {
                    return Grant::Refused(
                        400,
                        "invalid_grant",
                        "the provided authorization grant code is invalid or was issued to another client".into(),
                    );
                };
                if let Some(challenge) = challenge {
                    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
                    if s256(&verifier) != challenge {
                        return Grant::Refused(
                            400,
                            "invalid_grant",
                            "code_verifier does not match the code_challenge (PKCE)".into(),
                        );
                    }
                }
                let new = self.next(self.refresh_prefix);
                self.refresh_tokens.insert(new.clone());
                Some(new)
            }
            other => {
                return Grant::Refused(
                    400,
                    "unsupported_grant_type",
                    format!("grant_type `{other}` is not supported"),
                );
            }
        };
        let access = self.next(self.access_prefix);
        self.access_tokens
            .insert(access.clone(), Instant::now() + self.lifetime);
        *self.grants.entry(grant.to_string()).or_default() += 1;
        Grant::Issued {
            access_token: access,
            expires_in: self.lifetime.as_secs(),
            refresh_token: refresh,
        }
    }

    /// Whether `token` is a live access token.
    pub fn valid(&self, token: &str) -> bool {
        self.access_tokens
            .get(token)
            .is_some_and(|until| Instant::now() < *until)
    }

    /// A code the consent page would have redirected with.
    pub fn issue_code(&mut self) -> String {
        self.issue_code_for(None)
    }

    /// A code issued for a PKCE `S256` challenge: exchanging it needs the
    /// verifier.
    pub fn issue_code_for(&mut self, challenge: Option<String>) -> String {
        let code = self.next("code-");
        self.codes.insert(code.clone(), challenge);
        code
    }

    /// Expire every access token now.
    pub fn expire(&mut self) {
        self.access_tokens.clear();
    }

    /// Revoke every refresh token (the seller removed the app).
    pub fn revoke(&mut self) {
        self.refresh_tokens.clear();
        self.access_tokens.clear();
    }

    /// Counters for `GET /_sandbox/oauth`.
    pub fn report(&self) -> serde_json::Value {
        serde_json::json!({
            "grants": self.grants,
            "live_refresh_tokens": self.refresh_tokens.len(),
            "rotate": self.rotate,
            "lifetime_s": self.lifetime.as_secs(),
        })
    }
}

/// `BASE64URL(SHA256(verifier))`, unpadded (RFC 7636 `S256`).
pub fn s256(verifier: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()))
}

/// HTTP Basic credentials of a request, if any.
pub fn basic(headers: &axum::http::HeaderMap) -> Option<(String, String)> {
    use base64::Engine as _;
    let value = headers.get("authorization")?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

/// A form body as a map.
pub fn form(body: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// The JSON answer to a token request.
pub fn answer(grant: Grant, token_type: &str) -> axum::response::Response {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    match grant {
        Grant::Issued {
            access_token,
            expires_in,
            refresh_token,
        } => {
            let mut body = serde_json::json!({
                "access_token": access_token,
                "token_type": token_type,
                "expires_in": expires_in,
            });
            if let Some(r) = refresh_token {
                body["refresh_token"] = r.into();
                body["refresh_token_expires_in"] = 47_304_000.into();
            }
            axum::Json(body).into_response()
        }
        Grant::Refused(status, error, description) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            axum::Json(serde_json::json!({"error": error, "error_description": description})),
        )
            .into_response(),
    }
}

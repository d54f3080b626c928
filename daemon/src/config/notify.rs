//! `[[notify]]`: where tradelane tells a person that something needs
//! them (a channel stopped, an order held, a discrepancy opened…).
//!
//! ```toml
//! [[notify]]
//! kind = "webhook"                       # webhook | ntfy | slack | email
//! url = "https://ops.example.com/hooks/tradelane"
//! secret = { env = "TRADELANE_WEBHOOK_SECRET" }   # signs each POST (HMAC-SHA256)
//! events = ["channel_stopped", "order_dead_lettered"]  # default: every event
//! debounce = "1h"                        # one message per kind and channel, then a digest
//! ```
//!
//! The shape is checked here, at its line; secrets are read when the
//! daemon starts or reloads ([`crate::notify::build`]).

use super::error::ConfigError;
use super::{HumanDuration, LoadedConfig, SettingValue};
use crate::notify::EventKind;
use serde::Deserialize;
use std::path::PathBuf;
use toml::Spanned;

/// One `[[notify]]` sink.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    /// `webhook`, `ntfy`, `slack` or `email`.
    pub kind: Spanned<String>,
    /// A name for logs (default: the kind and its place in the file).
    pub name: Option<String>,
    /// Where to POST (webhook, ntfy topic, Slack-compatible incoming
    /// webhook). A secret reference is allowed: a Slack URL is a secret.
    pub url: Option<Spanned<SettingValue>>,
    /// webhook: the HMAC-SHA256 key; ntfy: an access token.
    pub secret: Option<Spanned<SettingValue>>,
    /// Which events (default: all).
    pub events: Option<Spanned<Vec<String>>>,
    /// One message per event kind and channel in this window; what else
    /// happens in it arrives as one digest when it ends.
    #[serde(default = "default_debounce")]
    pub debounce: Spanned<HumanDuration>,
    /// email: the SMTP relay's host name.
    pub smtp_host: Option<Spanned<String>>,
    /// email: the relay's port (587 for STARTTLS, 465 for TLS).
    pub smtp_port: Option<u16>,
    /// email: `starttls` (default) or `tls`. Mail is never sent in clear.
    #[serde(default = "default_tls")]
    pub tls: Spanned<String>,
    /// email: a PEM file with the CA that signed a private relay's
    /// certificate, added to the public roots.
    pub tls_ca: Option<Spanned<PathBuf>>,
    /// email: the SMTP user name (with `password`).
    pub username: Option<String>,
    /// email: the SMTP password.
    pub password: Option<Spanned<SettingValue>>,
    /// email: the From address.
    pub from: Option<Spanned<String>>,
    /// email: the recipients.
    #[serde(default)]
    pub to: Vec<Spanned<String>>,
}

fn default_debounce() -> Spanned<HumanDuration> {
    Spanned::new(0..0, HumanDuration(std::time::Duration::from_secs(3600)))
}

fn default_tls() -> Spanned<String> {
    Spanned::new(0..0, "starttls".into())
}

/// The sink kinds.
pub const KINDS: [&str; 4] = ["webhook", "ntfy", "slack", "email"];

impl NotifyConfig {
    /// Check the entry's shape, pointing at the key that is wrong.
    pub(crate) fn check(&self, loaded: &LoadedConfig, index: usize) -> Result<(), ConfigError> {
        let key = |k: &str| format!("notify[{index}].{k}");
        let at = |span: &std::ops::Range<usize>, k: &str, message: String| {
            let start = if span.is_empty() && span.start == 0 {
                self.kind.span().start
            } else {
                span.start
            };
            loaded.locator.error(Some(start), key(k), message)
        };
        let kind = self.kind.get_ref().as_str();
        if !KINDS.contains(&kind) {
            return Err(at(
                &self.kind.span(),
                "kind",
                format!(
                    "`{kind}` is not a notification kind; use one of: {}",
                    KINDS.join(", ")
                ),
            ));
        }
        if let Some(events) = &self.events {
            for e in events.get_ref() {
                if EventKind::parse(e).is_none() {
                    return Err(at(
                        &events.span(),
                        "events",
                        format!(
                            "`{e}` is not an event; use any of: {}",
                            EventKind::ALL.map(EventKind::name).join(", ")
                        ),
                    ));
                }
            }
        }
        let debounce = self.debounce.get_ref().0;
        if !(std::time::Duration::from_secs(1)..=std::time::Duration::from_secs(7 * 86_400))
            .contains(&debounce)
        {
            return Err(at(
                &self.debounce.span(),
                "debounce",
                "must be from 1s to 7d".into(),
            ));
        }
        if kind == "email" {
            let missing =
                |k: &str| at(&self.kind.span(), k, "is required for an email sink".into());
            let host = self
                .smtp_host
                .as_ref()
                .ok_or_else(|| missing("smtp_host"))?;
            if host.get_ref().trim().is_empty() {
                return Err(at(&host.span(), "smtp_host", "is empty".into()));
            }
            let from = self.from.as_ref().ok_or_else(|| missing("from"))?;
            check_address(from).map_err(|m| at(&from.span(), "from", m))?;
            if self.to.is_empty() {
                return Err(missing("to"));
            }
            for to in &self.to {
                check_address(to).map_err(|m| at(&to.span(), "to", m))?;
            }
            if !matches!(self.tls.get_ref().as_str(), "starttls" | "tls") {
                return Err(at(
                    &self.tls.span(),
                    "tls",
                    format!(
                        "`{}` is not a TLS mode; use \"starttls\" (port 587) or \"tls\" (port 465); mail is never sent in clear",
                        self.tls.get_ref()
                    ),
                ));
            }
            if self.username.is_some() != self.password.is_some() {
                return Err(missing(if self.username.is_some() {
                    "password"
                } else {
                    "username"
                }));
            }
            if let Some(ca) = &self.tls_ca {
                let path = loaded.resolve(ca.get_ref());
                if !path.is_file() {
                    return Err(at(
                        &ca.span(),
                        "tls_ca",
                        format!("{} is not a file (a PEM CA certificate)", path.display()),
                    ));
                }
            }
            if self.url.is_some() {
                return Err(at(
                    &self.kind.span(),
                    "url",
                    "an email sink takes smtp_host, not url".into(),
                ));
            }
        } else {
            let url = self.url.as_ref().ok_or_else(|| {
                at(
                    &self.kind.span(),
                    "url",
                    format!("is required for a {kind} sink"),
                )
            })?;
            if let SettingValue::Text(text) = url.get_ref() {
                check_url(text).map_err(|m| at(&url.span(), "url", m))?;
            }
            if kind == "slack" && self.secret.is_some() {
                return Err(at(
                    &self.kind.span(),
                    "secret",
                    "a Slack webhook is authorised by its URL; put the URL in a secret instead (url = { env = \"…\" })".into(),
                ));
            }
        }
        Ok(())
    }
}

/// Webhooks carry order numbers and reasons: HTTPS, or plain HTTP to this
/// machine only.
pub(crate) fn check_url(text: &str) -> Result<(), String> {
    let url = reqwest::Url::parse(text).map_err(|e| {
        format!("`{text}` is not a URL ({e}); write e.g. \"https://ntfy.sh/my-shop\"")
    })?;
    let loopback = url.host_str().is_some_and(|h| {
        let h = h.trim_matches(['[', ']']);
        h == "localhost"
            || h.parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    });
    match url.scheme() {
        "https" if url.host_str().is_some_and(|h| !h.is_empty()) => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err(format!(
            "`{text}` is plain HTTP to another machine; use https (http is allowed to loopback only)"
        )),
        _ => Err(format!("`{text}` must be an https URL")),
    }
}

fn check_address(address: &Spanned<String>) -> Result<(), String> {
    address
        .get_ref()
        .parse::<lettre::message::Mailbox>()
        .map(|_| ())
        .map_err(|e| format!("`{}` is not an email address ({e})", address.get_ref()))
}

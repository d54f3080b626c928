//! Delivering a message to one sink: a signed webhook, ntfy, a
//! Slack-compatible incoming webhook, or email over SMTP with TLS.
//! Transient failures are retried with backoff; nothing here can make the
//! daemon wait longer than [`MAX_ATTEMPTS`] tries of [`TIMEOUT`].

use super::event::EventKind;
use super::message::Message;
use crate::egress::Secret;
use hmac::{Hmac, Mac};
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use sha2::Sha256;
use std::collections::BTreeSet;
use std::time::Duration;

/// Tries per message.
pub const MAX_ATTEMPTS: u32 = 5;
/// One try's time limit (connect, send, answer).
pub const TIMEOUT: Duration = Duration::from_secs(15);
/// The header carrying the webhook's signature: `t=<unix>,v1=<hex>`,
/// HMAC-SHA256 of `<unix>.<body>` with the sink's secret.
pub const SIGNATURE_HEADER: &str = "x-tradelane-signature";
/// The header naming the delivery, the same on every retry of it.
pub const DELIVERY_HEADER: &str = "x-tradelane-delivery";

/// One configured sink, its secrets read.
pub struct Sink {
    /// For logs: never the URL (it can be a secret).
    pub name: String,
    /// The events it wants (`None`: all).
    pub events: Option<BTreeSet<EventKind>>,
    pub debounce: Duration,
    pub target: Target,
    /// The first wait between tries (doubling).
    pub retry_base: Duration,
}

/// Where messages go.
pub enum Target {
    /// A JSON POST, signed when a secret is set.
    Webhook {
        url: reqwest::Url,
        secret: Option<Secret>,
    },
    /// A POST of the text to an ntfy topic URL.
    Ntfy {
        url: reqwest::Url,
        token: Option<Secret>,
    },
    /// `{"text": …}` to a Slack-compatible incoming webhook.
    Slack { url: reqwest::Url },
    /// Mail through an SMTP relay.
    Email(Box<Email>),
}

/// An SMTP relay and the addresses.
pub struct Email {
    pub transport: AsyncSmtpTransport<Tokio1Executor>,
    pub from: Mailbox,
    pub to: Vec<Mailbox>,
}

/// Why a message was not delivered.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DeliveryError(pub String);

impl Sink {
    /// Whether it wants events of `kind`.
    pub fn wants(&self, kind: EventKind) -> bool {
        self.events.as_ref().is_none_or(|e| e.contains(&kind))
    }

    /// Deliver `message` once, now, with the daemon's HTTP settings (for
    /// `tradelane check --online`).
    pub async fn deliver_now(&self, message: &Message) -> Result<(), DeliveryError> {
        let delivery = format!("{:016x}", fastrand::u64(..));
        self.try_once(&super::http_client(), message, &delivery)
            .await
            .map_err(|f| match f {
                Failure::Transient(why) | Failure::Permanent(why) => DeliveryError(why),
            })
    }

    /// Deliver `message`, retrying what may work on a later try.
    pub async fn deliver(
        &self,
        http: &reqwest::Client,
        message: &Message,
    ) -> Result<(), DeliveryError> {
        let delivery = format!("{:016x}", fastrand::u64(..));
        let mut wait = self.retry_base;
        let mut attempt = 1;
        loop {
            match self.try_once(http, message, &delivery).await {
                Ok(()) => return Ok(()),
                Err(Failure::Permanent(why)) => return Err(DeliveryError(why)),
                Err(Failure::Transient(why)) if attempt >= MAX_ATTEMPTS => {
                    return Err(DeliveryError(format!(
                        "{why} (gave up after {attempt} tries)"
                    )));
                }
                Err(Failure::Transient(why)) => {
                    tracing::debug!(sink = %self.name, attempt, "notification not delivered yet: {why}");
                    tokio::time::sleep(wait).await;
                    wait = wait.saturating_mul(2);
                    attempt += 1;
                }
            }
        }
    }

    async fn try_once(
        &self,
        http: &reqwest::Client,
        message: &Message,
        delivery: &str,
    ) -> Result<(), Failure> {
        let request = match &self.target {
            Target::Webhook { url, secret } => {
                let body = serde_json::to_vec(&message.json()).unwrap_or_default();
                let mut request = http
                    .post(url.clone())
                    .header("content-type", "application/json")
                    .header("x-tradelane-event", message.type_name())
                    .header(DELIVERY_HEADER, delivery);
                if let Some(secret) = secret {
                    let t = chrono::Utc::now().timestamp();
                    request = request.header(SIGNATURE_HEADER, signature(secret, t, &body));
                }
                request.body(body)
            }
            Target::Ntfy { url, token } => {
                let mut request = http
                    .post(url.clone())
                    .header("title", ascii(&format!("tradelane: {}", message.title())))
                    .header(
                        "priority",
                        if message.urgent() { "high" } else { "default" },
                    )
                    .header(
                        "tags",
                        if message.urgent() {
                            "warning"
                        } else {
                            "package"
                        },
                    )
                    .body(message.text());
                if let Some(token) = token {
                    request = request.bearer_auth(token.expose());
                }
                request
            }
            Target::Slack { url } => {
                let text = format!("*tradelane: {}*\n{}", message.title(), message.text());
                http.post(url.clone())
                    .header("content-type", "application/json")
                    .body(serde_json::json!({ "text": text }).to_string())
            }
            Target::Email(email) => return self.send_mail(email, message).await,
        };
        let response = request
            .send()
            .await
            .map_err(|e| Failure::Transient(format!("cannot reach it: {}", without_url(&e))))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let why = format!("it answered {status}");
        if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408 {
            Err(Failure::Transient(why))
        } else {
            Err(Failure::Permanent(why))
        }
    }

    async fn send_mail(&self, email: &Email, message: &Message) -> Result<(), Failure> {
        let mut builder = lettre::Message::builder()
            .from(email.from.clone())
            .subject(format!("[tradelane] {}", message.title()))
            .header(lettre::message::header::ContentType::TEXT_PLAIN);
        for to in &email.to {
            builder = builder.to(to.clone());
        }
        let mail = builder
            .body(message.text())
            .map_err(|e| Failure::Permanent(format!("cannot build the mail: {e}")))?;
        match email.transport.send(mail).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => {
                Err(Failure::Permanent(format!("the relay refused: {e}")))
            }
            Err(e) => Err(Failure::Transient(format!("SMTP: {e}"))),
        }
    }
}

enum Failure {
    /// Worth another try (network, 5xx, 429, SMTP 4xx).
    Transient(String),
    /// Will fail the same way again (4xx, SMTP 5xx).
    Permanent(String),
}

/// `t=<unix>,v1=<hex HMAC-SHA256 of "<unix>.<body>">`.
pub fn signature(secret: &Secret, t: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// An HTTP header value: printable ASCII only.
fn ascii(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .take(200)
        .collect()
}

/// A reqwest error's text without its URL (which may hold a token).
fn without_url(e: &reqwest::Error) -> String {
    let mut e2 = std::error::Error::source(e)
        .map(|s| s.to_string())
        .unwrap_or_default();
    if e.is_timeout() {
        e2 = "timed out".into();
    } else if e2.is_empty() {
        e2 = "request failed".into();
    }
    e2
}

//! Outbound HTTP for plugins: the host side of the `http` import.
//!
//! A plugin's request leaves only through [`Egress::send`], which applies
//! the channel's [`HostPolicy`] (declared ∩ configured hosts, HTTPS, no
//! private addresses), fills in secret placeholders, paces by the channel's
//! token bucket, and retries what is safe to retry. Every response, whatever
//! its status, goes back to the plugin; only a request that could not be
//! made at all is an [`EgressError`].

pub mod bucket;
pub mod http;
pub mod oauth;
pub mod policy;
pub mod record;
pub mod secrets;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

pub use bucket::TokenBucket;
pub use http::{EgressSettings, HttpEgress};
pub use policy::{HostPattern, HostPolicy};
pub use secrets::{Scrubber, Secret, Secrets};

/// HTTP methods a plugin may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Head,
}

impl Method {
    /// Safe to send twice: a 5xx may be retried.
    pub fn is_idempotent(self) -> bool {
        !matches!(self, Method::Post | Method::Patch)
    }
}

/// A request as a plugin built it (secrets still as placeholders).
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    /// The API operation, to pace by its own bucket.
    pub operation: Option<String>,
    /// Access tokens for the request's `{{oauth:NAME}}` placeholders.
    pub tokens: Secrets,
}

impl Request {
    /// A request with no operation and no tokens.
    pub fn new(
        method: Method,
        url: String,
        headers: Vec<(String, String)>,
        body: Option<Vec<u8>>,
    ) -> Self {
        Request {
            method,
            url,
            headers,
            body,
            operation: None,
            tokens: Secrets::new(),
        }
    }
}

/// A response of any status.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

/// The first of `headers` named `name` (case-insensitive).
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Why a request could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EgressError {
    #[error("denied: {0}")]
    Denied(String),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("connection failed: {0}")]
    Connect(String),
    #[error("timed out: {0}")]
    Timeout(String),
    #[error("response larger than {0} bytes")]
    TooLarge(u64),
}

/// When and how often to retry.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// First backoff; doubles each attempt, with jitter.
    pub base_delay: Duration,
    /// Longest single backoff.
    pub max_delay: Duration,
    /// A 429 asking to wait longer than this goes back to the plugin
    /// (which reports `rate-limited`) instead of holding the call.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

/// Everything egress needs to know about one channel; lives as long as the
/// channel, so its token bucket spans calls.
#[derive(Debug)]
pub struct ChannelEgress {
    /// `seller/channel`, for log lines.
    pub label: String,
    pub policy: HostPolicy,
    pub secrets: Secrets,
    pub bucket: Option<TokenBucket>,
    /// Buckets of single operations, by name; a request naming one is
    /// paced by it instead of `bucket`.
    pub operations: std::collections::BTreeMap<String, TokenBucket>,
    pub retry: RetryPolicy,
    /// The token endpoints the host manages for this channel.
    pub oauth: Option<std::sync::Arc<oauth::OAuth>>,
}

impl ChannelEgress {
    /// The bucket that paces a request for `operation`.
    pub fn bucket_for(&self, operation: Option<&str>) -> Option<&TokenBucket> {
        operation
            .and_then(|o| self.operations.get(o))
            .or(self.bucket.as_ref())
    }
}

/// Sends plugin requests. [`HttpEgress`] is the real one; benchmarks replay
/// recorded responses through the same trait.
pub trait Egress: Send + Sync + 'static {
    /// Send `request` on behalf of `channel`.
    fn send<'a>(
        &'a self,
        channel: &'a ChannelEgress,
        request: Request,
    ) -> Pin<Box<dyn Future<Output = Result<Response, EgressError>> + Send + 'a>>;
}

//! The real egress: one shared reqwest client per address policy.

use super::policy::{Denied, check_ip};
use super::secrets::{self, Scrubber};
use super::{ChannelEgress, Egress, EgressError, Method, Request, Response};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracing::debug;

/// Timeouts and caps for all outbound HTTP.
#[derive(Debug, Clone)]
pub struct EgressSettings {
    pub connect_timeout: Duration,
    /// Per attempt, headers and body.
    pub request_timeout: Duration,
    /// One request with all its retries, waits and redirects.
    pub total_timeout: Duration,
    pub max_response_bytes: u64,
}

impl Default for EgressSettings {
    fn default() -> Self {
        EgressSettings {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            total_timeout: Duration::from_secs(90),
            max_response_bytes: 16 << 20,
        }
    }
}

/// reqwest clients, one per (loopback, private) address policy, shared by
/// every channel with that policy so connections are pooled.
pub struct HttpEgress {
    settings: EgressSettings,
    clients: Mutex<HashMap<(bool, bool), reqwest::Client>>,
}

impl HttpEgress {
    /// An egress with these timeouts and caps.
    pub fn new(settings: EgressSettings) -> Self {
        HttpEgress {
            settings,
            clients: Mutex::new(HashMap::new()),
        }
    }

    fn client(
        &self,
        allow_loopback: bool,
        allow_private: bool,
    ) -> Result<reqwest::Client, EgressError> {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = clients.get(&(allow_loopback, allow_private)) {
            return Ok(c.clone());
        }
        let client = reqwest::Client::builder()
            .connect_timeout(self.settings.connect_timeout)
            .timeout(self.settings.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver {
                allow_loopback,
                allow_private,
            }))
            .user_agent(concat!("tradelane/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| EgressError::Connect(format!("cannot build HTTP client: {e}")))?;
        clients.insert((allow_loopback, allow_private), client.clone());
        Ok(client)
    }

    async fn attempt(
        &self,
        client: &reqwest::Client,
        method: Method,
        url: &reqwest::Url,
        headers: &[(String, String)],
        body: &Option<Vec<u8>>,
    ) -> Result<Response, EgressError> {
        let mut builder = client.request(to_reqwest(method), url.clone());
        for (k, v) in headers {
            builder = builder.header(k, v);
        }
        if let Some(b) = body {
            builder = builder.body(b.clone());
        }
        let mut response = builder.send().await.map_err(classify)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let cap = self.settings.max_response_bytes;
        if response.content_length().is_some_and(|n| n > cap) {
            return Err(EgressError::TooLarge(cap));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if body.len() as u64 + chunk.len() as u64 > cap {
                return Err(EgressError::TooLarge(cap));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

impl Egress for HttpEgress {
    fn send<'a>(
        &'a self,
        channel: &'a ChannelEgress,
        request: Request,
    ) -> Pin<Box<dyn Future<Output = Result<Response, EgressError>> + Send + 'a>> {
        Box::pin(async move {
            // One request, retries and waits included, never outlasts this:
            // a server that drips its answer cannot hold a call for long.
            let total = self.settings.total_timeout;
            match tokio::time::timeout(total, self.send_within(channel, request)).await {
                Ok(result) => result,
                Err(_) => Err(EgressError::Timeout(format!(
                    "no complete answer within {} s, retries included",
                    total.as_secs()
                ))),
            }
        })
    }
}

impl HttpEgress {
    /// Send with the channel's policy, secrets, retries and redirects.
    async fn send_within(
        &self,
        channel: &ChannelEgress,
        request: Request,
    ) -> Result<Response, EgressError> {
        {
            let policy = &channel.policy;
            let mut url = reqwest::Url::parse(&request.url).map_err(|e| {
                EgressError::InvalidRequest(format!("`{}` is not a URL: {e}", request.url))
            })?;
            let query_secrets = policy.secrets_in_query && secrets::query_has_placeholder(&url);
            if !query_secrets {
                secrets::refuse_in_url(&url).map_err(EgressError::InvalidRequest)?;
            }
            policy
                .check_url(&url)
                .map_err(|Denied(why)| EgressError::Denied(why))?;
            // Secrets go in only after the host check passed; what went in
            // is noted, to take an echo of it out of the response.
            let mut used = Scrubber::default();
            if query_secrets {
                url = secrets::fill_query(&url, policy.allow_loopback, &channel.secrets, &mut used)
                    .map_err(EgressError::InvalidRequest)?;
            }
            let mut headers = Vec::with_capacity(request.headers.len());
            // Headers that carry a secret: dropped on a redirect to
            // another origin, as curl and browsers drop `Authorization`.
            let mut secret_headers = Vec::new();
            for (k, v) in &request.headers {
                if secrets::has_placeholder(v) {
                    secret_headers.push(k.to_ascii_lowercase());
                }
                let filled =
                    secrets::substitute_noting(v, &channel.secrets, &request.tokens, &mut used)
                        .map_err(EgressError::InvalidRequest)?;
                headers.push((k.clone(), filled));
            }
            let body_has_secret = request
                .body
                .as_ref()
                .is_some_and(|b| secrets::has_placeholder(&String::from_utf8_lossy(b)));
            let body = request
                .body
                .map(|b| secrets::substitute_bytes(b, &channel.secrets, &request.tokens, &mut used))
                .transpose()
                .map_err(EgressError::InvalidRequest)?;
            let client = self.client(policy.allow_loopback, policy.allow_private)?;
            let bucket = channel.bucket_for(request.operation.as_deref());
            let retry = &channel.retry;
            let mut method = request.method;
            let mut attempt = 0u32;
            let mut redirects = 0u32;
            loop {
                attempt += 1;
                if let Some(bucket) = bucket {
                    let waited = std::time::Instant::now();
                    if let Err(wait) = bucket.acquire_within(retry.max_retry_after).await {
                        metrics::counter!("tradelane_rate_limit_deferrals_total", "channel" => channel.label.clone())
                            .increment(1);
                        return Ok(budget_spent(request.operation.as_deref(), wait));
                    }
                    let waited = waited.elapsed();
                    if waited >= Duration::from_millis(1) {
                        metrics::counter!("tradelane_rate_limit_waits_total", "channel" => channel.label.clone())
                            .increment(1);
                        metrics::histogram!("tradelane_rate_limit_wait_seconds", "channel" => channel.label.clone())
                            .record(waited.as_secs_f64());
                    }
                }
                let result = self.attempt(&client, method, &url, &headers, &body).await;
                let last = attempt >= retry.max_attempts;
                let response = match result {
                    Ok(r) => scrub(r, &used),
                    Err(EgressError::Connect(why)) if !last => {
                        debug!(channel = %channel.label, host = url.host_str(), attempt, "connect failed, retrying: {why}");
                        tokio::time::sleep(backoff(retry, attempt)).await;
                        continue;
                    }
                    // A timed-out POST may have been processed: only idempotent methods retry.
                    Err(EgressError::Timeout(why)) if !last && method.is_idempotent() => {
                        debug!(channel = %channel.label, host = url.host_str(), attempt, "timed out, retrying: {why}");
                        tokio::time::sleep(backoff(retry, attempt)).await;
                        continue;
                    }
                    Err(e) => return Err(e),
                };
                if let Some(bucket) = bucket {
                    bucket.observe(&response.headers);
                }
                debug!(channel = %channel.label, host = url.host_str(), path = url.path(), status = response.status, attempt, "http");
                metrics::counter!("tradelane_http_requests_total",
                    "host" => url.host_str().unwrap_or("").to_string(),
                    "status" => response.status.to_string())
                .increment(1);
                match response.status {
                    429 => {
                        let wait =
                            retry_after(&response).unwrap_or_else(|| backoff(retry, attempt));
                        if let Some(bucket) = bucket {
                            bucket.pause(wait);
                        }
                        if last || wait > retry.max_retry_after {
                            return Ok(response);
                        }
                        tokio::time::sleep(wait).await;
                    }
                    500..=599 if !last && method.is_idempotent() => {
                        tokio::time::sleep(backoff(retry, attempt)).await;
                    }
                    301 | 302 | 303 | 307 | 308 if policy.follow_redirects && redirects < 5 => {
                        let Some(location) = response.header("location") else {
                            return Ok(response);
                        };
                        let next = url.join(location).map_err(|e| {
                            EgressError::InvalidRequest(format!("bad redirect `{location}`: {e}"))
                        })?;
                        policy.check_url(&next).map_err(|Denied(why)| {
                            EgressError::Denied(format!("redirect {why}"))
                        })?;
                        if next.origin() != url.origin() {
                            // A secret never follows a redirect to another
                            // origin: its headers are dropped, and a body
                            // that carries one is not sent again.
                            headers
                                .retain(|(k, _)| !secret_headers.contains(&k.to_ascii_lowercase()));
                            if body_has_secret {
                                return Ok(response);
                            }
                        }
                        if response.status == 303 {
                            method = Method::Get;
                        }
                        url = next;
                        redirects += 1;
                        attempt -= 1;
                    }
                    _ => return Ok(response),
                }
            }
        }
    }
}

/// The answer to a request the channel's pace does not allow for longer
/// than a call should wait: a 429 with `Retry-After`, in the host's words,
/// which the plugin reports as `rate-limited` and the host defers on.
fn budget_spent(operation: Option<&str>, wait: Duration) -> Response {
    let what = match operation {
        Some(op) => format!("the API's usage plan for `{op}`"),
        None => "the API's rate limit".to_string(),
    };
    let seconds = wait.as_secs().max(1);
    let body = serde_json::json!({
        "error": "tradelane_rate_limit",
        "error_description": format!("{what} allows the next request in {seconds} s; the pass resumes then"),
    });
    Response {
        status: 429,
        headers: vec![
            ("retry-after".into(), seconds.to_string()),
            ("content-type".into(), "application/json".into()),
        ],
        body: serde_json::to_vec(&body).unwrap_or_default(),
    }
}

/// The response with every secret value the request carried replaced by
/// its placeholder, in headers and body, before a plugin sees it: an
/// allowed host that echoes its request hands the plugin nothing.
fn scrub(response: Response, used: &Scrubber) -> Response {
    if used.is_empty() {
        return response;
    }
    Response {
        status: response.status,
        headers: response
            .headers
            .into_iter()
            .map(|(k, v)| (k, used.text(&v)))
            .collect(),
        body: used.bytes(response.body),
    }
}

fn retry_after(response: &Response) -> Option<Duration> {
    let value = response.header("retry-after")?.trim();
    let seconds: f64 = value.parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0)
        .then(|| Duration::from_millis((seconds * 1000.0) as u64))
}

/// Exponential backoff with full jitter in [d/2, d].
fn backoff(retry: &super::RetryPolicy, attempt: u32) -> Duration {
    let exp = retry
        .base_delay
        .saturating_mul(1u32 << attempt.min(16).saturating_sub(1));
    let capped = exp.min(retry.max_delay);
    let half = capped / 2;
    half + Duration::from_nanos(fastrand::u64(0..=half.as_nanos() as u64))
}

fn classify(e: reqwest::Error) -> EgressError {
    // Never the URL: its query may carry a secret (`secrets_in_query`).
    let e = e.without_url();
    let text = error_chain(&e);
    if e.is_timeout() {
        EgressError::Timeout(text)
    } else if refused_by_resolver(&e) {
        EgressError::Denied(text)
    } else {
        EgressError::Connect(text)
    }
}

/// Whether the resolver guard (not the network) stopped the request.
fn refused_by_resolver(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(e);
    while let Some(s) = source {
        if s.downcast_ref::<AddressRefused>().is_some() {
            return true;
        }
        source = s.source();
    }
    false
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn to_reqwest(m: Method) -> reqwest::Method {
    match m {
        Method::Get => reqwest::Method::GET,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Patch => reqwest::Method::PATCH,
        Method::Delete => reqwest::Method::DELETE,
        Method::Head => reqwest::Method::HEAD,
    }
}

/// Resolves names, then drops loopback and private addresses the channel
/// may not reach: a public name pointing at 10.0.0.1 is refused here.
struct GuardedResolver {
    allow_loopback: bool,
    allow_private: bool,
}

/// A name resolved only to addresses the channel may not reach.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct AddressRefused(String);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let (allow_loopback, allow_private) = (self.allow_loopback, self.allow_private);
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refused = None;
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| {
                    match check_ip(
                        a.ip(),
                        allow_loopback,
                        allow_private,
                        "the channel's config",
                    ) {
                        Ok(()) => true,
                        Err(why) => {
                            refused = Some(why);
                            false
                        }
                    }
                })
                .collect();
            if allowed.is_empty() {
                let why = refused.unwrap_or_else(|| format!("`{host}` has no addresses"));
                return Err(AddressRefused(format!("`{host}` refused: {why}")).into());
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

//! What a plugin call owns: its WASI context (empty), its limits, and the
//! host services behind the contract's imports.
//!
//! One `CallState` lives in one `Store` for exactly one call: a trap
//! poisons a store, and a fresh one per call means nothing leaks between
//! sellers, channels or calls.

use super::bindings::{cache, http, log, secrets};
use crate::egress::{self, ChannelEgress, Egress};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::Arc;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// The persisted per-channel cache behind the `cache` import.
pub trait PluginCache: Send + Sync {
    /// A live value.
    fn get(&self, key: &str) -> Option<String>;
    /// Store a value for `ttl_seconds`.
    fn set(&self, key: &str, value: &str, ttl_seconds: u32);
}

/// A cache that forgets everything (for `check` and tests).
pub struct NoCache;

impl PluginCache for NoCache {
    fn get(&self, _key: &str) -> Option<String> {
        None
    }
    fn set(&self, _key: &str, _value: &str, _ttl_seconds: u32) {}
}

/// Limits of one call.
#[derive(Debug, Clone, Copy)]
pub struct CallLimits {
    /// CPU time of the plugin's own execution and of the host calls it
    /// makes (HTTP waits excepted), in epoch ticks.
    pub deadline_ticks: u64,
    /// Linear memory cap in bytes.
    pub memory_bytes: usize,
    /// HTTP requests one call may send.
    pub max_requests: u32,
    /// Wall-clock time of the whole call, HTTP included.
    pub wall_deadline: std::time::Duration,
    /// Log lines one call may write (more are counted and dropped).
    pub max_log_lines: u32,
}

/// Longest log line kept, in bytes; the rest is cut.
pub const MAX_LOG_LINE_BYTES: usize = 4096;
/// Log text one call may hand the host at all, kept or not: past it the
/// call fails (`max_log_lines` bounds what reaches the log; this bounds
/// the copying a flood of huge lines costs).
pub const MAX_LOG_BYTES_OFFERED: usize = 16 << 20;
/// Default of `[daemon.plugins] wall_deadline`.
pub const DEFAULT_WALL_DEADLINE: std::time::Duration = std::time::Duration::from_secs(120);
/// Default of `[daemon.plugins] max_log_lines_per_call`.
pub const DEFAULT_LOG_LINES: u32 = 200;

/// A limit a call ran into, for the error that names it and its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitHit {
    pub limit: String,
    pub key: &'static str,
}

/// Who is calling, for logs and errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallSite {
    pub seller: String,
    pub channel: String,
    pub plugin: String,
}

impl std::fmt::Display for CallSite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "seller `{}` channel `{}` plugin `{}`",
            self.seller, self.channel, self.plugin
        )
    }
}

/// The services a call can use.
#[derive(Clone)]
pub struct CallServices {
    pub site: CallSite,
    pub egress: Arc<dyn Egress>,
    pub channel: Arc<ChannelEgress>,
    pub cache: Arc<dyn PluginCache>,
}

/// Store data for one call.
pub struct CallState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: Limiter,
    pub(crate) services: CallServices,
    pub(crate) ticks_left: u64,
    requests_left: u32,
    max_requests: u32,
    /// The panic message the SDK's hook logged, if the plugin panicked.
    pub(crate) panic_message: Option<String>,
    /// Set when the request budget ran out (the plugin may hide it).
    pub(crate) budget_exhausted: bool,
    /// Host-call time not yet charged as whole ticks.
    host_time: std::time::Duration,
    /// Log lines and bytes the plugin handed over, and lines dropped.
    log_lines: u32,
    log_bytes: usize,
    log_dropped: u32,
    max_log_lines: u32,
    /// Secrets as they could appear in a log line (built on first use).
    log_scrubber: Option<crate::egress::Scrubber>,
    /// Set when a limit other than CPU or memory stopped the call.
    pub(crate) limit_hit: Option<LimitHit>,
    /// What the guest wrote to stdout and stderr, forwarded when it ends.
    stdout: super::stdio::CapturedOutput,
    stderr: super::stdio::CapturedOutput,
}

/// Marker error of a trap raised by the host because a limit was hit.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct HostLimit(pub String);

/// Marker error returned when the CPU deadline runs out.
#[derive(Debug, thiserror::Error)]
#[error("CPU deadline exceeded")]
pub(crate) struct DeadlineExceeded;

impl CallState {
    /// A fresh state: no files, no environment, no sockets, no stdin;
    /// stdout and stderr are captured for the log.
    pub fn new(services: CallServices, limits: CallLimits) -> Self {
        let stdout = super::stdio::CapturedOutput::default();
        let stderr = super::stdio::CapturedOutput::default();
        let wasi = WasiCtxBuilder::new()
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .socket_addr_check(|_, _| Box::pin(async { false }))
            .build();
        CallState {
            wasi,
            table: ResourceTable::new(),
            limiter: Limiter {
                memory_bytes: limits.memory_bytes,
                memory_exceeded: false,
            },
            services,
            ticks_left: limits.deadline_ticks,
            requests_left: limits.max_requests,
            max_requests: limits.max_requests,
            panic_message: None,
            budget_exhausted: false,
            host_time: std::time::Duration::ZERO,
            log_lines: 0,
            log_bytes: 0,
            log_dropped: 0,
            max_log_lines: limits.max_log_lines,
            log_scrubber: None,
            limit_hit: None,
            stdout,
            stderr,
        }
    }

    /// Charge a host call's work to the CPU deadline: the time spent in it,
    /// plus the copy of its `bytes` of arguments out of guest memory, which
    /// wasmtime makes before the call starts (measured at about 100 MB/s
    /// for a `list<u8>`), so a loop of host calls cannot outrun it.
    pub(crate) fn charge_call(
        &mut self,
        started: std::time::Instant,
        bytes: usize,
    ) -> wasmtime::Result<()> {
        let copy = std::time::Duration::from_nanos(bytes as u64 * 10);
        self.charge(started.elapsed() + copy)
    }

    /// Charge `spent` to the CPU deadline.
    pub(crate) fn charge(&mut self, spent: std::time::Duration) -> wasmtime::Result<()> {
        self.host_time += spent;
        let tick = super::engine::EPOCH_TICK;
        while self.host_time >= tick {
            self.host_time -= tick;
            if self.ticks_left == 0 {
                return Err(DeadlineExceeded.into());
            }
            self.ticks_left -= 1;
        }
        Ok(())
    }
}

impl Drop for CallState {
    fn drop(&mut self) {
        self.forward_stdio();
        if self.log_dropped > 0 {
            let site = &self.services.site;
            tracing::warn!(seller = %site.seller, channel = %site.channel, plugin = %site.plugin,
                dropped = self.log_dropped,
                "the plugin wrote more log lines than `max_log_lines_per_call` ({}); the rest were dropped",
                self.max_log_lines);
        }
    }
}

impl CallState {
    /// The guest's stdout and stderr lines into the log, under its name,
    /// scrubbed of secrets, within what is left of `max_log_lines`.
    fn forward_stdio(&mut self) {
        let site = self.services.site.clone();
        for (name, stream) in [
            ("stdout", self.stdout.clone()),
            ("stderr", self.stderr.clone()),
        ] {
            let (lines, cut_bytes) = stream.drain();
            for line in lines {
                if self.log_lines >= self.max_log_lines {
                    self.log_dropped += 1;
                    continue;
                }
                self.log_lines += 1;
                let scrubber = self.log_scrubber.get_or_insert_with(|| {
                    crate::egress::Scrubber::for_secrets(&self.services.channel.secrets)
                });
                let mut end = line.len().min(MAX_LOG_LINE_BYTES);
                while !line.is_char_boundary(end) {
                    end -= 1;
                }
                let text = scrubber.text(&line[..end]);
                match name {
                    "stderr" => {
                        tracing::warn!(seller = %site.seller, channel = %site.channel, plugin = %site.plugin, stream = name, "{text}")
                    }
                    _ => {
                        tracing::info!(seller = %site.seller, channel = %site.channel, plugin = %site.plugin, stream = name, "{text}")
                    }
                }
            }
            if cut_bytes > 0 {
                tracing::warn!(seller = %site.seller, channel = %site.channel, plugin = %site.plugin,
                    stream = name, dropped_bytes = cut_bytes,
                    "the plugin wrote more than {} KiB to {name} in one call; the rest was dropped",
                    super::stdio::STDIO_BYTES >> 10);
            }
        }
    }
}

/// Caps linear memory and remembers that the cap was hit, so the error
/// says "memory cap" rather than a bare trap.
pub(crate) struct Limiter {
    pub(crate) memory_bytes: usize,
    pub(crate) memory_exceeded: bool,
}

/// Marker error for a memory growth past the cap.
#[derive(Debug, thiserror::Error)]
#[error("memory cap exceeded")]
pub(crate) struct MemoryCapExceeded;

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            self.memory_exceeded = true;
            return Err(MemoryCapExceeded.into());
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl http::Host for CallState {
    async fn send(
        &mut self,
        request: http::Request,
    ) -> wasmtime::Result<Result<http::Response, http::HttpError>> {
        if self.requests_left == 0 {
            self.budget_exhausted = true;
            return Ok(Err(http::HttpError::BudgetExhausted(self.max_requests)));
        }
        self.requests_left -= 1;
        let mut request = egress::Request {
            method: match request.method {
                http::Method::Get => egress::Method::Get,
                http::Method::Post => egress::Method::Post,
                http::Method::Put => egress::Method::Put,
                http::Method::Patch => egress::Method::Patch,
                http::Method::Delete => egress::Method::Delete,
                http::Method::Head => egress::Method::Head,
            },
            url: request.url,
            headers: request.headers,
            body: request.body,
            operation: request.operation,
            tokens: egress::Secrets::new(),
        };
        let services = self.services.clone();
        let names = oauth_names(&request);
        let result = if names.is_empty() {
            services.egress.send(&services.channel, request).await
        } else {
            // Tokens go in as the request leaves; a 401 to a request that
            // carried them is answered by one refresh and one resend (and
            // a 403: SP-API answers an expired token so).
            let generations = match with_tokens(&services, &names, &mut request).await {
                Ok(g) => g,
                Err(e) => return Ok(Ok(token_failure(&services, e))),
            };
            let first = services
                .egress
                .send(&services.channel, request.clone())
                .await;
            match first {
                Ok(r) if r.status == 401 || r.status == 403 => {
                    let oauth = services.channel.oauth.as_ref().expect("names imply oauth");
                    for (name, generation) in names.iter().zip(generations) {
                        oauth.invalidate(name, generation).await;
                    }
                    if let Err(e) = with_tokens(&services, &names, &mut request).await {
                        return Ok(Ok(token_failure(&services, e)));
                    }
                    services.egress.send(&services.channel, request).await
                }
                other => other,
            }
        };
        Ok(match result {
            Ok(r) => Ok(http::Response {
                status: r.status,
                headers: r.headers,
                body: r.body,
            }),
            Err(e) => {
                if let egress::EgressError::Denied(why) = &e {
                    tracing::warn!(seller = %services.site.seller, channel = %services.site.channel, plugin = %services.site.plugin, "request denied: {why}");
                }
                Err(match e {
                    egress::EgressError::Denied(s) => http::HttpError::Denied(s),
                    egress::EgressError::InvalidRequest(s) => http::HttpError::InvalidRequest(s),
                    egress::EgressError::Connect(s) => http::HttpError::Connect(s),
                    egress::EgressError::Timeout(s) => http::HttpError::Timeout(s),
                    egress::EgressError::TooLarge(n) => http::HttpError::TooLarge(n),
                })
            }
        })
    }
}

/// The OAuth clients a request's headers and body name.
fn oauth_names(request: &egress::Request) -> Vec<String> {
    let mut names = Vec::new();
    for (_, v) in &request.headers {
        egress::secrets::oauth_names(v, &mut names);
    }
    if let Some(body) = &request.body
        && memchr::memmem::find(body, b"{{oauth:").is_some()
    {
        egress::secrets::oauth_names(&String::from_utf8_lossy(body), &mut names);
    }
    names
}

/// Put the current token of each of `names` into `request`; their
/// generations, in order.
async fn with_tokens(
    services: &CallServices,
    names: &[String],
    request: &mut egress::Request,
) -> Result<Vec<u64>, egress::oauth::TokenError> {
    let Some(oauth) = &services.channel.oauth else {
        return Err(egress::oauth::TokenError::Refused(format!(
            "the request names OAuth client `{}`, but the plugin's manifest declares none",
            names[0]
        )));
    };
    let mut generations = Vec::with_capacity(names.len());
    for name in names {
        let (token, generation) = oauth.token(name, services.egress.as_ref()).await?;
        request.tokens.insert(name.clone(), token);
        generations.push(generation);
    }
    Ok(generations)
}

/// The answer a plugin gets when no token could be had: a 401 (a person
/// must act) or a 503 (try later), whose body says why in the host's
/// words, so the plugin reports it as it reports any refusal.
fn token_failure(services: &CallServices, e: egress::oauth::TokenError) -> http::Response {
    let site = &services.site;
    let (status, why) = match &e {
        egress::oauth::TokenError::Refused(why) => (401, why),
        egress::oauth::TokenError::Transient(why) => (503, why),
    };
    tracing::warn!(seller = %site.seller, channel = %site.channel, plugin = %site.plugin, "no OAuth access token: {why}");
    let body = serde_json::json!({
        "error": "tradelane_oauth",
        "error_description": why,
    });
    http::Response {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: serde_json::to_vec(&body).unwrap_or_default(),
    }
}

impl log::Host for CallState {
    async fn log(&mut self, level: log::Level, message: String) -> wasmtime::Result<()> {
        let started = std::time::Instant::now();
        self.log_bytes = self.log_bytes.saturating_add(message.len());
        if self.log_bytes > MAX_LOG_BYTES_OFFERED {
            self.limit_hit = Some(LimitHit {
                limit: format!("{} MiB of log text", MAX_LOG_BYTES_OFFERED >> 20),
                key: "max_log_lines_per_call",
            });
            return Err(HostLimit("log flood".into()).into());
        }
        let panic = message.starts_with("plugin panicked:");
        let bytes = message.len();
        if self.log_lines >= self.max_log_lines && !panic {
            self.log_dropped += 1;
            return self.charge_call(started, bytes);
        }
        self.log_lines += 1;
        let mut cut = message.len().min(MAX_LOG_LINE_BYTES);
        while !message.is_char_boundary(cut) {
            cut -= 1;
        }
        let scrubber = self.log_scrubber.get_or_insert_with(|| {
            crate::egress::Scrubber::for_secrets(&self.services.channel.secrets)
        });
        let whole = cut == message.len();
        let mut message = scrubber.text(&message[..cut]);
        if !whole {
            message.push('…');
        }
        if panic {
            self.panic_message = Some(
                message
                    .trim_start_matches("plugin panicked:")
                    .trim()
                    .to_string(),
            );
        }
        let site = &self.services.site;
        match level {
            log::Level::Trace => {
                tracing::trace!(seller = %site.seller, channel = %site.channel, plugin = %site.plugin, "{message}")
            }
            log::Level::Debug => {
                tracing::debug!(seller = %site.seller, channel = %site.channel, plugin = %site.plugin, "{message}")
            }
            log::Level::Info => {
                tracing::info!(seller = %site.seller, channel = %site.channel, plugin = %site.plugin, "{message}")
            }
            log::Level::Warn => {
                tracing::warn!(seller = %site.seller, channel = %site.channel, plugin = %site.plugin, "{message}")
            }
            log::Level::Error => {
                tracing::error!(seller = %site.seller, channel = %site.channel, plugin = %site.plugin, "{message}")
            }
        }
        self.charge_call(started, bytes)
    }
}

impl secrets::Host for CallState {
    async fn hmac_sha256(
        &mut self,
        secret: String,
        message: Vec<u8>,
    ) -> wasmtime::Result<Result<Vec<u8>, String>> {
        let Some(key) = self.services.channel.secrets.get(&secret) else {
            return Ok(Err(format!(
                "no secret named `{secret}` is configured for this channel"
            )));
        };
        let mut mac = match Hmac::<Sha256>::new_from_slice(key.expose().as_bytes()) {
            Ok(m) => m,
            Err(e) => return Ok(Err(e.to_string())),
        };
        let started = std::time::Instant::now();
        mac.update(&message);
        let out = mac.finalize().into_bytes().to_vec();
        self.charge_call(started, message.len())?;
        Ok(Ok(out))
    }
}

impl cache::Host for CallState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        let started = std::time::Instant::now();
        let value = self.services.cache.get(&key);
        self.charge_call(started, key.len() + value.as_ref().map_or(0, String::len))?;
        Ok(value)
    }
    async fn set(&mut self, key: String, value: String, ttl_seconds: u32) -> wasmtime::Result<()> {
        let started = std::time::Instant::now();
        if key.len() <= 256 && value.len() <= 64 * 1024 {
            self.services.cache.set(&key, &value, ttl_seconds);
        }
        self.charge_call(started, key.len() + value.len())
    }
}

impl super::bindings::types::Host for CallState {}

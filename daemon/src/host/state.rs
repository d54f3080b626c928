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
    /// CPU time of the plugin's own execution, in epoch ticks.
    pub deadline_ticks: u64,
    /// Linear memory cap in bytes.
    pub memory_bytes: usize,
    /// HTTP requests one call may send.
    pub max_requests: u32,
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
}

impl CallState {
    /// A fresh state: no files, no environment, no sockets, no stdio.
    pub fn new(services: CallServices, limits: CallLimits) -> Self {
        let wasi = WasiCtxBuilder::new()
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
        let request = egress::Request {
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
        };
        let services = &self.services;
        let result = services.egress.send(&services.channel, request).await;
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

impl log::Host for CallState {
    async fn log(&mut self, level: log::Level, message: String) -> wasmtime::Result<()> {
        let site = &self.services.site;
        let message: String = message.chars().take(4096).collect();
        if message.starts_with("plugin panicked:") {
            self.panic_message = Some(
                message
                    .trim_start_matches("plugin panicked:")
                    .trim()
                    .to_string(),
            );
        }
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
        Ok(())
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
        mac.update(&message);
        Ok(Ok(mac.finalize().into_bytes().to_vec()))
    }
}

impl cache::Host for CallState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        Ok(self.services.cache.get(&key))
    }
    async fn set(&mut self, key: String, value: String, ttl_seconds: u32) -> wasmtime::Result<()> {
        if key.len() <= 256 && value.len() <= 64 * 1024 {
            self.services.cache.set(&key, &value, ttl_seconds);
        }
        Ok(())
    }
}

impl super::bindings::types::Host for CallState {}

//! Running one export: a fresh store and instance per call, the CPU
//! deadline counted only while the plugin runs, and a trap, panic or limit
//! turned into a [`CallError`] that names the call site.

use super::bindings::types as wit;
use super::compat::Conv;
use super::convert::{self, InvalidOutput};
use super::engine::EPOCH_TICK;
use super::error::{CallError, CallErrorKind};
use super::load::{Plugin, Pre};
use super::state::{
    CallLimits, CallServices, CallSite, CallState, DeadlineExceeded, MemoryCapExceeded,
};
use crate::model::{Manifest, PluginKind};
use std::time::Duration;
use wasmtime::{Store, UpdateDeadline};

/// Run one export in a fresh store: instantiate from `$pre`, make the call
/// (`$b` the bindings, `$s` the store), and turn a trap into a
/// [`CallError`]. Yields `Result<(CallSite, plugin result), CallError>`.
macro_rules! in_fresh_store {
    ($plugin:expr, $services:expr, $limits:expr, $pre:expr, |$b:ident, $s:ident| $call:expr) => {{
        let site = $services.site.clone();
        let mut store = $plugin.store($services, $limits);
        // The wall-clock deadline bounds the whole call, HTTP included;
        // dropping the unfinished call drops its instance.
        let run = async {
            match $pre.instantiate_async(&mut store).await {
                Ok($b) => {
                    let $s = &mut store;
                    $call.await
                }
                Err(e) => Err(e),
            }
        };
        let result = match tokio::time::timeout($limits.wall_deadline, run).await {
            Ok(r) => r,
            Err(_) => {
                store.data_mut().limit_hit = Some($crate::host::state::LimitHit {
                    limit: format!(
                        "its wall-clock deadline of {} s",
                        $limits.wall_deadline.as_secs()
                    ),
                    key: "wall_deadline",
                });
                Err(wasmtime::Error::msg("wall-clock deadline exceeded"))
            }
        };
        result
            .map(|r| (site.clone(), r))
            .map_err(|e| $plugin.fail(&site, &store, $limits, e))
    }};
}

impl Plugin {
    /// The plugin's kind.
    pub fn kind(&self) -> PluginKind {
        self.manifest.kind
    }

    pub(super) fn store(&self, services: CallServices, limits: CallLimits) -> Store<CallState> {
        let mut store = Store::new(&self.engine, CallState::new(services, limits));
        store.limiter(|s| &mut s.limiter);
        // Count the plugin's own execution: the callback runs when wasm
        // code sees the epoch pass its deadline, so time spent waiting in
        // HTTP costs at most one tick per return to wasm. The other host
        // calls charge their own time (`CallState::charge`).
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|mut ctx| {
            let state = ctx.data_mut();
            if state.ticks_left == 0 {
                return Err(DeadlineExceeded.into());
            }
            state.ticks_left -= 1;
            Ok(UpdateDeadline::Yield(1))
        });
        store
    }

    pub(super) fn fail(
        &self,
        site: &CallSite,
        store: &Store<CallState>,
        limits: CallLimits,
        error: wasmtime::Error,
    ) -> CallError {
        let state = store.data();
        let kind = if let Some(hit) = &state.limit_hit {
            CallErrorKind::Limit {
                limit: hit.limit.clone(),
                key: hit.key,
            }
        } else if error.downcast_ref::<DeadlineExceeded>().is_some() {
            CallErrorKind::Deadline(Duration::from_millis(
                limits.deadline_ticks * EPOCH_TICK.as_millis() as u64,
            ))
        } else if state.limiter.memory_exceeded
            || error.downcast_ref::<MemoryCapExceeded>().is_some()
        {
            CallErrorKind::Memory(limits.memory_bytes)
        } else if let Some(message) = &state.panic_message {
            CallErrorKind::Panic(message.clone())
        } else if let Some(trap) = error.downcast_ref::<wasmtime::Trap>() {
            CallErrorKind::Trap(trap.to_string())
        } else {
            CallErrorKind::Trap(format!("{error:#}"))
        };
        let error = CallError {
            site: site.clone(),
            kind,
        };
        if error.is_limit() {
            crate::notify::tell(
                crate::notify::EventKind::PluginLimitHit,
                &site.seller,
                &site.channel,
                error.to_string(),
            );
        }
        error
    }

    pub(super) fn wrong_kind(&self, site: &CallSite, wanted: PluginKind) -> CallError {
        CallError {
            site: site.clone(),
            kind: CallErrorKind::Host(format!(
                "plugin is a {} plugin, not a {wanted} plugin",
                self.kind()
            )),
        }
    }

    pub(super) fn invalid(site: &CallSite, e: InvalidOutput) -> CallError {
        CallError {
            site: site.clone(),
            kind: CallErrorKind::InvalidOutput(e.0),
        }
    }

    pub(super) fn failure(site: &CallSite, e: wit::PluginError) -> CallError {
        CallError {
            site: site.clone(),
            kind: CallErrorKind::Plugin(convert::plugin_error(e)),
        }
    }

    pub(super) async fn manifest_call(
        &self,
        services: CallServices,
        limits: CallLimits,
    ) -> Result<Manifest, CallError> {
        let (_, manifest) = match &self.pre {
            Pre::Marketplace(pre) => in_fresh_store!(self, services, limits, pre, |b, s| b
                .tradelane_plugin_sales_channel()
                .call_manifest(s))?,
            Pre::Payment(pre) => in_fresh_store!(self, services, limits, pre, |b, s| b
                .tradelane_plugin_payment_provider()
                .call_manifest(s))?,
            Pre::Carrier(pre) => in_fresh_store!(self, services, limits, pre, |b, s| b
                .tradelane_plugin_carrier_service()
                .call_manifest(s))?,
            Pre::MarketplaceV01(pre) => in_fresh_store!(self, services, limits, pre, |b, s| b
                .tradelane_plugin_sales_channel()
                .call_manifest(s))
            .map(|(site, m)| (site, m.conv()))?,
            Pre::PaymentV01(pre) => in_fresh_store!(self, services, limits, pre, |b, s| b
                .tradelane_plugin_payment_provider()
                .call_manifest(s))
            .map(|(site, m)| (site, m.conv()))?,
            Pre::CarrierV01(pre) => in_fresh_store!(self, services, limits, pre, |b, s| b
                .tradelane_plugin_carrier_service()
                .call_manifest(s))
            .map(|(site, m)| (site, m.conv()))?,
            Pre::MarketplaceV02(pre) => in_fresh_store!(self, services, limits, pre, |b, s| b
                .tradelane_plugin_sales_channel()
                .call_manifest(s))
            .map(|(site, m)| (site, m.conv()))?,
            Pre::MarketplaceV03(pre) => in_fresh_store!(self, services, limits, pre, |b, s| b
                .tradelane_plugin_sales_channel()
                .call_manifest(s))
            .map(|(site, m)| (site, m.conv()))?,
            Pre::PaymentV03(pre) => in_fresh_store!(self, services, limits, pre, |b, s| b
                .tradelane_plugin_payment_provider()
                .call_manifest(s))
            .map(|(site, m)| (site, m.conv()))?,
            Pre::CarrierV03(pre) => in_fresh_store!(self, services, limits, pre, |b, s| b
                .tradelane_plugin_carrier_service()
                .call_manifest(s))
            .map(|(site, m)| (site, m.conv()))?,
            Pre::PaymentV02(pre) => in_fresh_store!(self, services, limits, pre, |b, s| b
                .tradelane_plugin_payment_provider()
                .call_manifest(s))
            .map(|(site, m)| (site, m.conv()))?,
            Pre::CarrierV02(pre) => in_fresh_store!(self, services, limits, pre, |b, s| b
                .tradelane_plugin_carrier_service()
                .call_manifest(s))
            .map(|(site, m)| (site, m.conv()))?,
        };
        Ok(convert::manifest(manifest))
    }

    /// Create a fresh store and instance and drop them: the fixed cost every
    /// call pays (benchmarks, health checks).
    pub async fn probe(&self, services: CallServices, limits: CallLimits) -> Result<(), CallError> {
        let site = services.site.clone();
        let mut store = self.store(services, limits);
        let result = match &self.pre {
            Pre::Marketplace(pre) => pre.instantiate_async(&mut store).await.map(drop),
            Pre::Payment(pre) => pre.instantiate_async(&mut store).await.map(drop),
            Pre::Carrier(pre) => pre.instantiate_async(&mut store).await.map(drop),
            Pre::MarketplaceV01(pre) => pre.instantiate_async(&mut store).await.map(drop),
            Pre::PaymentV01(pre) => pre.instantiate_async(&mut store).await.map(drop),
            Pre::CarrierV01(pre) => pre.instantiate_async(&mut store).await.map(drop),
            Pre::MarketplaceV02(pre) => pre.instantiate_async(&mut store).await.map(drop),
            Pre::PaymentV02(pre) => pre.instantiate_async(&mut store).await.map(drop),
            Pre::CarrierV02(pre) => pre.instantiate_async(&mut store).await.map(drop),
            Pre::MarketplaceV03(pre) => pre.instantiate_async(&mut store).await.map(drop),
            Pre::PaymentV03(pre) => pre.instantiate_async(&mut store).await.map(drop),
            Pre::CarrierV03(pre) => pre.instantiate_async(&mut store).await.map(drop),
        };
        result.map_err(|e| self.fail(&site, &store, limits, e))
    }
}

pub(super) use in_fresh_store;

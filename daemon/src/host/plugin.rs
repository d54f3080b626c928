//! Loading plugins and calling them, each call in a fresh, limited store.

use super::bindings::{carrier, marketplace, payment, types as wit};
use super::compile_cache::{self, CacheOutcome, CompileCache};
use super::convert::{self, InvalidOutput};
use super::engine::{EPOCH_TICK, EpochTicker, build_engine};
use super::error::{CallError, CallErrorKind};
use super::state::{CallLimits, CallServices, CallSite, CallState, MemoryCapExceeded, NoCache};
use crate::egress::{
    ChannelEgress, Egress, EgressError, HostPolicy, Request, Response, RetryPolicy, Secrets,
};
use crate::model::{
    Fulfillment, Label, Manifest, OrderPage, OrderQuery, PageQuery, Payout, PayoutLinePage,
    PayoutPage, PluginKind, Rate, Shipment, TrackingEvent,
};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::{HasSelf, Linker, types::ComponentItem};
use wasmtime::{Engine, Store, UpdateDeadline};

/// The contract version this host speaks.
pub const CONTRACT_VERSION: (u64, u64, u64) = (0, 1, 0);

/// The contract version as text.
pub fn contract_version() -> String {
    format!(
        "{}.{}.{}",
        CONTRACT_VERSION.0, CONTRACT_VERSION.1, CONTRACT_VERSION.2
    )
}

/// Where a plugin came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginSource {
    /// Embedded in the binary.
    Builtin(&'static str),
    /// A `.wasm` file named in config.
    File(PathBuf),
}

impl std::fmt::Display for PluginSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PluginSource::Builtin(name) => write!(f, "built-in:{name}"),
            PluginSource::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// The settings passed to a plugin: values, and the names of the secrets.
#[derive(Debug, Clone, Default)]
pub struct PluginSettings {
    pub values: Vec<(String, String)>,
    pub secret_names: Vec<String>,
}

impl PluginSettings {
    fn to_wit(&self) -> wit::Settings {
        wit::Settings {
            values: self.values.clone(),
            secrets: self.secret_names.clone(),
        }
    }
}

/// The daemon's plugin runtime: one engine, one linker, one compile cache.
pub struct PluginHost {
    engine: Engine,
    linker: Linker<CallState>,
    cache: Option<CompileCache>,
    pooling: bool,
    _ticker: EpochTicker,
}

/// A loaded, type-checked plugin, ready to be called many times.
pub struct Plugin {
    pub manifest: Manifest,
    pub source: PluginSource,
    pub cache: CacheOutcome,
    pre: Pre,
    engine: Engine,
}

enum Pre {
    Marketplace(marketplace::MarketplacePre<CallState>),
    Payment(payment::PaymentPre<CallState>),
    Carrier(carrier::CarrierPre<CallState>),
}

impl PluginHost {
    /// A host whose compiled plugins are cached in `cache_dir` (if given).
    pub fn new(cache_dir: Option<PathBuf>) -> anyhow::Result<Self> {
        let (engine, pooling) = build_engine()?;
        let mut linker: Linker<CallState> = Linker::new(&engine);
        // WASI is linked because a std wasip2 guest imports it, but the
        // context behind it grants nothing (see `CallState::new`).
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        super::bindings::imports::HostImports::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
        let cache = cache_dir.map(|dir| CompileCache::new(dir, &engine));
        let ticker = EpochTicker::start(engine.clone());
        Ok(PluginHost {
            engine,
            linker,
            cache,
            pooling,
            _ticker: ticker,
        })
    }

    /// Whether instances come from the pooling allocator.
    pub fn pooling(&self) -> bool {
        self.pooling
    }

    /// Compile (or reuse), check the contract version, and read the manifest.
    pub async fn load(&self, source: PluginSource, wasm: &[u8]) -> anyhow::Result<Plugin> {
        let label = source.to_string();
        let (component, cache) = match &self.cache {
            Some(c) => c.load(&self.engine, wasm),
            None => compile_cache::compile(&self.engine, wasm),
        }
        .map_err(|e| anyhow::anyhow!("plugin {label}: not a valid WebAssembly component: {e:#}"))?;

        let kind = exported_kind(&self.engine, &component)
            .map_err(|e| anyhow::anyhow!("plugin {label}: {e}"))?;
        let instance_pre = self.linker.instantiate_pre(&component).map_err(|e| {
            anyhow::anyhow!("plugin {label}: imports something tradelane does not provide: {e:#}")
        })?;
        let pre = match kind {
            PluginKind::Marketplace => {
                Pre::Marketplace(marketplace::MarketplacePre::new(instance_pre)?)
            }
            PluginKind::Payment => Pre::Payment(payment::PaymentPre::new(instance_pre)?),
            PluginKind::Carrier => Pre::Carrier(carrier::CarrierPre::new(instance_pre)?),
        };
        let mut plugin = Plugin {
            manifest: Manifest {
                name: label.clone(),
                version: String::new(),
                kind,
                contract_version: contract_version(),
                description: String::new(),
                settings: Vec::new(),
                allowed_hosts: Vec::new(),
                rate_limit: None,
            },
            source,
            cache,
            pre,
            engine: self.engine.clone(),
        };
        let site = CallSite {
            seller: "-".into(),
            channel: "-".into(),
            plugin: label.clone(),
        };
        let manifest = plugin
            .manifest_call(CallServices::offline(site), CallLimits::load_time())
            .await
            .map_err(|e| anyhow::anyhow!("plugin {label}: manifest() failed: {e}"))?;
        if manifest.kind != kind {
            anyhow::bail!(
                "plugin {label}: manifest says kind `{}` but it exports the {kind} interface",
                manifest.kind
            );
        }
        plugin.manifest = manifest;
        Ok(plugin)
    }
}

/// Which kind a component implements, from its export names, refusing
/// another major version of the contract before anything runs.
fn exported_kind(
    engine: &Engine,
    component: &wasmtime::component::Component,
) -> Result<PluginKind, String> {
    let mut found = Vec::new();
    for (name, item) in component.component_type().exports(engine) {
        if let ComponentItem::ComponentInstance(_) = item.ty {
            found.push(name.to_string());
        }
    }
    for name in &found {
        let Some(rest) = name.strip_prefix("tradelane:plugin/") else {
            continue;
        };
        let (iface, version) = rest.split_once('@').unwrap_or((rest, ""));
        let kind = match iface {
            "sales-channel" => PluginKind::Marketplace,
            "payment-provider" => PluginKind::Payment,
            "carrier-service" => PluginKind::Carrier,
            _ => continue,
        };
        let parsed: Vec<u64> = version
            .split('.')
            .map(|p| p.parse().unwrap_or(u64::MAX))
            .collect();
        let (major, minor) = (
            parsed.first().copied().unwrap_or(u64::MAX),
            parsed.get(1).copied().unwrap_or(u64::MAX),
        );
        let (host_major, host_minor, _) = CONTRACT_VERSION;
        // Semver: 0.x minors are majors. A plugin may be older than the host, never newer.
        let compatible = major == host_major
            && if host_major == 0 {
                minor == host_minor
            } else {
                minor <= host_minor
            };
        if !compatible {
            return Err(format!(
                "built for contract tradelane:plugin@{version}, but this tradelane speaks tradelane:plugin@{}; rebuild the plugin with a matching tradelane-plugin-sdk",
                contract_version()
            ));
        }
        return Ok(kind);
    }
    Err(format!(
        "not a tradelane plugin: it exports none of tradelane:plugin/sales-channel, payment-provider or carrier-service (exports: {})",
        if found.is_empty() {
            "nothing".to_string()
        } else {
            found.join(", ")
        }
    ))
}

impl CallServices {
    /// Services for a call that must not reach anything (manifest at load).
    pub fn offline(site: CallSite) -> Self {
        CallServices {
            channel: Arc::new(ChannelEgress {
                label: format!("{}/{}", site.seller, site.channel),
                policy: HostPolicy {
                    declared: Vec::new(),
                    narrowed: Some(Vec::new()),
                    extra: Vec::new(),
                    allow_loopback: false,
                    allow_private: false,
                    follow_redirects: false,
                    config_location: "load time".into(),
                },
                secrets: Secrets::new(),
                bucket: None,
                retry: RetryPolicy::default(),
            }),
            egress: Arc::new(DenyAll),
            cache: Arc::new(NoCache),
            site,
        }
    }
}

impl CallLimits {
    /// Limits for the calls made while loading.
    pub fn load_time() -> Self {
        CallLimits {
            deadline_ticks: ticks(Duration::from_secs(5)),
            memory_bytes: 64 << 20,
            max_requests: 0,
        }
    }
}

/// Epoch ticks in `d`.
pub fn ticks(d: Duration) -> u64 {
    (d.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64
}

/// An egress that refuses everything.
struct DenyAll;

impl Egress for DenyAll {
    fn send<'a>(
        &'a self,
        _channel: &'a ChannelEgress,
        _request: Request,
    ) -> Pin<Box<dyn Future<Output = Result<Response, EgressError>> + Send + 'a>> {
        Box::pin(async { Err(EgressError::Denied("no network during this call".into())) })
    }
}

/// Run one export in a fresh store: instantiate from `$pre`, make the call
/// (`$b` the bindings, `$s` the store), and turn a trap into a
/// [`CallError`]. Yields `Result<(CallSite, plugin result), CallError>`.
macro_rules! in_fresh_store {
    ($plugin:expr, $services:expr, $limits:expr, $pre:expr, |$b:ident, $s:ident| $call:expr) => {{
        let site = $services.site.clone();
        let mut store = $plugin.store($services, $limits);
        let result = match $pre.instantiate_async(&mut store).await {
            Ok($b) => {
                let $s = &mut store;
                $call.await
            }
            Err(e) => Err(e),
        };
        result
            .map(|r| (site.clone(), r))
            .map_err(|e| $plugin.fail(&site, &store, $limits, e))
    }};
}

/// Marker error returned by the epoch callback when CPU time runs out.
#[derive(Debug, thiserror::Error)]
#[error("CPU deadline exceeded")]
struct DeadlineExceeded;

impl Plugin {
    /// The plugin's kind.
    pub fn kind(&self) -> PluginKind {
        self.manifest.kind
    }

    fn store(&self, services: CallServices, limits: CallLimits) -> Store<CallState> {
        let mut store = Store::new(&self.engine, CallState::new(services, limits));
        store.limiter(|s| &mut s.limiter);
        // Count only the plugin's own execution: the callback runs when wasm
        // code sees the epoch pass its deadline, so time spent in host calls
        // (HTTP, backoff) costs at most one tick per return to wasm.
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

    fn fail(
        &self,
        site: &CallSite,
        store: &Store<CallState>,
        limits: CallLimits,
        error: wasmtime::Error,
    ) -> CallError {
        let state = store.data();
        let kind = if error.downcast_ref::<DeadlineExceeded>().is_some() {
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
        CallError {
            site: site.clone(),
            kind,
        }
    }

    fn wrong_kind(&self, site: &CallSite, wanted: PluginKind) -> CallError {
        CallError {
            site: site.clone(),
            kind: CallErrorKind::Host(format!(
                "plugin is a {} plugin, not a {wanted} plugin",
                self.kind()
            )),
        }
    }

    fn invalid(site: &CallSite, e: InvalidOutput) -> CallError {
        CallError {
            site: site.clone(),
            kind: CallErrorKind::InvalidOutput(e.0),
        }
    }

    fn failure(site: &CallSite, e: wit::PluginError) -> CallError {
        CallError {
            site: site.clone(),
            kind: CallErrorKind::Plugin(convert::plugin_error(e)),
        }
    }

    async fn manifest_call(
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
        };
        result.map_err(|e| self.fail(&site, &store, limits, e))
    }

    /// `check(settings)`: prove the credentials.
    pub async fn check(
        &self,
        services: CallServices,
        limits: CallLimits,
        settings: &PluginSettings,
    ) -> Result<(), CallError> {
        let settings = settings.to_wit();
        let (site, result) = match &self.pre {
            Pre::Marketplace(pre) => in_fresh_store!(self, services, limits, pre, |b, s| b
                .tradelane_plugin_sales_channel()
                .call_check(s, &settings))?,
            Pre::Payment(pre) => in_fresh_store!(self, services, limits, pre, |b, s| b
                .tradelane_plugin_payment_provider()
                .call_check(s, &settings))?,
            Pre::Carrier(pre) => in_fresh_store!(self, services, limits, pre, |b, s| b
                .tradelane_plugin_carrier_service()
                .call_check(s, &settings))?,
        };
        result.map_err(|e| Self::failure(&site, e))
    }

    /// `fetch-orders(settings, query)`: one page, validated into domain orders.
    pub async fn fetch_orders(
        &self,
        services: CallServices,
        limits: CallLimits,
        settings: &PluginSettings,
        query: &OrderQuery,
    ) -> Result<OrderPage, CallError> {
        let Pre::Marketplace(pre) = &self.pre else {
            return Err(self.wrong_kind(&services.site, PluginKind::Marketplace));
        };
        let (settings, query) = (settings.to_wit(), convert::order_query(query));
        let (site, result) = in_fresh_store!(self, services, limits, pre, |b, s| {
            b.tradelane_plugin_sales_channel()
                .call_fetch_orders(s, &settings, &query)
        })?;
        match result {
            Ok(page) => convert::order_page(page).map_err(|e| Self::invalid(&site, e)),
            Err(e) => Err(Self::failure(&site, e)),
        }
    }

    /// `push-fulfillment(settings, fulfillment)`: the channel's id for it.
    pub async fn push_fulfillment(
        &self,
        services: CallServices,
        limits: CallLimits,
        settings: &PluginSettings,
        fulfillment: &Fulfillment,
    ) -> Result<String, CallError> {
        let Pre::Marketplace(pre) = &self.pre else {
            return Err(self.wrong_kind(&services.site, PluginKind::Marketplace));
        };
        let (settings, fulfillment) = (settings.to_wit(), convert::fulfillment(fulfillment));
        let (site, result) = in_fresh_store!(self, services, limits, pre, |b, s| {
            b.tradelane_plugin_sales_channel()
                .call_push_fulfillment(s, &settings, &fulfillment)
        })?;
        result
            .map(|receipt| receipt.external_id)
            .map_err(|e| Self::failure(&site, e))
    }

    fn carrier_pre(&self, site: &CallSite) -> Result<&carrier::CarrierPre<CallState>, CallError> {
        match &self.pre {
            Pre::Carrier(pre) => Ok(pre),
            _ => Err(self.wrong_kind(site, PluginKind::Carrier)),
        }
    }

    /// `quote(settings, shipment)`: the carrier's rates, validated.
    pub async fn quote(
        &self,
        services: CallServices,
        limits: CallLimits,
        settings: &PluginSettings,
        shipment: &Shipment,
    ) -> Result<Vec<Rate>, CallError> {
        let pre = self.carrier_pre(&services.site)?;
        let (settings, shipment) = (settings.to_wit(), convert::shipment(shipment));
        let (site, result) = in_fresh_store!(self, services, limits, pre, |b, s| b
            .tradelane_plugin_carrier_service()
            .call_quote(s, &settings, &shipment))?;
        let rates = result.map_err(|e| Self::failure(&site, e))?;
        rates
            .into_iter()
            .map(convert::rate)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Self::invalid(&site, e))
    }

    /// `buy-label(settings, shipment, rate, key)`: the label and its document.
    pub async fn buy_label(
        &self,
        services: CallServices,
        limits: CallLimits,
        settings: &PluginSettings,
        shipment: &Shipment,
        rate: &Rate,
        idempotency_key: &str,
    ) -> Result<(Label, Vec<u8>), CallError> {
        let pre = self.carrier_pre(&services.site)?;
        let (settings, shipment, rate) = (
            settings.to_wit(),
            convert::shipment(shipment),
            convert::rate_out(rate),
        );
        let (site, result) = in_fresh_store!(self, services, limits, pre, |b, s| b
            .tradelane_plugin_carrier_service()
            .call_buy_label(s, &settings, &shipment, &rate, idempotency_key))?;
        let label = result.map_err(|e| Self::failure(&site, e))?;
        convert::label(label).map_err(|e| Self::invalid(&site, e))
    }

    /// `find-label(settings, reference)`: a label bought earlier, if any.
    pub async fn find_label(
        &self,
        services: CallServices,
        limits: CallLimits,
        settings: &PluginSettings,
        reference: &str,
    ) -> Result<Option<(Label, Vec<u8>)>, CallError> {
        let pre = self.carrier_pre(&services.site)?;
        let settings = settings.to_wit();
        let (site, result) = in_fresh_store!(self, services, limits, pre, |b, s| b
            .tradelane_plugin_carrier_service()
            .call_find_label(s, &settings, reference))?;
        match result.map_err(|e| Self::failure(&site, e))? {
            None => Ok(None),
            Some(label) => convert::label(label)
                .map(Some)
                .map_err(|e| Self::invalid(&site, e)),
        }
    }

    /// `track(settings, carrier, tracking-number)`: events, oldest first.
    pub async fn track(
        &self,
        services: CallServices,
        limits: CallLimits,
        settings: &PluginSettings,
        carrier: &str,
        tracking_number: &str,
    ) -> Result<Vec<TrackingEvent>, CallError> {
        let pre = self.carrier_pre(&services.site)?;
        let settings = settings.to_wit();
        let (site, result) = in_fresh_store!(self, services, limits, pre, |b, s| b
            .tradelane_plugin_carrier_service()
            .call_track(s, &settings, carrier, tracking_number))?;
        let events = result.map_err(|e| Self::failure(&site, e))?;
        convert::tracking_events(events).map_err(|e| Self::invalid(&site, e))
    }

    fn payment_pre(&self, site: &CallSite) -> Result<&payment::PaymentPre<CallState>, CallError> {
        match &self.pre {
            Pre::Payment(pre) => Ok(pre),
            _ => Err(self.wrong_kind(site, PluginKind::Payment)),
        }
    }

    /// `fetch-payouts(settings, query)`: one page of payouts, validated.
    pub async fn fetch_payouts(
        &self,
        services: CallServices,
        limits: CallLimits,
        settings: &PluginSettings,
        query: &PageQuery,
    ) -> Result<PayoutPage, CallError> {
        let pre = self.payment_pre(&services.site)?;
        let (settings, query) = (settings.to_wit(), convert::page_query(query));
        let (site, result) = in_fresh_store!(self, services, limits, pre, |b, s| b
            .tradelane_plugin_payment_provider()
            .call_fetch_payouts(s, &settings, &query))?;
        let page = result.map_err(|e| Self::failure(&site, e))?;
        convert::payout_page(page).map_err(|e| Self::invalid(&site, e))
    }

    /// `fetch-payout-lines(settings, payout, token)`: one page of its lines.
    pub async fn fetch_payout_lines(
        &self,
        services: CallServices,
        limits: CallLimits,
        settings: &PluginSettings,
        payout: &Payout,
        page_token: Option<&str>,
    ) -> Result<PayoutLinePage, CallError> {
        let pre = self.payment_pre(&services.site)?;
        let (settings, payout) = (settings.to_wit(), convert::payout_out(payout));
        let token = page_token.map(str::to_string);
        let (site, result) = in_fresh_store!(self, services, limits, pre, |b, s| b
            .tradelane_plugin_payment_provider()
            .call_fetch_payout_lines(s, &settings, &payout, token.as_deref()))?;
        let page = result.map_err(|e| Self::failure(&site, e))?;
        convert::payout_line_page(page).map_err(|e| Self::invalid(&site, e))
    }
}

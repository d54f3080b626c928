//! Loading plugins: compile (or reuse the cache), check the contract
//! version, type-check against one world, read the manifest.

use super::bindings::{carrier, marketplace, payment, types as wit, v0_1, v0_2, v0_3};
use super::compile_cache::{self, CacheOutcome, CompileCache};
use super::contract::{compatible, contract_version, supported_versions};
use super::engine::{EPOCH_TICK, EpochTicker, build_engine};
use super::state::{CallLimits, CallServices, CallSite, CallState, NoCache};
use crate::egress::{
    ChannelEgress, Egress, EgressError, HostPolicy, Request, Response, RetryPolicy, Secrets,
};
use crate::model::{Manifest, PluginKind};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use wasmtime::Engine;
use wasmtime::component::{HasSelf, Linker, types::ComponentItem};

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
    pub(super) fn to_wit(&self) -> wit::Settings {
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
    pub(super) pre: Pre,
    pub(super) engine: Engine,
}

/// The plugin's pre-linked instance, typed by its world and contract
/// version: the one place versions are told apart.
pub(super) enum Pre {
    Marketplace(marketplace::MarketplacePre<CallState>),
    Payment(payment::PaymentPre<CallState>),
    Carrier(carrier::CarrierPre<CallState>),
    /// Contract 0.3.0 plugins, converted at the boundary (`compat`).
    MarketplaceV03(v0_3::marketplace::MarketplacePre<CallState>),
    PaymentV03(v0_3::payment::PaymentPre<CallState>),
    CarrierV03(v0_3::carrier::CarrierPre<CallState>),
    /// Contract 0.2.0 plugins, converted at the boundary (`compat`).
    MarketplaceV02(v0_2::marketplace::MarketplacePre<CallState>),
    PaymentV02(v0_2::payment::PaymentPre<CallState>),
    CarrierV02(v0_2::carrier::CarrierPre<CallState>),
    /// Contract 0.1.0 plugins, converted at the boundary (`compat`).
    MarketplaceV01(v0_1::marketplace::MarketplacePre<CallState>),
    PaymentV01(v0_1::payment::PaymentPre<CallState>),
    CarrierV01(v0_1::carrier::CarrierPre<CallState>),
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
        v0_3::imports::HostImports::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
        v0_2::imports::HostImports::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
        v0_1::imports::HostImports::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
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

        let (kind, minor) = exported_kind(&self.engine, &component)
            .map_err(|e| anyhow::anyhow!("plugin {label}: {e}"))?;
        let instance_pre = self.linker.instantiate_pre(&component).map_err(|e| {
            anyhow::anyhow!("plugin {label}: imports something tradelane does not provide: {e:#}")
        })?;
        let pre = match (kind, minor) {
            (PluginKind::Marketplace, 1) => {
                Pre::MarketplaceV01(v0_1::marketplace::MarketplacePre::new(instance_pre)?)
            }
            (PluginKind::Payment, 1) => {
                Pre::PaymentV01(v0_1::payment::PaymentPre::new(instance_pre)?)
            }
            (PluginKind::Carrier, 1) => {
                Pre::CarrierV01(v0_1::carrier::CarrierPre::new(instance_pre)?)
            }
            (PluginKind::Marketplace, 2) => {
                Pre::MarketplaceV02(v0_2::marketplace::MarketplacePre::new(instance_pre)?)
            }
            (PluginKind::Payment, 2) => {
                Pre::PaymentV02(v0_2::payment::PaymentPre::new(instance_pre)?)
            }
            (PluginKind::Carrier, 2) => {
                Pre::CarrierV02(v0_2::carrier::CarrierPre::new(instance_pre)?)
            }
            (PluginKind::Marketplace, 3) => {
                Pre::MarketplaceV03(v0_3::marketplace::MarketplacePre::new(instance_pre)?)
            }
            (PluginKind::Payment, 3) => {
                Pre::PaymentV03(v0_3::payment::PaymentPre::new(instance_pre)?)
            }
            (PluginKind::Carrier, 3) => {
                Pre::CarrierV03(v0_3::carrier::CarrierPre::new(instance_pre)?)
            }
            (PluginKind::Marketplace, _) => {
                Pre::Marketplace(marketplace::MarketplacePre::new(instance_pre)?)
            }
            (PluginKind::Payment, _) => Pre::Payment(payment::PaymentPre::new(instance_pre)?),
            (PluginKind::Carrier, _) => Pre::Carrier(carrier::CarrierPre::new(instance_pre)?),
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
                operation_limits: Vec::new(),
                oauth: Vec::new(),
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

/// Which kind a component implements and the contract minor version it
/// was built for, from its export names, refusing a version this host has
/// no bindings for before anything runs.
fn exported_kind(
    engine: &Engine,
    component: &wasmtime::component::Component,
) -> Result<(PluginKind, u64), String> {
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
        if !compatible(major, minor) {
            return Err(format!(
                "built for contract tradelane:plugin@{version}, but this tradelane speaks tradelane:plugin@{} (and loads {}); rebuild the plugin with a matching tradelane-plugin-sdk",
                contract_version(),
                supported_versions()
            ));
        }
        return Ok((kind, minor));
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
                    secrets_in_query: false,
                    config_location: "load time".into(),
                },
                secrets: Secrets::new(),
                bucket: None,
                operations: Default::default(),
                retry: RetryPolicy::default(),
                oauth: None,
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
            wall_deadline: Duration::from_secs(10),
            max_log_lines: super::state::DEFAULT_LOG_LINES,
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

//! Assembly: turning a checked config into running parts.
//!
//! `config/` parses and validates text; this module is the one place that
//! loads each plugin once, checks every channel's and account's settings
//! and hosts against its plugin's manifest ([`settings`]), and builds the
//! [`PluginAccount`] handles the sync and the workflows call. Errors point
//! at the config line.

pub mod oauth;
pub mod settings;

use crate::config::{Connection, LoadedConfig};
use crate::egress::oauth::{MemoryVault, OAuth, TokenVault};
use crate::egress::{ChannelEgress, Egress, RetryPolicy, TokenBucket};
use crate::host::{
    AccountParts, CallLimits, NoCache, Plugin, PluginAccount, PluginCache, PluginHost,
    PluginSource, builtin, ticks,
};
use crate::model::{PluginKind, RateLimit};
use crate::rates::RatesBook;
use crate::rates::refresh::RatesRefresh;
use crate::settlement::{SettlementPolicy, SettlementWorkflow};
use crate::shipping::{ShippingPolicy, ShippingWorkflow};
use crate::store::tokens::StoreVault;
use crate::store::{Store, StoreCache};
use crate::sync::{Channel, PageLimits};
use crate::workflow::Workflow;
use anyhow::Context;
use settings::{host_policy, resolve};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Loaded plugins, keyed by their config spelling (built-in name or path).
pub type Plugins = BTreeMap<String, Arc<Plugin>>;

/// Everything a config turns into.
pub struct Assembly {
    pub plugins: Plugins,
    /// Every enabled channel, for sync.
    pub channels: Vec<Arc<Channel>>,
    /// Shipping workflows, one per seller with `[sellers.shipping]`.
    pub shipping: Vec<Arc<ShippingWorkflow>>,
    /// Settlement workflows, one per seller with `[sellers.settlement]`.
    pub settlement: Vec<Arc<SettlementWorkflow>>,
    /// The ECB rates held (from the store, then fetched).
    pub rates: Arc<RatesBook>,
    /// Fetching them on schedule, with `[rates]`.
    pub rates_refresh: Option<Arc<RatesRefresh>>,
}

impl Assembly {
    /// Load every plugin of `config` and build every part. `store` backs
    /// the plugins' caches (none: a cache that forgets); `http` carries
    /// every request.
    pub async fn build(
        config: &LoadedConfig,
        host: &PluginHost,
        store: Option<&Store>,
        http: Arc<dyn Egress>,
    ) -> anyhow::Result<Self> {
        let plugins = load_plugins(config, host).await?;
        let rates = Arc::new(RatesBook::new());
        if let Some(store) = store {
            crate::rates::store::load(store, &rates)?;
        }
        let rates_refresh = match config.config.rates.as_ref().map(|r| r.get_ref()) {
            Some(r) if r.enabled => Some(Arc::new(
                RatesRefresh::new(r, http.clone(), rates.clone()).map_err(anyhow::Error::msg)?,
            )),
            _ => None,
        };
        let parts = Parts {
            config,
            plugins: &plugins,
            store,
            http,
            rates: rates.clone(),
        };
        let channels = parts.channels()?;
        let shipping = parts.shipping(&channels)?;
        let settlement = parts.settlement()?;
        Ok(Assembly {
            plugins,
            channels,
            shipping,
            settlement,
            rates,
            rates_refresh,
        })
    }

    /// Every workflow, as the scheduler runs them. A new workflow is one
    /// more line here.
    pub fn workflows(&self) -> Vec<Arc<dyn Workflow>> {
        let shipping = self.shipping.iter().map(|w| w.clone() as Arc<dyn Workflow>);
        let settlement = self
            .settlement
            .iter()
            .map(|w| w.clone() as Arc<dyn Workflow>);
        let rates = self
            .rates_refresh
            .iter()
            .map(|r| r.clone() as Arc<dyn Workflow>);
        rates.chain(shipping).chain(settlement).collect()
    }
}

/// Load every plugin the config names (each once), keyed by its config spelling.
pub async fn load_plugins(config: &LoadedConfig, host: &PluginHost) -> anyhow::Result<Plugins> {
    let mut plugins = BTreeMap::new();
    let carriers = config
        .config
        .sellers
        .iter()
        .filter_map(|s| s.shipping.as_ref().filter(|sh| sh.enabled))
        .flat_map(|sh| sh.carriers.iter().filter(|c| c.enabled))
        .map(|c| c as &dyn Connection);
    let accounts = config
        .config
        .sellers
        .iter()
        .filter_map(|s| s.settlement.as_ref().filter(|st| st.enabled))
        .flat_map(|st| st.accounts.iter().filter(|a| a.enabled))
        .map(|a| a as &dyn Connection);
    let channels = config.channels().map(|(_, c)| c as &dyn Connection);
    for entry in channels.chain(carriers).chain(accounts) {
        let spec = entry.plugin().get_ref();
        if plugins.contains_key(spec) {
            continue;
        }
        let plugin = load_one(config, host, spec)
            .await
            .with_context(|| format!("{}: plugin `{spec}`", config.location(entry)))?;
        plugins.insert(spec.clone(), Arc::new(plugin));
    }
    Ok(plugins)
}

/// Load one plugin: a built-in name or a path relative to the config.
pub async fn load_one(
    config: &LoadedConfig,
    host: &PluginHost,
    spec: &str,
) -> anyhow::Result<Plugin> {
    if let Some((name, bytes)) = builtin::BUILTIN.iter().find(|(n, _)| *n == spec) {
        return host.load(PluginSource::Builtin(name), bytes).await;
    }
    let path = config.resolve(spec);
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    host.load(PluginSource::File(path), &bytes).await
}

/// The call limits of a channel or account: its overrides over `[daemon.plugins]`.
pub fn limits(config: &LoadedConfig, entry: &dyn Connection) -> CallLimits {
    let d = &config.config.daemon.plugins;
    let (deadline, memory_mb, requests) = entry.limit_overrides();
    CallLimits {
        deadline_ticks: ticks(deadline.unwrap_or(d.cpu_deadline).0),
        memory_bytes: (memory_mb.unwrap_or(d.memory_mb) as usize) << 20,
        max_requests: requests.unwrap_or(d.max_requests_per_call),
        wall_deadline: d.wall_deadline.0,
        max_log_lines: d.max_log_lines_per_call,
    }
}

/// What every part is built from.
struct Parts<'a> {
    config: &'a LoadedConfig,
    plugins: &'a Plugins,
    store: Option<&'a Store>,
    http: Arc<dyn Egress>,
    rates: Arc<RatesBook>,
}

/// One plugin-backed config entry to turn into an account.
struct Entry<'a> {
    /// Its key path, e.g. `sellers[0].shipping.carriers[1]`.
    prefix: String,
    seller: &'a str,
    /// The egress label and cache namespace: a channel id, `carrier:{id}`.
    scope: String,
    config: &'a dyn Connection,
    kind: PluginKind,
}

impl Parts<'_> {
    /// Every enabled channel, ready to sync.
    fn channels(&self) -> anyhow::Result<Vec<Arc<Channel>>> {
        let mut out = Vec::new();
        for (si, seller) in self.config.config.sellers.iter().enumerate() {
            for (ci, channel) in seller.channels.iter().enumerate() {
                if !channel.enabled {
                    continue;
                }
                let account = self.account(Entry {
                    prefix: format!("sellers[{si}].channels[{ci}]"),
                    seller: seller.id.get_ref(),
                    scope: channel.id.get_ref().clone(),
                    config: channel,
                    kind: PluginKind::Marketplace,
                })?;
                let plugins = &self.config.config.daemon.plugins;
                let limits = PageLimits {
                    max_order_bytes: (plugins.max_order_kb as usize) << 10,
                    max_pages: plugins.max_pages_per_pass,
                };
                out.push(Arc::new(Channel::new(
                    Arc::new(account),
                    channel.lookback.0,
                    channel.page_size,
                    limits,
                    channel.schedule.clone(),
                )));
            }
        }
        Ok(out)
    }

    /// The shipping workflow of every seller with `[sellers.shipping]`,
    /// pushing tracking through the seller's channel accounts.
    fn shipping(&self, channels: &[Arc<Channel>]) -> anyhow::Result<Vec<Arc<ShippingWorkflow>>> {
        let config = self.config;
        let mut out = Vec::new();
        for (si, seller) in config.config.sellers.iter().enumerate() {
            let Some(shipping) = seller.shipping.as_ref().filter(|s| s.enabled) else {
                continue;
            };
            let seller_id = seller.id.get_ref();
            let mut carriers = BTreeMap::new();
            for (ci, entry) in shipping.carriers.iter().enumerate() {
                if !entry.enabled {
                    continue;
                }
                let a = self.account(Entry {
                    prefix: format!("sellers[{si}].shipping.carriers[{ci}]"),
                    seller: seller_id,
                    scope: format!("carrier:{}", entry.id.get_ref()),
                    config: entry,
                    kind: PluginKind::Carrier,
                })?;
                carriers.insert(a.id().to_string(), a);
            }
            for (ri, rule) in shipping.rules.iter().enumerate() {
                if !carriers.contains_key(rule.carrier.get_ref()) {
                    return Err(config
                        .locator
                        .error(
                            Some(rule.carrier.span().start),
                            format!("sellers[{si}].shipping.rules[{ri}].carrier"),
                            format!("carrier account `{}` is disabled", rule.carrier.get_ref()),
                        )
                        .into());
                }
            }
            let seller_channels = channels
                .iter()
                .filter(|c| c.seller() == seller_id)
                .map(|c| (c.id().to_string(), c.account.clone()))
                .collect();
            out.push(Arc::new(ShippingWorkflow::new(
                seller_id.clone(),
                ShippingPolicy::new(shipping, &seller.catalogue).with_rates(self.rates.clone()),
                carriers,
                seller_channels,
                config.data_dir().join("labels"),
                shipping.schedule.clone(),
            )));
        }
        Ok(out)
    }

    /// The settlement workflow of every seller with `[sellers.settlement]`.
    fn settlement(&self) -> anyhow::Result<Vec<Arc<SettlementWorkflow>>> {
        let mut out = Vec::new();
        for (si, seller) in self.config.config.sellers.iter().enumerate() {
            let Some(settlement) = seller.settlement.as_ref().filter(|s| s.enabled) else {
                continue;
            };
            let seller_id = seller.id.get_ref();
            let mut accounts = Vec::new();
            for (ai, entry) in settlement.accounts.iter().enumerate() {
                if !entry.enabled {
                    continue;
                }
                accounts.push(self.account(Entry {
                    prefix: format!("sellers[{si}].settlement.accounts[{ai}]"),
                    seller: seller_id,
                    scope: format!("payments:{}", entry.id.get_ref()),
                    config: entry,
                    kind: PluginKind::Payment,
                })?);
            }
            let policy = SettlementPolicy::new(settlement);
            let channels = seller
                .channels
                .iter()
                .filter(|c| c.enabled && policy.settles(c.id.get_ref()))
                .map(|c| c.id.get_ref().clone())
                .collect();
            out.push(Arc::new(
                SettlementWorkflow::new(
                    seller_id.clone(),
                    policy,
                    accounts,
                    settlement.schedule.clone(),
                )
                .waiting_for(channels),
            ));
        }
        Ok(out)
    }

    /// The account of one entry: settings, hosts and kind checked against
    /// its plugin's manifest.
    fn account(&self, e: Entry<'_>) -> anyhow::Result<PluginAccount> {
        let config = self.config;
        let entry = e.config;
        let plugin = self
            .plugins
            .get(entry.plugin().get_ref())
            .cloned()
            .with_context(|| format!("plugin `{}` was not loaded", entry.plugin().get_ref()))?;
        let manifest = &plugin.manifest;
        if manifest.kind != e.kind {
            let err = config.locator.error(
                Some(entry.plugin().span().start),
                format!("{}.plugin", e.prefix),
                format!(
                    "plugin `{}` is a {} plugin; this entry needs a {} plugin",
                    manifest.name, manifest.kind, e.kind
                ),
            );
            return Err(err.into());
        }
        let resolved = resolve(config, &e.prefix, entry, manifest)?;
        for w in &resolved.warnings {
            tracing::warn!("{w}");
        }
        let policy = host_policy(config, &e.prefix, entry, manifest, &resolved)?;
        let label = format!("{}/{}", e.seller, e.scope);
        let clients = oauth::clients(manifest, &resolved).map_err(|(key, why)| {
            config.locator.error(
                Some(entry.settings().span().start),
                format!("{}.settings.{key}", e.prefix),
                why,
            )
        })?;
        let usage_header = manifest
            .rate_limit
            .as_ref()
            .and_then(|r| r.usage_header.clone());
        let mut egress = ChannelEgress {
            label: label.clone(),
            policy,
            bucket: manifest.rate_limit.as_ref().map(TokenBucket::new),
            operations: manifest
                .operation_limits
                .iter()
                .map(|o| {
                    let limit = RateLimit {
                        milli_requests_per_second: o.milli_requests_per_second,
                        burst: o.burst,
                        usage_header: usage_header.clone(),
                    };
                    (o.operation.clone(), TokenBucket::new(&limit))
                })
                .collect(),
            secrets: resolved.secrets,
            retry: RetryPolicy::default(),
            oauth: None,
        };
        if !clients.is_empty() {
            let vault: Arc<dyn TokenVault> = match self.store {
                Some(s) => Arc::new(StoreVault::new(s.clone())),
                None => Arc::new(MemoryVault::default()),
            };
            egress.oauth = Some(Arc::new(OAuth::new(&label, clients, vault, &egress)));
        }
        let cache: Arc<dyn PluginCache> = match self.store {
            Some(s) => Arc::new(StoreCache::new(
                s.clone(),
                e.seller,
                &e.scope,
                (config.config.daemon.plugins.cache_kb as usize) << 10,
            )),
            None => Arc::new(NoCache),
        };
        Ok(PluginAccount::new(AccountParts {
            seller: e.seller.to_string(),
            id: entry.id().get_ref().clone(),
            scope: e.scope,
            plugin,
            settings: resolved.settings,
            egress: Arc::new(egress),
            http: self.http.clone(),
            cache,
            limits: limits(config, entry),
        }))
    }
}

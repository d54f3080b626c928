//! Wiring config to running parts: load each plugin once, resolve every
//! channel's settings and egress policy against its plugin's manifest.

use crate::config::settings::{host_policy, resolve};
use crate::config::{ChannelConfig, Connection, LoadedConfig, SellerConfig};
use crate::egress::{ChannelEgress, RetryPolicy, TokenBucket};
use crate::host::{
    CallLimits, NoCache, Plugin, PluginCache, PluginHost, PluginSource, builtin, ticks,
};
use crate::settlement::{SettlementPolicy, SettlementRuntime};
use crate::shipping::{ShippingPolicy, ShippingRuntime};
use crate::store::{Store, StoreCache};
use crate::sync::ChannelRuntime;
use anyhow::Context;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Load every plugin the config names (each once), keyed by its config spelling.
pub async fn load_plugins(
    config: &LoadedConfig,
    host: &PluginHost,
) -> anyhow::Result<BTreeMap<String, Arc<Plugin>>> {
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
    for channel in channels.chain(carriers).chain(accounts) {
        let spec = channel.plugin().get_ref();
        if plugins.contains_key(spec) {
            continue;
        }
        let plugin = load_one(config, host, spec)
            .await
            .with_context(|| format!("{}: plugin `{spec}`", config.location(channel)))?;
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
    }
}

/// Build the runtime of every enabled channel. Settings and hosts are
/// checked against each plugin's manifest here, with config locations.
pub fn build_channels(
    config: &LoadedConfig,
    plugins: &BTreeMap<String, Arc<Plugin>>,
    store: Option<&Store>,
) -> anyhow::Result<Vec<Arc<ChannelRuntime>>> {
    let mut out = Vec::new();
    for (si, seller) in config.config.sellers.iter().enumerate() {
        for (ci, channel) in seller.channels.iter().enumerate() {
            if !channel.enabled {
                continue;
            }
            out.push(Arc::new(build_channel(
                config, plugins, store, si, seller, ci, channel,
            )?));
        }
    }
    Ok(out)
}

fn build_channel(
    config: &LoadedConfig,
    plugins: &BTreeMap<String, Arc<Plugin>>,
    store: Option<&Store>,
    si: usize,
    seller: &SellerConfig,
    ci: usize,
    channel: &ChannelConfig,
) -> anyhow::Result<ChannelRuntime> {
    let prefix = format!("sellers[{si}].channels[{ci}]");
    let seller_id = seller.id.get_ref().clone();
    let channel_id = channel.id.get_ref().clone();
    let Connected {
        plugin,
        settings,
        egress,
        cache,
    } = connect(
        config,
        plugins,
        store,
        Entry {
            prefix,
            seller: &seller_id,
            scope: channel_id.clone(),
            config: channel,
            kind: crate::model::PluginKind::Marketplace,
        },
    )?;
    Ok(ChannelRuntime {
        seller: seller_id,
        channel: channel_id,
        plugin,
        settings,
        egress: Arc::new(egress),
        cache,
        limits: limits(config, channel),
        lookback: channel.lookback.0,
        page_size: channel.page_size,
        schedule: channel.schedule.clone(),
        running: tokio::sync::Mutex::new(()),
    })
}

/// One plugin-backed config entry to connect.
struct Entry<'a> {
    /// Its key path, e.g. `sellers[0].shipping.carriers[1]`.
    prefix: String,
    seller: &'a str,
    /// The egress label and cache namespace: a channel id, `carrier:{id}`.
    scope: String,
    config: &'a dyn Connection,
    kind: crate::model::PluginKind,
}

/// What a connected entry calls its plugin with.
struct Connected {
    plugin: Arc<Plugin>,
    settings: crate::host::PluginSettings,
    egress: ChannelEgress,
    cache: Arc<dyn PluginCache>,
}

/// A configured account of a workflow's plugin (a carrier, a payment
/// provider), ready to call.
pub struct Account {
    pub id: String,
    /// `carrier:{id}`, `payments:{id}`: the channel part of its call site.
    pub scope: String,
    pub plugin: Arc<Plugin>,
    pub settings: crate::host::PluginSettings,
    pub egress: Arc<ChannelEgress>,
    pub cache: Arc<dyn PluginCache>,
    pub limits: CallLimits,
}

impl Account {
    /// Services for one call on behalf of `seller`.
    pub fn services(
        &self,
        seller: &str,
        egress: Arc<dyn crate::egress::Egress>,
    ) -> crate::host::CallServices {
        crate::host::CallServices {
            site: crate::host::CallSite {
                seller: seller.to_string(),
                channel: self.scope.clone(),
                plugin: self.plugin.manifest.name.clone(),
            },
            egress,
            channel: self.egress.clone(),
            cache: self.cache.clone(),
        }
    }
}

/// Connect one account of `kind`, scoped `{scope}:{id}`.
fn account(
    config: &LoadedConfig,
    plugins: &BTreeMap<String, Arc<Plugin>>,
    store: Option<&Store>,
    seller: &str,
    prefix: String,
    entry: &dyn Connection,
    kind: crate::model::PluginKind,
) -> anyhow::Result<Account> {
    let id = entry.id().get_ref().clone();
    let scope = match kind {
        crate::model::PluginKind::Carrier => format!("carrier:{id}"),
        _ => format!("payments:{id}"),
    };
    let Connected {
        plugin,
        settings,
        egress,
        cache,
    } = connect(
        config,
        plugins,
        store,
        Entry {
            prefix,
            seller,
            scope: scope.clone(),
            config: entry,
            kind,
        },
    )?;
    Ok(Account {
        id,
        scope,
        plugin,
        settings,
        egress: Arc::new(egress),
        cache,
        limits: limits(config, entry),
    })
}

/// Settings, egress and cache of one plugin-backed entry, checked against
/// its plugin's manifest (which must be of the entry's kind).
fn connect(
    config: &LoadedConfig,
    plugins: &BTreeMap<String, Arc<Plugin>>,
    store: Option<&Store>,
    e: Entry<'_>,
) -> anyhow::Result<Connected> {
    let (prefix, seller, cache_scope, entry, kind) = (
        e.prefix.as_str(),
        e.seller,
        e.scope.as_str(),
        e.config,
        e.kind,
    );
    let plugin = plugins
        .get(entry.plugin().get_ref())
        .cloned()
        .with_context(|| format!("plugin `{}` was not loaded", entry.plugin().get_ref()))?;
    let manifest = &plugin.manifest;
    if manifest.kind != kind {
        let e = config.locator.error(
            Some(entry.plugin().span().start),
            format!("{prefix}.plugin"),
            format!(
                "plugin `{}` is a {} plugin; this entry needs a {kind} plugin",
                manifest.name, manifest.kind
            ),
        );
        return Err(e.into());
    }
    let resolved = resolve(config, prefix, entry, manifest)?;
    for w in &resolved.warnings {
        tracing::warn!("{w}");
    }
    let policy = host_policy(config, prefix, entry, manifest)?;
    let egress = ChannelEgress {
        label: format!("{seller}/{cache_scope}"),
        policy,
        secrets: resolved.secrets,
        bucket: manifest.rate_limit.as_ref().map(TokenBucket::new),
        retry: RetryPolicy::default(),
    };
    let cache: Arc<dyn PluginCache> = match store {
        Some(s) => Arc::new(StoreCache::new(s.clone(), seller, cache_scope)),
        None => Arc::new(NoCache),
    };
    Ok(Connected {
        plugin,
        settings: resolved.settings,
        egress,
        cache,
    })
}

/// Build the shipping workflow of every seller with `[sellers.shipping]`,
/// pushing tracking through the seller's channels in `channels`.
pub fn build_shipping(
    config: &LoadedConfig,
    plugins: &BTreeMap<String, Arc<Plugin>>,
    channels: &[Arc<ChannelRuntime>],
    store: Option<&Store>,
) -> anyhow::Result<Vec<Arc<ShippingRuntime>>> {
    let mut out = Vec::new();
    for (si, seller) in config.config.sellers.iter().enumerate() {
        let Some(shipping) = seller.shipping.as_ref().filter(|s| s.enabled) else {
            continue;
        };
        let seller_id = seller.id.get_ref().clone();
        let mut carriers = BTreeMap::new();
        for (ci, account_config) in shipping.carriers.iter().enumerate() {
            if !account_config.enabled {
                continue;
            }
            let a = account(
                config,
                plugins,
                store,
                &seller_id,
                format!("sellers[{si}].shipping.carriers[{ci}]"),
                account_config,
                crate::model::PluginKind::Carrier,
            )?;
            carriers.insert(a.id.clone(), a);
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
            .filter(|c| c.seller == seller_id)
            .map(|c| (c.channel.clone(), c.clone()))
            .collect();
        out.push(Arc::new(ShippingRuntime::new(
            seller_id,
            ShippingPolicy::new(shipping, &seller.catalogue),
            carriers,
            seller_channels,
            config.data_dir().join("labels"),
            shipping.schedule.clone(),
        )));
    }
    Ok(out)
}

/// Build the settlement workflow of every seller with `[sellers.settlement]`.
pub fn build_settlement(
    config: &LoadedConfig,
    plugins: &BTreeMap<String, Arc<Plugin>>,
    store: Option<&Store>,
) -> anyhow::Result<Vec<Arc<SettlementRuntime>>> {
    let mut out = Vec::new();
    for (si, seller) in config.config.sellers.iter().enumerate() {
        let Some(settlement) = seller.settlement.as_ref().filter(|s| s.enabled) else {
            continue;
        };
        let seller_id = seller.id.get_ref().clone();
        let mut accounts = Vec::new();
        for (ai, account_config) in settlement.accounts.iter().enumerate() {
            if !account_config.enabled {
                continue;
            }
            accounts.push(account(
                config,
                plugins,
                store,
                &seller_id,
                format!("sellers[{si}].settlement.accounts[{ai}]"),
                account_config,
                crate::model::PluginKind::Payment,
            )?);
        }
        out.push(Arc::new(SettlementRuntime::new(
            seller_id,
            SettlementPolicy::new(settlement),
            accounts,
            settlement.schedule.clone(),
        )));
    }
    Ok(out)
}

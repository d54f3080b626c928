//! Wiring config to running parts: load each plugin once, resolve every
//! channel's settings and egress policy against its plugin's manifest.

use crate::config::settings::{host_policy, resolve};
use crate::config::{ChannelConfig, LoadedConfig, SellerConfig};
use crate::egress::{ChannelEgress, RetryPolicy, TokenBucket};
use crate::host::{
    CallLimits, NoCache, Plugin, PluginCache, PluginHost, PluginSource, builtin, ticks,
};
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
    for (_, channel) in config.channels() {
        let spec = channel.plugin.get_ref();
        if plugins.contains_key(spec) {
            continue;
        }
        let plugin = load_one(config, host, spec)
            .await
            .with_context(|| format!("{}: plugin `{spec}`", config.channel_location(channel)))?;
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

/// The call limits of a channel: its overrides over `[daemon.plugins]`.
pub fn limits(config: &LoadedConfig, channel: &ChannelConfig) -> CallLimits {
    let d = &config.config.daemon.plugins;
    CallLimits {
        deadline_ticks: ticks(channel.cpu_deadline.unwrap_or(d.cpu_deadline).0),
        memory_bytes: (channel.memory_mb.unwrap_or(d.memory_mb) as usize) << 20,
        max_requests: channel
            .max_requests_per_call
            .unwrap_or(d.max_requests_per_call),
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
    let plugin = plugins
        .get(channel.plugin.get_ref())
        .cloned()
        .with_context(|| format!("plugin `{}` was not loaded", channel.plugin.get_ref()))?;
    let manifest = &plugin.manifest;
    if manifest.kind != crate::model::PluginKind::Marketplace {
        let e = config.locator.error(
            Some(channel.plugin.span().start),
            format!("{prefix}.plugin"),
            format!(
                "plugin `{}` is a {} plugin; a sales channel needs a marketplace plugin",
                manifest.name, manifest.kind
            ),
        );
        return Err(e.into());
    }
    let resolved = resolve(config, &prefix, channel, manifest)?;
    for w in &resolved.warnings {
        tracing::warn!("{w}");
    }
    let policy = host_policy(config, &prefix, channel, manifest)?;
    let seller_id = seller.id.get_ref().clone();
    let channel_id = channel.id.get_ref().clone();
    let egress = ChannelEgress {
        label: format!("{seller_id}/{channel_id}"),
        policy,
        secrets: resolved.secrets,
        bucket: manifest.rate_limit.as_ref().map(TokenBucket::new),
        retry: RetryPolicy::default(),
    };
    let cache: Arc<dyn PluginCache> = match store {
        Some(s) => Arc::new(StoreCache::new(s.clone(), &seller_id, &channel_id)),
        None => Arc::new(NoCache),
    };
    Ok(ChannelRuntime {
        seller: seller_id,
        channel: channel_id,
        plugin,
        settings: resolved.settings,
        egress: Arc::new(egress),
        cache,
        limits: limits(config, channel),
        lookback: channel.lookback.0,
        page_size: channel.page_size,
        schedule: channel.schedule.clone(),
        running: tokio::sync::Mutex::new(()),
    })
}

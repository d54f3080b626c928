//! `run`, `sync --once`, `plugins`, `check`, `status`, `sandbox`.

use crate::admin::{self, Reply, Request};
use crate::assemble::{self, Assembly};
use crate::config::LoadedConfig;
use crate::daemon::{self, open_store};
use crate::egress::{EgressSettings, HttpEgress};
use crate::host::{PluginHost, PluginSource, builtin};
use crate::shutdown::Shutdown;
use crate::{logging, sync};
use anyhow::bail;
use std::path::Path;
use std::sync::Arc;

pub(super) fn load(path: &Path) -> anyhow::Result<LoadedConfig> {
    let config = LoadedConfig::load(path)?;
    logging::init(
        config.config.daemon.log_format,
        &config.config.daemon.log_level,
    );
    Ok(config)
}

pub async fn run(path: &Path) -> anyhow::Result<i32> {
    daemon::run(load(path)?).await?;
    Ok(0)
}

/// What a one-shot command outside the daemon works with: the store (the
/// daemon must not hold it), the in-process sandbox if configured, every
/// channel and workflow assembled.
pub(super) struct Offline {
    pub store: crate::store::Store,
    /// Where the store lives, for messages.
    pub config_data_dir: std::path::PathBuf,
    pub sandbox: Option<crate::demo::Sandbox>,
    pub assembly: Assembly,
    _host: PluginHost,
}

impl Offline {
    /// Refuse when a daemon runs on the same data dir (`what` says what it
    /// already does), else open everything.
    pub(super) async fn open(path: &Path, what: &str) -> anyhow::Result<Self> {
        let config = load(path)?;
        let data_dir = config.data_dir();
        if admin::ask(&admin::socket_path(&data_dir), &Request::Status)
            .await
            .is_some()
        {
            bail!("tradelane is running on {} and {what}", data_dir.display());
        }
        let store = open_store(&config)?;
        let sandbox = crate::demo::start(&config).await?;
        let host = PluginHost::new(Some(data_dir.join("plugin-cache")))?;
        let http = Arc::new(HttpEgress::new(EgressSettings::default()));
        let assembly = Assembly::build(&config, &host, Some(&store), http).await?;
        Ok(Offline {
            config_data_dir: data_dir.clone(),
            store,
            sandbox,
            assembly,
            _host: host,
        })
    }

    /// Flush the store and stop the sandbox.
    pub(super) async fn close(self) -> anyhow::Result<()> {
        self.store.flush().await?;
        if let Some(s) = self.sandbox {
            s.shutdown().await;
        }
        Ok(())
    }
}

pub async fn sync(path: &Path, once: bool, only: Option<String>) -> anyhow::Result<i32> {
    if !once {
        bail!("`tradelane sync` needs --once (for continuous sync run `tradelane run`)");
    }
    if let Some(code) = sync_in_daemon(path, only.as_deref()).await? {
        return Ok(code);
    }
    let offline = Offline::open(path, "already syncs on schedule; stop it to sync by hand").await?;
    let store = offline.store.clone();
    let selected: Vec<_> = offline
        .assembly
        .channels
        .iter()
        .filter(|c| only.as_ref().is_none_or(|o| o == c.id() || *o == c.label()))
        .cloned()
        .collect();
    if selected.is_empty() {
        bail!(
            "no enabled channel matches {}",
            only.as_deref().unwrap_or("(any)")
        );
    }
    let mut failed = 0;
    let mut tasks = tokio::task::JoinSet::new();
    for channel in selected {
        let store = store.clone();
        tasks.spawn(async move {
            let label = channel.label();
            let result = sync::run_pass(&store, &channel, &Shutdown::never(), |p| {
                println!(
                    "{label}: page {} — {} orders ({} new, {} updated, {} unchanged){}",
                    p.page,
                    p.orders,
                    p.outcome.created,
                    p.outcome.updated,
                    p.outcome.unchanged,
                    if p.last { ", last page" } else { "" }
                );
            })
            .await;
            (label, result)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let (label, result) = joined?;
        match result {
            Ok(r) => println!(
                "{label}: done — {} pages, {} orders, {} new, {} updated, {} unchanged, {} quarantined",
                r.pages, r.orders, r.created, r.updated, r.unchanged, r.quarantined
            ),
            Err(e) => {
                failed += 1;
                println!("{label}: FAILED — {e}");
            }
        }
    }
    if store.has_failed() {
        // sled cannot make progress after a refused write: exit now, as
        // after `kill -9`; what was committed is kept and opens next time.
        eprintln!(
            "error: the disk holding {} refused a write (full?); stopped. Pages committed before are kept; free space (and keep some with `[daemon] min_free_mb`), then run again",
            offline.config_data_dir.display()
        );
        std::process::exit(1);
    }
    println!(
        "{} orders in the store; {failed} channel(s) failed",
        store.order_count()
    );
    offline.close().await?;
    Ok(if failed > 0 { 1 } else { 0 })
}

pub async fn plugins(path: &Path) -> anyhow::Result<i32> {
    let config = LoadedConfig::load(path).ok();
    let host = PluginHost::new(None)?;
    // Every plugin reference in config: channels, carriers, payment accounts.
    let uses: Vec<String> = config
        .as_ref()
        .map(|c| {
            let sellers = &c.config.sellers;
            let channels = c.channels().map(|(_, ch)| ch.plugin.get_ref().clone());
            let carriers = sellers
                .iter()
                .filter_map(|s| s.shipping.as_ref())
                .flat_map(|sh| sh.carriers.iter().map(|x| x.plugin.get_ref().clone()));
            let accounts = sellers
                .iter()
                .filter_map(|s| s.settlement.as_ref())
                .flat_map(|st| st.accounts.iter().map(|x| x.plugin.get_ref().clone()));
            channels.chain(carriers).chain(accounts).collect()
        })
        .unwrap_or_default();
    let used = |spec: &str| uses.iter().filter(|u| u.as_str() == spec).count();
    let rows = |p: &crate::host::Plugin, used: usize| {
        let keys: Vec<&str> = p.manifest.settings.iter().map(|s| s.key.as_str()).collect();
        vec![
            p.manifest.name.clone(),
            p.kind().to_string(),
            p.manifest.version.clone(),
            p.manifest.contract_version.clone(),
            used.to_string(),
            p.source.to_string(),
            keys.join(", "),
        ]
    };
    let mut table = crate::text::Table::new(&[
        "NAME", "KIND", "VERSION", "CONTRACT", "USED BY", "SOURCE", "SETTINGS",
    ])
    .right(&[4]);
    let mut errors = Vec::new();
    let mut listed: Vec<String> = Vec::new();
    for (name, bytes) in builtin::BUILTIN {
        let p = host.load(PluginSource::Builtin(name), bytes).await?;
        table.row(rows(&p, used(name)));
        listed.push(name.to_string());
    }
    if let Some(config) = &config {
        for spec in &uses {
            if listed.contains(spec) {
                continue;
            }
            listed.push(spec.clone());
            match assemble::load_one(config, &host, spec).await {
                Ok(p) => table.row(rows(&p, used(spec))),
                Err(e) => errors.push(format!("{spec}: ERROR: {e:#}")),
            }
        }
    }
    let mut out = crate::text::PlainWriter(std::io::stdout().lock());
    table.write(&mut out)?;
    drop(out);
    for e in errors {
        crate::text::say!("{e}");
    }
    println!(
        "host contract: tradelane:plugin@{}",
        crate::host::contract_version()
    );
    Ok(0)
}

/// `plugins --describe NAME`: what a plugin author declared, in full.
pub async fn describe_plugin(path: &Path, name: &str) -> anyhow::Result<i32> {
    let host = PluginHost::new(None)?;
    let (plugin, size) = match builtin::BUILTIN.iter().find(|(n, _)| *n == name) {
        Some((builtin, bytes)) => (
            host.load(PluginSource::Builtin(builtin), bytes).await?,
            bytes.len(),
        ),
        None => {
            let file = match LoadedConfig::load(path) {
                Ok(config) => config.resolve(name),
                Err(_) => std::path::PathBuf::from(name),
            };
            let bytes = anyhow::Context::with_context(std::fs::read(&file), || {
                format!(
                    "`{name}` is neither a built-in plugin ({}) nor a readable .wasm file ({})",
                    builtin::BUILTIN
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", "),
                    file.display()
                )
            })?;
            let size = bytes.len();
            (host.load(PluginSource::File(file), &bytes).await?, size)
        }
    };
    let m = &plugin.manifest;
    crate::text::say!(
        "{} {} ({}), contract {}, {}, {size} bytes",
        m.name,
        m.version,
        plugin.kind(),
        m.contract_version,
        plugin.source
    );
    if !m.description.is_empty() {
        crate::text::say!("  {}", m.description);
    }
    let mut table =
        crate::text::Table::new(&["SETTING", "REQUIRED", "SECRET", "DEFAULT", "MEANING"]);
    for s in &m.settings {
        table.row(vec![
            s.key.clone(),
            if s.required { "yes" } else { "no" }.into(),
            if s.secret { "yes" } else { "no" }.into(),
            s.default_value.clone().unwrap_or_default(),
            s.description.clone(),
        ]);
    }
    let mut out = crate::text::PlainWriter(std::io::stdout().lock());
    table.write(&mut out)?;
    drop(out);
    crate::text::say!("  hosts: {}", m.allowed_hosts.join(", "));
    if let Some(r) = &m.rate_limit {
        crate::text::say!(
            "  rate limit: {}.{:03} requests/s, burst {}{}",
            r.milli_requests_per_second / 1000,
            r.milli_requests_per_second % 1000,
            r.burst,
            r.usage_header
                .as_ref()
                .map(|h| match h {
                    crate::model::UsageHeader::UsedOfLimit(n) =>
                        format!(", paced by `{n}` (used/limit)"),
                    crate::model::UsageHeader::Remaining(n) =>
                        format!(", paced by `{n}` (remaining)"),
                    crate::model::UsageHeader::RatePerSecond(n) =>
                        format!(", paced by `{n}` (rate per second)"),
                })
                .unwrap_or_default()
        );
    }
    for o in &m.operation_limits {
        crate::text::say!(
            "  operation {}: {}.{:03} requests/s, burst {}",
            o.operation,
            o.milli_requests_per_second / 1000,
            o.milli_requests_per_second % 1000,
            o.burst
        );
    }
    for o in &m.oauth {
        crate::text::say!(
            "  oauth `{}`: {:?} at {} (client id from `{}`, secret from `{}`)",
            o.name,
            o.grant,
            o.token_url,
            o.client_id_setting,
            o.client_secret_setting
        );
    }
    Ok(0)
}

pub async fn check(path: &Path, online: bool) -> anyhow::Result<i32> {
    // The warnings `run` would log (inline secrets…) show here too.
    logging::init(Default::default(), "warn");
    let config = LoadedConfig::load(path)?;
    let host = PluginHost::new(None)?;
    let http = Arc::new(HttpEgress::new(EgressSettings::default()));
    let Assembly {
        plugins,
        channels,
        shipping,
        settlement,
        rates_refresh,
        ..
    } = Assembly::build(&config, &host, None, http).await?;
    println!(
        "{}: ok — {} seller(s), {} channel(s), {} plugin(s)",
        path.display(),
        config.config.sellers.len(),
        channels.len(),
        plugins.len()
    );
    for c in &channels {
        println!(
            "  {} → {} ({}), {}",
            c.label(),
            c.account.plugin_name(),
            c.account.source(),
            c.schedule
        );
    }
    for s in &shipping {
        for a in s.carriers.values() {
            println!(
                "  {}/shipping carrier {} → {} ({})",
                s.seller,
                a.id(),
                a.plugin_name(),
                a.source()
            );
        }
        println!(
            "  {}/shipping: {} rule(s), {}{}",
            s.seller,
            s.policy.rules.len(),
            s.schedule,
            if s.policy.dry_run { ", dry run" } else { "" }
        );
    }
    for s in &settlement {
        for a in &s.accounts {
            println!(
                "  {}/settlement account {} → {} ({})",
                s.seller,
                a.id(),
                a.plugin_name(),
                a.source()
            );
        }
    }
    let sinks = crate::notify::build(&config)?;
    for s in &sinks {
        println!("  notify → {}", s.name);
    }
    let mut problems = environment_problems(&config);
    if online {
        // A test message to every sink: the webhook answers, the relay
        // takes the mail.
        let test = crate::notify::Event::new(
            crate::notify::EventKind::ChannelRecovered,
            None,
            None,
            "a test notification from `tradelane check --online`; nothing needs you",
        );
        for s in &sinks {
            match s
                .deliver_now(&crate::notify::message::Message::Event(test.clone()))
                .await
            {
                Ok(()) => println!("  notify {}: test message delivered", s.name),
                Err(e) => problems.push(format!("notify {}: {e}", s.name)),
            }
        }
        let accounts = channels
            .iter()
            .map(|c| c.account.as_ref())
            .chain(shipping.iter().flat_map(|s| s.carriers.values()))
            .chain(settlement.iter().flat_map(|s| s.accounts.iter()));
        for account in accounts {
            match account.check().await {
                Ok(()) => println!("  {}: credentials ok", account.label()),
                Err(e) => problems.push(format!("{}: {e}", account.label())),
            }
        }
        if let Some(rates) = &rates_refresh {
            match rates.fetch().await {
                Ok(days) => println!(
                    "  rates: {} day(s) of ECB rates, the latest of {}",
                    days.len(),
                    days.last().map(|d| d.0.to_string()).unwrap_or_default()
                ),
                Err(e) => problems.push(e),
            }
        }
    }
    if problems.is_empty() {
        return Ok(0);
    }
    for p in &problems {
        eprintln!("problem: {}", crate::text::plain(p));
    }
    Ok(1)
}

/// What would stop `run` on this machine although the config is valid.
fn environment_problems(config: &LoadedConfig) -> Vec<String> {
    let mut problems = Vec::new();
    let data_dir = config.data_dir();
    match crate::daemon::prepare_data_dir(&data_dir) {
        Err(e) => problems.push(format!("{e:#}")),
        Ok(()) => {
            let probe = data_dir.join(format!(".check-{}", std::process::id()));
            match std::fs::write(&probe, b"") {
                Ok(()) => {
                    let _ = std::fs::remove_file(&probe);
                }
                Err(e) => problems.push(format!(
                    "data_dir {} cannot be written ({e}); give the daemon's user write access or set `[daemon] data_dir`",
                    data_dir.display()
                )),
            }
            let reserve = u64::from(config.config.daemon.min_free_mb) << 20;
            if let Ok(free) = fs2::available_space(&data_dir)
                && free < reserve
            {
                problems.push(format!(
                    "only {} MiB free under {}, below `[daemon] min_free_mb` ({} MiB): syncs would pause at once",
                    free >> 20,
                    data_dir.display(),
                    reserve >> 20
                ));
            }
        }
    }
    #[cfg(feature = "sandbox")]
    if let Some(s) = config.config.sandbox.as_ref().filter(|s| s.enabled)
        && let Err(e) = std::net::TcpListener::bind(&s.listen)
    {
        problems.push(format!(
            "the sandbox cannot listen on {} ({e}; a running tradelane?): change `[sandbox] listen` (and every `base_url` that points at it), or stop what uses it",
            s.listen
        ));
    }
    problems
}

pub async fn status(path: &Path, format: super::Format) -> anyhow::Result<i32> {
    let config = LoadedConfig::load(path)?;
    match admin::ask(&admin::socket_path(&config.data_dir()), &Request::Status).await {
        None => {
            if format == super::Format::Json {
                println!("{}", serde_json::json!({"running": false}));
            } else {
                println!(
                    "tradelane is not running for {}",
                    config.data_dir().display()
                );
            }
            Ok(1)
        }
        Some(reply) => match reply? {
            Reply::Status {
                channels,
                orders,
                store_bytes,
                quarantined,
            } => {
                let parts: std::collections::BTreeMap<String, crate::scheduler::ChannelStatus> =
                    serde_json::from_value(channels)?;
                // Failing: a stopped channel or workflow, or one whose last
                // run failed. Cron and monitoring read the exit code.
                let failing = parts
                    .values()
                    .filter(|s| s.is_stopped() || s.is_failing())
                    .count();
                if format == super::Format::Json {
                    let out = serde_json::json!({
                        "running": true,
                        "orders": orders,
                        "quarantined": quarantined,
                        "store_bytes": store_bytes,
                        "failing": failing,
                        "parts": parts,
                    });
                    println!("{out}");
                } else {
                    print_status(&parts, orders as u64, quarantined as u64, store_bytes)?;
                }
                Ok(if failing > 0 { 1 } else { 0 })
            }
            other => bail!("unexpected answer {other:?}"),
        },
    }
}

/// `sync --once` while the daemon runs: ask it for a pass and print its
/// pages as they commit. `None` when no daemon runs.
async fn sync_in_daemon(path: &Path, only: Option<&str>) -> anyhow::Result<Option<i32>> {
    use crate::control::PassEvent;
    let config = LoadedConfig::load(path)?;
    let request = Request::SyncNow {
        channel: only.map(str::to_string),
    };
    let mut code = None;
    let mut problem = None;
    let asked = admin::ask_stream(&admin::socket_path(&config.data_dir()), &request, |reply| {
        match reply {
            Reply::Pass { channel, event } => match event {
                PassEvent::Page {
                    page,
                    orders,
                    created,
                    updated,
                    unchanged,
                    last,
                    ..
                } => crate::text::say!(
                    "{channel}: page {page} — {orders} orders ({created} new, {updated} updated, {unchanged} unchanged){}",
                    if last { ", last page" } else { "" }
                ),
                PassEvent::Done { result: Ok(r), .. } => crate::text::say!(
                    "{channel}: done — {} pages, {} orders, {} new, {} updated, {} unchanged, {} quarantined",
                    r.pages, r.orders, r.created, r.updated, r.unchanged, r.quarantined
                ),
                PassEvent::Done { result: Err(e), .. } => {
                    crate::text::say!("{channel}: FAILED — {e}")
                }
            },
            Reply::Synced { failed } => {
                code = Some(if failed > 0 { 1 } else { 0 });
                return false;
            }
            Reply::Error { message } => {
                problem = Some(message);
                return false;
            }
            other => {
                problem = Some(format!("unexpected answer {other:?}"));
                return false;
            }
        }
        true
    })
    .await;
    match asked {
        None => Ok(None),
        Some(result) => {
            result?;
            if let Some(message) = problem {
                return Err(crate::cli::NotFound(message).into());
            }
            Ok(code)
        }
    }
}

/// `channel pause|resume`: ask the running daemon.
pub async fn pause(path: &Path, channel: &str, paused: bool) -> anyhow::Result<i32> {
    let config = LoadedConfig::load(path)?;
    let request = Request::Pause {
        channel: channel.to_string(),
        paused,
    };
    match admin::ask(&admin::socket_path(&config.data_dir()), &request).await {
        None => {
            eprintln!(
                "tradelane is not running for {}; pause and resume act on the running daemon (the config's `enabled = false` turns a channel off for good)",
                config.data_dir().display()
            );
            Ok(1)
        }
        Some(reply) => match reply? {
            Reply::Paused { paused, channels } => {
                for (label, changed) in channels {
                    let what = match (paused, changed) {
                        (true, true) => {
                            "paused; `tradelane channel resume` (or a reload) syncs it again"
                        }
                        (true, false) => "was already paused",
                        (false, true) => "resumed; a pass starts now",
                        (false, false) => "was not paused; a pass starts now",
                    };
                    println!("{label}: {what}");
                }
                Ok(0)
            }
            Reply::Error { message } => Err(crate::cli::NotFound(message).into()),
            other => bail!("unexpected answer {other:?}"),
        },
    }
}

/// Ask the running daemon to reload its config: 0 applied, 1 rolled back
/// (or no daemon).
pub async fn reload(path: &Path) -> anyhow::Result<i32> {
    let config = LoadedConfig::load(path)?;
    match admin::ask(&admin::socket_path(&config.data_dir()), &Request::Reload).await {
        None => {
            eprintln!(
                "tradelane is not running for {}",
                config.data_dir().display()
            );
            Ok(1)
        }
        Some(reply) => match reply? {
            Reply::Reloaded { applied, message } => {
                println!("config reload {}", crate::text::plain(&message));
                Ok(if applied { 0 } else { 1 })
            }
            Reply::Error { message } => bail!("{message}"),
            other => bail!("unexpected answer {other:?}"),
        },
    }
}

/// The status board as a table: one line per channel and workflow.
fn print_status(
    parts: &std::collections::BTreeMap<String, crate::scheduler::ChannelStatus>,
    orders: u64,
    quarantined: u64,
    store_bytes: u64,
) -> anyhow::Result<()> {
    use std::io::Write as _;
    let when = |t: &Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_else(|| "-".into())
    };
    let mut out = crate::text::PlainWriter(std::io::stdout().lock());
    writeln!(
        out,
        "{orders} orders stored, {quarantined} in quarantine (`tradelane orders quarantined`), store {} KiB",
        store_bytes / 1024
    )?;
    let mut table = crate::text::Table::new(&[
        "PART",
        "STATE",
        "LAST SUCCESS",
        "NEXT RUN",
        "STORED",
        "SYNCED",
        "FAILS",
        "LAST ERROR",
    ])
    .right(&[4, 5, 6]);
    let cut = |text: &str, n: usize| {
        if text.chars().count() > n {
            text.chars().take(n - 1).collect::<String>() + "…"
        } else {
            text.to_string()
        }
    };
    for (name, s) in parts {
        table.row(vec![
            name.clone(),
            cut(&s.state, 48),
            when(&s.last_success),
            when(&s.next_run),
            s.orders_stored.map_or("-".into(), |n| n.to_string()),
            s.orders_synced.to_string(),
            s.consecutive_failures.to_string(),
            cut(s.last_error.as_deref().unwrap_or_default(), 160),
        ]);
    }
    table.write(&mut out)?;
    Ok(())
}

#[cfg(feature = "sandbox")]
pub async fn sandbox(listen: String, seed: u64, orders: u32, frozen: bool) -> anyhow::Result<i32> {
    use tradelane_sandbox::{HumanDuration, SandboxConfig};
    logging::init(Default::default(), "info");
    let mut config = SandboxConfig {
        listen,
        seed,
        orders,
        ..SandboxConfig::default()
    };
    if frozen {
        config.new_order_every = HumanDuration(std::time::Duration::ZERO);
        config.update_every = HumanDuration(std::time::Duration::ZERO);
    }
    let token = config.access_token.clone();
    let sandbox = tradelane_sandbox::Sandbox::start(config).await?;
    println!(
        "sandbox on {} (Shopify: {}/admin/api/2026-07/orders.json, token {token}); Ctrl-C stops",
        sandbox.url(),
        sandbox.url()
    );
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    tokio::signal::ctrl_c().await?;
    sandbox.shutdown().await;
    Ok(0)
}

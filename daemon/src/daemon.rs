//! `tradelane run`: the long-running service.
//!
//! Start: config → logging → store → sandbox (if configured) → plugins →
//! assembly (channels and workflows) → admin socket → `READY=1` → scheduler. Stop (SIGTERM or
//! SIGINT): broadcast shutdown; each channel finishes and commits the page
//! in flight, then stops; `STOPPING=1`; the store is flushed. A second
//! signal, or the grace period running out, exits at once — the store is
//! crash-safe, so that loses nothing but the page in flight.

use crate::admin;
use crate::assemble::Assembly;
use crate::config::LoadedConfig;
use crate::control::Controls;
use crate::egress::{EgressSettings, HttpEgress};
use crate::host::PluginHost;
use crate::scheduler::{self, StatusBoard};
use crate::shutdown::{self, Shutdown};
use crate::store::Store;
use anyhow::Context;
use sd_notify::NotifyState;
use std::sync::Arc;
use tracing::{info, warn};

/// OS signals that stop the daemon, as a typed value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Terminate,
    Interrupt,
}

/// What the daemon's main loop waits for.
enum Event {
    Stop(Signal),
    /// SIGHUP (no one to answer) or `tradelane reload` (answered).
    Reload(Option<crate::admin::ReloadAsk>),
}

/// The signal handlers, installed once.
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> anyhow::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    async fn next(
        &mut self,
        asks: &mut tokio::sync::mpsc::Receiver<crate::admin::ReloadAsk>,
    ) -> Event {
        tokio::select! {
            _ = self.term.recv() => Event::Stop(Signal::Terminate),
            _ = self.int.recv() => Event::Stop(Signal::Interrupt),
            _ = self.hup.recv() => Event::Reload(None),
            Some(ask) = asks.recv() => Event::Reload(Some(ask)),
        }
    }

    /// The next stopping signal (SIGHUP is ignored while stopping).
    async fn next_stop(&mut self) -> Signal {
        loop {
            tokio::select! {
                _ = self.term.recv() => return Signal::Terminate,
                _ = self.int.recv() => return Signal::Interrupt,
                _ = self.hup.recv() => {}
            }
        }
    }
}

/// One configuration's scheduler: every channel and workflow of one
/// [`Assembly`], stopped as a whole on reload or shutdown.
struct Generation {
    stop: shutdown::ShutdownTrigger,
    task: tokio::task::JoinHandle<()>,
}

impl Generation {
    fn start(
        store: &Store,
        assembly: &Assembly,
        board: &StatusBoard,
        config: &LoadedConfig,
        heartbeat: &Arc<std::sync::atomic::AtomicI64>,
        controls: &Controls,
    ) -> Self {
        let settings = scheduler::Settings {
            concurrency: config.config.daemon.max_concurrent_syncs,
            stopped_retry: config.config.daemon.stopped_retry.0,
            heartbeat: heartbeat.clone(),
        };
        let (stop, shutdown) = shutdown::channel();
        board.lock().unwrap_or_else(|p| p.into_inner()).clear();
        let task = tokio::spawn(scheduler::run(
            store.clone(),
            assembly.channels.clone(),
            assembly.workflows(),
            board.clone(),
            settings,
            controls.clone(),
            shutdown,
        ));
        Generation { stop, task }
    }

    /// Stop, letting the passes in flight commit, for at most `grace`.
    async fn finish(self, grace: std::time::Duration) -> bool {
        self.stop.fire();
        let mut task = self.task;
        tokio::select! {
            _ = &mut task => true,
            _ = tokio::time::sleep(grace) => {
                task.abort();
                false
            }
        }
    }
}

/// Read the config at `path` again and build everything from it, loading
/// every plugin, without touching what runs: the new parts, or why not.
async fn prepare_reload(
    path: &std::path::Path,
    running: &LoadedConfig,
    host: &PluginHost,
    store: &Store,
    http: Arc<HttpEgress>,
) -> Result<(LoadedConfig, Assembly, Vec<crate::notify::Sink>), String> {
    let config = LoadedConfig::load(path).map_err(|e| e.to_string())?;
    if config.data_dir() != running.data_dir() {
        return Err(format!(
            "`[daemon] data_dir` changed ({} → {}); that takes a restart",
            running.data_dir().display(),
            config.data_dir().display()
        ));
    }
    let sinks = crate::notify::build(&config).map_err(|e| e.to_string())?;
    let assembly = Assembly::build(&config, host, Some(store), http)
        .await
        .map_err(|e| format!("{e:#}"))?;
    Ok((config, assembly, sinks))
}

/// Open the store of `config`, saying clearly when another process has it.
///
/// sled admits one process. A reading command (`orders list` while no
/// daemon runs) holds the store for milliseconds, so a lock held by
/// someone else is waited for, up to [`STORE_LOCK_WAIT`], before giving up:
/// a daemon starting while someone lists orders must not fail to start.
pub fn open_store(config: &LoadedConfig) -> anyhow::Result<Store> {
    let data_dir = config.data_dir();
    prepare_data_dir(&data_dir)?;
    let dir = data_dir.join("store");
    let cache = u64::from(config.config.daemon.store_cache_mb) << 20;
    let deadline = std::time::Instant::now() + STORE_LOCK_WAIT;
    loop {
        match Store::open_with_cache(&dir, cache) {
            Err(e) if locked(&e) && std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(e) if locked(&e) => {
                anyhow::bail!(
                    "the store in {} is held by another tradelane process (a daemon running on this data_dir?); stop it, or point `[daemon] data_dir` elsewhere",
                    dir.display()
                );
            }
            result => {
                let store = result
                    .with_context(|| format!("cannot open the store in {}", dir.display()))?;
                store.set_reserve(u64::from(config.config.daemon.min_free_mb) << 20);
                store.set_channel_cap(
                    u64::from(config.config.daemon.plugins.max_store_mb_per_channel) << 20,
                );
                return Ok(store);
            }
        }
    }
}

/// Make sure `data_dir` is a directory only its owner can read: it holds
/// buyers' names and addresses. Created 0700; an existing one is tightened
/// to 0700. Says plainly what is wrong with it.
pub fn prepare_data_dir(data_dir: &std::path::Path) -> anyhow::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    match std::fs::metadata(data_dir) {
        Ok(m) if !m.is_dir() => anyhow::bail!(
            "data_dir {} is not a directory; set `[daemon] data_dir` to a directory",
            data_dir.display()
        ),
        Ok(m) => {
            if m.permissions().mode() & 0o077 != 0 {
                std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700))
                    .with_context(|| {
                        format!("cannot make data_dir {} private (0700)", data_dir.display())
                    })?;
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(data_dir)
                .with_context(|| format!("cannot create data_dir {}", data_dir.display()))?;
        }
        Err(e) => {
            return Err(e).with_context(|| format!("cannot use data_dir {}", data_dir.display()));
        }
    }
    let probe = data_dir.join(".tradelane-write-test");
    std::fs::write(&probe, b"")
        .and_then(|()| std::fs::remove_file(&probe))
        .with_context(|| format!("data_dir {} is not writable", data_dir.display()))
}

/// Claim `data_dir` for this daemon: an exclusive lock on
/// `data_dir/daemon.pid`, which holds our pid. A second daemon is told at
/// once which process holds it, instead of waiting on the store's lock.
/// The lock goes with the process, however it ends.
pub fn claim_data_dir(data_dir: &std::path::Path) -> anyhow::Result<std::fs::File> {
    use fs2::FileExt as _;
    use std::io::{Read as _, Seek as _, Write as _};
    let path = data_dir.join("daemon.pid");
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    if file.try_lock_exclusive().is_err() {
        let mut pid = String::new();
        let _ = file.read_to_string(&mut pid);
        let pid = pid.trim();
        let who = if pid.is_empty() {
            "another tradelane daemon".to_string()
        } else {
            format!("another tradelane daemon (pid {pid})")
        };
        anyhow::bail!(
            "{who} is running on {}; stop it first (`systemctl stop tradelane`{}), or point `[daemon] data_dir` elsewhere",
            data_dir.display(),
            if pid.is_empty() {
                String::new()
            } else {
                format!(" or `kill {pid}`")
            }
        );
    }
    file.set_len(0)?;
    file.rewind()?;
    writeln!(file, "{}", std::process::id())?;
    file.sync_all()?;
    Ok(file)
}

/// How long opening the store waits for another process to let go of it.
pub const STORE_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Whether sled refused because another process holds the store's lock.
/// sled 0.34 reports it as an `Other` I/O error with this message
/// (`config.rs`, `try_lock_exclusive`), so the message is what tells.
fn locked(e: &crate::store::StoreError) -> bool {
    matches!(e, crate::store::StoreError::Sled(sled::Error::Io(io))
        if io.kind() == std::io::ErrorKind::WouldBlock
            || io.to_string().starts_with("could not acquire lock"))
}

/// Run until SIGTERM or SIGINT; SIGHUP and `tradelane reload` re-read
/// the config and, when it builds completely, swap it in.
/// Before the first shipping pass: this month's customs rates, if the
/// store does not hold them yet (a first start, a new month), so no order
/// waits for a rate the next refresh would bring. Bounded; a failure only
/// warns, and the refresh keeps trying on its schedule.
async fn first_rates(assembly: &Assembly, store: &Store) {
    let Some(refresh) = &assembly.rates_refresh else {
        return;
    };
    if refresh.stale().is_none() {
        return;
    }
    let wait = std::time::Duration::from_secs(30);
    match tokio::time::timeout(wait, refresh.refresh(store)).await {
        Ok(Ok(days)) => info!(days, "ECB rates fetched before the first pass"),
        Ok(Err(e)) => warn!("{e}; thresholds use config rates and what the store holds"),
        Err(_) => warn!("ECB rates: no answer in {wait:?}; the refresh keeps trying"),
    }
}

pub async fn run(config: LoadedConfig) -> anyhow::Result<()> {
    let mut signals = Signals::install()?;
    let data_dir = config.data_dir();
    prepare_data_dir(&data_dir)?;
    let _claim = claim_data_dir(&data_dir)?;
    let store = open_store(&config)?;
    let sandbox = crate::demo::start(&config).await?;
    let host = PluginHost::new(Some(data_dir.join("plugin-cache")))?;
    let http = Arc::new(HttpEgress::new(EgressSettings::default()));
    let sinks = crate::notify::build(&config)?;
    let assembly = Assembly::build(&config, &host, Some(&store), http.clone()).await?;
    first_rates(&assembly, &store).await;
    let mut notifier = crate::notify::Notifier::start(sinks);
    for p in assembly.plugins.values() {
        info!(plugin = %p.manifest.name, version = %p.manifest.version, kind = %p.kind(), source = %p.source, "plugin loaded");
    }
    let board: StatusBoard = Default::default();
    let (stop, shutdown) = shutdown::channel();
    let shipping: crate::admin::SharedShipping =
        Arc::new(std::sync::RwLock::new(assembly.shipping.clone()));
    let (reload_tx, mut reload_rx) = tokio::sync::mpsc::channel(4);
    let controls = Controls::default();

    let admin_task = tokio::spawn(admin::serve(
        admin::socket_path(&data_dir),
        store.clone(),
        board.clone(),
        shipping.clone(),
        controls.clone(),
        reload_tx,
        shutdown.clone(),
    ));
    let metrics_task = match config.config.daemon.http_listen.clone() {
        Some(listen) => {
            crate::metrics::handle();
            let sources = Arc::new(crate::metrics::Sources {
                store: store.clone(),
                board: board.clone(),
                data_dir: data_dir.clone(),
            });
            Some(tokio::spawn(crate::metrics::serve(
                listen,
                sources,
                shutdown.clone(),
            )))
        }
        None => None,
    };
    let heartbeat = Arc::new(std::sync::atomic::AtomicI64::new(
        chrono::Utc::now().timestamp(),
    ));
    let watchdog = spawn_watchdog(heartbeat.clone(), board.clone(), shutdown.clone());
    let mut config = config;
    let mut generation =
        Generation::start(&store, &assembly, &board, &config, &heartbeat, &controls);
    let _ = sd_notify::notify(false, &[NotifyState::Ready]);
    info!(channels = assembly.channels.len(), shipping_sellers = assembly.shipping.len(), settlement_sellers = assembly.settlement.len(), orders = store.order_count(), data_dir = %data_dir.display(),
        sandbox = sandbox.as_ref().map(|s| s.url()).unwrap_or_default(), "tradelane running");

    let signal = loop {
        let answer = match signals.next(&mut reload_rx).await {
            Event::Stop(signal) => break signal,
            Event::Reload(answer) => answer,
        };
        let path = config.path.clone();
        let outcome = match prepare_reload(&path, &config, &host, &store, http.clone()).await {
            Err(why) => {
                warn!("config reload rolled back, the running config stays: {why}");
                (false, format!("rolled back: {why}"))
            }
            Ok((new_config, new_assembly, sinks)) => {
                let _ = sd_notify::notify(false, &[NotifyState::Reloading]);
                // Work in flight finishes under the config it started with.
                let grace = config.config.daemon.shutdown_grace.0;
                if !generation.finish(grace).await {
                    warn!(
                        "reload: passes still running after {}s were stopped; they resume under the new config",
                        grace.as_secs()
                    );
                }
                *shipping.write().unwrap_or_else(|p| p.into_inner()) =
                    new_assembly.shipping.clone();
                generation = Generation::start(
                    &store,
                    &new_assembly,
                    &board,
                    &new_config,
                    &heartbeat,
                    &controls,
                );
                notifier.stop().await;
                notifier = crate::notify::Notifier::start(sinks);
                let message = format!(
                    "applied: {} channel(s), {} shipping and {} settlement workflow(s)",
                    new_assembly.channels.len(),
                    new_assembly.shipping.len(),
                    new_assembly.settlement.len()
                );
                info!("config reloaded from {}: {message}", path.display());
                config = new_config;
                let _ = sd_notify::notify(false, &[NotifyState::Ready]);
                (true, message)
            }
        };
        board.lock().unwrap_or_else(|p| p.into_inner()).insert(
            "daemon/config".into(),
            scheduler::ChannelStatus {
                state: format!("reload {}", outcome.1),
                last_success: outcome.0.then(chrono::Utc::now),
                ..Default::default()
            },
        );
        if let Some(answer) = answer {
            let _ = answer.send(outcome);
        }
    };
    info!(?signal, "shutting down after the pages in flight commit");
    let _ = sd_notify::notify(false, &[NotifyState::Stopping]);
    stop.fire();
    let grace = config.config.daemon.shutdown_grace.0;
    tokio::select! {
        finished = generation.finish(grace) => if !finished {
            warn!("grace period of {}s over; exiting with syncs in flight", grace.as_secs());
        },
        s = signals.next_stop() => warn!(signal = ?s, "second signal; exiting now"),
    }
    let _ = admin_task.await;
    notifier.stop().await;
    if let Some(t) = metrics_task {
        t.abort();
    }
    watchdog.abort();
    store.flush().await?;
    if let Some(s) = sandbox {
        s.shutdown().await;
    }
    info!("stopped");
    Ok(())
}

/// Feed systemd: `WATCHDOG=1` at half of `WatchdogSec` (when set), but
/// only while the scheduler's heartbeat is fresh, so a scheduler that
/// stopped making progress gets the daemon restarted; and `STATUS=` with
/// a one-line summary of the status board (`systemctl status`).
fn spawn_watchdog(
    heartbeat: Arc<std::sync::atomic::AtomicI64>,
    board: StatusBoard,
    mut shutdown: Shutdown,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut usec = 0u64;
        let watchdog = sd_notify::watchdog_enabled(false, &mut usec) && usec > 0;
        let period = if watchdog {
            std::time::Duration::from_micros(usec / 2)
        } else {
            std::time::Duration::from_secs(10)
        };
        let mut every = tokio::time::interval(period);
        loop {
            tokio::select! {
                _ = every.tick() => {
                    let age = chrono::Utc::now().timestamp()
                        - heartbeat.load(std::sync::atomic::Ordering::Relaxed);
                    let summary = summary(&board);
                    let mut states = vec![NotifyState::Status(&summary)];
                    // A heartbeat older than the watchdog period means the
                    // scheduler is stuck: stop feeding, let systemd act.
                    if watchdog && (age as u128) * 1_000_000 <= u128::from(usec) {
                        states.push(NotifyState::Watchdog);
                    }
                    let _ = sd_notify::notify(false, &states);
                }
                _ = shutdown.requested() => return,
            }
        }
    })
}

/// `3 parts: 2 ok, 1 stopped, 0 failing; last sync 12:00:01 UTC`.
pub fn summary(board: &StatusBoard) -> String {
    let b = board.lock().unwrap_or_else(|p| p.into_inner());
    let stopped = b.values().filter(|s| s.is_stopped()).count();
    let failing = b.values().filter(|s| s.is_failing()).count();
    let last = b
        .values()
        .filter_map(|s| s.last_success)
        .max()
        .map(|t| t.format("%H:%M:%S UTC").to_string())
        .unwrap_or_else(|| "none yet".into());
    format!(
        "{} parts: {} ok, {stopped} stopped, {failing} failing; last success {last}",
        b.len(),
        b.len() - stopped - failing
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opening_the_store_waits_for_a_short_reader_to_let_go() {
        let dir = tempfile::tempdir().unwrap();
        let text = format!("[daemon]\ndata_dir = \"{}\"\n", dir.path().display());
        let config = LoadedConfig::parse(&dir.path().join("config.toml"), &text).unwrap();
        let reader = open_store(&config).expect("first open");
        let release = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            drop(reader);
        });
        let started = std::time::Instant::now();
        let store = open_store(&config).expect("opens once the reader is gone");
        assert!(started.elapsed() >= std::time::Duration::from_millis(250));
        release.join().unwrap();
        drop(store);
    }
}

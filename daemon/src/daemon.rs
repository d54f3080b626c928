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
use crate::egress::{EgressSettings, HttpEgress};
use crate::host::PluginHost;
use crate::scheduler::{self, StatusBoard};
use crate::shutdown::{self, Shutdown};
use crate::store::Store;
use anyhow::Context;
use sd_notify::NotifyState;
use std::sync::Arc;
use tracing::{info, warn};

/// OS signals the daemon reacts to, as a typed value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Terminate,
    Interrupt,
}

async fn next_signal() -> Signal {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("install SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("install SIGINT handler");
    tokio::select! {
        _ = term.recv() => Signal::Terminate,
        _ = int.recv() => Signal::Interrupt,
    }
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

/// Run until a signal.
pub async fn run(config: LoadedConfig) -> anyhow::Result<()> {
    let data_dir = config.data_dir();
    let store = open_store(&config)?;
    let sandbox = crate::demo::start(&config).await?;
    let host = PluginHost::new(Some(data_dir.join("plugin-cache")))?;
    let http = Arc::new(HttpEgress::new(EgressSettings::default()));
    let assembly = Assembly::build(&config, &host, Some(&store), http).await?;
    for p in assembly.plugins.values() {
        info!(plugin = %p.manifest.name, version = %p.manifest.version, kind = %p.kind(), source = %p.source, "plugin loaded");
    }
    let board: StatusBoard = Default::default();
    let (stop, shutdown) = shutdown::channel();

    let admin_task = tokio::spawn(admin::serve(
        admin::socket_path(&data_dir),
        store.clone(),
        board.clone(),
        assembly.shipping.clone(),
        shutdown.clone(),
    ));
    let watchdog = spawn_watchdog(shutdown.clone());
    let scheduler_task = tokio::spawn(scheduler::run(
        store.clone(),
        assembly.channels.clone(),
        assembly.workflows(),
        board,
        config.config.daemon.max_concurrent_syncs,
        shutdown.clone(),
    ));
    let _ = sd_notify::notify(false, &[NotifyState::Ready]);
    info!(channels = assembly.channels.len(), shipping_sellers = assembly.shipping.len(), settlement_sellers = assembly.settlement.len(), orders = store.order_count(), data_dir = %data_dir.display(),
        sandbox = sandbox.as_ref().map(|s| s.url()).unwrap_or_default(), "tradelane running");

    let signal = next_signal().await;
    info!(?signal, "shutting down after the pages in flight commit");
    let _ = sd_notify::notify(false, &[NotifyState::Stopping]);
    stop.fire();
    let grace = config.config.daemon.shutdown_grace.0;
    tokio::select! {
        _ = scheduler_task => {}
        _ = tokio::time::sleep(grace) => warn!("grace period of {}s over; exiting with syncs in flight", grace.as_secs()),
        s = next_signal() => warn!(signal = ?s, "second signal; exiting now"),
    }
    let _ = admin_task.await;
    watchdog.abort();
    store.flush().await?;
    if let Some(s) = sandbox {
        s.shutdown().await;
    }
    info!("stopped");
    Ok(())
}

/// Ping systemd's watchdog at half of `WatchdogSec`, when it is set.
fn spawn_watchdog(mut shutdown: Shutdown) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut usec = 0u64;
        if !sd_notify::watchdog_enabled(false, &mut usec) || usec == 0 {
            return;
        }
        let mut every = tokio::time::interval(std::time::Duration::from_micros(usec / 2));
        loop {
            tokio::select! {
                _ = every.tick() => { let _ = sd_notify::notify(false, &[NotifyState::Watchdog]); }
                _ = shutdown.requested() => return,
            }
        }
    })
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

//! Health and metrics over HTTP, opt in (`[daemon] http_listen`):
//! `/metrics` in the Prometheus text format, `/health` (alive) and
//! `/ready` (the store is open, plugins are loaded, nothing is stopped or
//! failing repeatedly).
//!
//! Counters and histograms are recorded where things happen, through the
//! `metrics` facade (sync passes, plugin calls, HTTP requests, rate-limit
//! waits); `metrics-exporter-prometheus` renders them. The state of the
//! store (orders, shipments per state, open discrepancies, bytes, free
//! disk) is read at scrape time. The listener is a small HTTP/1.1 reader:
//! one GET line, 8 KiB and 5 s at most, then the connection closes.

use crate::scheduler::StatusBoard;
use crate::settlement::SettlementStore;
use crate::shipping::ShipmentStore;
use crate::shutdown::Shutdown;
use crate::store::Store;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::path::PathBuf;
use std::sync::OnceLock;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The process's recorder, installed on first use.
pub fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Suffix("_seconds".into()),
                    &[0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0],
                )
                .ok()?
                .install_recorder()
                .ok()
        })
        .as_ref()
}

/// What the endpoints read.
pub struct Sources {
    pub store: Store,
    pub board: StatusBoard,
    pub data_dir: PathBuf,
}

/// A part failing this many times in a row makes `/ready` answer 503.
pub const NOT_READY_AFTER_FAILURES: u32 = 5;

/// Serve until `shutdown` on `listen`.
pub async fn serve(
    listen: String,
    sources: std::sync::Arc<Sources>,
    mut shutdown: Shutdown,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&listen).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot listen on {listen} for metrics ({e}); change `[daemon] http_listen`"
        )
    })?;
    tracing::info!(%listen, "serving /metrics, /health and /ready");
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((mut stream, _)) = accepted else { continue };
                let sources = sources.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 8192];
                    let mut read = 0;
                    let got = tokio::time::timeout(std::time::Duration::from_secs(5), async {
                        while read < buf.len() {
                            match stream.read(&mut buf[read..]).await {
                                Ok(0) | Err(_) => break,
                                Ok(n) => {
                                    read += n;
                                    if buf[..read].windows(4).any(|w| w == b"\r\n\r\n") {
                                        break;
                                    }
                                }
                            }
                        }
                    })
                    .await;
                    if got.is_err() {
                        return;
                    }
                    let head = String::from_utf8_lossy(&buf[..read]);
                    let path = head
                        .lines()
                        .next()
                        .and_then(|l| l.strip_prefix("GET "))
                        .and_then(|l| l.split_whitespace().next())
                        .unwrap_or("");
                    let (status, kind, body) = answer(path, &sources);
                    let response = format!(
                        "HTTP/1.1 {status}\r\ncontent-type: {kind}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(response.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
            _ = shutdown.requested() => return Ok(()),
        }
    }
}

fn answer(path: &str, sources: &Sources) -> (&'static str, &'static str, String) {
    match path {
        "/health" => ("200 OK", "text/plain", "ok\n".into()),
        "/ready" => match not_ready(sources) {
            None => ("200 OK", "text/plain", "ready\n".into()),
            Some(why) => ("503 Service Unavailable", "text/plain", format!("{why}\n")),
        },
        "/metrics" => {
            record_state(sources);
            match handle() {
                Some(h) => ("200 OK", "text/plain; version=0.0.4", h.render()),
                None => (
                    "500 Internal Server Error",
                    "text/plain",
                    "no recorder\n".into(),
                ),
            }
        }
        _ => (
            "404 Not Found",
            "text/plain",
            "try /metrics, /health or /ready\n".into(),
        ),
    }
}

/// Why the daemon is not ready, if it is not.
fn not_ready(sources: &Sources) -> Option<String> {
    let board = sources.board.lock().unwrap_or_else(|p| p.into_inner());
    let bad: Vec<String> = board
        .iter()
        .filter(|(_, s)| s.is_stopped() || s.consecutive_failures >= NOT_READY_AFTER_FAILURES)
        .map(|(name, s)| format!("{name}: {}", s.state))
        .collect();
    (!bad.is_empty()).then(|| format!("not ready: {}", bad.join("; ")))
}

/// The gauges read from the store and the status board at scrape time.
fn record_state(sources: &Sources) {
    let store = &sources.store;
    metrics::gauge!("tradelane_orders_stored").set(store.order_count() as f64);
    metrics::gauge!("tradelane_orders_quarantined").set(store.quarantine_count() as f64);
    metrics::gauge!("tradelane_store_bytes").set(store.size_on_disk() as f64);
    if let Ok(free) = fs2::available_space(&sources.data_dir) {
        metrics::gauge!("tradelane_disk_free_bytes").set(free as f64);
    }
    if let Ok(records) = store.shipments(None) {
        let mut by_state = std::collections::BTreeMap::<&str, u64>::new();
        for s in crate::shipping::record::Status::ALL {
            by_state.insert(s.name(), 0);
        }
        for r in &records {
            *by_state.entry(r.status.name()).or_default() += 1;
        }
        for (state, n) in by_state {
            metrics::gauge!("tradelane_shipments", "state" => state).set(n as f64);
        }
    }
    if let Ok(open) = store.discrepancies(true) {
        metrics::gauge!("tradelane_discrepancies_open").set(open.len() as f64);
    }
    let board = sources.board.lock().unwrap_or_else(|p| p.into_inner());
    for (part, s) in board.iter() {
        if let Some(t) = s.last_success {
            metrics::gauge!("tradelane_last_success_timestamp_seconds", "part" => part.clone())
                .set(t.timestamp() as f64);
        }
        metrics::gauge!("tradelane_consecutive_failures", "part" => part.clone())
            .set(f64::from(s.consecutive_failures));
    }
}

/// Count one plugin call of `function` and its duration.
pub fn plugin_call(plugin: &str, function: &'static str, seconds: f64, ok: bool) {
    let outcome = if ok { "ok" } else { "error" };
    metrics::counter!("tradelane_plugin_calls_total",
        "plugin" => plugin.to_string(), "function" => function, "outcome" => outcome)
    .increment(1);
    metrics::histogram!("tradelane_plugin_call_duration_seconds",
        "plugin" => plugin.to_string(), "function" => function)
    .record(seconds);
}

//! The daemon's local admin socket (`data_dir/admin.sock`), so reading
//! commands work while `tradelane run` holds the store (sled allows one
//! process). One JSON request per line, one JSON response per line.

use crate::control::{Controls, PassEvent};
use crate::scheduler::StatusBoard;
use crate::settlement::SettlementStore;
use crate::settlement::queries;
use crate::settlement::records::{Discrepancy, PayoutRecord};
use crate::settlement::report::Row;
use crate::shipping::ShipmentRecord;
use crate::shipping::actions::{self, Action, ActionError};
use crate::shipping::{ShipmentStore, ShippingWorkflow};
use crate::shutdown::Shutdown;
use crate::store::{OrderFilter, QuarantineEntry, Store, StoredOrder};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

/// What a client may ask.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Request {
    ListOrders {
        filter: OrderFilter,
    },
    ShowOrder {
        id: String,
    },
    /// Orders a plugin returned that failed validation.
    Quarantined {
        seller: Option<String>,
    },
    Export,
    Status,
    /// Shipment records, optionally of one seller and in one state.
    ListShipments {
        seller: Option<String>,
        state: Option<String>,
    },
    /// The shipment record(s) of an order id or number.
    ShowShipment {
        id: String,
    },
    /// Retry, hold, release or skip an order's shipment.
    ShipmentAction {
        id: String,
        action: Action,
        note: Option<String>,
    },
    /// Stored payouts, optionally of one seller.
    ListPayouts {
        seller: Option<String>,
    },
    /// A payout with its lines.
    ShowPayout {
        id: String,
    },
    /// Settlement discrepancies.
    Discrepancies {
        open_only: bool,
    },
    /// Close a discrepancy with a note.
    Resolve {
        id: String,
        note: String,
    },
    /// The settlement report for `[from, to)`.
    Report {
        seller: Option<String>,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
        /// Each seller's book currency (`[sellers.settlement] currency`).
        #[serde(default)]
        books: std::collections::BTreeMap<String, crate::model::Currency>,
    },
    /// Re-read the config and apply it (as SIGHUP does).
    Reload,
    /// Pause or resume channels (`seller/channel` or a channel id).
    Pause {
        channel: String,
        paused: bool,
    },
    /// A pass now on the named channels (all for `None`), its pages and
    /// outcome streamed back as [`Reply::Pass`] lines, then
    /// [`Reply::Synced`].
    SyncNow {
        channel: Option<String>,
    },
}

/// The answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Reply {
    Orders {
        orders: Vec<StoredOrder>,
    },
    Quarantined {
        entries: Vec<QuarantineEntry>,
    },
    Shipments {
        shipments: Vec<ShipmentRecord>,
    },
    Payouts {
        payouts: Vec<PayoutRecord>,
    },
    Discrepancies {
        discrepancies: Vec<Discrepancy>,
    },
    Report {
        rows: Vec<Row>,
    },
    Status {
        channels: serde_json::Value,
        orders: usize,
        store_bytes: u64,
        /// Orders in quarantine.
        #[serde(default)]
        quarantined: usize,
    },
    /// Channels paused or resumed: each label, and whether it changed.
    Paused {
        paused: bool,
        channels: Vec<(String, bool)>,
    },
    /// An event of a pass asked for with [`Request::SyncNow`].
    Pass {
        channel: String,
        event: PassEvent,
    },
    /// Every pass asked for ended; `failed` of them failed.
    Synced {
        failed: usize,
    },
    /// The outcome of a reload: applied, or rolled back and why.
    Reloaded {
        applied: bool,
        message: String,
    },
    Error {
        message: String,
    },
}

/// The shipping workflows the admin socket acts through; swapped on reload.
pub type SharedShipping = Arc<std::sync::RwLock<Vec<Arc<ShippingWorkflow>>>>;

/// A reload asked for over the socket, with where to send its outcome.
pub type ReloadAsk = tokio::sync::oneshot::Sender<(bool, String)>;

/// What one admin connection may send in all.
pub const MAX_REQUEST_BYTES: u64 = 1 << 20;
/// How long the daemon waits for a request line.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The socket path for a data directory.
pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join("admin.sock")
}

/// Serve requests until `shutdown`.
pub async fn serve(
    path: PathBuf,
    store: Store,
    board: StatusBoard,
    shipping: SharedShipping,
    controls: Controls,
    reload: tokio::sync::mpsc::Sender<ReloadAsk>,
    mut shutdown: Shutdown,
) -> anyhow::Result<()> {
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path)
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
    }
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let (store, board, shipping, reload) =
                    (store.clone(), board.clone(), shipping.clone(), reload.clone());
                let controls = controls.clone();
                tokio::spawn(async move {
                    if let Err(e) = handle(stream, store, board, shipping, controls, reload).await {
                        tracing::debug!("admin connection: {e}");
                    }
                });
            }
            _ = shutdown.requested() => break,
        }
    }
    let _ = std::fs::remove_file(&path);
    Ok(())
}

async fn handle(
    stream: UnixStream,
    store: Store,
    board: StatusBoard,
    shipping: SharedShipping,
    controls: Controls,
    reload: tokio::sync::mpsc::Sender<ReloadAsk>,
) -> anyhow::Result<()> {
    let (read, mut write) = stream.into_split();
    // A connection may send at most MAX_REQUEST_BYTES in all (the CLI
    // sends one small request): a line without end costs nothing more.
    let mut lines = BufReader::new(read.take(MAX_REQUEST_BYTES)).lines();
    loop {
        let line = match tokio::time::timeout(REQUEST_TIMEOUT, lines.next_line()).await {
            Ok(Ok(Some(line))) => line,
            Ok(Ok(None)) | Err(_) => break,
            Ok(Err(e)) => {
                let reply = Reply::Error {
                    message: format!("bad request: {e}"),
                };
                send(&mut write, &reply).await?;
                break;
            }
        };
        let reply = match serde_json::from_str::<Request>(&line) {
            Ok(Request::SyncNow { channel }) => {
                sync_now(&controls, channel.as_deref(), &mut write).await?;
                continue;
            }
            Ok(Request::Pause { channel, paused }) => match controls.find(Some(&channel)) {
                Err(message) => Reply::Error { message },
                Ok(found) => Reply::Paused {
                    paused,
                    channels: found
                        .iter()
                        .map(|c| {
                            let changed = c.set_paused(paused);
                            if !paused {
                                // Resuming tries at once, a stopped channel too.
                                let _ = c.ask_pass();
                            }
                            tracing::info!(channel = %c.label(), "channel {} by `tradelane channel`", if paused { "paused" } else { "resumed" });
                            (c.label().to_string(), changed)
                        })
                        .collect(),
                },
            },
            Err(e) => Reply::Error {
                message: format!("bad request: {e}"),
            },
            Ok(Request::Reload) => {
                let (tx, rx) = tokio::sync::oneshot::channel();
                match reload.send(tx).await {
                    Err(_) => Reply::Error {
                        message: "the daemon is stopping".into(),
                    },
                    Ok(()) => match rx.await {
                        Ok((applied, message)) => Reply::Reloaded { applied, message },
                        Err(_) => Reply::Error {
                            message: "the daemon stopped before the reload ended".into(),
                        },
                    },
                }
            }
            Ok(req) => {
                let (store, board) = (store.clone(), board.clone());
                let shipping = shipping.read().unwrap_or_else(|p| p.into_inner()).clone();
                tokio::task::spawn_blocking(move || answer(req, &store, &board, &shipping)).await?
            }
        };
        send(&mut write, &reply).await?;
    }
    Ok(())
}

fn answer(
    req: Request,
    store: &Store,
    board: &StatusBoard,
    shipping: &[Arc<ShippingWorkflow>],
) -> Reply {
    let result = match req {
        Request::ListPayouts { seller } => store
            .payouts(seller.as_deref())
            .map(|payouts| Reply::Payouts { payouts }),
        Request::ShowPayout { id } => {
            queries::find_payout(store, &id).map(|payouts| Reply::Payouts { payouts })
        }
        Request::Discrepancies { open_only } => store
            .discrepancies(open_only)
            .map(|discrepancies| Reply::Discrepancies { discrepancies }),
        Request::Resolve { id, note } => match store.resolve_discrepancy(&id, &note) {
            Ok(Some(d)) => Ok(Reply::Discrepancies {
                discrepancies: vec![d],
            }),
            Ok(None) => Ok(Reply::Error {
                message: format!(
                    "no discrepancy `{id}` (see `tradelane settlement discrepancies`)"
                ),
            }),
            Err(e) => Err(e),
        },
        Request::Report {
            seller,
            from,
            to,
            books,
        } => queries::report(store, seller.as_deref(), (from, to), &books)
            .map(|rows| Reply::Report { rows }),
        Request::ListShipments { seller, state } => {
            actions::list(store, seller.as_deref(), state.as_deref())
                .map(|shipments| Reply::Shipments { shipments })
        }
        Request::ShowShipment { id } => store
            .find_shipments(&id)
            .map(|shipments| Reply::Shipments { shipments }),
        Request::ShipmentAction { id, action, note } => {
            return match act(store, shipping, &id, action, note.as_deref()) {
                Ok(record) => Reply::Shipments {
                    shipments: vec![record],
                },
                Err(e) => Reply::Error {
                    message: e.to_string(),
                },
            };
        }
        Request::ListOrders { filter } => store
            .list_orders(&filter)
            .map(|orders| Reply::Orders { orders }),
        Request::ShowOrder { id } => store.find_order(&id).map(|orders| Reply::Orders { orders }),
        Request::Quarantined { seller } => store
            .quarantined(seller.as_deref())
            .map(|entries| Reply::Quarantined { entries }),
        Request::Export => store
            .list_orders(&OrderFilter::default())
            .map(|orders| Reply::Orders { orders }),
        Request::Status => {
            let mut parts = board.lock().unwrap_or_else(|p| p.into_inner()).clone();
            let stored = store.orders_per_channel();
            for (label, s) in parts.iter_mut() {
                if let Some(n) = stored.get(label) {
                    s.orders_stored = Some(*n);
                }
            }
            let channels = serde_json::to_value(&parts).unwrap_or_default();
            Ok(Reply::Status {
                channels,
                orders: store.order_count(),
                store_bytes: store.size_on_disk(),
                quarantined: store.quarantine_count(),
            })
        }
        Request::Reload | Request::Pause { .. } | Request::SyncNow { .. } => Ok(Reply::Error {
            message: "handled by the daemon's connection loop, not here".into(),
        }),
    };
    result.unwrap_or_else(|e| Reply::Error {
        message: e.to_string(),
    })
}

/// Ask the named channels for a pass now and stream its pages and
/// outcome to `write`, then [`Reply::Synced`].
async fn sync_now(
    controls: &Controls,
    channel: Option<&str>,
    write: &mut (impl AsyncWriteExt + Unpin),
) -> anyhow::Result<()> {
    let targets = match controls.find(channel) {
        Ok(t) => t,
        Err(message) => return send(write, &Reply::Error { message }).await,
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Reply>(64);
    for control in targets {
        let (want, mut events) = control.ask_pass();
        let (tx, label) = (tx.clone(), control.label().to_string());
        tokio::spawn(async move {
            use tokio::sync::broadcast::error::RecvError;
            loop {
                let event = match events.recv().await {
                    // Pages and the end of a pass that started before the ask are not ours.
                    Ok(PassEvent::Page { serves, .. } | PassEvent::Done { serves, .. })
                        if serves < want =>
                    {
                        continue;
                    }
                    Ok(event) => event,
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => PassEvent::Done {
                        serves: want,
                        result: Err("the channel was stopped (reload or shutdown) before its pass ended; run it again".into()),
                    },
                };
                let done = matches!(event, PassEvent::Done { .. });
                let reply = Reply::Pass {
                    channel: label.clone(),
                    event,
                };
                if tx.send(reply).await.is_err() || done {
                    return;
                }
            }
        });
    }
    drop(tx);
    let mut failed = 0;
    while let Some(reply) = rx.recv().await {
        if matches!(
            reply,
            Reply::Pass {
                event: PassEvent::Done { result: Err(_), .. },
                ..
            }
        ) {
            failed += 1;
        }
        send(write, &reply).await?;
    }
    send(write, &Reply::Synced { failed }).await
}

async fn send(write: &mut (impl AsyncWriteExt + Unpin), reply: &Reply) -> anyhow::Result<()> {
    let mut bytes = serde_json::to_vec(reply)?;
    bytes.push(b'\n');
    write.write_all(&bytes).await?;
    Ok(())
}

/// An action under the order's single-flight slot, then wake the workflow.
fn act(
    store: &Store,
    shipping: &[Arc<ShippingWorkflow>],
    id: &str,
    action: Action,
    note: Option<&str>,
) -> Result<ShipmentRecord, ActionError> {
    let (seller, channel, order, number) = actions::locate(store, id)?;
    let runtime = shipping.iter().find(|r| r.seller == seller);
    let _flight = match runtime {
        Some(r) => Some(
            r.try_flight(&channel, &order)
                .ok_or_else(|| ActionError::Busy(number.clone()))?,
        ),
        None => None,
    };
    let record = actions::apply(store, (&seller, &channel, &order, &number), action, note)?;
    if let Some(r) = runtime {
        r.wake.notify_one();
    }
    Ok(record)
}

/// Ask a running daemon for a stream of replies, each handed to
/// `on_reply` until it returns `false`; `None` when no daemon listens.
pub async fn ask_stream(
    path: &Path,
    request: &Request,
    mut on_reply: impl FnMut(Reply) -> bool,
) -> Option<anyhow::Result<()>> {
    let stream = UnixStream::connect(path).await.ok()?;
    Some(
        async move {
            let (read, mut write) = stream.into_split();
            let mut bytes = serde_json::to_vec(request)?;
            bytes.push(b'\n');
            write.write_all(&bytes).await?;
            write.shutdown().await?;
            let mut lines = BufReader::new(read).lines();
            while let Some(line) = lines.next_line().await? {
                if !on_reply(serde_json::from_str(&line)?) {
                    return Ok(());
                }
            }
            anyhow::bail!("the daemon closed the admin socket before answering")
        }
        .await,
    )
}

/// Ask a running daemon; `None` when no daemon listens there.
pub async fn ask(path: &Path, request: &Request) -> Option<anyhow::Result<Reply>> {
    let mut first = None;
    let asked = ask_stream(path, request, |reply| {
        first = Some(reply);
        false
    })
    .await?;
    Some(
        asked.and_then(|()| {
            first.ok_or_else(|| anyhow::anyhow!("the daemon closed the admin socket"))
        }),
    )
}

//! The daemon's local admin socket (`data_dir/admin.sock`), so reading
//! commands work while `tradelane run` holds the store (sled allows one
//! process). One JSON request per line, one JSON response per line.

use crate::scheduler::StatusBoard;
use crate::store::{OrderFilter, Store, StoredOrder};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::watch;

/// What a client may ask.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Request {
    ListOrders { filter: OrderFilter },
    ShowOrder { id: String },
    Export,
    Status,
}

/// The answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Reply {
    Orders {
        orders: Vec<StoredOrder>,
    },
    Status {
        channels: serde_json::Value,
        orders: usize,
        store_bytes: u64,
    },
    Error {
        message: String,
    },
}

/// The socket path for a data directory.
pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join("admin.sock")
}

/// Serve requests until `shutdown`.
pub async fn serve(
    path: PathBuf,
    store: Store,
    board: StatusBoard,
    mut shutdown: watch::Receiver<bool>,
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
                let (store, board) = (store.clone(), board.clone());
                tokio::spawn(async move {
                    if let Err(e) = handle(stream, store, board).await {
                        tracing::debug!("admin connection: {e}");
                    }
                });
            }
            _ = shutdown.wait_for(|s| *s) => break,
        }
    }
    let _ = std::fs::remove_file(&path);
    Ok(())
}

async fn handle(stream: UnixStream, store: Store, board: StatusBoard) -> anyhow::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    while let Some(line) = lines.next_line().await? {
        let reply = match serde_json::from_str::<Request>(&line) {
            Err(e) => Reply::Error {
                message: format!("bad request: {e}"),
            },
            Ok(req) => {
                let (store, board) = (store.clone(), board.clone());
                tokio::task::spawn_blocking(move || answer(req, &store, &board)).await?
            }
        };
        let mut bytes = serde_json::to_vec(&reply)?;
        bytes.push(b'\n');
        write.write_all(&bytes).await?;
    }
    Ok(())
}

fn answer(req: Request, store: &Store, board: &StatusBoard) -> Reply {
    let result = match req {
        Request::ListOrders { filter } => store
            .list_orders(&filter)
            .map(|orders| Reply::Orders { orders }),
        Request::ShowOrder { id } => store.find_order(&id).map(|orders| Reply::Orders { orders }),
        Request::Export => store
            .list_orders(&OrderFilter::default())
            .map(|orders| Reply::Orders { orders }),
        Request::Status => {
            let channels = serde_json::to_value(&*board.lock().unwrap_or_else(|p| p.into_inner()))
                .unwrap_or_default();
            Ok(Reply::Status {
                channels,
                orders: store.order_count(),
                store_bytes: store.size_on_disk(),
            })
        }
    };
    result.unwrap_or_else(|e| Reply::Error {
        message: e.to_string(),
    })
}

/// Ask a running daemon; `None` when no daemon listens there.
pub async fn ask(path: &Path, request: &Request) -> Option<anyhow::Result<Reply>> {
    let stream = UnixStream::connect(path).await.ok()?;
    Some(
        async move {
            let (read, mut write) = stream.into_split();
            let mut bytes = serde_json::to_vec(request)?;
            bytes.push(b'\n');
            write.write_all(&bytes).await?;
            write.shutdown().await?;
            let mut lines = BufReader::new(read).lines();
            let line = lines
                .next_line()
                .await?
                .ok_or_else(|| anyhow::anyhow!("the daemon closed the admin socket"))?;
            Ok(serde_json::from_str(&line)?)
        }
        .await,
    )
}

//! Recording and replaying HTTP exchanges, for `tradelane plugin call`:
//! capture a real API once (`--record DIR`), then iterate offline
//! (`--replay DIR`). One JSON file per exchange, numbered in order:
//!
//! ```json
//! {"request": {"method": "GET", "url": "https://…", "headers": {…}},
//!  "response": {"status": 200, "headers": {…}, "body": "…"}}
//! ```
//!
//! What is written is what the plugin built and what it saw: secrets stay
//! `{{secret:…}}` placeholders in the request (the host fills them in only
//! as the request leaves) and any echo of them was taken out of the
//! response before the plugin got it. The same layout is what the plugin
//! SDK's `testkit::replay` serves to native tests.

use super::{ChannelEgress, Egress, EgressError, Method, Request, Response};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::Mutex;

fn method(m: Method) -> &'static str {
    match m {
        Method::Get => "GET",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Patch => "PATCH",
        Method::Delete => "DELETE",
        Method::Head => "HEAD",
    }
}

fn headers(list: &[(String, String)]) -> serde_json::Value {
    list.iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), serde_json::Value::String(v.clone())))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// Sends through `inner` and writes each exchange to `dir`.
pub struct RecordingEgress {
    inner: Arc<dyn Egress>,
    dir: PathBuf,
    next: Mutex<u32>,
}

impl RecordingEgress {
    /// Record into `dir` (created if missing).
    pub fn new(inner: Arc<dyn Egress>, dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(RecordingEgress {
            inner,
            dir: dir.to_path_buf(),
            next: Mutex::new(1),
        })
    }

    fn write(&self, request: &Request, response: &Response) -> std::io::Result<()> {
        let n = {
            let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
            let n = *next;
            *next += 1;
            n
        };
        let exchange = serde_json::json!({
            "request": {
                "method": method(request.method),
                "url": request.url,
                "headers": headers(&request.headers),
            },
            "response": {
                "status": response.status,
                "headers": headers(&response.headers),
                "body": String::from_utf8_lossy(&response.body),
            },
        });
        let text = serde_json::to_string_pretty(&exchange).unwrap_or_default();
        std::fs::write(self.dir.join(format!("{n:04}.json")), text)
    }
}

impl Egress for RecordingEgress {
    fn send<'a>(
        &'a self,
        channel: &'a ChannelEgress,
        request: Request,
    ) -> Pin<Box<dyn Future<Output = Result<Response, EgressError>> + Send + 'a>> {
        Box::pin(async move {
            let kept = request.clone();
            let response = self.inner.send(channel, request).await?;
            self.write(&kept, &response).map_err(|e| {
                EgressError::InvalidRequest(format!(
                    "cannot record the exchange in {}: {e}",
                    self.dir.display()
                ))
            })?;
            Ok(response)
        })
    }
}

/// Answers from the exchanges in a directory; sends nothing.
pub struct ReplayEgress {
    /// `(method, url, response)`; a response is served once.
    exchanges: Mutex<Vec<(String, String, Option<Response>)>>,
}

impl ReplayEgress {
    /// The exchanges recorded in `dir`, in file-name order.
    pub fn new(dir: &Path) -> Result<Self, String> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        let mut exchanges = Vec::new();
        for path in files {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let v: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| format!("{}: not an exchange: {e}", path.display()))?;
            let r = &v["response"];
            let response = Response {
                status: r["status"].as_u64().unwrap_or(200) as u16,
                headers: r["headers"]
                    .as_object()
                    .map(|h| {
                        h.iter()
                            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                            .collect()
                    })
                    .unwrap_or_default(),
                body: r["body"].as_str().unwrap_or_default().as_bytes().to_vec(),
            };
            exchanges.push((
                v["request"]["method"].as_str().unwrap_or("GET").to_string(),
                v["request"]["url"].as_str().unwrap_or_default().to_string(),
                Some(response),
            ));
        }
        if exchanges.is_empty() {
            return Err(format!(
                "no recorded exchange (*.json) in {}",
                dir.display()
            ));
        }
        Ok(ReplayEgress {
            exchanges: Mutex::new(exchanges),
        })
    }
}

impl Egress for ReplayEgress {
    fn send<'a>(
        &'a self,
        _channel: &'a ChannelEgress,
        request: Request,
    ) -> Pin<Box<dyn Future<Output = Result<Response, EgressError>> + Send + 'a>> {
        Box::pin(async move {
            let m = method(request.method);
            let mut all = self.exchanges.lock().unwrap_or_else(|p| p.into_inner());
            all.iter_mut()
                .find(|(method, url, r)| r.is_some() && method == m && *url == request.url)
                .and_then(|(_, _, r)| r.take())
                .ok_or_else(|| {
                    EgressError::Connect(format!(
                        "replay: no recorded exchange for {m} {} (record it with --record)",
                        request.url
                    ))
                })
        })
    }
}

//! Fetching the ECB rates on schedule, through the same egress as every
//! plugin request (the URL's host only, HTTPS, retries, size cap, timeouts),
//! into the store and the [`RatesBook`].

use super::{RatesBook, ecb, store};
use crate::config::rates::RatesConfig;
use crate::egress::{ChannelEgress, Egress, HostPattern, HostPolicy, Method, Request, RetryPolicy};
use crate::schedule::Schedule;
use crate::shutdown::Shutdown;
use crate::store::Store;
use crate::workflow::{PassFuture, PassSummary, Workflow};
use std::sync::Arc;
use tokio::sync::Notify;

/// The largest rate document accepted (the full ECB history is ~6 MB).
pub const MAX_DOCUMENT_BYTES: u64 = 8 << 20;

/// The rates refresh, as the scheduler runs it.
pub struct RatesRefresh {
    url: String,
    egress: ChannelEgress,
    http: Arc<dyn Egress>,
    book: Arc<RatesBook>,
    schedule: Schedule,
    wake: Notify,
}

impl RatesRefresh {
    /// A refresh of `config`'s document into `book`, sent through `http`.
    pub fn new(
        config: &RatesConfig,
        http: Arc<dyn Egress>,
        book: Arc<RatesBook>,
    ) -> Result<Self, String> {
        let url = config.ecb_url.get_ref().clone();
        let host = reqwest::Url::parse(&url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .ok_or_else(|| format!("[rates] ecb_url `{url}` has no host"))?;
        let policy = HostPolicy {
            declared: vec![HostPattern::parse(host.trim_matches(['[', ']']))?],
            narrowed: None,
            extra: Vec::new(),
            allow_loopback: config.allow_loopback,
            allow_private: false,
            follow_redirects: false,
            secrets_in_query: false,
            config_location: "[rates]".into(),
        };
        Ok(RatesRefresh {
            url,
            egress: ChannelEgress {
                label: "rates/ecb".into(),
                policy,
                secrets: Default::default(),
                bucket: None,
                operations: Default::default(),
                retry: RetryPolicy::default(),
                oauth: None,
            },
            http,
            book,
            schedule: config.schedule.clone(),
            wake: Notify::new(),
        })
    }

    /// Fetch, parse, store and hold the rates: how many days were new.
    pub async fn refresh(&self, store: &Store) -> Result<usize, String> {
        let days = self.fetch().await?;
        store::save(store, &days).map_err(|e| format!("cannot store the ECB rates: {e}"))?;
        Ok(self.book.insert(days))
    }

    /// Fetch and parse the rates, storing nothing (`check --online`).
    pub async fn fetch(&self) -> Result<Vec<(chrono::NaiveDate, ecb::DayRates)>, String> {
        let request = Request::new(
            Method::Get,
            self.url.clone(),
            vec![("accept".into(), "application/xml".into())],
            None,
        );
        let response = self
            .http
            .send(&self.egress, request)
            .await
            .map_err(|e| format!("ECB rates from {}: {e}", self.url))?;
        if response.status != 200 {
            let first = String::from_utf8_lossy(&response.body);
            let first = first
                .lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(200)
                .collect::<String>();
            return Err(format!(
                "ECB rates from {}: HTTP {}: {first}",
                self.url, response.status
            ));
        }
        if response.body.len() as u64 > MAX_DOCUMENT_BYTES {
            return Err(format!(
                "ECB rates from {}: larger than {MAX_DOCUMENT_BYTES} bytes",
                self.url
            ));
        }
        ecb::parse(&response.body).map_err(|e| format!("ECB rates from {}: {e}", self.url))
    }

    /// Why this month's customs rates are not the ones in force, if so.
    pub fn stale(&self) -> Option<String> {
        let today = chrono::Utc::now().date_naive();
        match self.book.customs(today) {
            Some(c) => c.stale,
            None => Some(format!(
                "no ECB rate is held for the customs rate of {}",
                today.format("%B %Y")
            )),
        }
    }
}

impl Workflow for RatesRefresh {
    fn name(&self) -> &'static str {
        "rates"
    }

    fn seller(&self) -> &str {
        "daemon"
    }

    fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    fn wake(&self) -> &Notify {
        &self.wake
    }

    fn run<'a>(&'a self, store: &'a Store, _shutdown: &'a Shutdown) -> PassFuture<'a> {
        Box::pin(async move {
            let new = self.refresh(store).await?;
            if new > 0 {
                tracing::info!(days = new, latest = ?self.book.latest(), "ECB rates fetched");
            }
            let warning = self.stale();
            if let Some(w) = &warning {
                tracing::warn!("{w}");
            }
            Ok(PassSummary {
                done: new as u64,
                warning,
            })
        })
    }
}

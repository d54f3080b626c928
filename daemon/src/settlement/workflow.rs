//! A seller's settlement pass: read every payment account's payouts and
//! their lines incrementally, then reconcile them against the orders.
//!
//! ## Exactly once
//! A payout, all its lines and the account's cursor commit in one
//! transaction, so a crash leaves a payout either complete or absent.
//! The cursor's watermark (the newest payout creation time stored) moves
//! only when a pass completes; a pass in progress is recorded in the
//! cursor so the next run starts it over from the same point. Payouts are
//! keyed by their provider id: reading one again replaces it in place.
//! Payouts created within `lookback` of the watermark are read again,
//! because their status changes (pending → paid).
//!
//! ## Reconciling only when something changed
//! Reconciliation runs when the pass stored a payout, when the seller's
//! orders changed since the last reconciliation (the store's change
//! events, read from this workflow's own position), and at least every
//! [`SWEEP_EVERY`] (an order becomes `unsettled` by time passing alone).
//! A pass with nothing new reads the accounts and stops there.

use super::policy::SettlementPolicy;
use super::reconcile::{self, Outcome};
use super::records::{Discrepancy, PayoutCursor, PayoutRecord, Resolution};
use super::store::SettlementStore;
use crate::crash::{CrashPoint, maybe_crash};
use crate::host::{CallError, PluginAccount};
use crate::model::{PageQuery, Payout};
use crate::schedule::Schedule;
use crate::shutdown::Shutdown;
use crate::store::{OrderFilter, Store, StoreError};
use crate::workflow::{PassFuture, PassSummary, Workflow};
use chrono::Utc;
use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often reconciliation runs even when nothing changed.
pub const SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// Payouts asked per page.
pub const PAGE_SIZE: u32 = 100;

/// A seller's settlement workflow.
pub struct SettlementWorkflow {
    pub seller: String,
    pub policy: SettlementPolicy,
    /// Payment accounts, read in order.
    pub accounts: Vec<PluginAccount>,
    pub schedule: Schedule,
    pub crash_at: Option<CrashPoint>,
    /// One pass at a time.
    running: tokio::sync::Mutex<()>,
    /// When reconciliation last ran (none yet: the next pass reconciles).
    reconciled_at: Mutex<Option<Instant>>,
    /// Poked when a sync brought changes.
    pub wake: tokio::sync::Notify,
    /// The seller's channels whose orders these accounts settle:
    /// reconciliation waits until each has completed a first full sync.
    pub channels: Vec<String>,
}

/// What a pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SettlementReport {
    pub payouts_read: u32,
    pub payouts_stored: u32,
    pub lines_stored: u32,
    pub orders_settled: u32,
    pub discrepancies_new: u32,
    pub discrepancies_closed: u32,
    /// Accounts whose reading failed (their payouts wait for the next pass).
    pub accounts_failed: u32,
}

/// Why a pass failed.
#[derive(Debug, thiserror::Error)]
pub enum SettlementError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Call(#[from] CallError),
}

impl SettlementWorkflow {
    /// A workflow; see `assemble`.
    pub fn new(
        seller: String,
        policy: SettlementPolicy,
        accounts: Vec<PluginAccount>,
        schedule: Schedule,
    ) -> Self {
        SettlementWorkflow {
            seller,
            policy,
            accounts,
            schedule,
            crash_at: CrashPoint::from_env(),
            running: tokio::sync::Mutex::new(()),
            reconciled_at: Mutex::new(None),
            wake: tokio::sync::Notify::new(),
            channels: Vec::new(),
        }
    }

    /// Reconcile only once every one of `channels` completed a first sync.
    pub fn waiting_for(mut self, channels: Vec<String>) -> Self {
        self.channels = channels;
        self
    }

    /// The channels that have not completed a first full sync yet.
    fn not_synced_yet(&self, store: &Store) -> Result<Vec<&str>, StoreError> {
        let mut out = Vec::new();
        for c in &self.channels {
            if store
                .cursor(&self.seller, c, crate::sync::ORDERS)?
                .last_completed
                .is_none()
            {
                out.push(c.as_str());
            }
        }
        Ok(out)
    }

    /// Read every account, then reconcile if anything changed.
    pub async fn run_pass(&self, store: &Store) -> Result<SettlementReport, SettlementError> {
        self.run_pass_until(store, &Shutdown::never()).await
    }

    /// [`run_pass`](Self::run_pass), stopping between payouts once `shutdown` is requested.
    pub async fn run_pass_until(
        &self,
        store: &Store,
        shutdown: &Shutdown,
    ) -> Result<SettlementReport, SettlementError> {
        let _one = self.running.lock().await;
        let mut report = SettlementReport::default();
        let mut first_error = None;
        for account in &self.accounts {
            if let Err(e) = self
                .read_account(store, account, shutdown, &mut report)
                .await
            {
                report.accounts_failed += 1;
                tracing::warn!(seller = %self.seller, account = %account.id(), "payouts not read: {e}");
                first_error.get_or_insert(e);
            }
            if shutdown.is_requested() {
                return Ok(report);
            }
        }
        let waiting = self.not_synced_yet(store)?;
        if !waiting.is_empty() {
            // Against a half-synced store every payout line would look like
            // money without an order: wait for the first full syncs.
            tracing::info!(seller = %self.seller, channels = %waiting.join(", "),
                "payouts read; reconciliation waits for these channels' first full sync");
            return match first_error {
                Some(e) if report.accounts_failed as usize == self.accounts.len() => Err(e),
                _ => Ok(report),
            };
        }
        let tail = store.event_tail()?;
        if report.payouts_stored > 0 || self.reconcile_due() || self.orders_changed(store, tail)? {
            self.reconcile(store, &mut report)?;
            store.set_event_position(&self.consumer(), tail)?;
            *self.reconciled_at.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
        }
        match first_error {
            Some(e) if report.accounts_failed as usize == self.accounts.len() => Err(e),
            _ => Ok(report),
        }
    }

    /// The name of this workflow's position in the store's events.
    fn consumer(&self) -> String {
        format!("settlement:{}", self.seller)
    }

    /// Whether reconciliation is due by time alone.
    fn reconcile_due(&self) -> bool {
        self.reconciled_at
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_none_or(|t| t.elapsed() >= SWEEP_EVERY)
    }

    /// Whether any order of the seller changed between this workflow's
    /// event position and `tail` (exclusive).
    fn orders_changed(&self, store: &Store, tail: u64) -> Result<bool, StoreError> {
        let Some(mut position) = store.event_position(&self.consumer())? else {
            return Ok(true);
        };
        while position < tail {
            let batch = store.events_from(position)?;
            if batch
                .iter()
                .any(|(id, e)| *id < tail && e.seller == self.seller)
            {
                return Ok(true);
            }
            match batch.last() {
                Some((last, _)) => position = last.saturating_add(1),
                None => break,
            }
        }
        Ok(false)
    }

    async fn read_account(
        &self,
        store: &Store,
        account: &PluginAccount,
        shutdown: &Shutdown,
        report: &mut SettlementReport,
    ) -> Result<(), SettlementError> {
        let mut cursor = store.payout_cursor(&self.seller, account.id())?;
        let since = cursor.pass_since.or_else(|| {
            cursor
                .watermark
                .and_then(|w| w.checked_sub_signed(self.policy.lookback))
        });
        // Durations are bounded at load (10 years), so this cannot fail;
        // the epoch is the safe answer if it ever did.
        let since = since.unwrap_or_else(|| {
            Utc::now()
                .checked_sub_signed(self.policy.history)
                .unwrap_or_default()
        });
        cursor.pass_since = Some(since);
        let mut newest = cursor.watermark;
        let mut token: Option<String> = None;
        loop {
            let page = account
                .fetch_payouts(&PageQuery {
                    created_after: Some(since),
                    page_token: token.clone(),
                    page_size: PAGE_SIZE,
                })
                .await?;
            for payout in page.payouts {
                report.payouts_read += 1;
                if payout.amount.currency != self.policy.currency {
                    tracing::debug!(seller = %self.seller, account = %account.id(), payout = %payout.external_id,
                        "payout in {}, not the settlement currency {}", payout.amount.currency, self.policy.currency);
                }
                newest = newest.max(Some(payout.created_at));
                let existing = store.payout(&self.seller, account.id(), &payout.external_id)?;
                let lines = match existing {
                    Some(r) if r.payout == payout => continue,
                    // The lines of a payout do not change; its status does.
                    Some(r) => r.lines,
                    None => self.lines(account, &payout).await?,
                };
                let n = lines.len() as u32;
                let record = PayoutRecord {
                    seller: self.seller.clone(),
                    account: account.id().to_string(),
                    payout,
                    lines,
                };
                if store.commit_payout(&record, &cursor)? {
                    report.payouts_stored += 1;
                    report.lines_stored += n;
                }
                maybe_crash(self.crash_at, CrashPoint::AfterPayout);
                if shutdown.is_requested() {
                    return Ok(());
                }
            }
            match page.next_page {
                Some(next) => token = Some(next),
                None => break,
            }
        }
        // Pass complete: the watermark moves, the pass marker goes.
        let done = PayoutCursor {
            watermark: newest,
            pass_since: None,
        };
        store.put_payout_cursor(&self.seller, account.id(), &done)?;
        Ok(())
    }

    /// Every line of a payout, all pages.
    async fn lines(
        &self,
        account: &PluginAccount,
        payout: &Payout,
    ) -> Result<Vec<crate::model::PayoutLine>, SettlementError> {
        let mut lines = Vec::new();
        let mut seen = HashSet::new();
        let mut token: Option<String> = None;
        loop {
            let page = account.fetch_payout_lines(payout, token.as_deref()).await?;
            for line in page.lines {
                if seen.insert(line.external_id.clone()) {
                    lines.push(line);
                }
            }
            match page.next_page {
                Some(next) => token = Some(next),
                None => return Ok(lines),
            }
        }
    }

    /// Reconcile the stored payouts with the orders and store the result,
    /// writing only what changed.
    pub fn reconcile(
        &self,
        store: &Store,
        report: &mut SettlementReport,
    ) -> Result<Outcome, StoreError> {
        let now = Utc::now();
        let payouts = store.payouts(Some(&self.seller))?;
        let orders = store.list_orders(&OrderFilter {
            seller: Some(self.seller.clone()),
            ..OrderFilter::default()
        })?;
        let outcome = reconcile::reconcile(&self.seller, &self.policy, &payouts, &orders, now);
        for s in &outcome.settlements {
            if store.put_settlement(s)? {
                report.orders_settled += 1;
            }
        }
        let current: HashSet<&str> = outcome
            .discrepancies
            .iter()
            .map(|d| d.id.as_str())
            .collect();
        for d in &outcome.discrepancies {
            let merged = match store.discrepancy(&d.id)? {
                None => {
                    report.discrepancies_new += 1;
                    tracing::warn!(seller = %self.seller, id = %d.id, "settlement discrepancy: {}", d.detail);
                    crate::notify::tell(
                        crate::notify::EventKind::DiscrepancyOpened,
                        &self.seller,
                        "settlement",
                        format!(
                            "{}: {} (`tradelane settlement discrepancies`)",
                            d.id, d.detail
                        ),
                    );
                    d.clone()
                }
                Some(old) => Discrepancy {
                    detected_at: old.detected_at,
                    // A hand resolution stands; an automatic one reopens if it holds again.
                    resolved: old.resolved.filter(|r| !r.automatic),
                    ..d.clone()
                },
            };
            store.put_discrepancy(&merged)?;
        }
        for mut old in store.discrepancies(true)? {
            if old.seller == self.seller && !current.contains(old.id.as_str()) {
                old.resolved = Some(Resolution {
                    at: now,
                    note: "no longer holds: closed by reconciliation".into(),
                    automatic: true,
                });
                store.put_discrepancy(&old)?;
                report.discrepancies_closed += 1;
            }
        }
        store.flush_blocking()?;
        Ok(outcome)
    }
}

impl Workflow for SettlementWorkflow {
    fn name(&self) -> &'static str {
        "settlement"
    }

    fn seller(&self) -> &str {
        &self.seller
    }

    fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    fn wake(&self) -> &tokio::sync::Notify {
        &self.wake
    }

    fn run<'a>(&'a self, store: &'a Store, shutdown: &'a Shutdown) -> PassFuture<'a> {
        Box::pin(async move {
            let r = self
                .run_pass_until(store, shutdown)
                .await
                .map_err(|e| e.to_string())?;
            if r.payouts_stored + r.discrepancies_new + r.discrepancies_closed > 0 {
                tracing::info!(seller = %self.seller, payouts = r.payouts_stored, lines = r.lines_stored,
                    orders_settled = r.orders_settled, new_discrepancies = r.discrepancies_new,
                    closed_discrepancies = r.discrepancies_closed, "settlement pass complete");
            }
            Ok(PassSummary {
                done: u64::from(r.orders_settled),
                warning: (r.accounts_failed > 0)
                    .then(|| format!("{} account(s) failed; see the log", r.accounts_failed)),
            })
        })
    }
}

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

use super::policy::SettlementPolicy;
use super::reconcile::{self, Outcome};
use super::records::{Discrepancy, PayoutCursor, PayoutRecord, Resolution};
use crate::crash::{CrashPoint, maybe_crash};
use crate::egress::Egress;
use crate::host::CallError;
use crate::model::{PageQuery, Payout};
use crate::schedule::Schedule;
use crate::store::{OrderFilter, Store, StoreError};
use chrono::Utc;
use std::collections::HashSet;
use std::sync::Arc;
use tokio::sync::watch;

/// Payouts asked per page.
pub const PAGE_SIZE: u32 = 100;

/// A configured payment account.
pub type PaymentAccount = crate::runtime::Account;

/// A seller's settlement workflow.
pub struct SettlementRuntime {
    pub seller: String,
    pub policy: SettlementPolicy,
    pub accounts: Vec<PaymentAccount>,
    pub schedule: Schedule,
    pub crash_at: Option<CrashPoint>,
    /// One pass at a time.
    running: tokio::sync::Mutex<()>,
    /// Poked when a sync brought changes.
    pub wake: Arc<tokio::sync::Notify>,
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

impl SettlementRuntime {
    /// A runtime; see `runtime::build_settlement`.
    pub fn new(
        seller: String,
        policy: SettlementPolicy,
        accounts: Vec<PaymentAccount>,
        schedule: Schedule,
    ) -> Self {
        SettlementRuntime {
            seller,
            policy,
            accounts,
            schedule,
            crash_at: CrashPoint::from_env(),
            running: tokio::sync::Mutex::new(()),
            wake: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// Read every account, then reconcile.
    pub async fn run_pass(
        &self,
        store: &Store,
        egress: Arc<dyn Egress>,
    ) -> Result<SettlementReport, SettlementError> {
        let (_keep, never) = watch::channel(false);
        self.run_pass_until(store, egress, &never).await
    }

    /// [`run_pass`](Self::run_pass), stopping between payouts once `shutdown` is true.
    pub async fn run_pass_until(
        &self,
        store: &Store,
        egress: Arc<dyn Egress>,
        shutdown: &watch::Receiver<bool>,
    ) -> Result<SettlementReport, SettlementError> {
        let _one = self.running.lock().await;
        let mut report = SettlementReport::default();
        let mut first_error = None;
        for account in &self.accounts {
            if let Err(e) = self
                .read_account(store, egress.clone(), account, shutdown, &mut report)
                .await
            {
                report.accounts_failed += 1;
                tracing::warn!(seller = %self.seller, account = %account.id, "payouts not read: {e}");
                first_error.get_or_insert(e);
            }
            if *shutdown.borrow() {
                return Ok(report);
            }
        }
        self.reconcile(store, &mut report)?;
        match first_error {
            Some(e) if report.accounts_failed as usize == self.accounts.len() => Err(e),
            _ => Ok(report),
        }
    }

    async fn read_account(
        &self,
        store: &Store,
        egress: Arc<dyn Egress>,
        account: &PaymentAccount,
        shutdown: &watch::Receiver<bool>,
        report: &mut SettlementReport,
    ) -> Result<(), SettlementError> {
        let mut cursor = store.payout_cursor(&self.seller, &account.id)?;
        let since = cursor
            .pass_since
            .or_else(|| cursor.watermark.map(|w| w - self.policy.lookback));
        let since = since.unwrap_or_else(|| Utc::now() - self.policy.history);
        cursor.pass_since = Some(since);
        let mut newest = cursor.watermark;
        let mut token: Option<String> = None;
        loop {
            let page = account
                .plugin
                .fetch_payouts(
                    account.services(&self.seller, egress.clone()),
                    account.limits,
                    &account.settings,
                    &PageQuery {
                        created_after: Some(since),
                        page_token: token.clone(),
                        page_size: PAGE_SIZE,
                    },
                )
                .await?;
            for payout in page.payouts {
                report.payouts_read += 1;
                if payout.amount.currency != self.policy.currency {
                    tracing::debug!(seller = %self.seller, account = %account.id, payout = %payout.external_id,
                        "payout in {}, not the settlement currency {}", payout.amount.currency, self.policy.currency);
                }
                newest = newest.max(Some(payout.created_at));
                let existing = store.payout(&self.seller, &account.id, &payout.external_id)?;
                let lines = match existing {
                    Some(r) if r.payout == payout => continue,
                    // The lines of a payout do not change; its status does.
                    Some(r) => r.lines,
                    None => self.lines(egress.clone(), account, &payout).await?,
                };
                let n = lines.len() as u32;
                let record = PayoutRecord {
                    seller: self.seller.clone(),
                    account: account.id.clone(),
                    payout,
                    lines,
                };
                if store.commit_payout(&record, &cursor)? {
                    report.payouts_stored += 1;
                    report.lines_stored += n;
                }
                maybe_crash(self.crash_at, CrashPoint::AfterPayout);
                if *shutdown.borrow() {
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
        store.put_payout_cursor(&self.seller, &account.id, &done)?;
        Ok(())
    }

    /// Every line of a payout, all pages.
    async fn lines(
        &self,
        egress: Arc<dyn Egress>,
        account: &PaymentAccount,
        payout: &Payout,
    ) -> Result<Vec<crate::model::PayoutLine>, SettlementError> {
        let mut lines = Vec::new();
        let mut seen = HashSet::new();
        let mut token: Option<String> = None;
        loop {
            let page = account
                .plugin
                .fetch_payout_lines(
                    account.services(&self.seller, egress.clone()),
                    account.limits,
                    &account.settings,
                    payout,
                    token.as_deref(),
                )
                .await?;
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

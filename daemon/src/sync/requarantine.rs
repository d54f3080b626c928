//! Quarantined orders, read again one by one (`fetch-order`, contract
//! 0.2): an order the channel has since corrected is stored (and ships),
//! one it no longer has leaves quarantine, one still invalid stays with
//! its new reason. Each entry waits longer between tries (5 min, doubling,
//! at most a day), and a pass retries a bounded number, so a channel with
//! thousands of bad orders costs a few requests per pass.

use super::{Channel, ORDERS};
use crate::host::{CallErrorKind, PluginFailure};
use crate::model::Quarantined;
use crate::store::{QuarantineEntry, Store, StoreError};
use chrono::{DateTime, Utc};

/// Entries retried per pass at most.
pub const PER_PASS: usize = 25;

/// What one round of retries did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retried {
    /// Valid now: stored, out of quarantine.
    pub recovered: u32,
    /// The channel has no such order any more: out of quarantine.
    pub gone: u32,
    /// Still refused: kept, with the new reason.
    pub still_invalid: u32,
}

/// When an entry tried `times` times, last at `last_seen`, is due again.
pub fn due(entry: &QuarantineEntry) -> DateTime<Utc> {
    let minutes = 5i64 << entry.times.saturating_sub(1).min(9);
    entry.last_seen + chrono::Duration::minutes(minutes.min(24 * 60))
}

/// Retry up to `limit` of `channel`'s quarantined orders that are due at
/// `now`, oldest try first. A failure of the channel itself (auth, rate
/// limit, a 0.1 plugin without `fetch-order`) ends the round quietly: the
/// next pass tries again.
pub async fn retry(
    store: &Store,
    channel: &Channel,
    now: DateTime<Utc>,
    limit: usize,
) -> Result<Retried, StoreError> {
    let (seller, id) = (channel.seller(), channel.id());
    let mut entries: Vec<QuarantineEntry> = store
        .quarantined(Some(seller))?
        .into_iter()
        .filter(|e| e.channel == id && due(e) <= now)
        .collect();
    entries.sort_by_key(|e| e.last_seen);
    entries.truncate(limit);
    let mut done = Retried::default();
    // Retries leave the cursor as it is: each commit writes it back unchanged.
    let cursor = store.cursor(seller, id, ORDERS)?;
    for entry in entries {
        match channel.account.fetch_order(&entry.external_id).await {
            Ok(Some(order)) => {
                store.commit_page_with(seller, id, ORDERS, &[order], &[], &cursor)?;
                done.recovered += 1;
            }
            Ok(None) => {
                store.release_quarantined(seller, id, &entry.external_id)?;
                done.gone += 1;
            }
            Err(e) => match &e.kind {
                CallErrorKind::InvalidOutput(reason) => {
                    let still = Quarantined {
                        external_id: entry.external_id.clone(),
                        reason: reason.clone(),
                    };
                    store.commit_page_with(seller, id, ORDERS, &[], &[still], &cursor)?;
                    done.still_invalid += 1;
                }
                CallErrorKind::Plugin(PluginFailure::NotFound(_)) => {
                    store.release_quarantined(seller, id, &entry.external_id)?;
                    done.gone += 1;
                }
                _ => {
                    tracing::debug!(seller = %seller, channel = %id,
                        "quarantined orders not retried this pass: {e}");
                    break;
                }
            },
        }
    }
    if done != Retried::default() {
        tracing::info!(seller = %seller, channel = %id,
            recovered = done.recovered, gone = done.gone, still_invalid = done.still_invalid,
            "quarantined orders read again");
    }
    Ok(done)
}

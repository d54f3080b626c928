//! Following shipped parcels: new carrier scans for the records that are
//! done but not yet delivered or returned, each at most every
//! [`TRACK_EVERY`], for `track_for` after the label was bought.

use super::record::{Status, TrackingState};
use super::store::{ShipmentStore, needs_attention};
use super::workflow::{ShippingWorkflow, WorkflowError};
use crate::store::Store;
use chrono::Utc;

/// How long a parcel's scans stay fresh before the carrier is asked again.
pub const TRACK_EVERY: chrono::TimeDelta = chrono::TimeDelta::minutes(15);

impl ShippingWorkflow {
    /// Ask the carrier for new scans of the seller's parcels in transit (not
    /// more often than [`TRACK_EVERY`] each, unless `force`); returns how
    /// many changed. Parcels past `track_for` leave the pending index.
    pub async fn refresh_tracking(&self, store: &Store, force: bool) -> Result<u32, WorkflowError> {
        let now = Utc::now();
        let mut changed = 0;
        for (channel, order) in store.pending_shipments(&self.seller)? {
            let Some(mut rec) = store.shipment(&self.seller, &channel, &order)? else {
                continue;
            };
            let (Some(label), Some(account)) = (rec.label.clone(), rec.carrier_account.clone())
            else {
                continue;
            };
            if rec.status != Status::Done || !needs_attention(&rec) {
                continue;
            }
            let too_old =
                (now - rec.created_at).to_std().unwrap_or_default() > self.policy.track_for;
            if too_old {
                store.forget_pending(&rec)?;
                continue;
            }
            let recent = rec
                .tracking
                .as_ref()
                .is_some_and(|t| now - t.checked_at < TRACK_EVERY);
            if recent && !force {
                continue;
            }
            let Some(carrier) = self.carriers.get(&account) else {
                continue;
            };
            let Some(_flight) = self.try_flight(&rec.channel, &rec.order_id) else {
                continue;
            };
            match carrier.track(&label.carrier, &label.tracking_number).await {
                Ok(events) => {
                    let before = rec.tracking.as_ref().map(|t| t.events.len());
                    if before != Some(events.len()) {
                        changed += 1;
                    }
                    rec.tracking = Some(TrackingState {
                        checked_at: now,
                        events,
                    });
                    store.put_shipment(&rec)?;
                }
                Err(e) => tracing::debug!(order = %rec.order_number, "tracking not refreshed: {e}"),
            }
        }
        Ok(changed)
    }
}

//! What a person can do to a shipment: retry it, hold it, release it, or
//! skip it. Used by the CLI directly on the store, or by the daemon through
//! its admin socket (then under the order's single-flight slot, so a manual
//! action never races a scheduled run).

use super::record::{ShipmentRecord, Status};
use super::store::ShipmentStore;
use crate::store::{Store, StoreError};
use serde::{Deserialize, Serialize};

/// An action on one order's shipment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Start again now: a new attempt after a dead letter or hold, or the
    /// next step at once when waiting for a retry.
    Retry,
    /// Stop working on it until released.
    Hold,
    /// Let a held shipment continue.
    Release,
    /// Never ship it with tradelane (shipped by hand, cancelled…).
    Skip,
}

/// Why an action could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("no stored order `{0}` (give the order number like 1001 or its id)")]
    NoOrder(String),
    #[error("`{0}` matches several orders: {1}; give the order id")]
    Ambiguous(String, String),
    #[error("order {0} is already shipped (tracking {1}); nothing to do")]
    AlreadyDone(String, String),
    #[error("order {0} is not held")]
    NotHeld(String),
    #[error("order {0} is being worked on right now; try again in a moment")]
    Busy(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The `(seller, channel, order id, number)` an id or number names.
pub fn locate(store: &Store, id: &str) -> Result<(String, String, String, String), ActionError> {
    let found = store.find_order(id)?;
    match found.as_slice() {
        [] => {
            // A record may outlive its order (imports, pruned stores).
            let records = store.find_shipments(id)?;
            match records.as_slice() {
                [r] => Ok((
                    r.seller.clone(),
                    r.channel.clone(),
                    r.order_id.clone(),
                    r.order_number.clone(),
                )),
                _ => Err(ActionError::NoOrder(id.into())),
            }
        }
        [o] => Ok((
            o.seller.clone(),
            o.channel.clone(),
            o.order.external_id.clone(),
            o.order.number.clone(),
        )),
        many => Err(ActionError::Ambiguous(
            id.into(),
            many.iter()
                .map(|o| format!("{}/{}/{}", o.seller, o.channel, o.order.external_id))
                .collect::<Vec<_>>()
                .join(", "),
        )),
    }
}

/// Apply `action` to the shipment of the order `(seller, channel, order)`.
pub fn apply(
    store: &Store,
    (seller, channel, order, number): (&str, &str, &str, &str),
    action: Action,
    note: Option<&str>,
) -> Result<ShipmentRecord, ActionError> {
    let mut rec = store
        .shipment(seller, channel, order)?
        .unwrap_or_else(|| ShipmentRecord::new(seller, channel, order, number));
    if rec.status == Status::Done {
        let tracking = rec
            .label
            .as_ref()
            .map(|l| l.tracking_number.clone())
            .unwrap_or_default();
        return Err(ActionError::AlreadyDone(rec.order_number.clone(), tracking));
    }
    let by_hand = |what: &str| match note {
        Some(n) => format!("{what} by hand: {n}"),
        None => format!("{what} by hand"),
    };
    match action {
        Action::Retry => match rec.status {
            Status::Active => {
                rec.next_attempt_at = None;
                rec.failures = 0;
                rec.log(by_hand("retry requested"));
            }
            _ => rec.new_attempt(&by_hand("retry requested")),
        },
        Action::Hold => {
            rec.held_by_user = true;
            rec.stop(Status::Held, by_hand("held"));
            rec.held_by_user = true;
        }
        Action::Release => {
            if rec.status != Status::Held {
                return Err(ActionError::NotHeld(rec.order_number.clone()));
            }
            rec.new_attempt(&by_hand("released"));
        }
        Action::Skip => {
            let mut why = by_hand("skipped");
            if let Some(l) = &rec.label {
                why.push_str(&format!(
                    "; label {} was bought: void it at the carrier if unused",
                    l.tracking_number
                ));
            }
            rec.stop(Status::Skipped, why);
        }
    }
    store.put_shipment(&rec)?;
    Ok(rec)
}

/// Records, optionally of one seller, in a state named by status
/// (`active`, `held`, `dead_letter`, `skipped`, `dry_run`, `done`) or stage
/// (`intent` … `pushed`).
pub fn list(
    store: &Store,
    seller: Option<&str>,
    state: Option<&str>,
) -> Result<Vec<ShipmentRecord>, StoreError> {
    let all = store.shipments(seller)?;
    Ok(match state {
        None => all,
        Some(s) => {
            let s = s.replace('-', "_");
            all.into_iter()
                .filter(|r| r.status.name() == s || r.stage.name() == s)
                .collect()
        }
    })
}

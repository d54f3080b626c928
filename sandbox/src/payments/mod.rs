//! Simulated payment providers (Stripe- and PayPal-compatible) whose
//! payouts are consistent with the orders the sandbox marketplace served;
//! see [`ledger`].

pub mod ledger;
pub mod paypal;
pub mod stripe;

use super::SandboxState;
use chrono::Utc;

/// The ledger as of now.
pub fn current(state: &SandboxState) -> (Vec<ledger::LedgerPayout>, ledger::Injected) {
    let world = state.world();
    ledger::ledger(
        &world,
        &state.config.settlement_currency,
        state.config.inject_discrepancies,
        Utc::now(),
    )
}

//! Settlement: which orders were actually paid, what each earned net of
//! fees in the settlement currency, at the rate the provider applied, and
//! what does not add up.
//!
//! - [`policy`]: a seller's `[sellers.settlement]` resolved for matching;
//! - [`workflow`]: reading payouts and their lines incrementally, exactly once;
//! - [`reconcile`]: lines matched to orders, discrepancies found (pure);
//! - [`records`]: what is stored;
//! - [`store`]: the trees it is stored in;
//! - [`book`]: lines in the seller's book currency, with the rate's source;
//! - [`report`]: the accountant's CSV/JSON;
//! - [`export`]: statement files Xero and QuickBooks Online import.

pub mod book;
pub mod export;
pub mod policy;
pub mod queries;
pub mod reconcile;
pub mod records;
pub mod report;
pub mod store;
pub mod workflow;

pub use policy::SettlementPolicy;
pub use store::SettlementStore;
pub use workflow::{SettlementError, SettlementReport, SettlementWorkflow};

//! Shipping: for every paid, unshipped order with an address, buy exactly
//! one label with the right customs declaration and push its tracking back
//! to the order's channel.
//!
//! - [`policy`]: a seller's `[sellers.shipping]` resolved for deciding;
//! - [`plan`]: which orders ship, their customs lines, weight, IOSS;
//! - [`rules`]: which rule applies and which rate it picks;
//! - [`fx`]: reference rates for rule values and the €150 IOSS limit;
//! - [`record`]: the persisted per-order state machine;
//! - [`store`]: the trees its records live in;
//! - [`workflow`]: a pass, over the orders that changed or wait;
//! - [`stages`]: one order driven through the carrier and channel plugins;
//! - [`tracking`]: carrier scans of parcels in transit;
//! - [`actions`]: retry, hold, release, skip;
//! - [`labels`]: label documents on disk.

pub mod actions;
pub mod declaration;
pub mod fx;
pub mod labels;
pub mod plan;
pub mod policy;
pub mod record;
pub mod regimes;
pub mod rules;
mod stages;
pub mod store;
pub mod territories;
pub mod tracking;
pub mod workflow;

pub use policy::ShippingPolicy;
pub use record::{ShipmentRecord, Stage, Status};
pub use store::ShipmentStore;
pub use workflow::{Outcome, PassReport, ShippingWorkflow, WorkflowError};

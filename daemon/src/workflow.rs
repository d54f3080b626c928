//! What the scheduler runs after sync: a seller's workflow (shipping,
//! settlement, the next one), one pass at a time, on its schedule and
//! whenever a sync brings changes.
//!
//! A workflow owns its room: its folder holds its config resolution, its
//! records and the store trees they live in, its passes and its actions.
//! It reaches the rest of the daemon through plugin account handles and
//! the store's orders, cursors and change events. Adding one is a folder
//! and a line in [`crate::assemble::Assembly::workflows`].

use crate::schedule::Schedule;
use crate::shutdown::Shutdown;
use crate::store::Store;
use std::future::Future;
use std::pin::Pin;
use tokio::sync::Notify;

/// A boxed pass, so workflows can sit in one list.
pub type PassFuture<'a> = Pin<Box<dyn Future<Output = Result<PassSummary, String>> + Send + 'a>>;

/// What one pass tells the status board (the workflow logs its details).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassSummary {
    /// Orders shipped, settled…: what the status board counts.
    pub done: u64,
    /// A partial failure worth showing.
    pub warning: Option<String>,
}

/// A seller's workflow, as the scheduler sees it.
pub trait Workflow: Send + Sync {
    /// `shipping`, `settlement`.
    fn name(&self) -> &'static str;
    /// The seller it works for.
    fn seller(&self) -> &str;
    /// When it runs on its own.
    fn schedule(&self) -> &Schedule;
    /// Poked when a sync brought changes or a person acted.
    fn wake(&self) -> &Notify;
    /// One pass; stops between units of work once `shutdown` is requested.
    fn run<'a>(&'a self, store: &'a Store, shutdown: &'a Shutdown) -> PassFuture<'a>;

    /// `seller/name`, for the status board and logs.
    fn label(&self) -> String {
        format!("{}/{}", self.seller(), self.name())
    }
}

//! The plugin host: loads WebAssembly components and runs each call in a
//! fresh sandbox.
//!
//! - one wasmtime [`Engine`](wasmtime::Engine) (component model, async,
//!   epoch interruption, pooling allocator where available);
//! - compiled plugins cached on disk ([`compile_cache`]);
//! - every call: a new `Store` and instance from the plugin's `InstancePre`,
//!   WASI with nothing granted, a CPU deadline counted only while the
//!   plugin runs, a memory cap, a budget of HTTP requests;
//! - the contract's types converted to the daemon's own in [`convert`].

//!
//! Outside `host/`, a configured plugin is a [`PluginAccount`]: built once,
//! called with domain arguments. No wasmtime type leaves this module.

pub mod account;
mod bindings;
pub mod builtin;
mod call;
mod compat;
pub mod compile_cache;
pub mod contract;
mod convert;
mod engine;
pub mod error;
mod load;
pub(crate) mod state;
mod stdio;
mod worlds;

pub use account::{AccountParts, PluginAccount};
pub use contract::{CONTRACT_VERSION, contract_version};
pub use error::{CallError, CallErrorKind, PluginFailure, Remedy};
pub use load::{Plugin, PluginHost, PluginSettings, PluginSource, ticks};
pub use state::{CallLimits, CallServices, CallSite, NoCache, PluginCache};

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

pub mod bindings;
pub mod builtin;
pub mod compile_cache;
pub mod convert;
pub mod engine;
pub mod error;
pub mod plugin;
pub mod state;

pub use error::{CallError, CallErrorKind, PluginFailure, Remedy};
pub use plugin::{Plugin, PluginHost, PluginSettings, PluginSource, contract_version, ticks};
pub use state::{CallLimits, CallServices, CallSite, NoCache, PluginCache};

#![recursion_limit = "512"]

pub mod admin;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod egress;
pub mod host;
pub mod logging;
pub mod model;
pub mod runtime;
pub mod sandbox;
pub mod schedule;
pub mod scheduler;
pub mod shipping;
pub mod store;
pub mod sync;

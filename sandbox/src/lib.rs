#![recursion_limit = "512"]

//! `tradelane sandbox`: simulated provider APIs on loopback.
//!
//! A crate of its own, so the production daemon carries none of it (nor
//! axum): the daemon embeds it behind its default-on `sandbox` feature,
//! and `cargo build -p tradelane --no-default-features` leaves it out.
//! Each new connector adds its simulated API here.
//!
//! Each provider lives in its own module and renders the shared [`World`]
//! in its real wire format (paths, auth header, pagination, rate-limit
//! signals): today Shopify's Admin REST API and the SDK's "Example Shop";
//! EasyPost's and Shippo's (`carriers`), which share one book of shipments;
//! Stripe's and PayPal's (`payments`), paying out the orders served. Faults are switchable by
//! config (`[sandbox.faults]`) or at runtime (`POST /_sandbox/faults`).
//!
//! Control endpoints for tests and demos (no auth, loopback only):
//! - `GET /_sandbox/truth`: every simulated order (neutral form, integer money);
//! - `GET /_sandbox/served`: every API response served so far, with the order ids in it;
//! - `POST /_sandbox/faults` (JSON body, the `[sandbox.faults]` keys): switch faults;
//! - `POST /_sandbox/tick?new=N&updates=M[&market=woocommerce|etsy]`: make orders
//!   arrive / change now;
//! - `POST /_sandbox/touch?id=ID&updated_at=RFC3339[&market=woocommerce]`: set an
//!   order's update time;
//! - `GET /_sandbox/carriers`: every shipment the carriers created, with rates,
//!   customs lines and purchases (tests count labels here);
//! - `POST /_sandbox/address?id=ID&valid=false|true`: make an order's shipping
//!   address one the carriers refuse, or correct it again (the order changes);
//! - `GET /_sandbox/settlement`: every payout with its lines, and the
//!   discrepancies injected;
//! - `GET /_sandbox/truth?market=amazon|ebay|woocommerce|etsy`: that marketplace's
//!   orders, with the ids it shows (`market_id`; WooCommerce's also carry
//!   their `notes`);
//! - `GET|POST /_sandbox/oauth?provider=amazon|ebay|etsy` (`expire=true`,
//!   `revoke=true`, `rotate=true|false`, `lifetime=SECS`): the simulated
//!   authorisation servers' counters and switches.

pub mod amazon;
pub mod carriers;
pub mod config;
mod control;
pub mod ebay;
pub mod ecb;
pub mod etsy;
mod example;
mod faults;
pub mod money;
pub mod oauth;
pub mod payments;
mod shopify;
mod shopify_json;
pub mod woocommerce;
pub mod world;

use axum::Router;
use chrono::Utc;
pub use config::{HumanDuration, SandboxConfig, SandboxFaults};
use serde::Serialize;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;
pub use world::{SimOrder, World};

/// One response the sandbox served.
#[derive(Debug, Clone, Serialize)]
pub struct Served {
    pub seq: u64,
    pub method: String,
    pub path: String,
    pub status: u16,
    /// Ids of the orders in the body (order pages).
    pub order_ids: Vec<u64>,
}

/// An order's rendered JSON and the revision it shows.
pub type Rendered = (u32, Arc<Vec<u8>>);

/// Shared state of a running sandbox.
pub struct SandboxState {
    pub config: SandboxConfig,
    pub world: Mutex<World>,
    pub faults: Mutex<faults::FaultState>,
    pub served: Mutex<Vec<Served>>,
    /// Rendered Shopify JSON per order id, with the revision it shows:
    /// rendering dominates the sandbox's cost, and orders change rarely.
    pub rendered: Mutex<std::collections::HashMap<u64, Rendered>>,
    /// Shipments and labels of the simulated carriers.
    pub carriers: Mutex<carriers::CarrierBook>,
    /// The seller's Amazon and eBay accounts: their own orders and tokens.
    pub amazon: Mutex<amazon::Market>,
    pub ebay: Mutex<ebay::Market>,
    /// The second seller's WooCommerce store.
    pub woocommerce: Mutex<woocommerce::Market>,
    /// The second seller's Etsy shop.
    pub etsy: Mutex<etsy::Market>,
}

impl SandboxState {
    fn record(&self, method: &str, path: String, status: u16, order_ids: Vec<u64>) {
        let mut served = self.served.lock().unwrap_or_else(|p| p.into_inner());
        let seq = served.len() as u64 + 1;
        served.push(Served {
            seq,
            method: method.into(),
            path,
            status,
            order_ids,
        });
    }

    fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn carriers(&self) -> std::sync::MutexGuard<'_, carriers::CarrierBook> {
        self.carriers.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running sandbox; stops when dropped or when `shutdown` is called.
pub struct Sandbox {
    pub addr: SocketAddr,
    pub state: Arc<SandboxState>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Sandbox {
    /// Bind `config.listen` (port 0 picks one) and serve in the background.
    pub async fn start(config: SandboxConfig) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind(&config.listen)
            .await
            .map_err(|e| anyhow::anyhow!("sandbox cannot listen on {}: {e}", config.listen))?;
        let addr = listener.local_addr()?;
        if !addr.ip().is_loopback() {
            tracing::warn!(%addr, "the sandbox is listening on a non-loopback address");
        }
        let state = Arc::new(SandboxState {
            world: Mutex::new(World::new(config.seed, config.orders, Utc::now())),
            faults: Mutex::new(faults::FaultState::new(config.faults.clone(), config.seed)),
            served: Mutex::new(Vec::new()),
            rendered: Mutex::new(Default::default()),
            carriers: Mutex::new(Default::default()),
            amazon: Mutex::new(amazon::Market::new(&config)),
            ebay: Mutex::new(ebay::Market::new(&config)),
            woocommerce: Mutex::new(woocommerce::Market::new(&config)),
            etsy: Mutex::new(etsy::Market::new(&config)),
            config,
        });
        let app = Router::new()
            .merge(shopify::routes())
            .merge(amazon::routes())
            .merge(ebay::routes())
            .merge(woocommerce::routes())
            .merge(etsy::routes())
            .merge(example::routes())
            .merge(carriers::easypost::routes())
            .merge(carriers::shippo::routes())
            .merge(payments::stripe::routes())
            .merge(payments::paypal::routes())
            .merge(ecb::routes())
            .route(
                "/files/labels/{file}",
                axum::routing::get(carriers::label_file),
            )
            .merge(control::routes())
            .with_state(state.clone());
        let (stop, mut stopped) = watch::channel(false);
        let clock = spawn_clock(state.clone(), stop.subscribe());
        let task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.wait_for(|s| *s).await;
            };
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!("sandbox server failed: {e}");
            }
            clock.abort();
        });
        tracing::info!(%addr, "sandbox serving Shopify-, Amazon SP-API-, eBay-, WooCommerce-, Etsy-, EasyPost-, Shippo-, Stripe-, PayPal- and ECB-compatible and Example Shop APIs");
        Ok(Sandbox {
            addr,
            state,
            stop,
            task,
        })
    }

    /// `http://addr`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Switch faults at runtime.
    pub fn set_faults(&self, faults: SandboxFaults) {
        self.state
            .faults
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .set(faults);
    }

    /// Stop serving and wait for the server to end.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// New orders arrive and existing ones change on the configured cadence.
fn spawn_clock(
    state: Arc<SandboxState>,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let every = |d: std::time::Duration| {
            (!d.is_zero()).then(|| tokio::time::interval_at(tokio::time::Instant::now() + d, d))
        };
        let mut arrivals = every(state.config.new_order_every.0);
        let mut updates = every(state.config.update_every.0);
        loop {
            tokio::select! {
                _ = async { arrivals.as_mut().expect("guarded").tick().await }, if arrivals.is_some() => {
                    state.world().arrive(Utc::now());
                    state.amazon.lock().unwrap_or_else(|p| p.into_inner()).world.arrive(Utc::now());
                    state.ebay.lock().unwrap_or_else(|p| p.into_inner()).world.arrive(Utc::now());
                    state.woocommerce.lock().unwrap_or_else(|p| p.into_inner()).world.arrive(Utc::now());
                    state.etsy.lock().unwrap_or_else(|p| p.into_inner()).world.arrive(Utc::now());
                }
                _ = async { updates.as_mut().expect("guarded").tick().await }, if updates.is_some() => {
                    state.world().update_random(Utc::now());
                    state.amazon.lock().unwrap_or_else(|p| p.into_inner()).world.update_random(Utc::now());
                    state.ebay.lock().unwrap_or_else(|p| p.into_inner()).world.update_random(Utc::now());
                    state.woocommerce.lock().unwrap_or_else(|p| p.into_inner()).world.update_random(Utc::now());
                    state.etsy.lock().unwrap_or_else(|p| p.into_inner()).world.update_random(Utc::now());
                }
                _ = stop.changed() => break,
            }
        }
    })
}

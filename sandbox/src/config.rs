//! `[sandbox]` in `config.toml`: what the simulated APIs serve and which
//! faults they inject. The daemon embeds this table in its own config when
//! built with the `sandbox` feature.

use serde::{Deserialize, Deserializer};
use std::time::Duration;

/// A duration written as text (`"30s"`, `"5m"`), as everywhere in config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text)
            .map(HumanDuration)
            .map_err(|e| {
                serde::de::Error::custom(format!(
                    "`{text}` is not a duration like \"30s\" or \"5m\" ({e})"
                ))
            })
    }
}

/// `[sandbox]`: simulated APIs served on loopback by `tradelane run`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SandboxConfig {
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default = "default_listen")]
    pub listen: String,
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Orders that exist when the sandbox starts.
    #[serde(default = "default_orders")]
    pub orders: u32,
    /// A new order arrives this often (`0s`: never).
    #[serde(default = "default_new_every")]
    pub new_order_every: HumanDuration,
    /// An existing order changes this often (`0s`: never).
    #[serde(default = "default_update_every")]
    pub update_every: HumanDuration,
    /// The token the simulated Shopify expects.
    #[serde(default = "default_token")]
    pub access_token: String,
    /// The API key the simulated EasyPost expects.
    #[serde(default = "default_easypost_key")]
    pub easypost_api_key: String,
    /// The API token the simulated Shippo expects.
    #[serde(default = "default_shippo_token")]
    pub shippo_api_token: String,
    /// The secret key the simulated Stripe expects.
    #[serde(default = "default_stripe_key")]
    pub stripe_secret_key: String,
    /// The REST app credentials the simulated PayPal expects.
    #[serde(default = "default_paypal_id")]
    pub paypal_client_id: String,
    #[serde(default = "default_paypal_secret")]
    pub paypal_client_secret: String,
    /// Orders the simulated Amazon and eBay hold at start (each its own).
    #[serde(default = "default_market_orders")]
    pub amazon_orders: u32,
    #[serde(default = "default_market_orders")]
    pub ebay_orders: u32,
    /// The SP-API app and seller authorisation the simulated Login with
    /// Amazon accepts.
    #[serde(default = "default_amazon_client_id")]
    pub amazon_client_id: String,
    #[serde(default = "default_amazon_client_secret")]
    pub amazon_client_secret: String,
    #[serde(default = "default_amazon_refresh")]
    pub amazon_refresh_token: String,
    /// The eBay keyset and user refresh token the simulated identity service accepts.
    #[serde(default = "default_ebay_client_id")]
    pub ebay_client_id: String,
    #[serde(default = "default_ebay_client_secret")]
    pub ebay_client_secret: String,
    #[serde(default = "default_ebay_refresh")]
    pub ebay_refresh_token: String,
    /// Orders the simulated WooCommerce store holds at start.
    #[serde(default = "default_market_orders")]
    pub woocommerce_orders: u32,
    /// The REST API key the simulated store accepts.
    #[serde(default = "default_woo_key")]
    pub woocommerce_consumer_key: String,
    #[serde(default = "default_woo_secret")]
    pub woocommerce_consumer_secret: String,
    /// The store's timezone, as minutes east of UTC (Berlin in winter: 60).
    #[serde(default = "default_woo_offset")]
    pub woocommerce_utc_offset_minutes: i32,
    /// The store's "Number of decimals" setting (unset: each currency's own).
    #[serde(default)]
    pub woocommerce_decimals: Option<u32>,
    /// Whether the Shipment Tracking extension is installed.
    #[serde(default = "yes")]
    pub woocommerce_shipment_tracking: bool,
    /// Receipts the simulated Etsy shop holds at start.
    #[serde(default = "default_market_orders")]
    pub etsy_orders: u32,
    /// The Etsy app (keystring and shared secret) and the seller's
    /// refresh token the simulated Etsy accepts.
    #[serde(default = "default_etsy_keystring")]
    pub etsy_keystring: String,
    #[serde(default = "default_etsy_secret")]
    pub etsy_shared_secret: String,
    #[serde(default = "default_etsy_refresh")]
    pub etsy_refresh_token: String,
    /// Etsy's per-second and per-day request limits.
    #[serde(default = "default_etsy_per_second")]
    pub etsy_per_second: u32,
    #[serde(default = "default_etsy_daily")]
    pub etsy_daily_limit: u32,
    /// The `divisor` of Etsy's money (100: cents).
    #[serde(default = "default_etsy_divisor")]
    pub etsy_divisor: u32,
    /// The currency the simulated providers pay out in.
    #[serde(default = "default_settlement")]
    pub settlement_currency: String,
    /// Add a partial refund, a dispute, an unsettled paid order, a wrong
    /// charge amount and a charge without an order to the payouts.
    #[serde(default = "yes")]
    pub inject_discrepancies: bool,
    /// A bought parcel's tracking advances one event this often.
    #[serde(default = "default_tracking_step")]
    pub tracking_step: HumanDuration,
    #[serde(default)]
    pub faults: SandboxFaults,
}

/// Faults the sandbox injects (also switchable at runtime, see README).
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SandboxFaults {
    /// Percent of API requests answered with 500/503.
    #[serde(default)]
    pub error_percent: u8,
    /// Enforce Shopify's leaky bucket (40 requests, 2/s): 429 + Retry-After when empty.
    #[serde(default)]
    pub rate_limit: bool,
    /// Every N-th API request is answered 429 regardless of the bucket (0: off).
    #[serde(default)]
    pub burst_429_every: u32,
    /// Added to every response, in milliseconds.
    #[serde(default)]
    pub latency_ms: u32,
    /// Percent of order pages cut off mid-body.
    #[serde(default)]
    pub truncate_percent: u8,
    /// Percent of order pages with a malformed order in them.
    #[serde(default)]
    pub malformed_percent: u8,
    /// Percent of carrier API calls answered 503 before doing anything.
    #[serde(default)]
    pub carrier_error_percent: u8,
    /// The next N label purchases are made, then answered with a 500.
    #[serde(default)]
    pub carrier_error_after_buy: u32,
    /// A label purchase is made, then its answer held this many milliseconds.
    #[serde(default)]
    pub carrier_delay_ms: u32,
    /// Enforce Amazon's usage plans per operation (searchOrders and
    /// getOrder 0.0056 req/s, burst 20; confirmShipment 2/s, burst 10):
    /// 429 `QuotaExceeded` when a bucket is empty.
    #[serde(default)]
    pub amazon_throttle: bool,
    /// Divide Amazon's sustained rates by nothing, but multiply them by
    /// this (tests: 100 makes searchOrders 0.56 req/s). 0 means 1.
    #[serde(default)]
    pub amazon_rate_scale: u32,
    /// The simulated Shopify refuses every token (401), as after the seller
    /// revoked the app; switching it off lets the same token work again.
    #[serde(default)]
    pub reject_auth: bool,
    /// After each eBay order page served, this many orders change (and
    /// move to the end of a `lastmodifieddate` search).
    #[serde(default)]
    pub ebay_changes_per_page: u32,
    /// After each WooCommerce order page served, this many orders change.
    #[serde(default)]
    pub woocommerce_changes_per_page: u32,
    /// Every N-th WooCommerce request is a WordPress fatal error: a 500
    /// with an HTML page (0: off).
    #[serde(default)]
    pub woocommerce_html_error_every: u32,
    /// WooCommerce's `modified_after` made inclusive (the real one is not).
    #[serde(default)]
    pub woocommerce_inclusive_bound: bool,
    /// WooCommerce's `Link` URLs with their values encoded (the real ones
    /// repeat them as received).
    #[serde(default)]
    pub woocommerce_link_encoded: bool,
    /// After each Etsy receipts page served, this many receipts change.
    #[serde(default)]
    pub etsy_changes_per_page: u32,
}

fn yes() -> bool {
    true
}
fn default_listen() -> String {
    "127.0.0.1:8787".into()
}
fn default_seed() -> u64 {
    7
}
fn default_orders() -> u32 {
    40
}
fn default_new_every() -> HumanDuration {
    HumanDuration(Duration::from_secs(10))
}
fn default_update_every() -> HumanDuration {
    HumanDuration(Duration::from_secs(15))
}
fn default_token() -> String {
    "shpat_sandbox".into()
}
fn default_easypost_key() -> String {
    "EZTK_sandbox".into()
}
fn default_shippo_token() -> String {
    "shippo_test_sandbox".into()
}
fn default_stripe_key() -> String {
    "sk_test_sandbox".into()
}
fn default_paypal_id() -> String {
    "sandbox-client-id".into()
}
fn default_paypal_secret() -> String {
    "sandbox-client-secret".into()
}
fn default_market_orders() -> u32 {
    24
}
fn default_amazon_client_id() -> String {
    "amzn1.application-oa2-client.sandbox".into()
}
fn default_amazon_client_secret() -> String {
    "amzn1.oa2-cs.v1.sandbox-secret".into()
}
fn default_amazon_refresh() -> String {
    "Atzr|sandbox-refresh-token".into()
}
fn default_ebay_client_id() -> String {
    "TradelaneSandbox-PRD-0123456789".into()
}
fn default_ebay_client_secret() -> String {
    "PRD-sandbox-cert-id".into()
}
fn default_ebay_refresh() -> String {
    "v^1.1#i^1#r^1#sandbox-refresh-token".into()
}
fn default_woo_key() -> String {
    "ck_sandbox".into()
}
fn default_woo_secret() -> String {
    "cs_sandbox".into()
}
fn default_woo_offset() -> i32 {
    60
}
fn default_etsy_keystring() -> String {
    "etsysandboxkeystring".into()
}
fn default_etsy_secret() -> String {
    "etsysandboxsecret".into()
}
fn default_etsy_refresh() -> String {
    "12345678.sandbox-refresh-token".into()
}
fn default_etsy_per_second() -> u32 {
    10
}
fn default_etsy_daily() -> u32 {
    10_000
}
fn default_etsy_divisor() -> u32 {
    100
}
fn default_settlement() -> String {
    "EUR".into()
}
fn default_tracking_step() -> HumanDuration {
    HumanDuration(Duration::from_secs(20))
}

impl Default for SandboxConfig {
    /// The same values as an empty `[sandbox]` table.
    fn default() -> Self {
        toml::from_str("").expect("every key of [sandbox] has a default")
    }
}

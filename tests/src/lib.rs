//! Helpers for tradelane's end-to-end tests: a sandbox on an ephemeral
//! port, a config pointing at it, a temp data dir, and a way to compare
//! what the store holds with what the sandbox served.

pub mod receivers;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use tradelane::assemble::Assembly;
use tradelane::config::LoadedConfig;
use tradelane::egress::Egress;
use tradelane::egress::{EgressSettings, HttpEgress};
use tradelane::host::PluginHost;
use tradelane::settlement::SettlementWorkflow;
use tradelane::shipping::{ShipmentStore, ShippingWorkflow};
use tradelane::shutdown::Shutdown;
use tradelane::store::{OrderFilter, Store, StoredOrder};
use tradelane::sync::Channel;
use tradelane_sandbox::{HumanDuration, SandboxConfig, SandboxFaults};
use tradelane_sandbox::{Sandbox, SimOrder};

/// The sandbox's token.
pub const TOKEN: &str = "shpat_sandbox";
/// The sandbox EasyPost's API key.
pub const EASYPOST_KEY: &str = "EZTK_sandbox";
/// The sandbox Stripe's secret key.
pub const STRIPE_KEY: &str = "sk_test_sandbox";
/// The sandbox PayPal's REST app credentials.
pub const PAYPAL_ID: &str = "sandbox-client-id";
/// The sandbox PayPal's REST app secret.
pub const PAYPAL_SECRET: &str = "sandbox-client-secret";
/// The sandbox Shippo's API token.
pub const SHIPPO_TOKEN: &str = "shippo_test_sandbox";

/// The real API payloads the tests read (`tests/fixtures/`, provenance in
/// its README), carried by the repository so a fresh clone passes alone.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// The built `tradelane` binary (`target/<profile>/tradelane`, built by
/// `cargo test --workspace` because the daemon crate has integration tests).
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>");
    let bin = dir.join("tradelane");
    assert!(
        bin.exists(),
        "{} is missing: run the tests with `cargo test --workspace`",
        bin.display()
    );
    bin
}

/// Directory holding every plugin the build produced (incl. test plugins).
pub fn plugin_dir() -> PathBuf {
    PathBuf::from(tradelane::host::builtin::PLUGIN_DIR)
}

/// A sandbox config on an ephemeral port with no background changes.
pub fn sandbox_config(orders: u32, seed: u64) -> SandboxConfig {
    SandboxConfig {
        enabled: true,
        listen: "127.0.0.1:0".into(),
        seed,
        orders,
        new_order_every: HumanDuration(std::time::Duration::ZERO),
        update_every: HumanDuration(std::time::Duration::ZERO),
        access_token: TOKEN.into(),
        easypost_api_key: EASYPOST_KEY.into(),
        shippo_api_token: SHIPPO_TOKEN.into(),
        tracking_step: HumanDuration(std::time::Duration::from_secs(1)),
        stripe_secret_key: STRIPE_KEY.into(),
        paypal_client_id: PAYPAL_ID.into(),
        paypal_client_secret: PAYPAL_SECRET.into(),
        settlement_currency: "EUR".into(),
        inject_discrepancies: true,
        faults: SandboxFaults::default(),
        ..SandboxConfig::default()
    }
}

/// The EU marketplaces the Amazon test channels cover (UK, DE, FR, IT, NL, SE).
pub const AMAZON_EU: &str =
    "A1F83G8C2ARO7P,A1PA6795UKMFR9,A13V1IB3VIYZZH,APJ6JRA9NG5V4,A1805IZSGTT6HS,A2NODRKZP88ZB9";

/// One `[[sellers.channels]]` block for an Amazon channel (EU region) on
/// `sandbox_url`, with the sandbox's default app and seller credentials.
pub fn amazon_channel(id: &str, sandbox_url: &str, page_size: u32) -> String {
    let c = SandboxConfig::default();
    format!(
        r#"
[[sellers.channels]]
id = "{id}"
plugin = "amazon"
schedule = "every 1s"
extra_hosts = ["127.0.0.1"]
allow_loopback = true
page_size = {page_size}
lookback = "2m"
[sellers.channels.settings]
marketplace_ids = "{AMAZON_EU}"
base_url = "{sandbox_url}"
lwa_url = "{sandbox_url}/auth/o2/token"
lwa_client_id = "{}"
lwa_client_secret = "{}"
refresh_token = "{}"
"#,
        c.amazon_client_id, c.amazon_client_secret, c.amazon_refresh_token
    )
}

/// One `[[sellers.channels]]` block for an eBay channel on `sandbox_url`.
pub fn ebay_channel(id: &str, sandbox_url: &str, page_size: u32) -> String {
    let c = SandboxConfig::default();
    format!(
        r#"
[[sellers.channels]]
id = "{id}"
plugin = "ebay"
schedule = "every 1s"
extra_hosts = ["127.0.0.1"]
allow_loopback = true
page_size = {page_size}
lookback = "2m"
[sellers.channels.settings]
base_url = "{sandbox_url}"
client_id = "{}"
client_secret = "{}"
refresh_token = "{}"
ru_name = "Demo_Crafts-Demo-PRD-sandbox"
"#,
        c.ebay_client_id, c.ebay_client_secret, c.ebay_refresh_token
    )
}

/// One `[[sellers.channels]]` block for a WooCommerce channel on
/// `sandbox_url`, with the sandbox store's REST key; `extra` lines go into
/// its settings.
pub fn woocommerce_channel(id: &str, sandbox_url: &str, page_size: u32, extra: &str) -> String {
    let c = SandboxConfig::default();
    format!(
        r#"
[[sellers.channels]]
id = "{id}"
plugin = "woocommerce"
schedule = "every 1s"
allow_loopback = true
page_size = {page_size}
# No re-read window: the plugin alone must lose nothing at the bound.
lookback = "0s"
[sellers.channels.settings]
store_url = "{sandbox_url}"
consumer_key = "{}"
consumer_secret = "{}"
{extra}
"#,
        c.woocommerce_consumer_key, c.woocommerce_consumer_secret
    )
}

/// One `[[sellers.channels]]` block for an Etsy channel on `sandbox_url`,
/// with the sandbox's app and seller token and Etsy's sandbox
/// registrations; `extra` lines go into its settings.
pub fn etsy_channel(id: &str, sandbox_url: &str, page_size: u32, extra: &str) -> String {
    let c = SandboxConfig::default();
    format!(
        r#"
[[sellers.channels]]
id = "{id}"
plugin = "etsy"
schedule = "every 1s"
extra_hosts = ["127.0.0.1"]
allow_loopback = true
page_size = {page_size}
lookback = "0s"
[sellers.channels.settings]
base_url = "{sandbox_url}"
auth_url = "{sandbox_url}/oauth/connect"
redirect_uri = "https://seller.example/etsy-callback"
shop_id = "{}"
keystring = "{}"
shared_secret = "{}"
refresh_token = "{}"
etsy_ioss = "{ETSY_IOSS}"
etsy_uk_vat = "{ETSY_UK_VAT}"
{extra}
"#,
        tradelane_sandbox::etsy::SHOP_ID,
        c.etsy_keystring,
        c.etsy_shared_secret,
        c.etsy_refresh_token
    )
}

/// The IOSS and UK VAT numbers the test Etsy channels declare (made up).
pub const ETSY_IOSS: &str = "IM3720000999";
pub const ETSY_UK_VAT: &str = "GB999999973";

/// A marketplace's orders as the sandbox holds them, each with the id
/// the marketplace shows (`market_id`).
pub async fn market_truth(sandbox_url: &str, market: &str) -> Vec<serde_json::Value> {
    get_json(format!("{sandbox_url}/_sandbox/truth?market={market}")).await
}

/// Steer or read a simulated authorisation server.
pub async fn oauth_control(sandbox_url: &str, provider: &str, query: &str) -> serde_json::Value {
    control(
        sandbox_url,
        &format!("/_sandbox/oauth?provider={provider}&{query}"),
        None,
    )
    .await
}

/// Start a sandbox.
pub async fn sandbox(orders: u32, seed: u64) -> Sandbox {
    Sandbox::start(sandbox_config(orders, seed))
        .await
        .expect("sandbox starts")
}

/// One `[[sellers.channels]]` block for a Shopify channel on `sandbox_url`.
pub fn shopify_channel(id: &str, sandbox_url: &str, token: &str, page_size: u32) -> String {
    format!(
        r#"
[[sellers.channels]]
id = "{id}"
plugin = "shopify"
schedule = "every 1s"
extra_hosts = ["127.0.0.1"]
allow_loopback = true
page_size = {page_size}
lookback = "2m"
[sellers.channels.settings]
shop = "test.myshopify.com"
base_url = "{sandbox_url}"
access_token = "{token}"
"#
    )
}

/// A full config: one seller `s1` with the given channel blocks.
pub fn config_text(data_dir: &Path, channels: &[String]) -> String {
    format!(
        "[daemon]\ndata_dir = \"{}\"\nlog_level = \"warn\"\n\n[[sellers]]\nid = \"s1\"\n{}",
        data_dir.display(),
        channels.join("\n")
    )
}

/// A one-seller config of `channels` with its data under `dir/data`, written
/// as `dir/config.toml` and loaded.
pub fn harness_config(dir: &Path, channels: &[String]) -> LoadedConfig {
    let text = config_text(&dir.join("data"), channels);
    write_config(dir, &text).1
}

/// The stored order whose external id is `id`.
pub fn by_id<'a>(stored: &'a [StoredOrder], id: &str) -> Option<&'a StoredOrder> {
    stored.iter().find(|o| o.order.external_id == id)
}

/// Write `text` as `dir/config.toml` and load it.
pub fn write_config(dir: &Path, text: &str) -> (PathBuf, LoadedConfig) {
    let path = dir.join("config.toml");
    std::fs::write(&path, text).expect("write config");
    let loaded = LoadedConfig::load(&path).unwrap_or_else(|e| panic!("config: {e}"));
    (path, loaded)
}

/// Everything a library-level sync test needs.
pub struct Harness {
    pub store: Store,
    pub channels: Vec<Arc<Channel>>,
    /// Shipping workflows of sellers with `[sellers.shipping]`.
    pub shipping: Vec<Arc<ShippingWorkflow>>,
    /// Settlement workflows of sellers with `[sellers.settlement]`.
    pub settlement: Vec<Arc<SettlementWorkflow>>,
    /// The ECB rates held, and their refresh with `[rates]`.
    pub rates: Arc<tradelane::rates::RatesBook>,
    pub rates_refresh: Option<Arc<tradelane::rates::refresh::RatesRefresh>>,
    pub host: PluginHost,
}

impl Harness {
    /// Open the store of `config` and assemble its channels and workflows.
    pub async fn new(config: &LoadedConfig) -> Self {
        Self::with_egress(config, Arc::new(HttpEgress::new(EgressSettings::default()))).await
    }

    /// [`Harness::new`], every request going through `http`.
    pub async fn with_egress(config: &LoadedConfig, http: Arc<dyn Egress>) -> Self {
        let store = tradelane::daemon::open_store(config).expect("store opens");
        let host = PluginHost::new(Some(config.data_dir().join("plugin-cache"))).expect("host");
        let assembly = Assembly::build(config, &host, Some(&store), http)
            .await
            .expect("config assembles");
        Harness {
            store,
            channels: assembly.channels,
            shipping: assembly.shipping,
            settlement: assembly.settlement,
            rates: assembly.rates,
            rates_refresh: assembly.rates_refresh,
            host,
        }
    }

    /// One shipping pass of the first seller with shipping.
    pub async fn ship(&self) -> tradelane::shipping::PassReport {
        self.shipping[0]
            .run_pass(&self.store)
            .await
            .expect("shipping pass")
    }

    /// One settlement pass of the first seller with settlement.
    pub async fn settle(&self) -> tradelane::settlement::SettlementReport {
        self.settlement[0]
            .run_pass(&self.store)
            .await
            .expect("settlement pass")
    }

    /// Every shipment record.
    pub fn shipments(&self) -> Vec<tradelane::shipping::ShipmentRecord> {
        self.store.shipments(None).expect("records")
    }

    /// One pass of channel `i`.
    pub async fn pass(
        &self,
        i: usize,
    ) -> Result<tradelane::sync::PassReport, tradelane::sync::SyncError> {
        tradelane::sync::run_pass(&self.store, &self.channels[i], &Shutdown::never(), |_| {}).await
    }

    /// Every stored order of channel `channel`.
    pub fn stored(&self, channel: &str) -> Vec<StoredOrder> {
        self.store
            .list_orders(&OrderFilter {
                channel: Some(channel.into()),
                ..Default::default()
            })
            .expect("list")
    }
}

async fn get_json<T: serde::de::DeserializeOwned>(url: String) -> T {
    let response = reqwest::get(&url)
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    response
        .json()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: not the expected JSON: {e}"))
}

/// The sandbox's orders, as it holds them now.
pub async fn truth(sandbox_url: &str) -> Vec<SimOrder> {
    get_json(format!("{sandbox_url}/_sandbox/truth")).await
}

/// POST to a sandbox control endpoint.
pub async fn control(
    sandbox_url: &str,
    path_and_query: &str,
    body: Option<serde_json::Value>,
) -> serde_json::Value {
    let client = reqwest::Client::new();
    let mut req = client.post(format!("{sandbox_url}{path_and_query}"));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("control call");
    resp.json().await.unwrap_or(serde_json::Value::Null)
}

/// Every API response the sandbox served so far.
pub async fn served(sandbox_url: &str) -> Vec<serde_json::Value> {
    get_json(format!("{sandbox_url}/_sandbox/served")).await
}

/// Assert that `stored` holds exactly the sandbox's orders, every mapped
/// field equal, each once.
pub fn assert_matches_truth(stored: &[StoredOrder], truth: &[SimOrder]) {
    use tradelane::model::{FulfillmentStatus, OrderStatus, PaymentStatus};
    let mut ids: Vec<&str> = stored
        .iter()
        .map(|s| s.order.external_id.as_str())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), stored.len(), "an order is stored twice");
    assert_eq!(
        stored.len(),
        truth.len(),
        "stored {} orders, the sandbox has {}",
        stored.len(),
        truth.len()
    );
    for t in truth {
        let id = t.id.to_string();
        let s = &stored
            .iter()
            .find(|s| s.order.external_id == id)
            .unwrap_or_else(|| panic!("order {id} missing"))
            .order;
        let ctx = format!("order {id}");
        assert_eq!(s.number, t.name(), "{ctx}");
        assert_eq!(s.created_at, t.created_at, "{ctx}");
        assert_eq!(s.updated_at, t.updated_at, "{ctx}");
        assert_eq!(s.currency.code(), t.currency, "{ctx}");
        assert_eq!(
            s.totals.subtotal.amount_minor,
            t.subtotal_minor(),
            "{ctx} subtotal"
        );
        assert_eq!(
            s.totals.shipping.amount_minor, t.shipping_minor,
            "{ctx} shipping"
        );
        assert_eq!(s.totals.tax.amount_minor, t.tax_minor(), "{ctx} tax");
        assert_eq!(
            s.totals.discount.amount_minor,
            t.discount_minor(),
            "{ctx} discount"
        );
        assert_eq!(s.totals.total.amount_minor, t.total_minor(), "{ctx} total");
        let payment = match t.financial_status.as_str() {
            "paid" => PaymentStatus::Paid,
            "pending" => PaymentStatus::Pending,
            "refunded" => PaymentStatus::Refunded,
            other => panic!("{ctx}: unexpected sandbox status {other}"),
        };
        assert_eq!(s.payment_status, payment, "{ctx}");
        let fulfillment = if t.fulfillment_status.is_some() {
            FulfillmentStatus::Fulfilled
        } else {
            FulfillmentStatus::Unfulfilled
        };
        assert_eq!(s.fulfillment_status, fulfillment, "{ctx}");
        assert_eq!(
            s.status,
            if t.cancelled_at.is_some() {
                OrderStatus::Cancelled
            } else {
                OrderStatus::Open
            },
            "{ctx}"
        );
        let a = s
            .shipping_address
            .as_ref()
            .unwrap_or_else(|| panic!("{ctx}: no address"));
        assert_eq!(a.country.as_str(), t.customer.country, "{ctx}");
        assert_eq!(a.city, t.customer.city, "{ctx}");
        assert_eq!(
            a.postal_code.as_deref(),
            Some(t.customer.zip.as_str()),
            "{ctx}"
        );
        assert_eq!(
            a.region.as_deref(),
            Some(t.customer.region.as_str()),
            "{ctx}"
        );
        assert_eq!(a.line1, t.customer.address1, "{ctx}");
        let b = s
            .buyer
            .as_ref()
            .unwrap_or_else(|| panic!("{ctx}: no buyer"));
        assert_eq!(b.email.as_deref(), Some(t.customer.email.as_str()), "{ctx}");
        assert_eq!(
            b.name.as_deref(),
            Some(format!("{} {}", t.customer.first_name, t.customer.last_name).as_str()),
            "{ctx}"
        );
        assert_eq!(b.phone.as_deref(), Some(t.customer.phone.as_str()), "{ctx}");
        assert_eq!(s.line_items.len(), t.lines.len(), "{ctx}");
        for (sl, tl) in s.line_items.iter().zip(&t.lines) {
            assert_eq!(sl.external_id, tl.id.to_string(), "{ctx}");
            assert_eq!(sl.sku.as_deref(), Some(tl.sku.as_str()), "{ctx}");
            assert_eq!(sl.title, format!("{} - {}", tl.title, tl.variant), "{ctx}");
            assert_eq!(sl.quantity, tl.quantity, "{ctx}");
            assert_eq!(sl.unit_price.amount_minor, tl.price_minor, "{ctx}");
            assert_eq!(sl.discount.amount_minor, tl.discount_minor, "{ctx}");
            assert_eq!(sl.tax.amount_minor, tl.tax_minor, "{ctx}");
            assert_eq!(sl.weight_grams, Some(tl.grams), "{ctx}");
        }
        assert_eq!(s.shipping_lines.len(), 1, "{ctx}");
        assert_eq!(s.shipping_lines[0].title, t.shipping_title, "{ctx}");
        assert_eq!(
            s.shipping_lines[0].price.amount_minor, t.shipping_minor,
            "{ctx}"
        );
        assert_eq!(s.tags, t.tags, "{ctx}");
    }
}

/// Call services for a plugin call outside a configured channel.
pub fn call_services(
    plugin: &str,
    policy: tradelane::egress::HostPolicy,
    secrets: tradelane::egress::Secrets,
    egress: Arc<dyn tradelane::egress::Egress>,
) -> tradelane::host::CallServices {
    tradelane::host::CallServices {
        site: tradelane::host::CallSite {
            seller: "s1".into(),
            channel: "c1".into(),
            plugin: plugin.into(),
        },
        egress,
        channel: Arc::new(tradelane::egress::ChannelEgress {
            label: "s1/c1".into(),
            policy,
            secrets,
            bucket: None,
            operations: Default::default(),
            retry: tradelane::egress::RetryPolicy::default(),
            oauth: None,
        }),
        cache: Arc::new(tradelane::host::NoCache),
    }
}

/// A loopback policy: `declared` hosts plus `extra`, plain http allowed.
pub fn loopback_policy(declared: &[&str], extra: &[&str]) -> tradelane::egress::HostPolicy {
    let parse = |list: &[&str]| {
        list.iter()
            .map(|h| tradelane::egress::HostPattern::parse(h).expect("host pattern"))
            .collect()
    };
    tradelane::egress::HostPolicy {
        declared: parse(declared),
        narrowed: None,
        extra: parse(extra),
        allow_loopback: true,
        allow_private: false,
        follow_redirects: false,
        secrets_in_query: false,
        config_location: "config.toml:12".into(),
    }
}

/// The query of a pass's first page: everything, `page_size` at a time.
pub fn first_page(page_size: u32) -> tradelane::model::OrderQuery {
    tradelane::model::OrderQuery {
        updated_after: None,
        page_token: None,
        page_size,
    }
}

/// The `misbehave` test plugin, loaded by path as a third party's would be.
pub async fn misbehave(host: &PluginHost) -> tradelane::host::Plugin {
    let path = plugin_dir().join("misbehave.wasm");
    let bytes = std::fs::read(&path).expect("misbehave.wasm is built");
    host.load(tradelane::host::PluginSource::File(path), &bytes)
        .await
        .expect("misbehave loads")
}

/// Settings telling `misbehave` what to do (`mode`, and `url` when given).
pub fn mode(mode: &str, url: Option<&str>) -> tradelane::host::PluginSettings {
    let mut values = vec![("mode".to_string(), mode.to_string())];
    if let Some(u) = url {
        values.push(("url".into(), u.into()));
    }
    tradelane::host::PluginSettings {
        values,
        secret_names: vec![],
    }
}

/// Every shipment the sandbox carriers created, with rates, customs lines
/// and purchases.
pub async fn carrier_shipments(sandbox_url: &str) -> Vec<serde_json::Value> {
    get_json(format!("{sandbox_url}/_sandbox/carriers")).await
}

/// The sandbox's products with the customs facts tests declare for them:
/// `(sku, hs_code, origin)`.
pub const CATALOGUE: &[(&str, &str, &str)] = &[
    ("MUG-CER-BLU", "6912.00", "GB"),
    ("TEA-SEN-100", "0902.10", "JP"),
    ("KNT-SCF-GRY", "6117.10", "GB"),
    ("WAL-LTH-BRN", "4202.31", "IT"),
    ("CND-SOY-LAV", "3406.00", "GB"),
    ("PRT-A3-MAP", "4911.91", "GB"),
    ("SOC-WOL-38", "6115.94", "PT"),
    ("BAG-CNV-NAT", "4202.92", "IN"),
];

/// Packaging weight the test shipping config adds to every parcel.
pub const PACKAGING_G: u32 = 150;

/// A `[sellers.shipping]` block for seller `s1`, shipping from Leeds (GB),
/// with both sandbox carriers (`easypost`, `shippo`), reference rates into
/// GBP matching the sandbox's, the catalogue above (`omit_hs` SKUs without
/// an HS code), `options` added to the table (e.g. `dry_run = true`) and
/// `rules` (TOML of `[[sellers.shipping.rules]]` blocks).
pub fn shipping_block(sandbox_url: &str, options: &str, rules: &str, omit_hs: &[&str]) -> String {
    let mut catalogue = String::new();
    for (sku, hs, origin) in CATALOGUE {
        catalogue.push_str(&format!(
            "\n[sellers.catalogue.\"{sku}\"]\norigin_country = \"{origin}\"\n"
        ));
        // Amazon and eBay send no item weights; Shopify's win where sent.
        if let Some((_, _, _, grams, _)) = tradelane_sandbox::world::PRODUCTS
            .iter()
            .find(|p| p.0 == *sku)
        {
            catalogue.push_str(&format!("weight_g = {grams}\n"));
        }
        if !omit_hs.contains(sku) {
            catalogue.push_str(&format!("hs_code = \"{hs}\"\n"));
        }
    }
    format!(
        r#"
[sellers.shipping]
schedule = "every 1h"
value_currency = "GBP"
ioss_number = "IM3720000224"
ioss_country = "IE"
max_attempts = 4
{options}

[sellers.shipping.fx]
USD = "0.79"
EUR = "0.8587"
JPY = "0.005267"
KWD = "2.5733"
CAD = "0.5766"
AUD = "0.5197"
CHF = "0.8977"

# GST charged at sale on Australian orders is declared with the ARN, Swiss
# VAT with the seller's Swiss VAT number.
[sellers.shipping.registrations]
arn = "500000000000"
ch_vat = "CHE-123.456.788 MWST"

[sellers.shipping.ship_from]
name = "Demo Crafts Ltd"
line1 = "12 Wharf Street"
city = "Leeds"
postal_code = "LS2 7EQ"
country = "GB"

[sellers.shipping.parcel]
length_mm = 300
width_mm = 200
height_mm = 120
packaging_g = {PACKAGING_G}

[[sellers.shipping.carriers]]
id = "easypost"
plugin = "easypost"
extra_hosts = ["127.0.0.1"]
allow_loopback = true
[sellers.shipping.carriers.settings]
base_url = "{sandbox_url}"
api_key = "{EASYPOST_KEY}"

[[sellers.shipping.carriers]]
id = "shippo"
plugin = "shippo"
extra_hosts = ["127.0.0.1"]
allow_loopback = true
[sellers.shipping.carriers.settings]
base_url = "{sandbox_url}"
api_token = "{SHIPPO_TOKEN}"
{rules}
{catalogue}"#
    )
}

/// Rules that ship everything: the UK and the EU with EasyPost, the US
/// duty-paid and the rest of the world with Shippo, cheapest, no cap.
pub const SHIP_EVERYTHING: &str = r#"
[[sellers.shipping.rules]]
name = "uk and eu"
regions = ["domestic", "eu"]
carrier = "easypost"

[[sellers.shipping.rules]]
name = "us duty paid"
countries = ["US"]
carrier = "shippo"
incoterm = "ddp"

[[sellers.shipping.rules]]
name = "world"
carrier = "shippo"
"#;

/// The sandbox's payouts (with their lines) and injected discrepancies.
pub async fn settlement_truth(sandbox_url: &str) -> serde_json::Value {
    get_json(format!("{sandbox_url}/_sandbox/settlement")).await
}

/// A `[sellers.settlement]` block for seller `s1` reading the sandbox's
/// Stripe and PayPal, settling in EUR.
pub fn settlement_block(sandbox_url: &str) -> String {
    format!(
        r#"
[sellers.settlement]
currency = "EUR"
schedule = "every 1h"
unsettled_after = "7d"
history = "60d"

[[sellers.settlement.accounts]]
id = "stripe"
plugin = "stripe"
extra_hosts = ["127.0.0.1"]
allow_loopback = true
[sellers.settlement.accounts.settings]
base_url = "{sandbox_url}"
secret_key = "{STRIPE_KEY}"

[[sellers.settlement.accounts]]
id = "paypal"
plugin = "paypal"
extra_hosts = ["127.0.0.1"]
allow_loopback = true
[sellers.settlement.accounts.settings]
base_url = "{sandbox_url}"
client_id = "{PAYPAL_ID}"
client_secret = "{PAYPAL_SECRET}"
"#
    )
}

/// Run the `tradelane` binary on `config` with `args`; with `crash_at`,
/// the fault point `TRADELANE_CRASH_AT` is armed (it aborts the process
/// like `kill -9` when reached).
pub fn cli(config: &Path, args: &[&str], crash_at: Option<&str>) -> std::process::Output {
    let mut cmd = std::process::Command::new(binary());
    cmd.arg("--config").arg(config).args(args);
    match crash_at {
        Some(point) => cmd.env("TRADELANE_CRASH_AT", point),
        None => cmd.env_remove("TRADELANE_CRASH_AT"),
    };
    cmd.output().expect("run tradelane")
}

/// Assert a command succeeded; its standard output.
pub fn succeeded(out: &std::process::Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every paid order: one label at the carriers, one fulfillment on Shopify
/// with that label's tracking number.
pub async fn assert_each_shipped_once(url: &str, context: &str) {
    let truth = truth(url).await;
    let carriers = carrier_shipments(url).await;
    let mut shipped = 0;
    for o in &truth {
        let labels: Vec<&serde_json::Value> = carrier_labels(&carriers, "shop", &o.id.to_string())
            .into_iter()
            .map(|(_, purchase)| purchase)
            .collect();
        if o.financial_status == "paid" && o.cancelled_at.is_none() {
            shipped += 1;
            assert_eq!(
                labels.len(),
                1,
                "{context}: order {} has {} labels",
                o.id,
                labels.len()
            );
            assert_eq!(
                o.fulfillments.len(),
                1,
                "{context}: order {} fulfillments",
                o.id
            );
            assert_eq!(
                o.fulfillments[0].tracking_number,
                labels[0]["tracking_number"].as_str().unwrap()
            );
        } else {
            assert!(
                labels.is_empty() && o.fulfillments.is_empty(),
                "{context}: order {}",
                o.id
            );
        }
    }
    assert!(shipped >= 3, "{context}: {shipped} paid orders");
}

/// The consignment of EasyPost's own cassette (US → US), in the SDK's
/// model: what the carrier fixture tests and conformance runs ship.
pub fn cassette_shipment() -> tradelane_plugin_sdk::Shipment {
    use tradelane_plugin_sdk::{
        Address, CustomsLine, Incoterm, LabelFormat, Money, Parcel, Shipment,
    };
    let usd = |amount_minor| Money {
        amount_minor,
        currency: "USD".into(),
    };
    let address = |name: &str, line1: &str, line2: Option<&str>, city: &str, zip: &str| Address {
        name: Some(name.into()),
        company: None,
        line1: line1.into(),
        line2: line2.map(Into::into),
        city: city.into(),
        region: Some("CA".into()),
        postal_code: Some(zip.into()),
        country: "US".into(),
        phone: Some("5555555555".into()),
        email: Some("test@example.com".into()),
    };
    Shipment {
        reference: "123".into(),
        ship_from: address(
            "Jack Sparrow",
            "388 Townsend St",
            Some("Apt 20"),
            "San Francisco",
            "94107",
        ),
        ship_to: address(
            "Elizabeth Swan",
            "179 N Harbor Dr",
            None,
            "Redondo Beach",
            "90277",
        ),
        // 10 × 8 × 4 in, 15.4 oz
        parcels: vec![Parcel {
            length_mm: 254,
            width_mm: 203,
            height_mm: 102,
            weight_grams: 437,
        }],
        customs: vec![CustomsLine {
            sku: None,
            description: "Sweet shirts".into(),
            hs_code: Some("654321".into()),
            origin_country: "US".into(),
            quantity: 2,
            value: usd(2325),
            // 11 oz
            weight_grams: 312,
            gtin: None,
        }],
        incoterm: Incoterm::Dap,
        tax_ids: Vec::new(),
        label_format: LabelFormat::Png,
    }
}

/// The purchases the sandbox carriers made for `order` of `channel` (of
/// seller `s1`): `(shipment, purchase)` pairs.
pub fn carrier_labels<'a>(
    carriers: &'a [serde_json::Value],
    channel: &str,
    order: &str,
) -> Vec<(&'a serde_json::Value, &'a serde_json::Value)> {
    let prefix = format!("label:s1:{channel}:{order}:");
    carriers
        .iter()
        .filter(|s| {
            s["reference"]
                .as_str()
                .is_some_and(|r| r.starts_with(&prefix))
        })
        .flat_map(|s| {
            s["purchases"]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |p| (s, p))
        })
        .collect()
}

/// What `tradelane connect` printed around a seller's consent.
pub struct Consented {
    /// The consent page it sent the seller to.
    pub consent: String,
    /// The address the consent page redirected to (what was pasted back).
    pub location: String,
    /// Everything it printed after the paste.
    pub output: String,
}

/// Run `tradelane connect TARGET` on `config` as a seller would: open the
/// consent page it prints (the sandbox's agrees at once and redirects),
/// paste back the address the browser was sent to, and wait for it to
/// succeed.
pub async fn connect_by_consent(config: &Path, target: &str) -> Consented {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::{Command, Stdio};
    let mut child = Command::new(binary())
        .arg("--config")
        .arg(config)
        .args(["connect", target])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let consent = loop {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "connect printed no consent URL"
        );
        if line.trim_start().starts_with("http") {
            break line.trim().to_string();
        }
    };
    let redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(&consent)
        .send()
        .await
        .unwrap();
    let location = redirect.headers()["location"].to_str().unwrap().to_string();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{location}").unwrap();
    drop(stdin);
    let mut output = String::new();
    out.read_to_string(&mut output).unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "connect failed: {output}{err}");
    Consented {
        consent,
        location,
        output,
    }
}

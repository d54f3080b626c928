//! Contract versions: plugins built for contracts 0.1.0, 0.2.0 and 0.3.0
//! (the Shopify, EasyPost and eBay plugins as they were built then, kept as
//! binary fixtures) still load, and sync exactly, through the frozen
//! bindings and `Conv`.

use tradelane::host::{PluginHost, PluginSource};
use tradelane_tests::*;

fn v0_1_shopify() -> std::path::PathBuf {
    fixtures().join("plugins/shopify-contract-0.1.0.wasm")
}

fn v0_2(name: &str) -> std::path::PathBuf {
    fixtures().join(format!("plugins/{name}-contract-0.2.0.wasm"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_0_2_plugin_of_each_kind_loads_and_says_so() {
    let host = PluginHost::new(None).unwrap();
    for name in ["shopify", "easypost"] {
        let wasm = std::fs::read(v0_2(name)).unwrap();
        let plugin = host
            .load(PluginSource::File(v0_2(name)), &wasm)
            .await
            .unwrap_or_else(|e| panic!("a 0.2.0 {name} plugin loads: {e:#}"));
        assert_eq!(plugin.manifest.contract_version, "0.2.0");
        assert_eq!(plugin.manifest.name, name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_0_2_plugin_syncs_exactly_and_says_nothing_of_gateways() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = sandbox(60, 3).await;
    let channel = shopify_channel("old", &sandbox.url(), TOKEN, 25).replace(
        "plugin = \"shopify\"",
        &format!("plugin = \"{}\"", v0_2("shopify").display()),
    );
    let text = config_text(&dir.path().join("data"), &[channel]);
    let (_, config) = write_config(dir.path(), &text);
    let h = Harness::new(&config).await;
    let report = h.pass(0).await.expect("a pass through a 0.2 plugin");
    assert_eq!((report.pages, report.created), (3, 60));
    let stored = h.stored("old");
    assert_matches_truth(&stored, &truth(&sandbox.url()).await);
    assert!(
        stored
            .iter()
            .all(|o| o.order.payment_gateways.is_empty() && o.order.presentment_total.is_none()),
        "0.2 orders get 0.3's defaults"
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_0_1_plugin_loads_and_says_so() {
    let host = PluginHost::new(None).unwrap();
    let wasm = std::fs::read(v0_1_shopify()).unwrap();
    let plugin = host
        .load(PluginSource::File(v0_1_shopify()), &wasm)
        .await
        .expect("a 0.1.0 plugin loads");
    assert_eq!(plugin.manifest.contract_version, "0.1.0");
    assert_eq!(plugin.manifest.name, "shopify");
    assert!(plugin.manifest.oauth.is_empty());
    assert!(plugin.manifest.rate_limit.is_some(), "0.1 rate limit kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_0_1_plugin_syncs_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = sandbox(60, 3).await;
    let channel = shopify_channel("old", &sandbox.url(), TOKEN, 25).replace(
        "plugin = \"shopify\"",
        &format!("plugin = \"{}\"", v0_1_shopify().display()),
    );
    let text = config_text(&dir.path().join("data"), &[channel]);
    let (_, config) = write_config(dir.path(), &text);
    let h = Harness::new(&config).await;
    let report = h.pass(0).await.expect("a pass through a 0.1 plugin");
    assert_eq!((report.pages, report.created), (3, 60));
    let stored = h.stored("old");
    assert_matches_truth(&stored, &truth(&sandbox.url()).await);
    assert!(
        stored.iter().all(
            |o| o.order.fulfilled_by == tradelane::model::FulfilledBy::Seller
                && o.order.marketplace.is_none()
        ),
        "0.1 orders get 0.2's defaults"
    );
    sandbox.shutdown().await;
}

fn v0_3_ebay() -> std::path::PathBuf {
    fixtures().join("plugins/ebay-contract-0.3.0.wasm")
}

/// A 0.3 plugin with a host-managed OAuth client (whose client
/// authentication grew a case in 0.4) loads, refreshes its token and syncs
/// every order exactly as the current eBay plugin does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_0_3_oauth_plugin_loads_refreshes_and_syncs_exactly() {
    let host = PluginHost::new(None).unwrap();
    let wasm = std::fs::read(v0_3_ebay()).unwrap();
    let plugin = host
        .load(PluginSource::File(v0_3_ebay()), &wasm)
        .await
        .unwrap_or_else(|e| panic!("a 0.3.0 eBay plugin loads: {e:#}"));
    assert_eq!(plugin.manifest.contract_version, "0.3.0");
    assert_eq!(
        plugin.manifest.oauth[0].client_auth,
        tradelane::model::OAuthClientAuth::Basic
    );

    let mut c = sandbox_config(0, 5);
    c.ebay_orders = 30;
    let sandbox = tradelane_sandbox::Sandbox::start(c).await.unwrap();
    let url = sandbox.url();
    let dir = tempfile::tempdir().unwrap();
    let old = ebay_channel("old", &url, 10).replace(
        "plugin = \"ebay\"",
        &format!("plugin = \"{}\"", v0_3_ebay().display()),
    );
    let text = config_text(
        &dir.path().join("data"),
        &[old, ebay_channel("new", &url, 10)],
    );
    let (_, config) = write_config(dir.path(), &text);
    let h = Harness::new(&config).await;
    h.pass(0).await.expect("a pass through a 0.3 plugin");
    h.pass(1).await.expect("a pass through the current plugin");
    let key = |o: &tradelane::store::StoredOrder| serde_json::to_string(&o.order).unwrap();
    let mut old: Vec<String> = h.stored("old").iter().map(key).collect();
    let mut new: Vec<String> = h.stored("new").iter().map(key).collect();
    old.sort();
    new.sort();
    assert_eq!(old.len(), 30);
    assert_eq!(old, new, "the same orders, field for field");
    sandbox.shutdown().await;
}

//! Contract versions: plugins built for contract 0.1.0 and 0.2.0 (the
//! Shopify and EasyPost plugins as they were built then, kept as binary
//! fixtures) still load, and sync exactly, through the frozen bindings and
//! `Conv`.

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

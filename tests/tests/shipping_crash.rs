//! The real `tradelane` binary shipping against a sandbox on loopback:
//! killed at every state boundary of the shipping workflow (a fault point
//! aborts the process like `kill -9`), then restarted, every paid order
//! still ends with exactly one label and one fulfillment; and the daemon's
//! shipment commands through the admin socket.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tradelane::crash::CrashPoint;
use tradelane_tests::*;

fn only(carrier: &str) -> String {
    // Duty-paid: a US parcel sent by post may not travel DAP.
    format!("\n[[sellers.shipping.rules]]\ncarrier = \"{carrier}\"\nincoterm = \"ddp\"\n")
}

/// Copy a warm compile cache so each scenario does not recompile the plugins.
fn warm(cache: &Option<PathBuf>, data_dir: &Path) {
    if let Some(src) = cache {
        let dst = data_dir.join("plugin-cache");
        std::fs::create_dir_all(&dst).unwrap();
        for entry in std::fs::read_dir(src).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), dst.join(entry.file_name())).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_every_state_boundary_still_ships_each_order_once() {
    let mut cache: Option<PathBuf> = None;
    let _keep = tempfile::tempdir().unwrap();
    for carrier in ["easypost", "shippo"] {
        for &(point, _) in CrashPoint::shipping() {
            let context = format!("{carrier}, crash {point}");
            let sandbox = sandbox(6, 11).await;
            let url = sandbox.url();
            let dir = tempfile::tempdir().unwrap();
            let text = config_text(
                dir.path(),
                &[
                    shopify_channel("shop", &url, TOKEN, 50),
                    shipping_block(&url, "", &only(carrier), &[]),
                ],
            );
            let (config, _) = write_config(dir.path(), &text);
            warm(&cache, dir.path());
            succeeded(&cli(&config, &["sync", "--once"], None), "sync");
            if cache.is_none() {
                let keep = _keep.path().join("plugin-cache");
                std::fs::create_dir_all(&keep).unwrap();
                for entry in std::fs::read_dir(dir.path().join("plugin-cache")).unwrap() {
                    let entry = entry.unwrap();
                    std::fs::copy(entry.path(), keep.join(entry.file_name())).unwrap();
                }
                cache = Some(keep);
            }
            let crashed = cli(&config, &["ship", "--once"], Some(point));
            assert!(
                !crashed.status.success(),
                "{context}: the fault point fires"
            );
            let stderr = String::from_utf8_lossy(&crashed.stderr);
            assert!(stderr.contains("crash point"), "{context}: {stderr}");
            succeeded(&cli(&config, &["ship", "--once"], None), &context);
            // The channel now reports the orders fulfilled; nothing more happens.
            succeeded(&cli(&config, &["sync", "--once"], None), "sync");
            succeeded(&cli(&config, &["ship", "--once"], None), &context);
            assert_each_shipped_once(&url, &context).await;

            let listed = succeeded(
                &cli(&config, &["shipments", "list", "--format", "json"], None),
                "list",
            );
            let records: Vec<Value> = listed
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            assert!(
                records.iter().all(|r| r["status"] == "done"),
                "{context}: {listed}"
            );
            if point == "after-buy-call" {
                let adopted = records.iter().filter(|r| {
                    r["history"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|h| h["note"].as_str().unwrap().contains("adopted label"))
                });
                assert_eq!(
                    adopted.count(),
                    1,
                    "{context}: the crashed purchase was adopted"
                );
            }
            sandbox.shutdown().await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_ships_on_its_own_and_answers_shipment_commands() {
    let sandbox = sandbox(8, 7).await;
    let url = sandbox.url();
    let dir = tempfile::tempdir().unwrap();
    let text = config_text(
        dir.path(),
        &[
            shopify_channel("shop", &url, TOKEN, 50),
            shipping_block(&url, "", SHIP_EVERYTHING, &[]),
        ],
    );
    let (config, _) = write_config(dir.path(), &text);
    let truth0 = truth(&url).await;
    let paid: Vec<_> = truth0
        .iter()
        .filter(|o| o.financial_status == "paid")
        .collect();
    let mut daemon = Command::new(binary())
        .arg("--config")
        .arg(&config)
        .arg("run")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start tradelane run");
    // Shipping runs right after the first sync brings orders.
    let deadline = Instant::now() + Duration::from_secs(60);
    let records: Vec<Value> = loop {
        let out = cli(
            &config,
            &["shipments", "list", "--state", "done", "--format", "json"],
            None,
        );
        if out.status.success() {
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            let records: Vec<Value> = text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            if records.len() == paid.len() {
                break records;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the daemon did not ship {} orders in 60 s",
            paid.len()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let number = records[0]["order_number"]
        .as_str()
        .unwrap()
        .trim_start_matches('#')
        .to_string();
    // Through the admin socket while the daemon holds the store.
    let label = cli(&config, &["labels", "print", &number], None);
    assert!(succeeded(&label, "labels print").starts_with("%PDF-1.4"));
    // The customs forms of a shipment that crossed a border, by the same way.
    let declared = records
        .iter()
        .find(|r| {
            r["shipment"]["customs"]
                .as_array()
                .is_some_and(|c| !c.is_empty())
        })
        .expect("some order crossed a customs border");
    let declared = declared["order_number"]
        .as_str()
        .unwrap()
        .trim_start_matches('#')
        .to_string();
    let invoice = cli(&config, &["labels", "print", &declared, "--forms"], None);
    let invoice = succeeded(&invoice, "labels print --forms");
    assert!(invoice.starts_with("%PDF-1.4") && invoice.contains("COMMERCIAL INVOICE"));
    let listed = cli(
        &config,
        &["labels", "print", &declared, "--forms", "--path"],
        None,
    );
    assert!(
        succeeded(&listed, "--forms --path")
            .trim_end()
            .ends_with("-commercial-invoice-0.pdf")
    );
    let shown = succeeded(
        &cli(&config, &["shipments", "show", &declared], None),
        "show",
    );
    assert!(
        shown.contains("customs form: commercial-invoice"),
        "{shown}"
    );
    let shown = succeeded(&cli(&config, &["shipments", "show", &number], None), "show");
    assert!(
        shown.contains("status done at stage pushed") && shown.contains("  label: "),
        "{shown}"
    );
    let refused = cli(&config, &["shipments", "hold", &number], None);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("already shipped"));
    let status = succeeded(&cli(&config, &["status"], None), "status");
    assert!(status.contains("s1/shipping"), "{status}");
    terminate(daemon.id());
    assert!(daemon.wait().unwrap().success(), "SIGTERM stops cleanly");
    assert_each_shipped_once(&url, "daemon").await;
}

/// SIGTERM.
fn terminate(pid: u32) {
    Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status()
        .unwrap();
}

/// Each marketplace's push path, killed where a push is most at risk:
/// before it (the label stored) and after it (the marketplace has the
/// tracking, tradelane has not recorded it). The restart adopts what the
/// marketplace already has: every order ends with one label and one
/// fulfillment on its own marketplace (Amazon, eBay, WooCommerce by
/// tracking item or by note, and Etsy).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_around_marketplace_pushes_still_pushes_each_once() {
    // WooCommerce twice: through the Shipment Tracking extension, and by
    // order notes on a store without it. Neither de-duplicates.
    for (channel, market, extension) in [
        ("amazon", "amazon", true),
        ("ebay", "ebay", true),
        ("woo", "woocommerce", true),
        ("woo", "woocommerce", false),
        ("etsy", "etsy", true),
    ] {
        for point in ["after-stored", "after-push-call"] {
            let context = format!("{channel} (extension {extension}), crash {point}");
            let mut c = sandbox_config(0, 11);
            c.amazon_orders = 40;
            c.ebay_orders = 12;
            c.woocommerce_orders = 12;
            c.woocommerce_shipment_tracking = extension;
            c.etsy_orders = 12;
            let sandbox = tradelane_sandbox::Sandbox::start(c).await.unwrap();
            let url = sandbox.url();
            let dir = tempfile::tempdir().unwrap();
            let block = match channel {
                "amazon" => amazon_channel("amazon", &url, 100),
                "woo" => woocommerce_channel("woo", &url, 100, ""),
                "etsy" => etsy_channel("etsy", &url, 100, ""),
                _ => ebay_channel("ebay", &url, 100),
            };
            let text = config_text(
                dir.path(),
                &[block, shipping_block(&url, "", &only("easypost"), &[])],
            );
            let (config, _) = write_config(dir.path(), &text);
            succeeded(&cli(&config, &["sync", "--once"], None), "sync");
            let crashed = cli(&config, &["ship", "--once"], Some(point));
            assert!(
                !crashed.status.success(),
                "{context}: the fault point fires"
            );
            succeeded(&cli(&config, &["ship", "--once"], None), &context);
            succeeded(&cli(&config, &["sync", "--once"], None), "sync");
            succeeded(&cli(&config, &["ship", "--once"], None), &context);

            let truth = market_truth(&url, market).await;
            let pushed: usize = truth
                .iter()
                .map(|o| {
                    let pushes = if extension { "fulfillments" } else { "notes" };
                    let n = o[pushes].as_array().unwrap().len();
                    assert!(n <= 1, "{context}: {} pushed {n} times", o["market_id"]);
                    n
                })
                .sum();
            let prefix = format!("label:s1:{channel}:");
            let labels: usize = carrier_shipments(&url)
                .await
                .iter()
                .filter(|s| {
                    s["reference"]
                        .as_str()
                        .is_some_and(|r| r.starts_with(&prefix))
                })
                .map(|s| s["purchases"].as_array().map_or(0, Vec::len))
                .sum();
            let listed = succeeded(
                &cli(&config, &["shipments", "list", "--format", "json"], None),
                "list",
            );
            let done = listed
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap())
                .filter(|r| r["status"] == "done")
                .count();
            assert!(pushed >= 3, "{context}: {pushed} pushed");
            assert_eq!(
                (labels, done),
                (pushed, pushed),
                "{context}: one label, one push, one record each"
            );
            sandbox.shutdown().await;
        }
    }
}

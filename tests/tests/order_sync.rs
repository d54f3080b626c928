//! Order sync end to end: sandbox on loopback → Shopify plugin (wasm) →
//! egress → sled, driven through the library's sync engine.

use tradelane::sync::{ORDERS, SyncError};
use tradelane_sandbox::SandboxFaults;
use tradelane_tests::*;

async fn setup(
    orders: u32,
    page_size: u32,
) -> (tempfile::TempDir, tradelane_sandbox::Sandbox, Harness) {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = sandbox(orders, 11).await;
    let text = config_text(
        &dir.path().join("data"),
        &[shopify_channel("shop", &sandbox.url(), TOKEN, page_size)],
    );
    let (_, config) = write_config(dir.path(), &text);
    let harness = Harness::new(&config).await;
    (dir, sandbox, harness)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_sync_imports_exactly_the_sandbox_orders_then_only_changes() {
    let (_dir, sandbox, h) = setup(120, 50).await;
    let report = h.pass(0).await.expect("first pass");
    assert_eq!((report.pages, report.created, report.updated), (3, 120, 0));
    assert_matches_truth(&h.stored("shop"), &truth(&sandbox.url()).await);

    // New orders arrive and some change; the next pass picks up just those.
    let served_before = served(&sandbox.url()).await.len();
    let changes = control(&sandbox.url(), "/_sandbox/tick?new=4&updates=3", None).await;
    let created = changes["created"].as_array().unwrap().len() as u32;
    let report = h.pass(0).await.expect("second pass");
    assert_eq!(report.created, created);
    assert!(report.updated >= 1, "{report:?}");
    assert_matches_truth(&h.stored("shop"), &truth(&sandbox.url()).await);
    let second: Vec<_> = served(&sandbox.url())
        .await
        .into_iter()
        .skip(served_before)
        .collect();
    assert!(
        second
            .iter()
            .all(|s| s["path"].as_str().unwrap().contains("updated_at_min")
                || s["path"].as_str().unwrap().contains("page_info"))
    );
    let reread: usize = second
        .iter()
        .map(|s| s["order_ids"].as_array().unwrap().len())
        .sum();
    assert!(
        reread < 124,
        "the second pass re-read {reread} orders: it should read the lookback window, not everything"
    );
    // A third pass with no changes writes nothing.
    let report = h.pass(0).await.expect("third pass");
    assert_eq!((report.created, report.updated), (0, 0));
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_429_bursts_and_5xx_every_order_lands_exactly_once() {
    let (_dir, sandbox, h) = setup(150, 25).await;
    sandbox.set_faults(SandboxFaults {
        error_percent: 25,
        burst_429_every: 5,
        ..Default::default()
    });
    let mut passes = 0;
    loop {
        passes += 1;
        match h.pass(0).await {
            Ok(_) => break,
            Err(e) => assert!(passes < 10, "still failing after {passes} passes: {e}"),
        }
    }
    let statuses: Vec<u64> = served(&sandbox.url())
        .await
        .iter()
        .map(|s| s["status"].as_u64().unwrap())
        .collect();
    assert!(
        statuses.contains(&429) && statuses.iter().any(|s| *s >= 500),
        "faults were injected: {statuses:?}"
    );
    sandbox.set_faults(SandboxFaults::default());
    assert_matches_truth(&h.stored("shop"), &truth(&sandbox.url()).await);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_or_truncated_page_fails_the_pass_without_moving_the_cursor() {
    let (_dir, sandbox, h) = setup(60, 20).await;
    h.pass(0).await.expect("clean first pass");
    let cursor = h.store.cursor("s1", "shop", ORDERS).unwrap();
    control(&sandbox.url(), "/_sandbox/tick?new=30", None).await;

    for faults in [
        SandboxFaults {
            malformed_percent: 100,
            ..Default::default()
        },
        SandboxFaults {
            truncate_percent: 100,
            ..Default::default()
        },
    ] {
        sandbox.set_faults(faults);
        let err = h.pass(0).await.expect_err("a bad page fails the pass");
        let text = err.to_string();
        assert!(
            matches!(err, SyncError::Call(_))
                && text.contains("invalid response")
                && text.contains("channel `shop`"),
            "{text}"
        );
        let after = h.store.cursor("s1", "shop", ORDERS).unwrap();
        assert_eq!(
            after.watermark, cursor.watermark,
            "the watermark must not move"
        );
        assert_eq!(
            h.stored("shop").len(),
            60,
            "nothing from the bad page is stored"
        );
    }
    sandbox.set_faults(SandboxFaults::default());
    let report = h.pass(0).await.expect("the next clean pass completes");
    assert_eq!(report.created, 30);
    assert_matches_truth(&h.stored("shop"), &truth(&sandbox.url()).await);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_updated_exactly_at_the_cursor_boundary_is_not_lost() {
    let (_dir, sandbox, h) = setup(40, 15).await;
    h.pass(0).await.expect("first pass");
    let (boundary, boundary_id) = h
        .store
        .cursor("s1", "shop", ORDERS)
        .unwrap()
        .watermark
        .expect("a watermark");
    // Another order changes and lands exactly on the watermark's timestamp.
    let truth_now = truth(&sandbox.url()).await;
    let other = truth_now
        .iter()
        .find(|o| o.id.to_string() != boundary_id)
        .unwrap()
        .id;
    let at = boundary.to_rfc3339();
    let url = format!(
        "/_sandbox/touch?id={other}&updated_at={}",
        at.replace('+', "%2B")
    );
    reqwest::Client::new()
        .post(format!("{}{url}", sandbox.url()))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    let report = h.pass(0).await.expect("second pass");
    assert_eq!(report.updated, 1, "{report:?}");
    let stored = h.stored("shop");
    let touched = stored
        .iter()
        .find(|s| s.order.external_id == other.to_string())
        .unwrap();
    assert_eq!(touched.order.updated_at, boundary);
    assert_matches_truth(&stored, &truth(&sandbox.url()).await);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_stop_with_what_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = sandbox(5, 1).await;
    let text = config_text(
        &dir.path().join("data"),
        &[shopify_channel("shop", &sandbox.url(), "wrong-token", 50)],
    );
    let (_, config) = write_config(dir.path(), &text);
    let h = Harness::new(&config).await;
    let Err(SyncError::Call(e)) = h.pass(0).await else {
        panic!("auth must fail")
    };
    assert!(
        matches!(e.remedy(), tradelane::host::Remedy::Fix(what) if what.contains("credentials")),
        "{e}"
    );
    assert!(
        e.to_string().contains("credentials refused") && e.to_string().contains("HTTP 401"),
        "{e}"
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracking_pushed_through_the_fulfillment_orders_flow_lands_once() {
    let (_dir, sandbox, h) = setup(10, 50).await;
    h.pass(0).await.expect("sync");
    let order = h
        .stored("shop")
        .into_iter()
        .find(|o| o.order.fulfillment_status == tradelane::model::FulfillmentStatus::Unfulfilled)
        .unwrap()
        .order;
    let channel = &h.channels[0];
    let fulfillment = tradelane::model::Fulfillment {
        order_external_id: order.external_id.clone(),
        carrier: "DHL Express".into(),
        service: Some("Express Worldwide".into()),
        tracking_number: "JD014600003828479212".into(),
        tracking_url: Some("https://www.dhl.com/track?id=JD014600003828479212".into()),
        shipped_at: chrono::Utc::now(),
        lines: Vec::new(),
        notify_buyer: true,
    };
    let push = || channel.account.push_fulfillment(&fulfillment);
    let first = push().await.expect("push");
    // Pushing the same tracking again (a retry after a crash) adopts the first one.
    let again = push().await.expect("push again");
    assert_eq!(first, again);
    let truth = truth(&sandbox.url()).await;
    let sim = truth
        .iter()
        .find(|o| o.id.to_string() == order.external_id)
        .unwrap();
    assert_eq!(
        sim.fulfillments.len(),
        1,
        "exactly one fulfillment on the channel"
    );
    assert_eq!(sim.fulfillments[0].tracking_number, "JD014600003828479212");
    assert_eq!(sim.fulfillments[0].tracking_company, "DHL Express");
    assert_eq!(sim.fulfillments[0].id.to_string(), first);
    // The next sync sees the order fulfilled.
    h.pass(0).await.expect("sync after push");
    let stored = h
        .stored("shop")
        .into_iter()
        .find(|o| o.order.external_id == order.external_id)
        .unwrap();
    assert_eq!(
        stored.order.fulfillment_status,
        tradelane::model::FulfillmentStatus::Fulfilled
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_example_plugin_syncs_from_example_shop() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = sandbox(30, 8).await;
    let channel = format!(
        "\n[[sellers.channels]]\nid = \"ex\"\nplugin = \"example\"\nextra_hosts = [\"127.0.0.1\"]\nallow_loopback = true\npage_size = 7\n[sellers.channels.settings]\nbase_url = \"{}\"\napi_key = \"{TOKEN}\"\n",
        sandbox.url()
    );
    let (_, config) = write_config(
        dir.path(),
        &config_text(&dir.path().join("data"), &[channel]),
    );
    let h = Harness::new(&config).await;
    let report = h.pass(0).await.expect("example plugin pass");
    assert_eq!((report.pages, report.created), (5, 30));
    let truth = truth(&sandbox.url()).await;
    for s in h.stored("ex") {
        let t = truth
            .iter()
            .find(|t| t.id.to_string() == s.order.external_id)
            .unwrap();
        assert_eq!(s.order.number, format!("EX-{}", t.number));
        assert_eq!(
            s.order.totals.total.amount_minor,
            t.line_items_minor() + t.shipping_minor
        );
        assert_eq!(s.order.line_items.len(), t.lines.len());
    }
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_call_limit_header_paces_the_host_under_shopifys_bucket() {
    // 50 one-order pages against Shopify's 40-request bucket (2/s refill):
    // the host's token bucket, lowered by X-Shopify-Shop-Api-Call-Limit,
    // must keep the daemon under the limit instead of hammering into 429s.
    let (_dir, sandbox, h) = setup(50, 1).await;
    sandbox.set_faults(SandboxFaults {
        rate_limit: true,
        ..Default::default()
    });
    let started = std::time::Instant::now();
    let report = h.pass(0).await.expect("pass under the rate limit");
    assert_eq!(report.created, 50);
    let throttled = served(&sandbox.url())
        .await
        .iter()
        .filter(|s| s["status"] == 429)
        .count();
    assert!(throttled <= 2, "{throttled} requests were refused with 429");
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(3),
        "requests beyond the burst must be paced"
    );
    assert_matches_truth(&h.stored("shop"), &truth(&sandbox.url()).await);
    sandbox.shutdown().await;
}

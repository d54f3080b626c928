//! WooCommerce end to end: the sandbox store's REST API v3 on loopback →
//! the real wasm plugin → sled, through each trap the real API sets. Each
//! trap is shown twice: a naive client (plain HTTP, as many integrations
//! are written) falls into it, and the plugin through the host does not.

use serde_json::Value;
use tradelane::model::{FulfillmentStatus, OrderStatus, PaymentStatus};
use tradelane::store::StoredOrder;
use tradelane::sync::SyncError;
use tradelane_sandbox::{Sandbox, SandboxConfig, SandboxFaults};
use tradelane_tests::*;

async fn start(orders: u32, adjust: impl FnOnce(&mut SandboxConfig)) -> Sandbox {
    let mut config = sandbox_config(3, 31);
    config.woocommerce_orders = orders;
    adjust(&mut config);
    Sandbox::start(config).await.expect("sandbox starts")
}

fn time(v: &Value) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap()
}

/// A naive reader: `GET /orders` with `query`, the store's key as Basic.
async fn naive(url: &str, query: &str) -> reqwest::Response {
    let c = SandboxConfig::default();
    reqwest::Client::new()
        .get(format!("{url}/wp-json/wc/v3/orders?{query}"))
        .basic_auth(
            c.woocommerce_consumer_key,
            Some(c.woocommerce_consumer_secret),
        )
        .send()
        .await
        .unwrap()
}

async fn naive_ids(url: &str, query: &str) -> Vec<String> {
    let page: Vec<Value> = naive(url, query).await.json().await.unwrap();
    page.iter().map(|o| o["id"].to_string()).collect()
}

/// Every order the store holds, stored once with its money exact.
fn assert_matches_store(stored: &[StoredOrder], truth: &[Value]) {
    assert_eq!(stored.len(), truth.len(), "each order stored once");
    for t in truth {
        let id = t["market_id"].as_str().unwrap();
        let s = &by_id(stored, id)
            .unwrap_or_else(|| panic!("{id} missing"))
            .order;
        let sim: tradelane_sandbox::SimOrder = serde_json::from_value(t.clone()).unwrap();
        assert_eq!(s.number, format!("#{id}"));
        assert_eq!(s.currency.code(), sim.currency, "{id}");
        assert_eq!(s.created_at, sim.created_at, "{id}");
        assert_eq!(s.updated_at, sim.updated_at, "{id}");
        assert_eq!(s.totals.total.amount_minor, sim.total_minor(), "{id} total");
        assert_eq!(
            s.totals.subtotal.amount_minor,
            sim.subtotal_minor(),
            "{id} subtotal"
        );
        assert_eq!(s.totals.tax.amount_minor, sim.tax_minor(), "{id} tax");
        assert_eq!(s.totals.shipping.amount_minor, sim.shipping_minor, "{id}");
        assert_eq!(s.totals.discount.amount_minor, sim.discount_minor(), "{id}");
        assert!(!s.taxes_included, "{id}: line totals are before tax");
        for (line, l) in s.line_items.iter().zip(&sim.lines) {
            assert_eq!(line.unit_price.amount_minor, l.price_minor, "{id}");
            assert_eq!(line.discount.amount_minor, l.discount_minor, "{id}");
            assert_eq!(line.tax.amount_minor, l.tax_minor, "{id}");
            assert_eq!(line.sku.as_deref(), Some(l.sku.as_str()), "{id}");
        }
        let expected = match (sim.financial_status.as_str(), sim.cancelled_at.is_some()) {
            ("refunded", _) => PaymentStatus::Refunded,
            ("paid", _) => PaymentStatus::Paid,
            _ => PaymentStatus::Pending,
        };
        assert_eq!(s.payment_status, expected, "{id}");
        let fulfilled = sim.fulfillment_status.as_deref() == Some("fulfilled");
        assert_eq!(
            s.fulfillment_status,
            if fulfilled {
                FulfillmentStatus::Fulfilled
            } else {
                FulfillmentStatus::Unfulfilled
            },
            "{id}"
        );
        if sim.cancelled_at.is_some() {
            assert_ne!(s.status, OrderStatus::Open, "{id}");
        }
        let address = s.shipping_address.as_ref().unwrap();
        assert_eq!(address.country.as_str(), sim.customer.country, "{id}");
        assert_eq!(address.city, sim.customer.city, "{id}");
        let gateway = match tradelane_sandbox::woocommerce::gateway(sim.id).0 {
            "ppcp-gateway" => "paypal",
            other => other,
        };
        assert_eq!(s.payment_gateways, vec![gateway.to_string()], "{id}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_order_lands_exactly_once_with_exact_money() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start(70, |_| {}).await;
    let url = sandbox.url();
    let h = Harness::new(&harness_config(
        dir.path(),
        &[woocommerce_channel("woo", &url, 25, "")],
    ))
    .await;
    h.pass(0).await.expect("pass");
    assert_matches_store(&h.stored("woo"), &market_truth(&url, "woocommerce").await);
    // Pages are offsets over orders sorted by modification, dates in GMT,
    // and no Link header is ever followed.
    let served = served(&url).await;
    let pages: Vec<&str> = served
        .iter()
        .filter_map(|s| s["path"].as_str())
        .filter(|p| p.starts_with("/wp-json/wc/v3/orders?"))
        .collect();
    assert!(pages.len() >= 3, "{pages:?}");
    for p in &pages {
        assert!(
            p.contains("dates_are_gmt=true")
                && p.contains("orderby=modified")
                && p.contains("order=asc")
                && p.contains("offset="),
            "{p}"
        );
    }
    sandbox.shutdown().await;
}

/// `modified_after` is exclusive: an order modified in the very second the
/// last pass ended on is invisible to a reader that sends that second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_changed_in_the_cursors_own_second_is_not_missed() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start(12, |_| {}).await;
    let url = sandbox.url();
    let h = Harness::new(&harness_config(
        dir.path(),
        &[woocommerce_channel("woo", &url, 50, "")],
    ))
    .await;
    h.pass(0).await.expect("first pass");
    let truth = market_truth(&url, "woocommerce").await;
    let newest = truth.iter().map(|t| time(&t["updated_at"])).max().unwrap();
    // Another order changes within the newest order's second.
    let other = truth
        .iter()
        .find(|t| time(&t["updated_at"]) < newest)
        .unwrap();
    let (sim_id, id) = (
        other["id"].as_u64().unwrap(),
        other["market_id"].as_str().unwrap(),
    );
    let at = newest.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    control(
        &url,
        &format!("/_sandbox/touch?market=woocommerce&id={sim_id}&updated_at={at}"),
        None,
    )
    .await;

    let bound = newest.format("%Y-%m-%dT%H:%M:%SZ");
    let naive = naive_ids(&url, &format!("modified_after={bound}&dates_are_gmt=true")).await;
    assert!(
        !naive.contains(&id.to_string()),
        "the bound is exclusive: {naive:?}"
    );
    // Switched to an inclusive bound, the same naive read would see it.
    sandbox.set_faults(SandboxFaults {
        woocommerce_inclusive_bound: true,
        ..Default::default()
    });
    let inclusive = naive_ids(&url, &format!("modified_after={bound}&dates_are_gmt=true")).await;
    assert!(inclusive.contains(&id.to_string()), "{inclusive:?}");
    sandbox.set_faults(SandboxFaults::default());

    h.pass(0).await.expect("second pass");
    eprintln!(
        "DEBUG newest {newest} id {id} served {:#?}",
        served(&url)
            .await
            .iter()
            .filter_map(|s| s["path"].as_str().map(str::to_string))
            .collect::<Vec<_>>()
    );
    let stored = h.stored("woo");
    let o = &by_id(&stored, id).unwrap().order;
    assert_eq!(o.updated_at, newest, "the plugin read the change");
    sandbox.shutdown().await;
}

/// Without `dates_are_gmt=true` the store reads a date filter in its own
/// zone: a store five hours behind UTC hides five hours of changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stores_timezone_does_not_shift_the_date_filter() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start(12, |c| c.woocommerce_utc_offset_minutes = -300).await;
    let url = sandbox.url();
    let h = Harness::new(&harness_config(
        dir.path(),
        &[woocommerce_channel("woo", &url, 50, "")],
    ))
    .await;
    h.pass(0).await.expect("first pass");
    let truth = market_truth(&url, "woocommerce").await;
    let newest = truth.iter().map(|t| time(&t["updated_at"])).max().unwrap();
    // An order changes a minute after the last pass's newest change.
    let t = truth
        .iter()
        .find(|t| time(&t["updated_at"]) < newest)
        .unwrap();
    let (sim_id, id) = (t["id"].as_u64().unwrap(), t["market_id"].as_str().unwrap());
    let at =
        (newest + chrono::Duration::seconds(60)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    control(
        &url,
        &format!("/_sandbox/touch?market=woocommerce&id={sim_id}&updated_at={at}"),
        None,
    )
    .await;

    let bound = newest.format("%Y-%m-%dT%H:%M:%SZ");
    let naive = naive_ids(&url, &format!("modified_after={bound}")).await;
    assert!(
        naive.is_empty(),
        "read as New York time, the bound is five hours later: {naive:?}"
    );
    let with_gmt = naive_ids(&url, &format!("modified_after={bound}&dates_are_gmt=true")).await;
    assert_eq!(with_gmt, vec![id.to_string()]);

    h.pass(0).await.expect("second pass");
    let stored = h.stored("woo");
    assert_eq!(
        by_id(&stored, id)
            .unwrap()
            .order
            .updated_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        at
    );
    sandbox.shutdown().await;
}

/// The `Link` header repeats `+00:00` unencoded: a reader that follows it
/// sends a space and is refused. The plugin builds its own next URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_link_headers_unencoded_dates_are_never_followed() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start(30, |_| {}).await;
    let url = sandbox.url();
    let since = (chrono::Utc::now() - chrono::Duration::days(40)).format("%Y-%m-%dT%H:%M:%S+00:00");
    let encoded = format!(
        "modified_after={}&dates_are_gmt=true&per_page=10",
        since.to_string().replace('+', "%2B")
    );
    let first = naive(&url, &encoded).await;
    assert_eq!(first.status(), 200);
    let link = first.headers()["link"].to_str().unwrap().to_string();
    let next = link.split(['<', '>']).nth(1).unwrap();
    assert!(next.contains("+00:00"), "{next}");
    let (_, query) = next.split_once('?').unwrap();
    let followed = naive(&url, query).await;
    assert_eq!(followed.status(), 400);
    let body: Value = followed.json().await.unwrap();
    assert_eq!(body["code"], "rest_invalid_param", "{body}");
    // With the values encoded (not the real API's way) following would work.
    sandbox.set_faults(SandboxFaults {
        woocommerce_link_encoded: true,
        ..Default::default()
    });
    let first = naive(&url, &encoded).await;
    let link = first.headers()["link"].to_str().unwrap().to_string();
    let next = link.split(['<', '>']).nth(1).unwrap();
    let (_, query) = next.split_once('?').unwrap();
    assert_eq!(naive(&url, query).await.status(), 200, "{next}");
    sandbox.set_faults(SandboxFaults::default());

    let h = Harness::new(&harness_config(
        dir.path(),
        &[woocommerce_channel("woo", &url, 10, "")],
    ))
    .await;
    h.pass(0).await.expect("pass");
    assert_eq!(h.stored("woo").len(), 30);
    sandbox.shutdown().await;
}

/// Offset pages shift when orders change mid-pass: a reader walking
/// `page=1,2,3…` skips orders; the plugin's overlapping pages do not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offset_pages_skip_nothing_while_orders_change_mid_pass() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start(150, |_| {}).await;
    let url = sandbox.url();
    sandbox.set_faults(SandboxFaults {
        woocommerce_changes_per_page: 3,
        ..Default::default()
    });
    let before: std::collections::BTreeSet<String> = market_truth(&url, "woocommerce")
        .await
        .iter()
        .map(|t| t["market_id"].as_str().unwrap().to_string())
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    for page in 1..=8 {
        let ids = naive_ids(
            &url,
            &format!("orderby=modified&order=asc&per_page=20&page={page}"),
        )
        .await;
        if ids.is_empty() {
            break;
        }
        seen.extend(ids);
    }
    assert!(
        seen.len() < before.len(),
        "the naive walk skipped nothing: {} of {}",
        seen.len(),
        before.len()
    );

    let h = Harness::new(&harness_config(
        dir.path(),
        &[woocommerce_channel("woo", &url, 20, "")],
    ))
    .await;
    h.pass(0).await.expect("a pass under shifting pages");
    let stored = h.stored("woo");
    let missing: Vec<&String> = before
        .iter()
        .filter(|id| by_id(&stored, id).is_none())
        .collect();
    assert!(missing.is_empty(), "skipped: {missing:?}");
    assert_eq!(stored.len(), before.len(), "each order stored once");
    sandbox.shutdown().await;
}

/// A JPY store set to 2 decimals prints `8340.00`: the plugin converts it
/// exactly. A KWD one set to 2 has lost a digit in the store: converted as
/// printed, and said in the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_decimals_that_differ_from_the_currency_convert_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start(60, |c| c.woocommerce_decimals = Some(2)).await;
    let url = sandbox.url();
    let page: Vec<Value> = naive(&url, "per_page=100").await.json().await.unwrap();
    let jpy = page
        .iter()
        .find(|o| o["currency"] == "JPY")
        .expect("a JPY order");
    assert!(
        jpy["total"].as_str().unwrap().ends_with(".00"),
        "{}",
        jpy["total"]
    );
    let h = Harness::new(&harness_config(
        dir.path(),
        &[woocommerce_channel("woo", &url, 100, "")],
    ))
    .await;
    h.pass(0).await.expect("pass");
    let truth: Vec<Value> = market_truth(&url, "woocommerce")
        .await
        .into_iter()
        .filter(|t| t["currency"] != "KWD")
        .collect();
    let stored: Vec<StoredOrder> = h
        .stored("woo")
        .into_iter()
        .filter(|s| s.order.currency.code() != "KWD")
        .collect();
    assert!(truth.iter().any(|t| t["currency"] == "JPY"));
    assert_matches_store(&stored, &truth);
    sandbox.shutdown().await;
}

/// A WordPress fatal error is an HTML page: retried, and when it persists
/// the pass fails naming its first line, not "unexpected JSON".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_html_fatal_error_is_retried_then_reported_by_its_first_line() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start(30, |_| {}).await;
    let url = sandbox.url();
    sandbox.set_faults(SandboxFaults {
        woocommerce_html_error_every: 3,
        ..Default::default()
    });
    let h = Harness::new(&harness_config(
        dir.path(),
        &[woocommerce_channel("woo", &url, 10, "")],
    ))
    .await;
    h.pass(0)
        .await
        .expect("an occasional fatal error is retried");
    assert_eq!(h.stored("woo").len(), 30);

    sandbox.set_faults(SandboxFaults {
        woocommerce_html_error_every: 1,
        ..Default::default()
    });
    let err = h.pass(0).await.expect_err("every request fails");
    let text = format!("{err}");
    assert!(
        text.contains("There has been a critical error on this website."),
        "{text}"
    );
    assert!(!text.contains("<html"), "{text}");
    sandbox.shutdown().await;
}

/// A wrong secret stops the channel with WooCommerce's own words and what to fix.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_secret_stops_the_channel_with_what_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start(5, |c| c.woocommerce_consumer_secret = "cs_rotated".into()).await;
    let url = sandbox.url();
    let h = Harness::new(&harness_config(
        dir.path(),
        &[woocommerce_channel("woo", &url, 10, "")],
    ))
    .await;
    let err = h.pass(0).await.expect_err("refused");
    assert!(matches!(err, SyncError::Call(_)), "{err:?}");
    let text = format!("{err}");
    assert!(text.contains("Consumer secret is invalid."), "{text}");
    assert!(text.contains("consumer_secret"), "{text}");
    assert!(h.stored("woo").is_empty());
    sandbox.shutdown().await;
}

/// Query-string credentials: refused unless the channel allows secrets in
/// the query; then they reach the store (HTTPS, or loopback in tests).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_string_auth_needs_the_channels_consent() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start(8, |_| {}).await;
    let url = sandbox.url();
    let h = Harness::new(&harness_config(
        dir.path(),
        &[woocommerce_channel("woo", &url, 10, "auth = \"query\"")],
    ))
    .await;
    let err = h.pass(0).await.expect_err("a secret in the URL is refused");
    assert!(
        format!("{err}").contains("placeholder is in the URL"),
        "{err}"
    );

    let dir2 = tempfile::tempdir().unwrap();
    let channel = woocommerce_channel("woo", &url, 10, "auth = \"query\"").replace(
        "allow_loopback = true",
        "allow_loopback = true\nsecrets_in_query = true",
    );
    let h = Harness::new(&harness_config(dir2.path(), &[channel])).await;
    h.pass(0).await.expect("query auth with consent");
    assert_eq!(h.stored("woo").len(), 8);
    sandbox.shutdown().await;
}

/// Shipping a WooCommerce store's orders: one label each, one push each
/// (a tracking item with the extension, an order note without), the order
/// completed; the sync that follows reads our own push back as
/// fulfilled, not as news, and nothing ships or pushes twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shipping_pushes_each_order_once_through_the_extension_or_a_note() {
    for extension in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let sandbox = start(30, |c| c.woocommerce_shipment_tracking = extension).await;
        let url = sandbox.url();
        let config = harness_config(
            dir.path(),
            &[
                woocommerce_channel("woo", &url, 50, ""),
                shipping_block(&url, "", SHIP_EVERYTHING, &[]),
            ],
        );
        let h = Harness::new(&config).await;
        h.pass(0).await.expect("sync");
        let first = h.ship().await;
        assert!(first.shipped >= 10, "{first:?}");
        let after_push = h.pass(0).await.expect("sync after the pushes");
        assert!(
            after_push.updated >= first.shipped,
            "the completed orders came back: {after_push:?}"
        );
        let again = h.ship().await;
        assert_eq!(again.shipped, 0, "nothing ships twice: {again:?}");

        let carriers = carrier_shipments(&url).await;
        let stored = h.stored("woo");
        let mut shipped = 0;
        for t in market_truth(&url, "woocommerce").await {
            let id = t["market_id"].as_str().unwrap();
            let bought = carrier_labels(&carriers, "woo", id);
            let items = t["fulfillments"].as_array().unwrap();
            let notes = t["notes"].as_array().unwrap();
            if t["financial_status"] != "paid" || !t["cancelled_at"].is_null() {
                assert!(
                    bought.is_empty() && items.is_empty() && notes.is_empty(),
                    "{id}"
                );
                continue;
            }
            shipped += 1;
            assert_eq!(bought.len(), 1, "{id}: exactly one label");
            let tracking = bought[0].1["tracking_number"].as_str().unwrap();
            if extension {
                assert_eq!(items.len(), 1, "{id}: one tracking item");
                assert_eq!(items[0]["tracking_number"], tracking, "{id}");
                assert!(notes.is_empty(), "{id}");
            } else {
                assert!(items.is_empty(), "{id}");
                assert_eq!(notes.len(), 1, "{id}: one note");
                assert!(
                    notes[0]["note"].as_str().unwrap().contains(tracking),
                    "{id}"
                );
            }
            assert_eq!(t["fulfillment_status"], "fulfilled", "{id}: completed");
            let o = &by_id(&stored, id).unwrap().order;
            assert_eq!(o.fulfillment_status, FulfillmentStatus::Fulfilled, "{id}");
        }
        assert_eq!(shipped, first.shipped, "extension {extension}");
        sandbox.shutdown().await;
    }
}

//! Amazon and eBay end to end: the sandbox's SP-API and Sell Fulfillment
//! API on loopback → the real wasm plugins → host-managed OAuth → sled.

use serde_json::Value;
use tradelane::model::{FulfilledBy, PaymentStatus};
use tradelane::sync::SyncError;
use tradelane_sandbox::{Sandbox, SandboxFaults};
use tradelane_tests::*;

const EU_DESTINATIONS: &[&str] = &["DE", "FR", "IT", "NL", "SE"];

async fn start(amazon: u32, ebay: u32) -> Sandbox {
    let mut config = sandbox_config(5, 21);
    config.amazon_orders = amazon;
    config.ebay_orders = ebay;
    Sandbox::start(config).await.expect("sandbox starts")
}

/// A simulated order's money, summed from its lines (integer minor units).
struct SimMoney {
    items: i64,
    discount: i64,
    tax: i64,
    shipping: i64,
}

fn sim_money(t: &Value) -> SimMoney {
    let lines = t["lines"].as_array().unwrap();
    let sum = |f: &dyn Fn(&Value) -> i64| lines.iter().map(f).sum::<i64>();
    SimMoney {
        items: sum(&|l| l["price_minor"].as_i64().unwrap() * l["quantity"].as_i64().unwrap()),
        discount: sum(&|l| l["discount_minor"].as_i64().unwrap()),
        tax: sum(&|l| l["tax_minor"].as_i64().unwrap()),
        shipping: t["shipping_minor"].as_i64().unwrap(),
    }
}

fn searches(served: &[Value], path: &str) -> usize {
    served
        .iter()
        .filter(|s| s["path"].as_str().unwrap_or("").starts_with(path) && s["status"] == 200)
        .count()
}

/// The Amazon marketplaces `AMAZON_EU` covers: the sandbox places orders
/// to the EU five on their own site and the rest of Europe on Amazon.co.uk.
fn on_eu_channel(country: &str) -> bool {
    !matches!(country, "US" | "CA" | "MX" | "BR" | "JP" | "AU")
}

/// The Amazon orders a search serves now: on the EU channel, and updated
/// more than two minutes ago (searchOrders serves nothing newer, as
/// SP-API's `lastUpdatedBefore` rule has it; the next pass gets them).
fn served_by_search(truth: Vec<Value>) -> Vec<Value> {
    let horizon = chrono::Utc::now() - chrono::Duration::seconds(125);
    truth
        .into_iter()
        .filter(|o| on_eu_channel(o["customer"]["country"].as_str().unwrap()))
        .filter(|o| {
            chrono::DateTime::parse_from_rfc3339(o["updated_at"].as_str().unwrap()).unwrap()
                < horizon
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amazon_syncs_every_order_exactly_with_one_request_per_hundred() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start(400, 0).await;
    let url = sandbox.url();
    let h = Harness::new(&harness_config(
        dir.path(),
        &[amazon_channel("amazon", &url, 100)],
    ))
    .await;
    let report = h.pass(0).await.expect("first pass");
    let truth = served_by_search(market_truth(&url, "amazon").await);
    let stored = h.stored("amazon");
    assert_eq!(report.created as usize, truth.len());
    assert_eq!(stored.len(), truth.len());
    // includedData brings items, recipient, money and tax in the search:
    // no per-order requests.
    let served = served(&url).await;
    assert_eq!(
        searches(&served, "/orders/2026-01-01/orders?"),
        truth.len().div_ceil(100),
        "one searchOrders per 100 orders"
    );
    assert_eq!(searches(&served, "/orders/2026-01-01/orders/"), 0);

    for t in &truth {
        let id = t["market_id"].as_str().unwrap();
        let sim: u64 = t["id"].as_u64().unwrap();
        let country = t["customer"]["country"].as_str().unwrap();
        let o = &by_id(&stored, id)
            .unwrap_or_else(|| panic!("{id} stored"))
            .order;
        let ctx = format!("amazon order {id} to {country}");
        assert_eq!(o.currency.code(), t["currency"].as_str().unwrap(), "{ctx}");
        let lines = t["lines"].as_array().unwrap();
        let SimMoney {
            items,
            discount,
            tax,
            shipping,
        } = sim_money(t);
        assert_eq!(
            o.totals.total.amount_minor,
            items - discount + shipping + tax,
            "{ctx}"
        );
        assert_eq!(o.totals.tax.amount_minor, tax, "{ctx}");
        assert_eq!(o.totals.shipping.amount_minor, shipping, "{ctx}");
        assert_eq!(o.totals.discount.amount_minor, discount, "{ctx}");
        assert_eq!(o.line_items.len(), lines.len(), "{ctx}");
        for (line, sim_line) in o.line_items.iter().zip(lines) {
            assert_eq!(
                line.unit_price.amount_minor,
                sim_line["price_minor"].as_i64().unwrap()
            );
            assert_eq!(
                i64::from(line.quantity),
                sim_line["quantity"].as_i64().unwrap()
            );
            assert_eq!(
                line.tax.amount_minor,
                sim_line["tax_minor"].as_i64().unwrap()
            );
            assert_eq!(line.sku.as_deref(), sim_line["sku"].as_str());
        }
        assert_eq!(
            o.marketplace.as_deref(),
            Some(tradelane_sandbox::amazon::marketplace(country).0),
            "{ctx}: each order keeps its marketplace"
        );
        let afn = sim.is_multiple_of(7);
        let prime = !afn && sim.is_multiple_of(5);
        assert_eq!(o.fulfilled_by == FulfilledBy::Marketplace, afn, "{ctx}");
        assert_eq!(
            o.shipping_hold.is_some(),
            prime,
            "{ctx}: {:?}",
            o.shipping_hold
        );
        if prime {
            assert!(o.shipping_hold.as_deref().unwrap().contains("Prime"));
        }
        // A marketplace is the deemed supplier of an EU import of at most €150 only.
        let eu = EU_DESTINATIONS.contains(&country)
            && serde_json::from_value::<tradelane_sandbox::SimOrder>(t.clone())
                .expect("a sandbox order")
                .within_ioss_limit();
        let ioss = o
            .tax_ids
            .iter()
            .any(|t| t.scheme == "ioss" && t.value == tradelane_sandbox::amazon::AMAZON_IOSS);
        assert_eq!(ioss, eu, "{ctx}: IOSS");
        let uk_vat = o
            .tax_ids
            .iter()
            .any(|t| t.scheme == "vat" && t.value == tradelane_sandbox::amazon::AMAZON_UK_VAT);
        assert_eq!(uk_vat, country == "GB", "{ctx}: UK VAT");
        assert_eq!(o.marketplace_collected_tax, eu || country == "GB", "{ctx}");
        let paid = t["financial_status"] == "paid";
        assert_eq!(o.payment_status == PaymentStatus::Paid, paid, "{ctx}");
        let address = o.shipping_address.as_ref().unwrap();
        assert_eq!(address.country.as_str(), country, "{ctx}");
        assert_eq!(
            Some(address.line1.as_str()),
            t["customer"]["address1"].as_str()
        );
    }
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amazon_quota_exceeded_defers_the_pass_and_it_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start(300, 0).await;
    let url = sandbox.url();
    // Amazon's real plan for searchOrders: a burst of 20, then 0.0056/s.
    // The host spends the burst, then defers rather than wait minutes.
    sandbox.set_faults(SandboxFaults {
        amazon_throttle: true,
        ..Default::default()
    });
    let h = Harness::new(&harness_config(
        dir.path(),
        &[amazon_channel("amazon", &url, 5)],
    ))
    .await;
    let err = h
        .pass(0)
        .await
        .expect_err("more pages than the burst allows");
    let SyncError::Call(call) = &err else {
        panic!("not a call error: {err}")
    };
    match call.remedy() {
        tradelane::host::Remedy::Defer(d) => {
            assert!(
                d.as_secs() >= 60,
                "deferred {d:?}: the usage plan's pace, not a blind retry"
            )
        }
        other => panic!("a spent quota must defer, not {other:?}: {err}"),
    }
    let served = served(&url).await;
    assert_eq!(
        served.iter().filter(|s| s["status"] == 429).count(),
        0,
        "the host paced itself: Amazon never had to refuse"
    );
    assert_eq!(searches(&served, "/orders/2026-01-01/orders?"), 20);
    let kept = h.stored("amazon").len();
    assert_eq!(kept, 100, "the pages read before the deferral are kept");
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_mid_pass_costs_one_refresh_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start(150, 0).await;
    let url = sandbox.url();
    sandbox.set_faults(SandboxFaults {
        latency_ms: 150,
        ..Default::default()
    });
    let h = Harness::new(&harness_config(
        dir.path(),
        &[amazon_channel("amazon", &url, 10)],
    ))
    .await;
    let expire = {
        let url = url.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(700)).await;
            oauth_control(&url, "amazon", "expire=true").await
        })
    };
    let report = h.pass(0).await.expect("the pass survives the expiry");
    expire.await.unwrap();
    let served = served(&url).await;
    let refused = served.iter().filter(|s| s["status"] == 403).count();
    assert_eq!(refused, 1, "one request met the expired token");
    let grants = oauth_control(&url, "amazon", "").await;
    assert_eq!(grants["grants"]["refresh_token"], 2, "{grants}");
    let expected = served_by_search(market_truth(&url, "amazon").await).len();
    assert_eq!(report.created as usize, expected);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ebay_a_401_is_answered_by_one_refresh() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start(0, 30).await;
    let url = sandbox.url();
    let h = Harness::new(&harness_config(
        dir.path(),
        &[ebay_channel("ebay", &url, 50)],
    ))
    .await;
    h.pass(0).await.expect("first pass");
    assert_eq!(
        oauth_control(&url, "ebay", "").await["grants"]["refresh_token"],
        1
    );
    // The access token dies early (revoked by eBay, clock skew...).
    oauth_control(&url, "ebay", "expire=true").await;
    h.pass(0)
        .await
        .expect("the second pass refreshes and goes on");
    let grants = oauth_control(&url, "ebay", "").await;
    assert_eq!(
        grants["grants"]["refresh_token"], 2,
        "exactly one refresh: {grants}"
    );
    let served = served(&url).await;
    assert_eq!(served.iter().filter(|s| s["status"] == 401).count(), 1);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_refresh_token_stops_the_channel_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start(0, 10).await;
    let url = sandbox.url();
    let h = Harness::new(&harness_config(
        dir.path(),
        &[ebay_channel("ebay", &url, 50)],
    ))
    .await;
    h.pass(0).await.expect("first pass");
    oauth_control(&url, "ebay", "revoke=true").await;
    let err = h.pass(0).await.expect_err("a revoked authorisation fails");
    let text = err.to_string();
    let SyncError::Call(call) = &err else {
        panic!("not a call error: {text}")
    };
    assert!(
        matches!(call.remedy(), tradelane::host::Remedy::Fix(_)),
        "retrying cannot help: {text}"
    );
    assert!(text.contains("invalid_grant"), "{text}");
    assert!(
        text.contains("tradelane connect s1/ebay"),
        "says what to do: {text}"
    );
    assert!(!text.contains("v^1.1#"), "no token in the message: {text}");
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ebay_offset_pages_skip_nothing_while_orders_change_mid_pass() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start(0, 150).await;
    let url = sandbox.url();
    // After every page, three orders change and move to the end of the
    // lastmodifieddate order: offsets shift under the reader.
    sandbox.set_faults(SandboxFaults {
        ebay_changes_per_page: 3,
        ..Default::default()
    });
    let h = Harness::new(&harness_config(
        dir.path(),
        &[ebay_channel("ebay", &url, 20)],
    ))
    .await;
    h.pass(0).await.expect("a pass under shifting pages");
    let truth = market_truth(&url, "ebay").await;
    let stored = h.stored("ebay");
    let missing: Vec<&str> = truth
        .iter()
        .map(|t| t["market_id"].as_str().unwrap())
        .filter(|id| by_id(&stored, id).is_none())
        .collect();
    assert!(missing.is_empty(), "skipped: {missing:?}");
    assert_eq!(stored.len(), truth.len(), "each order stored once");

    sandbox.set_faults(SandboxFaults::default());
    h.pass(0).await.expect("second pass");
    let truth = market_truth(&url, "ebay").await;
    let stored = h.stored("ebay");
    for t in &truth {
        let id = t["market_id"].as_str().unwrap();
        let o = &by_id(&stored, id).unwrap().order;
        let updated =
            chrono::DateTime::parse_from_rfc3339(t["updated_at"].as_str().unwrap()).unwrap();
        assert_eq!(
            o.updated_at, updated,
            "{id}: the latest revision after the next pass"
        );
    }
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ebay_money_and_collect_and_remit_tax_are_exact() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start(0, 60).await;
    let url = sandbox.url();
    let h = Harness::new(&harness_config(
        dir.path(),
        &[ebay_channel("ebay", &url, 200)],
    ))
    .await;
    h.pass(0).await.expect("pass");
    let stored = h.stored("ebay");
    for t in market_truth(&url, "ebay").await {
        let id = t["market_id"].as_str().unwrap();
        let country = t["customer"]["country"].as_str().unwrap();
        let o = &by_id(&stored, id).unwrap().order;
        let lines = t["lines"].as_array().unwrap();
        let SimMoney {
            items,
            discount,
            tax,
            shipping,
        } = sim_money(&t);
        assert_eq!(
            o.totals.total.amount_minor,
            items - discount + shipping + tax,
            "{id}"
        );
        assert_eq!(o.totals.discount.amount_minor, discount, "{id}");
        assert_eq!(o.totals.subtotal.amount_minor, items - discount, "{id}");
        for (line, sim) in o.line_items.iter().zip(lines) {
            assert_eq!(
                line.unit_price.amount_minor,
                sim["price_minor"].as_i64().unwrap(),
                "{id}"
            );
            assert_eq!(
                line.discount.amount_minor,
                sim["discount_minor"].as_i64().unwrap(),
                "{id}"
            );
        }
        // A marketplace is the deemed supplier of an EU import of at most €150 only.
        let eu = EU_DESTINATIONS.contains(&country)
            && serde_json::from_value::<tradelane_sandbox::SimOrder>(t.clone())
                .expect("a sandbox order")
                .within_ioss_limit();
        assert_eq!(
            o.tax_ids
                .iter()
                .any(|x| x.scheme == "ioss" && x.value == tradelane_sandbox::ebay::EBAY_IOSS),
            eu,
            "{id} to {country}"
        );
        assert_eq!(
            o.marketplace_collected_tax,
            eu || country == "US",
            "{id} to {country}"
        );
        assert_eq!(
            o.marketplace.as_deref(),
            Some(tradelane_sandbox::ebay::site(country)),
            "{id}"
        );
    }
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_order_rereads_one_order_on_both_marketplaces() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start(40, 10).await;
    let url = sandbox.url();
    let h = Harness::new(&harness_config(
        dir.path(),
        &[
            amazon_channel("amazon", &url, 100),
            ebay_channel("ebay", &url, 50),
        ],
    ))
    .await;
    for (i, market) in [(0, "amazon"), (1, "ebay")] {
        let truth = market_truth(&url, market).await;
        let t = truth
            .iter()
            .find(|o| market == "ebay" || on_eu_channel(o["customer"]["country"].as_str().unwrap()))
            .unwrap();
        let id = t["market_id"].as_str().unwrap();
        let found = h.channels[i]
            .account
            .fetch_order(id)
            .await
            .unwrap_or_else(|e| panic!("{market} fetch-order: {e}"))
            .unwrap_or_else(|| panic!("{market} has {id}"));
        assert_eq!(found.external_id, id);
        assert_eq!(found.line_items.len(), t["lines"].as_array().unwrap().len());
        let none = h.channels[i]
            .account
            .fetch_order("000-0000000-0000000")
            .await
            .unwrap();
        assert!(
            none.is_none(),
            "{market}: an unknown id is none, not an error"
        );
    }
    sandbox.shutdown().await;
}

/// The labels the sandbox carriers sold for `order` of `channel`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_marketplaces_ship_and_each_push_reaches_its_own_once() {
    use tradelane::shipping::Status;
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start(60, 30).await;
    let url = sandbox.url();
    let config = harness_config(
        dir.path(),
        &[
            shopify_channel("shop", &url, TOKEN, 50),
            amazon_channel("amazon", &url, 100),
            ebay_channel("ebay", &url, 100),
            shipping_block(&url, "", SHIP_EVERYTHING, &[]),
        ],
    );
    let h = Harness::new(&config).await;
    for i in 0..3 {
        h.pass(i).await.expect("sync");
    }
    // What the sync saw (a shipped order's update time moves on).
    let amazon_before = served_by_search(market_truth(&url, "amazon").await);
    h.ship().await;
    for i in 0..3 {
        h.pass(i)
            .await
            .expect("sync again, seeing the fulfillments");
    }
    let again = h.ship().await;
    assert_eq!(again.shipped, 0, "nothing ships twice: {again:?}");

    let carriers = carrier_shipments(&url).await;
    let records = h.shipments();
    let record = |channel: &str, id: &str| {
        records
            .iter()
            .find(|r| r.channel == channel && r.order_id == id)
    };
    let (mut amazon_shipped, mut ioss_declared, mut domestic, mut held, mut afn) = (0, 0, 0, 0, 0);
    let amazon_after = market_truth(&url, "amazon").await;
    for before in amazon_before {
        let id = before["market_id"].as_str().unwrap();
        let t = amazon_after.iter().find(|a| a["market_id"] == id).unwrap();
        let sim = t["id"].as_u64().unwrap();
        let country = t["customer"]["country"].as_str().unwrap();
        let bought = carrier_labels(&carriers, "amazon", id);
        let pushed = t["fulfillments"].as_array().unwrap();
        if sim.is_multiple_of(7) {
            afn += 1;
            assert!(
                bought.is_empty() && pushed.is_empty(),
                "{id}: Amazon ships FBA orders"
            );
            continue;
        }
        let ready = t["financial_status"] == "paid" && t["cancelled_at"].is_null();
        if ready && sim.is_multiple_of(5) {
            held += 1;
            let r = record("amazon", id).unwrap_or_else(|| panic!("{id}: a record"));
            assert_eq!(r.status, Status::Held, "{id}");
            assert!(
                r.reason.as_deref().unwrap_or("").contains("Prime"),
                "{id}: {:?}",
                r.reason
            );
            assert!(
                bought.is_empty() && pushed.is_empty(),
                "{id}: a Prime order is not ours to ship"
            );
            continue;
        }
        if !ready {
            assert!(bought.is_empty(), "{id}: not paid, not shipped");
            continue;
        }
        amazon_shipped += 1;
        assert_eq!(
            bought.len(),
            1,
            "{id}: exactly one label; record {:?}",
            record("amazon", id).map(|r| (r.status, r.reason.clone()))
        );
        assert_eq!(pushed.len(), 1, "{id}: confirmed to Amazon exactly once");
        let tracking = bought[0].1["tracking_number"].as_str().unwrap();
        assert_eq!(pushed[0]["tracking_number"], tracking, "{id}");
        let ids = bought[0].0["tax_ids"].as_array().unwrap();
        let declared = |value: &str| ids.iter().any(|x| x[1] == value);
        if EU_DESTINATIONS.contains(&country) && !ids.is_empty() {
            assert!(
                declared(tradelane_sandbox::amazon::AMAZON_IOSS),
                "{id}: Amazon collected the VAT, so its IOSS is declared, not the seller's: {ids:?}"
            );
            ioss_declared += 1;
        }
        if country == "GB" {
            // Shipped from Leeds: no border, no declaration. (An import into
            // GB carries Amazon's UK VAT number: `shipping::plan` tests.)
            assert!(ids.is_empty(), "{id}: domestic: {ids:?}");
            domestic += 1;
        }
    }
    assert!(
        amazon_shipped >= 5 && afn >= 1 && held >= 1,
        "{amazon_shipped} {afn} {held}"
    );
    assert!(
        ioss_declared >= 1 && domestic >= 1,
        "{ioss_declared} {domestic}"
    );

    let mut ebay_shipped = 0;
    for t in market_truth(&url, "ebay").await {
        let id = t["market_id"].as_str().unwrap();
        let bought = carrier_labels(&carriers, "ebay", id);
        let pushed = t["fulfillments"].as_array().unwrap();
        if t["financial_status"] != "paid" || !t["cancelled_at"].is_null() {
            assert!(bought.is_empty(), "{id}");
            continue;
        }
        ebay_shipped += 1;
        assert_eq!(bought.len(), 1, "{id}: exactly one label");
        assert_eq!(pushed.len(), 1, "{id}: one shipping fulfillment on eBay");
        assert_eq!(
            pushed[0]["tracking_number"], bought[0].1["tracking_number"],
            "{id}"
        );
    }
    assert!(ebay_shipped >= 10, "{ebay_shipped}");
    // The Shopify orders still reach Shopify, and only Shopify.
    let shop = truth(&url).await;
    for o in shop
        .iter()
        .filter(|o| o.financial_status == "paid" && o.cancelled_at.is_none())
    {
        assert_eq!(o.fulfillments.len(), 1, "shopify order {}", o.id);
    }
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_amazon_page_token_restarts_the_pass_instead_of_failing_it() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start(30, 0).await;
    let url = sandbox.url();
    let h = Harness::new(&harness_config(
        dir.path(),
        &[amazon_channel("amazon", &url, 100)],
    ))
    .await;
    // A token Amazon no longer accepts (they expire after 24 h).
    let page = h.channels[0]
        .account
        .fetch_orders(&tradelane::model::OrderQuery {
            updated_after: None,
            page_token: Some("expired-or-foreign".into()),
            page_size: 100,
        })
        .await
        .expect("the plugin starts the search over");
    let expected = served_by_search(market_truth(&url, "amazon").await).len();
    assert_eq!(page.orders.len(), expected);
    let served = served(&url).await;
    assert_eq!(served.iter().filter(|s| s["status"] == 400).count(), 1);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_5xx_and_429_bursts_every_amazon_and_ebay_order_lands_once() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start(150, 150).await;
    let url = sandbox.url();
    // Amazon states a plan 1000× its real one, so the retries the faults
    // cause do not run the host into the real plan's three-minute waits.
    sandbox.set_faults(SandboxFaults {
        error_percent: 25,
        burst_429_every: 5,
        amazon_rate_scale: 1000,
        ..Default::default()
    });
    let h = Harness::new(&harness_config(
        dir.path(),
        &[
            amazon_channel("amazon", &url, 20),
            ebay_channel("ebay", &url, 20),
        ],
    ))
    .await;
    for i in 0..2 {
        let mut passes = 0;
        while let Err(e) = h.pass(i).await {
            passes += 1;
            assert!(
                passes < 15,
                "channel {i} still failing after {passes} passes: {e}"
            );
        }
    }
    let amazon = served_by_search(market_truth(&url, "amazon").await);
    let stored = h.stored("amazon");
    assert_eq!(stored.len(), amazon.len());
    for t in &amazon {
        assert!(by_id(&stored, t["market_id"].as_str().unwrap()).is_some());
    }
    let ebay = market_truth(&url, "ebay").await;
    let stored = h.stored("ebay");
    assert_eq!(stored.len(), ebay.len());
    for t in &ebay {
        assert!(by_id(&stored, t["market_id"].as_str().unwrap()).is_some());
    }
    let served = served(&url).await;
    assert!(
        served.iter().any(|s| s["status"] == 429)
            && served
                .iter()
                .any(|s| s["status"] == 500 || s["status"] == 503)
    );
    sandbox.shutdown().await;
}

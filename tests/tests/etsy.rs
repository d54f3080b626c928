//! Etsy end to end: the sandbox's Open API v3 on loopback → the real wasm
//! plugin → host-managed OAuth (a public client, rotating refresh tokens)
//! → sled.

use serde_json::Value;
use tradelane::model::{FulfillmentStatus, PaymentStatus};
use tradelane::store::StoredOrder;
use tradelane_sandbox::{Sandbox, SandboxConfig, SandboxFaults};
use tradelane_tests::*;

async fn start(orders: u32, adjust: impl FnOnce(&mut SandboxConfig)) -> Sandbox {
    let mut config = sandbox_config(3, 41);
    config.etsy_orders = orders;
    adjust(&mut config);
    Sandbox::start(config).await.expect("sandbox starts")
}

fn sim(t: &Value) -> tradelane_sandbox::SimOrder {
    serde_json::from_value(t.clone()).unwrap()
}

/// Every receipt stored once, money exact, Etsy's tax marked as Etsy's.
fn assert_matches_shop(stored: &[StoredOrder], truth: &[Value]) {
    assert_eq!(stored.len(), truth.len(), "each receipt stored once");
    for t in truth {
        let id = t["market_id"].as_str().unwrap();
        let o = &by_id(stored, id)
            .unwrap_or_else(|| panic!("{id} missing"))
            .order;
        let s = sim(t);
        let (tax, vat) = tradelane_sandbox::etsy::collected(&s);
        assert_eq!(o.currency.code(), "EUR", "the shop's currency");
        assert_eq!(
            o.totals.total.amount_minor,
            tradelane_sandbox::etsy::grandtotal(&s),
            "{id}"
        );
        assert_eq!(o.totals.subtotal.amount_minor, s.subtotal_minor(), "{id}");
        assert_eq!(o.totals.discount.amount_minor, s.discount_minor(), "{id}");
        assert_eq!(o.totals.tax.amount_minor, tax + vat, "{id}");
        assert_eq!(o.totals.shipping.amount_minor, s.shipping_minor, "{id}");
        let lines: i64 = o
            .line_items
            .iter()
            .map(|l| l.unit_price.amount_minor * i64::from(l.quantity) - l.discount.amount_minor)
            .sum();
        assert_eq!(lines, s.subtotal_minor(), "{id}: the coupon spread exactly");
        assert_eq!(
            o.line_items.iter().map(|l| l.tax.amount_minor).sum::<i64>(),
            tax + vat,
            "{id}: the tax spread exactly"
        );
        for (line, l) in o.line_items.iter().zip(&s.lines) {
            assert_eq!(line.unit_price.amount_minor, l.price_minor, "{id}");
            assert_eq!(line.sku.as_deref(), Some(l.sku.as_str()), "{id}");
        }
        assert_eq!(o.updated_at, s.updated_at, "{id}");
        assert_eq!(o.marketplace_collected_tax, tax + vat > 0, "{id}");
        let country = s.customer.country.as_str();
        let expect = match country {
            _ if tax + vat == 0 => None,
            "DE" | "FR" | "IT" | "NL" | "SE" => Some(("ioss", ETSY_IOSS)),
            "GB" => Some(("vat", ETSY_UK_VAT)),
            "AU" => Some(("arn", "300009207152")),
            _ => None,
        };
        let ids: Vec<(&str, &str)> = o
            .tax_ids
            .iter()
            .map(|t| (t.scheme.as_str(), t.value.as_str()))
            .collect();
        assert_eq!(
            ids,
            expect.into_iter().collect::<Vec<_>>(),
            "{id} to {country}"
        );
        assert_eq!(o.payment_gateways, vec!["etsy".to_string()]);
        let paid = s.financial_status == "paid";
        if s.cancelled_at.is_none() {
            assert_eq!(o.payment_status == PaymentStatus::Paid, paid, "{id}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_receipt_lands_once_with_exact_money_and_etsys_registrations() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start(70, |_| {}).await;
    let url = sandbox.url();
    let h = Harness::new(&harness_config(
        dir.path(),
        &[etsy_channel("etsy", &url, 25, "")],
    ))
    .await;
    h.pass(0).await.expect("pass");
    assert_matches_shop(&h.stored("etsy"), &market_truth(&url, "etsy").await);
    let pages: Vec<String> = served(&url)
        .await
        .iter()
        .filter_map(|s| s["path"].as_str().map(str::to_string))
        .filter(|p| p.contains("/receipts?"))
        .collect();
    assert!(pages.len() >= 3, "{pages:?}");
    assert!(
        pages
            .iter()
            .all(|p| p.contains("sort_on=updated") && p.contains("offset=")),
        "{pages:?}"
    );
    sandbox.shutdown().await;
}

/// `{amount, divisor}` with a divisor of 1000 converts exactly to cents.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn money_with_another_divisor_converts_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start(20, |c| c.etsy_divisor = 1000).await;
    let url = sandbox.url();
    let h = Harness::new(&harness_config(
        dir.path(),
        &[etsy_channel("etsy", &url, 100, "")],
    ))
    .await;
    h.pass(0).await.expect("pass");
    assert_matches_shop(&h.stored("etsy"), &market_truth(&url, "etsy").await);
    sandbox.shutdown().await;
}

/// Offset pages shift while receipts change: a naive walk skips some, the
/// plugin's overlapping pages do not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offset_pages_skip_nothing_while_receipts_change_mid_pass() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start(120, |_| {}).await;
    let url = sandbox.url();
    sandbox.set_faults(SandboxFaults {
        etsy_changes_per_page: 3,
        ..Default::default()
    });
    // A naive reader walking offsets 0, 20, 40… skips receipts.
    oauth_control(&url, "etsy", "rotate=false").await;
    let c = SandboxConfig::default();
    let http = reqwest::Client::new();
    let token: Value = http
        .post(format!("{url}/v3/public/oauth/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", c.etsy_keystring.as_str()),
            ("refresh_token", c.etsy_refresh_token.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = token["access_token"].as_str().unwrap().to_string();
    let total = market_truth(&url, "etsy").await.len();
    let mut seen = std::collections::BTreeSet::new();
    for page in 0..8 {
        let body: Value = http
            .get(format!(
                "{url}/v3/application/shops/{}/receipts?sort_on=updated&sort_order=asc&limit=20&offset={}",
                tradelane_sandbox::etsy::SHOP_ID,
                page * 20
            ))
            .header("x-api-key", format!("{}:{}", c.etsy_keystring, c.etsy_shared_secret))
            .bearer_auth(&bearer)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let ids = body["results"].as_array().unwrap().iter();
        seen.extend(ids.map(|r| r["receipt_id"].to_string()));
        // Within Etsy's ten a second.
        tokio::time::sleep(std::time::Duration::from_millis(120)).await;
    }
    assert!(
        seen.len() < total,
        "the naive walk skipped nothing: {} of {total}",
        seen.len()
    );
    oauth_control(&url, "etsy", "rotate=true").await;

    let h = Harness::new(&harness_config(
        dir.path(),
        &[etsy_channel("etsy", &url, 20, "")],
    ))
    .await;
    h.pass(0).await.expect("a pass under shifting pages");
    let truth = market_truth(&url, "etsy").await;
    let stored = h.stored("etsy");
    let missing: Vec<&str> = truth
        .iter()
        .map(|t| t["market_id"].as_str().unwrap())
        .filter(|id| by_id(&stored, id).is_none())
        .collect();
    assert!(missing.is_empty(), "skipped: {missing:?}");
    assert_eq!(stored.len(), truth.len());
    sandbox.shutdown().await;
}

/// Etsy rotates the refresh token on every refresh: the host keeps the
/// newest, so a restart after access tokens expired still signs in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_refresh_token_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start(10, |c| c.etsy_per_second = 100).await;
    let url = sandbox.url();
    let config = harness_config(dir.path(), &[etsy_channel("etsy", &url, 50, "")]);
    {
        let h = Harness::new(&config).await;
        h.pass(0).await.expect("first pass");
    }
    for round in 0..2 {
        oauth_control(&url, "etsy", "expire=true").await;
        let h = Harness::new(&config).await;
        control(&url, "/_sandbox/tick?new=1&updates=0&market=etsy", None).await;
        h.pass(0)
            .await
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
    }
    let report = oauth_control(&url, "etsy", "").await;
    assert_eq!(report["grants"]["refresh_token"], 3, "{report}");
    assert_eq!(
        report["live_refresh_tokens"], 1,
        "the old ones were revoked: {report}"
    );
    sandbox.shutdown().await;
}

/// Past the per-second limit Etsy answers 429 with no headers: the host
/// paces by `x-remaining-this-second` and loses nothing. With the day's
/// quota spent, the pass is deferred by an hour, saying why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_second_and_per_day_limits_are_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start(60, |c| {
        c.etsy_per_second = 2;
        c.etsy_daily_limit = 12;
    })
    .await;
    let url = sandbox.url();
    let h = Harness::new(&harness_config(
        dir.path(),
        &[etsy_channel("etsy", &url, 10, "")],
    ))
    .await;
    h.pass(0).await.expect("paced within two a second");
    assert_eq!(h.stored("etsy").len(), 60);
    let throttled = served(&url)
        .await
        .iter()
        .filter(|s| s["status"] == 429)
        .count();
    assert!(throttled <= 2, "{throttled} requests refused per second");

    // Twelve a day: this pass spends the rest and is deferred.
    control(&url, "/_sandbox/tick?new=40&updates=0&market=etsy", None).await;
    let err = h.pass(0).await.expect_err("the day's quota runs out");
    let text = format!("{err}");
    assert!(text.contains("today's request quota is spent"), "{text}");
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shipping_pushes_each_receipt_once_and_reads_it_back_shipped() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start(24, |c| c.etsy_per_second = 100).await;
    let url = sandbox.url();
    let config = harness_config(
        dir.path(),
        &[
            etsy_channel("etsy", &url, 50, ""),
            shipping_block(&url, "", SHIP_EVERYTHING, &[]),
        ],
    );
    let h = Harness::new(&config).await;
    h.pass(0).await.expect("sync");
    let first = h.ship().await;
    assert!(first.shipped >= 5, "{first:?}");
    h.pass(0).await.expect("sync after the pushes");
    assert_eq!(h.ship().await.shipped, 0, "nothing ships twice");
    let carriers = carrier_shipments(&url).await;
    let stored = h.stored("etsy");
    let mut pushed = 0;
    for t in market_truth(&url, "etsy").await {
        let id = t["market_id"].as_str().unwrap();
        let shipments = t["fulfillments"].as_array().unwrap();
        let bought = carrier_labels(&carriers, "etsy", id);
        assert!(
            shipments.len() <= 1,
            "{id}: submitted {} times",
            shipments.len()
        );
        if let Some(s) = shipments.first() {
            pushed += 1;
            assert_eq!(bought.len(), 1, "{id}");
            assert_eq!(s["tracking_number"], bought[0].1["tracking_number"], "{id}");
            let o = &by_id(&stored, id).unwrap().order;
            assert_eq!(o.fulfillment_status, FulfillmentStatus::Fulfilled, "{id}");
        }
    }
    assert_eq!(pushed, first.shipped);
    sandbox.shutdown().await;
}

/// `tradelane connect` for Etsy: the consent page gets a PKCE challenge,
/// the code is exchanged with its verifier (a public client: no secret),
/// and the saved refresh token makes the channel work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_uses_pkce_and_saves_a_working_refresh_token() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start(5, |_| {}).await;
    let url = sandbox.url();
    let refresh = SandboxConfig::default().etsy_refresh_token;
    let channel =
        etsy_channel("etsy", &url, 50, "").replace(&format!("refresh_token = \"{refresh}\"\n"), "");
    let (config, _) = write_config(
        dir.path(),
        &config_text(&dir.path().join("data"), std::slice::from_ref(&channel)),
    );
    let Consented {
        consent,
        location,
        output: rest,
    } = connect_by_consent(&config, "s1/etsy").await;
    assert!(
        consent.contains("code_challenge=") && consent.contains("code_challenge_method=S256"),
        "{consent}"
    );
    assert!(
        consent.contains("transactions_r+transactions_w")
            || consent.contains("transactions_r%20transactions_w"),
        "{consent}"
    );
    assert!(
        location.starts_with("https://seller.example/etsy-callback?code="),
        "{location}"
    );
    let line = rest
        .lines()
        .find(|l| l.trim_start().starts_with("refresh_token = { file = "))
        .unwrap_or_else(|| panic!("no config line: {rest}"));
    let with_token = channel.replace(
        "[sellers.channels.settings]\n",
        &format!("[sellers.channels.settings]\n{}\n", line.trim()),
    );
    let (config, _) = write_config(
        dir.path(),
        &config_text(&dir.path().join("data"), &[with_token]),
    );
    succeeded(
        &cli(&config, &["sync", "--once"], None),
        "sync with the connected token",
    );
    let grants = oauth_control(&url, "etsy", "").await;
    assert_eq!(grants["grants"]["authorization_code"], 1, "{grants}");
    sandbox.shutdown().await;
}

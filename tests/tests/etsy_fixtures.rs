//! The Etsy plugin's code run natively over the receipts built from Etsy's
//! schema (`tests/fixtures/etsy/`), and through the SDK's conformance
//! suites against a shop that keeps what is written to it.

use etsy::{Etsy, mapping, wire};
use serde_json::Value;
use tradelane_plugin_sdk::testkit::{self, MockResponse, SentRequest, conformance};
use tradelane_plugin_sdk::{
    Fulfillment, FulfillmentStatus, Marketplace, PaymentStatus, PluginError, Settings,
};
use tradelane_tests::fixtures;

fn page() -> Value {
    serde_json::from_slice(
        &std::fs::read(fixtures().join("etsy/receipts.schema-built.json")).unwrap(),
    )
    .unwrap()
}

fn settings() -> Settings {
    Settings::new(
        [
            ("shop_id", "41872630"),
            ("etsy_ioss", "IM3720000999"),
            ("etsy_arn", "300009207152"),
        ],
        ["keystring", "shared_secret", "refresh_token"],
    )
}

fn registrations() -> mapping::Registrations {
    mapping::Registrations {
        ioss: Some("IM3720000999".into()),
        ..Default::default()
    }
}

#[test]
fn receipts_map_with_exact_money_spread_coupons_and_etsys_tax() {
    let page: wire::ShopReceipts = serde_json::from_value(page()).unwrap();
    assert_eq!(page.count, 2);
    let eu = mapping::order(&page.results[0], &registrations()).unwrap();
    assert_eq!(
        (eu.external_id.as_str(), eu.number.as_str()),
        ("3487123456", "#3487123456")
    );
    assert_eq!(eu.created_at, "2025-12-02T09:40:00Z");
    assert_eq!(eu.updated_at, "2025-12-02T09:50:00Z");
    assert_eq!(eu.totals.total.amount_minor, 7302);
    assert_eq!(eu.totals.subtotal.amount_minor, 5700);
    assert_eq!(eu.totals.discount.amount_minor, 300);
    assert_eq!(eu.totals.tax.amount_minor, 1107);
    assert_eq!(eu.totals.shipping.amount_minor, 495);
    // The €3 coupon over €42 and 2 × €9: 210 and 90 cents.
    let d: Vec<i64> = eu
        .line_items
        .iter()
        .map(|l| l.discount.amount_minor)
        .collect();
    assert_eq!(d, vec![210, 90]);
    let tax: i64 = eu.line_items.iter().map(|l| l.tax.amount_minor).sum();
    assert_eq!(tax, 1107, "Etsy's VAT spread exactly");
    assert_eq!(eu.line_items[1].quantity, 2);
    assert_eq!(eu.line_items[1].unit_price.amount_minor, 900);
    assert!(eu.marketplace_collected_tax);
    assert_eq!(eu.tax_ids.len(), 1);
    assert_eq!(
        (eu.tax_ids[0].scheme.as_str(), eu.tax_ids[0].value.as_str()),
        ("ioss", "IM3720000999")
    );
    assert_eq!(eu.payment_status, PaymentStatus::Paid);
    assert_eq!(eu.fulfillment_status, FulfillmentStatus::Unfulfilled);
    assert!(eu.tags.contains(&"gift".to_string()));
    assert_eq!(eu.shipping_lines[0].title, "Deutsche Post Warenpost");
    let to = eu.shipping_address.unwrap();
    assert_eq!(
        (to.country.as_str(), to.line2.as_deref()),
        ("DE", Some("Hinterhaus"))
    );

    let us = mapping::order(&page.results[1], &registrations()).unwrap();
    assert_eq!(us.totals.tax.amount_minor, 216);
    assert!(
        us.marketplace_collected_tax,
        "US sales tax is Etsy's to collect"
    );
    assert!(us.tax_ids.is_empty(), "no import registration for the US");
    assert_eq!(us.fulfillment_status, FulfillmentStatus::Fulfilled);
    assert_eq!(us.buyer.unwrap().email, None);
}

#[test]
fn money_that_is_not_whole_minor_units_is_refused() {
    let m = |amount, divisor, currency: &str| wire::Money {
        amount,
        divisor,
        currency_code: currency.into(),
    };
    assert_eq!(
        mapping::minor(&m(1500, 1, "JPY"), "JPY", "x").unwrap(),
        1500
    );
    assert_eq!(
        mapping::minor(&m(24990, 1000, "EUR"), "EUR", "x").unwrap(),
        2499
    );
    assert_eq!(
        mapping::minor(&m(1234, 100, "KWD"), "KWD", "x").unwrap(),
        12340
    );
    let err = mapping::minor(&m(24995, 1000, "EUR"), "EUR", "x").unwrap_err();
    assert!(format!("{err:?}").contains("not a whole number"), "{err:?}");
    assert!(
        mapping::minor(&m(100, 100, "USD"), "EUR", "x").is_err(),
        "another currency"
    );
    assert!(
        mapping::minor(&m(100, 0, "EUR"), "EUR", "x").is_err(),
        "a zero divisor"
    );
    // Shares add up whatever the weights.
    assert_eq!(mapping::spread(100, &[1, 1, 1]), vec![34, 33, 33]);
    assert_eq!(mapping::spread(0, &[5, 5]), vec![0, 0]);
}

#[test]
fn the_plugin_passes_the_marketplace_conformance_suite() {
    let body = page().to_string();
    let findings = conformance::marketplace::<Etsy, _>(&settings(), || {
        let body = body.clone();
        move |_: &SentRequest| MockResponse::json(200, &body)
    });
    assert!(findings.problems.is_empty(), "{:#?}", findings.problems);
    assert_eq!((findings.pages, findings.orders), (1, 2));
}

/// A shop that keeps its receipts' shipments, answering as Etsy does:
/// the receipt, and the receipt again after a tracking submission.
fn shop_keeping_shipments() -> impl FnMut(&SentRequest) -> MockResponse + 'static {
    let mut receipt = page()["results"][0].clone();
    move |r: &SentRequest| {
        assert_eq!(
            r.header("x-api-key"),
            Some("{{secret:keystring}}:{{secret:shared_secret}}")
        );
        if r.url.ends_with("/receipts/3487123456/tracking") {
            assert_eq!(
                r.header("content-type"),
                Some("application/x-www-form-urlencoded")
            );
            let form: Vec<(String, String)> = r
                .text()
                .split('&')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), tradelane_plugin_sdk::http::decode(v)))
                .collect();
            let get = |k: &str| form.iter().find(|(x, _)| x == k).map(|(_, v)| v.clone());
            let n = receipt["shipments"].as_array().unwrap().len();
            receipt["shipments"]
                .as_array_mut()
                .unwrap()
                .push(serde_json::json!({
                    "receipt_shipping_id": 1300000100 + n,
                    "shipment_notification_timestamp": 1764700000,
                    "carrier_name": get("carrier_name"),
                    "tracking_code": get("tracking_code"),
                }));
            receipt["is_shipped"] = true.into();
            MockResponse::json(200, &receipt.to_string())
        } else if r.url.ends_with("/receipts/3487123456") {
            MockResponse::json(200, &receipt.to_string())
        } else {
            MockResponse::json(404, r#"{"error": "Receipt not found"}"#)
        }
    }
}

fn shipped() -> Fulfillment {
    Fulfillment {
        order_external_id: "3487123456".into(),
        carrier: "Deutsche Post".into(),
        service: None,
        tracking_number: "RR123456785DE".into(),
        tracking_url: None,
        shipped_at: "2025-12-03T10:00:00Z".into(),
        lines: Vec::new(),
        notify_buyer: true,
    }
}

#[test]
fn a_second_identical_push_is_detected() {
    let findings =
        conformance::push_fulfillment::<Etsy>(&settings(), shipped(), shop_keeping_shipments());
    assert!(findings.problems.is_empty(), "{:#?}", findings.problems);
    let (receipt, seen) = testkit::with_host(shop_keeping_shipments(), || {
        Etsy::push_fulfillment(&settings(), shipped())
    });
    assert_eq!(receipt.unwrap().external_id, "1300000100");
    let post = seen.requests.iter().find(|r| r.body.is_some()).unwrap();
    assert_eq!(
        post.text(),
        "tracking_code=RR123456785DE&carrier_name=deutsche-post&send_bcc=false"
    );
}

#[test]
fn a_429_after_the_days_quota_defers_an_hour() {
    let mut calls = 0;
    let api = move |_: &SentRequest| {
        calls += 1;
        if calls == 1 {
            MockResponse::json(200, &page().to_string())
                .with_header("x-limit-per-day", "10000")
                .with_header("x-remaining-today", "0")
        } else {
            MockResponse::json(429, r#"{"error": "Too many requests"}"#)
        }
    };
    let query = tradelane_plugin_sdk::OrderQuery {
        updated_after: None,
        page_token: None,
        page_size: 2,
    };
    let (second, _) = testkit::with_host(api, || {
        Etsy::fetch_orders(&settings(), query.clone()).unwrap();
        Etsy::fetch_orders(&settings(), query.clone())
    });
    match second {
        Err(PluginError::RateLimited(r)) => {
            assert_eq!(r.retry_after_ms, Some(3_600_000));
            assert!(
                r.detail.contains("today's request quota is spent"),
                "{}",
                r.detail
            );
        }
        other => panic!("{other:?}"),
    }
}

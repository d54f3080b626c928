//! The WooCommerce plugin's code run natively over the real payloads in
//! `tests/fixtures/woocommerce/` (WooCommerce's REST API docs and the
//! Shipment Tracking extension's), and through the SDK's conformance
//! suites against a store that keeps what is written to it.

use serde_json::{Value, json};
use tradelane_plugin_sdk::testkit::{self, MockResponse, SentRequest, conformance};
use tradelane_plugin_sdk::{
    Fulfillment, FulfillmentStatus, Marketplace, OrderStatus, PaymentStatus, PluginError, Settings,
};
use tradelane_tests::fixtures;
use woocommerce::{WooCommerce, mapping, wire};

fn json(name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(fixtures().join("woocommerce").join(name)).unwrap())
        .unwrap()
}

fn order(v: &Value) -> Result<tradelane_plugin_sdk::Order, PluginError> {
    let wire: wire::Order = serde_json::from_value(v.clone()).unwrap();
    mapping::order(&wire)
}

fn settings(extra: &[(&'static str, &'static str)]) -> Settings {
    let mut values = vec![("store_url", "https://shop.example.com")];
    values.extend_from_slice(extra);
    Settings::new(values, ["consumer_key", "consumer_secret"])
}

#[test]
fn the_docs_orders_map_with_exact_money_and_utc_times() {
    let orders = json("orders.json");
    let a = order(&orders[0]).unwrap();
    assert_eq!((a.external_id.as_str(), a.number.as_str()), ("727", "#727"));
    assert_eq!(a.currency, "USD");
    // The store is three hours behind UTC: the `_gmt` times are the truth.
    assert_eq!(a.created_at, "2017-03-22T19:28:02Z");
    assert_eq!(a.updated_at, "2017-03-22T19:28:08Z");
    assert_eq!(a.totals.total.amount_minor, 2935);
    assert_eq!(a.totals.tax.amount_minor, 135);
    assert_eq!(a.totals.shipping.amount_minor, 1000);
    assert_eq!(a.totals.subtotal.amount_minor, 1800);
    assert_eq!(
        a.totals.subtotal.amount_minor + a.totals.shipping.amount_minor + a.totals.tax.amount_minor,
        a.totals.total.amount_minor
    );
    assert_eq!(a.line_items.len(), 2);
    assert_eq!(a.line_items[0].unit_price.amount_minor, 300);
    assert_eq!(a.line_items[0].quantity, 2);
    assert_eq!(a.line_items[0].tax.amount_minor, 45);
    assert_eq!(a.line_items[0].sku, None, "an empty sku is none");
    assert_eq!(a.line_items[1].sku.as_deref(), Some("Bar3"));
    assert_eq!(
        a.line_items[1].title, "Ship Your Idea – Color: Black, Size: M Test",
        "WordPress's HTML entities are decoded"
    );
    assert_eq!(a.shipping_lines[0].title, "Flat Rate");
    assert_eq!(a.payment_status, PaymentStatus::Paid);
    assert_eq!(a.fulfillment_status, FulfillmentStatus::Unfulfilled);
    assert_eq!(a.status, OrderStatus::Open);
    assert_eq!(a.payment_gateways, vec!["bacs".to_string()]);
    let address = a.shipping_address.unwrap();
    assert_eq!(
        (address.city.as_str(), address.country.as_str()),
        ("San Francisco", "US")
    );
    assert_eq!(
        address.phone.as_deref(),
        Some("(555) 555-5555"),
        "from billing"
    );
    assert_eq!(
        a.buyer.unwrap().email.as_deref(),
        Some("john.doe@example.com")
    );

    let b = order(&orders[1]).unwrap();
    assert_eq!(
        b.fulfillment_status,
        FulfillmentStatus::Fulfilled,
        "completed"
    );
    assert_eq!(b.status, OrderStatus::Closed);
    assert_eq!(b.totals.total.amount_minor, 3900);

    // The order the docs' status update returns reads as fulfilled.
    let updated = order(&json("order_update.response.json")).unwrap();
    assert_eq!(updated.fulfillment_status, FulfillmentStatus::Fulfilled);
}

#[test]
fn fees_coupons_refunds_and_tax_inclusive_prices_add_up() {
    let mut o = json("orders.json")[0].clone();
    o["prices_include_tax"] = true.into();
    // €9.99 each including 20 % VAT: 8.325 before tax, 16.65 for two.
    o["currency"] = "EUR".into();
    o["line_items"] = json!([{
        "id": 1, "name": "Mug", "quantity": 2, "sku": "MUG",
        "subtotal": "16.65", "subtotal_tax": "3.33", "total": "14.99", "total_tax": "3.00", "price": 8.325
    }]);
    o["fee_lines"] = json!([
        {"id": 9, "name": "Gift wrap", "total": "2.00", "total_tax": "0.40"},
        {"id": 10, "name": "Loyalty discount", "total": "-1.00", "total_tax": "0.00"}
    ]);
    o["coupon_lines"] = json!([{"id": 11, "code": "summer", "discount": "1.66"}]);
    o["discount_total"] = "1.66".into();
    o["shipping_total"] = "4.00".into();
    o["total_tax"] = "3.40".into();
    o["total"] = "23.39".into();
    o["refunds"] = json!([{"id": 12, "reason": "one mug chipped", "total": "-5.00"}]);
    let m = order(&o).unwrap();
    let line = &m.line_items[0];
    // Rounded up to a whole cent, the difference moved into the discount:
    // unit × quantity − discount is exactly the line's total.
    assert_eq!(line.unit_price.amount_minor, 833);
    assert_eq!(line.discount.amount_minor, 833 * 2 - 1499);
    assert!(!m.taxes_included, "REST line totals are before tax");
    let fee = m
        .line_items
        .iter()
        .find(|l| l.external_id == "fee-9")
        .unwrap();
    assert!(!fee.requires_shipping);
    assert_eq!(
        (fee.unit_price.amount_minor, fee.tax.amount_minor),
        (200, 40)
    );
    assert!(m.line_items.iter().all(|l| l.external_id != "fee-10"));
    assert_eq!(
        m.totals.discount.amount_minor,
        166 + 100,
        "coupon and negative fee"
    );
    assert_eq!(m.totals.subtotal.amount_minor, 1499 + 200 - 100);
    assert_eq!(
        m.totals.subtotal.amount_minor + m.totals.shipping.amount_minor + m.totals.tax.amount_minor,
        m.totals.total.amount_minor
    );
    assert!(m.tags.contains(&"coupon:summer".to_string()));
    assert_eq!(m.payment_status, PaymentStatus::PartiallyRefunded);
}

#[test]
fn store_decimals_convert_exactly_or_are_refused_naming_the_setting() {
    let mut o = json("orders.json")[0].clone();
    o["currency"] = "JPY".into();
    for (field, value) in [
        ("total", "8340.00"),
        ("total_tax", "0.00"),
        ("shipping_total", "0.00"),
    ] {
        o[field] = value.into();
    }
    o["line_items"] = json!([{"id": 1, "name": "Tea", "quantity": 1, "subtotal": "8340.00", "total": "8340.00", "total_tax": "0.00"}]);
    let m = order(&o).unwrap();
    assert_eq!(m.totals.total.amount_minor, 8340, "8340.00 JPY is 8340 yen");
    o["total"] = "8340.50".into();
    let err = order(&o).unwrap_err();
    let text = format!("{err:?}");
    assert!(
        text.contains("Number of decimals") && text.contains("8340.50"),
        "{text}"
    );
}

/// The docs' orders as a store's page: `X-WP-Total` counts them.
fn store_page() -> impl Fn() -> Box<dyn FnMut(&SentRequest) -> MockResponse> {
    let body = serde_json::to_string(&json("orders.json")).unwrap();
    move || {
        let body = body.clone();
        Box::new(move |_: &SentRequest| {
            MockResponse::json(200, &body)
                .with_header("x-wp-total", "2")
                .with_header("x-wp-totalpages", "1")
        })
    }
}

#[test]
fn the_plugin_passes_the_marketplace_conformance_suite() {
    let api = store_page();
    let findings = conformance::marketplace::<WooCommerce, _>(&settings(&[]), || {
        let mut inner = api();
        move |r: &SentRequest| inner(r)
    });
    assert!(findings.problems.is_empty(), "{:#?}", findings.problems);
    assert_eq!((findings.pages, findings.orders), (1, 2));
}

/// A store that keeps what is written: tracking items (when the extension
/// is installed), notes and the order's status.
fn store_keeping_pushes(extension: bool) -> impl FnMut(&SentRequest) -> MockResponse + 'static {
    let mut order = json("orders.json")[0].clone();
    let item = json("shipment_tracking_item.response.json");
    let note = json("order_note_create.response.json");
    let mut items: Vec<Value> = Vec::new();
    let mut notes: Vec<Value> = Vec::new();
    move |r: &SentRequest| {
        let path = r.url.split('?').next().unwrap();
        let post = matches!(r.method, tradelane_plugin_sdk::http::Method::Post);
        let put = matches!(r.method, tradelane_plugin_sdk::http::Method::Put);
        let sent: Value = serde_json::from_str(&r.text()).unwrap_or_default();
        if path.ends_with("/wc-shipment-tracking/v3/orders/727/shipment-trackings") {
            if !extension {
                return MockResponse::json(
                    404,
                    r#"{"code":"rest_no_route","message":"No route was found matching the URL and request method.","data":{"status":404}}"#,
                );
            }
            if post {
                let mut made = item.clone();
                made["tracking_number"] = sent["tracking_number"].clone();
                made["tracking_id"] = format!("{:032x}", items.len() + 1).into();
                items.push(made.clone());
                return MockResponse::json(201, &made.to_string());
            }
            return MockResponse::json(200, &Value::Array(items.clone()).to_string());
        }
        if path.ends_with("/wc/v3/orders/727/notes") {
            if post {
                let mut made = note.clone();
                made["id"] = (281 + notes.len()).into();
                made["note"] = sent["note"].clone();
                notes.push(made.clone());
                return MockResponse::json(201, &made.to_string());
            }
            return MockResponse::json(200, &Value::Array(notes.clone()).to_string());
        }
        if path.ends_with("/wc/v3/orders/727") {
            if put {
                order["status"] = sent["status"].clone();
            }
            return MockResponse::json(200, &order.to_string());
        }
        MockResponse::json(
            404,
            r#"{"code":"rest_no_route","message":"No route","data":{"status":404}}"#,
        )
    }
}

fn shipped() -> Fulfillment {
    Fulfillment {
        order_external_id: "727".into(),
        carrier: "USPS".into(),
        service: Some("Priority".into()),
        tracking_number: "9400111899560000000000".into(),
        tracking_url: Some("https://tools.usps.com/tracking/9400111899560000000000".into()),
        shipped_at: "2026-07-10T09:00:00Z".into(),
        lines: Vec::new(),
        notify_buyer: true,
    }
}

#[test]
fn a_second_identical_push_is_detected_with_and_without_the_extension() {
    for extension in [true, false] {
        let findings = conformance::push_fulfillment::<WooCommerce>(
            &settings(&[]),
            shipped(),
            store_keeping_pushes(extension),
        );
        assert!(
            findings.problems.is_empty(),
            "extension {extension}: {:#?}",
            findings.problems
        );
    }
}

#[test]
fn the_push_uses_the_extension_when_installed_else_a_note_and_completes_the_order() {
    let (receipt, seen) = testkit::with_host(store_keeping_pushes(true), || {
        WooCommerce::push_fulfillment(&settings(&[]), shipped())
    });
    assert_eq!(receipt.unwrap().external_id, format!("{:032x}", 1));
    let writes: Vec<String> = seen
        .requests
        .iter()
        .filter(|r| !matches!(r.method, tradelane_plugin_sdk::http::Method::Get))
        .map(|r| format!("{} {}", testkit::method_name(r.method), r.url))
        .collect();
    assert_eq!(
        writes,
        vec![
            "POST https://shop.example.com/wp-json/wc-shipment-tracking/v3/orders/727/shipment-trackings".to_string(),
            "PUT https://shop.example.com/wp-json/wc/v3/orders/727".to_string(),
        ]
    );
    let tracking = &seen
        .requests
        .iter()
        .find(|r| r.url.contains("shipment-trackings") && r.body.is_some())
        .unwrap();
    let body: Value = serde_json::from_str(&tracking.text()).unwrap();
    // The extension's own name for a carrier it knows; the docs' request.
    assert_eq!(body, json("shipment_tracking_create.request.json"));
    assert_eq!(
        seen.requests[0].header("authorization"),
        Some("Basic {{basic:consumer_key:consumer_secret}}")
    );

    let (receipt, seen) = testkit::with_host(store_keeping_pushes(false), || {
        WooCommerce::push_fulfillment(&settings(&[]), shipped())
    });
    assert_eq!(receipt.unwrap().external_id, "note-281");
    let note = seen
        .requests
        .iter()
        .find(|r| r.url.ends_with("/notes") && r.body.is_some())
        .unwrap();
    let body: Value = serde_json::from_str(&note.text()).unwrap();
    assert_eq!(
        body["note"],
        "Shipped with USPS: tracking number 9400111899560000000000 — https://tools.usps.com/tracking/9400111899560000000000"
    );
    assert_eq!(body["customer_note"], true);

    // `tracking = "extension"` on a store without it is a settings error.
    let (result, _) = testkit::with_host(store_keeping_pushes(false), || {
        WooCommerce::push_fulfillment(&settings(&[("tracking", "extension")]), shipped())
    });
    assert!(
        matches!(result, Err(PluginError::InvalidSettings(_))),
        "{result:?}"
    );
}

#[test]
fn a_carrier_the_extension_does_not_know_is_a_custom_provider() {
    let mut f = shipped();
    f.carrier = "Evri".into();
    f.tracking_url = Some("https://www.evri.com/track/parcel/H01HYA0004567890".into());
    let (_, seen) = testkit::with_host(store_keeping_pushes(true), || {
        WooCommerce::push_fulfillment(&settings(&[]), f)
    });
    let tracking = seen
        .requests
        .iter()
        .find(|r| r.url.contains("shipment-trackings") && r.body.is_some())
        .unwrap();
    let body: Value = serde_json::from_str(&tracking.text()).unwrap();
    let docs = json("shipment_tracking_create_custom.request.json");
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&body), keys(&docs), "the docs' custom-provider shape");
    assert_eq!(body["custom_tracking_provider"], "Evri");
}

//! The Shopify plugin's mapping, run natively over every real Shopify
//! payload in `tests/fixtures/shopify/`, checked field by field.

use shopify::{fulfillment_request, mapping, wire};
use tradelane_plugin_sdk::{
    Fulfillment, FulfillmentLine, FulfillmentStatus, OrderStatus, PaymentStatus,
};
use tradelane_tests::fixtures;

fn read(name: &str) -> Vec<u8> {
    let path = fixtures().join("shopify").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn orders_json_maps_every_field() {
    let orders = mapping::orders_from_json(&read("orders.json")).expect("orders.json maps");
    assert_eq!(orders.len(), 1);
    let o = &orders[0];
    assert_eq!(o.external_id, "450789469");
    assert_eq!(o.number, "#1001");
    assert_eq!(o.created_at, "2008-01-10T16:00:00Z", "converted to UTC");
    assert_eq!(o.updated_at, "2008-01-10T16:00:00Z");
    assert_eq!(o.currency, "USD");
    assert_eq!(o.status, OrderStatus::Open);
    assert_eq!(o.payment_status, PaymentStatus::PartiallyRefunded);
    assert_eq!(o.fulfillment_status, FulfillmentStatus::Unfulfilled);
    assert_eq!(o.totals.subtotal.amount_minor, 59700);
    assert_eq!(o.totals.total.amount_minor, 59894);
    assert_eq!(o.totals.tax.amount_minor, 1194);
    assert_eq!(o.totals.discount.amount_minor, 1000);
    assert_eq!(o.totals.shipping.amount_minor, 0);
    let addr = o.shipping_address.as_ref().expect("shipping address");
    assert_eq!(
        (
            addr.country.as_str(),
            addr.city.as_str(),
            addr.region.as_deref()
        ),
        ("US", "Louisville", Some("KY"))
    );
    assert_eq!(addr.postal_code.as_deref(), Some("40202"));
    assert_eq!(addr.name.as_deref(), Some("Bob Norman"));
    assert_eq!(addr.line2, None, "empty address2 is absent");
    let buyer = o.buyer.as_ref().expect("buyer");
    assert_eq!(buyer.email.as_deref(), Some("bob.norman@mail.example.com"));
    assert_eq!(buyer.name.as_deref(), Some("Bob Norman"));
    assert_eq!(o.line_items.len(), 3);
    let first = &o.line_items[0];
    assert_eq!(first.sku.as_deref(), Some("IPOD2008GREEN"));
    // The fixture's first line was removed (quantity 1, current_quantity
    // 0): nothing of it is left to ship or to declare, and its discount
    // and tax went with it.
    assert_eq!(first.quantity, 0);
    assert_eq!(first.unit_price.amount_minor, 19900);
    assert_eq!(first.tax.amount_minor, 0);
    assert_eq!(first.discount.amount_minor, 0);
    let kept = &o.line_items[1];
    assert_eq!(kept.quantity, 1);
    assert_eq!(kept.tax.amount_minor, 398);
    assert_eq!(
        kept.discount.amount_minor, 333,
        "discount allocations count"
    );
    assert_eq!(first.weight_grams, Some(200));
    assert_eq!(o.shipping_lines.len(), 1);
    assert_eq!(o.shipping_lines[0].title, "Free Shipping");
    assert!(!o.marketplace_collected_tax);
    assert!(!o.taxes_included);
    // The lines' tax adds up to the order's current tax (3.98 of the 11.94
    // charged before the removals).
    let taxes: i64 = o.line_items.iter().map(|l| l.tax.amount_minor).sum();
    assert_eq!(taxes, 398);
    assert_eq!(o.totals.tax.amount_minor, 1194);
}

#[test]
fn a_buyer_paying_in_another_currency_keeps_both_currencies_and_the_gateways() {
    let plain = mapping::orders_from_json(&read("orders.json")).unwrap();
    assert!(plain[0].presentment_total.is_none(), "USD shop, USD buyer");
    assert_eq!(plain[0].payment_gateways, vec!["bogus".to_string()]);

    let orders = mapping::orders_from_json(&read("orders.presentment.json")).unwrap();
    let o = &orders[0];
    // The shop's money stays the order's; the buyer's total is kept beside it.
    assert_eq!(o.currency, "USD");
    assert_eq!(o.totals.total.amount_minor, 59_894);
    let p = o.presentment_total.as_ref().expect("presentment total");
    assert_eq!((p.amount_minor, p.currency.as_str()), (55_102, "EUR"));
    assert_eq!(
        o.payment_gateways,
        vec!["shopify_payments".to_string(), "gift_card".to_string()]
    );
}

#[test]
fn legacy_orders_json_maps() {
    let orders = mapping::orders_from_json(&read("orders.legacy.json")).expect("legacy orders map");
    assert!(!orders.is_empty());
    for o in &orders {
        assert!(!o.line_items.is_empty());
        assert!(o.updated_at.ends_with('Z'));
        assert_eq!(o.totals.total.currency, o.currency);
    }
}

#[test]
fn fulfillment_orders_become_the_create_request_of_the_fixture() {
    let fos: wire::FulfillmentOrdersBody =
        serde_json::from_slice(&read("fulfillment_orders.json")).unwrap();
    let fulfillment = Fulfillment {
        order_external_id: "450789469".into(),
        carrier: "UPS".into(),
        service: None,
        tracking_number: "1Z001985YW99744790".into(),
        tracking_url: None,
        shipped_at: "2026-11-29T10:00:00Z".into(),
        lines: vec![FulfillmentLine {
            line_external_id: "518995019".into(),
            quantity: 1,
        }],
        notify_buyer: false,
    };
    let body = serde_json::to_value(fulfillment_request(&fulfillment, &fos).unwrap()).unwrap();
    let fixture: serde_json::Value =
        serde_json::from_slice(&read("fulfillment_create.request.json")).unwrap();
    // Same shape as Shopify's own request (ids differ: the fixtures are from different tests).
    assert_eq!(
        body["fulfillment"]["tracking_info"]["number"],
        fixture["fulfillment"]["tracking_info"]["number"]
    );
    assert_eq!(
        body["fulfillment"]["tracking_info"]["company"],
        fixture["fulfillment"]["tracking_info"]["company"]
    );
    assert_eq!(
        body["fulfillment"]["notify_customer"],
        fixture["fulfillment"]["notify_customer"]
    );
    let group = &body["fulfillment"]["line_items_by_fulfillment_order"][0];
    assert_eq!(group["fulfillment_order_id"], 1046000780);
    assert_eq!(group["fulfillment_order_line_items"][0]["id"], 1072503277);
    assert_eq!(group["fulfillment_order_line_items"][0]["quantity"], 1);
    for key in fixture["fulfillment"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| *k != "message")
    {
        assert!(body["fulfillment"].get(key).is_some(), "missing {key}");
    }
}

#[test]
fn fulfillment_responses_parse() {
    let created: wire::CreatedFulfillment =
        serde_json::from_slice(&read("fulfillment_create.response.json")).unwrap();
    assert_eq!(created.fulfillment.id, 1069019868);
    let list: wire::FulfillmentsBody = serde_json::from_slice(&read("fulfillments.json")).unwrap();
    assert!(!list.fulfillments.is_empty());
    assert!(list.fulfillments.iter().all(|f| f.id > 0));
}

#[test]
fn every_shopify_fixture_is_read_by_some_test() {
    // Payouts and transactions belong to settlement (Shopify Payments as a
    // payment source); they must at least be valid JSON of the documented shape.
    for name in [
        "payouts.json",
        "transactions.json",
        "fulfillment_create_minimal.request.json",
        "fulfillment_update_tracking.request.json",
    ] {
        let v: serde_json::Value = serde_json::from_slice(&read(name)).unwrap();
        assert!(v.is_object(), "{name}");
    }
}

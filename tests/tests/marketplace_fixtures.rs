//! The Amazon and eBay plugins' mapping, run natively over the real
//! payloads in `tests/fixtures/amazon/` (Orders API 2026-01-01: Amazon's
//! own model examples and sandbox responses) and `tests/fixtures/ebay/`,
//! checked field by field, money exact.
//!
//! The Orders v0 *read* payloads kept beside them (`getOrders*.json`,
//! `getOrder.json`, `getOrderItems*.json`, `getOrderAddress.json`) are for
//! the operations Amazon retires on 27 March 2027; the plugin does not call
//! them, so only their shared error envelope is read here.

use tradelane_plugin_sdk::{
    FulfilledBy, Fulfillment, FulfillmentStatus, OrderStatus, PaymentStatus,
};
use tradelane_tests::fixtures;

fn read(dir: &str, name: &str) -> Vec<u8> {
    let path = fixtures().join(dir).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn amazon_search(name: &str) -> (Vec<tradelane_plugin_sdk::Order>, Option<String>) {
    let page: amazon::wire::SearchOrders =
        serde_json::from_slice(&read("amazon", name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let orders = page
        .orders
        .iter()
        .map(|o| amazon::mapping::order(o).unwrap_or_else(|e| panic!("{name}: {e:?}")))
        .collect();
    (orders, page.pagination.and_then(|p| p.next_token))
}

fn amazon_get(name: &str) -> tradelane_plugin_sdk::Order {
    let found: amazon::wire::GetOrder =
        serde_json::from_slice(&read("amazon", name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    amazon::mapping::order(&found.order).unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

#[test]
fn amazon_search_orders_doc_example() {
    let (orders, next) = amazon_search("searchOrders.2026-01-01.json");
    assert_eq!(next.as_deref(), Some("2YgYW55IGNhcm5hbCBwbGVhc3VyZS4"));
    assert_eq!(orders.len(), 1);
    let o = &orders[0];
    assert_eq!(o.external_id, "123-4567890-1234567");
    assert_eq!(o.number, "123-4567890-1234567");
    assert_eq!(o.created_at, "2024-12-25T10:30:00Z");
    assert_eq!(o.updated_at, "2024-12-25T14:45:00Z");
    assert_eq!(o.marketplace.as_deref(), Some("ATVPDKIKX0DER"));
    assert_eq!(o.currency, "USD");
    assert_eq!(
        (o.status, o.payment_status, o.fulfillment_status),
        (
            OrderStatus::Open,
            PaymentStatus::Paid,
            FulfillmentStatus::Fulfilled
        )
    );
    assert_eq!(o.fulfilled_by, FulfilledBy::Seller);
    // 154.99 = items 149.97 + tax 0.02 + a 5.00 delivery tip (order-level).
    assert_eq!(o.totals.total.amount_minor, 15499);
    assert_eq!(o.totals.subtotal.amount_minor, 14997);
    assert_eq!(o.totals.tax.amount_minor, 2);
    assert_eq!(o.totals.shipping.amount_minor, 0);
    assert_eq!(o.totals.discount.amount_minor, 0);
    assert_eq!(o.line_items.len(), 2);
    let (a, b) = (&o.line_items[0], &o.line_items[1]);
    assert_eq!(a.external_id, "12345678901234");
    assert_eq!(a.sku.as_deref(), Some("ECHO-DOT-4-CHARCOAL"));
    assert_eq!(
        (a.quantity, a.unit_price.amount_minor, a.tax.amount_minor),
        (2, 4999, 2)
    );
    assert_eq!(a.unit_price.currency, "USD");
    assert_eq!(b.sku.as_deref(), Some("FIRE-TV-4K-2021"));
    assert_eq!(
        (b.quantity, b.unit_price.amount_minor, b.tax.amount_minor),
        (1, 4999, 0)
    );
    assert!(a.title.starts_with("Echo Dot (4th Gen)"));
    let addr = o.shipping_address.as_ref().unwrap();
    assert_eq!(addr.name.as_deref(), Some("John Smith"));
    assert_eq!(addr.company.as_deref(), Some("Smith Industries LLC"));
    assert_eq!(addr.line1, "123 Main Street");
    assert_eq!(
        addr.line2.as_deref(),
        Some("Suite 456"),
        "empty addressLine3 dropped"
    );
    assert_eq!(
        (
            addr.city.as_str(),
            addr.region.as_deref(),
            addr.postal_code.as_deref(),
            addr.country.as_str()
        ),
        ("Seattle", Some("WA"), Some("98101"), "US")
    );
    assert_eq!(addr.phone.as_deref(), Some("555-123-4567"));
    let buyer = o.buyer.as_ref().unwrap();
    assert_eq!(buyer.name.as_deref(), Some("John Smith"));
    assert_eq!(
        buyer.email.as_deref(),
        Some("buyer-email@marketplace.amazon.com")
    );
    // PRIME: Amazon's own shipping service is required.
    assert!(o.shipping_hold.as_deref().unwrap().contains("Prime"));
    assert_eq!(o.tags, ["amazon:prime", "amazon:amazon_business"]);
    assert!(o.tax_ids.is_empty() && !o.marketplace_collected_tax);
    assert_eq!(o.shipping_lines.len(), 1);
    assert_eq!(o.shipping_lines[0].code.as_deref(), Some("STANDARD"));
}

#[test]
fn amazon_search_orders_sandbox_pages_and_tax_registrations() {
    let (orders, next) = amazon_search("searchOrders.2026-01-01.sandbox-paginated.json");
    assert_eq!(next, None, "the last page");
    let o = &orders[0];
    assert_eq!(o.external_id, "202-7654321-1098765");
    assert_eq!(o.marketplace.as_deref(), Some("A1F83G8C2ARO7P"));
    assert_eq!(
        (o.currency.as_str(), o.totals.total.amount_minor),
        ("GBP", 3499)
    );
    assert_eq!(o.line_items[0].unit_price.amount_minor, 3499);
    assert_eq!(
        o.shipping_address.as_ref().unwrap().postal_code.as_deref(),
        Some("SW1A 1AA")
    );

    let (orders, _) = amazon_search("searchOrders.2026-01-01.sandbox-tax-payment.json");
    let o = &orders[0];
    assert_eq!(o.external_id, "171-2345678-9012345");
    assert_eq!(
        (o.currency.as_str(), o.totals.total.amount_minor),
        ("BRL", 159990)
    );
    assert_eq!(
        (o.payment_status, o.fulfillment_status),
        (PaymentStatus::Paid, FulfillmentStatus::Unfulfilled),
        "UNSHIPPED: paid, ready to ship"
    );
    // Only the marketplace's registration travels; the buyer's and the
    // merchant's do not.
    assert_eq!(o.tax_ids.len(), 1);
    assert_eq!(
        (o.tax_ids[0].scheme.as_str(), o.tax_ids[0].value.as_str()),
        ("cnpj", "15436940")
    );
    assert!(
        o.shipping_hold
            .as_deref()
            .unwrap()
            .contains("delivered by Amazon"),
        "{:?}",
        o.shipping_hold
    );
    let addr = o.shipping_address.as_ref().unwrap();
    assert_eq!(
        (addr.city.as_str(), addr.line2.as_deref()),
        ("São Paulo", Some("Sala 301"))
    );
}

#[test]
fn amazon_get_order_examples() {
    let o = amazon_get("getOrder.2026-01-01.json");
    assert_eq!(o.external_id, "202-1234567-8901234");
    assert_eq!(o.marketplace.as_deref(), Some("A1F83G8C2ARO7P"));
    assert_eq!(o.currency, "GBP");
    assert_eq!(o.totals.total.amount_minor, 10397);
    assert_eq!(o.totals.subtotal.amount_minor, 8997);
    assert_eq!(o.totals.shipping.amount_minor, 1000);
    assert_eq!(o.totals.tax.amount_minor, 400);
    let line = &o.line_items[0];
    assert_eq!(
        (
            line.quantity,
            line.unit_price.amount_minor,
            line.tax.amount_minor
        ),
        (3, 2999, 400)
    );
    // Amazon collected the VAT and gives its IOSS number per item.
    assert!(o.marketplace_collected_tax);
    assert_eq!(o.tax_ids.len(), 1);
    assert_eq!(
        (o.tax_ids[0].scheme.as_str(), o.tax_ids[0].value.as_str()),
        ("ioss", "IM1234567890")
    );
    assert_eq!(
        o.shipping_address.as_ref().unwrap().region.as_deref(),
        Some("England")
    );

    let o = amazon_get("getOrder.2026-01-01.sandbox.json");
    assert_eq!(o.external_id, "171-9876543-2109876");
    assert_eq!(
        (o.currency.as_str(), o.totals.total.amount_minor),
        ("BRL", 29990)
    );
    assert_eq!(o.fulfillment_status, FulfillmentStatus::Unfulfilled);
    assert!(o.shipping_hold.is_some(), "PRIME");

    let o = amazon_get("getOrder.2026-01-01.sandbox-tax.json");
    assert_eq!(o.external_id, "028-1234567-8901234");
    assert_eq!(o.marketplace.as_deref(), Some("A33AVAJ2PDY3EV"));
    assert_eq!(
        (o.currency.as_str(), o.totals.total.amount_minor),
        ("TRY", 12500)
    );
    assert_eq!(
        (
            o.line_items[0].quantity,
            o.line_items[0].unit_price.amount_minor
        ),
        (2, 6250)
    );
    assert!(
        o.marketplace_collected_tax,
        "MARKETPLACE_FACILITATOR with an IOSS scheme"
    );
    assert!(
        o.tax_ids.is_empty(),
        "the buyer's BUSINESS registration is not the marketplace's"
    );
    assert!(o.shipping_hold.is_none());
}

#[test]
fn amazon_errors_read_the_same_envelope_in_every_version() {
    let e: amazon::wire::Errors =
        serde_json::from_slice(&read("amazon", "getOrders.error400.json")).unwrap();
    let first = &e.errors[0];
    assert_eq!(first.code.as_deref(), Some("InvalidInput"));
    assert!(first.message.as_deref().unwrap_or("").len() > 5);
}

#[test]
fn amazon_confirm_shipment_body_has_the_documented_shape() {
    let documented: serde_json::Value =
        serde_json::from_slice(&read("amazon", "confirmShipment.request.json")).unwrap();
    let fulfillment = Fulfillment {
        order_external_id: "902-1106328-1059050".into(),
        carrier: "FedEx".into(),
        service: Some("FedEx Ground".into()),
        tracking_number: "112345678".into(),
        tracking_url: None,
        shipped_at: "2022-02-11T01:00:00Z".into(),
        lines: Vec::new(),
        notify_buyer: true,
    };
    let ours = amazon::confirm_shipment_body(
        &fulfillment,
        "ATVPDKIKX0DER",
        "1",
        &[("79039765272157".into(), 1)],
    );
    let keys = |v: &serde_json::Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&ours), keys(&documented));
    let (ours_d, doc_d) = (&ours["packageDetail"], &documented["packageDetail"]);
    for key in [
        "packageReferenceId",
        "carrierCode",
        "shippingMethod",
        "trackingNumber",
    ] {
        assert_eq!(ours_d[key], doc_d[key], "{key}");
    }
    // Transparency codes are optional; tradelane has none to send.
    for key in ["orderItemId", "quantity"] {
        assert_eq!(
            ours_d["orderItems"][0][key], doc_d["orderItems"][0][key],
            "{key}"
        );
    }
    assert_eq!(ours["marketplaceId"], documented["marketplaceId"]);
    // A carrier Amazon has no code for goes as Other, with its name.
    let other = amazon::confirm_shipment_body(
        &Fulfillment {
            carrier: "Sendle".into(),
            ..fulfillment
        },
        "ATVPDKIKX0DER",
        "2",
        &[("1".into(), 1)],
    );
    assert_eq!(other["packageDetail"]["carrierCode"], "Other");
    assert_eq!(other["packageDetail"]["carrierName"], "Sendle");
    assert_eq!(
        amazon::mapping::carrier_code("RoyalMail"),
        Some("Royal Mail")
    );
    assert_eq!(amazon::mapping::carrier_code("DHLExpress"), Some("DHL"));
}

fn ebay_orders(name: &str) -> Vec<tradelane_plugin_sdk::Order> {
    let page: ebay::wire::OrderSearchPagedCollection =
        serde_json::from_slice(&read("ebay", name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    page.orders
        .iter()
        .map(|o| ebay::mapping::order(o).unwrap_or_else(|e| panic!("{name}: {e:?}")))
        .collect()
}

#[test]
fn ebay_get_orders_every_order_field_by_field() {
    let orders = ebay_orders("getOrders.json");
    assert_eq!(orders.len(), 5);
    let o = &orders[0];
    assert_eq!(o.external_id, "2*********9");
    assert_eq!(o.created_at, "2020-06-28T04:34:08Z");
    assert_eq!(o.updated_at, "2020-06-29T00:55:11Z");
    assert_eq!(
        (o.status, o.payment_status, o.fulfillment_status),
        (
            OrderStatus::Open,
            PaymentStatus::Paid,
            FulfillmentStatus::Unfulfilled
        )
    );
    assert_eq!(o.currency, "USD");
    assert_eq!(o.totals.subtotal.amount_minor, 600);
    assert_eq!(o.totals.shipping.amount_minor, 600);
    assert_eq!(o.totals.total.amount_minor, 1200);
    assert_eq!(o.line_items.len(), 3);
    for (line, (quantity, unit)) in o.line_items.iter().zip([(1, 100), (2, 100), (3, 100)]) {
        assert_eq!(
            (line.quantity, line.unit_price.amount_minor),
            (quantity, unit),
            "lineItemCost ÷ quantity"
        );
    }
    assert_eq!(o.line_items[0].external_id, "1********1");
    assert_eq!(o.line_items[0].sku.as_deref(), Some("T*****R"));
    assert_eq!(o.marketplace.as_deref(), Some("EBAY_US"));
    assert!(o.marketplace_collected_tax, "eBay collects US sales tax");
    let addr = o.shipping_address.as_ref().unwrap();
    assert_eq!(addr.line2.as_deref(), Some("R********t"));
    assert_eq!(addr.country, "US");
    assert_eq!(addr.phone.as_deref(), Some("9**-***-***1"));
    assert_eq!(
        o.shipping_lines[0].code.as_deref(),
        Some("ShippingMethodExpress")
    );

    // 2.2 for two units is 1.10 each; eBay's tax is the line's `taxes`.
    let o = &orders[1];
    assert_eq!(
        (
            o.line_items[0].quantity,
            o.line_items[0].unit_price.amount_minor
        ),
        (2, 110)
    );
    assert_eq!(o.line_items[0].tax.amount_minor, 27);
    assert_eq!(
        o.totals.tax.amount_minor, 27,
        "no pricingSummary.tax: the lines' sum"
    );
    assert_eq!(o.totals.total.amount_minor, 420, "as eBay states it");
    // No collect-and-remit data: the seller handles the tax.
    assert!(!orders[3].marketplace_collected_tax);
    let o = &orders[4];
    assert_eq!(o.totals.shipping.amount_minor, 12419);
    assert_eq!(o.totals.total.amount_minor, 35419);
    assert_eq!(
        (
            o.line_items[1].quantity,
            o.line_items[1].unit_price.amount_minor
        ),
        (3, 4000)
    );
}

#[test]
fn ebay_cancelled_refunded_order_keeps_ebays_converted_amounts() {
    let orders = ebay_orders("getOrders.cancelled_refunded.json");
    let o = &orders[0];
    assert_eq!(o.external_id, "07-07160-44920343");
    assert_eq!(
        (o.status, o.payment_status, o.fulfillment_status),
        (
            OrderStatus::Cancelled,
            PaymentStatus::Refunded,
            FulfillmentStatus::Fulfilled
        )
    );
    // The buyer paid 8.90 EUR; eBay states 10.63 USD, and that is kept.
    assert_eq!(
        (o.currency.as_str(), o.totals.total.amount_minor),
        ("USD", 1063)
    );
    assert_eq!(o.line_items[0].unit_price.amount_minor, 1063);
    // ...and so is what the buyer paid, in the buyer's currency.
    let paid = o
        .presentment_total
        .as_ref()
        .expect("convertedFromValue kept");
    assert_eq!((paid.amount_minor, paid.currency.as_str()), (890, "EUR"));
    assert_eq!(o.payment_gateways, vec!["ebay".to_string()]);
    let addr = o.shipping_address.as_ref().unwrap();
    assert_eq!(
        (addr.city.as_str(), addr.country.as_str()),
        ("Mülheim", "DE")
    );
    assert_eq!(o.marketplace.as_deref(), Some("EBAY_DE"));
}

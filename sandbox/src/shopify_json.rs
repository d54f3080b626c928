//! Render simulated orders in the Shopify Admin REST 2026-07 shape (the
//! fields and nesting of `tests/fixtures/shopify/orders.json`), so a real
//! Shopify order and a sandbox order go through the same plugin code.

use super::world::{SimOrder, decimal};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

fn ts(t: &DateTime<Utc>) -> String {
    // Shopify writes local offsets; the sandbox's shop is in UTC-5 like the fixture's.
    t.with_timezone(&chrono::FixedOffset::west_opt(5 * 3600).expect("valid offset"))
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

fn set(amount: &str, currency: &str) -> Value {
    json!({
        "shop_money": {"amount": amount, "currency_code": currency},
        "presentment_money": {"amount": amount, "currency_code": currency}
    })
}

fn address(o: &SimOrder) -> Value {
    let c = &o.customer;
    json!({
        "first_name": c.first_name,
        "address1": c.address1,
        "phone": c.phone,
        "city": c.city,
        "zip": c.zip,
        "province": c.region,
        "country": c.country_name,
        "last_name": c.last_name,
        "address2": "",
        "company": null,
        "latitude": null,
        "longitude": null,
        "name": format!("{} {}", c.first_name, c.last_name),
        "country_code": c.country,
        "province_code": c.region
    })
}

/// One order as Shopify's `orders.json` element.
pub fn order(o: &SimOrder) -> Value {
    let cur = o.currency.as_str();
    let d = |minor: i64| decimal(minor, o.decimals);
    let rate = format!("0.{:04}", o.tax_rate_bp);
    let tax_title = if o.customer.country == "US" {
        "State Tax"
    } else {
        "VAT"
    };
    let line_items: Vec<Value> = o
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            json!({
                "id": l.id,
                "admin_graphql_api_id": format!("gid://shopify/LineItem/{}", l.id),
                "attributed_staffs": [],
                "current_quantity": l.quantity,
                "fulfillable_quantity": if o.fulfillment_status.is_some() { 0 } else { l.quantity },
                "fulfillment_service": "manual",
                "fulfillment_status": o.fulfillment_status,
                "gift_card": false,
                "grams": l.grams,
                "name": format!("{} - {}", l.title, l.variant),
                "price": d(l.price_minor),
                "price_set": set(&d(l.price_minor), cur),
                "product_exists": true,
                "product_id": 632_910_392 + (l.id % 97),
                "properties": [
                    {"name": "Gift message", "value": format!("Order {} line {}", o.name(), i + 1)},
                    {"name": "_origin", "value": "sandbox"}
                ],
                "quantity": l.quantity,
                "requires_shipping": true,
                "sku": l.sku,
                "taxable": true,
                "title": l.title,
                "total_discount": "0.00",
                "total_discount_set": set(&d(0), cur),
                "variant_id": 39_072_856 + (l.id % 89),
                "variant_inventory_management": "shopify",
                "variant_title": l.variant,
                "vendor": "Sandbox Goods",
                "tax_lines": [{
                    "channel_liable": false,
                    "price": d(l.tax_minor),
                    "price_set": set(&d(l.tax_minor), cur),
                    "rate": rate.parse::<f64>().unwrap_or(0.0),
                    "title": tax_title
                }],
                "duties": [],
                "discount_allocations": if l.discount_minor > 0 {
                    json!([{"amount": d(l.discount_minor), "amount_set": set(&d(l.discount_minor), cur), "discount_application_index": 0}])
                } else { json!([]) }
            })
        })
        .collect();
    let c = &o.customer;
    json!({
        "id": o.id,
        "admin_graphql_api_id": format!("gid://shopify/Order/{}", o.id),
        "app_id": null,
        "browser_ip": "0.0.0.0",
        "buyer_accepts_marketing": false,
        "cancel_reason": if o.cancelled_at.is_some() { json!("customer") } else { json!(null) },
        "cancelled_at": o.cancelled_at.as_ref().map(ts),
        "cart_token": format!("68778783ad298f1c80c3bafcddeea{:05}", o.id % 100_000),
        "checkout_id": 901_414_060 + o.id % 1000,
        "checkout_token": format!("bd5a8aa1ecd019dd3520ff791ee{:05}", o.id % 100_000),
        "client_details": {
            "accept_language": null, "browser_height": null, "browser_ip": "0.0.0.0", "browser_width": null,
            "session_hash": null, "user_agent": null
        },
        "closed_at": null,
        "confirmation_number": null,
        "confirmed": true,
        "contact_email": c.email,
        "created_at": ts(&o.created_at),
        "currency": cur,
        "current_subtotal_price": d(o.subtotal_minor()),
        "current_subtotal_price_set": set(&d(o.subtotal_minor()), cur),
        "current_total_additional_fees_set": null,
        "current_total_discounts": d(o.discount_minor()),
        "current_total_discounts_set": set(&d(o.discount_minor()), cur),
        "current_total_duties_set": null,
        "current_total_price": d(o.total_minor()),
        "current_total_price_set": set(&d(o.total_minor()), cur),
        "current_total_tax": d(o.tax_minor()),
        "current_total_tax_set": set(&d(o.tax_minor()), cur),
        "customer_locale": "en",
        "device_id": null,
        "discount_codes": if o.discount_minor() > 0 { json!([{"code": "TENOFF", "amount": d(o.discount_minor()), "type": "percentage"}]) } else { json!([]) },
        "duties_included": false,
        "email": c.email,
        "estimated_taxes": false,
        "financial_status": o.financial_status,
        "fulfillment_status": o.fulfillment_status,
        "landing_site": "http://www.example.com?source=abc",
        "landing_site_ref": "abc",
        "location_id": null,
        "merchant_business_entity_id": "MTU0ODM4MDAwOQ",
        "merchant_of_record_app_id": null,
        "name": o.name(),
        "note": o.note,
        "note_attributes": [{"name": "custom engraving", "value": "Happy Birthday"}, {"name": "colour", "value": "green"}],
        "number": o.number - 1000,
        "order_number": o.number,
        "order_status_url": format!("https://sandbox.myshopify.com/548380009/orders/{:032x}/authenticate?key=sandbox", o.id),
        "original_total_additional_fees_set": null,
        "original_total_duties_set": null,
        "payment_gateway_names": [match crate::payments::ledger::provider(o, "") {
            crate::payments::ledger::Provider::Stripe => "stripe",
            crate::payments::ledger::Provider::Paypal => "paypal",
        }],
        "phone": c.phone,
        "po_number": null,
        "presentment_currency": cur,
        "processed_at": ts(&o.created_at),
        "reference": format!("fhwdgads{}", o.id),
        "referring_site": "http://www.otherexample.com",
        "source_identifier": format!("fhwdgads{}", o.id),
        "source_name": "web",
        "source_url": null,
        "subtotal_price": d(o.subtotal_minor()),
        "subtotal_price_set": set(&d(o.subtotal_minor()), cur),
        "tags": o.tags.join(", "),
        "tax_exempt": false,
        "tax_lines": [{"price": d(o.tax_minor()), "rate": rate.parse::<f64>().unwrap_or(0.0), "title": tax_title, "price_set": set(&d(o.tax_minor()), cur), "channel_liable": false}],
        "taxes_included": false,
        "test": true,
        "token": format!("{:032x}", o.id.wrapping_mul(2_654_435_761)),
        "total_cash_rounding_payment_adjustment_set": set(&d(0), cur),
        "total_cash_rounding_refund_adjustment_set": set(&d(0), cur),
        "total_discounts": d(o.discount_minor()),
        "total_discounts_set": set(&d(o.discount_minor()), cur),
        "total_line_items_price": d(o.line_items_minor()),
        "total_line_items_price_set": set(&d(o.line_items_minor()), cur),
        "total_outstanding": if o.financial_status == "paid" { d(0) } else { d(o.total_minor()) },
        "total_price": d(o.total_minor()),
        "total_price_set": set(&d(o.total_minor()), cur),
        "total_shipping_price_set": set(&d(o.shipping_minor), cur),
        "total_tax": d(o.tax_minor()),
        "total_tax_set": set(&d(o.tax_minor()), cur),
        "total_tip_received": d(0),
        "total_weight": o.lines.iter().map(|l| l.grams * l.quantity).sum::<u32>(),
        "updated_at": ts(&o.updated_at),
        "user_id": null,
        "billing_address": address(o),
        "customer": {
            "id": c.id, "email": c.email, "created_at": ts(&o.created_at), "updated_at": ts(&o.created_at),
            "first_name": c.first_name, "last_name": c.last_name, "state": "disabled", "note": null,
            "verified_email": true, "multipass_identifier": null, "tax_exempt": false, "phone": c.phone,
            "email_marketing_consent": {"state": "not_subscribed", "opt_in_level": null, "consent_updated_at": null},
            "sms_marketing_consent": {"state": "not_subscribed", "opt_in_level": "single_opt_in", "consent_updated_at": null, "consent_collected_from": "OTHER"},
            "tags": "", "currency": cur, "tax_exemptions": [], "admin_graphql_api_id": format!("gid://shopify/Customer/{}", c.id),
            "default_address": {
                "id": c.id + 1, "customer_id": c.id, "first_name": c.first_name, "last_name": c.last_name, "company": null,
                "address1": c.address1, "address2": "", "city": c.city, "province": c.region, "country": c.country_name,
                "zip": c.zip, "phone": c.phone, "name": format!("{} {}", c.first_name, c.last_name),
                "province_code": c.region, "country_code": c.country, "country_name": c.country_name, "default": true
            }
        },
        "discount_applications": if o.discount_minor() > 0 {
            json!([{"target_type": "line_item", "type": "discount_code", "value": "10.0", "value_type": "percentage", "allocation_method": "across", "target_selection": "all", "code": "TENOFF"}])
        } else { json!([]) },
        "fulfillments": fulfillments(o),
        "line_items": line_items,
        "payment_terms": null,
        "refunds": [],
        "shipping_address": address(o),
        "shipping_lines": [{
            "id": 369_256_396 + o.id % 1000,
            "carrier_identifier": null,
            "code": o.shipping_title,
            "discounted_price": d(o.shipping_minor),
            "discounted_price_set": set(&d(o.shipping_minor), cur),
            "is_removed": false,
            "phone": null,
            "price": d(o.shipping_minor),
            "price_set": set(&d(o.shipping_minor), cur),
            "requested_fulfillment_service_id": null,
            "source": "shopify",
            "title": o.shipping_title,
            "tax_lines": [],
            "discount_allocations": []
        }]
    })
}

/// The fulfillments recorded on an order (the body of `fulfillments.json`
/// is `{"fulfillments": this}`).
pub fn fulfillments(o: &SimOrder) -> Value {
    o.fulfillments
        .iter()
        .map(|f| {
            json!({
                "id": f.id, "order_id": o.id, "status": "success", "created_at": ts(&f.created_at),
                "service": "manual", "updated_at": ts(&f.created_at), "tracking_company": f.tracking_company,
                "shipment_status": null, "location_id": 24_826_418, "tracking_number": f.tracking_number,
                "tracking_numbers": [f.tracking_number], "tracking_url": f.tracking_url,
                "tracking_urls": f.tracking_url.iter().collect::<Vec<_>>(), "name": format!("{}.{}", o.name(), 1)
            })
        })
        .collect()
}

/// The fulfillment orders of an order (one per order, at one location).
pub fn fulfillment_orders(o: &SimOrder) -> Value {
    let open = o.fulfillment_status.is_none() && o.cancelled_at.is_none();
    json!({"fulfillment_orders": [{
        "id": 1_046_000_000 + o.id % 1_000_000,
        "created_at": ts(&o.created_at),
        "updated_at": ts(&o.updated_at),
        "shop_id": 548_380_009,
        "order_id": o.id,
        "assigned_location_id": 24_826_418,
        "request_status": "unsubmitted",
        "status": if open { "open" } else if o.cancelled_at.is_some() { "cancelled" } else { "closed" },
        "supported_actions": if open { json!(["create_fulfillment"]) } else { json!([]) },
        "line_items": o.lines.iter().map(|l| json!({
            "id": 1_072_503_000 + l.id % 1_000_000,
            "shop_id": 548_380_009,
            "fulfillment_order_id": 1_046_000_000 + o.id % 1_000_000,
            "quantity": l.quantity,
            "line_item_id": l.id,
            "inventory_item_id": 49_148_385,
            "fulfillable_quantity": if open { l.quantity } else { 0 },
            "variant_id": 49_148_385
        })).collect::<Vec<_>>(),
        "fulfillment_holds": [],
        "merchant_requests": []
    }]})
}

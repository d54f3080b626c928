//! WooCommerce REST API v3 JSON, as far as tradelane reads it. Shapes follow
//! `woocommerce-rest-api-docs` (`_orders.md`, `_order-notes.md`) and the
//! Shipment Tracking extension's documentation; the payloads are in
//! `tests/fixtures/woocommerce/`. Unknown keys are ignored.

use serde::Deserialize;
use tradelane_plugin_sdk::serde_json;

/// An order (`GET /wp-json/wc/v3/orders[/{id}]`). Money is decimal text
/// printed with the store's "Number of decimals" setting; line `total`s are
/// before tax, whatever `prices_include_tax` says.
#[derive(Debug, Deserialize)]
pub struct Order {
    pub id: u64,
    #[serde(default)]
    pub number: String,
    pub status: String,
    pub currency: String,
    /// Times in UTC without an offset (`2017-03-22T19:28:02`).
    pub date_created_gmt: Option<String>,
    pub date_modified_gmt: Option<String>,
    #[serde(default)]
    pub date_paid_gmt: Option<String>,
    #[serde(default)]
    pub discount_total: String,
    #[serde(default)]
    pub shipping_total: String,
    pub total: String,
    #[serde(default)]
    pub total_tax: String,
    #[serde(default)]
    pub prices_include_tax: bool,
    #[serde(default)]
    pub billing: Option<Address>,
    #[serde(default)]
    pub shipping: Option<Address>,
    #[serde(default)]
    pub payment_method: String,
    #[serde(default)]
    pub customer_note: String,
    #[serde(default)]
    pub meta_data: Vec<Meta>,
    #[serde(default)]
    pub line_items: Vec<LineItem>,
    #[serde(default)]
    pub shipping_lines: Vec<ShippingLine>,
    #[serde(default)]
    pub fee_lines: Vec<FeeLine>,
    #[serde(default)]
    pub coupon_lines: Vec<CouponLine>,
    #[serde(default)]
    pub refunds: Vec<Refund>,
}

/// `billing` / `shipping`. Empty strings mean "not given".
#[derive(Debug, Default, Deserialize)]
pub struct Address {
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default)]
    pub company: String,
    #[serde(default)]
    pub address_1: String,
    #[serde(default)]
    pub address_2: String,
    #[serde(default)]
    pub city: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub postcode: String,
    #[serde(default)]
    pub country: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

/// `meta_data[]`: values are any JSON.
#[derive(Debug, Deserialize)]
pub struct Meta {
    pub key: String,
    #[serde(default)]
    pub value: serde_json::Value,
}

/// `line_items[]`: `subtotal` before and `total` after discounts, both
/// without tax. (`price` is a JSON number, a float: never read.)
#[derive(Debug, Deserialize)]
pub struct LineItem {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub sku: Option<String>,
    pub quantity: i64,
    pub subtotal: String,
    pub total: String,
    #[serde(default)]
    pub total_tax: String,
}

/// `shipping_lines[]`: `total` without tax.
#[derive(Debug, Deserialize)]
pub struct ShippingLine {
    #[serde(default)]
    pub method_title: String,
    #[serde(default)]
    pub method_id: String,
    pub total: String,
    #[serde(default)]
    pub total_tax: String,
}

/// `fee_lines[]` (gift wrap, payment surcharges; negative for a discount).
#[derive(Debug, Deserialize)]
pub struct FeeLine {
    pub id: u64,
    #[serde(default)]
    pub name: String,
    pub total: String,
    #[serde(default)]
    pub total_tax: String,
}

/// `coupon_lines[]`.
#[derive(Debug, Deserialize)]
pub struct CouponLine {
    pub code: String,
}

/// `refunds[]`: `total` is negative (`"-10.00"`).
#[derive(Debug, Deserialize)]
pub struct Refund {
    pub id: u64,
    pub total: String,
}

/// WordPress REST errors: `{"code", "message", "data": {"status"}}`.
#[derive(Debug, Deserialize)]
pub struct Error {
    pub code: String,
    #[serde(default)]
    pub message: String,
}

/// An order note (`GET|POST /orders/{id}/notes`).
#[derive(Debug, Deserialize)]
pub struct Note {
    pub id: u64,
    #[serde(default)]
    pub note: String,
}

/// A Shipment Tracking item (`/wc-shipment-tracking/v3/orders/{id}/shipment-trackings`).
#[derive(Debug, Deserialize)]
pub struct TrackingItem {
    pub tracking_id: String,
    #[serde(default)]
    pub tracking_number: String,
}

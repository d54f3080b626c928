//! The Shopify Admin REST shapes this plugin reads and writes (only the
//! fields it uses; serde skips the rest). Field names are Shopify's.

use serde::{Deserialize, Serialize};

/// `GET /admin/api/{version}/orders.json`
#[derive(Debug, Deserialize)]
pub struct OrdersBody {
    pub orders: Vec<Order>,
}

#[derive(Debug, Deserialize)]
pub struct Order {
    pub id: u64,
    pub name: String,
    pub created_at: String,
    pub updated_at: String,
    pub cancelled_at: Option<String>,
    pub closed_at: Option<String>,
    pub currency: String,
    pub financial_status: Option<String>,
    pub fulfillment_status: Option<String>,
    pub subtotal_price: Option<String>,
    pub total_price: String,
    pub total_tax: Option<String>,
    pub total_discounts: Option<String>,
    pub total_shipping_price_set: Option<PriceSet>,
    #[serde(default)]
    pub taxes_included: bool,
    #[serde(default)]
    pub tags: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub customer: Option<Customer>,
    pub shipping_address: Option<Address>,
    pub billing_address: Option<Address>,
    #[serde(default)]
    pub line_items: Vec<LineItem>,
    #[serde(default)]
    pub shipping_lines: Vec<ShippingLine>,
    #[serde(default)]
    pub tax_lines: Vec<TaxLine>,
}

#[derive(Debug, Deserialize)]
pub struct PriceSet {
    pub shop_money: Amount,
}

#[derive(Debug, Deserialize)]
pub struct Amount {
    pub amount: String,
}

#[derive(Debug, Deserialize)]
pub struct Customer {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Address {
    pub name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub address1: Option<String>,
    pub address2: Option<String>,
    pub city: Option<String>,
    pub province: Option<String>,
    pub province_code: Option<String>,
    pub zip: Option<String>,
    pub country_code: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct LineItem {
    pub id: u64,
    pub sku: Option<String>,
    pub title: String,
    pub name: Option<String>,
    pub quantity: u32,
    pub price: String,
    pub total_discount: Option<String>,
    #[serde(default)]
    pub discount_allocations: Vec<DiscountAllocation>,
    #[serde(default)]
    pub tax_lines: Vec<TaxLine>,
    pub grams: Option<u32>,
    #[serde(default = "yes")]
    pub requires_shipping: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
pub struct DiscountAllocation {
    pub amount: String,
}

#[derive(Debug, Deserialize)]
pub struct TaxLine {
    pub price: String,
    /// True when the channel (not the merchant) is liable for the tax.
    pub channel_liable: Option<bool>,
}

#[derive(Debug, Deserialize)]
pub struct ShippingLine {
    pub title: String,
    pub code: Option<String>,
    pub price: String,
}

/// `GET /admin/api/{version}/orders/{id}/fulfillment_orders.json`
#[derive(Debug, Deserialize)]
pub struct FulfillmentOrdersBody {
    pub fulfillment_orders: Vec<FulfillmentOrder>,
}

#[derive(Debug, Deserialize)]
pub struct FulfillmentOrder {
    pub id: u64,
    pub status: String,
    #[serde(default)]
    pub line_items: Vec<FulfillmentOrderLine>,
}

#[derive(Debug, Deserialize)]
pub struct FulfillmentOrderLine {
    pub id: u64,
    pub line_item_id: u64,
    pub fulfillable_quantity: u32,
}

/// `GET /admin/api/{version}/orders/{id}/fulfillments.json`
#[derive(Debug, Deserialize)]
pub struct FulfillmentsBody {
    pub fulfillments: Vec<ExistingFulfillment>,
}

#[derive(Debug, Deserialize)]
pub struct ExistingFulfillment {
    pub id: u64,
    pub status: Option<String>,
    #[serde(default)]
    pub tracking_numbers: Vec<String>,
    pub tracking_number: Option<String>,
}

/// `POST /admin/api/{version}/fulfillments.json` (request)
#[derive(Debug, Serialize)]
pub struct CreateFulfillment {
    pub fulfillment: NewFulfillment,
}

#[derive(Debug, Serialize)]
pub struct NewFulfillment {
    pub notify_customer: bool,
    pub tracking_info: TrackingInfo,
    pub line_items_by_fulfillment_order: Vec<ByFulfillmentOrder>,
}

#[derive(Debug, Serialize)]
pub struct TrackingInfo {
    pub number: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub company: String,
}

#[derive(Debug, Serialize)]
pub struct ByFulfillmentOrder {
    pub fulfillment_order_id: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fulfillment_order_line_items: Vec<FulfillmentOrderLineQty>,
}

#[derive(Debug, Serialize)]
pub struct FulfillmentOrderLineQty {
    pub id: u64,
    pub quantity: u32,
}

/// `POST /admin/api/{version}/fulfillments.json` (response)
#[derive(Debug, Deserialize)]
pub struct CreatedFulfillment {
    pub fulfillment: ExistingFulfillment,
}

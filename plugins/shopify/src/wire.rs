//! The Shopify Admin REST shapes this plugin reads and writes (only the
//! fields it uses; serde skips the rest). Field names are Shopify's.
//! Order pages borrow their strings from the response body (`Cow`): a
//! 250-order page is ~2.5 MB, and copying every field would double the
//! allocations of the hottest path.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// `GET /admin/api/{version}/orders.json`
#[derive(Debug, Deserialize)]
pub struct OrdersBody<'a> {
    #[serde(borrow)]
    pub orders: Vec<Order<'a>>,
}

#[derive(Debug, Deserialize)]
pub struct Order<'a> {
    pub id: u64,
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    #[serde(borrow)]
    pub created_at: Cow<'a, str>,
    #[serde(borrow)]
    pub updated_at: Cow<'a, str>,
    #[serde(borrow)]
    pub cancelled_at: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub closed_at: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub currency: Cow<'a, str>,
    #[serde(borrow)]
    pub financial_status: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub fulfillment_status: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub subtotal_price: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub total_price: Cow<'a, str>,
    #[serde(borrow)]
    pub total_tax: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub total_discounts: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub total_shipping_price_set: Option<PriceSet<'a>>,
    /// The total in shop and presentment (buyer's) money.
    #[serde(borrow)]
    pub total_price_set: Option<PriceSet<'a>>,
    /// The currency the buyer saw and paid in.
    #[serde(borrow)]
    pub presentment_currency: Option<Cow<'a, str>>,
    /// `shopify_payments`, `paypal`, `manual`...
    #[serde(default)]
    #[serde(borrow)]
    pub payment_gateway_names: Vec<Cow<'a, str>>,
    #[serde(default)]
    pub taxes_included: bool,
    #[serde(default)]
    #[serde(borrow)]
    pub tags: Cow<'a, str>,
    #[serde(borrow)]
    pub email: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub phone: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub customer: Option<Customer<'a>>,
    #[serde(borrow)]
    pub shipping_address: Option<Address<'a>>,
    #[serde(borrow)]
    pub billing_address: Option<Address<'a>>,
    #[serde(default)]
    #[serde(borrow)]
    pub line_items: Vec<LineItem<'a>>,
    #[serde(default)]
    #[serde(borrow)]
    pub shipping_lines: Vec<ShippingLine<'a>>,
    #[serde(default)]
    #[serde(borrow)]
    pub tax_lines: Vec<TaxLine<'a>>,
}

#[derive(Debug, Deserialize)]
pub struct PriceSet<'a> {
    #[serde(borrow)]
    pub shop_money: Amount<'a>,
    #[serde(borrow)]
    pub presentment_money: Option<Amount<'a>>,
}

#[derive(Debug, Deserialize)]
pub struct Amount<'a> {
    #[serde(borrow)]
    pub amount: Cow<'a, str>,
    #[serde(borrow)]
    pub currency_code: Option<Cow<'a, str>>,
}

#[derive(Debug, Deserialize)]
pub struct Customer<'a> {
    #[serde(borrow)]
    pub first_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub last_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub email: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub phone: Option<Cow<'a, str>>,
}

#[derive(Debug, Deserialize)]
pub struct Address<'a> {
    #[serde(borrow)]
    pub name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub first_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub last_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub company: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub address1: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub address2: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub city: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub province: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub province_code: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub zip: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub country_code: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub phone: Option<Cow<'a, str>>,
}

#[derive(Debug, Deserialize)]
pub struct LineItem<'a> {
    pub id: u64,
    #[serde(borrow)]
    pub sku: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub title: Cow<'a, str>,
    #[serde(borrow)]
    pub name: Option<Cow<'a, str>>,
    pub quantity: u32,
    /// The quantity after removals (order edits and refunds); absent on
    /// older API versions.
    #[serde(default)]
    pub current_quantity: Option<u32>,
    #[serde(borrow)]
    pub price: Cow<'a, str>,
    #[serde(borrow)]
    pub total_discount: Option<Cow<'a, str>>,
    #[serde(default)]
    #[serde(borrow)]
    pub discount_allocations: Vec<DiscountAllocation<'a>>,
    #[serde(default)]
    #[serde(borrow)]
    pub tax_lines: Vec<TaxLine<'a>>,
    pub grams: Option<u32>,
    #[serde(default = "yes")]
    pub requires_shipping: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
pub struct DiscountAllocation<'a> {
    #[serde(borrow)]
    pub amount: Cow<'a, str>,
}

#[derive(Debug, Deserialize)]
pub struct TaxLine<'a> {
    #[serde(borrow)]
    pub price: Cow<'a, str>,
    /// True when the channel (not the merchant) is liable for the tax.
    pub channel_liable: Option<bool>,
}

#[derive(Debug, Deserialize)]
pub struct ShippingLine<'a> {
    #[serde(borrow)]
    pub title: Cow<'a, str>,
    #[serde(borrow)]
    pub code: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub price: Cow<'a, str>,
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

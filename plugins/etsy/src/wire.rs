//! Etsy Open API v3 JSON, as far as tradelane reads it. Field names follow
//! Etsy's OpenAPI document (`ShopReceipts`, `ShopReceipt`,
//! `ShopReceiptTransaction`, `ShopReceiptShipment`, `Money`); the payloads
//! in `tests/fixtures/etsy/` are built from it (see its README). Unknown
//! keys are ignored; Etsy's newer `created_timestamp`/`updated_timestamp`
//! are read with the older `create_timestamp`/`update_timestamp` as
//! fallback.

use serde::Deserialize;

/// `Money`: `amount / divisor` in `currency_code`, e.g. `{2499, 100, "EUR"}`.
#[derive(Debug, Clone, Deserialize)]
pub struct Money {
    pub amount: i64,
    pub divisor: i64,
    pub currency_code: String,
}

/// `GET /v3/application/shops/{shop_id}/receipts`: an offset page.
#[derive(Debug, Deserialize)]
pub struct ShopReceipts {
    pub count: u64,
    #[serde(default)]
    pub results: Vec<Receipt>,
}

/// One receipt: an order.
#[derive(Debug, Deserialize)]
pub struct Receipt {
    pub receipt_id: u64,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub buyer_email: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub first_line: Option<String>,
    #[serde(default)]
    pub second_line: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub zip: Option<String>,
    #[serde(default)]
    pub country_iso: Option<String>,
    #[serde(default)]
    pub payment_method: Option<String>,
    #[serde(default)]
    pub message_from_buyer: Option<String>,
    #[serde(default)]
    pub is_paid: bool,
    #[serde(default)]
    pub is_shipped: bool,
    #[serde(default)]
    pub is_gift: bool,
    #[serde(default)]
    pub create_timestamp: Option<i64>,
    #[serde(default)]
    pub created_timestamp: Option<i64>,
    #[serde(default)]
    pub update_timestamp: Option<i64>,
    #[serde(default)]
    pub updated_timestamp: Option<i64>,
    pub grandtotal: Money,
    #[serde(default)]
    pub subtotal: Option<Money>,
    pub total_price: Money,
    #[serde(default)]
    pub total_shipping_cost: Option<Money>,
    #[serde(default)]
    pub total_tax_cost: Option<Money>,
    #[serde(default)]
    pub total_vat_cost: Option<Money>,
    #[serde(default)]
    pub discount_amt: Option<Money>,
    #[serde(default)]
    pub gift_wrap_price: Option<Money>,
    #[serde(default)]
    pub shipments: Vec<Shipment>,
    #[serde(default)]
    pub transactions: Vec<Transaction>,
}

/// `ShopReceiptTransaction`: one listing bought (a line).
#[derive(Debug, Deserialize)]
pub struct Transaction {
    pub transaction_id: u64,
    #[serde(default)]
    pub title: Option<String>,
    pub quantity: i64,
    /// The unit price.
    pub price: Money,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub is_digital: bool,
    #[serde(default)]
    pub shipping_method: Option<String>,
}

/// `ShopReceiptShipment`: tracking submitted for a receipt.
#[derive(Debug, Deserialize)]
pub struct Shipment {
    pub receipt_shipping_id: Option<u64>,
    #[serde(default)]
    pub carrier_name: Option<String>,
    #[serde(default)]
    pub tracking_code: Option<String>,
}

/// Etsy's errors: `{"error": "…"}`.
#[derive(Debug, Deserialize)]
pub struct Error {
    #[serde(default)]
    pub error: String,
    #[serde(default)]
    pub error_description: Option<String>,
}

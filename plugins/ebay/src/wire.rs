//! Sell Fulfillment API v1 JSON, as far as tradelane reads it. Shapes
//! follow eBay's OpenAPI document and the payloads in `tests/fixtures/ebay/`.

use serde::Deserialize;

/// `GET /sell/fulfillment/v1/order` (getOrders): an offset page.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderSearchPagedCollection {
    #[serde(default)]
    pub orders: Vec<Order>,
    #[serde(default)]
    pub total: Option<u64>,
    #[serde(default)]
    pub next: Option<String>,
}

/// `Amount`: a decimal string and a currency, plus what the buyer paid when
/// eBay converted it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Amount {
    pub value: String,
    pub currency: String,
    /// What the buyer paid in their own currency, when eBay converted it.
    #[serde(default)]
    pub converted_from_value: Option<String>,
    #[serde(default)]
    pub converted_from_currency: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub order_id: String,
    pub creation_date: String,
    pub last_modified_date: String,
    pub order_fulfillment_status: Option<String>,
    pub order_payment_status: Option<String>,
    #[serde(default)]
    pub buyer: Option<Buyer>,
    #[serde(default)]
    pub pricing_summary: Option<PricingSummary>,
    #[serde(default)]
    pub cancel_status: Option<CancelStatus>,
    #[serde(default)]
    pub fulfillment_start_instructions: Vec<FulfillmentStartInstruction>,
    #[serde(default)]
    pub line_items: Vec<LineItem>,
    #[serde(default)]
    pub ebay_collect_and_remit_tax: Option<bool>,
    #[serde(default)]
    pub payment_summary: Option<PaymentSummary>,
}

/// How the buyer paid.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentSummary {
    #[serde(default)]
    pub payments: Vec<Payment>,
}

/// One payment: `EBAY` under managed payments, `PAYPAL` before it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    pub payment_method: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Buyer {
    pub username: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PricingSummary {
    pub price_subtotal: Option<Amount>,
    pub price_discount: Option<Amount>,
    pub delivery_cost: Option<Amount>,
    pub delivery_discount: Option<Amount>,
    pub tax: Option<Amount>,
    pub total: Option<Amount>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelStatus {
    pub cancel_state: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FulfillmentStartInstruction {
    #[serde(default)]
    pub ebay_supported_fulfillment: Option<bool>,
    pub shipping_step: Option<ShippingStep>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingStep {
    pub ship_to: Option<ShipTo>,
    pub shipping_service_code: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShipTo {
    pub full_name: Option<String>,
    pub company_name: Option<String>,
    pub contact_address: Option<ContactAddress>,
    pub primary_phone: Option<Phone>,
    pub email: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactAddress {
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub city: Option<String>,
    pub state_or_province: Option<String>,
    pub postal_code: Option<String>,
    pub country_code: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Phone {
    pub phone_number: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
    pub line_item_id: String,
    pub sku: Option<String>,
    pub title: Option<String>,
    /// Unit price × quantity, before discounts.
    pub line_item_cost: Option<Amount>,
    pub quantity: u32,
    pub purchase_marketplace_id: Option<String>,
    #[serde(default)]
    pub delivery_cost: Option<LineDeliveryCost>,
    #[serde(default)]
    pub applied_promotions: Vec<Promotion>,
    #[serde(default)]
    pub taxes: Vec<Tax>,
    #[serde(default)]
    pub ebay_collect_and_remit_taxes: Vec<CollectAndRemitTax>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineDeliveryCost {
    pub shipping_cost: Option<Amount>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Promotion {
    pub discount_amount: Option<Amount>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tax {
    pub amount: Option<Amount>,
}

/// `EbayCollectAndRemitTax`: tax eBay collected and remits itself.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectAndRemitTax {
    pub tax_type: Option<String>,
    pub amount: Option<Amount>,
    pub ebay_reference: Option<TaxReference>,
}

/// `EbayTaxReference`: `IOSS`, `VOEC`, `OSS`, `ABN`, `IRD`… and eBay's number.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxReference {
    pub name: Option<String>,
    pub value: Option<String>,
}

/// `GET …/order/{orderId}/shipping_fulfillment`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingFulfillmentPagedCollection {
    #[serde(default)]
    pub fulfillments: Vec<ShippingFulfillment>,
}

/// Note: `shipmentTrackingNumber` here, `trackingNumber` in the request.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingFulfillment {
    pub fulfillment_id: String,
    pub shipment_tracking_number: Option<String>,
}

/// eBay's error envelope.
#[derive(Debug, Deserialize)]
pub struct Errors {
    #[serde(default)]
    pub errors: Vec<Error>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Error {
    pub error_id: Option<u64>,
    pub message: Option<String>,
}

//! Orders API 2026-01-01 JSON, as far as tradelane reads it. Names and
//! shapes follow Amazon's model (`orders_2026-01-01.json` in
//! amzn/selling-partner-api-models) and the examples kept in
//! `tests/fixtures/amazon/`. Everything not needed to ship, tax or settle
//! an order is left unread.

use serde::Deserialize;

/// `GET /orders/2026-01-01/orders` (searchOrders).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchOrders {
    #[serde(default)]
    pub orders: Vec<Order>,
    #[serde(default)]
    pub pagination: Option<Pagination>,
}

/// `pagination.nextToken`, sent back as `paginationToken`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    pub next_token: Option<String>,
}

/// `GET /orders/2026-01-01/orders/{orderId}` (getOrder).
#[derive(Debug, Deserialize)]
pub struct GetOrder {
    pub order: Order,
}

/// An order with the datasets asked for in `includedData`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub order_id: String,
    pub created_time: String,
    pub last_updated_time: String,
    #[serde(default)]
    pub programs: Vec<String>,
    pub sales_channel: SalesChannel,
    #[serde(default)]
    pub buyer: Option<Buyer>,
    #[serde(default)]
    pub recipient: Option<Recipient>,
    #[serde(default)]
    pub proceeds: Option<OrderProceeds>,
    #[serde(default)]
    pub tax: Option<OrderTax>,
    #[serde(default)]
    pub fulfillment: Option<OrderFulfillment>,
    #[serde(default)]
    pub order_items: Vec<OrderItem>,
    #[serde(default)]
    pub packages: Vec<Package>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SalesChannel {
    #[serde(default)]
    pub marketplace_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Buyer {
    pub buyer_name: Option<String>,
    pub buyer_email: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recipient {
    pub delivery_address: Option<Address>,
}

/// `CustomerAddress`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    pub name: Option<String>,
    pub company_name: Option<String>,
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub address_line3: Option<String>,
    pub city: Option<String>,
    pub state_or_region: Option<String>,
    pub postal_code: Option<String>,
    pub country_code: Option<String>,
    pub phone: Option<String>,
}

/// `Money`: a decimal string and an ISO 4217 code.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Money {
    pub amount: String,
    pub currency_code: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderProceeds {
    pub grand_total: Option<Money>,
}

/// One proceeds category (`ITEM`, `SHIPPING`, `TAX`, `DISCOUNT`…).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Breakdown {
    #[serde(rename = "type")]
    pub kind: String,
    pub subtotal: Money,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderTax {
    #[serde(default)]
    pub tax_registrations: Vec<TaxRegistration>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxRegistration {
    pub entity_type: Option<String>,
    pub tax_registration_type: Option<String>,
    pub tax_registration_number: Option<String>,
    pub tax_registration_address: Option<Address>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderFulfillment {
    pub fulfillment_status: String,
    pub fulfilled_by: Option<String>,
    pub fulfillment_service_level: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderItem {
    pub order_item_id: String,
    pub quantity_ordered: u32,
    pub product: Product,
    #[serde(default)]
    pub proceeds: Option<ItemProceeds>,
    #[serde(default)]
    pub fulfillment: Option<ItemFulfillment>,
    #[serde(default)]
    pub tax: Option<ItemTax>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    pub title: Option<String>,
    pub seller_sku: Option<String>,
    pub price: Option<Price>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Price {
    pub unit_price: Option<Money>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemProceeds {
    #[serde(default)]
    pub breakdowns: Vec<Breakdown>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemFulfillment {
    pub shipping: Option<ItemShipping>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemShipping {
    pub shipping_constraints: Option<ShippingConstraints>,
    pub international_shipping: Option<InternationalShipping>,
}

/// Each constraint is `MANDATORY` when set.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingConstraints {
    pub pallet_delivery: Option<String>,
    pub cash_on_delivery: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InternationalShipping {
    pub ioss_number: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemTax {
    #[serde(default)]
    pub tax_calculation_breakdowns: Vec<TaxCalculation>,
    #[serde(default)]
    pub tax_collections: Vec<TaxCollection>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxCalculation {
    pub reporting_scheme: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxCollection {
    pub model: Option<String>,
    pub responsible_party: Option<String>,
}

/// `OrderPackage` (includedData `PACKAGES`): what was already confirmed.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Package {
    pub package_reference_id: String,
    pub tracking_number: Option<String>,
}

/// The error envelope of every SP-API operation.
#[derive(Debug, Deserialize)]
pub struct Errors {
    #[serde(default)]
    pub errors: Vec<Error>,
}

#[derive(Debug, Deserialize)]
pub struct Error {
    pub code: Option<String>,
    pub message: Option<String>,
}

//! Shippo API JSON, as far as tradelane reads or writes it.
//!
//! Shapes follow `tests/fixtures/shippo/` (the official Python client's
//! cassettes); unknown fields are ignored.

use serde::{Deserialize, Serialize};

/// `POST /shipments/` body, addresses, parcels and customs inline.
#[derive(Debug, Serialize)]
pub struct CreateShipment {
    pub address_from: NewAddress,
    pub address_to: NewAddress,
    pub parcels: Vec<NewParcel>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customs_declaration: Option<NewCustomsDeclaration>,
    pub metadata: String,
    #[serde(rename = "async")]
    pub is_async: bool,
}

/// An address as Shippo takes it.
#[derive(Debug, Serialize)]
pub struct NewAddress {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    pub street1: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub street2: Option<String>,
    pub city: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zip: Option<String>,
    pub country: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// A parcel; Shippo takes decimal strings with explicit units.
#[derive(Debug, Serialize)]
pub struct NewParcel {
    pub length: String,
    pub width: String,
    pub height: String,
    pub distance_unit: String,
    pub weight: String,
    pub mass_unit: String,
}

/// The customs declaration.
#[derive(Debug, Serialize)]
pub struct NewCustomsDeclaration {
    pub contents_type: String,
    pub non_delivery_option: String,
    pub certify: bool,
    pub certify_signer: String,
    /// `DDP` or `DDU` (Shippo's name for DAP).
    pub incoterm: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eel_pfc: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exporter_identification: Option<ExporterIdentification>,
    /// Free text on the declaration: registrations Shippo has no type for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    pub items: Vec<NewCustomsItem>,
}

/// Tax registrations of the exporter (IOSS, EORI).
#[derive(Debug, Serialize)]
pub struct ExporterIdentification {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eori_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_id: Option<TaxId>,
}

/// A tax id.
#[derive(Debug, Serialize)]
pub struct TaxId {
    pub number: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// One customs line: value and weight of the whole line.
#[derive(Debug, Serialize)]
pub struct NewCustomsItem {
    pub description: String,
    pub quantity: u32,
    pub net_weight: String,
    pub mass_unit: String,
    pub value_amount: String,
    pub value_currency: String,
    pub origin_country: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tariff_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku_code: Option<String>,
}

/// A shipment as Shippo returns it.
#[derive(Debug, Deserialize)]
pub struct Shipment {
    pub object_id: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub rates: Vec<Rate>,
    #[serde(default)]
    pub messages: Vec<Message>,
}

/// A rate.
#[derive(Debug, Clone, Deserialize)]
pub struct Rate {
    pub object_id: String,
    #[serde(default)]
    pub shipment: Option<String>,
    pub amount: String,
    pub currency: String,
    pub provider: String,
    pub servicelevel: ServiceLevel,
    #[serde(default)]
    pub days: Option<u32>,
    #[serde(default)]
    pub estimated_days: Option<u32>,
}

/// A service level.
#[derive(Debug, Clone, Deserialize)]
pub struct ServiceLevel {
    pub name: String,
    #[serde(default)]
    pub token: Option<String>,
}

/// A carrier or API message.
#[derive(Debug, Clone, Deserialize)]
pub struct Message {
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
}

/// `POST /transactions/` body: buy a rate.
#[derive(Debug, Serialize)]
pub struct CreateTransaction {
    pub rate: String,
    pub label_file_type: String,
    pub metadata: String,
    #[serde(rename = "async")]
    pub is_async: bool,
}

/// A transaction (a label purchase).
#[derive(Debug, Deserialize)]
pub struct Transaction {
    pub object_id: String,
    pub status: String,
    #[serde(default)]
    pub rate: Option<String>,
    #[serde(default)]
    pub tracking_number: Option<String>,
    #[serde(default)]
    pub tracking_url_provider: Option<String>,
    #[serde(default)]
    pub label_url: Option<String>,
    /// Set for international shipments when Shippo made the invoice.
    #[serde(default)]
    pub commercial_invoice_url: Option<String>,
    #[serde(default)]
    pub metadata: Option<String>,
    #[serde(default)]
    pub messages: Vec<Message>,
}

/// `GET /transactions/` page.
#[derive(Debug, Deserialize)]
pub struct Transactions {
    #[serde(default)]
    pub next: Option<String>,
    pub results: Vec<Transaction>,
}

/// `GET /tracks/{carrier}/{number}`.
#[derive(Debug, Deserialize)]
pub struct Track {
    pub tracking_number: String,
    #[serde(default)]
    pub tracking_status: Option<TrackingStatus>,
    #[serde(default)]
    pub tracking_history: Vec<TrackingStatus>,
}

/// One tracking status.
#[derive(Debug, Deserialize)]
pub struct TrackingStatus {
    pub status: String,
    #[serde(default)]
    pub status_details: Option<String>,
    pub status_date: String,
    #[serde(default)]
    pub location: Option<Location>,
}

/// Where a scan happened.
#[derive(Debug, Deserialize)]
pub struct Location {
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub zip: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
}

//! EasyPost API v2 JSON, as far as tradelane reads or writes it.
//!
//! Shapes follow `tests/fixtures/easypost/` (the official Python client's
//! cassettes). Fields EasyPost may send as `null` are `Option`; unknown
//! fields are ignored.

use serde::{Deserialize, Serialize};

/// `POST /v2/shipments` body.
#[derive(Debug, Serialize)]
pub struct CreateShipment {
    pub shipment: NewShipment,
}

/// The shipment to create.
#[derive(Debug, Serialize)]
pub struct NewShipment {
    pub from_address: NewAddress,
    pub to_address: NewAddress,
    pub parcel: NewParcel,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customs_info: Option<NewCustomsInfo>,
    pub options: Options,
    pub reference: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tax_identifiers: Vec<TaxIdentifier>,
}

/// An address as EasyPost takes it.
#[derive(Debug, Serialize)]
pub struct NewAddress {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
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
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// Inches and ounces (EasyPost's units).
#[derive(Debug, Serialize)]
pub struct NewParcel {
    pub length: f64,
    pub width: f64,
    pub height: f64,
    pub weight: f64,
}

/// The customs form.
#[derive(Debug, Serialize)]
pub struct NewCustomsInfo {
    pub eel_pfc: String,
    pub customs_certify: bool,
    pub customs_signer: String,
    pub contents_type: String,
    pub contents_explanation: String,
    pub restriction_type: String,
    pub non_delivery_option: String,
    pub customs_items: Vec<NewCustomsItem>,
}

/// One customs line. `value` is the decimal value of the whole line.
#[derive(Debug, Serialize)]
pub struct NewCustomsItem {
    pub description: String,
    pub quantity: u32,
    /// Ounces.
    pub weight: f64,
    pub value: String,
    pub currency: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hs_tariff_number: Option<String>,
    pub origin_country: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// `options` of a shipment.
#[derive(Debug, Serialize)]
pub struct Options {
    pub label_format: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoice_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incoterm: Option<String>,
    pub currency: String,
}

/// A tax id declared with the shipment (IOSS, EORI…).
#[derive(Debug, Serialize)]
pub struct TaxIdentifier {
    pub entity: String,
    pub tax_id: String,
    pub tax_id_type: String,
    pub issuing_country: String,
}

/// `POST /v2/shipments/{id}/buy` body.
#[derive(Debug, Serialize)]
pub struct Buy {
    pub rate: RateRef,
}

/// A rate by id.
#[derive(Debug, Serialize)]
pub struct RateRef {
    pub id: String,
}

/// A shipment as EasyPost returns it (created or bought).
#[derive(Debug, Deserialize)]
pub struct Shipment {
    pub id: String,
    #[serde(default)]
    pub reference: Option<String>,
    #[serde(default)]
    pub tracking_code: Option<String>,
    #[serde(default)]
    pub rates: Vec<Rate>,
    #[serde(default)]
    pub selected_rate: Option<Rate>,
    #[serde(default)]
    pub postage_label: Option<PostageLabel>,
    #[serde(default)]
    pub tracker: Option<Tracker>,
    #[serde(default)]
    pub messages: Vec<Message>,
    #[serde(default)]
    pub customs_info: Option<CustomsInfo>,
    /// Customs and other forms the carrier made (`commercial_invoice`, `cn22`...).
    #[serde(default)]
    pub forms: Vec<Form>,
}

/// A `Form` object.
#[derive(Debug, Clone, Deserialize)]
pub struct Form {
    pub form_type: String,
    #[serde(default)]
    pub form_url: Option<String>,
}

/// A rate.
#[derive(Debug, Clone, Deserialize)]
pub struct Rate {
    pub id: String,
    pub carrier: String,
    pub service: String,
    pub rate: String,
    pub currency: String,
    #[serde(default)]
    pub delivery_days: Option<u32>,
    #[serde(default)]
    pub est_delivery_days: Option<u32>,
    #[serde(default)]
    pub shipment_id: Option<String>,
}

/// The label of a bought shipment.
#[derive(Debug, Deserialize)]
pub struct PostageLabel {
    #[serde(default)]
    pub label_url: Option<String>,
    #[serde(default)]
    pub label_pdf_url: Option<String>,
    #[serde(default)]
    pub label_zpl_url: Option<String>,
    #[serde(default)]
    pub label_file_type: Option<String>,
}

/// A carrier message (warnings on rating).
#[derive(Debug, Deserialize)]
pub struct Message {
    #[serde(default)]
    pub carrier: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

/// The customs form as stored.
#[derive(Debug, Deserialize)]
pub struct CustomsInfo {
    #[serde(default)]
    pub customs_items: Vec<CustomsItem>,
}

/// A stored customs line.
#[derive(Debug, Deserialize)]
pub struct CustomsItem {
    pub description: String,
    pub quantity: u32,
    pub value: String,
    #[serde(default)]
    pub hs_tariff_number: Option<String>,
    #[serde(default)]
    pub origin_country: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
}

/// `GET /v2/shipments` page.
#[derive(Debug, Deserialize)]
pub struct Shipments {
    pub shipments: Vec<Shipment>,
    #[serde(default)]
    pub has_more: bool,
}

/// A tracker.
#[derive(Debug, Deserialize)]
pub struct Tracker {
    pub id: String,
    pub tracking_code: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub carrier: Option<String>,
    #[serde(default)]
    pub public_url: Option<String>,
    #[serde(default)]
    pub tracking_details: Vec<TrackingDetail>,
}

/// One tracking event.
#[derive(Debug, Deserialize)]
pub struct TrackingDetail {
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    pub status: String,
    pub datetime: String,
    #[serde(default)]
    pub tracking_location: Option<TrackingLocation>,
}

/// Where a scan happened.
#[derive(Debug, Deserialize)]
pub struct TrackingLocation {
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub zip: Option<String>,
}

/// `GET /v2/trackers` page.
#[derive(Debug, Deserialize)]
pub struct Trackers {
    pub trackers: Vec<Tracker>,
    #[serde(default)]
    pub has_more: bool,
}

/// An error body: `{"error": {"code", "message", "errors": [...]}}`.
#[derive(Debug, Deserialize)]
pub struct ErrorBody {
    pub error: ApiError,
}

/// The error itself.
#[derive(Debug, Deserialize)]
pub struct ApiError {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub errors: Vec<FieldError>,
}

/// A field-level error (EasyPost sends objects; older versions strings).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum FieldError {
    Field {
        #[serde(default)]
        field: Option<String>,
        #[serde(default)]
        message: Option<String>,
    },
    Text(String),
}

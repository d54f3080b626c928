//! Shipping types: what the host asks a carrier plugin for and what it
//! answers (the WIT `shipment`, `rate`, `label`, `tracking-event`).

use super::{Address, Country, Money, TaxId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A box, in millimetres and grams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parcel {
    pub length_mm: u32,
    pub width_mm: u32,
    pub height_mm: u32,
    pub weight_grams: u32,
}

/// Who pays duties and import taxes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Incoterm {
    /// Delivered At Place: the buyer pays on arrival.
    #[default]
    Dap,
    /// Delivered Duty Paid: the seller pays.
    Ddp,
}

/// One line of a customs declaration; value and weight are for the whole line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomsLine {
    pub sku: Option<String>,
    pub description: String,
    pub hs_code: Option<String>,
    pub origin_country: Country,
    pub quantity: u32,
    pub value: Money,
    pub weight_grams: u32,
    /// The product's GTIN, from the catalogue or the channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gtin: Option<String>,
}

/// The format of a label document.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LabelFormat {
    #[default]
    Pdf,
    Zpl,
    Png,
}

impl LabelFormat {
    /// The file extension of a label in this format.
    pub fn extension(self) -> &'static str {
        match self {
            LabelFormat::Pdf => "pdf",
            LabelFormat::Zpl => "zpl",
            LabelFormat::Png => "png",
        }
    }
}

/// A consignment to quote or buy a label for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    /// Stored by the carrier so the purchase can be found again after a crash.
    pub reference: String,
    pub ship_from: Address,
    pub ship_to: Address,
    pub parcels: Vec<Parcel>,
    /// Empty for a domestic shipment.
    pub customs: Vec<CustomsLine>,
    pub incoterm: Incoterm,
    /// IOSS, EORI… declared with the shipment.
    pub tax_ids: Vec<TaxId>,
    pub label_format: LabelFormat,
}

/// A carrier's price for one service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rate {
    pub id: String,
    pub shipment_id: Option<String>,
    pub carrier: String,
    pub service: String,
    pub price: Money,
    pub estimated_days: Option<u32>,
}

/// A bought label. The document itself lives in a file, not here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    pub external_id: String,
    pub tracking_number: String,
    pub tracking_url: Option<String>,
    pub carrier: String,
    pub service: String,
    pub cost: Money,
    pub format: LabelFormat,
    pub document_url: Option<String>,
    /// The customs forms the carrier returned with it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forms: Vec<CustomsForm>,
}

/// What a customs form is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomsFormKind {
    CommercialInvoice,
    Cn22,
    Cn23,
    Other,
}

impl CustomsFormKind {
    /// Its name in listings and file names.
    pub fn name(self) -> &'static str {
        match self {
            CustomsFormKind::CommercialInvoice => "commercial-invoice",
            CustomsFormKind::Cn22 => "cn22",
            CustomsFormKind::Cn23 => "cn23",
            CustomsFormKind::Other => "form",
        }
    }
}

/// A customs form the carrier returned with a label. The document lives in
/// a file beside the label (`path`, once stored), not here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomsForm {
    pub kind: CustomsFormKind,
    /// The carrier's own name for it.
    pub name: String,
    pub format: LabelFormat,
    pub document_url: Option<String>,
    /// Where the host stored the document; `None` when the carrier gave
    /// only a URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<std::path::PathBuf>,
}

/// The documents that come with a bought label: the label's bytes and each
/// form's (empty when the carrier gave only its URL), in `Label::forms` order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelDocuments {
    pub label: Vec<u8>,
    pub forms: Vec<Vec<u8>>,
}

/// Normalised tracking states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackingStatus {
    PreTransit,
    InTransit,
    OutForDelivery,
    Delivered,
    Exception,
    Returned,
    Unknown,
}

/// One scan of a parcel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackingEvent {
    pub at: DateTime<Utc>,
    pub status: TrackingStatus,
    pub description: String,
    pub location: Option<String>,
}

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

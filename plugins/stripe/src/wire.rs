//! Stripe API v1 JSON, as far as tradelane reads it. Shapes follow
//! `tests/fixtures/stripe/` (Stripe's OpenAPI fixtures, Airbyte's list
//! envelopes, dj-stripe's recorded objects).

use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::BTreeMap;

/// `{"object": "list", "data": [...], "has_more": bool}`.
#[derive(Debug, Deserialize)]
pub struct List<T> {
    pub data: Vec<T>,
    #[serde(default)]
    pub has_more: bool,
}

/// A payout to the seller's bank.
#[derive(Debug, Deserialize)]
pub struct Payout {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    pub status: String,
    pub created: i64,
    #[serde(default)]
    pub arrival_date: Option<i64>,
}

/// A movement of the Stripe balance.
#[derive(Debug, Deserialize)]
pub struct BalanceTransaction {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    pub fee: i64,
    pub net: i64,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub reporting_category: Option<String>,
    /// The number exactly as Stripe wrote it (`0.912345`), or `null`.
    #[serde(default)]
    pub exchange_rate: Option<Box<RawValue>>,
    pub created: i64,
    #[serde(default)]
    pub description: Option<String>,
    /// An id, or the object when expanded (`expand[]=data.source`).
    #[serde(default)]
    pub source: Option<Source>,
}

/// A balance transaction's source: an id, or the expanded object.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Source {
    Object(Box<SourceObject>),
    Id(String),
}

/// A charge, refund or dispute, as far as the order reference goes.
#[derive(Debug, Deserialize)]
pub struct SourceObject {
    pub id: String,
    #[serde(default)]
    pub object: Option<String>,
    #[serde(default)]
    pub amount: Option<i64>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// For refunds and disputes: the charge (id or expanded).
    #[serde(default)]
    pub charge: Option<Source>,
}

/// `{"error": {"type", "code", "message"}}`.
#[derive(Debug, Deserialize)]
pub struct ErrorBody {
    pub error: ApiError,
}

/// A Stripe error.
#[derive(Debug, Deserialize)]
pub struct ApiError {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
}

//! PayPal Transaction Search JSON, as far as tradelane reads it. Shapes
//! follow `tests/fixtures/paypal/`. (The OAuth2 token is the host's.)

use serde::Deserialize;

/// `GET /v1/reporting/transactions` page.
#[derive(Debug, Deserialize)]
pub struct Search {
    #[serde(default)]
    pub transaction_details: Vec<Detail>,
    #[serde(default)]
    pub page: Option<u32>,
    #[serde(default)]
    pub total_pages: Option<u32>,
}

/// One row.
#[derive(Debug, Deserialize)]
pub struct Detail {
    pub transaction_info: Info,
}

/// The transaction itself.
#[derive(Debug, Deserialize)]
pub struct Info {
    pub transaction_id: String,
    pub transaction_event_code: String,
    pub transaction_initiation_date: String,
    #[serde(default)]
    pub transaction_updated_date: Option<String>,
    pub transaction_amount: Amount,
    #[serde(default)]
    pub fee_amount: Option<Amount>,
    #[serde(default)]
    pub transaction_status: Option<String>,
    #[serde(default)]
    pub transaction_subject: Option<String>,
    #[serde(default)]
    pub invoice_id: Option<String>,
    #[serde(default)]
    pub custom_field: Option<String>,
    #[serde(default)]
    pub paypal_reference_id: Option<String>,
}

/// `{"currency_code": "USD", "value": "-60.75"}`.
#[derive(Debug, Clone, Deserialize)]
pub struct Amount {
    pub currency_code: String,
    pub value: String,
}

/// `{"name", "message", "details": [{"issue", "description"}]}` or OAuth's
/// `{"error", "error_description"}`.
#[derive(Debug, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub details: Vec<ErrorDetail>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub error_description: Option<String>,
}

/// One issue of an error.
#[derive(Debug, Deserialize)]
pub struct ErrorDetail {
    #[serde(default)]
    pub issue: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

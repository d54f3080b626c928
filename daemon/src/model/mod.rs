//! tradelane's own domain types.
//!
//! The WIT contract's generated types stop at the plugin host: everything
//! past it (sync, store, workflows, CLI) works on these, converted once in
//! `host::convert`, where a plugin's output is also validated (currency
//! codes, times, countries). They serialise to the JSON the store keeps and
//! `tradelane export` writes.

mod gtin;
mod settlement;
mod shipping;

pub use gtin::gtin;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
pub use settlement::{
    ExchangeRate, PageQuery, Payout, PayoutLine, PayoutLineKind, PayoutLinePage, PayoutPage,
    PayoutStatus,
};
pub use shipping::{
    CustomsForm, CustomsFormKind, CustomsLine, Incoterm, Label, LabelDocuments, LabelFormat,
    Parcel, Rate, Shipment, TrackingEvent, TrackingStatus,
};
use std::fmt;

/// An ISO 4217 currency code, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(iso_currency::Currency);

impl Currency {
    /// Parse an ISO 4217 alphabetic code (case-insensitive).
    pub fn parse(code: &str) -> Option<Self> {
        iso_currency::Currency::from_code(&code.to_ascii_uppercase()).map(Currency)
    }
    /// The three-letter code.
    pub fn code(&self) -> &'static str {
        self.0.code()
    }
    /// Digits after the decimal point (JPY 0, EUR 2, KWD 3).
    pub fn decimals(&self) -> u32 {
        self.0.exponent().map(u32::from).unwrap_or(0)
    }
}

impl TryFrom<String> for Currency {
    type Error = String;
    fn try_from(code: String) -> Result<Self, String> {
        Currency::parse(&code).ok_or_else(|| format!("`{code}` is not an ISO 4217 currency code"))
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.code().to_string()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Money: integer minor units and a currency. Never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub amount_minor: i64,
    pub currency: Currency,
}

/// Minor units as a decimal string with `decimals` places (`1999`, 2 →
/// `"19.99"`): digits are moved, never computed in floating point.
pub fn format_minor(minor: i64, decimals: u32) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let places = decimals as usize;
    if places == 0 {
        return format!("{sign}{}", minor.unsigned_abs());
    }
    let padded = format!("{:0>width$}", minor.unsigned_abs(), width = places + 1);
    let (whole, fraction) = padded.split_at(padded.len() - places);
    format!("{sign}{whole}.{fraction}")
}

impl fmt::Display for Money {
    /// `19.99 EUR`, `1500 JPY`, `1.234 KWD`: the currency's own decimals.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}",
            format_minor(self.amount_minor, self.currency.decimals()),
            self.currency
        )
    }
}

/// An ISO 3166-1 alpha-2 country code, upper case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Country(String);

/// The officially assigned ISO 3166-1 alpha-2 codes (249), sorted.
pub const ISO_3166_1: [&str; 249] = [
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

impl Country {
    /// An officially assigned ISO 3166-1 alpha-2 code, any case.
    pub fn parse(code: &str) -> Option<Self> {
        let upper = code.to_ascii_uppercase();
        ISO_3166_1
            .binary_search(&upper.as_str())
            .is_ok()
            .then_some(Country(upper))
    }

    /// Why `code` is not a country code, with the likely intended one.
    pub fn explain(code: &str) -> String {
        let hint = match code.to_ascii_uppercase().as_str() {
            "UK" => " (the United Kingdom is `GB`)",
            "EL" => " (Greece is `GR`; `EL` is its EU VAT prefix)",
            "EN" | "SC" | "WA" => " (the United Kingdom is `GB`)",
            _ => "",
        };
        format!("`{code}` is not an ISO 3166-1 alpha-2 country code{hint}")
    }
    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Country {
    type Error = String;
    fn try_from(code: String) -> Result<Self, String> {
        Country::parse(&code).ok_or_else(|| Country::explain(&code))
    }
}

impl From<Country> for String {
    fn from(c: Country) -> String {
        c.0
    }
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub name: Option<String>,
    pub company: Option<String>,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Country,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// Where an order is in its life on the channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Open,
    Closed,
    Cancelled,
}

/// How far the buyer's payment has gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    Pending,
    Authorized,
    Paid,
    PartiallyPaid,
    PartiallyRefunded,
    Refunded,
    Voided,
    Unknown,
}

/// How much of the order the channel considers shipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FulfillmentStatus {
    Unfulfilled,
    Partial,
    Fulfilled,
    Unknown,
}

/// A tax registration (IOSS, VAT, EORI…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxId {
    pub scheme: String,
    pub value: String,
    pub country: Option<Country>,
}

/// The person who bought.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Buyer {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// One product line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineItem {
    pub external_id: String,
    pub sku: Option<String>,
    pub title: String,
    pub quantity: u32,
    pub unit_price: Money,
    pub discount: Money,
    pub tax: Money,
    pub weight_grams: Option<u32>,
    pub hs_code: Option<String>,
    pub origin_country: Option<Country>,
    pub requires_shipping: bool,
    /// The product's GTIN (check digit verified), when the channel knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gtin: Option<String>,
}

/// A shipping method the buyer paid for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShippingLine {
    pub title: String,
    pub code: Option<String>,
    pub price: Money,
}

/// Order totals in the order's currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub subtotal: Money,
    pub shipping: Money,
    pub tax: Money,
    pub discount: Money,
    pub total: Money,
}

/// An order as its channel knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub external_id: String,
    pub number: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub status: OrderStatus,
    pub payment_status: PaymentStatus,
    pub fulfillment_status: FulfillmentStatus,
    pub currency: Currency,
    pub totals: Totals,
    pub buyer: Option<Buyer>,
    pub shipping_address: Option<Address>,
    pub billing_address: Option<Address>,
    pub line_items: Vec<LineItem>,
    pub shipping_lines: Vec<ShippingLine>,
    pub tax_ids: Vec<TaxId>,
    pub marketplace_collected_tax: bool,
    pub taxes_included: bool,
    pub tags: Vec<String>,
    /// The marketplace inside the channel (Amazon's marketplace id), when
    /// one channel covers several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marketplace: Option<String>,
    /// Who ships it: the seller (tradelane) or the marketplace.
    #[serde(default)]
    pub fulfilled_by: FulfilledBy,
    /// Why the seller must not ship it with a carrier of their choosing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_hold: Option<String>,
    /// The gateways the buyer paid through (`shopify_payments`, `paypal`...),
    /// lower case; empty when the channel does not say.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub payment_gateways: Vec<String>,
    /// The total in the buyer's currency, when it is not `currency`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presentment_total: Option<Money>,
}

/// Who ships an order's parcels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FulfilledBy {
    /// The seller: tradelane buys the label and pushes the tracking.
    #[default]
    Seller,
    /// The marketplace, from its own warehouse: never shipped by tradelane.
    Marketplace,
}

/// One page of orders from a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderPage {
    pub orders: Vec<Order>,
    /// Orders of the page that failed validation: kept aside, never
    /// silently dropped, and never a reason to stop the channel.
    pub quarantined: Vec<Quarantined>,
    pub next_page: Option<String>,
}

/// An order a plugin returned that the host refused, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quarantined {
    /// The order's id as the plugin gave it (`(empty)` when it gave none).
    pub external_id: String,
    pub reason: String,
}

/// What the host asks a marketplace plugin for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderQuery {
    #[serde(default)]
    pub updated_after: Option<DateTime<Utc>>,
    #[serde(default)]
    pub page_token: Option<String>,
    #[serde(default = "default_page_size")]
    pub page_size: u32,
}

/// The page size a query asks for when it does not say.
pub fn default_page_size() -> u32 {
    50
}

/// Tracking to push back to a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fulfillment {
    pub order_external_id: String,
    pub carrier: String,
    pub service: Option<String>,
    pub tracking_number: String,
    pub tracking_url: Option<String>,
    pub shipped_at: DateTime<Utc>,
    pub lines: Vec<(String, u32)>,
    pub notify_buyer: bool,
}

/// The three kinds of connector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PluginKind {
    Marketplace,
    Payment,
    Carrier,
}

impl fmt::Display for PluginKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PluginKind::Marketplace => "marketplace",
            PluginKind::Payment => "payment",
            PluginKind::Carrier => "carrier",
        })
    }
}

/// One declared setting of a plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingSpec {
    pub key: String,
    pub description: String,
    pub required: bool,
    pub secret: bool,
    pub default_value: Option<String>,
}

/// How an API reports its remaining budget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum UsageHeader {
    /// `used/limit`.
    UsedOfLimit(String),
    /// Requests remaining.
    Remaining(String),
    /// The sustained rate applied, in requests per second.
    RatePerSecond(String),
}

/// The rate limit of one API operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationLimit {
    pub operation: String,
    pub milli_requests_per_second: u32,
    pub burst: u32,
}

/// The grant of a host-managed token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OAuthGrant {
    RefreshToken,
    ClientCredentials,
}

/// A token endpoint the host manages for a plugin (`{{oauth:NAME}}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthClient {
    pub name: String,
    /// May hold `{{setting:KEY}}`.
    pub token_url: String,
    pub grant: OAuthGrant,
    /// How the client authenticates at the token endpoint.
    pub client_auth: OAuthClientAuth,
    /// A JSON body (else form-encoded).
    pub json_body: bool,
    pub client_id_setting: String,
    pub client_secret_setting: String,
    pub refresh_token_setting: Option<String>,
    pub scopes: Vec<String>,
    pub authorize_url: Option<String>,
    pub redirect_uri_setting: Option<String>,
}

/// How an OAuth client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OAuthClientAuth {
    /// Client id and secret as HTTP Basic credentials.
    Basic,
    /// Client id and secret in the body.
    Body,
    /// A public client: the id in the body, no secret; consent with PKCE.
    Public,
}

/// An API's rate limit as the plugin declares it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimit {
    pub milli_requests_per_second: u32,
    pub burst: u32,
    pub usage_header: Option<UsageHeader>,
}

/// What a plugin says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    pub kind: PluginKind,
    pub contract_version: String,
    pub description: String,
    pub settings: Vec<SettingSpec>,
    pub allowed_hosts: Vec<String>,
    pub rate_limit: Option<RateLimit>,
    /// Limits of single operations (contract 0.2).
    pub operation_limits: Vec<OperationLimit>,
    /// Host-managed token endpoints (contract 0.2).
    pub oauth: Vec<OAuthClient>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_prints_with_the_currencys_decimals() {
        let m = |amount_minor, code| Money {
            amount_minor,
            currency: Currency::parse(code).unwrap(),
        };
        assert_eq!(m(1999, "EUR").to_string(), "19.99 EUR");
        assert_eq!(m(1500, "JPY").to_string(), "1500 JPY");
        assert_eq!(m(-1234, "KWD").to_string(), "-1.234 KWD");
        assert_eq!(m(5, "USD").to_string(), "0.05 USD");
    }

    #[test]
    fn codes_are_validated() {
        assert!(Currency::parse("usd").is_some());
        assert!(Currency::parse("XYZ").is_none());
        assert!(Country::parse("de").is_some());
        assert!(Country::parse("DEU").is_none());
        assert!(Country::parse("XX").is_none());
        assert!(Country::parse("UK").is_none());
        assert!(Country::explain("uk").contains("`GB`"));
        assert!(
            ISO_3166_1.windows(2).all(|w| w[0] < w[1]),
            "sorted, no duplicates"
        );
    }
}

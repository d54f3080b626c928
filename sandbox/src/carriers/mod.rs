//! Simulated carrier APIs (EasyPost- and Shippo-compatible) over one shared
//! book of shipments: deterministic rates per service and destination,
//! purchases remembered (tests count them), real PDF/ZPL label documents
//! carrying the tracking number, and tracking that advances with time.
//!
//! An address whose first line starts with `000 ` or contains `INVALID`
//! cannot be verified: both APIs refuse it with their own 422 bodies.
//! Faults (`[sandbox.faults]`): `carrier_error_after_buy` answers the next N
//! purchases with a 500 *after* making them; `carrier_delay_ms` holds a
//! purchase's answer that long (after making it); `carrier_error_percent`
//! fails that share of carrier calls with a 503 before doing anything.

pub mod easypost;
mod label;
pub mod shippo;

use super::SandboxState;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Which API a shipment was created through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Easypost,
    Shippo,
}

/// The destination as the carrier received it.
#[derive(Debug, Clone, Serialize)]
pub struct SimAddress {
    pub name: String,
    pub street1: String,
    pub city: String,
    pub zip: String,
    pub country: String,
}

/// One customs line as the carrier received it (value as the decimal sent).
#[derive(Debug, Clone, Serialize)]
pub struct SimCustomsLine {
    pub description: String,
    pub quantity: u32,
    pub value: String,
    pub currency: String,
    pub hs_code: Option<String>,
    pub origin_country: String,
    pub sku: Option<String>,
}

/// A quoted price.
#[derive(Debug, Clone, Serialize)]
pub struct SimRate {
    pub id: String,
    pub carrier: String,
    pub service: String,
    pub token: String,
    /// US cents.
    pub amount_minor: i64,
    pub currency: String,
    pub days: u32,
}

/// A bought label.
#[derive(Debug, Clone, Serialize)]
pub struct SimPurchase {
    pub rate_id: String,
    pub tracking_number: String,
    pub transaction_id: String,
    pub label_file: String,
    /// The commercial invoice the carrier made, for a shipment with customs.
    pub invoice_file: Option<String>,
    pub bought_at: DateTime<Utc>,
}

/// A shipment created at a carrier.
#[derive(Debug, Clone, Serialize)]
pub struct SimShipment {
    pub id: String,
    pub provider: Provider,
    pub created_at: DateTime<Utc>,
    pub reference: String,
    pub from_country: String,
    pub to: SimAddress,
    pub weight_grams: u32,
    pub customs: Vec<SimCustomsLine>,
    pub incoterm: Option<String>,
    /// `(type, value)`: IOSS, EORI…
    pub tax_ids: Vec<(String, String)>,
    pub label_format: String,
    pub rates: Vec<SimRate>,
    /// Labels bought for this shipment. EasyPost sells one per shipment;
    /// Shippo sells a label per transaction, even for the same rate again.
    pub purchases: Vec<SimPurchase>,
}

impl SimShipment {
    /// The rate with this id.
    pub fn rate(&self, id: &str) -> Option<&SimRate> {
        self.rates.iter().find(|r| r.id == id)
    }
}

/// Every shipment and label document the sandbox carriers hold.
#[derive(Default)]
pub struct CarrierBook {
    pub shipments: BTreeMap<String, SimShipment>,
    /// Label file name → (content type, bytes).
    pub documents: HashMap<String, (&'static str, Vec<u8>)>,
    seq: u64,
}

impl CarrierBook {
    /// A fresh id with a prefix, unique in this sandbox.
    pub fn next_id(&mut self, prefix: &str) -> String {
        self.seq += 1;
        format!(
            "{prefix}{:032x}",
            0x5a4d_b0c5_u64.wrapping_mul(self.seq) ^ self.seq
        )
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Buy `rate_id` of shipment `id`: a new tracking number and label
    /// document, remembered. Every call is a new purchase (the caller
    /// refuses repeats where its API does).
    pub fn buy(
        &mut self,
        id: &str,
        rate_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(SimShipment, SimPurchase), String> {
        let n = self.next_seq();
        let shipment = self
            .shipments
            .get_mut(id)
            .ok_or_else(|| format!("shipment {id} not found"))?;
        let rate = shipment
            .rate(rate_id)
            .cloned()
            .ok_or_else(|| format!("rate {rate_id} does not belong to shipment {id}"))?;
        let tracking_number = match rate.carrier.as_str() {
            "DHL Express" => format!("JD0146{:014}", 10_000_000 + n),
            _ => format!("9400100{:015}", 208_303_109_000 + n),
        };
        let (ext, content_type, doc) = if shipment.label_format.eq_ignore_ascii_case("zpl")
            || shipment.label_format.eq_ignore_ascii_case("zplii")
        {
            (
                "zpl",
                "application/zpl",
                label::zpl as fn(&str, &str, &str, &str) -> Vec<u8>,
            )
        } else {
            (
                "pdf",
                "application/pdf",
                label::pdf as fn(&str, &str, &str, &str) -> Vec<u8>,
            )
        };
        let to = format!(
            "{}, {} {}, {}",
            shipment.to.name, shipment.to.zip, shipment.to.city, shipment.to.country
        );
        let label_file = format!("{tracking_number}.{ext}");
        self.documents.insert(
            label_file.clone(),
            (
                content_type,
                doc(&rate.carrier, &rate.service, &to, &tracking_number),
            ),
        );
        // International shipments come with a commercial invoice, as
        // EasyPost's and Shippo's do when customs information is given.
        let invoice_file = (!shipment.customs.is_empty()).then(|| {
            let file = format!("{tracking_number}-invoice.pdf");
            let goods = shipment
                .customs
                .iter()
                .map(|c| {
                    format!(
                        "{} x {} HS {}",
                        c.quantity,
                        c.description,
                        c.hs_code.as_deref().unwrap_or("-")
                    )
                })
                .collect::<Vec<_>>()
                .join("; ");
            self.documents.insert(
                file.clone(),
                (
                    "application/pdf",
                    label::pdf("COMMERCIAL INVOICE", &goods, &to, &tracking_number),
                ),
            );
            file
        });
        let purchase = SimPurchase {
            rate_id: rate.id.clone(),
            tracking_number,
            transaction_id: format!("{:032x}", 0x7a11_u64.wrapping_mul(n) ^ n),
            label_file,
            invoice_file,
            bought_at: now,
        };
        let shipment = self.shipments.get_mut(id).expect("looked up above");
        shipment.purchases.push(purchase.clone());
        Ok((shipment.clone(), purchase))
    }

    /// The shipment and purchase whose label has this tracking number.
    pub fn by_tracking(&self, tracking: &str) -> Option<(&SimShipment, &SimPurchase)> {
        self.shipments.values().find_map(|s| {
            s.purchases
                .iter()
                .find(|p| p.tracking_number == tracking)
                .map(|p| (s, p))
        })
    }
}

/// An address the sandbox carriers cannot verify.
/// The EU customs union's members: a parcel between two of them crosses no
/// customs border, so the carriers ask for no declaration (as the host
/// decides: `shipping::plan::crosses_customs`).
const EU27: [&str; 27] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// Whether a parcel from `from` to `to` needs a customs declaration here:
/// between countries, unless both are in the EU customs union. (A parcel
/// to a special territory, the Canary Islands say, may carry one anyway.)
pub fn needs_customs(from: &str, to: &str) -> bool {
    let (from, to) = (from.to_ascii_uppercase(), to.to_ascii_uppercase());
    from != to && !(EU27.contains(&from.as_str()) && EU27.contains(&to.as_str()))
}

pub fn undeliverable(street1: &str) -> bool {
    street1.starts_with("000 ") || street1.to_ascii_uppercase().contains("INVALID")
}

const NORTH_AMERICA: &[&str] = &["US", "CA", "MX"];
const EUROPE: &[&str] = &[
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
    "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "GB", "CH", "NO",
];

/// Price multiplier in percent by how far the parcel goes.
fn zone_percent(from: &str, to: &str) -> i64 {
    let group = |c: &str| {
        if NORTH_AMERICA.contains(&c) {
            1
        } else if EUROPE.contains(&c) {
            2
        } else {
            3
        }
    };
    if from == to {
        100
    } else if group(from) == group(to) {
        115
    } else {
        135 + 10 * i64::from(group(to) == 3)
    }
}

/// `(carrier, service, token, base cents, cents per started 100 g, days)`.
type Service = (&'static str, &'static str, &'static str, i64, i64, u32);

/// Services a provider offers for a lane.
fn services(provider: Provider, domestic: bool) -> &'static [Service] {
    match (provider, domestic) {
        (Provider::Easypost, true) => &[
            (
                "USPS",
                "GroundAdvantage",
                "usps_ground_advantage",
                450,
                40,
                5,
            ),
            ("USPS", "Priority", "usps_priority", 900, 60, 3),
            ("USPS", "Express", "usps_priority_express", 2800, 90, 1),
        ],
        (Provider::Easypost, false) => &[
            (
                "USPS",
                "FirstClassPackageInternationalService",
                "usps_first_class_package_international",
                1500,
                120,
                12,
            ),
            (
                "USPS",
                "PriorityMailInternational",
                "usps_priority_mail_international",
                4200,
                180,
                8,
            ),
            (
                "USPS",
                "ExpressMailInternational",
                "usps_priority_mail_express_international",
                6000,
                220,
                4,
            ),
        ],
        (Provider::Shippo, true) => &[
            (
                "USPS",
                "Ground Advantage",
                "usps_ground_advantage",
                470,
                40,
                5,
            ),
            ("USPS", "Priority Mail", "usps_priority", 880, 60, 3),
            ("UPS", "Next Day Air", "ups_next_day_air", 3400, 110, 1),
        ],
        (Provider::Shippo, false) => &[
            (
                "USPS",
                "First-Class Package International",
                "usps_first_class_package_international_service",
                1450,
                125,
                11,
            ),
            (
                "USPS",
                "Priority Mail International",
                "usps_priority_mail_international",
                4300,
                175,
                8,
            ),
            (
                "DHL Express",
                "Express Worldwide",
                "dhl_express_worldwide",
                5200,
                150,
                3,
            ),
        ],
    }
}

/// Deterministic rates for a lane and weight, in US cents.
pub fn quote(
    book: &mut CarrierBook,
    provider: Provider,
    from: &str,
    to: &str,
    grams: u32,
) -> Vec<SimRate> {
    let percent = zone_percent(from, to);
    let started_100g = i64::from(grams.max(1).div_ceil(100));
    services(provider, from == to)
        .iter()
        .map(|(carrier, service, token, base, per, days)| SimRate {
            id: match provider {
                Provider::Easypost => book.next_id("rate_"),
                Provider::Shippo => book.next_id(""),
            },
            carrier: (*carrier).into(),
            service: (*service).into(),
            token: (*token).into(),
            amount_minor: (base + per * started_100g) * percent / 100,
            currency: "USD".into(),
            days: *days,
        })
        .collect()
}

/// Tracking events of a purchase up to `now`: `(at, status, message, location)`,
/// one step per `step` after the purchase.
pub fn tracking(
    shipment: &SimShipment,
    p: &SimPurchase,
    step: std::time::Duration,
    now: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, &'static str, String, String)> {
    let step = Duration::from_std(step)
        .unwrap_or(Duration::seconds(20))
        .max(Duration::seconds(1));
    let origin = shipment.from_country.clone();
    let dest = format!("{} {}", shipment.to.city, shipment.to.country);
    let timeline = [
        (
            "pre_transit",
            "Shipping label created, carrier awaiting item".to_string(),
            origin.clone(),
        ),
        (
            "in_transit",
            "Accepted at origin facility".to_string(),
            origin.clone(),
        ),
        (
            "in_transit",
            "Cleared customs, in transit to destination".to_string(),
            shipment.to.country.clone(),
        ),
        (
            "out_for_delivery",
            "Out for delivery".to_string(),
            dest.clone(),
        ),
        ("delivered", "Delivered, front door".to_string(), dest),
    ];
    timeline
        .into_iter()
        .enumerate()
        .map(|(i, (status, message, location))| {
            (p.bought_at + step * i as i32, status, message, location)
        })
        .filter(|(at, ..)| *at <= now)
        .collect()
}

/// The carrier faults for this call: `(fail before, fail after buy, delay after buy)`.
pub fn faults(state: &SandboxState, buying: bool) -> (bool, bool, std::time::Duration) {
    let mut f = state.faults.lock().unwrap_or_else(|p| p.into_inner());
    let before = f.carrier_error_now();
    if !buying {
        return (before, false, std::time::Duration::ZERO);
    }
    let after = f.take_carrier_error_after_buy();
    (before, after, f.carrier_delay())
}

/// `GET /files/labels/{file}`: label documents, public like EasyPost's and
/// Shippo's S3 URLs (no auth).
pub async fn label_file(
    State(state): State<Arc<SandboxState>>,
    Path(file): Path<String>,
) -> Response {
    let found = state.carriers().documents.get(&file).cloned();
    match found {
        Some((content_type, bytes)) => {
            state.record("GET", format!("/files/labels/{file}"), 200, Vec::new());
            ([(header::CONTENT_TYPE, content_type)], Body::from(bytes)).into_response()
        }
        None => (StatusCode::NOT_FOUND, "no such label").into_response(),
    }
}

/// Minor units as the decimal a carrier API prints (`1234` → `"12.34"`).
pub fn dollars(cents: i64) -> String {
    crate::money::format_minor(cents, 2)
}

/// A JSON value as the text a carrier would print (`null` → empty).
pub fn text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `http://host` of the request, for label URLs that point back here.
pub fn base_url(headers: &axum::http::HeaderMap) -> String {
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

//! tradelane shipments → Shippo requests, Shippo responses → rates, labels
//! and tracking events. Pure functions, run natively by the fixture tests.

use crate::wire;
use tradelane_plugin_sdk::{
    self as sdk, Address, Incoterm, Label, LabelFormat, Money, PluginError, Rate, Shipment,
    TrackingEvent, TrackingStatus, money,
};

/// Customs form settings a seller may override.
#[derive(Debug, Clone, Default)]
pub struct CustomsDefaults {
    pub eel_pfc: Option<String>,
    pub signer: Option<String>,
    pub eori: Option<String>,
}

fn address(a: &Address) -> wire::NewAddress {
    wire::NewAddress {
        name: a.name.clone().unwrap_or_default(),
        company: a.company.clone(),
        street1: a.line1.clone(),
        street2: a.line2.clone(),
        city: a.city.clone(),
        state: a.region.clone(),
        zip: a.postal_code.clone(),
        country: a.country.clone(),
        phone: a.phone.clone(),
        email: a.email.clone(),
    }
}

/// Millimetres as centimetres with one decimal, digits moved not divided.
fn cm(mm: u32) -> String {
    format!("{}.{}", mm / 10, mm % 10)
}

/// Shippo's name for a label format.
pub fn label_file_type(f: LabelFormat) -> &'static str {
    match f {
        LabelFormat::Pdf => "PDF_4x6",
        LabelFormat::Zpl => "ZPLII",
        LabelFormat::Png => "PNG",
    }
}

/// The `POST /shipments/` body.
pub fn create_request(
    s: &Shipment,
    defaults: &CustomsDefaults,
) -> Result<wire::CreateShipment, PluginError> {
    if s.parcels.is_empty() {
        return Err(PluginError::Rejected(
            "a shipment needs at least one parcel".into(),
        ));
    }
    let customs_declaration = if s.customs.is_empty() {
        None
    } else {
        let items = s
            .customs
            .iter()
            .map(|c| {
                Ok(wire::NewCustomsItem {
                    description: c.description.clone(),
                    quantity: c.quantity,
                    net_weight: c.weight_grams.max(1).to_string(),
                    mass_unit: "g".into(),
                    value_amount: money::to_decimal(c.value.amount_minor, &c.value.currency)
                        .map_err(|e| sdk::invalid_response(format!("customs value: {e}")))?,
                    value_currency: c.value.currency.clone(),
                    origin_country: c.origin_country.clone(),
                    tariff_number: c.hs_code.clone(),
                    sku_code: c.sku.clone(),
                })
            })
            .collect::<Result<Vec<_>, PluginError>>()?;
        // Shippo takes one tax id, typed EIN, VAT, IOSS or ARN (its
        // CustomsTaxIdentification type), and an EORI. The first the
        // consignment carries in that order goes there; registrations it
        // has no type for (VOEC, NZ GST) are written in the notes.
        let typed = |scheme: &str| match scheme.to_ascii_lowercase().as_str() {
            "ioss" => Some("IOSS"),
            "vat" => Some("VAT"),
            "arn" => Some("ARN"),
            "ein" => Some("EIN"),
            _ => None,
        };
        let tax_id = ["ioss", "vat", "arn", "ein"].iter().find_map(|want| {
            s.tax_ids
                .iter()
                .find(|t| t.scheme.eq_ignore_ascii_case(want))
                .map(|t| wire::TaxId {
                    number: t.value.clone(),
                    kind: typed(want).unwrap_or_default().into(),
                })
        });
        let eori = defaults.eori.clone().or_else(|| {
            s.tax_ids
                .iter()
                .find(|t| t.scheme.eq_ignore_ascii_case("eori"))
                .map(|t| t.value.clone())
        });
        let untyped: Vec<String> = s
            .tax_ids
            .iter()
            .filter(|t| typed(&t.scheme).is_none() && !t.scheme.eq_ignore_ascii_case("eori"))
            .map(|t| format!("{} {}", t.scheme.to_ascii_uppercase(), t.value))
            .collect();
        let exporter =
            (tax_id.is_some() || eori.is_some()).then_some(wire::ExporterIdentification {
                eori_number: eori,
                tax_id,
            });
        Some(wire::NewCustomsDeclaration {
            contents_type: "MERCHANDISE".into(),
            non_delivery_option: "RETURN".into(),
            certify: true,
            certify_signer: defaults
                .signer
                .clone()
                .or_else(|| s.ship_from.name.clone())
                .unwrap_or_default(),
            incoterm: match s.incoterm {
                Incoterm::Ddp => "DDP".into(),
                Incoterm::Dap => "DDU".into(),
            },
            eel_pfc: defaults.eel_pfc.clone(),
            exporter_identification: exporter,
            notes: (!untyped.is_empty()).then(|| untyped.join("; ")),
            items,
        })
    };
    Ok(wire::CreateShipment {
        address_from: address(&s.ship_from),
        address_to: address(&s.ship_to),
        parcels: s
            .parcels
            .iter()
            .map(|p| wire::NewParcel {
                length: cm(p.length_mm),
                width: cm(p.width_mm),
                height: cm(p.height_mm),
                distance_unit: "cm".into(),
                weight: p.weight_grams.max(1).to_string(),
                mass_unit: "g".into(),
            })
            .collect(),
        customs_declaration,
        metadata: s.reference.clone(),
        is_async: false,
    })
}

fn price(r: &wire::Rate) -> Result<Money, PluginError> {
    money::money(&r.amount, &r.currency)
        .map_err(|e| sdk::invalid_response(format!("rate {}: {e}", r.object_id)))
}

/// A Shippo rate as a tradelane rate.
pub fn rate(r: &wire::Rate, shipment_id: &str) -> Result<Rate, PluginError> {
    Ok(Rate {
        id: r.object_id.clone(),
        shipment_id: Some(r.shipment.clone().unwrap_or_else(|| shipment_id.into())),
        carrier: r.provider.clone(),
        service: r.servicelevel.name.clone(),
        price: price(r)?,
        estimated_days: r.estimated_days.or(r.days),
    })
}

fn messages(m: &[wire::Message]) -> String {
    let parts: Vec<String> = m
        .iter()
        .map(|m| {
            let text = m.text.as_deref().unwrap_or("");
            match m.source.as_deref() {
                Some(src) if !src.is_empty() => format!("{src}: {text}"),
                _ => text.to_string(),
            }
        })
        .collect();
    if parts.is_empty() {
        "no message".into()
    } else {
        parts.join("; ")
    }
}

/// The rates of a created shipment; none at all is a refusal.
pub fn rates(shipment: &wire::Shipment) -> Result<Vec<Rate>, PluginError> {
    if shipment.rates.is_empty() {
        return Err(PluginError::Rejected(format!(
            "Shippo returned no rates for shipment {}: {}",
            shipment.object_id,
            messages(&shipment.messages)
        )));
    }
    shipment
        .rates
        .iter()
        .map(|r| rate(r, &shipment.object_id))
        .collect()
}

/// What a finished transaction means: a label, a refusal, or not yet.
#[derive(Debug)]
pub enum Outcome {
    Bought(Label),
    Pending,
}

/// The label of a transaction, for `rate` (the rate it bought). `ERROR`
/// carries the carrier's messages verbatim.
pub fn transaction(
    t: &wire::Transaction,
    rate: &Rate,
    format: LabelFormat,
) -> Result<Outcome, PluginError> {
    match t.status.as_str() {
        "SUCCESS" => {
            let tracking = t
                .tracking_number
                .clone()
                .filter(|n| !n.is_empty())
                .ok_or_else(|| {
                    sdk::invalid_response(format!(
                        "transaction {} succeeded without a tracking number",
                        t.object_id
                    ))
                })?;
            Ok(Outcome::Bought(Label {
                external_id: t.object_id.clone(),
                tracking_number: tracking,
                tracking_url: t.tracking_url_provider.clone().filter(|u| !u.is_empty()),
                carrier: rate.carrier.clone(),
                service: rate.service.clone(),
                cost: rate.price.clone(),
                format,
                document: Vec::new(),
                document_url: t.label_url.clone().filter(|u| !u.is_empty()),
                forms: t
                    .commercial_invoice_url
                    .iter()
                    .filter(|u| !u.is_empty())
                    .map(|u| sdk::forms::form("commercial_invoice", u))
                    .collect(),
            }))
        }
        "QUEUED" | "WAITING" => Ok(Outcome::Pending),
        _ => Err(PluginError::Rejected(format!(
            "Shippo transaction {} {}: {}",
            t.object_id,
            t.status,
            messages(&t.messages)
        ))),
    }
}

/// Shippo's tracking statuses, normalised.
pub fn tracking_status(status: &str) -> TrackingStatus {
    match status {
        "PRE_TRANSIT" => TrackingStatus::PreTransit,
        "TRANSIT" => TrackingStatus::InTransit,
        "DELIVERED" => TrackingStatus::Delivered,
        "RETURNED" => TrackingStatus::Returned,
        "FAILURE" => TrackingStatus::Exception,
        _ => TrackingStatus::Unknown,
    }
}

/// A track's history, oldest first.
pub fn tracking_events(track: &wire::Track) -> Result<Vec<TrackingEvent>, PluginError> {
    let mut events = track
        .tracking_history
        .iter()
        .chain(track.tracking_status.iter())
        .map(|s| {
            let location = s
                .location
                .as_ref()
                .and_then(|l| sdk::place(&[&l.city, &l.state, &l.zip, &l.country]));
            Ok(TrackingEvent {
                at: sdk::time::utc(&s.status_date)?,
                status: tracking_status(&s.status),
                description: s.status_details.clone().unwrap_or_default(),
                location,
            })
        })
        .collect::<Result<Vec<_>, PluginError>>()?;
    events.sort_by(|a, b| a.at.cmp(&b.at));
    events.dedup();
    Ok(events)
}

/// A Shippo 4xx body as one line with the provider's words:
/// `{"address_to": ["This field is required."]}` → `address_to: This field is required.`
pub fn error_message(status: u16, body: &[u8]) -> String {
    use sdk::serde_json::Value;
    let Ok(Value::Object(fields)) = sdk::serde_json::from_slice::<Value>(body) else {
        return format!("HTTP {status}: {}", String::from_utf8_lossy(body));
    };
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    };
    let parts: Vec<String> = fields
        .iter()
        .map(|(k, v)| {
            if k == "detail" || k == "message" {
                text(v)
            } else {
                format!("{k}: {}", text(v))
            }
        })
        .collect();
    format!("HTTP {status}: {}", parts.join("; "))
}

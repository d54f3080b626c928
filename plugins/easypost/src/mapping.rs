//! tradelane shipments → EasyPost requests, EasyPost responses → rates,
//! labels and tracking events. Pure functions: they run inside the plugin
//! and natively in the fixture tests.

use crate::wire;
use tradelane_plugin_sdk::{
    self as sdk, Address, Incoterm, Label, LabelFormat, Money, PluginError, Rate, Shipment,
    TrackingEvent, TrackingStatus, money,
};

/// Millimetres per inch, grams per ounce (EasyPost measures in inches and ounces).
const MM_PER_INCH: f64 = 25.4;
const GRAMS_PER_OUNCE: f64 = 28.349_523_125;

fn one_decimal(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Customs form defaults a seller may override in settings.
#[derive(Debug, Clone)]
pub struct CustomsDefaults {
    /// Electronic export filing exemption (`NOEEI 30.37(a)` for US exports under $2,500).
    pub eel_pfc: String,
    /// Who certifies the declaration; the ship-from name when unset.
    pub signer: Option<String>,
}

fn address(a: &Address) -> wire::NewAddress {
    wire::NewAddress {
        name: a.name.clone(),
        company: a.company.clone(),
        street1: a.line1.clone(),
        street2: a.line2.clone(),
        city: a.city.clone(),
        state: a.region.clone(),
        zip: a.postal_code.clone(),
        country: a.country.clone(),
        email: a.email.clone(),
        phone: a.phone.clone(),
    }
}

/// EasyPost's name for a label format.
pub fn label_format(f: LabelFormat) -> &'static str {
    match f {
        LabelFormat::Pdf => "PDF",
        LabelFormat::Zpl => "ZPL",
        LabelFormat::Png => "PNG",
    }
}

/// The `POST /v2/shipments` body for a shipment. EasyPost rates one parcel
/// per shipment: several parcels are declared as one of their summed weight
/// and the largest box.
pub fn create_request(
    s: &Shipment,
    defaults: &CustomsDefaults,
) -> Result<wire::CreateShipment, PluginError> {
    let parcel = s
        .parcels
        .iter()
        .copied()
        .reduce(|a, b| sdk::Parcel {
            length_mm: a.length_mm.max(b.length_mm),
            width_mm: a.width_mm.max(b.width_mm),
            height_mm: a.height_mm.max(b.height_mm),
            weight_grams: a.weight_grams + b.weight_grams,
        })
        .ok_or_else(|| PluginError::Rejected("a shipment needs at least one parcel".into()))?;
    let customs_info = if s.customs.is_empty() {
        None
    } else {
        let items = s
            .customs
            .iter()
            .map(|c| {
                Ok(wire::NewCustomsItem {
                    description: c.description.clone(),
                    quantity: c.quantity,
                    weight: one_decimal((f64::from(c.weight_grams) / GRAMS_PER_OUNCE).max(0.1)),
                    value: money::to_decimal(c.value.amount_minor, &c.value.currency)
                        .map_err(|e| sdk::invalid_response(format!("customs value: {e}")))?,
                    currency: c.value.currency.clone(),
                    hs_tariff_number: c.hs_code.clone(),
                    origin_country: c.origin_country.clone(),
                    code: c.sku.clone(),
                })
            })
            .collect::<Result<Vec<_>, PluginError>>()?;
        Some(wire::NewCustomsInfo {
            eel_pfc: defaults.eel_pfc.clone(),
            customs_certify: true,
            customs_signer: defaults
                .signer
                .clone()
                .or_else(|| s.ship_from.name.clone())
                .unwrap_or_default(),
            contents_type: "merchandise".into(),
            contents_explanation: String::new(),
            restriction_type: "none".into(),
            non_delivery_option: "return".into(),
            customs_items: items,
        })
    };
    let currency = s
        .customs
        .first()
        .map(|c| c.value.currency.clone())
        .unwrap_or_else(|| "USD".into());
    Ok(wire::CreateShipment {
        shipment: wire::NewShipment {
            from_address: address(&s.ship_from),
            to_address: address(&s.ship_to),
            parcel: wire::NewParcel {
                length: one_decimal(f64::from(parcel.length_mm) / MM_PER_INCH),
                width: one_decimal(f64::from(parcel.width_mm) / MM_PER_INCH),
                height: one_decimal(f64::from(parcel.height_mm) / MM_PER_INCH),
                weight: one_decimal((f64::from(parcel.weight_grams) / GRAMS_PER_OUNCE).max(0.1)),
            },
            customs_info,
            options: wire::Options {
                label_format: label_format(s.label_format).into(),
                invoice_number: Some(s.reference.clone()),
                incoterm: match s.incoterm {
                    Incoterm::Ddp => Some("DDP".into()),
                    Incoterm::Dap => None,
                },
                currency,
            },
            reference: s.reference.clone(),
            tax_identifiers: s
                .tax_ids
                .iter()
                .map(|t| wire::TaxIdentifier {
                    entity: "SENDER".into(),
                    tax_id: t.value.clone(),
                    tax_id_type: t.scheme.to_ascii_uppercase(),
                    issuing_country: t.country.clone().unwrap_or_default(),
                })
                .collect(),
        },
    })
}

fn price(r: &wire::Rate) -> Result<Money, PluginError> {
    money::money(&r.rate, &r.currency)
        .map_err(|e| sdk::invalid_response(format!("rate {}: {e}", r.id)))
}

fn rate(r: &wire::Rate, shipment_id: &str) -> Result<Rate, PluginError> {
    Ok(Rate {
        id: r.id.clone(),
        shipment_id: Some(r.shipment_id.clone().unwrap_or_else(|| shipment_id.into())),
        carrier: r.carrier.clone(),
        service: r.service.clone(),
        price: price(r)?,
        estimated_days: r.delivery_days.or(r.est_delivery_days),
    })
}

/// The rates of a created shipment. No rate at all is the carrier refusing
/// the consignment: its messages say why.
pub fn rates(shipment: &wire::Shipment) -> Result<Vec<Rate>, PluginError> {
    if shipment.rates.is_empty() {
        let why: Vec<String> = shipment
            .messages
            .iter()
            .map(|m| {
                format!(
                    "{}: {}",
                    m.carrier.as_deref().unwrap_or("carrier"),
                    m.message.as_deref().unwrap_or("")
                )
            })
            .collect();
        return Err(PluginError::Rejected(format!(
            "EasyPost returned no rates for shipment {}: {}",
            shipment.id,
            if why.is_empty() {
                "no message".to_string()
            } else {
                why.join("; ")
            }
        )));
    }
    shipment
        .rates
        .iter()
        .map(|r| rate(r, &shipment.id))
        .collect()
}

/// Where the document of a bought shipment is, in the format asked for.
pub fn document_url(shipment: &wire::Shipment, format: LabelFormat) -> Option<String> {
    let label = shipment.postage_label.as_ref()?;
    match format {
        LabelFormat::Pdf => label.label_pdf_url.clone().or(label.label_url.clone()),
        LabelFormat::Zpl => label.label_zpl_url.clone().or(label.label_url.clone()),
        LabelFormat::Png => label.label_url.clone(),
    }
}

/// The format of the document at [`document_url`].
fn document_format(shipment: &wire::Shipment, asked: LabelFormat) -> LabelFormat {
    let Some(label) = &shipment.postage_label else {
        return asked;
    };
    let has = |u: &Option<String>| u.as_deref().is_some_and(|u| !u.is_empty());
    match asked {
        LabelFormat::Pdf if has(&label.label_pdf_url) => LabelFormat::Pdf,
        LabelFormat::Zpl if has(&label.label_zpl_url) => LabelFormat::Zpl,
        _ => match label.label_file_type.as_deref() {
            Some("application/pdf") => LabelFormat::Pdf,
            Some("application/zpl") => LabelFormat::Zpl,
            _ => LabelFormat::Png,
        },
    }
}

/// The label of a bought shipment (document bytes filled in by the caller).
pub fn label(shipment: &wire::Shipment, asked: LabelFormat) -> Result<Label, PluginError> {
    let tracking = shipment
        .tracking_code
        .clone()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            sdk::invalid_response(format!("shipment {} has no tracking code", shipment.id))
        })?;
    let selected = shipment.selected_rate.as_ref().ok_or_else(|| {
        sdk::invalid_response(format!("shipment {} has no selected rate", shipment.id))
    })?;
    Ok(Label {
        external_id: shipment.id.clone(),
        tracking_number: tracking,
        tracking_url: shipment.tracker.as_ref().and_then(|t| t.public_url.clone()),
        carrier: selected.carrier.clone(),
        service: selected.service.clone(),
        cost: price(selected)?,
        format: document_format(shipment, asked),
        document: Vec::new(),
        document_url: document_url(shipment, asked),
        forms: shipment
            .forms
            .iter()
            .filter_map(|f| {
                let url = f.form_url.as_deref().filter(|u| !u.is_empty())?;
                Some(sdk::forms::form(&f.form_type, url))
            })
            .collect(),
    })
}

/// EasyPost's tracker statuses, normalised.
pub fn tracking_status(status: &str) -> TrackingStatus {
    match status {
        "pre_transit" => TrackingStatus::PreTransit,
        "in_transit" | "available_for_pickup" => TrackingStatus::InTransit,
        "out_for_delivery" => TrackingStatus::OutForDelivery,
        "delivered" => TrackingStatus::Delivered,
        "return_to_sender" => TrackingStatus::Returned,
        "failure" | "error" | "cancelled" => TrackingStatus::Exception,
        _ => TrackingStatus::Unknown,
    }
}

/// A tracker's events, oldest first.
pub fn tracking_events(tracker: &wire::Tracker) -> Result<Vec<TrackingEvent>, PluginError> {
    let mut events = tracker
        .tracking_details
        .iter()
        .map(|d| {
            let location = d
                .tracking_location
                .as_ref()
                .and_then(|l| sdk::place(&[&l.city, &l.state, &l.zip, &l.country]));
            Ok(TrackingEvent {
                at: sdk::time::utc(&d.datetime)?,
                status: tracking_status(&d.status),
                description: d
                    .message
                    .clone()
                    .filter(|m| !m.is_empty())
                    .or(d.description.clone())
                    .unwrap_or_default(),
                location,
            })
        })
        .collect::<Result<Vec<_>, PluginError>>()?;
    events.sort_by(|a, b| a.at.cmp(&b.at));
    Ok(events)
}

/// An EasyPost error body as one line, the provider's words kept:
/// `ADDRESS.VERIFY.FAILURE: Unable to verify address. (street1: Address not found)`.
pub fn error_message(status: u16, body: &[u8]) -> String {
    let Ok(parsed) = sdk::serde_json::from_slice::<wire::ErrorBody>(body) else {
        return format!("HTTP {status}: {}", String::from_utf8_lossy(body));
    };
    let e = parsed.error;
    let mut text = match (&e.code, &e.message) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c.clone(),
        (None, Some(m)) => m.clone(),
        (None, None) => format!("HTTP {status}"),
    };
    let fields: Vec<String> = e
        .errors
        .iter()
        .map(|f| match f {
            wire::FieldError::Field { field, message } => match field {
                Some(field) => format!("{field}: {}", message.as_deref().unwrap_or("invalid")),
                None => message.clone().unwrap_or_default(),
            },
            wire::FieldError::Text(t) => t.clone(),
        })
        .collect();
    if !fields.is_empty() {
        text.push_str(&format!(" ({})", fields.join("; ")));
    }
    text
}

//! Shipping types across the contract: shipments and rates go out to a
//! carrier plugin, rates, labels and tracking events come back validated.

use super::{Result, bad, money, time};
use crate::host::bindings::types as wit;
use crate::model::{self, Address, TaxId};

fn address_out(a: &Address) -> wit::Address {
    wit::Address {
        name: a.name.clone(),
        company: a.company.clone(),
        line1: a.line1.clone(),
        line2: a.line2.clone(),
        city: a.city.clone(),
        region: a.region.clone(),
        postal_code: a.postal_code.clone(),
        country: a.country.as_str().to_string(),
        phone: a.phone.clone(),
        email: a.email.clone(),
    }
}

fn money_out(m: &model::Money) -> wit::Money {
    wit::Money {
        amount_minor: m.amount_minor,
        currency: m.currency.code().to_string(),
    }
}

fn tax_id_out(t: &TaxId) -> wit::TaxId {
    wit::TaxId {
        scheme: t.scheme.clone(),
        value: t.value.clone(),
        country: t.country.as_ref().map(|c| c.as_str().to_string()),
    }
}

fn format_out(f: model::LabelFormat) -> wit::LabelFormat {
    match f {
        model::LabelFormat::Pdf => wit::LabelFormat::Pdf,
        model::LabelFormat::Zpl => wit::LabelFormat::Zpl,
        model::LabelFormat::Png => wit::LabelFormat::Png,
    }
}

/// A shipment, for the plugin.
pub fn shipment(s: &model::Shipment) -> wit::Shipment {
    wit::Shipment {
        reference: s.reference.clone(),
        ship_from: address_out(&s.ship_from),
        ship_to: address_out(&s.ship_to),
        parcels: s
            .parcels
            .iter()
            .map(|p| wit::Parcel {
                length_mm: p.length_mm,
                width_mm: p.width_mm,
                height_mm: p.height_mm,
                weight_grams: p.weight_grams,
            })
            .collect(),
        customs: s
            .customs
            .iter()
            .map(|c| wit::CustomsLine {
                sku: c.sku.clone(),
                description: c.description.clone(),
                hs_code: c.hs_code.clone(),
                origin_country: c.origin_country.as_str().to_string(),
                quantity: c.quantity,
                value: money_out(&c.value),
                weight_grams: c.weight_grams,
                gtin: c.gtin.clone(),
            })
            .collect(),
        incoterm: match s.incoterm {
            model::Incoterm::Dap => wit::Incoterm::Dap,
            model::Incoterm::Ddp => wit::Incoterm::Ddp,
        },
        tax_ids: s.tax_ids.iter().map(tax_id_out).collect(),
        label_format: format_out(s.label_format),
    }
}

/// A rate the host chose, back to the plugin that quoted it.
pub fn rate_out(r: &model::Rate) -> wit::Rate {
    wit::Rate {
        id: r.id.clone(),
        shipment_id: r.shipment_id.clone(),
        carrier: r.carrier.clone(),
        service: r.service.clone(),
        price: money_out(&r.price),
        estimated_days: r.estimated_days,
    }
}

/// A plugin's rate, validated.
pub fn rate(r: wit::Rate) -> Result<model::Rate> {
    if r.id.is_empty() {
        return Err(bad(format!("rate for `{}` has an empty id", r.service)));
    }
    if r.price.amount_minor < 0 {
        return Err(bad(format!("rate `{}` has a negative price", r.id)));
    }
    Ok(model::Rate {
        price: money(&r.price, &format!("rate `{}`.price", r.id))?,
        id: r.id,
        shipment_id: r.shipment_id,
        carrier: r.carrier,
        service: r.service,
        estimated_days: r.estimated_days,
    })
}

/// At most this many customs forms per label.
const MAX_FORMS: usize = 8;

fn label_format(f: wit::LabelFormat) -> model::LabelFormat {
    match f {
        wit::LabelFormat::Pdf => model::LabelFormat::Pdf,
        wit::LabelFormat::Zpl => model::LabelFormat::Zpl,
        wit::LabelFormat::Png => model::LabelFormat::Png,
    }
}

/// A plugin's label, validated, and its documents.
pub fn label(l: wit::Label) -> Result<(model::Label, model::LabelDocuments)> {
    if l.tracking_number.trim().is_empty() {
        return Err(bad(format!(
            "label `{}` has no tracking number",
            l.external_id
        )));
    }
    if l.forms.len() > MAX_FORMS {
        return Err(bad(format!(
            "label `{}` comes with {} customs forms (at most {MAX_FORMS})",
            l.external_id,
            l.forms.len()
        )));
    }
    let mut forms = Vec::with_capacity(l.forms.len());
    let mut form_documents = Vec::with_capacity(l.forms.len());
    for f in l.forms {
        if f.document.is_empty() && f.document_url.is_none() {
            return Err(bad(format!(
                "label `{}`: customs form `{}` has neither a document nor a URL",
                l.external_id, f.name
            )));
        }
        forms.push(model::CustomsForm {
            kind: match f.kind {
                wit::CustomsFormKind::CommercialInvoice => {
                    model::CustomsFormKind::CommercialInvoice
                }
                wit::CustomsFormKind::Cn22 => model::CustomsFormKind::Cn22,
                wit::CustomsFormKind::Cn23 => model::CustomsFormKind::Cn23,
                wit::CustomsFormKind::Other => model::CustomsFormKind::Other,
            },
            name: cap_name(f.name),
            format: label_format(f.format),
            document_url: f.document_url,
            path: None,
        });
        form_documents.push(f.document);
    }
    let format = label_format(l.format);
    let label = model::Label {
        cost: money(&l.cost, &format!("label `{}`.cost", l.external_id))?,
        external_id: l.external_id,
        tracking_number: l.tracking_number,
        tracking_url: l.tracking_url,
        carrier: l.carrier,
        service: l.service,
        format,
        document_url: l.document_url,
        forms,
    };
    let documents = model::LabelDocuments {
        label: l.document,
        forms: form_documents,
    };
    Ok((label, documents))
}

/// A carrier's name for a form, cut to 64 bytes (it is shown and becomes
/// part of a file name).
fn cap_name(name: String) -> String {
    let mut end = name.len().min(64);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name[..end].to_string()
}

/// A plugin's tracking events, validated.
pub fn tracking_events(events: Vec<wit::TrackingEvent>) -> Result<Vec<model::TrackingEvent>> {
    events
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            Ok(model::TrackingEvent {
                at: time(&e.at, &format!("tracking event {i}.at"))?,
                status: match e.status {
                    wit::TrackingStatus::PreTransit => model::TrackingStatus::PreTransit,
                    wit::TrackingStatus::InTransit => model::TrackingStatus::InTransit,
                    wit::TrackingStatus::OutForDelivery => model::TrackingStatus::OutForDelivery,
                    wit::TrackingStatus::Delivered => model::TrackingStatus::Delivered,
                    wit::TrackingStatus::Exception => model::TrackingStatus::Exception,
                    wit::TrackingStatus::Returned => model::TrackingStatus::Returned,
                    wit::TrackingStatus::Unknown => model::TrackingStatus::Unknown,
                },
                description: e.description,
                location: e.location,
            })
        })
        .collect()
}

//! Customs forms a carrier returns with a label (commercial invoice,
//! CN22/CN23): named, typed, and downloaded beside the label.

use crate::http::Request;
use crate::{CustomsForm, CustomsFormKind, LabelFormat};

/// A form the carrier points at by URL; `name` is the carrier's own word
/// for it (`commercial_invoice`, `cn22`...), which also decides its kind.
pub fn form(name: &str, url: &str) -> CustomsForm {
    let kind = match name.to_ascii_lowercase().replace(['-', ' '], "_").as_str() {
        "commercial_invoice" | "invoice" | "proforma_invoice" => CustomsFormKind::CommercialInvoice,
        "cn22" => CustomsFormKind::Cn22,
        "cn23" => CustomsFormKind::Cn23,
        _ => CustomsFormKind::Other,
    };
    CustomsForm {
        kind,
        name: name.to_string(),
        format: format_of(url),
        document: Vec::new(),
        document_url: Some(url.to_string()),
    }
}

/// The document format a URL's extension names (PDF when it names none).
pub fn format_of(url: &str) -> LabelFormat {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or(url)
        .to_ascii_lowercase();
    if path.ends_with(".zpl") {
        LabelFormat::Zpl
    } else if path.ends_with(".png") {
        LabelFormat::Png
    } else {
        LabelFormat::Pdf
    }
}

/// Download every form that has a URL and no document yet. The label is
/// already bought when this runs, so a form that cannot be fetched keeps
/// its URL (the seller can still open it) and is logged, never an error.
pub fn download(forms: &mut [CustomsForm]) {
    for form in forms.iter_mut().filter(|f| f.document.is_empty()) {
        let Some(url) = form.document_url.clone() else {
            continue;
        };
        match Request::get(url).send().and_then(|r| r.error_for_status()) {
            Ok(response) => form.document = response.body,
            Err(e) => crate::warn!(
                "customs form {}: not downloaded, URL kept: {e:?}",
                form.name
            ),
        }
    }
}

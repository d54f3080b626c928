//! `test-carrier`: a carrier account that needs no carrier. It quotes one
//! fixed rate, "buys" a label whose tracking number is derived from the
//! host's idempotency key, and reports the label as created, all without a
//! request leaving the sandbox. A plugin author points a seller's shipping
//! at it (`plugin = "test-carrier"`) to see their marketplace plugin's
//! `push-fulfillment` called end to end, with no carrier settings at all.
//!
//! Keeping no state, it is exactly-once by construction: the same key is
//! the same label, so `find-label` answers with the label a purchase under
//! that key made (or would have made).

use tradelane_plugin_sdk::{
    self as sdk, Carrier, Label, LabelFormat, Manifest, ManifestExt, Money, Plugin, Rate, Settings,
    Shipment, TrackingEvent,
};

struct TestCarrier;

/// The one service it sells.
const SERVICE: &str = "Standard (test)";
const CARRIER: &str = "Test Carrier";

/// FNV-1a, to turn a key into a stable tracking number.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn price(settings: &Settings, shipment: &Shipment) -> sdk::Result<Money> {
    let currency = settings
        .get("currency")
        .map(str::to_string)
        .or_else(|| shipment.customs.first().map(|c| c.value.currency.clone()))
        .unwrap_or_else(|| "EUR".into());
    let amount = settings.get("price").unwrap_or("5.00");
    sdk::money::money(amount, &currency)
        .map_err(|e| sdk::invalid("price", &format!("`{amount}` in {currency}: {e:?}")))
}

fn label(reference: &str, money: Money, format: LabelFormat) -> Label {
    let tracking = format!("TEST{:016X}", fnv(reference));
    let document = match format {
        LabelFormat::Zpl => {
            format!("^XA^FO40,40^A0N,40,40^FD{CARRIER} {tracking}^FS^XZ\n").into_bytes()
        }
        _ => pdf(&tracking),
    };
    Label {
        external_id: format!("test-{reference}"),
        tracking_number: tracking,
        tracking_url: None,
        carrier: CARRIER.into(),
        service: SERVICE.into(),
        cost: money,
        format: match format {
            LabelFormat::Zpl => LabelFormat::Zpl,
            _ => LabelFormat::Pdf,
        },
        document,
        document_url: None,
        forms: Vec::new(),
    }
}

/// A one-page PDF carrying the tracking number.
fn pdf(tracking: &str) -> Vec<u8> {
    let content = format!("BT /F1 18 Tf 24 380 Td (TEST LABEL {tracking}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 288 432] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_string(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

impl Plugin for TestCarrier {
    fn manifest() -> Manifest {
        sdk::manifest(
            "test-carrier",
            env!("CARGO_PKG_VERSION"),
            "A carrier that needs no account: one fixed rate, labels and tracking made up without a request, for testing a marketplace plugin's push-fulfillment",
        )
        .setting(sdk::setting(
            "price",
            "The one rate's price, decimal text; default 5.00",
        ))
        .setting(sdk::setting(
            "currency",
            "The rate's currency; default the customs lines' (else EUR)",
        ))
    }

    fn check(settings: &Settings) -> sdk::Result<()> {
        if let Some(p) = settings.get("price") {
            sdk::money::money(p, settings.get("currency").unwrap_or("EUR"))
                .map_err(|e| sdk::invalid("price", &format!("`{p}`: {e:?}")))?;
        }
        Ok(())
    }
}

impl Carrier for TestCarrier {
    fn quote(settings: &Settings, shipment: Shipment) -> sdk::Result<Vec<Rate>> {
        Ok(vec![Rate {
            id: "test-standard".into(),
            shipment_id: Some(shipment.reference.clone()),
            carrier: CARRIER.into(),
            service: SERVICE.into(),
            price: price(settings, &shipment)?,
            estimated_days: Some(2),
        }])
    }

    fn buy_label(
        settings: &Settings,
        shipment: Shipment,
        _rate: Rate,
        idempotency_key: String,
    ) -> sdk::Result<Label> {
        let money = price(settings, &shipment)?;
        Ok(label(&idempotency_key, money, shipment.label_format))
    }

    fn find_label(settings: &Settings, reference: String) -> sdk::Result<Option<Label>> {
        let currency = settings.get("currency").unwrap_or("EUR");
        let amount = settings.get("price").unwrap_or("5.00");
        let money = sdk::money::money(amount, currency)
            .map_err(|e| sdk::invalid("price", &format!("`{amount}`: {e:?}")))?;
        Ok(Some(label(&reference, money, LabelFormat::Pdf)))
    }

    fn track(
        _settings: &Settings,
        _carrier: String,
        _tracking_number: String,
    ) -> sdk::Result<Vec<TrackingEvent>> {
        Ok(Vec::new())
    }
}

#[cfg(target_arch = "wasm32")]
sdk::register_carrier!(TestCarrier);

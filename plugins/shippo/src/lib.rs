//! # Shippo carrier plugin
//!
//! Rates, labels with customs declarations, and tracking through the
//! Shippo API.
//!
//! - Quote: `POST /shipments/` with addresses, parcels and the
//!   `customs_declaration` inline, `async: false`; the response carries `rates[]`.
//! - Buy: `POST /transactions/` with the rate's `object_id`; a `QUEUED`
//!   transaction is polled at `GET /transactions/{id}`; the document is
//!   fetched from `label_url`.
//! - Find a purchase after a crash: `GET /transactions/`, paged by `next`,
//!   matched on `metadata` (the host's reference).
//! - Track: `GET /tracks/{carrier}/{tracking_number}`.
//! - Auth: `Authorization: ShippoToken <token>`, filled in by the host from
//!   the `api_token` secret.
//! - Shippo takes no idempotency key: `metadata` carries the host's
//!   reference so a purchase can be found again.

pub mod mapping;
pub mod wire;

use mapping::{CustomsDefaults, Outcome};
use tradelane_plugin_sdk::{
    self as sdk, Carrier, Label, LabelFormat, Manifest, ManifestExt, Plugin, PluginError, Rate,
    RateLimit, Request, Response, Settings, Shipment, TrackingEvent,
};

/// Pages of transactions `find-label` reads before giving up.
pub const FIND_PAGES: u32 = 5;
/// Times a queued transaction is polled before the call reports it as transient.
pub const POLLS: u32 = 5;

/// The plugin.
pub struct Shippo;

struct Account {
    base: String,
    auth: String,
    customs: CustomsDefaults,
}

impl Account {
    fn from(settings: &Settings) -> Result<Self, PluginError> {
        let origin = settings
            .get("base_url")
            .unwrap_or("https://api.goshippo.com")
            .trim_end_matches('/');
        Ok(Account {
            base: origin.to_string(),
            auth: format!("ShippoToken {}", settings.secret("api_token")?),
            customs: CustomsDefaults {
                eel_pfc: settings.get("eel_pfc").map(str::to_string),
                signer: settings.get("customs_signer").map(str::to_string),
                eori: settings.get("eori_number").map(str::to_string),
            },
        })
    }

    fn get(&self, path: &str) -> Request {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}/{path}", self.base)
        };
        Request::get(url).header("Authorization", &self.auth)
    }

    fn post<T: serde::Serialize>(&self, path: &str, body: &T) -> Result<Request, PluginError> {
        Request::post(format!("{}/{path}", self.base))
            .header("Authorization", &self.auth)
            .json(body)
    }
}

/// A failure status as the error the host acts on, Shippo's words kept.
fn checked(response: Response) -> Result<Response, PluginError> {
    match response.status {
        400 | 409 | 422 => Err(PluginError::Rejected(mapping::error_message(
            response.status,
            &response.body,
        ))),
        _ => response.error_for_status(),
    }
}

fn with_document(mut label: Label) -> Result<Label, PluginError> {
    let url = label.document_url.clone().ok_or_else(|| {
        sdk::invalid_response(format!(
            "transaction {} succeeded without a label_url",
            label.external_id
        ))
    })?;
    label.document = checked(Request::get(url).send()?)?.body;
    if label.document.is_empty() {
        return Err(sdk::invalid_response(format!(
            "the label document of transaction {} is empty",
            label.external_id
        )));
    }
    sdk::forms::download(&mut label.forms);
    Ok(label)
}

fn format_of(url: &str) -> LabelFormat {
    let path = url.split('?').next().unwrap_or(url);
    if path.ends_with(".zpl") {
        LabelFormat::Zpl
    } else if path.ends_with(".png") {
        LabelFormat::Png
    } else {
        LabelFormat::Pdf
    }
}

impl Plugin for Shippo {
    fn manifest() -> Manifest {
        sdk::manifest(
            "shippo",
            env!("CARGO_PKG_VERSION"),
            "Rates, labels with customs declarations, and tracking through Shippo",
        )
        .setting(sdk::secret(
            "api_token",
            "Shippo API token (test tokens start shippo_test_)",
        ))
        .setting(sdk::setting(
            "base_url",
            "Override the API origin (the sandbox, a proxy); default https://api.goshippo.com",
        ))
        .setting(sdk::setting(
            "eel_pfc",
            "Export filing code on customs declarations, e.g. `NOEEI_30_37_a`",
        ))
        .setting(sdk::setting(
            "customs_signer",
            "Who certifies customs declarations; default the ship-from name",
        ))
        .setting(sdk::setting(
            "eori_number",
            "The exporter's EORI number, declared on customs forms",
        ))
        .allow_host("api.goshippo.com")
        .allow_host("*.goshippo.com")
        .allow_host("shippo-delivery-east.s3.amazonaws.com")
        .rate_limit(RateLimit {
            // Shipment POST: 500/min live; pace a little under it.
            milli_requests_per_second: 8000,
            burst: 10,
            usage_header: None,
        })
    }

    fn check(settings: &Settings) -> sdk::Result<()> {
        let account = Account::from(settings)?;
        checked(account.get("transactions/").query("results", "1").send()?)?;
        Ok(())
    }
}

impl Carrier for Shippo {
    fn quote(settings: &Settings, shipment: Shipment) -> sdk::Result<Vec<Rate>> {
        let account = Account::from(settings)?;
        let body = mapping::create_request(&shipment, &account.customs)?;
        let created: wire::Shipment =
            checked(account.post("shipments/", &body)?.send()?)?.json()?;
        mapping::rates(&created)
    }

    fn buy_label(
        settings: &Settings,
        shipment: Shipment,
        rate: Rate,
        _idempotency_key: String,
    ) -> sdk::Result<Label> {
        let account = Account::from(settings)?;
        let body = wire::CreateTransaction {
            rate: rate.id.clone(),
            label_file_type: mapping::label_file_type(shipment.label_format).into(),
            metadata: shipment.reference.clone(),
            is_async: false,
        };
        let mut transaction: wire::Transaction =
            checked(account.post("transactions/", &body)?.send()?)?.json()?;
        for _ in 0..POLLS {
            match mapping::transaction(&transaction, &rate, shipment.label_format)? {
                Outcome::Bought(label) => return with_document(label),
                Outcome::Pending => {
                    transaction = checked(
                        account
                            .get(&format!("transactions/{}", transaction.object_id))
                            .send()?,
                    )?
                    .json()?;
                }
            }
        }
        Err(PluginError::Transient(format!(
            "transaction {} is still {} after {POLLS} polls",
            transaction.object_id, transaction.status
        )))
    }

    fn find_label(settings: &Settings, reference: String) -> sdk::Result<Option<Label>> {
        let account = Account::from(settings)?;
        let mut url = format!("{}/transactions/?results=100", account.base);
        for _ in 0..FIND_PAGES {
            let page: wire::Transactions = checked(account.get(&url).send()?)?.json()?;
            if let Some(t) = page.results.iter().find(|t| {
                t.metadata.as_deref() == Some(reference.as_str()) && t.status == "SUCCESS"
            }) {
                let rate_id = t.rate.clone().ok_or_else(|| {
                    sdk::invalid_response(format!("transaction {} names no rate", t.object_id))
                })?;
                let rate: wire::Rate =
                    checked(account.get(&format!("rates/{rate_id}")).send()?)?.json()?;
                let rate = mapping::rate(&rate, "")?;
                let format = t.label_url.as_deref().map_or(LabelFormat::Pdf, format_of);
                return match mapping::transaction(t, &rate, format)? {
                    Outcome::Bought(label) => with_document(label).map(Some),
                    Outcome::Pending => Ok(None),
                };
            }
            match page.next {
                Some(next) if !next.is_empty() => url = next,
                _ => return Ok(None),
            }
        }
        Err(PluginError::Transient(format!(
            "reference {reference} not among the newest {} transactions; cannot tell whether it was bought",
            FIND_PAGES * 100
        )))
    }

    fn track(
        settings: &Settings,
        carrier: String,
        tracking_number: String,
    ) -> sdk::Result<Vec<TrackingEvent>> {
        let account = Account::from(settings)?;
        let carrier = carrier.to_ascii_lowercase();
        let track: wire::Track = checked(
            account
                .get(&format!("tracks/{carrier}/{tracking_number}"))
                .send()?,
        )?
        .json()?;
        mapping::tracking_events(&track)
    }
}

#[cfg(target_arch = "wasm32")]
sdk::register_carrier!(Shippo);

//! # EasyPost carrier plugin
//!
//! Rates, labels with customs declarations, and tracking through the
//! EasyPost API v2.
//!
//! - Quote: `POST /v2/shipments` (from/to address, parcel, `customs_info`,
//!   `options`, `reference`, `tax_identifiers`); the response carries `rates[]`.
//! - Buy: `POST /v2/shipments/{id}/buy` with `{"rate": {"id": …}}`; the
//!   label document is then fetched from `postage_label` (PDF or ZPL as asked).
//! - Find a purchase after a crash: `GET /v2/shipments?purchased=true`,
//!   newest first, paged by `before_id`, matched on `reference`.
//! - Track: `GET /v2/trackers?tracking_code=…`.
//! - Auth: HTTP Basic with the API key as user and no password, filled in by
//!   the host from the `api_key` secret.
//! - EasyPost takes no idempotency key: the shipment's `reference` (the
//!   host's key) is what makes a purchase findable again.
//! - Errors: 4xx bodies (`{"error": {"code", "message", "errors"}}`) reach the
//!   user with EasyPost's own words.

pub mod mapping;
pub mod wire;

use mapping::CustomsDefaults;
use tradelane_plugin_sdk::{
    self as sdk, Carrier, Label, LabelFormat, Manifest, ManifestExt, Plugin, PluginError, Rate,
    RateLimit, Request, Response, Settings, Shipment, TrackingEvent,
};

/// How many pages of purchased shipments `find-label` reads before giving up.
pub const FIND_PAGES: u32 = 5;

/// The plugin.
pub struct EasyPost;

/// Where and how to reach EasyPost for one account.
struct Account {
    base: String,
    auth: String,
    customs: CustomsDefaults,
}

impl Account {
    fn from(settings: &Settings) -> Result<Self, PluginError> {
        let origin = settings
            .get("base_url")
            .unwrap_or("https://api.easypost.com")
            .trim_end_matches('/');
        Ok(Account {
            base: format!("{origin}/v2"),
            auth: settings.basic_auth("api_key", None)?,
            customs: CustomsDefaults {
                eel_pfc: settings
                    .get("eel_pfc")
                    .unwrap_or("NOEEI 30.37(a)")
                    .to_string(),
                signer: settings.get("customs_signer").map(str::to_string),
            },
        })
    }

    fn get(&self, path: &str) -> Request {
        Request::get(format!("{}/{path}", self.base)).header("Authorization", &self.auth)
    }

    fn post<T: serde::Serialize>(&self, path: &str, body: &T) -> Result<Request, PluginError> {
        Request::post(format!("{}/{path}", self.base))
            .header("Authorization", &self.auth)
            .json(body)
    }
}

/// A failure status as the error the host acts on, with EasyPost's message
/// verbatim for refused requests.
fn checked(response: Response) -> Result<Response, PluginError> {
    match response.status {
        400 | 402 | 409 | 422 => Err(PluginError::Rejected(mapping::error_message(
            response.status,
            &response.body,
        ))),
        _ => response.error_for_status(),
    }
}

/// Download the label document the shipment points at.
fn with_document(mut label: Label) -> Result<Label, PluginError> {
    let url = label.document_url.clone().ok_or_else(|| {
        sdk::invalid_response(format!(
            "shipment {} was bought but has no label URL",
            label.external_id
        ))
    })?;
    label.document = checked(Request::get(url).send()?)?.body;
    if label.document.is_empty() {
        return Err(sdk::invalid_response(format!(
            "the label document of shipment {} is empty",
            label.external_id
        )));
    }
    sdk::forms::download(&mut label.forms);
    Ok(label)
}

impl Plugin for EasyPost {
    fn manifest() -> Manifest {
        sdk::manifest(
            "easypost",
            env!("CARGO_PKG_VERSION"),
            "Rates, labels with customs, and tracking through EasyPost (API v2)",
        )
        .setting(sdk::secret(
            "api_key",
            "EasyPost API key (test keys start EZTK, production EZAK)",
        ))
        .setting(sdk::setting(
            "base_url",
            "Override the API origin (the sandbox, a proxy); default https://api.easypost.com",
        ))
        .setting(sdk::setting(
            "eel_pfc",
            "Export filing code on customs forms; default `NOEEI 30.37(a)`",
        ))
        .setting(sdk::setting(
            "customs_signer",
            "Who certifies customs declarations; default the ship-from name",
        ))
        .allow_host("api.easypost.com")
        .allow_host("easypost-files.s3.us-west-2.amazonaws.com")
        .allow_host("*.easypost.com")
        .rate_limit(RateLimit {
            milli_requests_per_second: 5000,
            burst: 5,
            usage_header: None,
        })
    }

    fn check(settings: &Settings) -> sdk::Result<()> {
        let account = Account::from(settings)?;
        checked(account.get("shipments").query("page_size", "1").send()?)?;
        Ok(())
    }
}

impl Carrier for EasyPost {
    fn quote(settings: &Settings, shipment: Shipment) -> sdk::Result<Vec<Rate>> {
        let account = Account::from(settings)?;
        let body = mapping::create_request(&shipment, &account.customs)?;
        let created: wire::Shipment = checked(account.post("shipments", &body)?.send()?)?.json()?;
        mapping::rates(&created)
    }

    fn buy_label(
        settings: &Settings,
        shipment: Shipment,
        rate: Rate,
        _idempotency_key: String,
    ) -> sdk::Result<Label> {
        let account = Account::from(settings)?;
        let shipment_id = match rate.shipment_id.clone() {
            Some(id) => id,
            None => {
                let body = mapping::create_request(&shipment, &account.customs)?;
                let created: wire::Shipment =
                    checked(account.post("shipments", &body)?.send()?)?.json()?;
                created.id
            }
        };
        let body = wire::Buy {
            rate: wire::RateRef {
                id: rate.id.clone(),
            },
        };
        let bought: wire::Shipment = checked(
            account
                .post(&format!("shipments/{shipment_id}/buy"), &body)?
                .send()?,
        )?
        .json()?;
        with_document(mapping::label(&bought, shipment.label_format)?)
    }

    fn find_label(settings: &Settings, reference: String) -> sdk::Result<Option<Label>> {
        let account = Account::from(settings)?;
        let mut before: Option<String> = None;
        for _ in 0..FIND_PAGES {
            let mut request = account
                .get("shipments")
                .query("purchased", "true")
                .query("page_size", "100");
            if let Some(id) = &before {
                request = request.query("before_id", id);
            }
            let page: wire::Shipments = checked(request.send()?)?.json()?;
            if let Some(found) = page
                .shipments
                .iter()
                .find(|s| s.reference.as_deref() == Some(reference.as_str()))
            {
                let asked = match found.postage_label.as_ref() {
                    Some(l) if l.label_zpl_url.is_some() => LabelFormat::Zpl,
                    Some(l) if l.label_pdf_url.is_some() => LabelFormat::Pdf,
                    _ => LabelFormat::Png,
                };
                return with_document(mapping::label(found, asked)?).map(Some);
            }
            match page.shipments.last() {
                Some(last) if page.has_more => before = Some(last.id.clone()),
                _ => return Ok(None),
            }
        }
        Err(PluginError::Transient(format!(
            "reference {reference} not among the newest {} purchased shipments; cannot tell whether it was bought",
            FIND_PAGES * 100
        )))
    }

    fn track(
        settings: &Settings,
        _carrier: String,
        tracking_number: String,
    ) -> sdk::Result<Vec<TrackingEvent>> {
        let account = Account::from(settings)?;
        let page: wire::Trackers = checked(
            account
                .get("trackers")
                .query("tracking_code", &tracking_number)
                .send()?,
        )?
        .json()?;
        match page
            .trackers
            .iter()
            .find(|t| t.tracking_code == tracking_number)
        {
            Some(tracker) => mapping::tracking_events(tracker),
            None => Err(PluginError::NotFound(format!(
                "no EasyPost tracker for {tracking_number}"
            ))),
        }
    }
}

#[cfg(target_arch = "wasm32")]
sdk::register_carrier!(EasyPost);

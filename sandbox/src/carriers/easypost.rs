//! An EasyPost-compatible API v2: `POST /v2/shipments` (rates),
//! `POST /v2/shipments/{id}/buy`, `GET /v2/shipments` (`purchased`,
//! `page_size`, `before_id`, `has_more`), `GET /v2/shipments/{id}`,
//! `GET /v2/trackers?tracking_code=…`. Auth: HTTP Basic with the API key as
//! user, or `Bearer <key>`. Shapes as in `tests/fixtures/easypost/`.

use super::{
    CarrierBook, Provider, SimAddress, SimCustomsLine, SimShipment, base_url, dollars, faults,
    quote, text, tracking, undeliverable,
};
use crate::SandboxState;
use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

type S = State<Arc<SandboxState>>;

pub fn routes() -> Router<Arc<SandboxState>> {
    Router::new()
        .route("/v2/shipments", post(create).get(list))
        .route("/v2/shipments/{id}", get(show))
        .route("/v2/shipments/{id}/buy", post(buy))
        .route("/v2/trackers", get(trackers))
}

fn error(status: StatusCode, code: &str, message: &str, errors: Value) -> Response {
    (
        status,
        Json(json!({"error": {"code": code, "message": message, "errors": errors}})),
    )
        .into_response()
}

/// Check the API key; `Err` is the 401 to send.
/// The 401 to send when the credentials are wrong.
fn refused(
    state: &SandboxState,
    headers: &HeaderMap,
    method: &str,
    path: &str,
) -> Option<Response> {
    let key = &state.config.easypost_api_key;
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let ok = match given.split_once(' ') {
        Some(("Basic", b64)) => base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .ok()
            .and_then(|d| String::from_utf8(d).ok())
            .is_some_and(|pair| pair.split_once(':').map(|(u, _)| u) == Some(key.as_str())),
        Some(("Bearer", token)) => token.trim() == key,
        _ => false,
    };
    if ok {
        return None;
    }
    state.record(method, path.to_string(), 401, Vec::new());
    Some(error(
        StatusCode::UNAUTHORIZED,
        "APIKEY.INACTIVE",
        "This api key is no longer active. Please use a different api key or reactivate this key.",
        json!([]),
    ))
}

fn time(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn rate_json(s: &SimShipment, r: &super::SimRate) -> Value {
    json!({
        "id": r.id, "object": "Rate", "created_at": time(s.created_at), "updated_at": time(s.created_at),
        "mode": "test", "service": r.service, "carrier": r.carrier,
        "rate": dollars(r.amount_minor), "currency": r.currency,
        "retail_rate": dollars(r.amount_minor * 115 / 100), "retail_currency": r.currency,
        "list_rate": dollars(r.amount_minor * 108 / 100), "list_currency": r.currency,
        "billing_type": "easypost", "delivery_days": r.days, "delivery_date": null,
        "delivery_date_guaranteed": false, "est_delivery_days": r.days,
        "shipment_id": s.id, "carrier_account_id": "ca_b25657e9896e4d63ac8151ac346ac41e"
    })
}

/// A shipment in EasyPost's shape.
fn render(s: &SimShipment, base: &str, step: std::time::Duration) -> Value {
    let purchase = s.purchases.first();
    let selected = purchase
        .and_then(|p| s.rate(&p.rate_id))
        .map(|r| rate_json(s, r));
    let label = purchase.map(|p| {
        let url = format!("{base}/files/labels/{}", p.label_file);
        let zpl = p.label_file.ends_with(".zpl");
        json!({
            "object": "PostageLabel", "id": format!("pl_{}", p.transaction_id),
            "created_at": time(p.bought_at), "updated_at": time(p.bought_at),
            "label_date": time(p.bought_at), "label_resolution": 300, "label_size": "4x6",
            "label_type": "default",
            "label_file_type": if zpl { "application/zpl" } else { "application/pdf" },
            "label_url": url,
            "label_pdf_url": if zpl { Value::Null } else { Value::String(url.clone()) },
            "label_zpl_url": if zpl { Value::String(url.clone()) } else { Value::Null },
            "label_epl2_url": null, "label_file": null
        })
    });
    let tracker = purchase.map(|p| tracker_json(s, p, step));
    json!({
        "id": s.id, "object": "Shipment", "mode": "test", "created_at": time(s.created_at),
        "updated_at": time(purchase.map_or(s.created_at, |p| p.bought_at)),
        "is_return": false, "messages": [], "reference": s.reference,
        "status": if purchase.is_some() { "pre_transit" } else { "unknown" },
        "tracking_code": purchase.map(|p| p.tracking_number.clone()),
        "options": {"label_format": s.label_format.to_ascii_uppercase(), "invoice_number": s.reference,
            "currency": "USD", "incoterm": s.incoterm},
        "to_address": {"object": "Address", "name": s.to.name, "street1": s.to.street1,
            "city": s.to.city, "zip": s.to.zip, "country": s.to.country},
        "parcel": {"object": "Parcel", "weight": ((f64::from(s.weight_grams) / 28.349_523_125) * 10.0).round() / 10.0},
        "customs_info": if s.customs.is_empty() { Value::Null } else { json!({
            "object": "CustomsInfo", "contents_type": "merchandise", "customs_certify": true,
            "customs_items": s.customs.iter().map(|c| json!({
                "object": "CustomsItem", "description": c.description, "quantity": c.quantity,
                "value": c.value, "currency": c.currency, "hs_tariff_number": c.hs_code,
                "origin_country": c.origin_country, "code": c.sku
            })).collect::<Vec<_>>()
        })},
        "tax_identifiers": s.tax_ids.iter().map(|(kind, value)| json!({"entity": "SENDER", "tax_id_type": kind, "tax_id": value})).collect::<Vec<_>>(),
        "rates": s.rates.iter().map(|r| rate_json(s, r)).collect::<Vec<_>>(),
        "selected_rate": selected,
        "postage_label": label,
        "tracker": tracker,
        "fees": [],
        "forms": purchase.and_then(|p| p.invoice_file.as_ref()).map(|file| vec![json!({
            "object": "Form", "id": format!("form_{}", p_id(purchase)), "mode": "test",
            "form_type": "commercial_invoice", "form_url": format!("{base}/files/labels/{file}"),
            "submitted_electronically": false,
            "created_at": time(purchase.map_or(s.created_at, |p| p.bought_at)),
            "updated_at": time(purchase.map_or(s.created_at, |p| p.bought_at))
        })]).unwrap_or_default()
    })
}

/// The id part shared by a purchase's objects.
fn p_id(purchase: Option<&super::SimPurchase>) -> String {
    purchase.map_or_else(String::new, |p| p.transaction_id.clone())
}

fn tracker_json(s: &SimShipment, p: &super::SimPurchase, step: std::time::Duration) -> Value {
    let events = tracking(s, p, step, Utc::now());
    let status = events.last().map_or("unknown", |e| e.1);
    json!({
        "id": format!("trk_{}", p.transaction_id), "object": "Tracker", "mode": "test",
        "tracking_code": p.tracking_number, "status": status, "status_detail": "status_update",
        "created_at": time(p.bought_at), "updated_at": time(events.last().map_or(p.bought_at, |e| e.0)),
        "shipment_id": s.id, "carrier": s.rate(&p.rate_id).map(|r| r.carrier.clone()),
        "public_url": format!("https://track.easypost.com/{}", p.tracking_number),
        "tracking_details": events.iter().map(|(at, status, message, location)| json!({
            "object": "TrackingDetail", "message": message, "description": "", "status": status,
            "status_detail": "status_update", "datetime": time(*at), "source": "USPS",
            "tracking_location": {"object": "TrackingLocation", "city": location, "state": null, "country": null, "zip": null}
        })).collect::<Vec<_>>(),
        "fees": []
    })
}

fn unavailable(state: &SandboxState, method: &str, path: String) -> Response {
    state.record(method, path, 503, Vec::new());
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "SERVICE.UNAVAILABLE",
        "The service is temporarily unavailable; please try again.",
        json!([]),
    )
}

async fn create(State(state): S, headers: HeaderMap, body: String) -> Response {
    let path = "/v2/shipments".to_string();
    if let Some(r) = refused(&state, &headers, "POST", &path) {
        return r;
    }
    if faults(&state, false).0 {
        return unavailable(&state, "POST", path);
    }
    let Ok(body) = serde_json::from_str::<Value>(&body) else {
        state.record("POST", path, 400, Vec::new());
        return error(
            StatusCode::BAD_REQUEST,
            "PARAMETER.INVALID",
            "The request body is not JSON.",
            json!([]),
        );
    };
    let s = &body["shipment"];
    let (from, to) = (&s["from_address"], &s["to_address"]);
    let street1 = text(&to["street1"]);
    if undeliverable(&street1) {
        state.record("POST", path, 422, Vec::new());
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "ADDRESS.VERIFY.FAILURE",
            "Unable to verify address.",
            json!([{"field": "street1", "message": format!("Address not found: {street1}")}]),
        );
    }
    let (from_country, to_country) = (text(&from["country"]), text(&to["country"]));
    let ounces = s["parcel"]["weight"].as_f64().unwrap_or(0.0);
    if from_country.len() != 2 || to_country.len() != 2 || ounces <= 0.0 {
        state.record("POST", path, 422, Vec::new());
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "SHIPMENT.INVALID_PARAMS",
            "Missing or invalid parameters.",
            json!([{"field": "shipment", "message": "from_address.country, to_address.country and parcel.weight are required"}]),
        );
    }
    let items = s["customs_info"]["customs_items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if super::needs_customs(&from_country, &to_country) && items.is_empty() {
        state.record("POST", path, 422, Vec::new());
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "SHIPMENT.CUSTOMS.MISSING",
            "Customs information is required for international shipments.",
            json!([{"field": "customs_info", "message": "must contain customs_items"}]),
        );
    }
    let grams = (ounces * 28.349_523_125).round() as u32;
    let shipment = {
        let mut book = state.carriers();
        let id = book.next_id("shp_");
        let rates = quote(
            &mut book,
            Provider::Easypost,
            &from_country,
            &to_country,
            grams,
        );
        let shipment = SimShipment {
            id: id.clone(),
            provider: Provider::Easypost,
            created_at: Utc::now(),
            reference: text(&s["reference"]),
            from_country,
            to: SimAddress {
                name: text(&to["name"]),
                street1,
                city: text(&to["city"]),
                zip: text(&to["zip"]),
                country: to_country,
            },
            weight_grams: grams,
            customs: items
                .iter()
                .map(|i| SimCustomsLine {
                    description: text(&i["description"]),
                    quantity: i["quantity"].as_u64().unwrap_or(0) as u32,
                    value: text(&i["value"]),
                    currency: text(&i["currency"]),
                    hs_code: i["hs_tariff_number"].as_str().map(str::to_string),
                    origin_country: text(&i["origin_country"]),
                    sku: i["code"].as_str().map(str::to_string),
                })
                .collect(),
            incoterm: s["options"]["incoterm"].as_str().map(str::to_string),
            tax_ids: s["tax_identifiers"]
                .as_array()
                .map(|ids| {
                    ids.iter()
                        .map(|t| (text(&t["tax_id_type"]), text(&t["tax_id"])))
                        .collect()
                })
                .unwrap_or_default(),
            label_format: s["options"]["label_format"]
                .as_str()
                .unwrap_or("PDF")
                .to_string(),
            rates,
            purchases: Vec::new(),
        };
        book.shipments.insert(id, shipment.clone());
        shipment
    };
    state.record("POST", path, 201, Vec::new());
    (
        StatusCode::CREATED,
        Json(render(
            &shipment,
            &base_url(&headers),
            state.config.tracking_step.0,
        )),
    )
        .into_response()
}

async fn buy(
    State(state): S,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: String,
) -> Response {
    let path = format!("/v2/shipments/{id}/buy");
    if let Some(r) = refused(&state, &headers, "POST", &path) {
        return r;
    }
    let (before, after, delay) = faults(&state, true);
    if before {
        return unavailable(&state, "POST", path);
    }
    let rate_id = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|b| b["rate"]["id"].as_str().map(str::to_string))
        .unwrap_or_default();
    let bought = {
        let mut book = state.carriers();
        match book.shipments.get(&id) {
            // EasyPost sells one label per shipment.
            Some(s) if !s.purchases.is_empty() => Err(None),
            _ => book.buy(&id, &rate_id, Utc::now()).map_err(Some),
        }
    };
    let shipment = match bought {
        Ok((s, _)) => s,
        Err(None) => {
            state.record("POST", path, 422, Vec::new());
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "SHIPMENT.POSTAGE.EXISTS",
                "Postage already exists for this shipment.",
                json!([]),
            );
        }
        Err(Some(why)) => {
            state.record("POST", path, 422, Vec::new());
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "SHIPMENT.RATE.INVALID",
                &why,
                json!([]),
            );
        }
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if after {
        state.record("POST", path, 500, Vec::new());
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_SERVER_ERROR",
            "We're sorry, something went wrong.",
            json!([]),
        );
    }
    state.record("POST", path, 200, Vec::new());
    Json(render(
        &shipment,
        &base_url(&headers),
        state.config.tracking_step.0,
    ))
    .into_response()
}

async fn show(State(state): S, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let path = format!("/v2/shipments/{id}");
    if let Some(r) = refused(&state, &headers, "GET", &path) {
        return r;
    }
    let found = state.carriers().shipments.get(&id).cloned();
    match found {
        Some(s) => {
            state.record("GET", path, 200, Vec::new());
            Json(render(
                &s,
                &base_url(&headers),
                state.config.tracking_step.0,
            ))
            .into_response()
        }
        None => {
            state.record("GET", path, 404, Vec::new());
            error(
                StatusCode::NOT_FOUND,
                "SHIPMENT.NOT_FOUND",
                "The requested resource could not be found.",
                json!([]),
            )
        }
    }
}

/// Newest first, as EasyPost lists.
fn newest_first(book: &CarrierBook, provider: Provider) -> Vec<SimShipment> {
    let mut all: Vec<SimShipment> = book
        .shipments
        .values()
        .filter(|s| s.provider == provider)
        .cloned()
        .collect();
    all.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
    all
}

async fn list(
    State(state): S,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let path = "/v2/shipments".to_string();
    if let Some(r) = refused(&state, &headers, "GET", &path) {
        return r;
    }
    if faults(&state, false).0 {
        return unavailable(&state, "GET", path);
    }
    let size: usize = q
        .get("page_size")
        .and_then(|n| n.parse().ok())
        .unwrap_or(20)
        .clamp(1, 100);
    let purchased = q.get("purchased").map(|p| p == "true");
    let all = newest_first(&state.carriers(), Provider::Easypost);
    let filtered = all
        .into_iter()
        .filter(|s| purchased.is_none_or(|want| s.purchases.is_empty() != want));
    let after_cursor: Vec<SimShipment> = match q.get("before_id") {
        Some(before) => filtered.skip_while(|s| &s.id != before).skip(1).collect(),
        None => filtered.collect(),
    };
    let has_more = after_cursor.len() > size;
    let base = base_url(&headers);
    let step = state.config.tracking_step.0;
    let shipments: Vec<Value> = after_cursor
        .iter()
        .take(size)
        .map(|s| render(s, &base, step))
        .collect();
    state.record("GET", path, 200, Vec::new());
    Json(json!({"shipments": shipments, "has_more": has_more})).into_response()
}

async fn trackers(
    State(state): S,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let path = "/v2/trackers".to_string();
    if let Some(r) = refused(&state, &headers, "GET", &path) {
        return r;
    }
    let code = q.get("tracking_code").cloned().unwrap_or_default();
    let trackers: Vec<Value> = state
        .carriers()
        .by_tracking(&code)
        .map(|(s, p)| tracker_json(s, p, state.config.tracking_step.0))
        .into_iter()
        .collect();
    state.record("GET", path, 200, Vec::new());
    Json(json!({"trackers": trackers, "has_more": false})).into_response()
}

//! A Shippo-compatible API: `POST /shipments/` (rates, `async: false`),
//! `POST /transactions/` (buy), `GET /transactions/` (`results`, `page`,
//! `next`), `GET /transactions/{id}`, `GET /rates/{id}`,
//! `GET /tracks/{carrier}/{number}`. Auth: `ShippoToken <token>`. Shapes as
//! in `tests/fixtures/shippo/`.

use super::{
    Provider, SimAddress, SimCustomsLine, SimPurchase, SimRate, SimShipment, base_url, dollars,
    faults, quote, text, tracking, undeliverable,
};
use crate::SandboxState;
use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

type S = State<Arc<SandboxState>>;

pub fn routes() -> Router<Arc<SandboxState>> {
    Router::new()
        .route("/shipments/", post(create))
        .route("/transactions/", post(buy).get(list))
        .route("/transactions/{id}", get(show))
        .route("/rates/{id}", get(rate))
        .route("/tracks/{carrier}/{number}", get(track))
}

/// The 401 to send when the credentials are wrong.
fn refused(
    state: &SandboxState,
    headers: &HeaderMap,
    method: &str,
    path: &str,
) -> Option<Response> {
    let expected = format!("ShippoToken {}", state.config.shippo_api_token);
    let given = headers.get("authorization").and_then(|v| v.to_str().ok());
    if given == Some(expected.as_str()) {
        return None;
    }
    state.record(method, path.to_string(), 401, Vec::new());
    Some(
        (
            StatusCode::UNAUTHORIZED,
            Json(json!({"detail": "Invalid token."})),
        )
            .into_response(),
    )
}

fn time(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn rate_json(s: &SimShipment, r: &SimRate) -> Value {
    json!({
        "object_created": time(s.created_at), "object_id": r.id, "object_owner": "sandbox@tradelane.local",
        "shipment": s.id, "attributes": [], "amount": dollars(r.amount_minor), "currency": r.currency,
        "amount_local": dollars(r.amount_minor), "currency_local": r.currency,
        "provider": r.carrier, "servicelevel": {"name": r.service, "token": r.token, "terms": ""},
        "estimated_days": r.days, "days": r.days, "arrives_by": null, "duration_terms": "",
        "messages": [], "carrier_account": "6c6f214482974f7db2cefde6ef66a3b2", "test": true, "zone": "2"
    })
}

fn transaction_json(s: &SimShipment, p: &SimPurchase, base: &str) -> Value {
    let carrier = s
        .rate(&p.rate_id)
        .map(|r| r.carrier.to_ascii_lowercase())
        .unwrap_or_default();
    json!({
        "object_state": "VALID", "status": "SUCCESS", "object_created": time(p.bought_at),
        "object_updated": time(p.bought_at), "object_id": p.transaction_id,
        "object_owner": "sandbox@tradelane.local", "test": true, "rate": p.rate_id,
        "tracking_number": p.tracking_number, "tracking_status": null, "tracking_history": [],
        "tracking_url_provider": format!("https://tools.usps.com/go/TrackConfirmAction_input?origTrackNum={}&carrier={carrier}", p.tracking_number),
        "label_url": format!("{base}/files/labels/{}", p.label_file),
        "commercial_invoice_url": p.invoice_file.as_ref().map(|f| format!("{base}/files/labels/{f}")),
        "messages": [], "order": null,
        "metadata": s.reference, "parcel": format!("parcel_{}", s.id)
    })
}

fn unavailable(state: &SandboxState, method: &str, path: String) -> Response {
    state.record(method, path, 503, Vec::new());
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"detail": "Service temporarily unavailable."})),
    )
        .into_response()
}

fn unprocessable(state: &SandboxState, path: String, body: Value) -> Response {
    state.record("POST", path, 422, Vec::new());
    (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
}

async fn create(State(state): S, headers: HeaderMap, body: String) -> Response {
    let path = "/shipments/".to_string();
    if let Some(r) = refused(&state, &headers, "POST", &path) {
        return r;
    }
    if faults(&state, false).0 {
        return unavailable(&state, "POST", path);
    }
    let Ok(s) = serde_json::from_str::<Value>(&body) else {
        state.record("POST", path, 400, Vec::new());
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"detail": "JSON parse error"})),
        )
            .into_response();
    };
    let (from, to) = (&s["address_from"], &s["address_to"]);
    let street1 = text(&to["street1"]);
    if undeliverable(&street1) {
        return unprocessable(
            &state,
            path,
            json!({"address_to": [format!("Address could not be validated: street1 `{street1}` was not found")]}),
        );
    }
    let grams: u32 = s["parcels"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .map(|p| {
                    let w: f64 = text(&p["weight"]).parse().unwrap_or(0.0);
                    match text(&p["mass_unit"]).as_str() {
                        "kg" => (w * 1000.0) as u32,
                        "lb" => (w * 453.592) as u32,
                        "oz" => (w * 28.3495) as u32,
                        _ => w as u32,
                    }
                })
                .sum()
        })
        .unwrap_or(0);
    let (from_country, to_country) = (text(&from["country"]), text(&to["country"]));
    if grams == 0 || from_country.len() != 2 || to_country.len() != 2 {
        return unprocessable(
            &state,
            path,
            json!({"parcels": ["Each parcel needs a weight; both addresses need a country."]}),
        );
    }
    let declaration = &s["customs_declaration"];
    let items = declaration["items"].as_array().cloned().unwrap_or_default();
    if super::needs_customs(&from_country, &to_country) && items.is_empty() {
        return unprocessable(
            &state,
            path,
            json!({"customs_declaration": ["A customs declaration is required for international shipments."]}),
        );
    }
    let shipment = {
        let mut book = state.carriers();
        let id = book.next_id("");
        let rates = quote(
            &mut book,
            Provider::Shippo,
            &from_country,
            &to_country,
            grams,
        );
        let tax = &declaration["exporter_identification"]["tax_id"];
        let shipment = SimShipment {
            id: id.clone(),
            provider: Provider::Shippo,
            created_at: Utc::now(),
            reference: text(&s["metadata"]),
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
                    value: text(&i["value_amount"]),
                    currency: text(&i["value_currency"]),
                    hs_code: i["tariff_number"].as_str().map(str::to_string),
                    origin_country: text(&i["origin_country"]),
                    sku: i["sku_code"].as_str().map(str::to_string),
                })
                .collect(),
            incoterm: declaration["incoterm"].as_str().map(str::to_string),
            tax_ids: if tax.is_object() {
                vec![(text(&tax["type"]), text(&tax["number"]))]
            } else {
                Vec::new()
            },
            label_format: "PDF".into(),
            rates,
            purchases: Vec::new(),
        };
        book.shipments.insert(id, shipment.clone());
        shipment
    };
    state.record("POST", path, 201, Vec::new());
    let body = json!({
        "object_created": time(shipment.created_at), "object_updated": time(shipment.created_at),
        "object_id": shipment.id, "object_owner": "sandbox@tradelane.local", "status": "SUCCESS",
        "address_from": from, "address_to": to, "parcels": s["parcels"],
        "customs_declaration": declaration, "metadata": shipment.reference, "messages": [], "test": true,
        "rates": shipment.rates.iter().map(|r| rate_json(&shipment, r)).collect::<Vec<_>>()
    });
    (StatusCode::CREATED, Json(body)).into_response()
}

async fn buy(State(state): S, headers: HeaderMap, body: String) -> Response {
    let path = "/transactions/".to_string();
    if let Some(r) = refused(&state, &headers, "POST", &path) {
        return r;
    }
    let (before, after, delay) = faults(&state, true);
    if before {
        return unavailable(&state, "POST", path);
    }
    let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let rate_id = text(&body["rate"]);
    let format = text(&body["label_file_type"]);
    let bought = {
        let mut book = state.carriers();
        let owner = book
            .shipments
            .values()
            .find(|s| s.rate(&rate_id).is_some())
            .map(|s| s.id.clone());
        match owner {
            None => Err(format!("Rate {rate_id} does not exist")),
            Some(id) => {
                if let Some(s) = book.shipments.get_mut(&id) {
                    s.label_format = if format.starts_with("ZPL") {
                        "ZPL".into()
                    } else {
                        "PDF".into()
                    };
                    let metadata = text(&body["metadata"]);
                    if !metadata.is_empty() {
                        s.reference = metadata;
                    }
                }
                book.buy(&id, &rate_id, Utc::now())
            }
        }
    };
    let (shipment, purchase) = match bought {
        Ok(b) => b,
        Err(why) => return unprocessable(&state, path, json!({"rate": [why]})),
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if after {
        state.record("POST", path, 500, Vec::new());
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"detail": "A server error occurred."})),
        )
            .into_response();
    }
    state.record("POST", path, 201, Vec::new());
    (
        StatusCode::CREATED,
        Json(transaction_json(&shipment, &purchase, &base_url(&headers))),
    )
        .into_response()
}

async fn list(
    State(state): S,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let path = "/transactions/".to_string();
    if let Some(r) = refused(&state, &headers, "GET", &path) {
        return r;
    }
    if faults(&state, false).0 {
        return unavailable(&state, "GET", path);
    }
    let size: usize = q
        .get("results")
        .and_then(|n| n.parse().ok())
        .unwrap_or(25)
        .clamp(1, 100);
    let page: usize = q
        .get("page")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
        .max(1);
    let mut bought: Vec<(SimShipment, SimPurchase)> = state
        .carriers()
        .shipments
        .values()
        .filter(|s| s.provider == Provider::Shippo)
        .flat_map(|s| s.purchases.iter().map(move |p| (s.clone(), p.clone())))
        .collect();
    bought.sort_by(|(_, a), (_, b)| {
        (b.bought_at, &b.transaction_id).cmp(&(a.bought_at, &a.transaction_id))
    });
    let base = base_url(&headers);
    let results: Vec<Value> = bought
        .iter()
        .skip((page - 1) * size)
        .take(size)
        .map(|(s, p)| transaction_json(s, p, &base))
        .collect();
    let next = (page * size < bought.len())
        .then(|| format!("{base}/transactions/?page={}&results={size}", page + 1));
    let previous =
        (page > 1).then(|| format!("{base}/transactions/?page={}&results={size}", page - 1));
    state.record("GET", path, 200, Vec::new());
    Json(json!({"count": bought.len(), "next": next, "previous": previous, "results": results}))
        .into_response()
}

async fn show(State(state): S, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let path = format!("/transactions/{id}");
    if let Some(r) = refused(&state, &headers, "GET", &path) {
        return r;
    }
    let found = state.carriers().shipments.values().find_map(|s| {
        s.purchases
            .iter()
            .find(|p| p.transaction_id == id)
            .map(|p| (s.clone(), p.clone()))
    });
    match found {
        Some((s, p)) => {
            state.record("GET", path, 200, Vec::new());
            Json(transaction_json(&s, &p, &base_url(&headers))).into_response()
        }
        None => {
            state.record("GET", path, 404, Vec::new());
            (StatusCode::NOT_FOUND, Json(json!({"detail": "Not found."}))).into_response()
        }
    }
}

async fn rate(State(state): S, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let path = format!("/rates/{id}");
    if let Some(r) = refused(&state, &headers, "GET", &path) {
        return r;
    }
    let found = state
        .carriers()
        .shipments
        .values()
        .find_map(|s| s.rate(&id).map(|r| rate_json(s, r)));
    match found {
        Some(body) => {
            state.record("GET", path, 200, Vec::new());
            Json(body).into_response()
        }
        None => {
            state.record("GET", path, 404, Vec::new());
            (StatusCode::NOT_FOUND, Json(json!({"detail": "Not found."}))).into_response()
        }
    }
}

async fn track(
    State(state): S,
    headers: HeaderMap,
    Path((carrier, number)): Path<(String, String)>,
) -> Response {
    let path = format!("/tracks/{carrier}/{number}");
    if let Some(r) = refused(&state, &headers, "GET", &path) {
        return r;
    }
    let found = state
        .carriers()
        .by_tracking(&number)
        .map(|(s, p)| (s.clone(), p.clone()));
    let Some((s, p)) = found else {
        state.record("GET", path, 404, Vec::new());
        return (StatusCode::NOT_FOUND, Json(json!({"detail": "Not found."}))).into_response();
    };
    let shippo_status = |s: &str| match s {
        "pre_transit" => "PRE_TRANSIT",
        "in_transit" | "out_for_delivery" => "TRANSIT",
        "delivered" => "DELIVERED",
        _ => "UNKNOWN",
    };
    let events: Vec<Value> = tracking(&s, &p, state.config.tracking_step.0, Utc::now())
        .into_iter()
        .map(|(at, status, message, location)| {
            json!({
                "object_created": time(at), "object_id": format!("{:x}", at.timestamp()),
                "status": shippo_status(status), "status_details": message,
                "status_date": at.to_rfc3339_opts(SecondsFormat::Secs, true),
                "location": {"city": location, "state": "", "zip": "", "country": ""}
            })
        })
        .collect();
    state.record("GET", path, 200, Vec::new());
    Json(json!({
        "carrier": carrier, "tracking_number": number,
        "address_from": {"country": s.from_country}, "address_to": {"city": s.to.city, "zip": s.to.zip, "country": s.to.country},
        "eta": null, "servicelevel": s.rate(&p.rate_id).map(|r| json!({"token": r.token, "name": r.service})),
        "metadata": s.reference,
        "tracking_status": events.last().cloned(),
        "tracking_history": events
    })).into_response()
}

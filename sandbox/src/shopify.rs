//! A Shopify Admin REST API (2026-07 shapes): orders with `Link`/`page_info`
//! pagination and `updated_at_min`, `X-Shopify-Access-Token` auth,
//! `X-Shopify-Shop-Api-Call-Limit`, 429 + `Retry-After` when the leaky
//! bucket is full, and the fulfillment-orders flow that records tracking.

use super::faults::Fault;
use super::{SandboxState, shopify_json};
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

type S = State<Arc<SandboxState>>;

pub fn routes() -> Router<Arc<SandboxState>> {
    Router::new()
        .route("/admin/api/{version}/orders.json", get(orders))
        .route("/admin/api/{version}/shop.json", get(shop))
        .route(
            "/admin/api/{version}/orders/{id}/fulfillment_orders.json",
            get(fulfillment_orders),
        )
        .route(
            "/admin/api/{version}/orders/{id}/fulfillments.json",
            get(fulfillments),
        )
        .route(
            "/admin/api/{version}/fulfillments.json",
            post(create_fulfillment),
        )
}

fn json_response(status: StatusCode, usage: &str, body: Vec<u8>) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(usage) {
        r.headers_mut().insert("x-shopify-shop-api-call-limit", v);
    }
    r
}

/// Auth, latency and faults common to every API call. `Err` is the response to send instead.
async fn gate(
    state: &SandboxState,
    method: &str,
    headers: &HeaderMap,
    path: &str,
    order_page: bool,
) -> Result<(Fault, String), Response> {
    let token = headers
        .get("x-shopify-access-token")
        .and_then(|v| v.to_str().ok());
    let revoked = state
        .faults
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .faults
        .reject_auth;
    if revoked || token != Some(state.config.access_token.as_str()) {
        state.record(method, path.to_string(), 401, Vec::new());
        let body = json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"});
        return Err(json_response(
            StatusCode::UNAUTHORIZED,
            "0/40",
            body.to_string().into_bytes(),
        ));
    }
    let (fault, usage, latency) = {
        let mut f = state.faults.lock().unwrap_or_else(|p| p.into_inner());
        let (fault, usage) = f.next(order_page);
        (fault, usage, f.latency())
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match fault {
        Fault::ServerError(code) => {
            state.record(method, path.to_string(), code, Vec::new());
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Err(json_response(
                status,
                &usage,
                br#"{"errors":"Internal Server Error"}"#.to_vec(),
            ))
        }
        Fault::TooManyRequests(after) => {
            state.record(method, path.to_string(), 429, Vec::new());
            let mut r = json_response(
                StatusCode::TOO_MANY_REQUESTS,
                &usage,
                br#"{"errors":"Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."}"#.to_vec(),
            );
            r.headers_mut()
                .insert("retry-after", HeaderValue::from_static(after));
            Err(r)
        }
        other => Ok((other, usage)),
    }
}

#[derive(Serialize, Deserialize)]
struct PageInfo {
    min: Option<DateTime<Utc>>,
    after: u64,
}

fn bad_request(message: &str) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        "1/40",
        json!({"errors": message}).to_string().into_bytes(),
    )
}

async fn orders(
    State(state): S,
    Path(version): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/admin/api/{version}/orders.json?{}", query_string(&q));
    let (fault, usage) = match gate(&state, "GET", &headers, &path, true).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let limit: usize = match q.get("limit").map(|l| l.parse::<usize>()) {
        None => 50,
        Some(Ok(l)) if (1..=250).contains(&l) => l,
        Some(_) => return bad_request("limit must be between 1 and 250"),
    };
    let page = match q.get("page_info") {
        Some(token) => {
            if q.keys()
                .any(|k| k != "page_info" && k != "limit" && k != "fields")
            {
                return bad_request("page_info cannot be combined with other filters");
            }
            match base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(token)
                .ok()
                .and_then(|b| serde_json::from_slice::<PageInfo>(&b).ok())
            {
                Some(p) => p,
                None => return bad_request("Invalid page_info"),
            }
        }
        None => {
            let min = match q.get("updated_at_min") {
                None => None,
                Some(t) => match DateTime::parse_from_rfc3339(t) {
                    Ok(t) => Some(t.with_timezone(&Utc)),
                    Err(_) => return bad_request("updated_at_min must be an ISO 8601 time"),
                },
            };
            let after = q.get("since_id").and_then(|s| s.parse().ok()).unwrap_or(0);
            PageInfo { min, after }
        }
    };
    let (body, ids, more) = {
        let world = state.world();
        let mut matching = world
            .orders
            .range(page.after + 1..)
            .map(|(_, o)| o)
            .filter(|o| page.min.is_none_or(|m| o.updated_at >= m));
        let chosen: Vec<_> = matching.by_ref().take(limit).collect();
        let more = matching.next().is_some();
        let ids: Vec<u64> = chosen.iter().map(|o| o.id).collect();
        let mut cache = state.rendered.lock().unwrap_or_else(|p| p.into_inner());
        let mut body = Vec::with_capacity(chosen.len() * 12 * 1024);
        body.extend_from_slice(b"{\"orders\":[");
        for (i, o) in chosen.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            if fault == Fault::Malformed && i == chosen.len() / 2 {
                let mut bad = shopify_json::order(o);
                bad["total_price"] = json!("12,34.5x");
                body.extend_from_slice(&serde_json::to_vec(&bad).unwrap_or_default());
                continue;
            }
            let bytes = match cache.get(&o.id) {
                Some((revision, bytes)) if *revision == o.revision => bytes.clone(),
                _ => {
                    let bytes =
                        Arc::new(serde_json::to_vec(&shopify_json::order(o)).unwrap_or_default());
                    cache.insert(o.id, (o.revision, bytes.clone()));
                    bytes
                }
            };
            body.extend_from_slice(&bytes);
        }
        body.extend_from_slice(b"]}");
        (body, ids, more)
    };
    let mut body = body;
    if fault == Fault::Truncate {
        body.truncate(body.len() / 2);
    }
    state.record("GET", path, 200, ids.clone());
    let mut response = json_response(StatusCode::OK, &usage, body);
    if more && let Some(last) = ids.last() {
        let host = headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1");
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
            serde_json::to_vec(&PageInfo {
                min: page.min,
                after: *last,
            })
            .unwrap_or_default(),
        );
        let link = format!(
            "<http://{host}/admin/api/{version}/orders.json?limit={limit}&page_info={token}>; rel=\"next\""
        );
        if let Ok(v) = HeaderValue::from_str(&link) {
            response.headers_mut().insert("link", v);
        }
    }
    response
}

async fn shop(State(state): S, Path(version): Path<String>, headers: HeaderMap) -> Response {
    let path = format!("/admin/api/{version}/shop.json");
    let (_, usage) = match gate(&state, "GET", &headers, &path, false).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    state.record("GET", path, 200, Vec::new());
    let body = json!({"shop": {"id": 548_380_009, "name": "tradelane sandbox", "myshopify_domain": "sandbox.myshopify.com", "currency": "USD"}});
    json_response(StatusCode::OK, &usage, body.to_string().into_bytes())
}

/// `GET …/orders/{id}/<resource>.json`: one order rendered by `render`, or 404.
async fn order_resource(
    state: &SandboxState,
    headers: &HeaderMap,
    path: String,
    id: u64,
    render: impl FnOnce(&super::SimOrder) -> serde_json::Value,
) -> Response {
    let (_, usage) = match gate(state, "GET", headers, &path, false).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let body = state.world().orders.get(&id).map(render);
    match body {
        Some(b) => {
            state.record("GET", path, 200, vec![id]);
            json_response(StatusCode::OK, &usage, b.to_string().into_bytes())
        }
        None => {
            state.record("GET", path, 404, Vec::new());
            json_response(
                StatusCode::NOT_FOUND,
                &usage,
                br#"{"errors":"Not Found"}"#.to_vec(),
            )
        }
    }
}

async fn fulfillment_orders(
    State(state): S,
    Path((version, id)): Path<(String, u64)>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/admin/api/{version}/orders/{id}/fulfillment_orders.json");
    order_resource(&state, &headers, path, id, shopify_json::fulfillment_orders).await
}

async fn fulfillments(
    State(state): S,
    Path((version, id)): Path<(String, u64)>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/admin/api/{version}/orders/{id}/fulfillments.json");
    order_resource(
        &state,
        &headers,
        path,
        id,
        |o| json!({ "fulfillments": shopify_json::fulfillments(o) }),
    )
    .await
}

#[derive(Deserialize)]
struct CreateBody {
    fulfillment: CreateFulfillment,
}

#[derive(Deserialize)]
struct CreateFulfillment {
    #[serde(default)]
    tracking_info: Option<TrackingInfo>,
    line_items_by_fulfillment_order: Vec<ByFo>,
}

#[derive(Deserialize)]
struct TrackingInfo {
    number: Option<String>,
    url: Option<String>,
    company: Option<String>,
}

#[derive(Deserialize)]
struct ByFo {
    fulfillment_order_id: u64,
}

async fn create_fulfillment(
    State(state): S,
    Path(version): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let path = format!("/admin/api/{version}/fulfillments.json");
    let (_, usage) = match gate(&state, "POST", &headers, &path, false).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let parsed: CreateBody = match serde_json::from_slice(&bytes) {
        Ok(b) => b,
        Err(e) => {
            return json_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                &usage,
                json!({"errors": {"fulfillment": [e.to_string()]}})
                    .to_string()
                    .into_bytes(),
            );
        }
    };
    let Some(first) = parsed.fulfillment.line_items_by_fulfillment_order.first() else {
        return json_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            &usage,
            br#"{"errors":{"line_items_by_fulfillment_order":["can't be blank"]}}"#.to_vec(),
        );
    };
    let tracking = parsed.fulfillment.tracking_info;
    let mut world = state.world();
    let order_id = world
        .orders
        .values()
        .find(|o| 1_046_000_000 + o.id % 1_000_000 == first.fulfillment_order_id)
        .map(|o| o.id);
    let Some(order_id) = order_id else {
        drop(world);
        return json_response(
            StatusCode::NOT_FOUND,
            &usage,
            br#"{"errors":"Not Found"}"#.to_vec(),
        );
    };
    if world
        .orders
        .get(&order_id)
        .is_some_and(|o| o.fulfillment_status.is_some() || o.cancelled_at.is_some())
    {
        drop(world);
        return json_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            &usage,
            br#"{"errors":["Fulfillment order is not in an open state"]}"#.to_vec(),
        );
    }
    let number = tracking
        .as_ref()
        .and_then(|t| t.number.clone())
        .unwrap_or_default();
    let url = tracking.as_ref().and_then(|t| t.url.clone());
    let company = tracking
        .and_then(|t| t.company)
        .unwrap_or_else(|| "Other".into());
    let created = world.fulfill(order_id, number, url, company, Utc::now());
    let rendered = world.orders.get(&order_id).map(shopify_json::fulfillments);
    drop(world);
    state.record("POST", path, 201, vec![order_id]);
    let fulfillment = rendered
        .and_then(|list| {
            let c = created?;
            list.as_array()?.iter().find(|f| f["id"] == c.id).cloned()
        })
        .unwrap_or(json!(null));
    json_response(
        StatusCode::CREATED,
        &usage,
        json!({ "fulfillment": fulfillment })
            .to_string()
            .into_bytes(),
    )
}

fn query_string(q: &HashMap<String, String>) -> String {
    let mut pairs: Vec<_> = q.iter().map(|(k, v)| format!("{k}={v}")).collect();
    pairs.sort();
    pairs.join("&")
}

impl IntoResponse for super::Served {
    fn into_response(self) -> Response {
        axum::Json(self).into_response()
    }
}

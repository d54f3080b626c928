//! eBay's identity service (`POST /identity/v1/oauth2/token`, Basic client
//! auth; refresh-token and authorization-code grants; a consent page at
//! `GET /oauth2/authorize` that redirects at once) and the Sell
//! Fulfillment API v1 (`getOrders`, `getOrder`, shipping fulfillments), in
//! eBay's shapes.
//!
//! - Auth: `Authorization: Bearer` must be a live user access token; else
//!   401 with errorId 1001 (`Invalid access token`), as eBay answers.
//! - Pages: `limit`/`offset` over the orders matching
//!   `filter=lastmodifieddate:[FROM..]`, ordered by last modification (the
//!   order that makes a mid-pass change shift every later order back by
//!   one: the case a reader must survive). With `ebay_changes_per_page`,
//!   that many orders change after each page served.
//! - Tax: orders to the EU of at most €150 carry eBay's IOSS collect-and-remit reference,
//!   to the US state sales tax collected by eBay.

use super::SandboxState;
use super::faults::Fault;
use super::oauth::{self, OAuthServer};
use super::world::{SimOrder, World};
use crate::money::format_minor;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

type S = State<Arc<SandboxState>>;

/// eBay's IOSS number as the sandbox prints it.
pub const EBAY_IOSS: &str = "IM2760000742";

/// The simulated seller account on eBay.
pub struct Market {
    pub world: World,
    pub oauth: OAuthServer,
}

impl Market {
    /// The seller's orders and the keyset of `config`.
    pub fn new(config: &crate::SandboxConfig) -> Self {
        let mut oauth = OAuthServer::new(
            "v^1.1#i^1#p^3#",
            "v^1.1#i^1#r^1#",
            &config.ebay_client_id,
            &config.ebay_client_secret,
            &config.ebay_refresh_token,
        );
        oauth.lifetime = std::time::Duration::from_secs(7200);
        Market {
            world: World::new(config.seed ^ 0xEBA1_0000, config.ebay_orders, Utc::now()),
            oauth,
        }
    }
}

pub fn routes() -> Router<Arc<SandboxState>> {
    Router::new()
        .route("/identity/v1/oauth2/token", axum::routing::post(token))
        .route("/oauth2/authorize", get(authorize))
        .route("/sell/fulfillment/v1/order", get(get_orders))
        .route("/sell/fulfillment/v1/order/{id}", get(get_order))
        .route(
            "/sell/fulfillment/v1/order/{id}/shipping_fulfillment",
            get(list_fulfillments).post(create_fulfillment),
        )
}

fn market(state: &SandboxState) -> std::sync::MutexGuard<'_, Market> {
    state.ebay.lock().unwrap_or_else(|p| p.into_inner())
}

/// The eBay order id of a simulated order (`NN-NNNNN-NNNNN`).
pub fn order_id(id: u64) -> String {
    format!(
        "{:02}-{:05}-{:05}",
        id % 100,
        (id / 100) % 100_000,
        id.wrapping_mul(31) % 100_000
    )
}

/// eBay's site of a destination.
pub fn site(country: &str) -> &'static str {
    match country {
        "US" => "EBAY_US",
        "GB" => "EBAY_GB",
        "DE" => "EBAY_DE",
        "FR" => "EBAY_FR",
        "IT" => "EBAY_IT",
        "NL" => "EBAY_NL",
        "CA" => "EBAY_CA",
        "AU" => "EBAY_AU",
        "CH" => "EBAY_CH",
        _ => "EBAY_US",
    }
}

const EU: &[&str] = &["DE", "FR", "IT", "NL", "SE"];

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn amount(minor: i64, o: &SimOrder) -> Value {
    json!({"value": format_minor(minor, o.decimals), "currency": o.currency})
}

fn errors(status: StatusCode, id: u64, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"errors": [{"errorId": id, "domain": "API_FULFILLMENT", "category": "REQUEST", "message": message}]})),
    )
        .into_response()
}

/// The Sell Fulfillment rendering of `o`.
pub fn render(o: &SimOrder) -> Value {
    let c = &o.customer;
    let eu = EU.contains(&c.country.as_str()) && o.within_ioss_limit();
    let us = c.country == "US";
    let lines: Vec<Value> = o
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let cost = l.price_minor * i64::from(l.quantity);
            let shipping = if i == 0 { o.shipping_minor } else { 0 };
            let mut line = json!({
                "lineItemId": format!("{}", 10_000_000_000u64 + l.id),
                "legacyItemId": format!("{}", 300_000_000_000u64 + l.id),
                "sku": l.sku,
                "title": format!("{} ({})", l.title, l.variant),
                "lineItemCost": amount(cost, o),
                "quantity": l.quantity,
                "soldFormat": "FIXED_PRICE",
                "listingMarketplaceId": site(&c.country),
                "purchaseMarketplaceId": site(&c.country),
                "lineItemFulfillmentStatus": if o.fulfillments.is_empty() { "NOT_STARTED" } else { "FULFILLED" },
                "total": amount(cost - l.discount_minor + l.tax_minor + shipping, o),
                "deliveryCost": {"shippingCost": amount(shipping, o)},
                "appliedPromotions": if l.discount_minor > 0 {
                    json!([{"promotionId": "5********1", "description": "10% off", "discountAmount": amount(l.discount_minor, o)}])
                } else {
                    json!([])
                },
                "taxes": [{"amount": amount(l.tax_minor, o), "taxType": if us { "STATE_SALES_TAX" } else { "VAT" }}],
                "properties": {"buyerProtection": true},
            });
            if eu {
                line["ebayCollectAndRemitTaxes"] = json!([{
                    "taxType": "VAT", "amount": amount(l.tax_minor, o), "collectionMethod": "NET",
                    "ebayReference": {"name": "IOSS", "value": EBAY_IOSS},
                }]);
            } else if us {
                line["ebayCollectAndRemitTaxes"] = json!([{
                    "taxType": "STATE_SALES_TAX", "amount": amount(l.tax_minor, o), "collectionMethod": "NET",
                }]);
            }
            line
        })
        .collect();
    let cancelled = o.cancelled_at.is_some();
    let discount = o.discount_minor();
    let mut pricing = json!({
        "priceSubtotal": amount(o.line_items_minor(), o),
        "deliveryCost": amount(o.shipping_minor, o),
        "tax": amount(o.tax_minor(), o),
        "total": amount(o.total_minor(), o),
    });
    if discount != 0 {
        pricing["priceDiscount"] = amount(-discount, o);
    }
    json!({
        "orderId": order_id(o.id),
        "legacyOrderId": format!("{}-{}", 100_000_000_000u64 + o.id, 2_000_000_000_000u64 + o.id),
        "creationDate": time(o.created_at),
        "lastModifiedDate": time(o.updated_at),
        "orderFulfillmentStatus": if o.fulfillments.is_empty() { "NOT_STARTED" } else { "FULFILLED" },
        "orderPaymentStatus": match o.financial_status.as_str() {
            "paid" => "PAID",
            "refunded" => "FULLY_REFUNDED",
            _ => "PENDING",
        },
        "sellerId": "demo-crafts",
        "buyer": {"username": format!("{}_{}", c.first_name.to_lowercase(), o.id % 1000)},
        "pricingSummary": pricing,
        "cancelStatus": {"cancelState": if cancelled { "CANCELED" } else { "NONE_REQUESTED" }, "cancelRequests": []},
        "ebayCollectAndRemitTax": eu || us,
        "fulfillmentStartInstructions": [{
            "fulfillmentInstructionsType": "SHIP_TO",
            "ebaySupportedFulfillment": false,
            "shippingStep": {
                "shipTo": {
                    "fullName": format!("{} {}", c.first_name, c.last_name),
                    "contactAddress": {
                        "addressLine1": c.address1,
                        "city": c.city,
                        "stateOrProvince": c.region,
                        "postalCode": c.zip,
                        "countryCode": c.country,
                    },
                    "primaryPhone": {"phoneNumber": c.phone},
                    "email": c.email,
                },
                "shippingServiceCode": if o.shipping_title.contains("Express") { "InternationalPriorityShipping" } else { "InternationalEconomyShipping" },
            },
        }],
        "fulfillmentHrefs": o.fulfillments.iter().map(|f| format!("/sell/fulfillment/v1/order/{}/shipping_fulfillment/{}", order_id(o.id), f.tracking_number)).collect::<Vec<_>>(),
        "lineItems": lines,
    })
}

/// Auth and faults. `Err` is the answer.
async fn gate(
    state: &SandboxState,
    headers: &HeaderMap,
    method: &str,
    path: &str,
) -> Result<(), Response> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let (fault, latency) = {
        let mut f = state.faults.lock().unwrap_or_else(|p| p.into_inner());
        (f.market_next(), f.latency())
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if !market(state).oauth.valid(token) {
        state.record(method, path.to_string(), 401, Vec::new());
        return Err((
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"errors": [{"errorId": 1001, "domain": "OAuth", "category": "REQUEST",
                "message": "Invalid access token",
                "longMessage": "Invalid access token. Check the value of the Authorization HTTP request header."}]})),
        )
            .into_response());
    }
    match fault {
        Fault::ServerError(code) => {
            state.record(method, path.to_string(), code, Vec::new());
            Err(errors(
                StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                15000,
                "There was a problem with an eBay internal system or process. Contact eBay developer support for assistance.",
            ))
        }
        Fault::TooManyRequests(_) => {
            state.record(method, path.to_string(), 429, Vec::new());
            Err(errors(
                StatusCode::TOO_MANY_REQUESTS,
                2001,
                "The request limit has been reached for the resource.",
            ))
        }
        _ => Ok(()),
    }
}

async fn token(State(state): S, headers: HeaderMap, body: Bytes) -> Response {
    let form = oauth::form(&body);
    let grant = market(&state).oauth.token(oauth::basic(&headers), &form);
    let status = match &grant {
        oauth::Grant::Issued { .. } => 200,
        oauth::Grant::Refused(s, _, _) => *s,
    };
    state.record(
        "POST",
        "/identity/v1/oauth2/token".into(),
        status,
        Vec::new(),
    );
    oauth::answer(grant, "User Access Token")
}

/// The consent page: the seller agrees at once, and is sent back with a code.
async fn authorize(State(state): S, Query(q): Query<HashMap<String, String>>) -> Response {
    let m = &mut market(&state);
    if q.get("client_id") != Some(&m.oauth.client_id)
        || q.get("response_type").map(String::as_str) != Some("code")
    {
        return (
            StatusCode::BAD_REQUEST,
            "unknown client_id or response_type is not code",
        )
            .into_response();
    }
    let code = m.oauth.issue_code();
    let location = format!(
        "https://signin.sandbox.invalid/accepted?state={}&code={}&expires_in=299",
        form_urlencoded::byte_serialize(q.get("state").map_or("", String::as_str).as_bytes())
            .collect::<String>(),
        form_urlencoded::byte_serialize(code.as_bytes()).collect::<String>()
    );
    let mut r = StatusCode::FOUND.into_response();
    r.headers_mut()
        .insert("location", HeaderValue::from_str(&location).expect("ascii"));
    r
}

fn filter_from(filter: &str) -> Option<(&'static str, DateTime<Utc>)> {
    for part in filter.split(',') {
        let part = part.trim();
        for (field, name) in [
            ("lastmodifieddate", "lastmodifieddate"),
            ("creationdate", "creationdate"),
        ] {
            if let Some(range) = part.strip_prefix(&format!("{field}:[")) {
                let from = range.split("..").next()?;
                let at = DateTime::parse_from_rfc3339(from).ok()?.with_timezone(&Utc);
                return Some((name, at));
            }
        }
    }
    None
}

async fn get_orders(
    State(state): S,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let mut keys: Vec<_> = q.iter().map(|(k, v)| format!("{k}={v}")).collect();
    keys.sort();
    let path = format!("/sell/fulfillment/v1/order?{}", keys.join("&"));
    if let Err(r) = gate(&state, &headers, "GET", &path).await {
        return r;
    }
    let invalid = |id: u64, message: &str| {
        state.record("GET", path.clone(), 400, Vec::new());
        errors(StatusCode::BAD_REQUEST, id, message)
    };
    let limit: usize = match q.get("limit").map(|l| l.parse()) {
        None => 50,
        Some(Ok(n)) if (1..=200).contains(&n) => n,
        Some(_) => return invalid(30700, "The 'limit' value must be between 1 and 200."),
    };
    let offset: usize = match q.get("offset").map(|o| o.parse()) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return invalid(30800, "The 'offset' value is invalid."),
    };
    let now = Utc::now();
    let (field, from) = match q.get("filter") {
        None => ("creationdate", now - chrono::Duration::days(90)),
        Some(f) => match filter_from(f) {
            Some(x) => x,
            None => return invalid(30850, "The filter is invalid."),
        },
    };
    let mut m = market(&state);
    let mut matching: Vec<&SimOrder> = m
        .world
        .orders
        .values()
        .filter(|o| o.created_at >= now - chrono::Duration::days(90))
        .filter(|o| match field {
            "lastmodifieddate" => o.updated_at >= from,
            _ => o.created_at >= from,
        })
        .collect();
    matching.sort_by_key(|o| (o.updated_at, o.id));
    let total = matching.len();
    let page: Vec<&SimOrder> = matching.iter().skip(offset).take(limit).copied().collect();
    let ids: Vec<u64> = page.iter().map(|o| o.id).collect();
    let base = "/sell/fulfillment/v1/order";
    let filter = q.get("filter").cloned().unwrap_or_default();
    let href = |off: usize| format!("{base}?filter={filter}&limit={limit}&offset={off}");
    let mut body = json!({
        "href": href(offset),
        "total": total,
        "limit": limit,
        "offset": offset,
        "orders": page.iter().map(|o| render(o)).collect::<Vec<_>>(),
        "warnings": [],
    });
    if offset + limit < total {
        body["next"] = href(offset + limit).into();
    }
    if offset > 0 {
        body["prev"] = href(offset.saturating_sub(limit)).into();
    }
    let changes = state
        .faults
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .faults
        .ebay_changes_per_page;
    // Orders change while the seller reads: they move to the end.
    let later = now + chrono::Duration::seconds(1);
    for _ in 0..changes {
        m.world.update_random(later);
    }
    drop(m);
    state.record("GET", path, 200, ids);
    axum::Json(body).into_response()
}

fn find(world: &World, ebay_id: &str) -> Option<u64> {
    world
        .orders
        .keys()
        .copied()
        .find(|id| order_id(*id) == ebay_id)
}

async fn get_order(State(state): S, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let path = format!("/sell/fulfillment/v1/order/{id}");
    if let Err(r) = gate(&state, &headers, "GET", &path).await {
        return r;
    }
    let m = market(&state);
    let Some(sim) = find(&m.world, &id) else {
        drop(m);
        state.record("GET", path, 404, Vec::new());
        return errors(StatusCode::NOT_FOUND, 32100, "Invalid order ID");
    };
    let body = render(&m.world.orders[&sim]);
    drop(m);
    state.record("GET", path, 200, vec![sim]);
    axum::Json(body).into_response()
}

async fn list_fulfillments(
    State(state): S,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/sell/fulfillment/v1/order/{id}/shipping_fulfillment");
    if let Err(r) = gate(&state, &headers, "GET", &path).await {
        return r;
    }
    let m = market(&state);
    let Some(sim) = find(&m.world, &id) else {
        drop(m);
        state.record("GET", path, 404, Vec::new());
        return errors(StatusCode::NOT_FOUND, 32100, "Invalid order ID");
    };
    let o = &m.world.orders[&sim];
    let fulfillments: Vec<Value> = o
        .fulfillments
        .iter()
        .map(|f| json!({
            "fulfillmentId": f.tracking_number,
            "shipmentTrackingNumber": f.tracking_number,
            "shippingCarrierCode": f.tracking_company,
            "shippedDate": time(f.created_at),
            "lineItems": o.lines.iter().map(|l| json!({"lineItemId": format!("{}", 10_000_000_000u64 + l.id), "quantity": l.quantity})).collect::<Vec<_>>(),
        }))
        .collect();
    let body = json!({"fulfillments": fulfillments, "total": fulfillments.len(), "warnings": []});
    drop(m);
    state.record("GET", path, 200, Vec::new());
    axum::Json(body).into_response()
}

async fn create_fulfillment(
    State(state): S,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/sell/fulfillment/v1/order/{id}/shipping_fulfillment");
    if let Err(r) = gate(&state, &headers, "POST", &path).await {
        return r;
    }
    let invalid = |message: &str| {
        state.record("POST", path.clone(), 400, Vec::new());
        errors(StatusCode::BAD_REQUEST, 32200, message)
    };
    let Ok(payload) = serde_json::from_slice::<Value>(&body) else {
        return invalid("The request body is not valid JSON.");
    };
    let (Some(tracking), Some(carrier), Some(shipped)) = (
        payload["trackingNumber"].as_str(),
        payload["shippingCarrierCode"].as_str(),
        payload["shippedDate"].as_str(),
    ) else {
        return invalid(
            "lineItems, shippedDate, shippingCarrierCode and trackingNumber are required.",
        );
    };
    if DateTime::parse_from_rfc3339(shipped).is_err() {
        return invalid("shippedDate is not in the form 2015-08-04T19:09:02.768Z.");
    }
    let mut m = market(&state);
    let Some(sim) = find(&m.world, &id) else {
        drop(m);
        state.record("POST", path, 404, Vec::new());
        return errors(StatusCode::NOT_FOUND, 32100, "Invalid order ID");
    };
    let o = &m.world.orders[&sim];
    let lines = payload["lineItems"].as_array().cloned().unwrap_or_default();
    if lines.is_empty()
        || !lines.iter().all(|l| {
            o.lines.iter().any(|x| {
                l["lineItemId"].as_str() == Some(format!("{}", 10_000_000_000u64 + x.id).as_str())
            })
        })
    {
        drop(m);
        return invalid("lineItems must name line items of the order.");
    }
    m.world.fulfill(
        sim,
        tracking.to_string(),
        None,
        carrier.to_string(),
        Utc::now(),
    );
    drop(m);
    state.record("POST", path.clone(), 201, vec![sim]);
    let mut r = (StatusCode::CREATED, axum::Json(json!({}))).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("{path}/{tracking}")) {
        r.headers_mut().insert("location", v);
    }
    r
}

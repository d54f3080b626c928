//! A Selling Partner API: Login with Amazon (`POST /auth/o2/token`), the
//! Orders API 2026-01-01 (`searchOrders`, `getOrder` with `includedData`)
//! and v0 `confirmShipment`, in Amazon's shapes (`orders_2026-01-01.json`).
//!
//! - Auth: `x-amz-access-token` must be a live LWA access token; an expired
//!   or unknown one is answered 403 `Unauthorized`, as SP-API does.
//! - Pages: `paginationToken` is a keyset cursor over (lastUpdatedTime, id)
//!   within the snapshot the first page saw (`lastUpdatedBefore`); tokens
//!   expire after 24 h. An order that changes mid-pass leaves the snapshot
//!   and is found by the next pass.
//! - Usage plans (with `amazon_throttle`): one bucket per operation, 429
//!   `QuotaExceeded` when empty; every answer carries `x-amzn-RateLimit-Limit`.
//! - The seller's orders: its own [`World`], each order on the marketplace
//!   of its destination; every seventh order is fulfilled by Amazon, every
//!   fifth of the rest is Prime; EU imports of at most €150 carry Amazon's
//!   IOSS number and marketplace-facilitator collection (above €150 Amazon
//!   is not the deemed supplier), as do all UK and US orders.

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
use axum::routing::{get, post};
use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

type S = State<Arc<SandboxState>>;

/// Amazon's IOSS number as the sandbox prints it.
pub const AMAZON_IOSS: &str = "IM4420001201";
/// Amazon's UK VAT number as the sandbox prints it.
pub const AMAZON_UK_VAT: &str = "GB727255821";

/// The simulated seller account on Amazon.
pub struct Market {
    pub world: World,
    pub oauth: OAuthServer,
    buckets: HashMap<&'static str, (f64, Instant)>,
}

impl Market {
    /// `orders` orders from `seed`, and the LWA client of `config`.
    pub fn new(config: &crate::SandboxConfig) -> Self {
        Market {
            world: World::new(config.seed ^ 0xA3A2_0000, config.amazon_orders, Utc::now()),
            oauth: OAuthServer::new(
                "Atza|",
                "Atzr|",
                &config.amazon_client_id,
                &config.amazon_client_secret,
                &config.amazon_refresh_token,
            ),
            buckets: HashMap::new(),
        }
    }
}

/// `(rate per second, burst)` of an operation's default usage plan.
fn plan(operation: &str) -> (f64, f64) {
    match operation {
        "confirmShipment" => (2.0, 10.0),
        _ => (0.0056, 20.0),
    }
}

pub fn routes() -> Router<Arc<SandboxState>> {
    Router::new()
        .route("/auth/o2/token", post(token))
        .route("/orders/2026-01-01/orders", get(search_orders))
        .route("/orders/2026-01-01/orders/{id}", get(get_order))
        .route(
            "/orders/v0/orders/{id}/shipmentConfirmation",
            post(confirm_shipment),
        )
}

fn market(state: &SandboxState) -> std::sync::MutexGuard<'_, Market> {
    state.amazon.lock().unwrap_or_else(|p| p.into_inner())
}

/// The Amazon order id of a simulated order (3-7-7 digits).
pub fn order_id(id: u64) -> String {
    format!(
        "{:03}-{:07}-{:07}",
        200 + id % 800,
        id % 10_000_000,
        id.wrapping_mul(7919) % 10_000_000
    )
}

/// `(marketplace id, name)` an order to `country` is placed on.
pub fn marketplace(country: &str) -> (&'static str, &'static str) {
    match country {
        "US" => ("ATVPDKIKX0DER", "Amazon.com"),
        "CA" => ("A2EUQ1WTGCTBG2", "Amazon.ca"),
        "MX" => ("A1AM78C64UM0Y8", "Amazon.com.mx"),
        "BR" => ("A2Q3Y263D00KWC", "Amazon.com.br"),
        "DE" => ("A1PA6795UKMFR9", "Amazon.de"),
        "FR" => ("A13V1IB3VIYZZH", "Amazon.fr"),
        "IT" => ("APJ6JRA9NG5V4", "Amazon.it"),
        "NL" => ("A1805IZSGTT6HS", "Amazon.nl"),
        "SE" => ("A2NODRKZP88ZB9", "Amazon.se"),
        "JP" => ("A1VC38T7YXB528", "Amazon.co.jp"),
        "AU" => ("A39IBJ37TRP1C6", "Amazon.com.au"),
        // Amazon.co.uk ships cross-border to the rest.
        _ => ("A1F83G8C2ARO7P", "Amazon.co.uk"),
    }
}

const EU: &[&str] = &["DE", "FR", "IT", "NL", "SE"];

/// Fulfilled by Amazon (FBA).
pub fn afn(o: &SimOrder) -> bool {
    o.id.is_multiple_of(7)
}

/// A Seller Fulfilled Prime order.
pub fn prime(o: &SimOrder) -> bool {
    !afn(o) && o.id.is_multiple_of(5)
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn money(minor: i64, o: &SimOrder) -> Value {
    json!({"amount": format_minor(minor, o.decimals), "currencyCode": o.currency})
}

fn errors(status: StatusCode, code: &str, message: &str) -> Response {
    let mut r = (
        status,
        axum::Json(json!({"errors": [{"code": code, "message": message, "details": ""}]})),
    )
        .into_response();
    r.headers_mut().insert(
        "x-amzn-requestid",
        HeaderValue::from_static("sandbox-request"),
    );
    r
}

/// The Orders 2026-01-01 rendering of `o` with the datasets in `included`.
pub fn render(o: &SimOrder, included: &[&str]) -> Value {
    let has = |d: &str| included.contains(&d);
    let country = o.customer.country.as_str();
    let (marketplace_id, marketplace_name) = marketplace(country);
    let eu = EU.contains(&country) && o.within_ioss_limit();
    let facilitator = match country {
        "GB" => Some("Amazon EU S.a.r.L., UK Branch"),
        "US" => Some("Amazon.com Services LLC"),
        _ if eu => Some("Amazon Services Europe S.a.r.L."),
        _ => None,
    };
    let status = if o.cancelled_at.is_some() {
        "CANCELLED"
    } else if o.fulfillment_status.as_deref() == Some("fulfilled") {
        "SHIPPED"
    } else if o.financial_status == "pending" {
        "PENDING"
    } else {
        "UNSHIPPED"
    };
    let shipped = status == "SHIPPED";
    let items: Vec<Value> = o
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let gross = l.price_minor * i64::from(l.quantity);
            let shipping = if i == 0 { o.shipping_minor } else { 0 };
            let mut breakdowns = vec![
                json!({"type": "ITEM", "subtotal": money(gross, o)}),
                json!({"type": "TAX", "subtotal": money(l.tax_minor, o),
                    "detailedBreakdowns": [{"subtype": "ITEM", "value": money(l.tax_minor, o)}]}),
            ];
            if shipping != 0 {
                breakdowns.push(json!({"type": "SHIPPING", "subtotal": money(shipping, o)}));
            }
            if l.discount_minor != 0 {
                breakdowns.push(json!({"type": "DISCOUNT", "subtotal": money(-l.discount_minor, o)}));
            }
            let mut item = json!({
                "orderItemId": format!("{:014}", l.id),
                "quantityOrdered": l.quantity,
                "programs": [],
                "product": {
                    "asin": format!("B0{:08X}", l.id % 0xFFFF_FFFF),
                    "title": format!("{} ({})", l.title, l.variant),
                    "sellerSku": l.sku,
                    "condition": {"conditionType": "NEW", "conditionSubtype": "NEW"},
                    "price": {"unitPrice": money(l.price_minor, o)},
                },
            });
            if has("PROCEEDS") {
                item["proceeds"] = json!({
                    "proceedsTotal": money(gross - l.discount_minor + l.tax_minor + shipping, o),
                    "breakdowns": breakdowns,
                });
            }
            if has("FULFILLMENT") {
                let mut shipping = json!({});
                if eu {
                    shipping["internationalShipping"] = json!({"iossNumber": AMAZON_IOSS});
                }
                item["fulfillment"] = json!({
                    "quantityFulfilled": if shipped { l.quantity } else { 0 },
                    "quantityUnfulfilled": if shipped { 0 } else { l.quantity },
                    "shipping": shipping,
                });
            }
            if has("TAX")
                && let Some(party) = facilitator
            {
                let mut tax = json!({"taxCollections": [{"model": "MARKETPLACE_FACILITATOR", "responsibleParty": party}]});
                if eu {
                    tax["taxCalculationBreakdowns"] = json!([{"reportingScheme": "IOSS"}]);
                }
                item["tax"] = tax;
            }
            item
        })
        .collect();
    let mut programs = Vec::new();
    if prime(o) {
        programs.push("PRIME");
    }
    let mut order = json!({
        "orderId": order_id(o.id),
        "orderAliases": [{"aliasId": format!("DEMO-{}", o.number), "aliasType": "SELLER_ORDER_ID"}],
        "createdTime": time(o.created_at),
        "lastUpdatedTime": time(o.updated_at),
        "programs": programs,
        "salesChannel": {"channelName": "AMAZON", "marketplaceId": marketplace_id, "marketplaceName": marketplace_name},
        "orderItems": items,
    });
    let c = &o.customer;
    if has("BUYER") {
        order["buyer"] = json!({
            "buyerName": format!("{} {}", c.first_name, c.last_name),
            "buyerEmail": format!("{}@marketplace.amazon.example", o.id),
        });
    }
    if has("RECIPIENT") {
        order["recipient"] = json!({"deliveryAddress": {
            "name": format!("{} {}", c.first_name, c.last_name),
            "addressLine1": c.address1,
            "addressLine2": "",
            "city": c.city,
            "stateOrRegion": c.region,
            "postalCode": c.zip,
            "countryCode": c.country,
            "phone": c.phone,
            "addressType": "RESIDENTIAL",
        }});
    }
    if has("PROCEEDS") {
        let mut breakdowns = vec![
            json!({"type": "ITEM", "subtotal": money(o.line_items_minor(), o)}),
            json!({"type": "SHIPPING", "subtotal": money(o.shipping_minor, o)}),
            json!({"type": "TAX", "subtotal": money(o.tax_minor(), o)}),
        ];
        if o.discount_minor() != 0 {
            breakdowns.push(json!({"type": "DISCOUNT", "subtotal": money(-o.discount_minor(), o)}));
        }
        order["proceeds"] =
            json!({"grandTotal": money(o.total_minor(), o), "breakdowns": breakdowns});
    }
    if has("FULFILLMENT") {
        order["fulfillment"] = json!({
            "fulfillmentStatus": status,
            "fulfilledBy": if afn(o) { "AMAZON" } else { "MERCHANT" },
            "fulfillmentServiceLevel": if o.shipping_title.contains("Express") { "EXPEDITED" } else { "STANDARD" },
        });
    }
    if has("TAX") && country == "GB" {
        order["tax"] = json!({"taxRegistrations": [{
            "entityType": "MARKETPLACE",
            "legalName": "Amazon EU S.a.r.L., UK Branch",
            "taxRegistrationType": "VAT",
            "taxRegistrationNumber": AMAZON_UK_VAT,
            "taxRegistrationAddress": {"countryCode": "GB"},
        }]});
    }
    if has("PACKAGES") {
        order["packages"] = o
            .fulfillments
            .iter()
            .map(|f| {
                json!({
                    "packageReferenceId": f.reference.clone().unwrap_or_else(|| f.id.to_string()),
                    "createdTime": time(f.created_at),
                    "packageStatus": {"status": "SHIPPED"},
                    "carrier": f.tracking_company,
                    "shipTime": time(f.created_at),
                    "trackingNumber": f.tracking_number,
                    "packageItems": o.lines.iter().map(|l| json!({"orderItemId": format!("{:014}", l.id), "quantity": l.quantity})).collect::<Vec<_>>(),
                })
            })
            .collect::<Vec<_>>()
            .into();
    }
    order
}

/// Auth, faults and the operation's usage plan. `Err` is the answer.
async fn gate(
    state: &SandboxState,
    headers: &HeaderMap,
    operation: &'static str,
    path: &str,
    method: &str,
) -> Result<String, Response> {
    let token = headers
        .get("x-amz-access-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (fault, latency, throttle, scale) = {
        let mut f = state.faults.lock().unwrap_or_else(|p| p.into_inner());
        let scale = f64::from(f.faults.amazon_rate_scale.max(1));
        (
            f.market_next(),
            f.latency(),
            f.faults.amazon_throttle,
            scale,
        )
    };
    let (rate, burst) = plan(operation);
    let header = format!("{}", rate * scale);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let mut m = market(state);
    if !m.oauth.valid(token) {
        drop(m);
        state.record(method, path.to_string(), 403, Vec::new());
        return Err(errors(
            StatusCode::FORBIDDEN,
            "Unauthorized",
            if token.starts_with("Atza|") {
                "Access to requested resource is denied. The access token you provided has expired."
            } else {
                "Access to requested resource is denied."
            },
        ));
    }
    if throttle {
        let now = Instant::now();
        let (tokens, at) = m.buckets.entry(operation).or_insert((burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * rate * scale).min(burst);
        *at = now;
        if *tokens < 1.0 {
            drop(m);
            state.record(method, path.to_string(), 429, Vec::new());
            let mut r = errors(
                StatusCode::TOO_MANY_REQUESTS,
                "QuotaExceeded",
                "You exceeded your quota for the requested resource.",
            );
            r.headers_mut().insert(
                "x-amzn-ratelimit-limit",
                HeaderValue::from_str(&header).expect("a number"),
            );
            return Err(r);
        }
        *tokens -= 1.0;
    }
    drop(m);
    match fault {
        Fault::ServerError(code) => {
            state.record(method, path.to_string(), code, Vec::new());
            Err(errors(
                StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                "InternalFailure",
                "We encountered an internal error. Please try again.",
            ))
        }
        Fault::TooManyRequests(_) => {
            state.record(method, path.to_string(), 429, Vec::new());
            Err(errors(
                StatusCode::TOO_MANY_REQUESTS,
                "QuotaExceeded",
                "You exceeded your quota for the requested resource.",
            ))
        }
        _ => Ok(header),
    }
}

fn ok(body: Value, rate: &str) -> Response {
    let mut r = axum::Json(body).into_response();
    let h = r.headers_mut();
    h.insert(
        "x-amzn-requestid",
        HeaderValue::from_static("sandbox-request"),
    );
    if let Ok(v) = HeaderValue::from_str(rate) {
        h.insert("x-amzn-ratelimit-limit", v);
    }
    r
}

async fn token(State(state): S, headers: HeaderMap, body: Bytes) -> Response {
    let form = oauth::form(&body);
    // LWA takes the client credentials in the body (Basic works too).
    let client = match (form.get("client_id"), form.get("client_secret")) {
        (Some(id), Some(secret)) => Some((id.clone(), secret.clone())),
        _ => oauth::basic(&headers),
    };
    let grant = market(&state).oauth.token(client, &form);
    let status = match &grant {
        oauth::Grant::Issued { .. } => 200,
        oauth::Grant::Refused(s, _, _) => *s,
    };
    state.record("POST", "/auth/o2/token".into(), status, Vec::new());
    oauth::answer(grant, "bearer")
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The cursor inside a page token.
struct Cursor {
    snapshot: i64,
    after: (i64, u64),
    issued: i64,
}

fn encode_cursor(c: &Cursor) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(
        "{}|{}|{}|{}",
        c.snapshot, c.after.0, c.after.1, c.issued
    ))
}

fn decode_cursor(t: &str) -> Option<Cursor> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(t)
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let mut parts = text.split('|');
    Some(Cursor {
        snapshot: parts.next()?.parse().ok()?,
        after: (parts.next()?.parse().ok()?, parts.next()?.parse().ok()?),
        issued: parts.next()?.parse().ok()?,
    })
}

async fn search_orders(
    State(state): S,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let path = format!(
        "/orders/2026-01-01/orders?{}",
        q.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    );
    let rate = match gate(&state, &headers, "searchOrders", &path, "GET").await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let get = |k: &str| q.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    let list = |k: &str| -> Vec<String> {
        q.iter()
            .filter(|(key, _)| key == k)
            .flat_map(|(_, v)| v.split(','))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let invalid = |message: &str| {
        state.record("GET", path.clone(), 400, Vec::new());
        errors(StatusCode::BAD_REQUEST, "InvalidInput", message)
    };
    let marketplaces = list("marketplaceIds");
    if marketplaces.is_empty() {
        return invalid("marketplaceIds is required");
    }
    let (created_after, updated_after) = (get("createdAfter"), get("lastUpdatedAfter"));
    let since = match (created_after, updated_after) {
        (Some(t), None) | (None, Some(t)) => match parse_time(t) {
            Some(t) => t,
            None => return invalid("Invalid date format: expected ISO 8601"),
        },
        _ => return invalid("Exactly one of createdAfter and lastUpdatedAfter must be provided"),
    };
    let per_page: usize = match get("maxResultsPerPage").map(str::parse) {
        None => 100,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => return invalid("maxResultsPerPage must be between 1 and 100"),
    };
    let included = list("includedData");
    let included: Vec<&str> = included.iter().map(String::as_str).collect();
    let now = Utc::now();
    let cursor = match get("paginationToken") {
        None => Cursor {
            // Orders updated in the last two minutes are not served yet.
            snapshot: (now - chrono::Duration::minutes(2)).timestamp(),
            after: (i64::MIN, 0),
            issued: now.timestamp(),
        },
        Some(t) => match decode_cursor(t) {
            Some(c) if now.timestamp() - c.issued <= 86_400 => c,
            Some(_) => return invalid("The pagination token has expired"),
            None => return invalid("Invalid paginationToken"),
        },
    };
    let m = market(&state);
    let mut matching: Vec<&SimOrder> = m
        .world
        .orders
        .values()
        .filter(|o| {
            marketplaces
                .iter()
                .any(|id| id == marketplace(&o.customer.country).0)
        })
        .filter(|o| {
            if created_after.is_some() {
                o.created_at >= since
            } else {
                o.updated_at >= since
            }
        })
        .filter(|o| o.updated_at.timestamp() <= cursor.snapshot)
        .filter(|o| (o.updated_at.timestamp(), o.id) > cursor.after)
        .collect();
    matching.sort_by_key(|o| (o.updated_at, o.id));
    let page: Vec<&SimOrder> = matching.iter().take(per_page).copied().collect();
    let more = matching.len() > per_page;
    let ids: Vec<u64> = page.iter().map(|o| o.id).collect();
    let mut body = json!({
        "orders": page.iter().map(|o| render(o, &included)).collect::<Vec<_>>(),
        "lastUpdatedBefore": DateTime::from_timestamp(cursor.snapshot, 0).map(time),
    });
    if more && let Some(last) = page.last() {
        body["pagination"] = json!({"nextToken": encode_cursor(&Cursor {
            after: (last.updated_at.timestamp(), last.id),
            ..cursor
        })});
    }
    drop(m);
    state.record("GET", path, 200, ids);
    ok(body, &rate)
}

fn find(world: &World, amazon_id: &str) -> Option<u64> {
    world
        .orders
        .keys()
        .copied()
        .find(|id| order_id(*id) == amazon_id)
}

async fn get_order(
    State(state): S,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/orders/2026-01-01/orders/{id}");
    let rate = match gate(&state, &headers, "getOrder", &path, "GET").await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let included: Vec<String> = q
        .iter()
        .filter(|(k, _)| k == "includedData")
        .flat_map(|(_, v)| v.split(',').map(str::to_string))
        .collect();
    let included: Vec<&str> = included.iter().map(String::as_str).collect();
    let m = market(&state);
    let Some(sim) = find(&m.world, &id) else {
        drop(m);
        state.record("GET", path, 404, Vec::new());
        return errors(
            StatusCode::NOT_FOUND,
            "NotFound",
            "The order was not found.",
        );
    };
    let body = json!({"order": render(&m.world.orders[&sim], &included)});
    drop(m);
    state.record("GET", path, 200, vec![sim]);
    ok(body, &rate)
}

async fn confirm_shipment(
    State(state): S,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/orders/v0/orders/{id}/shipmentConfirmation");
    if let Err(r) = gate(&state, &headers, "confirmShipment", &path, "POST").await {
        return r;
    }
    let invalid = |message: &str| {
        state.record("POST", path.clone(), 400, Vec::new());
        errors(StatusCode::BAD_REQUEST, "InvalidInput", message)
    };
    let Ok(payload) = serde_json::from_slice::<Value>(&body) else {
        return invalid("The request body is not valid JSON");
    };
    let detail = &payload["packageDetail"];
    let (Some(reference), Some(carrier), Some(tracking), Some(ship_date)) = (
        detail["packageReferenceId"].as_str(),
        detail["carrierCode"].as_str(),
        detail["trackingNumber"].as_str(),
        detail["shipDate"].as_str(),
    ) else {
        return invalid(
            "packageDetail needs packageReferenceId, carrierCode, trackingNumber and shipDate",
        );
    };
    if parse_time(ship_date).is_none() {
        return invalid("shipDate is not an ISO 8601 date-time");
    }
    if carrier == "Other" && detail["carrierName"].as_str().is_none_or(str::is_empty) {
        return invalid("carrierName is required when carrierCode is Other");
    }
    let mut m = market(&state);
    let Some(sim) = find(&m.world, &id) else {
        drop(m);
        state.record("POST", path, 404, Vec::new());
        return errors(
            StatusCode::NOT_FOUND,
            "NotFound",
            "The order was not found.",
        );
    };
    let order = &m.world.orders[&sim];
    if payload["marketplaceId"].as_str() != Some(marketplace(&order.customer.country).0) {
        drop(m);
        return invalid("marketplaceId does not match the order's marketplace");
    }
    let items = detail["orderItems"].as_array().cloned().unwrap_or_default();
    if items.is_empty()
        || !items.iter().all(|i| {
            order
                .lines
                .iter()
                .any(|l| i["orderItemId"].as_str() == Some(format!("{:014}", l.id).as_str()))
        })
    {
        drop(m);
        return invalid("orderItems must name items of the order");
    }
    if order
        .fulfillments
        .iter()
        .any(|f| f.reference.as_deref() == Some(reference))
    {
        drop(m);
        return invalid("A package with this packageReferenceId was already confirmed");
    }
    let company = detail["carrierName"]
        .as_str()
        .filter(|n| !n.is_empty())
        .unwrap_or(carrier)
        .to_string();
    let now = Utc::now();
    let done = m
        .world
        .fulfill(sim, tracking.to_string(), None, company, now);
    if let (Some(f), Some(o)) = (done, m.world.orders.get_mut(&sim))
        && let Some(last) = o.fulfillments.iter_mut().find(|x| x.id == f.id)
    {
        last.reference = Some(reference.to_string());
    }
    drop(m);
    state.record("POST", path, 204, vec![sim]);
    StatusCode::NO_CONTENT.into_response()
}

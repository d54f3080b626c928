//! A WooCommerce store's REST API v3 (`/wp-json/wc/v3`) and the Shipment
//! Tracking extension (`/wp-json/wc-shipment-tracking/v3`), with the real
//! API's traps, each switchable for tests:
//!
//! - Auth: the REST key as HTTP Basic, or `consumer_key`/`consumer_secret`
//!   in the query; otherwise 401 `woocommerce_rest_authentication_error`
//!   ("Consumer secret is invalid.") or `woocommerce_rest_cannot_view`.
//! - `modified_after` is **exclusive**, and orders share modified seconds
//!   (`woocommerce_inclusive_bound` makes it inclusive, to compare).
//! - Without `dates_are_gmt=true` a date filter is read as the store's
//!   local time (`woocommerce_utc_offset_minutes`), whatever offset it
//!   carries.
//! - Query values are form-decoded, as PHP does: an unencoded `+` is a
//!   space, and a date with a space is refused (400 `rest_invalid_param`).
//!   The `Link` header repeats the request's values without re-encoding
//!   them, so following it with a `+00:00` date fails so
//!   (`woocommerce_link_encoded` encodes them, to compare).
//! - Pages are `page`/`per_page` (≤ 100) or `offset` over orders sorted as
//!   asked; `X-WP-Total` and `X-WP-TotalPages` count them. With
//!   `woocommerce_changes_per_page`, orders change after each page (an
//!   order modified mid-pass moves to the end of `orderby=modified`).
//! - Amounts print with the store's decimals setting
//!   (`woocommerce_decimals`; unset: each currency's own exponent), so a
//!   JPY store set to 2 prints `8340.00`, and a KWD one rounds away a digit.
//! - Every `woocommerce_html_error_every`-th request is a WordPress fatal
//!   error: a 500 whose body is an HTML page.
//! - Tracking items do not de-duplicate; notes neither. Setting an order
//!   `completed` moves its `date_modified`, as adding a tracking item does.
//!   With `woocommerce_shipment_tracking = false` the extension's routes
//!   answer 404 `rest_no_route`.

use super::SandboxState;
use super::faults::Fault;
use super::world::{SimFulfillment, SimOrder, World};
use crate::money::{decimals, format_minor};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Duration, NaiveDateTime, SubsecRound, Utc};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

type S = State<Arc<SandboxState>>;

/// An order note.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Note {
    pub id: u64,
    pub note: String,
    pub customer_note: bool,
    pub date_created: DateTime<Utc>,
}

/// The simulated store.
pub struct Market {
    pub world: World,
    /// Notes by order id.
    pub notes: BTreeMap<u64, Vec<Note>>,
    next_note: u64,
    requests: u64,
}

impl Market {
    /// The store's orders from `config`.
    pub fn new(config: &crate::SandboxConfig) -> Self {
        Market {
            world: World::new(
                config.seed ^ 0x000C_0003,
                config.woocommerce_orders,
                Utc::now(),
            ),
            notes: BTreeMap::new(),
            next_note: 281,
            requests: 0,
        }
    }
}

fn market(state: &SandboxState) -> std::sync::MutexGuard<'_, Market> {
    state.woocommerce.lock().unwrap_or_else(|p| p.into_inner())
}

pub fn routes() -> Router<Arc<SandboxState>> {
    Router::new()
        .route("/wp-json/wc/v3/orders", get(list_orders))
        .route(
            "/wp-json/wc/v3/orders/{id}",
            get(get_order).put(update_order),
        )
        .route(
            "/wp-json/wc/v3/orders/{id}/notes",
            get(list_notes).post(create_note),
        )
        .route(
            "/wp-json/wc-shipment-tracking/v3/orders/{id}/shipment-trackings",
            get(list_tracking).post(create_tracking),
        )
}

/// The order id the store shows: its number.
pub fn order_id(id: u64) -> String {
    id.to_string()
}

fn wp_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"code": code, "message": message, "data": {"status": status.as_u16()}})),
    )
        .into_response()
}

/// WordPress's fatal-error page.
fn fatal_error() -> Response {
    let page = "<!DOCTYPE html>\n<html lang=\"en-US\">\n<head>\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\" />\n<title>WordPress &rsaquo; Error</title>\n</head>\n<body id=\"error-page\">\n\t<div class=\"wp-die-message\"><p>There has been a critical error on this website.</p><p><a href=\"https://wordpress.org/documentation/article/faq-troubleshooting/\">Learn more about troubleshooting WordPress.</a></p></div></body>\n</html>\n";
    let mut r = (StatusCode::INTERNAL_SERVER_ERROR, page).into_response();
    r.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("text/html; charset=UTF-8"),
    );
    r
}

/// Auth and faults. `Err` is the answer.
async fn gate(
    state: &SandboxState,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
    method: &str,
    path: &str,
) -> Result<(), Response> {
    let config = &state.config;
    let (fault, latency, html_every) = {
        let mut f = state.faults.lock().unwrap_or_else(|p| p.into_inner());
        (
            f.market_next(),
            f.latency(),
            f.faults.woocommerce_html_error_every,
        )
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.decode(b).ok()
        })
        .and_then(|b| String::from_utf8(b).ok());
    let (key, secret) = match &basic {
        Some(pair) => match pair.split_once(':') {
            Some((k, s)) => (Some(k.to_string()), Some(s.to_string())),
            None => (Some(pair.clone()), None),
        },
        None => (
            query.get("consumer_key").cloned(),
            query.get("consumer_secret").cloned(),
        ),
    };
    let refused = match (key, secret) {
        (None, _) => Some((
            "woocommerce_rest_cannot_view",
            "Sorry, you cannot list resources.",
        )),
        (Some(k), _) if k != config.woocommerce_consumer_key => Some((
            "woocommerce_rest_authentication_error",
            "Consumer key is invalid.",
        )),
        (Some(_), s) if s.as_deref() != Some(config.woocommerce_consumer_secret.as_str()) => {
            Some((
                "woocommerce_rest_authentication_error",
                "Consumer secret is invalid.",
            ))
        }
        _ => None,
    };
    if let Some((code, message)) = refused {
        state.record(method, path.to_string(), 401, Vec::new());
        return Err(wp_error(StatusCode::UNAUTHORIZED, code, message));
    }
    let nth = {
        let mut m = market(state);
        m.requests += 1;
        m.requests
    };
    if html_every > 0 && nth.is_multiple_of(u64::from(html_every)) {
        state.record(method, path.to_string(), 500, Vec::new());
        return Err(fatal_error());
    }
    match fault {
        Fault::ServerError(code) => {
            state.record(method, path.to_string(), code, Vec::new());
            Err(fatal_error())
        }
        Fault::TooManyRequests(after) => {
            state.record(method, path.to_string(), 429, Vec::new());
            let mut r = wp_error(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                "Too many requests.",
            );
            r.headers_mut()
                .insert("retry-after", HeaderValue::from_static(after));
            Err(r)
        }
        _ => Ok(()),
    }
}

/// The store's local time of `t` (no offset, as WooCommerce prints it).
fn local(state: &SandboxState, t: DateTime<Utc>) -> String {
    let offset = Duration::minutes(i64::from(state.config.woocommerce_utc_offset_minutes));
    (t + offset).format("%Y-%m-%dT%H:%M:%S").to_string()
}

fn gmt(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// `minor` of `currency` printed with the store's decimals: padded with
/// zeros, or rounded half up when the setting has fewer than the currency.
pub fn printed(minor: i64, currency: &str, store: Option<u32>) -> String {
    let exponent = decimals(currency).unwrap_or(2);
    let places = store.unwrap_or(exponent);
    if places >= exponent {
        let scale = 10i64.pow(places - exponent);
        format_minor(minor * scale, places)
    } else {
        let scale = 10i64.pow(exponent - places);
        let half = scale / 2;
        let rounded = if minor >= 0 {
            (minor + half) / scale
        } else {
            -((-minor + half) / scale)
        };
        format_minor(rounded, places)
    }
}

/// The gateway an order was paid through: `(id, title)`; every third by
/// PayPal Payments, the rest by Stripe.
pub fn gateway(order: u64) -> (&'static str, &'static str) {
    if order.is_multiple_of(3) {
        ("ppcp-gateway", "PayPal")
    } else {
        ("stripe", "Credit card (Stripe)")
    }
}

/// The REST rendering of `o` in store `state`.
pub fn render(state: &SandboxState, o: &SimOrder) -> Value {
    let store = state.config.woocommerce_decimals;
    let money = |minor: i64| printed(minor, &o.currency, store);
    let c = &o.customer;
    let status = if o.cancelled_at.is_some() {
        if o.financial_status == "refunded" {
            "refunded"
        } else {
            "cancelled"
        }
    } else if o.fulfillment_status.as_deref() == Some("fulfilled") {
        "completed"
    } else if o.financial_status == "paid" {
        "processing"
    } else {
        "pending"
    };
    let lines: Vec<Value> = o
        .lines
        .iter()
        .map(|l| {
            let gross = l.price_minor * i64::from(l.quantity);
            json!({
                "id": l.id,
                "name": format!("{} - {}", l.title, l.variant),
                "product_id": 93 + l.id % 50,
                "variation_id": 0,
                "quantity": l.quantity,
                "tax_class": "",
                "subtotal": money(gross),
                "subtotal_tax": money(l.tax_minor),
                "total": money(gross - l.discount_minor),
                "total_tax": money(l.tax_minor),
                "taxes": [{"id": 75, "total": money(l.tax_minor), "subtotal": money(l.tax_minor)}],
                "meta_data": [],
                "sku": l.sku,
                // A JSON number, as WooCommerce prints it (a float to
                // most parsers): clients must not read money from it.
                "price": serde_json::from_str::<Value>(&printed(l.price_minor, &o.currency, None)).unwrap_or_default(),
            })
        })
        .collect();
    let discount = o.discount_minor();
    let paid = o.paid_at.map(|t| (local(state, t), gmt(t)));
    let refunds: Vec<Value> = if o.financial_status == "refunded" {
        vec![
            json!({"id": o.id + 90_000, "reason": "Order cancelled", "total": money(-o.total_minor())}),
        ]
    } else {
        Vec::new()
    };
    json!({
        "id": o.number,
        "parent_id": 0,
        "number": o.number.to_string(),
        "order_key": format!("wc_order_{:x}", o.id),
        "created_via": "checkout",
        "version": "9.4.2",
        "status": status,
        "currency": o.currency,
        "date_created": local(state, o.created_at),
        "date_created_gmt": gmt(o.created_at),
        "date_modified": local(state, o.updated_at),
        "date_modified_gmt": gmt(o.updated_at),
        "discount_total": money(discount),
        "discount_tax": money(0),
        "shipping_total": money(o.shipping_minor),
        "shipping_tax": money(0),
        "cart_tax": money(o.tax_minor()),
        "total": money(o.total_minor()),
        "total_tax": money(o.tax_minor()),
        "prices_include_tax": false,
        "customer_id": 0,
        "customer_ip_address": "",
        "customer_user_agent": "",
        "customer_note": o.note.clone().unwrap_or_default(),
        "billing": {
            "first_name": c.first_name, "last_name": c.last_name, "company": "",
            "address_1": c.address1, "address_2": "", "city": c.city, "state": c.region,
            "postcode": c.zip, "country": c.country, "email": c.email, "phone": c.phone,
        },
        "shipping": {
            "first_name": c.first_name, "last_name": c.last_name, "company": "",
            "address_1": c.address1, "address_2": "", "city": c.city, "state": c.region,
            "postcode": c.zip, "country": c.country, "phone": "",
        },
        "payment_method": gateway(o.id).0,
        "payment_method_title": gateway(o.id).1,
        "transaction_id": if paid.is_some() { format!("ch_{:x}", o.id) } else { String::new() },
        "date_paid": paid.as_ref().map(|p| p.0.clone()),
        "date_paid_gmt": paid.as_ref().map(|p| p.1.clone()),
        "date_completed": null,
        "date_completed_gmt": null,
        "cart_hash": "",
        "meta_data": [],
        "line_items": lines,
        "tax_lines": [],
        "shipping_lines": [{
            "id": o.id + 50_000,
            "method_title": o.shipping_title,
            "method_id": "flat_rate",
            "total": money(o.shipping_minor),
            "total_tax": money(0),
            "taxes": [],
            "meta_data": [],
        }],
        "fee_lines": [],
        "coupon_lines": if discount > 0 {
            json!([{"id": o.id + 60_000, "code": "welcome10", "discount": money(discount), "discount_tax": money(0), "meta_data": []}])
        } else {
            json!([])
        },
        "refunds": refunds,
        "_links": {
            "self": [{"href": format!("https://shop.example.com/wp-json/wc/v3/orders/{}", o.number)}],
            "collection": [{"href": "https://shop.example.com/wp-json/wc/v3/orders"}],
        },
    })
}

/// A WordPress `date-time` parameter: RFC 3339, or without an offset.
/// With `gmt` its instant; otherwise its wall-clock digits in the store's
/// zone (the offset it carries is ignored, as the store does).
fn bound(state: &SandboxState, text: &str, gmt: bool) -> Option<DateTime<Utc>> {
    let naive =
        NaiveDateTime::parse_from_str(&text[..text.len().min(19)], "%Y-%m-%dT%H:%M:%S").ok()?;
    let rest = &text[text.len().min(19)..];
    let rest = rest.trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    let valid_zone = rest.is_empty()
        || rest == "Z"
        || ((rest.starts_with('+') || rest.starts_with('-'))
            && rest[1..].bytes().all(|b| b.is_ascii_digit() || b == b':'));
    if !valid_zone {
        return None;
    }
    if gmt {
        match DateTime::parse_from_rfc3339(text) {
            Ok(t) => Some(t.with_timezone(&Utc)),
            Err(_) => Some(naive.and_utc()),
        }
    } else {
        let offset = Duration::minutes(i64::from(state.config.woocommerce_utc_offset_minutes));
        Some(naive.and_utc() - offset)
    }
}

async fn list_orders(
    State(state): S,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let mut keys: Vec<_> = q
        .iter()
        .filter(|(k, _)| !k.starts_with("consumer_"))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    keys.sort();
    let path = format!("/wp-json/wc/v3/orders?{}", keys.join("&"));
    if let Err(r) = gate(&state, &headers, &q, "GET", &path).await {
        return r;
    }
    let invalid = |param: &str, why: &str| {
        state.record("GET", path.clone(), 400, Vec::new());
        (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({
                "code": "rest_invalid_param",
                "message": format!("Invalid parameter(s): {param}"),
                "data": {"status": 400, "params": {param: why}},
            })),
        )
            .into_response()
    };
    let per_page: usize = match q.get("per_page").map(|v| v.parse::<usize>()) {
        None => 10,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => {
            return invalid(
                "per_page",
                "per_page must be between 1 (inclusive) and 100 (inclusive)",
            );
        }
    };
    let page: usize = match q.get("page").map(|v| v.parse::<usize>()) {
        None => 1,
        Some(Ok(n)) if n >= 1 => n,
        Some(_) => return invalid("page", "page must be greater than or equal to 1"),
    };
    let offset: Option<usize> = match q.get("offset").map(|v| v.parse::<usize>()) {
        None => None,
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => return invalid("offset", "offset is not of type integer."),
    };
    let gmt = q.get("dates_are_gmt").map(String::as_str) == Some("true");
    let mut filters: Vec<(&str, DateTime<Utc>)> = Vec::new();
    for param in ["modified_after", "modified_before", "after", "before"] {
        if let Some(text) = q.get(param) {
            match bound(&state, text, gmt) {
                Some(t) => filters.push((param, t)),
                None => return invalid(param, "Invalid date."),
            }
        }
    }
    let orderby = q.get("orderby").map_or("date", String::as_str);
    if !["date", "id", "include", "title", "slug", "modified"].contains(&orderby) {
        return invalid(
            "orderby",
            "orderby is not one of date, id, include, title, slug, and modified.",
        );
    }
    let ascending = match q.get("order").map(String::as_str) {
        None | Some("desc") => false,
        Some("asc") => true,
        Some(_) => return invalid("order", "order is not one of asc and desc."),
    };
    let status_filter = q.get("status").cloned().unwrap_or_else(|| "any".into());
    let (inclusive, link_encoded, changes) = {
        let f = &state
            .faults
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .faults;
        (
            f.woocommerce_inclusive_bound,
            f.woocommerce_link_encoded,
            f.woocommerce_changes_per_page,
        )
    };
    let mut m = market(&state);
    let mut matching: Vec<&SimOrder> = m
        .world
        .orders
        .values()
        .filter(|o| {
            filters.iter().all(|(param, t)| match *param {
                // Exclusive, as WordPress's date_query `after`/`before`
                // (inclusive only when switched, to show the difference).
                "modified_after" => o.updated_at > *t || (inclusive && o.updated_at == *t),
                "modified_before" => o.updated_at < *t,
                "after" => o.created_at > *t,
                _ => o.created_at < *t,
            })
        })
        .collect();
    if status_filter != "any" {
        let wanted: Vec<String> = status_filter.split(',').map(str::to_string).collect();
        matching.retain(|o| {
            let rendered = render(&state, o);
            wanted.iter().any(|w| rendered["status"] == w.as_str())
        });
    }
    match orderby {
        "modified" => matching.sort_by_key(|o| (o.updated_at, o.number)),
        "id" | "include" => matching.sort_by_key(|o| o.number),
        _ => matching.sort_by_key(|o| (o.created_at, o.number)),
    }
    if !ascending {
        matching.reverse();
    }
    let total = matching.len();
    let skip = offset.unwrap_or((page - 1) * per_page);
    let shown: Vec<&SimOrder> = matching.iter().skip(skip).take(per_page).copied().collect();
    let ids: Vec<u64> = shown.iter().map(|o| o.id).collect();
    let body: Vec<Value> = shown.iter().map(|o| render(&state, o)).collect();
    let pages = total.div_ceil(per_page).max(1);
    // The Link header repeats the values as received, unencoded (encoded
    // only when switched).
    let base = "https://shop.example.com/wp-json/wc/v3/orders";
    let others: Vec<String> = {
        let value = |v: &str| {
            if link_encoded {
                form_urlencoded::byte_serialize(v.as_bytes()).collect()
            } else {
                v.to_string()
            }
        };
        let mut v: Vec<_> = q
            .iter()
            .filter(|(k, _)| k.as_str() != "page" && !k.starts_with("consumer_"))
            .map(|(k, v)| format!("{k}={}", value(v)))
            .collect();
        v.sort();
        v
    };
    let link = |n: usize| {
        let mut parts = others.clone();
        parts.push(format!("page={n}"));
        format!("<{base}?{}>", parts.join("&"))
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!("{}; rel=\"prev\"", link(page - 1)));
    }
    if page < pages && offset.is_none() {
        links.push(format!("{}; rel=\"next\"", link(page + 1)));
    }
    // Orders change while the seller reads: they move to the end.
    let later = Utc::now().trunc_subsecs(0) + Duration::seconds(1);
    for _ in 0..changes {
        m.world.update_random(later);
    }
    drop(m);
    state.record("GET", path, 200, ids);
    let mut r = axum::Json(body).into_response();
    let h = r.headers_mut();
    h.insert("x-wp-total", HeaderValue::from(total));
    h.insert("x-wp-totalpages", HeaderValue::from(pages));
    if !links.is_empty()
        && let Ok(v) = HeaderValue::from_str(&links.join(", "))
    {
        h.insert("link", v);
    }
    r
}

fn find(world: &World, id: &str) -> Option<u64> {
    let number: u64 = id.parse().ok()?;
    world
        .orders
        .values()
        .find(|o| o.number == number)
        .map(|o| o.id)
}

/// The simulated order behind store order `id`; when there is none, the
/// 404 it gets is recorded as served (answer it with [`no_order`]).
fn located(state: &SandboxState, world: &World, id: &str, method: &str, path: &str) -> Option<u64> {
    let found = find(world, id);
    if found.is_none() {
        state.record(method, path.to_string(), 404, Vec::new());
    }
    found
}

fn no_order() -> Response {
    wp_error(
        StatusCode::NOT_FOUND,
        "woocommerce_rest_shop_order_invalid_id",
        "Invalid ID.",
    )
}

fn no_route() -> Response {
    wp_error(
        StatusCode::NOT_FOUND,
        "rest_no_route",
        "No route was found matching the URL and request method.",
    )
}

async fn get_order(
    State(state): S,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/wp-json/wc/v3/orders/{id}");
    if let Err(r) = gate(&state, &headers, &q, "GET", &path).await {
        return r;
    }
    let m = market(&state);
    let Some(sim) = located(&state, &m.world, &id, "GET", &path) else {
        return no_order();
    };
    let body = render(&state, &m.world.orders[&sim]);
    drop(m);
    state.record("GET", path, 200, vec![sim]);
    axum::Json(body).into_response()
}

async fn update_order(
    State(state): S,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/wp-json/wc/v3/orders/{id}");
    if let Err(r) = gate(&state, &headers, &q, "PUT", &path).await {
        return r;
    }
    let Ok(payload) = serde_json::from_slice::<Value>(&body) else {
        state.record("PUT", path, 400, Vec::new());
        return wp_error(
            StatusCode::BAD_REQUEST,
            "rest_invalid_json",
            "Invalid JSON body passed.",
        );
    };
    let mut m = market(&state);
    let Some(sim) = located(&state, &m.world, &id, "PUT", &path) else {
        return no_order();
    };
    let now = Utc::now().trunc_subsecs(0);
    let o = m.world.orders.get_mut(&sim).expect("found");
    match payload["status"].as_str() {
        Some("completed") => {
            o.fulfillment_status = Some("fulfilled".into());
            o.revision += 1;
            o.updated_at = now.max(o.updated_at);
        }
        Some(other) if !other.is_empty() => {
            drop(m);
            state.record("PUT", path, 400, Vec::new());
            return wp_error(
                StatusCode::BAD_REQUEST,
                "rest_invalid_param",
                "Invalid parameter(s): status",
            );
        }
        _ => {}
    }
    let body = render(&state, &m.world.orders[&sim]);
    drop(m);
    state.record("PUT", path, 200, vec![sim]);
    axum::Json(body).into_response()
}

fn note_json(state: &SandboxState, n: &Note) -> Value {
    json!({
        "id": n.id,
        "author": "WooCommerce",
        "date_created": local(state, n.date_created),
        "date_created_gmt": gmt(n.date_created),
        "note": n.note,
        "customer_note": n.customer_note,
    })
}

async fn list_notes(
    State(state): S,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/wp-json/wc/v3/orders/{id}/notes");
    if let Err(r) = gate(&state, &headers, &q, "GET", &path).await {
        return r;
    }
    let m = market(&state);
    let Some(sim) = located(&state, &m.world, &id, "GET", &path) else {
        return no_order();
    };
    // Newest first, as WooCommerce lists them.
    let notes: Vec<Value> = m
        .notes
        .get(&sim)
        .map(|n| n.iter().rev().map(|n| note_json(&state, n)).collect())
        .unwrap_or_default();
    drop(m);
    state.record("GET", path, 200, Vec::new());
    axum::Json(notes).into_response()
}

async fn create_note(
    State(state): S,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/wp-json/wc/v3/orders/{id}/notes");
    if let Err(r) = gate(&state, &headers, &q, "POST", &path).await {
        return r;
    }
    let payload: Value = serde_json::from_slice(&body).unwrap_or_default();
    let Some(text) = payload["note"].as_str().filter(|t| !t.is_empty()) else {
        state.record("POST", path, 400, Vec::new());
        return wp_error(
            StatusCode::BAD_REQUEST,
            "rest_missing_callback_param",
            "Missing parameter(s): note",
        );
    };
    let mut m = market(&state);
    let Some(sim) = located(&state, &m.world, &id, "POST", &path) else {
        return no_order();
    };
    let note = Note {
        id: m.next_note,
        note: text.to_string(),
        customer_note: payload["customer_note"].as_bool().unwrap_or(false),
        date_created: Utc::now().trunc_subsecs(0),
    };
    m.next_note += 1;
    m.notes.entry(sim).or_default().push(note.clone());
    drop(m);
    state.record("POST", path, 201, vec![sim]);
    (StatusCode::CREATED, axum::Json(note_json(&state, &note))).into_response()
}

fn tracking_json(f: &SimFulfillment) -> Value {
    json!({
        "tracking_id": f.reference.clone().unwrap_or_default(),
        "tracking_provider": f.tracking_company,
        "tracking_link": f.tracking_url.clone().unwrap_or_default(),
        "tracking_number": f.tracking_number,
        "date_shipped": f.created_at.format("%Y-%m-%d").to_string(),
    })
}

async fn list_tracking(
    State(state): S,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if !state.config.woocommerce_shipment_tracking {
        return no_route();
    }
    let path = format!("/wp-json/wc-shipment-tracking/v3/orders/{id}/shipment-trackings");
    if let Err(r) = gate(&state, &headers, &q, "GET", &path).await {
        return r;
    }
    let m = market(&state);
    let Some(sim) = located(&state, &m.world, &id, "GET", &path) else {
        return no_order();
    };
    let items: Vec<Value> = m.world.orders[&sim]
        .fulfillments
        .iter()
        .map(tracking_json)
        .collect();
    drop(m);
    state.record("GET", path, 200, Vec::new());
    axum::Json(items).into_response()
}

async fn create_tracking(
    State(state): S,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !state.config.woocommerce_shipment_tracking {
        return no_route();
    }
    let path = format!("/wp-json/wc-shipment-tracking/v3/orders/{id}/shipment-trackings");
    if let Err(r) = gate(&state, &headers, &q, "POST", &path).await {
        return r;
    }
    let payload: Value = serde_json::from_slice(&body).unwrap_or_default();
    let number = payload["tracking_number"].as_str().unwrap_or_default();
    let provider = payload["tracking_provider"]
        .as_str()
        .or(payload["custom_tracking_provider"].as_str())
        .unwrap_or_default();
    if number.is_empty() || provider.is_empty() {
        state.record("POST", path, 400, Vec::new());
        return wp_error(
            StatusCode::BAD_REQUEST,
            "woocommerce_shipment_tracking_invalid",
            "tracking_number and a tracking_provider (or custom_tracking_provider) are required.",
        );
    }
    let link = payload["custom_tracking_link"]
        .as_str()
        .filter(|l| !l.is_empty())
        .map(|l| l.replace("%1$s", number));
    let mut m = market(&state);
    let Some(sim) = located(&state, &m.world, &id, "POST", &path) else {
        return no_order();
    };
    let now = Utc::now().trunc_subsecs(0);
    let o = m.world.orders.get_mut(&sim).expect("found");
    let item = SimFulfillment {
        id: o.fulfillments.len() as u64 + 1,
        tracking_number: number.to_string(),
        tracking_url: link,
        tracking_company: provider.to_string(),
        created_at: now,
        line_item_ids: o.lines.iter().map(|l| l.id).collect(),
        reference: Some(format!(
            "{:032x}",
            (o.id << 16) + o.fulfillments.len() as u64 + 1
        )),
    };
    o.fulfillments.push(item.clone());
    // Saving the order's meta moves its modified time.
    o.revision += 1;
    o.updated_at = now.max(o.updated_at);
    drop(m);
    state.record("POST", path.clone(), 201, vec![sim]);
    let mut r = (StatusCode::CREATED, axum::Json(tracking_json(&item))).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "https://shop.example.com{path}/{}",
        item.reference.clone().unwrap_or_default()
    )) {
        r.headers_mut().insert("location", v);
    }
    r
}

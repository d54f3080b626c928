//! Etsy Open API v3 for one shop: OAuth 2 with PKCE and rotating refresh
//! tokens (`POST /v3/public/oauth/token`, a consent page at
//! `GET /oauth/connect` that agrees at once), `getShop`,
//! `getShopReceipts`, `getShopReceipt` and `createReceiptShipment`, in
//! Etsy's shapes:
//!
//! - Auth: `x-api-key: KEYSTRING:SHARED_SECRET` (else 403) and a live
//!   bearer token (else 401 `invalid_token`).
//! - Money is `{amount, divisor, currency_code}` in the shop's currency
//!   (`etsy_divisor`, 100 by default, sets the divisor).
//! - Etsy collects the buyer's tax: US sales tax as `total_tax_cost`; VAT
//!   or GST as `total_vat_cost`, except on EU parcels above €150, where
//!   import VAT is the buyer's at the border and none is charged.
//! - Pages are `limit` (≤ 100) / `offset` over receipts sorted as asked;
//!   `min_last_modified` is unix seconds. With `etsy_changes_per_page`,
//!   receipts change after each page served.
//! - Rate limits: `etsy_per_second` requests in any second and
//!   `etsy_daily_limit` a day; within them successful answers carry
//!   `x-limit-per-second`, `x-remaining-this-second`, `x-limit-per-day`
//!   and `x-remaining-today`; past them a 429 carries none of them.
//! - Every tracking submission is kept (Etsy would email the buyer each
//!   time): nothing de-duplicates.

use super::SandboxState;
use super::oauth::{self, OAuthServer};
use super::world::{SimOrder, World};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{SubsecRound, Utc};
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

type S = State<Arc<SandboxState>>;

/// The shop's id as the sandbox serves it.
pub const SHOP_ID: u64 = 41_872_630;
/// The shop's currency.
pub const CURRENCY: &str = "EUR";

/// The simulated Etsy account.
pub struct Market {
    pub world: World,
    pub oauth: OAuthServer,
    second: VecDeque<Instant>,
    today: u32,
}

impl Market {
    /// The shop's receipts and the app of `config`.
    pub fn new(config: &crate::SandboxConfig) -> Self {
        let mut oauth = OAuthServer::new(
            "12345678.",
            "12345678.r-",
            &config.etsy_keystring,
            "",
            &config.etsy_refresh_token,
        );
        // Etsy returns a new refresh token with every refresh.
        oauth.rotate = true;
        Market {
            world: World::in_currency(
                config.seed ^ 0xE75F_0000,
                config.etsy_orders,
                Utc::now(),
                CURRENCY,
            ),
            oauth,
            second: VecDeque::new(),
            today: 0,
        }
    }
}

fn market(state: &SandboxState) -> std::sync::MutexGuard<'_, Market> {
    state.etsy.lock().unwrap_or_else(|p| p.into_inner())
}

pub fn routes() -> Router<Arc<SandboxState>> {
    Router::new()
        .route("/v3/public/oauth/token", post(token))
        .route("/oauth/connect", get(connect))
        .route("/v3/application/shops/{shop}", get(get_shop))
        .route("/v3/application/shops/{shop}/receipts", get(list_receipts))
        .route(
            "/v3/application/shops/{shop}/receipts/{receipt}",
            get(get_receipt),
        )
        .route(
            "/v3/application/shops/{shop}/receipts/{receipt}/tracking",
            post(create_shipment),
        )
}

/// Etsy's receipt id of a simulated order.
pub fn receipt_id(id: u64) -> u64 {
    3_000_000_000 + id % 1_000_000_000
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({"error": message}))).into_response()
}

const EU: &[&str] = &["DE", "FR", "IT", "NL", "SE"];

/// The tax Etsy charged the buyer: `(sales tax, VAT)` in minor units.
pub fn collected(o: &SimOrder) -> (i64, i64) {
    match o.customer.country.as_str() {
        "US" => (o.tax_minor(), 0),
        c if EU.contains(&c) && !o.within_ioss_limit() => (0, 0),
        _ => (0, o.tax_minor()),
    }
}

/// What the buyer paid: goods after coupons, shipping and collected tax.
pub fn grandtotal(o: &SimOrder) -> i64 {
    let (tax, vat) = collected(o);
    o.subtotal_minor() + o.shipping_minor + tax + vat
}

fn money(state: &SandboxState, minor: i64, o: &SimOrder) -> Value {
    let divisor = i64::from(state.config.etsy_divisor.max(1));
    let scale = 10i64.pow(o.decimals);
    json!({"amount": minor * divisor / scale, "divisor": divisor, "currency_code": o.currency})
}

/// The `ShopReceipt` rendering of `o`.
pub fn render(state: &SandboxState, o: &SimOrder) -> Value {
    let c = &o.customer;
    let m = |minor: i64| money(state, minor, o);
    let (tax, vat) = collected(o);
    let status = if o.cancelled_at.is_some() {
        if o.financial_status == "refunded" {
            "Fully Refunded"
        } else {
            "Canceled"
        }
    } else if !o.fulfillments.is_empty() {
        "Completed"
    } else if o.financial_status == "paid" {
        "Paid"
    } else {
        "Payment Processing"
    };
    json!({
        "receipt_id": receipt_id(o.id),
        "receipt_type": 0,
        "seller_user_id": 12_345_678,
        "seller_email": "shop@atelier-nord.example",
        "buyer_user_id": 900_000_000 + o.customer.id % 100_000,
        "buyer_email": c.email,
        "name": format!("{} {}", c.first_name, c.last_name),
        "first_line": c.address1,
        "second_line": null,
        "city": c.city,
        "state": c.region,
        "zip": c.zip,
        "status": status,
        "formatted_address": format!("{} {}\n{}\n{} {}\n{}", c.first_name, c.last_name, c.address1, c.zip, c.city, c.country_name),
        "country_iso": c.country,
        "payment_method": "cc",
        "payment_email": null,
        "message_from_payment": null,
        "message_from_seller": null,
        "message_from_buyer": o.note,
        "is_shipped": !o.fulfillments.is_empty(),
        "is_paid": o.financial_status == "paid",
        "create_timestamp": o.created_at.timestamp(),
        "created_timestamp": o.created_at.timestamp(),
        "update_timestamp": o.updated_at.timestamp(),
        "updated_timestamp": o.updated_at.timestamp(),
        "is_gift": false,
        "gift_message": "",
        "grandtotal": m(grandtotal(o)),
        "subtotal": m(o.subtotal_minor()),
        "total_price": m(o.line_items_minor()),
        "total_shipping_cost": m(o.shipping_minor),
        "total_tax_cost": m(tax),
        "total_vat_cost": m(vat),
        "discount_amt": m(o.discount_minor()),
        "gift_wrap_price": m(0),
        "shipments": o.fulfillments.iter().map(|f| json!({
            "receipt_shipping_id": f.id,
            "shipment_notification_timestamp": f.created_at.timestamp(),
            "carrier_name": f.tracking_company,
            "tracking_code": f.tracking_number,
        })).collect::<Vec<_>>(),
        "transactions": o.lines.iter().map(|l| json!({
            "transaction_id": 4_000_000_000u64 + l.id % 1_000_000_000,
            "title": format!("{} - {}", l.title, l.variant),
            "description": l.title,
            "seller_user_id": 12_345_678,
            "buyer_user_id": 900_000_000 + o.customer.id % 100_000,
            "create_timestamp": o.created_at.timestamp(),
            "created_timestamp": o.created_at.timestamp(),
            "paid_timestamp": o.paid_at.map(|t| t.timestamp()),
            "shipped_timestamp": o.fulfillments.first().map(|f| f.created_at.timestamp()),
            "quantity": l.quantity,
            "listing_image_id": null,
            "receipt_id": receipt_id(o.id),
            "is_digital": false,
            "file_data": "",
            "listing_id": 1_500_000_000u64 + l.id % 1000,
            "transaction_type": "listing",
            "product_id": 9_000_000_000u64 + l.id % 1000,
            "sku": l.sku,
            "price": m(l.price_minor),
            "shipping_cost": m(0),
            "variations": [{"property_id": 200, "value_id": null, "formatted_name": "Variant", "formatted_value": l.variant}],
            "product_data": [],
            "shipping_profile_id": 200_000_000,
            "min_processing_days": 1,
            "max_processing_days": 3,
            "shipping_method": o.shipping_title,
            "shipping_upgrade": null,
            "expected_ship_date": o.created_at.timestamp() + 3 * 86_400,
            "buyer_coupon": 0,
            "shop_coupon": 0,
        })).collect::<Vec<_>>(),
    })
}

/// API key, bearer token and the rate limits. `Ok` carries the headers
/// of a successful answer.
async fn gate(
    state: &SandboxState,
    headers: &HeaderMap,
    method: &str,
    path: &str,
) -> Result<Vec<(&'static str, String)>, Response> {
    let config = &state.config;
    let latency = {
        let f = state.faults.lock().unwrap_or_else(|p| p.into_inner());
        f.latency()
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let key = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let expected = format!("{}:{}", config.etsy_keystring, config.etsy_shared_secret);
    if key != expected {
        state.record(method, path.to_string(), 403, Vec::new());
        let why = if key == config.etsy_keystring {
            "Shared secret required in x-api-key header (keystring:shared_secret)"
        } else {
            "Invalid API key"
        };
        return Err(error(StatusCode::FORBIDDEN, why));
    }
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let mut m = market(state);
    if !m.oauth.valid(token) {
        drop(m);
        state.record(method, path.to_string(), 401, Vec::new());
        return Err(error(StatusCode::UNAUTHORIZED, "invalid_token"));
    }
    let now = Instant::now();
    while m
        .second
        .front()
        .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
    {
        m.second.pop_front();
    }
    let per_second = config.etsy_per_second.max(1);
    if m.second.len() as u32 >= per_second || m.today >= config.etsy_daily_limit {
        drop(m);
        state.record(method, path.to_string(), 429, Vec::new());
        return Err(error(StatusCode::TOO_MANY_REQUESTS, "Too many requests"));
    }
    m.second.push_back(now);
    m.today += 1;
    Ok(vec![
        ("x-limit-per-second", per_second.to_string()),
        (
            "x-remaining-this-second",
            (per_second - m.second.len() as u32).to_string(),
        ),
        ("x-limit-per-day", config.etsy_daily_limit.to_string()),
        (
            "x-remaining-today",
            (config.etsy_daily_limit - m.today).to_string(),
        ),
    ])
}

fn with_headers(mut r: Response, headers: Vec<(&'static str, String)>) -> Response {
    for (k, v) in headers {
        if let Ok(v) = HeaderValue::from_str(&v) {
            r.headers_mut().insert(k, v);
        }
    }
    r
}

async fn token(State(state): S, body: Bytes) -> Response {
    let form = oauth::form(&body);
    // A public client: its id in the body, no secret.
    let client = form.get("client_id").map(|id| (id.clone(), String::new()));
    let grant = market(&state).oauth.token(client, &form);
    let status = match &grant {
        oauth::Grant::Issued { .. } => 200,
        oauth::Grant::Refused(s, _, _) => *s,
    };
    state.record("POST", "/v3/public/oauth/token".into(), status, Vec::new());
    oauth::answer(grant, "Bearer")
}

/// The consent page: the seller agrees at once; PKCE (`S256`) is required.
async fn connect(State(state): S, Query(q): Query<HashMap<String, String>>) -> Response {
    let m = &mut market(&state);
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    if get("client_id") != m.oauth.client_id || get("response_type") != "code" {
        return (
            StatusCode::BAD_REQUEST,
            "unknown client_id or response_type is not code",
        )
            .into_response();
    }
    if get("code_challenge").is_empty() || get("code_challenge_method") != "S256" {
        return (
            StatusCode::BAD_REQUEST,
            "code_challenge and code_challenge_method=S256 are required",
        )
            .into_response();
    }
    let code = m
        .oauth
        .issue_code_for(Some(get("code_challenge").to_string()));
    let enc = |v: &str| form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
    let location = format!(
        "{}?code={}&state={}",
        get("redirect_uri"),
        enc(&code),
        enc(get("state"))
    );
    let mut r = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        r.headers_mut().insert("location", v);
    }
    r
}

fn wrong_shop(state: &SandboxState, method: &str, path: String, shop: u64) -> Option<Response> {
    (shop != SHOP_ID).then(|| {
        state.record(method, path, 404, Vec::new());
        error(StatusCode::NOT_FOUND, "Shop not found")
    })
}

async fn get_shop(State(state): S, Path(shop): Path<u64>, headers: HeaderMap) -> Response {
    let path = format!("/v3/application/shops/{shop}");
    let ok = match gate(&state, &headers, "GET", &path).await {
        Ok(h) => h,
        Err(r) => return r,
    };
    if let Some(r) = wrong_shop(&state, "GET", path.clone(), shop) {
        return r;
    }
    state.record("GET", path, 200, Vec::new());
    with_headers(
        axum::Json(json!({"shop_id": SHOP_ID, "shop_name": "AtelierNord", "currency_code": CURRENCY, "user_id": 12_345_678})).into_response(),
        ok,
    )
}

async fn list_receipts(
    State(state): S,
    Path(shop): Path<u64>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let mut keys: Vec<_> = q.iter().map(|(k, v)| format!("{k}={v}")).collect();
    keys.sort();
    let path = format!("/v3/application/shops/{shop}/receipts?{}", keys.join("&"));
    let ok = match gate(&state, &headers, "GET", &path).await {
        Ok(h) => h,
        Err(r) => return r,
    };
    if let Some(r) = wrong_shop(&state, "GET", path.clone(), shop) {
        return r;
    }
    let bad = |why: &str| {
        state.record("GET", path.clone(), 400, Vec::new());
        error(StatusCode::BAD_REQUEST, why)
    };
    if q.contains_key("page") {
        return bad("page is not a supported parameter; use limit and offset");
    }
    let limit: usize = match q.get("limit").map(|v| v.parse()) {
        None => 25,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => return bad("Expected int <= 100 for limit"),
    };
    let offset: usize = match q.get("offset").map(|v| v.parse()) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return bad("Expected int for offset"),
    };
    let since: Option<i64> = match q.get("min_last_modified").map(|v| v.parse()) {
        None => None,
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => return bad("Expected int for min_last_modified"),
    };
    let mut m = market(&state);
    let mut matching: Vec<&SimOrder> = m
        .world
        .orders
        .values()
        .filter(|o| since.is_none_or(|s| o.updated_at.timestamp() >= s))
        .collect();
    match q.get("sort_on").map(String::as_str) {
        Some("updated") => matching.sort_by_key(|o| (o.updated_at, o.id)),
        Some("receipt_id") => matching.sort_by_key(|o| o.id),
        _ => matching.sort_by_key(|o| (o.created_at, o.id)),
    }
    if q.get("sort_order").map(String::as_str) != Some("asc") {
        matching.reverse();
    }
    let count = matching.len();
    let page: Vec<&SimOrder> = matching.iter().skip(offset).take(limit).copied().collect();
    let ids: Vec<u64> = page.iter().map(|o| o.id).collect();
    let body = json!({"count": count, "results": page.iter().map(|o| render(&state, o)).collect::<Vec<_>>()});
    let changes = state
        .faults
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .faults
        .etsy_changes_per_page;
    let later = Utc::now().trunc_subsecs(0) + chrono::Duration::seconds(1);
    for _ in 0..changes {
        m.world.update_random(later);
    }
    drop(m);
    state.record("GET", path, 200, ids);
    with_headers(axum::Json(body).into_response(), ok)
}

fn find(world: &World, receipt: u64) -> Option<u64> {
    world
        .orders
        .keys()
        .copied()
        .find(|id| receipt_id(*id) == receipt)
}

async fn get_receipt(
    State(state): S,
    Path((shop, receipt)): Path<(u64, u64)>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/v3/application/shops/{shop}/receipts/{receipt}");
    let ok = match gate(&state, &headers, "GET", &path).await {
        Ok(h) => h,
        Err(r) => return r,
    };
    if let Some(r) = wrong_shop(&state, "GET", path.clone(), shop) {
        return r;
    }
    let m = market(&state);
    let Some(sim) = find(&m.world, receipt) else {
        drop(m);
        state.record("GET", path, 404, Vec::new());
        return error(StatusCode::NOT_FOUND, "Receipt not found");
    };
    let body = render(&state, &m.world.orders[&sim]);
    drop(m);
    state.record("GET", path, 200, vec![sim]);
    with_headers(axum::Json(body).into_response(), ok)
}

async fn create_shipment(
    State(state): S,
    Path((shop, receipt)): Path<(u64, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/v3/application/shops/{shop}/receipts/{receipt}/tracking");
    let ok = match gate(&state, &headers, "POST", &path).await {
        Ok(h) => h,
        Err(r) => return r,
    };
    if let Some(r) = wrong_shop(&state, "POST", path.clone(), shop) {
        return r;
    }
    let is_form = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        state.record("POST", path, 400, Vec::new());
        return error(StatusCode::BAD_REQUEST, "Expected a form-encoded body");
    }
    let form = oauth::form(&body);
    let (Some(code), Some(carrier)) = (form.get("tracking_code"), form.get("carrier_name")) else {
        state.record("POST", path, 400, Vec::new());
        return error(
            StatusCode::BAD_REQUEST,
            "tracking_code and carrier_name are required together",
        );
    };
    let mut m = market(&state);
    let Some(sim) = find(&m.world, receipt) else {
        drop(m);
        state.record("POST", path, 404, Vec::new());
        return error(StatusCode::NOT_FOUND, "Receipt not found");
    };
    m.world
        .fulfill(sim, code.clone(), None, carrier.clone(), Utc::now());
    let body = render(&state, &m.world.orders[&sim]);
    drop(m);
    state.record("POST", path, 200, vec![sim]);
    with_headers(axum::Json(body).into_response(), ok)
}

//! "Example Shop": the deliberately small API the SDK's example plugin
//! reads (see `plugins/example`).

use super::SandboxState;
use super::world::decimal;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

pub fn routes() -> Router<Arc<SandboxState>> {
    Router::new().route("/example/v1/orders", get(orders))
}

async fn orders(
    State(state): State<Arc<SandboxState>>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let expected = format!("Bearer {}", state.config.access_token);
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": "bad api key"})),
        )
            .into_response();
    }
    let limit: usize = q
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(50)
        .clamp(1, 500);
    let since: Option<DateTime<Utc>> = q
        .get("updated_since")
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc));
    let after: u64 = q.get("cursor").and_then(|c| c.parse().ok()).unwrap_or(0);
    let world = state.world();
    let mut matching = world
        .orders
        .range(after + 1..)
        .map(|(_, o)| o)
        .filter(|o| since.is_none_or(|s| o.updated_at >= s));
    let chosen: Vec<_> = matching.by_ref().take(limit).collect();
    let more = matching.next().is_some();
    let ts = |t: &DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    let body: Vec<_> = chosen
        .iter()
        .map(|o| {
            json!({
                "id": o.id.to_string(),
                "number": format!("EX-{}", o.number),
                "created": ts(&o.created_at),
                "updated": ts(&o.updated_at),
                "status": if o.cancelled_at.is_some() { "cancelled" } else { o.financial_status.as_str() },
                "currency": o.currency,
                "total": decimal(o.line_items_minor() + o.shipping_minor, o.decimals),
                "shipping": decimal(o.shipping_minor, o.decimals),
                "ship_to": {
                    "name": format!("{} {}", o.customer.first_name, o.customer.last_name),
                    "street": o.customer.address1, "city": o.customer.city, "zip": o.customer.zip, "country": o.customer.country
                },
                "lines": o.lines.iter().map(|l| json!({
                    "id": l.id.to_string(), "sku": l.sku, "title": l.title, "qty": l.quantity, "price": decimal(l.price_minor, o.decimals)
                })).collect::<Vec<_>>()
            })
        })
        .collect();
    let next = if more {
        chosen.last().map(|o| o.id.to_string())
    } else {
        None
    };
    let ids = chosen.iter().map(|o| o.id).collect();
    drop(world);
    state.record("GET", "/example/v1/orders".into(), 200, ids);
    axum::Json(json!({"orders": body, "next_cursor": next})).into_response()
}

//! `/_sandbox/*`: what tests and demos use to look inside and steer.

use super::SandboxState;
use crate::config::SandboxFaults;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;

pub fn routes() -> Router<Arc<SandboxState>> {
    Router::new()
        .route("/_sandbox/truth", get(truth))
        .route("/_sandbox/served", get(served))
        .route("/_sandbox/faults", post(faults))
        .route("/_sandbox/tick", post(tick))
        .route("/_sandbox/touch", post(touch))
        .route("/_sandbox/carriers", get(carriers))
        .route("/_sandbox/address", post(address))
        .route("/_sandbox/settlement", get(settlement))
        .route("/_sandbox/oauth", get(oauth).post(oauth))
}

async fn truth(
    State(state): State<Arc<SandboxState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let with_ids = |orders: Vec<crate::SimOrder>, id: fn(u64) -> String| {
        orders
            .into_iter()
            .map(|o| {
                let mut v = serde_json::to_value(&o).unwrap_or_default();
                v["market_id"] = id(o.id).into();
                v
            })
            .collect::<Vec<_>>()
    };
    match q.get("market").map(String::as_str) {
        Some("amazon") => {
            let orders = state
                .amazon
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .world
                .orders
                .values()
                .cloned()
                .collect();
            Json(with_ids(orders, crate::amazon::order_id)).into_response()
        }
        Some("ebay") => {
            let orders = state
                .ebay
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .world
                .orders
                .values()
                .cloned()
                .collect();
            Json(with_ids(orders, crate::ebay::order_id)).into_response()
        }
        Some("etsy") => {
            let orders = state
                .etsy
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .world
                .orders
                .values()
                .cloned()
                .collect();
            Json(with_ids(orders, |id| {
                crate::etsy::receipt_id(id).to_string()
            }))
            .into_response()
        }
        Some("woocommerce") => {
            let m = state.woocommerce.lock().unwrap_or_else(|p| p.into_inner());
            let orders: Vec<serde_json::Value> = m
                .world
                .orders
                .values()
                .map(|o| {
                    let mut v = serde_json::to_value(o).unwrap_or_default();
                    v["market_id"] = o.number.to_string().into();
                    v["notes"] =
                        serde_json::to_value(m.notes.get(&o.id).cloned().unwrap_or_default())
                            .unwrap_or_default();
                    v
                })
                .collect();
            Json(orders).into_response()
        }
        _ => {
            let orders: Vec<_> = state.world().orders.values().cloned().collect();
            Json(orders).into_response()
        }
    }
}

/// Counters and switches of the simulated authorisation servers.
async fn oauth(
    State(state): State<Arc<SandboxState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let apply = |server: &mut crate::oauth::OAuthServer| {
        if q.get("expire").map(String::as_str) == Some("true") {
            server.expire();
        }
        if q.get("revoke").map(String::as_str) == Some("true") {
            server.revoke();
        }
        if let Some(rotate) = q.get("rotate") {
            server.rotate = rotate == "true";
        }
        if let Some(secs) = q.get("lifetime").and_then(|s| s.parse().ok()) {
            server.lifetime = std::time::Duration::from_secs(secs);
        }
        server.report()
    };
    match q.get("provider").map(String::as_str) {
        Some("amazon") => Json(apply(
            &mut state.amazon.lock().unwrap_or_else(|p| p.into_inner()).oauth,
        ))
        .into_response(),
        Some("ebay") => Json(apply(
            &mut state.ebay.lock().unwrap_or_else(|p| p.into_inner()).oauth,
        ))
        .into_response(),
        Some("etsy") => Json(apply(
            &mut state.etsy.lock().unwrap_or_else(|p| p.into_inner()).oauth,
        ))
        .into_response(),
        _ => (StatusCode::BAD_REQUEST, "provider=amazon|ebay|etsy").into_response(),
    }
}

async fn served(State(state): State<Arc<SandboxState>>) -> Response {
    let served = state
        .served
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    Json(served).into_response()
}

async fn faults(
    State(state): State<Arc<SandboxState>>,
    Json(faults): Json<SandboxFaults>,
) -> Response {
    state
        .faults
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .set(faults.clone());
    Json(faults).into_response()
}

async fn tick(
    State(state): State<Arc<SandboxState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let new: u32 = q.get("new").and_then(|n| n.parse().ok()).unwrap_or(0);
    let updates: u32 = q.get("updates").and_then(|n| n.parse().ok()).unwrap_or(0);
    let run = |world: &mut crate::World| {
        let created: Vec<u64> = (0..new).map(|_| world.arrive(Utc::now())).collect();
        let updated: Vec<u64> = (0..updates)
            .filter_map(|_| world.update_random(Utc::now()))
            .collect();
        serde_json::json!({"created": created, "updated": updated})
    };
    let answer = match q.get("market").map(String::as_str) {
        Some("woocommerce") => run(&mut state
            .woocommerce
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .world),
        Some("etsy") => run(&mut state.etsy.lock().unwrap_or_else(|p| p.into_inner()).world),
        _ => run(&mut state.world()),
    };
    Json(answer).into_response()
}

async fn touch(
    State(state): State<Arc<SandboxState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let id = q.get("id").and_then(|i| i.parse::<u64>().ok());
    let at = q
        .get("updated_at")
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc));
    let touched = |id: u64, at| match q.get("market").map(String::as_str) {
        Some("woocommerce") => state
            .woocommerce
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .world
            .touch(id, at),
        _ => state.world().touch(id, at),
    };
    match (id, at) {
        (Some(id), Some(at)) if touched(id, at) => StatusCode::NO_CONTENT.into_response(),
        (Some(_), Some(_)) => StatusCode::NOT_FOUND.into_response(),
        _ => (StatusCode::BAD_REQUEST, "need id and updated_at").into_response(),
    }
}

async fn carriers(State(state): State<Arc<SandboxState>>) -> Response {
    let shipments: Vec<_> = state.carriers().shipments.values().cloned().collect();
    Json(shipments).into_response()
}

async fn address(
    State(state): State<Arc<SandboxState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let id = q.get("id").and_then(|i| i.parse::<u64>().ok());
    let valid = q.get("valid").map(|v| v == "true");
    match (id, valid) {
        (Some(id), Some(valid)) if state.world().set_address_valid(id, valid, Utc::now()) => {
            StatusCode::NO_CONTENT.into_response()
        }
        (Some(_), Some(_)) => StatusCode::NOT_FOUND.into_response(),
        _ => (StatusCode::BAD_REQUEST, "need id and valid=true|false").into_response(),
    }
}

async fn settlement(State(state): State<Arc<SandboxState>>) -> Response {
    let (payouts, injected) = super::payments::current(&state);
    Json(serde_json::json!({
        "settlement_currency": state.config.settlement_currency,
        "payouts": payouts,
        "injected": injected,
    }))
    .into_response()
}

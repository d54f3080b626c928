//! A Stripe-compatible API v1: `GET /v1/payouts` (`limit`, `created[gte]`,
//! `starting_after`, newest first), `GET /v1/balance_transactions?payout=…`
//! (with `expand[]=data.source` and `data.source.charge`, the payout's own
//! transaction included as Stripe does), `GET /v1/balance`. Bearer auth.
//! `exchange_rate` is written as a JSON number with the ledger's exact digits.

use super::ledger::{LedgerLine, LedgerPayout, LineKind, Provider};
use crate::SandboxState;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use serde_json::{Value, json};
use std::sync::Arc;

type S = State<Arc<SandboxState>>;
type Params = Query<Vec<(String, String)>>;

pub fn routes() -> Router<Arc<SandboxState>> {
    Router::new()
        .route("/v1/payouts", get(payouts))
        .route("/v1/balance_transactions", get(balance_transactions))
        .route("/v1/balance", get(balance))
}

fn param<'a>(q: &'a [(String, String)], key: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn error(status: StatusCode, kind: &str, code: Option<&str>, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": {"type": kind, "code": code, "message": message}})),
    )
        .into_response()
}

/// The 401 to send when the key is wrong.
fn refused(state: &SandboxState, headers: &HeaderMap, path: &str) -> Option<Response> {
    let expected = format!("Bearer {}", state.config.stripe_secret_key);
    if headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(expected.as_str()) {
        return None;
    }
    state.record("GET", path.into(), 401, Vec::new());
    Some(error(
        StatusCode::UNAUTHORIZED,
        "invalid_request_error",
        None,
        "Invalid API Key provided: sk_****",
    ))
}

/// JSON text with `"@@RATE:x@@"` placeholders turned into the number `x`.
fn with_raw_rates(body: &Value) -> String {
    let text = body.to_string();
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(start) = rest.find("\"@@RATE:") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 8..];
        let end = after.find("@@\"").unwrap_or(after.len());
        out.push_str(&after[..end]);
        rest = &after[(end + 3).min(after.len())..];
    }
    out.push_str(rest);
    out
}

fn json_text(body: String) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// A list envelope of `items` after `starting_after`, `limit` long.
fn page(items: Vec<(String, Value)>, q: &[(String, String)], url: &str) -> Value {
    let limit: usize = param(q, "limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(10)
        .clamp(1, 100);
    let start = match param(q, "starting_after") {
        Some(after) => items
            .iter()
            .position(|(id, _)| id == after)
            .map_or(items.len(), |i| i + 1),
        None => 0,
    };
    let rest: Vec<Value> = items.into_iter().skip(start).map(|(_, v)| v).collect();
    json!({
        "object": "list",
        "url": url,
        "has_more": rest.len() > limit,
        "data": rest.into_iter().take(limit).collect::<Vec<_>>(),
    })
}

fn stripe_payouts(state: &SandboxState) -> Vec<LedgerPayout> {
    let (mut payouts, _) = super::current(state);
    payouts.retain(|p| p.provider == Provider::Stripe);
    payouts.sort_by(|a, b| (b.created, &b.id).cmp(&(a.created, &a.id)));
    payouts
}

fn payout_json(p: &LedgerPayout) -> Value {
    let now = Utc::now();
    json!({
        "id": p.id, "object": "payout", "amount": p.amount_minor,
        "arrival_date": p.arrival.timestamp(), "automatic": true,
        "balance_transaction": format!("txn_{}", p.id), "created": p.created.timestamp(),
        "currency": p.currency.to_ascii_lowercase(), "description": "STRIPE PAYOUT",
        "destination": "ba_sandbox", "failure_code": null, "livemode": false, "metadata": {},
        "method": "standard", "reconciliation_status": "completed", "source_type": "card",
        "status": if p.arrival <= now { "paid" } else { "in_transit" }, "type": "bank_account"
    })
}

async fn payouts(State(state): S, headers: HeaderMap, Query(q): Params) -> Response {
    if let Some(r) = refused(&state, &headers, "/v1/payouts") {
        return r;
    }
    let since = param(&q, "created[gte]").and_then(|t| t.parse::<i64>().ok());
    let items = stripe_payouts(&state)
        .iter()
        .filter(|p| since.is_none_or(|s| p.created.timestamp() >= s))
        .map(|p| (p.id.clone(), payout_json(p)))
        .collect();
    state.record("GET", "/v1/payouts".into(), 200, Vec::new());
    axum::Json(page(items, &q, "/v1/payouts")).into_response()
}

fn charge_json(l: &LedgerLine) -> Value {
    json!({
        "id": format!("ch_{}", l.order_id.map_or_else(|| l.id.clone(), |o| o.to_string())),
        "object": "charge", "amount": l.charge_minor,
        "currency": l.original_currency.to_ascii_lowercase(),
        "description": format!("Order {}", l.reference),
        "metadata": {"order_id": l.reference}, "paid": true, "status": "succeeded"
    })
}

fn line_json(l: &LedgerLine, settlement: &str, expand: bool, expand_charge: bool) -> Value {
    let (kind, category) = match l.kind {
        LineKind::Charge => ("charge", "charge"),
        LineKind::Refund => ("refund", "refund"),
        LineKind::Dispute => ("adjustment", "dispute"),
    };
    let charge = charge_json(l);
    let source = match (l.kind, expand) {
        (LineKind::Charge, true) => charge,
        (LineKind::Charge, false) => charge["id"].clone(),
        (_, false) => Value::String(l.id.clone()),
        (k, true) => json!({
            "id": l.id,
            "object": if k == LineKind::Refund { "refund" } else { "dispute" },
            "amount": l.original_minor.abs(),
            "currency": l.original_currency.to_ascii_lowercase(),
            "charge": if expand_charge { charge } else { charge["id"].clone() },
            "metadata": {},
        }),
    };
    json!({
        "id": format!("txn_{}", l.id), "object": "balance_transaction",
        "amount": l.gross_minor, "available_on": l.at.timestamp() + 86_400,
        "created": l.at.timestamp(), "currency": settlement.to_ascii_lowercase(),
        "description": format!("{kind} for order {}", l.reference),
        "exchange_rate": l.rate.as_ref().map_or(Value::Null, |r| Value::String(format!("@@RATE:{r}@@"))),
        "fee": l.fee_minor,
        "fee_details": if l.fee_minor == 0 { json!([]) } else { json!([{
            "amount": l.fee_minor, "application": null, "currency": settlement.to_ascii_lowercase(),
            "description": "Stripe processing fees", "type": "stripe_fee"
        }]) },
        "net": l.net_minor, "reporting_category": category, "source": source,
        "status": "available", "type": kind
    })
}

async fn balance_transactions(State(state): S, headers: HeaderMap, Query(q): Params) -> Response {
    let path = "/v1/balance_transactions";
    if let Some(r) = refused(&state, &headers, path) {
        return r;
    }
    let Some(payout_id) = param(&q, "payout") else {
        state.record("GET", path.into(), 400, Vec::new());
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            Some("parameter_missing"),
            "This sandbox lists balance transactions by payout only: pass `payout`.",
        );
    };
    let expands: Vec<&str> = q
        .iter()
        .filter(|(k, _)| k == "expand[]")
        .map(|(_, v)| v.as_str())
        .collect();
    let (expand, expand_charge) = (
        expands.contains(&"data.source"),
        expands.contains(&"data.source.charge"),
    );
    let payouts = stripe_payouts(&state);
    let Some(p) = payouts.iter().find(|p| p.id == payout_id) else {
        state.record("GET", path.into(), 404, Vec::new());
        return error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            Some("resource_missing"),
            &format!("No such payout: '{payout_id}'"),
        );
    };
    let settlement = &state.config.settlement_currency;
    let mut items: Vec<(String, Value)> = p
        .lines
        .iter()
        .rev()
        .map(|l| {
            (
                format!("txn_{}", l.id),
                line_json(l, settlement, expand, expand_charge),
            )
        })
        .collect();
    items.insert(0, (format!("txn_{}", p.id), json!({
        "id": format!("txn_{}", p.id), "object": "balance_transaction", "amount": -p.amount_minor,
        "created": p.created.timestamp(), "currency": settlement.to_ascii_lowercase(),
        "description": "STRIPE PAYOUT", "exchange_rate": null, "fee": 0, "fee_details": [],
        "net": -p.amount_minor, "reporting_category": "payout", "source": p.id,
        "status": "available", "type": "payout"
    })));
    state.record("GET", path.into(), 200, Vec::new());
    json_text(with_raw_rates(&page(items, &q, path)))
}

async fn balance(State(state): S, headers: HeaderMap) -> Response {
    if let Some(r) = refused(&state, &headers, "/v1/balance") {
        return r;
    }
    state.record("GET", "/v1/balance".into(), 200, Vec::new());
    axum::Json(json!({"object": "balance", "available": [], "pending": [], "livemode": false}))
        .into_response()
}

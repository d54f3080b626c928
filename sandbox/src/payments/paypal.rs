//! A PayPal-compatible API: `POST /v1/oauth2/token` (client credentials,
//! Basic auth) and `GET /v1/reporting/transactions` (Transaction Search:
//! `start_date`/`end_date` at most 31 days apart, `transaction_type`,
//! `page`/`page_size`). Payments are `T0006`, refunds `T1107`, and each
//! payout is a withdrawal `T0400`.

use super::ledger::{LedgerLine, LineKind, Provider};
use crate::SandboxState;
use crate::money::format_minor;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

type S = State<Arc<SandboxState>>;

/// The access token the sandbox hands out.
const TOKEN: &str = "A21AAsandbox-paypal-access-token";

pub fn routes() -> Router<Arc<SandboxState>> {
    Router::new()
        .route("/v1/oauth2/token", post(token))
        .route("/v1/reporting/transactions", get(transactions))
}

async fn token(State(state): S, headers: HeaderMap) -> Response {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            state.config.paypal_client_id, state.config.paypal_client_secret
        ))
    );
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        state.record("POST", "/v1/oauth2/token".into(), 401, Vec::new());
        return (StatusCode::UNAUTHORIZED, axum::Json(json!({"error": "invalid_client", "error_description": "Client Authentication failed"}))).into_response();
    }
    state.record("POST", "/v1/oauth2/token".into(), 200, Vec::new());
    axum::Json(json!({
        "scope": "https://uri.paypal.com/services/reporting/search/read",
        "access_token": TOKEN, "token_type": "Bearer", "app_id": "APP-SANDBOX", "expires_in": 32400
    }))
    .into_response()
}

fn paypal_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S+0000").to_string()
}

fn money(minor: i64, currency: &str, decimals: u32) -> Value {
    json!({"currency_code": currency, "value": format_minor(minor, decimals)})
}

fn invalid(message: &str, issue: &str) -> Response {
    (StatusCode::BAD_REQUEST, axum::Json(json!({
        "name": "INVALID_REQUEST", "message": "Request is not well-formed, syntactically incorrect, or violates schema.",
        "details": [{"field": "start_date", "issue": issue, "description": message}]
    })))
    .into_response()
}

/// Every row up to now: payments, refunds and withdrawals.
fn rows(state: &SandboxState) -> Vec<(DateTime<Utc>, String, Value)> {
    let (payouts, _) = super::current(state);
    let now = Utc::now();
    let mut out = Vec::new();
    for p in payouts.iter().filter(|p| p.provider == Provider::Paypal) {
        let settlement = &p.currency;
        let decimals = crate::money::decimals(settlement).unwrap_or(2);
        for l in &p.lines {
            out.push((l.at, row_code(l).into(), row(l, settlement, decimals)));
        }
        let id = p.id.clone();
        out.push((
            p.created,
            "T0400".into(),
            json!({"transaction_info": {
                "transaction_id": id, "transaction_event_code": "T0400",
                "transaction_initiation_date": paypal_time(p.created),
                "transaction_updated_date": paypal_time(p.created),
                "transaction_amount": money(-p.amount_minor, settlement, decimals),
                "transaction_status": if p.arrival <= now { "S" } else { "P" },
                "transaction_subject": "Withdrawal to bank account"
            }}),
        ));
    }
    out.sort_by_key(|row| row.0);
    out
}

fn row_code(l: &LedgerLine) -> &'static str {
    match l.kind {
        LineKind::Charge => "T0006",
        LineKind::Refund => "T1107",
        LineKind::Dispute => "T1201",
    }
}

fn row(l: &LedgerLine, settlement: &str, decimals: u32) -> Value {
    json!({"transaction_info": {
        "transaction_id": l.id.to_ascii_uppercase(),
        "transaction_event_code": row_code(l),
        "transaction_initiation_date": paypal_time(l.at),
        "transaction_updated_date": paypal_time(l.at),
        "transaction_amount": money(l.gross_minor, settlement, decimals),
        "fee_amount": money(-l.fee_minor, settlement, decimals),
        "transaction_status": "S",
        "transaction_subject": format!("Order {}", l.reference),
        "invoice_id": l.reference,
        "protection_eligibility": "01"
    }})
}

async fn transactions(
    State(state): S,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let path = "/v1/reporting/transactions";
    if headers.get("authorization").and_then(|v| v.to_str().ok())
        != Some(format!("Bearer {TOKEN}").as_str())
    {
        state.record("GET", path.into(), 401, Vec::new());
        return (StatusCode::UNAUTHORIZED, axum::Json(json!({"error": "invalid_token", "error_description": "Token signature verification failed"}))).into_response();
    }
    let parse = |k: &str| {
        q.get(k)
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
    };
    let (Some(start), Some(end)) = (parse("start_date"), parse("end_date")) else {
        state.record("GET", path.into(), 400, Vec::new());
        return invalid(
            "start_date and end_date are required, RFC 3339 with seconds",
            "MISSING_REQUIRED_PARAMETER",
        );
    };
    if end < start || end - start > chrono::Duration::days(31) {
        state.record("GET", path.into(), 400, Vec::new());
        return invalid("Date range is greater than 31 days", "INVALID_DATE_RANGE");
    }
    let kind = q.get("transaction_type");
    let matching: Vec<Value> = rows(&state)
        .into_iter()
        .filter(|(at, code, _)| *at >= start && *at <= end && kind.is_none_or(|k| k == code))
        .map(|(_, _, v)| v)
        .collect();
    let size: usize = q
        .get("page_size")
        .and_then(|n| n.parse().ok())
        .unwrap_or(100)
        .clamp(1, 500);
    let page: usize = q
        .get("page")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
        .max(1);
    let total_pages = matching.len().div_ceil(size).max(1);
    let details: Vec<Value> = matching
        .iter()
        .skip((page - 1) * size)
        .take(size)
        .cloned()
        .collect();
    state.record("GET", path.into(), 200, Vec::new());
    axum::Json(json!({
        "transaction_details": details, "account_number": "SANDBOXACCT",
        "start_date": start.to_rfc3339_opts(SecondsFormat::Secs, true),
        "end_date": end.to_rfc3339_opts(SecondsFormat::Secs, true),
        "last_refreshed_datetime": paypal_time(Utc::now()),
        "page": page, "total_items": matching.len(), "total_pages": total_pages, "links": []
    }))
    .into_response()
}

//! The checks every plugin of a kind should pass, run natively against an
//! API the test provides (a [`super::replay`] of recorded exchanges, or a
//! handler written by hand):
//!
//! - [`marketplace`]: pagination ends and never asks for the same page
//!   twice; every order's money is in one ISO 4217 currency, the order's;
//!   times are RFC 3339 in UTC (`…Z`); the API's refusals map to the right
//!   error (401 → `auth`, 429 → `rate-limited`, 503 → `transient`, a body
//!   that is not the API's → `invalid-response`).
//! - [`push_fulfillment`]: a second identical push is detected: it writes
//!   nothing and returns the first push's receipt.
//! - [`payment`]: the same for payouts and their lines, and every line's
//!   `net` is `gross − fee`.
//! - [`carrier`]: quotes and labels carry ISO money, a bought label is
//!   found again by its shipment's reference (the host's exactly-once
//!   check after a crash), tracking times are UTC, errors map as above.
//!
//! Each problem is named in the returned [`Findings`]; an empty list passes.

mod labels;
mod orders;
mod payouts;

pub use labels::carrier;
pub use orders::{marketplace, push_fulfillment};
pub use payouts::payment;

use super::{MockResponse, SentRequest, with_host};
use crate::{Money, PluginError};

/// Pages read before pagination is called endless.
pub const MAX_PAGES: usize = 1_000;

/// What a conformance run read.
#[derive(Debug, Clone, Default)]
pub struct Findings {
    /// Pages read (of orders, payouts or payout lines).
    pub pages: usize,
    /// Orders read.
    pub orders: usize,
    /// Payouts read.
    pub payouts: usize,
    /// Payout lines read.
    pub payout_lines: usize,
    /// Rates quoted.
    pub rates: usize,
    /// Labels bought.
    pub labels: usize,
    /// Everything that is not as it should be, one line each.
    pub problems: Vec<String>,
}

/// Walk pages from `first` until there is no next token; refuses a token
/// seen before (an endless loop) and more than [`MAX_PAGES`].
fn walk<T>(
    mut fetch: impl FnMut(Option<String>) -> Result<(T, Option<String>), String>,
) -> Result<Vec<T>, String> {
    let mut seen = std::collections::HashSet::new();
    let mut token = None;
    let mut pages = Vec::new();
    loop {
        if pages.len() >= MAX_PAGES {
            return Err(format!("pagination did not end after {MAX_PAGES} pages"));
        }
        let (page, next) = fetch(token)?;
        pages.push(page);
        match next {
            None => return Ok(pages),
            Some(next) => {
                if !seen.insert(next.clone()) {
                    return Err(format!("the same page was asked for twice: `{next}`"));
                }
                token = Some(next);
            }
        }
    }
}

/// Call `op` under each refusal an API makes and check the error kind.
fn refusals<T: std::fmt::Debug>(
    operation: &str,
    mut op: impl FnMut() -> Result<T, PluginError>,
    problems: &mut Vec<String>,
) {
    for (status, retry_after, expect, what) in [
        (401, false, "auth", "401"),
        (429, true, "rate-limited", "429 with Retry-After"),
        (503, false, "transient", "503"),
    ] {
        let answer = move |_: &SentRequest| {
            let r = MockResponse::json(status, r#"{"errors": "refused by the test"}"#);
            if retry_after {
                r.with_header("retry-after", "2")
            } else {
                r
            }
        };
        let (result, _) = with_host(answer, &mut op);
        check_error(operation, result.err(), expect, what, problems);
    }
    let garbage = |_: &SentRequest| MockResponse {
        status: 200,
        headers: vec![("content-type".into(), "text/html".into())],
        body: b"<html>Fatal error: the store is down</html>".to_vec(),
    };
    let (result, _) = with_host(garbage, &mut op);
    check_error(
        operation,
        result.err(),
        "invalid-response",
        "a 200 whose body is HTML",
        problems,
    );
}

fn kind(e: &PluginError) -> &'static str {
    match e {
        PluginError::Auth(_) => "auth",
        PluginError::RateLimited(_) => "rate-limited",
        PluginError::Transient(_) => "transient",
        PluginError::InvalidResponse(_) => "invalid-response",
        PluginError::Rejected(_) => "rejected",
        PluginError::InvalidSettings(_) => "invalid-settings",
        PluginError::NotFound(_) => "not-found",
        PluginError::Unsupported(_) => "unsupported",
    }
}

fn check_error(
    operation: &str,
    err: Option<PluginError>,
    expect: &str,
    what: &str,
    problems: &mut Vec<String>,
) {
    match err {
        None => problems.push(format!(
            "{what}: {operation} succeeded; it should fail with `{expect}`"
        )),
        Some(e) if kind(&e) != expect => problems.push(format!(
            "{what}: {operation} failed with `{}` ({e:?}); it should be `{expect}`",
            kind(&e)
        )),
        Some(_) => {}
    }
}

/// `money` is in an ISO 4217 currency, and in `currency` when one is given.
fn check_money(
    at: &str,
    field: &str,
    money: &Money,
    currency: Option<&str>,
    problems: &mut Vec<String>,
) {
    if iso_currency::Currency::from_code(&money.currency).is_none() {
        problems.push(format!(
            "{at}: {field} is in `{}`, not an ISO 4217 code",
            money.currency
        ));
    } else if let Some(expected) = currency.filter(|c| *c != money.currency) {
        problems.push(format!(
            "{at}: {field} is in {}, expected {expected}",
            money.currency
        ));
    }
}

/// `time` is RFC 3339 in UTC.
fn check_utc(at: &str, field: &str, time: &str, problems: &mut Vec<String>) {
    let utc = chrono::DateTime::parse_from_rfc3339(time).is_ok() && time.ends_with('Z');
    if !utc {
        problems.push(format!(
            "{at}: {field} `{time}` is not RFC 3339 in UTC (use sdk::time::utc)"
        ));
    }
}

/// Whether a request writes (anything but GET and HEAD).
fn writes(request: &SentRequest) -> bool {
    !matches!(
        request.method,
        crate::http::Method::Get | crate::http::Method::Head
    )
}

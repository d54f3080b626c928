//! What every marketplace plugin should do, checked natively against an
//! API the test provides (a [`super::replay`] of recorded exchanges, or a
//! handler written by hand):
//!
//! - pagination ends, and never asks for the same page twice;
//! - every order's money is in one ISO 4217 currency, the order's;
//! - times are RFC 3339 in UTC (`…Z`);
//! - the API's refusals map to the right error: 401 → `auth`, 429 →
//!   `rate-limited`, 503 → `transient`, a body that is not the API's →
//!   `invalid-response`.
//!
//! Each problem is named in the returned list; an empty list passes.

use super::{MockResponse, SentRequest, with_host};
use crate::{Marketplace, Money, Order, OrderQuery, PluginError, Settings};

/// Pages read before pagination is called endless.
pub const MAX_PAGES: usize = 1_000;

/// What a conformance run read.
#[derive(Debug, Clone, Default)]
pub struct Findings {
    /// Pages read.
    pub pages: usize,
    /// Orders on them.
    pub orders: usize,
    /// Everything that is not as it should be, one line each.
    pub problems: Vec<String>,
}

/// Run the marketplace checks on `P` with `settings`; `api` makes the
/// handler serving the orders for the paging pass.
pub fn marketplace<P: Marketplace, H>(settings: &Settings, api: impl Fn() -> H) -> Findings
where
    H: FnMut(&SentRequest) -> MockResponse + 'static,
{
    let mut findings = Findings::default();
    let (pages, _) = with_host(api(), || {
        let mut seen = std::collections::HashSet::new();
        let mut query = first();
        let mut pages = Vec::new();
        loop {
            if pages.len() >= MAX_PAGES {
                return Err(format!("pagination did not end after {MAX_PAGES} pages"));
            }
            let page = P::fetch_orders(settings, query.clone())
                .map_err(|e| format!("fetch-orders failed: {e:?}"))?;
            let next = page.next_page.clone();
            pages.push(page);
            match next {
                None => return Ok(pages),
                Some(token) => {
                    if !seen.insert(token.clone()) {
                        return Err(format!("the same page was asked for twice: `{token}`"));
                    }
                    query.page_token = Some(token);
                }
            }
        }
    });
    match pages {
        Err(problem) => findings.problems.push(problem),
        Ok(pages) => {
            findings.pages = pages.len();
            for order in pages.iter().flat_map(|p| &p.orders) {
                findings.orders += 1;
                check_order(order, &mut findings.problems);
            }
        }
    }
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
        let (result, _) = with_host(answer, || P::fetch_orders(settings, first()));
        check_error(result.err(), expect, what, &mut findings.problems);
    }
    let garbage = |_: &SentRequest| MockResponse {
        status: 200,
        headers: vec![("content-type".into(), "text/html".into())],
        body: b"<html>Fatal error: the store is down</html>".to_vec(),
    };
    let (result, _) = with_host(garbage, || P::fetch_orders(settings, first()));
    check_error(
        result.err(),
        "invalid-response",
        "a 200 whose body is HTML",
        &mut findings.problems,
    );
    findings
}

fn first() -> OrderQuery {
    OrderQuery {
        updated_after: None,
        page_token: None,
        page_size: 50,
    }
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

fn check_error(err: Option<PluginError>, expect: &str, what: &str, problems: &mut Vec<String>) {
    match err {
        None => problems.push(format!(
            "{what}: fetch-orders succeeded; it should fail with `{expect}`"
        )),
        Some(e) if kind(&e) != expect => problems.push(format!(
            "{what}: fetch-orders failed with `{}` ({e:?}); it should be `{expect}`",
            kind(&e)
        )),
        Some(_) => {}
    }
}

fn check_order(o: &Order, problems: &mut Vec<String>) {
    let at = |what: &str| format!("order `{}`: {what}", o.external_id);
    if iso_currency::Currency::from_code(&o.currency).is_none() {
        problems.push(at(&format!("`{}` is not an ISO 4217 code", o.currency)));
    }
    let mut money: Vec<(&str, &Money)> = vec![
        ("totals.subtotal", &o.totals.subtotal),
        ("totals.shipping", &o.totals.shipping),
        ("totals.tax", &o.totals.tax),
        ("totals.discount", &o.totals.discount),
        ("totals.total", &o.totals.total),
    ];
    for l in &o.line_items {
        money.push(("line unit_price", &l.unit_price));
        money.push(("line discount", &l.discount));
        money.push(("line tax", &l.tax));
    }
    for s in &o.shipping_lines {
        money.push(("shipping line price", &s.price));
    }
    for (field, m) in money {
        if m.currency != o.currency {
            problems.push(at(&format!(
                "{field} is in {}, the order in {}",
                m.currency, o.currency
            )));
        }
    }
    for (field, t) in [("created_at", &o.created_at), ("updated_at", &o.updated_at)] {
        let utc = chrono::DateTime::parse_from_rfc3339(t).is_ok() && t.ends_with('Z');
        if !utc {
            problems.push(at(&format!(
                "{field} `{t}` is not RFC 3339 in UTC (use sdk::time::utc)"
            )));
        }
    }
}

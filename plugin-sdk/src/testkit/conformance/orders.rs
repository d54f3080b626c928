//! Marketplace plugins: reading orders, and pushing a fulfillment once.

use super::{Findings, check_money, check_utc, refusals, walk, writes};
use crate::testkit::{MockResponse, SentRequest, with_host};
use crate::{Fulfillment, Marketplace, Order, OrderQuery, Settings};

/// Run the order-reading checks on `P` with `settings`; `api` makes the
/// handler serving the orders for the paging pass.
pub fn marketplace<P: Marketplace, H>(settings: &Settings, api: impl Fn() -> H) -> Findings
where
    H: FnMut(&SentRequest) -> MockResponse + 'static,
{
    let mut findings = Findings::default();
    let (pages, _) = with_host(api(), || {
        walk(|token| {
            let page = P::fetch_orders(
                settings,
                OrderQuery {
                    page_token: token,
                    ..first()
                },
            )
            .map_err(|e| format!("fetch-orders failed: {e:?}"))?;
            let next = page.next_page.clone();
            Ok((page, next))
        })
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
    refusals(
        "fetch-orders",
        || P::fetch_orders(settings, first()),
        &mut findings.problems,
    );
    findings
}

/// Push `fulfillment` twice against one `api`, which must keep what is
/// written to it the way the real API does (a handler with state). The
/// first push must write; the second must find the first (the host
/// retries a push whose answer was lost, and the API may not de-duplicate)
/// and so write nothing and return the same receipt.
pub fn push_fulfillment<P: Marketplace>(
    settings: &Settings,
    fulfillment: Fulfillment,
    api: impl FnMut(&SentRequest) -> MockResponse + 'static,
) -> Findings {
    let mut findings = Findings::default();
    let problems = &mut findings.problems;
    let ((first, sent_first, second), seen) = with_host(api, || {
        let first = P::push_fulfillment(settings, fulfillment.clone());
        let sent_first = crate::testkit::sent_so_far();
        let second = P::push_fulfillment(settings, fulfillment.clone());
        (first, sent_first, second)
    });
    let (first, second) = match (first, second) {
        (Ok(a), Ok(b)) => (a, b),
        (first, second) => {
            problems.push(format!(
                "push-fulfillment failed: first {first:?}, second {second:?}"
            ));
            return findings;
        }
    };
    let (before, after) = seen.requests.split_at(sent_first.min(seen.requests.len()));
    if !before.iter().any(writes) {
        problems.push("the first push-fulfillment wrote nothing to the API".to_string());
    }
    let repeated: Vec<String> = after
        .iter()
        .filter(|r| writes(r))
        .map(|r| format!("{} {}", crate::testkit::method_name(r.method), r.url))
        .collect();
    if !repeated.is_empty() {
        problems.push(format!(
            "a second identical push-fulfillment was not detected: it wrote again ({})",
            repeated.join(", ")
        ));
    }
    if first.external_id != second.external_id {
        problems.push(format!(
            "a second identical push-fulfillment returned receipt `{}`, the first `{}`",
            second.external_id, first.external_id
        ));
    }
    findings
}

fn first() -> OrderQuery {
    OrderQuery {
        updated_after: None,
        page_token: None,
        page_size: 50,
    }
}

fn check_order(o: &Order, problems: &mut Vec<String>) {
    let at = format!("order `{}`", o.external_id);
    if iso_currency::Currency::from_code(&o.currency).is_none() {
        problems.push(format!("{at}: `{}` is not an ISO 4217 code", o.currency));
    }
    let currency = Some(o.currency.as_str());
    for (field, m) in [
        ("totals.subtotal", &o.totals.subtotal),
        ("totals.shipping", &o.totals.shipping),
        ("totals.tax", &o.totals.tax),
        ("totals.discount", &o.totals.discount),
        ("totals.total", &o.totals.total),
    ] {
        check_money(&at, field, m, currency, problems);
    }
    for l in &o.line_items {
        check_money(&at, "line unit_price", &l.unit_price, currency, problems);
        check_money(&at, "line discount", &l.discount, currency, problems);
        check_money(&at, "line tax", &l.tax, currency, problems);
    }
    for s in &o.shipping_lines {
        check_money(&at, "shipping line price", &s.price, currency, problems);
    }
    check_utc(&at, "created_at", &o.created_at, problems);
    check_utc(&at, "updated_at", &o.updated_at, problems);
}

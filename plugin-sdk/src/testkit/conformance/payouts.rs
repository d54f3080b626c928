//! Payment plugins: payouts and their lines.

use super::{Findings, check_money, check_utc, refusals, walk};
use crate::testkit::{MockResponse, SentRequest, with_host};
use crate::{PageQuery, Payment, Payout, PayoutLine, Settings};

/// Payouts whose lines are read, at most (the first ones).
pub const MAX_PAYOUTS: usize = 20;

/// Run the payment checks on `P` with `settings`; `api` makes the handler
/// serving payouts and their lines.
pub fn payment<P: Payment, H>(settings: &Settings, api: impl Fn() -> H) -> Findings
where
    H: FnMut(&SentRequest) -> MockResponse + 'static,
{
    let mut findings = Findings::default();
    let (payouts, _) = with_host(api(), || {
        walk(|token| {
            let page = P::fetch_payouts(
                settings,
                PageQuery {
                    page_token: token,
                    ..first()
                },
            )
            .map_err(|e| format!("fetch-payouts failed: {e:?}"))?;
            let next = page.next_page.clone();
            Ok((page.payouts, next))
        })
    });
    let payouts: Vec<Payout> = match payouts {
        Err(problem) => {
            findings.problems.push(problem);
            Vec::new()
        }
        Ok(pages) => {
            findings.pages += pages.len();
            pages.into_iter().flatten().collect()
        }
    };
    for payout in &payouts {
        findings.payouts += 1;
        let at = format!("payout `{}`", payout.external_id);
        check_money(&at, "amount", &payout.amount, None, &mut findings.problems);
        check_utc(
            &at,
            "created_at",
            &payout.created_at,
            &mut findings.problems,
        );
        if let Some(arrival) = &payout.arrival_date {
            check_utc(&at, "arrival_date", arrival, &mut findings.problems);
        }
    }
    for payout in payouts.iter().take(MAX_PAYOUTS) {
        let (lines, _) = with_host(api(), || {
            walk(|token| {
                let page = P::fetch_payout_lines(settings, payout.clone(), token).map_err(|e| {
                    format!(
                        "fetch-payout-lines of `{}` failed: {e:?}",
                        payout.external_id
                    )
                })?;
                let next = page.next_page.clone();
                Ok((page.lines, next))
            })
        });
        match lines {
            Err(problem) => findings.problems.push(problem),
            Ok(pages) => {
                findings.pages += pages.len();
                for line in pages.iter().flatten() {
                    findings.payout_lines += 1;
                    check_line(payout, line, &mut findings.problems);
                }
            }
        }
    }
    refusals(
        "fetch-payouts",
        || P::fetch_payouts(settings, first()),
        &mut findings.problems,
    );
    findings
}

fn first() -> PageQuery {
    PageQuery {
        created_after: None,
        page_token: None,
        page_size: 50,
    }
}

fn check_line(payout: &Payout, line: &PayoutLine, problems: &mut Vec<String>) {
    let at = format!(
        "payout `{}` line `{}`",
        payout.external_id, line.external_id
    );
    let currency = Some(line.net.currency.as_str());
    check_money(&at, "net", &line.net, None, problems);
    check_money(&at, "gross", &line.gross, currency, problems);
    check_money(&at, "fee", &line.fee, currency, problems);
    if let Some(original) = &line.original {
        check_money(&at, "original", original, None, problems);
    }
    if line.gross.amount_minor - line.fee.amount_minor != line.net.amount_minor {
        problems.push(format!(
            "{at}: net {} is not gross {} − fee {}",
            line.net.amount_minor, line.gross.amount_minor, line.fee.amount_minor
        ));
    }
    check_utc(&at, "created_at", &line.created_at, problems);
}

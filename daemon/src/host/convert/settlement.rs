//! Settlement types across the contract: page queries go out to a payment
//! plugin; payouts and lines come back validated (currencies, times, the
//! exchange rate as plain decimal text, `net = gross - fee`).

use super::{Result, bad, currency, money, time, time_out};
use crate::host::bindings::types as wit;
use crate::model;

/// The host's query, for the plugin.
pub fn page_query(q: &model::PageQuery) -> wit::PageQuery {
    wit::PageQuery {
        created_after: q.created_after.as_ref().map(time_out),
        page_token: q.page_token.clone(),
        page_size: q.page_size,
    }
}

fn status(s: wit::PayoutStatus) -> model::PayoutStatus {
    match s {
        wit::PayoutStatus::Pending => model::PayoutStatus::Pending,
        wit::PayoutStatus::InTransit => model::PayoutStatus::InTransit,
        wit::PayoutStatus::Paid => model::PayoutStatus::Paid,
        wit::PayoutStatus::Failed => model::PayoutStatus::Failed,
        wit::PayoutStatus::Cancelled => model::PayoutStatus::Cancelled,
    }
}

/// A payout, back to the plugin that listed it.
pub fn payout_out(p: &model::Payout) -> wit::Payout {
    wit::Payout {
        external_id: p.external_id.clone(),
        amount: wit::Money {
            amount_minor: p.amount.amount_minor,
            currency: p.amount.currency.code().to_string(),
        },
        status: match p.status {
            model::PayoutStatus::Pending => wit::PayoutStatus::Pending,
            model::PayoutStatus::InTransit => wit::PayoutStatus::InTransit,
            model::PayoutStatus::Paid => wit::PayoutStatus::Paid,
            model::PayoutStatus::Failed => wit::PayoutStatus::Failed,
            model::PayoutStatus::Cancelled => wit::PayoutStatus::Cancelled,
        },
        created_at: time_out(&p.created_at),
        arrival_date: p.arrival_date.as_ref().map(time_out),
    }
}

/// A plugin's page of payouts, validated.
pub fn payout_page(page: wit::PayoutPage) -> Result<model::PayoutPage> {
    let payouts = page
        .payouts
        .into_iter()
        .map(|p| {
            if p.external_id.is_empty() {
                return Err(bad("a payout has an empty external id"));
            }
            let at = |f: &str| format!("payout `{}`: {f}", p.external_id);
            Ok(model::Payout {
                amount: money(&p.amount, &at("amount"))?,
                status: status(p.status),
                created_at: time(&p.created_at, &at("created_at"))?,
                arrival_date: p
                    .arrival_date
                    .as_deref()
                    .map(|t| time(t, &at("arrival_date")))
                    .transpose()?,
                external_id: p.external_id,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(model::PayoutPage {
        payouts,
        next_page: page.next_page,
    })
}

fn kind(k: wit::PayoutLineKind) -> model::PayoutLineKind {
    match k {
        wit::PayoutLineKind::Charge => model::PayoutLineKind::Charge,
        wit::PayoutLineKind::Refund => model::PayoutLineKind::Refund,
        wit::PayoutLineKind::Dispute => model::PayoutLineKind::Dispute,
        wit::PayoutLineKind::Fee => model::PayoutLineKind::Fee,
        wit::PayoutLineKind::Adjustment => model::PayoutLineKind::Adjustment,
        wit::PayoutLineKind::Other => model::PayoutLineKind::Other,
    }
}

/// A plugin's page of payout lines, validated.
pub fn payout_line_page(page: wit::PayoutLinePage) -> Result<model::PayoutLinePage> {
    let lines = page
        .lines
        .into_iter()
        .map(|l| {
            if l.external_id.is_empty() {
                return Err(bad("a payout line has an empty external id"));
            }
            let at = |f: &str| format!("payout line `{}`: {f}", l.external_id);
            let (gross, fee, net) = (
                money(&l.gross, &at("gross"))?,
                money(&l.fee, &at("fee"))?,
                money(&l.net, &at("net"))?,
            );
            if gross.currency != fee.currency || gross.currency != net.currency {
                return Err(bad(at("gross, fee and net must share one currency")));
            }
            if gross.amount_minor.checked_sub(fee.amount_minor) != Some(net.amount_minor) {
                return Err(bad(at(&format!(
                    "net {net} is not gross {gross} minus fee {fee}"
                ))));
            }
            let exchange_rate = match l.exchange_rate {
                None => None,
                Some(r) => {
                    let ok = !r.rate.is_empty()
                        && r.rate.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                        && r.rate.bytes().filter(|b| *b == b'.').count() <= 1;
                    if !ok {
                        return Err(bad(at(&format!(
                            "exchange rate `{}` is not a plain decimal",
                            r.rate
                        ))));
                    }
                    Some(model::ExchangeRate {
                        source: currency(&r.source, &at("exchange_rate.source"))?,
                        target: currency(&r.target, &at("exchange_rate.target"))?,
                        rate: r.rate,
                    })
                }
            };
            Ok(model::PayoutLine {
                kind: kind(l.kind),
                gross,
                fee,
                net,
                original: l
                    .original
                    .as_ref()
                    .map(|m| money(m, &at("original")))
                    .transpose()?,
                exchange_rate,
                order_reference: l.order_reference,
                created_at: time(&l.created_at, &at("created_at"))?,
                description: l.description,
                external_id: l.external_id,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(model::PayoutLinePage {
        lines,
        next_page: page.next_page,
    })
}

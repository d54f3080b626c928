//! `payouts list|show`, `settlement discrepancies|resolve`, `report
//! settlement`, `settle --once`: through the running daemon's admin socket
//! when there is one, else on the store.

use super::{Format, PayoutsCommand, ReportFormat, SettlementCommand};
use crate::admin::{Reply, Request};
use crate::model::Money;
use crate::settlement::SettlementStore;
use crate::settlement::queries;
use crate::settlement::records::{Discrepancy, PayoutRecord};
use crate::settlement::report::Row;
use crate::store::Store;
use crate::text::say;
use anyhow::{Context, bail};
use chrono::{DateTime, NaiveDate, Utc};
use std::io::Write;
use std::path::Path;

async fn ask(config_path: &Path, request: Request) -> anyhow::Result<Reply> {
    super::answer(config_path, request, Ok, offline).await
}

fn offline(store: &Store, request: Request) -> anyhow::Result<Reply> {
    Ok(match request {
        Request::ListPayouts { seller } => Reply::Payouts {
            payouts: store.payouts(seller.as_deref())?,
        },
        Request::ShowPayout { id } => Reply::Payouts {
            payouts: queries::find_payout(store, &id)?,
        },
        Request::Discrepancies { open_only } => Reply::Discrepancies {
            discrepancies: store.discrepancies(open_only)?,
        },
        Request::Resolve { id, note } => match store.resolve_discrepancy(&id, &note)? {
            Some(d) => Reply::Discrepancies {
                discrepancies: vec![d],
            },
            None => bail!("no discrepancy `{id}` (see `tradelane settlement discrepancies`)"),
        },
        Request::Report {
            seller,
            from,
            to,
            books,
        } => Reply::Report {
            rows: queries::report(store, seller.as_deref(), (from, to), &books)?,
        },
        other => bail!("{other:?} is not a settlement request"),
    })
}

fn money(m: &Money) -> String {
    m.to_string()
}

pub async fn payouts(config: &Path, command: PayoutsCommand) -> anyhow::Result<i32> {
    let (request, show, format) = match command {
        PayoutsCommand::List { seller, format } => (Request::ListPayouts { seller }, false, format),
        PayoutsCommand::Show { id, format } => (Request::ShowPayout { id }, true, format),
    };
    let Reply::Payouts { payouts } = ask(config, request).await? else {
        bail!("unexpected answer");
    };
    if show && payouts.is_empty() {
        return Err(super::NotFound(
            "no stored payout with that id (see `tradelane payouts list`)".into(),
        )
        .into());
    }
    let mut out = crate::text::PlainWriter(std::io::stdout().lock());
    if format == Format::Json {
        for p in &payouts {
            serde_json::to_writer(&mut out.0, p)?;
            writeln!(out.0)?;
        }
        return Ok(0);
    }
    if show {
        for p in &payouts {
            print_payout(&mut out, p)?;
        }
        return Ok(0);
    }
    let mut table = crate::text::Table::new(&[
        "SELLER",
        "ACCOUNT",
        "PAYOUT",
        "STATUS",
        "CREATED",
        "AMOUNT",
        "LINES",
        "RECONCILED",
    ])
    .right(&[5, 6]);
    for p in &payouts {
        let diff = p.payout.amount.amount_minor.saturating_sub(p.lines_net());
        table.row(vec![
            p.seller.clone(),
            p.account.clone(),
            p.payout.external_id.clone(),
            p.payout.status.name().to_string(),
            p.payout.created_at.format("%Y-%m-%d %H:%M:%S").to_string(),
            money(&p.payout.amount).to_string(),
            p.lines.len().to_string(),
            if diff == 0 {
                "yes".to_string()
            } else {
                format!(
                    "NO: {} unexplained",
                    Money {
                        amount_minor: diff,
                        currency: p.payout.amount.currency
                    }
                )
            },
        ]);
    }
    table.write(&mut out)?;
    writeln!(out, "{} payouts", payouts.len())?;
    Ok(0)
}

fn print_payout(out: &mut impl Write, p: &PayoutRecord) -> std::io::Result<()> {
    writeln!(
        out,
        "payout {} ({}/{}), {:?}, {} created {}{}",
        p.payout.external_id,
        p.seller,
        p.account,
        p.payout.status,
        p.payout.amount,
        p.payout.created_at,
        p.payout
            .arrival_date
            .map(|a| format!(", arrives {a}"))
            .unwrap_or_default()
    )?;
    for l in &p.lines {
        writeln!(
            out,
            "  {:<10} {:<32} {:>14} fee {:>12} net {:>14}{}{}  {}",
            format!("{:?}", l.kind).to_lowercase(),
            l.external_id,
            l.gross.to_string(),
            l.fee.to_string(),
            l.net.to_string(),
            l.original
                .map(|o| format!("  from {o}"))
                .unwrap_or_default(),
            l.exchange_rate
                .as_ref()
                .map(|r| format!(" at {}", r.rate))
                .unwrap_or_default(),
            l.order_reference.as_deref().unwrap_or("-")
        )?;
    }
    writeln!(
        out,
        "  lines sum to {} net",
        Money {
            amount_minor: p.lines_net(),
            currency: p.payout.amount.currency
        }
    )
}

pub async fn settlement(config: &Path, command: SettlementCommand) -> anyhow::Result<i32> {
    match command {
        SettlementCommand::Discrepancies { open, format } => {
            let Reply::Discrepancies { discrepancies } =
                ask(config, Request::Discrepancies { open_only: open }).await?
            else {
                bail!("unexpected answer");
            };
            print_discrepancies(&discrepancies, format)?;
        }
        SettlementCommand::Resolve { id, note } => {
            let Reply::Discrepancies { discrepancies } =
                ask(config, Request::Resolve { id, note }).await?
            else {
                bail!("unexpected answer");
            };
            for d in &discrepancies {
                say!("{} resolved", d.id);
            }
        }
    }
    Ok(0)
}

fn print_discrepancies(list: &[Discrepancy], format: Format) -> anyhow::Result<()> {
    let mut out = crate::text::PlainWriter(std::io::stdout().lock());
    if format == Format::Json {
        for d in list {
            serde_json::to_writer(&mut out.0, d)?;
            writeln!(out)?;
        }
        return Ok(());
    }
    for d in list {
        writeln!(
            out,
            "{} [{}] {}{}",
            d.id,
            if d.resolved.is_some() {
                "resolved"
            } else {
                "open"
            },
            d.detail,
            d.resolved
                .as_ref()
                .map(|r| format!(" — {}", r.note))
                .unwrap_or_default()
        )?;
    }
    writeln!(out, "{} discrepancies", list.len())?;
    Ok(())
}

/// `2026-11-01` (midnight UTC) or an RFC 3339 time.
fn parse_day(text: &str) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    let d = NaiveDate::parse_from_str(text, "%Y-%m-%d").with_context(|| {
        format!("`{text}` is neither a date like 2026-11-01 nor an RFC 3339 time")
    })?;
    Ok(d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc())
}

/// What a Xero or QuickBooks statement covers.
pub struct Statement {
    pub account: Option<String>,
    pub currency: Option<String>,
}

pub async fn report(
    config: &Path,
    (from, to): (&str, &str),
    seller: Option<String>,
    format: ReportFormat,
    statement: Statement,
) -> anyhow::Result<i32> {
    let (from, to) = (parse_day(from)?, parse_day(to)?);
    if to <= from {
        bail!("--to must be after --from");
    }
    let stdout = std::io::stdout();
    if matches!(format, ReportFormat::Xero | ReportFormat::Quickbooks) {
        let Reply::Payouts { payouts } = ask(config, Request::ListPayouts { seller }).await? else {
            bail!("unexpected answer");
        };
        let rows = crate::settlement::export::statement(
            &payouts,
            (from, to),
            statement.account.as_deref(),
            statement.currency.as_deref(),
        )
        .map_err(anyhow::Error::msg)?;
        match format {
            ReportFormat::Xero => crate::settlement::export::write_xero(&rows, stdout.lock())?,
            _ => crate::settlement::export::write_quickbooks(&rows, stdout.lock())?,
        }
        eprintln!("{} statement lines", rows.len());
        return Ok(0);
    }
    // Each seller's book currency, from the config the CLI was given.
    let books = crate::config::LoadedConfig::load(config)
        .map(|c| {
            c.config
                .sellers
                .iter()
                .filter_map(|s| {
                    let settlement = s.settlement.as_ref()?;
                    Some((s.id.get_ref().clone(), settlement.currency.0))
                })
                .collect()
        })
        .unwrap_or_default();
    let request = Request::Report {
        seller,
        from,
        to,
        books,
    };
    let Reply::Report { rows } = ask(config, request).await? else {
        bail!("unexpected answer");
    };
    match format {
        ReportFormat::Json => {
            let (lines, totals): (Vec<&Row>, Vec<&Row>) = rows
                .iter()
                .partition(|r| r.row == "line" || r.row == "cost");
            serde_json::to_writer_pretty(
                stdout.lock(),
                &serde_json::json!({"from": from, "to": to, "rows": lines, "totals": totals}),
            )?;
            say!("");
        }
        _ => crate::settlement::report::write_csv(&rows, stdout.lock())?,
    }
    let lines = rows.iter().filter(|r| r.row == "line").count();
    eprintln!(
        "{lines} lines from {} to {}",
        from.format("%Y-%m-%d"),
        to.format("%Y-%m-%d")
    );
    Ok(0)
}

/// `settle --once`: read payouts and reconcile, outside the daemon.
pub async fn settle_once(config_path: &Path, seller: Option<String>) -> anyhow::Result<i32> {
    let offline = super::ops::Offline::open(config_path, "already settles on schedule").await?;
    let store = &offline.store;
    let mut ran = 0;
    let mut failed = 0;
    for rt in offline
        .assembly
        .settlement
        .iter()
        .filter(|r| seller.as_ref().is_none_or(|s| *s == r.seller))
    {
        ran += 1;
        match rt.run_pass(store).await {
            Ok(r) => say!(
                "{}: {} payouts read, {} stored ({} lines), {} orders settled, {} new and {} closed discrepancies{}",
                rt.seller,
                r.payouts_read,
                r.payouts_stored,
                r.lines_stored,
                r.orders_settled,
                r.discrepancies_new,
                r.discrepancies_closed,
                if r.accounts_failed > 0 {
                    format!(", {} account(s) FAILED", r.accounts_failed)
                } else {
                    String::new()
                }
            ),
            Err(e) => {
                failed += 1;
                say!("{}: FAILED — {e}", rt.seller);
            }
        }
    }
    offline.close().await?;
    if ran == 0 {
        bail!(
            "no seller with [sellers.settlement] matches {}",
            seller.as_deref().unwrap_or("(any)")
        );
    }
    Ok(if failed > 0 { 1 } else { 0 })
}

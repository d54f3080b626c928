//! `orders list|show`, `export`, `import`: through the running daemon's
//! admin socket when there is one, else straight from the store.

use super::{Format, OrdersCommand};
use crate::admin::{Reply, Request};
use crate::config::LoadedConfig;
use crate::daemon::open_store;
use crate::model::PaymentStatus;
use crate::store::{OrderFilter, StoredOrder};
use anyhow::{Context, bail};
use chrono::Utc;
use std::io::Write;
use std::path::{Path, PathBuf};

async fn query(config_path: &Path, request: Request) -> anyhow::Result<Vec<StoredOrder>> {
    super::answer(
        config_path,
        request,
        |reply| match reply {
            Reply::Orders { orders } => Ok(orders),
            other => Err(other),
        },
        |store, request| {
            Ok(match request {
                Request::ListOrders { filter } => store.list_orders(&filter)?,
                Request::ShowOrder { id } => store.find_order(&id)?,
                Request::Export | Request::Status => store.list_orders(&OrderFilter::default())?,
                other => bail!("{other:?} is not an order query"),
            })
        },
    )
    .await
}

pub async fn orders(config: &Path, command: OrdersCommand) -> anyhow::Result<i32> {
    match command {
        OrdersCommand::List {
            seller,
            channel,
            status,
            since,
            limit,
            format,
        } => {
            let payment_status = status
                .map(|s| {
                    serde_json::from_value::<PaymentStatus>(serde_json::Value::String(s.clone()))
                        .map_err(|_| {
                            super::Usage(format!(
                                "unknown status `{s}`: use one of pending, authorized, paid, partially_paid, partially_refunded, refunded, voided, unknown"
                            ))
                        })
                })
                .transpose()?;
            let since = since.map(|s| parse_since(&s)).transpose()?;
            let filter = OrderFilter {
                seller,
                channel,
                payment_status,
                since,
                limit,
            };
            let orders = query(config, Request::ListOrders { filter }).await?;
            print(&orders, format)?;
        }
        OrdersCommand::Quarantined { seller, format } => {
            let entries = super::answer(
                config,
                Request::Quarantined { seller },
                |reply| match reply {
                    Reply::Quarantined { entries } => Ok(entries),
                    other => Err(other),
                },
                |store, request| match request {
                    Request::Quarantined { seller } => Ok(store.quarantined(seller.as_deref())?),
                    other => bail!("{other:?} is not a quarantine query"),
                },
            )
            .await?;
            let stdout = std::io::stdout();
            let mut out = crate::text::PlainWriter(stdout.lock());
            if format == Format::Json {
                for e in &entries {
                    serde_json::to_writer(&mut out.0, e)?;
                    writeln!(out.0)?;
                }
                return Ok(0);
            }
            for e in &entries {
                writeln!(
                    out,
                    "{}/{} order `{}` (seen {} time(s), last {}): {}",
                    e.seller,
                    e.channel,
                    e.external_id,
                    e.times,
                    e.last_seen.format("%Y-%m-%d %H:%M:%S"),
                    e.reason
                )?;
            }
            writeln!(out, "{} order(s) in quarantine", entries.len())?;
        }
        OrdersCommand::Show { id, format } => {
            let orders = query(config, Request::ShowOrder { id: id.clone() }).await?;
            if orders.is_empty() {
                eprintln!("no order with id or number `{id}`");
                return Ok(1);
            }
            match format {
                Format::Json => print(&orders, Format::Json)?,
                Format::Table => {
                    let mut out = crate::text::PlainWriter(std::io::stdout().lock());
                    for o in &orders {
                        show(&mut out, o)?;
                    }
                }
            }
        }
    }
    Ok(0)
}

/// One order for a person: who, where, what, money as amounts.
fn show(out: &mut impl std::io::Write, stored: &StoredOrder) -> std::io::Result<()> {
    let o = &stored.order;
    writeln!(
        out,
        "{} {} on {}/{} ({}), placed {}, updated {}",
        o.number,
        o.external_id,
        stored.seller,
        stored.channel,
        o.marketplace.as_deref().unwrap_or("-"),
        o.created_at.format("%Y-%m-%d %H:%M UTC"),
        o.updated_at.format("%Y-%m-%d %H:%M UTC"),
    )?;
    writeln!(
        out,
        "  status {:?}, payment {:?}, fulfillment {:?}, shipped by {:?}",
        o.status, o.payment_status, o.fulfillment_status, o.fulfilled_by
    )?;
    if let Some(hold) = &o.shipping_hold {
        writeln!(out, "  held: {hold}")?;
    }
    if let Some(b) = &o.buyer {
        writeln!(
            out,
            "  buyer: {} {}",
            b.name.as_deref().unwrap_or("-"),
            b.email.as_deref().unwrap_or("")
        )?;
    }
    if let Some(a) = &o.shipping_address {
        writeln!(
            out,
            "  ship to: {}, {}{}, {} {}, {}",
            a.name.as_deref().unwrap_or("-"),
            a.line1,
            a.line2
                .as_deref()
                .map(|l| format!(", {l}"))
                .unwrap_or_default(),
            a.postal_code.as_deref().unwrap_or(""),
            a.city,
            a.country.as_str()
        )?;
    }
    for l in &o.line_items {
        writeln!(
            out,
            "  {:>3} × {:<14} {:<40} {:>14} each",
            l.quantity,
            l.sku.as_deref().unwrap_or("-"),
            l.title.chars().take(40).collect::<String>(),
            l.unit_price.to_string()
        )?;
    }
    let t = &o.totals;
    writeln!(
        out,
        "  subtotal {}, shipping {}, tax {}, discount {}, total {}",
        t.subtotal, t.shipping, t.tax, t.discount, t.total
    )?;
    if !o.tax_ids.is_empty() {
        let ids: Vec<String> = o
            .tax_ids
            .iter()
            .map(|t| format!("{} {}", t.scheme.to_ascii_uppercase(), t.value))
            .collect();
        writeln!(
            out,
            "  tax ids: {}{}",
            ids.join(", "),
            if o.marketplace_collected_tax {
                " (tax collected by the marketplace)"
            } else {
                ""
            }
        )?;
    }
    writeln!(out)
}

/// `--since`: an RFC 3339 time, or a duration back from now (`2d`).
pub fn parse_since(text: &str) -> anyhow::Result<chrono::DateTime<Utc>> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    let ago = humantime::parse_duration(text)
        .with_context(|| format!("`{text}` is neither an RFC 3339 time nor a duration like 2d"))?;
    chrono::Duration::from_std(ago)
        .ok()
        .and_then(|d| Utc::now().checked_sub_signed(d))
        .with_context(|| format!("`{text}` reaches back further than any date"))
}

fn print(orders: &[StoredOrder], format: Format) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = crate::text::PlainWriter(stdout.lock());
    match format {
        Format::Json => {
            for o in orders {
                serde_json::to_writer(&mut out.0, o)?;
                writeln!(out.0)?;
            }
        }
        Format::Table => {
            let mut table = crate::text::Table::new(&[
                "SELLER",
                "CHANNEL",
                "ORDER",
                "NUMBER",
                "UPDATED",
                "PAYMENT",
                "TOTAL",
                "TO",
                "FULFILLMENT",
            ])
            .right(&[6]);
            for s in orders {
                let o = &s.order;
                table.row(vec![
                    s.seller.clone(),
                    s.channel.clone(),
                    o.external_id.clone(),
                    o.number.clone(),
                    o.updated_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                    format!("{:?}", o.payment_status).to_lowercase(),
                    o.totals.total.to_string(),
                    o.shipping_address
                        .as_ref()
                        .map_or("-", |a| a.country.as_str())
                        .to_string(),
                    format!("{:?}", o.fulfillment_status).to_lowercase(),
                ]);
            }
            table.write(&mut out)?;
            writeln!(out, "{} orders", orders.len())?;
        }
    }
    Ok(())
}

pub async fn export(config: &Path, output: Option<PathBuf>) -> anyhow::Result<i32> {
    let orders = query(config, Request::Export).await?;
    let mut out: Box<dyn Write> = match &output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    for o in &orders {
        serde_json::to_writer(&mut out, o)?;
        writeln!(out)?;
    }
    out.flush()?;
    eprintln!("exported {} orders", orders.len());
    Ok(0)
}

pub fn import(config_path: &Path, file: &Path) -> anyhow::Result<i32> {
    let config = LoadedConfig::load(config_path)?;
    let store = open_store(&config)?;
    let n = if file == Path::new("-") {
        store.import(&mut std::io::stdin().lock())?
    } else {
        let f =
            std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
        store.import(&mut std::io::BufReader::new(f))?
    };
    eprintln!("imported {n} orders into {}", config.data_dir().display());
    Ok(0)
}

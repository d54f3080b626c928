//! `shipments list|show|retry|hold|release|skip`, `labels print`, and
//! `ship --once`: through the running daemon's admin socket when there is
//! one (so an action never races a scheduled run), else on the store.

use super::{Format, ShipmentsCommand};
use crate::admin::{Reply, Request};
use crate::shipping::ShipmentStore;
use crate::shipping::actions::{self, Action};
use crate::shipping::{ShipmentRecord, Status};
use crate::store::Store;
use crate::text::say;
use anyhow::{Context, bail};
use std::io::Write;
use std::path::Path;

/// Ask the daemon, or answer from the store when none runs.
async fn ask(config_path: &Path, request: Request) -> anyhow::Result<Vec<ShipmentRecord>> {
    super::answer(
        config_path,
        request,
        |reply| match reply {
            Reply::Shipments { shipments } => Ok(shipments),
            other => Err(other),
        },
        offline,
    )
    .await
}

fn offline(store: &Store, request: Request) -> anyhow::Result<Vec<ShipmentRecord>> {
    Ok(match request {
        Request::ListShipments { seller, state } => {
            actions::list(store, seller.as_deref(), state.as_deref())?
        }
        Request::ShowShipment { id } => store.find_shipments(&id)?,
        Request::ShipmentAction { id, action, note } => {
            let (seller, channel, order, number) = actions::locate(store, &id)?;
            vec![actions::apply(
                store,
                (&seller, &channel, &order, &number),
                action,
                note.as_deref(),
            )?]
        }
        other => bail!("{other:?} is not a shipment request"),
    })
}

pub async fn shipments(config: &Path, command: ShipmentsCommand) -> anyhow::Result<i32> {
    let (id, action, note) = match command {
        ShipmentsCommand::List {
            seller,
            state,
            format,
        } => {
            if let Some(s) = &state {
                use crate::shipping::record::{Stage, Status};
                let wanted = s.replace('-', "_");
                let names: Vec<&str> = Status::ALL
                    .iter()
                    .map(|x| x.name())
                    .chain(Stage::ALL.iter().map(|x| x.name()))
                    .collect();
                if !names.contains(&wanted.as_str()) {
                    return Err(super::Usage(format!(
                        "unknown state `{s}`: use a status ({}) or a stage ({})",
                        names[..Status::ALL.len()].join(", "),
                        names[Status::ALL.len()..].join(", ")
                    ))
                    .into());
                }
            }
            let records = ask(config, Request::ListShipments { seller, state }).await?;
            print_list(&records, format)?;
            return Ok(0);
        }
        ShipmentsCommand::Show { order, format } => {
            let records = ask(config, Request::ShowShipment { id: order.clone() }).await?;
            if records.is_empty() {
                eprintln!("no shipment for order `{order}` (is it paid, unshipped and synced?)");
                return Ok(1);
            }
            for r in &records {
                match format {
                    Format::Json => println!("{}", serde_json::to_string(r)?),
                    Format::Table => print_one(r),
                }
            }
            return Ok(0);
        }
        ShipmentsCommand::Retry { order, note } => (order, Action::Retry, note),
        ShipmentsCommand::Hold { order, reason } => (order, Action::Hold, reason),
        ShipmentsCommand::Release { order } => (order, Action::Release, None),
        ShipmentsCommand::Skip { order, reason } => (order, Action::Skip, reason),
    };
    let records = ask(
        config,
        Request::ShipmentAction {
            id: id.clone(),
            action,
            note,
        },
    )
    .await?;
    for r in &records {
        say!(
            "order {}: {} at {} (attempt {}){}",
            r.order_number,
            r.status.name(),
            r.stage.name(),
            r.attempt,
            match r.status {
                Status::Active => "; the workflow picks it up on its next run",
                _ => "",
            }
        );
    }
    Ok(0)
}

fn print_list(records: &[ShipmentRecord], format: Format) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = crate::text::PlainWriter(stdout.lock());
    if format == Format::Json {
        for r in records {
            serde_json::to_writer(&mut out.0, r)?;
            writeln!(out.0)?;
        }
        return Ok(());
    }
    let mut table = crate::text::Table::new(&[
        "SELLER", "CHANNEL", "ORDER", "STATUS", "STAGE", "TRY", "CARRIER", "TRACKING", "REASON",
    ])
    .right(&[5]);
    for r in records {
        table.row(vec![
            r.seller.clone(),
            r.channel.clone(),
            r.order_number.clone(),
            r.status.name().to_string(),
            r.stage.name().to_string(),
            r.attempt.to_string(),
            r.label
                .as_ref()
                .map(|l| l.carrier.as_str())
                .or(r.carrier_account.as_deref())
                .unwrap_or("-")
                .to_string(),
            r.label
                .as_ref()
                .map(|l| l.tracking_number.as_str())
                .unwrap_or("-")
                .to_string(),
            r.reason.as_deref().unwrap_or("").to_string(),
        ]);
    }
    table.write(&mut out)?;
    writeln!(out, "{} shipments", records.len())?;
    Ok(())
}

fn print_one(r: &ShipmentRecord) {
    say!(
        "order {} ({}/{}/{})",
        r.order_number,
        r.seller,
        r.channel,
        r.order_id
    );
    say!(
        "  status {} at stage {}, attempt {}, key {}",
        r.status.name(),
        r.stage.name(),
        r.attempt,
        r.idempotency_key
    );
    if let Some(reason) = &r.reason {
        say!("  reason: {reason}");
    }
    if let Some(t) = r.next_attempt_at {
        say!("  next attempt: {t}");
    }
    if let (Some(rule), Some(account)) = (&r.rule, &r.carrier_account) {
        say!("  rule `{rule}` → carrier account `{account}`");
    }
    if let Some(s) = &r.shipment {
        say!(
            "  to {} {}, {} parcel(s), incoterm {:?}, label {:?}",
            s.ship_to.city,
            s.ship_to.country.as_str(),
            s.parcels.len(),
            s.incoterm,
            s.label_format
        );
        for c in &s.customs {
            say!(
                "  customs: {} × {} ({}), HS {}, origin {}, {}, {} g{}",
                c.quantity,
                c.description,
                c.sku.as_deref().unwrap_or("-"),
                c.hs_code.as_deref().unwrap_or("-"),
                c.origin_country.as_str(),
                c.value,
                c.weight_grams,
                c.gtin
                    .as_deref()
                    .map(|g| format!(", GTIN {g}"))
                    .unwrap_or_default()
            );
        }
        for t in &s.tax_ids {
            say!("  tax id: {} {}", t.scheme.to_uppercase(), t.value);
        }
    }
    if let Some(d) = &r.duty {
        say!(
            "  duty: {} ({} subheading(s): {}), owed by {}",
            d.amount,
            d.subheadings.len(),
            d.subheadings.join(", "),
            d.owed_by
        );
    }
    for note in &r.notes {
        say!("  note: {note}");
    }
    for q in &r.quotes {
        let chosen = r.chosen.as_ref().is_some_and(|c| c.id == q.id);
        say!(
            "  {} rate: {} {} {} ({} days)",
            if chosen { "*" } else { " " },
            q.carrier,
            q.service,
            q.price,
            q.estimated_days.map_or("?".to_string(), |d| d.to_string())
        );
    }
    if let Some(l) = &r.label {
        say!(
            "  label: {} {} tracking {} cost {}{}",
            l.carrier,
            l.service,
            l.tracking_number,
            l.cost,
            r.label_path
                .as_ref()
                .map(|p| format!(", file {}", p.display()))
                .unwrap_or_default()
        );
        for f in &l.forms {
            say!(
                "  customs form: {} ({}){}",
                f.kind.name(),
                f.name,
                match (&f.path, &f.document_url) {
                    (Some(p), _) => format!(", file {}", p.display()),
                    (None, Some(u)) => format!(", at {u} (not downloaded)"),
                    (None, None) => String::new(),
                }
            );
        }
    }
    if let Some(f) = &r.fulfillment_id {
        say!("  pushed to channel: fulfillment {f}");
    }
    if let Some(t) = &r.tracking {
        for e in &t.events {
            say!(
                "  scan {} {:?}: {}{}",
                e.at.format("%Y-%m-%d %H:%M"),
                e.status,
                e.description,
                e.location
                    .as_ref()
                    .map(|l| format!(" ({l})"))
                    .unwrap_or_default()
            );
        }
    }
    for h in &r.history {
        say!(
            "  {} {:<12} {:<11} {}",
            h.at.format("%Y-%m-%d %H:%M:%S"),
            h.stage.name(),
            h.status.name(),
            h.note
        );
    }
}

/// `labels print ORDER`: the document's bytes, or its path.
pub async fn print_label(
    config: &Path,
    order: String,
    path_only: bool,
    forms: bool,
) -> anyhow::Result<i32> {
    let records = ask(config, Request::ShowShipment { id: order.clone() }).await?;
    let Some(record) = records.iter().find(|r| r.label_path.is_some()) else {
        eprintln!(
            "order `{order}` has no stored label yet (see `tradelane shipments show {order}`)"
        );
        return Ok(1);
    };
    let path = if forms {
        let stored: Vec<_> = record
            .label
            .iter()
            .flat_map(|l| &l.forms)
            .filter_map(|f| f.path.clone())
            .collect();
        match (stored.as_slice(), path_only) {
            ([], _) => {
                eprintln!(
                    "order `{order}`: the carrier returned no customs form to store (see `tradelane shipments show {order}`)"
                );
                return Ok(1);
            }
            (all, true) => {
                for p in all {
                    say!("{}", p.display());
                }
                return Ok(0);
            }
            ([one], false) => one.clone(),
            (many, false) => {
                eprintln!(
                    "order `{order}` has {} customs forms; list them with `--forms --path`",
                    many.len()
                );
                return Ok(1);
            }
        }
    } else {
        let Some(path) = record.label_path.clone() else {
            return Ok(1);
        };
        if path_only {
            say!("{}", path.display());
            return Ok(0);
        }
        path
    };
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut out = std::io::stdout().lock();
    out.write_all(&bytes)?;
    out.flush()?;
    Ok(0)
}

/// `ship --once`: one shipping pass for every seller (or one), outside the daemon.
pub async fn ship_once(config_path: &Path, seller: Option<String>) -> anyhow::Result<i32> {
    let offline = super::ops::Offline::open(
        config_path,
        "already ships on schedule; use `tradelane shipments retry` to hurry an order",
    )
    .await?;
    let store = &offline.store;
    let mut ran = 0;
    for rt in offline
        .assembly
        .shipping
        .iter()
        .filter(|r| seller.as_ref().is_none_or(|s| *s == r.seller))
    {
        ran += 1;
        let r = rt.run_pass(store).await?;
        say!(
            "{}: {} shipped, {} held, {} dead-lettered, {} retrying, {} dry-run, {} tracking updates",
            rt.seller,
            r.shipped,
            r.held,
            r.dead_lettered,
            r.retrying,
            r.dry_run,
            r.tracking_updates
        );
    }
    offline.close().await?;
    if ran == 0 {
        bail!(
            "no seller with [sellers.shipping] matches {}",
            seller.as_deref().unwrap_or("(any)")
        );
    }
    Ok(0)
}

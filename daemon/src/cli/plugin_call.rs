//! `tradelane plugin call PATH.wasm EXPORT`: run one export of a built
//! component under the real sandbox and egress policy, with settings from a
//! file, and print the result as JSON. `--record DIR` keeps every HTTP
//! exchange (secrets as placeholders); `--replay DIR` answers from them
//! with no network, so an author captures a real API once and iterates
//! offline.
//!
//! The plugin is assembled exactly as the daemon would: as a channel, a
//! carrier account or a payment account of a one-seller config written to
//! a temporary directory, so settings, secrets (`{ env = "…" }`), hosts and
//! limits go through the same checks.

use crate::assemble::Assembly;
use crate::config::LoadedConfig;
use crate::egress::record::{RecordingEgress, ReplayEgress};
use crate::egress::{Egress, EgressSettings, HttpEgress};
use crate::host::{PluginHost, PluginSource};
use crate::model::{Fulfillment, OrderQuery, PageQuery, Payout, PluginKind, Rate, Shipment};
use anyhow::{Context, bail};
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;

/// What to call, with what.
#[derive(Debug, Clone)]
pub struct CallArgs {
    pub wasm: PathBuf,
    pub export: String,
    pub settings: Option<PathBuf>,
    pub input: Option<String>,
    pub record: Option<PathBuf>,
    pub replay: Option<PathBuf>,
    pub allow_loopback: bool,
    pub extra_hosts: Vec<String>,
}

/// The exports, by kind.
const MARKETPLACE: [&str; 4] = ["check", "fetch-orders", "fetch-order", "push-fulfillment"];
const CARRIER: [&str; 5] = ["check", "quote", "buy-label", "find-label", "track"];
const PAYMENT: [&str; 3] = ["check", "fetch-payouts", "fetch-payout-lines"];

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The one-seller config the plugin is assembled from.
fn config_text(
    args: &CallArgs,
    kind: PluginKind,
    data_dir: &std::path::Path,
    settings: &str,
) -> String {
    let plugin = toml_string(&args.wasm.display().to_string());
    let hosts = toml::Value::Array(
        args.extra_hosts
            .iter()
            .map(|h| toml::Value::String(h.clone()))
            .collect(),
    );
    let connection = format!(
        "id = \"call\"\nplugin = {plugin}\nallow_loopback = {}\nextra_hosts = {hosts}\n",
        args.allow_loopback
    );
    let head = format!(
        "[daemon]\ndata_dir = {}\nlog_level = \"warn\"\n\n[[sellers]]\nid = \"author\"\n",
        toml_string(&data_dir.display().to_string())
    );
    match kind {
        PluginKind::Marketplace => format!(
            "{head}[[sellers.channels]]\n{connection}[sellers.channels.settings]\n{settings}\n"
        ),
        PluginKind::Carrier => format!(
            "{head}[sellers.shipping]\n[sellers.shipping.ship_from]\nname = \"-\"\nline1 = \"-\"\ncity = \"-\"\ncountry = \"GB\"\n[[sellers.shipping.carriers]]\n{connection}[sellers.shipping.carriers.settings]\n{settings}\n"
        ),
        PluginKind::Payment => format!(
            "{head}[sellers.settlement]\ncurrency = \"EUR\"\n[[sellers.settlement.accounts]]\n{connection}[sellers.settlement.accounts.settings]\n{settings}\n"
        ),
    }
}

fn input<T: for<'de> Deserialize<'de>>(args: &CallArgs, what: &str) -> anyhow::Result<T> {
    let text = args.input.as_deref().unwrap_or("{}");
    serde_json::from_str(text).with_context(|| format!("--input is not {what} as JSON"))
}

#[derive(Deserialize)]
struct ById {
    external_id: String,
}

#[derive(Deserialize)]
struct BuyLabel {
    shipment: Shipment,
    rate: Rate,
    idempotency_key: String,
}

#[derive(Deserialize)]
struct ByReference {
    reference: String,
}

#[derive(Deserialize)]
struct Track {
    carrier: String,
    tracking_number: String,
}

#[derive(Deserialize)]
struct PayoutLines {
    payout: Payout,
    #[serde(default)]
    page_token: Option<String>,
}

/// Run the call; the process exit code.
pub async fn call(args: CallArgs) -> anyhow::Result<i32> {
    crate::logging::init(Default::default(), "info");
    let wasm = std::fs::canonicalize(&args.wasm)
        .with_context(|| format!("cannot read {}", args.wasm.display()))?;
    let args = CallArgs { wasm, ..args };
    let host = PluginHost::new(None)?;
    let bytes = std::fs::read(&args.wasm)?;
    let kind = host
        .load(PluginSource::File(args.wasm.clone()), &bytes)
        .await?
        .kind();
    let exports: &[&str] = match kind {
        PluginKind::Marketplace => &MARKETPLACE,
        PluginKind::Carrier => &CARRIER,
        PluginKind::Payment => &PAYMENT,
    };
    if !exports.contains(&args.export.as_str()) {
        bail!(
            "a {kind} plugin exports {}; not `{}`",
            exports.join(", "),
            args.export
        );
    }
    let settings = match &args.settings {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?,
        None => String::new(),
    };
    let dir = tempfile::tempdir()?;
    let text = config_text(&args, kind, &dir.path().join("data"), &settings);
    let path = dir.path().join("call.toml");
    std::fs::write(&path, &text)?;
    let config = LoadedConfig::load(&path).with_context(|| {
        format!(
            "the settings{} do not fit the plugin",
            args.settings
                .as_ref()
                .map(|p| format!(" in {}", p.display()))
                .unwrap_or_default()
        )
    })?;
    let real: Arc<dyn Egress> = Arc::new(HttpEgress::new(EgressSettings::default()));
    let http: Arc<dyn Egress> = match (&args.replay, &args.record) {
        (Some(_), Some(_)) => bail!("--record and --replay exclude each other"),
        (Some(dir), None) => Arc::new(ReplayEgress::new(dir).map_err(anyhow::Error::msg)?),
        (None, Some(dir)) => Arc::new(
            RecordingEgress::new(real, dir)
                .with_context(|| format!("cannot record into {}", dir.display()))?,
        ),
        (None, None) => real,
    };
    let assembly = Assembly::build(&config, &host, None, http).await?;
    let account = match kind {
        PluginKind::Marketplace => assembly.channels.first().map(|c| c.account.as_ref()),
        PluginKind::Carrier => assembly
            .shipping
            .first()
            .and_then(|s| s.carriers.get("call")),
        PluginKind::Payment => assembly.settlement.first().and_then(|s| s.accounts.first()),
    }
    .context("the plugin did not assemble")?;
    let result: Result<serde_json::Value, crate::host::CallError> = match args.export.as_str() {
        "check" => account
            .check()
            .await
            .map(|()| serde_json::json!({"ok": true})),
        "fetch-orders" => {
            let query: OrderQuery = input(&args, "an order query")?;
            account
                .fetch_orders(&query)
                .await
                .map(|p| serde_json::json!(p))
        }
        "fetch-order" => {
            let by: ById = input(&args, "{\"external_id\": …}")?;
            account
                .fetch_order(&by.external_id)
                .await
                .map(|o| serde_json::json!(o))
        }
        "push-fulfillment" => {
            let f: Fulfillment = input(&args, "a fulfillment")?;
            account
                .push_fulfillment(&f)
                .await
                .map(|id| serde_json::json!({"external_id": id}))
        }
        "quote" => {
            let s: Shipment = input(&args, "a shipment")?;
            account.quote(&s).await.map(|r| serde_json::json!(r))
        }
        "buy-label" => {
            let b: BuyLabel = input(&args, "{\"shipment\", \"rate\", \"idempotency_key\"}")?;
            account
                .buy_label(&b.shipment, &b.rate, &b.idempotency_key)
                .await
                .map(|(label, docs)| {
                    serde_json::json!({"label": label, "document_bytes": docs.label.len()})
                })
        }
        "find-label" => {
            let r: ByReference = input(&args, "{\"reference\": …}")?;
            account.find_label(&r.reference).await.map(|found| {
                serde_json::json!(found.map(|(label, docs)| {
                    serde_json::json!({"label": label, "document_bytes": docs.label.len()})
                }))
            })
        }
        "track" => {
            let t: Track = input(&args, "{\"carrier\", \"tracking_number\"}")?;
            account
                .track(&t.carrier, &t.tracking_number)
                .await
                .map(|e| serde_json::json!(e))
        }
        "fetch-payouts" => {
            let q: PageQuery = input(&args, "a page query")?;
            account
                .fetch_payouts(&q)
                .await
                .map(|p| serde_json::json!(p))
        }
        "fetch-payout-lines" => {
            let p: PayoutLines = input(&args, "{\"payout\", \"page_token\"}")?;
            account
                .fetch_payout_lines(&p.payout, p.page_token.as_deref())
                .await
                .map(|p| serde_json::json!(p))
        }
        other => bail!("unknown export `{other}`"),
    };
    match result {
        Ok(value) => {
            println!("{}", serde_json::to_string_pretty(&value)?);
            Ok(0)
        }
        Err(e) => {
            eprintln!("error: {}", crate::text::plain(&e.to_string()));
            Ok(1)
        }
    }
}

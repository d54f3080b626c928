//! The `tradelane` command line.

mod connect;
mod ops;
pub mod orders;
mod plugin_call;
mod plugin_new;
mod settlement;
mod shipments;

use crate::admin::{self, Reply, Request};
use crate::config::LoadedConfig;
use crate::store::Store;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};

/// Answer a request the way every reading or acting command does: by the
/// running daemon over its admin socket (sled admits one process), else
/// from the store. `online` takes the daemon's reply apart (giving it back
/// when it is not the expected kind); a daemon's error becomes this
/// command's.
async fn answer<T>(
    config_path: &Path,
    request: Request,
    online: impl FnOnce(Reply) -> Result<T, Reply>,
    offline: impl FnOnce(&Store, Request) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let config = LoadedConfig::load(config_path)?;
    if let Some(reply) = admin::ask(&admin::socket_path(&config.data_dir()), &request).await {
        return match reply? {
            Reply::Error { message } => anyhow::bail!("{message}"),
            other => online(other).map_err(|r| anyhow::anyhow!("daemon answered {r:?}")),
        };
    }
    offline(&crate::daemon::open_store(&config)?, request)
}

/// A command used wrongly (an invalid value): exit 2, with the valid ones.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// Something asked for does not exist: exit 1, with what to look at.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NotFound(pub String);

/// The exit code for a command's error: 78 (EX_CONFIG, as `vector
/// validate` uses it) for a config that does not load, 2 for a usage
/// error, 1 for everything that went wrong at run time.
pub fn exit_code(e: &anyhow::Error) -> i32 {
    if e.chain().any(|c| {
        c.downcast_ref::<crate::config::error::ConfigError>()
            .is_some()
    }) {
        78
    } else if e.chain().any(|c| c.downcast_ref::<Usage>().is_some()) {
        2
    } else {
        1
    }
}

/// tradelane: orders, shipping and settlement glue for cross-border sellers.
#[derive(Debug, Parser)]
#[command(name = "tradelane", version, about)]
pub struct Cli {
    /// The config file.
    #[arg(
        long,
        short,
        global = true,
        default_value = "config.toml",
        env = "TRADELANE_CONFIG"
    )]
    pub config: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

/// Output formats of listing commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon (syncs every channel on its schedule; stops on SIGTERM/SIGINT).
    Run,
    /// Sync channels now: asks the running daemon for a pass and follows
    /// it, or syncs by itself when no daemon runs.
    Sync {
        /// One pass over the channels, then exit (non-zero if any failed).
        #[arg(long)]
        once: bool,
        /// Only this channel (its id, or `seller/channel`).
        #[arg(long)]
        channel: Option<String>,
    },
    /// Look at stored orders (works while the daemon runs).
    Orders {
        #[command(subcommand)]
        command: OrdersCommand,
    },
    /// Shipments: labels bought, held, dead-lettered (works while the daemon runs).
    Shipments {
        #[command(subcommand)]
        command: ShipmentsCommand,
    },
    /// Label documents.
    Labels {
        #[command(subcommand)]
        command: LabelsCommand,
    },
    /// Run the shipping workflow now, outside the daemon.
    Ship {
        /// One pass, then exit.
        #[arg(long)]
        once: bool,
        /// Only this seller.
        #[arg(long)]
        seller: Option<String>,
    },
    /// Payouts read from payment accounts (works while the daemon runs).
    Payouts {
        #[command(subcommand)]
        command: PayoutsCommand,
    },
    /// Settlement discrepancies: list and resolve.
    Settlement {
        #[command(subcommand)]
        command: SettlementCommand,
    },
    /// Reports for accountants.
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
    /// Read payouts and reconcile now, outside the daemon.
    Settle {
        /// One pass, then exit (non-zero if a seller failed).
        #[arg(long)]
        once: bool,
        /// Only this seller.
        #[arg(long)]
        seller: Option<String>,
    },
    /// Write every stored order as JSON lines.
    Export {
        #[arg(long, value_parser = ["jsonl"], default_value = "jsonl")]
        format: String,
        /// File to write (default: standard output).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Load an export into an empty store.
    Import {
        /// The .jsonl file (`-` for standard input).
        file: PathBuf,
    },
    /// List built-in and configured plugins; `--describe NAME` shows one
    /// in full (settings and which are secret, hosts, limits, OAuth, size).
    Plugins {
        /// A built-in name, or a plugin as config spells it (a `.wasm` path).
        #[arg(long, value_name = "NAME")]
        describe: Option<String>,
    },
    /// Validate the config, load every plugin, and check the environment
    /// (data_dir, free space, sandbox port, secrets); `--online` also asks
    /// every channel and account to prove its credentials.
    Check {
        #[arg(long)]
        online: bool,
    },
    /// Authorise a channel whose marketplace uses OAuth (eBay, Amazon):
    /// print the consent page, take back the redirect, save the refresh token.
    Connect {
        /// `SELLER/CHANNEL`, as in config.
        target: String,
        /// Paste a refresh token the marketplace gave directly (Amazon's
        /// self-authorisation) instead of visiting a consent page.
        #[arg(long)]
        self_authorized: bool,
        /// The address the consent page sent the browser to (or its code),
        /// instead of reading it from standard input.
        #[arg(long)]
        redirect_url: Option<String>,
    },
    /// For plugin authors: run one export of a built component.
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
    },
    /// Make the running daemon re-read its config (as SIGHUP does): applied
    /// when the new one loads completely, else rolled back, saying why.
    Reload,
    /// Pause or resume a channel of the running daemon.
    Channel {
        #[command(subcommand)]
        command: ChannelCommand,
    },
    /// What each channel and workflow is doing (asks the running daemon);
    /// exit 1 when one is failing or stopped, or no daemon runs.
    Status {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Serve the simulated APIs in the foreground.
    #[cfg(feature = "sandbox")]
    Sandbox {
        #[arg(long, default_value = "127.0.0.1:8787")]
        listen: String,
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Orders that exist at start.
        #[arg(long, default_value_t = 40)]
        orders: u32,
        /// No orders arrive or change while it runs (benchmarks).
        #[arg(long)]
        frozen: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum OrdersCommand {
    /// List orders.
    List {
        #[arg(long)]
        seller: Option<String>,
        #[arg(long)]
        channel: Option<String>,
        /// Payment status: pending, authorized, paid, partially_paid, partially_refunded, refunded, voided.
        #[arg(long)]
        status: Option<String>,
        /// Only orders updated at or after this RFC 3339 time or duration ago (`2d`).
        #[arg(long)]
        since: Option<String>,
        #[arg(long)]
        limit: Option<usize>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Show one order by external id or number.
    Show {
        id: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Orders a channel returned that failed validation, and why.
    Quarantined {
        #[arg(long)]
        seller: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Debug, Subcommand)]
pub enum ChannelCommand {
    /// Stop syncing it on schedule until `resume`, a reload or a restart
    /// (`sync --once` still runs it when asked).
    Pause {
        /// `seller/channel` (or a channel id: every seller's).
        channel: String,
    },
    /// Sync it on schedule again, starting with a pass now (a channel
    /// stopped for credentials is tried at once too).
    Resume {
        /// `seller/channel` (or a channel id: every seller's).
        channel: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ShipmentsCommand {
    /// List shipment records.
    List {
        #[arg(long)]
        seller: Option<String>,
        /// A status (active, held, dead_letter, skipped, dry_run, done) or a
        /// stage (intent, quoted, rate_chosen, label_bought, label_stored, pushed).
        #[arg(long)]
        state: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Everything about one order's shipment: customs, rates, label, history.
    Show {
        /// Order number (`1001`, `#1001`) or id.
        order: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Start a dead-lettered or held shipment again (a new attempt), or hurry a waiting one.
    Retry {
        order: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// Stop working on a shipment until released.
    Hold {
        order: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Let a held shipment continue.
    Release { order: String },
    /// Never ship this order with tradelane.
    Skip {
        order: String,
        #[arg(long)]
        reason: Option<String>,
    },
}

/// Plugin kinds, for `plugin new`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    Marketplace,
    Payment,
    Carrier,
}

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Write a ready plugin crate: release profile, a stub for every export,
    /// native tests with the SDK's test kit, a recorded exchange, settings
    /// for `plugin call` and the config snippet.
    New {
        /// The plugin's name (lower case, `-` and `_` allowed).
        name: String,
        #[arg(long, value_enum)]
        kind: KindArg,
        /// Where to create it (default: here).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Depend on the SDK at this path (default: the published crate).
        #[arg(long)]
        sdk_path: Option<PathBuf>,
    },
    /// Run one export under the real sandbox and egress policy and print
    /// its result as JSON (exit 1 with the error when it fails).
    Call {
        /// The component (`target/wasm32-wasip2/release/<crate>.wasm`).
        wasm: PathBuf,
        /// `check`, `fetch-orders`, `fetch-order`, `push-fulfillment`,
        /// `quote`, `buy-label`, `find-label`, `track`, `fetch-payouts`,
        /// `fetch-payout-lines`.
        export: String,
        /// The plugin's settings as in a channel's `settings` table
        /// (`key = "value"`, secrets as `{ env = "NAME" }`).
        #[arg(long)]
        settings: Option<PathBuf>,
        /// The export's argument as JSON (an order query, a fulfillment…).
        #[arg(long)]
        input: Option<String>,
        /// Save every HTTP exchange here (secrets stay placeholders).
        #[arg(long, value_name = "DIR")]
        record: Option<PathBuf>,
        /// Answer from exchanges saved with --record; nothing is sent.
        #[arg(long, value_name = "DIR")]
        replay: Option<PathBuf>,
        /// Allow plain http to loopback (a local fake API).
        #[arg(long)]
        allow_loopback: bool,
        /// Hosts beyond the plugin's declared ones.
        #[arg(long = "extra-host", value_name = "HOST")]
        extra_hosts: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum LabelsCommand {
    /// Write an order's label document (or, with `--forms`, its customs
    /// forms) to standard output.
    Print {
        /// Order number or id.
        order: String,
        /// Print the file's path instead of its bytes (with `--forms`: every
        /// form's, one per line).
        #[arg(long)]
        path: bool,
        /// The customs forms the carrier returned (commercial invoice,
        /// CN22/CN23) instead of the label. Several forms need `--path`.
        #[arg(long)]
        forms: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum PayoutsCommand {
    /// Stored payouts, and whether their lines add up.
    List {
        #[arg(long)]
        seller: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// One payout with every line.
    Show {
        id: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Debug, Subcommand)]
pub enum SettlementCommand {
    /// What does not add up: payout mismatches, lines without orders, wrong
    /// amounts or currencies, refunds, disputes, paid orders never settled.
    Discrepancies {
        /// Only the ones not resolved.
        #[arg(long)]
        open: bool,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Close a discrepancy with a note.
    Resolve {
        id: String,
        #[arg(long)]
        note: String,
    },
}

/// Formats of `report settlement`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Every line with both currencies, rates, the book currency and totals.
    Csv,
    Json,
    /// A bank statement Xero imports (`*Date,*Amount,Payee,Description,Reference`).
    Xero,
    /// A bank statement QuickBooks Online uploads (`Date,Description,Amount`).
    Quickbooks,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// One row per line of money in the payouts created in [from, to), with
    /// both currencies, rate, fee, net, payout and order; totals per currency.
    Settlement {
        /// First day (2026-11-01) or RFC 3339 time, inclusive.
        #[arg(long)]
        from: String,
        /// Last day, exclusive.
        #[arg(long)]
        to: String,
        #[arg(long)]
        seller: Option<String>,
        #[arg(long, value_enum, default_value_t = ReportFormat::Csv)]
        format: ReportFormat,
        /// Xero/QuickBooks: the payment account whose statement it is.
        #[arg(long)]
        account: Option<String>,
        /// Xero/QuickBooks: the statement's currency, when payouts hold several.
        #[arg(long)]
        currency: Option<String>,
    },
}

/// Run the parsed command; the process exit code.
pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Run => ops::run(&cli.config).await,
        Command::Sync { once, channel } => ops::sync(&cli.config, once, channel).await,
        Command::Orders { command } => orders::orders(&cli.config, command).await,
        Command::Shipments { command } => shipments::shipments(&cli.config, command).await,
        Command::Labels {
            command: LabelsCommand::Print { order, path, forms },
        } => shipments::print_label(&cli.config, order, path, forms).await,
        Command::Ship { once, seller } => {
            if !once {
                anyhow::bail!(
                    "`tradelane ship` needs --once (to ship on schedule run `tradelane run`)"
                );
            }
            shipments::ship_once(&cli.config, seller).await
        }
        Command::Payouts { command } => settlement::payouts(&cli.config, command).await,
        Command::Settlement { command } => settlement::settlement(&cli.config, command).await,
        Command::Report {
            command:
                ReportCommand::Settlement {
                    from,
                    to,
                    seller,
                    format,
                    account,
                    currency,
                },
        } => {
            let statement = settlement::Statement { account, currency };
            settlement::report(&cli.config, (&from, &to), seller, format, statement).await
        }
        Command::Settle { once, seller } => {
            if !once {
                anyhow::bail!(
                    "`tradelane settle` needs --once (to settle on schedule run `tradelane run`)"
                );
            }
            settlement::settle_once(&cli.config, seller).await
        }
        Command::Export { output, .. } => orders::export(&cli.config, output).await,
        Command::Import { file } => orders::import(&cli.config, &file),
        Command::Plugins { describe: None } => ops::plugins(&cli.config).await,
        Command::Plugins {
            describe: Some(name),
        } => ops::describe_plugin(&cli.config, &name).await,
        Command::Check { online } => ops::check(&cli.config, online).await,
        Command::Plugin {
            command:
                PluginCommand::New {
                    name,
                    kind,
                    dir,
                    sdk_path,
                },
        } => plugin_new::run(plugin_new::NewArgs {
            name,
            kind: match kind {
                KindArg::Marketplace => crate::model::PluginKind::Marketplace,
                KindArg::Payment => crate::model::PluginKind::Payment,
                KindArg::Carrier => crate::model::PluginKind::Carrier,
            },
            dir,
            sdk_path,
        }),
        Command::Plugin {
            command:
                PluginCommand::Call {
                    wasm,
                    export,
                    settings,
                    input,
                    record,
                    replay,
                    allow_loopback,
                    extra_hosts,
                },
        } => {
            plugin_call::call(plugin_call::CallArgs {
                wasm,
                export,
                settings,
                input,
                record,
                replay,
                allow_loopback,
                extra_hosts,
            })
            .await
        }
        Command::Connect {
            target,
            self_authorized,
            redirect_url,
        } => connect::connect(&cli.config, &target, self_authorized, redirect_url).await,
        Command::Status { format } => ops::status(&cli.config, format).await,
        Command::Reload => ops::reload(&cli.config).await,
        Command::Channel { command } => match command {
            ChannelCommand::Pause { channel } => ops::pause(&cli.config, &channel, true).await,
            ChannelCommand::Resume { channel } => ops::pause(&cli.config, &channel, false).await,
        },
        #[cfg(feature = "sandbox")]
        Command::Sandbox {
            listen,
            seed,
            orders,
            frozen,
        } => ops::sandbox(listen, seed, orders, frozen).await,
    }
}

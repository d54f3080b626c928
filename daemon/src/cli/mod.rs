//! The `tradelane` command line.

mod ops;
mod orders;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

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
    /// Sync channels now, outside the daemon.
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
    /// List built-in and configured plugins.
    Plugins,
    /// Validate the config and load every plugin.
    Check,
    /// What each channel is doing (asks the running daemon).
    Status,
    /// Serve the simulated APIs in the foreground.
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
}

/// Run the parsed command; the process exit code.
pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Run => ops::run(&cli.config).await,
        Command::Sync { once, channel } => ops::sync(&cli.config, once, channel).await,
        Command::Orders { command } => orders::orders(&cli.config, command).await,
        Command::Export { output, .. } => orders::export(&cli.config, output).await,
        Command::Import { file } => orders::import(&cli.config, &file),
        Command::Plugins => ops::plugins(&cli.config).await,
        Command::Check => ops::check(&cli.config).await,
        Command::Status => ops::status(&cli.config).await,
        Command::Sandbox {
            listen,
            seed,
            orders,
            frozen,
        } => ops::sandbox(listen, seed, orders, frozen).await,
    }
}

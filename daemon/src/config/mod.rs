//! `config.toml`: the user interface of tradelane.
//!
//! Parsing is strict (unknown keys are errors) and every error names the
//! file, line, key and what was expected. Values that can be checked alone
//! are checked while parsing ([`values`], [`crate::schedule`]); checks that
//! need the whole file or a plugin's manifest run after, still pointing at
//! the line. Secrets are referenced (`{ env = … }`, `{ file = … }`,
//! `{ credential = … }`), resolved at start, and never logged.

mod connection;
pub mod error;
pub mod notify;
pub mod rates;
pub mod settlement;
pub mod shipping;
pub mod values;

use crate::schedule::Schedule;
pub use connection::Connection;
use connection::connection_struct;
use error::{ConfigError, Locator};
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use toml::Spanned;
pub use values::{HostEntry, HumanDuration, LogFormat, SecretRef, SettingValue};

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub daemon: DaemonConfig,
    pub sandbox: Option<SandboxSection>,
    #[serde(default)]
    pub sellers: Vec<SellerConfig>,
    /// Where a person is told that something needs them.
    #[serde(default)]
    pub notify: Vec<notify::NotifyConfig>,
    /// Where exchange rates are fetched (none: only config rates apply).
    pub rates: Option<Spanned<rates::RatesConfig>>,
}

/// `[daemon]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaemonConfig {
    /// Where the store, compiled plugins and the admin socket live.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    #[serde(default)]
    pub log_format: LogFormat,
    /// A tracing filter such as `info` or `tradelane=debug`.
    #[serde(default = "default_log_level")]
    pub log_level: String,
    /// How long `run` waits for in-flight pages on SIGTERM.
    #[serde(default = "default_grace")]
    pub shutdown_grace: HumanDuration,
    /// Channels synced at once.
    #[serde(default = "default_concurrency")]
    pub max_concurrent_syncs: usize,
    /// Where `/metrics`, `/health` and `/ready` are served (off when unset),
    /// e.g. `127.0.0.1:9464`.
    #[serde(default)]
    pub http_listen: Option<String>,
    /// A channel stopped for something a person must fix (credentials,
    /// settings) is tried again after this, then twice as long each time,
    /// up to 6 h: it resumes on its own once the fix is made.
    #[serde(default = "default_stopped_retry")]
    pub stopped_retry: HumanDuration,
    /// Free disk space kept in reserve on the store's file system, in MiB:
    /// below it, syncs and workflows pause and say so.
    #[serde(default = "default_min_free")]
    pub min_free_mb: u32,
    /// Memory the store may use to cache pages of its trees, in MiB.
    #[serde(default = "default_store_cache")]
    pub store_cache_mb: u32,
    #[serde(default)]
    pub plugins: PluginLimits,
}

/// Limits of every plugin call (`[daemon.plugins]`), overridable per channel.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginLimits {
    /// CPU time of the plugin's own execution per call.
    #[serde(default = "default_deadline")]
    pub cpu_deadline: HumanDuration,
    #[serde(default = "default_memory")]
    pub memory_mb: u32,
    #[serde(default = "default_requests")]
    pub max_requests_per_call: u32,
    /// Wall-clock time of one call, HTTP included.
    #[serde(default = "default_wall_deadline")]
    pub wall_deadline: HumanDuration,
    /// Log lines one call may write; more are counted and dropped.
    #[serde(default = "default_log_lines")]
    pub max_log_lines_per_call: u32,
    /// Largest order a marketplace plugin may return, encoded, in KiB.
    #[serde(default = "default_order_kb")]
    pub max_order_kb: u32,
    /// Pages one sync pass may read; a plugin that never stops paging is
    /// stopped here (the pages read are kept).
    #[serde(default = "default_pages_per_pass")]
    pub max_pages_per_pass: u32,
    /// What one channel's orders may take in the store, in MiB.
    #[serde(default = "default_store_per_channel")]
    pub max_store_mb_per_channel: u32,
    /// What one channel's plugin cache may hold, in KiB.
    #[serde(default = "default_cache_kb")]
    pub cache_kb: u32,
}

/// `[sandbox]`: the simulated APIs `tradelane run` serves on loopback.
#[cfg(feature = "sandbox")]
pub type SandboxSection = SandboxConfig;
#[cfg(feature = "sandbox")]
pub use tradelane_sandbox::{SandboxConfig, SandboxFaults};

/// A build without the `sandbox` feature keeps the table only to refuse it
/// at its line.
#[cfg(not(feature = "sandbox"))]
pub type SandboxSection = Spanned<toml::Value>;

/// `[[sellers]]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SellerConfig {
    pub id: Spanned<String>,
    pub name: Option<String>,
    #[serde(default)]
    pub channels: Vec<ChannelConfig>,
    /// Labels, customs and tracking (absent: this seller ships by hand).
    pub shipping: Option<shipping::ShippingConfig>,
    /// Payouts matched to orders (absent: not settled by tradelane).
    pub settlement: Option<settlement::SettlementConfig>,
    /// Customs facts per SKU.
    #[serde(default)]
    pub catalogue: BTreeMap<String, shipping::ProductConfig>,
}

connection_struct! {
    /// `[[sellers.channels]]`: one marketplace account.
    pub struct ChannelConfig {
        #[serde(default = "default_schedule")]
        pub schedule: Schedule,
        /// Re-read this much before the cursor on every run.
        #[serde(default = "default_lookback")]
        pub lookback: HumanDuration,
        #[serde(default = "default_page_size")]
        pub page_size: u32,
    }
}

pub(crate) fn yes() -> bool {
    true
}
fn default_data_dir() -> PathBuf {
    PathBuf::from("./data")
}
fn default_log_level() -> String {
    "info".into()
}
fn default_grace() -> HumanDuration {
    HumanDuration(std::time::Duration::from_secs(30))
}
fn default_stopped_retry() -> HumanDuration {
    HumanDuration(std::time::Duration::from_secs(15 * 60))
}
fn default_concurrency() -> usize {
    8
}
/// sled's own default is 1 GiB, which a sync of 12,000 orders filled past
/// the 100 MB a small VPS can spare; 16 MiB measured no slower (README).
fn default_min_free() -> u32 {
    64
}
fn default_store_cache() -> u32 {
    16
}
fn default_deadline() -> HumanDuration {
    HumanDuration(std::time::Duration::from_secs(5))
}
fn default_memory() -> u32 {
    64
}
fn default_requests() -> u32 {
    50
}
fn default_wall_deadline() -> HumanDuration {
    HumanDuration(crate::host::state::DEFAULT_WALL_DEADLINE)
}
fn default_store_per_channel() -> u32 {
    4096
}
fn default_cache_kb() -> u32 {
    crate::store::DEFAULT_CACHE_KB
}
fn default_order_kb() -> u32 {
    256
}
fn default_pages_per_pass() -> u32 {
    10_000
}
fn default_log_lines() -> u32 {
    crate::host::state::DEFAULT_LOG_LINES
}
fn default_schedule() -> Schedule {
    Schedule::Every(std::time::Duration::from_secs(300))
}
fn default_lookback() -> HumanDuration {
    HumanDuration(std::time::Duration::from_secs(600))
}
fn default_page_size() -> u32 {
    250
}
pub(crate) fn empty_settings() -> Spanned<BTreeMap<String, SettingValue>> {
    Spanned::new(0..0, BTreeMap::new())
}

impl Default for DaemonConfig {
    fn default() -> Self {
        DaemonConfig {
            data_dir: default_data_dir(),
            log_format: LogFormat::default(),
            log_level: default_log_level(),
            shutdown_grace: default_grace(),
            max_concurrent_syncs: default_concurrency(),
            stopped_retry: default_stopped_retry(),
            http_listen: None,
            store_cache_mb: default_store_cache(),
            min_free_mb: default_min_free(),
            plugins: PluginLimits::default(),
        }
    }
}

impl Default for PluginLimits {
    fn default() -> Self {
        PluginLimits {
            cpu_deadline: default_deadline(),
            memory_mb: default_memory(),
            max_requests_per_call: default_requests(),
            wall_deadline: default_wall_deadline(),
            max_log_lines_per_call: default_log_lines(),
            max_order_kb: default_order_kb(),
            max_pages_per_pass: default_pages_per_pass(),
            cache_kb: default_cache_kb(),
            max_store_mb_per_channel: default_store_per_channel(),
        }
    }
}

/// A parsed config and where it came from.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub config: Config,
    pub path: PathBuf,
    /// Directory relative paths are resolved against.
    pub base: PathBuf,
    pub locator: Locator,
}

impl LoadedConfig {
    /// Read and check `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.to_path_buf(),
            line: 0,
            column: 0,
            key: String::new(),
            message: format!("cannot read: {e}"),
        })?;
        Self::parse(path, &text)
    }

    /// Parse and check `text` as if read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Self, ConfigError> {
        let locator = Locator::new(path, text);
        let deserializer = toml::Deserializer::parse(text).map_err(|e| {
            locator.error(
                e.span().map(|s| s.start),
                "",
                e.message().trim().to_string(),
            )
        })?;
        let config: Config = serde_path_to_error::deserialize(deserializer).map_err(|e| {
            let key = e.path().to_string();
            let inner = e.into_inner();
            let key = if key == "." { String::new() } else { key };
            locator.error(
                inner.span().map(|s| s.start),
                key,
                inner.message().trim().to_string(),
            )
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let base = if base.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            base
        };
        let loaded = LoadedConfig {
            config,
            path: path.to_path_buf(),
            base,
            locator,
        };
        loaded.check()?;
        Ok(loaded)
    }

    /// Ranges of the `[daemon]` numbers and durations.
    fn check_daemon(&self) -> Result<(), ConfigError> {
        let d = &self.config.daemon;
        let p = &d.plugins;
        let ms = |h: &HumanDuration| h.0.as_millis();
        let checks: [(&str, bool, &str); 14] = [
            (
                "daemon.http_listen",
                d.http_listen
                    .as_deref()
                    .is_none_or(|l| l.parse::<std::net::SocketAddr>().is_ok()),
                "an address and port such as \"127.0.0.1:9464\"",
            ),
            (
                "daemon.stopped_retry",
                (1_000..=21_600_000).contains(&ms(&d.stopped_retry)),
                "from 1s to 6h",
            ),
            (
                "daemon.plugins.max_store_mb_per_channel",
                p.max_store_mb_per_channel >= 1,
                "at least 1 (MiB)",
            ),
            (
                "daemon.min_free_mb",
                d.min_free_mb <= 1_048_576,
                "at most 1048576 (MiB)",
            ),
            (
                "daemon.max_concurrent_syncs",
                (1..=256).contains(&d.max_concurrent_syncs),
                "from 1 to 256",
            ),
            (
                "daemon.store_cache_mb",
                (1..=4096).contains(&d.store_cache_mb),
                "from 1 to 4096",
            ),
            (
                "daemon.plugins.memory_mb",
                (1..=1024).contains(&p.memory_mb),
                "from 1 to 1024 (MiB)",
            ),
            (
                "daemon.plugins.cpu_deadline",
                (10..=600_000).contains(&ms(&p.cpu_deadline)),
                "from 10ms to 10m",
            ),
            (
                "daemon.plugins.wall_deadline",
                (100..=3_600_000).contains(&ms(&p.wall_deadline)),
                "from 100ms to 1h",
            ),
            (
                "daemon.plugins.max_requests_per_call",
                (1..=100_000).contains(&p.max_requests_per_call),
                "from 1 to 100000",
            ),
            (
                "daemon.plugins.max_log_lines_per_call",
                p.max_log_lines_per_call <= 100_000,
                "at most 100000",
            ),
            (
                "daemon.plugins.max_order_kb",
                (1..=65_536).contains(&p.max_order_kb),
                "from 1 to 65536 (KiB)",
            ),
            (
                "daemon.plugins.max_pages_per_pass",
                (1..=10_000_000).contains(&p.max_pages_per_pass),
                "from 1 to 10000000",
            ),
            (
                "daemon.plugins.cache_kb",
                (1..=1_048_576).contains(&p.cache_kb),
                "from 1 to 1048576 (KiB)",
            ),
        ];
        for (key, ok, range) in checks {
            if !ok {
                return Err(self.locator.error(
                    self.locator.find_key(key),
                    key,
                    format!("must be {range}"),
                ));
            }
        }
        Ok(())
    }

    fn check(&self) -> Result<(), ConfigError> {
        self.check_daemon()?;
        #[cfg(not(feature = "sandbox"))]
        if let Some(section) = &self.config.sandbox {
            return Err(self.locator.error(
                Some(section.span().start),
                "sandbox",
                "this tradelane was built without the sandbox (cargo feature `sandbox`); remove [sandbox] or build with default features",
            ));
        }
        for (i, n) in self.config.notify.iter().enumerate() {
            n.check(self, i)?;
        }
        if let Some(rates) = &self.config.rates {
            rates.get_ref().check(self, rates.span().start)?;
        }
        let mut sellers = HashSet::new();
        for (si, seller) in self.config.sellers.iter().enumerate() {
            let key = format!("sellers[{si}].id");
            check_id(&self.locator, &seller.id, &key)?;
            if !sellers.insert(seller.id.get_ref().as_str()) {
                return Err(self.locator.error(
                    Some(seller.id.span().start),
                    key,
                    format!("seller `{}` is defined twice", seller.id.get_ref()),
                ));
            }
            let mut channels = HashSet::new();
            for (ci, channel) in seller.channels.iter().enumerate() {
                let key = format!("sellers[{si}].channels[{ci}].id");
                check_id(&self.locator, &channel.id, &key)?;
                if !channels.insert(channel.id.get_ref().as_str()) {
                    return Err(self.locator.error(
                        Some(channel.id.span().start),
                        key,
                        format!(
                            "channel `{}` is defined twice for seller `{}`",
                            channel.id.get_ref(),
                            seller.id.get_ref()
                        ),
                    ));
                }
                self.check_plugin(
                    &channel.plugin,
                    &format!("sellers[{si}].channels[{ci}].plugin"),
                )?;
                if channel.page_size == 0 {
                    return Err(self.locator.error(
                        Some(channel.id.span().start),
                        format!("sellers[{si}].channels[{ci}].page_size"),
                        "must be at least 1",
                    ));
                }
            }
            if let Some(shipping) = &seller.shipping {
                shipping.check(self, &format!("sellers[{si}].shipping"))?;
            }
            if let Some(settlement) = &seller.settlement {
                let channels: Vec<&str> = seller
                    .channels
                    .iter()
                    .map(|c| c.id.get_ref().as_str())
                    .collect();
                settlement.check(self, &format!("sellers[{si}].settlement"), &channels)?;
            }
        }
        Ok(())
    }

    /// A plugin reference must name a built-in or an existing `.wasm` file.
    pub(crate) fn check_plugin(
        &self,
        plugin: &Spanned<String>,
        key: &str,
    ) -> Result<(), ConfigError> {
        let name = plugin.get_ref();
        if crate::host::builtin::find(name).is_some() {
            return Ok(());
        }
        let resolved = self.resolve(name);
        if name.ends_with(".wasm") && resolved.exists() {
            return Ok(());
        }
        let builtins: Vec<&str> = crate::host::builtin::BUILTIN
            .iter()
            .map(|(n, _)| *n)
            .collect();
        Err(self.locator.error(
            Some(plugin.span().start),
            key,
            format!(
                "`{name}` is neither a built-in plugin ({}) nor an existing .wasm file ({})",
                builtins.join(", "),
                resolved.display()
            ),
        ))
    }

    /// A path from the config, relative to the config file's directory.
    pub fn resolve(&self, path: impl AsRef<Path>) -> PathBuf {
        let p = path.as_ref();
        if p.is_absolute() || self.base == Path::new(".") {
            p.to_path_buf()
        } else {
            self.base.join(p)
        }
    }

    /// The data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.resolve(&self.config.daemon.data_dir)
    }

    /// `file:line` of a channel or account, for messages.
    pub fn location(&self, entry: &dyn Connection) -> String {
        self.locator.location(entry.id().span().start)
    }

    /// Every enabled (seller, channel) pair, optionally only one channel.
    pub fn channels(&self) -> impl Iterator<Item = (&SellerConfig, &ChannelConfig)> {
        self.config
            .sellers
            .iter()
            .flat_map(|s| s.channels.iter().map(move |c| (s, c)))
            .filter(|(_, c)| c.enabled)
    }
}

pub(crate) fn check_id(
    locator: &Locator,
    id: &Spanned<String>,
    key: &str,
) -> Result<(), ConfigError> {
    let text = id.get_ref();
    // Ids name directories (labels) and key the store: no `.`/`..`, no
    // hidden names.
    let ok = !text.is_empty()
        && text.len() <= 64
        && !text.starts_with('.')
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(locator.error(
            Some(id.span().start),
            key,
            format!("`{text}` must be 1-64 characters of letters, digits, `-`, `_` or `.`, not starting with `.`"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<LoadedConfig, ConfigError> {
        LoadedConfig::parse(Path::new("config.toml"), text)
    }

    #[test]
    fn unknown_key_names_line_and_path() {
        let err = parse("[daemon]\ndata_dir = \"x\"\n\n[[sellers]]\nid = \"a\"\n[[sellers.channels]]\nid = \"c\"\nplugin = \"shopify\"\nscheduel = \"every 5m\"\n").unwrap_err();
        assert_eq!(err.line, 9, "{err}");
        assert!(err.key.starts_with("sellers[0].channels[0]"), "{err}");
        assert!(err.to_string().contains("scheduel"), "{err}");
    }

    #[test]
    fn bad_values_are_located() {
        let err = parse("[[sellers]]\nid = \"a\"\n[[sellers.channels]]\nid = \"c\"\nplugin = \"shopify\"\nschedule = \"every often\"\n").unwrap_err();
        assert_eq!(
            (err.line, err.key.as_str()),
            (6, "sellers[0].channels[0].schedule"),
            "{err}"
        );
        let err = parse("[daemon]\nlog_format = \"xml\"\n").unwrap_err();
        assert_eq!(
            (err.line, err.key.as_str()),
            (2, "daemon.log_format"),
            "{err}"
        );
        let err =
            parse("[[sellers]]\nid = \"a\"\n[[sellers.channels]]\nid = \"c\"\nplugin = \"nope\"\n")
                .unwrap_err();
        assert_eq!(err.line, 5, "{err}");
        assert!(err.message.contains("built-in"), "{err}");
        let err = parse("[[sellers]]\nid = \"a b\"\n").unwrap_err();
        assert_eq!(err.line, 2, "{err}");
    }

    const SHIPPING: &str = "[[sellers]]\nid = \"a\"\n[sellers.shipping]\nvalue_currency = \"GBP\"\n[sellers.shipping.ship_from]\nname = \"n\"\nline1 = \"l\"\ncity = \"c\"\ncountry = \"GB\"\n[[sellers.shipping.carriers]]\nid = \"ep\"\nplugin = \"easypost\"\n";

    #[test]
    fn amounts_compared_with_no_rate_from_anywhere_are_refused_at_load() {
        let rule = "[[sellers.shipping.rules]]\ncarrier = \"ep\"\nmax_value = \"100.00\"\n";
        let err = parse(&format!("{SHIPPING}{rule}")).unwrap_err();
        assert_eq!(
            (err.line, err.key.as_str()),
            (14, "sellers[0].shipping.rules[0]"),
            "{err}"
        );
        assert!(err.message.contains("add [rates]"), "{err}");
        // A rate source, fetched or configured, makes it fine.
        assert!(parse(&format!("[rates]\n{SHIPPING}{rule}")).is_ok());
        assert!(
            parse(&format!(
                "{SHIPPING}{rule}[sellers.shipping.fx]\nEUR = \"0.86\"\n"
            ))
            .is_ok()
        );
        let ioss = SHIPPING.replace(
            "value_currency = \"GBP\"\n",
            "value_currency = \"GBP\"\nioss_number = \"IM3720000224\"\n",
        );
        let err = parse(&ioss).unwrap_err();
        assert_eq!(
            (err.line, err.key.as_str()),
            (5, "sellers[0].shipping.ioss_number"),
            "{err}"
        );
    }

    #[test]
    fn shipping_errors_name_line_and_key() {
        assert!(parse(SHIPPING).is_ok());
        let err = parse(&format!(
            "{SHIPPING}[[sellers.shipping.rules]]\ncarrier = \"dhl\"\n"
        ))
        .unwrap_err();
        assert_eq!(
            (err.line, err.key.as_str()),
            (14, "sellers[0].shipping.rules[0].carrier"),
            "{err}"
        );
        assert!(
            err.message
                .contains("no carrier account `dhl` (accounts: ep)"),
            "{err}"
        );
        let err = parse(&format!(
            "{SHIPPING}[[sellers.shipping.rules]]\ncarrier = \"ep\"\nmax_price = \"9.999\"\n"
        ))
        .unwrap_err();
        assert_eq!(err.key, "sellers[0].shipping.rules[0].max_price", "{err}");
        assert!(err.message.contains("more decimals than GBP"), "{err}");
        let err = parse(&format!(
            "{SHIPPING}[[sellers.shipping.rules]]\ncarrier = \"ep\"\nmax_price = 9.5\n"
        ))
        .unwrap_err();
        assert_eq!(
            (err.line, err.key.as_str()),
            (15, "sellers[0].shipping.rules[0].max_price"),
            "{err}"
        );
        assert!(
            err.message.contains("is a float; write amounts as text"),
            "{err}"
        );
        let err = parse(&SHIPPING.replace("country = \"GB\"", "country = \"UK1\"")).unwrap_err();
        assert_eq!(
            (err.line, err.key.as_str()),
            (9, "sellers[0].shipping.ship_from.country"),
            "{err}"
        );
        let err = parse(&format!(
            "{SHIPPING}[sellers.catalogue.\"MUG\"]\nhs_code = \"6912.00\"\nweight = 3\n"
        ))
        .unwrap_err();
        assert_eq!(
            (err.line, err.key.as_str()),
            (15, "sellers[0].catalogue.MUG.weight"),
            "{err}"
        );
        // A 4-digit heading or a placeholder is no HS code: refused at its line.
        for (code, says) in [("6912", "at least the 6-digit"), ("TBD", "not an HS code")] {
            let err = parse(&format!(
                "{SHIPPING}[sellers.catalogue.\"MUG\"]\nhs_code = \"{code}\"\n"
            ))
            .unwrap_err();
            assert_eq!(
                (err.line, err.key.as_str()),
                (14, "sellers[0].catalogue.MUG.hs_code"),
                "{err}"
            );
            assert!(err.message.contains(says), "{err}");
        }
        let err =
            parse(&SHIPPING.replace("plugin = \"easypost\"", "plugin = \"fedex\"")).unwrap_err();
        assert_eq!(
            (err.line, err.key.as_str()),
            (12, "sellers[0].shipping.carriers[0].plugin"),
            "{err}"
        );
        let err = parse(&format!(
            "{SHIPPING}[sellers.shipping.fx]\nEURO = \"1.1\"\n"
        ))
        .unwrap_err();
        assert_eq!(err.key, "sellers[0].shipping.fx.EURO", "{err}");
    }

    #[test]
    fn settlement_errors_name_line_and_key() {
        let base = "[[sellers]]\nid = \"a\"\n[sellers.settlement]\ncurrency = \"EUR\"\n";
        assert!(parse(base).is_ok());
        let err = parse(&format!(
            "{base}[sellers.settlement.reference]\npattern = '^#?(\\d+'\n"
        ))
        .unwrap_err();
        assert_eq!(
            (err.line, err.key.as_str()),
            (6, "sellers[0].settlement.reference.pattern"),
            "{err}"
        );
        assert!(err.message.contains("is not a regular expression"), "{err}");
        let err = parse(&base.replace("\"EUR\"", "\"EURO\"")).unwrap_err();
        assert_eq!(
            (err.line, err.key.as_str()),
            (4, "sellers[0].settlement.currency"),
            "{err}"
        );
        let err = parse(&format!("{base}[[sellers.settlement.accounts]]\nid = \"s\"\nplugin = \"stripe\"\nschedule = \"often\"\n")).unwrap_err();
        assert_eq!(
            (err.line, err.key.as_str()),
            (8, "sellers[0].settlement.accounts[0].schedule"),
            "{err}"
        );
    }

    mod never_panics {
        use super::*;
        use proptest::prelude::*;

        /// Values of every shape for the keys config knows.
        fn value() -> impl Strategy<Value = String> {
            prop_oneof![
                any::<i64>().prop_map(|n| n.to_string()),
                any::<f64>().prop_map(|f| format!("{f:?}")),
                "[a-zA-Z0-9 ./:_-]{0,24}".prop_map(|s| format!("{s:?}")),
                "[0-9]{1,20}[smhdwy]{1,2}".prop_map(|s| format!("{s:?}")),
                Just("true".to_string()),
                Just("[]".to_string()),
                Just("{ env = \"X\" }".to_string()),
            ]
        }

        const KEYS: &[(&str, &str)] = &[
            ("daemon", "data_dir"),
            ("daemon", "shutdown_grace"),
            ("daemon", "max_concurrent_syncs"),
            ("daemon", "store_cache_mb"),
            ("daemon.plugins", "cpu_deadline"),
            ("daemon.plugins", "memory_mb"),
            ("daemon.plugins", "wall_deadline"),
            ("daemon.plugins", "max_order_kb"),
            ("sellers.channels", "schedule"),
            ("sellers.channels", "lookback"),
            ("sellers.channels", "page_size"),
            ("sellers.channels", "id"),
            ("sellers.settlement", "history"),
            ("sellers.settlement", "unsettled_after"),
            ("sellers.settlement", "currency"),
            ("sellers.shipping", "value_currency"),
            ("sellers.shipping", "track_for"),
            ("sellers.shipping", "max_attempts"),
        ];

        proptest! {
            #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

            #[test]
            fn on_any_text(text in "\\PC{0,200}") {
                let _ = parse(&text);
            }

            #[test]
            fn on_any_value_of_a_known_key(key in 0..KEYS.len(), v in value()) {
                let (table, name) = KEYS[key];
                let text = match table {
                    "daemon" | "daemon.plugins" => format!("[{table}]\n{name} = {v}\n"),
                    "sellers.channels" => format!(
                        "[[sellers]]\nid = \"s\"\n[[sellers.channels]]\nid = \"c\"\nplugin = \"shopify\"\n{name} = {v}\n"
                    ),
                    _ => format!("[[sellers]]\nid = \"s\"\n[{table}]\n{name} = {v}\n"),
                };
                let _ = parse(&text);
            }

            #[test]
            fn since_on_any_text(text in "\\PC{0,40}|[0-9]{1,25}[a-z]{1,6}") {
                let _ = crate::cli::orders::parse_since(&text);
            }
        }
    }

    #[test]
    fn syntax_errors_have_a_line() {
        let err = parse("[daemon\n").unwrap_err();
        assert_eq!(err.line, 1, "{err}");
    }
}

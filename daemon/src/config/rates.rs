//! `[rates]`: where the daemon fetches the exchange rates it applies itself
//! (the ECB's euro reference rates: customs values, the book currency).
//!
//! ```toml
//! [rates]
//! ecb_url = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-hist-90d.xml"
//! schedule = "every 6h"
//! ```

use super::{LoadedConfig, yes};
use crate::config::ConfigError;
use crate::schedule::Schedule;
use serde::Deserialize;
use toml::Spanned;

/// `[rates]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatesConfig {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// An ECB reference-rate document: the 90-day history (default), the
    /// daily file, or the full history.
    #[serde(default = "default_ecb_url")]
    pub ecb_url: Spanned<String>,
    /// How often the rates are fetched again (the ECB publishes once a
    /// working day, around 16:00 CET).
    #[serde(default = "default_schedule")]
    pub schedule: Schedule,
    /// Plain http to loopback (the sandbox's ECB, tests).
    #[serde(default)]
    pub allow_loopback: bool,
}

/// The ECB's last 90 days: enough for the customs rate of this month and
/// last, and for settlement's look-back.
pub const ECB_90_DAYS: &str = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-hist-90d.xml";

fn default_ecb_url() -> Spanned<String> {
    Spanned::new(0..0, ECB_90_DAYS.to_string())
}

fn default_schedule() -> Schedule {
    Schedule::Every(std::time::Duration::from_secs(6 * 3600))
}

impl RatesConfig {
    pub(crate) fn check(&self, loaded: &LoadedConfig, start: usize) -> Result<(), ConfigError> {
        let url = self.ecb_url.get_ref();
        super::notify::check_url(url).map_err(|why| {
            let at = if self.ecb_url.span().is_empty() {
                start
            } else {
                self.ecb_url.span().start
            };
            loaded.locator.error(Some(at), "rates.ecb_url", why)
        })
    }
}

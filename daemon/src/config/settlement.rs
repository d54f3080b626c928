//! `[sellers.settlement]`: where a seller is paid, in which currency, and
//! how a payout line's order reference finds its order.
//!
//! ```toml
//! [sellers.settlement]
//! currency = "EUR"                 # what the payouts arrive in
//! tolerance_minor = 1              # rounding allowed when comparing amounts
//! unsettled_after = "7d"           # a paid order with no charge by then is flagged
//! [sellers.settlement.reference]
//! field = "number"                 # or "external_id"
//! pattern = '^#?(\d+)$'            # one capture group: the value to match
//! [[sellers.settlement.accounts]]
//! id = "stripe"
//! plugin = "stripe"
//! settings = { secret_key = { env = "STRIPE_KEY" } }
//! ```

use super::shipping::CurrencyCode;
use super::{HumanDuration, connection_struct, yes};
use crate::schedule::Schedule;
use serde::{Deserialize, Deserializer};

/// `[sellers.settlement]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettlementConfig {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The currency payouts arrive in.
    pub currency: CurrencyCode,
    /// How often every account is read.
    #[serde(default = "default_schedule")]
    pub schedule: Schedule,
    /// Rounding allowed when an amount is compared with its order, in minor units.
    #[serde(default = "default_tolerance")]
    pub tolerance_minor: i64,
    /// A paid order with no charge this long after it was placed is a discrepancy.
    #[serde(default = "default_unsettled")]
    pub unsettled_after: HumanDuration,
    /// Payouts created this far back are read again (their status changes).
    #[serde(default = "default_lookback")]
    pub lookback: HumanDuration,
    /// Where payouts are read from at first (no cursor yet).
    #[serde(default = "default_history")]
    pub history: HumanDuration,
    #[serde(default)]
    pub reference: ReferenceConfig,
    /// The channels whose orders these accounts settle (default: every
    /// channel). Marketplaces that pay the seller out themselves (Amazon,
    /// eBay) are left out, or each of their paid orders would be reported
    /// as unsettled here.
    #[serde(default)]
    pub channels: Option<toml::Spanned<Vec<String>>>,
    #[serde(default)]
    pub accounts: Vec<PaymentAccountConfig>,
}

connection_struct! {
    /// `[[sellers.settlement.accounts]]`: one payment provider account.
    pub struct PaymentAccountConfig {
        /// The payment gateways, as channels name them (Shopify's
        /// `payment_gateway_names`), whose money this account pays out.
        /// Default: the plugin's name (`stripe`, `paypal`).
        pub gateways: Option<Vec<String>>,
    }
}

impl PaymentAccountConfig {
    /// The gateways this account settles, lower case.
    pub fn settled_gateways(&self) -> Vec<String> {
        match &self.gateways {
            Some(list) => list.iter().map(|g| g.trim().to_ascii_lowercase()).collect(),
            None => {
                let plugin = self.plugin.get_ref();
                let name = std::path::Path::new(plugin)
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or(plugin);
                vec![name.to_ascii_lowercase()]
            }
        }
    }
}

/// Which order field a reference is matched against.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferenceField {
    /// The number a human sees (`#1001`, compared without `#`).
    #[default]
    Number,
    /// The channel's id of the order.
    ExternalId,
}

/// `[sellers.settlement.reference]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceConfig {
    #[serde(default)]
    pub field: ReferenceField,
    /// A regular expression whose first capture group (or whole match) is
    /// the value compared with `field`.
    #[serde(default = "default_pattern")]
    pub pattern: Pattern,
}

impl Default for ReferenceConfig {
    fn default() -> Self {
        ReferenceConfig {
            field: ReferenceField::Number,
            pattern: default_pattern(),
        }
    }
}

/// A compiled regular expression from config.
#[derive(Debug, Clone)]
pub struct Pattern(pub regex::Regex);

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        regex::Regex::new(&text).map(Pattern).map_err(|e| {
            serde::de::Error::custom(format!("`{text}` is not a regular expression: {e}"))
        })
    }
}

fn default_pattern() -> Pattern {
    Pattern(regex::Regex::new(r"^#?(\d+)$").expect("a valid pattern"))
}
fn default_schedule() -> Schedule {
    Schedule::Every(std::time::Duration::from_secs(300))
}
fn default_tolerance() -> i64 {
    1
}
fn default_unsettled() -> HumanDuration {
    HumanDuration(std::time::Duration::from_secs(7 * 86_400))
}
fn default_lookback() -> HumanDuration {
    HumanDuration(std::time::Duration::from_secs(3 * 86_400))
}
fn default_history() -> HumanDuration {
    HumanDuration(std::time::Duration::from_secs(90 * 86_400))
}

impl SettlementConfig {
    /// Checks across entries: ids, plugins, tolerance.
    pub(super) fn check(
        &self,
        loaded: &super::LoadedConfig,
        prefix: &str,
        seller_channels: &[&str],
    ) -> Result<(), super::error::ConfigError> {
        if let Some(channels) = &self.channels {
            for c in channels.get_ref() {
                if !seller_channels.contains(&c.as_str()) {
                    return Err(loaded.locator.error(
                        Some(channels.span().start),
                        format!("{prefix}.channels"),
                        format!(
                            "`{c}` is not a channel of this seller (its channels: {})",
                            seller_channels.join(", ")
                        ),
                    ));
                }
            }
        }
        let mut ids = std::collections::HashSet::new();
        for (i, account) in self.accounts.iter().enumerate() {
            let key = format!("{prefix}.accounts[{i}]");
            super::check_id(&loaded.locator, &account.id, &format!("{key}.id"))?;
            if !ids.insert(account.id.get_ref().as_str()) {
                return Err(loaded.locator.error(
                    Some(account.id.span().start),
                    format!("{key}.id"),
                    format!(
                        "payment account `{}` is defined twice",
                        account.id.get_ref()
                    ),
                ));
            }
            loaded.check_plugin(&account.plugin, &format!("{key}.plugin"))?;
        }
        if self.tolerance_minor < 0 {
            let at = self.accounts.first().map(|a| a.id.span().start);
            return Err(loaded.locator.error(
                at,
                format!("{prefix}.tolerance_minor"),
                "must be 0 or more",
            ));
        }
        Ok(())
    }
}

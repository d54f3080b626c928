//! A seller's `[sellers.settlement]`, resolved for matching.

use crate::config::settlement::{ReferenceField, SettlementConfig};
use crate::model::{Currency, Order};

/// What reconciliation decides with.
#[derive(Debug, Clone)]
pub struct SettlementPolicy {
    pub currency: Currency,
    pub tolerance_minor: i64,
    pub unsettled_after: chrono::Duration,
    pub lookback: chrono::Duration,
    pub history: chrono::Duration,
    pub field: ReferenceField,
    pub pattern: regex::Regex,
    /// The channels settled here; `None`: every channel.
    pub channels: Option<std::collections::BTreeSet<String>>,
    /// The payment gateways the seller's enabled accounts pay out.
    pub gateways: std::collections::BTreeSet<String>,
}

impl SettlementPolicy {
    /// Resolve a checked table.
    pub fn new(c: &SettlementConfig) -> Self {
        let d =
            |h: crate::config::HumanDuration| chrono::Duration::from_std(h.0).unwrap_or_default();
        SettlementPolicy {
            currency: c.currency.0,
            tolerance_minor: c.tolerance_minor,
            unsettled_after: d(c.unsettled_after),
            lookback: d(c.lookback),
            history: d(c.history),
            field: c.reference.field,
            pattern: c.reference.pattern.0.clone(),
            channels: c
                .channels
                .as_ref()
                .map(|l| l.get_ref().iter().cloned().collect()),
            gateways: c
                .accounts
                .iter()
                .filter(|a| a.enabled)
                .flat_map(|a| a.settled_gateways())
                .collect(),
        }
    }

    /// Whether some account can pay out an order paid through `gateways`
    /// (an order whose channel names no gateway: any account may).
    pub fn can_settle(&self, gateways: &[String]) -> bool {
        gateways.is_empty() || gateways.iter().any(|g| self.gateways.contains(g))
    }

    /// Whether orders of `channel` are settled by these accounts.
    pub fn settles(&self, channel: &str) -> bool {
        self.channels.as_ref().is_none_or(|c| c.contains(channel))
    }

    /// The value a reference names (`#1001` → `1001` with the default
    /// pattern): the first capture group, else the whole match.
    pub fn key_of(&self, reference: &str) -> Option<String> {
        let caps = self.pattern.captures(reference.trim())?;
        caps.get(1)
            .or_else(|| caps.get(0))
            .map(|m| m.as_str().to_string())
            .filter(|k| !k.is_empty())
    }

    /// The key an order is found under.
    pub fn key_for(&self, order: &Order) -> String {
        match self.field {
            ReferenceField::Number => order.number.trim_start_matches('#').to_string(),
            ReferenceField::ExternalId => order.external_id.clone(),
        }
    }
}

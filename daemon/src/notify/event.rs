//! What tradelane tells a person about.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// The kinds of event a sink may subscribe to (`[[notify]] events`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A channel stopped for something a person must fix.
    ChannelStopped,
    /// A stopped channel works again.
    ChannelRecovered,
    /// An order's shipment was held with a reason.
    OrderHeld,
    /// An order's shipment failed for good.
    OrderDeadLettered,
    /// Settlement found money that does not add up.
    DiscrepancyOpened,
    /// Syncs and workflows paused to keep the disk reserve.
    DiskSpaceLow,
    /// A plugin ran into one of its limits (CPU, memory, wall time, pages…).
    PluginLimitHit,
}

impl EventKind {
    /// Every kind, in the order they are documented.
    pub const ALL: [EventKind; 7] = [
        EventKind::ChannelStopped,
        EventKind::ChannelRecovered,
        EventKind::OrderHeld,
        EventKind::OrderDeadLettered,
        EventKind::DiscrepancyOpened,
        EventKind::DiskSpaceLow,
        EventKind::PluginLimitHit,
    ];

    /// The name used in config and payloads, e.g. `channel_stopped`.
    pub fn name(self) -> &'static str {
        match self {
            EventKind::ChannelStopped => "channel_stopped",
            EventKind::ChannelRecovered => "channel_recovered",
            EventKind::OrderHeld => "order_held",
            EventKind::OrderDeadLettered => "order_dead_lettered",
            EventKind::DiscrepancyOpened => "discrepancy_opened",
            EventKind::DiskSpaceLow => "disk_space_low",
            EventKind::PluginLimitHit => "plugin_limit_hit",
        }
    }

    /// The kind named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// A short human title, e.g. "channel stopped".
    pub fn title(self) -> &'static str {
        match self {
            EventKind::ChannelStopped => "channel stopped",
            EventKind::ChannelRecovered => "channel recovered",
            EventKind::OrderHeld => "order held",
            EventKind::OrderDeadLettered => "order dead-lettered",
            EventKind::DiscrepancyOpened => "settlement discrepancy",
            EventKind::DiskSpaceLow => "disk space low",
            EventKind::PluginLimitHit => "plugin limit hit",
        }
    }

    /// Whether it needs someone soon (ntfy priority, Slack emphasis).
    pub fn urgent(self) -> bool {
        matches!(
            self,
            EventKind::ChannelStopped | EventKind::OrderDeadLettered | EventKind::DiskSpaceLow
        )
    }
}

/// One thing that happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    #[serde(rename = "type")]
    pub kind: EventKind,
    /// The seller, when the event belongs to one.
    pub seller: Option<String>,
    /// The channel, workflow or account it is about (`shopify`,
    /// `shipping`, `carrier:easypost`…), when it belongs to one.
    pub channel: Option<String>,
    /// What happened and, where known, what to do.
    pub message: String,
    pub at: DateTime<Utc>,
}

/// The longest message an event carries (remote text can be long).
pub const MAX_MESSAGE_CHARS: usize = 1_000;

impl Event {
    /// An event now.
    pub fn new(
        kind: EventKind,
        seller: Option<&str>,
        channel: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        let message: String = message.into();
        let message = crate::text::plain(&message)
            .chars()
            .take(MAX_MESSAGE_CHARS)
            .collect();
        Event {
            kind,
            seller: seller.map(str::to_string),
            channel: channel.map(str::to_string),
            message,
            at: Utc::now(),
        }
    }

    /// `seller/channel`, or what of it is known; `tradelane` for neither.
    pub fn subject(&self) -> String {
        match (&self.seller, &self.channel) {
            (Some(s), Some(c)) => format!("{s}/{c}"),
            (Some(s), None) => s.clone(),
            (None, Some(c)) => c.clone(),
            (None, None) => "tradelane".into(),
        }
    }
}

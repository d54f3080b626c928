//! A message as each sink renders it: one event, or a digest of what a
//! window held back.

use super::debounce::DigestEntry;
use super::event::Event;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// What a sink sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// One event, sent as it happened.
    Event(Event),
    /// What the windows that ended held back.
    Digest {
        entries: Vec<DigestEntry>,
        /// Events lost because the sink could not keep up.
        dropped: u64,
        /// The window length.
        window: Duration,
        at: DateTime<Utc>,
    },
}

impl Message {
    /// The payload's `type`: an event kind, or `digest`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Message::Event(e) => e.kind.name(),
            Message::Digest { .. } => "digest",
        }
    }

    /// One line: `channel stopped: shop-a/shopify`.
    pub fn title(&self) -> String {
        match self {
            Message::Event(e) => format!("{}: {}", e.kind.title(), e.subject()),
            Message::Digest { entries, .. } => {
                let total: u64 = entries.iter().map(|e| e.count).sum();
                format!("digest: {total} more event(s)")
            }
        }
    }

    /// Whether it needs someone soon.
    pub fn urgent(&self) -> bool {
        match self {
            Message::Event(e) => e.kind.urgent(),
            Message::Digest { entries, .. } => entries.iter().any(|e| e.kind.urgent()),
        }
    }

    /// The body, as plain text.
    pub fn text(&self) -> String {
        match self {
            Message::Event(e) => format!(
                "{}\n\n{} at {}",
                e.message,
                e.subject(),
                e.at.format("%Y-%m-%d %H:%M:%S UTC")
            ),
            Message::Digest {
                entries,
                dropped,
                window,
                ..
            } => {
                let mut out = format!(
                    "More of the same in the last {} (one message per kind and channel per window):\n",
                    humantime::format_duration(*window)
                );
                for e in entries {
                    out.push_str(&format!(
                        "\n{} × {} for {}",
                        e.count,
                        e.kind.title(),
                        e.subject
                    ));
                    for s in &e.samples {
                        out.push_str(&format!("\n  - {s}"));
                    }
                    if e.count > e.samples.len() as u64 {
                        out.push_str(&format!(
                            "\n  - … and {} more",
                            e.count - e.samples.len() as u64
                        ));
                    }
                }
                if *dropped > 0 {
                    out.push_str(&format!(
                        "\n\n{dropped} event(s) were dropped because this sink could not keep up; see the daemon's log"
                    ));
                }
                out
            }
        }
    }

    /// The webhook's JSON body.
    pub fn json(&self) -> serde_json::Value {
        match self {
            Message::Event(e) => serde_json::json!({
                "type": e.kind.name(),
                "seller": e.seller,
                "channel": e.channel,
                "message": e.message,
                "at": e.at,
            }),
            Message::Digest {
                entries,
                dropped,
                window,
                at,
            } => serde_json::json!({
                "type": "digest",
                "window_seconds": window.as_secs(),
                "entries": entries,
                "dropped": dropped,
                "at": at,
            }),
        }
    }
}

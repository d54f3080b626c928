//! Steering a running channel from outside: pause it, resume it, or ask
//! for a pass now and follow its pages (`tradelane channel pause|resume`,
//! `tradelane sync --once` while the daemon runs).
//!
//! Each channel's loop in the scheduler owns one [`ChannelControl`]; the
//! admin socket finds it by label in [`Controls`]. A pause lasts until
//! `resume`, a reload or a restart: the config stays the truth.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{Notify, broadcast};

/// Events of one channel's passes, for whoever follows them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum PassEvent {
    /// A page was committed.
    Page {
        /// The request number of the pass (see [`PassEvent::Done`]).
        serves: u64,
        page: u32,
        orders: usize,
        created: u32,
        updated: u32,
        unchanged: u32,
        last: bool,
    },
    /// A pass ended; `serves` is the request number it answered.
    Done {
        serves: u64,
        result: Result<PassSummary, String>,
    },
}

/// What a finished pass did.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct PassSummary {
    pub pages: u32,
    pub orders: usize,
    pub created: u32,
    pub updated: u32,
    pub unchanged: u32,
    pub quarantined: u32,
}

impl From<&crate::sync::PassReport> for PassSummary {
    fn from(r: &crate::sync::PassReport) -> Self {
        PassSummary {
            pages: r.pages,
            orders: r.orders,
            created: r.created,
            updated: r.updated,
            unchanged: r.unchanged,
            quarantined: r.quarantined,
        }
    }
}

/// One channel's handles.
pub struct ChannelControl {
    label: String,
    paused: AtomicBool,
    /// Wakes the channel's loop: a pause, a resume or a pass asked for.
    pub wake: Notify,
    /// Passes asked for so far; the loop serves them in order.
    requested: AtomicU64,
    events: broadcast::Sender<PassEvent>,
}

impl ChannelControl {
    /// The control of the channel `seller/channel`.
    pub fn new(label: String) -> Arc<Self> {
        Arc::new(ChannelControl {
            label,
            paused: AtomicBool::new(false),
            wake: Notify::new(),
            requested: AtomicU64::new(0),
            events: broadcast::channel(256).0,
        })
    }

    /// `seller/channel`.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Whether a person paused it.
    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::SeqCst)
    }

    /// Pause or resume; `false` when it already was.
    pub fn set_paused(&self, paused: bool) -> bool {
        let changed = self.paused.swap(paused, Ordering::SeqCst) != paused;
        self.wake.notify_one();
        changed
    }

    /// Ask for a pass now: the number the pass that answers will carry,
    /// and a receiver of its events (subscribed before the ask).
    pub fn ask_pass(&self) -> (u64, broadcast::Receiver<PassEvent>) {
        let events = self.events.subscribe();
        let n = self.requested.fetch_add(1, Ordering::SeqCst) + 1;
        self.wake.notify_one();
        (n, events)
    }

    /// The requests a pass starting now answers (all asked so far).
    pub fn serving(&self) -> u64 {
        self.requested.load(Ordering::SeqCst)
    }

    /// Whether a pass was asked for that no pass has started to serve.
    pub fn pass_wanted(&self, served: u64) -> bool {
        self.serving() > served
    }

    /// Tell followers (nobody listening is fine).
    pub fn publish(&self, event: PassEvent) {
        let _ = self.events.send(event);
    }
}

/// Every running channel's control, by `seller/channel`.
#[derive(Clone, Default)]
pub struct Controls(Arc<Mutex<BTreeMap<String, Arc<ChannelControl>>>>);

impl Controls {
    /// Replace every control (a new configuration's channels).
    pub fn replace(&self, controls: impl IntoIterator<Item = Arc<ChannelControl>>) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.clear();
        map.extend(controls.into_iter().map(|c| (c.label.clone(), c)));
    }

    /// The channels `wanted` names: `seller/channel`, a channel id (of
    /// every seller that has it), or every channel for `None`.
    pub fn find(&self, wanted: Option<&str>) -> Result<Vec<Arc<ChannelControl>>, String> {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let Some(wanted) = wanted else {
            return Ok(map.values().cloned().collect());
        };
        let found: Vec<_> = map
            .values()
            .filter(|c| {
                c.label == wanted || c.label.split_once('/').is_some_and(|(_, id)| id == wanted)
            })
            .cloned()
            .collect();
        if found.is_empty() {
            return Err(format!(
                "no enabled channel `{wanted}` runs in the daemon (running: {})",
                if map.is_empty() {
                    "none".into()
                } else {
                    map.keys().cloned().collect::<Vec<_>>().join(", ")
                }
            ));
        }
        Ok(found)
    }
}

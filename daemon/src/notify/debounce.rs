//! One message per event kind and subject per window, then a digest.
//!
//! The first event of a kind for a channel goes out at once and opens a
//! window. Events of the same kind and channel inside the window are
//! counted (with a few samples kept); when the window ends, what was
//! counted goes out in one digest and a new window opens, so a storm
//! costs one message per window, never one per event.

use super::event::{Event, EventKind};
use serde::Serialize;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Samples a digest entry keeps of the events it counts.
pub const SAMPLES: usize = 5;
/// Windows tracked at once; past it, the oldest closes early (a hostile
/// remote cannot make the map grow without bound).
pub const MAX_WINDOWS: usize = 1_024;

/// Events of one kind and subject that a window held back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DigestEntry {
    #[serde(rename = "type")]
    pub kind: EventKind,
    pub subject: String,
    pub count: u64,
    /// The first few messages.
    pub samples: Vec<String>,
}

struct Window {
    opened: Instant,
    held: u64,
    samples: Vec<String>,
}

/// What to do with an offered event.
#[derive(Debug, PartialEq, Eq)]
pub enum Offer {
    /// Send it now.
    Send,
    /// Counted for the digest.
    Held,
}

/// The windows of one sink.
pub struct Debouncer {
    every: Duration,
    windows: HashMap<(EventKind, String), Window>,
}

impl Debouncer {
    /// Windows of length `every`.
    pub fn new(every: Duration) -> Self {
        Debouncer {
            every,
            windows: HashMap::new(),
        }
    }

    /// Offer `event` at `now`.
    pub fn offer(&mut self, event: &Event, now: Instant) -> Offer {
        let key = (event.kind, event.subject());
        if let Some(w) = self.windows.get_mut(&key)
            && now.duration_since(w.opened) < self.every
        {
            w.held += 1;
            if w.samples.len() < SAMPLES {
                w.samples.push(event.message.clone());
            }
            return Offer::Held;
        }
        if self.windows.len() >= MAX_WINDOWS && !self.windows.contains_key(&key) {
            // Forget the oldest window that holds nothing back.
            if let Some(oldest) = self
                .windows
                .iter()
                .filter(|(_, w)| w.held == 0)
                .min_by_key(|(_, w)| w.opened)
                .map(|(k, _)| k.clone())
            {
                self.windows.remove(&oldest);
            } else {
                return Offer::Held;
            }
        }
        self.windows.insert(
            key,
            Window {
                opened: now,
                held: 0,
                samples: Vec::new(),
            },
        );
        Offer::Send
    }

    /// The windows that ended by `now`: what they held back, as digest
    /// entries (sorted). A window that held something opens again; one
    /// that held nothing is forgotten.
    pub fn due(&mut self, now: Instant) -> Vec<DigestEntry> {
        let every = self.every;
        let mut out = Vec::new();
        self.windows.retain(|(kind, subject), w| {
            if now.duration_since(w.opened) < every {
                return true;
            }
            if w.held == 0 {
                return false;
            }
            out.push(DigestEntry {
                kind: *kind,
                subject: subject.clone(),
                count: w.held,
                samples: std::mem::take(&mut w.samples),
            });
            w.held = 0;
            w.opened = now;
            true
        });
        out.sort_by(|a, b| (a.kind, &a.subject).cmp(&(b.kind, &b.subject)));
        out
    }

    /// Everything held back, whatever the windows (on shutdown).
    pub fn drain(&mut self) -> Vec<DigestEntry> {
        let far = Instant::now() + self.every + Duration::from_secs(1);
        self.due(far)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: EventKind, channel: &str, message: &str) -> Event {
        Event::new(kind, Some("shop"), Some(channel), message)
    }

    #[test]
    fn the_first_event_goes_out_and_the_rest_of_the_hour_becomes_one_digest() {
        let hour = Duration::from_secs(3600);
        let mut d = Debouncer::new(hour);
        let t0 = Instant::now();
        let held = |n: u32| event(EventKind::OrderHeld, "shopify", &format!("order #{n}"));
        assert_eq!(d.offer(&held(1), t0), Offer::Send);
        for n in 2..=12 {
            assert_eq!(d.offer(&held(n), t0 + Duration::from_secs(60)), Offer::Held);
        }
        // Another kind, or another channel, has its own window.
        assert_eq!(
            d.offer(&event(EventKind::ChannelStopped, "shopify", "401"), t0),
            Offer::Send
        );
        assert_eq!(
            d.offer(&event(EventKind::OrderHeld, "ebay", "order 9"), t0),
            Offer::Send
        );
        assert!(d.due(t0 + Duration::from_secs(1800)).is_empty());
        let digest = d.due(t0 + hour);
        assert_eq!(digest.len(), 1);
        assert_eq!(digest[0].kind, EventKind::OrderHeld);
        assert_eq!(digest[0].subject, "shop/shopify");
        assert_eq!(digest[0].count, 11);
        assert_eq!(digest[0].samples.len(), SAMPLES);
        assert_eq!(digest[0].samples[0], "order #2");
        // The storm goes on: still held, one digest per window.
        assert_eq!(d.offer(&held(13), t0 + hour), Offer::Held);
        assert_eq!(d.due(t0 + hour * 2)[0].count, 1);
        // A quiet window is forgotten: the next event goes out at once.
        assert!(d.due(t0 + hour * 3).is_empty());
        assert_eq!(d.offer(&held(14), t0 + hour * 3), Offer::Send);
    }

    #[test]
    fn windows_are_bounded() {
        let mut d = Debouncer::new(Duration::from_secs(60));
        let t0 = Instant::now();
        for n in 0..MAX_WINDOWS + 10 {
            let e = event(EventKind::OrderHeld, &format!("c{n}"), "x");
            assert_eq!(d.offer(&e, t0), Offer::Send);
        }
        assert!(d.windows.len() <= MAX_WINDOWS);
    }
}

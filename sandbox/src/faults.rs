//! Deterministic fault injection: the same seed gives the same sequence of
//! faults, so a failing test can be replayed.

use crate::config::SandboxFaults;
use std::time::Instant;

/// What to do to one API response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    ServerError(u16),
    /// 429 with this Retry-After (seconds, as text).
    TooManyRequests(&'static str),
    Truncate,
    Malformed,
}

/// The switchable faults plus the sandbox's own Shopify leaky bucket.
pub struct FaultState {
    pub faults: SandboxFaults,
    rng: fastrand::Rng,
    requests: u64,
    /// Shopify REST: 40-request bucket leaking 2 per second.
    bucket_used: f64,
    bucket_at: Instant,
}

/// Shopify's bucket size.
pub const BUCKET: f64 = 40.0;
const LEAK_PER_SECOND: f64 = 2.0;

impl FaultState {
    /// Faults from config, seeded.
    pub fn new(faults: SandboxFaults, seed: u64) -> Self {
        FaultState {
            faults,
            rng: fastrand::Rng::with_seed(seed ^ 0x5eed),
            requests: 0,
            bucket_used: 0.0,
            bucket_at: Instant::now(),
        }
    }

    /// Replace the faults (runtime switch).
    pub fn set(&mut self, faults: SandboxFaults) {
        self.faults = faults;
    }

    /// Decide the fate of the next API request, and the call-limit header value.
    pub fn next(&mut self, is_order_page: bool) -> (Fault, String) {
        self.requests += 1;
        let now = Instant::now();
        self.bucket_used = (self.bucket_used
            - now.duration_since(self.bucket_at).as_secs_f64() * LEAK_PER_SECOND)
            .max(0.0);
        self.bucket_at = now;
        let f = &self.faults;
        let usage = |used: f64| format!("{}/{}", used.ceil() as u32, BUCKET as u32);
        if f.rate_limit && self.bucket_used + 1.0 > BUCKET {
            return (Fault::TooManyRequests("1.0"), usage(self.bucket_used));
        }
        self.bucket_used += 1.0;
        let header = usage(self.bucket_used);
        if f.burst_429_every > 0 && self.requests.is_multiple_of(u64::from(f.burst_429_every)) {
            return (Fault::TooManyRequests("0.5"), header);
        }
        if f.error_percent > 0 && self.rng.u8(..100) < f.error_percent {
            return (
                Fault::ServerError(if self.rng.bool() { 500 } else { 503 }),
                header,
            );
        }
        if is_order_page {
            if f.truncate_percent > 0 && self.rng.u8(..100) < f.truncate_percent {
                return (Fault::Truncate, header);
            }
            if f.malformed_percent > 0 && self.rng.u8(..100) < f.malformed_percent {
                return (Fault::Malformed, header);
            }
        }
        (Fault::None, header)
    }

    /// The fate of a request to the simulated Amazon or eBay: the
    /// switchable 5xx and 429 faults (their own quotas are theirs).
    pub fn market_next(&mut self) -> Fault {
        self.requests += 1;
        let f = &self.faults;
        if f.burst_429_every > 0 && self.requests.is_multiple_of(u64::from(f.burst_429_every)) {
            return Fault::TooManyRequests("0.5");
        }
        if f.error_percent > 0 && self.rng.u8(..100) < f.error_percent {
            return Fault::ServerError(if self.rng.bool() { 500 } else { 503 });
        }
        Fault::None
    }

    /// Whether this carrier call fails before doing anything.
    pub fn carrier_error_now(&mut self) -> bool {
        let percent = self.faults.carrier_error_percent;
        percent > 0 && self.rng.u8(..100) < percent
    }

    /// Whether this purchase is answered with a 500 after it was made
    /// (counts down `carrier_error_after_buy`).
    pub fn take_carrier_error_after_buy(&mut self) -> bool {
        let left = &mut self.faults.carrier_error_after_buy;
        if *left > 0 {
            *left -= 1;
            true
        } else {
            false
        }
    }

    /// How long a purchase's answer is held.
    pub fn carrier_delay(&self) -> std::time::Duration {
        std::time::Duration::from_millis(u64::from(self.faults.carrier_delay_ms))
    }

    /// Added latency.
    pub fn latency(&self) -> std::time::Duration {
        std::time::Duration::from_millis(u64::from(self.faults.latency_ms))
    }
}

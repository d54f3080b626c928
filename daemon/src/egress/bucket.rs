//! A token bucket per channel, so the daemon paces itself before an API
//! has to refuse it. Refilled by time, and corrected by what the API says
//! is left (`X-Shopify-Shop-Api-Call-Limit: 39/40` leaves one).

use super::header;
use crate::model::{RateLimit, UsageHeader};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Requests available now, refilled continuously.
#[derive(Debug)]
pub struct TokenBucket {
    state: Mutex<State>,
    capacity: f64,
    per_second: f64,
    usage_header: Option<UsageHeader>,
}

#[derive(Debug)]
struct State {
    tokens: f64,
    at: Instant,
}

impl TokenBucket {
    /// A full bucket for the plugin's declared limit.
    pub fn new(limit: &RateLimit) -> Self {
        let capacity = f64::from(limit.burst.max(1));
        TokenBucket {
            state: Mutex::new(State {
                tokens: capacity,
                at: Instant::now(),
            }),
            capacity,
            per_second: f64::from(limit.milli_requests_per_second.max(1)) / 1000.0,
            usage_header: limit.usage_header.clone(),
        }
    }

    /// Wait until a request may go, then take its token.
    pub async fn acquire(&self) {
        loop {
            let wait = {
                let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
                self.refill(&mut s);
                if s.tokens >= 1.0 {
                    s.tokens -= 1.0;
                    return;
                }
                Duration::from_secs_f64((1.0 - s.tokens) / self.per_second)
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// Lower the bucket to what the API reports is left.
    pub fn observe(&self, headers: &[(String, String)]) {
        let Some(usage) = &self.usage_header else {
            return;
        };
        let left = match usage {
            UsageHeader::UsedOfLimit(name) => header(headers, name).and_then(|v| {
                let (used, limit) = v.split_once('/')?;
                let used: f64 = used.trim().parse().ok()?;
                let limit: f64 = limit.trim().parse().ok()?;
                Some((limit - used).max(0.0))
            }),
            UsageHeader::Remaining(name) => {
                header(headers, name).and_then(|v| v.trim().parse::<f64>().ok())
            }
        };
        if let Some(left) = left {
            let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
            self.refill(&mut s);
            s.tokens = s.tokens.min(left);
        }
    }

    /// Empty the bucket until `delay` has passed (after a 429).
    pub fn pause(&self, delay: Duration) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        self.refill(&mut s);
        s.tokens = -(delay.as_secs_f64() * self.per_second);
    }

    fn refill(&self, s: &mut State) {
        let now = Instant::now();
        let elapsed = now.duration_since(s.at).as_secs_f64();
        s.tokens = (s.tokens + elapsed * self.per_second).min(self.capacity);
        s.at = now;
    }

    /// Tokens available now (for tests and metrics).
    pub fn available(&self) -> f64 {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        self.refill(&mut s);
        s.tokens
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_header_lowers_the_bucket() {
        let bucket = TokenBucket::new(&RateLimit {
            milli_requests_per_second: 2000,
            burst: 40,
            usage_header: Some(UsageHeader::UsedOfLimit(
                "X-Shopify-Shop-Api-Call-Limit".into(),
            )),
        });
        assert!(bucket.available() > 39.0);
        bucket.observe(&[("x-shopify-shop-api-call-limit".into(), "38/40".into())]);
        assert!(bucket.available() < 2.5);
    }
}

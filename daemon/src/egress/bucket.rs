//! A token bucket per channel, so the daemon paces itself before an API
//! has to refuse it. Refilled by time, and corrected by what the API says
//! is left (`X-Shopify-Shop-Api-Call-Limit: 39/40` leaves one) or what
//! rate it applied (`x-amzn-RateLimit-Limit: 0.0056`).

use super::header;
use crate::model::{RateLimit, UsageHeader};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Requests available now, refilled continuously.
#[derive(Debug)]
pub struct TokenBucket {
    state: Mutex<State>,
    capacity: f64,
    usage_header: Option<UsageHeader>,
}

#[derive(Debug)]
struct State {
    tokens: f64,
    at: Instant,
    /// The declared rate, until the API states the one it applies.
    per_second: f64,
}

impl TokenBucket {
    /// A full bucket for the plugin's declared limit.
    pub fn new(limit: &RateLimit) -> Self {
        let capacity = f64::from(limit.burst.max(1));
        TokenBucket {
            state: Mutex::new(State {
                tokens: capacity,
                at: Instant::now(),
                per_second: f64::from(limit.milli_requests_per_second.max(1)) / 1000.0,
            }),
            capacity,
            usage_header: limit.usage_header.clone(),
        }
    }

    /// Wait until a request may go, then take its token.
    pub async fn acquire(&self) {
        let _ = self.acquire_within(Duration::MAX).await;
    }

    /// Wait until a request may go and take its token, unless that means
    /// waiting longer than `max`: then `Err` with the wait, and nothing
    /// taken (an API metered at a request every few minutes, as Amazon's
    /// searchOrders is, defers the pass instead of holding a call).
    pub async fn acquire_within(&self, max: Duration) -> Result<(), Duration> {
        loop {
            let wait = {
                let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
                self.refill(&mut s);
                if s.tokens >= 1.0 {
                    s.tokens -= 1.0;
                    return Ok(());
                }
                let seconds = (1.0 - s.tokens) / s.per_second;
                Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX)
            };
            if wait > max {
                return Err(wait);
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Lower the bucket to what the API reports is left.
    pub fn observe(&self, headers: &[(String, String)]) {
        let Some(usage) = &self.usage_header else {
            return;
        };
        if let UsageHeader::RatePerSecond(name) = usage {
            // The rate the API applied to this caller: at least one
            // request a day, at most a thousand a second.
            if let Some(rate) = header(headers, name).and_then(|v| v.trim().parse::<f64>().ok())
                && rate.is_finite()
            {
                let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
                self.refill(&mut s);
                s.per_second = rate.clamp(1.0 / 86_400.0, 1000.0);
            }
            return;
        }
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
            UsageHeader::RatePerSecond(_) => None,
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
        s.tokens = -(delay.as_secs_f64() * s.per_second);
    }

    fn refill(&self, s: &mut State) {
        let now = Instant::now();
        let elapsed = now.duration_since(s.at).as_secs_f64();
        s.tokens = (s.tokens + elapsed * s.per_second).min(self.capacity);
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

    #[tokio::test]
    async fn a_long_wait_is_reported_not_slept() {
        let bucket = TokenBucket::new(&RateLimit {
            milli_requests_per_second: 5,
            burst: 2,
            usage_header: None,
        });
        let max = Duration::from_secs(30);
        assert!(bucket.acquire_within(max).await.is_ok());
        assert!(bucket.acquire_within(max).await.is_ok());
        // The third of Amazon's searchOrders at 0.005/s waits 200 s.
        let wait = bucket.acquire_within(max).await.unwrap_err();
        assert!(
            wait > Duration::from_secs(190) && wait <= Duration::from_secs(200),
            "{wait:?}"
        );
    }

    #[test]
    fn a_stated_rate_replaces_the_declared_one() {
        let bucket = TokenBucket::new(&RateLimit {
            milli_requests_per_second: 1000,
            burst: 1,
            usage_header: Some(UsageHeader::RatePerSecond("x-amzn-RateLimit-Limit".into())),
        });
        bucket.observe(&[("x-amzn-ratelimit-limit".into(), "0.0056".into())]);
        bucket.pause(Duration::from_secs(1));
        // One second at 0.0056/s costs 0.0056 tokens, not one.
        assert!(bucket.available() > -0.01 && bucket.available() < 0.0);
        bucket.observe(&[("x-amzn-ratelimit-limit".into(), "NaN".into())]);
        bucket.observe(&[("x-amzn-ratelimit-limit".into(), "1e308".into())]);
    }
}

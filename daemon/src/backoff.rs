//! Retry delays shared by every loop that retries: channels, workflows,
//! and single shipments.

use std::time::Duration;

/// First retry delay after a failure; doubles per consecutive failure.
pub const BACKOFF_BASE: Duration = Duration::from_secs(5);
/// Longest delay between retries.
pub const BACKOFF_CAP: Duration = Duration::from_secs(15 * 60);

/// Exponential backoff with jitter, capped at [`BACKOFF_CAP`].
pub fn backoff(failures: u32) -> Duration {
    let exp = BACKOFF_BASE.saturating_mul(1u32 << failures.saturating_sub(1).min(10));
    let capped = exp.min(BACKOFF_CAP);
    capped.mul_f64(0.75 + fastrand::f64() * 0.25)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(1) <= BACKOFF_BASE);
        assert!(backoff(3) > backoff(1));
        assert!(backoff(30) <= BACKOFF_CAP);
    }
}

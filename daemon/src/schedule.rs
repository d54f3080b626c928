//! When a job runs: `every 5m` or a cron expression (UTC), and the
//! catch-up rule after downtime.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// A channel's `schedule`.
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    /// Fixed interval after the previous run.
    Every(Duration),
    /// A cron expression, evaluated in UTC (5 or 6 fields, via croner).
    Cron(Box<croner::Cron>),
}

impl FromStr for Schedule {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let t = text.trim();
        if let Some(every) = t.strip_prefix("every ") {
            let d = humantime::parse_duration(every.trim()).map_err(|e| {
                format!("`{text}`: `{every}` is not a duration like 30s or 5m ({e})")
            })?;
            if d < Duration::from_secs(1) {
                return Err(format!("`{text}`: the interval must be at least 1s"));
            }
            return Ok(Schedule::Every(d));
        }
        croner::Cron::from_str(t)
            .map(|c| Schedule::Cron(Box::new(c)))
            .map_err(|e| format!("`{text}` is neither \"every <duration>\" (e.g. \"every 5m\") nor a cron expression ({e})"))
    }
}

impl<'de> Deserialize<'de> for Schedule {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Every(d) => write!(f, "every {}", humantime::format_duration(*d)),
            Schedule::Cron(c) => write!(f, "{}", c.as_str()),
        }
    }
}

impl Schedule {
    /// The first run time strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Schedule::Every(d) => {
                after + chrono::Duration::from_std(*d).unwrap_or(chrono::Duration::MAX)
            }
            Schedule::Cron(c) => c
                .find_next_occurrence(&after, false)
                .unwrap_or(after + chrono::Duration::days(366)),
        }
    }

    /// When to run first, given the last completed run (if any) and now.
    ///
    /// Never ran, or a slot was missed while the daemon was down: run now,
    /// once (not once per missed slot). Otherwise wait for the next slot.
    pub fn first_run(&self, last_run: Option<DateTime<Utc>>, now: DateTime<Utc>) -> DateTime<Utc> {
        match last_run {
            None => now,
            Some(last) => {
                let due = self.next_after(last);
                if due <= now { now } else { due }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn parses_both_forms() {
        assert_eq!(
            "every 5m".parse::<Schedule>().unwrap(),
            Schedule::Every(Duration::from_secs(300))
        );
        assert!(matches!(
            "*/15 * * * *".parse::<Schedule>().unwrap(),
            Schedule::Cron(_)
        ));
        assert!("every often".parse::<Schedule>().is_err());
        assert!("61 * * * *".parse::<Schedule>().is_err());
    }

    #[test]
    fn missed_slots_fire_once_at_start() {
        let s: Schedule = "0 * * * *".parse().unwrap();
        let last = Utc.with_ymd_and_hms(2026, 11, 1, 10, 0, 0).unwrap();
        let now = Utc.with_ymd_and_hms(2026, 11, 2, 9, 30, 0).unwrap();
        // 23 hourly slots were missed: one run, now.
        assert_eq!(s.first_run(Some(last), now), now);
        // After that run, the next slot is the next full hour, not the backlog.
        assert_eq!(
            s.next_after(now),
            Utc.with_ymd_and_hms(2026, 11, 2, 10, 0, 0).unwrap()
        );
        // Nothing missed: wait for the slot.
        let recent = Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap();
        assert_eq!(
            s.first_run(Some(recent), now),
            Utc.with_ymd_and_hms(2026, 11, 2, 10, 0, 0).unwrap()
        );
        assert_eq!(s.first_run(None, now), now);
    }
}

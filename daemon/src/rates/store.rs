//! The `rates` tree: one entry per ECB publication day (`2026-11-27` →
//! `{"USD":"1.0512",…}`), so the daemon starts with the rates it last
//! fetched and works offline for as long as they are current.

use super::{DayRates, RatesBook};
use crate::config::shipping::Decimal;
use crate::model::Currency;
use crate::store::{Store, StoreError};
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// The tree's name.
pub const TREE: &str = "rates";

/// Days kept: a little over two years, enough for any settlement history.
pub const KEEP_DAYS: usize = 800;

/// Save `days`, then drop the oldest beyond [`KEEP_DAYS`].
pub fn save(store: &Store, days: &[(NaiveDate, DayRates)]) -> Result<(), StoreError> {
    let tree = store.tree(TREE)?;
    let mut batch = sled::Batch::default();
    for (date, rates) in days {
        let text: BTreeMap<&str, String> = rates
            .iter()
            .map(|(c, r)| (c.code(), r.to_string()))
            .collect();
        let bytes = serde_json::to_vec(&text).unwrap_or_default();
        batch.insert(date.to_string().as_bytes(), bytes);
    }
    tree.apply_batch(batch)
        .map_err(|e| store.noting(e.into()))?;
    let excess = tree.len().saturating_sub(KEEP_DAYS);
    for key in tree.iter().keys().take(excess).flatten() {
        tree.remove(key).map_err(|e| store.noting(e.into()))?;
    }
    Ok(())
}

/// Every stored day into `book`; entries that do not read are skipped.
pub fn load(store: &Store, book: &RatesBook) -> Result<usize, StoreError> {
    let tree = store.tree(TREE)?;
    let mut days = Vec::new();
    for entry in tree.iter() {
        let (key, value) = entry?;
        let Some(date) = std::str::from_utf8(&key)
            .ok()
            .and_then(|k| NaiveDate::parse_from_str(k, "%Y-%m-%d").ok())
        else {
            continue;
        };
        let Ok(text) = serde_json::from_slice::<BTreeMap<String, String>>(&value) else {
            continue;
        };
        let rates: DayRates = text
            .iter()
            .filter_map(|(c, r)| Some((Currency::parse(c)?, Decimal::parse(r)?)))
            .collect();
        days.push((date, rates));
    }
    Ok(book.insert(days))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_days_come_back_after_reopening_and_old_ones_go() {
        let dir = tempfile::tempdir().unwrap();
        let usd = Currency::parse("USD").unwrap();
        let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        let days: Vec<_> = (0..KEEP_DAYS as i64 + 10)
            .map(|i| {
                let mut r = DayRates::new();
                r.insert(usd, Decimal::parse("1.0512").unwrap());
                (start + chrono::Duration::days(i), r)
            })
            .collect();
        save(&Store::open(dir.path()).unwrap(), &days).unwrap();
        let book = RatesBook::new();
        assert_eq!(
            load(&Store::open(dir.path()).unwrap(), &book).unwrap(),
            KEEP_DAYS
        );
        assert_eq!(book.latest(), Some(days.last().unwrap().0));
        assert!(
            book.on_or_before(start + chrono::Duration::days(5))
                .is_none()
        );
    }
}

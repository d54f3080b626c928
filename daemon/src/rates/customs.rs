//! The customs exchange rate of a month (Implementing Regulation (EU)
//! 2015/2447, Art. 146): the rate published on the penultimate Wednesday of
//! a month (or, when none was published that day, the last one before it)
//! applies for the whole of the following month.
//! Source: https://eur-lex.europa.eu/eli/reg_impl/2015/2447/oj (Art. 146).

use super::{DayRates, RatesBook};
use chrono::{Datelike, Duration, NaiveDate, Weekday};
use std::sync::Arc;

/// The rates customs applies to goods shipped in one month.
#[derive(Debug, Clone)]
pub struct CustomsRates {
    /// The first day of the month they apply to.
    pub month: NaiveDate,
    /// The penultimate Wednesday of the month before: whose rate applies.
    pub rate_date: NaiveDate,
    /// The publication day whose rates are used.
    pub published: NaiveDate,
    pub rates: Arc<DayRates>,
    /// Why these may not be the month's rates: the book holds nothing
    /// published on or after `rate_date`, so a later publication may exist.
    pub stale: Option<String>,
}

/// The penultimate Wednesday of the month before `month`'s: the day whose
/// ECB rate is the customs rate for `month`.
pub fn customs_rate_date(month: NaiveDate) -> NaiveDate {
    let first = month.with_day(1).unwrap_or(month);
    let last_of_previous = first - Duration::days(1);
    let back_to_wednesday = (7 + last_of_previous.weekday().num_days_from_monday()
        - Weekday::Wed.num_days_from_monday())
        % 7;
    let last_wednesday = last_of_previous - Duration::days(i64::from(back_to_wednesday));
    last_wednesday - Duration::days(7)
}

/// The customs rates for goods shipped on `ship_date`, from what `book`
/// holds; `None` when it holds nothing on or before the rate's day.
pub fn for_ship_date(book: &RatesBook, ship_date: NaiveDate) -> Option<CustomsRates> {
    let month = ship_date.with_day(1)?;
    let rate_date = customs_rate_date(month);
    let (published, rates) = book.on_or_before(rate_date)?;
    let latest = book.latest().unwrap_or(published);
    let stale = (latest < rate_date).then(|| {
        format!(
            "the customs rate for {} is the ECB's of {rate_date}, but the latest ECB rates held are of {latest}: check that the daemon reaches the ECB ([rates] ecb_url); the rates of {published} are used meanwhile",
            month.format("%B %Y")
        )
    });
    Some(CustomsRates {
        month,
        rate_date,
        published,
        rates,
        stale,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::shipping::Decimal;
    use crate::model::Currency;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn the_penultimate_wednesday_of_the_month_before() {
        // November 2026: Wednesdays 4, 11, 18, 25 → 18 Nov, for December.
        assert_eq!(customs_rate_date(d(2026, 12, 15)), d(2026, 11, 18));
        // September 2026 ends on a Wednesday (30th) → 23 Sep, for October.
        assert_eq!(customs_rate_date(d(2026, 10, 1)), d(2026, 9, 23));
        // December 2026: Wednesdays 2, 9, 16, 23, 30 → 23 Dec, for January.
        assert_eq!(customs_rate_date(d(2027, 1, 31)), d(2026, 12, 23));
    }

    fn day(rate: &str) -> DayRates {
        let mut r = DayRates::new();
        r.insert(
            Currency::parse("USD").unwrap(),
            Decimal::parse(rate).unwrap(),
        );
        r
    }

    #[test]
    fn a_holiday_uses_the_last_rate_before_and_missing_data_is_stale() {
        let book = RatesBook::new();
        book.insert([
            (d(2026, 11, 17), day("1.05")),
            (d(2026, 11, 19), day("1.07")),
        ]);
        // No rate on 18 Nov, but later ones exist: the 17th's, not stale.
        let c = book.customs(d(2026, 12, 2)).unwrap();
        assert_eq!(
            (c.rate_date, c.published),
            (d(2026, 11, 18), d(2026, 11, 17))
        );
        assert!(c.stale.is_none());
        // For January the rate of 23 Dec is unknown: the latest, flagged.
        let c = book.customs(d(2027, 1, 5)).unwrap();
        assert_eq!(c.published, d(2026, 11, 19));
        assert!(c.stale.unwrap().contains("2026-12-23"));
        assert!(RatesBook::new().customs(d(2026, 12, 2)).is_none());
    }
}

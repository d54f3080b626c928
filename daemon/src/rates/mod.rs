//! Exchange rates the daemon fetches itself: the ECB's euro reference
//! rates, cached in the store and held in memory as a [`RatesBook`].
//!
//! Two uses, each with its own legal rule:
//! - **Customs** ([`RatesBook::customs`]): a consignment's value is
//!   converted at the customs exchange rate of the month it ships in, which
//!   for the euro area is the ECB rate published on the penultimate
//!   Wednesday of the month before (Implementing Regulation (EU) 2015/2447,
//!   Art. 146(1)(a), (2), (3)).
//! - **Books** ([`RatesBook::reference`]): a settlement line without a
//!   provider's rate is converted at the ECB reference rate of its own day.
//!
//! Rates are decimal text end to end; conversions are exact ratios of
//! integers ([`Ratio`]).

pub mod customs;
pub mod ecb;
pub mod refresh;
pub mod store;

pub use customs::{CustomsRates, customs_rate_date};
pub use ecb::DayRates;

use crate::config::shipping::Decimal;
use crate::model::{Currency, Money};
use chrono::NaiveDate;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

/// How far back a day's reference rate may come from (weekends and TARGET
/// holidays have none; a week covers Easter).
pub const REFERENCE_WINDOW_DAYS: i64 = 7;

/// Every day of ECB rates the daemon holds, shared by the workflows and
/// updated by [`refresh::RatesRefresh`].
#[derive(Debug, Default)]
pub struct RatesBook {
    days: RwLock<BTreeMap<NaiveDate, Arc<DayRates>>>,
}

impl RatesBook {
    /// An empty book.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add (or replace) days; how many were new.
    pub fn insert(&self, days: impl IntoIterator<Item = (NaiveDate, DayRates)>) -> usize {
        let mut held = self.days.write().unwrap_or_else(|p| p.into_inner());
        days.into_iter()
            .filter(|(date, rates)| held.insert(*date, Arc::new(rates.clone())).is_none())
            .count()
    }

    /// The latest publication day held.
    pub fn latest(&self) -> Option<NaiveDate> {
        let held = self.days.read().unwrap_or_else(|p| p.into_inner());
        held.keys().next_back().copied()
    }

    /// Number of days held.
    pub fn len(&self) -> usize {
        self.days.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether no day is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rates published on `date`, or the last ones before it.
    pub fn on_or_before(&self, date: NaiveDate) -> Option<(NaiveDate, Arc<DayRates>)> {
        let held = self.days.read().unwrap_or_else(|p| p.into_inner());
        held.range(..=date)
            .next_back()
            .map(|(d, r)| (*d, Arc::clone(r)))
    }

    /// The reference rates of `date` for the books: that day's, or the last
    /// published within [`REFERENCE_WINDOW_DAYS`] before it.
    pub fn reference(&self, date: NaiveDate) -> Option<(NaiveDate, Arc<DayRates>)> {
        self.on_or_before(date)
            .filter(|(d, _)| (date - *d).num_days() <= REFERENCE_WINDOW_DAYS)
    }

    /// The customs rates for goods shipped on `ship_date`.
    pub fn customs(&self, ship_date: NaiveDate) -> Option<CustomsRates> {
        customs::for_ship_date(self, ship_date)
    }
}

/// An exact positive ratio of integers: the value of one unit of a
/// currency in another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ratio {
    pub num: i128,
    pub den: i128,
}

impl Ratio {
    /// `1`.
    pub const ONE: Ratio = Ratio { num: 1, den: 1 };

    /// A decimal as a ratio (`1.0512` → 10512/10000).
    pub fn of(d: Decimal) -> Option<Ratio> {
        Some(Ratio {
            num: d.digits,
            den: 10i128.checked_pow(d.scale)?,
        })
        .filter(|r| r.num > 0)
        .map(Ratio::reduced)
    }

    /// `self / other`.
    pub fn checked_div(self, other: Ratio) -> Option<Ratio> {
        Some(
            Ratio {
                num: self.num.checked_mul(other.den)?,
                den: self.den.checked_mul(other.num)?,
            }
            .reduced(),
        )
        .filter(|r| r.den != 0)
    }

    fn reduced(self) -> Ratio {
        let (mut a, mut b) = (self.num.abs(), self.den.abs());
        while b != 0 {
            (a, b) = (b, a % b);
        }
        let g = a.max(1);
        Ratio {
            num: self.num / g,
            den: self.den / g,
        }
    }

    /// `money × self` in `target`, rounded half away from zero to its minor
    /// unit; `None` on overflow.
    pub fn apply(self, money: Money, target: Currency) -> Option<Money> {
        let num = i128::from(money.amount_minor)
            .checked_mul(self.num)?
            .checked_mul(10i128.checked_pow(target.decimals())?)?;
        let den = self
            .den
            .checked_mul(10i128.checked_pow(money.currency.decimals())?)?;
        if den == 0 {
            return None;
        }
        let (q, r) = (num / den, num % den);
        let rounded = if 2 * r.abs() >= den {
            q + num.signum()
        } else {
            q
        };
        Some(Money {
            amount_minor: i64::try_from(rounded).ok()?,
            currency: target,
        })
    }

    /// The ratio as decimal text with `places` places (rounded half up), for
    /// a report's rate column.
    pub fn to_text(self, places: u32) -> String {
        let scale = 10i128.pow(places);
        let scaled = (self.num * scale * 2 + self.den) / (self.den * 2);
        crate::model::format_minor(scaled as i64, places)
    }
}

/// The value of one `from` in `to` from one day's ECB rates (units per
/// euro; the euro itself is 1).
pub fn cross(rates: &DayRates, from: Currency, to: Currency) -> Option<Ratio> {
    let per_eur = |c: Currency| {
        if c.code() == "EUR" {
            Some(Ratio::ONE)
        } else {
            rates.get(&c).copied().and_then(Ratio::of)
        }
    };
    // 1 from = (1 / per_eur(from)) EUR = per_eur(to) / per_eur(from) to.
    per_eur(to)?.checked_div(per_eur(from)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(code: &str) -> Currency {
        Currency::parse(code).unwrap()
    }

    #[test]
    fn cross_rates_convert_exactly_with_one_rounding() {
        let mut day = DayRates::new();
        day.insert(c("USD"), Decimal::parse("1.0512").unwrap());
        day.insert(c("GBP"), Decimal::parse("0.83245").unwrap());
        day.insert(c("JPY"), Decimal::parse("158.41").unwrap());
        // $160.00 → €152.21 (160 / 1.0512 = 152.2070…).
        let usd = Money {
            amount_minor: 16_000,
            currency: c("USD"),
        };
        let eur = cross(&day, c("USD"), c("EUR"))
            .unwrap()
            .apply(usd, c("EUR"));
        assert_eq!(eur.unwrap().amount_minor, 15_221);
        // ¥10,000 → £52.55 (10000 × 0.83245 / 158.41 = 52.5501…).
        let yen = Money {
            amount_minor: 10_000,
            currency: c("JPY"),
        };
        let gbp = cross(&day, c("JPY"), c("GBP"))
            .unwrap()
            .apply(yen, c("GBP"));
        assert_eq!(gbp.unwrap().amount_minor, 5_255);
        assert!(
            cross(&day, c("KWD"), c("EUR")).is_none(),
            "not an ECB currency"
        );
        assert_eq!(
            cross(&day, c("EUR"), c("USD")).unwrap().to_text(4),
            "1.0512"
        );
    }

    #[test]
    fn the_reference_rate_of_a_weekend_is_fridays_and_no_older_than_a_week() {
        let book = RatesBook::new();
        let friday = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let mut day = DayRates::new();
        day.insert(c("USD"), Decimal::parse("1.0512").unwrap());
        book.insert([(friday, day)]);
        let sunday = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        assert_eq!(book.reference(sunday).unwrap().0, friday);
        let later = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
        assert!(book.reference(later).is_none());
    }
}

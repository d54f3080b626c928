//! Reference rates for rules and thresholds, applied in integer
//! arithmetic. They decide which rule applies and whether a threshold
//! (IOSS's €150, the UK's £135…) is met; they never change an amount that
//! is charged or declared.
//!
//! A currency's rate comes from config first (`[sellers.shipping.fx]`, "one
//! EUR is worth 1.08 USD": an explicit override, and the only source for a
//! currency the ECB does not publish, such as KWD), else from the ECB's
//! customs rate of the month of shipping ([`crate::rates`]), when the
//! daemon fetches them (`[rates]`).

use crate::config::shipping::Decimal;
use crate::model::{Currency, Money};
use crate::rates::{RatesBook, Ratio};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Rates into one base currency.
#[derive(Debug, Clone)]
pub struct ReferenceRates {
    pub base: Currency,
    /// Value of one unit of the currency in `base`, as configured.
    rates: BTreeMap<Currency, Decimal>,
    /// The ECB rates the daemon holds, when it fetches them.
    book: Option<Arc<RatesBook>>,
}

impl ReferenceRates {
    /// Rates as configured (codes already validated).
    pub fn new(base: Currency, rates: &BTreeMap<String, Decimal>) -> Self {
        ReferenceRates {
            base,
            rates: rates
                .iter()
                .filter_map(|(code, rate)| Currency::parse(code).map(|c| (c, *rate)))
                .collect(),
            book: None,
        }
    }

    /// The same, falling back to the ECB customs rates held in `book`.
    pub fn with_book(mut self, book: Arc<RatesBook>) -> Self {
        self.book = Some(book);
        self
    }

    /// The value of one `c` in `base`: config, else this month's customs
    /// rate from the ECB.
    fn rate(&self, c: Currency) -> Option<Ratio> {
        if c == self.base {
            return Some(Ratio::ONE);
        }
        if let Some(d) = self.rates.get(&c) {
            return Ratio::of(*d);
        }
        let book = self.book.as_ref()?;
        let customs = book.customs(chrono::Utc::now().date_naive())?;
        crate::rates::cross(&customs.rates, c, self.base)
    }

    /// `money` in `target`, rounded half away from zero to the target's
    /// minor unit; `None` when a rate is missing.
    pub fn convert(&self, money: Money, target: Currency) -> Option<Money> {
        if money.currency == target {
            return Some(money);
        }
        let ratio = self.rate(money.currency)?.checked_div(self.rate(target)?)?;
        ratio.apply(money, target)
    }

    /// Why the ECB rates in use may not be this month's customs rates.
    pub fn stale(&self) -> Option<String> {
        self.book
            .as_ref()?
            .customs(chrono::Utc::now().date_naive())?
            .stale
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(code: &str) -> Currency {
        Currency::parse(code).unwrap()
    }

    #[test]
    fn converts_across_decimals_exactly() {
        let mut table = BTreeMap::new();
        table.insert("EUR".to_string(), Decimal::parse("1.08").unwrap());
        table.insert("JPY".to_string(), Decimal::parse("0.0067").unwrap());
        table.insert("KWD".to_string(), Decimal::parse("3.25").unwrap());
        let fx = ReferenceRates::new(c("USD"), &table);
        let m = |amount_minor, code| Money {
            amount_minor,
            currency: c(code),
        };
        // 100.00 EUR = 108.00 USD
        assert_eq!(fx.convert(m(10000, "EUR"), c("USD")), Some(m(10800, "USD")));
        // 15000 JPY = 100.50 USD
        assert_eq!(fx.convert(m(15000, "JPY"), c("USD")), Some(m(10050, "USD")));
        // 1.000 KWD = 3.25 USD = 3.01 EUR (3.009…)
        assert_eq!(fx.convert(m(1000, "KWD"), c("EUR")), Some(m(301, "EUR")));
        // 162.00 USD = 150.00 EUR
        assert_eq!(fx.convert(m(16200, "USD"), c("EUR")), Some(m(15000, "EUR")));
        assert_eq!(fx.convert(m(100, "GBP"), c("USD")), None, "no GBP rate");
    }

    #[test]
    fn the_ecbs_customs_rate_of_the_month_fills_in_and_config_overrides() {
        let book = Arc::new(RatesBook::new());
        let mut day = crate::rates::DayRates::new();
        day.insert(c("USD"), Decimal::parse("1.0512").unwrap());
        day.insert(c("GBP"), Decimal::parse("0.83245").unwrap());
        let today = chrono::Utc::now().date_naive();
        let rate_day = crate::rates::customs_rate_date(today);
        book.insert([(rate_day, day)]);
        let mut table = BTreeMap::new();
        table.insert("KWD".to_string(), Decimal::parse("2.5733").unwrap());
        let fx = ReferenceRates::new(c("GBP"), &table).with_book(book);
        let m = |amount_minor, code| Money {
            amount_minor,
            currency: c(code),
        };
        // $160.00 at this month's customs rate: 160 / 1.0512 = €152.21.
        assert_eq!(fx.convert(m(16000, "USD"), c("EUR")), Some(m(15221, "EUR")));
        // KWD is no ECB currency: config (into GBP), then the ECB's GBP.
        // 1.000 KWD = £2.5733 = €3.09 (2.5733 / 0.83245 = 3.0912…).
        assert_eq!(fx.convert(m(1000, "KWD"), c("EUR")), Some(m(309, "EUR")));
        assert!(fx.stale().is_none());
        // A config rate overrides the ECB's.
        let mut own = BTreeMap::new();
        own.insert("USD".to_string(), Decimal::parse("0.80").unwrap());
        let book = fx.book.clone().unwrap();
        let fx = ReferenceRates::new(c("GBP"), &own).with_book(book);
        // $100 = £80.00 by config; £80 = €96.10 by the ECB (80 / 0.83245).
        assert_eq!(fx.convert(m(10000, "USD"), c("EUR")), Some(m(9610, "EUR")));
    }
}

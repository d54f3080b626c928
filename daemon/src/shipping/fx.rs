//! Reference rates for rules and thresholds: "one EUR is worth 1.08 USD",
//! written as decimal text in config, applied in integer arithmetic.
//! They decide which rule applies and whether IOSS can be used; they never
//! change an amount that is charged or declared.

use crate::config::shipping::Decimal;
use crate::model::{Currency, Money};
use std::collections::BTreeMap;

/// Rates into one base currency.
#[derive(Debug, Clone)]
pub struct ReferenceRates {
    pub base: Currency,
    /// Value of one unit of the currency in `base`.
    rates: BTreeMap<Currency, Decimal>,
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
        }
    }

    fn rate(&self, c: Currency) -> Option<Decimal> {
        if c == self.base {
            Some(Decimal {
                digits: 1,
                scale: 0,
            })
        } else {
            self.rates.get(&c).copied()
        }
    }

    /// `money` in `target`, rounded half away from zero to the target's
    /// minor unit; `None` when a rate is missing.
    pub fn convert(&self, money: Money, target: Currency) -> Option<Money> {
        if money.currency == target {
            return Some(money);
        }
        let (from, to) = (self.rate(money.currency)?, self.rate(target)?);
        if to.digits == 0 {
            return None;
        }
        // amount_target = minor_from / 10^d_from * from / to * 10^d_to
        let num = i128::from(money.amount_minor)
            .checked_mul(from.digits)?
            .checked_mul(10i128.checked_pow(target.decimals() + to.scale)?)?;
        let den = to
            .digits
            .checked_mul(10i128.checked_pow(money.currency.decimals() + from.scale)?)?;
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
}

//! The book currency (`[sellers.settlement] currency`): every line of money
//! converted into the one currency the seller keeps books in, each stating
//! its rate and where the rate came from:
//! - `same`: already in the book currency;
//! - `provider`: the provider's own conversion of this line (Stripe's
//!   `exchange_rate`, PayPal's conversion), exactly as it applied it;
//! - `ecb:YYYY-MM-DD`: the ECB reference rate of the line's day (or the
//!   last published before it, within a week);
//! - `missing`: no rate is held for that day; the book amount stays empty.

use crate::model::{Currency, Money, PayoutLine};
use crate::rates::{RatesBook, Ratio, cross};

/// One amount in the book currency, and how it got there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookAmount {
    pub amount: Option<Money>,
    /// The rate applied (book units per unit), as decimal text.
    pub rate: String,
    pub source: String,
}

/// `money`, booked on `day`, in `book`: the provider's rate of `line`
/// where it converts between the two, else the ECB's of the day.
pub fn convert(
    money: Money,
    line: Option<&PayoutLine>,
    day: chrono::NaiveDate,
    book: Currency,
    rates: &RatesBook,
) -> BookAmount {
    if money.currency == book {
        return BookAmount {
            amount: Some(money),
            rate: "1".into(),
            source: "same".into(),
        };
    }
    if let Some(ratio) = line.and_then(|l| provider_rate(l, money.currency, book)) {
        return BookAmount {
            amount: ratio.apply(money, book),
            rate: ratio.to_text(6),
            source: "provider".into(),
        };
    }
    match rates
        .reference(day)
        .and_then(|(published, r)| Some((published, cross(&r, money.currency, book)?)))
    {
        Some((published, ratio)) => BookAmount {
            amount: ratio.apply(money, book),
            rate: ratio.to_text(6),
            source: format!("ecb:{published}"),
        },
        None => BookAmount {
            amount: None,
            rate: String::new(),
            source: "missing".into(),
        },
    }
}

/// The provider's rate of `line` from `from` to `to` (or its inverse).
fn provider_rate(line: &PayoutLine, from: Currency, to: Currency) -> Option<Ratio> {
    let r = line.exchange_rate.as_ref()?;
    let rate = Ratio::of(crate::config::shipping::Decimal::parse(&r.rate)?)?;
    let (source, target) = (r.source, r.target);
    if (source, target) == (from, to) {
        Some(rate)
    } else if (source, target) == (to, from) {
        Ratio::ONE.checked_div(rate)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::shipping::Decimal;
    use crate::model::{ExchangeRate, PayoutLineKind};
    use chrono::NaiveDate;

    fn c(code: &str) -> Currency {
        Currency::parse(code).unwrap()
    }

    fn m(amount_minor: i64, code: &str) -> Money {
        Money {
            amount_minor,
            currency: c(code),
        }
    }

    #[test]
    fn each_line_states_its_rate_and_where_it_came_from() {
        let rates = RatesBook::new();
        let friday = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let mut day = crate::rates::DayRates::new();
        day.insert(c("USD"), Decimal::parse("1.0512").unwrap());
        day.insert(c("GBP"), Decimal::parse("0.83245").unwrap());
        rates.insert([(friday, day)]);
        let eur = c("EUR");
        let sunday = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();

        let same = convert(m(1000, "EUR"), None, sunday, eur, &rates);
        assert_eq!(
            (same.amount, same.source.as_str()),
            (Some(m(1000, "EUR")), "same")
        );

        // A PayPal USD line: no provider conversion, Friday's ECB rate.
        let ecb = convert(m(10_512, "USD"), None, sunday, eur, &rates);
        assert_eq!(ecb.amount, Some(m(10_000, "EUR")));
        assert_eq!(
            (ecb.rate.as_str(), ecb.source.as_str()),
            ("0.951294", "ecb:2026-11-27")
        );

        // A line the provider converted USD → EUR at its own rate wins.
        let line = PayoutLine {
            external_id: "txn".into(),
            kind: PayoutLineKind::Charge,
            gross: m(10_000, "USD"),
            fee: m(0, "USD"),
            net: m(10_000, "USD"),
            original: None,
            exchange_rate: Some(ExchangeRate {
                source: c("USD"),
                target: c("EUR"),
                rate: "0.9".into(),
            }),
            order_reference: None,
            created_at: chrono::Utc::now(),
            description: None,
        };
        let provider = convert(m(10_000, "USD"), Some(&line), sunday, eur, &rates);
        assert_eq!(provider.amount, Some(m(9_000, "EUR")));
        assert_eq!(provider.source, "provider");

        let later = NaiveDate::from_ymd_opt(2026, 12, 20).unwrap();
        let missing = convert(m(100, "USD"), None, later, eur, &rates);
        assert_eq!((missing.amount, missing.source.as_str()), (None, "missing"));
    }
}

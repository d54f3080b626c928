//! Exact conversion between the decimal strings APIs send and integer minor units.
//!
//! Every API writes amounts as decimal text (`"19.99"`, `"1500"`, `"0.125"`)
//! or as integers already in minor units (Stripe). A float would round
//! `0.1 + 0.2`; here the digits are moved, never computed. The number of
//! decimals comes from ISO 4217 through the `iso_currency` crate, so JPY has
//! 0, EUR 2 and KWD 3 without a table of our own.

use crate::types::Money;
use std::fmt;

/// Why a decimal amount could not be turned into minor units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoneyError {
    /// Not an ISO 4217 code.
    UnknownCurrency(String),
    /// Not a decimal number.
    Malformed(String),
    /// More decimals than the currency has, and they are not zeros.
    TooPrecise {
        /// The amount as written.
        amount: String,
        /// Its currency.
        currency: String,
        /// The decimals the currency has.
        decimals: u32,
    },
    /// Does not fit in 64 bits of minor units.
    Overflow(String),
}

impl fmt::Display for MoneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MoneyError::UnknownCurrency(c) => write!(f, "`{c}` is not an ISO 4217 currency code"),
            MoneyError::Malformed(a) => write!(f, "`{a}` is not a decimal amount"),
            MoneyError::TooPrecise {
                amount,
                currency,
                decimals,
            } => write!(
                f,
                "`{amount}` has more than the {decimals} decimals {currency} allows"
            ),
            MoneyError::Overflow(a) => write!(f, "`{a}` is too large"),
        }
    }
}

impl std::error::Error for MoneyError {}

/// The largest exponent [`plain_decimal`] accepts: a rate or amount
/// never needs more, and a hostile `1e999999999` must not become a
/// gigabyte of zeros.
pub const MAX_EXPONENT: i64 = 40;

/// A JSON number as plain decimal text, exactly: `1.2e-5` → `0.000012`,
/// `3E+2` → `300`, `0.9` → `0.9`. The digits are moved, never computed, so
/// nothing is rounded. `None` for anything that is not a non-negative
/// decimal number, or whose exponent exceeds [`MAX_EXPONENT`].
///
/// ```
/// use tradelane_plugin_sdk::money::plain_decimal;
/// assert_eq!(plain_decimal("1.2e-5").as_deref(), Some("0.000012"));
/// assert_eq!(plain_decimal("1.0850").as_deref(), Some("1.0850"));
/// assert_eq!(plain_decimal("-1"), None);
/// ```
pub fn plain_decimal(text: &str) -> Option<String> {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], text[i + 1..].parse::<i64>().ok()?),
        None => (text, 0),
    };
    if exponent.abs() > MAX_EXPONENT {
        return None;
    }
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    if exponent == 0 {
        return Some(mantissa.to_string());
    }
    let digits = format!("{int}{frac}");
    // Where the point goes, counted from the left of `digits`.
    let point = int.len() as i64 + exponent;
    let text = if point <= 0 {
        format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
    } else if point as usize >= digits.len() {
        format!("{digits}{}", "0".repeat(point as usize - digits.len()))
    } else {
        let (a, b) = digits.split_at(point as usize);
        format!("{a}.{b}")
    };
    // Leading zeros of the integer part go (`0012.5` → `12.5`).
    let trimmed = text.trim_start_matches('0');
    Some(if trimmed.is_empty() || trimmed.starts_with('.') {
        format!("0{trimmed}")
    } else {
        trimmed.to_string()
    })
}

/// The number of decimals of an ISO 4217 currency (JPY 0, EUR 2, KWD 3).
///
/// Codes without minor units in ISO 4217 (such as `XAU`) count as 0.
pub fn decimals(currency: &str) -> Result<u32, MoneyError> {
    let parsed = iso_currency::Currency::from_code(&currency.to_ascii_uppercase())
        .ok_or_else(|| MoneyError::UnknownCurrency(currency.to_string()))?;
    Ok(parsed.exponent().map(u32::from).unwrap_or(0))
}

/// Parse a decimal string such as `"-12.50"` into minor units of `currency`.
///
/// Extra decimals are accepted only when they are zeros (`"1500.00"` JPY is
/// 1500); anything else would lose money and is an error.
pub fn to_minor(amount: &str, currency: &str) -> Result<i64, MoneyError> {
    let places = decimals(currency)?;
    let text = amount.trim();
    let malformed = || MoneyError::Malformed(amount.to_string());
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (whole, fraction) = match digits.split_once('.') {
        Some((w, f)) => (w, f),
        None => (digits, ""),
    };
    if (whole.is_empty() && fraction.is_empty())
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(malformed());
    }
    let places = places as usize;
    let (kept, dropped) = fraction.split_at(fraction.len().min(places));
    if dropped.bytes().any(|b| b != b'0') {
        return Err(MoneyError::TooPrecise {
            amount: amount.to_string(),
            currency: currency.to_string(),
            decimals: places as u32,
        });
    }
    let overflow = || MoneyError::Overflow(amount.to_string());
    let mut minor: i64 = 0;
    for b in whole.bytes().chain(kept.bytes()) {
        minor = minor
            .checked_mul(10)
            .and_then(|m| m.checked_add(i64::from(b - b'0')))
            .ok_or_else(overflow)?;
    }
    for _ in kept.len()..places {
        minor = minor.checked_mul(10).ok_or_else(overflow)?;
    }
    Ok(if negative { -minor } else { minor })
}

/// Parse a decimal string into [`Money`].
pub fn money(amount: &str, currency: &str) -> Result<Money, MoneyError> {
    Ok(Money {
        amount_minor: to_minor(amount, currency)?,
        currency: currency.to_ascii_uppercase(),
    })
}

/// Zero in `currency`.
pub fn zero(currency: &str) -> Money {
    Money {
        amount_minor: 0,
        currency: currency.to_ascii_uppercase(),
    }
}

/// Format minor units as the currency's decimal string (`1999` EUR → `"19.99"`).
pub fn to_decimal(amount_minor: i64, currency: &str) -> Result<String, MoneyError> {
    let places = decimals(currency)? as usize;
    let sign = if amount_minor < 0 { "-" } else { "" };
    let digits = amount_minor.unsigned_abs().to_string();
    if places == 0 {
        return Ok(format!("{sign}{digits}"));
    }
    let padded = format!("{digits:0>width$}", width = places + 1);
    let (whole, fraction) = padded.split_at(padded.len() - places);
    Ok(format!("{sign}{whole}.{fraction}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uses_each_currencys_exponent() {
        assert_eq!(to_minor("19.99", "EUR"), Ok(1999));
        assert_eq!(to_minor("1500", "JPY"), Ok(1500));
        assert_eq!(to_minor("1500.00", "JPY"), Ok(1500));
        assert_eq!(to_minor("1.234", "KWD"), Ok(1234));
        assert_eq!(to_minor("0.5", "USD"), Ok(50));
        assert_eq!(to_minor("-3.10", "usd"), Ok(-310));
        assert_eq!(to_minor(".25", "USD"), Ok(25));
    }

    #[test]
    fn refuses_to_lose_money() {
        assert!(matches!(
            to_minor("1.5", "JPY"),
            Err(MoneyError::TooPrecise { .. })
        ));
        assert!(matches!(
            to_minor("1.2345", "KWD"),
            Err(MoneyError::TooPrecise { .. })
        ));
        assert!(matches!(
            to_minor("1e3", "USD"),
            Err(MoneyError::Malformed(_))
        ));
        assert!(matches!(to_minor("", "USD"), Err(MoneyError::Malformed(_))));
        assert!(matches!(
            to_minor("1.00", "ZZZ"),
            Err(MoneyError::UnknownCurrency(_))
        ));
        assert!(matches!(
            to_minor("99999999999999999999", "USD"),
            Err(MoneyError::Overflow(_))
        ));
    }

    #[test]
    fn exponent_form_becomes_plain_decimal_text_exactly() {
        for (json, plain) in [
            ("1.2e-5", "0.000012"),
            ("1.2E-5", "0.000012"),
            ("3e2", "300"),
            ("3E+2", "300"),
            ("1.0850", "1.0850"),
            ("0.92", "0.92"),
            ("12.5e1", "125"),
            ("12.5e-1", "1.25"),
            ("0.0001e3", "0.1"),
            ("7", "7"),
        ] {
            assert_eq!(plain_decimal(json).as_deref(), Some(plain), "{json}");
        }
        for bad in [
            "",
            "-1",
            "1e",
            "e5",
            "1.2.3",
            "0x10",
            "1e999999999",
            "NaN",
            "1e41",
        ] {
            assert_eq!(plain_decimal(bad), None, "{bad}");
        }
    }

    #[test]
    fn round_trips_through_decimal_text() {
        for (minor, currency) in [
            (1999, "EUR"),
            (5, "USD"),
            (-1234, "KWD"),
            (700, "JPY"),
            (0, "GBP"),
        ] {
            let text = to_decimal(minor, currency).unwrap();
            assert_eq!(to_minor(&text, currency), Ok(minor), "{text} {currency}");
        }
        assert_eq!(to_decimal(5, "USD").unwrap(), "0.05");
        assert_eq!(to_decimal(-1234, "KWD").unwrap(), "-1.234");
    }
}

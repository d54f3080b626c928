//! Money in the simulated wire formats: exact decimal text from integer
//! minor units, never a float.

/// `minor` units with `decimals` places as decimal text: `1999, 2` → `19.99`.
pub fn format_minor(minor: i64, decimals: u32) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let places = decimals as usize;
    if places == 0 {
        return format!("{sign}{}", minor.unsigned_abs());
    }
    let padded = format!("{:0>width$}", minor.unsigned_abs(), width = places + 1);
    let (whole, fraction) = padded.split_at(padded.len() - places);
    format!("{sign}{whole}.{fraction}")
}

/// Digits after the decimal point of an ISO 4217 code (JPY 0, KWD 3), if known.
pub fn decimals(code: &str) -> Option<u32> {
    iso_currency::Currency::from_code(code).map(|c| c.exponent().map(u32::from).unwrap_or(0))
}

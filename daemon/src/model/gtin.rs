//! GTINs (EAN-8, UPC-A, EAN-13, GTIN-14): the product identifiers some
//! customs declarations now ask for. Checked by the GS1 check digit, so a
//! typo in the catalogue is caught at load, not at the border.

/// `text` as a GTIN: digits only (spaces and hyphens dropped), 8, 12, 13
/// or 14 of them, and the GS1 check digit right. Else why not.
pub fn gtin(text: &str) -> Result<String, String> {
    let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("`{text}` is not a GTIN: digits only"));
    }
    if ![8, 12, 13, 14].contains(&digits.len()) {
        return Err(format!(
            "`{text}` is not a GTIN: {} digits (a GTIN has 8, 12, 13 or 14)",
            digits.len()
        ));
    }
    let values: Vec<u32> = digits.bytes().map(|b| u32::from(b - b'0')).collect();
    let (body, check) = values.split_at(values.len() - 1);
    // GS1: from the right of the body, weights 3, 1, 3, 1...
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { d * 3 } else { *d })
        .sum();
    let expected = (10 - sum % 10) % 10;
    if check[0] != expected {
        return Err(format!(
            "`{text}` is not a GTIN: its check digit is {}, the digits before it give {expected}",
            check[0]
        ));
    }
    Ok(digits)
}

#[cfg(test)]
mod tests {
    use super::gtin;

    #[test]
    fn real_codes_pass_and_typos_do_not() {
        // EAN-13 of a real book (ISBN 978-0-306-40615-7), a UPC-A, an EAN-8.
        assert_eq!(gtin("978-0-306-40615-7").unwrap(), "9780306406157");
        assert_eq!(gtin("036000291452").unwrap(), "036000291452");
        assert_eq!(gtin("96385074").unwrap(), "96385074");
        assert_eq!(gtin("10036000291459").unwrap(), "10036000291459");
        assert!(
            gtin("9780306406158")
                .unwrap_err()
                .contains("check digit is 8")
        );
        assert!(gtin("12345").unwrap_err().contains("5 digits"));
        assert!(gtin("N/A").unwrap_err().contains("digits only"));
    }
}

//! The ECB's euro foreign exchange reference rates, as it publishes them
//! (`eurofxref-daily.xml`, `eurofxref-hist-90d.xml`, `eurofxref-hist.xml`):
//!
//! ```xml
//! <gesmes:Envelope …><Cube>
//!   <Cube time="2026-11-27"><Cube currency="USD" rate="1.0512"/>…</Cube>
//! </Cube></gesmes:Envelope>
//! ```
//!
//! A rate is units of the currency per euro, as decimal text; it is kept
//! as text digits (never a float). What a remote sends is bounded: at most
//! [`MAX_DAYS`] days of at most [`MAX_CURRENCIES`] currencies each.

use crate::config::shipping::Decimal;
use crate::model::Currency;
use chrono::NaiveDate;
use quick_xml::events::Event;
use std::collections::BTreeMap;

/// The rates of one publication day: units of each currency per euro.
pub type DayRates = BTreeMap<Currency, Decimal>;

/// Days one document may carry (the full history file has ~7,000; the
/// 90-day file ~64).
pub const MAX_DAYS: usize = 8_000;
/// Currencies one day may carry (the ECB publishes about 30).
pub const MAX_CURRENCIES: usize = 64;

/// Parse an ECB reference-rate document into its days, oldest first.
/// Unknown currency codes are skipped; a malformed date or rate, or a
/// document with no day at all, is an error naming what was wrong.
pub fn parse(xml: &[u8]) -> Result<Vec<(NaiveDate, DayRates)>, String> {
    let text = std::str::from_utf8(xml).map_err(|e| format!("not UTF-8: {e}"))?;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut days: BTreeMap<NaiveDate, DayRates> = BTreeMap::new();
    let mut current: Option<NaiveDate> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("not XML at byte {}: {e}", reader.buffer_position()))?;
        let (element, closes) = match event {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::Eof => break,
            _ => continue,
        };
        if element.local_name().as_ref() != b"Cube" {
            continue;
        }
        let mut time = None;
        let mut currency = None;
        let mut rate = None;
        for attr in element.attributes() {
            let attr = attr.map_err(|e| format!("a malformed attribute: {e}"))?;
            let value = attr
                .unescape_value()
                .map_err(|e| format!("a malformed attribute value: {e}"))?
                .into_owned();
            match attr.key.local_name().as_ref() {
                b"time" => time = Some(value),
                b"currency" => currency = Some(value),
                b"rate" => rate = Some(value),
                _ => {}
            }
        }
        if let Some(time) = time {
            let date = NaiveDate::parse_from_str(&time, "%Y-%m-%d")
                .map_err(|e| format!("`{time}` is not a date: {e}"))?;
            if days.len() >= MAX_DAYS && !days.contains_key(&date) {
                return Err(format!("more than {MAX_DAYS} days of rates"));
            }
            days.entry(date).or_default();
            current = (!closes).then_some(date);
            continue;
        }
        let (Some(code), Some(rate)) = (currency, rate) else {
            continue;
        };
        let Some(date) = current else {
            return Err(format!("a rate for {code} outside any day"));
        };
        let Some(currency) = Currency::parse(&code) else {
            continue;
        };
        let value = Decimal::parse(&rate)
            .filter(|d| d.digits > 0)
            .ok_or_else(|| format!("{date} {code}: `{rate}` is not a positive decimal rate"))?;
        let day = days.entry(date).or_default();
        if day.len() >= MAX_CURRENCIES && !day.contains_key(&currency) {
            return Err(format!("{date}: more than {MAX_CURRENCIES} currencies"));
        }
        day.insert(currency, value);
    }
    days.retain(|_, rates| !rates.is_empty());
    if days.is_empty() {
        return Err("no day of rates in the document".into());
    }
    Ok(days.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
	<gesmes:subject>Reference rates</gesmes:subject>
	<gesmes:Sender>
		<gesmes:name>European Central Bank</gesmes:name>
	</gesmes:Sender>
	<Cube>
		<Cube time="2026-11-27">
			<Cube currency="USD" rate="1.0512"/>
			<Cube currency="JPY" rate="158.41"/>
			<Cube currency="GBP" rate="0.83245"/>
			<Cube currency="ZZZ" rate="1"/>
		</Cube>
		<Cube time="2026-11-26">
			<Cube currency="USD" rate="1.0498"/>
		</Cube>
	</Cube>
</gesmes:Envelope>"#;

    #[test]
    fn reads_the_ecbs_envelope_oldest_day_first() {
        let days = parse(DOC.as_bytes()).unwrap();
        assert_eq!(days.len(), 2);
        assert_eq!(days[0].0, NaiveDate::from_ymd_opt(2026, 11, 26).unwrap());
        let last = &days[1].1;
        let usd = Currency::parse("USD").unwrap();
        assert_eq!(last[&usd], Decimal::parse("1.0512").unwrap());
        assert_eq!(last.len(), 3, "the unknown code is skipped");
    }

    #[test]
    fn a_hostile_or_broken_document_is_refused_with_the_reason() {
        for (doc, says) in [
            ("<html>503 Service Unavailable</html>", "no day of rates"),
            (
                r#"<Cube><Cube time="27/11/2026"><Cube currency="USD" rate="1"/></Cube></Cube>"#,
                "is not a date",
            ),
            (
                r#"<Cube><Cube time="2026-11-27"><Cube currency="USD" rate="1.2e-5"/></Cube></Cube>"#,
                "not a positive decimal",
            ),
            (
                r#"<Cube><Cube time="2026-11-27"><Cube currency="USD" rate="0"/></Cube></Cube>"#,
                "not a positive decimal",
            ),
            (r#"<Cube currency="USD" rate="1"/>"#, "outside any day"),
            ("<Cube><Cube time=\"2026-11-27\">", "no day of rates"),
        ] {
            let err = parse(doc.as_bytes()).unwrap_err();
            assert!(err.contains(says), "{doc}: {err}");
        }
        let codes = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND \
            BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD \
            EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR \
            IQD IRR ISK JMD JOD JPY KES";
        let many: String = codes
            .split_whitespace()
            .map(|code| format!(r#"<Cube currency="{code}" rate="1"/>"#))
            .collect();
        let doc = format!(r#"<Cube><Cube time="2026-11-27">{many}</Cube></Cube>"#);
        assert!(parse(doc.as_bytes()).unwrap_err().contains("more than"));
    }
}

//! `[sellers.shipping]` and `[sellers.catalogue]`: where a seller ships
//! from, with which carrier accounts, by which rules, and the customs facts
//! of each product.
//!
//! ```toml
//! [sellers.shipping]
//! schedule = "every 1m"
//! value_currency = "USD"          # rule values and price caps are in this
//! ioss_number = "IM2760000742"    # used for EU consignments ≤ €150
//! [sellers.shipping.fx]           # reference rates: 1 unit = x value_currency
//! EUR = "1.08"
//! [sellers.shipping.ship_from]
//! name = "Fern & Fig"
//! line1 = "388 Townsend St"
//! city = "San Francisco"
//! region = "CA"
//! postal_code = "94107"
//! country = "US"
//! [[sellers.shipping.carriers]]
//! id = "easypost"
//! plugin = "easypost"
//! settings = { api_key = { env = "EASYPOST_API_KEY" } }
//! [[sellers.shipping.rules]]
//! regions = ["eu"]
//! carrier = "easypost"
//! choose = "cheapest"
//! max_price = "60.00"
//! [sellers.catalogue."MUG-CER-BLU"]
//! hs_code = "6912.00"
//! origin_country = "PT"
//! ```

use super::{HumanDuration, connection_struct, yes};
use crate::model::{Address, Country, Currency, Incoterm, LabelFormat};
use crate::schedule::Schedule;
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use toml::Spanned;

/// `[sellers.shipping]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShippingConfig {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// When the workflow runs (it also runs after a sync brings changes).
    #[serde(default = "default_schedule")]
    pub schedule: Schedule,
    /// Quote and record the choice, never buy.
    #[serde(default)]
    pub dry_run: bool,
    #[serde(default)]
    pub label_format: LabelFormat,
    /// Failures of one order before it goes to the dead-letter list.
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// Who pays duties unless a rule says otherwise.
    #[serde(default)]
    pub incoterm: Incoterm,
    /// Ask the channel to email the buyer the tracking number.
    #[serde(default = "yes")]
    pub notify_buyer: bool,
    /// The seller's IOSS number, declared on EU consignments of at most
    /// €150 when the marketplace did not collect the VAT itself.
    pub ioss_number: Option<Spanned<String>>,
    /// The EU member state that issued the IOSS number.
    pub ioss_country: Option<CountryCode>,
    /// The seller's registrations for destinations that have tax charged
    /// at sale (UK VAT, VOEC, ARN, NZ GST), declared on the consignments
    /// within their thresholds.
    #[serde(default)]
    pub registrations: Registrations,
    /// Destinations whose declarations need more than the 6-digit HS
    /// subheading, and how many digits (e.g. `{ US = 10 }` where a postal
    /// operator asks for the full tariff line). A shorter code holds the
    /// order, naming the catalogue key.
    #[serde(default)]
    pub hs_digits: HsDigits,
    /// Currency of rule value ranges and price caps.
    #[serde(default = "default_value_currency")]
    pub value_currency: CurrencyCode,
    /// Reference rates: one unit of each currency is worth this much
    /// `value_currency` (decimal text, never a float).
    #[serde(default = "empty_fx")]
    pub fx: Spanned<BTreeMap<String, Decimal>>,
    pub ship_from: AddressConfig,
    #[serde(default)]
    pub parcel: ParcelConfig,
    #[serde(default)]
    pub carriers: Vec<CarrierAccountConfig>,
    #[serde(default)]
    pub rules: Vec<RuleConfig>,
    /// How long a bought label's tracking is followed before giving up.
    #[serde(default = "default_track_for")]
    pub track_for: HumanDuration,
}

connection_struct! {
    /// `[[sellers.shipping.carriers]]`: one carrier account.
    pub struct CarrierAccountConfig {}
}

/// `[[sellers.shipping.rules]]`: the first rule whose conditions all hold
/// chooses the carrier account and service.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    pub name: Option<String>,
    /// Destination countries (any of).
    #[serde(default)]
    pub countries: Vec<CountryCode>,
    /// Destination regions (any of).
    #[serde(default)]
    pub regions: Vec<Region>,
    /// Channel ids or marketplace plugin names (any of).
    #[serde(default)]
    pub channels: Vec<String>,
    pub min_weight_g: Option<u32>,
    pub max_weight_g: Option<u32>,
    /// Order value bounds, in `value_currency`.
    pub min_value: Option<Decimal>,
    pub max_value: Option<Decimal>,
    /// The carrier account (`[[sellers.shipping.carriers]]` id).
    pub carrier: Spanned<String>,
    /// A named service (as the carrier names it); otherwise `choose`.
    pub service: Option<String>,
    /// `cheapest` (default) or `fastest` among the services quoted.
    #[serde(default)]
    pub choose: Choose,
    /// The most a label may cost, in `value_currency`.
    pub max_price: Option<Decimal>,
    pub incoterm: Option<Incoterm>,
}

/// How a rule picks among rates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Choose {
    #[default]
    Cheapest,
    Fastest,
}

/// Destination groups a rule can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Region {
    /// The 27 EU member states (the customs and VAT union).
    Eu,
    /// The EU plus the UK, Switzerland, Norway, Iceland, Liechtenstein.
    Europe,
    NorthAmerica,
    /// The ship-from country.
    Domestic,
    /// Anywhere but the ship-from country.
    International,
}

/// EU member states (ISO 3166-1 alpha-2).
pub const EU: &[&str] = &[
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
    "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
];

impl Region {
    /// Whether `to` (shipped from `from`) lies in this region.
    pub fn contains(self, from: &Country, to: &Country) -> bool {
        let c = to.as_str();
        match self {
            Region::Eu => EU.contains(&c),
            Region::Europe => EU.contains(&c) || ["GB", "CH", "NO", "IS", "LI"].contains(&c),
            Region::NorthAmerica => ["US", "CA", "MX"].contains(&c),
            Region::Domestic => from == to,
            Region::International => from != to,
        }
    }
}

/// `[sellers.shipping.ship_from]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressConfig {
    pub name: String,
    pub company: Option<String>,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: CountryCode,
    pub phone: Option<String>,
    pub email: Option<String>,
}

impl AddressConfig {
    /// As a model address.
    pub fn to_address(&self) -> Address {
        Address {
            name: Some(self.name.clone()),
            company: self.company.clone(),
            line1: self.line1.clone(),
            line2: self.line2.clone(),
            city: self.city.clone(),
            region: self.region.clone(),
            postal_code: self.postal_code.clone(),
            country: self.country.0.clone(),
            phone: self.phone.clone(),
            email: self.email.clone(),
        }
    }
}

/// `[sellers.shipping.parcel]`: the default box.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParcelConfig {
    pub length_mm: u32,
    pub width_mm: u32,
    pub height_mm: u32,
    /// The box and filling, added to the goods' weight.
    #[serde(default)]
    pub packaging_g: u32,
}

impl Default for ParcelConfig {
    fn default() -> Self {
        ParcelConfig {
            length_mm: 300,
            width_mm: 200,
            height_mm: 100,
            packaging_g: 100,
        }
    }
}

/// `[sellers.catalogue."SKU"]`: customs facts of a product, used when the
/// channel's line lacks them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductConfig {
    /// Harmonized System code: the 6-digit subheading or longer (a
    /// national tariff line of up to 12 digits), dots and spaces allowed.
    pub hs_code: Option<HsCode>,
    pub origin_country: Option<CountryCode>,
    /// What the customs officer reads; default the channel's line title.
    pub description: Option<String>,
    /// Weight of one unit.
    pub weight_g: Option<u32>,
    /// The product's GTIN (EAN/UPC), declared where declarations ask for a
    /// product identifier; its check digit is verified at load.
    pub gtin: Option<Gtin>,
}

/// A GTIN as the catalogue writes it, check digit verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gtin(pub String);

impl<'de> Deserialize<'de> for Gtin {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        crate::model::gtin(&text)
            .map(Gtin)
            .map_err(serde::de::Error::custom)
    }
}

/// `[sellers.shipping.hs_digits]`: the HS digits a destination needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HsDigits(pub BTreeMap<Country, usize>);

impl<'de> Deserialize<'de> for HsDigits {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = BTreeMap::<String, i64>::deserialize(d)?;
        let mut out = BTreeMap::new();
        for (code, digits) in raw {
            let country = Country::parse(&code)
                .ok_or_else(|| serde::de::Error::custom(Country::explain(&code)))?;
            if !(6..=12).contains(&digits) {
                return Err(serde::de::Error::custom(format!(
                    "{code} = {digits}: an HS code has 6 to 12 digits"
                )));
            }
            out.insert(country, digits as usize);
        }
        Ok(HsDigits(out))
    }
}

/// `[sellers.shipping.registrations]`: the seller's own numbers.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registrations {
    /// UK VAT number (GB…), for GB consignments of at most £135.
    pub gb_vat: Option<String>,
    /// GB EORI number, declared with the UK VAT number.
    pub gb_eori: Option<String>,
    /// Norway's VOEC number, for items below NOK 3,000.
    pub voec: Option<String>,
    /// Australia's ATO Reference Number, for goods of at most A$1,000.
    pub arn: Option<String>,
    /// New Zealand GST number, for items of at most NZ$1,000.
    pub nz_gst: Option<String>,
    /// Swiss VAT number (UID, `CHE-123.456.789 MWST`) of a mail-order
    /// seller in the Swiss VAT register: every consignment to CH and LI.
    pub ch_vat: Option<String>,
}

/// A Harmonized System code as written (`6912.00`), checked by
/// [`check_hs_code`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HsCode(pub String);

impl<'de> Deserialize<'de> for HsCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        check_hs_code(&text)
            .map(|()| HsCode(text.trim().to_string()))
            .map_err(serde::de::Error::custom)
    }
}

/// Whether `text` is an HS code customs accepts: 6 to 12 digits, with dots
/// or spaces between groups. The 6-digit subheading is the least every
/// declaration needs (EU ICS2 requires it for every item; the WCO's
/// Harmonized System is defined to 6 digits, national tariffs extend it).
/// A 4-digit heading (`6912`) or a placeholder (`TBD`) is refused.
pub fn check_hs_code(text: &str) -> Result<(), String> {
    let digits: String = text.chars().filter(|c| !matches!(c, '.' | ' ')).collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!(
            "`{text}` is not an HS code: write the digits of the tariff subheading, e.g. \"6912.00\""
        ));
    }
    match digits.len() {
        0..=5 => Err(format!(
            "`{text}` has {} digits; customs needs at least the 6-digit HS subheading (e.g. \"{}.00\" for heading {})",
            digits.len(),
            &digits,
            &digits
        )),
        6..=12 => Ok(()),
        n => Err(format!(
            "`{text}` has {n} digits; HS codes and national tariff lines have at most 12"
        )),
    }
}

/// A validated ISO 3166-1 alpha-2 code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountryCode(pub Country);

impl<'de> Deserialize<'de> for CountryCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Country::parse(&text)
            .map(CountryCode)
            .ok_or_else(|| serde::de::Error::custom(Country::explain(&text)))
    }
}

/// A validated ISO 4217 code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CurrencyCode(pub Currency);

impl<'de> Deserialize<'de> for CurrencyCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Currency::parse(&text).map(CurrencyCode).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "`{text}` is not an ISO 4217 currency code like \"EUR\""
            ))
        })
    }
}

/// A non-negative decimal written as text (`"150.00"`) or an integer:
/// digits and a scale, never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decimal {
    pub digits: i128,
    pub scale: u32,
}

impl Decimal {
    /// Parse `123`, `123.45`.
    pub fn parse(text: &str) -> Option<Decimal> {
        let text = text.trim();
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) || fraction.len() > 12 {
            return None;
        }
        let digits: i128 = format!("{whole}{fraction}").parse().ok()?;
        Some(Decimal {
            digits,
            scale: fraction.len() as u32,
        })
    }

    /// In minor units of a currency with `decimals`, if no digit is lost.
    pub fn to_minor(self, decimals: u32) -> Option<i64> {
        let minor = if self.scale <= decimals {
            self.digits
                .checked_mul(10i128.checked_pow(decimals - self.scale)?)?
        } else {
            let div = 10i128.checked_pow(self.scale - decimals)?;
            if self.digits % div != 0 {
                return None;
            }
            self.digits / div
        };
        i64::try_from(minor).ok()
    }
}

impl std::fmt::Display for Decimal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::model::format_minor(self.digits as i64, self.scale))
    }
}

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Decimal;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a decimal written as text, like \"150.00\"")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Decimal, E> {
                Decimal::parse(text).ok_or_else(|| {
                    E::custom(format!(
                        "`{text}` is not a non-negative decimal like \"150.00\""
                    ))
                })
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Decimal, E> {
                Ok(Decimal {
                    digits: i128::from(n),
                    scale: 0,
                })
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Decimal, E> {
                u64::try_from(n)
                    .map_err(|_| E::custom(format!("`{n}` is negative")))
                    .and_then(|n| self.visit_u64(n))
            }
            fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<Decimal, E> {
                Err(E::custom(format!(
                    "`{n}` is a float; write amounts as text, like \"{n:.2}\", so no digit is lost"
                )))
            }
        }
        d.deserialize_any(Visitor)
    }
}

fn default_schedule() -> Schedule {
    Schedule::Every(std::time::Duration::from_secs(60))
}
fn default_attempts() -> u32 {
    5
}
fn default_value_currency() -> CurrencyCode {
    CurrencyCode(Currency::parse("USD").expect("USD is ISO 4217"))
}
fn empty_fx() -> Spanned<BTreeMap<String, Decimal>> {
    Spanned::new(0..0, BTreeMap::new())
}
fn default_track_for() -> HumanDuration {
    HumanDuration(std::time::Duration::from_secs(30 * 86_400))
}

impl ShippingConfig {
    /// Checks that need the whole table: references between entries,
    /// amounts that must fit the value currency, fx codes.
    pub(super) fn check(
        &self,
        loaded: &super::LoadedConfig,
        prefix: &str,
    ) -> Result<(), super::error::ConfigError> {
        let locator = &loaded.locator;
        let mut ids = std::collections::HashSet::new();
        for (i, carrier) in self.carriers.iter().enumerate() {
            let key = format!("{prefix}.carriers[{i}]");
            super::check_id(locator, &carrier.id, &format!("{key}.id"))?;
            if !ids.insert(carrier.id.get_ref().as_str()) {
                return Err(locator.error(
                    Some(carrier.id.span().start),
                    format!("{key}.id"),
                    format!(
                        "carrier account `{}` is defined twice",
                        carrier.id.get_ref()
                    ),
                ));
            }
            loaded.check_plugin(&carrier.plugin, &format!("{key}.plugin"))?;
        }
        let decimals = self.value_currency.0.decimals();
        let currency = self.value_currency.0;
        for (i, rule) in self.rules.iter().enumerate() {
            let key = format!("{prefix}.rules[{i}]");
            let at = Some(rule.carrier.span().start);
            if !self
                .carriers
                .iter()
                .any(|c| c.id.get_ref() == rule.carrier.get_ref())
            {
                let known: Vec<&str> = self
                    .carriers
                    .iter()
                    .map(|c| c.id.get_ref().as_str())
                    .collect();
                return Err(locator.error(
                    at,
                    format!("{key}.carrier"),
                    format!(
                        "no carrier account `{}` (accounts: {})",
                        rule.carrier.get_ref(),
                        if known.is_empty() {
                            "none".to_string()
                        } else {
                            known.join(", ")
                        }
                    ),
                ));
            }
            for (field, value) in [
                ("min_value", rule.min_value),
                ("max_value", rule.max_value),
                ("max_price", rule.max_price),
            ] {
                if let Some(v) = value
                    && v.to_minor(decimals).is_none()
                {
                    return Err(locator.error(
                        at,
                        format!("{key}.{field}"),
                        format!("`{v}` has more decimals than {currency} (value_currency) allows ({decimals})"),
                    ));
                }
            }
            if let (Some(min), Some(max)) = (rule.min_weight_g, rule.max_weight_g)
                && min > max
            {
                return Err(locator.error(
                    at,
                    format!("{key}.min_weight_g"),
                    format!("min_weight_g {min} is above max_weight_g {max}"),
                ));
            }
        }
        // A rule comparing amounts, or an IOSS number whose €150 test
        // converts, with no rate from anywhere would never see an order in
        // another currency: refused here instead of holding every such order.
        let fetched = loaded
            .config
            .rates
            .as_ref()
            .is_some_and(|r| r.get_ref().enabled);
        if !fetched && self.fx.get_ref().is_empty() {
            let needs_rates = self.rules.iter().enumerate().find(|(_, r)| {
                r.min_value.is_some() || r.max_value.is_some() || r.max_price.is_some()
            });
            if let Some((i, rule)) = needs_rates {
                return Err(locator.error(
                    Some(rule.carrier.span().start),
                    format!("{prefix}.rules[{i}]"),
                    format!(
                        "the rule compares amounts in {currency} (value_currency), but no exchange rate is available for orders and prices in other currencies: add [rates] (the ECB's reference rates) or rates under [sellers.shipping.fx]"
                    ),
                ));
            }
            if let Some(ioss) = self
                .ioss_number
                .as_ref()
                .filter(|_| currency.code() != "EUR")
            {
                return Err(locator.error(
                    Some(ioss.span().start),
                    format!("{prefix}.ioss_number"),
                    "IOSS applies up to €150, and no exchange rate is available to tell whether an order in another currency is within it: add [rates] (the ECB's reference rates) or rates under [sellers.shipping.fx]",
                ));
            }
        }
        for code in self.fx.get_ref().keys() {
            if Currency::parse(code).is_none() {
                return Err(locator.error(
                    Some(self.fx.span().start),
                    format!("{prefix}.fx.{code}"),
                    format!("`{code}` is not an ISO 4217 currency code"),
                ));
            }
        }
        if self.max_attempts == 0 {
            return Err(locator.error(
                Some(self.fx.span().start),
                format!("{prefix}.max_attempts"),
                "must be at least 1",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_convert_exactly_or_not_at_all() {
        let d = Decimal::parse("150.00").unwrap();
        assert_eq!(d.to_minor(2), Some(15000));
        assert_eq!(d.to_minor(0), Some(150));
        assert_eq!(d.to_minor(3), Some(150000));
        assert_eq!(Decimal::parse("1.005").unwrap().to_minor(2), None);
        assert!(Decimal::parse("1e3").is_none());
        assert!(Decimal::parse("-1").is_none());
        assert_eq!(Decimal::parse("12.5").unwrap().to_string(), "12.5");
    }
}

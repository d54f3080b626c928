//! A seller's shipping configuration, resolved once at start into what the
//! workflow decides with: ship-from, default box, catalogue, rules with
//! amounts in minor units, reference rates, IOSS.

use super::fx::ReferenceRates;
use crate::config::shipping::{Choose, ParcelConfig, ProductConfig, Region, ShippingConfig};
use crate::model::{Address, Country, Currency, Incoterm, LabelFormat, Money, TaxId};
use std::collections::BTreeMap;

/// A rule with its amounts resolved.
#[derive(Debug, Clone)]
pub struct Rule {
    /// `name`, or `rules[i]`.
    pub name: String,
    pub countries: Vec<Country>,
    pub regions: Vec<Region>,
    pub channels: Vec<String>,
    pub min_weight_g: Option<u32>,
    pub max_weight_g: Option<u32>,
    pub min_value: Option<Money>,
    pub max_value: Option<Money>,
    pub carrier: String,
    pub service: Option<String>,
    pub choose: Choose,
    pub max_price: Option<Money>,
    pub incoterm: Option<Incoterm>,
}

/// Everything the shipping workflow decides with, for one seller.
#[derive(Debug, Clone)]
pub struct ShippingPolicy {
    pub ship_from: Address,
    pub parcel: ParcelConfig,
    pub catalogue: BTreeMap<String, ProductConfig>,
    pub fx: ReferenceRates,
    pub ioss: Option<TaxId>,
    /// The seller's registrations for collect-at-sale destinations.
    pub registrations: crate::config::shipping::Registrations,
    /// Destinations that need more HS digits than the 6 of the subheading.
    pub hs_digits: BTreeMap<crate::model::Country, usize>,
    pub incoterm: Incoterm,
    pub label_format: LabelFormat,
    pub rules: Vec<Rule>,
    pub dry_run: bool,
    pub max_attempts: u32,
    pub notify_buyer: bool,
    pub track_for: std::time::Duration,
}

impl ShippingPolicy {
    /// The tax ids the seller declares under `registration`, empty when
    /// its number is not configured. A UK VAT number travels with the GB
    /// EORI when one is set.
    pub fn registration(&self, registration: super::regimes::Registration) -> Vec<TaxId> {
        use super::regimes::Registration as R;
        let id = |scheme: &str, value: &Option<String>, country: &str| {
            value.as_ref().map(|v| TaxId {
                scheme: scheme.into(),
                value: v.clone(),
                country: Country::parse(country),
            })
        };
        let r = &self.registrations;
        match registration {
            R::Ioss => self.ioss.clone().into_iter().collect(),
            R::GbVat => match id("vat", &r.gb_vat, "GB") {
                Some(vat) => std::iter::once(vat)
                    .chain(id("eori", &r.gb_eori, "GB"))
                    .collect(),
                None => Vec::new(),
            },
            R::Voec => id("voec", &r.voec, "NO").into_iter().collect(),
            R::Arn => id("arn", &r.arn, "AU").into_iter().collect(),
            R::NzGst => id("gst", &r.nz_gst, "NZ").into_iter().collect(),
            R::ChVat => id("vat", &r.ch_vat, "CH").into_iter().collect(),
        }
    }

    /// The same, with thresholds also converted at the ECB's customs rates
    /// the daemon holds.
    pub fn with_rates(mut self, book: std::sync::Arc<crate::rates::RatesBook>) -> Self {
        self.fx = self.fx.with_book(book);
        self
    }

    /// Resolve a checked `[sellers.shipping]` table.
    pub fn new(config: &ShippingConfig, catalogue: &BTreeMap<String, ProductConfig>) -> Self {
        let base: Currency = config.value_currency.0;
        let minor = |d: Option<crate::config::shipping::Decimal>| {
            d.and_then(|d| d.to_minor(base.decimals()))
                .map(|amount_minor| Money {
                    amount_minor,
                    currency: base,
                })
        };
        ShippingPolicy {
            ship_from: config.ship_from.to_address(),
            parcel: config.parcel,
            catalogue: catalogue.clone(),
            fx: ReferenceRates::new(base, config.fx.get_ref()),
            ioss: config
                .ioss_number
                .as_ref()
                .map(|n| n.get_ref())
                .map(|n| TaxId {
                    scheme: "ioss".into(),
                    value: n.clone(),
                    country: config.ioss_country.as_ref().map(|c| c.0.clone()),
                }),
            registrations: config.registrations.clone(),
            hs_digits: config.hs_digits.0.clone(),
            incoterm: config.incoterm,
            label_format: config.label_format,
            rules: config
                .rules
                .iter()
                .enumerate()
                .map(|(i, r)| Rule {
                    name: r.name.clone().unwrap_or_else(|| format!("rules[{i}]")),
                    countries: r.countries.iter().map(|c| c.0.clone()).collect(),
                    regions: r.regions.clone(),
                    channels: r.channels.clone(),
                    min_weight_g: r.min_weight_g,
                    max_weight_g: r.max_weight_g,
                    min_value: minor(r.min_value),
                    max_value: minor(r.max_value),
                    carrier: r.carrier.get_ref().clone(),
                    service: r.service.clone(),
                    choose: r.choose,
                    max_price: minor(r.max_price),
                    incoterm: r.incoterm,
                })
                .collect(),
            dry_run: config.dry_run,
            max_attempts: config.max_attempts,
            notify_buyer: config.notify_buyer,
            track_for: config.track_for.0,
        }
    }
}

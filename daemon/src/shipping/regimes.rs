//! Each destination's import regime for the low-value goods a small seller
//! sends, as dated rows: a rule change is a new row with its date, and a
//! shipment is judged by the row in force on its ship date. Every row
//! names the authority's page it was checked against.
//!
//! What a row says is what the consignment must carry, not tax advice: the
//! threshold under which tax charged at sale is declared with the
//! collector's registration number, or that every parcel is dutiable.

use crate::model::Country;
use chrono::NaiveDate;

/// The registration a destination's collect-at-sale scheme declares, and
/// the key it has under `[sellers.shipping.registrations]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    /// EU Import One-Stop Shop number (`ioss_number`).
    Ioss,
    /// UK VAT number, with the GB EORI.
    GbVat,
    /// Norway's VAT on E-Commerce number.
    Voec,
    /// Australia's ATO Reference Number for low-value goods GST.
    Arn,
    /// New Zealand GST number.
    NzGst,
    /// Swiss VAT number (UID, `CHE-…`) of a registered mail-order seller.
    ChVat,
}

impl Registration {
    /// The tax id scheme carriers receive (`tax_ids[].scheme`).
    pub fn scheme(self) -> &'static str {
        match self {
            Registration::Ioss => "ioss",
            Registration::GbVat => "vat",
            Registration::Voec => "voec",
            Registration::Arn => "arn",
            Registration::NzGst => "gst",
            Registration::ChVat => "vat",
        }
    }

    /// The config key under `[sellers.shipping.registrations]`.
    pub fn key(self) -> &'static str {
        match self {
            Registration::Ioss => "ioss_number",
            Registration::GbVat => "gb_vat",
            Registration::Voec => "voec",
            Registration::Arn => "arn",
            Registration::NzGst => "nz_gst",
            Registration::ChVat => "ch_vat",
        }
    }

    /// What the tax is called there.
    pub fn tax(self) -> &'static str {
        match self {
            Registration::Ioss | Registration::GbVat | Registration::Voec | Registration::ChVat => {
                "VAT"
            }
            Registration::Arn | Registration::NzGst => "GST",
        }
    }
}

/// How the threshold is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// The consignment's intrinsic value, at most the limit.
    ConsignmentAtMost,
    /// Each item's value, at most the limit.
    ItemAtMost,
    /// Each item's value, below the limit.
    ItemBelow,
    /// Every consignment, whatever its value (the limit is not used).
    Always,
}

/// What a destination requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Tax is charged at sale up to a threshold on the goods' value
    /// (transport excluded), and the consignment is declared with the
    /// collector's registration.
    CollectAtSale {
        limit_minor: i64,
        currency: &'static str,
        measure: Measure,
        registration: Registration,
    },
    /// No de minimis: every parcel is dutiable, and a postal parcel must
    /// travel duty-paid.
    EveryParcelDutiable,
    /// A flat customs duty per distinct tariff subheading in a parcel worth
    /// less than a threshold, owed whatever the incoterm by whoever holds
    /// the VAT registration it travels under.
    FlatDutyPerSubheading {
        duty_minor: i64,
        currency: &'static str,
        below_minor: i64,
    },
    /// Duties and taxes are waived up to a value for duty and due above
    /// it, at import; nothing is declared beyond the goods. Shipments from
    /// `near` by courier have higher thresholds (`near_tax_minor` for
    /// taxes, `near_duty_minor` for duties).
    DeMinimis {
        limit_minor: i64,
        currency: &'static str,
        near: &'static [&'static str],
        near_tax_minor: i64,
        near_duty_minor: i64,
    },
}

/// One dated row.
#[derive(Debug, Clone, Copy)]
pub struct Regime {
    /// ISO 3166-1 codes the row covers.
    pub destinations: &'static [&'static str],
    /// In force from this day (inclusive).
    pub from: (i32, u32, u32),
    /// No longer in force from this day, when the rule is temporary.
    pub until: Option<(i32, u32, u32)>,
    pub rule: Rule,
    /// Where the facts were checked.
    pub source: &'static str,
}

/// The EU member states (the EU VAT area's countries; their special
/// territories are a later row's matter).
pub const EU27: &[&str] = &[
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// The table, oldest rows first; a later row for the same destination
/// replaces an earlier one from its date.
pub const REGIMES: &[Regime] = &[
    // "IOSS ... distance sales of goods imported from third territories or
    // third countries in consignments of an intrinsic value not exceeding
    // EUR 150", from 1 July 2021 (Council Directive (EU) 2017/2455).
    Regime {
        destinations: EU27,
        from: (2021, 7, 1),
        until: None,
        rule: Rule::CollectAtSale {
            limit_minor: 15_000,
            currency: "EUR",
            measure: Measure::ConsignmentAtMost,
            registration: Registration::Ioss,
        },
        source: "https://vat-one-stop-shop.ec.europa.eu/one-stop-shop/import-one-stop-shop-ioss_en",
    },
    // HMRC: the seller charges UK VAT at the point of sale on "goods in
    // consignments not exceeding £135", from 1 January 2021.
    Regime {
        destinations: &["GB"],
        from: (2021, 1, 1),
        until: None,
        rule: Rule::CollectAtSale {
            limit_minor: 13_500,
            currency: "GBP",
            measure: Measure::ConsignmentAtMost,
            registration: Registration::GbVat,
        },
        source: "https://www.gov.uk/guidance/vat-and-overseas-goods-sold-directly-to-customers-in-the-uk",
    },
    // Skatteetaten: "goods with value below NOK 3,000 ... the NOK 3,000
    // threshold of the VOEC scheme applies per item"; shipping excluded.
    // From 1 April 2020.
    Regime {
        destinations: &["NO"],
        from: (2020, 4, 1),
        until: None,
        rule: Rule::CollectAtSale {
            limit_minor: 300_000,
            currency: "NOK",
            measure: Measure::ItemBelow,
            registration: Registration::Voec,
        },
        source: "https://www.skatteetaten.no/en/business-and-organisation/vat-and-duties/vat/foreign/e-commerce-voec/low-value/",
    },
    // ATO: GST on low value imported goods, a customs value of A$1,000 or
    // less, from 1 July 2018.
    Regime {
        destinations: &["AU"],
        from: (2018, 7, 1),
        until: None,
        rule: Rule::CollectAtSale {
            limit_minor: 100_000,
            currency: "AUD",
            measure: Measure::ItemAtMost,
            registration: Registration::Arn,
        },
        source: "https://www.ato.gov.au/businesses-and-organisations/international-tax-for-business/gst-on-imported-goods-and-services/gst-on-low-value-imported-goods",
    },
    // IRD: "items individually having an estimated customs value of
    // NZ$1,000 or less", from 1 December 2019.
    Regime {
        destinations: &["NZ"],
        from: (2019, 12, 1),
        until: None,
        rule: Rule::CollectAtSale {
            limit_minor: 100_000,
            currency: "NZD",
            measure: Measure::ItemAtMost,
            registration: Registration::NzGst,
        },
        source: "https://www.ird.govt.nz/gst/gst-for-overseas-businesses/gst-on-low-value-imported-goods/what-low-value-goods-are",
    },
    // Executive Order 14324 suspended duty-free de minimis treatment for
    // all countries from 29 August 2025: every parcel is dutiable, and
    // postal parcels travel with their duty paid.
    Regime {
        destinations: &["US"],
        from: (2025, 8, 29),
        until: None,
        rule: Rule::EveryParcelDutiable,
        source: "https://www.cbp.gov/trade/trade-enforcement/tftea/de-minimis",
    },
    // ESTV: a mail-order company with at least CHF 100,000 a year from
    // small consignments (import tax of CHF 5 or less) is entered in the
    // Swiss VAT register, and then "all shipments to Switzerland are
    // subject to domestic tax"; Swiss Post asks for its VAT number (UID) on
    // the invoice, a sender label and the CN22/23 data. From 1 January 2019.
    Regime {
        destinations: &["CH", "LI"],
        from: (2019, 1, 1),
        until: None,
        rule: Rule::CollectAtSale {
            limit_minor: 0,
            currency: "CHF",
            measure: Measure::Always,
            registration: Registration::ChVat,
        },
        source: "https://www.estv.admin.ch/estv/en/home/value-added-tax/vat-tax-liability/mail-order-trade.html",
    },
    // CBSA: by mail, CA$20 and under duty and tax free from any country;
    // by courier from the US or Mexico, up to CA$40 duty and tax free and
    // up to CA$150 duty free (taxes apply); above, duties and taxes apply.
    // From 1 July 2020 (CUSMA).
    Regime {
        destinations: &["CA"],
        from: (2020, 7, 1),
        until: None,
        rule: Rule::DeMinimis {
            limit_minor: 2_000,
            currency: "CAD",
            near: &["US", "MX"],
            near_tax_minor: 4_000,
            near_duty_minor: 15_000,
        },
        source: "https://cbsa-asfc.gc.ca/services/cusma-aceum/lvs-efv-eng.html",
    },
    // The Council's interim flat customs duty on small parcels: EUR 3 "on
    // each different category of item, identified by their tariff
    // sub-headings", in parcels valued at less than EUR 150 sent to EU
    // consumers by sellers registered in IOSS, from 1 July 2026 until the
    // EU customs data hub replaces it (planned 1 July 2028).
    Regime {
        destinations: EU27,
        from: (2026, 7, 1),
        until: Some((2028, 7, 1)),
        rule: Rule::FlatDutyPerSubheading {
            duty_minor: 300,
            currency: "EUR",
            below_minor: 15_000,
        },
        source: "https://www.consilium.europa.eu/en/press/press-releases/2026/02/11/customs-council-gives-final-green-light-to-new-customs-duty-rules-for-small-parcels/",
    },
];

impl Regime {
    /// The day it takes effect.
    pub fn from_date(&self) -> NaiveDate {
        let (y, m, d) = self.from;
        NaiveDate::from_ymd_opt(y, m, d).expect("the table's dates are valid")
    }

    /// Whether it is in force on `day` for `to`.
    fn applies(&self, to: &Country, day: NaiveDate) -> bool {
        self.destinations.contains(&to.as_str())
            && self.from_date() <= day
            && self.until.is_none_or(|(y, m, d)| {
                NaiveDate::from_ymd_opt(y, m, d).is_some_and(|until| day < until)
            })
    }
}

/// The flat duty in force for `to` on `day`, if any.
pub fn duty_in_force(to: &Country, day: NaiveDate) -> Option<&'static Regime> {
    REGIMES
        .iter()
        .filter(|r| matches!(r.rule, Rule::FlatDutyPerSubheading { .. }) && r.applies(to, day))
        .max_by_key(|r| r.from_date())
}

/// Whether `carrier` (a rate's carrier name) is a postal operator rather
/// than a courier: postal services hand import duties to the destination's
/// post, which for a dutiable US parcel means the duty must be prepaid.
pub fn is_postal(carrier: &str) -> bool {
    let c = carrier.to_ascii_lowercase();
    [
        "usps",
        "royal mail",
        "colissimo",
        "correos",
        "an post",
        "bpost",
        "la poste",
    ]
    .iter()
    .any(|p| c.contains(p))
        || c.split(|ch: char| !ch.is_ascii_alphanumeric())
            .any(|w| w.starts_with("post") || w.ends_with("post"))
}

/// Why a parcel to `to` on `day` may not travel as chosen: a dutiable-
/// everything destination (the US) by post without duty paid.
pub fn refuse_postal_dap(
    to: &Country,
    day: NaiveDate,
    carrier: &str,
    incoterm: crate::model::Incoterm,
) -> Option<String> {
    let regime = in_force(to, day)?;
    (regime.rule == Rule::EveryParcelDutiable
        && incoterm == crate::model::Incoterm::Dap
        && is_postal(carrier))
    .then(|| {
        format!(
            "{}: no de minimis since {} and every parcel is dutiable; a postal parcel must travel duty-paid, and {carrier} by post with the buyer paying duties (DAP) is not accepted: choose a DDP service, or set `incoterm = \"ddp\"` on the rule for {}",
            to.as_str(),
            regime.from_date(),
            to.as_str()
        )
    })
}

/// The row in force for `to` on `day`: the latest that started by then.
pub fn in_force(to: &Country, day: NaiveDate) -> Option<&'static Regime> {
    REGIMES
        .iter()
        .filter(|r| !matches!(r.rule, Rule::FlatDutyPerSubheading { .. }) && r.applies(to, day))
        .max_by_key(|r| r.from_date())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn shipments_are_judged_by_the_row_in_force_on_their_day() {
        let us = Country::parse("US").unwrap();
        assert!(
            in_force(&us, day(2025, 8, 28)).is_none(),
            "de minimis still applied"
        );
        assert_eq!(
            in_force(&us, day(2025, 8, 29)).unwrap().rule,
            Rule::EveryParcelDutiable
        );
        let fr = Country::parse("FR").unwrap();
        assert!(in_force(&fr, day(2021, 6, 30)).is_none());
        assert!(matches!(
            in_force(&fr, day(2026, 12, 2)).unwrap().rule,
            Rule::CollectAtSale {
                registration: Registration::Ioss,
                ..
            }
        ));
        assert!(in_force(&Country::parse("JP").unwrap(), day(2026, 12, 2)).is_none());
        assert!(duty_in_force(&fr, day(2026, 6, 30)).is_none());
        assert!(duty_in_force(&fr, day(2026, 7, 1)).is_some());
        assert!(
            duty_in_force(&fr, day(2028, 7, 1)).is_none(),
            "interim until the data hub"
        );
        assert!(duty_in_force(&us, day(2026, 12, 2)).is_none());
        let day = day(2026, 12, 2);
        let dap = crate::model::Incoterm::Dap;
        let why = refuse_postal_dap(&us, day, "USPS", dap).unwrap();
        assert!(
            why.contains("incoterm = \"ddp\"") && why.contains("2025-08-29"),
            "{why}"
        );
        assert!(refuse_postal_dap(&us, day, "USPS", crate::model::Incoterm::Ddp).is_none());
        assert!(
            refuse_postal_dap(&us, day, "DHL Express", dap).is_none(),
            "a courier collects duties"
        );
        assert!(refuse_postal_dap(&fr, day, "La Poste", dap).is_none());
        for postal in [
            "USPS",
            "Royal Mail",
            "Deutsche Post",
            "PostNL",
            "Posten",
            "Canada Post",
        ] {
            assert!(is_postal(postal), "{postal}");
        }
        for courier in ["DHL Express", "UPS", "FedEx", "Parcelforce Worldwide"] {
            assert!(!is_postal(courier), "{courier}");
        }
        for r in REGIMES {
            assert!(
                r.source.starts_with("https://"),
                "every row names its source"
            );
            let _ = r.from_date();
        }
    }
}

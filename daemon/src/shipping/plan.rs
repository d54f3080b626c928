//! From a stored order to the consignment to ship: which orders ship,
//! their customs declaration (channel data, else the catalogue), weight,
//! incoterm and IOSS. A cross-border order whose customs facts are missing
//! is held with a message naming the SKU and field — never shipped with a
//! wrong declaration.

use super::declaration;
pub use super::declaration::DutyEstimate;
use super::policy::ShippingPolicy;
use crate::config::shipping::EU;
use crate::model::{
    Country, CustomsLine, FulfilledBy, FulfillmentStatus, Money, Order, OrderStatus, Parcel,
    PaymentStatus, Shipment,
};

/// Why an order is not (or no longer) one to ship; `None` when it is.
pub fn not_shippable(order: &Order) -> Option<&'static str> {
    if order.fulfilled_by == FulfilledBy::Marketplace {
        return Some(
            "the marketplace fulfils it from its own warehouse (e.g. Fulfilled by Amazon)",
        );
    }
    if order.status != OrderStatus::Open {
        return Some("the order is closed or cancelled on its channel");
    }
    if !matches!(
        order.payment_status,
        PaymentStatus::Paid | PaymentStatus::PartiallyRefunded
    ) {
        return Some("the order is not paid");
    }
    if order.fulfillment_status != FulfillmentStatus::Unfulfilled {
        return Some("the order is already (partly) fulfilled on its channel");
    }
    if order.shipping_address.is_none() {
        return Some("the order has no shipping address");
    }
    if !order
        .line_items
        .iter()
        .any(|l| l.requires_shipping && l.quantity > 0)
    {
        return Some("nothing in the order needs shipping");
    }
    None
}

/// Whether goods from `from` to `to` cross a customs border.
pub fn crosses_customs(from: &Country, to: &Country) -> bool {
    from != to && !(EU.contains(&from.as_str()) && EU.contains(&to.as_str()))
}

/// A consignment ready to quote, with the facts rules decide on.
#[derive(Debug, Clone)]
pub struct Consignment {
    pub shipment: Shipment,
    /// Goods plus packaging.
    pub weight_grams: u32,
    /// Σ declared line values (goods only, without taxes), in the
    /// order's currency.
    pub goods_value: Money,
    /// What shows in `shipments show` (IOSS applied or why not…).
    pub notes: Vec<String>,
    /// The duty owed whatever the incoterm, where the destination levies one.
    pub duty: Option<DutyEstimate>,
}

/// Build the consignment for `order`, or the reason to hold it.
pub fn consignment(
    policy: &ShippingPolicy,
    order: &Order,
    reference: &str,
) -> Result<Consignment, String> {
    let to = order
        .shipping_address
        .clone()
        .ok_or("the order has no shipping address")?;
    let from = policy.ship_from.clone();
    // A special territory (the Canary Islands, the Channel Islands…) is
    // across a fiscal border whatever its country code says.
    let territory = super::territories::special(&to);
    let customs_needed = crosses_customs(&from.country, &to.country)
        || territory.is_some()
        || super::territories::special(&from).is_some();
    let mut customs = Vec::new();
    let mut goods_weight: u32 = 0;
    let mut goods_value = 0i64;
    for line in order
        .line_items
        .iter()
        .filter(|l| l.requires_shipping && l.quantity > 0)
    {
        let product = line.sku.as_ref().and_then(|s| policy.catalogue.get(s));
        let name = match &line.sku {
            Some(sku) => format!("SKU `{sku}`"),
            None => format!("line `{}` (no SKU)", line.title),
        };
        let fix = |field: &str| match &line.sku {
            Some(sku) => format!(
                "{name} has no {field}: add `{field} = …` under [sellers.catalogue.\"{sku}\"] in config.toml"
            ),
            None => format!(
                "{name} has no {field}, and without a SKU the catalogue cannot supply it: give the product a SKU on the channel"
            ),
        };
        let unit_weight = line
            .weight_grams
            .filter(|w| *w > 0)
            .or(product.and_then(|p| p.weight_g))
            .ok_or_else(|| fix("weight_g"))?;
        let weight = unit_weight.saturating_mul(line.quantity);
        goods_weight = goods_weight.saturating_add(weight);
        let overflow = || {
            format!(
                "{name}: {} × {} does not fit in an amount; check the order on the channel",
                line.unit_price, line.quantity
            )
        };
        // The intrinsic value customs asks for excludes taxes: a
        // tax-inclusive price (`taxes_included`) loses its line tax.
        let tax_in_price = if order.taxes_included {
            line.tax.amount_minor
        } else {
            0
        };
        let value = line
            .unit_price
            .amount_minor
            .checked_mul(i64::from(line.quantity))
            .and_then(|v| v.checked_sub(line.discount.amount_minor))
            .and_then(|v| v.checked_sub(tax_in_price))
            .ok_or_else(overflow)?;
        goods_value = goods_value.checked_add(value).ok_or_else(overflow)?;
        if !customs_needed {
            continue;
        }
        let hs_code = match line.hs_code.clone().filter(|h| !h.trim().is_empty()) {
            // The channel's own code, checked as the catalogue's is at load.
            Some(code) => {
                crate::config::shipping::check_hs_code(&code).map_err(|why| {
                    format!(
                        "{name}: the channel's HS code {why}; fix it on the channel, or give the product a catalogue entry"
                    )
                })?;
                code
            }
            None => product
                .and_then(|p| p.hs_code.as_ref().map(|h| h.0.clone()))
                .ok_or_else(|| fix("hs_code"))?,
        };
        if let Some(&needed) = policy.hs_digits.get(&to.country) {
            let digits = hs_code.chars().filter(char::is_ascii_digit).count();
            if digits < needed {
                let key = match &line.sku {
                    Some(sku) => format!("[sellers.catalogue.\"{sku}\"] hs_code"),
                    None => "the channel's HS code".to_string(),
                };
                return Err(format!(
                    "{name}: HS code {hs_code} has {digits} digits but declarations to {} need {needed} ([sellers.shipping.hs_digits]); give the full tariff line in {key}",
                    to.country.as_str()
                ));
            }
        }
        let origin_country = line
            .origin_country
            .clone()
            .or_else(|| product.and_then(|p| p.origin_country.as_ref().map(|c| c.0.clone())))
            .ok_or_else(|| fix("origin_country"))?;
        customs.push(CustomsLine {
            sku: line.sku.clone(),
            description: product
                .and_then(|p| p.description.clone())
                .unwrap_or_else(|| line.title.clone()),
            hs_code: Some(hs_code),
            origin_country,
            quantity: line.quantity,
            value: Money {
                amount_minor: value,
                currency: order.currency,
            },
            weight_grams: weight,
            gtin: line
                .gtin
                .clone()
                .or_else(|| product.and_then(|p| p.gtin.as_ref().map(|g| g.0.clone()))),
        });
    }
    let goods_value = Money {
        amount_minor: goods_value,
        currency: order.currency,
    };
    let mut notes = Vec::new();
    let (tax_ids, duty) = if customs_needed {
        notes.push(format!(
            "customs declaration: {} line(s), {goods_value}",
            customs.len()
        ));
        declaration::registrations(
            policy,
            order,
            (&from, &to),
            &customs,
            goods_value,
            &mut notes,
        )?
    } else {
        (Vec::new(), None)
    };
    let weight_grams = goods_weight.saturating_add(policy.parcel.packaging_g);
    Ok(Consignment {
        shipment: Shipment {
            reference: reference.to_string(),
            ship_from: from,
            ship_to: to,
            parcels: vec![Parcel {
                length_mm: policy.parcel.length_mm,
                width_mm: policy.parcel.width_mm,
                height_mm: policy.parcel.height_mm,
                weight_grams,
            }],
            customs,
            incoterm: policy.incoterm,
            tax_ids,
            label_format: policy.label_format,
        },
        weight_grams,
        goods_value,
        notes,
        duty,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::shipping::ShippingConfig;
    use crate::model::{Address, Currency, LineItem, OrderStatus, PaymentStatus, TaxId, Totals};
    use std::collections::BTreeMap;

    fn policy(ship_from: &str) -> ShippingPolicy {
        policy_with(
            ship_from,
            "ioss_number = \"IM0000000001\"\n[fx]\nGBP = \"1.1667\"\nNOK = \"0.085\"\nAUD = \"0.60\"\n[registrations]\nvoec = \"VOEC2012345\"\narn = \"500000000000\"\n",
        )
    }

    fn policy_with(ship_from: &str, extra: &str) -> ShippingPolicy {
        let (top, tables) = extra
            .split_once('[')
            .map_or((extra, String::new()), |(t, rest)| (t, format!("[{rest}")));
        let text = format!(
            "value_currency = \"EUR\"\n{top}[ship_from]\nname = \"n\"\nline1 = \"l\"\ncity = \"c\"\ncountry = \"{ship_from}\"\n{tables}"
        );
        let config: ShippingConfig = toml::from_str(&text).unwrap();
        let mut catalogue = BTreeMap::new();
        catalogue.insert(
            "MUG".to_string(),
            toml::from_str("hs_code = \"6912.00\"\norigin_country = \"GB\"\nweight_g = 400")
                .unwrap(),
        );
        ShippingPolicy::new(&config, &catalogue)
    }

    fn order(to: &str, unit_eur_cents: i64, sku: Option<&str>) -> Order {
        let eur = Currency::parse("EUR").unwrap();
        let m = |amount_minor| Money {
            amount_minor,
            currency: eur,
        };
        Order {
            external_id: "1".into(),
            number: "#1".into(),
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
            status: OrderStatus::Open,
            payment_status: PaymentStatus::Paid,
            fulfillment_status: FulfillmentStatus::Unfulfilled,
            currency: eur,
            totals: Totals {
                subtotal: m(unit_eur_cents),
                shipping: m(0),
                tax: m(0),
                discount: m(0),
                total: m(unit_eur_cents),
            },
            buyer: None,
            shipping_address: Some(Address {
                name: None,
                company: None,
                line1: "1 Main St".into(),
                line2: None,
                city: "Lyon".into(),
                region: None,
                postal_code: None,
                country: Country::parse(to).unwrap(),
                phone: None,
                email: None,
            }),
            billing_address: None,
            line_items: vec![LineItem {
                external_id: "l1".into(),
                sku: sku.map(Into::into),
                title: "Mug".into(),
                quantity: 1,
                unit_price: m(unit_eur_cents),
                discount: m(0),
                tax: m(0),
                weight_grams: None,
                hs_code: None,
                origin_country: None,
                requires_shipping: true,
                gtin: None,
            }],
            shipping_lines: Vec::new(),
            tax_ids: Vec::new(),
            marketplace_collected_tax: false,
            taxes_included: false,
            tags: Vec::new(),
            marketplace: None,
            fulfilled_by: Default::default(),
            shipping_hold: None,
            payment_gateways: Vec::new(),
            presentment_total: None,
        }
    }

    #[test]
    fn within_the_eu_there_is_no_customs_declaration() {
        let c = consignment(&policy("DE"), &order("FR", 2000, Some("MUG")), "r").unwrap();
        assert!(c.shipment.customs.is_empty() && c.shipment.tax_ids.is_empty());
        assert_eq!(
            c.weight_grams,
            400 + 100,
            "catalogue weight plus default packaging"
        );
    }

    /// `order` with French VAT of 20 % charged at checkout on top.
    fn vat_charged(mut o: Order) -> Order {
        let tax = o.line_items[0].unit_price.amount_minor / 5;
        o.line_items[0].tax.amount_minor = tax;
        o.totals.tax.amount_minor = tax;
        o
    }

    #[test]
    fn ioss_applies_up_to_150_eur_and_the_marketplaces_wins() {
        let p = policy("GB");
        let small = consignment(&p, &vat_charged(order("FR", 15_000, Some("MUG"))), "r").unwrap();
        assert_eq!(small.shipment.tax_ids[0].value, "IM0000000001");
        let big = consignment(&p, &vat_charged(order("FR", 15_001, Some("MUG"))), "r").unwrap();
        assert!(big.shipment.tax_ids.is_empty());
        assert!(
            big.notes.iter().any(|n| n.contains("above €150")),
            "{:?}",
            big.notes
        );
        let mut deemed = order("FR", 2000, Some("MUG"));
        deemed.marketplace_collected_tax = true;
        deemed.tax_ids.push(TaxId {
            scheme: "IOSS".into(),
            value: "IM9999999999".into(),
            country: None,
        });
        let c = consignment(&p, &deemed, "r").unwrap();
        assert_eq!(c.shipment.tax_ids[0].value, "IM9999999999");
        let to_us = consignment(&p, &order("US", 2000, Some("MUG")), "r").unwrap();
        assert!(to_us.shipment.tax_ids.is_empty(), "IOSS is for the EU only");
        assert_eq!(
            to_us.shipment.customs[0].hs_code.as_deref(),
            Some("6912.00")
        );
    }

    /// The worked example: a UK seller's £144 sale to France, prices
    /// including 20 % VAT. Customs sees £120 of goods (≈ €140), within
    /// IOSS; the tax-inclusive £144 (≈ €168) would not have been.
    #[test]
    fn the_customs_value_excludes_the_vat_in_a_tax_inclusive_price() {
        let gbp = Currency::parse("GBP").unwrap();
        let mut o = order("FR", 14_400, Some("MUG"));
        o.currency = gbp;
        o.taxes_included = true;
        o.line_items[0].unit_price = Money {
            amount_minor: 14_400,
            currency: gbp,
        };
        o.line_items[0].discount = Money {
            amount_minor: 0,
            currency: gbp,
        };
        o.line_items[0].tax = Money {
            amount_minor: 2_400,
            currency: gbp,
        };
        o.totals.tax = Money {
            amount_minor: 2_400,
            currency: gbp,
        };
        let c = consignment(&policy("GB"), &o, "r").unwrap();
        assert_eq!(c.shipment.customs[0].value.amount_minor, 12_000);
        assert_eq!(c.goods_value.to_string(), "120.00 GBP");
        assert_eq!(c.shipment.tax_ids[0].value, "IM0000000001", "{:?}", c.notes);
        assert!(
            c.notes.iter().any(|n| n.contains("140.00 EUR")),
            "{:?}",
            c.notes
        );
    }

    #[test]
    fn vat_charged_without_an_ioss_number_or_a_rate_holds_the_order() {
        // No VAT charged: nothing to declare, shipped.
        let c = consignment(&policy("GB"), &order("FR", 2000, Some("MUG")), "r").unwrap();
        assert!(c.shipment.tax_ids.is_empty());
        assert!(c.notes.iter().any(|n| n.contains("no VAT was charged")));
        // Charged, but the seller has no IOSS number.
        let why = consignment(
            &policy_with("GB", ""),
            &vat_charged(order("FR", 2000, Some("MUG"))),
            "r",
        )
        .unwrap_err();
        assert!(
            why.contains("no IOSS number is configured") && why.contains("ioss_number"),
            "{why}"
        );
        // Charged in a currency without a rate: within €150 or not is unknown.
        let mut sek = vat_charged(order("FR", 2000, Some("MUG")));
        let c_sek = Currency::parse("SEK").unwrap();
        sek.currency = c_sek;
        sek.line_items[0].unit_price.currency = c_sek;
        sek.line_items[0].discount.currency = c_sek;
        let why = consignment(&policy("GB"), &sek, "r").unwrap_err();
        assert!(
            why.contains("no reference rate for SEK") && why.contains("[sellers.shipping.fx]"),
            "{why}"
        );
        // The marketplace collected it but sent no IOSS number.
        let mut deemed = order("FR", 2000, Some("MUG"));
        deemed.marketplace_collected_tax = true;
        let why = consignment(&policy("GB"), &deemed, "r").unwrap_err();
        assert!(why.contains("sent no IOSS number"), "{why}");
        // Its IOSS number over €150 is not IOSS.
        let mut over = order("FR", 15_001, Some("MUG"));
        over.marketplace_collected_tax = true;
        over.tax_ids.push(TaxId {
            scheme: "IOSS".into(),
            value: "IM9999999999".into(),
            country: None,
        });
        let why = consignment(&policy("GB"), &over, "r").unwrap_err();
        assert!(why.contains("above the €150 IOSS limit"), "{why}");
    }

    /// `order` to `to` in `currency`, one unit at `unit`, with 25 % tax
    /// charged at checkout.
    fn taxed(to: &str, currency: &str, unit: i64) -> Order {
        let c = Currency::parse(currency).unwrap();
        let mut o = order(to, unit, Some("MUG"));
        o.currency = c;
        let line = &mut o.line_items[0];
        line.unit_price.currency = c;
        line.discount.currency = c;
        o.line_items[0].tax = Money {
            amount_minor: unit / 4,
            currency: c,
        };
        o.totals.tax = o.line_items[0].tax;
        o
    }

    /// UK → NO: VOEC covers items below NOK 3,000 whose VAT was charged at
    /// sale; UK → AU: the ARN covers goods of at most A$1,000.
    #[test]
    fn collect_at_sale_destinations_get_the_sellers_registration() {
        let p = policy("GB");
        let c = consignment(&p, &taxed("NO", "NOK", 299_900), "r").unwrap();
        assert_eq!(c.shipment.tax_ids.len(), 1, "{:?}", c.notes);
        assert_eq!(
            (
                c.shipment.tax_ids[0].scheme.as_str(),
                c.shipment.tax_ids[0].value.as_str()
            ),
            ("voec", "VOEC2012345")
        );
        let at_limit = consignment(&p, &taxed("NO", "NOK", 300_000), "r").unwrap();
        assert!(
            at_limit.shipment.tax_ids.is_empty(),
            "NOK 3,000 is not below NOK 3,000"
        );
        assert!(
            at_limit.notes.iter().any(|n| n.contains("due at import")),
            "{:?}",
            at_limit.notes
        );
        let au = consignment(&p, &taxed("AU", "AUD", 100_000), "r").unwrap();
        assert_eq!(au.shipment.tax_ids[0].scheme, "arn");
        // GST charged, no ARN configured: held, naming the key.
        let why = consignment(
            &policy_with("GB", "[fx]\nAUD = \"0.60\"\n"),
            &taxed("AU", "AUD", 5_000),
            "r",
        )
        .unwrap_err();
        assert!(
            why.contains("`arn`") && why.contains("[sellers.shipping.registrations]"),
            "{why}"
        );
        // No tax charged: nothing to declare.
        let mut untaxed = taxed("AU", "AUD", 5_000);
        untaxed.line_items[0].tax.amount_minor = 0;
        untaxed.totals.tax.amount_minor = 0;
        assert!(
            consignment(&p, &untaxed, "r")
                .unwrap()
                .shipment
                .tax_ids
                .is_empty()
        );
        // UK → US: no de minimis; the record says so.
        let us = consignment(&p, &order("US", 2000, Some("MUG")), "r").unwrap();
        assert!(
            us.notes
                .iter()
                .any(|n| n.contains("every parcel is dutiable")),
            "{:?}",
            us.notes
        );
    }

    #[test]
    fn switzerland_takes_the_sellers_swiss_vat_number_on_every_taxed_parcel() {
        let registered = policy_with(
            "GB",
            "[fx]\nCHF = \"1.05\"\n[registrations]\nch_vat = \"CHE-123.456.788 MWST\"\n",
        );
        // Far above any small-consignment value: still declared.
        let c = consignment(&registered, &taxed("CH", "CHF", 90_000), "r").unwrap();
        assert_eq!(
            (
                c.shipment.tax_ids[0].scheme.as_str(),
                c.shipment.tax_ids[0].value.as_str()
            ),
            ("vat", "CHE-123.456.788 MWST")
        );
        assert!(
            c.notes.iter().any(|n| n.contains("every consignment")),
            "{:?}",
            c.notes
        );
        // Swiss VAT charged by a seller not in the register: held.
        let why = consignment(
            &policy_with("GB", "[fx]\nCHF = \"1.05\"\n"),
            &taxed("CH", "CHF", 5_000),
            "r",
        )
        .unwrap_err();
        assert!(why.contains("`ch_vat`"), "{why}");
    }

    #[test]
    fn canada_says_whether_duties_and_taxes_are_due_on_arrival() {
        let p = policy_with("GB", "[fx]\nCAD = \"0.66\"\n");
        let small = consignment(&p, &taxed("CA", "CAD", 1_500), "r").unwrap();
        assert!(small.shipment.tax_ids.is_empty());
        assert!(
            small
                .notes
                .iter()
                .any(|n| n.contains("within the 20.00 CAD de minimis")),
            "{:?}",
            small.notes
        );
        let big = consignment(&p, &taxed("CA", "CAD", 9_000), "r").unwrap();
        assert!(
            big.notes
                .iter()
                .any(|n| n.contains("duties and taxes are due at import")),
            "{:?}",
            big.notes
        );
        // From the US by courier, CA$90 is duty-free and taxed.
        let from_us = policy_with("US", "[fx]\nCAD = \"0.66\"\n");
        let near = consignment(&from_us, &taxed("CA", "CAD", 9_000), "r").unwrap();
        assert!(
            near.notes
                .iter()
                .any(|n| n.contains("duty-free up to 150.00 CAD")),
            "{:?}",
            near.notes
        );
    }

    /// DE → the Canary Islands: the address says ES, but the islands are
    /// outside the EU VAT area, so the parcel carries a declaration and no
    /// IOSS, although it never leaves Spain's country code.
    #[test]
    fn a_special_territory_gets_a_declaration_and_no_ioss() {
        let mut canary = vat_charged(order("ES", 2000, Some("MUG")));
        canary.shipping_address.as_mut().unwrap().postal_code = Some("35001".into());
        let c = consignment(&policy("DE"), &canary, "r").unwrap();
        assert_eq!(c.shipment.customs.len(), 1, "declared");
        assert!(c.shipment.tax_ids.is_empty(), "no IOSS");
        assert!(
            c.notes
                .iter()
                .any(|n| n.contains("the Canary Islands is outside the EU VAT area")),
            "{:?}",
            c.notes
        );
        // Madrid stays inside: no declaration.
        let mut madrid = order("ES", 2000, Some("MUG"));
        madrid.shipping_address.as_mut().unwrap().postal_code = Some("28013".into());
        assert!(
            consignment(&policy("DE"), &madrid, "r")
                .unwrap()
                .shipment
                .customs
                .is_empty()
        );
        // From outside the EU too: a UK seller's Canary parcel has no IOSS.
        let c = consignment(&policy("GB"), &canary, "r").unwrap();
        assert!(c.shipment.tax_ids.is_empty());
    }

    /// UK → FR since 1 July 2026: a parcel under €150 under IOSS owes €3
    /// per distinct subheading, counted once for two lines of one
    /// subheading, and the IOSS holder owes it whatever the incoterm.
    #[test]
    fn the_eu_flat_duty_counts_subheadings_once_and_names_who_owes_it() {
        let p = policy("GB");
        let mut o = vat_charged(order("FR", 2_000, Some("MUG")));
        let mut second = o.line_items[0].clone();
        second.external_id = "l2".into();
        o.line_items.push(second);
        let mut socks = o.line_items[0].clone();
        socks.external_id = "l3".into();
        socks.sku = Some("SOCKS".into());
        socks.weight_grams = Some(80);
        socks.hs_code = Some("6115.94".into());
        socks.origin_country = Some(Country::parse("PT").unwrap());
        o.line_items.push(socks);
        let c = consignment(&p, &o, "r").unwrap();
        assert_eq!(
            c.shipment.customs.len(),
            3,
            "one customs line per order line"
        );
        let today = chrono::Utc::now().date_naive();
        if super::super::regimes::duty_in_force(&Country::parse("FR").unwrap(), today).is_some() {
            let d = c.duty.expect("a duty");
            assert_eq!(d.subheadings, ["611594", "691200"]);
            assert_eq!(d.amount.to_string(), "6.00 EUR");
            assert!(
                d.owed_by.contains("the seller (IOSS IM0000000001)"),
                "{}",
                d.owed_by
            );
        } else {
            assert!(c.duty.is_none(), "not in force on {today}");
        }
        // No IOSS (no VAT charged): out of the interim duty's scope.
        assert!(
            consignment(&p, &order("FR", 2_000, Some("MUG")), "r")
                .unwrap()
                .duty
                .is_none()
        );
    }

    #[test]
    fn an_hs_code_customs_cannot_use_is_refused() {
        let p = policy("GB");
        let mut o = order("US", 2000, Some("SOCKS"));
        o.line_items[0].weight_grams = Some(80);
        o.line_items[0].origin_country = Some(Country::parse("PT").unwrap());
        for bad in ["6115", "TBD", "61-15-94"] {
            o.line_items[0].hs_code = Some(bad.into());
            let why = consignment(&p, &o, "r").unwrap_err();
            assert!(why.contains("SKU `SOCKS`") && why.contains(bad), "{why}");
        }
        o.line_items[0].hs_code = Some("6115.94.00".into());
        assert!(consignment(&p, &o, "r").is_ok());
    }

    #[test]
    fn a_destination_that_needs_the_full_tariff_line_holds_a_short_code() {
        let p = policy_with("GB", "[hs_digits]\nUS = 10\n");
        let o = order("US", 2000, Some("MUG"));
        let why = consignment(&p, &o, "r").unwrap_err();
        assert!(
            why.contains("6912.00 has 6 digits")
                && why.contains("to US need 10")
                && why.contains("[sellers.catalogue.\"MUG\"] hs_code"),
            "{why}"
        );
        // Other destinations keep the 6-digit subheading.
        assert!(consignment(&p, &order("CH", 2000, Some("MUG")), "r").is_ok());
        let mut full = o.clone();
        full.line_items[0].hs_code = Some("6912.00.4810".into());
        assert!(consignment(&p, &full, "r").is_ok());
    }

    #[test]
    fn the_catalogue_gtin_travels_on_the_customs_line() {
        let mut p = policy("GB");
        p.catalogue.get_mut("MUG").unwrap().gtin = Some(
            toml::from_str::<BTreeMap<String, crate::config::shipping::Gtin>>(
                "g = \"5012345678900\"",
            )
            .unwrap()
            .remove("g")
            .unwrap(),
        );
        let c = consignment(&p, &order("US", 2000, Some("MUG")), "r").unwrap();
        assert_eq!(c.shipment.customs[0].gtin.as_deref(), Some("5012345678900"));
        let bad = toml::from_str::<BTreeMap<String, crate::config::shipping::Gtin>>(
            "g = \"5012345678901\"",
        )
        .unwrap_err();
        assert!(bad.to_string().contains("check digit"), "{bad}");
    }

    #[test]
    fn marketplace_registrations_travel_to_their_own_border_only() {
        let p = policy("DE");
        let mut uk = order("GB", 2000, Some("MUG"));
        uk.marketplace_collected_tax = true;
        uk.tax_ids.push(TaxId {
            scheme: "vat".into(),
            value: "GB727255821".into(),
            country: Country::parse("GB"),
        });
        uk.tax_ids.push(TaxId {
            scheme: "ioss".into(),
            value: "IM4420001201".into(),
            country: None,
        });
        let c = consignment(&p, &uk, "r").unwrap();
        let declared: Vec<&str> = c
            .shipment
            .tax_ids
            .iter()
            .map(|t| t.value.as_str())
            .collect();
        assert_eq!(
            declared,
            ["GB727255821"],
            "UK VAT to GB, no IOSS outside the EU"
        );
        uk.marketplace_collected_tax = false;
        let c = consignment(&p, &uk, "r").unwrap();
        assert!(
            c.shipment.tax_ids.is_empty(),
            "not collected: nothing declared"
        );
    }

    #[test]
    fn the_marketplaces_own_orders_are_never_ours_to_ship() {
        let mut afn = order("FR", 2000, Some("MUG"));
        assert_eq!(not_shippable(&afn), None);
        afn.fulfilled_by = FulfilledBy::Marketplace;
        assert!(not_shippable(&afn).unwrap().contains("marketplace fulfils"));
    }

    #[test]
    fn an_amount_that_overflows_holds_the_order_instead_of_wrapping() {
        let p = policy("GB");
        let mut o = order("US", i64::MAX / 2, Some("MUG"));
        o.line_items[0].quantity = 3;
        let why = consignment(&p, &o, "r").unwrap_err();
        assert!(why.contains("does not fit in an amount"), "{why}");
        let mut o = order("US", 1000, Some("MUG"));
        o.line_items[0].discount.amount_minor = i64::MIN;
        assert!(consignment(&p, &o, "r").is_err());
    }

    #[test]
    fn missing_facts_name_the_sku_and_field() {
        let p = policy("GB");
        let why = consignment(&p, &order("US", 2000, Some("SOCKS")), "r").unwrap_err();
        assert!(why.contains("SKU `SOCKS` has no weight_g"), "{why}");
        let why = consignment(&p, &order("US", 2000, None), "r").unwrap_err();
        assert!(why.contains("line `Mug` (no SKU) has no weight_g"), "{why}");
        let mut o = order("US", 2000, Some("SOCKS"));
        o.line_items[0].weight_grams = Some(80);
        let why = consignment(&p, &o, "r").unwrap_err();
        assert!(
            why.contains("SKU `SOCKS` has no hs_code")
                && why.contains("[sellers.catalogue.\"SOCKS\"]"),
            "{why}"
        );
        assert!(consignment(&p, &o.clone(), "r").is_err());
        o.line_items[0].hs_code = Some("6115.94".into());
        o.line_items[0].origin_country = Some(Country::parse("PT").unwrap());
        assert!(
            consignment(&p, &o, "r").is_ok(),
            "the channel's own facts suffice"
        );
    }
}

//! From a stored order to the consignment to ship: which orders ship,
//! their customs declaration (channel data, else the catalogue), weight,
//! incoterm and IOSS. A cross-border order whose customs facts are missing
//! is held with a message naming the SKU and field — never shipped with a
//! wrong declaration.

use super::policy::ShippingPolicy;
use super::regimes::{self, Measure, Regime, Registration, Rule};
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

/// A duty the parcel owes at import, estimated from the rules in force.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DutyEstimate {
    pub amount: Money,
    /// The distinct 6-digit tariff subheadings it was counted on.
    pub subheadings: Vec<String>,
    /// Who owes it: the holder of the IOSS number the parcel travels under.
    pub owed_by: String,
    /// Where the rule comes from.
    pub source: String,
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
        });
    }
    let goods_value = Money {
        amount_minor: goods_value,
        currency: order.currency,
    };
    let mut notes = Vec::new();
    let mut tax_ids = Vec::new();
    let mut duty = None;
    if customs_needed {
        notes.push(format!(
            "customs declaration: {} line(s), {goods_value}",
            customs.len()
        ));
        // Judged by the rules in force on the ship date: today.
        let today = chrono::Utc::now().date_naive();
        let regime = match territory {
            Some(place) => {
                notes.push(format!(
                    "{place} is outside the {} VAT area: the parcel is declared to customs and no IOSS or UK VAT scheme applies",
                    if to.country.as_str() == "GB" { "UK" } else { "EU" }
                ));
                None
            }
            None => regimes::in_force(&to.country, today),
        };
        match regime.map(|r| (r, r.rule)) {
            Some((
                _,
                Rule::CollectAtSale {
                    limit_minor,
                    registration: Registration::Ioss,
                    ..
                },
            )) => {
                if let Some(ioss) = ioss(
                    policy,
                    order,
                    (&from.country, &to.country),
                    goods_value,
                    limit_minor,
                    &mut notes,
                )? {
                    tax_ids.push(ioss);
                }
            }
            Some((regime, Rule::CollectAtSale { .. })) => {
                tax_ids.extend(collected_at_sale(
                    policy,
                    order,
                    regime,
                    &customs,
                    goods_value,
                    &mut notes,
                )?);
            }
            Some((_, Rule::FlatDutyPerSubheading { .. })) => {}
            Some((regime, Rule::EveryParcelDutiable)) => notes.push(format!(
                "{}: no de minimis since {}, every parcel is dutiable ({})",
                to.country.as_str(),
                regime.from_date(),
                regime.source
            )),
            None => {}
        }
        tax_ids.extend(marketplace_registrations(order, &to.country, &mut notes));
        if territory.is_none() {
            duty = flat_duty(
                policy,
                order,
                &to.country,
                today,
                &customs,
                goods_value,
                &tax_ids,
            );
        }
        if let Some(d) = &duty {
            notes.push(format!(
                "EU flat duty: €3 × {} tariff subheading(s) = {}, owed by {} whatever the incoterm",
                d.subheadings.len(),
                d.amount,
                d.owed_by
            ));
        }
    }
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

/// The flat duty in force for `to` on `day`: counted once per distinct
/// 6-digit subheading (two lines of one subheading owe it once), for a
/// parcel worth less than the threshold that travels under an IOSS number,
/// whose holder owes it, also under DAP.
fn flat_duty(
    policy: &ShippingPolicy,
    order: &Order,
    to: &Country,
    day: chrono::NaiveDate,
    customs: &[CustomsLine],
    goods: Money,
    tax_ids: &[crate::model::TaxId],
) -> Option<DutyEstimate> {
    let regime = regimes::duty_in_force(to, day)?;
    let Rule::FlatDutyPerSubheading {
        duty_minor,
        currency,
        below_minor,
    } = regime.rule
    else {
        return None;
    };
    let ioss = tax_ids
        .iter()
        .find(|t| t.scheme.eq_ignore_ascii_case("ioss"))?;
    let cur = crate::model::Currency::parse(currency).expect("ISO 4217");
    if policy.fx.convert(goods, cur)?.amount_minor >= below_minor {
        return None;
    }
    let subheadings: std::collections::BTreeSet<String> = customs
        .iter()
        .filter_map(|c| c.hs_code.as_deref())
        .map(|h| h.chars().filter(char::is_ascii_digit).take(6).collect())
        .collect();
    let n = i64::try_from(subheadings.len()).ok()?;
    let owed_by = if order.marketplace_collected_tax {
        format!("the marketplace (IOSS {})", ioss.value)
    } else {
        format!("the seller (IOSS {})", ioss.value)
    };
    Some(DutyEstimate {
        amount: Money {
            amount_minor: duty_minor.checked_mul(n)?,
            currency: cur,
        },
        subheadings: subheadings.into_iter().collect(),
        owed_by,
        source: regime.source.to_string(),
    })
}

/// Whether tax was charged at checkout (on any line, or in the totals).
fn tax_charged(order: &Order) -> bool {
    order.totals.tax.amount_minor > 0 || order.line_items.iter().any(|l| l.tax.amount_minor > 0)
}

/// The seller's registration to declare where the destination has tax
/// charged at sale (GB, NO, AU, NZ), or why the order must be held: tax
/// charged within the threshold without the registration to declare it
/// would be charged again at the border.
fn collected_at_sale(
    policy: &ShippingPolicy,
    order: &Order,
    regime: &Regime,
    customs: &[CustomsLine],
    goods: Money,
    notes: &mut Vec<String>,
) -> Result<Vec<crate::model::TaxId>, String> {
    let Rule::CollectAtSale {
        limit_minor,
        currency,
        measure,
        registration,
    } = regime.rule
    else {
        return Ok(Vec::new());
    };
    // The marketplace that collected it declares its own (below).
    if order.marketplace_collected_tax || !tax_charged(order) {
        return Ok(Vec::new());
    }
    let to = regime.destinations.first().copied().unwrap_or_default();
    let cur = crate::model::Currency::parse(currency).expect("the table's currencies are ISO 4217");
    let limit = Money {
        amount_minor: limit_minor,
        currency: cur,
    };
    let tax = registration.tax();
    let within = match measure {
        Measure::ConsignmentAtMost => policy
            .fx
            .convert(goods, cur)
            .map(|v| v.amount_minor <= limit_minor),
        Measure::ItemAtMost | Measure::ItemBelow => customs
            .iter()
            .map(|c| {
                let unit = Money {
                    amount_minor: c.value.amount_minor / i64::from(c.quantity.max(1)),
                    currency: c.value.currency,
                };
                policy.fx.convert(unit, cur).map(|v| match measure {
                    Measure::ItemBelow => v.amount_minor < limit_minor,
                    _ => v.amount_minor <= limit_minor,
                })
            })
            .collect::<Option<Vec<bool>>>()
            .map(|each| each.into_iter().all(|ok| ok)),
    };
    match within {
        None => Err(format!(
            "{tax} was charged at checkout, but there is no reference rate for {} to tell whether the goods are within {to}'s {limit} threshold: add it under [sellers.shipping.fx]",
            goods.currency
        )),
        Some(false) => {
            notes.push(format!(
                "{to}: the goods are above the {limit} threshold, so {tax} is due at import and no registration is declared"
            ));
            Ok(Vec::new())
        }
        Some(true) => {
            let ids = policy.registration(registration);
            if ids.is_empty() {
                return Err(format!(
                    "{tax} was charged at checkout on goods within {to}'s {limit} threshold, but no `{}` is set under [sellers.shipping.registrations]: without it the buyer is charged {tax} again at import",
                    registration.key()
                ));
            }
            let declared: Vec<String> = ids
                .iter()
                .map(|t| format!("{} {}", t.scheme.to_ascii_uppercase(), t.value))
                .collect();
            notes.push(format!(
                "{} declared: {tax} charged at sale on goods within {to}'s {limit} threshold",
                declared.join(" and ")
            ));
            Ok(ids)
        }
    }
}

/// The marketplace's own registrations for the destination's import
/// scheme, when it collected the tax: the UK VAT number for a GB import,
/// VOEC for Norway, ABN/GST for Australia, IRD for New Zealand. (IOSS,
/// for the EU, is [`ioss`]'s.) Customs then sees that the tax was paid.
fn marketplace_registrations(
    order: &Order,
    to: &Country,
    notes: &mut Vec<String>,
) -> Vec<crate::model::TaxId> {
    if !order.marketplace_collected_tax {
        return Vec::new();
    }
    let to = to.as_str();
    let found: Vec<crate::model::TaxId> = order
        .tax_ids
        .iter()
        .filter(|t| {
            let scheme = t.scheme.to_ascii_lowercase();
            let issued_here = t.country.as_ref().is_some_and(|c| c.as_str() == to)
                || t.value.to_ascii_uppercase().starts_with(to);
            match scheme.as_str() {
                "vat" => to == "GB" && issued_here,
                "voec" => to == "NO",
                "abn" | "gst" => to == "AU",
                "ird" => to == "NZ",
                _ => false,
            }
        })
        .cloned()
        .collect();
    for t in &found {
        notes.push(format!(
            "the marketplace collected the import tax: its {} {} is declared",
            t.scheme.to_ascii_uppercase(),
            t.value
        ));
    }
    found
}

/// The IOSS number to declare for an EU import, if any, noting why; or
/// why the order must be held.
///
/// IOSS covers consignments of intrinsic value up to €150 sent into the EU
/// from outside it, whose VAT was charged at sale: by the marketplace as
/// deemed supplier (its IOSS number travels with the order), or by the
/// seller (the seller's number). VAT charged at sale without an IOSS
/// number to declare, or without a rate to tell whether the consignment is
/// within €150, would be charged again at the border: such an order is
/// held, never shipped with a declaration that makes the buyer pay twice.
fn ioss(
    policy: &ShippingPolicy,
    order: &Order,
    (from, to): (&Country, &Country),
    goods: Money,
    limit_eur_cents: i64,
    notes: &mut Vec<String>,
) -> Result<Option<crate::model::TaxId>, String> {
    if !EU.contains(&to.as_str()) || EU.contains(&from.as_str()) {
        return Ok(None);
    }
    let eur = crate::model::Currency::parse("EUR").expect("EUR is ISO 4217");
    let in_eur = policy.fx.convert(goods, eur);
    let no_rate = || {
        format!(
            "no reference rate for {} to tell whether {goods} is within the €150 IOSS limit: add it under [sellers.shipping.fx]",
            goods.currency
        )
    };
    if order.marketplace_collected_tax {
        let theirs = order
            .tax_ids
            .iter()
            .find(|t| t.scheme.eq_ignore_ascii_case("ioss"))
            .cloned()
            .ok_or("the marketplace collected the VAT but sent no IOSS number: without one the buyer is charged VAT again at import; find the marketplace's IOSS number for this order, or ship it by hand")?;
        return match in_eur {
            None => Err(format!(
                "the marketplace collected the VAT under IOSS {}, but there is {}",
                theirs.value,
                no_rate()
            )),
            Some(v) if v.amount_minor > limit_eur_cents => Err(format!(
                "the marketplace collected the VAT under IOSS {}, but the consignment is {v}, above the €150 IOSS limit: IOSS cannot be declared and import VAT would be due again; check the order with the marketplace",
                theirs.value
            )),
            Some(v) => {
                notes.push(format!(
                    "the marketplace collected the VAT: its IOSS {} is declared ({v}, within €150)",
                    theirs.value
                ));
                Ok(Some(theirs))
            }
        };
    }
    if !tax_charged(order) {
        if policy.ioss.is_some() {
            notes.push(
                "IOSS not declared: no VAT was charged at checkout, so the buyer pays import VAT on arrival"
                    .into(),
            );
        }
        return Ok(None);
    }
    match (policy.ioss.clone(), in_eur) {
        (_, Some(v)) if v.amount_minor > limit_eur_cents => {
            notes.push(format!(
                "IOSS not declared: consignment {v} is above €150, import VAT is due on arrival"
            ));
            Ok(None)
        }
        (None, _) => Err(
            "VAT was charged at checkout, but no IOSS number is configured: without one the buyer is charged VAT again at import; set `ioss_number` under [sellers.shipping], or ship it by hand"
                .into(),
        ),
        (Some(_), None) => Err(format!("VAT was charged at checkout, but there is {}", no_rate())),
        (Some(ours), Some(v)) => {
            notes.push(format!(
                "IOSS {} declared: consignment {v} is within the €150 limit",
                ours.value
            ));
            Ok(Some(ours))
        }
    }
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
            }],
            shipping_lines: Vec::new(),
            tax_ids: Vec::new(),
            marketplace_collected_tax: false,
            taxes_included: false,
            tags: Vec::new(),
            marketplace: None,
            fulfilled_by: Default::default(),
            shipping_hold: None,
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
        if regimes::duty_in_force(&Country::parse("FR").unwrap(), today).is_some() {
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

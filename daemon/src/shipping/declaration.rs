//! What a consignment declares besides its goods: the tax registrations
//! the destination requires (IOSS, UK VAT, VOEC, ARN, NZ GST, or the
//! marketplace's own), and the duty it owes whatever the incoterm, judged
//! by the import regime in force on the ship date ([`super::regimes`]).
//! Tax charged at sale that cannot be declared holds the order instead.

use super::policy::ShippingPolicy;
use super::regimes::{self, Measure, Regime, Registration, Rule};
use crate::config::shipping::EU;
use crate::model::{Address, Country, CustomsLine, Money, Order, TaxId};

/// A duty the parcel owes at import, estimated from the rules in force.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DutyEstimate {
    pub amount: Money,
    /// The distinct 6-digit tariff subheadings it was counted on.
    pub subheadings: Vec<String>,
    /// Who owes it: the holder of the IOSS number the parcel travels under.
    pub owed_by: String,
    /// Whether that is the seller (their own IOSS), so settlement books it
    /// as the seller's cost.
    #[serde(default)]
    pub seller_pays: bool,
    /// Where the rule comes from.
    pub source: String,
}

/// The tax ids to declare for a consignment from `from` to `to` that
/// crosses a border, and the duty it owes; or why it must be held.
pub fn registrations(
    policy: &ShippingPolicy,
    order: &Order,
    (from, to): (&Address, &Address),
    customs: &[CustomsLine],
    goods_value: Money,
    notes: &mut Vec<String>,
) -> Result<(Vec<TaxId>, Option<DutyEstimate>), String> {
    let territory = super::territories::special(to);
    let mut tax_ids = Vec::new();
    let mut duty = None;
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
                notes,
            )? {
                tax_ids.push(ioss);
            }
        }
        Some((regime, Rule::CollectAtSale { .. })) => {
            tax_ids.extend(collected_at_sale(
                policy,
                order,
                regime,
                customs,
                goods_value,
                notes,
            )?);
        }
        Some((_, Rule::FlatDutyPerSubheading { .. })) => {}
        Some((regime, Rule::DeMinimis { .. })) => {
            notes.extend(de_minimis(policy, regime, &from.country, goods_value));
        }
        Some((regime, Rule::EveryParcelDutiable)) => notes.push(format!(
            "{}: no de minimis since {}, every parcel is dutiable ({})",
            to.country.as_str(),
            regime.from_date(),
            regime.source
        )),
        None => {}
    }
    tax_ids.extend(marketplace_registrations(order, &to.country, notes));
    if territory.is_none() {
        duty = flat_duty(
            policy,
            order,
            &to.country,
            today,
            customs,
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
    Ok((tax_ids, duty))
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
    tax_ids: &[TaxId],
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
        seller_pays: !order.marketplace_collected_tax,
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
) -> Result<Vec<TaxId>, String> {
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
    let threshold = match measure {
        Measure::Always => format!("{to}'s scheme (every consignment)"),
        _ => format!("{to}'s {limit} threshold"),
    };
    let tax = registration.tax();
    let within = match measure {
        Measure::Always => Some(true),
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
            "{tax} was charged at checkout, but there is no reference rate for {} to tell whether the goods are within {threshold}: add it under [sellers.shipping.fx]",
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
                    "{tax} was charged at checkout on goods within {threshold}, but no `{}` is set under [sellers.shipping.registrations]: without it the buyer is charged {tax} again at import",
                    registration.key()
                ));
            }
            let declared: Vec<String> = ids
                .iter()
                .map(|t| format!("{} {}", t.scheme.to_ascii_uppercase(), t.value))
                .collect();
            notes.push(format!(
                "{} declared: {tax} charged at sale on goods within {threshold}",
                declared.join(" and ")
            ));
            Ok(ids)
        }
    }
}

/// What a destination with a de minimis (CA) charges at import, as a note:
/// nothing is declared beyond the goods, but the seller sees whether the
/// buyer will pay duties and taxes on delivery (under DAP).
fn de_minimis(
    policy: &ShippingPolicy,
    regime: &Regime,
    from: &Country,
    goods: Money,
) -> Option<String> {
    let Rule::DeMinimis {
        limit_minor,
        currency,
        near,
        near_tax_minor,
        near_duty_minor,
    } = regime.rule
    else {
        return None;
    };
    let to = regime.destinations.first().copied().unwrap_or_default();
    let cur = crate::model::Currency::parse(currency).expect("the table's currencies are ISO 4217");
    let m = |amount_minor| Money {
        amount_minor,
        currency: cur,
    };
    let Some(value) = policy.fx.convert(goods, cur) else {
        return Some(format!(
            "{to}: no reference rate for {} to compare the goods with the {} de minimis; duties and taxes may be due at import",
            goods.currency,
            m(limit_minor)
        ));
    };
    let near_by_courier = near.contains(&from.as_str());
    Some(if value.amount_minor <= limit_minor {
        format!(
            "{to}: goods worth {value} are within the {} de minimis: no duties or taxes at import",
            m(limit_minor)
        )
    } else if near_by_courier && value.amount_minor <= near_tax_minor {
        format!(
            "{to}: goods worth {value} are above the {} de minimis by mail, but within {} by courier from {}: no duties or taxes by courier",
            m(limit_minor),
            m(near_tax_minor),
            from.as_str()
        )
    } else if near_by_courier && value.amount_minor <= near_duty_minor {
        format!(
            "{to}: goods worth {value}: by courier from {} duty-free up to {} but taxes are due at import; by mail, duties and taxes above {}",
            from.as_str(),
            m(near_duty_minor),
            m(limit_minor)
        )
    } else {
        format!(
            "{to}: goods worth {value} are above the {} de minimis: duties and taxes are due at import (the buyer pays them on delivery under DAP)",
            m(limit_minor)
        )
    })
}

/// The marketplace's own registrations for the destination's import
/// scheme, when it collected the tax: the UK VAT number for a GB import,
/// VOEC for Norway, ABN/GST for Australia, IRD for New Zealand. (IOSS,
/// for the EU, is [`ioss`]'s.) Customs then sees that the tax was paid.
fn marketplace_registrations(order: &Order, to: &Country, notes: &mut Vec<String>) -> Vec<TaxId> {
    if !order.marketplace_collected_tax {
        return Vec::new();
    }
    let to = to.as_str();
    let found: Vec<TaxId> = order
        .tax_ids
        .iter()
        .filter(|t| {
            let scheme = t.scheme.to_ascii_lowercase();
            let issued_here = t.country.as_ref().is_some_and(|c| c.as_str() == to)
                || t.value.to_ascii_uppercase().starts_with(to);
            match scheme.as_str() {
                "vat" => matches!(to, "GB" | "CH" | "LI") && issued_here,
                "voec" => to == "NO",
                "abn" | "gst" | "arn" => to == "AU",
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
) -> Result<Option<TaxId>, String> {
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

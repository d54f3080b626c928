//! Which rule applies to a consignment, and which of the carrier's rates
//! it picks.

use super::fx::ReferenceRates;
use super::policy::Rule;
use crate::config::shipping::Choose;
use crate::model::{Country, Money, Rate};

/// What rules decide on.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    pub from: &'a Country,
    pub to: &'a Country,
    pub weight_grams: u32,
    /// The order's total.
    pub value: Money,
    pub channel: &'a str,
    /// The marketplace plugin's name (`shopify`).
    pub marketplace: &'a str,
}

/// Whether `value` is within the bounds; `None` when it cannot be told
/// (no reference rate for its currency).
fn within(
    value: Money,
    min: Option<Money>,
    max: Option<Money>,
    fx: &ReferenceRates,
) -> Option<bool> {
    if min.is_none() && max.is_none() {
        return Some(true);
    }
    let v = fx.convert(value, fx.base)?;
    Some(
        min.is_none_or(|m| v.amount_minor >= m.amount_minor)
            && max.is_none_or(|m| v.amount_minor <= m.amount_minor),
    )
}

/// Whether every condition of `rule` holds; `None` when its value bounds
/// cannot be checked for want of a reference rate.
pub fn matches(rule: &Rule, facts: &Facts<'_>, fx: &ReferenceRates) -> Option<bool> {
    let place = (rule.countries.is_empty() && rule.regions.is_empty())
        || rule.countries.contains(facts.to)
        || rule
            .regions
            .iter()
            .any(|r| r.contains(facts.from, facts.to));
    let channel = rule.channels.is_empty()
        || rule
            .channels
            .iter()
            .any(|c| c == facts.channel || c == facts.marketplace);
    let weight = rule.min_weight_g.is_none_or(|m| facts.weight_grams >= m)
        && rule.max_weight_g.is_none_or(|m| facts.weight_grams <= m);
    if !(place && channel && weight) {
        return Some(false);
    }
    within(facts.value, rule.min_value, rule.max_value, fx)
}

/// The first rule that matches; an error when a rule before it could not
/// be judged (its value bounds need a reference rate that is missing): a
/// rule is never skipped silently.
pub fn select<'r>(
    rules: &'r [Rule],
    facts: &Facts<'_>,
    fx: &ReferenceRates,
) -> Result<Option<&'r Rule>, String> {
    for rule in rules {
        match matches(rule, facts, fx) {
            Some(true) => return Ok(Some(rule)),
            Some(false) => {}
            None => {
                return Err(format!(
                    "rule `{}` limits the order value, and there is no reference rate for {} to compare {} with it: add {} under [sellers.shipping.fx]",
                    rule.name, facts.value.currency, facts.value, facts.value.currency
                ));
            }
        }
    }
    Ok(None)
}

/// The rate `rule` picks from `quotes`, or why none fits.
pub fn choose(rule: &Rule, quotes: &[Rate], fx: &ReferenceRates) -> Result<Rate, String> {
    let named: Vec<&Rate> = quotes
        .iter()
        .filter(|r| {
            rule.service
                .as_ref()
                .is_none_or(|s| r.service.eq_ignore_ascii_case(s))
        })
        .collect();
    if named.is_empty() {
        let offered: Vec<String> = quotes.iter().map(|r| r.service.clone()).collect();
        return Err(format!(
            "rule `{}` wants service `{}`, the carrier offered: {}",
            rule.name,
            rule.service.as_deref().unwrap_or(""),
            offered.join(", ")
        ));
    }
    let mut priced: Vec<(i64, &Rate)> = Vec::new();
    for r in &named {
        match fx.convert(r.price, fx.base) {
            Some(p) => priced.push((p.amount_minor, r)),
            None => {
                if rule.max_price.is_none() && r.price.currency == fx.base {
                    priced.push((r.price.amount_minor, r));
                }
            }
        }
    }
    if priced.is_empty() {
        return Err(format!(
            "no reference rate to compare {} prices in {}: add it under [sellers.shipping.fx]",
            named[0].price.currency, fx.base
        ));
    }
    let cheapest = priced.iter().map(|(p, _)| *p).min().unwrap_or_default();
    if let Some(cap) = rule.max_price {
        priced.retain(|(p, _)| *p <= cap.amount_minor);
        if priced.is_empty() {
            return Err(format!(
                "rule `{}`: no rate within max_price {cap}; the cheapest quoted was {}",
                rule.name,
                Money {
                    amount_minor: cheapest,
                    currency: cap.currency
                }
            ));
        }
    }
    let pick = match rule.choose {
        Choose::Cheapest => priced
            .iter()
            .min_by_key(|(p, r)| (*p, r.estimated_days.unwrap_or(u32::MAX))),
        Choose::Fastest => priced
            .iter()
            .min_by_key(|(p, r)| (r.estimated_days.unwrap_or(u32::MAX), *p)),
    };
    Ok(pick.map(|(_, r)| (*r).clone()).expect("not empty"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::shipping::Decimal;
    use crate::model::Currency;
    use std::collections::BTreeMap;

    fn money(amount_minor: i64, code: &str) -> Money {
        Money {
            amount_minor,
            currency: Currency::parse(code).unwrap(),
        }
    }

    fn rule(name: &str, max_value: Option<Money>) -> Rule {
        Rule {
            name: name.into(),
            countries: Vec::new(),
            regions: Vec::new(),
            channels: Vec::new(),
            min_weight_g: None,
            max_weight_g: None,
            min_value: None,
            max_value,
            carrier: "post".into(),
            service: None,
            choose: Choose::Cheapest,
            max_price: None,
            incoterm: None,
        }
    }

    #[test]
    fn a_rule_whose_value_bound_cannot_be_checked_is_not_skipped_silently() {
        let mut table = BTreeMap::new();
        table.insert("USD".to_string(), Decimal::parse("0.92").unwrap());
        let fx = ReferenceRates::new(Currency::parse("EUR").unwrap(), &table);
        let rules = [
            rule("small parcels", Some(money(5_000, "EUR"))),
            rule("the rest", None),
        ];
        let (from, to) = (Country::parse("GB").unwrap(), Country::parse("FR").unwrap());
        let facts = |value| Facts {
            from: &from,
            to: &to,
            weight_grams: 500,
            value,
            channel: "shop",
            marketplace: "shopify",
        };
        let pick = |value| select(&rules, &facts(value), &fx).map(|r| r.map(|r| r.name.clone()));
        assert_eq!(pick(money(4_000, "USD")), Ok(Some("small parcels".into())));
        assert_eq!(pick(money(9_000, "USD")), Ok(Some("the rest".into())));
        let why = pick(money(4_000, "SEK")).unwrap_err();
        assert!(
            why.contains("rule `small parcels`") && why.contains("no reference rate for SEK"),
            "{why}"
        );
    }
}

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

fn within(value: Money, min: Option<Money>, max: Option<Money>, fx: &ReferenceRates) -> bool {
    if min.is_none() && max.is_none() {
        return true;
    }
    let Some(v) = fx.convert(value, fx.base) else {
        return false;
    };
    min.is_none_or(|m| v.amount_minor >= m.amount_minor)
        && max.is_none_or(|m| v.amount_minor <= m.amount_minor)
}

/// Whether every condition of `rule` holds.
pub fn matches(rule: &Rule, facts: &Facts<'_>, fx: &ReferenceRates) -> bool {
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
    place && channel && weight && within(facts.value, rule.min_value, rule.max_value, fx)
}

/// The first rule that matches.
pub fn select<'r>(rules: &'r [Rule], facts: &Facts<'_>, fx: &ReferenceRates) -> Option<&'r Rule> {
    rules.iter().find(|r| matches(r, facts, fx))
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

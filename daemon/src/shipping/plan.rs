//! From a stored order to the consignment to ship: which orders ship,
//! their customs declaration (channel data, else the catalogue), weight,
//! incoterm and IOSS. A cross-border order whose customs facts are missing
//! is held with a message naming the SKU and field — never shipped with a
//! wrong declaration.

use super::policy::ShippingPolicy;
use crate::config::shipping::EU;
use crate::model::{
    Country, CustomsLine, FulfillmentStatus, Money, Order, OrderStatus, Parcel, PaymentStatus,
    Shipment,
};

/// Why an order is not (or no longer) one to ship; `None` when it is.
pub fn not_shippable(order: &Order) -> Option<&'static str> {
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
    /// Σ declared line values (goods only), in the order's currency.
    pub goods_value: Money,
    /// What shows in `shipments show` (IOSS applied or why not…).
    pub notes: Vec<String>,
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
    let customs_needed = crosses_customs(&from.country, &to.country);
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
        let value = line.unit_price.amount_minor * i64::from(line.quantity) - line.discount.amount_minor;
        goods_value += value;
        if !customs_needed {
            continue;
        }
        let hs_code = line
            .hs_code
            .clone()
            .filter(|h| !h.trim().is_empty())
            .or_else(|| product.and_then(|p| p.hs_code.clone()))
            .ok_or_else(|| fix("hs_code"))?;
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
    if customs_needed {
        notes.push(format!(
            "customs declaration: {} line(s), {goods_value}",
            customs.len()
        ));
        if let Some(ioss) = ioss(policy, order, &from.country, &to.country, goods_value, &mut notes) {
            tax_ids.push(ioss);
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
    })
}

/// The IOSS number to declare for an EU import, if any, noting why.
///
/// IOSS covers consignments of intrinsic value up to €150 sent into the EU
/// from outside it. When the marketplace collected the VAT (deemed
/// supplier), its own IOSS number travels with the order; otherwise the
/// seller's, if it has one.
fn ioss(
    policy: &ShippingPolicy,
    order: &Order,
    from: &Country,
    to: &Country,
    goods: Money,
    notes: &mut Vec<String>,
) -> Option<crate::model::TaxId> {
    if !EU.contains(&to.as_str()) || EU.contains(&from.as_str()) {
        return None;
    }
    if order.marketplace_collected_tax {
        let theirs = order
            .tax_ids
            .iter()
            .find(|t| t.scheme.eq_ignore_ascii_case("ioss"))
            .cloned();
        notes.push(match &theirs {
            Some(t) => format!("the marketplace collected the VAT: its IOSS {} is declared", t.value),
            None => "the marketplace collected the VAT but sent no IOSS number".into(),
        });
        return theirs;
    }
    let ours = policy.ioss.clone()?;
    let eur = crate::model::Currency::parse("EUR").expect("EUR is ISO 4217");
    match policy.fx.convert(goods, eur) {
        Some(v) if v.amount_minor <= 15_000 => {
            notes.push(format!(
                "IOSS {} declared: consignment {v} is within the €150 limit",
                ours.value
            ));
            Some(ours)
        }
        Some(v) => {
            notes.push(format!(
                "IOSS not declared: consignment {v} is above €150, import VAT is due on arrival"
            ));
            None
        }
        None => {
            notes.push(format!(
                "IOSS not declared: no reference rate for {} to tell whether {goods} is within €150 (add it under [sellers.shipping.fx])",
                goods.currency
            ));
            None
        }
    }
}

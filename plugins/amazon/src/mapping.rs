//! Orders 2026-01-01 → the tradelane model, field by field, money exact.
//!
//! - Status: `fulfillment.fulfillmentStatus` gives the order, payment and
//!   fulfillment status at once (`PENDING` is not yet paid; `UNSHIPPED` is
//!   paid and ready; `CANCELLED` voids it).
//! - Money: a line's price is `product.price.unitPrice`; its tax and
//!   discount are its `proceeds.breakdowns` of type `TAX` and `DISCOUNT`;
//!   shipping is the `SHIPPING` breakdowns; the total is
//!   `proceeds.grandTotal`. Amazon's decimal strings become minor units of
//!   their ISO 4217 currency without a float.
//! - Who ships: `fulfilledBy: AMAZON` (FBA/AFN) is the marketplace's; Prime,
//!   Easy Ship and Amazon-delivered orders, and items that must go cash on
//!   delivery or by pallet, are held with the reason.
//! - Tax: an item's `internationalShipping.iossNumber` (Amazon's IOSS number,
//!   set when Amazon collected the EU VAT) and the order's `MARKETPLACE` tax
//!   registrations become tax ids; a `MARKETPLACE_FACILITATOR` collection,
//!   an IOSS number or an `IOSS` reporting scheme marks the tax as collected
//!   by the marketplace.
//! - PII: only what shipping needs is kept (recipient address and phone,
//!   buyer name and Amazon's relay e-mail).

use crate::wire;
use tradelane_plugin_sdk::{
    self as sdk, Address, Buyer, FulfilledBy, FulfillmentStatus, LineItem, Money, Order,
    OrderStatus, PaymentStatus, PluginError, ShippingLine, TaxId, Totals, money,
};

fn amount(m: &wire::Money, field: &str) -> Result<Money, PluginError> {
    money::money(&m.amount, &m.currency_code)
        .map_err(|e| sdk::invalid_response(format!("{field}: {e:?}")))
}

/// `a + b`, or an error naming the field (an absurd amount must not wrap).
fn add(a: i64, b: i64, field: &str) -> Result<i64, PluginError> {
    a.checked_add(b)
        .ok_or_else(|| sdk::invalid_response(format!("{field}: the sum overflows")))
}

/// Programmes under which Amazon, not the seller's own carrier, ships.
const AMAZON_SHIPS: &[(&str, &str)] = &[
    (
        "PRIME",
        "a Prime order: Seller Fulfilled Prime requires Amazon's own shipping service (Buy Shipping); buy its label in Seller Central",
    ),
    (
        "AMAZON_EASY_SHIP",
        "an Easy Ship order: Amazon's carrier collects the parcel; schedule it in Seller Central",
    ),
    (
        "DELIVERY_BY_AMAZON",
        "delivered by Amazon: Amazon's own logistics carries this order",
    ),
];

/// Why the seller's own carrier must not ship this order, if so.
pub fn shipping_hold(o: &wire::Order) -> Option<String> {
    for (programme, why) in AMAZON_SHIPS {
        if o.programs.iter().any(|p| p == programme) {
            return Some(format!("Amazon: {why}"));
        }
    }
    for item in &o.order_items {
        let constraints = item
            .fulfillment
            .as_ref()
            .and_then(|f| f.shipping.as_ref())
            .and_then(|s| s.shipping_constraints.as_ref());
        if let Some(c) = constraints {
            if c.cash_on_delivery.as_deref() == Some("MANDATORY") {
                return Some(format!(
                    "Amazon: item {} must be delivered cash on delivery",
                    item.order_item_id
                ));
            }
            if c.pallet_delivery.as_deref() == Some("MANDATORY") {
                return Some(format!(
                    "Amazon: item {} must be delivered by pallet",
                    item.order_item_id
                ));
            }
        }
    }
    None
}

/// One Amazon order in the tradelane model.
pub fn order(o: &wire::Order) -> Result<Order, PluginError> {
    let id = &o.order_id;
    let at = |field: &str| format!("order {id}: {field}");
    let currency = o
        .proceeds
        .as_ref()
        .and_then(|p| p.grand_total.as_ref())
        .map(|m| m.currency_code.clone())
        .or_else(|| {
            o.order_items.iter().find_map(|i| {
                i.product
                    .price
                    .as_ref()
                    .and_then(|p| p.unit_price.as_ref())
                    .map(|m| m.currency_code.clone())
            })
        })
        .ok_or_else(|| sdk::invalid_response(at("no amount says which currency it is in")))?
        .to_ascii_uppercase();
    let zero = money::zero(&currency);

    let mut line_items = Vec::with_capacity(o.order_items.len());
    let (mut items, mut shipping, mut tax, mut discount) = (0i64, 0i64, 0i64, 0i64);
    let mut tax_ids: Vec<TaxId> = Vec::new();
    let mut collected = false;
    for (i, item) in o.order_items.iter().enumerate() {
        let field = |f: &str| at(&format!("orderItems[{i}].{f}"));
        let unit_price = match item
            .product
            .price
            .as_ref()
            .and_then(|p| p.unit_price.as_ref())
        {
            Some(m) => amount(m, &field("product.price.unitPrice"))?,
            None => zero.clone(),
        };
        let (mut line_tax, mut line_discount, mut line_item) = (0i64, 0i64, 0i64);
        let breakdowns = item.proceeds.as_ref().map_or(&[][..], |p| &p.breakdowns);
        for b in breakdowns {
            let value = amount(&b.subtotal, &field("proceeds.breakdowns"))?.amount_minor;
            match b.kind.as_str() {
                "ITEM" => line_item = add(line_item, value, &field("ITEM"))?,
                "TAX" => line_tax = add(line_tax, value, &field("TAX"))?,
                "DISCOUNT" => line_discount = add(line_discount, value.abs(), &field("DISCOUNT"))?,
                "SHIPPING" => shipping = add(shipping, value, &field("SHIPPING"))?,
                _ => {}
            }
        }
        if line_item == 0 {
            line_item = unit_price
                .amount_minor
                .checked_mul(i64::from(item.quantity_ordered))
                .ok_or_else(|| sdk::invalid_response(field("the line total overflows")))?;
        }
        items = add(items, line_item, &at("ITEM"))?;
        tax = add(tax, line_tax, &at("TAX"))?;
        discount = add(discount, line_discount, &at("DISCOUNT"))?;
        let shipping_info = item.fulfillment.as_ref().and_then(|f| f.shipping.as_ref());
        if let Some(ioss) = shipping_info
            .and_then(|s| s.international_shipping.as_ref())
            .and_then(|i| i.ioss_number.as_deref())
            .filter(|n| !n.trim().is_empty())
        {
            collected = true;
            push_tax_id(&mut tax_ids, "ioss", ioss.trim(), None);
        }
        if let Some(t) = &item.tax {
            collected |= t
                .tax_collections
                .iter()
                .any(|c| c.model.as_deref() == Some("MARKETPLACE_FACILITATOR"));
            collected |= t
                .tax_calculation_breakdowns
                .iter()
                .any(|c| c.reporting_scheme.as_deref() == Some("IOSS"));
        }
        line_items.push(LineItem {
            external_id: item.order_item_id.clone(),
            sku: item.product.seller_sku.clone(),
            title: item
                .product
                .title
                .clone()
                .unwrap_or_else(|| item.order_item_id.clone()),
            quantity: item.quantity_ordered,
            unit_price,
            discount: Money {
                amount_minor: line_discount,
                currency: currency.clone(),
            },
            tax: Money {
                amount_minor: line_tax,
                currency: currency.clone(),
            },
            weight_grams: None,
            hs_code: None,
            origin_country: None,
            requires_shipping: true,
            gtin: None,
        });
    }
    for r in o.tax.iter().flat_map(|t| &t.tax_registrations) {
        if r.entity_type.as_deref() != Some("MARKETPLACE") {
            continue;
        }
        let (Some(kind), Some(number)) = (&r.tax_registration_type, &r.tax_registration_number)
        else {
            continue;
        };
        let country = r
            .tax_registration_address
            .as_ref()
            .and_then(|a| a.country_code.clone());
        push_tax_id(&mut tax_ids, &kind.to_ascii_lowercase(), number, country);
    }

    let fulfillment = o.fulfillment.as_ref();
    let status = fulfillment.map_or("PENDING", |f| f.fulfillment_status.as_str());
    let (order_status, payment_status, fulfillment_status) = match status {
        "PENDING" | "PENDING_AVAILABILITY" => (
            OrderStatus::Open,
            PaymentStatus::Pending,
            FulfillmentStatus::Unfulfilled,
        ),
        "UNSHIPPED" => (
            OrderStatus::Open,
            PaymentStatus::Paid,
            FulfillmentStatus::Unfulfilled,
        ),
        "PARTIALLY_SHIPPED" => (
            OrderStatus::Open,
            PaymentStatus::Paid,
            FulfillmentStatus::Partial,
        ),
        "SHIPPED" => (
            OrderStatus::Open,
            PaymentStatus::Paid,
            FulfillmentStatus::Fulfilled,
        ),
        "CANCELLED" => (
            OrderStatus::Cancelled,
            PaymentStatus::Voided,
            FulfillmentStatus::Unfulfilled,
        ),
        _ => (
            OrderStatus::Open,
            PaymentStatus::Unknown,
            FulfillmentStatus::Unknown,
        ),
    };
    let total = match o.proceeds.as_ref().and_then(|p| p.grand_total.as_ref()) {
        Some(m) => amount(m, &at("proceeds.grandTotal"))?,
        None => Money {
            amount_minor: add(
                add(items - discount, shipping, &at("total"))?,
                tax,
                &at("total"),
            )?,
            currency: currency.clone(),
        },
    };
    let of = |amount_minor: i64| Money {
        amount_minor,
        currency: currency.clone(),
    };
    let level = fulfillment.and_then(|f| f.fulfillment_service_level.clone());
    let shipping_lines = if shipping != 0 || level.is_some() {
        vec![ShippingLine {
            title: level.clone().unwrap_or_else(|| "Shipping".into()),
            code: level,
            price: of(shipping),
        }]
    } else {
        Vec::new()
    };
    let address = o
        .recipient
        .as_ref()
        .and_then(|r| r.delivery_address.as_ref());
    Ok(Order {
        external_id: id.clone(),
        number: id.clone(),
        created_at: sdk::time::utc(&o.created_time)?,
        updated_at: sdk::time::utc(&o.last_updated_time)?,
        status: order_status,
        payment_status,
        fulfillment_status,
        currency: currency.clone(),
        totals: Totals {
            subtotal: of(items - discount),
            shipping: of(shipping),
            tax: of(tax),
            discount: of(discount),
            total,
        },
        buyer: o.buyer.as_ref().map(|b| Buyer {
            name: b.buyer_name.clone(),
            email: b.buyer_email.clone(),
            phone: address.and_then(|a| a.phone.clone()),
        }),
        shipping_address: address.and_then(self::address),
        billing_address: None,
        line_items,
        shipping_lines,
        tax_ids,
        marketplace_collected_tax: collected,
        taxes_included: false,
        tags: o
            .programs
            .iter()
            .map(|p| format!("amazon:{}", p.to_ascii_lowercase()))
            .collect(),
        marketplace: o.sales_channel.marketplace_id.clone(),
        fulfilled_by: match fulfillment.and_then(|f| f.fulfilled_by.as_deref()) {
            Some("AMAZON") => FulfilledBy::Marketplace,
            _ => FulfilledBy::Seller,
        },
        shipping_hold: shipping_hold(o),
        // Amazon collects the buyer's money and pays the seller itself.
        payment_gateways: vec!["amazon".into()],
        presentment_total: None,
    })
}

fn push_tax_id(ids: &mut Vec<TaxId>, scheme: &str, value: &str, country: Option<String>) {
    if !ids.iter().any(|t| t.scheme == scheme && t.value == value) {
        ids.push(TaxId {
            scheme: scheme.to_string(),
            value: value.to_string(),
            country,
        });
    }
}

/// A delivery address; none without a street or a country.
pub fn address(a: &wire::Address) -> Option<Address> {
    let nonempty = |s: &Option<String>| s.clone().filter(|s| !s.trim().is_empty());
    let line2 = [nonempty(&a.address_line2), nonempty(&a.address_line3)]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
    Some(Address {
        name: nonempty(&a.name),
        company: nonempty(&a.company_name),
        line1: nonempty(&a.address_line1)?,
        line2: (!line2.is_empty()).then_some(line2),
        city: nonempty(&a.city).unwrap_or_default(),
        region: nonempty(&a.state_or_region),
        postal_code: nonempty(&a.postal_code),
        country: nonempty(&a.country_code)?.to_ascii_uppercase(),
        phone: nonempty(&a.phone),
        email: None,
    })
}

/// Amazon's `carrierCode` for a carrier as a label names it; `None` means
/// `Other`, sent with the carrier's own name.
pub fn carrier_code(carrier: &str) -> Option<&'static str> {
    let key: String = carrier
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    Some(match key.as_str() {
        "usps" => "USPS",
        "ups" | "upsdap" => "UPS",
        "fedex" | "fedexdefault" => "FedEx",
        "dhl" | "dhlexpress" | "dhlecommerce" => "DHL",
        "royalmail" => "Royal Mail",
        "parcelforce" => "Parcelforce",
        "dpd" | "dpduk" => "DPD",
        "hermes" | "evri" => "Hermes",
        "gls" => "GLS",
        "deutschepost" => "Deutsche Post",
        "canadapost" => "Canada Post",
        "japanpost" => "Japan Post",
        "yamato" | "yamatotransport" => "Yamato Transport",
        "australiapost" => "Australia Post",
        "correios" => "Correios",
        "laposte" | "colissimo" => "La Poste",
        "postnl" => "PostNL",
        "chronopost" => "Chronopost",
        "tnt" => "TNT",
        "ontrac" => "OnTrac",
        _ => return None,
    })
}

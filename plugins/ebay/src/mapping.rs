//! Sell Fulfillment orders → the tradelane model, field by field.
//!
//! - Money: each line's `lineItemCost` is its unit price × quantity before
//!   discounts, in the seller's currency as eBay states it (a converted
//!   amount keeps eBay's conversion; `convertedFrom*` is not re-derived).
//!   Line discounts are `appliedPromotions[].discountAmount`, line tax is
//!   `taxes[]` (or, when eBay lists none, its `ebayCollectAndRemitTaxes`),
//!   shipping is `deliveryCost.shippingCost`. Order totals are
//!   `pricingSummary`.
//! - Tax: `ebayCollectAndRemitTaxes[].ebayReference` (`IOSS`, `VOEC`,
//!   `OSS`, `ABN`, `IRD`, …) become tax ids; `ebayCollectAndRemitTax` or
//!   any collect-and-remit entry marks the tax as collected by the
//!   marketplace.
//! - Status: `cancelStatus.cancelState = CANCELED` cancels; the payment
//!   and fulfillment statuses map one to one.

use crate::wire;
use tradelane_plugin_sdk::{
    self as sdk, Address, Buyer, FulfilledBy, FulfillmentStatus, LineItem, Money, Order,
    OrderStatus, PaymentStatus, PluginError, ShippingLine, TaxId, Totals, money,
};

fn amount(a: &wire::Amount, field: &str) -> Result<Money, PluginError> {
    money::money(&a.value, &a.currency)
        .map_err(|e| sdk::invalid_response(format!("{field}: {e:?}")))
}

fn sum<'a>(
    amounts: impl Iterator<Item = &'a wire::Amount>,
    currency: &str,
    field: &str,
) -> Result<i64, PluginError> {
    let mut total = 0i64;
    for a in amounts {
        let m = amount(a, field)?;
        if !m.currency.eq_ignore_ascii_case(currency) {
            return Err(sdk::invalid_response(format!(
                "{field}: {} is not the order's currency {currency}",
                m.currency
            )));
        }
        total = total
            .checked_add(m.amount_minor)
            .ok_or_else(|| sdk::invalid_response(format!("{field}: the sum overflows")))?;
    }
    Ok(total)
}

/// One eBay order in the tradelane model.
pub fn order(o: &wire::Order) -> Result<Order, PluginError> {
    let id = &o.order_id;
    let at = |field: &str| format!("order {id}: {field}");
    let pricing = o.pricing_summary.as_ref();
    let currency = pricing
        .and_then(|p| p.total.as_ref())
        .map(|a| a.currency.clone())
        .or_else(|| {
            o.line_items
                .iter()
                .find_map(|l| l.line_item_cost.as_ref().map(|a| a.currency.clone()))
        })
        .ok_or_else(|| sdk::invalid_response(at("no amount says which currency it is in")))?
        .to_ascii_uppercase();
    let of = |amount_minor: i64| Money {
        amount_minor,
        currency: currency.clone(),
    };

    let mut lines = Vec::with_capacity(o.line_items.len());
    let mut tax_ids: Vec<TaxId> = Vec::new();
    let mut collected = o.ebay_collect_and_remit_tax == Some(true);
    let mut shipping = 0i64;
    for (i, l) in o.line_items.iter().enumerate() {
        let field = |f: &str| at(&format!("lineItems[{i}].{f}"));
        let cost = sum(l.line_item_cost.iter(), &currency, &field("lineItemCost"))?;
        let quantity = l.quantity.max(1);
        if cost % i64::from(quantity) != 0 {
            return Err(sdk::invalid_response(field(&format!(
                "lineItemCost {cost} is not a whole number of minor units per unit for quantity {quantity}"
            ))));
        }
        let discount = sum(
            l.applied_promotions
                .iter()
                .filter_map(|p| p.discount_amount.as_ref()),
            &currency,
            &field("appliedPromotions"),
        )?
        .abs();
        let taxes = sum(
            l.taxes.iter().filter_map(|t| t.amount.as_ref()),
            &currency,
            &field("taxes"),
        )?;
        let remitted = sum(
            l.ebay_collect_and_remit_taxes
                .iter()
                .filter_map(|t| t.amount.as_ref()),
            &currency,
            &field("ebayCollectAndRemitTaxes"),
        )?;
        // eBay collects and remits this tax itself (US sales tax, EU VAT…).
        collected |= !l.ebay_collect_and_remit_taxes.is_empty();
        for t in &l.ebay_collect_and_remit_taxes {
            if let Some(r) = &t.ebay_reference
                && let (Some(name), Some(value)) = (&r.name, &r.value)
                && !value.trim().is_empty()
            {
                collected = true;
                let scheme = name.to_ascii_lowercase();
                if !tax_ids
                    .iter()
                    .any(|x| x.scheme == scheme && x.value == value.trim())
                {
                    tax_ids.push(TaxId {
                        scheme,
                        value: value.trim().to_string(),
                        country: None,
                    });
                }
            }
        }
        shipping = shipping
            .checked_add(sum(
                l.delivery_cost
                    .iter()
                    .filter_map(|d| d.shipping_cost.as_ref()),
                &currency,
                &field("deliveryCost"),
            )?)
            .ok_or_else(|| sdk::invalid_response(field("shipping overflows")))?;
        lines.push(LineItem {
            external_id: l.line_item_id.clone(),
            sku: l.sku.clone().filter(|s| !s.is_empty()),
            title: l.title.clone().unwrap_or_else(|| l.line_item_id.clone()),
            quantity,
            unit_price: of(cost / i64::from(quantity)),
            discount: of(discount),
            tax: of(if l.taxes.is_empty() { remitted } else { taxes }),
            weight_grams: None,
            hs_code: None,
            origin_country: None,
            requires_shipping: true,
            gtin: None,
        });
    }

    let money_or = |a: Option<&wire::Amount>, field: &str, fallback: i64| match a {
        Some(a) => amount(a, &at(field)).map(|m| m.amount_minor),
        None => Ok(fallback),
    };
    let line_total: i64 = lines
        .iter()
        .map(|l| l.unit_price.amount_minor * i64::from(l.quantity))
        .sum();
    let line_discount: i64 = lines.iter().map(|l| l.discount.amount_minor).sum();
    let line_tax: i64 = lines.iter().map(|l| l.tax.amount_minor).sum();
    let subtotal = money_or(
        pricing.and_then(|p| p.price_subtotal.as_ref()),
        "pricingSummary.priceSubtotal",
        line_total,
    )?;
    let discount = money_or(
        pricing.and_then(|p| p.price_discount.as_ref()),
        "pricingSummary.priceDiscount",
        -line_discount,
    )?
    .abs();
    let delivery = money_or(
        pricing.and_then(|p| p.delivery_cost.as_ref()),
        "pricingSummary.deliveryCost",
        shipping,
    )?;
    let tax = money_or(
        pricing.and_then(|p| p.tax.as_ref()),
        "pricingSummary.tax",
        line_tax,
    )?;
    let total = money_or(
        pricing.and_then(|p| p.total.as_ref()),
        "pricingSummary.total",
        subtotal - discount + delivery + tax,
    )?;

    let presentment_total = match pricing.and_then(|p| p.total.as_ref()) {
        Some(wire::Amount {
            converted_from_value: Some(value),
            converted_from_currency: Some(from),
            ..
        }) if !from.eq_ignore_ascii_case(&currency) => Some(
            money::money(value, &from.to_ascii_uppercase()).map_err(|e| {
                sdk::invalid_response(at(&format!(
                    "pricingSummary.total.convertedFromValue: {e:?}"
                )))
            })?,
        ),
        _ => None,
    };
    let cancelled = o
        .cancel_status
        .as_ref()
        .and_then(|c| c.cancel_state.as_deref())
        == Some("CANCELED");
    let payment_status = match o.order_payment_status.as_deref() {
        Some("PAID") => PaymentStatus::Paid,
        Some("PENDING") => PaymentStatus::Pending,
        Some("FAILED") => PaymentStatus::Voided,
        Some("FULLY_REFUNDED") => PaymentStatus::Refunded,
        Some("PARTIALLY_REFUNDED") => PaymentStatus::PartiallyRefunded,
        _ => PaymentStatus::Unknown,
    };
    let fulfillment_status = match o.order_fulfillment_status.as_deref() {
        Some("NOT_STARTED") => FulfillmentStatus::Unfulfilled,
        Some("IN_PROGRESS") => FulfillmentStatus::Partial,
        Some("FULFILLED") => FulfillmentStatus::Fulfilled,
        _ => FulfillmentStatus::Unknown,
    };
    let instruction = o.fulfillment_start_instructions.first();
    let step = instruction.and_then(|i| i.shipping_step.as_ref());
    let ship_to = step.and_then(|s| s.ship_to.as_ref());
    let service = step.and_then(|s| s.shipping_service_code.clone());
    Ok(Order {
        external_id: id.clone(),
        number: id.clone(),
        created_at: sdk::time::utc(&o.creation_date)?,
        updated_at: sdk::time::utc(&o.last_modified_date)?,
        status: if cancelled {
            OrderStatus::Cancelled
        } else {
            OrderStatus::Open
        },
        payment_status,
        fulfillment_status,
        currency: currency.clone(),
        totals: Totals {
            subtotal: of(subtotal - discount),
            shipping: of(delivery),
            tax: of(tax),
            discount: of(discount),
            total: of(total),
        },
        buyer: Some(Buyer {
            name: ship_to.and_then(|s| s.full_name.clone()),
            email: ship_to.and_then(|s| s.email.clone()),
            phone: ship_to
                .and_then(|s| s.primary_phone.as_ref())
                .and_then(|p| p.phone_number.clone()),
        })
        .filter(|b| b.name.is_some() || b.email.is_some())
        .or_else(|| {
            o.buyer.as_ref().map(|b| Buyer {
                name: b.username.clone(),
                email: None,
                phone: None,
            })
        }),
        shipping_address: ship_to.and_then(address),
        billing_address: None,
        line_items: lines,
        shipping_lines: match (&service, delivery) {
            (None, 0) => Vec::new(),
            _ => vec![ShippingLine {
                title: service.clone().unwrap_or_else(|| "Shipping".into()),
                code: service,
                price: of(delivery),
            }],
        },
        tax_ids,
        marketplace_collected_tax: collected,
        taxes_included: false,
        tags: Vec::new(),
        marketplace: o
            .line_items
            .first()
            .and_then(|l| l.purchase_marketplace_id.clone()),
        fulfilled_by: if instruction.and_then(|i| i.ebay_supported_fulfillment) == Some(true) {
            FulfilledBy::Marketplace
        } else {
            FulfilledBy::Seller
        },
        shipping_hold: None,
        // Managed payments: `EBAY`; before them the buyer paid the seller's
        // PayPal, which a PayPal account settles.
        payment_gateways: o
            .payment_summary
            .iter()
            .flat_map(|s| &s.payments)
            .filter_map(|p| p.payment_method.as_deref())
            .map(str::to_ascii_lowercase)
            .fold(Vec::new(), |mut all, g| {
                if !all.contains(&g) {
                    all.push(g);
                }
                all
            }),
        presentment_total,
    })
}

/// The ship-to address; none without a street or a country.
pub fn address(s: &wire::ShipTo) -> Option<Address> {
    let a = s.contact_address.as_ref()?;
    let nonempty = |v: &Option<String>| v.clone().filter(|v| !v.trim().is_empty());
    Some(Address {
        name: nonempty(&s.full_name),
        company: nonempty(&s.company_name),
        line1: nonempty(&a.address_line1)?,
        line2: nonempty(&a.address_line2),
        city: nonempty(&a.city).unwrap_or_default(),
        region: nonempty(&a.state_or_province),
        postal_code: nonempty(&a.postal_code),
        country: nonempty(&a.country_code)?.to_ascii_uppercase(),
        phone: s
            .primary_phone
            .as_ref()
            .and_then(|p| nonempty(&p.phone_number)),
        email: nonempty(&s.email),
    })
}

/// eBay's `shippingCarrierCode` for a carrier as a label names it
/// (`Other` when eBay has no code for it).
pub fn carrier_code(carrier: &str) -> &'static str {
    let key: String = carrier
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    match key.as_str() {
        "usps" => "USPS",
        "ups" | "upsdap" => "UPS",
        "fedex" | "fedexdefault" => "FedEx",
        "dhl" | "dhlexpress" | "dhlecommerce" => "DHL",
        "royalmail" => "RoyalMail",
        "parcelforce" => "Parcelforce",
        "dpd" | "dpduk" => "DPD",
        "hermes" | "evri" => "Hermes",
        "gls" => "GLS",
        "deutschepost" => "DeutschePost",
        "canadapost" => "CanadaPost",
        "australiapost" => "AustraliaPost",
        "japanpost" => "JapanPost",
        "laposte" | "colissimo" => "Colissimo",
        "postnl" => "PostNL",
        "tnt" => "TNT",
        _ => "Other",
    }
}

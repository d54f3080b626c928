//! Shopify order JSON → the tradelane order model.
//!
//! Pure functions with no host calls, so the same code runs inside the
//! plugin and natively (unit tests, the native baseline of the benchmark).

use crate::wire;
use std::borrow::Cow;
use tradelane_plugin_sdk::{
    self as sdk, Address, Buyer, FulfilledBy, FulfillmentStatus, LineItem, Money, Order,
    OrderStatus, PaymentStatus, PluginError, ShippingLine, Totals, money,
};

/// Parse an `orders.json` body and map every order.
pub fn orders_from_json(body: &[u8]) -> Result<Vec<Order>, PluginError> {
    let parsed: wire::OrdersBody = sdk::serde_json::from_slice(body)
        .map_err(|e| sdk::invalid_response(format!("orders.json: {e}")))?;
    parsed.orders.into_iter().map(order).collect()
}

/// Map one Shopify order.
pub fn order(o: wire::Order<'_>) -> Result<Order, PluginError> {
    let currency = o.currency.to_ascii_uppercase();
    let context = |e: money::MoneyError| sdk::invalid_response(format!("order {}: {e}", o.id));
    let amount = |text: &str| money::money(text, &currency).map_err(context);
    let optional = |text: &Option<Cow<'_, str>>| match text {
        Some(t) if !t.is_empty() => amount(t),
        _ => Ok(money::zero(&currency)),
    };

    let line_items = o
        .line_items
        .iter()
        .map(|l| {
            line_item(l, &currency)
                .map_err(|e| sdk::invalid_response(format!("order {}: {e}", o.id)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let shipping_lines = o
        .shipping_lines
        .iter()
        .map(|s| {
            Ok(ShippingLine {
                title: s.title.to_string(),
                code: s.code.as_deref().map(String::from),
                price: amount(&s.price)?,
            })
        })
        .collect::<Result<Vec<_>, PluginError>>()?;
    let shipping = match &o.total_shipping_price_set {
        Some(set) => amount(&set.shop_money.amount)?,
        None => sum(&currency, shipping_lines.iter().map(|s| &s.price)),
    };
    let subtotal = match &o.subtotal_price {
        Some(_) => optional(&o.subtotal_price)?,
        None => sum(&currency, line_items.iter().map(|l| &l.unit_price)),
    };
    let presentment_total = presentment_total(&o, &currency)?;
    let marketplace_collected_tax = o
        .tax_lines
        .iter()
        .chain(o.line_items.iter().flat_map(|l| l.tax_lines.iter()))
        .any(|t| t.channel_liable == Some(true));

    Ok(Order {
        external_id: o.id.to_string(),
        number: o.name.to_string(),
        created_at: sdk::time::utc(&o.created_at)?,
        updated_at: sdk::time::utc(&o.updated_at)?,
        status: if o.cancelled_at.is_some() {
            OrderStatus::Cancelled
        } else if o.closed_at.is_some() {
            OrderStatus::Closed
        } else {
            OrderStatus::Open
        },
        payment_status: payment_status(o.financial_status.as_deref()),
        fulfillment_status: match o.fulfillment_status.as_deref() {
            None | Some("unfulfilled") => FulfillmentStatus::Unfulfilled,
            Some("partial") => FulfillmentStatus::Partial,
            Some("fulfilled") => FulfillmentStatus::Fulfilled,
            Some(_) => FulfillmentStatus::Unknown,
        },
        totals: Totals {
            subtotal,
            shipping,
            tax: optional(&o.total_tax)?,
            discount: optional(&o.total_discounts)?,
            total: amount(&o.total_price)?,
        },
        buyer: buyer(&o),
        shipping_address: o
            .shipping_address
            .as_ref()
            .and_then(|a| address(a, o.email.as_deref())),
        billing_address: o
            .billing_address
            .as_ref()
            .and_then(|a| address(a, o.email.as_deref())),
        line_items,
        shipping_lines,
        tax_ids: Vec::new(),
        marketplace_collected_tax,
        taxes_included: o.taxes_included,
        tags: o
            .tags
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(String::from)
            .collect(),
        currency,
        marketplace: None,
        fulfilled_by: FulfilledBy::Seller,
        shipping_hold: None,
        payment_gateways: o
            .payment_gateway_names
            .iter()
            .map(|g| g.trim().to_ascii_lowercase())
            .filter(|g| !g.is_empty())
            .collect(),
        presentment_total,
    })
}

/// The total in the buyer's currency, when the buyer paid in another one
/// than the shop's: `total_price_set.presentment_money`, exact.
fn presentment_total(o: &wire::Order<'_>, shop: &str) -> Result<Option<Money>, PluginError> {
    let Some(p) = o
        .total_price_set
        .as_ref()
        .and_then(|s| s.presentment_money.as_ref())
    else {
        return Ok(None);
    };
    let currency = p
        .currency_code
        .as_deref()
        .or(o.presentment_currency.as_deref())
        .unwrap_or(shop)
        .to_ascii_uppercase();
    if currency == shop {
        return Ok(None);
    }
    money::money(&p.amount, &currency)
        .map(Some)
        .map_err(|e| sdk::invalid_response(format!("order {}: presentment total: {e}", o.id)))
}

/// `amount × part / whole` in integers, rounded half away from zero.
fn prorate(amount: i64, part: u32, whole: u32) -> i64 {
    if part >= whole || whole == 0 {
        return amount;
    }
    let num = i128::from(amount) * i128::from(part);
    let den = i128::from(whole);
    let (q, r) = (num / den, num % den);
    let rounded = if 2 * r.abs() >= den {
        q + num.signum()
    } else {
        q
    };
    i64::try_from(rounded).unwrap_or(amount)
}

fn line_item(l: &wire::LineItem<'_>, currency: &str) -> Result<LineItem, money::MoneyError> {
    let allocated: i64 = l
        .discount_allocations
        .iter()
        .map(|d| money::to_minor(&d.amount, currency))
        .sum::<Result<i64, _>>()?;
    let line_discount = match &l.total_discount {
        Some(t) if !t.is_empty() => money::to_minor(t, currency)?,
        _ => 0,
    };
    let tax: i64 = l
        .tax_lines
        .iter()
        .map(|t| money::to_minor(&t.price, currency))
        .sum::<Result<i64, _>>()?;
    // What is still to ship: the quantity after refunds and removals. The
    // line's discount and tax shrink with it, so customs declares what the
    // parcel holds at what it cost.
    let quantity = l.current_quantity.unwrap_or(l.quantity).min(l.quantity);
    let share = |amount: i64| prorate(amount, quantity, l.quantity);
    let (line_discount, allocated, tax) = (share(line_discount), share(allocated), share(tax));
    Ok(LineItem {
        external_id: l.id.to_string(),
        sku: l.sku.as_deref().filter(|s| !s.is_empty()).map(String::from),
        title: l.name.as_deref().unwrap_or(&l.title).to_string(),
        quantity,
        unit_price: money::money(&l.price, currency)?,
        // Shopify reports discounts either as allocations (current API) or
        // as `total_discount` (older shops); never both non-zero.
        discount: Money {
            amount_minor: allocated.max(line_discount),
            currency: currency.to_string(),
        },
        tax: Money {
            amount_minor: tax,
            currency: currency.to_string(),
        },
        weight_grams: l.grams.filter(|g| *g > 0),
        hs_code: None,
        origin_country: None,
        requires_shipping: l.requires_shipping,
        // REST order lines carry no barcode (it lives on the variant).
        gtin: None,
    })
}

fn payment_status(financial: Option<&str>) -> PaymentStatus {
    match financial {
        Some("pending") => PaymentStatus::Pending,
        Some("authorized") => PaymentStatus::Authorized,
        Some("partially_paid") => PaymentStatus::PartiallyPaid,
        Some("paid") => PaymentStatus::Paid,
        Some("partially_refunded") => PaymentStatus::PartiallyRefunded,
        Some("refunded") => PaymentStatus::Refunded,
        Some("voided") => PaymentStatus::Voided,
        _ => PaymentStatus::Unknown,
    }
}

fn buyer(o: &wire::Order<'_>) -> Option<Buyer> {
    let customer = o.customer.as_ref();
    let name = customer.and_then(|c| join_name(c.first_name.as_deref(), c.last_name.as_deref()));
    let email = o
        .email
        .as_deref()
        .or_else(|| customer.and_then(|c| c.email.as_deref()))
        .filter(|e| !e.is_empty())
        .map(String::from);
    let phone = o
        .phone
        .as_deref()
        .or_else(|| customer.and_then(|c| c.phone.as_deref()))
        .filter(|p| !p.is_empty())
        .map(String::from);
    (name.is_some() || email.is_some() || phone.is_some()).then_some(Buyer { name, email, phone })
}

fn address(a: &wire::Address<'_>, email: Option<&str>) -> Option<Address> {
    let non_empty = |s: &Option<Cow<'_, str>>| {
        s.as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(String::from)
    };
    Some(Address {
        name: non_empty(&a.name)
            .or_else(|| join_name(a.first_name.as_deref(), a.last_name.as_deref())),
        company: non_empty(&a.company),
        line1: non_empty(&a.address1)?,
        line2: non_empty(&a.address2),
        city: non_empty(&a.city).unwrap_or_default(),
        region: non_empty(&a.province_code).or_else(|| non_empty(&a.province)),
        postal_code: non_empty(&a.zip),
        country: non_empty(&a.country_code)?.to_ascii_uppercase(),
        phone: non_empty(&a.phone),
        email: email.map(String::from),
    })
}

fn join_name(first: Option<&str>, last: Option<&str>) -> Option<String> {
    let joined = [first, last]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    (!joined.is_empty()).then_some(joined)
}

fn sum<'a>(currency: &str, amounts: impl Iterator<Item = &'a Money>) -> Money {
    Money {
        amount_minor: amounts.map(|m| m.amount_minor).sum(),
        currency: currency.to_string(),
    }
}

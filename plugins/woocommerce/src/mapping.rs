//! WooCommerce orders into tradelane's model: money exact, times UTC.
//!
//! - Line, shipping and fee totals are before tax in the REST API whatever
//!   the store's `prices_include_tax`, so the order is mapped tax-exclusive
//!   (`taxes_included` false) and tax is carried per line.
//! - A line's unit price is `subtotal / quantity`. With tax-inclusive
//!   prices that need not be whole minor units (€9.99 at 20 % is €8.325
//!   before tax), so the unit price is rounded up and the difference is
//!   added to the line's discount: unit × quantity − discount is still
//!   exactly the line's `total`.
//! - Fees become lines that need no shipping; a negative fee is a discount.
//! - Amounts are printed with the store's "Number of decimals" setting,
//!   which need not be the currency's exponent: `8340.00` JPY is 8340;
//!   `8340.50` JPY cannot be represented and is refused, naming the
//!   setting.

use crate::wire;
use tradelane_plugin_sdk::{
    self as sdk, Address, Buyer, FulfilledBy, FulfillmentStatus, LineItem, Money, Order,
    OrderStatus, PaymentStatus, PluginError, ShippingLine, TaxId, Totals, money::MoneyError,
};

/// Where WooCommerce's decimals setting lives, for error messages.
pub const DECIMALS_SETTING: &str =
    "WooCommerce → Settings → General → Currency options → Number of decimals";

/// Meta keys EU VAT plugins keep the buyer's VAT number under.
const VAT_KEYS: &[&str] = &[
    "_billing_vat_number",
    "_vat_number",
    "vat_number",
    "_billing_eu_vat_number",
];

/// Exact minor units of `text` in `currency`, or an error naming `what`
/// and, when the text is too precise, the store setting that printed it.
pub fn amount(text: &str, currency: &str, what: &str) -> Result<i64, PluginError> {
    if text.trim().is_empty() {
        return Ok(0);
    }
    sdk::money::to_minor(text, currency).map_err(|e| match e {
        MoneyError::TooPrecise { decimals, .. } => sdk::invalid_response(format!(
            "{what}: `{text}` has more decimals than {currency} allows ({decimals}); the store prints prices with more precision than the currency has ({DECIMALS_SETTING})"
        )),
        other => sdk::invalid_response(format!("{what}: {other}")),
    })
}

/// Decimals printed in `text` (`"12.35"` → 2).
pub fn printed_decimals(text: &str) -> u32 {
    text.split_once('.').map_or(0, |(_, f)| f.len() as u32)
}

/// WooCommerce's `…_gmt` times (`2017-03-22T19:28:02`, no offset) as RFC 3339 UTC.
pub fn gmt(text: &str, what: &str) -> Result<String, PluginError> {
    let text = text.trim();
    let with_zone = if text.ends_with('Z') || text.contains('+') {
        text.to_string()
    } else {
        format!("{text}Z")
    };
    sdk::time::utc(&with_zone)
        .map_err(|_| sdk::invalid_response(format!("{what}: `{text}` is not a time")))
}

/// The payment gateway as settlement accounts name it: WooCommerce's
/// gateway ids for PayPal (`ppcp-gateway`, `ppec_paypal`, `paypal`) are
/// `paypal`, Stripe's (`stripe`, `stripe_sepa`, …) are `stripe`; others
/// pass through.
pub fn gateway(method: &str) -> String {
    match method {
        m if m.starts_with("ppcp") || m.starts_with("ppec") || m == "paypal" => "paypal".into(),
        m if m.starts_with("stripe") => "stripe".into(),
        m => m.into(),
    }
}

/// WordPress prints product names HTML-escaped (`Ship Your Idea &ndash;
/// Color: Black`): the common named entities and every numeric one are
/// decoded, so a customs description reads as the shop shows it.
pub fn unescape(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let decoded = after.find(';').filter(|end| *end <= 10).and_then(|end| {
            let entity = &after[1..end];
            let c = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" | "#039" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                "ndash" => Some('–'),
                "mdash" => Some('—'),
                "hellip" => Some('…'),
                "rsquo" => Some('’'),
                "lsquo" => Some('‘'),
                "rdquo" => Some('”'),
                "ldquo" => Some('“'),
                _ => entity
                    .strip_prefix("#x")
                    .or_else(|| entity.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            }?;
            Some((c, end + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &after[len..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn text(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

fn address(a: &wire::Address, fallback: Option<&wire::Address>) -> Option<Address> {
    if a.address_1.trim().is_empty() && a.city.trim().is_empty() {
        return None;
    }
    let name = format!("{} {}", a.first_name.trim(), a.last_name.trim());
    Some(Address {
        name: text(&name),
        company: text(&a.company),
        line1: a.address_1.trim().to_string(),
        line2: text(&a.address_2),
        city: a.city.trim().to_string(),
        region: text(&a.state),
        postal_code: text(&a.postcode),
        country: a.country.trim().to_ascii_uppercase(),
        phone: a
            .phone
            .as_deref()
            .and_then(text)
            .or_else(|| fallback.and_then(|b| b.phone.as_deref()).and_then(text)),
        email: a
            .email
            .as_deref()
            .and_then(text)
            .or_else(|| fallback.and_then(|b| b.email.as_deref()).and_then(text)),
    })
}

/// One order. `what` prefixes every error.
pub fn order(o: &wire::Order) -> Result<Order, PluginError> {
    let at = |field: &str| format!("order {}: {field}", o.id);
    let currency = o.currency.trim().to_ascii_uppercase();
    sdk::money::decimals(&currency).map_err(|e| sdk::invalid_response(at(&e.to_string())))?;
    let of = |amount_minor: i64| Money {
        amount_minor,
        currency: currency.clone(),
    };
    let minor = |text: &str, field: &str| amount(text, &currency, &at(field));

    let mut lines = Vec::with_capacity(o.line_items.len() + o.fee_lines.len());
    let mut subtotal = 0i64;
    let mut fee_discount = 0i64;
    for (i, l) in o.line_items.iter().enumerate() {
        let field = |f: &str| format!("line_items[{i}].{f}");
        let quantity = u32::try_from(l.quantity)
            .ok()
            .filter(|q| *q > 0)
            .ok_or_else(|| {
                sdk::invalid_response(at(&format!(
                    "{}: quantity {} is not positive",
                    field("quantity"),
                    l.quantity
                )))
            })?;
        let before = minor(&l.subtotal, &field("subtotal"))?;
        let after = minor(&l.total, &field("total"))?;
        let q = i64::from(quantity);
        let unit = before.div_euclid(q) + i64::from(before.rem_euclid(q) != 0);
        subtotal += after;
        lines.push(LineItem {
            external_id: l.id.to_string(),
            sku: l.sku.as_deref().and_then(text),
            title: unescape(&l.name),
            quantity,
            unit_price: of(unit),
            discount: of(unit * q - after),
            tax: of(minor(&l.total_tax, &field("total_tax"))?),
            weight_grams: None,
            hs_code: None,
            origin_country: None,
            requires_shipping: true,
            gtin: None,
        });
    }
    for (i, f) in o.fee_lines.iter().enumerate() {
        let total = minor(&f.total, &format!("fee_lines[{i}].total"))?;
        let tax = minor(&f.total_tax, &format!("fee_lines[{i}].total_tax"))?;
        if total < 0 {
            // A negative fee is a discount on the order.
            fee_discount -= total;
            subtotal += total;
            continue;
        }
        subtotal += total;
        lines.push(LineItem {
            external_id: format!("fee-{}", f.id),
            sku: None,
            title: if f.name.trim().is_empty() {
                "Fee".into()
            } else {
                f.name.clone()
            },
            quantity: 1,
            unit_price: of(total),
            discount: of(0),
            tax: of(tax),
            weight_grams: None,
            hs_code: None,
            origin_country: None,
            requires_shipping: false,
            gtin: None,
        });
    }
    let shipping_lines = o
        .shipping_lines
        .iter()
        .enumerate()
        .map(|(i, s)| {
            Ok(ShippingLine {
                title: s.method_title.clone(),
                code: text(&s.method_id),
                price: of(minor(&s.total, &format!("shipping_lines[{i}].total"))?),
            })
        })
        .collect::<Result<Vec<_>, PluginError>>()?;

    let total = minor(&o.total, "total")?;
    let refunded: i64 = o
        .refunds
        .iter()
        .enumerate()
        .map(|(i, r)| minor(&r.total, &format!("refunds[{i}].total")).map(i64::abs))
        .sum::<Result<i64, _>>()?;
    let paid = o
        .date_paid_gmt
        .as_deref()
        .is_some_and(|d| !d.trim().is_empty());
    let payment_status = match o.status.as_str() {
        "refunded" => PaymentStatus::Refunded,
        _ if refunded > 0 && refunded >= total => PaymentStatus::Refunded,
        _ if refunded > 0 => PaymentStatus::PartiallyRefunded,
        "processing" | "completed" => PaymentStatus::Paid,
        _ if paid => PaymentStatus::Paid,
        "failed" => PaymentStatus::Voided,
        _ => PaymentStatus::Pending,
    };
    let status = match o.status.as_str() {
        "completed" | "refunded" => OrderStatus::Closed,
        "cancelled" | "failed" | "trash" => OrderStatus::Cancelled,
        _ => OrderStatus::Open,
    };
    let fulfillment_status = match o.status.as_str() {
        "completed" => FulfillmentStatus::Fulfilled,
        _ => FulfillmentStatus::Unfulfilled,
    };
    let billing = o.billing.as_ref();
    let buyer = billing.map(|b| Buyer {
        name: text(&format!("{} {}", b.first_name.trim(), b.last_name.trim())),
        email: b.email.as_deref().and_then(text),
        phone: b.phone.as_deref().and_then(text),
    });
    let country = o
        .shipping
        .as_ref()
        .map(|s| s.country.trim())
        .filter(|c| !c.is_empty())
        .or_else(|| billing.map(|b| b.country.trim()))
        .map(str::to_ascii_uppercase);
    let tax_ids = o
        .meta_data
        .iter()
        .filter(|m| VAT_KEYS.contains(&m.key.as_str()))
        .filter_map(|m| m.value.as_str().and_then(text))
        .map(|value| TaxId {
            scheme: "vat".into(),
            value,
            country: country.clone(),
        })
        .take(1)
        .collect();
    let mut tags: Vec<String> = o
        .coupon_lines
        .iter()
        .map(|c| format!("coupon:{}", c.code))
        .collect();
    if let Some(note) = text(&o.customer_note) {
        tags.push(format!("note:{note}"));
    }
    let created = o
        .date_created_gmt
        .as_deref()
        .ok_or_else(|| sdk::invalid_response(at("date_created_gmt is missing")))?;
    let modified = o.date_modified_gmt.as_deref().unwrap_or(created);
    Ok(Order {
        external_id: o.id.to_string(),
        number: format!(
            "#{}",
            if o.number.is_empty() {
                o.id.to_string()
            } else {
                o.number.clone()
            }
        ),
        created_at: gmt(created, &at("date_created_gmt"))?,
        updated_at: gmt(modified, &at("date_modified_gmt"))?,
        status,
        payment_status,
        fulfillment_status,
        totals: Totals {
            subtotal: of(subtotal),
            shipping: of(minor(&o.shipping_total, "shipping_total")?),
            tax: of(minor(&o.total_tax, "total_tax")?),
            discount: of(minor(&o.discount_total, "discount_total")? + fee_discount),
            total: of(total),
        },
        currency: currency.clone(),
        buyer,
        shipping_address: o.shipping.as_ref().and_then(|s| address(s, billing)),
        billing_address: billing.and_then(|b| address(b, None)),
        line_items: lines,
        shipping_lines,
        tax_ids,
        marketplace_collected_tax: false,
        taxes_included: false,
        tags,
        marketplace: None,
        fulfilled_by: FulfilledBy::Seller,
        shipping_hold: None,
        payment_gateways: text(&o.payment_method)
            .map(|m| gateway(&m))
            .into_iter()
            .collect(),
        presentment_total: None,
    })
}

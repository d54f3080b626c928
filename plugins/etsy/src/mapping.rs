//! Etsy receipts into tradelane's model: money exact, times UTC.
//!
//! - Money is `{amount, divisor, currency_code}`: `amount / divisor` in
//!   minor units of the currency is `amount × 10^exponent / divisor`,
//!   which must come out whole (`{1500, 1, "JPY"}` is ¥1,500; `{2499,
//!   100, "EUR"}` is €24.99); anything else is refused.
//! - Transactions are lines at their unit `price`. A receipt's coupon
//!   (`discount_amt`) and tax are spread over the lines by value (largest
//!   remainder, so the shares add up exactly), for customs values.
//! - Etsy collects the buyer's tax itself (US sales tax; VAT or GST for the
//!   EU up to €150, the UK up to £135, Norway, Australia, New Zealand and
//!   others): a receipt with tax is `marketplace-collected-tax`, and the
//!   registration Etsy collected under for the destination becomes a tax
//!   id, so customs carries Etsy's number, not the seller's. Etsy does not
//!   put the numbers in the receipt; they are the plugin's settings.
//! - Gift wrap is a line that needs no shipping.

use crate::wire;
use tradelane_plugin_sdk::{
    self as sdk, Address, Buyer, FulfilledBy, FulfillmentStatus, LineItem, Money, Order,
    OrderStatus, PaymentStatus, PluginError, ShippingLine, TaxId, Totals,
};

/// The EU member states (IOSS destinations).
const EU: &[&str] = &[
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
    "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
];

/// Etsy's registrations, from the plugin's settings.
#[derive(Debug, Clone, Default)]
pub struct Registrations {
    pub ioss: Option<String>,
    pub uk_vat: Option<String>,
    pub voec: Option<String>,
    pub arn: Option<String>,
    pub nz_gst: Option<String>,
}

impl Registrations {
    /// The registration Etsy collects under for `country`, as a tax id.
    pub fn for_country(&self, country: &str) -> Option<TaxId> {
        let (scheme, value) = match country {
            c if EU.contains(&c) => ("ioss", self.ioss.as_ref()?),
            "GB" => ("vat", self.uk_vat.as_ref()?),
            "NO" => ("voec", self.voec.as_ref()?),
            "AU" => ("arn", self.arn.as_ref()?),
            "NZ" => ("ird", self.nz_gst.as_ref()?),
            _ => return None,
        };
        Some(TaxId {
            scheme: scheme.into(),
            value: value.clone(),
            country: Some(country.to_string()),
        })
    }
}

/// Exact minor units of an Etsy `Money` in `currency`.
pub fn minor(m: &wire::Money, currency: &str, what: &str) -> Result<i64, PluginError> {
    if !m.currency_code.eq_ignore_ascii_case(currency) {
        return Err(sdk::invalid_response(format!(
            "{what}: in {}, the receipt in {currency}",
            m.currency_code
        )));
    }
    let exponent = sdk::money::decimals(currency)
        .map_err(|e| sdk::invalid_response(format!("{what}: {e}")))?;
    if m.divisor <= 0 {
        return Err(sdk::invalid_response(format!(
            "{what}: divisor {} is not positive",
            m.divisor
        )));
    }
    let scaled = i128::from(m.amount) * 10i128.pow(exponent);
    let divisor = i128::from(m.divisor);
    if scaled % divisor != 0 {
        return Err(sdk::invalid_response(format!(
            "{what}: {}/{} {currency} is not a whole number of minor units ({exponent} decimals)",
            m.amount, m.divisor
        )));
    }
    i64::try_from(scaled / divisor)
        .map_err(|_| sdk::invalid_response(format!("{what}: {} overflows", m.amount)))
}

/// `total` split over `weights` in proportion, exactly (largest remainder).
pub fn spread(total: i64, weights: &[i64]) -> Vec<i64> {
    let sum: i64 = weights.iter().sum();
    if sum == 0 || total == 0 {
        return vec![0; weights.len()];
    }
    let (total, sum) = (i128::from(total), i128::from(sum));
    let mut shares: Vec<(usize, i128, i128)> = weights
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let exact = total * i128::from(*w);
            (i, exact / sum, exact % sum)
        })
        .collect();
    let mut left = total - shares.iter().map(|s| s.1).sum::<i128>();
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|a, b| shares[*b].2.cmp(&shares[*a].2).then(a.cmp(b)));
    for i in order {
        if left == 0 {
            break;
        }
        let step = left.signum();
        shares[i].1 += step;
        left -= step;
    }
    shares.into_iter().map(|s| s.1 as i64).collect()
}

fn text(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn time(seconds: Option<i64>, what: &str) -> Result<String, PluginError> {
    let s = seconds.ok_or_else(|| sdk::invalid_response(format!("{what} is missing")))?;
    sdk::time::from_unix(s)
}

/// One receipt.
pub fn order(r: &wire::Receipt, registrations: &Registrations) -> Result<Order, PluginError> {
    let at = |field: &str| format!("receipt {}: {field}", r.receipt_id);
    let currency = r.grandtotal.currency_code.trim().to_ascii_uppercase();
    sdk::money::decimals(&currency).map_err(|e| sdk::invalid_response(at(&e.to_string())))?;
    let of = |amount_minor: i64| Money {
        amount_minor,
        currency: currency.clone(),
    };
    let money = |m: &Option<wire::Money>, field: &str| match m {
        Some(m) => minor(m, &currency, &at(field)),
        None => Ok(0),
    };

    let mut gross = Vec::with_capacity(r.transactions.len());
    for (i, t) in r.transactions.iter().enumerate() {
        let q = u32::try_from(t.quantity)
            .ok()
            .filter(|q| *q > 0)
            .ok_or_else(|| {
                sdk::invalid_response(at(&format!(
                    "transactions[{i}].quantity {} is not positive",
                    t.quantity
                )))
            })?;
        let unit = minor(
            &t.price,
            &currency,
            &at(&format!("transactions[{i}].price")),
        )?;
        gross.push((q, unit, unit * i64::from(q)));
    }
    let weights: Vec<i64> = gross.iter().map(|g| g.2).collect();
    let discount = money(&r.discount_amt, "discount_amt")?;
    let sales_tax = money(&r.total_tax_cost, "total_tax_cost")?;
    let vat = money(&r.total_vat_cost, "total_vat_cost")?;
    let tax = sales_tax + vat;
    let discounts = spread(discount, &weights);
    let after: Vec<i64> = weights.iter().zip(&discounts).map(|(w, d)| w - d).collect();
    let taxes = spread(tax, &after);
    let mut lines: Vec<LineItem> = r
        .transactions
        .iter()
        .zip(&gross)
        .zip(discounts.iter().zip(&taxes))
        .map(|((t, (q, unit, _)), (d, x))| LineItem {
            external_id: t.transaction_id.to_string(),
            sku: text(&t.sku),
            title: text(&t.title).unwrap_or_else(|| "Etsy listing".into()),
            quantity: *q,
            unit_price: of(*unit),
            discount: of(*d),
            tax: of(*x),
            weight_grams: None,
            hs_code: None,
            origin_country: None,
            requires_shipping: !t.is_digital,
            gtin: None,
        })
        .collect();
    let wrap = money(&r.gift_wrap_price, "gift_wrap_price")?;
    if wrap > 0 {
        lines.push(LineItem {
            external_id: format!("{}-gift-wrap", r.receipt_id),
            sku: None,
            title: "Gift wrap".into(),
            quantity: 1,
            unit_price: of(wrap),
            discount: of(0),
            tax: of(0),
            weight_grams: None,
            hs_code: None,
            origin_country: None,
            requires_shipping: false,
            gtin: None,
        });
    }
    let shipping = money(&r.total_shipping_cost, "total_shipping_cost")?;
    let total = minor(&r.grandtotal, &currency, &at("grandtotal"))?;
    let subtotal = after.iter().sum::<i64>() + wrap;

    let status_text = r.status.as_deref().unwrap_or("").to_ascii_lowercase();
    let status = match status_text.as_str() {
        "canceled" | "cancelled" => OrderStatus::Cancelled,
        "completed" | "fully refunded" => OrderStatus::Closed,
        _ => OrderStatus::Open,
    };
    let payment_status = match status_text.as_str() {
        "fully refunded" => PaymentStatus::Refunded,
        "partially refunded" => PaymentStatus::PartiallyRefunded,
        "canceled" | "cancelled" if !r.is_paid => PaymentStatus::Voided,
        "payment processing" => PaymentStatus::Pending,
        _ if r.is_paid => PaymentStatus::Paid,
        _ => PaymentStatus::Pending,
    };
    let country = text(&r.country_iso).map(|c| c.to_ascii_uppercase());
    let shipping_address = match (&country, text(&r.first_line), text(&r.city)) {
        (Some(country), Some(line1), Some(city)) => Some(Address {
            name: text(&r.name),
            company: None,
            line1,
            line2: text(&r.second_line),
            city,
            region: text(&r.state),
            postal_code: text(&r.zip),
            country: country.clone(),
            phone: None,
            email: text(&r.buyer_email),
        }),
        _ => None,
    };
    let collected = tax > 0;
    let tax_ids = match (&country, collected) {
        (Some(c), true) => registrations.for_country(c).into_iter().collect(),
        _ => Vec::new(),
    };
    let method = r
        .transactions
        .iter()
        .find_map(|t| text(&t.shipping_method))
        .unwrap_or_else(|| "Etsy shipping".into());
    let mut tags = Vec::new();
    if r.is_gift {
        tags.push("gift".to_string());
    }
    if let Some(note) = text(&r.message_from_buyer) {
        tags.push(format!("note:{note}"));
    }
    Ok(Order {
        external_id: r.receipt_id.to_string(),
        number: format!("#{}", r.receipt_id),
        created_at: time(
            r.created_timestamp.or(r.create_timestamp),
            &at("created_timestamp"),
        )?,
        updated_at: time(
            r.updated_timestamp
                .or(r.update_timestamp)
                .or(r.created_timestamp)
                .or(r.create_timestamp),
            &at("updated_timestamp"),
        )?,
        status,
        payment_status,
        fulfillment_status: if r.is_shipped {
            FulfillmentStatus::Fulfilled
        } else {
            FulfillmentStatus::Unfulfilled
        },
        totals: Totals {
            subtotal: of(subtotal),
            shipping: of(shipping),
            tax: of(tax),
            discount: of(discount),
            total: of(total),
        },
        currency: currency.clone(),
        buyer: Some(Buyer {
            name: text(&r.name),
            email: text(&r.buyer_email),
            phone: None,
        }),
        shipping_address,
        billing_address: None,
        line_items: lines,
        shipping_lines: vec![ShippingLine {
            title: method,
            code: None,
            price: of(shipping),
        }],
        tax_ids,
        marketplace_collected_tax: collected,
        taxes_included: false,
        tags,
        marketplace: Some("etsy".into()),
        fulfilled_by: FulfilledBy::Seller,
        shipping_hold: None,
        // Etsy Payments collects the money and pays the seller itself.
        payment_gateways: vec!["etsy".into()],
        presentment_total: None,
    })
}

//! The one place WIT types become domain types (and back).
//!
//! Converting is also validating: a plugin's output is untrusted, so every
//! currency, country and time is checked here and a bad value fails the
//! call with a message naming the order and field.

mod settlement;
mod shipping;

pub use settlement::{page_query, payout_line_page, payout_out, payout_page};
pub use shipping::{label, rate, rate_out, shipment, tracking_events};

use super::bindings::types as wit;
use crate::model::{self, Country, Currency, Money};
use chrono::{DateTime, SecondsFormat, Utc};

/// A plugin returned something that is not valid tradelane data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidOutput(pub String);

pub(super) type Result<T> = std::result::Result<T, InvalidOutput>;

pub(super) fn bad(what: impl Into<String>) -> InvalidOutput {
    InvalidOutput(what.into())
}

pub(super) fn currency(code: &str, field: &str) -> Result<Currency> {
    Currency::parse(code).ok_or_else(|| {
        bad(format!(
            "{field}: `{code}` is not an ISO 4217 currency code"
        ))
    })
}

/// The largest amount a plugin may report, in minor units either way:
/// 10^15 (ten trillion euros in cents). Anything beyond is not an order,
/// and the bound keeps every sum of amounts far from overflowing i64.
pub const MAX_AMOUNT_MINOR: i64 = 1_000_000_000_000_000;

/// An amount within [`MAX_AMOUNT_MINOR`], or why not.
fn bounded(amount_minor: i64, field: &str) -> Result<()> {
    if amount_minor.unsigned_abs() > MAX_AMOUNT_MINOR as u64 {
        return Err(bad(format!(
            "{field}: {amount_minor} minor units is beyond any real amount (at most {MAX_AMOUNT_MINOR} either way)"
        )));
    }
    Ok(())
}

pub(super) fn money(m: &wit::Money, field: &str) -> Result<Money> {
    bounded(m.amount_minor, field)?;
    Ok(Money {
        amount_minor: m.amount_minor,
        currency: currency(&m.currency, field)?,
    })
}

pub(super) fn country(code: &str, field: &str) -> Result<Country> {
    Country::parse(code).ok_or_else(|| bad(format!("{field}: {}", Country::explain(code))))
}

/// Parse an RFC 3339 time from a plugin.
pub fn time(text: &str, field: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| bad(format!("{field}: `{text}` is not an RFC 3339 time ({e})")))
}

/// An order's time: RFC 3339, and in a sane window (from 1990 to a day
/// ahead of this machine's clock): a year-9999 update time would pin the
/// sync watermark forever.
fn order_time(text: &str, field: &str) -> Result<DateTime<Utc>> {
    let t = time(text, field)?;
    let earliest = DateTime::parse_from_rfc3339("1990-01-01T00:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default();
    let latest = Utc::now() + chrono::Duration::days(1);
    if t < earliest || t > latest {
        return Err(bad(format!(
            "{field}: {text} is outside 1990 to a day from now"
        )));
    }
    Ok(t)
}

/// Format a time for a plugin.
pub fn time_out(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn address(a: wit::Address, field: &str) -> Result<model::Address> {
    Ok(model::Address {
        country: country(&a.country, &format!("{field}.country"))?,
        name: a.name,
        company: a.company,
        line1: a.line1,
        line2: a.line2,
        city: a.city,
        region: a.region,
        postal_code: a.postal_code,
        phone: a.phone,
        email: a.email,
    })
}

/// A plugin's order, validated. Fields are moved, not copied: a page of
/// 250 orders is a few megabytes of strings.
pub fn order(o: wit::Order) -> Result<model::Order> {
    let wit::Order {
        external_id,
        number,
        created_at,
        updated_at,
        status,
        payment_status,
        fulfillment_status,
        currency: currency_code,
        totals,
        buyer,
        shipping_address,
        billing_address,
        line_items,
        shipping_lines,
        tax_ids,
        marketplace_collected_tax,
        taxes_included,
        tags,
        marketplace,
        fulfilled_by,
        shipping_hold,
        payment_gateways,
        presentment_total,
    } = o;
    if external_id.is_empty() {
        return Err(bad("an order has an empty external id"));
    }
    let at = |field: &str| format!("order `{external_id}`: {field}");
    let order_currency = currency(&currency_code, &at("currency"))?;
    let same = |m: &wit::Money, field: &dyn Fn() -> String| -> Result<Money> {
        bounded(m.amount_minor, &at(&field()))?;
        if m.currency.eq_ignore_ascii_case(order_currency.code()) {
            return Ok(Money {
                amount_minor: m.amount_minor,
                currency: order_currency,
            });
        }
        let value = money(m, &at(&field()))?;
        Err(bad(format!(
            "{}: {} differs from the order's currency {order_currency}",
            at(&field()),
            value.currency
        )))
    };
    let line_items = line_items
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            Ok(model::LineItem {
                unit_price: same(&l.unit_price, &|| format!("line_items[{i}].unit_price"))?,
                discount: same(&l.discount, &|| format!("line_items[{i}].discount"))?,
                tax: same(&l.tax, &|| format!("line_items[{i}].tax"))?,
                origin_country: l
                    .origin_country
                    .as_deref()
                    .map(|c| country(c, &at(&format!("line_items[{i}].origin_country"))))
                    .transpose()?,
                external_id: l.external_id,
                sku: l.sku,
                title: l.title,
                quantity: l.quantity,
                weight_grams: l.weight_grams,
                hs_code: l.hs_code,
                requires_shipping: l.requires_shipping,
                gtin: l
                    .gtin
                    .as_deref()
                    .map(|g| {
                        model::gtin(g).map_err(|e| {
                            bad(format!("{}: {e}", at(&format!("line_items[{i}].gtin"))))
                        })
                    })
                    .transpose()?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let shipping_lines = shipping_lines
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            Ok(model::ShippingLine {
                price: same(&s.price, &|| format!("shipping_lines[{i}].price"))?,
                title: s.title,
                code: s.code,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(model::Order {
        created_at: order_time(&created_at, &at("created_at"))?,
        updated_at: order_time(&updated_at, &at("updated_at"))?,
        status: match status {
            wit::OrderStatus::Open => model::OrderStatus::Open,
            wit::OrderStatus::Closed => model::OrderStatus::Closed,
            wit::OrderStatus::Cancelled => model::OrderStatus::Cancelled,
        },
        payment_status: match payment_status {
            wit::PaymentStatus::Pending => model::PaymentStatus::Pending,
            wit::PaymentStatus::Authorized => model::PaymentStatus::Authorized,
            wit::PaymentStatus::Paid => model::PaymentStatus::Paid,
            wit::PaymentStatus::PartiallyPaid => model::PaymentStatus::PartiallyPaid,
            wit::PaymentStatus::PartiallyRefunded => model::PaymentStatus::PartiallyRefunded,
            wit::PaymentStatus::Refunded => model::PaymentStatus::Refunded,
            wit::PaymentStatus::Voided => model::PaymentStatus::Voided,
            wit::PaymentStatus::Unknown => model::PaymentStatus::Unknown,
        },
        fulfillment_status: match fulfillment_status {
            wit::FulfillmentStatus::Unfulfilled => model::FulfillmentStatus::Unfulfilled,
            wit::FulfillmentStatus::Partial => model::FulfillmentStatus::Partial,
            wit::FulfillmentStatus::Fulfilled => model::FulfillmentStatus::Fulfilled,
            wit::FulfillmentStatus::Unknown => model::FulfillmentStatus::Unknown,
        },
        currency: order_currency,
        totals: model::Totals {
            subtotal: same(&totals.subtotal, &|| "totals.subtotal".into())?,
            shipping: same(&totals.shipping, &|| "totals.shipping".into())?,
            tax: same(&totals.tax, &|| "totals.tax".into())?,
            discount: same(&totals.discount, &|| "totals.discount".into())?,
            total: same(&totals.total, &|| "totals.total".into())?,
        },
        buyer: buyer.map(|b| model::Buyer {
            name: b.name,
            email: b.email,
            phone: b.phone,
        }),
        shipping_address: shipping_address
            .map(|a| address(a, &at("shipping_address")))
            .transpose()?,
        billing_address: billing_address
            .map(|a| address(a, &at("billing_address")))
            .transpose()?,
        line_items,
        shipping_lines,
        tax_ids: tax_ids
            .into_iter()
            .map(|t| {
                Ok(model::TaxId {
                    country: t
                        .country
                        .as_deref()
                        .map(|c| country(c, &at("tax_ids.country")))
                        .transpose()?,
                    scheme: t.scheme,
                    value: t.value,
                })
            })
            .collect::<Result<Vec<_>>>()?,
        marketplace_collected_tax,
        taxes_included,
        tags,
        marketplace: marketplace
            .map(|m| short(m, 64, &at("marketplace")))
            .transpose()?,
        fulfilled_by: match fulfilled_by {
            wit::FulfilledBy::Seller => model::FulfilledBy::Seller,
            wit::FulfilledBy::Marketplace => model::FulfilledBy::Marketplace,
        },
        shipping_hold: shipping_hold.map(cap_text),
        payment_gateways: gateways(payment_gateways, &at("payment_gateways"))?,
        presentment_total: presentment_total
            .map(|m| money(&m, &at("presentment_total")))
            .transpose()?
            .filter(|m| m.currency != order_currency),
        number,
        external_id,
    })
}

/// At most this many payment gateways per order.
const MAX_GATEWAYS: usize = 8;

/// An order's payment gateways: lower case, each a short name, no repeats.
fn gateways(names: Vec<String>, field: &str) -> Result<Vec<String>> {
    if names.len() > MAX_GATEWAYS {
        return Err(bad(format!(
            "{field}: {} gateways (at most {MAX_GATEWAYS})",
            names.len()
        )));
    }
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    for name in names {
        let name = short(name.trim().to_ascii_lowercase(), 64, field)?;
        if !name.is_empty() && !out.contains(&name) {
            out.push(name);
        }
    }
    Ok(out)
}

/// `value`, if it is at most `max` bytes.
fn short(value: String, max: usize, field: &str) -> Result<String> {
    if value.len() > max {
        return Err(bad(format!("{field}: longer than {max} bytes")));
    }
    Ok(value)
}

/// A plugin's page of orders, validated one by one: an invalid order is
/// quarantined with the reason, the others are kept.
pub fn order_page(page: wit::OrderPage) -> Result<model::OrderPage> {
    let mut orders = Vec::with_capacity(page.orders.len());
    let mut quarantined = Vec::new();
    for o in page.orders {
        let id: String = o.external_id.chars().take(256).collect();
        match order(o) {
            Ok(o) => orders.push(o),
            Err(InvalidOutput(reason)) => quarantined.push(model::Quarantined {
                external_id: if id.is_empty() { "(empty)".into() } else { id },
                reason,
            }),
        }
    }
    Ok(model::OrderPage {
        orders,
        quarantined,
        next_page: page.next_page,
    })
}

/// The host's query, for the plugin.
pub fn order_query(q: &model::OrderQuery) -> wit::OrderQuery {
    wit::OrderQuery {
        updated_after: q.updated_after.as_ref().map(time_out),
        page_token: q.page_token.clone(),
        page_size: q.page_size,
    }
}

/// A fulfillment, for the plugin.
pub fn fulfillment(f: &model::Fulfillment) -> wit::Fulfillment {
    wit::Fulfillment {
        order_external_id: f.order_external_id.clone(),
        carrier: f.carrier.clone(),
        service: f.service.clone(),
        tracking_number: f.tracking_number.clone(),
        tracking_url: f.tracking_url.clone(),
        shipped_at: time_out(&f.shipped_at),
        lines: f
            .lines
            .iter()
            .map(|(id, q)| wit::FulfillmentLine {
                line_external_id: id.clone(),
                quantity: *q,
            })
            .collect(),
        notify_buyer: f.notify_buyer,
    }
}

/// A plugin's manifest.
pub fn manifest(m: wit::PluginManifest) -> model::Manifest {
    model::Manifest {
        name: m.name,
        version: m.version,
        kind: match m.kind {
            wit::PluginKind::Marketplace => model::PluginKind::Marketplace,
            wit::PluginKind::Payment => model::PluginKind::Payment,
            wit::PluginKind::Carrier => model::PluginKind::Carrier,
        },
        contract_version: m.contract_version,
        description: m.description,
        settings: m
            .settings
            .into_iter()
            .map(|s| model::SettingSpec {
                key: s.key,
                description: s.description,
                required: s.required,
                secret: s.secret,
                default_value: s.default_value,
            })
            .collect(),
        allowed_hosts: m.allowed_hosts,
        rate_limit: m.rate_limit.map(|r| model::RateLimit {
            milli_requests_per_second: r.milli_requests_per_second,
            burst: r.burst,
            usage_header: r.usage_header.map(|u| match u {
                wit::UsageHeader::UsedOfLimit(h) => model::UsageHeader::UsedOfLimit(h),
                wit::UsageHeader::Remaining(h) => model::UsageHeader::Remaining(h),
                wit::UsageHeader::RatePerSecond(h) => model::UsageHeader::RatePerSecond(h),
            }),
        }),
        operation_limits: m
            .operation_limits
            .into_iter()
            .map(|o| model::OperationLimit {
                operation: o.operation,
                milli_requests_per_second: o.milli_requests_per_second,
                burst: o.burst,
            })
            .collect(),
        oauth: m
            .oauth
            .into_iter()
            .map(|o| model::OAuthClient {
                name: o.name,
                token_url: o.token_url,
                grant: match o.grant {
                    wit::OauthGrant::RefreshToken => model::OAuthGrant::RefreshToken,
                    wit::OauthGrant::ClientCredentials => model::OAuthGrant::ClientCredentials,
                },
                client_auth: match o.client_auth {
                    wit::OauthClientAuth::Basic => model::OAuthClientAuth::Basic,
                    wit::OauthClientAuth::Body => model::OAuthClientAuth::Body,
                    wit::OauthClientAuth::None => model::OAuthClientAuth::Public,
                },
                json_body: matches!(o.body, wit::OauthBody::Json),
                client_id_setting: o.client_id_setting,
                client_secret_setting: o.client_secret_setting,
                refresh_token_setting: o.refresh_token_setting,
                scopes: o.scopes,
                authorize_url: o.authorize_url,
                redirect_uri_setting: o.redirect_uri_setting,
            })
            .collect(),
    }
}

/// A plugin's error, as the host classifies it.
pub fn plugin_error(e: wit::PluginError) -> super::PluginFailure {
    use super::PluginFailure as F;
    let c = cap_text;
    match e {
        wit::PluginError::Auth(s) => F::Auth(c(s)),
        wit::PluginError::RateLimited(r) => F::RateLimited {
            retry_after_ms: r.retry_after_ms,
            detail: c(r.detail),
        },
        wit::PluginError::Transient(s) => F::Transient(c(s)),
        wit::PluginError::InvalidResponse(s) => F::InvalidResponse(c(s)),
        wit::PluginError::Rejected(s) => F::Rejected(c(s)),
        wit::PluginError::InvalidSettings(p) => F::InvalidSettings {
            key: c(p.key),
            problem: c(p.problem),
        },
        wit::PluginError::NotFound(s) => F::NotFound(c(s)),
        wit::PluginError::Unsupported(s) => F::Unsupported(c(s)),
    }
}

/// Longest error text kept from a plugin, in bytes.
pub const MAX_ERROR_BYTES: usize = 4096;

/// A plugin's error text, cut to [`MAX_ERROR_BYTES`] with a note of how
/// much was cut: an error reaches logs, records and the status board.
fn cap_text(mut s: String) -> String {
    if s.len() <= MAX_ERROR_BYTES {
        return s;
    }
    let total = s.len();
    let mut cut = MAX_ERROR_BYTES;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.truncate(cut);
    s.push_str(&format!("… ({} more bytes cut)", total - cut));
    s
}

#[cfg(test)]
mod fuzz {
    //! Whatever a plugin returns, converting it never panics: it becomes
    //! domain orders or an invalid-output error.
    use super::*;
    use proptest::prelude::*;
    use wit::{FulfillmentStatus as F, OrderStatus as O, PaymentStatus as P};

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("EUR".to_string()),
            Just("JPY".to_string()),
            Just("DE".to_string()),
            Just("UK".to_string()),
            Just("2026-11-01T10:00:00Z".to_string()),
            Just("9999-12-31T23:59:59+14:00".to_string()),
            Just("-0001-01-01T00:00:00Z".to_string()),
            Just(String::new()),
            "\\PC{0,12}",
        ]
    }

    fn money() -> impl Strategy<Value = wit::Money> {
        (any::<i64>(), text()).prop_map(|(amount_minor, currency)| wit::Money {
            amount_minor,
            currency,
        })
    }

    fn address() -> impl Strategy<Value = wit::Address> {
        (text(), text(), text(), proptest::option::of(text())).prop_map(
            |(line1, city, country, postal_code)| wit::Address {
                name: None,
                company: None,
                line1,
                line2: None,
                city,
                region: None,
                postal_code,
                country,
                phone: None,
                email: None,
            },
        )
    }

    fn line() -> impl Strategy<Value = wit::LineItem> {
        (
            text(),
            any::<u32>(),
            money(),
            money(),
            money(),
            proptest::option::of(any::<u32>()),
            proptest::option::of(text()),
        )
            .prop_map(
                |(id, quantity, unit_price, discount, tax, weight_grams, origin_country)| {
                    wit::LineItem {
                        external_id: id.clone(),
                        sku: Some(id.clone()),
                        title: id,
                        quantity,
                        unit_price,
                        discount,
                        tax,
                        weight_grams,
                        hs_code: None,
                        origin_country,
                        requires_shipping: true,
                        gtin: None,
                    }
                },
            )
    }

    fn order() -> impl Strategy<Value = wit::Order> {
        (
            (text(), text(), text(), text()),
            (money(), money(), money()),
            proptest::option::of(address()),
            proptest::collection::vec(line(), 0..3),
            (0..3u8, 0..8u8, 0..4u8),
        )
            .prop_map(
                |((id, created, updated, currency), (a, b, c), to, lines, (s, p, f))| wit::Order {
                    external_id: id.clone(),
                    number: id,
                    created_at: created,
                    updated_at: updated,
                    status: [O::Open, O::Closed, O::Cancelled][s as usize],
                    payment_status: [
                        P::Pending,
                        P::Authorized,
                        P::Paid,
                        P::PartiallyPaid,
                        P::PartiallyRefunded,
                        P::Refunded,
                        P::Voided,
                        P::Unknown,
                    ][p as usize],
                    fulfillment_status: [F::Unfulfilled, F::Partial, F::Fulfilled, F::Unknown]
                        [f as usize],
                    currency,
                    totals: wit::Totals {
                        subtotal: a.clone(),
                        shipping: b,
                        tax: c,
                        discount: a.clone(),
                        total: a,
                    },
                    buyer: None,
                    shipping_address: to,
                    billing_address: None,
                    line_items: lines,
                    shipping_lines: Vec::new(),
                    tax_ids: Vec::new(),
                    marketplace_collected_tax: false,
                    taxes_included: false,
                    tags: Vec::new(),
                    marketplace: None,
                    fulfilled_by: wit::FulfilledBy::Seller,
                    shipping_hold: None,
                    payment_gateways: vec!["stripe".into()],
                    presentment_total: None,
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn any_order_page_converts_or_is_refused(orders in proptest::collection::vec(order(), 0..4), next in proptest::option::of(text())) {
            let _ = order_page(wit::OrderPage { orders, next_page: next });
        }
    }
}

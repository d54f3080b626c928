//! # The example plugin: a whole marketplace connector in one file
//!
//! It reads orders from "Example Shop", a deliberately small JSON API that
//! `tradelane sandbox` serves under `/example/v1/`:
//!
//! ```text
//! GET /example/v1/orders?updated_since=<RFC 3339>&cursor=<opaque>&limit=<n>
//! Authorization: Bearer <api_key>
//!
//! {"orders": [{"id": "1001", "number": "EX-1001", "created": "…", "updated": "…",
//!              "status": "paid", "currency": "EUR", "total": "42.50", "shipping": "4.90",
//!              "ship_to": {"name": "…", "street": "…", "city": "…", "zip": "…", "country": "DE"},
//!              "lines": [{"id": "1", "sku": "MUG-1", "title": "Mug", "qty": 2, "price": "18.80"}]}],
//!  "next_cursor": "…" | null}
//! ```
//!
//! Copy this crate to start a connector of your own:
//! 1. describe yourself in [`Plugin::manifest`]: settings (mark secrets!) and
//!    the hosts you call;
//! 2. turn the API's JSON into [`sdk::Order`]s in plain Rust with serde;
//!    convert every amount with [`sdk::money`] (never `f64`);
//! 3. return the API's own cursor as `next_page`; the host hands it back;
//! 4. `cargo build --release --target wasm32-wasip2` and point a channel at
//!    `target/wasm32-wasip2/release/example.wasm`.

use serde::Deserialize;
use tradelane_plugin_sdk::{
    self as sdk, FulfillmentStatus, Manifest, ManifestExt, Marketplace, Order, OrderPage,
    OrderQuery, OrderStatus, PaymentStatus, Plugin, Request, Settings, Totals,
};

/// The plugin type; it has no fields because a plugin keeps no state.
pub struct Example;

/// The settings this plugin reads, validated once per call.
struct Api {
    base: String,
    key: String,
}

impl Api {
    fn from(settings: &Settings) -> sdk::Result<Self> {
        Ok(Api {
            base: settings
                .get("base_url")
                .unwrap_or("https://api.example-shop.test")
                .trim_end_matches('/')
                .to_string(),
            // Not the key itself: a `{{secret:api_key}}` placeholder the host fills in.
            key: settings.secret("api_key")?,
        })
    }
}

impl Plugin for Example {
    fn manifest() -> Manifest {
        sdk::manifest(
            "example",
            env!("CARGO_PKG_VERSION"),
            "Example Shop: the SDK's worked example",
        )
        .setting(sdk::secret("api_key", "API key of the shop"))
        .setting(sdk::setting(
            "base_url",
            "API origin, default https://api.example-shop.test",
        ))
        .allow_host("api.example-shop.test")
    }

    fn check(settings: &Settings) -> sdk::Result<()> {
        let api = Api::from(settings)?;
        Request::get(format!("{}/example/v1/orders", api.base))
            .query("limit", "1")
            .bearer(&api.key)
            .send()?
            .error_for_status()?;
        Ok(())
    }
}

impl Marketplace for Example {
    fn fetch_orders(settings: &Settings, query: OrderQuery) -> sdk::Result<OrderPage> {
        let api = Api::from(settings)?;
        let mut request = Request::get(format!("{}/example/v1/orders", api.base))
            .query("limit", &query.page_size.to_string())
            .bearer(&api.key);
        if let Some(since) = &query.updated_after {
            request = request.query("updated_since", since);
        }
        if let Some(cursor) = &query.page_token {
            request = request.query("cursor", cursor);
        }
        // `error_for_status` turns 401 into `auth`, 429 into `rate-limited`…
        let body: Body = request.send()?.error_for_status()?.json()?;
        let orders = body
            .orders
            .into_iter()
            .map(order)
            .collect::<sdk::Result<Vec<_>>>()?;
        Ok(OrderPage {
            orders,
            next_page: body.next_cursor,
        })
    }
}

#[derive(Deserialize)]
struct Body {
    orders: Vec<ExampleOrder>,
    next_cursor: Option<String>,
}

#[derive(Deserialize)]
struct ExampleOrder {
    id: String,
    number: String,
    created: String,
    updated: String,
    status: String,
    currency: String,
    total: String,
    shipping: String,
    ship_to: Option<ShipTo>,
    lines: Vec<Line>,
}

#[derive(Deserialize)]
struct ShipTo {
    name: String,
    street: String,
    city: String,
    zip: String,
    country: String,
}

#[derive(Deserialize)]
struct Line {
    id: String,
    sku: String,
    title: String,
    qty: u32,
    price: String,
}

fn order(o: ExampleOrder) -> sdk::Result<Order> {
    let money = |text: &str| sdk::money::money(text, &o.currency).map_err(sdk::invalid_response);
    let lines = o
        .lines
        .iter()
        .map(|l| {
            Ok(sdk::LineItem {
                external_id: l.id.clone(),
                sku: Some(l.sku.clone()),
                title: l.title.clone(),
                quantity: l.qty,
                unit_price: money(&l.price)?,
                discount: sdk::money::zero(&o.currency),
                tax: sdk::money::zero(&o.currency),
                weight_grams: None,
                hs_code: None,
                origin_country: None,
                requires_shipping: true,
                gtin: None,
            })
        })
        .collect::<sdk::Result<Vec<_>>>()?;
    let total = money(&o.total)?;
    let shipping = money(&o.shipping)?;
    let subtotal = sdk::Money {
        amount_minor: total.amount_minor - shipping.amount_minor,
        currency: o.currency.clone(),
    };
    Ok(Order {
        external_id: o.id,
        number: o.number,
        created_at: sdk::time::utc(&o.created)?,
        updated_at: sdk::time::utc(&o.updated)?,
        status: if o.status == "cancelled" {
            OrderStatus::Cancelled
        } else {
            OrderStatus::Open
        },
        payment_status: match o.status.as_str() {
            "paid" => PaymentStatus::Paid,
            "refunded" => PaymentStatus::Refunded,
            _ => PaymentStatus::Pending,
        },
        fulfillment_status: FulfillmentStatus::Unfulfilled,
        totals: Totals {
            subtotal,
            shipping,
            tax: sdk::money::zero(&o.currency),
            discount: sdk::money::zero(&o.currency),
            total,
        },
        buyer: None,
        shipping_address: o.ship_to.map(|s| sdk::Address {
            name: Some(s.name),
            company: None,
            line1: s.street,
            line2: None,
            city: s.city,
            region: None,
            postal_code: Some(s.zip),
            country: s.country,
            phone: None,
            email: None,
        }),
        billing_address: None,
        line_items: lines,
        shipping_lines: Vec::new(),
        tax_ids: Vec::new(),
        marketplace_collected_tax: false,
        taxes_included: false,
        tags: Vec::new(),
        marketplace: None,
        fulfilled_by: sdk::FulfilledBy::Seller,
        shipping_hold: None,
        payment_gateways: Vec::new(),
        presentment_total: None,
        currency: o.currency,
    })
}

sdk::register_marketplace!(Example);

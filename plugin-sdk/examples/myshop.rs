use serde::{Deserialize, Serialize};
use tradelane_plugin_sdk::{
    self as sdk, FulfilledBy, Fulfillment, FulfillmentReceipt, FulfillmentStatus, ManifestExt,
    Marketplace, Order, OrderPage, OrderQuery, OrderStatus, PaymentStatus, Plugin, Settings,
    Totals,
};

/// A marketplace plugin for the (imaginary) MyShop API.
struct MyShop;

const API: &str = "https://api.myshop.example";

/// `GET /orders`: a page of orders and the cursor of the next.
#[derive(Deserialize)]
struct OrdersBody {
    orders: Vec<MyOrder>,
    next: Option<String>,
}

#[derive(Deserialize)]
struct MyOrder {
    id: String,
    number: String,
    created: String,
    updated: String,
    paid: bool,
    currency: String,
    /// Decimal text, e.g. "19.99".
    total: String,
}

/// `GET /orders/{id}/shipments`: what was pushed already.
#[derive(Deserialize)]
struct Shipments {
    shipments: Vec<MyShipment>,
}

#[derive(Deserialize)]
struct MyShipment {
    id: String,
    tracking: String,
}

/// `POST /orders/{id}/shipments`.
#[derive(Serialize)]
struct NewShipment<'a> {
    carrier: &'a str,
    tracking: &'a str,
}

impl Plugin for MyShop {
    fn manifest() -> sdk::Manifest {
        sdk::manifest("myshop", env!("CARGO_PKG_VERSION"), "Orders from MyShop")
            .setting(sdk::secret("api_key", "API key from the MyShop admin"))
            .allow_host("api.myshop.example")
    }

    /// `tradelane check --online` calls this: prove the key works.
    fn check(settings: &Settings) -> sdk::Result<()> {
        sdk::Request::get(format!("{API}/me"))
            .bearer(&settings.secret("api_key")?)
            .send()?
            .error_for_status()?;
        Ok(())
    }
}

impl Marketplace for MyShop {
    fn fetch_orders(settings: &Settings, query: OrderQuery) -> sdk::Result<OrderPage> {
        // `secret` is the placeholder {{secret:api_key}}: the host fills it in.
        let mut request = sdk::Request::get(format!("{API}/orders"))
            .bearer(&settings.secret("api_key")?)
            .query("limit", &query.page_size.to_string());
        request = match (&query.page_token, &query.updated_after) {
            (Some(cursor), _) => request.query("cursor", cursor),
            (None, Some(since)) => request.query("updated_since", since),
            (None, None) => request,
        };
        // 401 → auth, 429 → rate-limited, 5xx → transient, bad JSON → invalid-response.
        let body: OrdersBody = request.send()?.error_for_status()?.json()?;
        sdk::info!("{} orders on this page", body.orders.len()); // to the log, under the plugin's name
        Ok(OrderPage {
            orders: body.orders.iter().map(order).collect::<sdk::Result<_>>()?,
            next_page: body.next,
        })
    }

    /// The host retries a push whose answer was lost, and MyShop does not
    /// de-duplicate: find an earlier push of this tracking number first.
    fn push_fulfillment(settings: &Settings, f: Fulfillment) -> sdk::Result<FulfillmentReceipt> {
        let url = format!("{API}/orders/{}/shipments", f.order_external_id);
        let key = settings.secret("api_key")?;
        let existing: Shipments = sdk::Request::get(&url)
            .bearer(&key)
            .send()?
            .error_for_status()?
            .json()?;
        if let Some(done) = existing
            .shipments
            .iter()
            .find(|s| s.tracking == f.tracking_number)
        {
            return Ok(FulfillmentReceipt {
                external_id: done.id.clone(),
            });
        }
        let created: MyShipment = sdk::Request::post(&url)
            .bearer(&key)
            .json(&NewShipment {
                carrier: &f.carrier,
                tracking: &f.tracking_number,
            })?
            .send()?
            .error_for_status()?
            .json()?;
        Ok(FulfillmentReceipt {
            external_id: created.id,
        })
    }
}

/// One MyShop order in the tradelane model: money in exact minor units
/// (never f64), times in UTC RFC 3339.
fn order(o: &MyOrder) -> sdk::Result<Order> {
    let total = sdk::money::money(&o.total, &o.currency)
        .map_err(|e| sdk::invalid_response(format!("order {}: total: {e}", o.id)))?;
    let zero = sdk::money::zero(&o.currency);
    Ok(Order {
        external_id: o.id.clone(),
        number: o.number.clone(),
        created_at: sdk::time::utc(&o.created)?,
        updated_at: sdk::time::utc(&o.updated)?,
        status: OrderStatus::Open,
        payment_status: if o.paid {
            PaymentStatus::Paid
        } else {
            PaymentStatus::Pending
        },
        fulfillment_status: FulfillmentStatus::Unfulfilled,
        currency: total.currency.clone(),
        totals: Totals {
            subtotal: total.clone(),
            shipping: zero.clone(),
            tax: zero.clone(),
            discount: zero,
            total,
        },
        buyer: None,
        shipping_address: None,
        billing_address: None,
        line_items: Vec::new(),
        shipping_lines: Vec::new(),
        tax_ids: Vec::new(),
        marketplace_collected_tax: false,
        taxes_included: false,
        tags: Vec::new(),
        marketplace: None,
        fulfilled_by: FulfilledBy::Seller,
        shipping_hold: None,
        payment_gateways: Vec::new(),
        presentment_total: None,
    })
}

sdk::register_marketplace!(MyShop);

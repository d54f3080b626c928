//! # Shopify marketplace plugin
//!
//! Reads orders from the Shopify Admin REST API and pushes tracking back
//! through the fulfillment-orders flow.
//!
//! - Orders: `GET /admin/api/{version}/orders.json?status=any&limit=250&updated_at_min=…`,
//!   next pages by the `page_info` cursor of the `Link: <…>; rel="next"` header
//!   (Shopify accepts only `limit` beside `page_info`).
//! - Auth: `X-Shopify-Access-Token`, filled in by the host from the
//!   `access_token` secret.
//! - Rate limit: a leaky bucket of 40 requests refilled at 2/s, reported in
//!   `X-Shopify-Shop-Api-Call-Limit: used/limit`; the host paces by it.
//! - Tracking: `GET orders/{id}/fulfillments.json` (a push with the same
//!   tracking number is adopted, not repeated), `GET orders/{id}/fulfillment_orders.json`,
//!   then `POST fulfillments.json` with `line_items_by_fulfillment_order`.

pub mod mapping;
pub mod wire;

use tradelane_plugin_sdk::{
    self as sdk, Fulfillment, FulfillmentReceipt, Manifest, ManifestExt, Marketplace, OrderPage,
    OrderQuery, Plugin, PluginError, RateLimit, Request, Response, Settings, UsageHeader, http,
};

/// The API version used when `api_version` is not set.
pub const DEFAULT_API_VERSION: &str = "2026-07";
/// Shopify's largest page.
pub const MAX_PAGE: u32 = 250;

/// The plugin.
pub struct Shopify;

/// Where and how to reach one shop.
struct Shop {
    base: String,
    token: String,
}

impl Shop {
    fn from(settings: &Settings) -> Result<Self, PluginError> {
        let version = settings.get("api_version").unwrap_or(DEFAULT_API_VERSION);
        let origin = match settings.get("base_url") {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => {
                let shop = settings.require("shop")?;
                if shop.contains('/') {
                    return Err(sdk::invalid(
                        "shop",
                        "must be a host name like `my-store.myshopify.com`",
                    ));
                }
                format!("https://{shop}")
            }
        };
        Ok(Shop {
            base: format!("{origin}/admin/api/{version}"),
            token: settings.secret("access_token")?,
        })
    }

    fn get(&self, path: &str) -> Request {
        Request::get(format!("{}/{path}", self.base)).header("X-Shopify-Access-Token", &self.token)
    }

    fn post<T: serde::Serialize>(&self, path: &str, body: &T) -> Result<Request, PluginError> {
        Request::post(format!("{}/{path}", self.base))
            .header("X-Shopify-Access-Token", &self.token)
            .json(body)
    }
}

impl Plugin for Shopify {
    fn manifest() -> Manifest {
        sdk::manifest(
            "shopify",
            env!("CARGO_PKG_VERSION"),
            "Orders and tracking for Shopify stores (Admin REST API)",
        )
        .setting(sdk::required(
            "shop",
            "The store's myshopify.com host, e.g. `my-store.myshopify.com`",
        ))
        .setting(sdk::secret(
            "access_token",
            "Admin API access token of a custom app (scopes: read_orders, read_merchant_managed_fulfillment_orders, write_merchant_managed_fulfillment_orders)",
        ))
        .setting(sdk::setting(
            "api_version",
            "Admin API version, default 2026-07",
        ))
        .setting(sdk::setting(
            "base_url",
            "Override the API origin (the sandbox, a proxy); default https://{shop}",
        ))
        .allow_host("*.myshopify.com")
        .rate_limit(RateLimit {
            milli_requests_per_second: 2000,
            burst: 40,
            usage_header: Some(UsageHeader::UsedOfLimit(
                "X-Shopify-Shop-Api-Call-Limit".into(),
            )),
        })
    }

    fn check(settings: &Settings) -> sdk::Result<()> {
        Shop::from(settings)?
            .get("shop.json")
            .send()?
            .error_for_status()?;
        Ok(())
    }
}

impl Marketplace for Shopify {
    fn fetch_orders(settings: &Settings, query: OrderQuery) -> sdk::Result<OrderPage> {
        let shop = Shop::from(settings)?;
        let limit = query.page_size.clamp(1, MAX_PAGE).to_string();
        let request = match &query.page_token {
            Some(page_info) => shop
                .get("orders.json")
                .query("limit", &limit)
                .query("page_info", page_info),
            None => {
                let request = shop
                    .get("orders.json")
                    .query("status", "any")
                    .query("limit", &limit);
                match &query.updated_after {
                    Some(after) => request.query("updated_at_min", after),
                    None => request,
                }
            }
        };
        let response = request.send()?.error_for_status()?;
        page(&response)
    }

    fn push_fulfillment(
        settings: &Settings,
        fulfillment: Fulfillment,
    ) -> sdk::Result<FulfillmentReceipt> {
        let shop = Shop::from(settings)?;
        let order = &fulfillment.order_external_id;

        // Exactly once: a fulfillment with this tracking number already there is ours.
        let existing: wire::FulfillmentsBody = shop
            .get(&format!("orders/{order}/fulfillments.json"))
            .send()?
            .error_for_status()?
            .json()?;
        if let Some(done) = existing.fulfillments.iter().find(|f| {
            f.status.as_deref() != Some("cancelled")
                && (f.tracking_number.as_deref() == Some(&fulfillment.tracking_number)
                    || f.tracking_numbers.contains(&fulfillment.tracking_number))
        }) {
            return Ok(FulfillmentReceipt {
                external_id: done.id.to_string(),
            });
        }

        let orders: wire::FulfillmentOrdersBody = shop
            .get(&format!("orders/{order}/fulfillment_orders.json"))
            .send()?
            .error_for_status()?
            .json()?;
        let body = fulfillment_request(&fulfillment, &orders)?;
        let created: wire::CreatedFulfillment = shop
            .post("fulfillments.json", &body)?
            .send()?
            .error_for_status()?
            .json()?;
        Ok(FulfillmentReceipt {
            external_id: created.fulfillment.id.to_string(),
        })
    }
}

/// Map a response of `orders.json` into a page, reading the next cursor from `Link`.
pub fn page(response: &Response) -> sdk::Result<OrderPage> {
    let orders = mapping::orders_from_json(&response.body)?;
    let next_page = match response.header("link").and_then(http::link_next) {
        Some(url) => Some(http::query_param(&url, "page_info").ok_or_else(|| {
            sdk::invalid_response(format!("Link rel=next without page_info: {url}"))
        })?),
        None => None,
    };
    Ok(OrderPage { orders, next_page })
}

/// Build the `fulfillments.json` body: every open fulfillment order, or only
/// the requested lines of them.
pub fn fulfillment_request(
    fulfillment: &Fulfillment,
    orders: &wire::FulfillmentOrdersBody,
) -> sdk::Result<wire::CreateFulfillment> {
    let open = orders
        .fulfillment_orders
        .iter()
        .filter(|fo| matches!(fo.status.as_str(), "open" | "in_progress" | "scheduled"));
    let mut groups = Vec::new();
    for fo in open {
        if fulfillment.lines.is_empty() {
            if fo.line_items.iter().any(|l| l.fulfillable_quantity > 0) {
                groups.push(wire::ByFulfillmentOrder {
                    fulfillment_order_id: fo.id,
                    fulfillment_order_line_items: Vec::new(),
                });
            }
            continue;
        }
        let lines: Vec<_> = fo
            .line_items
            .iter()
            .filter_map(|l| {
                let wanted = fulfillment
                    .lines
                    .iter()
                    .find(|w| w.line_external_id == l.line_item_id.to_string())?;
                let quantity = wanted.quantity.min(l.fulfillable_quantity);
                (quantity > 0).then_some(wire::FulfillmentOrderLineQty { id: l.id, quantity })
            })
            .collect();
        if !lines.is_empty() {
            groups.push(wire::ByFulfillmentOrder {
                fulfillment_order_id: fo.id,
                fulfillment_order_line_items: lines,
            });
        }
    }
    if groups.is_empty() {
        return Err(PluginError::NotFound(format!(
            "order {} has no open fulfillment order with the lines to ship",
            fulfillment.order_external_id
        )));
    }
    Ok(wire::CreateFulfillment {
        fulfillment: wire::NewFulfillment {
            notify_customer: fulfillment.notify_buyer,
            tracking_info: wire::TrackingInfo {
                number: fulfillment.tracking_number.clone(),
                url: fulfillment.tracking_url.clone(),
                company: fulfillment.carrier.clone(),
            },
            line_items_by_fulfillment_order: groups,
        },
    })
}

#[cfg(target_arch = "wasm32")]
sdk::register_marketplace!(Shopify);

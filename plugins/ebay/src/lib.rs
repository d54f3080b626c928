//! # eBay marketplace plugin (Sell Fulfillment API v1)
//!
//! - Orders: `GET /sell/fulfillment/v1/order?filter=lastmodifieddate:[FROM..]&limit&offset`.
//!   Offset pages shift when an order changes during a pass (it leaves its
//!   place and reappears later), which would skip the order behind it. So
//!   every page after the first starts [`sdk::paging::overlap`] orders
//!   *before* where the previous one ended: a re-read order is stored once (the host keys
//!   orders by id), and an order is skipped only if more than `overlap`
//!   orders ahead of it changed between two page reads. The filter only
//!   reaches 90 days back, so a first sync starts there.
//! - One order: `GET /sell/fulfillment/v1/order/{orderId}`.
//! - Tracking: `POST /sell/fulfillment/v1/order/{orderId}/shipping_fulfillment`
//!   (201, the new id in `Location`); the order's fulfillments are read
//!   first, and one with the same tracking number is adopted, not repeated.
//! - Auth: OAuth user token (2 h; refresh tokens last 18 months), scope
//!   `sell.fulfillment`, refreshed by the host (`{{oauth:ebay}}`).
//! - Quotas are daily per API (no per-response header); the host's bucket
//!   keeps a steady pace.

pub mod mapping;
pub mod wire;

use tradelane_plugin_sdk::{
    self as sdk, Fulfillment, FulfillmentReceipt, Manifest, ManifestExt, Marketplace, Order,
    OrderPage, OrderQuery, Plugin, PluginError, RateLimit, Request, Response, Settings, http,
    serde_json,
};

/// The plugin.
pub struct Ebay;

/// The host-managed OAuth client.
const OAUTH: &str = "ebay";
/// eBay's largest page for getOrders.
pub const MAX_PAGE: u32 = 200;
/// How far back the `lastmodifieddate` filter reaches.
const WINDOW_DAYS: i64 = 90;

struct Account {
    base: String,
}

impl Account {
    fn from(settings: &Settings) -> Result<Self, PluginError> {
        Ok(Account {
            base: settings
                .get("base_url")
                .unwrap_or("https://api.ebay.com")
                .trim_end_matches('/')
                .to_string(),
        })
    }

    fn request(&self, request: Request) -> Request {
        request
            .oauth_bearer(OAUTH)
            .header("Accept", "application/json")
    }

    fn orders_url(&self) -> String {
        format!("{}/sell/fulfillment/v1/order", self.base)
    }
}

/// eBay wants `2026-11-29T23:54:20.000Z` (milliseconds) in filters.
fn ebay_time(t: &str) -> Result<String, PluginError> {
    let utc = sdk::time::utc(t)?;
    Ok(match utc.strip_suffix('Z') {
        Some(base) if !base.contains('.') => format!("{base}.000Z"),
        _ => utc,
    })
}

/// Failures with eBay's own `errors[].message`.
fn checked(response: Response) -> Result<Response, PluginError> {
    if (200..300).contains(&response.status) || matches!(response.status, 401 | 429) {
        return response.error_for_status();
    }
    let message = serde_json::from_slice::<wire::Errors>(&response.body)
        .ok()
        .and_then(|e| e.errors.into_iter().next())
        .map(|e| {
            format!(
                "error {}: {}",
                e.error_id.unwrap_or_default(),
                e.message.unwrap_or_default()
            )
        });
    match (response.status, message) {
        (400 | 409, Some(m)) => Err(PluginError::Rejected(format!(
            "HTTP {} {m}",
            response.status
        ))),
        (403, Some(m)) => Err(PluginError::Auth(format!(
            "HTTP 403 {m} (was the sell.fulfillment scope granted?)"
        ))),
        _ => response.error_for_status(),
    }
}

impl Plugin for Ebay {
    fn manifest() -> Manifest {
        sdk::manifest(
            "ebay",
            env!("CARGO_PKG_VERSION"),
            "Orders from eBay (Sell Fulfillment API v1), tracking pushed back as shipping fulfillments",
        )
        .setting(sdk::required("client_id", "App ID (client id) of the eBay developer keyset"))
        .setting(sdk::secret("client_secret", "Cert ID (client secret) of the keyset"))
        .setting(sdk::secret(
            "refresh_token",
            "The seller's refresh token (18 months): run `tradelane connect SELLER/CHANNEL`",
        ))
        .setting(sdk::setting(
            "ru_name",
            "The app's RuName (eBay's redirect URI name), needed by `tradelane connect`",
        ))
        .setting(sdk::SettingSpec {
            default_value: Some("https://auth.ebay.com/oauth2/authorize".into()),
            ..sdk::setting(
                "auth_url",
                "The consent page `tradelane connect` sends the seller to (https://auth.sandbox.ebay.com/oauth2/authorize for eBay's sandbox)",
            )
        })
        .setting(sdk::SettingSpec {
            default_value: Some("https://api.ebay.com".into()),
            ..sdk::setting(
                "base_url",
                "API origin: https://api.sandbox.ebay.com for eBay's sandbox, or the tradelane sandbox",
            )
        })
        .allow_host("api.ebay.com")
        .allow_host("api.sandbox.ebay.com")
        .rate_limit(RateLimit {
            milli_requests_per_second: 5000,
            burst: 20,
            usage_header: None,
        })
        .oauth(sdk::OAuthClient {
            scopes: vec!["https://api.ebay.com/oauth/api_scope/sell.fulfillment".into()],
            authorize_url: Some("{{setting:auth_url}}".into()),
            redirect_uri_setting: Some("ru_name".into()),
            ..sdk::oauth_refresh(
                OAUTH,
                "{{setting:base_url}}/identity/v1/oauth2/token",
                "client_id",
                "client_secret",
                "refresh_token",
            )
        })
    }

    /// One order, the cheapest authenticated read.
    fn check(settings: &Settings) -> sdk::Result<()> {
        let account = Account::from(settings)?;
        let request = account.request(Request::get(account.orders_url()).query("limit", "1"));
        checked(request.send()?).map(drop)
    }
}

impl Marketplace for Ebay {
    fn fetch_orders(settings: &Settings, query: OrderQuery) -> sdk::Result<OrderPage> {
        let account = Account::from(settings)?;
        let limit = query.page_size.clamp(1, MAX_PAGE);
        let page_at = sdk::paging::OffsetPage::start(query.page_token.as_deref(), limit)?;
        let offset = page_at.offset;
        let floor = sdk::time::from_unix(
            sdk::time::to_unix(&sdk::time::now())? - WINDOW_DAYS * 86_400 + 3600,
        )?;
        let from = match &query.updated_after {
            Some(t) if sdk::time::to_unix(t)? > sdk::time::to_unix(&floor)? => t.clone(),
            _ => floor,
        };
        let request = account.request(
            Request::get(account.orders_url())
                .query(
                    "filter",
                    &format!("lastmodifieddate:[{}..]", ebay_time(&from)?),
                )
                .query("limit", &limit.to_string())
                .query("offset", &offset.to_string()),
        );
        let page: wire::OrderSearchPagedCollection = checked(request.send()?)?.json()?;
        let orders = page
            .orders
            .iter()
            .map(mapping::order)
            .collect::<Result<Vec<Order>, _>>()?;
        let next_page = page_at.next(orders.len(), |read_to| match page.total {
            Some(total) => read_to < total,
            None => page.next.is_some(),
        });
        Ok(OrderPage { orders, next_page })
    }

    fn fetch_order(settings: &Settings, external_id: String) -> sdk::Result<Option<Order>> {
        let account = Account::from(settings)?;
        let request = account.request(Request::get(format!(
            "{}/{}",
            account.orders_url(),
            http::encode(&external_id)
        )));
        let response = request.send()?;
        if response.status == 404 {
            return Ok(None);
        }
        let order: wire::Order = checked(response)?.json()?;
        mapping::order(&order).map(Some)
    }

    fn push_fulfillment(
        settings: &Settings,
        fulfillment: Fulfillment,
    ) -> sdk::Result<FulfillmentReceipt> {
        let account = Account::from(settings)?;
        let base = format!(
            "{}/{}/shipping_fulfillment",
            account.orders_url(),
            http::encode(&fulfillment.order_external_id)
        );
        let existing: wire::ShippingFulfillmentPagedCollection =
            checked(account.request(Request::get(&base)).send()?)?.json()?;
        if let Some(done) = existing.fulfillments.iter().find(|f| {
            f.shipment_tracking_number.as_deref() == Some(fulfillment.tracking_number.as_str())
        }) {
            return Ok(FulfillmentReceipt {
                external_id: done.fulfillment_id.clone(),
            });
        }
        let lines: Vec<serde_json::Value> = if fulfillment.lines.is_empty() {
            let order: wire::Order = checked(
                account
                    .request(Request::get(format!(
                        "{}/{}",
                        account.orders_url(),
                        http::encode(&fulfillment.order_external_id)
                    )))
                    .send()?,
            )?
            .json()?;
            order
                .line_items
                .iter()
                .map(|l| serde_json::json!({"lineItemId": l.line_item_id, "quantity": l.quantity}))
                .collect()
        } else {
            fulfillment
                .lines
                .iter()
                .map(|l| serde_json::json!({"lineItemId": l.line_external_id, "quantity": l.quantity}))
                .collect()
        };
        let body = serde_json::json!({
            "lineItems": lines,
            "shippedDate": ebay_time(&fulfillment.shipped_at)?,
            "shippingCarrierCode": mapping::carrier_code(&fulfillment.carrier),
            "trackingNumber": fulfillment.tracking_number,
        });
        let response = checked(account.request(Request::post(&base)).json(&body)?.send()?)?;
        let id = response
            .header("location")
            .and_then(|l| l.rsplit('/').next())
            .filter(|id| !id.is_empty())
            .map(str::to_string)
            .unwrap_or_else(|| fulfillment.tracking_number.clone());
        Ok(FulfillmentReceipt { external_id: id })
    }
}

#[cfg(target_arch = "wasm32")]
sdk::register_marketplace!(Ebay);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_times_carry_milliseconds() {
        assert_eq!(
            ebay_time("2026-11-29T23:54:20Z").unwrap(),
            "2026-11-29T23:54:20.000Z"
        );
    }
}

//! # Amazon marketplace plugin (Selling Partner API)
//!
//! - Orders: **Orders API 2026-01-01** (`searchOrders`, `getOrder`), not the
//!   v0 read operations Amazon retires on 27 March 2027. One
//!   `searchOrders` call with `lastUpdatedAfter`, `maxResultsPerPage=100`
//!   and `includedData=BUYER,RECIPIENT,PROCEEDS,FULFILLMENT,TAX` brings
//!   items, recipient, money and tax together: no per-order requests, so
//!   1,000 orders cost 10 requests. Next pages by `paginationToken`
//!   (Amazon's `pagination.nextToken`, valid for 24 h; an expired one
//!   restarts the pass from its first page, which is safe because the host
//!   stores orders by id).
//! - Tracking: `confirmShipment` (`POST /orders/v0/orders/{id}/shipmentConfirmation`,
//!   204; only the v0 *read* operations are deprecated). The order's
//!   packages are read first (`getOrder` with `PACKAGES`): a tracking
//!   number Amazon already has is adopted, not confirmed twice.
//! - Auth: Login with Amazon, refresh-token grant, managed by the host
//!   (`{{oauth:lwa}}` in `x-amz-access-token`); PII comes through the app's
//!   role, with no Restricted Data Token.
//! - Regions: the configured `marketplace_ids` choose the endpoint (NA, EU
//!   or FE); one channel covers any number of marketplaces of one region,
//!   and each order keeps its own (`marketplace`).
//! - Rate limits: per operation (searchOrders 0.0056 req/s, burst 20;
//!   getOrder 0.0056/20; confirmShipment 2/10), paced by the host per
//!   operation and corrected by `x-amzn-RateLimit-Limit`; a 429
//!   (`QuotaExceeded`) defers the pass.

pub mod mapping;
pub mod wire;

use tradelane_plugin_sdk::{
    self as sdk, Fulfillment, FulfillmentReceipt, Manifest, ManifestExt, Marketplace, Order,
    OrderPage, OrderQuery, Plugin, PluginError, RateLimit, Request, Response, Settings,
    UsageHeader, http,
};

/// The plugin.
pub struct Amazon;

/// The host-managed Login with Amazon client.
const OAUTH: &str = "lwa";
/// Datasets asked of searchOrders and getOrder.
const INCLUDED: &str = "BUYER,RECIPIENT,PROCEEDS,FULFILLMENT,TAX";
/// Amazon's largest page.
const MAX_PAGE: u32 = 100;

/// An SP-API region: its endpoint and the marketplaces in it.
struct Region {
    name: &'static str,
    endpoint: &'static str,
    marketplaces: &'static [(&'static str, &'static str)],
}

/// Marketplace ids by region (developer-docs.amazon.com/sp-api/docs/marketplace-ids).
const REGIONS: &[Region] = &[
    Region {
        name: "NA",
        endpoint: "https://sellingpartnerapi-na.amazon.com",
        marketplaces: &[
            ("ATVPDKIKX0DER", "US"),
            ("A2EUQ1WTGCTBG2", "CA"),
            ("A1AM78C64UM0Y8", "MX"),
            ("A2Q3Y263D00KWC", "BR"),
        ],
    },
    Region {
        name: "EU",
        endpoint: "https://sellingpartnerapi-eu.amazon.com",
        marketplaces: &[
            ("A1F83G8C2ARO7P", "GB"),
            ("A1PA6795UKMFR9", "DE"),
            ("A13V1IB3VIYZZH", "FR"),
            ("APJ6JRA9NG5V4", "IT"),
            ("A1RKKUPIHCS9HS", "ES"),
            ("A1805IZSGTT6HS", "NL"),
            ("A2NODRKZP88ZB9", "SE"),
            ("A1C3SOZRARQ6R3", "PL"),
            ("AMEN7PMS3EDWL", "BE"),
            ("A28R8C7NBKEWEA", "IE"),
            ("A33AVAJ2PDY3EV", "TR"),
            ("A2VIGQ35RCS4UG", "AE"),
            ("A17E79C6D8DWNP", "SA"),
            ("ARBP9OOSHTCHU", "EG"),
            ("A21TJRUUN4KGV", "IN"),
            ("AE08WJ6YKNBMC", "ZA"),
        ],
    },
    Region {
        name: "FE",
        endpoint: "https://sellingpartnerapi-fe.amazon.com",
        marketplaces: &[
            ("A1VC38T7YXB528", "JP"),
            ("A39IBJ37TRP1C6", "AU"),
            ("A19VAU5U5O7RUS", "SG"),
        ],
    },
];

/// One channel: its region's endpoint and its marketplaces.
struct Account {
    base: String,
    marketplaces: Vec<String>,
}

impl Account {
    fn from(settings: &Settings) -> Result<Self, PluginError> {
        let ids: Vec<String> = settings
            .require("marketplace_ids")?
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        let mut region: Option<&Region> = None;
        for id in &ids {
            let found = REGIONS
                .iter()
                .find(|r| r.marketplaces.iter().any(|(m, _)| m == id))
                .ok_or_else(|| {
                    sdk::invalid(
                        "marketplace_ids",
                        &format!("`{id}` is not an Amazon marketplace id (e.g. A1F83G8C2ARO7P is Amazon.co.uk)"),
                    )
                })?;
            if let Some(r) = region
                && r.name != found.name
            {
                return Err(sdk::invalid(
                    "marketplace_ids",
                    &format!(
                        "mixes the {} and {} regions; configure one channel per region",
                        r.name, found.name
                    ),
                ));
            }
            region = Some(found);
        }
        let region = region.ok_or_else(|| sdk::invalid("marketplace_ids", "is empty"))?;
        let base = settings
            .get("base_url")
            .unwrap_or(region.endpoint)
            .trim_end_matches('/')
            .to_string();
        Ok(Account {
            base,
            marketplaces: ids,
        })
    }

    fn get(&self, path: &str, operation: &str) -> Request {
        Request::get(format!("{}{path}", self.base))
            .header("x-amz-access-token", &sdk::oauth_token(OAUTH))
            .header("Accept", "application/json")
            .operation(operation)
    }

    fn search(&self, query: &OrderQuery, token: Option<&str>) -> Request {
        let mut r = self
            .get("/orders/2026-01-01/orders", "searchOrders")
            .query("marketplaceIds", &self.marketplaces.join(","))
            .query("includedData", INCLUDED)
            .query(
                "maxResultsPerPage",
                &query.page_size.clamp(1, MAX_PAGE).to_string(),
            );
        // Exactly one of createdAfter and lastUpdatedAfter is required.
        r = match &query.updated_after {
            Some(t) => r.query("lastUpdatedAfter", t),
            None => r.query("createdAfter", "2015-01-01T00:00:00Z"),
        };
        match token {
            Some(t) => r.query("paginationToken", t),
            None => r,
        }
    }

    fn get_order(&self, id: &str, included: &str) -> Request {
        self.get(
            &format!("/orders/2026-01-01/orders/{}", http::encode(id)),
            "getOrder",
        )
        .query("includedData", included)
    }
}

/// A failure status into the error the host acts on, with Amazon's own
/// `errors[].message`; a 429 (`QuotaExceeded`) defers.
fn checked(response: Response) -> Result<Response, PluginError> {
    if (200..300).contains(&response.status) || response.status == 429 {
        return response.error_for_status();
    }
    let message = serde_json::from_slice::<wire::Errors>(&response.body)
        .ok()
        .and_then(|e| e.errors.into_iter().next())
        .map(|e| {
            format!(
                "{}: {}",
                e.code.unwrap_or_default(),
                e.message.unwrap_or_default()
            )
        });
    match (response.status, message) {
        (400, Some(m)) => Err(PluginError::Rejected(format!("HTTP 400 {m}"))),
        (403, Some(m)) => Err(PluginError::Auth(format!(
            "HTTP 403 {m} (does the app's role include Orders and, for addresses, the buyer data roles?)"
        ))),
        _ => response.error_for_status(),
    }
}

use sdk::serde_json;

impl Plugin for Amazon {
    fn manifest() -> Manifest {
        sdk::manifest(
            "amazon",
            env!("CARGO_PKG_VERSION"),
            "Orders from Amazon Seller Central (SP-API Orders 2026-01-01), tracking confirmed back",
        )
        .setting(sdk::required(
            "marketplace_ids",
            "Comma-separated marketplace ids of one region, e.g. A1F83G8C2ARO7P,A1PA6795UKMFR9 (UK, DE)",
        ))
        .setting(sdk::required(
            "lwa_client_id",
            "Login with Amazon client id of the SP-API app (amzn1.application-oa2-client.…)",
        ))
        .setting(sdk::secret("lwa_client_secret", "Login with Amazon client secret"))
        .setting(sdk::secret(
            "refresh_token",
            "The seller's LWA refresh token (Atzr|…): self-authorise the app in Seller Central, or run `tradelane connect`",
        ))
        .setting(sdk::SettingSpec {
            default_value: Some("https://api.amazon.com/auth/o2/token".into()),
            ..sdk::setting("lwa_url", "Login with Amazon token endpoint")
        })
        .setting(sdk::setting(
            "base_url",
            "Override the SP-API endpoint (the region's is chosen from marketplace_ids); e.g. the tradelane sandbox",
        ))
        .allow_host("sellingpartnerapi-na.amazon.com")
        .allow_host("sellingpartnerapi-eu.amazon.com")
        .allow_host("sellingpartnerapi-fe.amazon.com")
        .allow_host("api.amazon.com")
        .rate_limit(RateLimit {
            milli_requests_per_second: 1000,
            burst: 10,
            usage_header: Some(UsageHeader::RatePerSecond("x-amzn-RateLimit-Limit".into())),
        })
        .operation_limit("searchOrders", 5, 20)
        .operation_limit("getOrder", 5, 20)
        .operation_limit("confirmShipment", 2000, 10)
        .oauth(sdk::OAuthClient {
            client_auth: sdk::OAuthClientAuth::Body,
            authorize_url: Some("https://sellercentral.amazon.com/apps/authorize/consent".into()),
            ..sdk::oauth_refresh(
                OAUTH,
                "{{setting:lwa_url}}",
                "lwa_client_id",
                "lwa_client_secret",
                "refresh_token",
            )
        })
    }

    /// One search of the last day, one order at most: proves the token,
    /// the role and the marketplaces.
    fn check(settings: &Settings) -> sdk::Result<()> {
        let account = Account::from(settings)?;
        let since = sdk::time::from_unix(sdk::time::to_unix(&sdk::time::now())? - 86_400)?;
        let query = OrderQuery {
            updated_after: Some(since),
            page_token: None,
            page_size: 1,
        };
        checked(account.search(&query, None).send()?).map(drop)
    }
}

impl Marketplace for Amazon {
    fn fetch_orders(settings: &Settings, query: OrderQuery) -> sdk::Result<OrderPage> {
        let account = Account::from(settings)?;
        let mut response = account.search(&query, query.page_token.as_deref()).send()?;
        if response.status == 400 && query.page_token.is_some() {
            // Page tokens expire after 24 h: start the pass over.
            sdk::log(
                sdk::Level::Warn,
                "Amazon refused the page token (expired after 24 h?); reading this pass from its first page again",
            );
            response = account.search(&query, None).send()?;
        }
        let page: wire::SearchOrders = checked(response)?.json()?;
        let orders = page
            .orders
            .iter()
            .map(mapping::order)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(OrderPage {
            orders,
            next_page: page.pagination.and_then(|p| p.next_token),
        })
    }

    fn fetch_order(settings: &Settings, external_id: String) -> sdk::Result<Option<Order>> {
        let account = Account::from(settings)?;
        let response = account.get_order(&external_id, INCLUDED).send()?;
        if response.status == 404 {
            return Ok(None);
        }
        let found: wire::GetOrder = checked(response)?.json()?;
        mapping::order(&found.order).map(Some)
    }

    fn push_fulfillment(
        settings: &Settings,
        fulfillment: Fulfillment,
    ) -> sdk::Result<FulfillmentReceipt> {
        let account = Account::from(settings)?;
        let id = &fulfillment.order_external_id;
        let current: wire::GetOrder =
            checked(account.get_order(id, "FULFILLMENT,PACKAGES").send()?)?.json()?;
        if let Some(done) =
            current.order.packages.iter().find(|p| {
                p.tracking_number.as_deref() == Some(fulfillment.tracking_number.as_str())
            })
        {
            return Ok(FulfillmentReceipt {
                external_id: done.package_reference_id.clone(),
            });
        }
        let marketplace = current
            .order
            .sales_channel
            .marketplace_id
            .clone()
            .or_else(|| account.marketplaces.first().cloned())
            .ok_or_else(|| sdk::invalid("marketplace_ids", "is empty"))?;
        let items: Vec<(String, u32)> = if fulfillment.lines.is_empty() {
            current
                .order
                .order_items
                .iter()
                .map(|i| (i.order_item_id.clone(), i.quantity_ordered))
                .collect()
        } else {
            fulfillment
                .lines
                .iter()
                .map(|l| (l.line_external_id.clone(), l.quantity))
                .collect()
        };
        let reference = package_reference(&fulfillment.tracking_number);
        let body = confirm_shipment_body(&fulfillment, &marketplace, &reference, &items);
        let response = Request::post(format!(
            "{}/orders/v0/orders/{}/shipmentConfirmation",
            account.base,
            http::encode(id)
        ))
        .header("x-amz-access-token", &sdk::oauth_token(OAUTH))
        .operation("confirmShipment")
        .json(&body)?
        .send()?;
        checked(response)?;
        Ok(FulfillmentReceipt {
            external_id: reference,
        })
    }
}

/// The `confirmShipment` body: the package (our stable reference, the
/// carrier as Amazon codes it or `Other` with its name, the tracking
/// number, the ship date) and the items in it, for `marketplace`.
pub fn confirm_shipment_body(
    fulfillment: &Fulfillment,
    marketplace: &str,
    reference: &str,
    items: &[(String, u32)],
) -> sdk::serde_json::Value {
    let items: Vec<sdk::serde_json::Value> = items
        .iter()
        .map(|(id, quantity)| sdk::serde_json::json!({"orderItemId": id, "quantity": quantity}))
        .collect();
    let mut detail = sdk::serde_json::json!({
        "packageReferenceId": reference,
        "trackingNumber": fulfillment.tracking_number,
        "shipDate": fulfillment.shipped_at,
        "orderItems": items,
    });
    match mapping::carrier_code(&fulfillment.carrier) {
        Some(code) => detail["carrierCode"] = code.into(),
        None => {
            detail["carrierCode"] = "Other".into();
            detail["carrierName"] = fulfillment.carrier.clone().into();
        }
    }
    if let Some(service) = &fulfillment.service {
        detail["shippingMethod"] = service.clone().into();
    }
    sdk::serde_json::json!({
        "marketplaceId": marketplace,
        "packageDetail": detail,
    })
}

/// A stable package reference for a tracking number: 12 decimal digits of
/// its FNV-1a hash.
pub fn package_reference(tracking_number: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in tracking_number.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:012}", hash % 1_000_000_000_000)
}

#[cfg(target_arch = "wasm32")]
sdk::register_marketplace!(Amazon);

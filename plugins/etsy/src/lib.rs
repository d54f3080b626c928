//! # Etsy marketplace plugin (Open API v3)
//!
//! - **Auth**: every request carries `x-api-key: KEYSTRING:SHARED_SECRET`
//!   and the seller's OAuth 2 user token (`Authorization: Bearer`, scopes
//!   `transactions_r transactions_w`). Etsy's app is a public client:
//!   `tradelane connect` gets the first refresh token by authorization
//!   code with PKCE, and the host refreshes the 1-hour access token,
//!   keeping each new refresh token Etsy returns (they rotate).
//! - **Orders**: `getShopReceipts` with `min_last_modified` (unix seconds,
//!   one second before the cursor), `sort_on=updated&sort_order=asc`, and
//!   `limit`/`offset` pages. A receipt changed mid-pass moves to the end,
//!   so each page starts [`sdk::paging::overlap`] receipts before the last one ended.
//! - **Push**: `createReceiptShipment` (form-encoded `tracking_code`,
//!   `carrier_name`), after reading the receipt: a shipment with the same
//!   tracking code is adopted, never submitted twice (each submission
//!   emails the buyer).
//! - **Rate limits**: the host paces to `x-limit-per-second`, one request
//!   at a time; the plugin remembers `x-remaining-today`, and a 429 with
//!   the day's quota spent defers the pass by an hour instead of a second.

pub mod mapping;
pub mod wire;

use tradelane_plugin_sdk::{
    self as sdk, Fulfillment, FulfillmentReceipt, Manifest, ManifestExt, Marketplace, OrderPage,
    OrderQuery, Plugin, PluginError, RateLimit, RateLimited, Request, Response, Settings,
    UsageHeader, http, serde_json,
};

/// The plugin.
pub struct Etsy;

/// The host-managed OAuth client.
const OAUTH: &str = "etsy";
/// Etsy's largest `limit`.
pub const MAX_PAGE: u32 = 100;
/// The cache key remembering that today's quota is spent.
const DAY_SPENT: &str = "etsy:day-spent";

struct Shop {
    base: String,
    id: String,
    registrations: mapping::Registrations,
}

impl Shop {
    fn from(settings: &Settings) -> Result<Self, PluginError> {
        let id = settings.get("shop_id").ok_or_else(|| {
            sdk::invalid(
                "shop_id",
                "is required (the number in your shop's Etsy API calls)",
            )
        })?;
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(sdk::invalid("shop_id", "must be the shop's numeric id"));
        }
        settings.secret("keystring")?;
        settings.secret("shared_secret")?;
        let get = |k: &str| {
            settings
                .get(k)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        Ok(Shop {
            base: settings
                .get("base_url")
                .unwrap_or("https://api.etsy.com")
                .trim_end_matches('/')
                .to_string(),
            id: id.to_string(),
            registrations: mapping::Registrations {
                ioss: get("etsy_ioss"),
                uk_vat: get("etsy_uk_vat"),
                voec: get("etsy_voec"),
                arn: get("etsy_arn"),
                nz_gst: get("etsy_nz_gst"),
            },
        })
    }

    fn request(&self, request: Request) -> Request {
        request
            .header("x-api-key", "{{secret:keystring}}:{{secret:shared_secret}}")
            .oauth_bearer(OAUTH)
            .header("Accept", "application/json")
    }

    fn receipts(&self) -> String {
        format!("{}/v3/application/shops/{}/receipts", self.base, self.id)
    }
}

/// Remember what Etsy says is left of today's quota.
fn note_quota(response: &Response) {
    if let Some(left) = response
        .header("x-remaining-today")
        .and_then(|v| v.trim().parse::<i64>().ok())
    {
        sdk::cache_set(DAY_SPENT, if left <= 0 { "1" } else { "0" }, 86_400);
    }
}

/// A failure into the error the host acts on, with Etsy's own words.
fn checked(response: Response) -> Result<Response, PluginError> {
    note_quota(&response);
    let status = response.status;
    if (200..300).contains(&status) {
        return Ok(response);
    }
    let message = serde_json::from_slice::<wire::Error>(&response.body)
        .map(|e| match e.error_description {
            Some(d) => format!("{}: {d}", e.error),
            None => e.error,
        })
        .unwrap_or_else(|_| {
            String::from_utf8_lossy(&response.body)
                .chars()
                .take(300)
                .collect()
        });
    Err(match status {
        429 => {
            let day_spent = sdk::cache_get(DAY_SPENT).as_deref() == Some("1");
            let retry_after_ms = response
                .header("retry-after")
                .and_then(http::parse_retry_after)
                .or(Some(if day_spent { 3_600_000 } else { 1_000 }));
            PluginError::RateLimited(RateLimited {
                retry_after_ms,
                detail: if day_spent {
                    format!(
                        "HTTP 429 {message}: today's request quota is spent (x-remaining-today: 0)"
                    )
                } else {
                    format!("HTTP 429 {message}: the per-second limit")
                },
            })
        }
        401 => PluginError::Auth(format!(
            "HTTP 401 {message} — the seller's authorisation: run `tradelane connect SELLER/CHANNEL` again if it was revoked"
        )),
        403 => PluginError::Auth(format!(
            "HTTP 403 {message} — check keystring and shared_secret (x-api-key), and that the app has the transactions_r and transactions_w scopes"
        )),
        404 => PluginError::NotFound(format!("HTTP 404 {message}")),
        400 | 409 | 422 => PluginError::Rejected(format!("HTTP {status} {message}")),
        500..=599 => PluginError::Transient(format!("HTTP {status} {message}")),
        _ => PluginError::InvalidResponse(format!("HTTP {status} {message}")),
    })
}

/// Etsy's name for a carrier (its list is lower-case, hyphenated).
pub fn carrier_name(carrier: &str) -> String {
    let c = carrier.trim().to_ascii_lowercase();
    match c.as_str() {
        "usps" | "ups" | "fedex" | "dhl" | "dpd" | "gls" | "evri" => c,
        "royal mail" | "royalmail" => "royal-mail".into(),
        "dhl express" => "dhl-express".into(),
        "deutsche post" => "deutsche-post".into(),
        "canada post" => "canada-post".into(),
        "australia post" => "australia-post".into(),
        "la poste" | "colissimo" => "colissimo".into(),
        other => other.replace(' ', "-"),
    }
}

impl Plugin for Etsy {
    fn manifest() -> Manifest {
        sdk::manifest(
            "etsy",
            env!("CARGO_PKG_VERSION"),
            "Orders (receipts) from an Etsy shop (Open API v3), tracking pushed back with createReceiptShipment",
        )
        .setting(sdk::required("shop_id", "The shop's numeric id"))
        .setting(sdk::secret("keystring", "The app's keystring (its API key and OAuth client id)"))
        .setting(sdk::secret("shared_secret", "The app's shared secret (sent with the keystring as x-api-key)"))
        .setting(sdk::secret(
            "refresh_token",
            "The seller's refresh token: run `tradelane connect SELLER/CHANNEL`",
        ))
        .setting(sdk::setting(
            "redirect_uri",
            "A callback URL registered with the app, for `tradelane connect`",
        ))
        .setting(sdk::SettingSpec {
            default_value: Some("https://www.etsy.com/oauth/connect".into()),
            ..sdk::setting("auth_url", "The consent page `tradelane connect` sends the seller to")
        })
        .setting(sdk::SettingSpec {
            default_value: Some("https://api.etsy.com".into()),
            ..sdk::setting("base_url", "API origin (the tradelane sandbox in the demo)")
        })
        .setting(sdk::setting("etsy_ioss", "Etsy's IOSS number, declared for EU parcels whose VAT Etsy collected (Etsy shows it with the order)"))
        .setting(sdk::setting("etsy_uk_vat", "Etsy's UK VAT number, for GB parcels whose VAT Etsy collected"))
        .setting(sdk::setting("etsy_voec", "Etsy's VOEC number, for Norway"))
        .setting(sdk::SettingSpec {
            // Etsy Help, "Custom Duties and Import VAT" (Australia).
            default_value: Some("300009207152".into()),
            ..sdk::setting("etsy_arn", "Etsy's Australian Reference Number, for AU parcels whose GST Etsy collected")
        })
        .setting(sdk::setting("etsy_nz_gst", "Etsy's New Zealand GST number"))
        .allow_host("api.etsy.com")
        .allow_host("openapi.etsy.com")
        // Etsy's default is 10 a second; `x-limit-per-second` says what
        // this app is allowed, and the host paces to it, one at a time
        // (Etsy counts any second, so no burst).
        .rate_limit(RateLimit {
            milli_requests_per_second: 10_000,
            burst: 1,
            usage_header: Some(UsageHeader::RatePerSecond("x-limit-per-second".into())),
        })
        .oauth(sdk::OAuthClient {
            scopes: vec!["transactions_r".into(), "transactions_w".into()],
            redirect_uri_setting: Some("redirect_uri".into()),
            ..sdk::oauth_public(
                OAUTH,
                "{{setting:base_url}}/v3/public/oauth/token",
                "keystring",
                "refresh_token",
                "{{setting:auth_url}}",
            )
        })
    }

    /// The shop, the cheapest authenticated read.
    fn check(settings: &Settings) -> sdk::Result<()> {
        let shop = Shop::from(settings)?;
        let url = format!("{}/v3/application/shops/{}", shop.base, shop.id);
        checked(shop.request(Request::get(url)).send()?).map(drop)
    }
}

impl Marketplace for Etsy {
    fn fetch_orders(settings: &Settings, query: OrderQuery) -> sdk::Result<OrderPage> {
        let shop = Shop::from(settings)?;
        let limit = query.page_size.clamp(1, MAX_PAGE);
        let page_at = sdk::paging::OffsetPage::start(query.page_token.as_deref(), limit)?;
        let offset = page_at.offset;
        let mut request = Request::get(shop.receipts())
            .query("sort_on", "updated")
            .query("sort_order", "asc")
            .query("limit", &limit.to_string())
            .query("offset", &offset.to_string());
        if let Some(after) = &query.updated_after {
            let since = sdk::time::to_unix(after)? - 1;
            request = request.query("min_last_modified", &since.to_string());
        }
        let page: wire::ShopReceipts = checked(shop.request(request).send()?)?.json()?;
        let orders = page
            .results
            .iter()
            .map(|r| mapping::order(r, &shop.registrations))
            .collect::<Result<Vec<_>, _>>()?;
        let next_page = page_at.next(orders.len(), |read_to| read_to < page.count);
        Ok(OrderPage { orders, next_page })
    }

    fn fetch_order(settings: &Settings, external_id: String) -> sdk::Result<Option<sdk::Order>> {
        let shop = Shop::from(settings)?;
        let url = format!("{}/{}", shop.receipts(), http::encode(&external_id));
        let response = shop.request(Request::get(url)).send()?;
        if response.status == 404 {
            return Ok(None);
        }
        let receipt: wire::Receipt = checked(response)?.json()?;
        mapping::order(&receipt, &shop.registrations).map(Some)
    }

    fn push_fulfillment(
        settings: &Settings,
        fulfillment: Fulfillment,
    ) -> sdk::Result<FulfillmentReceipt> {
        let shop = Shop::from(settings)?;
        let url = format!(
            "{}/{}",
            shop.receipts(),
            http::encode(&fulfillment.order_external_id)
        );
        let receipt: wire::Receipt = checked(shop.request(Request::get(&url)).send()?)?.json()?;
        let ours = |r: &wire::Receipt| {
            r.shipments
                .iter()
                .find(|s| s.tracking_code.as_deref() == Some(fulfillment.tracking_number.as_str()))
                .map(|s| FulfillmentReceipt {
                    external_id: s
                        .receipt_shipping_id
                        .map_or_else(|| fulfillment.tracking_number.clone(), |id| id.to_string()),
                })
        };
        if let Some(done) = ours(&receipt) {
            return Ok(done);
        }
        let form = format!(
            "tracking_code={}&carrier_name={}&send_bcc=false",
            http::encode(&fulfillment.tracking_number),
            http::encode(&carrier_name(&fulfillment.carrier))
        );
        let updated: wire::Receipt = checked(
            shop.request(Request::post(format!("{url}/tracking")))
                .body(form.into_bytes(), "application/x-www-form-urlencoded")
                .send()?,
        )?
        .json()?;
        ours(&updated).ok_or_else(|| {
            sdk::invalid_response(format!(
                "receipt {}: Etsy accepted the tracking but its receipt does not list it",
                fulfillment.order_external_id
            ))
        })
    }
}

#[cfg(target_arch = "wasm32")]
sdk::register_marketplace!(Etsy);

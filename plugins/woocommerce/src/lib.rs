//! # WooCommerce marketplace plugin (REST API v3, `/wp-json/wc/v3`)
//!
//! - **Auth**: the store's REST API key, consumer key and secret, as HTTP
//!   Basic. `auth = "query"` sends them as `consumer_key`/`consumer_secret`
//!   query parameters instead, for servers that drop the `Authorization`
//!   header (WooCommerce documents this for HTTPS only); the host fills
//!   secrets into a query only for channels that allow it
//!   (`secrets_in_query = true`) and only over HTTPS.
//! - **Orders**: `GET /orders?modified_after&dates_are_gmt=true&orderby=modified&order=asc&per_page&offset`.
//!   - `modified_after` is exclusive and many orders share a modified
//!     second, so the bound sent is one second before the cursor (orders
//!     read twice are stored once).
//!   - `dates_are_gmt=true`: without it the store reads the bound in its
//!     own timezone.
//!   - Times are sent as `…Z`, and the next page's URL is built here, never
//!     taken from `Link` (whose URLs repeat `+00:00` unencoded, a space to
//!     the server).
//!   - Pages are offsets over orders sorted by modification; an order
//!     changed mid-pass moves to the end and shifts the rest back by one,
//!     so each page starts [`sdk::paging::overlap`] orders before the previous one
//!     ended.
//!   - Money is read from the `…_gmt` times and decimal strings; see
//!     [`mapping`].
//! - **Push**: with the Shipment Tracking extension (found by the one call
//!   that also lists the order's tracking items: 404 `rest_no_route`
//!   without it) a tracking item; otherwise an order note with carrier,
//!   number and URL. Either way the order is then set `completed`. Neither
//!   the extension nor notes de-duplicate, so the earlier push is looked
//!   for first, and nothing is written twice. The status change moves
//!   `date_modified`; the next sync reads the order back as fulfilled.
//! - **Errors**: WordPress answers failures as `{"code", "message"}`; a
//!   fatal PHP error is an HTML page, reported by its first line of text.

pub mod mapping;
pub mod wire;

use tradelane_plugin_sdk::{
    self as sdk, Fulfillment, FulfillmentReceipt, Manifest, ManifestExt, Marketplace, OrderPage,
    OrderQuery, Plugin, PluginError, RateLimit, Request, Response, Settings, http,
};

/// The plugin.
pub struct WooCommerce;

/// WooCommerce's largest `per_page`.
pub const MAX_PAGE: u32 = 100;

/// Shipment Tracking providers whose names the extension knows, as
/// tradelane's carriers name them.
const PROVIDERS: &[(&str, &str)] = &[
    ("usps", "USPS"),
    ("ups", "UPS"),
    ("fedex", "Fedex"),
    ("dhl", "DHL"),
    ("dhl express", "DHL"),
    ("royal mail", "Royal Mail"),
    ("royalmail", "Royal Mail"),
    ("canada post", "Canada Post"),
    ("australia post", "Australia Post"),
    ("deutsche post", "Deutsche Post DHL"),
    ("postnl", "PostNL"),
    ("dpd", "DPD"),
];

struct Store {
    base: String,
    query_auth: bool,
    basic: String,
    tracking: Tracking,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tracking {
    Auto,
    Extension,
    Note,
}

impl Store {
    fn from(settings: &Settings) -> Result<Self, PluginError> {
        let url = settings
            .get("store_url")
            .ok_or_else(|| {
                sdk::invalid("store_url", "is required (e.g. https://shop.example.com)")
            })?
            .trim_end_matches('/')
            .to_string();
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(sdk::invalid("store_url", "must start with https://"));
        }
        let query_auth = match settings.get("auth").unwrap_or("basic") {
            "basic" => false,
            "query" => true,
            other => {
                return Err(sdk::invalid(
                    "auth",
                    &format!("`{other}` is neither `basic` nor `query`"),
                ));
            }
        };
        let tracking = match settings.get("tracking").unwrap_or("auto") {
            "auto" => Tracking::Auto,
            "extension" => Tracking::Extension,
            "note" => Tracking::Note,
            other => {
                return Err(sdk::invalid(
                    "tracking",
                    &format!("`{other}` is not `auto`, `extension` or `note`"),
                ));
            }
        };
        Ok(Store {
            basic: settings.basic_auth("consumer_key", Some("consumer_secret"))?,
            base: url,
            query_auth,
            tracking,
        })
    }

    /// A request to `path` under `/wp-json/`, authenticated.
    fn request(&self, method: http::Method, path: &str) -> Request {
        let request = Request::new(method, format!("{}/wp-json/{path}", self.base))
            .header("Accept", "application/json");
        if self.query_auth {
            request
                .query("consumer_key", "{{secret:consumer_key}}")
                .query("consumer_secret", "{{secret:consumer_secret}}")
        } else {
            request.header("Authorization", &self.basic)
        }
    }

    fn get(&self, path: &str) -> Request {
        self.request(http::Method::Get, path)
    }
}

/// The first line of text of an HTML error page's body (WordPress's
/// "There has been a critical error on this website."), so a fatal error
/// reads as itself; the `<title>` when the body has no text.
pub fn first_line(page: &str) -> String {
    let lower = page.to_ascii_lowercase();
    let body = lower.find("<body").map_or(page, |i| &page[i..]);
    text_of(body).or_else(|| text_of(page)).unwrap_or_default()
}

/// The first non-empty run of text outside tags, scripts and styles.
fn text_of(html: &str) -> Option<String> {
    let mut rest = html;
    while !rest.is_empty() {
        let (text, after) = match rest.find('<') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if !line.is_empty() {
            return Some(
                line.replace("&rsaquo;", "›")
                    .replace("&amp;", "&")
                    .chars()
                    .take(200)
                    .collect(),
            );
        }
        if after.is_empty() {
            break;
        }
        let lower = after.to_ascii_lowercase();
        let skip_to = if lower.starts_with("<script") {
            lower.find("</script>").map(|i| i + 9)
        } else if lower.starts_with("<style") {
            lower.find("</style>").map(|i| i + 8)
        } else {
            after.find('>').map(|i| i + 1)
        };
        rest = &after[skip_to.unwrap_or(after.len())..];
    }
    None
}

/// A failure into the error the host acts on, with WordPress's own code
/// and message, or an HTML page's first line.
fn checked(response: Response) -> Result<Response, PluginError> {
    let status = response.status;
    let html = response
        .header("content-type")
        .is_some_and(|t| t.contains("html"))
        || response.body.first() == Some(&b'<');
    if (200..300).contains(&status) {
        if html {
            return Err(sdk::invalid_response(format!(
                "the store answered HTML, not JSON: {}",
                first_line(&response.text())
            )));
        }
        return Ok(response);
    }
    if status == 429 {
        return response.error_for_status();
    }
    let message = if html {
        format!("HTML error page: {}", first_line(&response.text()))
    } else {
        match serde_json::from_slice::<wire::Error>(&response.body) {
            Ok(e) => format!("{}: {}", e.code, e.message),
            Err(_) => String::from_utf8_lossy(&response.body)
                .chars()
                .take(300)
                .collect(),
        }
    };
    Err(match status {
        401 | 403 => PluginError::Auth(format!(
            "HTTP {status} {message} — check consumer_key and consumer_secret, and that the key has Read/Write permission (WooCommerce → Settings → Advanced → REST API)"
        )),
        404 => PluginError::NotFound(format!("HTTP 404 {message}")),
        400 | 409 | 422 => PluginError::Rejected(format!("HTTP {status} {message}")),
        500..=599 => PluginError::Transient(format!("HTTP {status} {message}")),
        _ => PluginError::InvalidResponse(format!("HTTP {status} {message}")),
    })
}

use tradelane_plugin_sdk::serde_json;

impl Plugin for WooCommerce {
    fn manifest() -> Manifest {
        sdk::manifest(
            "woocommerce",
            env!("CARGO_PKG_VERSION"),
            "Orders from a WooCommerce store (REST API v3), tracking pushed back through Shipment Tracking or an order note",
        )
        .setting(sdk::required(
            "store_url",
            "The store's address, e.g. https://shop.example.com (its REST API is under /wp-json/wc/v3)",
        ))
        .setting(sdk::secret(
            "consumer_key",
            "REST API consumer key (ck_…), Read/Write: WooCommerce → Settings → Advanced → REST API",
        ))
        .setting(sdk::secret("consumer_secret", "REST API consumer secret (cs_…)"))
        .setting(sdk::SettingSpec {
            default_value: Some("basic".into()),
            ..sdk::setting(
                "auth",
                "`basic` (HTTP Basic), or `query` for servers that drop the Authorization header (HTTPS only, and the channel must set secrets_in_query = true)",
            )
        })
        .setting(sdk::SettingSpec {
            default_value: Some("auto".into()),
            ..sdk::setting(
                "tracking",
                "How tracking is pushed: `auto` (Shipment Tracking extension when installed, else an order note), `extension` or `note`",
            )
        })
        .allow_host("{{setting:store_url}}")
        // Nothing documented; a shared WordPress host is easily overrun.
        .rate_limit(RateLimit {
            milli_requests_per_second: 4000,
            burst: 8,
            usage_header: None,
        })
    }

    /// One order, the cheapest authenticated read.
    fn check(settings: &Settings) -> sdk::Result<()> {
        let store = Store::from(settings)?;
        checked(store.get("wc/v3/orders").query("per_page", "1").send()?).map(drop)
    }
}

impl Marketplace for WooCommerce {
    fn fetch_orders(settings: &Settings, query: OrderQuery) -> sdk::Result<OrderPage> {
        let store = Store::from(settings)?;
        let limit = query.page_size.clamp(1, MAX_PAGE);
        let page_at = sdk::paging::OffsetPage::start(query.page_token.as_deref(), limit)?;
        let offset = page_at.offset;
        let mut request = store
            .get("wc/v3/orders")
            .query("dates_are_gmt", "true")
            .query("orderby", "modified")
            .query("order", "asc")
            .query("per_page", &limit.to_string())
            .query("offset", &offset.to_string());
        if let Some(after) = &query.updated_after {
            // Exclusive on the server: ask from one second earlier.
            let bound = sdk::time::from_unix(sdk::time::to_unix(after)? - 1)?;
            request = request.query("modified_after", &bound);
        }
        let response = checked(request.send()?)?;
        let total: Option<u64> = response
            .header("x-wp-total")
            .and_then(|t| t.trim().parse().ok());
        let page: Vec<wire::Order> = response.json()?;
        if let Some(o) = page.first() {
            let printed = mapping::printed_decimals(&o.total);
            if let Ok(exponent) = sdk::money::decimals(&o.currency)
                && printed < exponent
            {
                sdk::warn!(
                    "the store prints {} amounts with {printed} decimals but the currency has {exponent}: amounts are rounded by the store ({})",
                    o.currency,
                    mapping::DECIMALS_SETTING
                );
            }
        }
        let orders = page
            .iter()
            .map(mapping::order)
            .collect::<Result<Vec<_>, _>>()?;
        let next_page = page_at.next(orders.len(), |read_to| match total {
            Some(total) => read_to < total,
            None => page.len() as u32 >= limit,
        });
        Ok(OrderPage { orders, next_page })
    }

    fn fetch_order(settings: &Settings, external_id: String) -> sdk::Result<Option<sdk::Order>> {
        let store = Store::from(settings)?;
        let response = store
            .get(&format!("wc/v3/orders/{}", http::encode(&external_id)))
            .send()?;
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
        let store = Store::from(settings)?;
        let id = http::encode(&fulfillment.order_external_id);
        let order: wire::Order =
            checked(store.get(&format!("wc/v3/orders/{id}")).send()?)?.json()?;
        let receipt = match store.tracking {
            Tracking::Note => note(&store, &id, &fulfillment)?,
            mode => match tracking_items(&store, &id)? {
                Some(items) => tracked(&store, &id, &fulfillment, &items)?,
                None if mode == Tracking::Extension => {
                    return Err(sdk::invalid(
                        "tracking",
                        "is `extension`, but the store has no Shipment Tracking extension (its API answered rest_no_route)",
                    ));
                }
                None => note(&store, &id, &fulfillment)?,
            },
        };
        if matches!(order.status.as_str(), "processing" | "on-hold" | "pending") {
            checked(
                store
                    .request(http::Method::Put, &format!("wc/v3/orders/{id}"))
                    .json(&serde_json::json!({"status": "completed"}))?
                    .send()?,
            )?;
        }
        Ok(receipt)
    }
}

/// The order's tracking items, or `None` when the extension is not installed.
fn tracking_items(store: &Store, id: &str) -> sdk::Result<Option<Vec<wire::TrackingItem>>> {
    let response = store
        .get(&format!(
            "wc-shipment-tracking/v3/orders/{id}/shipment-trackings"
        ))
        .send()?;
    if response.status == 404
        && serde_json::from_slice::<wire::Error>(&response.body)
            .is_ok_and(|e| e.code == "rest_no_route")
    {
        return Ok(None);
    }
    checked(response)?.json().map(Some)
}

/// Push through the extension, unless an item has this number already.
fn tracked(
    store: &Store,
    id: &str,
    f: &Fulfillment,
    items: &[wire::TrackingItem],
) -> sdk::Result<FulfillmentReceipt> {
    if let Some(done) = items
        .iter()
        .find(|i| i.tracking_number == f.tracking_number)
    {
        return Ok(FulfillmentReceipt {
            external_id: done.tracking_id.clone(),
        });
    }
    let carrier = f.carrier.trim().to_ascii_lowercase();
    let shipped = f.shipped_at.get(..10).unwrap_or("").to_string();
    let body = match PROVIDERS.iter().find(|(name, _)| *name == carrier) {
        Some((_, provider)) => serde_json::json!({
            "tracking_provider": provider,
            "tracking_number": f.tracking_number,
            "date_shipped": shipped,
        }),
        None => serde_json::json!({
            "custom_tracking_provider": f.carrier,
            // The extension's template: `%1$s` is the tracking number.
            "custom_tracking_link": f
                .tracking_url
                .as_deref()
                .map(|u| u.replace(&f.tracking_number, "%1$s"))
                .unwrap_or_default(),
            "tracking_number": f.tracking_number,
            "date_shipped": shipped,
        }),
    };
    let created: wire::TrackingItem = checked(
        store
            .request(
                http::Method::Post,
                &format!("wc-shipment-tracking/v3/orders/{id}/shipment-trackings"),
            )
            .json(&body)?
            .send()?,
    )?
    .json()?;
    Ok(FulfillmentReceipt {
        external_id: created.tracking_id,
    })
}

/// The note tradelane writes: carrier, number and URL.
pub fn note_text(f: &Fulfillment) -> String {
    let mut text = format!(
        "Shipped with {}: tracking number {}",
        f.carrier, f.tracking_number
    );
    if let Some(url) = &f.tracking_url {
        text.push_str(&format!(" — {url}"));
    }
    text
}

/// Push as an order note, unless a note names this number already.
fn note(store: &Store, id: &str, f: &Fulfillment) -> sdk::Result<FulfillmentReceipt> {
    let notes: Vec<wire::Note> = checked(
        store
            .get(&format!("wc/v3/orders/{id}/notes"))
            .query("type", "any")
            .send()?,
    )?
    .json()?;
    if let Some(done) = notes.iter().find(|n| n.note.contains(&f.tracking_number)) {
        return Ok(FulfillmentReceipt {
            external_id: format!("note-{}", done.id),
        });
    }
    let created: wire::Note = checked(
        store
            .request(http::Method::Post, &format!("wc/v3/orders/{id}/notes"))
            .json(&serde_json::json!({"note": note_text(f), "customer_note": f.notify_buyer}))?
            .send()?,
    )?
    .json()?;
    Ok(FulfillmentReceipt {
        external_id: format!("note-{}", created.id),
    })
}

#[cfg(target_arch = "wasm32")]
sdk::register_marketplace!(WooCommerce);

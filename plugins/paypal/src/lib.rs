//! # PayPal payment plugin
//!
//! PayPal has no payout object: money leaves the PayPal balance for the
//! bank as a **withdrawal** (event code `T0400`). tradelane treats each
//! withdrawal as a payout, and the transactions between the previous
//! withdrawal and it as that payout's lines.
//!
//! - Auth: OAuth2 client credentials at `POST /v1/oauth2/token` (Basic with
//!   the `client_id` and `client_secret` secrets), managed by the host
//!   (contract 0.2): requests carry `{{oauth:paypal}}`, the host fetches,
//!   caches and refreshes the token, and the plugin never sees it.
//! - Transaction Search: `GET /v1/reporting/transactions` with
//!   `start_date`/`end_date` windows of at most 31 days (PayPal's limit),
//!   `page`/`page_size` pagination; `transaction_type=T0400` finds withdrawals.
//! - One balance per currency: a withdrawal's lines are the transactions
//!   of its currency since the previous withdrawal of that currency.
//! - Event codes map to line kinds (T00xx payments → charge, T1107 → refund,
//!   T1106/T1201 → dispute…); `invoice_id` (default) or `custom_field`
//!   carries the order reference.

pub mod mapping;
pub mod wire;

use mapping::ReferenceField;
use tradelane_plugin_sdk::{
    self as sdk, Manifest, ManifestExt, PageQuery, Payment, Payout, PayoutLinePage, PayoutPage,
    Plugin, PluginError, RateLimit, Request, Response, Settings,
};

/// PayPal's longest search window, in seconds (31 days).
pub const WINDOW: i64 = 31 * 86_400;
/// Rows per page asked of PayPal (it allows up to 500).
pub const PAGE: u32 = 200;
/// How far back the previous withdrawal is looked for.
pub const LOOKBACK: i64 = 3 * WINDOW;

/// The plugin.
pub struct PayPal;

struct Account {
    base: String,
    reference: ReferenceField,
}

/// The host-managed OAuth client's name.
const OAUTH: &str = "paypal";

fn checked(response: Response) -> Result<Response, PluginError> {
    match response.status {
        400 | 422 => Err(PluginError::Rejected(mapping::error_message(
            response.status,
            &response.body,
        ))),
        _ => response.error_for_status(),
    }
}

impl Account {
    fn from(settings: &Settings) -> Result<Self, PluginError> {
        let base = settings
            .get("base_url")
            .unwrap_or("https://api-m.paypal.com")
            .trim_end_matches('/')
            .to_string();
        let field = settings.get("order_reference").unwrap_or("invoice_id");
        let reference = ReferenceField::parse(field).ok_or_else(|| {
            sdk::invalid(
                "order_reference",
                &format!("`{field}` is neither `invoice_id` nor `custom_field`"),
            )
        })?;
        Ok(Account { base, reference })
    }

    fn search(&self, from: i64, to: i64, page: u32) -> Result<Request, PluginError> {
        Ok(
            Request::get(format!("{}/v1/reporting/transactions", self.base))
                .oauth_bearer(OAUTH)
                .query("start_date", &sdk::time::from_unix(from)?)
                .query("end_date", &sdk::time::from_unix(to)?)
                .query("fields", "transaction_info")
                .query("page_size", &PAGE.to_string())
                .query("page", &page.to_string()),
        )
    }

    fn page(&self, request: Request) -> Result<wire::Search, PluginError> {
        checked(request.send()?)?.json()
    }
}

/// `from|to|page` of a search in progress.
fn token(from: i64, to: i64, page: u32) -> String {
    format!("{from}|{to}|{page}")
}

fn parse_token(t: &str) -> Option<(i64, i64, u32)> {
    let mut parts = t.split('|');
    Some((
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
    ))
}

/// The next page of a windowed search, or the next window up to `end`.
fn next(from: i64, to: i64, page: u32, search: &wire::Search, end: i64) -> Option<String> {
    if search.total_pages.is_some_and(|total| page < total) {
        return Some(token(from, to, page + 1));
    }
    (to < end).then(|| token(to, (to + WINDOW).min(end), 1))
}

impl Plugin for PayPal {
    fn manifest() -> Manifest {
        sdk::manifest(
            "paypal",
            env!("CARGO_PKG_VERSION"),
            "Withdrawals and the transactions they settle, from PayPal's Transaction Search",
        )
        .setting(sdk::secret("client_id", "REST app client id"))
        .setting(sdk::secret(
            "client_secret",
            "REST app secret (the app needs the Transaction Search permission)",
        ))
        .setting(sdk::setting(
            "order_reference",
            "Where payments carry the order reference: `invoice_id` (default) or `custom_field`",
        ))
        .setting(sdk::SettingSpec {
            default_value: Some("https://api-m.paypal.com".into()),
            ..sdk::setting(
                "base_url",
                "Override the API origin: https://api-m.sandbox.paypal.com, the tradelane sandbox",
            )
        })
        .oauth(sdk::oauth_client_credentials(
            OAUTH,
            "{{setting:base_url}}/v1/oauth2/token",
            "client_id",
            "client_secret",
        ))
        .allow_host("api-m.paypal.com")
        .allow_host("api-m.sandbox.paypal.com")
        .allow_host("api.paypal.com")
        .rate_limit(RateLimit {
            milli_requests_per_second: 5000,
            burst: 10,
            usage_header: None,
        })
    }

    /// One search over the last hour: proves the token (the host gets it)
    /// and the Transaction Search permission.
    fn check(settings: &Settings) -> sdk::Result<()> {
        let account = Account::from(settings)?;
        let now = sdk::time::to_unix(&sdk::time::now())?;
        account.page(account.search(now - 3600, now, 1)?).map(drop)
    }
}

impl Payment for PayPal {
    fn fetch_payouts(settings: &Settings, query: PageQuery) -> sdk::Result<PayoutPage> {
        let account = Account::from(settings)?;
        let now = sdk::time::to_unix(&sdk::time::now())?;
        let (from, to, page) = match query.page_token.as_deref().and_then(parse_token) {
            Some(t) => t,
            None => {
                let from = match &query.created_after {
                    Some(t) => sdk::time::to_unix(t)?,
                    None => now - LOOKBACK,
                };
                (from, (from + WINDOW).min(now), 1)
            }
        };
        let search = account.page(
            account
                .search(from, to, page)?
                .query("transaction_type", mapping::WITHDRAWAL),
        )?;
        let payouts = search
            .transaction_details
            .iter()
            .filter(|d| d.transaction_info.transaction_event_code == mapping::WITHDRAWAL)
            .map(|d| mapping::payout(&d.transaction_info))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PayoutPage {
            payouts,
            next_page: next(from, to, page, &search, now),
        })
    }

    fn fetch_payout_lines(
        settings: &Settings,
        payout: Payout,
        page_token: Option<String>,
    ) -> sdk::Result<PayoutLinePage> {
        let account = Account::from(settings)?;
        let end = sdk::time::to_unix(&payout.created_at)?;
        // PayPal keeps one balance per currency, each withdrawn on its
        // own: a withdrawal's lines are the rows of its currency since the
        // previous withdrawal of that currency.
        let currency = payout.amount.currency.clone();
        let same_currency = |i: &wire::Info| {
            i.transaction_amount
                .currency_code
                .eq_ignore_ascii_case(&currency)
        };
        let (from, to, page) = match page_token.as_deref().and_then(parse_token) {
            Some(t) => t,
            None => {
                // The previous withdrawal bounds this one's transactions.
                let mut start = end - LOOKBACK;
                let mut window_end = end;
                while window_end > end - LOOKBACK {
                    let window_start = (window_end - WINDOW).max(end - LOOKBACK);
                    let search = account.page(
                        account
                            .search(window_start, window_end, 1)?
                            .query("transaction_type", mapping::WITHDRAWAL),
                    )?;
                    let previous = search
                        .transaction_details
                        .iter()
                        .map(|d| &d.transaction_info)
                        .filter(|i| i.transaction_id != payout.external_id)
                        .filter(|i| same_currency(i))
                        .filter_map(|i| {
                            mapping::time(&i.transaction_initiation_date)
                                .and_then(|t| sdk::time::to_unix(&t))
                                .ok()
                        })
                        .filter(|t| *t < end)
                        .max();
                    if let Some(t) = previous {
                        start = t;
                        break;
                    }
                    window_end = window_start;
                }
                (start, (start + WINDOW).min(end), 1)
            }
        };
        let search = account.page(account.search(from, to, page)?)?;
        let lines = search
            .transaction_details
            .iter()
            .map(|d| &d.transaction_info)
            .filter(|i| i.transaction_event_code != mapping::WITHDRAWAL)
            .filter(|i| same_currency(i))
            .filter(|i| {
                // (previous withdrawal, this one]: each row belongs to one payout.
                mapping::time(&i.transaction_initiation_date)
                    .and_then(|t| sdk::time::to_unix(&t))
                    .is_ok_and(|t| t > from && t <= end)
            })
            .map(|i| mapping::line(i, account.reference))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PayoutLinePage {
            lines,
            next_page: next(from, to, page, &search, end),
        })
    }
}

#[cfg(target_arch = "wasm32")]
sdk::register_payment!(PayPal);

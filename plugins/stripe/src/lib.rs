//! # Stripe payment plugin
//!
//! Reads the payouts of a Stripe account and the balance transactions each
//! one settles.
//!
//! - Payouts: `GET /v1/payouts?limit=100&created[gte]=<unix>`, newest first,
//!   next pages by `starting_after=<last id>` while `has_more`.
//! - Lines: `GET /v1/balance_transactions?payout=<id>&limit=100&expand[]=data.source&expand[]=data.source.charge`:
//!   charges, refunds, disputes, fees and adjustments with `fee`, `net` and
//!   `exchange_rate` (kept as the exact text Stripe sent). The payout's own
//!   balance transaction is left out: the lines sum to the payout.
//! - The order reference is read from the charge (a refund's or dispute's
//!   charge) as set by `order_reference`: `metadata.<key>` (default
//!   `metadata.order_id`) or `description`.
//! - Auth: `Authorization: Bearer <secret key>` from the `secret_key` secret.

pub mod mapping;
pub mod wire;

use mapping::ReferenceField;
use tradelane_plugin_sdk::{
    self as sdk, Manifest, ManifestExt, PageQuery, Payment, Payout, PayoutLinePage, PayoutPage,
    Plugin, PluginError, RateLimit, Request, Response, Settings,
};

/// Stripe's largest page.
pub const MAX_PAGE: u32 = 100;

/// The plugin.
pub struct Stripe;

struct Account {
    base: String,
    key: String,
    reference: ReferenceField,
}

impl Account {
    fn from(settings: &Settings) -> Result<Self, PluginError> {
        let field = settings
            .get("order_reference")
            .unwrap_or("metadata.order_id");
        Ok(Account {
            base: format!(
                "{}/v1",
                settings
                    .get("base_url")
                    .unwrap_or("https://api.stripe.com")
                    .trim_end_matches('/')
            ),
            key: settings.secret("secret_key")?,
            reference: ReferenceField::parse(field).ok_or_else(|| {
                sdk::invalid(
                    "order_reference",
                    &format!("`{field}` is neither `metadata.<key>` nor `description`"),
                )
            })?,
        })
    }

    fn get(&self, path: &str) -> Request {
        Request::get(format!("{}/{path}", self.base)).bearer(&self.key)
    }
}

fn checked(response: Response) -> Result<Response, PluginError> {
    match response.status {
        400 | 402 | 404 | 409 => Err(PluginError::Rejected(mapping::error_message(
            response.status,
            &response.body,
        ))),
        _ => response.error_for_status(),
    }
}

impl Plugin for Stripe {
    fn manifest() -> Manifest {
        sdk::manifest(
            "stripe",
            env!("CARGO_PKG_VERSION"),
            "Payouts and their balance transactions (charges, refunds, disputes, fees, FX) from Stripe",
        )
        .setting(sdk::secret(
            "secret_key",
            "A restricted key with read access to Balance and Payouts (rk_live_…), or a secret key",
        ))
        .setting(sdk::setting(
            "order_reference",
            "Where charges carry the order reference: `metadata.<key>` (default `metadata.order_id`) or `description`",
        ))
        .setting(sdk::setting(
            "base_url",
            "Override the API origin (the sandbox, a proxy); default https://api.stripe.com",
        ))
        .allow_host("api.stripe.com")
        .rate_limit(RateLimit {
            // 25 req/s in test mode, 100 live; stay under the lower.
            milli_requests_per_second: 20_000,
            burst: 20,
            usage_header: None,
        })
    }

    fn check(settings: &Settings) -> sdk::Result<()> {
        checked(Account::from(settings)?.get("balance").send()?)?;
        Ok(())
    }
}

impl Payment for Stripe {
    fn fetch_payouts(settings: &Settings, query: PageQuery) -> sdk::Result<PayoutPage> {
        let account = Account::from(settings)?;
        let limit = query.page_size.clamp(1, MAX_PAGE).to_string();
        let mut request = account.get("payouts").query("limit", &limit);
        if let Some(after) = &query.created_after {
            request = request.query("created[gte]", &sdk::time::to_unix(after)?.to_string());
        }
        if let Some(cursor) = &query.page_token {
            request = request.query("starting_after", cursor);
        }
        let list: wire::List<wire::Payout> = checked(request.send()?)?.json()?;
        let payouts = list
            .data
            .iter()
            .map(mapping::payout)
            .collect::<Result<Vec<_>, _>>()?;
        let next_page = match list.data.last() {
            Some(last) if list.has_more => Some(last.id.clone()),
            _ => None,
        };
        Ok(PayoutPage { payouts, next_page })
    }

    fn fetch_payout_lines(
        settings: &Settings,
        payout: Payout,
        page_token: Option<String>,
    ) -> sdk::Result<PayoutLinePage> {
        let account = Account::from(settings)?;
        let payout_id = payout.external_id;
        let mut request = account
            .get("balance_transactions")
            .query("payout", &payout_id)
            .query("limit", &MAX_PAGE.to_string())
            .query("expand[]", "data.source")
            .query("expand[]", "data.source.charge");
        if let Some(cursor) = &page_token {
            request = request.query("starting_after", cursor);
        }
        let list: wire::List<wire::BalanceTransaction> = checked(request.send()?)?.json()?;
        let lines = list
            .data
            .iter()
            .filter(|bt| !mapping::is_payout_itself(bt))
            .map(|bt| mapping::line(bt, &account.reference))
            .collect::<Result<Vec<_>, _>>()?;
        let next_page = match list.data.last() {
            Some(last) if list.has_more => Some(last.id.clone()),
            _ => None,
        };
        Ok(PayoutLinePage { lines, next_page })
    }
}

#[cfg(target_arch = "wasm32")]
sdk::register_payment!(Stripe);

//! # tradelane plugin SDK
//!
//! Write a tradelane connector — a marketplace, a payment provider or a
//! carrier — in plain Rust, and build it into a sandboxed WebAssembly
//! component the daemon loads.
//!
//! A plugin *translates*: it builds HTTP requests for the remote API and maps
//! the responses into the tradelane model. The host does everything with an
//! effect: it sends the requests (allowlist, retries, rate limits), keeps the
//! cursor, stores the results and schedules the work. A plugin keeps no state
//! between calls.
//!
//! ```text
//! use tradelane_plugin_sdk::{self as sdk, Marketplace, Plugin, Settings};
//!
//! struct MyShop;
//!
//! impl Plugin for MyShop {
//!     fn manifest() -> sdk::Manifest {
//!         sdk::manifest("myshop", env!("CARGO_PKG_VERSION"), "Orders from MyShop")
//!             .setting(sdk::secret("api_key", "API key from the MyShop admin"))
//!             .allow_host("api.myshop.example")
//!     }
//! }
//!
//! impl Marketplace for MyShop {
//!     fn fetch_orders(settings: &Settings, query: sdk::OrderQuery) -> sdk::Result<sdk::OrderPage> {
//!         /* build a Request, send it, map the JSON */
//!         todo!()
//!     }
//! }
//!
//! sdk::register_marketplace!(MyShop);
//! ```
//!
//! Build with `cargo build --release --target wasm32-wasip2`; the component is
//! `target/wasm32-wasip2/release/<name>.wasm`. Point a channel at it with
//! `plugin = "path/to/<name>.wasm"` in `config.toml`.
//!
//! Enable the SDK feature of your plugin's kind (`marketplace`, `payment` or
//! `carrier`): the component then exports exactly that world.
//!
//! Each kind below is a complete plugin with its native test: the doctests
//! compile and run with the kind's feature (docs.rs shows all three).
#![cfg_attr(feature = "marketplace", doc = include_str!("../docs/marketplace.md"))]
#![cfg_attr(feature = "payment", doc = include_str!("../docs/payment.md"))]
#![cfg_attr(feature = "carrier", doc = include_str!("../docs/carrier.md"))]
#![warn(missing_docs)]

pub mod bindings;
pub mod forms;
mod host;
pub mod http;
pub mod money;
pub mod paging;
mod settings;
#[cfg(not(target_arch = "wasm32"))]
pub mod testkit;
pub mod time;

pub use bindings::host::tradelane::plugin::types::{
    self, Address, Buyer, CustomsForm, CustomsFormKind, CustomsLine, ExchangeRate, FulfilledBy,
    Fulfillment, FulfillmentLine, FulfillmentReceipt, FulfillmentStatus, Incoterm, Label,
    LabelFormat, LineItem, Money, OauthBody as OAuthBody, OauthClient as OAuthClient,
    OauthClientAuth as OAuthClientAuth, OauthGrant as OAuthGrant, OperationLimit, Order, OrderPage,
    OrderQuery, OrderStatus, PageQuery, Parcel, PaymentStatus, Payout, PayoutLine, PayoutLineKind,
    PayoutLinePage, PayoutPage, PayoutStatus, PluginError, PluginKind, PluginManifest as Manifest,
    Rate, RateLimit, RateLimited, SettingProblem, SettingSpec, Shipment, ShippingLine, TaxId,
    Totals, TrackingEvent, TrackingStatus, UsageHeader,
};
pub use host::{Level, cache_get, cache_set, hmac_sha256, log};
pub use http::{Method, Request, Response};
/// Re-exported so a plugin needs only the SDK and serde.
pub use serde_json;
pub use settings::{Settings, invalid};

/// The contract version this SDK builds plugins against (`tradelane:plugin@…`).
pub const CONTRACT_VERSION: &str = "0.4.0";

/// What every plugin call returns.
pub type Result<T, E = PluginError> = std::result::Result<T, E>;

/// Every plugin describes itself and can prove its settings work.
pub trait Plugin {
    /// Name, version, settings schema, default hosts. The kind and contract
    /// version are filled in by the register macro.
    fn manifest() -> Manifest;

    /// Make the cheapest authenticated call that proves the settings.
    fn check(_settings: &Settings) -> Result<()> {
        Ok(())
    }
}

/// A marketplace connector. Every method defaults to `unsupported`.
pub trait Marketplace: Plugin {
    /// One page of orders updated since `query.updated_after`, oldest change first
    /// where the API allows it; `next_page` set while more remain.
    fn fetch_orders(_settings: &Settings, _query: OrderQuery) -> Result<OrderPage> {
        Err(unsupported("fetch-orders"))
    }

    /// One order by its id, re-read (the host retries an order it refused
    /// this way); `None` when the channel no longer has it.
    fn fetch_order(_settings: &Settings, _external_id: String) -> Result<Option<Order>> {
        Err(unsupported("fetch-order"))
    }

    /// Tell the channel an order shipped.
    fn push_fulfillment(
        _settings: &Settings,
        _fulfillment: Fulfillment,
    ) -> Result<FulfillmentReceipt> {
        Err(unsupported("push-fulfillment"))
    }
}

/// A payment provider connector. Every method defaults to `unsupported`.
pub trait Payment: Plugin {
    /// One page of payouts created since `query.created_after`.
    fn fetch_payouts(_settings: &Settings, _query: PageQuery) -> Result<PayoutPage> {
        Err(unsupported("fetch-payouts"))
    }

    /// One page of the lines of a payout.
    fn fetch_payout_lines(
        _settings: &Settings,
        _payout: Payout,
        _page_token: Option<String>,
    ) -> Result<PayoutLinePage> {
        Err(unsupported("fetch-payout-lines"))
    }
}

/// A carrier connector. Every method defaults to `unsupported`.
pub trait Carrier: Plugin {
    /// Rates for a shipment.
    fn quote(_settings: &Settings, _shipment: Shipment) -> Result<Vec<Rate>> {
        Err(unsupported("quote"))
    }

    /// Buy a label; send `idempotency_key` where the API takes one.
    fn buy_label(
        _settings: &Settings,
        _shipment: Shipment,
        _rate: Rate,
        _idempotency_key: String,
    ) -> Result<Label> {
        Err(unsupported("buy-label"))
    }

    /// The label already bought for `reference`, if any.
    fn find_label(_settings: &Settings, _reference: String) -> Result<Option<Label>> {
        Err(unsupported("find-label"))
    }

    /// Tracking events, oldest first.
    fn track(
        _settings: &Settings,
        _carrier: String,
        _tracking_number: String,
    ) -> Result<Vec<TrackingEvent>> {
        Err(unsupported("track"))
    }
}

/// An `unsupported` error for `operation`.
pub fn unsupported(operation: &str) -> PluginError {
    PluginError::Unsupported(format!("this plugin does not implement {operation}"))
}

/// `City, State, ZIP, Country` from the parts that are set, for a
/// tracking event's `location`; `None` when none is.
pub fn place(parts: &[&Option<String>]) -> Option<String> {
    let set: Vec<&str> = parts
        .iter()
        .filter_map(|p| p.as_deref().filter(|p| !p.is_empty()))
        .collect();
    (!set.is_empty()).then(|| set.join(", "))
}

/// An `invalid-response` error.
pub fn invalid_response(what: impl std::fmt::Display) -> PluginError {
    PluginError::InvalidResponse(what.to_string())
}

/// A manifest with no settings and no hosts yet; chain [`ManifestExt`] methods.
pub fn manifest(name: &str, version: &str, description: &str) -> Manifest {
    Manifest {
        name: name.to_string(),
        version: version.to_string(),
        kind: PluginKind::Marketplace,
        contract_version: CONTRACT_VERSION.to_string(),
        description: description.to_string(),
        settings: Vec::new(),
        allowed_hosts: Vec::new(),
        rate_limit: None,
        operation_limits: Vec::new(),
        oauth: Vec::new(),
    }
}

/// The placeholder the host replaces with the access token of OAuth client
/// `name`: `{{oauth:NAME}}`.
pub fn oauth_token(name: &str) -> String {
    format!("{{{{oauth:{name}}}}}")
}

/// A host-managed OAuth client using the refresh-token grant, with the
/// client authenticating by HTTP Basic and a form body (RFC 6749's
/// defaults); adjust the fields for APIs that differ.
pub fn oauth_refresh(
    name: &str,
    token_url: &str,
    client_id_setting: &str,
    client_secret_setting: &str,
    refresh_token_setting: &str,
) -> OAuthClient {
    OAuthClient {
        name: name.to_string(),
        token_url: token_url.to_string(),
        grant: OAuthGrant::RefreshToken,
        client_auth: OAuthClientAuth::Basic,
        body: OAuthBody::Form,
        client_id_setting: client_id_setting.to_string(),
        client_secret_setting: client_secret_setting.to_string(),
        refresh_token_setting: Some(refresh_token_setting.to_string()),
        scopes: Vec::new(),
        authorize_url: None,
        redirect_uri_setting: None,
    }
}

/// A host-managed public OAuth client (an app with no secret, such as
/// Etsy's): the refresh-token grant with `client_id` in a form body and
/// no secret; `tradelane connect` gets the first refresh token at
/// `authorize_url` by authorization code with PKCE (`S256`). Providers
/// that rotate refresh tokens are handled by the host, which keeps the
/// newest one.
pub fn oauth_public(
    name: &str,
    token_url: &str,
    client_id_setting: &str,
    refresh_token_setting: &str,
    authorize_url: &str,
) -> OAuthClient {
    OAuthClient {
        client_auth: OAuthClientAuth::None,
        body: OAuthBody::Form,
        authorize_url: Some(authorize_url.to_string()),
        ..oauth_refresh(
            name,
            token_url,
            client_id_setting,
            "",
            refresh_token_setting,
        )
    }
}

/// A host-managed OAuth client using the client-credentials grant (HTTP
/// Basic client authentication, form body).
pub fn oauth_client_credentials(
    name: &str,
    token_url: &str,
    client_id_setting: &str,
    client_secret_setting: &str,
) -> OAuthClient {
    OAuthClient {
        grant: OAuthGrant::ClientCredentials,
        refresh_token_setting: None,
        ..oauth_refresh(
            name,
            token_url,
            client_id_setting,
            client_secret_setting,
            "",
        )
    }
}

/// Builder-style additions to a [`Manifest`].
pub trait ManifestExt {
    /// Declare a setting.
    fn setting(self, spec: SettingSpec) -> Self;
    /// Allow a host by default (`api.example.com` or `*.example.com`).
    fn allow_host(self, host: &str) -> Self;
    /// Declare the API's rate limit.
    fn rate_limit(self, limit: RateLimit) -> Self;
    /// Declare one operation's own limit (requests name it with
    /// [`Request::operation`]).
    fn operation_limit(self, operation: &str, milli_requests_per_second: u32, burst: u32) -> Self;
    /// Declare a token endpoint for the host to manage.
    fn oauth(self, client: OAuthClient) -> Self;
}

impl ManifestExt for Manifest {
    fn setting(mut self, spec: SettingSpec) -> Self {
        self.settings.push(spec);
        self
    }
    fn allow_host(mut self, host: &str) -> Self {
        self.allowed_hosts.push(host.to_string());
        self
    }
    fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = Some(limit);
        self
    }
    fn operation_limit(
        mut self,
        operation: &str,
        milli_requests_per_second: u32,
        burst: u32,
    ) -> Self {
        self.operation_limits.push(OperationLimit {
            operation: operation.to_string(),
            milli_requests_per_second,
            burst,
        });
        self
    }
    fn oauth(mut self, client: OAuthClient) -> Self {
        self.oauth.push(client);
        self
    }
}

/// An optional plain setting.
pub fn setting(key: &str, description: &str) -> SettingSpec {
    SettingSpec {
        key: key.to_string(),
        description: description.to_string(),
        required: false,
        secret: false,
        default_value: None,
    }
}

/// A required plain setting.
pub fn required(key: &str, description: &str) -> SettingSpec {
    SettingSpec {
        required: true,
        ..setting(key, description)
    }
}

/// A required secret setting (its value never reaches the plugin).
pub fn secret(key: &str, description: &str) -> SettingSpec {
    SettingSpec {
        required: true,
        secret: true,
        ..setting(key, description)
    }
}

#[doc(hidden)]
pub mod __private {
    use super::*;
    use std::sync::Once;

    /// Route panics to the host's log before the trap, so the user sees why.
    pub fn install_panic_hook() {
        static ONCE: Once = Once::new();
        ONCE.call_once(|| {
            std::panic::set_hook(Box::new(|info| {
                let message = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panic".to_string());
                let location = info
                    .location()
                    .map(|l| format!(" at {}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                crate::log(
                    Level::Error,
                    &format!("plugin panicked: {message}{location}"),
                );
            }));
        });
    }

    /// The manifest with the kind and contract stamped in.
    pub fn stamped(mut manifest: Manifest, kind: PluginKind) -> Manifest {
        manifest.kind = kind;
        manifest.contract_version = CONTRACT_VERSION.to_string();
        manifest
    }
}

/// Export a [`Marketplace`] implementation as this component's plugin.
#[cfg(feature = "marketplace")]
#[macro_export]
macro_rules! register_marketplace {
    ($plugin:ty) => {
        const _: () = {
            use $crate::bindings::marketplace::exports::tradelane::plugin::sales_channel;
            struct Exports;
            impl sales_channel::Guest for Exports {
                fn manifest() -> $crate::Manifest {
                    $crate::__private::install_panic_hook();
                    $crate::__private::stamped(
                        <$plugin as $crate::Plugin>::manifest(),
                        $crate::PluginKind::Marketplace,
                    )
                }
                fn check(
                    settings: $crate::types::Settings,
                ) -> ::core::result::Result<(), $crate::PluginError> {
                    $crate::__private::install_panic_hook();
                    <$plugin as $crate::Plugin>::check(&settings.into())
                }
                fn fetch_orders(
                    settings: $crate::types::Settings,
                    query: $crate::OrderQuery,
                ) -> ::core::result::Result<$crate::OrderPage, $crate::PluginError> {
                    $crate::__private::install_panic_hook();
                    <$plugin as $crate::Marketplace>::fetch_orders(&settings.into(), query)
                }
                fn fetch_order(
                    settings: $crate::types::Settings,
                    external_id: String,
                ) -> ::core::result::Result<Option<$crate::Order>, $crate::PluginError> {
                    $crate::__private::install_panic_hook();
                    <$plugin as $crate::Marketplace>::fetch_order(&settings.into(), external_id)
                }
                fn push_fulfillment(
                    settings: $crate::types::Settings,
                    fulfillment: $crate::Fulfillment,
                ) -> ::core::result::Result<$crate::FulfillmentReceipt, $crate::PluginError>
                {
                    $crate::__private::install_panic_hook();
                    <$plugin as $crate::Marketplace>::push_fulfillment(
                        &settings.into(),
                        fulfillment,
                    )
                }
            }
            $crate::bindings::marketplace::export_marketplace!(Exports);
        };
    };
}

/// Export a [`Payment`] implementation as this component's plugin.
#[cfg(feature = "payment")]
#[macro_export]
macro_rules! register_payment {
    ($plugin:ty) => {
        const _: () = {
            use $crate::bindings::payment::exports::tradelane::plugin::payment_provider;
            struct Exports;
            impl payment_provider::Guest for Exports {
                fn manifest() -> $crate::Manifest {
                    $crate::__private::install_panic_hook();
                    $crate::__private::stamped(
                        <$plugin as $crate::Plugin>::manifest(),
                        $crate::PluginKind::Payment,
                    )
                }
                fn check(
                    settings: $crate::types::Settings,
                ) -> ::core::result::Result<(), $crate::PluginError> {
                    $crate::__private::install_panic_hook();
                    <$plugin as $crate::Plugin>::check(&settings.into())
                }
                fn fetch_payouts(
                    settings: $crate::types::Settings,
                    query: $crate::PageQuery,
                ) -> ::core::result::Result<$crate::PayoutPage, $crate::PluginError> {
                    $crate::__private::install_panic_hook();
                    <$plugin as $crate::Payment>::fetch_payouts(&settings.into(), query)
                }
                fn fetch_payout_lines(
                    settings: $crate::types::Settings,
                    payout: $crate::Payout,
                    page_token: Option<String>,
                ) -> ::core::result::Result<$crate::PayoutLinePage, $crate::PluginError> {
                    $crate::__private::install_panic_hook();
                    <$plugin as $crate::Payment>::fetch_payout_lines(
                        &settings.into(),
                        payout,
                        page_token,
                    )
                }
            }
            $crate::bindings::payment::export_payment!(Exports);
        };
    };
}

/// Export a [`Carrier`] implementation as this component's plugin.
#[cfg(feature = "carrier")]
#[macro_export]
macro_rules! register_carrier {
    ($plugin:ty) => {
        const _: () = {
            use $crate::bindings::carrier::exports::tradelane::plugin::carrier_service;
            struct Exports;
            impl carrier_service::Guest for Exports {
                fn manifest() -> $crate::Manifest {
                    $crate::__private::install_panic_hook();
                    $crate::__private::stamped(
                        <$plugin as $crate::Plugin>::manifest(),
                        $crate::PluginKind::Carrier,
                    )
                }
                fn check(
                    settings: $crate::types::Settings,
                ) -> ::core::result::Result<(), $crate::PluginError> {
                    $crate::__private::install_panic_hook();
                    <$plugin as $crate::Plugin>::check(&settings.into())
                }
                fn quote(
                    settings: $crate::types::Settings,
                    shipment: $crate::Shipment,
                ) -> ::core::result::Result<Vec<$crate::Rate>, $crate::PluginError> {
                    $crate::__private::install_panic_hook();
                    <$plugin as $crate::Carrier>::quote(&settings.into(), shipment)
                }
                fn buy_label(
                    settings: $crate::types::Settings,
                    shipment: $crate::Shipment,
                    rate: $crate::Rate,
                    idempotency_key: String,
                ) -> ::core::result::Result<$crate::Label, $crate::PluginError> {
                    $crate::__private::install_panic_hook();
                    <$plugin as $crate::Carrier>::buy_label(
                        &settings.into(),
                        shipment,
                        rate,
                        idempotency_key,
                    )
                }
                fn find_label(
                    settings: $crate::types::Settings,
                    reference: String,
                ) -> ::core::result::Result<Option<$crate::Label>, $crate::PluginError> {
                    $crate::__private::install_panic_hook();
                    <$plugin as $crate::Carrier>::find_label(&settings.into(), reference)
                }
                fn track(
                    settings: $crate::types::Settings,
                    carrier: String,
                    tracking_number: String,
                ) -> ::core::result::Result<Vec<$crate::TrackingEvent>, $crate::PluginError>
                {
                    $crate::__private::install_panic_hook();
                    <$plugin as $crate::Carrier>::track(&settings.into(), carrier, tracking_number)
                }
            }
            $crate::bindings::carrier::export_carrier!(Exports);
        };
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn contract_version_matches_the_wit_package() {
        let wit = include_str!("../wit/types.wit");
        assert!(wit.contains(&format!(
            "package tradelane:plugin@{};",
            super::CONTRACT_VERSION
        )));
    }
}

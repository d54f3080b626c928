//! Contract 0.1.0 on a 0.2 host: the older version's generated types
//! converted into the current ones (and back, for arguments), and its
//! imports served by the current implementations.
//!
//! 0.2.0 only added to 0.1.0, so every 0.1 type has a current twin of the
//! same shape; the few records that grew get their new fields' defaults.

use super::bindings::v0_1::{cache as cache01, http as http01, log as log01};
use super::bindings::v0_1::{secrets as secrets01, types as old};
use super::bindings::{cache, http, log, secrets, types as new};
use super::state::CallState;

/// A conversion between the twin types of two contract versions.
pub(super) trait Conv<T> {
    fn conv(self) -> T;
}

macro_rules! plain {
    ($($t:ty),*) => {
        $(impl Conv<$t> for $t {
            fn conv(self) -> $t {
                self
            }
        })*
    };
}
plain!((), String, bool, u8, u16, u32, u64, i64);

impl<A: Conv<B>, B> Conv<Vec<B>> for Vec<A> {
    fn conv(self) -> Vec<B> {
        self.into_iter().map(Conv::conv).collect()
    }
}

impl<A: Conv<B>, B> Conv<Option<B>> for Option<A> {
    fn conv(self) -> Option<B> {
        self.map(Conv::conv)
    }
}

impl<A: Conv<C>, B: Conv<D>, C, D> Conv<(C, D)> for (A, B) {
    fn conv(self) -> (C, D) {
        (self.0.conv(), self.1.conv())
    }
}

impl<A: Conv<C>, B: Conv<D>, C, D> Conv<Result<C, D>> for Result<A, B> {
    fn conv(self) -> Result<C, D> {
        self.map(Conv::conv).map_err(Conv::conv)
    }
}

/// Records of the same fields, both ways.
macro_rules! records {
    ($a:ident <-> $b:ident: $($name:ident { $($field:ident),* $(,)? })*) => {
        $(
            impl Conv<$b::$name> for $a::$name {
                fn conv(self) -> $b::$name {
                    $b::$name { $($field: self.$field.conv()),* }
                }
            }
            impl Conv<$a::$name> for $b::$name {
                fn conv(self) -> $a::$name {
                    $a::$name { $($field: self.$field.conv()),* }
                }
            }
        )*
    };
}

/// Records that only flow out of a plugin: old → new.
macro_rules! records_up {
    ($a:ident -> $b:ident: $($name:ident { $($field:ident),* $(,)? })*) => {
        $(
            impl Conv<$b::$name> for $a::$name {
                fn conv(self) -> $b::$name {
                    $b::$name { $($field: self.$field.conv()),* }
                }
            }
        )*
    };
}

/// Enums (no payloads) and variants (one payload each), both ways.
macro_rules! cases {
    ($a:ident <-> $b:ident: $($name:ident { $($case:ident $(($x:ident))?),* $(,)? })*) => {
        $(
            impl Conv<$b::$name> for $a::$name {
                fn conv(self) -> $b::$name {
                    match self { $($a::$name::$case $(($x))? => $b::$name::$case $(($x.conv()))?),* }
                }
            }
            impl Conv<$a::$name> for $b::$name {
                fn conv(self) -> $a::$name {
                    match self { $($b::$name::$case $(($x))? => $a::$name::$case $(($x.conv()))?),* }
                }
            }
        )*
    };
}

records! { old <-> new:
    Money { amount_minor, currency }
    Address { name, company, line1, line2, city, region, postal_code, country, phone, email }
    TaxId { scheme, value, country }
    Buyer { name, email, phone }
    LineItem { external_id, sku, title, quantity, unit_price, discount, tax, weight_grams,
        hs_code, origin_country, requires_shipping }
    ShippingLine { title, code, price }
    Totals { subtotal, shipping, tax, discount, total }
    OrderQuery { updated_after, page_token, page_size }
    FulfillmentLine { line_external_id, quantity }
    Fulfillment { order_external_id, carrier, service, tracking_number, tracking_url,
        shipped_at, lines, notify_buyer }
    FulfillmentReceipt { external_id }
    Parcel { length_mm, width_mm, height_mm, weight_grams }
    CustomsLine { sku, description, hs_code, origin_country, quantity, value, weight_grams }
    Shipment { reference, ship_from, ship_to, parcels, customs, incoterm, tax_ids, label_format }
    Rate { id, shipment_id, carrier, service, price, estimated_days }
    Label { external_id, tracking_number, tracking_url, carrier, service, cost, format,
        document, document_url }
    TrackingEvent { at, status, description, location }
    Payout { external_id, amount, status, created_at, arrival_date }
    ExchangeRate { source, target, rate }
    PayoutLine { external_id, kind, gross, fee, net, original, exchange_rate, order_reference,
        created_at, description }
    PageQuery { created_after, page_token, page_size }
    PayoutPage { payouts, next_page }
    PayoutLinePage { lines, next_page }
    SettingSpec { key, description, required, secret, default_value }
    Settings { values, secrets }
    SettingProblem { key, problem }
    RateLimited { retry_after_ms, detail }
}

records_up! { old -> new:
    OrderPage { orders, next_page }
    RateLimit { milli_requests_per_second, burst, usage_header }
}

cases! { old <-> new:
    OrderStatus { Open, Closed, Cancelled }
    PaymentStatus { Pending, Authorized, Paid, PartiallyPaid, PartiallyRefunded, Refunded,
        Voided, Unknown }
    FulfillmentStatus { Unfulfilled, Partial, Fulfilled, Unknown }
    Incoterm { Dap, Ddp }
    LabelFormat { Pdf, Zpl, Png }
    TrackingStatus { PreTransit, InTransit, OutForDelivery, Delivered, Exception, Returned,
        Unknown }
    PayoutStatus { Pending, InTransit, Paid, Failed, Cancelled }
    PayoutLineKind { Charge, Refund, Dispute, Fee, Adjustment, Other }
    PluginKind { Marketplace, Payment, Carrier }
    PluginError { Auth(x), RateLimited(x), Transient(x), InvalidResponse(x), Rejected(x),
        InvalidSettings(x), NotFound(x), Unsupported(x) }
}

cases! { http01 <-> http:
    Method { Get, Post, Put, Patch, Delete, Head }
    HttpError { Denied(x), InvalidRequest(x), Connect(x), Timeout(x), TooLarge(x),
        BudgetExhausted(x) }
}

records! { http01 <-> http:
    Response { status, headers, body }
}

cases! { log01 <-> log:
    Level { Trace, Debug, Info, Warn, Error }
}

// ---- the records 0.2 grew: new fields get the 0.1 meaning -----------------

impl Conv<new::UsageHeader> for old::UsageHeader {
    fn conv(self) -> new::UsageHeader {
        match self {
            old::UsageHeader::UsedOfLimit(h) => new::UsageHeader::UsedOfLimit(h),
            old::UsageHeader::Remaining(h) => new::UsageHeader::Remaining(h),
        }
    }
}

impl Conv<new::Order> for old::Order {
    /// A 0.1 order: one marketplace, shipped by the seller, no hold.
    fn conv(self) -> new::Order {
        new::Order {
            external_id: self.external_id,
            number: self.number,
            created_at: self.created_at,
            updated_at: self.updated_at,
            status: self.status.conv(),
            payment_status: self.payment_status.conv(),
            fulfillment_status: self.fulfillment_status.conv(),
            currency: self.currency,
            totals: self.totals.conv(),
            buyer: self.buyer.conv(),
            shipping_address: self.shipping_address.conv(),
            billing_address: self.billing_address.conv(),
            line_items: self.line_items.conv(),
            shipping_lines: self.shipping_lines.conv(),
            tax_ids: self.tax_ids.conv(),
            marketplace_collected_tax: self.marketplace_collected_tax,
            taxes_included: self.taxes_included,
            tags: self.tags,
            marketplace: None,
            fulfilled_by: new::FulfilledBy::Seller,
            shipping_hold: None,
        }
    }
}

impl Conv<new::PluginManifest> for old::PluginManifest {
    /// A 0.1 manifest: no per-operation limits, no managed OAuth.
    fn conv(self) -> new::PluginManifest {
        new::PluginManifest {
            name: self.name,
            version: self.version,
            kind: self.kind.conv(),
            contract_version: self.contract_version,
            description: self.description,
            settings: self.settings.conv(),
            allowed_hosts: self.allowed_hosts,
            rate_limit: self.rate_limit.conv(),
            operation_limits: Vec::new(),
            oauth: Vec::new(),
        }
    }
}

// ---- the 0.1 imports, served by the current ones --------------------------

impl http01::Host for CallState {
    async fn send(
        &mut self,
        request: http01::Request,
    ) -> wasmtime::Result<Result<http01::Response, http01::HttpError>> {
        let request = http::Request {
            method: request.method.conv(),
            url: request.url,
            headers: request.headers,
            body: request.body,
            operation: None,
        };
        Ok(<Self as http::Host>::send(self, request).await?.conv())
    }
}

impl log01::Host for CallState {
    async fn log(&mut self, level: log01::Level, message: String) -> wasmtime::Result<()> {
        <Self as log::Host>::log(self, level.conv(), message).await
    }
}

impl secrets01::Host for CallState {
    async fn hmac_sha256(
        &mut self,
        secret: String,
        message: Vec<u8>,
    ) -> wasmtime::Result<Result<Vec<u8>, String>> {
        <Self as secrets::Host>::hmac_sha256(self, secret, message).await
    }
}

impl cache01::Host for CallState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        <Self as cache::Host>::get(self, key).await
    }
    async fn set(&mut self, key: String, value: String, ttl_seconds: u32) -> wasmtime::Result<()> {
        <Self as cache::Host>::set(self, key, value, ttl_seconds).await
    }
}

impl old::Host for CallState {}

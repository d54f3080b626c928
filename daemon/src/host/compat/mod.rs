//! Older contract versions on the current host: each older version's
//! generated types converted into the current ones (and back, for
//! arguments), and its imports served by the current implementations.
//!
//! Every version only added to the one before, so every old type has a
//! current twin of the same shape; the records that grew get their new
//! fields' defaults (the meaning the old version had). One module per kept
//! version says which records grew and how.

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

/// Records the current version grew: old → new gives the new fields the
/// old meaning (`+ { field: default }`).
macro_rules! grown {
    ($a:ident -> $b:ident: $($name:ident { $($field:ident),* $(,)? }
        + { $($new:ident: $default:expr),* $(,)? })*) => {
        $(
            impl Conv<$b::$name> for $a::$name {
                fn conv(self) -> $b::$name {
                    $b::$name { $($field: self.$field.conv(),)* $($new: $default,)* }
                }
            }
        )*
    };
}

/// Grown records that also flow into a plugin: new → old drops the new
/// fields, which an old plugin could not have used.
macro_rules! shrunk {
    ($b:ident -> $a:ident: $($name:ident { $($field:ident),* $(,)? })*) => {
        $(
            impl Conv<$a::$name> for $b::$name {
                fn conv(self) -> $a::$name {
                    $a::$name { $($field: self.$field.conv()),* }
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

/// An older version's imports (`http`, `log`, `secrets`, `cache`, `types`)
/// served by the current implementations: arguments and results cross
/// through [`Conv`]; the old `http.request` needs `Conv` to the current one.
macro_rules! serve_imports {
    ($http:ident, $log:ident, $secrets:ident, $cache:ident, $types:ident) => {
        use crate::host::bindings::{cache, http, log, secrets};
        use crate::host::state::CallState;

        impl $http::Host for CallState {
            async fn send(
                &mut self,
                request: $http::Request,
            ) -> wasmtime::Result<Result<$http::Response, $http::HttpError>> {
                Ok(<Self as http::Host>::send(self, request.conv())
                    .await?
                    .conv())
            }
        }

        impl $log::Host for CallState {
            async fn log(&mut self, level: $log::Level, message: String) -> wasmtime::Result<()> {
                <Self as log::Host>::log(self, level.conv(), message).await
            }
        }

        impl $secrets::Host for CallState {
            async fn hmac_sha256(
                &mut self,
                secret: String,
                message: Vec<u8>,
            ) -> wasmtime::Result<Result<Vec<u8>, String>> {
                <Self as secrets::Host>::hmac_sha256(self, secret, message).await
            }
        }

        impl $cache::Host for CallState {
            async fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
                <Self as cache::Host>::get(self, key).await
            }
            async fn set(
                &mut self,
                key: String,
                value: String,
                ttl_seconds: u32,
            ) -> wasmtime::Result<()> {
                <Self as cache::Host>::set(self, key, value, ttl_seconds).await
            }
        }

        impl $types::Host for CallState {}

        cases! { $http <-> http:
            Method { Get, Post, Put, Patch, Delete, Head }
            HttpError { Denied(x), InvalidRequest(x), Connect(x), Timeout(x), TooLarge(x),
                BudgetExhausted(x) }
        }

        records! { $http <-> http:
            Response { status, headers, body }
        }

        cases! { $log <-> log:
            Level { Trace, Debug, Info, Warn, Error }
        }
    };
}

/// The types every kept version shares unchanged with the current one.
macro_rules! unchanged_since_0_1 {
    ($old:ident <-> $new:ident) => {
        records! { $old <-> $new:
            Money { amount_minor, currency }
            Address { name, company, line1, line2, city, region, postal_code, country, phone, email }
            TaxId { scheme, value, country }
            Buyer { name, email, phone }
            ShippingLine { title, code, price }
            Totals { subtotal, shipping, tax, discount, total }
            OrderQuery { updated_after, page_token, page_size }
            FulfillmentLine { line_external_id, quantity }
            Fulfillment { order_external_id, carrier, service, tracking_number, tracking_url,
                shipped_at, lines, notify_buyer }
            FulfillmentReceipt { external_id }
            Parcel { length_mm, width_mm, height_mm, weight_grams }
            Shipment { reference, ship_from, ship_to, parcels, customs, incoterm, tax_ids,
                label_format }
            Rate { id, shipment_id, carrier, service, price, estimated_days }
            TrackingEvent { at, status, description, location }
            Payout { external_id, amount, status, created_at, arrival_date }
            ExchangeRate { source, target, rate }
            PayoutLine { external_id, kind, gross, fee, net, original, exchange_rate,
                order_reference, created_at, description }
            PageQuery { created_after, page_token, page_size }
            PayoutPage { payouts, next_page }
            PayoutLinePage { lines, next_page }
            SettingSpec { key, description, required, secret, default_value }
            Settings { values, secrets }
            SettingProblem { key, problem }
            RateLimited { retry_after_ms, detail }
        }

        records_up! { $old -> $new:
            OrderPage { orders, next_page }
        }

        cases! { $old <-> $new:
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
    };
}

/// The records contract 0.3 grew, for the versions before it: an older
/// plugin's meaning.
macro_rules! grown_in_0_3 {
    ($old:ident <-> $new:ident) => {
        grown! { $old -> $new:
            LineItem { external_id, sku, title, quantity, unit_price, discount, tax, weight_grams,
                hs_code, origin_country, requires_shipping } + { gtin: None }
            CustomsLine { sku, description, hs_code, origin_country, quantity, value,
                weight_grams } + { gtin: None }
            Label { external_id, tracking_number, tracking_url, carrier, service, cost, format,
                document, document_url } + { forms: Vec::new() }
        }

        shrunk! { $new -> $old:
            CustomsLine { sku, description, hs_code, origin_country, quantity, value,
                weight_grams }
        }
    };
}

/// Enums with one payload-free case more in the current version: old → new
/// only (an older plugin never sees the new case).
macro_rules! cases_up {
    ($a:ident -> $b:ident: $($name:ident { $($case:ident),* $(,)? })*) => {
        $(
            impl Conv<$b::$name> for $a::$name {
                fn conv(self) -> $b::$name {
                    match self { $($a::$name::$case => $b::$name::$case),* }
                }
            }
        )*
    };
}

// After the macros, which the version modules use.
mod v0_1;
mod v0_2;
mod v0_3;

//! The typed exports of each world: marketplace, carrier, payment. Each
//! converts domain arguments to the contract's types, runs the export in a
//! fresh store, and validates what comes back into domain types.
//!
//! A plugin built for an older contract (0.1, 0.2) runs the same way: its
//! arguments and results cross through [`Conv`] to the current types, so
//! everything past this file sees one model.

use super::call::in_fresh_store;
use super::compat::Conv;
use super::convert;
use super::error::CallError;
use super::load::{Plugin, PluginSettings, Pre};
use super::state::{CallLimits, CallServices};
use crate::model::{
    Fulfillment, Label, LabelDocuments, Order, OrderPage, OrderQuery, PageQuery, Payout,
    PayoutLinePage, PayoutPage, PluginKind, Rate, Shipment, TrackingEvent,
};

/// Call `$method` of interface `$iface` on whichever contract version the
/// plugin was built for (`$cur` or one of the `$old`, variants of [`Pre`]):
/// the current bindings directly, older ones through [`Conv`]. Arguments
/// are references to current types (or `&str`s, passed as they are).
macro_rules! dispatch {
    ($self:ident, $services:ident, $limits:ident, $kind:expr, $cur:ident $(| $old:ident)*,
     $iface:ident . $method:ident ( $($arg:expr),* ) $(; plain $($plain:expr),*)?) => {
        dispatch!(@match $self, $services, $limits, $kind, $cur, [$($old)*], $iface, $method,
            [$($arg),*], [$($($plain),*)?])
    };
    (@match $self:ident, $services:ident, $limits:ident, $kind:expr, $cur:ident,
     [$($old:ident)*], $iface:ident, $method:ident, $args:tt, $plain:tt) => {
        match &$self.pre {
            Pre::$cur(pre) => in_fresh_store!($self, $services, $limits, pre, |b, s| {
                dispatch!(@call b, s, $iface, $method, $args, $plain)
            }),
            $(Pre::$old(pre) => in_fresh_store!($self, $services, $limits, pre, |b, s| async {
                dispatch!(@call_old b, s, $iface, $method, $args, $plain)
                    .await
                    .map(Conv::conv)
            }),)*
            _ => Err($self.wrong_kind(&$services.site, $kind)),
        }
    };
    (@call $b:ident, $s:ident, $iface:ident, $method:ident,
     [$($arg:expr),*], [$($plain:expr),*]) => {
        $b.$iface().$method($s, $($arg,)* $($plain),*)
    };
    (@call_old $b:ident, $s:ident, $iface:ident, $method:ident,
     [$($arg:expr),*], [$($plain:expr),*]) => {
        $b.$iface().$method($s, $(&Conv::conv($arg.clone()),)* $($plain),*)
    };
}

impl Plugin {
    /// `check(settings)`: prove the credentials.
    pub async fn check(
        &self,
        services: CallServices,
        limits: CallLimits,
        settings: &PluginSettings,
    ) -> Result<(), CallError> {
        let settings = settings.to_wit();
        let (site, result) = match self.kind() {
            PluginKind::Marketplace => dispatch!(
                self,
                services,
                limits,
                PluginKind::Marketplace,
                Marketplace | MarketplaceV03 | MarketplaceV02 | MarketplaceV01,
                tradelane_plugin_sales_channel.call_check(&settings)
            ),
            PluginKind::Payment => dispatch!(
                self,
                services,
                limits,
                PluginKind::Payment,
                Payment | PaymentV03 | PaymentV02 | PaymentV01,
                tradelane_plugin_payment_provider.call_check(&settings)
            ),
            PluginKind::Carrier => dispatch!(
                self,
                services,
                limits,
                PluginKind::Carrier,
                Carrier | CarrierV03 | CarrierV02 | CarrierV01,
                tradelane_plugin_carrier_service.call_check(&settings)
            ),
        }?;
        result.map_err(|e| Self::failure(&site, e))
    }

    /// `fetch-orders(settings, query)`: one page, validated into domain orders.
    pub async fn fetch_orders(
        &self,
        services: CallServices,
        limits: CallLimits,
        settings: &PluginSettings,
        query: &OrderQuery,
    ) -> Result<OrderPage, CallError> {
        let (settings, query) = (settings.to_wit(), convert::order_query(query));
        let (site, result) = dispatch!(
            self,
            services,
            limits,
            PluginKind::Marketplace,
            Marketplace | MarketplaceV03 | MarketplaceV02 | MarketplaceV01,
            tradelane_plugin_sales_channel.call_fetch_orders(&settings, &query)
        )?;
        match result {
            Ok(page) => convert::order_page(page).map_err(|e| Self::invalid(&site, e)),
            Err(e) => Err(Self::failure(&site, e)),
        }
    }

    /// `fetch-order(settings, id)`: one order re-read, validated; `None`
    /// when the channel no longer has it. A 0.1 plugin has no such export:
    /// `unsupported`.
    pub async fn fetch_order(
        &self,
        services: CallServices,
        limits: CallLimits,
        settings: &PluginSettings,
        external_id: &str,
    ) -> Result<Option<Order>, CallError> {
        if matches!(self.pre, Pre::MarketplaceV01(_)) {
            return Err(Self::failure(
                &services.site,
                super::bindings::types::PluginError::Unsupported(
                    "fetch-order arrived in contract 0.2.0; this plugin was built for 0.1.0".into(),
                ),
            ));
        }
        let settings = settings.to_wit();
        let (site, result) = dispatch!(self, services, limits, PluginKind::Marketplace,
            Marketplace | MarketplaceV03 | MarketplaceV02,
            tradelane_plugin_sales_channel.call_fetch_order(&settings); plain external_id)?;
        let result: Result<Option<super::bindings::types::Order>, _> = result;
        match result.map_err(|e| Self::failure(&site, e))? {
            None => Ok(None),
            Some(order) => convert::order(order)
                .map(Some)
                .map_err(|e| Self::invalid(&site, e)),
        }
    }

    /// `push-fulfillment(settings, fulfillment)`: the channel's id for it.
    pub async fn push_fulfillment(
        &self,
        services: CallServices,
        limits: CallLimits,
        settings: &PluginSettings,
        fulfillment: &Fulfillment,
    ) -> Result<String, CallError> {
        let (settings, fulfillment) = (settings.to_wit(), convert::fulfillment(fulfillment));
        let (site, result) = dispatch!(
            self,
            services,
            limits,
            PluginKind::Marketplace,
            Marketplace | MarketplaceV03 | MarketplaceV02 | MarketplaceV01,
            tradelane_plugin_sales_channel.call_push_fulfillment(&settings, &fulfillment)
        )?;
        result
            .map(|receipt: super::bindings::types::FulfillmentReceipt| receipt.external_id)
            .map_err(|e| Self::failure(&site, e))
    }

    /// `quote(settings, shipment)`: the carrier's rates, validated.
    pub async fn quote(
        &self,
        services: CallServices,
        limits: CallLimits,
        settings: &PluginSettings,
        shipment: &Shipment,
    ) -> Result<Vec<Rate>, CallError> {
        let (settings, shipment) = (settings.to_wit(), convert::shipment(shipment));
        let (site, result) = dispatch!(
            self,
            services,
            limits,
            PluginKind::Carrier,
            Carrier | CarrierV03 | CarrierV02 | CarrierV01,
            tradelane_plugin_carrier_service.call_quote(&settings, &shipment)
        )?;
        let rates: Vec<super::bindings::types::Rate> =
            result.map_err(|e| Self::failure(&site, e))?;
        rates
            .into_iter()
            .map(convert::rate)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Self::invalid(&site, e))
    }

    /// `buy-label(settings, shipment, rate, key)`: the label and its document.
    pub async fn buy_label(
        &self,
        services: CallServices,
        limits: CallLimits,
        settings: &PluginSettings,
        shipment: &Shipment,
        rate: &Rate,
        idempotency_key: &str,
    ) -> Result<(Label, LabelDocuments), CallError> {
        let (settings, shipment, rate) = (
            settings.to_wit(),
            convert::shipment(shipment),
            convert::rate_out(rate),
        );
        let (site, result) = dispatch!(self, services, limits, PluginKind::Carrier,
            Carrier | CarrierV03 | CarrierV02 | CarrierV01,
            tradelane_plugin_carrier_service.call_buy_label(&settings, &shipment, &rate);
            plain idempotency_key)?;
        let label = result.map_err(|e| Self::failure(&site, e))?;
        convert::label(label).map_err(|e| Self::invalid(&site, e))
    }

    /// `find-label(settings, reference)`: a label bought earlier, if any.
    pub async fn find_label(
        &self,
        services: CallServices,
        limits: CallLimits,
        settings: &PluginSettings,
        reference: &str,
    ) -> Result<Option<(Label, LabelDocuments)>, CallError> {
        let settings = settings.to_wit();
        let (site, result) = dispatch!(self, services, limits, PluginKind::Carrier,
            Carrier | CarrierV03 | CarrierV02 | CarrierV01,
            tradelane_plugin_carrier_service.call_find_label(&settings); plain reference)?;
        let found: Option<super::bindings::types::Label> =
            result.map_err(|e| Self::failure(&site, e))?;
        match found {
            None => Ok(None),
            Some(label) => convert::label(label)
                .map(Some)
                .map_err(|e| Self::invalid(&site, e)),
        }
    }

    /// `track(settings, carrier, tracking-number)`: events, oldest first.
    pub async fn track(
        &self,
        services: CallServices,
        limits: CallLimits,
        settings: &PluginSettings,
        carrier: &str,
        tracking_number: &str,
    ) -> Result<Vec<TrackingEvent>, CallError> {
        let settings = settings.to_wit();
        let (site, result) = dispatch!(self, services, limits, PluginKind::Carrier,
            Carrier | CarrierV03 | CarrierV02 | CarrierV01,
            tradelane_plugin_carrier_service.call_track(&settings);
            plain carrier, tracking_number)?;
        let events = result.map_err(|e| Self::failure(&site, e))?;
        convert::tracking_events(events).map_err(|e| Self::invalid(&site, e))
    }

    /// `fetch-payouts(settings, query)`: one page of payouts, validated.
    pub async fn fetch_payouts(
        &self,
        services: CallServices,
        limits: CallLimits,
        settings: &PluginSettings,
        query: &PageQuery,
    ) -> Result<PayoutPage, CallError> {
        let (settings, query) = (settings.to_wit(), convert::page_query(query));
        let (site, result) = dispatch!(
            self,
            services,
            limits,
            PluginKind::Payment,
            Payment | PaymentV03 | PaymentV02 | PaymentV01,
            tradelane_plugin_payment_provider.call_fetch_payouts(&settings, &query)
        )?;
        let page = result.map_err(|e| Self::failure(&site, e))?;
        convert::payout_page(page).map_err(|e| Self::invalid(&site, e))
    }

    /// `fetch-payout-lines(settings, payout, token)`: one page of its lines.
    pub async fn fetch_payout_lines(
        &self,
        services: CallServices,
        limits: CallLimits,
        settings: &PluginSettings,
        payout: &Payout,
        page_token: Option<&str>,
    ) -> Result<PayoutLinePage, CallError> {
        let (settings, payout) = (settings.to_wit(), convert::payout_out(payout));
        let token = page_token.map(str::to_string);
        let (site, result) = dispatch!(self, services, limits, PluginKind::Payment,
            Payment | PaymentV03 | PaymentV02 | PaymentV01,
            tradelane_plugin_payment_provider.call_fetch_payout_lines(&settings, &payout);
            plain token.as_deref())?;
        let page = result.map_err(|e| Self::failure(&site, e))?;
        convert::payout_line_page(page).map_err(|e| Self::invalid(&site, e))
    }
}

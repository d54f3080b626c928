//! The typed exports of each world: marketplace, carrier, payment. Each
//! converts domain arguments to the contract's types, runs the export in a
//! fresh store, and validates what comes back into domain types.

use super::bindings::{carrier, payment};
use super::call::in_fresh_store;
use super::convert;
use super::error::CallError;
use super::load::{Plugin, PluginSettings, Pre};
use super::state::{CallLimits, CallServices, CallSite, CallState};
use crate::model::{
    Fulfillment, Label, OrderPage, OrderQuery, PageQuery, Payout, PayoutLinePage, PayoutPage,
    PluginKind, Rate, Shipment, TrackingEvent,
};

impl Plugin {
    /// `check(settings)`: prove the credentials.
    pub async fn check(
        &self,
        services: CallServices,
        limits: CallLimits,
        settings: &PluginSettings,
    ) -> Result<(), CallError> {
        let settings = settings.to_wit();
        let (site, result) = match &self.pre {
            Pre::Marketplace(pre) => in_fresh_store!(self, services, limits, pre, |b, s| b
                .tradelane_plugin_sales_channel()
                .call_check(s, &settings))?,
            Pre::Payment(pre) => in_fresh_store!(self, services, limits, pre, |b, s| b
                .tradelane_plugin_payment_provider()
                .call_check(s, &settings))?,
            Pre::Carrier(pre) => in_fresh_store!(self, services, limits, pre, |b, s| b
                .tradelane_plugin_carrier_service()
                .call_check(s, &settings))?,
        };
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
        let Pre::Marketplace(pre) = &self.pre else {
            return Err(self.wrong_kind(&services.site, PluginKind::Marketplace));
        };
        let (settings, query) = (settings.to_wit(), convert::order_query(query));
        let (site, result) = in_fresh_store!(self, services, limits, pre, |b, s| {
            b.tradelane_plugin_sales_channel()
                .call_fetch_orders(s, &settings, &query)
        })?;
        match result {
            Ok(page) => convert::order_page(page).map_err(|e| Self::invalid(&site, e)),
            Err(e) => Err(Self::failure(&site, e)),
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
        let Pre::Marketplace(pre) = &self.pre else {
            return Err(self.wrong_kind(&services.site, PluginKind::Marketplace));
        };
        let (settings, fulfillment) = (settings.to_wit(), convert::fulfillment(fulfillment));
        let (site, result) = in_fresh_store!(self, services, limits, pre, |b, s| {
            b.tradelane_plugin_sales_channel()
                .call_push_fulfillment(s, &settings, &fulfillment)
        })?;
        result
            .map(|receipt| receipt.external_id)
            .map_err(|e| Self::failure(&site, e))
    }

    fn carrier_pre(&self, site: &CallSite) -> Result<&carrier::CarrierPre<CallState>, CallError> {
        match &self.pre {
            Pre::Carrier(pre) => Ok(pre),
            _ => Err(self.wrong_kind(site, PluginKind::Carrier)),
        }
    }

    /// `quote(settings, shipment)`: the carrier's rates, validated.
    pub async fn quote(
        &self,
        services: CallServices,
        limits: CallLimits,
        settings: &PluginSettings,
        shipment: &Shipment,
    ) -> Result<Vec<Rate>, CallError> {
        let pre = self.carrier_pre(&services.site)?;
        let (settings, shipment) = (settings.to_wit(), convert::shipment(shipment));
        let (site, result) = in_fresh_store!(self, services, limits, pre, |b, s| b
            .tradelane_plugin_carrier_service()
            .call_quote(s, &settings, &shipment))?;
        let rates = result.map_err(|e| Self::failure(&site, e))?;
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
    ) -> Result<(Label, Vec<u8>), CallError> {
        let pre = self.carrier_pre(&services.site)?;
        let (settings, shipment, rate) = (
            settings.to_wit(),
            convert::shipment(shipment),
            convert::rate_out(rate),
        );
        let (site, result) = in_fresh_store!(self, services, limits, pre, |b, s| b
            .tradelane_plugin_carrier_service()
            .call_buy_label(s, &settings, &shipment, &rate, idempotency_key))?;
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
    ) -> Result<Option<(Label, Vec<u8>)>, CallError> {
        let pre = self.carrier_pre(&services.site)?;
        let settings = settings.to_wit();
        let (site, result) = in_fresh_store!(self, services, limits, pre, |b, s| b
            .tradelane_plugin_carrier_service()
            .call_find_label(s, &settings, reference))?;
        match result.map_err(|e| Self::failure(&site, e))? {
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
        let pre = self.carrier_pre(&services.site)?;
        let settings = settings.to_wit();
        let (site, result) = in_fresh_store!(self, services, limits, pre, |b, s| b
            .tradelane_plugin_carrier_service()
            .call_track(s, &settings, carrier, tracking_number))?;
        let events = result.map_err(|e| Self::failure(&site, e))?;
        convert::tracking_events(events).map_err(|e| Self::invalid(&site, e))
    }

    fn payment_pre(&self, site: &CallSite) -> Result<&payment::PaymentPre<CallState>, CallError> {
        match &self.pre {
            Pre::Payment(pre) => Ok(pre),
            _ => Err(self.wrong_kind(site, PluginKind::Payment)),
        }
    }

    /// `fetch-payouts(settings, query)`: one page of payouts, validated.
    pub async fn fetch_payouts(
        &self,
        services: CallServices,
        limits: CallLimits,
        settings: &PluginSettings,
        query: &PageQuery,
    ) -> Result<PayoutPage, CallError> {
        let pre = self.payment_pre(&services.site)?;
        let (settings, query) = (settings.to_wit(), convert::page_query(query));
        let (site, result) = in_fresh_store!(self, services, limits, pre, |b, s| b
            .tradelane_plugin_payment_provider()
            .call_fetch_payouts(s, &settings, &query))?;
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
        let pre = self.payment_pre(&services.site)?;
        let (settings, payout) = (settings.to_wit(), convert::payout_out(payout));
        let token = page_token.map(str::to_string);
        let (site, result) = in_fresh_store!(self, services, limits, pre, |b, s| b
            .tradelane_plugin_payment_provider()
            .call_fetch_payout_lines(s, &settings, &payout, token.as_deref()))?;
        let page = result.map_err(|e| Self::failure(&site, e))?;
        convert::payout_line_page(page).map_err(|e| Self::invalid(&site, e))
    }
}

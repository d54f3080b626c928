//! A plugin account: one configured use of a plugin (a marketplace
//! channel, a carrier account, a payment account), built once from config
//! and called with domain arguments only.
//!
//! It holds everything a call needs besides its arguments: the loaded
//! plugin, its settings, the egress policy and secrets, the HTTP client,
//! the per-account cache and the call limits. Callers never see wasmtime,
//! the contract's types, or the services a call is wired to.

use super::error::CallError;
use super::load::{Plugin, PluginSettings, PluginSource};
use super::state::{CallLimits, CallServices, CallSite, PluginCache};
use crate::egress::{ChannelEgress, Egress, Scrubber};
use crate::model::{
    Fulfillment, Label, LabelDocuments, Manifest, Order, OrderPage, OrderQuery, PageQuery, Payout,
    PayoutLinePage, PayoutPage, PluginKind, Quarantined, Rate, Shipment, TrackingEvent,
};
use std::sync::Arc;

/// What an account is made of; see `assemble`.
pub struct AccountParts {
    /// The seller the account belongs to.
    pub seller: String,
    /// The account's id in config (a channel id, a carrier or payment account id).
    pub id: String,
    /// Its place in call sites and the cache: the channel id, `carrier:{id}`, `payments:{id}`.
    pub scope: String,
    pub plugin: Arc<Plugin>,
    pub settings: PluginSettings,
    pub egress: Arc<ChannelEgress>,
    /// The HTTP client every request of the account goes through.
    pub http: Arc<dyn Egress>,
    pub cache: Arc<dyn PluginCache>,
    pub limits: CallLimits,
}

/// A configured plugin account, ready to call.
pub struct PluginAccount {
    id: String,
    site: CallSite,
    plugin: Arc<Plugin>,
    settings: PluginSettings,
    egress: Arc<ChannelEgress>,
    http: Arc<dyn Egress>,
    cache: Arc<dyn PluginCache>,
    limits: CallLimits,
    /// The account's secrets as they could appear in an error.
    scrubber: Scrubber,
}

impl PluginAccount {
    /// An account from its parts.
    pub fn new(parts: AccountParts) -> Self {
        PluginAccount {
            scrubber: Scrubber::for_secrets(&parts.egress.secrets),
            site: CallSite {
                seller: parts.seller,
                channel: parts.scope,
                plugin: parts.plugin.manifest.name.clone(),
            },
            id: parts.id,
            plugin: parts.plugin,
            settings: parts.settings,
            egress: parts.egress,
            http: parts.http,
            cache: parts.cache,
            limits: parts.limits,
        }
    }

    /// The seller it belongs to.
    pub fn seller(&self) -> &str {
        &self.site.seller
    }

    /// Its id in config.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// `seller/scope`, for logs.
    pub fn label(&self) -> String {
        format!("{}/{}", self.site.seller, self.site.channel)
    }

    /// Who calls, for errors made outside a call.
    pub fn site(&self) -> &CallSite {
        &self.site
    }

    /// The plugin's manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.plugin.manifest
    }

    /// The plugin's name (`shopify`, `easypost`, or a file's).
    pub fn plugin_name(&self) -> &str {
        &self.plugin.manifest.name
    }

    /// Where the plugin was loaded from.
    pub fn source(&self) -> &PluginSource {
        &self.plugin.source
    }

    /// The plugin's kind.
    pub fn kind(&self) -> PluginKind {
        self.plugin.kind()
    }

    /// An error with the account's secrets taken out: responses reach the
    /// plugin scrubbed already, this is the backstop for what it returns.
    fn scrub(&self, e: CallError) -> CallError {
        if self.scrubber.is_empty() {
            return e;
        }
        e.map_text(|t| self.scrubber.text(t))
    }

    /// Run one plugin call, counting it and its duration for `/metrics`.
    async fn timed<T>(
        &self,
        function: &'static str,
        call: impl std::future::Future<Output = Result<T, CallError>>,
    ) -> Result<T, CallError> {
        let started = std::time::Instant::now();
        let result = call.await;
        crate::metrics::plugin_call(
            &self.plugin.manifest.name,
            function,
            started.elapsed().as_secs_f64(),
            result.is_ok(),
        );
        result
    }

    fn services(&self) -> CallServices {
        CallServices {
            site: self.site.clone(),
            egress: self.http.clone(),
            channel: self.egress.clone(),
            cache: self.cache.clone(),
        }
    }

    /// `check`: prove the credentials with one cheap call.
    pub async fn check(&self) -> Result<(), CallError> {
        let s = self.services();
        self.timed("check", self.plugin.check(s, self.limits, &self.settings))
            .await
            .map_err(|e| self.scrub(e))
    }

    /// `fetch-orders`: one page of orders, validated.
    pub async fn fetch_orders(&self, query: &OrderQuery) -> Result<OrderPage, CallError> {
        let s = self.services();
        let page = self
            .timed(
                "fetch-orders",
                self.plugin
                    .fetch_orders(s, self.limits, &self.settings, query),
            )
            .await
            .map_err(|e| self.scrub(e))?;
        if self.scrubber.is_empty() {
            return Ok(page);
        }
        let mut clean = OrderPage {
            orders: Vec::with_capacity(page.orders.len()),
            quarantined: page.quarantined,
            next_page: page.next_page,
        };
        for order in page.orders {
            match self.scrub_order(order) {
                Ok(order) => clean.orders.push(order),
                Err(q) => clean.quarantined.push(q),
            }
        }
        Ok(clean)
    }

    /// The backstop for what is stored: an order with one of the account's
    /// secrets in a field gets the placeholder instead. (Responses reach
    /// the plugin scrubbed already; this catches a secret the remote sent
    /// in a request that did not carry it.) An order that cannot be
    /// cleaned so is refused, like any invalid order.
    fn scrub_order(&self, order: Order) -> Result<Order, Quarantined> {
        let Ok(json) = serde_json::to_vec(&order) else {
            return Ok(order);
        };
        if !self.scrubber.found_in(&json) {
            return Ok(order);
        }
        let site = &self.site;
        let id = crate::text::plain(&order.external_id);
        tracing::warn!(seller = %site.seller, channel = %site.channel, plugin = %site.plugin, order = %id,
            "an order carried one of the channel's secrets; it is replaced by its placeholder before storing");
        serde_json::from_slice(&self.scrubber.bytes(json)).map_err(|_| Quarantined {
            external_id: order.external_id.chars().take(256).collect(),
            reason: "it carried one of the channel's secrets where a placeholder cannot stand"
                .into(),
        })
    }

    /// `fetch-order`: one order re-read, validated; `None` when the channel
    /// no longer has it (`unsupported` from a 0.1 plugin).
    pub async fn fetch_order(&self, external_id: &str) -> Result<Option<Order>, CallError> {
        let s = self.services();
        let found = self
            .timed(
                "fetch-order",
                self.plugin
                    .fetch_order(s, self.limits, &self.settings, external_id),
            )
            .await
            .map_err(|e| self.scrub(e))?;
        match found {
            Some(order) if !self.scrubber.is_empty() => match self.scrub_order(order) {
                Ok(order) => Ok(Some(order)),
                Err(q) => Err(CallError {
                    site: self.site.clone(),
                    kind: super::CallErrorKind::InvalidOutput(q.reason),
                }),
            },
            other => Ok(other),
        }
    }

    /// `push-fulfillment`: the channel's id for the fulfillment.
    pub async fn push_fulfillment(&self, fulfillment: &Fulfillment) -> Result<String, CallError> {
        let s = self.services();
        self.timed(
            "push-fulfillment",
            self.plugin
                .push_fulfillment(s, self.limits, &self.settings, fulfillment),
        )
        .await
        .map_err(|e| self.scrub(e))
    }

    /// `quote`: the carrier's rates, validated.
    pub async fn quote(&self, shipment: &Shipment) -> Result<Vec<Rate>, CallError> {
        let s = self.services();
        self.timed(
            "quote",
            self.plugin.quote(s, self.limits, &self.settings, shipment),
        )
        .await
        .map_err(|e| self.scrub(e))
    }

    /// `buy-label`: the label and its document.
    pub async fn buy_label(
        &self,
        shipment: &Shipment,
        rate: &Rate,
        idempotency_key: &str,
    ) -> Result<(Label, LabelDocuments), CallError> {
        let s = self.services();
        self.timed(
            "buy-label",
            self.plugin.buy_label(
                s,
                self.limits,
                &self.settings,
                shipment,
                rate,
                idempotency_key,
            ),
        )
        .await
        .map_err(|e| self.scrub(e))
    }

    /// `find-label`: a label bought earlier under `reference`, if any.
    pub async fn find_label(
        &self,
        reference: &str,
    ) -> Result<Option<(Label, LabelDocuments)>, CallError> {
        let s = self.services();
        self.timed(
            "find-label",
            self.plugin
                .find_label(s, self.limits, &self.settings, reference),
        )
        .await
        .map_err(|e| self.scrub(e))
    }

    /// `track`: a parcel's events, oldest first.
    pub async fn track(
        &self,
        carrier: &str,
        tracking_number: &str,
    ) -> Result<Vec<TrackingEvent>, CallError> {
        let s = self.services();
        self.timed(
            "track",
            self.plugin
                .track(s, self.limits, &self.settings, carrier, tracking_number),
        )
        .await
        .map_err(|e| self.scrub(e))
    }

    /// `fetch-payouts`: one page of payouts, validated.
    pub async fn fetch_payouts(&self, query: &PageQuery) -> Result<PayoutPage, CallError> {
        let s = self.services();
        self.timed(
            "fetch-payouts",
            self.plugin
                .fetch_payouts(s, self.limits, &self.settings, query),
        )
        .await
        .map_err(|e| self.scrub(e))
    }

    /// `fetch-payout-lines`: one page of a payout's lines.
    pub async fn fetch_payout_lines(
        &self,
        payout: &Payout,
        page_token: Option<&str>,
    ) -> Result<PayoutLinePage, CallError> {
        let s = self.services();
        self.timed(
            "fetch-payout-lines",
            self.plugin
                .fetch_payout_lines(s, self.limits, &self.settings, payout, page_token),
        )
        .await
        .map_err(|e| self.scrub(e))
    }
}

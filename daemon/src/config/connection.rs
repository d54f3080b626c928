//! What every plugin-backed entry of the config shares — a sales channel,
//! a carrier account, a payment account: the plugin, its settings, where it
//! may connect, and its call limits. [`connection_struct!`] writes those
//! fields into each entry's struct (TOML keys stay flat, unknown keys stay
//! errors) and implements [`Connection`] so one resolver serves them all.

use super::{HostEntry, HumanDuration, SettingValue};
use std::collections::BTreeMap;
use toml::Spanned;

/// The shared part of a plugin-backed config entry.
pub trait Connection {
    /// The entry's id (`shopify-main`, `easypost`).
    fn id(&self) -> &Spanned<String>;
    /// A built-in plugin name or a path to a `.wasm` component.
    fn plugin(&self) -> &Spanned<String>;
    /// Whether the entry is used.
    fn enabled(&self) -> bool;
    /// The plugin's settings table.
    fn settings(&self) -> &Spanned<BTreeMap<String, SettingValue>>;
    /// Narrow the plugin's declared hosts to these.
    fn allowed_hosts(&self) -> Option<&[HostEntry]>;
    /// Hosts beyond the plugin's declared ones.
    fn extra_hosts(&self) -> &[HostEntry];
    /// Plain http and loopback addresses allowed.
    fn allow_loopback(&self) -> bool;
    /// Private-range addresses allowed.
    fn allow_private_networks(&self) -> bool;
    /// Redirects followed (each hop checked).
    fn follow_redirects(&self) -> bool;
    /// Secrets filled into a URL's query (HTTPS only), for APIs that take
    /// their key nowhere else.
    fn secrets_in_query(&self) -> bool;
    /// `(cpu_deadline, memory_mb, max_requests_per_call)` overrides.
    fn limit_overrides(&self) -> (Option<HumanDuration>, Option<u32>, Option<u32>);
}

/// Define a config struct with the [`Connection`] fields plus its own.
macro_rules! connection_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                pub $field:ident : $ty:ty,
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            pub id: toml::Spanned<String>,
            /// A built-in plugin name or a path to a `.wasm` component.
            pub plugin: toml::Spanned<String>,
            #[serde(default = "crate::config::yes")]
            pub enabled: bool,
            /// Narrow the plugin's declared hosts to these.
            pub allowed_hosts: Option<Vec<crate::config::HostEntry>>,
            /// Hosts beyond the plugin's declared ones (explicit widening).
            #[serde(default)]
            pub extra_hosts: Vec<crate::config::HostEntry>,
            /// Allow plain http and loopback addresses (the sandbox, tests).
            #[serde(default)]
            pub allow_loopback: bool,
            /// Allow private-range addresses (an on-premises service).
            #[serde(default)]
            pub allow_private_networks: bool,
            #[serde(default)]
            pub follow_redirects: bool,
            /// Fill secrets into the URL's query (HTTPS only): for a store
            /// whose server drops the `Authorization` header.
            #[serde(default)]
            pub secrets_in_query: bool,
            pub cpu_deadline: Option<crate::config::HumanDuration>,
            pub memory_mb: Option<u32>,
            pub max_requests_per_call: Option<u32>,
            #[serde(default = "crate::config::empty_settings")]
            pub settings: toml::Spanned<std::collections::BTreeMap<String, crate::config::SettingValue>>,
            $(
                $(#[$fmeta])*
                pub $field : $ty,
            )*
        }

        impl crate::config::Connection for $name {
            fn id(&self) -> &toml::Spanned<String> { &self.id }
            fn plugin(&self) -> &toml::Spanned<String> { &self.plugin }
            fn enabled(&self) -> bool { self.enabled }
            fn settings(&self) -> &toml::Spanned<std::collections::BTreeMap<String, crate::config::SettingValue>> { &self.settings }
            fn allowed_hosts(&self) -> Option<&[crate::config::HostEntry]> { self.allowed_hosts.as_deref() }
            fn extra_hosts(&self) -> &[crate::config::HostEntry] { &self.extra_hosts }
            fn allow_loopback(&self) -> bool { self.allow_loopback }
            fn allow_private_networks(&self) -> bool { self.allow_private_networks }
            fn follow_redirects(&self) -> bool { self.follow_redirects }
            fn secrets_in_query(&self) -> bool { self.secrets_in_query }
            fn limit_overrides(&self) -> (Option<crate::config::HumanDuration>, Option<u32>, Option<u32>) {
                (self.cpu_deadline, self.memory_mb, self.max_requests_per_call)
            }
        }
    };
}

pub(crate) use connection_struct;

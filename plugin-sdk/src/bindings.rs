//! Raw bindings generated from `wit/`. Plugin authors use the re-exports at
//! the crate root instead; this module is public only for the register macros.

/// Shared types and host imports, generated once and reused by every world.
/// (Generated from the WIT files; their documentation is the WIT's.)
#[allow(missing_docs)]
pub mod host {
    wit_bindgen::generate!({
        path: "wit",
        world: "host-imports",
        generate_unused_types: true,
        additional_derives: [PartialEq, serde::Serialize, serde::Deserialize],
    });
}

/// One plugin world, reusing the shared types and imports of [`host`].
macro_rules! world {
    ($(#[$attr:meta])* $module:ident, $world:tt, $export:tt, $bindings:tt) => {
        $(#[$attr])*
        #[allow(missing_docs)]
        pub mod $module {
            wit_bindgen::generate!({
                path: "wit",
                world: $world,
                with: {
                    "tradelane:plugin/types@0.4.0": crate::bindings::host::tradelane::plugin::types,
                    "tradelane:plugin/http@0.4.0": crate::bindings::host::tradelane::plugin::http,
                    "tradelane:plugin/log@0.4.0": crate::bindings::host::tradelane::plugin::log,
                    "tradelane:plugin/secrets@0.4.0": crate::bindings::host::tradelane::plugin::secrets,
                    "tradelane:plugin/cache@0.4.0": crate::bindings::host::tradelane::plugin::cache,
                },
                export_macro_name: $export,
                pub_export_macro: true,
                default_bindings_module: $bindings,
            });
        }
    };
}

world!(
    /// The `marketplace` world: exports `sales-channel`.
    #[cfg(feature = "marketplace")]
    marketplace,
    "marketplace",
    "export_marketplace",
    "tradelane_plugin_sdk::bindings::marketplace"
);
world!(
    /// The `payment` world: exports `payment-provider`.
    #[cfg(feature = "payment")]
    payment,
    "payment",
    "export_payment",
    "tradelane_plugin_sdk::bindings::payment"
);
world!(
    /// The `carrier` world: exports `carrier-service`.
    #[cfg(feature = "carrier")]
    carrier,
    "carrier",
    "export_carrier",
    "tradelane_plugin_sdk::bindings::carrier"
);

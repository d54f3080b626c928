//! Raw bindings generated from `wit/`. Plugin authors use the re-exports at
//! the crate root instead; this module is public only for the register macros.

/// Shared types and host imports, generated once and reused by every world.
pub mod host {
    wit_bindgen::generate!({
        path: "wit",
        world: "host-imports",
        generate_unused_types: true,
        additional_derives: [PartialEq, serde::Serialize, serde::Deserialize],
    });
}

/// The `marketplace` world: exports `sales-channel`.
#[cfg(feature = "marketplace")]
pub mod marketplace {
    wit_bindgen::generate!({
        path: "wit",
        world: "marketplace",
        with: {
            "tradelane:plugin/types@0.1.0": crate::bindings::host::tradelane::plugin::types,
            "tradelane:plugin/http@0.1.0": crate::bindings::host::tradelane::plugin::http,
            "tradelane:plugin/log@0.1.0": crate::bindings::host::tradelane::plugin::log,
            "tradelane:plugin/secrets@0.1.0": crate::bindings::host::tradelane::plugin::secrets,
            "tradelane:plugin/cache@0.1.0": crate::bindings::host::tradelane::plugin::cache,
        },
        export_macro_name: "export_marketplace",
        pub_export_macro: true,
        default_bindings_module: "tradelane_plugin_sdk::bindings::marketplace",
    });
}

/// The `payment` world: exports `payment-provider`.
#[cfg(feature = "payment")]
pub mod payment {
    wit_bindgen::generate!({
        path: "wit",
        world: "payment",
        with: {
            "tradelane:plugin/types@0.1.0": crate::bindings::host::tradelane::plugin::types,
            "tradelane:plugin/http@0.1.0": crate::bindings::host::tradelane::plugin::http,
            "tradelane:plugin/log@0.1.0": crate::bindings::host::tradelane::plugin::log,
            "tradelane:plugin/secrets@0.1.0": crate::bindings::host::tradelane::plugin::secrets,
            "tradelane:plugin/cache@0.1.0": crate::bindings::host::tradelane::plugin::cache,
        },
        export_macro_name: "export_payment",
        pub_export_macro: true,
        default_bindings_module: "tradelane_plugin_sdk::bindings::payment",
    });
}

/// The `carrier` world: exports `carrier-service`.
#[cfg(feature = "carrier")]
pub mod carrier {
    wit_bindgen::generate!({
        path: "wit",
        world: "carrier",
        with: {
            "tradelane:plugin/types@0.1.0": crate::bindings::host::tradelane::plugin::types,
            "tradelane:plugin/http@0.1.0": crate::bindings::host::tradelane::plugin::http,
            "tradelane:plugin/log@0.1.0": crate::bindings::host::tradelane::plugin::log,
            "tradelane:plugin/secrets@0.1.0": crate::bindings::host::tradelane::plugin::secrets,
            "tradelane:plugin/cache@0.1.0": crate::bindings::host::tradelane::plugin::cache,
        },
        export_macro_name: "export_carrier",
        pub_export_macro: true,
        default_bindings_module: "tradelane_plugin_sdk::bindings::carrier",
    });
}

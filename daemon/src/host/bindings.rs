//! Host bindings generated from the WIT contract in `plugin-sdk/wit`, the
//! same files the SDK generates the guest side from.
//!
//! The shared types and imports are generated once (`imports`); each
//! plugin kind's world reuses them, so one `Linker` serves every kind.

/// Shared types and the host's imports (`http`, `log`, `secrets`, `cache`).
pub mod imports {
    wasmtime::component::bindgen!({
        path: "../plugin-sdk/wit",
        world: "host-imports",
        imports: { default: async | trappable },
    });
}

/// One plugin world, reusing the shared types and imports above.
macro_rules! world {
    ($(#[$doc:meta])* $module:ident, $world:tt) => {
        $(#[$doc])*
        pub mod $module {
            wasmtime::component::bindgen!({
                path: "../plugin-sdk/wit",
                world: $world,
                imports: { default: async | trappable },
                exports: { default: async },
                with: {
                    "tradelane:plugin/types": super::imports::tradelane::plugin::types,
                    "tradelane:plugin/http": super::imports::tradelane::plugin::http,
                    "tradelane:plugin/log": super::imports::tradelane::plugin::log,
                    "tradelane:plugin/secrets": super::imports::tradelane::plugin::secrets,
                    "tradelane:plugin/cache": super::imports::tradelane::plugin::cache,
                },
            });
        }
    };
}

world!(
    /// The `marketplace` world.
    marketplace,
    "marketplace"
);
world!(
    /// The `payment` world.
    payment,
    "payment"
);
world!(
    /// The `carrier` world.
    carrier,
    "carrier"
);

pub use imports::tradelane::plugin::{cache, http, log, secrets, types};

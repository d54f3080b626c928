//! Host bindings generated from the WIT contract: the current version from
//! `plugin-sdk/wit` (the files the SDK generates the guest side from), and
//! each older version still loaded from its frozen copy in `daemon/wit/`.
//!
//! Per version, the shared types and imports are generated once
//! (`imports`); each plugin kind's world reuses them, so one `Linker`
//! serves every kind and every version.

/// One plugin world, reusing the shared types and imports of its version.
macro_rules! world {
    ($(#[$doc:meta])* $module:ident, $path:literal, $world:literal) => {
        $(#[$doc])*
        pub mod $module {
            wasmtime::component::bindgen!({
                path: $path,
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

/// Every world of one contract version, from the WIT files at `$path`.
macro_rules! contract {
    ($path:literal) => {
        /// Shared types and the host's imports (`http`, `log`, `secrets`, `cache`).
        pub mod imports {
            wasmtime::component::bindgen!({
                path: $path,
                world: "host-imports",
                imports: { default: async | trappable },
            });
        }
        world!(
            /// The `marketplace` world.
            marketplace,
            $path,
            "marketplace"
        );
        world!(
            /// The `payment` world.
            payment,
            $path,
            "payment"
        );
        world!(
            /// The `carrier` world.
            carrier,
            $path,
            "carrier"
        );
        pub use imports::tradelane::plugin::{cache, http, log, secrets, types};
    };
}

contract!("../plugin-sdk/wit");

/// Contract 0.1.0, frozen: plugins built with the SDK before 0.2 still load.
pub mod v0_1 {
    contract!("wit/0.1.0");
}

/// Contract 0.2.0, frozen: plugins built with the SDK before 0.3 still load.
pub mod v0_2 {
    contract!("wit/0.2.0");
}

/// Contract 0.3.0, frozen: plugins built with the SDK before 0.4 still load.
pub mod v0_3 {
    contract!("wit/0.3.0");
}

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

/// The `marketplace` world.
pub mod marketplace {
    wasmtime::component::bindgen!({
        path: "../plugin-sdk/wit",
        world: "marketplace",
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

/// The `payment` world.
pub mod payment {
    wasmtime::component::bindgen!({
        path: "../plugin-sdk/wit",
        world: "payment",
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

/// The `carrier` world.
pub mod carrier {
    wasmtime::component::bindgen!({
        path: "../plugin-sdk/wit",
        world: "carrier",
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

pub use imports::tradelane::plugin::{cache, http, log, secrets, types};

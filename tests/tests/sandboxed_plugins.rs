//! The sandbox holds: plugins that loop, hoard memory, panic, read files or
//! the environment, or call hosts they may not, each fail their own call,
//! quickly and with a clear error, while a good plugin keeps working.

use std::sync::Arc;
use std::time::{Duration, Instant};
use tradelane::egress::{EgressSettings, HostPattern, HostPolicy, HttpEgress, Secrets};
use tradelane::host::compile_cache::CacheOutcome;
use tradelane::host::{
    CallErrorKind, CallLimits, CallServices, PluginFailure, PluginHost, PluginSettings,
    PluginSource, builtin, ticks,
};
use tradelane::model::OrderQuery;
use tradelane_tests::{
    TOKEN, call_services, first_page, loopback_policy, misbehave, mode, sandbox, served,
};

fn policy(extra: &[&str]) -> HostPolicy {
    loopback_policy(&["127.0.0.1"], extra)
}

fn services(plugin: &str, policy: HostPolicy, secrets: Secrets) -> CallServices {
    call_services(
        plugin,
        policy,
        secrets,
        Arc::new(HttpEgress::new(EgressSettings::default())),
    )
}

fn limits() -> CallLimits {
    CallLimits {
        deadline_ticks: ticks(Duration::from_millis(500)),
        memory_bytes: 32 << 20,
        max_requests: 3,
        wall_deadline: Duration::from_secs(60),
        max_log_lines: 200,
    }
}

fn query() -> OrderQuery {
    first_page(50)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_misbehaviour_fails_its_own_call_while_a_good_plugin_works() {
    let sandbox = sandbox(30, 3).await;
    let host = PluginHost::new(None).unwrap();
    let bad = Arc::new(misbehave(&host).await);
    let shopify = host
        .load(
            PluginSource::Builtin("shopify"),
            builtin::find("shopify").unwrap(),
        )
        .await
        .unwrap();

    // The good plugin runs alongside the bad ones.
    let good_settings = PluginSettings {
        values: vec![
            ("shop".into(), "x.myshopify.com".into()),
            ("base_url".into(), sandbox.url()),
        ],
        secret_names: vec!["access_token".into()],
    };
    let mut secrets = Secrets::new();
    secrets.insert("access_token".into(), tradelane::egress::Secret::new(TOKEN));
    let good = tokio::spawn(async move {
        let mut pages = 0;
        for _ in 0..5 {
            let page = shopify
                .fetch_orders(
                    services("shopify", policy(&["127.0.0.1"]), secrets.clone()),
                    limits(),
                    &good_settings,
                    &query(),
                )
                .await
                .expect("the good plugin keeps working");
            assert_eq!(page.orders.len(), 30);
            pages += 1;
        }
        pages
    });

    type Expect = Box<dyn Fn(&CallErrorKind) -> bool + Send>;
    let cases: Vec<(&str, Expect)> = vec![
        (
            "loop",
            Box::new(
                |k| matches!(k, CallErrorKind::Deadline(d) if *d == Duration::from_millis(500)),
            ),
        ),
        (
            "alloc",
            Box::new(|k| matches!(k, CallErrorKind::Memory(b) if *b == 32 << 20)),
        ),
        (
            "panic",
            Box::new(
                |k| matches!(k, CallErrorKind::Panic(m) if m.contains("misbehave was told to panic")),
            ),
        ),
        (
            "read-file",
            Box::new(
                |k| matches!(k, CallErrorKind::Plugin(PluginFailure::InvalidResponse(m)) if m.starts_with("read /etc/passwd:")),
            ),
        ),
        (
            "env",
            Box::new(
                |k| matches!(k, CallErrorKind::Plugin(PluginFailure::InvalidResponse(m)) if m == "environment is empty"),
            ),
        ),
        (
            "host",
            Box::new(|k| {
                matches!(k, CallErrorKind::Plugin(PluginFailure::InvalidSettings { key, problem })
                    if key == "allowed_hosts" && problem.contains("exfiltrate.example.net") && problem.contains("extra_hosts") && problem.contains("config.toml:12"))
            }),
        ),
    ];
    for (name, expected) in cases {
        let started = Instant::now();
        let err = bad
            .fetch_orders(
                services("misbehave", policy(&[]), Secrets::new()),
                limits(),
                &mode(name, None),
                &query(),
            )
            .await
            .expect_err(name);
        assert!(expected(&err.kind), "{name}: unexpected {err}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{name} took {:?}",
            started.elapsed()
        );
        let text = err.to_string();
        assert!(
            text.contains("seller `s1` channel `c1` plugin `misbehave`"),
            "{name}: {text}"
        );
    }
    assert_eq!(good.await.unwrap(), 5);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_request_never_reaches_the_server() {
    let sandbox = sandbox(5, 1).await;
    let host = PluginHost::new(None).unwrap();
    let bad = misbehave(&host).await;
    let url = format!("{}/admin/api/2026-07/shop.json", sandbox.url());
    // 127.0.0.1 is declared by the plugin but the channel narrows to another host.
    let mut narrowed = policy(&[]);
    narrowed.narrowed = Some(vec![
        HostPattern::parse("shop.example.com")
            .unwrap_or(HostPattern::Exact("shop.example.com".into())),
    ]);
    narrowed
        .declared
        .push(HostPattern::parse("shop.example.com").unwrap());
    let err = bad
        .fetch_orders(
            services("misbehave", narrowed, Secrets::new()),
            limits(),
            &mode("requests", Some(&url)),
            &query(),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("allowed_hosts"), "{err}");
    // Plain http to loopback without `allow_loopback`.
    let mut no_loopback = policy(&[]);
    no_loopback.allow_loopback = false;
    let err = bad
        .fetch_orders(
            services("misbehave", no_loopback, Secrets::new()),
            limits(),
            &mode("requests", Some(&url)),
            &query(),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("allow_loopback"), "{err}");
    // A name that resolves to a loopback address is refused by the resolver
    // guard, after DNS and before any connection.
    let by_name = format!(
        "https://localhost:{}/admin/api/2026-07/shop.json",
        sandbox.addr.port()
    );
    let mut guarded = policy(&["localhost"]);
    guarded.allow_loopback = false;
    let err = bad
        .fetch_orders(
            services("misbehave", guarded, Secrets::new()),
            limits(),
            &mode("requests", Some(&by_name)),
            &query(),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("is loopback"), "{err}");
    assert!(
        matches!(&err.kind, CallErrorKind::Plugin(PluginFailure::InvalidSettings { key, .. }) if key == "allowed_hosts"),
        "a resolver refusal is a denial, not a connection failure: {err}"
    );
    assert!(
        served(&sandbox.url()).await.is_empty(),
        "nothing may be sent"
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_budget_caps_a_call() {
    let sandbox = sandbox(5, 1).await;
    let host = PluginHost::new(None).unwrap();
    let bad = misbehave(&host).await;
    let url = format!("{}/admin/api/2026-07/shop.json", sandbox.url());
    let err = bad
        .fetch_orders(
            services("misbehave", policy(&[]), Secrets::new()),
            limits(),
            &mode("requests", Some(&url)),
            &query(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err.kind, CallErrorKind::Plugin(PluginFailure::Transient(m)) if m.contains("budget of 3")),
        "{err}"
    );
    // Three requests reached the sandbox (401s, no token), the fourth was never sent.
    assert_eq!(served(&sandbox.url()).await.len(), 3);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_contract_major_is_refused_at_load_naming_both_versions() {
    let wat = r#"(component
        (core module $m (func (export "f")))
        (core instance $i (instantiate $m))
        (func $f (canon lift (core func $i "f")))
        (instance $api (export "check" (func $f)))
        (export "tradelane:plugin/sales-channel@2.0.0" (instance $api)))"#;
    let bytes = wat::parse_str(wat).unwrap();
    let host = PluginHost::new(None).unwrap();
    let err = host
        .load(PluginSource::File("future.wasm".into()), &bytes)
        .await
        .err()
        .expect("refused");
    let text = format!("{err:#}");
    assert!(
        text.contains("tradelane:plugin@2.0.0")
            && text.contains("tradelane:plugin@0.4.0")
            && text.contains("loads 0.1, 0.2"),
        "{text}"
    );

    let not_a_plugin = wat::parse_str("(component)").unwrap();
    let err = host
        .load(PluginSource::File("empty.wasm".into()), &not_a_plugin)
        .await
        .err()
        .expect("refused");
    assert!(
        format!("{err:#}").contains("not a tradelane plugin"),
        "{err:#}"
    );
    let err = host
        .load(PluginSource::File("junk.wasm".into()), b"not wasm at all")
        .await
        .err()
        .expect("refused");
    assert!(
        format!("{err:#}").contains("not a valid WebAssembly component"),
        "{err:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compiled_plugins_are_cached_and_a_corrupt_cache_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = builtin::find("shopify").unwrap();
    let first = PluginHost::new(Some(dir.path().to_path_buf())).unwrap();
    assert_eq!(
        first
            .load(PluginSource::Builtin("shopify"), wasm)
            .await
            .unwrap()
            .cache,
        CacheOutcome::Miss
    );
    let second = PluginHost::new(Some(dir.path().to_path_buf())).unwrap();
    assert_eq!(
        second
            .load(PluginSource::Builtin("shopify"), wasm)
            .await
            .unwrap()
            .cache,
        CacheOutcome::Hit
    );
    // Flip bytes in the artefact: the host refuses its own file and recompiles.
    let cwasm = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .unwrap();
    let mut bytes = std::fs::read(&cwasm).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&cwasm, bytes).unwrap();
    let third = PluginHost::new(Some(dir.path().to_path_buf())).unwrap();
    let plugin = third
        .load(PluginSource::Builtin("shopify"), wasm)
        .await
        .unwrap();
    assert_eq!(plugin.cache, CacheOutcome::Miss);
    assert_eq!(plugin.manifest.name, "shopify");
}

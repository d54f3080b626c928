//! `cargo bench -p tradelane-tests --bench platform`: one table, every
//! number measured in this run on this machine, plugin and native side by
//! side so the ratios survive a noisy shared host.
//!
//! (a) map a 250-order Shopify page (~10 KB per order): plugin (fresh
//!     instance, wasm parse + map, canonical-ABI lift, host validation)
//!     vs the same mapping code compiled natively plus the same validation;
//! (b) fresh store + instantiate per call;
//! (c) load every built-in plugin with a cold and a warm compile cache;
//! (d) peak RSS with every plugin loaded;
//! (e) end-to-end sync from the sandbox over loopback through the plugin
//!     into sled, vs a native pipeline (reqwest + serde + sled) in the same run;
//! (f) many channels: 200 channels × 500 orders in one pass;
//! (g) a shipping pass over 50,000 stored orders, 10 of them changed:
//!     reading the change events vs re-listing every order;
//! (h) peak RSS of a 12,000-order sync with the default store cache vs
//!     sled's own 1 GiB default.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tradelane::egress::{
    ChannelEgress, Egress, EgressError, EgressSettings, HttpEgress, Request, Response, Secrets,
};
use tradelane::host::{
    CallLimits, CallServices, PluginHost, PluginSettings, PluginSource, builtin, ticks,
};
use tradelane::model::{self, OrderQuery};
use tradelane::store::{Store, SyncCursor};
use tradelane_plugin_sdk as sdk;
use tradelane_tests::*;

/// Serves one recorded response to every request: isolates mapping cost.
struct Replay(Response);

impl Egress for Replay {
    fn send<'a>(
        &'a self,
        _c: &'a ChannelEgress,
        _r: Request,
    ) -> Pin<Box<dyn Future<Output = Result<Response, EgressError>> + Send + 'a>> {
        let r = self.0.clone();
        Box::pin(async move { Ok(r) })
    }
}

fn rss_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn services(egress: Arc<dyn Egress>) -> CallServices {
    let mut secrets = Secrets::new();
    secrets.insert("access_token".into(), tradelane::egress::Secret::new(TOKEN));
    call_services(
        "shopify",
        loopback_policy(&["*.myshopify.com"], &["127.0.0.1"]),
        secrets,
        egress,
    )
}

fn limits() -> CallLimits {
    CallLimits {
        deadline_ticks: ticks(Duration::from_secs(30)),
        memory_bytes: 256 << 20,
        max_requests: 10,
        wall_deadline: Duration::from_secs(60),
        max_log_lines: 200,
    }
}

/// The native side's "lift into host types": the same validation the host
/// applies to a plugin's output, from SDK types.
fn to_domain(o: sdk::Order) -> model::Order {
    let cur = |c: &str| model::Currency::parse(c).expect("currency");
    let money = |m: &sdk::Money| model::Money {
        amount_minor: m.amount_minor,
        currency: cur(&m.currency),
    };
    let time = |t: &str| {
        chrono::DateTime::parse_from_rfc3339(t)
            .expect("time")
            .with_timezone(&chrono::Utc)
    };
    let addr = |a: &sdk::Address| model::Address {
        name: a.name.clone(),
        company: a.company.clone(),
        line1: a.line1.clone(),
        line2: a.line2.clone(),
        city: a.city.clone(),
        region: a.region.clone(),
        postal_code: a.postal_code.clone(),
        country: model::Country::parse(&a.country).expect("country"),
        phone: a.phone.clone(),
        email: a.email.clone(),
    };
    model::Order {
        number: o.number.clone(),
        created_at: time(&o.created_at),
        updated_at: time(&o.updated_at),
        status: model::OrderStatus::Open,
        payment_status: model::PaymentStatus::Paid,
        fulfillment_status: model::FulfillmentStatus::Unfulfilled,
        currency: cur(&o.currency),
        totals: model::Totals {
            subtotal: money(&o.totals.subtotal),
            shipping: money(&o.totals.shipping),
            tax: money(&o.totals.tax),
            discount: money(&o.totals.discount),
            total: money(&o.totals.total),
        },
        buyer: o.buyer.as_ref().map(|b| model::Buyer {
            name: b.name.clone(),
            email: b.email.clone(),
            phone: b.phone.clone(),
        }),
        shipping_address: o.shipping_address.as_ref().map(addr),
        billing_address: o.billing_address.as_ref().map(addr),
        line_items: o
            .line_items
            .iter()
            .map(|l| model::LineItem {
                external_id: l.external_id.clone(),
                sku: l.sku.clone(),
                title: l.title.clone(),
                quantity: l.quantity,
                unit_price: money(&l.unit_price),
                discount: money(&l.discount),
                tax: money(&l.tax),
                weight_grams: l.weight_grams,
                hs_code: l.hs_code.clone(),
                origin_country: None,
                requires_shipping: l.requires_shipping,
                gtin: l.gtin.clone(),
            })
            .collect(),
        shipping_lines: o
            .shipping_lines
            .iter()
            .map(|s| model::ShippingLine {
                title: s.title.clone(),
                code: s.code.clone(),
                price: money(&s.price),
            })
            .collect(),
        tax_ids: Vec::new(),
        marketplace_collected_tax: o.marketplace_collected_tax,
        taxes_included: o.taxes_included,
        tags: o.tags.clone(),
        marketplace: None,
        fulfilled_by: model::FulfilledBy::Seller,
        shipping_hold: None,
        payment_gateways: o.payment_gateways.clone(),
        presentment_total: None,
        external_id: o.external_id,
    }
}

async fn fetch_raw(url: &str) -> (Response, usize) {
    let r = reqwest::Client::new()
        .get(url)
        .header("X-Shopify-Access-Token", TOKEN)
        .send()
        .await
        .unwrap();
    let headers = r
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let status = r.status().as_u16();
    let body = r.bytes().await.unwrap().to_vec();
    let n = body.len();
    (
        Response {
            status,
            headers,
            body,
        },
        n,
    )
}

/// Native pipeline: reqwest → serde → mapping → validation → sled, page by
/// page, with the same overlap of commit N and fetch N+1 as the real sync.
async fn native_sync(store: &Store, base: &str, channel: &str) -> (usize, usize) {
    let mut url = format!("{base}/admin/api/2026-07/orders.json?status=any&limit=250");
    let (mut orders, mut bytes) = (0, 0);
    let mut pending: Option<tokio::task::JoinHandle<()>> = None;
    loop {
        let (resp, n) = fetch_raw(&url).await;
        bytes += n;
        let page = shopify::page(&sdk::Response {
            status: resp.status,
            headers: resp.headers,
            body: resp.body,
        })
        .unwrap();
        let domain: Vec<model::Order> = page.orders.into_iter().map(to_domain).collect();
        orders += domain.len();
        if let Some(p) = pending.take() {
            p.await.unwrap();
        }
        let (store, channel) = (store.clone(), channel.to_string());
        pending = Some(tokio::task::spawn_blocking(move || {
            store
                .commit_page(
                    "native",
                    &channel,
                    "orders",
                    &domain,
                    &SyncCursor::default(),
                )
                .unwrap();
            store.flush_blocking().unwrap();
        }));
        match page.next_page {
            Some(token) => {
                url = format!("{base}/admin/api/2026-07/orders.json?limit=250&page_info={token}")
            }
            None => {
                if let Some(p) = pending.take() {
                    p.await.unwrap();
                }
                return (orders, bytes);
            }
        }
    }
}

fn row(rows: &mut Rows, what: &str, value: String, target: &str, verdict: String) {
    rows.push([what.to_string(), value, target.to_string(), verdict]);
}

type Rows = Vec<[String; 4]>;

const SECTIONS: &[&str] = &[
    "load",
    "instantiate",
    "page",
    "sync",
    "many",
    "pass",
    "sync12k",
    "sync12k-sled-default",
    "marketplaces",
];

/// Each section runs in its own process, so its peak RSS is its own.
fn main() {
    // As the daemon's own main does, before any thread starts.
    tradelane::memory::limit_malloc_arenas();
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--serve") {
        let orders: u32 = args[i + 1].parse().unwrap();
        let seed: u64 = args[i + 2].parse().unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(serve(orders, seed));
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--section") {
        let name = args.get(i + 1).cloned().unwrap_or_default();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let rows = rt.block_on(section(&name));
        for r in rows {
            println!("ROW\t{}", serde_json::to_string(&r).unwrap());
        }
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let mut rows: Rows = Vec::new();
    // `cargo bench … -- pass many` runs only the sections named.
    let wanted: Vec<&String> = args[1..].iter().filter(|a| !a.starts_with('-')).collect();
    let selected = SECTIONS
        .iter()
        .filter(|s| wanted.is_empty() || wanted.iter().any(|w| w.as_str() == **s));
    for name in selected {
        let out = std::process::Command::new(&exe)
            .args(["--section", name])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "section {name} failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        rows.extend(
            stdout
                .lines()
                .filter_map(|l| l.strip_prefix("ROW\t"))
                .map(|j| serde_json::from_str::<[String; 4]>(j).unwrap()),
        );
    }
    print_table(&rows);
}

async fn section(name: &str) -> Rows {
    match name {
        "load" => load().await,
        "instantiate" => instantiate().await,
        "page" => page().await,
        "sync" => sync_e2e().await,
        "many" => many().await,
        "pass" => shipping_pass().await,
        "sync12k" => sync_rss(None).await,
        "sync12k-sled-default" => sync_rss(Some(1024)).await,
        "marketplaces" => marketplaces().await,
        other => panic!("unknown section {other}"),
    }
}

fn ok(b: bool) -> String {
    if b {
        "met".to_string()
    } else {
        "NOT met".to_string()
    }
}

async fn loaded_host(cache: &std::path::Path) -> (PluginHost, Vec<tradelane::host::Plugin>) {
    let host = PluginHost::new(Some(cache.to_path_buf())).unwrap();
    let mut plugins = Vec::new();
    for (name, bytes) in builtin::BUILTIN {
        plugins.push(host.load(PluginSource::Builtin(name), bytes).await.unwrap());
    }
    (host, plugins)
}

/// (c) and (d).
async fn load() -> Rows {
    let mut rows = Rows::new();
    let cache = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let (cold_host, _) = loaded_host(cache.path()).await;
    let cold = t.elapsed();
    drop(cold_host);
    let host = PluginHost::new(Some(cache.path().to_path_buf())).unwrap();
    let t = Instant::now();
    for (name, bytes) in builtin::BUILTIN {
        host.load(PluginSource::Builtin(name), bytes).await.unwrap();
    }
    let warm = t.elapsed();
    row(
        &mut rows,
        "(c) load all built-ins, cold cache (engine + compile)",
        format!("{:.0} ms", cold.as_secs_f64() * 1e3),
        "—",
        "—".into(),
    );
    row(
        &mut rows,
        "(c) load all built-ins, warm cache",
        format!("{:.1} ms", warm.as_secs_f64() * 1e3),
        "≤ 20 ms",
        ok(warm <= Duration::from_millis(20)),
    );
    row(
        &mut rows,
        "(d) peak RSS, all plugins loaded",
        mib(rss_kib("VmHWM:")),
        "report",
        format!("pooling allocator: {}", host.pooling()),
    );
    rows
}

/// (b)
async fn instantiate() -> Rows {
    let mut rows = Rows::new();
    let cache = tempfile::tempdir().unwrap();
    let (_host, plugins) = loaded_host(cache.path()).await;
    let svc = services(Arc::new(HttpEgress::new(EgressSettings::default())));
    for _ in 0..200 {
        plugins[0].probe(svc.clone(), limits()).await.unwrap();
    }
    let n = 5000;
    let t = Instant::now();
    for _ in 0..n {
        plugins[0].probe(svc.clone(), limits()).await.unwrap();
    }
    let per = t.elapsed() / n;
    row(
        &mut rows,
        "(b) fresh store + instantiate per call",
        format!("{:.1} µs", per.as_secs_f64() * 1e6),
        "≤ 30 µs",
        ok(per <= Duration::from_micros(30)),
    );
    rows
}

/// (a)
async fn page() -> Rows {
    let mut rows = Rows::new();
    let cache = tempfile::tempdir().unwrap();
    let (_host, plugins) = loaded_host(cache.path()).await;
    let shopify_plugin = &plugins[0];
    let sb = sandbox(300, 42).await;
    let (page, page_bytes) = fetch_raw(&format!(
        "{}/admin/api/2026-07/orders.json?status=any&limit=250",
        sb.url()
    ))
    .await;
    let empty = Response {
        status: 200,
        headers: Vec::new(),
        body: br#"{"orders":[]}"#.to_vec(),
    };
    let replay = services(Arc::new(Replay(page.clone())));
    let replay_empty = services(Arc::new(Replay(empty)));
    let settings = PluginSettings {
        values: vec![
            ("shop".into(), "bench.myshopify.com".into()),
            ("base_url".into(), sb.url()),
        ],
        secret_names: vec!["access_token".into()],
    };
    let query = OrderQuery {
        updated_after: None,
        page_token: None,
        page_size: 250,
    };
    let iterations = 30;
    let measure_plugin = |svc: CallServices, expect: usize| {
        let (settings, query) = (&settings, &query);
        async move {
            let t = Instant::now();
            for _ in 0..iterations {
                let p = shopify_plugin
                    .fetch_orders(svc.clone(), limits(), settings, query)
                    .await
                    .unwrap();
                assert_eq!(p.orders.len(), expect);
            }
            t.elapsed() / iterations
        }
    };
    let measure_native = || {
        let t = Instant::now();
        for _ in 0..iterations {
            let p = shopify::page(&sdk::Response {
                status: 200,
                headers: page.headers.clone(),
                body: page.body.clone(),
            })
            .unwrap();
            let d: Vec<model::Order> = p.orders.into_iter().map(to_domain).collect();
            assert_eq!(d.len(), 250);
        }
        t.elapsed() / iterations
    };
    let measure_parse = || {
        let t = Instant::now();
        for _ in 0..iterations {
            let p: shopify::wire::OrdersBody = serde_json::from_slice(&page.body).unwrap();
            assert_eq!(p.orders.len(), 250);
        }
        t.elapsed() / iterations
    };
    measure_plugin(replay.clone(), 250).await;
    measure_native();
    let (mut plugin_best, mut native_best, mut empty_best, mut parse_best) =
        (Duration::MAX, Duration::MAX, Duration::MAX, Duration::MAX);
    for _ in 0..3 {
        plugin_best = plugin_best.min(measure_plugin(replay.clone(), 250).await);
        native_best = native_best.min(measure_native());
        empty_best = empty_best.min(measure_plugin(replay_empty.clone(), 0).await);
        parse_best = parse_best.min(measure_parse());
    }
    let ratio = plugin_best.as_secs_f64() / native_best.as_secs_f64();
    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1e3);
    row(
        &mut rows,
        "(a) page: 250 orders of Shopify JSON",
        format!("{} KiB", page_bytes / 1024),
        "~10 KB/order",
        format!("{} B/order", page_bytes / 250),
    );
    row(
        &mut rows,
        "(a) plugin: instance + parse + map + lift + validate",
        ms(plugin_best),
        "—",
        "—".into(),
    );
    row(
        &mut rows,
        "(a)   of which: same call on an empty page",
        ms(empty_best),
        "—",
        "fixed cost per call".into(),
    );
    row(
        &mut rows,
        "(a) native: parse + map + validate",
        ms(native_best),
        "—",
        "—".into(),
    );
    row(
        &mut rows,
        "(a)   of which: serde parse alone (native)",
        ms(parse_best),
        "—",
        "—".into(),
    );
    row(
        &mut rows,
        "(a) plugin / native",
        format!("{ratio:.2}×"),
        "≤ 1.5×",
        ok(ratio <= 1.5),
    );
    sb.shutdown().await;
    rows
}

/// A sandbox in its own process, so the RSS measured is tradelane's alone:
/// prints its URL once its render cache is warm, serves until stdin closes.
async fn serve(orders: u32, seed: u64) {
    let sb = sandbox(orders, seed).await;
    let warm = tempfile::tempdir().unwrap();
    native_sync(&Store::open(warm.path()).unwrap(), &sb.url(), "warm").await;
    println!("{}", sb.url());
    let mut line = String::new();
    let _ = tokio::task::spawn_blocking(move || std::io::stdin().read_line(&mut line)).await;
    sb.shutdown().await;
}

struct RemoteSandbox {
    child: std::process::Child,
    url: String,
}

impl RemoteSandbox {
    fn start(orders: u32, seed: u64) -> Self {
        use std::io::BufRead;
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--serve", &orders.to_string(), &seed.to_string()])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut url = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut url)
            .unwrap();
        RemoteSandbox {
            child,
            url: url.trim().to_string(),
        }
    }
    fn url(&self) -> String {
        self.url.clone()
    }
}

impl Drop for RemoteSandbox {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// (e)
async fn sync_e2e() -> Rows {
    let mut rows = Rows::new();
    let total = 5000;
    let sb = RemoteSandbox::start(total, 43);
    let dir = tempfile::tempdir().unwrap();
    let text = config_text(
        &dir.path().join("data"),
        &[shopify_channel("shop", &sb.url(), TOKEN, 250)],
    );
    let (_, config) = write_config(dir.path(), &text);
    let h = Harness::new(&config).await;
    let before = rss_kib("VmRSS:");
    reset_peak();
    let t = Instant::now();
    let report = h.pass(0).await.unwrap();
    let plugin_time = t.elapsed();
    let sync_peak = rss_kib("VmHWM:");
    assert_eq!(report.created, total);
    h.store.flush().await.unwrap();
    let bytes_per_order = h.store.size_on_disk() / u64::from(total);
    let native_dir = tempfile::tempdir().unwrap();
    let native_store = Store::open(native_dir.path()).unwrap();
    let t = Instant::now();
    let (native_orders, json_bytes) = native_sync(&native_store, &sb.url(), "shop").await;
    let native_time = t.elapsed();
    assert_eq!(native_orders as u32, total);
    let plugin_rate = f64::from(total) / plugin_time.as_secs_f64();
    let native_rate = f64::from(total) / native_time.as_secs_f64();
    let mb_s = json_bytes as f64 / plugin_time.as_secs_f64() / 1e6;
    row(
        &mut rows,
        "(e) sync 5000 orders: sandbox → plugin → sled",
        format!("{plugin_rate:.0} orders/s ({mb_s:.0} MB/s JSON)"),
        "≥ 10,000/s",
        ok(plugin_rate >= 10_000.0),
    );
    row(
        &mut rows,
        "(e) same path native (reqwest + serde + sled)",
        format!("{native_rate:.0} orders/s"),
        "—",
        "—".into(),
    );
    row(
        &mut rows,
        "(e) plugin / native throughput",
        format!("{:.2}×", plugin_rate / native_rate),
        "≥ 0.6×",
        ok(plugin_rate / native_rate >= 0.6),
    );
    row(
        &mut rows,
        "(e) peak RSS of tradelane during the sync",
        mib(sync_peak),
        "≤ 100 MB",
        format!(
            "{} (before the pass: {})",
            ok(sync_peak * 1024 <= 100_000_000),
            mib(before)
        ),
    );
    row(
        &mut rows,
        "(e) store bytes per order (sled, on disk)",
        format!("{bytes_per_order} B"),
        "report",
        "—".into(),
    );
    drop(sb);
    rows
}

/// (f)
async fn many() -> Rows {
    let mut rows = Rows::new();
    let sb = RemoteSandbox::start(500, 44);
    let dir = tempfile::tempdir().unwrap();
    let channels: Vec<String> = (0..200)
        .map(|i| shopify_channel(&format!("c{i}"), &sb.url(), TOKEN, 250))
        .collect();
    let text = config_text(&dir.path().join("data"), &channels);
    let (_, config) = write_config(dir.path(), &text);
    let h = Arc::new(Harness::new(&config).await);
    reset_peak();
    let t = Instant::now();
    let permits = Arc::new(tokio::sync::Semaphore::new(8));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..200 {
        let (h, permits) = (h.clone(), permits.clone());
        tasks.spawn(async move {
            let _p = permits.acquire().await.unwrap();
            h.pass(i).await.unwrap().created
        });
    }
    let mut created = 0;
    while let Some(r) = tasks.join_next().await {
        created += r.unwrap();
    }
    let wall = t.elapsed();
    assert_eq!(created, 100_000);
    row(
        &mut rows,
        "(f) 200 channels × 500 orders, one pass (8 at once)",
        format!(
            "{:.1} s ({:.0} orders/s)",
            wall.as_secs_f64(),
            100_000.0 / wall.as_secs_f64()
        ),
        "≤ 200 MiB at ≥ 6,796/s",
        {
            let peak = rss_kib("VmHWM:");
            let rate = 100_000.0 / wall.as_secs_f64();
            // 6,796 orders/s is 90 % of the 7,551 measured before the
            // store cache and malloc arenas were bounded.
            format!(
                "{}: peak RSS {}",
                ok(peak <= 200 * 1024 && rate >= 6_796.0),
                mib(peak)
            )
        },
    );
    drop(sb);
    rows
}

/// (g): one shipping pass over 50,000 stored orders of which 10 changed,
/// reading the change events, against the same pass re-listing every
/// order (what every pass did before, and the periodic sweep still does).
async fn shipping_pass() -> Rows {
    const STORED: usize = 50_000;
    const CHANGED: usize = 10;
    let mut rows = Rows::new();
    let dir = tempfile::tempdir().unwrap();
    // Nothing is reachable there: every order is already fulfilled, so the
    // pass decides without calling a plugin, as for most stored orders.
    let nowhere = "http://127.0.0.1:9";
    let text = config_text(
        &dir.path().join("data"),
        &[
            shopify_channel("shop", nowhere, TOKEN, 250),
            shipping_block(nowhere, "", "", &[]),
        ],
    );
    let (_, config) = write_config(dir.path(), &text);
    let h = Harness::new(&config).await;
    let template = fixture_order();
    let order = |i: usize, bump: i64| {
        let mut o = template.clone();
        o.external_id = format!("{}", 9_000_000 + i);
        o.number = format!("#{}", 100_000 + i);
        o.fulfillment_status = model::FulfillmentStatus::Fulfilled;
        o.updated_at += chrono::Duration::seconds(bump);
        o
    };
    for chunk in (0..STORED).collect::<Vec<_>>().chunks(1000) {
        let page: Vec<model::Order> = chunk.iter().map(|&i| order(i, 0)).collect();
        h.store
            .commit_page("s1", "shop", "orders", &page, &SyncCursor::default())
            .unwrap();
    }
    h.store.flush().await.unwrap();
    let workflow = &h.shipping[0];
    workflow.run_pass(&h.store).await.unwrap();
    let median = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let mut full = Vec::new();
    let mut incremental = Vec::new();
    for round in 1..=5 {
        let changed: Vec<model::Order> = (0..CHANGED)
            .map(|i| order(i * (STORED / CHANGED), round))
            .collect();
        // As a sync page does: commit, then flush before the pass reads.
        h.store
            .commit_page("s1", "shop", "orders", &changed, &SyncCursor::default())
            .unwrap();
        h.store.flush().await.unwrap();
        let t = Instant::now();
        workflow.run_pass(&h.store).await.unwrap();
        incremental.push(t.elapsed());
        workflow.sweep_next();
        let t = Instant::now();
        workflow.run_pass(&h.store).await.unwrap();
        full.push(t.elapsed());
    }
    let (events, relist) = (median(incremental), median(full));
    row(
        &mut rows,
        "(g) shipping pass, 50,000 stored, 10 changed: events",
        format!("{:.2} ms", events.as_secs_f64() * 1e3),
        "< 50 ms",
        ok(events < Duration::from_millis(50)),
    );
    row(
        &mut rows,
        "(g) same pass re-listing every order (the sweep)",
        format!("{:.0} ms", relist.as_secs_f64() * 1e3),
        "—",
        format!(
            "{:.0}× the events pass",
            relist.as_secs_f64() / events.as_secs_f64()
        ),
    );
    rows
}

/// One real Shopify order from the fixtures, through the plugin's mapping.
fn fixture_order() -> model::Order {
    let body = std::fs::read(fixtures().join("shopify/orders.json")).unwrap();
    let page = shopify::page(&sdk::Response {
        status: 200,
        headers: Vec::new(),
        body,
    })
    .unwrap();
    to_domain(page.orders.into_iter().next().unwrap())
}

/// (h): peak RSS of one 12,000-order sync pass (the path `sync --once`
/// runs), with the store cache of config (`None`: the default).
async fn sync_rss(store_cache_mb: Option<u32>) -> Rows {
    let mut rows = Rows::new();
    let total = 12_000;
    let sb = RemoteSandbox::start(total, 45);
    let dir = tempfile::tempdir().unwrap();
    let mut text = config_text(
        &dir.path().join("data"),
        &[shopify_channel("shop", &sb.url(), TOKEN, 250)],
    );
    if let Some(mb) = store_cache_mb {
        text = text.replace("[daemon]\n", &format!("[daemon]\nstore_cache_mb = {mb}\n"));
    }
    let (_, config) = write_config(dir.path(), &text);
    let h = Harness::new(&config).await;
    reset_peak();
    let t = Instant::now();
    let report = h.pass(0).await.unwrap();
    let elapsed = t.elapsed();
    assert_eq!(report.created, total);
    let peak = rss_kib("VmHWM:");
    let rate = f64::from(total) / elapsed.as_secs_f64();
    match store_cache_mb {
        None => row(
            &mut rows,
            "(h) sync 12,000 orders, store_cache_mb = 16 (default)",
            format!("peak RSS {} at {rate:.0} orders/s", mib(peak)),
            "≤ 100 MB",
            ok(peak * 1024 <= 100_000_000),
        ),
        Some(mb) => row(
            &mut rows,
            &format!("(h) same sync, store_cache_mb = {mb} (sled's default)"),
            format!("peak RSS {} at {rate:.0} orders/s", mib(peak)),
            "—",
            "—".into(),
        ),
    }
    drop(sb);
    rows
}

fn print_table(rows: &Rows) {
    let widths = [0, 1, 2, 3].map(|c| {
        rows.iter()
            .map(|r| r[c].chars().count())
            .max()
            .unwrap_or(0)
            .max(8)
    });
    let line = |cells: [&str; 4]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("| {} |", padded.join(" | "));
    };
    println!(
        "\ntradelane platform benchmark ({} cores)\n",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    line(["measure", "value", "target", "verdict"]);
    println!(
        "|{}|",
        widths
            .iter()
            .map(|w| "-".repeat(w + 2))
            .collect::<Vec<_>>()
            .join("|")
    );
    for r in rows {
        line([&r[0], &r[1], &r[2], &r[3]]);
    }
}

/// (i) What Amazon's and eBay's APIs cost: requests per 1,000 orders, and
/// the time of a first Amazon sync of ~10,000 orders under the real usage
/// plan of searchOrders (a burst of 20, then 0.0056 requests/s). The
/// sandbox enforces the plan with its rates multiplied by `SCALE`, and
/// the host paces itself by the rate the sandbox states; the measured
/// time × `SCALE` is the real plan's.
async fn marketplaces() -> Rows {
    const SCALE: u32 = 1000;
    let mut rows = Rows::new();
    let mut config = sandbox_config(0, 5);
    // ~57% of the sandbox's destinations are on the EU channel.
    config.amazon_orders = 17_500;
    config.ebay_orders = 1_000;
    config.faults.amazon_throttle = true;
    config.faults.amazon_rate_scale = SCALE;
    let sandbox = tradelane_sandbox::Sandbox::start(config).await.unwrap();
    let url = sandbox.url();
    let dir = tempfile::tempdir().unwrap();
    let text = config_text(
        &dir.path().join("data"),
        &[
            amazon_channel("amazon", &url, 100),
            ebay_channel("ebay", &url, 200),
        ],
    );
    let (_, config) = write_config(dir.path(), &text);
    let h = Harness::new(&config).await;
    let t = Instant::now();
    let report = h.pass(0).await.expect("amazon pass");
    let elapsed = t.elapsed();
    let count = |served: &[serde_json::Value], prefix: &str| {
        served
            .iter()
            .filter(|s| s["path"].as_str().unwrap_or("").starts_with(prefix) && s["status"] == 200)
            .count()
    };
    let searches = count(&served(&url).await, "/orders/2026-01-01/orders?");
    let orders = report.created as usize;
    row(
        &mut rows,
        "(i) Amazon: requests per 1,000 orders (searchOrders)",
        format!("{:.1}", searches as f64 * 1000.0 / orders as f64),
        "no per-order calls",
        format!("{searches} for {orders} orders; v0 needed 2 per order more"),
    );
    let real = elapsed.as_secs_f64() * f64::from(SCALE);
    row(
        &mut rows,
        &format!("(i) Amazon: first sync of {orders} orders, real usage plan"),
        format!("{:.0} min", real / 60.0),
        "report",
        format!(
            "measured {:.1} s at {SCALE}× the rate",
            elapsed.as_secs_f64()
        ),
    );
    let report = h.pass(1).await.expect("ebay pass");
    let pages = count(&served(&url).await, "/sell/fulfillment/v1/order?");
    row(
        &mut rows,
        "(i) eBay: requests per 1,000 orders (getOrders, limit 200)",
        format!("{:.1}", pages as f64 * 1000.0 / f64::from(report.created)),
        "report",
        format!(
            "{pages} pages for {} orders (a fifth of each re-read)",
            report.created
        ),
    );
    sandbox.shutdown().await;
    rows
}

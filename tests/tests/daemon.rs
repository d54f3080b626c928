//! The real `tradelane` binary against a sandbox on loopback: two channels
//! where one fails, reading while the daemon runs, SIGTERM, `kill -9` in
//! mid-sync, export/import, and config errors.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tradelane::store::StoredOrder;
use tradelane_sandbox::SandboxFaults;
use tradelane_tests::*;

fn tradelane(config: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(binary())
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .expect("run tradelane")
}

/// `tradelane run` on `config`, its output discarded.
fn spawn_quiet(config: &std::path::Path) -> Child {
    Command::new(binary())
        .arg("--config")
        .arg(config)
        .arg("run")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start tradelane run")
}

/// SIGTERM, and the daemon stops cleanly.
fn stop(mut daemon: Child) {
    Command::new("kill")
        .args(["-TERM", &daemon.id().to_string()])
        .status()
        .unwrap();
    assert!(daemon.wait().unwrap().success(), "a clean stop");
}

fn spawn_run(config: &std::path::Path) -> Child {
    Command::new(binary())
        .arg("--config")
        .arg(config)
        .arg("run")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tradelane run")
}

fn listed(config: &std::path::Path) -> Vec<StoredOrder> {
    let out = tradelane(config, &["orders", "list", "--format", "json"]);
    assert!(
        out.status.success(),
        "orders list: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON order per line"))
        .collect()
}

async fn wait_for_pages(url: &str, pages: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let n = served(url)
            .await
            .iter()
            .filter(|s| {
                s["path"]
                    .as_str()
                    .is_some_and(|p| p.contains("orders.json"))
                    && s["status"] == 200
            })
            .count();
        if n >= pages {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the daemon served only {n} pages in 60 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A sandbox answering every request `latency_ms` late, a config syncing it
/// 10 orders a page, and `tradelane run` started on it.
async fn slow_daemon(
    orders: u32,
    seed: u64,
    latency_ms: u32,
) -> (
    tempfile::TempDir,
    tradelane_sandbox::Sandbox,
    std::path::PathBuf,
    Child,
) {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = sandbox(orders, seed).await;
    sandbox.set_faults(SandboxFaults {
        latency_ms,
        ..Default::default()
    });
    let text = config_text(
        &dir.path().join("data"),
        &[shopify_channel("shop", &sandbox.url(), TOKEN, 10)],
    );
    let (path, _) = write_config(dir.path(), &text);
    let daemon = spawn_run(&path);
    (dir, sandbox, path, daemon)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_failing_channel_does_not_stop_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = sandbox(35, 5).await;
    let misbehave = plugin_dir().join("misbehave.wasm");
    let looping = format!(
        "\n[[sellers.channels]]\nid = \"broken\"\nplugin = \"{}\"\ncpu_deadline = \"300ms\"\n[sellers.channels.settings]\nmode = \"loop\"\n",
        misbehave.display()
    );
    let text = config_text(
        &dir.path().join("data"),
        &[looping, shopify_channel("shop", &sandbox.url(), TOKEN, 10)],
    );
    let (path, _) = write_config(dir.path(), &text);
    let out = tradelane(&path, &["sync", "--once"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "non-zero when a channel fails:\n{stdout}"
    );
    assert!(
        stdout.contains("s1/broken: FAILED") && stdout.contains("CPU deadline of 300 ms"),
        "{stdout}"
    );
    assert!(
        stdout.contains("s1/shop: page 1")
            && stdout.contains("s1/shop: done — 4 pages, 35 orders, 35 new"),
        "{stdout}"
    );
    assert_matches_truth(&listed(&path), &truth(&sandbox.url()).await);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_in_mid_sync_then_restart_gives_exactly_the_sandbox_orders() {
    let (_dir, sandbox, path, mut daemon) = slow_daemon(150, 9, 120).await;
    wait_for_pages(&sandbox.url(), 4).await;
    // Reading works while the daemon holds the store.
    let partial = listed(&path);
    assert!(
        !partial.is_empty() && partial.len() < 150,
        "mid-sync the daemon shows {} orders",
        partial.len()
    );
    daemon.kill().expect("SIGKILL");
    daemon.wait().unwrap();
    sandbox.set_faults(SandboxFaults::default());
    let out = tradelane(&path, &["sync", "--once"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_matches_truth(&listed(&path), &truth(&sandbox.url()).await);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_after_the_page_in_flight_commits() {
    let (_dir, sandbox, path, mut daemon) = slow_daemon(100, 4, 150).await;
    wait_for_pages(&sandbox.url(), 3).await;
    let term = Command::new("kill")
        .args(["-TERM", &daemon.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let started = Instant::now();
    let status = loop {
        if let Some(s) = daemon.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the daemon did not stop"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(daemon.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(status.success(), "exit {status}: {stderr}");
    assert!(
        stderr.contains("shutting down after the pages in flight commit")
            && stderr.contains("stopped"),
        "{stderr}"
    );
    // Every page the sandbox served before the signal was committed.
    let stored = listed(&path);
    let served_pages: Vec<u64> = served(&sandbox.url())
        .await
        .iter()
        .filter(|s| s["status"] == 200)
        .flat_map(|s| {
            s["order_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(
        stored.len(),
        served_pages.len(),
        "committed exactly the pages that were served"
    );
    assert!(stored.len() < 100, "stopped before the end of the pass");
    sandbox.set_faults(SandboxFaults::default());
    assert!(tradelane(&path, &["sync", "--once"]).status.success());
    assert_matches_truth(&listed(&path), &truth(&sandbox.url()).await);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_then_import_round_trips_identically() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = sandbox(45, 2).await;
    let text = config_text(
        &dir.path().join("data"),
        &[shopify_channel("shop", &sandbox.url(), TOKEN, 20)],
    );
    let (path, _) = write_config(dir.path(), &text);
    assert!(tradelane(&path, &["sync", "--once"]).status.success());
    let dump = dir.path().join("dump.jsonl");
    assert!(
        tradelane(
            &path,
            &["export", "--format", "jsonl", "-o", dump.to_str().unwrap()]
        )
        .status
        .success()
    );

    let other = tempfile::tempdir().unwrap();
    let text2 = config_text(
        &other.path().join("data"),
        &[shopify_channel("shop", &sandbox.url(), TOKEN, 20)],
    );
    let (path2, _) = write_config(other.path(), &text2);
    let out = tradelane(&path2, &["import", dump.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dump2 = other.path().join("dump.jsonl");
    assert!(
        tradelane(&path2, &["export", "-o", dump2.to_str().unwrap()])
            .status
            .success()
    );
    let (a, b) = (
        std::fs::read(&dump).unwrap(),
        std::fs::read(&dump2).unwrap(),
    );
    assert_eq!(String::from_utf8_lossy(&a).lines().count(), 45);
    assert_eq!(a, b, "export → import → export must be identical");
    // Importing into a store that has orders is refused, and changes nothing.
    let out = tradelane(&path2, &["import", dump.to_str().unwrap()]);
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("empty data_dir")
    );
    sandbox.shutdown().await;
}

#[test]
fn a_malformed_config_names_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    let cases = [
        (
            "[[sellers]]\nid = \"s\"\n[[sellers.channels]]\nid = \"c\"\nplugin = \"shopify\"\nschedule = \"every blue moon\"\n",
            ":6:",
            "sellers[0].channels[0].schedule",
        ),
        (
            "[daemon]\ndata_dir = \"d\"\nlog_fromat = \"json\"\n",
            ":3:",
            "log_fromat",
        ),
        (
            "[[sellers]]\nid = \"s\"\n[[sellers.channels]]\nid = \"c\"\nplugin = \"shopify\"\n[sellers.channels.settings]\nshop = \"x.myshopify.com\"\naccess_token = { env = \"TRADELANE_TEST_UNSET_TOKEN\" }\n",
            ":8:",
            "sellers[0].channels[0].settings.access_token",
        ),
        (
            "[[sellers]]\nid = \"s\"\n[[sellers.channels]]\nid = \"c\"\nplugin = \"shopify\"\nallowed_hosts = [\"evil.example.com\"]\n[sellers.channels.settings]\nshop = \"x.myshopify.com\"\naccess_token = \"t\"\n",
            ":4:",
            "extra_hosts",
        ),
    ];
    for (text, line, key) in cases {
        std::fs::write(&path, text).unwrap();
        let out = Command::new(binary())
            .arg("--config")
            .arg(&path)
            .arg("check")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(78), "{stderr}");
        assert!(
            stderr.contains(&format!("config.toml{line}")) && stderr.contains(key),
            "expected {line} and {key} in: {stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_applies_a_valid_config_rolls_back_an_invalid_one_and_loses_nothing() {
    let sandbox = sandbox(20, 5).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let one = config_text(&data, &[shopify_channel("shop", &sandbox.url(), TOKEN, 7)]);
    let (path, _) = write_config(dir.path(), &one);
    let mut daemon: Child = Command::new(binary())
        .arg("--config")
        .arg(&path)
        .arg("run")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = |path: &std::path::Path| {
        let out = tradelane(path, &["status", "--format", "json"]);
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap_or_default()
    };
    let wait_for = |what: &str, ok: &dyn Fn(&serde_json::Value) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let s = status(&path);
            if ok(&s) {
                return s;
            }
            assert!(Instant::now() < deadline, "{what}: {s}");
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    let s = wait_for("the first channel syncs", &|s| {
        s["parts"]["s1/shop"]["last_success"].is_string()
    });
    assert_eq!(
        (s["failing"].as_u64(), s["orders"].as_u64()),
        (Some(0), Some(20))
    );

    // A valid change: a second channel, applied by SIGHUP while running.
    let two = config_text(
        &data,
        &[
            shopify_channel("shop", &sandbox.url(), TOKEN, 7),
            shopify_channel("shop2", &sandbox.url(), TOKEN, 7),
        ],
    );
    std::fs::write(&path, &two).unwrap();
    Command::new("kill")
        .args(["-HUP", &daemon.id().to_string()])
        .status()
        .unwrap();
    let s = wait_for("the reload applies and the new channel syncs", &|s| {
        s["parts"]["s1/shop2"]["last_success"].is_string()
    });
    assert!(
        s["parts"]["daemon/config"]["state"]
            .as_str()
            .unwrap_or("")
            .starts_with("reload applied"),
        "{s}"
    );

    // An invalid change is refused; the running config stays.
    std::fs::write(
        &path,
        two.replace("[daemon]\n", "[daemon]\nbogus_key = 1\n"),
    )
    .unwrap();
    let out = tradelane(&path.clone(), &["reload"]);
    let said = String::from_utf8_lossy(&out.stdout);
    // The CLI itself loads the config to find the socket: refused at once.
    assert_ne!(out.status.code(), Some(0), "{said}");
    std::fs::write(
        &path,
        two.replace(
            "access_token = \"shpat_sandbox\"",
            "access_token = { env = \"TRADELANE_TEST_UNSET\" }",
        ),
    )
    .unwrap();
    let out = tradelane(&path, &["reload"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("rolled back") && said.contains("TRADELANE_TEST_UNSET"),
        "{said}"
    );
    assert!(daemon.try_wait().unwrap().is_none(), "still running");
    std::fs::write(&path, &two).unwrap();
    let s = status(&path);
    assert!(
        s["parts"]["s1/shop"].is_object() && s["parts"]["s1/shop2"].is_object(),
        "{s}"
    );
    assert!(
        s["parts"]["daemon/config"]["state"]
            .as_str()
            .unwrap_or("")
            .contains("rolled back"),
        "{s}"
    );

    // Nothing lost, nothing twice: each channel holds the sandbox's 20.
    let listed = tradelane(&path, &["orders", "list", "--format", "json"]);
    let orders: Vec<serde_json::Value> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for channel in ["shop", "shop2"] {
        let mut ids: Vec<&str> = orders
            .iter()
            .filter(|o| o["channel"] == channel)
            .map(|o| o["order"]["external_id"].as_str().unwrap())
            .collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 20, "{channel}");
    }
    assert_eq!(orders.len(), 40);
    Command::new("kill")
        .args(["-TERM", &daemon.id().to_string()])
        .status()
        .unwrap();
    let out = daemon.wait_with_output().unwrap();
    assert!(out.status.success());
    let log = String::from_utf8_lossy(&out.stderr);
    // The test config logs warnings only: the refused reload is one.
    assert!(log.contains("config reload rolled back"), "{log}");
    assert!(
        !log.contains("\u{1b}["),
        "no colour codes when the log is not a terminal"
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_stopped_for_credentials_resumes_on_its_own_once_they_work() {
    let sandbox = sandbox(10, 3).await;
    let hooks = tradelane_tests::receivers::HttpReceiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let text = config_text(
        &dir.path().join("data"),
        &[shopify_channel("shop", &sandbox.url(), TOKEN, 50)],
    )
    .replace("[daemon]\n", "[daemon]\nstopped_retry = \"1s\"\n")
        + &format!(
            "\n[[notify]]\nkind = \"webhook\"\nurl = \"{}/hook\"\n",
            hooks.url
        );
    let (path, _) = write_config(dir.path(), &text);
    // The seller revoked the app: every token is refused.
    sandbox.set_faults(SandboxFaults {
        reject_auth: true,
        ..Default::default()
    });
    let daemon: Child = Command::new(binary())
        .arg("--config")
        .arg(&path)
        .arg("run")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = |path: &std::path::Path| {
        let out = tradelane(path, &["status", "--format", "json"]);
        (
            out.status.code(),
            serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap_or_default(),
        )
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (code, s) = status(&path);
        let state = s["parts"]["s1/shop"]["state"].as_str().unwrap_or("");
        if state.starts_with("stopped") {
            assert_eq!(
                code,
                Some(1),
                "status fails while a channel is stopped: {s}"
            );
            assert!(
                s["parts"]["s1/shop"]["next_run"].is_string(),
                "it will be tried again: {s}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "never stopped: {s}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The seller authorises the app again; nobody restarts anything.
    sandbox.set_faults(SandboxFaults::default());
    loop {
        let (code, s) = status(&path);
        if s["parts"]["s1/shop"]["last_success"].is_string() {
            assert_eq!(code, Some(0), "{s}");
            assert_eq!(s["orders"], 10);
            break;
        }
        assert!(Instant::now() < deadline, "never resumed: {s}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // A person was told, once each: stopped (with the fix), then recovered.
    let told: Vec<serde_json::Value> = hooks
        .wait_for(2, 10)
        .await
        .iter()
        .map(|r| r.json())
        .collect();
    assert_eq!(told.len(), 2, "{told:?}");
    assert_eq!(told[0]["type"], "channel_stopped");
    assert_eq!(told[0]["seller"], "s1");
    assert_eq!(told[0]["channel"], "shop");
    assert!(
        told[0]["message"].as_str().unwrap().contains("To fix"),
        "{told:?}"
    );
    assert_eq!(told[1]["type"], "channel_recovered");
    stop(daemon);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn systemd_hears_ready_a_status_line_and_the_watchdog_fed_by_the_scheduler() {
    use std::os::unix::net::UnixDatagram;
    let sandbox = sandbox(5, 3).await;
    let dir = tempfile::tempdir().unwrap();
    let text = config_text(
        &dir.path().join("data"),
        &[shopify_channel("shop", &sandbox.url(), TOKEN, 50)],
    );
    let (path, _) = write_config(dir.path(), &text);
    let socket = dir.path().join("notify.sock");
    let listener = UnixDatagram::bind(&socket).unwrap();
    listener
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // systemd names the watched process in WATCHDOG_PID: the shell's pid
    // is the daemon's after `exec`.
    let daemon: Child = Command::new("sh")
        .arg("-c")
        .arg(r#"WATCHDOG_PID=$$ exec "$0" --config "$1" run"#)
        .arg(binary())
        .arg(&path)
        .env("NOTIFY_SOCKET", &socket)
        .env("WATCHDOG_USEC", "2000000")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut heard = String::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline
        && !(heard.contains("READY=1")
            && heard.contains("WATCHDOG=1")
            && heard.contains("1 ok, 0 stopped"))
    {
        if let Ok(n) = listener.recv(&mut buf) {
            heard.push_str(&String::from_utf8_lossy(&buf[..n]));
            heard.push('\n');
        }
    }
    stop(daemon);
    assert!(heard.contains("READY=1"), "{heard}");
    assert!(heard.contains("WATCHDOG=1"), "{heard}");
    assert!(
        heard.contains("STATUS=") && heard.contains("1 ok, 0 stopped"),
        "{heard}"
    );
    sandbox.shutdown().await;
}

/// GET `path` from `addr` with a bare HTTP/1.1 request: (status, body).
fn http_get(addr: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nhost: {addr}\r\n\r\n").unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_health_and_ready_are_served_and_parse_as_prometheus() {
    let sandbox = sandbox(20, 4).await;
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let text = config_text(
        &dir.path().join("data"),
        &[shopify_channel("shop", &sandbox.url(), TOKEN, 7)],
    )
    .replace(
        "[daemon]\n",
        &format!("[daemon]\nhttp_listen = \"{addr}\"\n"),
    );
    let (path, _) = write_config(dir.path(), &text);
    let daemon: Child = spawn_quiet(&path);
    let deadline = Instant::now() + Duration::from_secs(60);
    let metrics = loop {
        if std::net::TcpStream::connect(&addr).is_ok() {
            let (status, body) = http_get(&addr, "/metrics");
            if status == 200 && body.contains("tradelane_orders_synced_total") {
                break body;
            }
        }
        assert!(Instant::now() < deadline, "no metrics in 60 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(http_get(&addr, "/health").0, 200);
    assert_eq!(http_get(&addr, "/ready").0, 200);
    assert_eq!(http_get(&addr, "/nope").0, 404);
    let parsed = prometheus_parse::Scrape::parse(metrics.lines().map(|l| Ok(l.to_string())))
        .expect("Prometheus text format");
    let value = |name: &str, labels: &[(&str, &str)]| -> f64 {
        parsed
            .samples
            .iter()
            .filter(|s| s.metric == name)
            .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .map(|s| match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                _ => 0.0,
            })
            .sum()
    };
    assert_eq!(
        value("tradelane_orders_synced_total", &[("channel", "shop")]),
        20.0
    );
    assert_eq!(value("tradelane_orders_stored", &[]), 20.0);
    assert!(
        value(
            "tradelane_plugin_calls_total",
            &[
                ("plugin", "shopify"),
                ("function", "fetch-orders"),
                ("outcome", "ok")
            ]
        ) >= 3.0
    );
    assert!(
        value(
            "tradelane_http_requests_total",
            &[("host", "127.0.0.1"), ("status", "200")]
        ) >= 3.0
    );
    assert!(
        value(
            "tradelane_last_success_timestamp_seconds",
            &[("part", "s1/shop")]
        ) > 1.7e9
    );
    assert!(value("tradelane_disk_free_bytes", &[]) > 0.0);
    assert!(
        parsed
            .samples
            .iter()
            .any(|s| s.metric.starts_with("tradelane_sync_pass_duration_seconds")),
        "a pass-duration histogram:\n{metrics}"
    );
    stop(daemon);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_once_asks_the_running_daemon_and_channels_pause_and_resume() {
    let sandbox = sandbox(30, 8).await;
    let dir = tempfile::tempdir().unwrap();
    let text = config_text(
        &dir.path().join("data"),
        &[shopify_channel("shop", &sandbox.url(), TOKEN, 10)],
    )
    .replace("schedule = \"every 1s\"", "schedule = \"every 1h\"");
    let (path, _) = write_config(dir.path(), &text);
    let parts = |path: &std::path::Path| {
        let out = tradelane(path, &["status", "--format", "json"]);
        (
            out.status.code(),
            serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap_or_default(),
        )
    };
    // Nothing to ask yet: pause needs the daemon, and says so.
    let out = tradelane(&path, &["channel", "pause", "s1/shop"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not running"));

    let daemon = spawn_quiet(&path);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, s) = parts(&path);
        if s["orders"] == 30 && s["parts"]["s1/shop"]["last_success"].is_string() {
            break;
        }
        assert!(Instant::now() < deadline, "first pass never ended: {s}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // New orders arrive; the next scheduled pass is an hour away. A pass
    // asked for now runs in the daemon, and its pages stream back.
    control(&sandbox.url(), "/_sandbox/tick?new=25&updates=0", None).await;
    let out = tradelane(&path, &["sync", "--once"]);
    let printed = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{printed}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(printed.contains("s1/shop: page 1 — "), "{printed}");
    assert!(
        printed.contains("s1/shop: done — ") && printed.contains("25 new"),
        "{printed}"
    );
    let (_, s) = parts(&path);
    assert_eq!(s["orders"], 55);
    assert_eq!(s["parts"]["s1/shop"]["orders_stored"], 55, "{s}");
    // The table for people: every column lined up under its title.
    let table = String::from_utf8(tradelane(&path, &["status"]).stdout).unwrap();
    let header = table
        .lines()
        .find(|l| l.starts_with("PART"))
        .expect("a header");
    let row = table
        .lines()
        .find(|l| l.starts_with("s1/shop"))
        .expect("a row");
    let stored_end = header.find("STORED").unwrap() + "STORED".len();
    assert_eq!(&row[stored_end - 2..stored_end], "55", "{table}");
    let out = tradelane(&path, &["sync", "--once", "--channel", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("running: s1/shop"));

    // Paused: no scheduled runs, status says how to resume and is not a failure.
    let out = tradelane(&path, &["channel", "pause", "s1/shop"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("s1/shop: paused"));
    let (code, s) = parts(&path);
    let state = s["parts"]["s1/shop"]["state"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        state.starts_with("paused") && state.contains("channel resume s1/shop"),
        "{s}"
    );
    assert!(s["parts"]["s1/shop"]["next_run"].is_null(), "{s}");
    assert_eq!(code, Some(0), "paused on purpose is not failing");
    let out = tradelane(&path, &["channel", "pause", "shop"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("already paused"));

    // Resumed: a pass starts at once and picks up what arrived meanwhile.
    control(&sandbox.url(), "/_sandbox/tick?new=5&updates=0", None).await;
    let out = tradelane(&path, &["channel", "resume", "s1/shop"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("resumed"));
    loop {
        let (_, s) = parts(&path);
        if s["orders"] == 60 && s["parts"]["s1/shop"]["state"] == "scheduled" {
            break;
        }
        assert!(Instant::now() < deadline, "resume did not sync: {s}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop(daemon);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_daemon_on_the_same_data_dir_is_told_at_once_who_runs() {
    let sandbox = sandbox(3, 2).await;
    let dir = tempfile::tempdir().unwrap();
    let text = config_text(
        &dir.path().join("data"),
        &[shopify_channel("shop", &sandbox.url(), TOKEN, 10)],
    );
    let (path, _) = write_config(dir.path(), &text);
    let first = spawn_quiet(&path);
    let deadline = Instant::now() + Duration::from_secs(30);
    while tradelane(&path, &["status"]).status.code() != Some(0) {
        assert!(Instant::now() < deadline, "the first daemon never answered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let started = Instant::now();
    let second = tradelane(&path, &["run"]);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("(pid {})", first.id())) && stderr.contains("is running on"),
        "{stderr}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "told at once, not after the store's lock wait: {:?}",
        started.elapsed()
    );
    stop(first);
    sandbox.shutdown().await;
}

//! A plugin's `println!` and `eprintln!` reach the log under the plugin's
//! name (they used to vanish), within the call's log caps, scrubbed of
//! secrets. Its own test binary: it installs the process's log subscriber.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tradelane::egress::{EgressSettings, HttpEgress, Secrets};
use tradelane::host::{CallLimits, PluginHost, PluginSettings, ticks};
use tradelane_tests::{call_services, first_page, loopback_policy, misbehave, mode};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn limits(max_log_lines: u32) -> CallLimits {
    CallLimits {
        deadline_ticks: ticks(Duration::from_millis(500)),
        memory_bytes: 64 << 20,
        max_requests: 5,
        wall_deadline: Duration::from_secs(60),
        max_log_lines,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdout_and_stderr_reach_the_log_under_the_plugins_name_within_the_caps() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing_subscriber::filter::LevelFilter::INFO)
        .init();
    let host = PluginHost::new(None).unwrap();
    let plugin = misbehave(&host).await;
    let services = || {
        call_services(
            "misbehave",
            loopback_policy(&[], &[]),
            Secrets::new(),
            Arc::new(HttpEgress::new(EgressSettings::default())),
        )
    };
    let settings = |count: &str| {
        let mut s: PluginSettings = mode("print", None);
        s.values.push(("count".into(), count.into()));
        s
    };
    let page = plugin
        .fetch_orders(services(), limits(200), &settings("0"), &first_page(10))
        .await
        .expect("printing is no error");
    assert_eq!(page.orders[0].number, "PRINTED");
    let text = String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned();
    let out = text
        .lines()
        .find(|l| l.contains("misbehave says hello on stdout"))
        .unwrap_or_else(|| panic!("stdout not in the log:\n{text}"));
    assert!(
        out.contains("INFO")
            && out.contains("plugin=misbehave")
            && out.contains("stream=\"stdout\""),
        "{out}"
    );
    let err = text
        .lines()
        .find(|l| l.contains("misbehave says hello on stderr"))
        .unwrap_or_else(|| panic!("stderr not in the log:\n{text}"));
    assert!(
        err.contains("WARN") && err.contains("stream=\"stderr\""),
        "{err}"
    );

    // A flood: at most `max_log_lines` lines reach the log, the rest are
    // counted, and what a stream holds per call is capped.
    captured.0.lock().unwrap().clear();
    plugin
        .fetch_orders(services(), limits(5), &settings("5000"), &first_page(10))
        .await
        .expect("a chatty plugin still works");
    let text = String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned();
    let printed = text.lines().filter(|l| l.contains(" line ")).count();
    assert!(printed <= 5, "{printed} lines reached the log");
    assert!(text.contains("more than 64 KiB to stdout"), "{text}");
    assert!(
        text.contains("more log lines than `max_log_lines_per_call`"),
        "{text}"
    );
}

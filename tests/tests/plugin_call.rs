//! `tradelane plugin call`: one export of a built component under the real
//! sandbox and egress, as a plugin author runs it. A `fetch-orders` recorded
//! against the simulated Shopify is reproduced exactly from the recording
//! after the API is gone; secrets stay placeholders in what is kept.

use tradelane_tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_fetch_orders_replays_with_no_network() {
    let sandbox = sandbox(12, 7).await;
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("settings.toml");
    std::fs::write(
        &settings,
        format!(
            "shop = \"demo-crafts.myshopify.com\"\nbase_url = \"{}\"\naccess_token = {{ env = \"CALL_TOKEN\" }}\n",
            sandbox.url()
        ),
    )
    .unwrap();
    let wasm = plugin_dir().join("shopify.wasm");
    let recording = dir.path().join("recorded");
    let run = |extra: &[&str]| {
        let mut cmd = std::process::Command::new(binary());
        cmd.args(["plugin", "call"])
            .arg(&wasm)
            .arg("fetch-orders")
            .arg("--settings")
            .arg(&settings)
            .args(["--allow-loopback", "--extra-host", "127.0.0.1"])
            .args(["--input", r#"{"page_size": 5}"#])
            .args(extra)
            .env("CALL_TOKEN", TOKEN);
        cmd.output().unwrap()
    };
    let recorded = run(&["--record", recording.to_str().unwrap()]);
    let live = succeeded(&recorded, "plugin call --record");
    let page: serde_json::Value = serde_json::from_str(&live).unwrap();
    assert_eq!(page["orders"].as_array().unwrap().len(), 5);
    assert!(page["next_page"].is_string());
    let kept = std::fs::read_to_string(recording.join("0001.json")).unwrap();
    assert!(kept.contains("{{secret:access_token}}"), "{kept}");
    assert!(
        !kept.contains(TOKEN),
        "the token never reaches the recording"
    );

    sandbox.shutdown().await;
    let replayed = run(&["--replay", recording.to_str().unwrap()]);
    assert_eq!(succeeded(&replayed, "plugin call --replay"), live);

    // A request the recording lacks fails, naming it; nothing is sent.
    let mut other = std::process::Command::new(binary());
    let missing = other
        .args(["plugin", "call"])
        .arg(&wasm)
        .arg("fetch-orders")
        .arg("--settings")
        .arg(&settings)
        .args(["--allow-loopback", "--extra-host", "127.0.0.1"])
        .args(["--input", r#"{"page_size": 7}"#])
        .args(["--replay", recording.to_str().unwrap()])
        .env("CALL_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert!(!missing.status.success());
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(
        err.contains("no recorded exchange for GET") && err.contains("limit=7"),
        "{err}"
    );
}

#[test]
fn the_wrong_export_for_the_kind_is_refused_with_the_list() {
    let out = std::process::Command::new(binary())
        .args(["plugin", "call"])
        .arg(plugin_dir().join("shopify.wasm"))
        .arg("quote")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "a marketplace plugin exports check, fetch-orders, fetch-order, push-fulfillment"
        ),
        "{err}"
    );
}

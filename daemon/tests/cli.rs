//! The binary's own surface: help, and the built-in plugin list.

use std::process::Command;

fn tradelane() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tradelane"))
}

#[test]
fn plugins_lists_the_builtins_with_kind_and_contract() {
    let dir = tempfile::tempdir().unwrap();
    let out = tradelane()
        .current_dir(dir.path())
        .arg("plugins")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (name, kind) in [
        ("shopify", "marketplace"),
        ("example", "marketplace"),
        ("amazon", "marketplace"),
        ("ebay", "marketplace"),
        ("easypost", "carrier"),
        ("shippo", "carrier"),
        ("stripe", "payment"),
        ("paypal", "payment"),
    ] {
        let line = text
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} missing:\n{text}"));
        assert!(
            line.contains(kind) && line.contains("0.4.0") && line.contains("built-in:"),
            "{line}"
        );
    }
    assert!(
        text.contains("host contract: tradelane:plugin@0.4.0"),
        "{text}"
    );
}

#[test]
fn describe_shows_settings_secrets_hosts_and_limits() {
    let dir = tempfile::tempdir().unwrap();
    let out = tradelane()
        .current_dir(dir.path())
        .args(["plugins", "--describe", "amazon"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.starts_with("amazon ") && text.contains("contract 0.4.0"),
        "{text}"
    );
    let secret = text
        .lines()
        .find(|l| l.starts_with("refresh_token"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        secret.contains("yes       yes"),
        "required and secret: {secret}"
    );
    assert!(
        text.contains("hosts: sellingpartnerapi-na.amazon.com"),
        "{text}"
    );
    assert!(text.contains("operation searchOrders"), "{text}");
    assert!(text.contains("oauth `lwa`"), "{text}");
    let missing = tradelane()
        .current_dir(dir.path())
        .args(["plugins", "--describe", "nope.wasm"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("neither a built-in plugin"));
}

#[test]
fn unknown_subcommand_is_a_clear_usage_error() {
    let out = tradelane().arg("frobnicate").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("frobnicate"));
}

#[test]
fn the_default_config_checks_out_with_every_workflow() {
    let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../config.toml");
    let out = tradelane()
        .arg("--config")
        .arg(&config)
        .arg("check")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for needle in [
        "demo/shopify → shopify",
        "demo/shipping carrier easypost → easypost",
        "demo/shipping carrier shippo → shippo",
        "demo/settlement account stripe → stripe",
        "demo/settlement account paypal → paypal",
        "atelier/woocommerce → woocommerce",
        "atelier/etsy → etsy",
        "atelier/shipping carrier easypost → easypost",
    ] {
        assert!(text.contains(needle), "`{needle}` in:\n{text}");
    }
}

/// Write `text` as a config in a temp dir and run `args` on it.
fn run_on(text: &str, args: &[&str]) -> (tempfile::TempDir, std::process::Output) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        text.replace("DATA", &dir.path().join("data").display().to_string()),
    )
    .unwrap();
    let out = tradelane()
        .arg("--config")
        .arg(&path)
        .args(args)
        .output()
        .unwrap();
    (dir, out)
}

#[test]
fn absurd_values_are_refused_at_their_line_and_nothing_panics() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "[daemon]\ndata_dir = \"DATA\"\n[[sellers]]\nid = \"s\"\n[sellers.settlement]\ncurrency = \"EUR\"\nhistory = \"1000000y\"\n",
            "config.toml:7:",
            "at most 10 years",
        ),
        (
            "[daemon]\ndata_dir = \"DATA\"\n[daemon.plugins]\nmemory_mb = 100000\n",
            "config.toml:4:",
            "daemon.plugins.memory_mb: must be from 1 to 1024",
        ),
        (
            "[daemon]\ndata_dir = \"DATA\"\n[[sellers]]\nid = \"..\"\n",
            "config.toml:4:",
            "not starting with `.`",
        ),
        (
            "[daemon]\ndata_dir = \"DATA\"\n[[sellers]]\nid = \"s\"\n[[sellers.channels]]\nid = \"c\"\nplugin = \"shopify\"\n[sellers.channels.settings]\nshop = \"x.myshopify.com\"\naccess_token = \"t\"\nbase_url = \"ht!tp:/ /nowhere\"\n",
            "sellers[0].channels[0].settings.base_url",
            "is not a URL",
        ),
    ];
    for (text, place, message) in cases {
        let (_dir, out) = run_on(text, &["check"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(78), "{stderr}");
        assert!(
            stderr.contains(place) && stderr.contains(message),
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let (_dir, out) = run_on(
        "[daemon]\ndata_dir = \"DATA\"\n",
        &["orders", "list", "--since", "1000000y"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("reaches back further than any date"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn one_cli_contract_usage_2_not_found_1_config_78() {
    let text = "[daemon]\ndata_dir = \"DATA\"\n";
    // An invalid value: 2, and the valid ones.
    let (_dir, out) = run_on(text, &["shipments", "list", "--state", "bogus"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("dead_letter") && stderr.contains("label_bought"),
        "{stderr}"
    );
    let (_dir, out) = run_on(text, &["orders", "list", "--status", "shipped"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("partially_refunded"), "{stderr}");
    // Not found: 1, with a message, whatever the format.
    for format in ["table", "json"] {
        let (_dir, out) = run_on(text, &["payouts", "show", "nope", "--format", format]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{format}: {stderr}");
        assert!(stderr.contains("no stored payout"), "{stderr}");
    }
    // A config that does not load: 78 (EX_CONFIG).
    let (_dir, out) = run_on("[daemon]\nbogus = 1\n", &["check"]);
    assert_eq!(out.status.code(), Some(78));
    // No daemon: status says so, for people and scripts, and exits 1.
    let (_dir, out) = run_on(text, &["status", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["running"], false);
}

#[test]
fn plugins_counts_every_use_and_shows_settings_keys() {
    let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../config.toml");
    let out = tradelane()
        .arg("--config")
        .arg(&config)
        .arg("plugins")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    for (name, used, key) in [
        ("easypost", "2", "api_key"),
        ("woocommerce", "1", "store_url"),
        ("etsy", "1", "shop_id"),
        ("paypal", "1", "client_secret"),
        ("amazon", "1", "marketplace_ids"),
        ("example", "0", ""),
    ] {
        let line = text
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name}:\n{text}"));
        let cols: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(cols[4], used, "{line}");
        assert!(line.contains(key), "{line}");
    }
}

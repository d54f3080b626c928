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
            line.contains(kind) && line.contains("0.1.0") && line.contains("built-in:"),
            "{line}"
        );
    }
    assert!(
        text.contains("host contract: tradelane:plugin@0.1.0"),
        "{text}"
    );
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
    ] {
        assert!(text.contains(needle), "`{needle}` in:\n{text}");
    }
}

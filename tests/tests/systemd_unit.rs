//! The shipped systemd unit (`daemon/dist/tradelane.service`), checked by
//! systemd itself when `systemd-analyze` exists: it verifies, and its
//! exposure score is at most 1.1.

use std::process::Command;
use tradelane_tests::binary;

fn unit_for_this_build(dir: &std::path::Path) -> std::path::PathBuf {
    let shipped =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../daemon/dist/tradelane.service");
    let text = std::fs::read_to_string(&shipped).unwrap();
    // `verify` checks that ExecStart's binary exists: point it at this build.
    let text = text.replace("/usr/bin/tradelane", &binary().display().to_string());
    let path = dir.join("tradelane.service");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn the_unit_verifies_and_scores_at_most_1_1() {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("SKIPPED: systemd-analyze is not installed here");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let unit = unit_for_this_build(dir.path());
    let text = std::fs::read_to_string(&unit).unwrap();
    assert!(
        text.contains("ExecReload=/bin/kill -HUP $MAINPID"),
        "reload is wired"
    );
    let verify = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "systemd-analyze verify: {}",
        String::from_utf8_lossy(&verify.stderr)
    );
    let security = Command::new("systemd-analyze")
        .args(["security", "--offline=true"])
        .arg(&unit)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&security.stdout);
    let score: f64 = out
        .lines()
        .find_map(|l| l.split("exposure level for tradelane.service:").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "no score in:\n{out}\n{}",
                String::from_utf8_lossy(&security.stderr)
            )
        });
    assert!(score <= 1.1, "exposure {score}:\n{out}");
}

#[test]
fn the_packaged_example_config_loads_and_points_at_the_units_state_directory() {
    let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../daemon/dist");
    let config = tradelane::config::LoadedConfig::load(&dist.join("config.toml"))
        .unwrap_or_else(|e| panic!("the example /etc/tradelane/config.toml: {e}"));
    assert_eq!(
        config.data_dir(),
        std::path::Path::new("/var/lib/tradelane")
    );
    let unit = std::fs::read_to_string(dist.join("tradelane.service")).unwrap();
    assert!(unit.contains("StateDirectory=tradelane"));
    assert!(unit.contains("ExecStart=/usr/bin/tradelane --config /etc/tradelane/config.toml run"));
    // The package's assets are the files this repository has.
    let manifest = std::fs::read_to_string(dist.join("../Cargo.toml")).unwrap();
    for asset in ["dist/config.toml", "../README.md", "dist/debian/"] {
        assert!(manifest.contains(asset), "{asset}");
        assert!(dist.join("..").join(asset).exists(), "{asset}");
    }
}

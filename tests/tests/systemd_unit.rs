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
    let text = text.replace("/usr/local/bin/tradelane", &binary().display().to_string());
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

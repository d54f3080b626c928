//! `tradelane plugin new`: the crate it writes, in a directory outside the
//! repository with the SDK by path, builds for wasm32-wasip2 and loads in
//! the host as its kind; the marketplace one's own native tests (the SDK's
//! test kit: a placeholder secret, a recorded exchange replayed, the
//! conformance suite) pass.

use std::path::{Path, PathBuf};
use std::process::Command;
use tradelane::host::{PluginHost, PluginSource};
use tradelane_tests::binary;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

/// `cargo` without the settings of the build running this test.
fn cargo(dir: &Path, target_dir: &Path) -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(dir).env("CARGO_TARGET_DIR", target_dir);
    for key in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_BUILD_TARGET",
        "CARGO_MANIFEST_DIR",
        "CARGO_PKG_NAME",
    ] {
        cmd.env_remove(key);
    }
    cmd
}

fn ok(out: std::process::Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scaffolded_plugin_of_each_kind_builds_loads_and_tests_offline() {
    let outside = tempfile::tempdir().unwrap();
    let host = PluginHost::new(None).unwrap();
    for (name, kind) in [
        ("my-shop", "marketplace"),
        ("my-post", "carrier"),
        ("my-pay", "payment"),
    ] {
        ok(
            Command::new(binary())
                .args(["plugin", "new", name, "--kind", kind, "--dir"])
                .arg(outside.path())
                .arg("--sdk-path")
                .arg(root().join("plugin-sdk"))
                .output()
                .unwrap(),
            "plugin new",
        );
        let dir = outside.path().join(name);
        for file in [
            "Cargo.toml",
            "src/lib.rs",
            "tests/plugin.rs",
            "tests/recorded/0001.json",
            "settings.toml",
            "config.snippet.toml",
        ] {
            assert!(dir.join(file).exists(), "{name}: {file}");
        }
        // The versions the built-in plugins use, so the build reuses theirs.
        std::fs::copy(root().join("plugins/Cargo.lock"), dir.join("Cargo.lock")).unwrap();
        let target = root().join("target/plugins");
        ok(
            cargo(&dir, &target)
                .args(["build", "--release", "--target", "wasm32-wasip2"])
                .output()
                .unwrap(),
            "cargo build --target wasm32-wasip2",
        );
        let wasm = target
            .join("wasm32-wasip2/release")
            .join(format!("{}.wasm", name.replace('-', "_")));
        let bytes = std::fs::read(&wasm).unwrap();
        let plugin = host
            .load(PluginSource::File(wasm.clone()), &bytes)
            .await
            .unwrap_or_else(|e| panic!("{name} loads: {e:#}"));
        assert_eq!(plugin.manifest.name, name);
        assert_eq!(plugin.kind().to_string(), kind);
        assert_eq!(plugin.manifest.contract_version, "0.4.0");
    }
    let tests = ok(
        cargo(
            &outside.path().join("my-shop"),
            &root().join("target/scaffold"),
        )
        .arg("test")
        .output()
        .unwrap(),
        "cargo test in the scaffold",
    );
    assert!(tests.contains("test result: ok. 3 passed"), "{tests}");
}

#[test]
fn an_existing_directory_or_a_bad_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str| {
        Command::new(binary())
            .args(["plugin", "new", name, "--kind", "carrier", "--dir"])
            .arg(dir.path())
            .output()
            .unwrap()
    };
    assert!(run("fine").status.success());
    let again = run("fine");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
    let bad = run("../escape");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not a plugin name"));
}

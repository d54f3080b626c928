//! Builds every plugin under `plugins/` for wasm32-wasip2 and hands their
//! directory to the crate (`TRADELANE_PLUGIN_DIR`), so `cargo run` and
//! `cargo test` on a fresh clone need nothing else.
//!
//! Each plugin is built by its own `cargo build -p`, so the SDK's per-kind
//! features never unify across plugins (a component must export exactly
//! its own world). Builds land in `target/plugins`, apart from the host's
//! target directory, and share the outer build's jobserver.

use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";

fn main() {
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR"));
    let root = manifest_dir
        .parent()
        .expect("daemon/ has a parent")
        .to_path_buf();
    let plugins = root.join("plugins");
    for watched in [
        "plugins",
        "plugin-sdk/src",
        "plugin-sdk/wit",
        "plugin-sdk/Cargo.toml",
        "rust-toolchain.toml",
    ] {
        println!("cargo::rerun-if-changed={}", root.join(watched).display());
    }
    println!("cargo::rerun-if-env-changed=CARGO_TARGET_DIR");

    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    if !target_installed(&rustc) {
        println!("cargo::error=the {TARGET} target is missing; run: rustup target add {TARGET}");
        std::process::exit(1);
    }

    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|d| if d.is_absolute() { d } else { root.join(d) })
        .unwrap_or_else(|| root.join("target"))
        .join("plugins");
    let out = PathBuf::from(env("OUT_DIR")).join("plugins");
    std::fs::create_dir_all(&out).expect("create OUT_DIR/plugins");

    for name in members(&plugins) {
        build(&plugins, &target_dir, &name);
        let built = target_dir
            .join(TARGET)
            .join("release")
            .join(format!("{}.wasm", name.replace('-', "_")));
        let dest = out.join(format!("{name}.wasm"));
        if let Err(e) = std::fs::copy(&built, &dest) {
            println!(
                "cargo::error=plugin `{name}` built but {} is missing: {e}",
                built.display()
            );
            std::process::exit(1);
        }
    }
    println!("cargo::rustc-env=TRADELANE_PLUGIN_DIR={}", out.display());
}

fn env(key: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| panic!("cargo sets {key}"))
}

fn target_installed(rustc: &str) -> bool {
    let output = Command::new(rustc)
        .args(["--print", "target-libdir", "--target", TARGET])
        .output();
    match output {
        Ok(o) if o.status.success() => {
            let dir = String::from_utf8_lossy(&o.stdout).trim().to_string();
            Path::new(&dir).join("libstd").exists()
                || std::fs::read_dir(&dir)
                    .map(|mut d| {
                        d.any(|e| {
                            e.is_ok_and(|e| e.file_name().to_string_lossy().starts_with("libstd"))
                        })
                    })
                    .unwrap_or(false)
        }
        _ => false,
    }
}

/// The workspace members listed in `plugins/Cargo.toml`.
fn members(plugins: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(plugins.join("Cargo.toml")).expect("plugins/Cargo.toml");
    let start = text
        .find("members")
        .expect("plugins/Cargo.toml lists members");
    let list = &text[start..];
    let list = &list[list.find('[').expect("members = [") + 1..list.find(']').expect("]")];
    list.split(',')
        .map(|m| m.trim().trim_matches('"').to_string())
        .filter(|m| !m.is_empty())
        .collect()
}

fn build(plugins: &Path, target_dir: &Path, name: &str) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(plugins)
        .args([
            "build",
            "--release",
            "--target",
            TARGET,
            "-p",
            name,
            "--target-dir",
        ])
        .arg(target_dir);
    // Don't leak the host build's settings (clippy's wrapper, host rustflags) into the wasm build.
    for key in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_PKG_NAME",
    ] {
        cmd.env_remove(key);
    }
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run cargo to build plugin `{name}`: {e}"));
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        for line in stderr
            .lines()
            .rev()
            .take(40)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
        {
            println!("cargo::warning={line}");
        }
        println!("cargo::error=building plugin `{name}` for {TARGET} failed (see warnings above)");
        std::process::exit(1);
    }
}

//! `tradelane plugin new NAME --kind …`: a ready plugin crate, outside any
//! workspace: the size-optimised release profile, a stub with doc comments
//! for every export of its kind, native tests using the SDK's test kit
//! (with a recorded exchange to replay), settings for `tradelane plugin
//! call`, and the config snippet that loads it.

use crate::model::PluginKind;
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};

/// What to scaffold.
#[derive(Debug, Clone)]
pub struct NewArgs {
    pub name: String,
    pub kind: PluginKind,
    /// Where the crate's directory is made (default: the current one).
    pub dir: Option<PathBuf>,
    /// The SDK by path; default the published crate.
    pub sdk_path: Option<PathBuf>,
}

const MARKETPLACE: &str = include_str!("scaffold/marketplace.rs.txt");
const CARRIER: &str = include_str!("scaffold/carrier.rs.txt");
const PAYMENT: &str = include_str!("scaffold/payment.rs.txt");

/// `my-shop` → `MyShop`.
fn type_name(name: &str) -> String {
    name.split(['-', '_'])
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn valid(name: &str) -> bool {
    name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

fn write(dir: &Path, file: &str, text: &str) -> anyhow::Result<()> {
    let path = dir.join(file);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// Write the crate; its directory.
pub fn scaffold(args: &NewArgs) -> anyhow::Result<PathBuf> {
    if !valid(&args.name) {
        bail!(
            "`{}` is not a plugin name: lower-case letters, digits, `-` and `_`, starting with a letter",
            args.name
        );
    }
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("."))
        .join(&args.name);
    if dir.exists() {
        bail!(
            "{} exists already; choose another name or directory",
            dir.display()
        );
    }
    let ty = type_name(&args.name);
    let krate = args.name.replace('-', "_");
    let (feature, source, register) = match args.kind {
        PluginKind::Marketplace => ("marketplace", MARKETPLACE, "channel"),
        PluginKind::Carrier => ("carrier", CARRIER, "carrier account"),
        PluginKind::Payment => ("payment", PAYMENT, "payment account"),
    };
    let sdk = match &args.sdk_path {
        Some(p) => {
            let abs = std::fs::canonicalize(p)
                .with_context(|| format!("the SDK is not at {}", p.display()))?;
            format!(
                "{{ path = {}, features = [\"{feature}\"] }}",
                toml::Value::String(abs.display().to_string())
            )
        }
        None => format!("{{ version = \"0.4\", features = [\"{feature}\"] }}"),
    };
    let fill = |text: &str| {
        text.replace("{{name}}", &args.name)
            .replace("{{type}}", &ty)
    };
    write(
        &dir,
        "Cargo.toml",
        &format!(
            r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
description = "A tradelane {feature} plugin"

# Its own workspace: built on its own, wherever it lives.
[workspace]

[lib]
# cdylib: the WebAssembly component; rlib: the native tests.
crate-type = ["cdylib", "rlib"]

[dependencies]
serde = {{ version = "1", features = ["derive"] }}
tradelane-plugin-sdk = {sdk}

# Small components: without this a plugin is about 40 % larger.
[profile.release]
opt-level = 3
codegen-units = 1
lto = true
debug = false
strip = true
panic = "unwind"
"#,
            name = args.name
        ),
    )?;
    write(&dir, "src/lib.rs", &fill(source))?;
    let marketplace_tests = format!(
        r##"
/// A recorded exchange (tests/recorded/), served back with no network.
#[test]
fn fetch_orders_replays_the_recorded_page() {{
    let replay = testkit::replay(std::path::Path::new("tests/recorded")).unwrap();
    let (page, seen) = testkit::with_host(replay, || {{
        {ty}::fetch_orders(&settings(), OrderQuery {{ updated_after: None, page_token: None, page_size: 50 }})
    }});
    let page = page.unwrap_or_else(|e| panic!("{{e:?}}; sent {{:?}}", seen.requests));
    assert!(page.next_page.is_none());
}}

/// The checks every marketplace plugin should pass.
#[test]
fn passes_the_marketplace_conformance_suite() {{
    let findings = conformance::marketplace::<{ty}, _>(&settings(), || {{
        |_: &testkit::SentRequest| MockResponse::json(200, r#"{{"orders": [], "next": null}}"#)
    }});
    assert!(findings.problems.is_empty(), "{{:#?}}", findings.problems);
}}
"##
    );
    let tests = format!(
        r#"//! Native tests, offline: the SDK's test kit answers every request.

use tradelane_plugin_sdk::testkit::{{self, MockResponse}};
#[allow(unused_imports)]
use tradelane_plugin_sdk::testkit::conformance;
#[allow(unused_imports)]
use tradelane_plugin_sdk::{{Marketplace, OrderQuery}};
use tradelane_plugin_sdk::{{Plugin, Settings}};
use {krate}::{ty};

fn settings() -> Settings {{
    Settings::new([("base_url", "https://api.example.com")], ["api_key"])
}}

/// The key leaves as a placeholder: the host fills it in, never the plugin.
#[test]
fn check_sends_the_key_as_a_placeholder() {{
    let (result, seen) = testkit::with_host(|_| MockResponse::json(200, "{{}}"), || {ty}::check(&settings()));
    result.unwrap();
    assert_eq!(
        seen.requests[0].header("authorization"),
        Some("Bearer {{{{secret:api_key}}}}")
    );
}}
{extra}"#,
        extra = if args.kind == PluginKind::Marketplace {
            marketplace_tests.as_str()
        } else {
            ""
        }
    );
    write(&dir, "tests/plugin.rs", &tests)?;
    write(
        &dir,
        "tests/recorded/0001.json",
        r#"{
  "request": {"method": "GET", "url": "https://api.example.com/orders?limit=50"},
  "response": {"status": 200, "headers": {"content-type": "application/json"}, "body": "{\"orders\": [], \"next\": null}"}
}
"#,
    )?;
    write(
        &dir,
        "settings.toml",
        "# Settings for `tradelane plugin call`, as a channel's settings table holds them.\napi_key = { env = \"API_KEY\" }\n",
    )?;
    let table = match args.kind {
        PluginKind::Marketplace => "[[sellers.channels]]",
        PluginKind::Carrier => "[[sellers.shipping.carriers]]",
        PluginKind::Payment => "[[sellers.settlement.accounts]]",
    };
    let settings_table = format!(
        "{}.settings]",
        table.trim_end_matches("]]").replacen("[[", "[", 1)
    );
    write(
        &dir,
        "config.snippet.toml",
        &format!(
            "# Add to config.toml under your seller: the plugin as a {register}.\n{table}\nid = \"{name}\"\nplugin = \"{name}/target/wasm32-wasip2/release/{krate}.wasm\"\n{settings_table}\napi_key = {{ env = \"API_KEY\" }}\n",
            name = args.name
        ),
    )?;
    write(&dir, ".gitignore", "/target\n")?;
    write(
        &dir,
        "README.md",
        &format!(
            "# {name}\n\nA tradelane {feature} plugin.\n\n```sh\ncargo test                                            # native, offline (the SDK's test kit)\ncargo build --release --target wasm32-wasip2          # the component\ntradelane plugin call target/wasm32-wasip2/release/{krate}.wasm check --settings settings.toml\n```\n\nThen add `config.snippet.toml` to your config.\n",
            name = args.name
        ),
    )?;
    Ok(dir)
}

/// `plugin new`: scaffold and say what next.
pub fn run(args: NewArgs) -> anyhow::Result<i32> {
    let dir = scaffold(&args)?;
    crate::text::say!(
        "created {} ({} plugin): cd there, `cargo test`, then `cargo build --release --target wasm32-wasip2`",
        dir.display(),
        args.kind
    );
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_types_and_bad_names_are_refused() {
        assert_eq!(type_name("my-shop"), "MyShop");
        assert_eq!(type_name("post_nl"), "PostNl");
        assert!(valid("my-shop"));
        for bad in ["", "My", "1x", "a b", "../x", "x/y"] {
            assert!(!valid(bad), "{bad}");
        }
    }
}

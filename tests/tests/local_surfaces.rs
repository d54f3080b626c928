//! What the daemon exposes on its own machine, through the real binary:
//! the files it writes are its owner's alone, an unusable data_dir is
//! named for what it is, a hostile order field cannot drive the terminal,
//! and the admin socket bounds what a client can make it hold.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tradelane_tests::*;

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Every file and directory under `dir`, with its mode.
fn walk(dir: &Path, out: &mut Vec<(std::path::PathBuf, u32)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        out.push((path.clone(), mode_of(&path)));
        if path.is_dir() {
            walk(&path, out);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_dir_and_everything_in_it_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = sandbox(12, 7).await;
    let data = dir.path().join("data");
    // An existing data_dir readable by all is tightened.
    std::fs::create_dir_all(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let text = config_text(
        &data,
        &[
            shopify_channel("shop", &sandbox.url(), TOKEN, 50),
            shipping_block(&sandbox.url(), "", SHIP_EVERYTHING, &[]),
        ],
    );
    let (path, _) = write_config(dir.path(), &text);
    succeeded(&cli(&path, &["sync", "--once"], None), "sync");
    succeeded(&cli(&path, &["ship", "--once"], None), "ship");
    assert_eq!(mode_of(&data), 0o700);
    let mut all = Vec::new();
    walk(&data, &mut all);
    assert!(
        all.iter()
            .any(|(p, _)| p.extension().is_some_and(|e| e == "pdf")),
        "labels were written"
    );
    for (p, mode) in &all {
        assert_eq!(mode & 0o077, 0, "{} is {mode:o}", p.display());
    }
    sandbox.shutdown().await;
}

#[test]
fn an_unusable_data_dir_is_named_for_what_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let (path, _) = write_config(dir.path(), &config_text(&file, &[]));
    let out = cli(&path, &["orders", "list"], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("is not a directory"), "{stderr}");
    assert!(!stderr.contains("another tradelane"), "{stderr}");
}

#[test]
fn order_fields_cannot_drive_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = write_config(dir.path(), &config_text(&dir.path().join("data"), &[]));
    let hostile = "#1\u{1b}[2J\u{1b}]0;pwned\u{7}\u{9b}31m";
    let line = serde_json::json!({
        "seller": "s1", "channel": "shop",
        "order": {
            "external_id": "e\u{1b}[31m1", "number": hostile,
            "created_at": "2026-11-01T00:00:00Z", "updated_at": "2026-11-01T00:00:00Z",
            "status": "open", "payment_status": "paid", "fulfillment_status": "unfulfilled",
            "currency": "EUR",
            "totals": {
                "subtotal": {"amount_minor": 100, "currency": "EUR"},
                "shipping": {"amount_minor": 0, "currency": "EUR"},
                "tax": {"amount_minor": 0, "currency": "EUR"},
                "discount": {"amount_minor": 0, "currency": "EUR"},
                "total": {"amount_minor": 100, "currency": "EUR"}
            },
            "buyer": null, "shipping_address": null, "billing_address": null,
            "line_items": [], "shipping_lines": [], "tax_ids": [],
            "marketplace_collected_tax": false, "taxes_included": false, "tags": []
        }
    });
    let dump = dir.path().join("dump.jsonl");
    std::fs::write(&dump, format!("{line}\n")).unwrap();
    succeeded(
        &cli(&path, &["import", dump.to_str().unwrap()], None),
        "import",
    );
    let table = succeeded(&cli(&path, &["orders", "list"], None), "orders list");
    assert!(table.contains("#1[2J]0;pwned31m"), "{table}");
    assert!(
        !table
            .chars()
            .any(|c| c == '\u{1b}' || c == '\u{7}' || c == '\u{9b}'),
        "{table:?}"
    );
    // JSON stays exact.
    let json = succeeded(
        &cli(&path, &["orders", "list", "--format", "json"], None),
        "orders list json",
    );
    let back: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(back["order"]["number"], hostile);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_socket_bounds_a_request() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = sandbox(5, 7).await;
    let data = dir.path().join("data");
    let text = config_text(&data, &[shopify_channel("shop", &sandbox.url(), TOKEN, 50)]);
    let (path, _) = write_config(dir.path(), &text);
    let mut daemon = Command::new(binary())
        .arg("--config")
        .arg(&path)
        .arg("run")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let socket = data.join("admin.sock");
    for _ in 0..200 {
        if socket.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // 64 MiB without a newline: the daemon stops reading at 1 MiB, says
    // so, and closes.
    let stream = tokio::net::UnixStream::connect(&socket).await.unwrap();
    let (read, mut write) = stream.into_split();
    let writer = tokio::spawn(async move {
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..64 {
            if write.write_all(&chunk).await.is_err() {
                return false;
            }
        }
        true
    });
    let mut reply = String::new();
    BufReader::new(read).read_line(&mut reply).await.unwrap();
    assert!(reply.contains("bad request"), "{reply}");
    assert!(
        !writer.await.unwrap(),
        "the daemon closed before 64 MiB were taken"
    );
    // And it still answers.
    let out = cli(&path, &["status"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = Command::new("kill").arg(daemon.id().to_string()).status();
    let _ = daemon.wait();
    sandbox.shutdown().await;
}

#[test]
fn invalid_orders_are_quarantined_and_the_channel_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let block = format!(
        "\n[[sellers.channels]]\nid = \"odd\"\nplugin = \"{}\"\n[sellers.channels.settings]\nmode = \"bad-orders\"\n",
        plugin_dir().join("misbehave.wasm").display()
    );
    let (path, _) = write_config(dir.path(), &config_text(&dir.path().join("data"), &[block]));
    let out = succeeded(&cli(&path, &["sync", "--once"], None), "sync");
    assert!(
        out.contains("1 new") && out.contains("3 quarantined"),
        "{out}"
    );
    let stored = succeeded(&cli(&path, &["orders", "list"], None), "orders list");
    assert!(
        stored.contains("GOOD-1") && !stored.contains("BAD-"),
        "{stored}"
    );
    // One order for a person: money as amounts, not a JSON dump.
    let shown = succeeded(
        &cli(&path, &["orders", "show", "GOOD-1"], None),
        "orders show",
    );
    assert!(
        shown.contains("GOOD-1") && shown.contains("total 0.00 EUR") && !shown.contains('{'),
        "{shown}"
    );
    let missing = cli(&path, &["orders", "show", "NOPE"], None);
    assert_eq!(missing.status.code(), Some(1));
    let listed = succeeded(
        &cli(&path, &["orders", "quarantined"], None),
        "orders quarantined",
    );
    for (id, why) in [
        ("BAD-UK", "(the United Kingdom is `GB`)"),
        ("BAD-9999", "outside 1990 to a day from now"),
        ("BAD-HUGE", "beyond any real amount"),
    ] {
        let line = listed
            .lines()
            .find(|l| l.contains(&format!("`{id}`")))
            .unwrap_or_else(|| panic!("{id} not listed:\n{listed}"));
        assert!(line.contains(why), "{line}");
    }
    assert!(listed.contains("3 order(s) in quarantine"), "{listed}");
    // A second pass sees them again: still three, seen twice.
    succeeded(&cli(&path, &["sync", "--once"], None), "sync again");
    let json = succeeded(
        &cli(&path, &["orders", "quarantined", "--format", "json"], None),
        "orders quarantined json",
    );
    let entries: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(entries.len(), 3);
    assert!(entries.iter().all(|e| e["times"] == 2), "{json}");
}

/// A tmpfs mounted for one test, unmounted when dropped.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    /// Grow it to `size` in place (its files stay).
    fn grow(&self, size: &str) {
        let grown = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(grown.success());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Mount a tmpfs of `size` at `at`; `None` (saying why) when this machine
/// does not let the test mount one.
fn mount_tmpfs(at: &Path, size: &str) -> Option<Tmpfs> {
    std::fs::create_dir_all(at).unwrap();
    let out = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(at)
        .output();
    match out {
        Ok(o) if o.status.success() => Some(Tmpfs(at.to_path_buf())),
        Ok(o) => {
            println!(
                "SKIPPED: cannot mount a tmpfs here: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            );
            None
        }
        Err(e) => {
            println!("SKIPPED: cannot run mount: {e}");
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filling_disk_pauses_writes_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let Some(tmpfs) = mount_tmpfs(&data, "40m") else {
        return;
    };
    let sandbox = sandbox(3000, 9).await;
    let text = config_text(
        &data,
        &[shopify_channel("shop", &sandbox.url(), TOKEN, 250)],
    )
    .replace("[daemon]\n", "[daemon]\nmin_free_mb = 32\n");
    let (path, _) = write_config(dir.path(), &text);
    let out = cli(&path, &["sync", "--once"], None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("paused, disk space low"), "{stdout}");
    assert!(stdout.contains("min_free_mb"), "{stdout}");
    // What was written is whole and readable.
    let partial = succeeded(
        &cli(&path, &["orders", "list", "--format", "json"], None),
        "orders list on a full disk",
    );
    let before = partial.lines().count();
    assert!(
        before < 3000,
        "the reserve stopped the sync ({before} stored)"
    );
    // Space returns: the next pass carries on and loses nothing.
    tmpfs.grow("512m");
    succeeded(
        &cli(&path, &["sync", "--once"], None),
        "sync after space returns",
    );
    let all = succeeded(
        &cli(&path, &["orders", "list", "--format", "json"], None),
        "orders list",
    );
    assert_eq!(all.lines().count(), 3000);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disk_that_fills_anyway_stops_the_writer_and_the_store_opens_after() {
    // Both writers: a one-off sync, and the daemon's scheduled one.
    for command in [&["sync", "--once"][..], &["run"][..]] {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let Some(tmpfs) = mount_tmpfs(&data, "12m") else {
            return;
        };
        let sandbox = sandbox(3000, 9).await;
        // No reserve: the disk fills under sled itself.
        let text = config_text(
            &data,
            &[shopify_channel("shop", &sandbox.url(), TOKEN, 250)],
        )
        .replace("[daemon]\n", "[daemon]\nmin_free_mb = 0\n");
        let (path, _) = write_config(dir.path(), &text);
        let mut child = Command::new(binary())
            .arg("--config")
            .arg(&path)
            .args(command)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut waited = Duration::ZERO;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(
                waited < Duration::from_secs(120),
                "{command:?}: the writer hung on a full disk"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
            waited += Duration::from_millis(100);
        };
        let out = child.wait_with_output().unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(status.code(), Some(1), "{command:?}: {said}");
        assert!(said.contains("refused a write"), "{command:?}: {said}");
        // Space returns: the store opens, keeps what was committed, and the
        // next sync completes.
        tmpfs.grow("512m");
        succeeded(
            &cli(&path, &["orders", "list"], None),
            "orders list after the full disk",
        );
        succeeded(
            &cli(&path, &["sync", "--once"], None),
            "sync after space returns",
        );
        let all = succeeded(
            &cli(&path, &["orders", "list", "--format", "json"], None),
            "orders list",
        );
        assert_eq!(all.lines().count(), 3000, "{command:?}");
        sandbox.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_checks_the_environment_and_online_the_credentials() {
    let sandbox = sandbox(3, 1).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let good = config_text(&data, &[shopify_channel("shop", &sandbox.url(), TOKEN, 50)]);
    let (path, _) = write_config(dir.path(), &good);
    let out = cli(&path, &["check", "--online"], None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("s1/shop: credentials ok"), "{stdout}");
    let token_line = good
        .lines()
        .position(|l| l.starts_with("access_token"))
        .unwrap()
        + 1;
    assert!(
        stderr.contains(&format!(
            "config.toml:{token_line}: `access_token` is a secret written inline"
        )),
        "the warnings run would log, at the key's own line {token_line}: {stderr}"
    );

    // A wrong token passes the offline check and fails the online one.
    let (path, _) = write_config(dir.path(), &good.replace(TOKEN, "shpat_wrong"));
    assert_eq!(cli(&path, &["check"], None).status.code(), Some(0));
    let out = cli(&path, &["check", "--online"], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("s1/shop") && stderr.contains("credentials refused"),
        "{stderr}"
    );

    // A data_dir that is a file, and a sandbox port already taken.
    std::fs::write(dir.path().join("file"), b"").unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let bad = config_text(&dir.path().join("file"), &[])
        + &format!("\n[sandbox]\nlisten = \"127.0.0.1:{port}\"\n");
    let (path, _) = write_config(dir.path(), &bad);
    let out = cli(&path, &["check"], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("is not a directory"), "{stderr}");
    assert!(stderr.contains("[sandbox] listen"), "{stderr}");
    drop(taken);
    sandbox.shutdown().await;
}

//! The real daemon killed with SIGKILL at 50 moments, drawn at random,
//! while it syncs, ships and settles against the sandbox (orders arriving
//! and changing between kills); then it is let finish. Every order is
//! stored once, each paid order has one label and one fulfillment, each
//! payout is stored once.

use serde_json::Value;
use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::Duration;
use tradelane_tests::*;

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// xorshift64*: reproducible "random" moments (the seed is printed).
fn next(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_kill_9s_during_sync_ship_and_settle_lose_and_double_nothing() {
    let sandbox = sandbox(24, 13).await;
    let url = sandbox.url();
    let dir = tempfile::tempdir().unwrap();
    let text = config_text(
        dir.path(),
        &[
            // Small pages: many page boundaries to be killed at.
            shopify_channel("shop", &url, TOKEN, 4),
            shipping_block(&url, "", SHIP_EVERYTHING, &[]),
            settlement_block(&url),
        ],
    );
    let (config, _) = write_config(dir.path(), &text);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(7)
        | 1;
    println!("crash loop seed {seed}");
    let mut state = seed;
    for round in 0..50 {
        let mut daemon = Command::new(binary())
            .arg("--config")
            .arg(&config)
            .arg("run")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the daemon");
        let after = Duration::from_millis(50 + next(&mut state) % 1500);
        tokio::time::sleep(after).await;
        daemon.kill().expect("SIGKILL");
        let _ = daemon.wait();
        if round % 10 == 9 {
            control(&url, "/_sandbox/tick?new=2&updates=2", None).await;
        }
    }
    // Let it finish.
    for step in ["sync", "ship", "sync", "ship", "settle"] {
        succeeded(&cli(&config, &[step, "--once"], None), step);
    }

    let orders = json_lines(&succeeded(
        &cli(&config, &["orders", "list", "--format", "json"], None),
        "orders",
    ));
    let ids: Vec<String> = orders
        .iter()
        .map(|o| o["order"]["external_id"].as_str().unwrap().to_string())
        .collect();
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(
        unique.len(),
        ids.len(),
        "seed {seed}: an order stored twice"
    );
    let expected: BTreeSet<String> = truth(&url).await.iter().map(|o| o.id.to_string()).collect();
    assert_eq!(
        unique.into_iter().cloned().collect::<BTreeSet<_>>(),
        expected,
        "seed {seed}: every order, once"
    );
    assert_each_shipped_once(&url, &format!("seed {seed}")).await;

    let payouts = json_lines(&succeeded(
        &cli(&config, &["payouts", "list", "--format", "json"], None),
        "payouts",
    ));
    let ids: Vec<String> = payouts
        .iter()
        .map(|p| p["payout"]["external_id"].as_str().unwrap().to_string())
        .collect();
    let unique: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(
        unique.len(),
        ids.len(),
        "seed {seed}: a payout stored twice"
    );
    let expected: BTreeSet<String> = settlement_truth(&url).await["payouts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(unique, expected, "seed {seed}: every payout, once");
    sandbox.shutdown().await;
}

//! The real `tradelane` binary settling against a sandbox on loopback:
//! killed right after the first payout commits (a fault point aborts the
//! process like `kill -9`), then restarted, the store holds every payout
//! and discrepancy exactly once; the CLI reads them back, and the report
//! adds up.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use tradelane_tests::*;

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_settlement_then_restart_leaves_no_duplicates() {
    let sandbox = sandbox(40, 7).await;
    let url = sandbox.url();
    let dir = tempfile::tempdir().unwrap();
    let text = config_text(
        dir.path(),
        &[
            shopify_channel("shop", &url, TOKEN, 50),
            settlement_block(&url),
        ],
    );
    let (config, _) = write_config(dir.path(), &text);
    succeeded(&cli(&config, &["sync", "--once"], None), "sync");

    let crashed = cli(&config, &["settle", "--once"], Some("after-payout"));
    assert!(!crashed.status.success(), "the fault point fires");
    assert!(String::from_utf8_lossy(&crashed.stderr).contains("crash point"));
    let partial = json_lines(&succeeded(
        &cli(&config, &["payouts", "list", "--format", "json"], None),
        "list",
    ));
    assert_eq!(
        partial.len(),
        1,
        "one payout (with all its lines) committed before the crash"
    );
    let first = &partial[0];
    let lines_net: i64 = first["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["net"]["amount_minor"].as_i64().unwrap())
        .sum();
    assert_eq!(
        lines_net,
        first["payout"]["amount"]["amount_minor"].as_i64().unwrap(),
        "never a payout without its lines"
    );

    let out = succeeded(&cli(&config, &["settle", "--once"], None), "settle");
    assert!(out.contains("5 new"), "{out}");
    let truth = settlement_truth(&url).await;
    let expected: BTreeSet<String> = truth["payouts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect();
    let stored = json_lines(&succeeded(
        &cli(&config, &["payouts", "list", "--format", "json"], None),
        "list",
    ));
    let ids: Vec<String> = stored
        .iter()
        .map(|p| p["payout"]["external_id"].as_str().unwrap().to_string())
        .collect();
    let unique: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(unique.len(), ids.len(), "no payout twice");
    assert_eq!(unique, expected);
    let discrepancies = json_lines(&succeeded(
        &cli(
            &config,
            &["settlement", "discrepancies", "--open", "--format", "json"],
            None,
        ),
        "discrepancies",
    ));
    assert_eq!(discrepancies.len(), 5, "{discrepancies:#?}");

    // Again: nothing new.
    let again = succeeded(&cli(&config, &["settle", "--once"], None), "settle");
    assert!(
        again.contains(", 0 stored (0 lines), 0 orders settled, 0 new and 0 closed"),
        "{again}"
    );

    // Resolve one by hand; it stays resolved across passes.
    let id = discrepancies[0]["id"].as_str().unwrap();
    succeeded(
        &cli(
            &config,
            &[
                "settlement",
                "resolve",
                id,
                "--note",
                "refund agreed with the buyer",
            ],
            None,
        ),
        "resolve",
    );
    succeeded(&cli(&config, &["settle", "--once"], None), "settle");
    let open = json_lines(&succeeded(
        &cli(
            &config,
            &["settlement", "discrepancies", "--open", "--format", "json"],
            None,
        ),
        "open",
    ));
    assert_eq!(open.len(), 4);

    // The report over everything adds up to every payout.
    let csv = succeeded(
        &cli(
            &config,
            &[
                "report",
                "settlement",
                "--from",
                "2000-01-01",
                "--to",
                "2100-01-01",
            ],
            None,
        ),
        "report",
    );
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let mut net = BTreeMap::<String, i64>::new();
    for r in reader.records() {
        let r = r.unwrap();
        if &r[0] == "line" {
            let d = tradelane::model::Currency::parse(&r[15])
                .unwrap()
                .decimals();
            assert_eq!(
                r[18].split_once('.').map_or(0, |(_, f)| f.len()),
                d as usize
            );
            *net.entry(r[15].to_string()).or_default() +=
                r[18].replace('.', "").parse::<i64>().unwrap();
        }
    }
    let mut paid = BTreeMap::<String, i64>::new();
    for p in truth["payouts"].as_array().unwrap() {
        *paid
            .entry(p["currency"].as_str().unwrap().to_string())
            .or_default() += p["amount_minor"].as_i64().unwrap();
    }
    assert_eq!(net, paid);
}

//! The settlement workflow against the sandbox: real Stripe and PayPal
//! plugins as wasm components, real HTTP on loopback, real sled. Payouts
//! reconcile to the cent, every injected discrepancy is reported exactly
//! once and nothing else is, foreign currencies settle at the provider's
//! rate, a rerun changes nothing, and the month's CSV adds up.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use tradelane::settlement::SettlementStore;
use tradelane::settlement::records::DiscrepancyKind;
use tradelane_tests::*;

async fn world(orders: u32) -> (tradelane_sandbox::Sandbox, tempfile::TempDir, Harness) {
    let sandbox = sandbox(orders, 7).await;
    let url = sandbox.url();
    let dir = tempfile::tempdir().unwrap();
    let page = if orders > 250 { 250 } else { 50 };
    let text = format!(
        "{}\n[rates]\necb_url = \"{url}/stats/eurofxref/eurofxref-hist-90d.xml\"\nallow_loopback = true\n",
        config_text(
            dir.path(),
            &[
                shopify_channel("shop", &url, TOKEN, page),
                settlement_block(&url),
            ],
        )
    );
    let (_, config) = write_config(dir.path(), &text);
    let h = Harness::new(&config).await;
    h.pass(0).await.expect("sync");
    (sandbox, dir, h)
}

/// The seller's book currency, as `[sellers.settlement] currency` says.
fn books() -> BTreeMap<String, tradelane::model::Currency> {
    [(
        "s1".to_string(),
        tradelane::model::Currency::parse("EUR").unwrap(),
    )]
    .into()
}

fn i(v: &Value) -> i64 {
    v.as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sandbox_payout_reconciles_to_the_cent() {
    let (sandbox, _dir, h) = world(40).await;
    let report = h.settle().await;
    assert_eq!(report.accounts_failed, 0, "{report:?}");
    let truth = settlement_truth(&sandbox.url()).await;
    let expected = truth["payouts"].as_array().unwrap();
    let stored = h.store.payouts(None).unwrap();
    assert_eq!(stored.len(), expected.len(), "every payout once");
    let providers: BTreeSet<&str> = expected
        .iter()
        .map(|p| p["provider"].as_str().unwrap())
        .collect();
    assert_eq!(providers, BTreeSet::from(["paypal", "stripe"]));
    for p in expected {
        let id = p["id"].as_str().unwrap();
        let r = stored
            .iter()
            .find(|r| r.payout.external_id == id)
            .unwrap_or_else(|| panic!("payout {id}"));
        assert_eq!(r.payout.amount.amount_minor, i(&p["amount_minor"]), "{id}");
        assert_eq!(
            r.payout.amount.currency.code(),
            p["currency"].as_str().unwrap(),
            "{id}"
        );
        assert_eq!(
            r.lines_net(),
            r.payout.amount.amount_minor,
            "{id}: lines sum to the payout exactly"
        );
        let lines = p["lines"].as_array().unwrap();
        assert_eq!(r.lines.len(), lines.len(), "{id}");
        for l in lines {
            let line_id = l["id"].as_str().unwrap();
            let s = r
                .lines
                .iter()
                .find(|s| {
                    s.external_id.ends_with(line_id) || s.external_id.eq_ignore_ascii_case(line_id)
                })
                .unwrap_or_else(|| panic!("{id}: line {line_id}"));
            assert_eq!(s.gross.amount_minor, i(&l["gross_minor"]), "{line_id}");
            assert_eq!(s.fee.amount_minor, i(&l["fee_minor"]), "{line_id}");
            assert_eq!(s.net.amount_minor, i(&l["net_minor"]), "{line_id}");
            assert_eq!(
                s.exchange_rate.as_ref().map(|r| r.rate.as_str()),
                l["rate"].as_str(),
                "{line_id}: the provider's rate, digit for digit"
            );
        }
    }
    let mismatches = h
        .store
        .discrepancies(false)
        .unwrap()
        .into_iter()
        .filter(|d| d.kind == DiscrepancyKind::PayoutMismatch)
        .count();
    assert_eq!(mismatches, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_injected_discrepancy_is_reported_exactly_once_and_nothing_else() {
    let (sandbox, _dir, h) = world(40).await;
    h.settle().await;
    let truth = settlement_truth(&sandbox.url()).await;
    let inj = &truth["injected"];
    let orders = tradelane_tests::truth(&sandbox.url()).await;
    let number = |id: &Value| {
        let id = id.as_u64().unwrap();
        orders.iter().find(|o| o.id == id).unwrap().name()
    };
    let mut expected: BTreeSet<(DiscrepancyKind, String)> = BTreeSet::from([
        (
            DiscrepancyKind::Refund,
            number(&inj["partial_refund_order"]),
        ),
        (DiscrepancyKind::Dispute, number(&inj["dispute_order"])),
        (DiscrepancyKind::Unsettled, number(&inj["unsettled_order"])),
        (
            DiscrepancyKind::AmountMismatch,
            number(&inj["amount_mismatch_order"]),
        ),
        (DiscrepancyKind::LineWithoutOrder, String::new()),
    ]);
    // Cancelled orders were refunded in full: refunds too, and only those.
    for o in orders
        .iter()
        .filter(|o| o.cancelled_at.is_some() && o.paid_at.is_some())
    {
        expected.insert((DiscrepancyKind::Refund, o.name()));
    }
    let found: Vec<(DiscrepancyKind, String)> = h
        .store
        .discrepancies(false)
        .unwrap()
        .into_iter()
        .map(|d| (d.kind, d.order_number.unwrap_or_default()))
        .collect();
    let unique: BTreeSet<_> = found.iter().cloned().collect();
    assert_eq!(unique.len(), found.len(), "each once: {found:?}");
    assert_eq!(unique, expected);
    let orphan = h
        .store
        .discrepancies(false)
        .unwrap()
        .into_iter()
        .find(|d| d.kind == DiscrepancyKind::LineWithoutOrder)
        .unwrap();
    assert!(orphan.detail.contains("`#99999`"), "{}", orphan.detail);
    // A second pass finds the same, and reports nothing new.
    let again = h.settle().await;
    assert_eq!(
        (again.discrepancies_new, again.discrepancies_closed),
        (0, 0)
    );
    assert_eq!(h.store.discrepancies(false).unwrap().len(), found.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jpy_and_kwd_orders_settle_into_eur_at_the_providers_rate() {
    let (sandbox, _dir, h) = world(40).await;
    h.settle().await;
    let truth = settlement_truth(&sandbox.url()).await;
    let orders = tradelane_tests::truth(&sandbox.url()).await;
    let settlements = h.store.settlements(None).unwrap();
    let mut seen = BTreeMap::<String, u32>::new();
    for s in &settlements {
        let o = orders
            .iter()
            .find(|o| o.id.to_string() == s.order_id)
            .unwrap();
        if !matches!(o.currency.as_str(), "JPY" | "KWD") {
            continue;
        }
        let charge = s
            .lines
            .iter()
            .find(|l| l.kind == tradelane::model::PayoutLineKind::Charge)
            .unwrap();
        let expected = truth["payouts"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|p| p["lines"].as_array().unwrap())
            .find(|l| l["order_id"].as_u64() == Some(o.id) && l["kind"] == "charge")
            .unwrap();
        // The amount in the order's own minor units (JPY 0 decimals, KWD 3).
        assert_eq!(charge.amount.currency.code(), o.currency);
        assert_eq!(
            charge.amount.amount_minor,
            i(&expected["original_minor"]),
            "order {}",
            o.id
        );
        assert_eq!(charge.gross.currency.code(), "EUR");
        assert_eq!(charge.gross.amount_minor, i(&expected["gross_minor"]));
        assert_eq!(charge.net.amount_minor, i(&expected["net_minor"]));
        assert_eq!(
            charge.exchange_rate.as_deref(),
            expected["rate"].as_str(),
            "as the provider applied it"
        );
        *seen.entry(o.currency.clone()).or_default() += 1;
    }
    assert!(
        seen.get("JPY").copied().unwrap_or(0) >= 1 && seen.get("KWD").copied().unwrap_or(0) >= 1,
        "{seen:?}"
    );
    // The report prints each currency with its own decimals.
    let rows = tradelane::settlement::queries::report(
        &h.store,
        None,
        (
            chrono::DateTime::<chrono::Utc>::MIN_UTC,
            chrono::DateTime::<chrono::Utc>::MAX_UTC,
        ),
        &books(),
    )
    .unwrap();
    for r in rows.iter().filter(|r| r.row == "line") {
        let decimals = r.order_amount.split_once('.').map_or(0, |(_, f)| f.len());
        let want = match r.order_currency.as_str() {
            "JPY" => 0,
            "KWD" => 3,
            _ => 2,
        };
        assert_eq!(decimals, want, "{r:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rerunning_a_period_changes_nothing() {
    let (_sandbox, _dir, h) = world(40).await;
    let first = h.settle().await;
    assert!(
        first.payouts_stored > 10 && first.orders_settled > 10,
        "{first:?}"
    );
    let snapshot = |h: &Harness| {
        (
            serde_json::to_string(&h.store.payouts(None).unwrap()).unwrap(),
            serde_json::to_string(&h.store.settlements(None).unwrap()).unwrap(),
            serde_json::to_string(&h.store.discrepancies(false).unwrap()).unwrap(),
        )
    };
    let before = snapshot(&h);
    let second = h.settle().await;
    assert_eq!(
        (
            second.payouts_stored,
            second.lines_stored,
            second.orders_settled,
            second.discrepancies_new,
            second.discrepancies_closed
        ),
        (0, 0, 0, 0, 0),
        "{second:?}"
    );
    assert!(
        second.payouts_read > 0,
        "the lookback window was read again"
    );
    assert_eq!(snapshot(&h), before, "byte for byte");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_csv_for_a_month_adds_up_to_the_payouts() {
    let (sandbox, _dir, h) = world(40).await;
    csv_adds_up_per_currency(&h).await;
    sandbox.shutdown().await;
}

/// At a realistic volume PayPal pays out EUR and USD on the same days:
/// each payout carries only its own lines, the CSV adds up per currency to
/// the cent, every line is booked in EUR with its rate's source, and the
/// Xero and QuickBooks statements return to zero with every payout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_thousand_orders_add_up_per_currency_and_in_the_book_currency() {
    let (sandbox, _dir, h) = world(5_000).await;
    let (from, to) = csv_adds_up_per_currency(&h).await;
    let payouts = h.store.payouts(None).unwrap();
    let mut days = BTreeMap::<(String, chrono::NaiveDate), BTreeSet<String>>::new();
    for p in &payouts {
        assert!(
            p.lines
                .iter()
                .all(|l| l.net.currency == p.payout.amount.currency),
            "payout {} carries only lines in its own currency",
            p.payout.external_id
        );
        days.entry((p.account.clone(), p.payout.created_at.date_naive()))
            .or_default()
            .insert(p.payout.amount.currency.code().to_string());
    }
    assert!(
        days.iter().any(|((a, _), c)| a == "paypal" && c.len() > 1),
        "PayPal paid out in two currencies on one day"
    );
    statements_return_to_zero(&payouts, (from, to));
    sandbox.shutdown().await;
}

/// The month with the most payouts, its CSV read back as an accountant's
/// tool would: the line rows add up to the payouts per currency, and the
/// book rows to their book total.
async fn csv_adds_up_per_currency(
    h: &Harness,
) -> (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) {
    h.rates_refresh
        .as_ref()
        .unwrap()
        .refresh(&h.store)
        .await
        .expect("the sandbox's ECB answers");
    h.settle().await;
    let payouts = h.store.payouts(None).unwrap();
    let mut months = BTreeMap::<(i32, u32), u32>::new();
    for p in &payouts {
        use chrono::Datelike;
        *months
            .entry((p.payout.created_at.year(), p.payout.created_at.month()))
            .or_default() += 1;
    }
    let ((y, m), _) = months.iter().max_by_key(|(_, n)| **n).unwrap();
    let from = chrono::NaiveDate::from_ymd_opt(*y, *m, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    let to = if *m == 12 {
        chrono::NaiveDate::from_ymd_opt(y + 1, 1, 1)
    } else {
        chrono::NaiveDate::from_ymd_opt(*y, m + 1, 1)
    }
    .unwrap()
    .and_hms_opt(0, 0, 0)
    .unwrap()
    .and_utc();
    let rows =
        tradelane::settlement::queries::report(&h.store, None, (from, to), &books()).unwrap();
    let mut csv = Vec::new();
    tradelane::settlement::report::write_csv(&rows, &mut csv).unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_slice());
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (row, cur, net) = (col("row"), col("settlement_currency"), col("net"));
    let (book_cur, book_net, source) = (col("book_currency"), col("book_net"), col("rate_source"));
    let minor = |text: &str, currency: &str| {
        let d = tradelane::model::Currency::parse(currency)
            .unwrap()
            .decimals() as usize;
        let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
        assert_eq!(frac.len(), d, "{text} has {currency}'s decimals");
        format!("{whole}{frac}").parse::<i64>().unwrap()
    };
    let mut lines = BTreeMap::<String, i64>::new();
    let mut totals = BTreeMap::<String, i64>::new();
    let (mut booked, mut book_total, mut sources) = (0i64, None, BTreeSet::new());
    for record in reader.records() {
        let r = record.unwrap();
        match &r[row] {
            "line" => *lines.entry(r[cur].to_string()).or_default() += minor(&r[net], &r[cur]),
            "total" => *totals.entry(r[cur].to_string()).or_default() += minor(&r[net], &r[cur]),
            "cost" => {}
            "book" => {
                book_total = Some(minor(&r[book_net], &r[book_cur]));
                continue;
            }
            other => panic!("row type {other}"),
        }
        if matches!(&r[row], "line" | "cost") {
            assert_eq!(&r[book_cur], "EUR");
            let s = r[source].split(':').next().unwrap().to_string();
            assert_ne!(s, "missing", "every line has a rate: {r:?}");
            if s != "same" {
                assert!(!r[col("book_rate")].is_empty(), "{r:?}");
            }
            sources.insert(s);
            booked += minor(&r[book_net], "EUR");
        }
    }
    let mut paid_out = BTreeMap::<String, i64>::new();
    for p in payouts
        .iter()
        .filter(|p| p.payout.created_at >= from && p.payout.created_at < to)
    {
        *paid_out
            .entry(p.payout.amount.currency.code().to_string())
            .or_default() += p.payout.amount.amount_minor;
    }
    assert!(!paid_out.is_empty());
    assert_eq!(
        lines, paid_out,
        "the rows' net adds up to the month's payouts"
    );
    assert_eq!(totals, paid_out, "and so do the total rows");
    assert_eq!(
        book_total,
        Some(booked),
        "the book total is the sum of its rows"
    );
    if paid_out.len() > 1 {
        assert!(
            sources.contains("ecb"),
            "a foreign payout is booked at the ECB rate: {sources:?}"
        );
    }
    (from, to)
}

type Writer =
    fn(&[tradelane::settlement::export::Movement], &mut Vec<u8>) -> Result<(), csv::Error>;

fn xero(
    rows: &[tradelane::settlement::export::Movement],
    out: &mut Vec<u8>,
) -> Result<(), csv::Error> {
    tradelane::settlement::export::write_xero(rows, out)
}

fn quickbooks(
    rows: &[tradelane::settlement::export::Movement],
    out: &mut Vec<u8>,
) -> Result<(), csv::Error> {
    tradelane::settlement::export::write_quickbooks(rows, out)
}

/// Xero's and QuickBooks' statements of each account and currency: their
/// documented columns, and a running balance that is zero after each payout.
fn statements_return_to_zero(
    payouts: &[tradelane::settlement::records::PayoutRecord],
    period: (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>),
) {
    use tradelane::settlement::export;
    // Several currencies need choosing one.
    let err = export::statement(payouts, period, Some("paypal"), None).unwrap_err();
    assert!(err.contains("--currency"), "{err}");
    for (account, currency) in [("stripe", "EUR"), ("paypal", "EUR"), ("paypal", "USD")] {
        let rows = export::statement(payouts, period, Some(account), Some(currency)).unwrap();
        assert!(!rows.is_empty(), "{account} {currency}");
        for (write, header, amount_col, date_format) in [
            (
                xero as Writer,
                vec!["*Date", "*Amount", "Payee", "Description", "Reference"],
                1,
                "%d/%m/%Y",
            ),
            (
                quickbooks as Writer,
                vec!["Date", "Description", "Amount"],
                2,
                "%m/%d/%Y",
            ),
        ] {
            let mut out = Vec::new();
            write(&rows, &mut out).unwrap();
            let mut reader = csv::Reader::from_reader(out.as_slice());
            assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), header);
            let mut balance = 0i64;
            let mut zeros = 0;
            for (record, movement) in reader.records().zip(&rows) {
                let r = record.unwrap();
                chrono::NaiveDate::parse_from_str(&r[0], date_format).unwrap();
                let text = &r[amount_col];
                assert!(!text.contains(',') && !text.contains(currency), "{text}");
                let (whole, frac) = text.split_once('.').unwrap();
                assert_eq!(frac.len(), 2);
                balance += format!("{whole}{frac}").parse::<i64>().unwrap();
                if movement.description.contains(" payout ") {
                    assert_eq!(balance, 0, "{account} {currency}: zero after {movement:?}");
                    zeros += 1;
                }
            }
            assert!(zeros > 0);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_run_does_not_cry_wolf_before_the_first_full_sync() {
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
    let (_, config) = write_config(dir.path(), &text);
    let h = Harness::new(&config).await;
    // Settlement runs before the channel ever synced: payouts are read and
    // kept, but against an empty store every line would look orderless.
    let early = h.settle().await;
    assert!(early.payouts_stored > 0, "{early:?}");
    assert_eq!(early.discrepancies_new, 0, "{early:?}");
    assert!(h.store.discrepancies(false).unwrap().is_empty());
    // After the first full sync, exactly the injected five.
    h.pass(0).await.expect("sync");
    let report = h.settle().await;
    assert_eq!(report.discrepancies_new, 5, "{report:?}");
    sandbox.shutdown().await;
}

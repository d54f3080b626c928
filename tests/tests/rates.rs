//! ECB rates: fetched from the sandbox's ECB through the egress, kept in
//! the store across restarts, and used for the customs thresholds in place
//! of config rates; a broken feed keeps the cached rates and says they are
//! stale.

use tradelane::rates::{self, RatesBook};
use tradelane::shipping::ShipmentRecord;
use tradelane_tests::receivers::HttpReceiver;
use tradelane_tests::*;

/// The config rates `shipping_block` writes, but KWD (no ECB currency).
const ECB_PUBLISHES: [&str; 6] = [
    "USD = \"0.79\"\n",
    "EUR = \"0.8587\"\n",
    "JPY = \"0.005267\"\n",
    "CAD = \"0.5766\"\n",
    "AUD = \"0.5197\"\n",
    "CHF = \"0.8977\"\n",
];

/// What a shipment decided: the order, its status and the tax ids declared.
fn decisions(records: &[ShipmentRecord]) -> Vec<(String, String, Vec<String>)> {
    let mut out: Vec<_> = records
        .iter()
        .map(|r| {
            let ids = r
                .shipment
                .iter()
                .flat_map(|s| &s.tax_ids)
                .map(|t| format!("{}:{}", t.scheme, t.value))
                .collect();
            (r.order_id.clone(), r.status.name().to_string(), ids)
        })
        .collect();
    out.sort();
    out
}

async fn shipped(
    ecb: bool,
) -> (
    Vec<(String, String, Vec<String>)>,
    tempfile::TempDir,
    Harness,
) {
    let sandbox = sandbox(40, 7).await;
    let url = sandbox.url();
    let dir = tempfile::tempdir().unwrap();
    let mut shipping = shipping_block(&url, "", SHIP_EVERYTHING, &[]);
    if ecb {
        for line in ECB_PUBLISHES {
            shipping = shipping.replace(line, "");
        }
        shipping.push_str(&format!(
            "\n[rates]\necb_url = \"{url}/stats/eurofxref/eurofxref-hist-90d.xml\"\nallow_loopback = true\n"
        ));
    }
    let text = config_text(
        dir.path(),
        &[shopify_channel("shop", &url, TOKEN, 50), shipping],
    );
    let (_, config) = write_config(dir.path(), &text);
    let h = Harness::new(&config).await;
    h.pass(0).await.expect("sync");
    if ecb {
        let refresh = h.rates_refresh.as_ref().expect("[rates] makes a refresh");
        let new = refresh
            .refresh(&h.store)
            .await
            .expect("the sandbox's ECB answers");
        assert!(new >= 60, "90 days hold at least 60 working days: {new}");
        assert!(refresh.stale().is_none());
    }
    h.ship().await;
    let out = decisions(&h.shipments());
    sandbox.shutdown().await;
    (out, dir, h)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ecb_customs_rate_decides_the_thresholds_as_config_rates_did() {
    let (by_config, _a, _) = shipped(false).await;
    let (by_ecb, dir, h) = shipped(true).await;
    assert_eq!(
        by_ecb, by_config,
        "the same orders ship with the same declarations"
    );
    assert!(
        by_ecb
            .iter()
            .any(|(_, _, ids)| ids.iter().any(|i| i.starts_with("ioss:"))),
        "some EU parcel was judged within €150"
    );
    // The rates are in the store: a restart holds them without fetching.
    let latest = h.rates.latest();
    drop(h);
    let store = tradelane::store::Store::open(&dir.path().join("store")).unwrap();
    let book = RatesBook::new();
    assert!(rates::store::load(&store, &book).unwrap() >= 60);
    assert_eq!(book.latest(), latest);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_feed_is_refused_and_the_cached_rates_are_used_and_called_stale() {
    let dir = tempfile::tempdir().unwrap();
    let feed = HttpReceiver::start().await;
    let url = format!("{}/stats/eurofxref/eurofxref-hist-90d.xml", feed.url);
    let text = format!(
        "{}\n[rates]\necb_url = \"{url}\"\nallow_loopback = true\n",
        config_text(dir.path(), &[])
    );
    // Rates fetched long ago: 60 days back.
    {
        let store = tradelane::store::Store::open(&dir.path().join("store")).unwrap();
        let mut day = rates::DayRates::new();
        day.insert(
            tradelane::model::Currency::parse("USD").unwrap(),
            tradelane::config::shipping::Decimal::parse("1.0512").unwrap(),
        );
        let old = chrono::Utc::now().date_naive() - chrono::Duration::days(60);
        rates::store::save(&store, &[(old, day)]).unwrap();
    }
    let (_, config) = write_config(dir.path(), &text);
    let h = Harness::new(&config).await;
    assert_eq!(h.rates.len(), 1, "the cached day is held at start");
    let refresh = h.rates_refresh.as_ref().unwrap();
    // An error page, then a page that is no rate document.
    feed.answer(&[404]);
    let err = refresh.refresh(&h.store).await.unwrap_err();
    assert!(err.contains("HTTP 404") && err.contains(&url), "{err}");
    let err = refresh.refresh(&h.store).await.unwrap_err();
    assert!(err.contains("no day of rates"), "{err}");
    let stale = refresh.stale().expect("the month's rate is not held");
    assert!(stale.contains("latest ECB rates held are of"), "{stale}");
    assert!(stale.contains("[rates] ecb_url"), "{stale}");
    assert_eq!(h.rates.len(), 1, "nothing replaced what was held");
}

#[test]
fn a_plain_http_feed_to_another_machine_is_a_config_error_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{}\n[rates]\necb_url = \"http://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml\"\n",
        config_text(dir.path(), &[])
    );
    let path = dir.path().join("config.toml");
    std::fs::write(&path, &text).unwrap();
    let err = tradelane::config::LoadedConfig::load(&path)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("rates.ecb_url") && err.contains("use https"),
        "{err}"
    );
}

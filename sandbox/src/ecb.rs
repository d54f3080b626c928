//! The ECB's euro foreign exchange reference rates, as
//! `https://www.ecb.europa.eu/stats/eurofxref/` publishes them: the last 90
//! days (`eurofxref-hist-90d.xml`) and the latest day
//! (`eurofxref-daily.xml`), one `Cube` per TARGET working day (weekends
//! left out), rates in units per euro. The rates are the sandbox's own
//! ([`crate::world::per_usd`]), so the daemon's customs thresholds agree
//! with the orders the sandbox makes. KWD is not an ECB currency, as in
//! the real list.

use crate::SandboxState;
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::{Datelike, Duration, NaiveDate, Utc, Weekday};
use std::sync::Arc;

/// The ECB currencies the sandbox sells in.
const PUBLISHED: [(&str, u32); 6] = [
    ("USD", 2),
    ("JPY", 0),
    ("GBP", 2),
    ("CAD", 2),
    ("AUD", 2),
    ("CHF", 2),
];

pub fn routes() -> Router<Arc<SandboxState>> {
    Router::new()
        .route("/stats/eurofxref/eurofxref-hist-90d.xml", get(last_90_days))
        .route("/stats/eurofxref/eurofxref-daily.xml", get(daily))
}

async fn last_90_days(State(state): State<Arc<SandboxState>>) -> impl IntoResponse {
    state.record(
        "GET",
        "/stats/eurofxref/eurofxref-hist-90d.xml".into(),
        200,
        Vec::new(),
    );
    xml(&working_days(90))
}

async fn daily(State(state): State<Arc<SandboxState>>) -> impl IntoResponse {
    state.record(
        "GET",
        "/stats/eurofxref/eurofxref-daily.xml".into(),
        200,
        Vec::new(),
    );
    xml(&working_days(7)[..1])
}

/// The working days of the last `span` days, newest first (as the ECB
/// lists them).
fn working_days(span: i64) -> Vec<NaiveDate> {
    let today = Utc::now().date_naive();
    (0..span)
        .map(|i| today - Duration::days(i))
        .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
        .collect()
}

/// Units of `code` per euro with 4 decimals, from the sandbox's per-dollar
/// table, in integers.
fn per_eur(code: &str, decimals: u32) -> String {
    let units = crate::world::per_usd(code) as i128 * 100 * 10_000;
    let per = units / (i128::from(crate::world::per_usd("EUR")) * 10i128.pow(decimals));
    format!("{}.{:04}", per / 10_000, per % 10_000)
}

fn xml(days: &[NaiveDate]) -> impl IntoResponse + use<> {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gesmes:Envelope xmlns:gesmes=\"http://www.gesmes.org/xml/2002-08-01\" xmlns=\"http://www.ecb.int/vocabulary/2002-08-01/eurofxref\">\n\t<gesmes:subject>Reference rates</gesmes:subject>\n\t<gesmes:Sender>\n\t\t<gesmes:name>European Central Bank</gesmes:name>\n\t</gesmes:Sender>\n\t<Cube>\n",
    );
    for day in days {
        out.push_str(&format!("\t\t<Cube time=\"{day}\">\n"));
        for (code, decimals) in PUBLISHED {
            out.push_str(&format!(
                "\t\t\t<Cube currency=\"{code}\" rate=\"{}\"/>\n",
                per_eur(code, decimals)
            ));
        }
        out.push_str("\t\t</Cube>\n");
    }
    out.push_str("\t</Cube>\n</gesmes:Envelope>\n");
    ([(header::CONTENT_TYPE, "text/xml")], out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_per_euro_follow_the_sandboxs_dollar_table() {
        // $1 = €0.92 → €1 = $1.0869; ¥150 = $1 → €1 = ¥163.0434.
        assert_eq!(per_eur("USD", 2), "1.0869");
        assert_eq!(per_eur("JPY", 0), "163.0434");
        assert_eq!(per_eur("GBP", 2), "0.8586");
        assert!(working_days(90).len() >= 60);
    }
}

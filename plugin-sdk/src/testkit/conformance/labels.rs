//! Carrier plugins: quotes, labels bought exactly once, tracking.

use super::{Findings, check_money, check_utc, refusals};
use crate::testkit::{MockResponse, SentRequest, with_host};
use crate::{Carrier, Label, PluginError, Settings, Shipment};

/// Run the carrier checks on `P` with `settings` for `shipment`, against
/// one `api` that keeps what is bought the way the real API does (a
/// handler with state):
///
/// 1. before buying, `find-label` of the shipment's reference is `None`;
/// 2. `quote` returns rates in ISO money;
/// 3. `buy-label` of the first rate returns a label with a tracking number
///    and a document (or its URL);
/// 4. after buying, `find-label` of the reference returns that label: this
///    is how the host knows, after a crash between paying and recording,
///    not to buy a second one;
/// 5. `track` of the label (where supported) gives UTC times.
///
/// Then 401, 429, 503 and an HTML body to `quote` must map to `auth`,
/// `rate-limited`, `transient` and `invalid-response`.
pub fn carrier<P: Carrier>(
    settings: &Settings,
    shipment: Shipment,
    api: impl FnMut(&SentRequest) -> MockResponse + 'static,
) -> Findings {
    let mut findings = Findings::default();
    let (problems, _) = with_host(api, || {
        let mut problems = Vec::new();
        let mut rates = 0;
        let mut labels = 0;
        buy_once::<P>(settings, &shipment, &mut problems, &mut rates, &mut labels);
        (problems, rates, labels)
    });
    let (problems, rates, labels) = problems;
    findings.problems = problems;
    findings.rates = rates;
    findings.labels = labels;
    refusals(
        "quote",
        || P::quote(settings, shipment.clone()),
        &mut findings.problems,
    );
    findings
}

fn buy_once<P: Carrier>(
    settings: &Settings,
    shipment: &Shipment,
    problems: &mut Vec<String>,
    rates_seen: &mut usize,
    labels_seen: &mut usize,
) {
    let reference = &shipment.reference;
    match P::find_label(settings, reference.clone()) {
        Ok(None) => {}
        Ok(Some(label)) => problems.push(format!(
            "find-label of `{reference}` found label `{}` before any was bought",
            label.tracking_number
        )),
        Err(PluginError::Unsupported(_)) => problems.push(
            "find-label is unsupported: after a crash the host cannot tell whether a label was bought, and will not buy another"
                .to_string(),
        ),
        Err(e) => problems.push(format!("find-label before buying failed: {e:?}")),
    }
    let rates = match P::quote(settings, shipment.clone()) {
        Ok(rates) if rates.is_empty() => {
            problems.push("quote returned no rates".to_string());
            return;
        }
        Ok(rates) => rates,
        Err(e) => {
            problems.push(format!("quote failed: {e:?}"));
            return;
        }
    };
    *rates_seen = rates.len();
    for rate in &rates {
        let at = format!("rate `{}`", rate.id);
        check_money(&at, "price", &rate.price, None, problems);
    }
    let label = match P::buy_label(
        settings,
        shipment.clone(),
        rates[0].clone(),
        reference.clone(),
    ) {
        Ok(label) => label,
        Err(e) => {
            problems.push(format!("buy-label failed: {e:?}"));
            return;
        }
    };
    *labels_seen = 1;
    check_label(&label, problems);
    match P::find_label(settings, reference.clone()) {
        Ok(Some(found)) if found.tracking_number == label.tracking_number => {}
        Ok(Some(found)) => problems.push(format!(
            "find-label of `{reference}` after buying returned tracking `{}`, the label bought has `{}`",
            found.tracking_number, label.tracking_number
        )),
        Ok(None) => problems.push(format!(
            "find-label of `{reference}` after buying found nothing: after a crash the host would buy a second label"
        )),
        Err(e) => problems.push(format!("find-label after buying failed: {e:?}")),
    }
    match P::track(
        settings,
        label.carrier.clone(),
        label.tracking_number.clone(),
    ) {
        Ok(events) => {
            for e in &events {
                let at = format!("tracking `{}`", label.tracking_number);
                check_utc(&at, "event at", &e.at, problems);
            }
        }
        Err(PluginError::Unsupported(_) | PluginError::NotFound(_)) => {}
        Err(e) => problems.push(format!("track failed: {e:?}")),
    }
}

fn check_label(label: &Label, problems: &mut Vec<String>) {
    let at = format!("label `{}`", label.external_id);
    if label.tracking_number.trim().is_empty() {
        problems.push(format!("{at}: no tracking number"));
    }
    if label.document.is_empty() && label.document_url.is_none() {
        problems.push(format!("{at}: neither a document nor its URL"));
    }
    check_money(&at, "cost", &label.cost, None, problems);
}

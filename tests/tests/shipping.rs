//! The shipping workflow against the sandbox: real carrier plugins (EasyPost,
//! Shippo) and the Shopify plugin as wasm components, real HTTP on loopback,
//! real sled. Every paid order ends as exactly one label and one pushed
//! fulfillment, whatever fails on the way.

use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use tradelane::config::shipping::Decimal;
use tradelane::model::{Currency, Money};
use tradelane::shipping::ShipmentStore;
use tradelane::shipping::actions::{self, Action};
use tradelane::shipping::fx::ReferenceRates;
use tradelane::shipping::{Stage, Status};
use tradelane_sandbox::SimOrder;
use tradelane_tests::*;

/// The labels the sandbox carriers sold for one order of the `shop`
/// channel (found by the reference tradelane sent): `(shipment, purchase)`.
fn purchases<'a>(carriers: &'a [Value], order: &str) -> Vec<(&'a Value, &'a Value)> {
    carrier_labels(carriers, "shop", order)
}

fn to_ship(truth: &[SimOrder]) -> Vec<&SimOrder> {
    truth
        .iter()
        .filter(|o| o.financial_status == "paid" && o.cancelled_at.is_none())
        .collect()
}

/// The reference rates of `shipping_block`, for expectations.
fn fx() -> ReferenceRates {
    let mut t = std::collections::BTreeMap::new();
    for (c, r) in [
        ("USD", "0.79"),
        ("EUR", "0.8587"),
        ("JPY", "0.005267"),
        ("KWD", "2.5733"),
        ("CAD", "0.5766"),
        ("AUD", "0.5197"),
        ("CHF", "0.8977"),
    ] {
        t.insert(c.to_string(), Decimal::parse(r).unwrap());
    }
    ReferenceRates::new(Currency::parse("GBP").unwrap(), &t)
}

fn money(amount_minor: i64, code: &str) -> Money {
    Money {
        amount_minor,
        currency: Currency::parse(code).unwrap(),
    }
}

const EU: &[&str] = &["DE", "FR", "NL", "IT", "SE"];

/// A sandbox of `orders` orders, synced into a fresh store, with shipping
/// configured by `options` and `rules`.
async fn world(
    orders: u32,
    options: &str,
    rules: &str,
    omit_hs: &[&str],
) -> (tradelane_sandbox::Sandbox, tempfile::TempDir, Harness) {
    let sandbox = sandbox(orders, 7).await;
    let url = sandbox.url();
    let dir = tempfile::tempdir().unwrap();
    let text = config_text(
        dir.path(),
        &[
            shopify_channel("shop", &url, TOKEN, 50),
            shipping_block(&url, options, rules, omit_hs),
        ],
    );
    let (_, config) = write_config(dir.path(), &text);
    let h = Harness::new(&config).await;
    h.pass(0).await.expect("sync");
    (sandbox, dir, h)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_paid_order_ships_once_with_its_tracking_on_the_channel() {
    let (sandbox, _dir, h) = world(40, "", SHIP_EVERYTHING, &[]).await;
    let url = sandbox.url();
    let before = truth(&url).await;
    let expected = to_ship(&before);
    assert!(expected.len() >= 25, "seed 7 has enough paid orders");

    let report = h.ship().await;
    assert_eq!(report.shipped as usize, expected.len(), "{report:?}");
    // Another sync (which sees the fulfillments) and pass change nothing.
    h.pass(0).await.expect("sync");
    let again = h.ship().await;
    assert_eq!((again.shipped, again.dead_lettered, again.held), (0, 0, 0));

    let after = truth(&url).await;
    let carriers = carrier_shipments(&url).await;
    let records = h.shipments();
    let (mut currencies, mut countries) = (BTreeSet::new(), BTreeSet::new());
    let mut invoices = 0;
    for o in &before {
        let id = o.id.to_string();
        let bought = purchases(&carriers, &id);
        let now = after.iter().find(|a| a.id == o.id).unwrap();
        if !expected.iter().any(|e| e.id == o.id) {
            assert!(
                bought.is_empty(),
                "order {id} ({}) must not ship",
                o.financial_status
            );
            assert!(now.fulfillments.is_empty(), "order {id}");
            continue;
        }
        assert_eq!(bought.len(), 1, "order {id}: exactly one label");
        assert_eq!(
            now.fulfillments.len(),
            1,
            "order {id}: exactly one fulfillment"
        );
        let tracking = bought[0].1["tracking_number"].as_str().unwrap();
        assert_eq!(now.fulfillments[0].tracking_number, tracking, "order {id}");
        let rec = records.iter().find(|r| r.order_id == id).unwrap();
        assert_eq!(
            (rec.status, rec.stage),
            (Status::Done, Stage::Pushed),
            "order {id}"
        );
        let label = rec.label.as_ref().unwrap();
        assert_eq!(label.tracking_number, tracking);
        let file = std::fs::read(rec.label_path.as_ref().unwrap()).unwrap();
        assert!(file.starts_with(b"%PDF-1.4"), "a PDF label");
        assert!(
            String::from_utf8_lossy(&file).contains(&format!("TRACKING {tracking}")),
            "the label carries its tracking number"
        );
        // A shipment across a customs border comes with the carrier's
        // commercial invoice, stored beside the label; a domestic one has none.
        let declared = !bought[0].0["customs"].as_array().unwrap().is_empty();
        assert_eq!(label.forms.len(), usize::from(declared), "order {id}");
        for form in &label.forms {
            assert_eq!(
                form.kind,
                tradelane::model::CustomsFormKind::CommercialInvoice
            );
            let path = form.path.as_ref().expect("the form is stored");
            assert_eq!(path.parent(), rec.label_path.as_ref().unwrap().parent());
            let invoice = String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned();
            assert!(invoice.starts_with("%PDF-1.4") && invoice.contains("COMMERCIAL INVOICE"));
            invoices += 1;
        }
        currencies.insert(o.currency.clone());
        countries.insert(o.customer.country.clone());
    }
    assert!(invoices > 0, "some orders crossed a customs border");
    assert!(currencies.len() >= 5, "{currencies:?}");
    assert!(countries.len() >= 6, "{countries:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customs_lines_at_the_carrier_match_the_order() {
    let (sandbox, _dir, h) = world(40, "", SHIP_EVERYTHING, &[]).await;
    let url = sandbox.url();
    h.ship().await;
    let truth = truth(&url).await;
    let carriers = carrier_shipments(&url).await;
    let fx = fx();
    let eur = Currency::parse("EUR").unwrap();
    let (mut declared, mut with_ioss, mut over_limit) = (0, 0, 0);
    for o in to_ship(&truth) {
        let bought = purchases(&carriers, &o.id.to_string());
        let shipment = bought[0].0;
        let customs = shipment["customs"].as_array().unwrap();
        let grams: u32 = o.lines.iter().map(|l| l.grams * l.quantity).sum::<u32>() + PACKAGING_G;
        let weight = shipment["weight_grams"].as_u64().unwrap() as u32;
        if shipment["provider"] == "shippo" {
            assert_eq!(weight, grams, "order {}: Shippo gets grams", o.id);
        } else {
            assert!(
                weight.abs_diff(grams) <= 3,
                "order {}: EasyPost ounces ≈ {grams} g, got {weight}",
                o.id
            );
        }
        if o.customer.country == "GB" {
            assert!(customs.is_empty(), "order {}: domestic, no customs", o.id);
            continue;
        }
        declared += 1;
        assert_eq!(customs.len(), o.lines.len(), "order {}", o.id);
        let mut goods = 0;
        for (c, l) in customs.iter().zip(&o.lines) {
            let (sku, hs, origin) = CATALOGUE.iter().find(|(s, ..)| *s == l.sku).unwrap();
            let value = l.price_minor * i64::from(l.quantity) - l.discount_minor;
            goods += value;
            assert_eq!(c["sku"], *sku, "order {}", o.id);
            assert_eq!(c["hs_code"], *hs, "order {}", o.id);
            assert_eq!(c["origin_country"], *origin, "order {}", o.id);
            assert_eq!(c["quantity"], l.quantity, "order {}", o.id);
            assert_eq!(c["currency"], o.currency.as_str(), "order {}", o.id);
            assert_eq!(
                c["value"].as_str().unwrap(),
                tradelane::model::format_minor(value, o.decimals),
                "order {}: value in {} minor units, exact",
                o.id,
                o.currency
            );
        }
        let ids = shipment["tax_ids"].as_array().unwrap();
        if EU.contains(&o.customer.country.as_str()) {
            let in_eur = fx.convert(money(goods, &o.currency), eur).unwrap();
            if in_eur.amount_minor <= 15_000 {
                with_ioss += 1;
                assert_eq!(ids.len(), 1, "order {}: IOSS for {in_eur}", o.id);
                assert_eq!(ids[0][0], "IOSS");
                assert_eq!(ids[0][1], "IM3720000224");
            } else {
                over_limit += 1;
                assert!(ids.is_empty(), "order {}: {in_eur} is above €150", o.id);
            }
        } else if o.customer.country == "AU" {
            // GST charged at sale on goods of at most A$1,000: the ARN.
            assert_eq!(ids.len(), 1, "order {}: the ARN", o.id);
            assert_eq!(ids[0][0], "ARN");
            assert_eq!(ids[0][1], "500000000000");
        } else if o.customer.country == "CH" {
            // Swiss VAT charged at sale by a registered mail-order seller:
            // its Swiss VAT number on every consignment.
            assert_eq!(ids.len(), 1, "order {}: the Swiss VAT number", o.id);
            assert_eq!(ids[0][1], "CHE-123.456.788 MWST");
        } else {
            assert!(ids.is_empty(), "order {}: IOSS only into the EU", o.id);
        }
    }
    assert!(
        declared >= 15 && with_ioss >= 2 && over_limit >= 1,
        "{declared} {with_ioss} {over_limit}"
    );
}

const RULES: &str = r#"
[[sellers.shipping.rules]]
name = "japan fastest"
countries = ["JP"]
carrier = "shippo"
choose = "fastest"

[[sellers.shipping.rules]]
name = "big spenders abroad"
regions = ["international"]
min_value = "300.00"
carrier = "easypost"
service = "ExpressMailInternational"

[[sellers.shipping.rules]]
name = "light eu"
regions = ["eu"]
max_weight_g = 1500
carrier = "easypost"
choose = "cheapest"
max_price = "30.00"

[[sellers.shipping.rules]]
name = "rest"
carrier = "shippo"
choose = "cheapest"
max_price = "45.00"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_choose_by_country_value_weight_speed_price_and_cap() {
    let (sandbox, _dir, h) = world(40, "", RULES, &[]).await;
    h.ship().await;
    let truth = truth(&sandbox.url()).await;
    let fx = fx();
    let gbp = Currency::parse("GBP").unwrap();
    let mut seen = HashMap::<&str, u32>::new();
    let mut capped = 0;
    for o in to_ship(&truth) {
        let rec = h
            .shipments()
            .into_iter()
            .find(|r| r.order_id == o.id.to_string())
            .unwrap();
        let weight: u32 = o.lines.iter().map(|l| l.grams * l.quantity).sum::<u32>() + PACKAGING_G;
        let value = fx
            .convert(money(o.total_minor(), &o.currency), gbp)
            .unwrap()
            .amount_minor;
        let to = o.customer.country.as_str();
        let (rule, service, fastest, cap) = if to == "JP" {
            ("japan fastest", None, true, None)
        } else if to != "GB" && value >= 30_000 {
            (
                "big spenders abroad",
                Some("ExpressMailInternational"),
                false,
                None,
            )
        } else if EU.contains(&to) && weight <= 1500 {
            ("light eu", None, false, Some(3000))
        } else {
            ("rest", None, false, Some(4500))
        };
        *seen.entry(rule).or_default() += 1;
        assert_eq!(
            rec.rule.as_deref(),
            Some(rule),
            "order {} to {to}, {weight} g, {value} GBP",
            o.id
        );
        // The expected pick, from the quotes the carrier gave.
        let gbp_of = |usd_cents: i64| (usd_cents * 79 + 50) / 100;
        let mut fits: Vec<_> = rec
            .quotes
            .iter()
            .filter(|q| service.is_none_or(|s| q.service == s))
            .filter(|q| cap.is_none_or(|c| gbp_of(q.price.amount_minor) <= c))
            .collect();
        fits.sort_by_key(|q| {
            if fastest {
                (q.estimated_days.unwrap_or(99) as i64, q.price.amount_minor)
            } else {
                (q.price.amount_minor, q.estimated_days.unwrap_or(99) as i64)
            }
        });
        match fits.first() {
            // The US: every parcel is dutiable, so a postal one paid by the
            // buyer (these rules leave the incoterm at DAP) is held.
            Some(best) if to == "US" && tradelane::shipping::regimes::is_postal(&best.carrier) => {
                assert_eq!(rec.status, Status::Held, "order {}", o.id);
                assert!(
                    rec.reason
                        .as_deref()
                        .unwrap_or("")
                        .contains("no de minimis"),
                    "order {}: {:?}",
                    o.id,
                    rec.reason
                );
            }
            Some(best) => {
                assert_eq!(rec.status, Status::Done, "order {}: {:?}", o.id, rec.reason);
                assert_eq!(
                    rec.chosen.as_ref().unwrap().id,
                    best.id,
                    "order {} ({rule})",
                    o.id
                );
            }
            None => {
                capped += 1;
                assert_eq!(rec.status, Status::Held, "order {}", o.id);
                assert!(
                    rec.reason
                        .as_deref()
                        .unwrap()
                        .contains("no rate within max_price"),
                    "{:?}",
                    rec.reason
                );
            }
        }
    }
    for rule in ["japan fastest", "big spenders abroad", "light eu", "rest"] {
        assert!(
            seen.get(rule).copied().unwrap_or(0) >= 1,
            "rule `{rule}` exercised: {seen:?}"
        );
    }
    assert!(capped >= 1, "some order exceeds its cap");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5xx_after_the_purchase_adopts_the_label_instead_of_buying_again() {
    let (sandbox, _dir, h) = world(12, "", SHIP_EVERYTHING, &[]).await;
    let url = sandbox.url();
    control(
        &url,
        "/_sandbox/faults",
        Some(serde_json::json!({"carrier_error_after_buy": 3})),
    )
    .await;
    let first = h.ship().await;
    assert_eq!(first.retrying, 3, "{first:?}");
    let waiting: Vec<_> = h
        .shipments()
        .into_iter()
        .filter(|r| r.status == Status::Active)
        .collect();
    assert_eq!(waiting.len(), 3);
    for r in &waiting {
        assert_eq!(r.stage, Stage::RateChosen, "the purchase is uncertain");
        assert!(r.next_attempt_at.is_some() && r.reason.as_deref().unwrap().contains("500"));
        // Hurry the retry instead of waiting for the backoff.
        actions::apply(
            &h.store,
            (&r.seller, &r.channel, &r.order_id, &r.order_number),
            Action::Retry,
            None,
        )
        .unwrap();
    }
    let second = h.ship().await;
    assert_eq!(second.shipped, 3, "{second:?}");
    let truth = truth(&url).await;
    let carriers = carrier_shipments(&url).await;
    for o in to_ship(&truth) {
        assert_eq!(
            purchases(&carriers, &o.id.to_string()).len(),
            1,
            "order {}",
            o.id
        );
        assert_eq!(o.fulfillments.len(), 1, "order {}", o.id);
    }
    for r in &waiting {
        let now = h
            .store
            .shipment(&r.seller, &r.channel, &r.order_id)
            .unwrap()
            .unwrap();
        assert!(
            now.history.iter().any(|t| t.note.contains("adopted label")),
            "{:#?}",
            now.history
        );
        assert_eq!(now.attempt, 1, "the same attempt continued");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_purchase_is_adopted_too() {
    let sandbox = sandbox(4, 7).await;
    let url = sandbox.url();
    let dir = tempfile::tempdir().unwrap();
    let text = config_text(
        dir.path(),
        &[
            shopify_channel("shop", &url, TOKEN, 50),
            shipping_block(&url, "", SHIP_EVERYTHING, &[]),
        ],
    );
    let (_, config) = write_config(dir.path(), &text);
    let slow_to_answer = tradelane::egress::HttpEgress::new(tradelane::egress::EgressSettings {
        request_timeout: std::time::Duration::from_millis(1500),
        ..Default::default()
    });
    let h = Harness::with_egress(&config, std::sync::Arc::new(slow_to_answer)).await;
    h.pass(0).await.expect("sync");
    control(
        &url,
        "/_sandbox/faults",
        Some(serde_json::json!({"carrier_delay_ms": 4000})),
    )
    .await;
    let first = h.ship().await;
    assert!(first.retrying >= 1, "{first:?}");
    let timed_out: Vec<_> = h
        .shipments()
        .into_iter()
        .filter(|r| r.status == Status::Active)
        .collect();
    assert!(
        timed_out
            .iter()
            .all(|r| r.reason.as_deref().unwrap_or("").contains("timed out")),
        "{timed_out:#?}"
    );
    control(&url, "/_sandbox/faults", Some(serde_json::json!({}))).await;
    // Hurry every waiting order, a few rounds: on a loaded machine another
    // request may time out too, and must be adopted just the same.
    for _ in 0..4 {
        let waiting: Vec<_> = h
            .shipments()
            .into_iter()
            .filter(|r| r.status == Status::Active)
            .collect();
        if waiting.is_empty() {
            break;
        }
        for r in &waiting {
            actions::apply(
                &h.store,
                (&r.seller, &r.channel, &r.order_id, &r.order_number),
                Action::Retry,
                None,
            )
            .unwrap();
        }
        h.ship().await;
    }
    for r in &timed_out {
        let now = h
            .store
            .shipment(&r.seller, &r.channel, &r.order_id)
            .unwrap()
            .unwrap();
        assert_eq!(now.status, Status::Done, "{:#?}", now.history);
        assert!(
            now.history.iter().any(|t| t.note.contains("adopted label")),
            "{:#?}",
            now.history
        );
    }
    let truth = truth(&url).await;
    let carriers = carrier_shipments(&url).await;
    for o in to_ship(&truth) {
        assert_eq!(
            purchases(&carriers, &o.id.to_string()).len(),
            1,
            "order {}",
            o.id
        );
        assert_eq!(o.fulfillments.len(), 1, "order {}", o.id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_the_carrier_refuses_is_dead_lettered_then_retried_after_the_fix() {
    let sandbox = sandbox(40, 7).await;
    let url = sandbox.url();
    let truth0 = truth(&url).await;
    let paid = to_ship(&truth0);
    // One order routed to EasyPost (EU), one to Shippo (elsewhere, not GB).
    let eu = paid
        .iter()
        .find(|o| EU.contains(&o.customer.country.as_str()))
        .unwrap()
        .id;
    let world = paid
        .iter()
        .find(|o| !EU.contains(&o.customer.country.as_str()) && o.customer.country != "GB")
        .unwrap()
        .id;
    for id in [eu, world] {
        control(
            &url,
            &format!("/_sandbox/address?id={id}&valid=false"),
            None,
        )
        .await;
    }
    let dir = tempfile::tempdir().unwrap();
    let text = config_text(
        dir.path(),
        &[
            shopify_channel("shop", &url, TOKEN, 50),
            shipping_block(&url, "", SHIP_EVERYTHING, &[]),
        ],
    );
    let (_, config) = write_config(dir.path(), &text);
    let h = Harness::new(&config).await;
    h.pass(0).await.expect("sync");
    let report = h.ship().await;
    assert_eq!(report.dead_lettered, 2, "{report:?}");
    let dead: HashMap<String, _> = h
        .shipments()
        .into_iter()
        .filter(|r| r.status == Status::DeadLetter)
        .map(|r| (r.order_id.clone(), r))
        .collect();
    let ep = dead[&eu.to_string()].reason.clone().unwrap();
    assert!(
        ep.contains("ADDRESS.VERIFY.FAILURE: Unable to verify address.")
            && ep.contains("street1: Address not found"),
        "{ep}"
    );
    let sp = dead[&world.to_string()].reason.clone().unwrap();
    assert!(
        sp.contains("address_to: Address could not be validated"),
        "{sp}"
    );
    assert!(
        dead.values().all(|r| r.failures == 1),
        "refusals are not retried"
    );

    // The buyer corrects the address on the channel; the next sync sees it.
    for id in [eu, world] {
        control(&url, &format!("/_sandbox/address?id={id}&valid=true"), None).await;
    }
    h.pass(0).await.expect("sync");
    assert_eq!(
        h.ship().await.shipped,
        0,
        "a dead letter waits for a person"
    );
    for r in dead.values() {
        let again = actions::apply(
            &h.store,
            (&r.seller, &r.channel, &r.order_id, &r.order_number),
            Action::Retry,
            Some("address fixed"),
        )
        .unwrap();
        assert_eq!(
            (again.attempt, again.status, again.stage),
            (2, Status::Active, Stage::Intent)
        );
    }
    assert_eq!(h.ship().await.shipped, 2);
    let truth = truth(&url).await;
    let carriers = carrier_shipments(&url).await;
    for id in [eu, world] {
        let o = truth.iter().find(|o| o.id == id).unwrap();
        let bought = purchases(&carriers, &id.to_string());
        assert_eq!(bought.len(), 1, "order {id}");
        assert!(
            bought[0].0["reference"].as_str().unwrap().ends_with(":2"),
            "bought by attempt 2"
        );
        assert_eq!(o.fulfillments.len(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_hs_code_holds_the_order_naming_the_sku() {
    let (sandbox, _dir, h) = world(40, "", SHIP_EVERYTHING, &["TEA-SEN-100"]).await;
    let url = sandbox.url();
    let report = h.ship().await;
    let truth = truth(&url).await;
    let carriers = carrier_shipments(&url).await;
    let mut held = 0;
    for o in to_ship(&truth) {
        let rec = h
            .shipments()
            .into_iter()
            .find(|r| r.order_id == o.id.to_string())
            .unwrap();
        let has_tea = o.lines.iter().any(|l| l.sku == "TEA-SEN-100");
        if has_tea && o.customer.country != "GB" {
            held += 1;
            assert_eq!(rec.status, Status::Held, "order {}", o.id);
            let reason = rec.reason.unwrap();
            assert!(
                reason.contains("SKU `TEA-SEN-100` has no hs_code")
                    && reason.contains("[sellers.catalogue.\"TEA-SEN-100\"]"),
                "{reason}"
            );
            assert!(
                carrier_shipments_for(&carriers, o.id).is_empty(),
                "nothing asked of a carrier"
            );
            assert!(o.fulfillments.is_empty());
        } else {
            assert_eq!(rec.status, Status::Done, "order {}: {:?}", o.id, rec.reason);
        }
    }
    assert!(held >= 1 && report.held == held, "{report:?} {held}");
    // A held order stays held (and is not rewritten) on the next pass.
    assert_eq!(h.ship().await.held, 0);
}

fn carrier_shipments_for(carriers: &[Value], order: u64) -> Vec<&Value> {
    let prefix = format!("label:s1:shop:{order}:");
    carriers
        .iter()
        .filter(|s| {
            s["reference"]
                .as_str()
                .is_some_and(|r| r.starts_with(&prefix))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_quotes_and_records_but_buys_nothing() {
    let (sandbox, _dir, h) = world(20, "dry_run = true", SHIP_EVERYTHING, &[]).await;
    let url = sandbox.url();
    let report = h.ship().await;
    let truth = truth(&url).await;
    let expected = to_ship(&truth);
    assert_eq!(report.dry_run as usize, expected.len(), "{report:?}");
    let carriers = carrier_shipments(&url).await;
    assert_eq!(carriers.len(), expected.len(), "quoted once each");
    assert!(
        carriers
            .iter()
            .all(|s| s["purchases"].as_array().unwrap().is_empty()),
        "nothing bought"
    );
    assert!(
        truth.iter().all(|o| o.fulfillments.is_empty()),
        "nothing pushed"
    );
    for r in h.shipments() {
        assert_eq!(r.status, Status::DryRun);
        assert!(r.chosen.is_some() && r.label.is_none());
        assert!(r.reason.unwrap().starts_with("dry run: would buy"));
    }
    assert_eq!(h.ship().await.dry_run, 0, "a dry run is recorded once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hold_release_and_skip_are_respected() {
    let (sandbox, _dir, h) = world(12, "", SHIP_EVERYTHING, &[]).await;
    let url = sandbox.url();
    let truth0 = truth(&url).await;
    let paid = to_ship(&truth0);
    let (a, b) = (paid[0], paid[1]);
    let locate = |o: &SimOrder| actions::locate(&h.store, &o.id.to_string()).unwrap();
    let at =
        |l: &(String, String, String, String)| (l.0.clone(), l.1.clone(), l.2.clone(), l.3.clone());
    let (la, lb) = (at(&locate(a)), at(&locate(b)));
    actions::apply(
        &h.store,
        (&la.0, &la.1, &la.2, &la.3),
        Action::Hold,
        Some("buyer asked to wait"),
    )
    .unwrap();
    actions::apply(
        &h.store,
        (&lb.0, &lb.1, &lb.2, &lb.3),
        Action::Skip,
        Some("handed over at the fair"),
    )
    .unwrap();
    let report = h.ship().await;
    assert_eq!(report.shipped as usize, paid.len() - 2);
    let carriers = carrier_shipments(&url).await;
    assert!(
        carrier_shipments_for(&carriers, a.id).is_empty()
            && carrier_shipments_for(&carriers, b.id).is_empty()
    );
    actions::apply(
        &h.store,
        (&la.0, &la.1, &la.2, &la.3),
        Action::Release,
        None,
    )
    .unwrap();
    assert_eq!(h.ship().await.shipped, 1, "released, it ships");
    let err =
        actions::apply(&h.store, (&la.0, &la.1, &la.2, &la.3), Action::Hold, None).unwrap_err();
    assert!(err.to_string().contains("already shipped"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zpl_labels_when_asked() {
    let (sandbox, _dir, h) = world(6, "label_format = \"zpl\"", SHIP_EVERYTHING, &[]).await;
    let report = h.ship().await;
    assert!(report.shipped >= 3, "{report:?}");
    let truth = truth(&sandbox.url()).await;
    for r in h.shipments() {
        let path = r.label_path.as_ref().unwrap();
        assert_eq!(path.extension().and_then(|e| e.to_str()), Some("zpl"));
        let doc = String::from_utf8(std::fs::read(path).unwrap()).unwrap();
        let tracking = &r.label.as_ref().unwrap().tracking_number;
        assert!(
            doc.starts_with("^XA") && doc.trim_end().ends_with("^XZ"),
            "{doc}"
        );
        assert!(
            doc.contains(&format!("^FD{tracking}^FS")),
            "the barcode carries the tracking number"
        );
        let o = truth
            .iter()
            .find(|o| o.id.to_string() == r.order_id)
            .unwrap();
        assert_eq!(o.fulfillments[0].tracking_number, *tracking);
    }
}

/// After its first pass a workflow reads the store's change events: an
/// order that was not shippable then (payment pending) ships on the next
/// pass once its change arrives, and a pass with no changes touches
/// nothing. A full sweep afterwards agrees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_later_pass_ships_what_the_change_events_bring() {
    use tradelane::model::PaymentStatus;
    use tradelane::store::SyncCursor;
    let (sandbox, _dir, h) = world(12, "", SHIP_EVERYTHING, &[]).await;
    let expected = to_ship(&truth(&sandbox.url()).await).len() as u32;
    let mut late = h
        .stored("shop")
        .into_iter()
        .map(|s| s.order)
        .find(|o| o.payment_status == PaymentStatus::Paid)
        .expect("a paid order");
    let paid = late.clone();
    // As if the channel had reported it unpaid until now.
    late.payment_status = PaymentStatus::Pending;
    late.updated_at += chrono::Duration::seconds(1);
    let commit = |o: &tradelane::model::Order| {
        h.store
            .commit_page(
                "s1",
                "shop",
                "orders",
                std::slice::from_ref(o),
                &SyncCursor::default(),
            )
            .unwrap()
    };
    assert_eq!(commit(&late).updated, 1);

    let first = h.ship().await;
    assert_eq!(
        first.shipped,
        expected - 1,
        "the pending one waits: {first:?}"
    );
    assert!(
        h.store
            .shipment("s1", "shop", &late.external_id)
            .unwrap()
            .is_none(),
        "an unpaid order gets no record"
    );
    let idle = h.ship().await;
    assert_eq!(idle, tradelane::shipping::PassReport::default());

    let mut now_paid = paid;
    now_paid.updated_at += chrono::Duration::seconds(2);
    assert_eq!(commit(&now_paid).updated, 1);
    let second = h.ship().await;
    assert_eq!(second.shipped, 1, "its change event brings it: {second:?}");
    let record = h
        .store
        .shipment("s1", "shop", &now_paid.external_id)
        .unwrap()
        .expect("shipped");
    assert_eq!(record.status, Status::Done);

    h.shipping[0].sweep_next();
    let sweep = h.ship().await;
    assert_eq!((sweep.shipped, sweep.held, sweep.dead_lettered), (0, 0, 0));
    let done = h
        .shipments()
        .iter()
        .filter(|r| r.status == Status::Done)
        .count();
    assert_eq!(done as u32, expected);
}

/// Order ids that read alike as file names (`a/b`, `a_b`), or that are
/// longer than a file name may be, each get their own label file; and one
/// order whose label cannot be written is retried and then dead-lettered
/// on its own while the seller's other orders ship.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn label_files_never_collide_and_one_bad_file_stays_with_its_order() {
    use tradelane::shipping::labels;
    use tradelane::store::SyncCursor;
    let (sandbox, dir, h) = world(12, "", SHIP_EVERYTHING, &[]).await;
    let paid: Vec<_> = h
        .stored("shop")
        .into_iter()
        .map(|s| s.order)
        .filter(|o| tradelane::shipping::plan::not_shippable(o).is_none())
        .collect();
    // Three copies of one paid order under hostile ids, as a marketplace
    // could send them.
    let hostile = ["T/1".to_string(), "T_1".to_string(), "L".repeat(300)];
    let copies: Vec<_> = hostile
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let mut o = paid[0].clone();
            o.external_id = id.clone();
            o.number = format!("#T{i}");
            o
        })
        .collect();
    h.store
        .commit_page("s1", "shop", "orders", &copies, &SyncCursor::default())
        .unwrap();
    // Where one real order's label will go, a non-empty directory: its
    // label can be bought but not written.
    let blocked = &paid[1];
    let labels_dir = dir.path().join("labels");
    let target = labels::path(
        &labels_dir,
        "s1",
        "shop",
        &blocked.external_id,
        1,
        tradelane::model::LabelFormat::Pdf,
    );
    std::fs::create_dir_all(target.join("in-the-way")).unwrap();

    let expected = to_ship(&truth(&sandbox.url()).await).len() as u32;
    let first = h.ship().await;
    // Every real paid order but the blocked one ships; the copies are
    // unknown to the sandbox Shopify, so their push fails after the label
    // is stored.
    assert_eq!(first.shipped, expected - 1, "{first:?}");
    let rec = |id: &str| h.store.shipment("s1", "shop", id).unwrap().unwrap();
    let stuck = rec(&blocked.external_id);
    assert_eq!(stuck.status, Status::Active, "{stuck:?}");
    assert!(
        stuck
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("cannot store the label"),
        "{stuck:?}"
    );
    let mut paths = BTreeSet::new();
    for id in &hostile {
        let r = rec(id);
        assert_eq!(r.stage, Stage::LabelStored, "{id}: {r:?}");
        let path = r.label_path.clone().expect("stored");
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        assert!(name.len() <= 100, "{name}");
        let file = std::fs::read(&path).unwrap();
        let tracking = &r.label.as_ref().unwrap().tracking_number;
        assert!(
            String::from_utf8_lossy(&file).contains(&format!("TRACKING {tracking}")),
            "{id}: the file holds its own label"
        );
        paths.insert(path);
    }
    assert_eq!(paths.len(), hostile.len(), "one file per order");

    // The blocked order gives up after `max_attempts` (4 in the test
    // config); nothing else moves.
    for _ in 0..4 {
        let mut r = rec(&blocked.external_id);
        r.next_attempt_at = None;
        h.store.put_shipment(&r).unwrap();
        h.ship().await;
    }
    let given_up = rec(&blocked.external_id);
    assert_eq!(given_up.status, Status::DeadLetter, "{given_up:?}");
    let shipped = h
        .shipments()
        .iter()
        .filter(|r| r.status == Status::Done)
        .count() as u32;
    assert_eq!(shipped, expected - 1);
}

/// An EU seller's parcels inside the EU cross no customs border: the host
/// declares nothing and the carriers, as the real ones, ask for nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_eu_sellers_intra_eu_parcels_ship_without_customs() {
    let sandbox = sandbox(40, 7).await;
    let url = sandbox.url();
    let dir = tempfile::tempdir().unwrap();
    let shipping = shipping_block(&url, "", SHIP_EVERYTHING, &[])
        .replace("line1 = \"12 Wharf Street\"", "line1 = \"Torstraße 1\"")
        .replace("city = \"Leeds\"", "city = \"Berlin\"")
        .replace(
            "postal_code = \"LS2 7EQ\"\ncountry = \"GB\"",
            "postal_code = \"10119\"\ncountry = \"DE\"",
        );
    assert!(
        shipping.contains("country = \"DE\""),
        "the seller ships from Berlin"
    );
    let text = config_text(
        dir.path(),
        &[shopify_channel("shop", &url, TOKEN, 50), shipping],
    );
    let (_, config) = write_config(dir.path(), &text);
    let h = Harness::new(&config).await;
    h.pass(0).await.expect("sync");
    h.ship().await;
    let truth = truth(&url).await;
    let carriers = carrier_shipments(&url).await;
    let eu = ["DE", "FR", "NL", "IT", "SE"];
    let mut inside = 0;
    for o in to_ship(&truth)
        .into_iter()
        .filter(|o| eu.contains(&o.customer.country.as_str()))
    {
        let bought = purchases(&carriers, &o.id.to_string());
        assert_eq!(
            bought.len(),
            1,
            "order {} to {} ships",
            o.id,
            o.customer.country
        );
        assert!(
            bought[0].0["customs"].as_array().unwrap().is_empty(),
            "order {}: no declaration inside the EU",
            o.id
        );
        inside += 1;
    }
    assert!(inside >= 3, "{inside}");
    sandbox.shutdown().await;
}

/// A plugin author's loop: a marketplace's push-fulfillment exercised with
/// the built-in `test-carrier`, which needs no carrier account. Every paid
/// order gets a made-up label and its tracking on the channel, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_test_carrier_drives_push_fulfillment_without_a_carrier_account() {
    let sandbox = sandbox(20, 7).await;
    let url = sandbox.url();
    let dir = tempfile::tempdir().unwrap();
    let rules = r#"
[[sellers.shipping.carriers]]
id = "test"
plugin = "test-carrier"

[[sellers.shipping.rules]]
name = "everything"
carrier = "test"
incoterm = "ddp"
"#;
    let text = config_text(
        dir.path(),
        &[
            shopify_channel("shop", &url, TOKEN, 50),
            shipping_block(&url, "", rules, &[]),
        ],
    );
    let (_, config) = write_config(dir.path(), &text);
    let h = Harness::new(&config).await;
    h.pass(0).await.expect("sync");
    let first = h.ship().await;
    assert!(first.shipped > 0, "{first:?}");
    let again = h.ship().await;
    assert_eq!(again.shipped, 0, "nothing ships twice: {again:?}");
    let truth = truth(&url).await;
    let mut pushed = 0;
    for o in to_ship(&truth) {
        assert_eq!(o.fulfillments.len(), 1, "order {}: one push", o.id);
        let tracking = &o.fulfillments[0].tracking_number;
        assert!(tracking.starts_with("TEST"), "{tracking}");
        pushed += 1;
    }
    assert_eq!(pushed, first.shipped as usize);
    let rec = &h.shipments()[0];
    let label = std::fs::read(rec.label_path.as_ref().unwrap()).unwrap();
    assert!(label.starts_with(b"%PDF-1.4"));
    assert!(
        carrier_shipments(&url).await.is_empty(),
        "no request went to a carrier"
    );
    sandbox.shutdown().await;
}

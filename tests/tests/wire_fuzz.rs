//! Each plugin's wire parser and mapping, compiled natively, fed the real
//! fixture payloads with random parts replaced by values of any shape:
//! they return a mapped value or an error, and never panic (a panic in a
//! plugin is a failed call; here it would be a bug).

use proptest::prelude::*;
use serde_json::Value;
use tradelane_plugin_sdk as sdk;
use tradelane_tests::fixtures;

/// A JSON value of any shape, small.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "\\PC{0,16}".prop_map(Value::String),
        Just(Value::String("1e400".into())),
        Just(Value::String("-0.000000001".into())),
        Just(Value::String("9999-99-99T99:99:99Z".into())),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z_]{1,8}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every path to a value inside `v`.
fn paths(v: &Value, here: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    out.push(here.clone());
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                here.push(k.clone());
                paths(child, here, out);
                here.pop();
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                here.push(i.to_string());
                paths(child, here, out);
                here.pop();
            }
        }
        _ => {}
    }
}

fn replace(v: &mut Value, path: &[String], with: Value) {
    let mut at = v;
    for step in path {
        at = match at {
            Value::Object(m) => m.get_mut(step).expect("path exists"),
            Value::Array(a) => &mut a[step.parse::<usize>().expect("index")],
            _ => return,
        };
    }
    *at = with;
}

/// `fixture` with the values at `picks` (indices into its paths) replaced.
fn mutated(fixture: &str, picks: &[(usize, Value)]) -> Vec<u8> {
    let text = std::fs::read(fixtures().join(fixture)).expect("fixture");
    let mut v: Value = serde_json::from_slice(&text).expect("fixture is JSON");
    for (pick, with) in picks {
        let mut all = Vec::new();
        paths(&v, &mut Vec::new(), &mut all);
        let path = all[pick % all.len()].clone();
        replace(&mut v, &path, with.clone());
    }
    serde_json::to_vec(&v).expect("re-serialises")
}

fn picks() -> impl Strategy<Value = Vec<(usize, Value)>> {
    proptest::collection::vec((any::<usize>(), any_json()), 1..4)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn shopify_orders(p in picks()) {
        for fixture in ["shopify/orders.json", "shopify/orders.legacy.json"] {
            let body = mutated(fixture, &p);
            let _ = shopify::page(&sdk::Response { status: 200, headers: Vec::new(), body });
        }
    }

    #[test]
    fn easypost_shipments(p in picks()) {
        for fixture in ["easypost/shipment_create.response.json", "easypost/shipment.json"] {
            if let Ok(s) = serde_json::from_slice::<easypost::wire::Shipment>(&mutated(fixture, &p)) {
                let _ = easypost::mapping::rates(&s);
                let _ = easypost::mapping::label(&s, sdk::LabelFormat::Pdf);
            }
        }
    }

    #[test]
    fn shippo_shipments_and_tracks(p in picks()) {
        if let Ok(s) = serde_json::from_slice::<shippo::wire::Shipment>(&mutated("shippo/shipment.json", &p)) {
            let _ = shippo::mapping::rates(&s);
        }
        if let Ok(t) = serde_json::from_slice::<shippo::wire::Track>(&mutated("shippo/track_status.json", &p)) {
            let _ = shippo::mapping::tracking_events(&t);
        }
    }

    #[test]
    fn stripe_payouts(p in picks()) {
        let body = mutated("stripe/payouts.json", &p);
        if let Ok(list) = serde_json::from_slice::<stripe::wire::List<stripe::wire::Payout>>(&body) {
            for payout in &list.data {
                let _ = stripe::mapping::payout(payout);
            }
        }
    }

    #[test]
    fn paypal_transactions(p in picks()) {
        for fixture in ["paypal/transactions.json", "paypal/transactions.docs-sample.json"] {
            if let Ok(page) = serde_json::from_slice::<paypal::wire::Search>(&mutated(fixture, &p)) {
                for d in &page.transaction_details {
                    let _ = paypal::mapping::line(&d.transaction_info, paypal::mapping::ReferenceField::InvoiceId);
                    let _ = paypal::mapping::payout(&d.transaction_info);
                }
            }
        }
    }
}

//! The plugin authors' test kit, used as an author would: the built-in
//! Shopify plugin's code called natively (it used to abort the test
//! binary), against recorded exchanges, through the conformance suite.

use shopify::Shopify;
use tradelane_plugin_sdk::testkit::{self, MockResponse, conformance};
use tradelane_plugin_sdk::{Marketplace, OrderQuery, Settings};
use tradelane_tests::fixtures;

fn settings() -> Settings {
    Settings::new([("shop", "demo-crafts.myshopify.com")], ["access_token"])
}

fn first_page() -> OrderQuery {
    OrderQuery {
        updated_after: None,
        page_token: None,
        page_size: 50,
    }
}

#[test]
fn a_call_outside_any_host_is_an_error_not_an_abort() {
    let err = Shopify::fetch_orders(&settings(), first_page()).unwrap_err();
    assert!(format!("{err:?}").contains("testkit::with_host"), "{err:?}");
}

#[test]
fn fetch_orders_replays_a_recorded_exchange_offline() {
    let replay = testkit::replay(&fixtures().join("recorded/shopify-orders")).unwrap();
    let (page, seen) =
        testkit::with_host(replay, || Shopify::fetch_orders(&settings(), first_page()));
    let page = page.unwrap_or_else(|e| panic!("{e:?}; sent {:?}", seen.requests));
    assert_eq!(page.orders.len(), 1);
    assert_eq!(page.orders[0].external_id, "450789469");
    // The token stayed a placeholder: the host fills it in, never the plugin.
    assert_eq!(
        seen.requests[0].header("x-shopify-access-token"),
        Some("{{secret:access_token}}")
    );
    // A request nobody recorded is answered 599, naming it.
    let replay = testkit::replay(&fixtures().join("recorded/shopify-orders")).unwrap();
    let mut next = first_page();
    next.page_token = Some("not-recorded".into());
    let (result, _) = testkit::with_host(replay, || Shopify::fetch_orders(&settings(), next));
    assert!(
        format!("{result:?}").contains("no recorded exchange"),
        "{result:?}"
    );
}

#[test]
fn the_shopify_plugin_passes_the_marketplace_conformance_suite() {
    let orders = std::fs::read(fixtures().join("shopify/orders.json")).unwrap();
    let findings = conformance::marketplace::<Shopify, _>(&settings(), || {
        let body = orders.clone();
        move |_: &testkit::SentRequest| MockResponse {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.clone(),
        }
    });
    assert!(findings.problems.is_empty(), "{:#?}", findings.problems);
    assert_eq!((findings.pages, findings.orders), (1, 1));
}

#[test]
fn the_suite_names_what_a_careless_plugin_gets_wrong() {
    // An API whose every page points to itself: pagination that never ends
    // is caught as the same page asked for twice.
    let findings = conformance::marketplace::<Shopify, _>(&settings(), || {
        |_: &testkit::SentRequest| {
            MockResponse::json(200, r#"{"orders": []}"#).with_header(
                "link",
                "<https://demo-crafts.myshopify.com/admin/api/2026-07/orders.json?page_info=abc>; rel=\"next\"",
            )
        }
    });
    assert!(
        findings
            .problems
            .iter()
            .any(|p| p.contains("the same page was asked for twice")),
        "{:#?}",
        findings.problems
    );
}

/// Every built-in marketplace passes the same suite, each against its own
/// real payload.
#[test]
fn the_amazon_and_ebay_plugins_pass_the_marketplace_conformance_suite() {
    // The payload as the first page, then the same without its next-page
    // pointer as the last: a real API's two pages.
    fn last_page(v: &mut serde_json::Value) {
        if let Some(map) = v.as_object_mut() {
            for key in ["pagination", "nextToken", "NextToken", "next"] {
                map.remove(key);
            }
            map.values_mut().for_each(last_page);
        }
    }
    let serve = |body: Vec<u8>| {
        move || {
            let first = body.clone();
            let mut value: serde_json::Value = serde_json::from_slice(&first).unwrap();
            last_page(&mut value);
            let last = serde_json::to_vec(&value).unwrap();
            let mut served = 0;
            move |_: &testkit::SentRequest| {
                served += 1;
                MockResponse {
                    status: 200,
                    headers: vec![("content-type".into(), "application/json".into())],
                    body: if served == 1 {
                        first.clone()
                    } else {
                        last.clone()
                    },
                }
            }
        }
    };
    let amazon = std::fs::read(fixtures().join("amazon/searchOrders.2026-01-01.json")).unwrap();
    let settings = Settings::new(
        [
            ("marketplace_ids", "A1F83G8C2ARO7P"),
            ("lwa_client_id", "amzn1.application-oa2-client.test"),
        ],
        ["lwa_client_secret", "refresh_token"],
    );
    let findings = conformance::marketplace::<amazon::Amazon, _>(&settings, serve(amazon));
    assert!(
        findings.problems.is_empty(),
        "amazon: {:#?}",
        findings.problems
    );
    assert!(findings.orders > 0);

    let ebay = std::fs::read(fixtures().join("ebay/getOrders.json")).unwrap();
    let settings = Settings::new(
        [("client_id", "TradelaneTest-PRD-0123")],
        ["client_secret", "refresh_token"],
    );
    let findings = conformance::marketplace::<ebay::Ebay, _>(&settings, serve(ebay));
    assert!(
        findings.problems.is_empty(),
        "ebay: {:#?}",
        findings.problems
    );
    assert!(findings.orders > 0);
}

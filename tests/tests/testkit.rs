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

/// A fulfillment of `order`, shipped with tracking number `1ZCONFORM0001`.
fn fulfillment(order: &str) -> tradelane_plugin_sdk::Fulfillment {
    tradelane_plugin_sdk::Fulfillment {
        order_external_id: order.into(),
        carrier: "UPS".into(),
        service: Some("Standard".into()),
        tracking_number: "1ZCONFORM0001".into(),
        tracking_url: Some("https://www.ups.com/track?tracknum=1ZCONFORM0001".into()),
        shipped_at: "2026-12-01T10:00:00Z".into(),
        lines: Vec::new(),
        notify_buyer: true,
    }
}

fn json(path: &str) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(fixtures().join(path)).unwrap()).unwrap()
}

fn body(request: &testkit::SentRequest) -> serde_json::Value {
    serde_json::from_slice(request.body.as_deref().unwrap_or(b"null")).unwrap()
}

/// A Shopify that keeps the fulfillments written to it, answering with
/// its real payloads: the order's fulfillments (one failed, from the
/// fixture), its open fulfillment order, and a created fulfillment that
/// carries the tracking number it was sent.
fn shopify_keeping_fulfillments() -> impl FnMut(&testkit::SentRequest) -> MockResponse + 'static {
    let mut fulfillments = json("shopify/fulfillments.json")["fulfillments"].clone();
    let fulfillment_orders = json("shopify/fulfillment_orders.json");
    let created = json("shopify/fulfillment_create.response.json");
    move |request| {
        let path = request.url.split('?').next().unwrap();
        if path.ends_with("/orders/450789469/fulfillments.json") {
            MockResponse::json(
                200,
                &serde_json::json!({ "fulfillments": fulfillments }).to_string(),
            )
        } else if path.ends_with("/orders/450789469/fulfillment_orders.json") {
            MockResponse::json(200, &fulfillment_orders.to_string())
        } else if path.ends_with("/fulfillments.json") {
            let sent = body(request);
            let mut made = created["fulfillment"].clone();
            let number = sent["fulfillment"]["tracking_info"]["number"].clone();
            made["tracking_number"] = number.clone();
            made["tracking_numbers"] = serde_json::json!([number]);
            fulfillments.as_array_mut().unwrap().push(made.clone());
            MockResponse::json(201, &serde_json::json!({ "fulfillment": made }).to_string())
        } else {
            MockResponse::json(404, r#"{"errors": "Not Found"}"#)
        }
    }
}

/// Every built-in marketplace detects a second identical push: it reads
/// what the channel already has and writes nothing the second time.
#[test]
fn the_marketplaces_detect_a_second_identical_push() {
    let findings = conformance::push_fulfillment::<Shopify>(
        &settings(),
        fulfillment("450789469"),
        shopify_keeping_fulfillments(),
    );
    assert!(
        findings.problems.is_empty(),
        "shopify: {:#?}",
        findings.problems
    );

    // Amazon: the order's packages, to which a confirmed shipment adds one.
    let mut order = json("amazon/getOrder.2026-01-01.json");
    let amazon = move |request: &testkit::SentRequest| {
        let path = request.url.split('?').next().unwrap();
        if path.ends_with("/orders/2026-01-01/orders/202-1234567-8901234") {
            MockResponse::json(200, &order.to_string())
        } else if path.ends_with("/orders/v0/orders/202-1234567-8901234/shipmentConfirmation") {
            let sent = body(request);
            let package = &sent["packageDetail"];
            order["order"]["packages"]
                .as_array_mut()
                .unwrap()
                .push(serde_json::json!({
                    "packageReferenceId": package["packageReferenceId"],
                    "trackingNumber": package["trackingNumber"],
                    "carrier": package["carrierCode"],
                }));
            MockResponse::status(204)
        } else {
            MockResponse::json(
                404,
                r#"{"errors": [{"code": "NotFound", "message": "no such resource"}]}"#,
            )
        }
    };
    let settings = Settings::new(
        [
            ("marketplace_ids", "A1F83G8C2ARO7P"),
            ("lwa_client_id", "amzn1.application-oa2-client.test"),
        ],
        ["lwa_client_secret", "refresh_token"],
    );
    let findings = conformance::push_fulfillment::<amazon::Amazon>(
        &settings,
        fulfillment("202-1234567-8901234"),
        amazon,
    );
    assert!(
        findings.problems.is_empty(),
        "amazon: {:#?}",
        findings.problems
    );

    // eBay: the order's shipping fulfillments, created with a Location.
    let orders = json("ebay/getOrders.json");
    let order = orders["orders"][0].clone();
    let id = order["orderId"].as_str().unwrap().to_string();
    let mut made: Vec<serde_json::Value> = Vec::new();
    let ebay = move |request: &testkit::SentRequest| {
        let path = request.url.split('?').next().unwrap();
        let base = format!(
            "/sell/fulfillment/v1/order/{}",
            tradelane_plugin_sdk::http::encode(&id)
        );
        if path.ends_with(&format!("{base}/shipping_fulfillment")) {
            if matches!(request.method, tradelane_plugin_sdk::http::Method::Post) {
                let fid = format!("FUL-{}", made.len() + 1);
                let sent = body(request);
                made.push(serde_json::json!({
                    "fulfillmentId": fid,
                    "shipmentTrackingNumber": sent["trackingNumber"],
                }));
                MockResponse::status(201).with_header(
                    "location",
                    &format!("https://api.ebay.com{base}/shipping_fulfillment/{fid}"),
                )
            } else {
                MockResponse::json(
                    200,
                    &serde_json::json!({ "fulfillments": made, "total": made.len() }).to_string(),
                )
            }
        } else if path.ends_with(&base) {
            MockResponse::json(200, &order.to_string())
        } else {
            MockResponse::json(
                404,
                r#"{"errors": [{"errorId": 32100, "message": "Invalid order ID"}]}"#,
            )
        }
    };
    let settings = Settings::new(
        [("client_id", "TradelaneTest-PRD-0123")],
        ["client_secret", "refresh_token"],
    );
    let order_id = orders["orders"][0]["orderId"].as_str().unwrap();
    let findings =
        conformance::push_fulfillment::<ebay::Ebay>(&settings, fulfillment(order_id), ebay);
    assert!(
        findings.problems.is_empty(),
        "ebay: {:#?}",
        findings.problems
    );
}

/// The check bites: against an API that forgets what was written (so the
/// plugin cannot find its first push), the second push writes again and
/// the suite says so.
#[test]
fn the_suite_names_a_push_that_repeats() {
    let mut keeping = shopify_keeping_fulfillments();
    let forgetful = move |request: &testkit::SentRequest| {
        let answer = keeping(request);
        if request.url.contains("/orders/450789469/fulfillments.json") {
            // What a plugin that never looks would see: nothing there.
            MockResponse::json(200, r#"{"fulfillments": []}"#)
        } else {
            answer
        }
    };
    let findings =
        conformance::push_fulfillment::<Shopify>(&settings(), fulfillment("450789469"), forgetful);
    assert!(
        findings
            .problems
            .iter()
            .any(|p| p.contains("a second identical push-fulfillment was not detected")),
        "{:#?}",
        findings.problems
    );
}

/// Bytes for any label or form URL a carrier hands out.
fn document(url: &str) -> Option<MockResponse> {
    (url.contains("amazonaws.com") || url.contains("/files/")).then(|| MockResponse {
        status: 200,
        headers: vec![("content-type".into(), "image/png".into())],
        body: b"\x89PNG\r\n\x1a\n-label-".to_vec(),
    })
}

/// An EasyPost that keeps what is bought: shipments are created with the
/// reference they were sent, a bought one joins `GET /shipments`, and its
/// tracker is served; every body is one of EasyPost's real payloads.
fn easypost_keeping_purchases() -> impl FnMut(&testkit::SentRequest) -> MockResponse + 'static {
    let created = json("easypost/shipment_create.response.json");
    let bought_template = json("easypost/shipment.json");
    let trackers = json("easypost/trackers.json");
    let mut reference = serde_json::Value::Null;
    let mut bought: Vec<serde_json::Value> = Vec::new();
    move |request| {
        if let Some(doc) = document(&request.url) {
            return doc;
        }
        let path = request.url.split('?').next().unwrap();
        let post = matches!(request.method, tradelane_plugin_sdk::http::Method::Post);
        if post && path.ends_with("/shipments") {
            reference = body(request)["shipment"]["reference"].clone();
            let mut shipment = created.clone();
            shipment["reference"] = reference.clone();
            MockResponse::json(201, &shipment.to_string())
        } else if post && path.ends_with("/buy") {
            let mut shipment = bought_template.clone();
            shipment["reference"] = reference.clone();
            bought.push(shipment.clone());
            MockResponse::json(200, &shipment.to_string())
        } else if path.ends_with("/shipments") {
            let page = serde_json::json!({ "shipments": bought, "has_more": false });
            MockResponse::json(200, &page.to_string())
        } else if path.ends_with("/trackers") {
            let mut page = trackers.clone();
            page["trackers"][0]["tracking_code"] = bought_template["tracking_code"].clone();
            MockResponse::json(200, &page.to_string())
        } else {
            MockResponse::json(
                404,
                r#"{"error": {"code": "NOT_FOUND", "message": "not found"}}"#,
            )
        }
    }
}

/// A Shippo that keeps its transactions: a purchase is queued, then
/// succeeds when polled (the successful transaction of the real list,
/// carrying the rate and metadata it was sent), and joins the list.
fn shippo_keeping_transactions() -> impl FnMut(&testkit::SentRequest) -> MockResponse + 'static {
    let shipment = json("shippo/shipment.json");
    let queued = json("shippo/transaction_create.response.json");
    let success = json("shippo/transactions.json")["results"][3].clone();
    let track = json("shippo/track_status.json");
    let mut made: Vec<serde_json::Value> = Vec::new();
    move |request| {
        if let Some(doc) = document(&request.url) {
            return doc;
        }
        let path = request.url.split('?').next().unwrap();
        let post = matches!(request.method, tradelane_plugin_sdk::http::Method::Post);
        if post && path.ends_with("/shipments/") {
            MockResponse::json(201, &shipment.to_string())
        } else if post && path.ends_with("/transactions/") {
            let sent = body(request);
            let mut done = success.clone();
            done["rate"] = sent["rate"].clone();
            done["metadata"] = sent["metadata"].clone();
            made.push(done);
            let mut answer = queued.clone();
            answer["object_id"] = success["object_id"].clone();
            answer["rate"] = sent["rate"].clone();
            answer["metadata"] = sent["metadata"].clone();
            MockResponse::json(201, &answer.to_string())
        } else if path.ends_with("/transactions/") {
            let page = serde_json::json!({"count": made.len(), "next": null, "previous": null, "results": made});
            MockResponse::json(200, &page.to_string())
        } else if let Some(id) = path.split("/transactions/").nth(1) {
            match made.iter().find(|t| t["object_id"] == id) {
                Some(t) => MockResponse::json(200, &t.to_string()),
                None => MockResponse::json(404, r#"{"detail": "Not found."}"#),
            }
        } else if let Some(id) = path.split("/rates/").nth(1) {
            match shipment["rates"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["object_id"] == id)
            {
                Some(r) => MockResponse::json(200, &r.to_string()),
                None => MockResponse::json(404, r#"{"detail": "Not found."}"#),
            }
        } else if path.contains("/tracks/") {
            MockResponse::json(200, &track.to_string())
        } else {
            MockResponse::json(404, r#"{"detail": "Not found."}"#)
        }
    }
}

/// Both built-in carriers pass the carrier suite: a label bought is found
/// again by its reference (the host's check after a crash), never before.
#[test]
fn the_carriers_pass_the_carrier_conformance_suite() {
    let settings = Settings::new([("base_url", "https://api.easypost.com")], ["api_key"]);
    let findings = conformance::carrier::<easypost::EasyPost>(
        &settings,
        tradelane_tests::cassette_shipment(),
        easypost_keeping_purchases(),
    );
    assert!(
        findings.problems.is_empty(),
        "easypost: {:#?}",
        findings.problems
    );
    assert_eq!((findings.rates, findings.labels), (3, 1));

    let settings = Settings::new([("base_url", "https://api.goshippo.com")], ["api_token"]);
    let findings = conformance::carrier::<shippo::Shippo>(
        &settings,
        tradelane_tests::cassette_shipment(),
        shippo_keeping_transactions(),
    );
    assert!(
        findings.problems.is_empty(),
        "shippo: {:#?}",
        findings.problems
    );
    assert!(findings.rates > 0 && findings.labels == 1);
}

/// A carrier API that forgets purchases: the suite says the host would buy
/// a second label after a crash.
#[test]
fn the_suite_names_a_label_that_cannot_be_found_again() {
    let mut keeping = easypost_keeping_purchases();
    let forgetful = move |request: &testkit::SentRequest| {
        let answer = keeping(request);
        let listing = matches!(request.method, tradelane_plugin_sdk::http::Method::Get)
            && request
                .url
                .split('?')
                .next()
                .unwrap()
                .ends_with("/shipments");
        if listing {
            MockResponse::json(200, r#"{"shipments": [], "has_more": false}"#)
        } else {
            answer
        }
    };
    let settings = Settings::new([("base_url", "https://api.easypost.com")], ["api_key"]);
    let findings = conformance::carrier::<easypost::EasyPost>(
        &settings,
        tradelane_tests::cassette_shipment(),
        forgetful,
    );
    assert!(
        findings
            .problems
            .iter()
            .any(|p| p.contains("the host would buy a second label")),
        "{:#?}",
        findings.problems
    );
}

/// Both built-in payment providers pass the payment suite, served their
/// real payloads: Stripe's payouts and balance transactions, and PayPal's
/// Transaction Search rows moved into the last month, with a withdrawal
/// that sweeps them.
#[test]
fn the_payment_providers_pass_the_payment_conformance_suite() {
    let payouts = json("stripe/payouts.json");
    let lines = json("stripe/balance_transactions.json");
    let stripe = move || {
        let (payouts, lines) = (payouts.clone(), lines.clone());
        move |request: &testkit::SentRequest| {
            let path = request.url.split('?').next().unwrap();
            if path.ends_with("/v1/payouts") {
                MockResponse::json(200, &payouts.to_string())
            } else if path.ends_with("/v1/balance_transactions") {
                MockResponse::json(200, &lines.to_string())
            } else {
                MockResponse::json(
                    404,
                    r#"{"error": {"type": "invalid_request_error", "message": "Unrecognized request URL"}}"#,
                )
            }
        }
    };
    let settings = Settings::new([("base_url", "https://api.stripe.com")], ["secret_key"]);
    let findings = conformance::payment::<stripe::Stripe, _>(&settings, stripe);
    assert!(
        findings.problems.is_empty(),
        "stripe: {:#?}",
        findings.problems
    );
    assert!(
        findings.payouts > 0 && findings.payout_lines > 0,
        "{findings:?}"
    );

    // PayPal: the real rows, dated two days ago, and a withdrawal of their
    // sum an hour later; each search gets the rows of its window.
    let fixture = json("paypal/transactions.json");
    let day = chrono::Utc::now() - chrono::Duration::days(2);
    let stamp = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%S+0000").to_string();
    let mut rows: Vec<serde_json::Value> =
        fixture["transaction_details"].as_array().unwrap().clone();
    let mut swept = 0i64;
    for (i, row) in rows.iter_mut().enumerate() {
        let at = stamp(day + chrono::Duration::seconds(i as i64));
        let info = &mut row["transaction_info"];
        info["transaction_initiation_date"] = at.clone().into();
        info["transaction_updated_date"] = at.into();
        let cents = |v: &serde_json::Value| -> i64 {
            let s = v.as_str().unwrap_or("0");
            let (units, frac) = s.split_once('.').unwrap_or((s, "00"));
            let sign = if units.starts_with('-') { -1 } else { 1 };
            units.parse::<i64>().unwrap() * 100 + sign * frac.parse::<i64>().unwrap()
        };
        swept += cents(&info["transaction_amount"]["value"]) + cents(&info["fee_amount"]["value"]);
    }
    let mut withdrawal = rows[0].clone();
    let info = &mut withdrawal["transaction_info"];
    info["transaction_id"] = "WITHDRAWAL0001".into();
    info["transaction_event_code"] = "T0400".into();
    info["transaction_status"] = "S".into();
    info["transaction_initiation_date"] = stamp(day + chrono::Duration::hours(1)).into();
    let (sign, abs) = if swept > 0 {
        ("-", swept)
    } else {
        ("", -swept)
    };
    info["transaction_amount"]["value"] = format!("{sign}{}.{:02}", abs / 100, abs % 100).into();
    info.as_object_mut().unwrap().remove("fee_amount");
    rows.push(withdrawal);
    let paypal = move || {
        let rows = rows.clone();
        move |request: &testkit::SentRequest| {
            let query = |name: &str| {
                tradelane_plugin_sdk::http::query_param(&request.url, name).unwrap_or_default()
            };
            let (from, to) = (query("start_date"), query("end_date"));
            let in_window: Vec<&serde_json::Value> = rows
                .iter()
                .filter(|r| {
                    let at = r["transaction_info"]["transaction_initiation_date"]
                        .as_str()
                        .unwrap();
                    let at = chrono::DateTime::parse_from_str(at, "%Y-%m-%dT%H:%M:%S%z").unwrap();
                    let bound = |t: &str| chrono::DateTime::parse_from_rfc3339(t).unwrap();
                    at >= bound(&from) && at <= bound(&to)
                })
                .filter(|r| {
                    query("transaction_type").is_empty()
                        || r["transaction_info"]["transaction_event_code"]
                            == query("transaction_type").as_str()
                })
                .collect();
            let page = serde_json::json!({
                "transaction_details": in_window,
                "page": 1, "total_items": in_window.len(), "total_pages": 1,
            });
            MockResponse::json(200, &page.to_string())
        }
    };
    let settings = Settings::new(
        [("base_url", "https://api-m.paypal.com")],
        ["client_id", "client_secret"],
    );
    let findings = conformance::payment::<paypal::PayPal, _>(&settings, paypal);
    assert!(
        findings.problems.is_empty(),
        "paypal: {:#?}",
        findings.problems
    );
    assert_eq!(
        (findings.payouts, findings.payout_lines),
        (1, 3),
        "{findings:?}"
    );
}

//! The EasyPost and Shippo plugins' mapping, run natively over every real
//! payload in `tests/fixtures/easypost/` and `tests/fixtures/shippo/`.

use serde_json::Value;
use tradelane_plugin_sdk::{
    Incoterm, LabelFormat, Money, PluginError, Rate, TaxId, TrackingStatus,
};
use tradelane_tests::{cassette_shipment, fixtures};

fn read(provider: &str, name: &str) -> Vec<u8> {
    let path = fixtures().join(provider).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn json(provider: &str, name: &str) -> Value {
    serde_json::from_slice(&read(provider, name)).unwrap()
}

fn usd(amount_minor: i64) -> Money {
    Money {
        amount_minor,
        currency: "USD".into(),
    }
}

#[test]
fn easypost_create_request_matches_the_cassette() {
    let defaults = easypost::mapping::CustomsDefaults {
        eel_pfc: "NOEEI 30.37(a)".into(),
        signer: Some("Steve Brule".into()),
    };
    let ours = serde_json::to_value(
        easypost::mapping::create_request(&cassette_shipment(), &defaults).unwrap(),
    )
    .unwrap();
    let theirs = json("easypost", "shipment_create.request.json");
    let (o, t) = (&ours["shipment"], &theirs["shipment"]);
    for side in ["from_address", "to_address"] {
        for key in [
            "name", "street1", "city", "state", "zip", "country", "email", "phone",
        ] {
            assert_eq!(o[side][key], t[side][key], "{side}.{key}");
        }
    }
    assert_eq!(o["from_address"]["street2"], t["from_address"]["street2"]);
    for key in ["length", "width", "height", "weight"] {
        assert_eq!(
            o["parcel"][key].as_f64(),
            t["parcel"][key].as_f64(),
            "parcel.{key}"
        );
    }
    let (oc, tc) = (&o["customs_info"], &t["customs_info"]);
    for key in [
        "eel_pfc",
        "customs_certify",
        "customs_signer",
        "contents_type",
        "restriction_type",
        "non_delivery_option",
    ] {
        assert_eq!(oc[key], tc[key], "customs_info.{key}");
    }
    let (oi, ti) = (&oc["customs_items"][0], &tc["customs_items"][0]);
    for key in [
        "description",
        "quantity",
        "hs_tariff_number",
        "origin_country",
    ] {
        assert_eq!(oi[key], ti[key], "customs_items.{key}");
    }
    assert_eq!(oi["weight"].as_f64(), ti["weight"].as_f64());
    // The value travels as exact decimal text, never a float.
    assert_eq!(oi["value"], "23.25");
    assert_eq!(ti["value"].as_f64(), Some(23.25));
    assert_eq!(o["options"]["label_format"], t["options"]["label_format"]);
    assert_eq!(o["reference"], t["reference"]);
}

#[test]
fn easypost_rates_are_exact_minor_units() {
    let body = read("easypost", "shipment_create.response.json");
    let shipment: easypost::wire::Shipment = serde_json::from_slice(&body).unwrap();
    let rates = easypost::mapping::rates(&shipment).unwrap();
    let raw = json("easypost", "shipment_create.response.json");
    assert_eq!(rates.len(), raw["rates"].as_array().unwrap().len());
    for (r, w) in rates.iter().zip(raw["rates"].as_array().unwrap()) {
        assert_eq!(r.id, w["id"].as_str().unwrap());
        assert_eq!(r.service, w["service"].as_str().unwrap());
        assert_eq!(r.carrier, "USPS");
        assert_eq!(
            r.shipment_id.as_deref(),
            Some("shp_16578f588f9546ec914afd2474e24ff5")
        );
        let text = w["rate"].as_str().unwrap().replace('.', "");
        assert_eq!(
            r.price.amount_minor,
            text.parse::<i64>().unwrap(),
            "{}",
            w["rate"]
        );
        assert_eq!(r.price.currency, "USD");
    }
    let express = rates.iter().find(|r| r.service == "Express").unwrap();
    assert_eq!(
        (express.price.amount_minor, express.estimated_days),
        (3415, Some(1))
    );
}

#[test]
fn easypost_bought_shipment_is_a_label() {
    let shipment: easypost::wire::Shipment =
        serde_json::from_slice(&read("easypost", "shipment.json")).unwrap();
    let label = easypost::mapping::label(&shipment, LabelFormat::Png).unwrap();
    assert_eq!(label.external_id, "shp_16578f588f9546ec914afd2474e24ff5");
    assert_eq!(label.tracking_number, "9400100208303109505657");
    assert_eq!(
        (label.carrier.as_str(), label.service.as_str()),
        ("USPS", "GroundAdvantage")
    );
    assert_eq!(label.cost, usd(607));
    assert_eq!(
        label.format,
        LabelFormat::Png,
        "the cassette's label is image/png"
    );
    assert!(label.document_url.unwrap().ends_with(".png"));
    assert!(
        label
            .tracking_url
            .unwrap()
            .starts_with("https://track.easypost.com/")
    );
    // The buy request is `{"rate": {"id": …}}`, as in the cassette.
    let ours = serde_json::to_value(easypost::wire::Buy {
        rate: easypost::wire::RateRef {
            id: "rate_4d1f36fa716c4b1292cacbdf19227c2d".into(),
        },
    })
    .unwrap();
    assert_eq!(ours, json("easypost", "shipment_buy.request.json"));
}

#[test]
fn easypost_lists_page_by_has_more() {
    let page: easypost::wire::Shipments =
        serde_json::from_slice(&read("easypost", "shipments.json")).unwrap();
    assert_eq!(page.shipments.len(), 5);
    assert!(page.has_more);
    for s in &page.shipments {
        assert!(s.id.starts_with("shp_"));
        if s.tracking_code.is_some() && s.selected_rate.is_some() {
            let label = easypost::mapping::label(s, LabelFormat::Pdf).unwrap();
            assert_eq!(Some(label.tracking_number), s.tracking_code.clone());
        }
    }
}

#[test]
fn easypost_trackers_become_ordered_events() {
    let page: easypost::wire::Trackers =
        serde_json::from_slice(&read("easypost", "trackers.json")).unwrap();
    assert_eq!(page.trackers.len(), 5);
    assert!(page.has_more);
    for t in &page.trackers {
        let events = easypost::mapping::tracking_events(t).unwrap();
        assert_eq!(events.len(), t.tracking_details.len(), "{}", t.id);
        assert!(
            events.windows(2).all(|w| w[0].at <= w[1].at),
            "oldest first"
        );
        assert!(events.iter().all(|e| e.at.ends_with('Z')));
    }
    let first = easypost::mapping::tracking_events(&page.trackers[0]).unwrap();
    assert_eq!(first[0].status, TrackingStatus::PreTransit);
    assert_eq!(first[0].description, "Pre-Shipment Info Sent to USPS");
}

#[test]
fn easypost_error_bodies_reach_the_user_verbatim() {
    let body = br#"{"error":{"code":"ADDRESS.VERIFY.FAILURE","message":"Unable to verify address.","errors":[{"field":"street1","message":"Address not found"},"zip: invalid"]}}"#;
    assert_eq!(
        easypost::mapping::error_message(422, body),
        "ADDRESS.VERIFY.FAILURE: Unable to verify address. (street1: Address not found; zip: invalid)"
    );
    assert_eq!(
        easypost::mapping::error_message(400, b"not json"),
        "HTTP 400: not json"
    );
}

#[test]
fn shippo_create_request_has_the_cassettes_shape() {
    let mut s = cassette_shipment();
    s.ship_to.country = "DE".into();
    s.incoterm = Incoterm::Ddp;
    s.tax_ids = vec![TaxId {
        scheme: "ioss".into(),
        value: "IM3720000224".into(),
        country: Some("IE".into()),
    }];
    s.reference = "Customer ID 123456".into();
    let ours = serde_json::to_value(
        shippo::mapping::create_request(&s, &shippo::mapping::CustomsDefaults::default()).unwrap(),
    )
    .unwrap();
    let theirs = json("shippo", "shipment_create.request.json");
    for key in ["metadata", "async"] {
        assert_eq!(ours[key], theirs[key], "{key}");
    }
    assert!(ours["parcels"].is_array() && theirs["parcels"].is_array());
    assert_eq!(ours["parcels"][0]["length"], "25.4");
    assert_eq!(ours["parcels"][0]["weight"], "437");
    assert_eq!(ours["parcels"][0]["mass_unit"], "g");
    let d = &ours["customs_declaration"];
    assert_eq!(d["incoterm"], "DDP");
    assert_eq!(
        d["exporter_identification"]["tax_id"],
        serde_json::json!({"number": "IM3720000224", "type": "IOSS"})
    );
    assert_eq!(d["items"][0]["value_amount"], "23.25");
    assert_eq!(d["items"][0]["tariff_number"], "654321");
    assert_eq!(d["items"][0]["net_weight"], "312");
    // And the purchase body matches the cassette's.
    let buy = serde_json::to_value(shippo::wire::CreateTransaction {
        rate: "52ec39cb91914655a0f1a2c9062bcb69".into(),
        label_file_type: "PDF_4x6".into(),
        metadata: "Customer ID 123456".into(),
        is_async: false,
    })
    .unwrap();
    let theirs = json("shippo", "transaction_create.request.json");
    assert_eq!(buy["rate"], theirs["rate"]);
    assert_eq!(buy["metadata"], theirs["metadata"]);
}

/// Every registration a destination requires reaches the carrier: Shippo
/// takes one typed tax id (EIN, VAT, IOSS, ARN) and an EORI; what it has
/// no type for goes into the declaration's notes. EasyPost takes them all.
#[test]
fn every_registration_reaches_the_carrier() {
    let id = |scheme: &str, value: &str, country: &str| TaxId {
        scheme: scheme.into(),
        value: value.into(),
        country: Some(country.into()),
    };
    let mut s = cassette_shipment();
    s.ship_to.country = "GB".into();
    s.tax_ids = vec![
        id("vat", "GB123456789", "GB"),
        id("eori", "GB123456789000", "GB"),
    ];
    let defaults = shippo::mapping::CustomsDefaults::default();
    let shippo =
        serde_json::to_value(shippo::mapping::create_request(&s, &defaults).unwrap()).unwrap();
    let e = &shippo["customs_declaration"]["exporter_identification"];
    assert_eq!(
        e["tax_id"],
        serde_json::json!({"number": "GB123456789", "type": "VAT"})
    );
    assert_eq!(e["eori_number"], "GB123456789000");
    let easypost = serde_json::to_value(
        easypost::mapping::create_request(
            &s,
            &easypost::mapping::CustomsDefaults {
                eel_pfc: "NOEEI 30.37(a)".into(),
                signer: None,
            },
        )
        .unwrap(),
    )
    .unwrap();
    let ids = &easypost["shipment"]["tax_identifiers"];
    assert_eq!(ids[0]["tax_id_type"], "VAT");
    assert_eq!(ids[1]["tax_id_type"], "EORI");
    assert_eq!(ids[1]["issuing_country"], "GB");

    s.ship_to.country = "NO".into();
    s.tax_ids = vec![id("voec", "VOEC2012345", "NO")];
    let shippo =
        serde_json::to_value(shippo::mapping::create_request(&s, &defaults).unwrap()).unwrap();
    assert_eq!(shippo["customs_declaration"]["notes"], "VOEC VOEC2012345");
    s.ship_to.country = "AU".into();
    s.tax_ids = vec![id("arn", "500000000000", "AU")];
    let shippo =
        serde_json::to_value(shippo::mapping::create_request(&s, &defaults).unwrap()).unwrap();
    assert_eq!(
        shippo["customs_declaration"]["exporter_identification"]["tax_id"]["type"],
        "ARN"
    );
}

#[test]
fn shippo_rates_are_exact_minor_units() {
    let shipment: shippo::wire::Shipment =
        serde_json::from_slice(&read("shippo", "shipment.json")).unwrap();
    let rates = shippo::mapping::rates(&shipment).unwrap();
    let raw = json("shippo", "shipment.json");
    let wire = raw["rates"].as_array().unwrap();
    assert_eq!(rates.len(), 22);
    for (r, w) in rates.iter().zip(wire) {
        let amount = w["amount"].as_str().unwrap();
        let (whole, frac) = amount.split_once('.').unwrap_or((amount, ""));
        let expected: i64 = format!("{whole}{frac:0<2}").parse().unwrap();
        assert_eq!(r.price.amount_minor, expected, "{amount}");
        assert_eq!(r.price.currency, w["currency"].as_str().unwrap());
        assert_eq!(r.carrier, w["provider"].as_str().unwrap());
        assert_eq!(r.service, w["servicelevel"]["name"].as_str().unwrap());
        assert_eq!(
            r.shipment_id.as_deref(),
            Some("f114687f56084b969b7392192f5c3198")
        );
    }
    let fedex = rates
        .iter()
        .find(|r| r.id == "c08e3292858946429a90d1b432c6548c")
        .unwrap();
    assert_eq!(
        (fedex.price.amount_minor, fedex.estimated_days),
        (1305, Some(1))
    );
}

fn a_rate() -> Rate {
    Rate {
        id: "r".into(),
        shipment_id: None,
        carrier: "USPS".into(),
        service: "Priority Mail".into(),
        price: usd(1305),
        estimated_days: Some(2),
    }
}

#[test]
fn shippo_transactions_map_success_queue_and_error() {
    let queued: shippo::wire::Transaction =
        serde_json::from_slice(&read("shippo", "transaction_create.response.json")).unwrap();
    assert!(matches!(
        shippo::mapping::transaction(&queued, &a_rate(), LabelFormat::Pdf),
        Ok(shippo::mapping::Outcome::Pending)
    ));
    let list: shippo::wire::Transactions =
        serde_json::from_slice(&read("shippo", "transactions.json")).unwrap();
    assert_eq!(
        list.next.as_deref(),
        Some("https://api.goshippo.com/v1/transactions/?page=2")
    );
    let (mut ok, mut refused, mut queued, mut usps_date) = (0, 0, 0, false);
    for t in &list.results {
        match shippo::mapping::transaction(t, &a_rate(), LabelFormat::Pdf) {
            Ok(shippo::mapping::Outcome::Bought(label)) => {
                ok += 1;
                assert_eq!(Some(&label.tracking_number), t.tracking_number.as_ref());
                assert!(label.document_url.unwrap().contains(".pdf"));
            }
            Err(PluginError::Rejected(message)) => {
                refused += 1;
                usps_date |=
                    message.contains("USPS: The selected shipment date must be within 7 days");
                assert!(
                    message.contains(&format!(
                        "ERROR: {}",
                        t.messages
                            .iter()
                            .map(|m| format!(
                                "{}: {}",
                                m.source.as_deref().unwrap_or(""),
                                m.text.as_deref().unwrap_or("")
                            ))
                            .collect::<Vec<_>>()
                            .join("; ")
                    )) && t
                        .messages
                        .iter()
                        .all(|m| message.contains(m.text.as_deref().unwrap_or(""))),
                    "the carrier's words: {message}"
                );
            }
            Ok(shippo::mapping::Outcome::Pending) => {
                queued += 1;
                assert_eq!(t.status, "QUEUED");
            }
            other => panic!("{}: {other:?}", t.object_id),
        }
    }
    assert_eq!(ok + refused + queued, list.results.len());
    assert!(
        ok >= 1 && refused >= 1 && usps_date,
        "{ok} {refused} {queued}"
    );
}

#[test]
fn shippo_track_status_becomes_ordered_events() {
    let track: shippo::wire::Track =
        serde_json::from_slice(&read("shippo", "track_status.json")).unwrap();
    let events = shippo::mapping::tracking_events(&track).unwrap();
    assert!(events.windows(2).all(|w| w[0].at <= w[1].at));
    let last = events.last().unwrap();
    assert_eq!(last.status, TrackingStatus::Delivered);
    assert_eq!(
        last.description,
        "Your shipment has been delivered at the destination mailbox."
    );
    assert_eq!(last.location.as_deref(), Some("Berkeley, CA, 94705, US"));
}

#[test]
fn shippo_error_bodies_reach_the_user_verbatim() {
    assert_eq!(
        shippo::mapping::error_message(400, br#"{"address_to": ["This field is required."]}"#),
        "HTTP 400: address_to: This field is required."
    );
    assert_eq!(
        shippo::mapping::error_message(401, br#"{"detail": "Invalid token."}"#),
        "HTTP 401: Invalid token."
    );
}

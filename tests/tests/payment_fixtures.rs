//! The Stripe and PayPal plugins' mapping, run natively over every real
//! payload in `tests/fixtures/stripe/` and `tests/fixtures/paypal/`:
//! exact minor units, the exchange rate kept as text.

use serde_json::Value;
use tradelane_plugin_sdk::{PayoutLineKind, PayoutStatus};
use tradelane_tests::fixtures;

fn read(provider: &str, name: &str) -> Vec<u8> {
    let path = fixtures().join(provider).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn stripe_payouts_map_with_exact_amounts_and_times() {
    let list: stripe::wire::List<stripe::wire::Payout> =
        serde_json::from_slice(&read("stripe", "payouts.json")).unwrap();
    assert!(!list.has_more);
    let p = stripe::mapping::payout(&list.data[0]).unwrap();
    assert_eq!(p.external_id, "po_1OaFDbEcg9tTZuTgNYmX0PKB");
    assert_eq!(
        (p.amount.amount_minor, p.amount.currency.as_str()),
        (1100, "USD")
    );
    assert_eq!(p.status, PayoutStatus::Pending);
    assert_eq!(p.created_at, "2023-04-04T22:51:31Z");
    assert_eq!(p.arrival_date.as_deref(), Some("2023-04-05T00:00:00Z"));
    // The official full object.
    let all: Value =
        serde_json::from_slice(&read("stripe", "openapi-fixtures3.subset.json")).unwrap();
    let full: stripe::wire::Payout =
        serde_json::from_value(all["resources"]["payout"].clone()).unwrap();
    let p = stripe::mapping::payout(&full).unwrap();
    assert_eq!(
        (p.amount.amount_minor, p.status),
        (1100, PayoutStatus::InTransit)
    );
}

#[test]
fn stripe_balance_transactions_map_fee_net_and_kind() {
    let field = stripe::mapping::ReferenceField::parse("metadata.order_id").unwrap();
    let bt: stripe::wire::BalanceTransaction =
        serde_json::from_slice(&read("stripe", "balance_transaction.dj-stripe.json")).unwrap();
    let line = stripe::mapping::line(&bt, &field).unwrap();
    assert_eq!(line.kind, PayoutLineKind::Charge);
    assert_eq!(
        (
            line.gross.amount_minor,
            line.fee.amount_minor,
            line.net.amount_minor
        ),
        (2000, 88, 1912)
    );
    assert_eq!(line.gross.currency, "USD");
    assert!(line.exchange_rate.is_none() && line.original.is_none());
    // Unexpanded source: no order reference to read.
    assert_eq!(line.order_reference, None);

    let list: stripe::wire::List<stripe::wire::BalanceTransaction> =
        serde_json::from_slice(&read("stripe", "balance_transactions.json")).unwrap();
    let transfer = stripe::mapping::line(&list.data[0], &field).unwrap();
    assert_eq!(
        (transfer.kind, transfer.net.amount_minor),
        (PayoutLineKind::Other, -400)
    );

    let all: Value =
        serde_json::from_slice(&read("stripe", "openapi-fixtures3.subset.json")).unwrap();
    let official: stripe::wire::BalanceTransaction =
        serde_json::from_value(all["resources"]["balance_transaction"].clone()).unwrap();
    assert!(!stripe::mapping::is_payout_itself(&official));
    assert_eq!(
        stripe::mapping::line(&official, &field)
            .unwrap()
            .net
            .amount_minor,
        100
    );
}

#[test]
fn stripe_keeps_the_exchange_rate_digit_for_digit() {
    // The dj-stripe charge's balance transaction, converted and expanded.
    let mut bt: Value =
        serde_json::from_slice(&read("stripe", "balance_transaction.dj-stripe.json")).unwrap();
    let charge: Value = serde_json::from_slice(&read("stripe", "charge.dj-stripe.json")).unwrap();
    let mut source = charge.clone();
    source["currency"] = "jpy".into();
    source["amount"] = 31387.into();
    source["metadata"] = serde_json::json!({"order_id": "#1034"});
    bt["source"] = source;
    bt["currency"] = "eur".into();
    let text = bt.to_string().replace(
        "\"exchange_rate\":null",
        "\"exchange_rate\":0.00613300000000000001",
    );
    let bt: stripe::wire::BalanceTransaction = serde_json::from_str(&text).unwrap();
    let line = stripe::mapping::line(
        &bt,
        &stripe::mapping::ReferenceField::parse("metadata.order_id").unwrap(),
    )
    .unwrap();
    let rate = line.exchange_rate.unwrap();
    assert_eq!((rate.source.as_str(), rate.target.as_str()), ("JPY", "EUR"));
    assert_eq!(
        rate.rate, "0.00613300000000000001",
        "no float ever touched it"
    );
    assert_eq!(line.original.unwrap().amount_minor, 31387);
    assert_eq!(line.order_reference.as_deref(), Some("#1034"));
    // A rate in exponent form is valid JSON: kept exactly, as plain text,
    // not a failed page.
    let exponent = text.replace("0.00613300000000000001", "6.1333e-3");
    let bt: stripe::wire::BalanceTransaction = serde_json::from_str(&exponent).unwrap();
    let field = stripe::mapping::ReferenceField::parse("metadata.order_id").unwrap();
    let line = stripe::mapping::line(&bt, &field).unwrap();
    assert_eq!(line.exchange_rate.unwrap().rate, "0.0061333");
    let hostile = text.replace("0.00613300000000000001", "1e999999");
    let bt: stripe::wire::BalanceTransaction = serde_json::from_str(&hostile).unwrap();
    let e = stripe::mapping::line(&bt, &field).unwrap_err();
    assert!(
        format!("{e:?}").contains("not a non-negative decimal number"),
        "{e:?}"
    );
    assert_eq!(
        stripe::mapping::ReferenceField::parse("description"),
        Some(stripe::mapping::ReferenceField::Description)
    );
    assert_eq!(stripe::mapping::ReferenceField::parse("metadata."), None);
}

/// Stripe writes ISK and UGX with two decimals that are always 00, while
/// ISO 4217 gives them none: 5 ISK is `500` in Stripe and 5 minor units
/// here, so an ISK order is not an amount mismatch. HUF keeps its two.
#[test]
fn stripe_isk_and_ugx_amounts_become_iso_minor_units() {
    let bt: Value =
        serde_json::from_slice(&read("stripe", "balance_transaction.dj-stripe.json")).unwrap();
    let field = stripe::mapping::ReferenceField::parse("metadata.order_id").unwrap();
    let line_in = |currency: &str, amount: i64, fee: i64| {
        let mut bt = bt.clone();
        bt["currency"] = currency.into();
        bt["amount"] = amount.into();
        bt["fee"] = fee.into();
        bt["net"] = (amount - fee).into();
        let bt: stripe::wire::BalanceTransaction = serde_json::from_value(bt).unwrap();
        stripe::mapping::line(&bt, &field)
    };
    let isk = line_in("isk", 1_250_000, 38_700).unwrap();
    assert_eq!(
        (
            isk.gross.amount_minor,
            isk.fee.amount_minor,
            isk.net.amount_minor
        ),
        (12_500, 387, 12_113)
    );
    assert_eq!(isk.gross.currency, "ISK");
    let ugx = line_in("ugx", 5_000_000, 0).unwrap();
    assert_eq!(ugx.gross.amount_minor, 50_000);
    let huf = line_in("huf", 1_045, 0).unwrap();
    assert_eq!(
        huf.gross.amount_minor, 1_045,
        "HUF is two-decimal in ISO 4217 too"
    );
    let e = line_in("isk", 1_250_050, 0).unwrap_err();
    assert!(format!("{e:?}").contains("fraction of a unit"), "{e:?}");
}

#[test]
fn stripe_errors_keep_stripes_words() {
    assert_eq!(
        stripe::mapping::error_message(429, &read("stripe", "error_429.json")),
        "HTTP 429: rate_limit: Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits."
    );
}

#[test]
fn paypal_transactions_map_event_codes_fees_and_references() {
    let page: paypal::wire::Search =
        serde_json::from_slice(&read("paypal", "transactions.json")).unwrap();
    assert_eq!((page.page, page.total_pages), (Some(1), Some(118)));
    let field = paypal::mapping::ReferenceField::CustomField;
    let lines: Vec<_> = page
        .transaction_details
        .iter()
        .map(|d| paypal::mapping::line(&d.transaction_info, field).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    // T1503 hold, T0001 outgoing mass payment with a 0.25 fee, T1105 release.
    assert_eq!(
        (lines[0].kind, lines[0].gross.amount_minor),
        (PayoutLineKind::Other, -6075)
    );
    assert_eq!(
        (
            lines[1].gross.amount_minor,
            lines[1].fee.amount_minor,
            lines[1].net.amount_minor
        ),
        (-1000, 25, -1025)
    );
    assert_eq!(lines[1].order_reference.as_deref(), Some("201403140001"));
    assert_eq!(lines[2].gross.amount_minor, 1025);
    assert_eq!(
        lines[0].created_at, "2024-02-10T00:01:56Z",
        "+0000 read as UTC"
    );

    let docs: paypal::wire::Search =
        serde_json::from_slice(&read("paypal", "transactions.docs-sample.json")).unwrap();
    let sale = paypal::mapping::line(
        &docs.transaction_details[0].transaction_info,
        paypal::mapping::ReferenceField::InvoiceId,
    )
    .unwrap();
    assert_eq!(
        sale.kind,
        PayoutLineKind::Charge,
        "T0006 is a payment received"
    );
    assert_eq!(
        (
            sale.gross.amount_minor,
            sale.fee.amount_minor,
            sale.net.amount_minor
        ),
        (46500, 1379, 45121)
    );
    assert_eq!(sale.order_reference.as_deref(), Some("Invoice-005"));
}

#[test]
fn paypal_withdrawals_are_payouts_and_errors_keep_paypals_words() {
    let row: paypal::wire::Info = serde_json::from_value(serde_json::json!({
        "transaction_id": "WD1", "transaction_event_code": "T0400",
        "transaction_initiation_date": "2024-02-11T03:00:00+0000",
        "transaction_amount": {"currency_code": "USD", "value": "-1025.00"},
        "transaction_status": "S"
    }))
    .unwrap();
    let p = paypal::mapping::payout(&row).unwrap();
    assert_eq!(
        (p.amount.amount_minor, p.status),
        (102500, PayoutStatus::Paid)
    );
    assert_eq!(p.created_at, "2024-02-11T03:00:00Z");
    assert_eq!(paypal::mapping::kind("T1107", -100), PayoutLineKind::Refund);
    assert_eq!(
        paypal::mapping::kind("T1201", -100),
        PayoutLineKind::Dispute
    );
    let body = br#"{"name":"INVALID_REQUEST","message":"Request is not well-formed.","details":[{"issue":"INVALID_DATE_RANGE","description":"Date range is greater than 31 days"}]}"#;
    assert_eq!(
        paypal::mapping::error_message(400, body),
        "HTTP 400: INVALID_REQUEST; Request is not well-formed.; INVALID_DATE_RANGE: Date range is greater than 31 days"
    );
}

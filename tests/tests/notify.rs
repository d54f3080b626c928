//! `[[notify]]` sinks against local receivers: a signed and retried
//! webhook, ntfy, a Slack-compatible webhook, email through an SMTP relay
//! that insists on STARTTLS, debouncing into digests, and config errors at
//! their line.

use hmac::{Hmac, Mac};
use std::path::Path;
use std::time::Duration;
use tradelane::config::LoadedConfig;
use tradelane::notify::message::Message;
use tradelane::notify::{Event, EventKind, Notifier, Sink};
use tradelane_tests::receivers::{HttpReceiver, SmtpRelay};

/// The tests that start a [`Notifier`] share the process's event bus:
/// they take turns.
static BUS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The sinks of a config made of `[daemon]` and `notify` entries.
fn sinks(dir: &Path, notify: &str) -> Vec<Sink> {
    let text = format!(
        "[daemon]\ndata_dir = \"{}\"\n\n{notify}",
        dir.join("data").display()
    );
    let path = dir.join("config.toml");
    std::fs::write(&path, &text).unwrap();
    let loaded = LoadedConfig::load(&path).unwrap_or_else(|e| panic!("config: {e}"));
    let mut sinks = tradelane::notify::build(&loaded).unwrap_or_else(|e| panic!("sinks: {e}"));
    for s in &mut sinks {
        s.retry_base = Duration::from_millis(20);
    }
    sinks
}

fn stopped() -> Message {
    Message::Event(Event::new(
        EventKind::ChannelStopped,
        Some("shop"),
        Some("shopify"),
        "401 Unauthorized. To fix: renew the token",
    ))
}

/// `t=…,v1=…` checked as a receiver would, with the shared secret.
fn signature_is_valid(header: &str, secret: &str, body: &[u8]) -> bool {
    let Some((t, v1)) = header
        .split_once(',')
        .and_then(|(t, v)| Some((t.strip_prefix("t=")?, v.strip_prefix("v1=")?)))
    else {
        return false;
    };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    hex::decode(v1).is_ok_and(|sig| mac.verify_slice(&sig).is_ok())
}

#[tokio::test]
async fn a_webhook_is_signed_retried_on_5xx_and_not_on_4xx() {
    let receiver = HttpReceiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hook-secret"), "s3cret-key\n").unwrap();
    let sinks = sinks(
        dir.path(),
        &format!(
            "[[notify]]\nkind = \"webhook\"\nname = \"ops\"\nurl = \"{}/hooks/tradelane\"\nsecret = {{ file = \"hook-secret\" }}\n",
            receiver.url
        ),
    );
    let http = reqwest::Client::new();
    receiver.answer(&[503, 500]);
    sinks[0]
        .deliver(&http, &stopped())
        .await
        .expect("delivered on the third try");
    let got = receiver.received();
    assert_eq!(got.len(), 3, "two refusals, then delivered");
    let last = &got[2];
    assert_eq!(last.method, "POST");
    assert_eq!(last.path, "/hooks/tradelane");
    assert_eq!(last.header("content-type"), Some("application/json"));
    assert_eq!(last.header("x-tradelane-event"), Some("channel_stopped"));
    let ids: Vec<_> = got
        .iter()
        .map(|r| r.header("x-tradelane-delivery"))
        .collect();
    assert!(
        ids[0].is_some() && ids.iter().all(|i| *i == ids[0]),
        "one delivery id on every retry: {ids:?}"
    );
    let signature = last.header("x-tradelane-signature").expect("signed");
    assert!(
        signature_is_valid(signature, "s3cret-key", &last.body),
        "{signature}"
    );
    assert!(!signature_is_valid(signature, "other-key", &last.body));
    let body = last.json();
    assert_eq!(body["type"], "channel_stopped");
    assert_eq!(body["seller"], "shop");
    assert_eq!(body["channel"], "shopify");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("renew the token")
    );

    // A 4xx will not change on retry: one try, and the error says so.
    receiver.answer(&[404]);
    let e = sinks[0].deliver(&http, &stopped()).await.unwrap_err();
    assert!(e.to_string().contains("404"), "{e}");
    assert_eq!(receiver.received().len(), 4);
    // A webhook that never answers well is given up after a bounded number of tries.
    receiver.answer(&[500; 10]);
    let e = sinks[0].deliver(&http, &stopped()).await.unwrap_err();
    assert!(e.to_string().contains("gave up after 5 tries"), "{e}");
    assert_eq!(receiver.received().len(), 9);
}

#[tokio::test]
async fn ntfy_and_slack_get_a_title_and_text() {
    let receiver = HttpReceiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ntfy-token"), "tk_ntfy").unwrap();
    std::fs::write(
        dir.path().join("slack-url"),
        format!("{}/services/T0/B0/XYZ", receiver.url),
    )
    .unwrap();
    let sinks = sinks(
        dir.path(),
        &format!(
            "[[notify]]\nkind = \"ntfy\"\nurl = \"{0}/my-shop\"\nsecret = {{ file = \"ntfy-token\" }}\n\n[[notify]]\nkind = \"slack\"\nurl = {{ file = \"slack-url\" }}\n",
            receiver.url
        ),
    );
    let http = reqwest::Client::new();
    for s in &sinks {
        s.deliver(&http, &stopped()).await.unwrap();
    }
    let got = receiver.received();
    let ntfy = &got[0];
    assert_eq!(ntfy.path, "/my-shop");
    assert_eq!(
        ntfy.header("title"),
        Some("tradelane: channel stopped: shop/shopify")
    );
    assert_eq!(ntfy.header("priority"), Some("high"));
    assert_eq!(ntfy.header("authorization"), Some("Bearer tk_ntfy"));
    assert!(
        ntfy.text().contains("To fix: renew the token"),
        "{}",
        ntfy.text()
    );
    let slack = &got[1];
    assert_eq!(slack.path, "/services/T0/B0/XYZ");
    let text = slack.json()["text"].as_str().unwrap().to_string();
    assert!(
        text.starts_with("*tradelane: channel stopped: shop/shopify*"),
        "{text}"
    );
    assert!(text.contains("renew the token"));
}

#[tokio::test]
async fn email_goes_to_the_relay_only_over_starttls_with_its_ca() {
    let relay = SmtpRelay::start().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("relay-ca.pem"), &relay.ca_pem).unwrap();
    std::fs::write(dir.path().join("smtp-password"), "hunter2").unwrap();
    let entry = |ca: &str| {
        format!(
            "[[notify]]\nkind = \"email\"\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {}\n{ca}username = \"alerts\"\npassword = {{ file = \"smtp-password\" }}\nfrom = \"tradelane <alerts@shop.example>\"\nto = [\"owner@shop.example\", \"ops@shop.example\"]\n",
            relay.port
        )
    };
    let sinks_with_ca = sinks(dir.path(), &entry("tls_ca = \"relay-ca.pem\"\n"));
    let http = reqwest::Client::new();
    sinks_with_ca[0]
        .deliver(&http, &stopped())
        .await
        .expect("mail sent");
    let mails = relay.mails();
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert!(mail.tls, "MAIL only after STARTTLS");
    assert_eq!(mail.auth.as_deref(), Some("PLAIN  alerts hunter2"));
    assert_eq!(mail.from, "alerts@shop.example");
    assert_eq!(mail.to, ["owner@shop.example", "ops@shop.example"]);
    assert!(
        mail.data
            .contains("Subject: [tradelane] channel stopped: shop/shopify"),
        "{}",
        mail.data
    );
    assert!(mail.data.contains("renew the token"));

    // Without the relay's CA the certificate is not trusted, and nothing
    // is sent in clear instead.
    let untrusted = sinks(dir.path(), &entry(""));
    let e = untrusted[0].deliver(&http, &stopped()).await.unwrap_err();
    assert!(e.to_string().to_lowercase().contains("certificate"), "{e}");
    assert_eq!(relay.mails().len(), 1);
}

#[tokio::test]
async fn events_are_debounced_per_kind_and_channel_then_sent_as_a_digest() {
    let receiver = HttpReceiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let sinks = sinks(
        dir.path(),
        &format!(
            "[[notify]]\nkind = \"webhook\"\nurl = \"{}/hook\"\ndebounce = \"2s\"\nevents = [\"order_held\", \"channel_stopped\"]\n",
            receiver.url
        ),
    );
    let _bus = BUS.lock().await;
    let notifier = Notifier::start(sinks);
    let held = |n: u32, channel: &str| {
        tradelane::notify::tell(
            EventKind::OrderHeld,
            "shop",
            channel,
            format!("order #{n} held: HS code missing"),
        )
    };
    for n in 1..=4 {
        held(n, "shopify");
    }
    held(9, "ebay");
    // Not subscribed: never sent.
    tradelane::notify::tell(EventKind::DiscrepancyOpened, "shop", "settlement", "x");
    let first = receiver.wait_for(2, 10).await;
    assert_eq!(first.len(), 2, "one message per channel at once");
    let digest = receiver.wait_for(3, 10).await;
    assert_eq!(digest.len(), 3, "then one digest");
    let body = digest[2].json();
    assert_eq!(body["type"], "digest");
    assert_eq!(body["window_seconds"], 2);
    let entries = body["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{body}");
    assert_eq!(entries[0]["type"], "order_held");
    assert_eq!(entries[0]["subject"], "shop/shopify");
    assert_eq!(entries[0]["count"], 3);
    assert_eq!(entries[0]["samples"][0], "order #2 held: HS code missing");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.received().len(), 3, "nothing else");
    // The ebay window ended quietly: its next event goes out at once, and
    // what is held back when the daemon stops goes out as a last digest.
    held(10, "ebay");
    held(11, "ebay");
    tokio::time::sleep(Duration::from_millis(200)).await;
    notifier.stop().await;
    let all: Vec<_> = receiver.received().iter().map(|r| r.json()).collect();
    assert_eq!(all.len(), 5, "{all:?}");
    assert_eq!(all[3]["message"], "order #10 held: HS code missing");
    assert_eq!(all[4]["type"], "digest");
    assert_eq!(
        all[4]["entries"][0]["samples"][0],
        "order #11 held: HS code missing"
    );
}

#[test]
fn a_bad_notify_entry_is_refused_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    let refused = |entry: &str| {
        let text = format!("[daemon]\nlog_level = \"warn\"\n\n[[notify]]\n{entry}");
        LoadedConfig::parse(&path, &text).unwrap_err().to_string()
    };
    let e = refused("kind = \"pager\"\nurl = \"https://x.example\"\n");
    assert!(
        e.contains("config.toml:5")
            && e.contains("notify[0].kind")
            && e.contains("webhook, ntfy, slack, email"),
        "{e}"
    );
    let e = refused("kind = \"webhook\"\nurl = \"http://hooks.example.com/x\"\n");
    assert!(e.contains(":6") && e.contains("use https"), "{e}");
    let e = refused(
        "kind = \"webhook\"\nurl = \"https://hooks.example.com/x\"\nevents = [\"order_shipped\"]\n",
    );
    assert!(e.contains(":7") && e.contains("order_held"), "{e}");
    let e =
        refused("kind = \"email\"\nsmtp_host = \"mail.example.com\"\nfrom = \"a@example.com\"\n");
    assert!(e.contains("notify[0].to") && e.contains("required"), "{e}");
    let e = refused(
        "kind = \"email\"\nsmtp_host = \"mail.example.com\"\nfrom = \"a@example.com\"\nto = [\"a@example.com\"]\ntls = \"none\"\n",
    );
    assert!(e.contains(":9") && e.contains("never sent in clear"), "{e}");
    let e = refused(
        "kind = \"slack\"\nurl = \"https://hooks.slack.com/services/T/B/X\"\nsecret = \"x\"\n",
    );
    assert!(e.contains("authorised by its URL"), "{e}");
    let e = refused("kind = \"webhook\"\nurl = \"https://x.example\"\ndebounce = \"0s\"\n");
    assert!(e.contains("from 1s to 7d"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_held_by_the_shipping_workflow_reaches_the_sink_once_then_in_a_digest() {
    use tradelane_tests::*;
    let receiver = HttpReceiver::start().await;
    let sandbox = sandbox(40, 7).await;
    let url = sandbox.url();
    let dir = tempfile::tempdir().unwrap();
    let text = config_text(
        dir.path(),
        &[
            shopify_channel("shop", &url, TOKEN, 50),
            shipping_block(&url, "", SHIP_EVERYTHING, &["TEA-SEN-100"]),
        ],
    ) + &format!(
        "\n[[notify]]\nkind = \"webhook\"\nurl = \"{}/hook\"\nevents = [\"order_held\"]\n",
        receiver.url
    );
    let (_, config) = write_config(dir.path(), &text);
    let _bus = BUS.lock().await;
    let notifier = Notifier::start(tradelane::notify::build(&config).unwrap());
    let h = Harness::new(&config).await;
    h.pass(0).await.expect("sync");
    let report = h.ship().await;
    assert!(report.held >= 2, "seed 7 holds several orders: {report:?}");
    let first = receiver.wait_for(1, 10).await;
    assert_eq!(first.len(), 1, "one message for the first held order");
    let body = first[0].json();
    assert_eq!(body["type"], "order_held");
    assert_eq!(body["seller"], "s1");
    assert_eq!(body["channel"], "shop");
    assert!(
        body["message"].as_str().unwrap().contains("has no hs_code"),
        "{body}"
    );
    notifier.stop().await;
    let all = receiver.received();
    assert_eq!(all.len(), 2, "and the rest in one digest");
    let digest = all[1].json();
    assert_eq!(digest["type"], "digest");
    assert_eq!(digest["entries"][0]["count"], u64::from(report.held) - 1);
    sandbox.shutdown().await;
}

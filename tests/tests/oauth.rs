//! Host-managed OAuth against the sandbox's authorisation servers:
//! refreshes are serialised per account, and a rotated refresh token is on
//! disk before it is relied on, so a kill -9 between the refresh and the
//! next call loses nothing.

use std::sync::Arc;
use tradelane::egress::oauth::{ClientConfig, MemoryVault, OAuth};
use tradelane::egress::{ChannelEgress, EgressSettings, HttpEgress, RetryPolicy, Secret, Secrets};
use tradelane::model::{OAuthClient, OAuthGrant};
use tradelane_sandbox::{Sandbox, SandboxConfig};
use tradelane_tests::*;

async fn ebay_sandbox(orders: u32) -> Sandbox {
    let mut config = sandbox_config(0, 3);
    config.ebay_orders = orders;
    Sandbox::start(config).await.expect("sandbox starts")
}

fn ebay_client(url: &str) -> ClientConfig {
    let c = SandboxConfig::default();
    ClientConfig {
        spec: OAuthClient {
            name: "ebay".into(),
            token_url: format!("{url}/identity/v1/oauth2/token"),
            grant: OAuthGrant::RefreshToken,
            client_auth: tradelane::model::OAuthClientAuth::Basic,
            json_body: false,
            client_id_setting: "client_id".into(),
            client_secret_setting: "client_secret".into(),
            refresh_token_setting: Some("refresh_token".into()),
            scopes: vec!["https://api.ebay.com/oauth/api_scope/sell.fulfillment".into()],
            authorize_url: None,
            redirect_uri_setting: None,
        },
        token_url: format!("{url}/identity/v1/oauth2/token"),
        client_id: Secret::new(c.ebay_client_id),
        client_secret: Secret::new(c.ebay_client_secret),
        refresh_token: Some(Secret::new(c.ebay_refresh_token)),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_never_both_refresh() {
    let sandbox = ebay_sandbox(0).await;
    let url = sandbox.url();
    let channel = ChannelEgress {
        label: "s1/ebay".into(),
        policy: loopback_policy(&["127.0.0.1"], &[]),
        secrets: Secrets::new(),
        bucket: None,
        operations: Default::default(),
        retry: RetryPolicy::default(),
        oauth: None,
    };
    let oauth = Arc::new(OAuth::new(
        "s1/ebay",
        vec![ebay_client(&url)],
        Arc::new(MemoryVault::default()),
        &channel,
    ));
    let http: Arc<HttpEgress> = Arc::new(HttpEgress::new(EgressSettings::default()));
    let take = |oauth: Arc<OAuth>, http: Arc<HttpEgress>| async move {
        oauth.token("ebay", http.as_ref()).await.expect("a token")
    };
    let first: Vec<_> =
        futures_join((0..16).map(|_| tokio::spawn(take(oauth.clone(), http.clone())))).await;
    let grants = oauth_control(&url, "ebay", "").await;
    assert_eq!(
        grants["grants"]["refresh_token"], 1,
        "16 callers, one refresh: {grants}"
    );
    assert!(first.windows(2).all(|w| w[0] == w[1]), "one token for all");

    // Sixteen 401s answered to the same token invalidate it once; the next
    // token is fetched once.
    let generation = first[0].1;
    for _ in 0..16 {
        oauth.invalidate("ebay", generation).await;
    }
    let second: Vec<_> =
        futures_join((0..16).map(|_| tokio::spawn(take(oauth.clone(), http.clone())))).await;
    let grants = oauth_control(&url, "ebay", "").await;
    assert_eq!(grants["grants"]["refresh_token"], 2, "{grants}");
    assert!(
        second
            .iter()
            .all(|t| t.1 == generation + 1 && t.0 != first[0].0)
    );
    // A stale invalidation (the old generation) leaves the new token be.
    oauth.invalidate("ebay", generation).await;
    let third = take(oauth.clone(), http.clone()).await;
    assert_eq!(third, second[0]);
    sandbox.shutdown().await;
}

async fn futures_join<T: Send + 'static>(
    tasks: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<T> {
    let mut out = Vec::new();
    for t in tasks.collect::<Vec<_>>() {
        out.push(t.await.expect("task"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_refresh_token_survives_kill_9_between_the_refresh_and_the_next_call() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = ebay_sandbox(25).await;
    let url = sandbox.url();
    // The provider hands out a new refresh token on every refresh and
    // revokes the old one: losing the new one locks the seller out.
    oauth_control(&url, "ebay", "rotate=true").await;
    let text = config_text(&dir.path().join("data"), &[ebay_channel("ebay", &url, 50)]);
    let (config, _) = write_config(dir.path(), &text);

    let crashed = cli(&config, &["sync", "--once"], Some("after-token-saved"));
    assert!(!crashed.status.success(), "the crash point aborts");
    assert!(
        String::from_utf8_lossy(&crashed.stderr).contains("crash point"),
        "{}",
        String::from_utf8_lossy(&crashed.stderr)
    );
    let grants = oauth_control(&url, "ebay", "").await;
    assert_eq!(grants["grants"]["refresh_token"], 1, "{grants}");
    assert_eq!(
        grants["live_refresh_tokens"], 1,
        "only the rotated one is valid now"
    );

    // The saved access token dies too, so the next run must refresh, and
    // only the rotated refresh token (saved before the crash) can.
    oauth_control(&url, "ebay", "expire=true").await;
    let out = cli(&config, &["sync", "--once"], None);
    succeeded(&out, "sync after the crash");
    let grants = oauth_control(&url, "ebay", "").await;
    assert_eq!(grants["grants"]["refresh_token"], 2, "{grants}");
    let listed = cli(&config, &["orders", "list", "--format", "json"], None);
    let listed = succeeded(&listed, "orders list");
    let orders: Vec<serde_json::Value> = listed
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("json lines"))
        .collect();
    assert_eq!(orders.len(), 25, "every order synced after the crash");
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_prints_the_consent_page_takes_the_redirect_and_saves_a_working_refresh_token() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = ebay_sandbox(7).await;
    let url = sandbox.url();
    let refresh = SandboxConfig::default().ebay_refresh_token;
    let channel = ebay_channel("ebay", &url, 50).replace(
        &format!("refresh_token = \"{refresh}\"\n"),
        &format!("auth_url = \"{url}/oauth2/authorize\"\n"),
    );
    let (config, _) = write_config(
        dir.path(),
        &config_text(&dir.path().join("data"), std::slice::from_ref(&channel)),
    );
    // Without a refresh token the channel cannot start, and says how to get one.
    let check = cli(&config, &["check"], None);
    assert!(!check.status.success());
    assert!(
        String::from_utf8_lossy(&check.stderr).contains("tradelane connect"),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );

    let Consented {
        consent,
        output: rest,
        ..
    } = connect_by_consent(&config, "s1/ebay").await;
    assert!(consent.contains("response_type=code") && consent.contains("sell.fulfillment"));
    let line = rest
        .lines()
        .find(|l| l.trim_start().starts_with("refresh_token = { file = "))
        .unwrap_or_else(|| panic!("no config line: {rest}"));
    let path = line.split('"').nth(1).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    assert!(
        !rest.contains(&std::fs::read_to_string(path).unwrap()),
        "the token is not printed"
    );

    // The printed line, pasted into config, makes the channel work.
    let with_token = channel.replace(
        "[sellers.channels.settings]\n",
        &format!("[sellers.channels.settings]\n{}\n", line.trim()),
    );
    let (config, _) = write_config(
        dir.path(),
        &config_text(&dir.path().join("data"), &[with_token]),
    );
    succeeded(
        &cli(&config, &["sync", "--once"], None),
        "sync with the connected token",
    );
    let grants = oauth_control(&url, "ebay", "").await;
    assert_eq!(grants["grants"]["authorization_code"], 1, "{grants}");
    assert_eq!(grants["grants"]["refresh_token"], 1, "{grants}");

    // An answer to another consent request is refused.
    let wrong = cli(
        &config,
        &[
            "connect",
            "s1/ebay",
            "--redirect-url",
            "https://x.invalid/accepted?state=nope&code=abc",
        ],
        None,
    );
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("state"));
    sandbox.shutdown().await;
}

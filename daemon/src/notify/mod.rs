//! Notifications: telling a person, not only the log, that something
//! needs them (`[[notify]]`).
//!
//! Where something happens (the scheduler stopping a channel, the shipping
//! workflow holding an order…) it calls [`emit`]; that costs one failed
//! send on a broadcast channel when no sink is configured. Each sink runs
//! as a task of its own: it filters the events it wants, debounces them
//! ([`debounce`]) and hands messages to a delivery task through a bounded
//! queue, so a slow or dead webhook never slows the daemon and never
//! makes it hold more than a few hundred messages.

pub mod debounce;
pub mod event;
pub mod message;
pub mod sink;

use crate::config::notify::NotifyConfig;
use crate::config::{LoadedConfig, SettingValue, error::ConfigError};
use crate::egress::Secret;
use crate::shutdown::{self, Shutdown};
pub use event::{Event, EventKind};
use message::Message;
pub use sink::{Sink, Target};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, mpsc};

/// Events in flight to the sinks; a sink further behind loses the oldest
/// and says how many in its next digest.
const BUS_CAPACITY: usize = 1_024;
/// Messages waiting for delivery, per sink.
const QUEUE: usize = 64;
/// How long a stopping sink may spend delivering what it still holds.
const FLUSH: Duration = Duration::from_secs(5);

fn bus() -> &'static broadcast::Sender<Event> {
    static BUS: OnceLock<broadcast::Sender<Event>> = OnceLock::new();
    BUS.get_or_init(|| broadcast::channel(BUS_CAPACITY).0)
}

/// Tell the sinks (if any) that `event` happened.
pub fn emit(event: Event) {
    let _ = bus().send(event);
}

/// [`emit`] an event of `kind` about `seller`/`channel`.
pub fn tell(kind: EventKind, seller: &str, channel: &str, message: impl Into<String>) {
    emit(Event::new(kind, Some(seller), Some(channel), message));
}

/// The sinks of `loaded`, their secrets read: an error names the key.
pub fn build(loaded: &LoadedConfig) -> Result<Vec<Sink>, ConfigError> {
    loaded
        .config
        .notify
        .iter()
        .enumerate()
        .map(|(i, n)| build_one(loaded, i, n))
        .collect()
}

fn build_one(loaded: &LoadedConfig, index: usize, n: &NotifyConfig) -> Result<Sink, ConfigError> {
    let kind = n.kind.get_ref().as_str();
    let err = |key: &str, span: std::ops::Range<usize>, message: String| {
        loaded
            .locator
            .error(Some(span.start), format!("notify[{index}].{key}"), message)
    };
    let secret = |key: &str, value: &Option<toml::Spanned<SettingValue>>| {
        value
            .as_ref()
            .map(|v| match v.get_ref() {
                SettingValue::Secret(r) => crate::assemble::settings::read_secret(loaded, r)
                    .map(Secret::new)
                    .map_err(|e| err(key, v.span(), e)),
                SettingValue::Text(t) => Ok(Secret::new(t.clone())),
                _ => Err(err(
                    key,
                    v.span(),
                    "must be text or a secret reference".into(),
                )),
            })
            .transpose()
    };
    let url = |key: &str| -> Result<reqwest::Url, ConfigError> {
        let v = n.url.as_ref().expect("checked with the config");
        let text = secret(key, &n.url)?.expect("present");
        crate::config::notify::check_url(text.expose())
            .and_then(|()| reqwest::Url::parse(text.expose()).map_err(|e| e.to_string()))
            .map_err(|why| {
                // A URL read from a secret is not echoed.
                let why = if matches!(v.get_ref(), SettingValue::Secret(_)) {
                    "the URL in this secret is not an https URL (http to loopback only)".into()
                } else {
                    why
                };
                err(key, v.span(), why)
            })
    };
    let target = match kind {
        "webhook" => Target::Webhook {
            url: url("url")?,
            secret: secret("secret", &n.secret)?,
        },
        "ntfy" => Target::Ntfy {
            url: url("url")?,
            token: secret("secret", &n.secret)?,
        },
        "slack" => Target::Slack { url: url("url")? },
        _ => Target::Email(Box::new(email(loaded, index, n, &secret)?)),
    };
    Ok(Sink {
        name: n
            .name
            .clone()
            .unwrap_or_else(|| format!("{kind} #{}", index + 1)),
        events: n.events.as_ref().map(|e| {
            e.get_ref()
                .iter()
                .filter_map(|e| EventKind::parse(e))
                .collect()
        }),
        debounce: n.debounce.get_ref().0,
        target,
        retry_base: Duration::from_secs(1),
    })
}

type SecretOf<'a> =
    dyn Fn(&str, &Option<toml::Spanned<SettingValue>>) -> Result<Option<Secret>, ConfigError> + 'a;

fn email(
    loaded: &LoadedConfig,
    index: usize,
    n: &NotifyConfig,
    secret: &SecretOf<'_>,
) -> Result<sink::Email, ConfigError> {
    use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
    let host = n.smtp_host.as_ref().expect("checked with the config");
    let err = |key: &str, message: String| {
        loaded.locator.error(
            Some(host.span().start),
            format!("notify[{index}].{key}"),
            message,
        )
    };
    let mut params = TlsParameters::builder(host.get_ref().clone());
    if let Some(ca) = &n.tls_ca {
        let path = loaded.resolve(ca.get_ref());
        let pem = std::fs::read(&path)
            .map_err(|e| err("tls_ca", format!("cannot read {}: {e}", path.display())))?;
        let cert = Certificate::from_pem(&pem).map_err(|e| {
            err(
                "tls_ca",
                format!("{} is not a PEM certificate: {e}", path.display()),
            )
        })?;
        params = params.add_root_certificate(cert);
    }
    let params = params
        .build_rustls()
        .map_err(|e| err("tls_ca", format!("cannot set up TLS: {e}")))?;
    let implicit = n.tls.get_ref() == "tls";
    let mut transport = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::builder_dangerous(
        host.get_ref().as_str(),
    )
    .port(n.smtp_port.unwrap_or(if implicit { 465 } else { 587 }))
    .tls(if implicit {
        Tls::Wrapper(params)
    } else {
        Tls::Required(params)
    })
    .timeout(Some(sink::TIMEOUT));
    if let (Some(user), Some(password)) = (&n.username, secret("password", &n.password)?) {
        transport =
            transport.credentials(lettre::transport::smtp::authentication::Credentials::new(
                user.clone(),
                password.expose().to_string(),
            ));
    }
    let parse = |v: &toml::Spanned<String>| {
        v.get_ref()
            .parse()
            .map_err(|e| err("to", format!("`{}`: {e}", v.get_ref())))
    };
    Ok(sink::Email {
        transport: transport.build(),
        from: parse(n.from.as_ref().expect("checked with the config"))?,
        to: n.to.iter().map(parse).collect::<Result<_, _>>()?,
    })
}

/// The running sinks of one configuration.
pub struct Notifier {
    stop: shutdown::ShutdownTrigger,
    tasks: tokio::task::JoinSet<()>,
}

impl Notifier {
    /// Start one task per sink.
    pub fn start(sinks: Vec<Sink>) -> Self {
        let (stop, shutdown) = shutdown::channel();
        let mut tasks = tokio::task::JoinSet::new();
        let http = http_client();
        for s in sinks {
            tasks.spawn(run_sink(
                Arc::new(s),
                bus().subscribe(),
                http.clone(),
                shutdown.clone(),
            ));
        }
        Notifier { stop, tasks }
    }

    /// Stop every sink, letting it deliver what it still holds (a digest
    /// of its open windows) for a few seconds.
    pub async fn stop(mut self) {
        self.stop.fire();
        let all = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(FLUSH + Duration::from_secs(1), all)
            .await
            .is_err()
        {
            self.tasks.abort_all();
        }
    }
}

/// The client sinks post with: no redirects (a webhook that moved must be
/// reconfigured, not followed), bounded time.
fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(sink::TIMEOUT)
        .connect_timeout(Duration::from_secs(5))
        .user_agent(concat!("tradelane/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("a client without custom TLS builds")
}

async fn run_sink(
    sink: Arc<Sink>,
    mut events: broadcast::Receiver<Event>,
    http: reqwest::Client,
    mut shutdown: Shutdown,
) {
    let (queue, mut pending) = mpsc::channel::<Message>(QUEUE);
    let deliverer = tokio::spawn({
        let sink = sink.clone();
        async move {
            while let Some(message) = pending.recv().await {
                match sink.deliver(&http, &message).await {
                    Ok(()) => {
                        metrics::counter!("tradelane_notifications_sent_total", "sink" => sink.name.clone())
                            .increment(1);
                    }
                    Err(e) => {
                        metrics::counter!("tradelane_notifications_failed_total", "sink" => sink.name.clone())
                            .increment(1);
                        tracing::warn!(sink = %sink.name, "notification `{}` not delivered: {e}", message.title());
                    }
                }
            }
        }
    });
    let mut windows = debounce::Debouncer::new(sink.debounce);
    let mut dropped = 0u64;
    let mut tick = tokio::time::interval(
        (sink.debounce / 10).clamp(Duration::from_millis(200), Duration::from_secs(60)),
    );
    let enqueue = |message: Message, dropped: &mut u64| {
        if queue.try_send(message).is_err() {
            *dropped += 1;
        }
    };
    loop {
        tokio::select! {
            received = events.recv() => match received {
                Ok(event) => {
                    if sink.wants(event.kind)
                        && windows.offer(&event, Instant::now()) == debounce::Offer::Send
                    {
                        enqueue(Message::Event(event), &mut dropped);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => dropped += n,
                Err(broadcast::error::RecvError::Closed) => break,
            },
            _ = tick.tick() => {
                let entries = windows.due(Instant::now());
                if !entries.is_empty() || dropped > 0 {
                    let digest = digest(entries, std::mem::take(&mut dropped), sink.debounce);
                    enqueue(digest, &mut dropped);
                }
            }
            _ = shutdown.requested() => break,
        }
    }
    let entries = windows.drain();
    if !entries.is_empty() || dropped > 0 {
        let digest = digest(entries, dropped, sink.debounce);
        enqueue(digest, &mut 0);
    }
    drop(queue);
    let mut deliverer = deliverer;
    if tokio::time::timeout(FLUSH, &mut deliverer).await.is_err() {
        deliverer.abort();
    }
}

fn digest(entries: Vec<debounce::DigestEntry>, dropped: u64, window: Duration) -> Message {
    Message::Digest {
        entries,
        dropped,
        window,
        at: chrono::Utc::now(),
    }
}

//! Local servers that receive what tradelane sends out: an HTTP server
//! that records every request (webhooks, ntfy, Slack), answering with
//! scripted statuses, and an SMTP relay that insists on STARTTLS.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_default()
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// An HTTP/1.1 server on loopback recording every request.
pub struct HttpReceiver {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    statuses: Arc<Mutex<VecDeque<u16>>>,
    task: tokio::task::JoinHandle<()>,
}

impl HttpReceiver {
    /// Listen on an ephemeral loopback port; answers 200 unless told.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let received: Arc<Mutex<Vec<Received>>> = Default::default();
        let statuses: Arc<Mutex<VecDeque<u16>>> = Default::default();
        let (r, s) = (received.clone(), statuses.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (r, s) = (r.clone(), s.clone());
                tokio::spawn(async move {
                    let _ = serve_one(stream, r, s).await;
                });
            }
        });
        HttpReceiver {
            url,
            received,
            statuses,
            task,
        }
    }

    /// Answer the next requests with these statuses, in order.
    pub fn answer(&self, statuses: &[u16]) {
        self.statuses.lock().unwrap().extend(statuses);
    }

    /// Every request so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Wait (up to `secs`) until `n` requests arrived.
    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<Received> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            let got = self.received();
            if got.len() >= n || std::time::Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

impl Drop for HttpReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve_one(
    stream: TcpStream,
    received: Arc<Mutex<Vec<Received>>>,
    statuses: Arc<Mutex<VecDeque<u16>>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).await?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).await?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((n, v)) = h.split_once(':') {
            headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length.min(1 << 20)];
    reader.read_exact(&mut body).await?;
    received.lock().unwrap().push(Received {
        method,
        path,
        headers,
        body,
    });
    let status = statuses.lock().unwrap().pop_front().unwrap_or(200);
    let mut stream = reader.into_inner();
    stream
        .write_all(
            format!("HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
                .as_bytes(),
        )
        .await?;
    stream.shutdown().await
}

/// One mail as the relay took it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// The message, headers and body.
    pub data: String,
    /// The `AUTH` line's mechanism and decoded credentials.
    pub auth: Option<String>,
    /// Whether the session had switched to TLS before `MAIL`.
    pub tls: bool,
}

/// An SMTP relay on loopback that offers STARTTLS and refuses mail before
/// it, with a certificate for `127.0.0.1` signed by a throwaway CA.
pub struct SmtpRelay {
    pub port: u16,
    /// The CA's certificate, PEM: what `tls_ca` must name.
    pub ca_pem: String,
    mails: Arc<Mutex<Vec<Mail>>>,
    task: tokio::task::JoinHandle<()>,
}

impl SmtpRelay {
    /// Listen on an ephemeral loopback port.
    pub async fn start() -> Self {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
        use tokio_rustls::rustls;
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["127.0.0.1".to_string()])
            .unwrap()
            .signed_by(&leaf_key, &ca, &ca_key)
            .unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mails: Arc<Mutex<Vec<Mail>>> = Default::default();
        let m = mails.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (m, acceptor) = (m.clone(), acceptor.clone());
                tokio::spawn(async move {
                    let _ = smtp_session(stream, acceptor, m).await;
                });
            }
        });
        SmtpRelay {
            port,
            ca_pem: ca.pem(),
            mails,
            task,
        }
    }

    /// Every mail taken so far.
    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }
}

impl Drop for SmtpRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What a session phase ended with.
enum Phase {
    StartTls,
    Done,
}

async fn smtp_session(
    mut stream: TcpStream,
    acceptor: tokio_rustls::TlsAcceptor,
    mails: Arc<Mutex<Vec<Mail>>>,
) -> std::io::Result<()> {
    stream
        .write_all(b"220 127.0.0.1 ESMTP test relay\r\n")
        .await?;
    let mut reader = BufReader::new(stream);
    if let Phase::StartTls = smtp_phase(&mut reader, false, &mails).await? {
        let tls = acceptor.accept(reader.into_inner()).await?;
        let mut reader = BufReader::new(tls);
        smtp_phase(&mut reader, true, &mails).await?;
    }
    Ok(())
}

async fn smtp_phase<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut BufReader<S>,
    tls: bool,
    mails: &Arc<Mutex<Vec<Mail>>>,
) -> std::io::Result<Phase> {
    use base64::Engine as _;
    let mut mail: Option<Mail> = None;
    let mut auth = None;
    loop {
        let mut line = String::new();
        if io.read_line(&mut line).await? == 0 {
            return Ok(Phase::Done);
        }
        let command = line.trim_end().to_string();
        let upper = command.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            if tls {
                "250-127.0.0.1\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n".into()
            } else {
                "250-127.0.0.1\r\n250-STARTTLS\r\n250 8BITMIME\r\n".into()
            }
        } else if upper == "STARTTLS" && !tls {
            io.get_mut().write_all(b"220 go ahead\r\n").await?;
            return Ok(Phase::StartTls);
        } else if let Some(rest) = upper.strip_prefix("AUTH PLAIN ") {
            let _ = rest;
            let encoded = &command["AUTH PLAIN ".len()..];
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .unwrap_or_default();
            auth = Some(format!(
                "PLAIN {}",
                String::from_utf8_lossy(&decoded).replace('\0', " ")
            ));
            "235 2.7.0 accepted\r\n".into()
        } else if upper.starts_with("MAIL FROM:") {
            if !tls {
                "530 5.7.0 Must issue a STARTTLS command first\r\n".into()
            } else {
                mail = Some(Mail {
                    from: command[10..].trim().trim_matches(['<', '>']).to_string(),
                    to: Vec::new(),
                    data: String::new(),
                    auth: auth.clone(),
                    tls,
                });
                "250 2.1.0 ok\r\n".into()
            }
        } else if upper.starts_with("RCPT TO:") {
            if let Some(m) = mail.as_mut() {
                m.to.push(command[8..].trim().trim_matches(['<', '>']).to_string());
            }
            "250 2.1.5 ok\r\n".into()
        } else if upper == "DATA" {
            io.get_mut().write_all(b"354 go on\r\n").await?;
            let mut data = String::new();
            loop {
                let mut l = String::new();
                if io.read_line(&mut l).await? == 0 || l == ".\r\n" {
                    break;
                }
                data.push_str(&l);
            }
            if let Some(mut m) = mail.take() {
                m.data = data;
                mails.lock().unwrap().push(m);
            }
            "250 2.0.0 queued\r\n".into()
        } else if upper == "QUIT" {
            io.get_mut().write_all(b"221 bye\r\n").await?;
            return Ok(Phase::Done);
        } else {
            "250 ok\r\n".into()
        };
        io.get_mut().write_all(reply.as_bytes()).await?;
        io.get_mut().flush().await?;
    }
}

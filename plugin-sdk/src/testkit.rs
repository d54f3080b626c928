//! Test a plugin natively, offline: `cargo test` in the plugin's crate.
//!
//! Inside a component the SDK's HTTP, log, cache and signing calls go to
//! the tradelane host. Compiled natively (tests), they go to a [`MockHost`]
//! installed for the current thread by [`with_host`]: a handler answers
//! every request, and what the plugin sent and logged is recorded. Without
//! one, a call fails with `unsupported` naming this module (it used to
//! abort the whole test binary).
//!
//! ```
//! use tradelane_plugin_sdk::testkit::{self, MockResponse};
//! use tradelane_plugin_sdk::Request;
//!
//! let (status, seen) = testkit::with_host(
//!     |request| {
//!         assert!(request.url.ends_with("/orders"));
//!         MockResponse::json(200, r#"{"orders": []}"#)
//!     },
//!     || Request::get("https://api.example.com/orders").send().map(|r| r.status),
//! );
//! assert_eq!(status.unwrap(), 200);
//! assert_eq!(seen.requests.len(), 1);
//! ```
//!
//! Recorded exchanges (one JSON file each: `{"request": {"method", "url"},
//! "response": {"status", "headers", "body"}}`, the layout `tradelane
//! plugin call --record` is to write) are served back by [`replay`], and
//! [`conformance`] runs the checks every plugin of a kind should pass.

use crate::http::{Method, Response};
use crate::types::PluginError;
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;

pub mod conformance;

/// A request as the plugin sent it (secrets still as placeholders: the
/// host fills them in, the mock never sees a value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentRequest {
    /// The HTTP method.
    pub method: Method,
    /// The URL, query included.
    pub url: String,
    /// Headers as the plugin set them.
    pub headers: Vec<(String, String)>,
    /// The body, if any.
    pub body: Option<Vec<u8>>,
}

impl SentRequest {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(self.body.as_deref().unwrap_or_default()).into_owned()
    }
}

/// What the mock answers.
#[derive(Debug, Clone)]
pub struct MockResponse {
    /// HTTP status code.
    pub status: u16,
    /// Headers (names are lower-cased on the way to the plugin).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl MockResponse {
    /// A JSON body with this status.
    pub fn json(status: u16, body: &str) -> Self {
        MockResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    /// A status with an empty body.
    pub fn status(status: u16) -> Self {
        MockResponse {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// The same, with a header added.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }
}

/// Everything a call did, for assertions.
#[derive(Debug, Clone, Default)]
pub struct Recorded {
    /// Every request, in the order sent.
    pub requests: Vec<SentRequest>,
    /// `(level, line)` of every log line.
    pub logs: Vec<(String, String)>,
}

type Handler = Box<dyn FnMut(&SentRequest) -> MockResponse>;

/// The host a native test talks to.
struct MockHost {
    handler: Handler,
    recorded: Recorded,
    cache: HashMap<String, String>,
}

thread_local! {
    static HOST: RefCell<Option<MockHost>> = const { RefCell::new(None) };
}

/// Run `f` with `handler` answering every HTTP request the plugin sends;
/// its result, and what was sent and logged.
pub fn with_host<R>(
    handler: impl FnMut(&SentRequest) -> MockResponse + 'static,
    f: impl FnOnce() -> R,
) -> (R, Recorded) {
    let previous = HOST.with(|h| {
        h.replace(Some(MockHost {
            handler: Box::new(handler),
            recorded: Recorded::default(),
            cache: HashMap::new(),
        }))
    });
    let result = f();
    let host = HOST.with(|h| h.replace(previous));
    (result, host.map(|h| h.recorded).unwrap_or_default())
}

/// How many requests the current mock host has answered.
pub(crate) fn sent_so_far() -> usize {
    HOST.with(|h| h.borrow().as_ref().map_or(0, |h| h.recorded.requests.len()))
}

fn no_host(what: &str) -> PluginError {
    PluginError::Unsupported(format!(
        "{what} outside the tradelane host: in a native test, run the call inside `tradelane_plugin_sdk::testkit::with_host`"
    ))
}

pub(crate) fn send(request: SentRequest) -> Result<Response, PluginError> {
    HOST.with(|h| {
        let mut host = h.borrow_mut();
        let host = host.as_mut().ok_or_else(|| no_host("an HTTP request"))?;
        let answer = (host.handler)(&request);
        host.recorded.requests.push(request);
        Ok(Response {
            status: answer.status,
            headers: answer
                .headers
                .into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v))
                .collect(),
            body: answer.body,
        })
    })
}

pub(crate) fn log(level: &str, message: &str) {
    HOST.with(|h| match h.borrow_mut().as_mut() {
        Some(host) => host
            .recorded
            .logs
            .push((level.to_string(), message.to_string())),
        None => eprintln!("[{level}] {message}"),
    });
}

pub(crate) fn cache_get(key: &str) -> Option<String> {
    HOST.with(|h| h.borrow().as_ref()?.cache.get(key).cloned())
}

pub(crate) fn cache_set(key: &str, value: &str) {
    HOST.with(|h| {
        if let Some(host) = h.borrow_mut().as_mut() {
            host.cache.insert(key.to_string(), value.to_string());
        }
    });
}

/// `GET`, `POST`…
pub fn method_name(method: Method) -> String {
    match method {
        Method::Get => "GET",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Patch => "PATCH",
        Method::Delete => "DELETE",
        Method::Head => "HEAD",
    }
    .to_string()
}

/// A handler serving the exchanges recorded in `dir` (every `*.json`, in
/// name order): a request gets the first unused exchange with its method
/// and URL; one nobody recorded gets a 599 whose body says so, so a test
/// shows what the plugin asked that the recording lacks.
pub fn replay(dir: &Path) -> std::io::Result<impl FnMut(&SentRequest) -> MockResponse + 'static> {
    let mut files: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut exchanges = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path)?;
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{}: {e}", path.display()),
            )
        })?;
        let method = v["request"]["method"]
            .as_str()
            .unwrap_or("GET")
            .to_ascii_uppercase();
        let url = v["request"]["url"].as_str().unwrap_or_default().to_string();
        let response = &v["response"];
        let headers = response["headers"]
            .as_object()
            .map(|h| {
                h.iter()
                    .map(|(k, v)| {
                        (
                            k.to_ascii_lowercase(),
                            v.as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let body = match &response["body"] {
            serde_json::Value::String(s) => s.as_bytes().to_vec(),
            serde_json::Value::Null => Vec::new(),
            other => other.to_string().into_bytes(),
        };
        let status = response["status"].as_u64().unwrap_or(200) as u16;
        exchanges.push((
            method,
            url,
            Some(MockResponse {
                status,
                headers,
                body,
            }),
        ));
    }
    Ok(move |request: &SentRequest| {
        let method = method_name(request.method);
        exchanges
            .iter_mut()
            .find(|(m, u, r)| r.is_some() && *m == method && *u == request.url)
            .and_then(|(_, _, r)| r.take())
            .unwrap_or_else(|| MockResponse {
                status: 599,
                headers: Vec::new(),
                body: format!("no recorded exchange for {method} {}", request.url).into_bytes(),
            })
    })
}

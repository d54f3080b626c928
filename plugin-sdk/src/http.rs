//! A small HTTP client over the host's `http.send` import.
//!
//! ```text
//! let orders: OrdersBody = Request::get(&url)
//!     .header("X-Shopify-Access-Token", &settings.secret("access_token")?)
//!     .send()?
//!     .error_for_status()?
//!     .json()?;
//! ```

use crate::bindings::host::tradelane::plugin::http as wit;
use crate::types::{PluginError, RateLimited};
use serde::{Serialize, de::DeserializeOwned};

pub use wit::Method;

/// A request being built.
#[derive(Debug, Clone)]
pub struct Request {
    method: Method,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    operation: Option<String>,
}

impl Request {
    /// A request with any method.
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Request {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
            operation: None,
        }
    }
    /// `GET url`.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new(Method::Get, url)
    }
    /// `POST url`.
    pub fn post(url: impl Into<String>) -> Self {
        Self::new(Method::Post, url)
    }
    /// `PUT url`.
    pub fn put(url: impl Into<String>) -> Self {
        Self::new(Method::Put, url)
    }

    /// Add a header. Values may contain `{{secret:NAME}}` placeholders.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// `Authorization: Bearer <secret>`; pass [`crate::Settings::secret`]'s placeholder.
    pub fn bearer(self, secret_placeholder: &str) -> Self {
        self.header("Authorization", &format!("Bearer {secret_placeholder}"))
    }

    /// Name the API operation this request belongs to (e.g. `searchOrders`),
    /// so the host paces it by that operation's declared limit
    /// ([`crate::ManifestExt::operation_limit`]).
    pub fn operation(mut self, name: &str) -> Self {
        self.operation = Some(name.to_string());
        self
    }

    /// `Authorization: Bearer <token>` with the access token of the
    /// host-managed OAuth client `name` ([`crate::ManifestExt::oauth`]).
    /// The host fills it in as the request leaves; the token never enters
    /// the plugin.
    pub fn oauth_bearer(self, name: &str) -> Self {
        self.header(
            "Authorization",
            &format!("Bearer {}", crate::oauth_token(name)),
        )
    }

    /// Append `key=value` to the query string, percent-encoding both.
    pub fn query(mut self, key: &str, value: &str) -> Self {
        let sep = if self.url.contains('?') { '&' } else { '?' };
        self.url = format!("{}{sep}{}={}", self.url, encode(key), encode(value));
        self
    }

    /// A JSON body (and its content type).
    pub fn json<T: Serialize>(mut self, body: &T) -> Result<Self, PluginError> {
        let bytes = serde_json::to_vec(body).map_err(|e| {
            PluginError::InvalidResponse(format!("cannot encode request body: {e}"))
        })?;
        self.body = Some(bytes);
        Ok(self.header("Content-Type", "application/json"))
    }

    /// A raw body.
    pub fn body(mut self, bytes: Vec<u8>, content_type: &str) -> Self {
        self.body = Some(bytes);
        self.header("Content-Type", content_type)
    }

    /// The URL as built so far.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Send through the host. Any status is a response; only a request that
    /// could not be made at all is an error.
    pub fn send(self) -> Result<Response, PluginError> {
        // Natively (a plugin's own tests), the test kit's mock host answers.
        #[cfg(not(target_arch = "wasm32"))]
        return crate::testkit::send(crate::testkit::SentRequest {
            method: self.method,
            url: self.url,
            headers: self.headers,
            body: self.body,
        });
        #[cfg(target_arch = "wasm32")]
        let request = wit::Request {
            method: self.method,
            url: self.url,
            headers: self.headers,
            body: self.body,
            operation: self.operation,
        };
        #[cfg(target_arch = "wasm32")]
        match wit::send(&request) {
            Ok(r) => Ok(Response {
                status: r.status,
                headers: r.headers,
                body: r.body,
            }),
            Err(e) => Err(http_error(e)),
        }
    }
}

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
fn http_error(e: wit::HttpError) -> PluginError {
    use crate::settings::invalid;
    match e {
        wit::HttpError::Denied(why) => invalid("allowed_hosts", &why),
        wit::HttpError::InvalidRequest(why) => {
            PluginError::InvalidResponse(format!("bad request: {why}"))
        }
        wit::HttpError::Connect(why) => PluginError::Transient(format!("connection failed: {why}")),
        wit::HttpError::Timeout(why) => PluginError::Transient(format!("timed out: {why}")),
        wit::HttpError::TooLarge(n) => {
            PluginError::InvalidResponse(format!("response larger than {n} bytes"))
        }
        wit::HttpError::BudgetExhausted(n) => {
            PluginError::Transient(format!("request budget of {n} per call used up"))
        }
    }
}

/// A response, whatever its status.
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// Headers as sent (names in lower case).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy), for error messages.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Turn a failure status into the error the host acts on: 401/403 →
    /// `auth`, 404 → `not-found`, 429 → `rate-limited` (with `Retry-After`),
    /// 5xx → `transient`, any other 4xx → `invalid-response` carrying the
    /// API's own message.
    pub fn error_for_status(self) -> Result<Self, PluginError> {
        let status = self.status;
        if (200..300).contains(&status) {
            return Ok(self);
        }
        let detail = format!("HTTP {status}: {}", snippet(&self.text()));
        Err(match status {
            401 | 403 => PluginError::Auth(detail),
            404 => PluginError::NotFound(detail),
            429 => PluginError::RateLimited(RateLimited {
                retry_after_ms: self.header("retry-after").and_then(parse_retry_after),
                detail,
            }),
            500..=599 => PluginError::Transient(detail),
            400 | 409 | 422 => PluginError::Rejected(format!("HTTP {status}: {}", self.text())),
            _ => PluginError::InvalidResponse(detail),
        })
    }

    /// Parse the body as JSON into `T`, naming the path that failed.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, PluginError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            PluginError::InvalidResponse(format!(
                "unexpected JSON (HTTP {}): {e}; body starts {:?}",
                self.status,
                snippet(&self.text())
            ))
        })
    }
}

/// `Retry-After` in seconds (possibly fractional) → milliseconds.
pub fn parse_retry_after(value: &str) -> Option<u64> {
    let value = value.trim();
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    let secs: u64 = whole.parse().ok()?;
    let mut millis = 0u64;
    for (i, b) in fraction.bytes().take(3).enumerate() {
        if !b.is_ascii_digit() {
            return None;
        }
        millis += u64::from(b - b'0') * 10u64.pow(2 - i as u32);
    }
    secs.checked_mul(1000)?.checked_add(millis)
}

fn snippet(text: &str) -> String {
    const MAX: usize = 500;
    if text.len() <= MAX {
        return text.to_string();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// Percent-encode a query component (RFC 3986 unreserved characters kept).
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Undo [`encode`] (and `+` as space), for tokens read back from URLs.
pub fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The URL of the `rel="next"` entry of an RFC 8288 `Link` header.
///
/// URLs may themselves contain commas (`fields=a,b`), so entries are read
/// by their `<…>` brackets rather than split on commas.
pub fn link_next(link: &str) -> Option<String> {
    let mut rest = link;
    while let Some(open) = rest.find('<') {
        let close = open + rest[open..].find('>')?;
        let url = &rest[open + 1..close];
        let after = &rest[close + 1..];
        let params_end = after.find('<').unwrap_or(after.len());
        let is_next = after[..params_end]
            .split([';', ','])
            .any(|p| matches!(p.trim(), "rel=\"next\"" | "rel=next"));
        if is_next {
            return Some(url.to_string());
        }
        rest = &after[params_end..];
    }
    None
}

/// The value of query parameter `key` in `url`, decoded.
pub fn query_param(url: &str, key: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (decode(k) == key).then(|| decode(v))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_next_link_in_shopify_form() {
        let link = "<https://test-shop.myshopify.io/admin/api/v/products.json?limit=10&fields=test1,test2&page_info=previousToken>; rel=\"previous\", <https://test-shop.myshopify.io/admin/api/v/products.json?limit=10&fields=test1,test2&page_info=nextToken>; rel=\"next\"";
        let next = link_next(link).unwrap();
        assert_eq!(
            query_param(&next, "page_info").as_deref(),
            Some("nextToken")
        );
        assert_eq!(
            link_next("<https://x/?page_info=a>; rel=\"previous\""),
            None
        );
    }

    #[test]
    fn retry_after_is_fractional_seconds() {
        assert_eq!(parse_retry_after("2"), Some(2000));
        assert_eq!(parse_retry_after("1.5"), Some(1500));
        assert_eq!(parse_retry_after("0.25"), Some(250));
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn percent_encoding_round_trips() {
        let raw = "2026-11-29T23:54:20+01:00 a&b=c/é";
        assert_eq!(decode(&encode(raw)), raw);
    }
}

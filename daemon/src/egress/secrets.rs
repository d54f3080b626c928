//! Secrets by reference: a plugin writes `{{secret:NAME}}`, the host fills
//! in the value as the request leaves (after the host check passed), so a
//! key never enters guest memory or a log line.
//!
//! `{{basic:USER:PASSWORD}}` names two secrets (either may be empty) and
//! becomes `base64(user:password)`, the credentials of HTTP Basic auth,
//! which a plugin could not encode without seeing them.
//!
//! `{{oauth:NAME}}` becomes the current access token of the host-managed
//! OAuth client `NAME` (see [`super::oauth`]), fetched for the request.

use std::collections::BTreeMap;
use std::fmt;

/// A secret value that never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The value, for the few places that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A channel's secrets by setting name.
pub type Secrets = BTreeMap<String, Secret>;

const OPENS: [&str; 3] = ["{{secret:", "{{basic:", "{{oauth:"];
const CLOSE: &str = "}}";

fn lookup<'a>(secrets: &'a Secrets, name: &str) -> Result<&'a str, String> {
    if name.is_empty() {
        return Ok("");
    }
    secrets
        .get(name)
        .map(Secret::expose)
        .ok_or_else(|| format!("no secret named `{name}` is configured for this channel"))
}

/// Replace every placeholder in `text`; an unknown name is an error.
pub fn substitute(text: &str, secrets: &Secrets) -> Result<String, String> {
    substitute_noting(text, secrets, &Secrets::new(), &mut Scrubber::default())
}

/// The OAuth client names `text` refers to (`{{oauth:NAME}}`), once each.
pub fn oauth_names(text: &str, into: &mut Vec<String>) {
    let open = OPENS[2];
    let mut rest = text;
    while let Some(start) = rest.find(open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(CLOSE) else { return };
        let name = &after[..end];
        if !into.iter().any(|n| n == name) {
            into.push(name.to_string());
        }
        rest = &after[end + CLOSE.len()..];
    }
}

/// A placeholder in a URL is never filled: URLs end up in server logs,
/// proxies and caches, so a secret in one leaks. Refused, naming where
/// secrets may go, whether the plugin wrote it plainly or percent-encoded
/// (`%7B%7Bsecret:…`).
pub fn refuse_in_url(url: &reqwest::Url) -> Result<(), String> {
    let text = url.as_str();
    let decoded: String = percent_decode(text);
    match OPENS.iter().find(|open| decoded.contains(*open)) {
        None => Ok(()),
        Some(open) => Err(format!(
            "a `{open}…}}}}` placeholder is in the URL, where the host never fills it (URLs are logged by servers and proxies): put the secret in a header value (e.g. `Authorization`) or the body; for an API that takes its key in the query, declare it as a header if the API allows, else the key cannot be sent safely"
        )),
    }
}

/// Whether `url`'s query holds a placeholder (plain or percent-encoded).
pub fn query_has_placeholder(url: &reqwest::Url) -> bool {
    url.query()
        .is_some_and(|q| OPENS.iter().any(|open| percent_decode(q).contains(open)))
}

/// `url` with the `{{secret:…}}` placeholders of its query filled in, for
/// a channel with `secrets_in_query`: only over HTTPS (or to a loopback
/// address where plain HTTP is allowed, the sandbox), never in the path.
pub fn fill_query(
    url: &reqwest::Url,
    allow_loopback: bool,
    secrets: &Secrets,
    used: &mut Scrubber,
) -> Result<reqwest::Url, String> {
    let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']);
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if url.scheme() != "https" && !(allow_loopback && loopback) {
        return Err(format!(
            "secrets go into a URL's query only over HTTPS, and {} is {}",
            url.host_str().unwrap_or_default(),
            url.scheme()
        ));
    }
    if OPENS
        .iter()
        .any(|open| percent_decode(url.path()).contains(open))
    {
        return Err("a placeholder is in the URL's path, where the host never fills it".into());
    }
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            substitute_noting(&v, secrets, &Secrets::new(), used).map(|v| (k.into_owned(), v))
        })
        .collect::<Result<_, _>>()?;
    let mut filled = url.clone();
    filled.query_pairs_mut().clear().extend_pairs(pairs);
    Ok(filled)
}

/// `%XX` sequences decoded (invalid ones kept as they are).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether `text` holds a placeholder the host would fill.
pub fn has_placeholder(text: &str) -> bool {
    OPENS.iter().any(|o| text.contains(o))
}

/// [`substitute`], noting in `used` each value it put in and the
/// placeholder it stood for, so an echo of the value can be taken out of
/// the response again.
pub fn substitute_noting(
    text: &str,
    secrets: &Secrets,
    tokens: &Secrets,
    used: &mut Scrubber,
) -> Result<String, String> {
    use base64::Engine as _;
    if !has_placeholder(text) {
        return Ok(text.to_string());
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((start, open)) = OPENS
        .iter()
        .filter_map(|o| rest.find(o).map(|i| (i, *o)))
        .min()
    {
        out.push_str(&rest[..start]);
        let after = &rest[start + open.len()..];
        let end = after
            .find(CLOSE)
            .ok_or_else(|| format!("unterminated `{open}` placeholder"))?;
        let inner = &after[..end];
        if open == OPENS[0] {
            let value = lookup(secrets, inner)?;
            used.note_secret(inner, value);
            out.push_str(value);
        } else if open == OPENS[2] {
            let value = tokens.get(inner).map(Secret::expose).ok_or_else(|| {
                format!("no OAuth client named `{inner}` is declared in the plugin's manifest")
            })?;
            used.note(value, &format!("{{{{oauth:{inner}}}}}"));
            out.push_str(value);
        } else {
            let (user, password) = inner
                .split_once(':')
                .ok_or("`{{basic:USER:PASSWORD}}` needs two secret names (either may be empty)")?;
            let (u, p) = (lookup(secrets, user)?, lookup(secrets, password)?);
            let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
            used.note(&encoded, &format!("{{{{basic:{inner}}}}}"));
            used.note_secret(user, u);
            used.note_secret(password, p);
            out.push_str(&encoded);
        }
        rest = &after[end + CLOSE.len()..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Same for a body, which may not be text.
pub fn substitute_bytes(
    body: Vec<u8>,
    secrets: &Secrets,
    tokens: &Secrets,
    used: &mut Scrubber,
) -> Result<Vec<u8>, String> {
    if !OPENS
        .iter()
        .any(|o| body.windows(o.len()).any(|w| w == o.as_bytes()))
    {
        return Ok(body);
    }
    let text =
        String::from_utf8(body).map_err(|_| "a body with a secret placeholder must be UTF-8")?;
    substitute_noting(&text, secrets, tokens, used).map(String::into_bytes)
}

/// Values shorter than this are not scrubbed: replacing two or three
/// characters everywhere would mangle every response, and no credential
/// is that short.
pub const MIN_SCRUBBED: usize = 4;

/// Secret values and the placeholders they stand for, to take echoed
/// secrets out of what reaches a plugin, a log line or an error.
#[derive(Default, Clone)]
pub struct Scrubber {
    /// `(value, placeholder)`, longest value first so a value containing
    /// another is replaced whole.
    pairs: Vec<(String, String)>,
}

impl fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scrubber({} values)", self.pairs.len())
    }
}

impl Scrubber {
    /// Every secret of a channel, raw and as HTTP Basic credentials with
    /// an empty password (a key sent as the user, as EasyPost does).
    pub fn for_secrets(secrets: &Secrets) -> Self {
        let mut s = Scrubber::default();
        for (name, secret) in secrets {
            s.note_secret(name, secret.expose());
        }
        s
    }

    /// Remember the secret `name`'s value, raw and in the base64 forms it
    /// takes in HTTP Basic credentials (alone, as user, as password).
    pub fn note_secret(&mut self, name: &str, value: &str) {
        use base64::Engine as _;
        if value.len() < MIN_SCRUBBED {
            return;
        }
        let b64 = |t: String| base64::engine::general_purpose::STANDARD.encode(t);
        self.note(value, &format!("{{{{secret:{name}}}}}"));
        self.note(&b64(format!("{value}:")), &format!("{{{{basic:{name}:}}}}"));
        self.note(&b64(format!(":{value}")), &format!("{{{{basic::{name}}}}}"));
        self.note(&b64(value.to_string()), &format!("{{{{secret:{name}}}}}"));
    }

    /// Remember that `value` stands for `placeholder`.
    pub fn note(&mut self, value: &str, placeholder: &str) {
        if value.len() < MIN_SCRUBBED || self.pairs.iter().any(|(v, _)| v == value) {
            return;
        }
        self.pairs
            .push((value.to_string(), placeholder.to_string()));
        self.pairs
            .sort_by_key(|(value, _)| std::cmp::Reverse(value.len()));
    }

    /// Whether there is nothing to scrub.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// `text` with every value replaced by its placeholder.
    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (value, placeholder) in &self.pairs {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), placeholder);
            }
        }
        out
    }

    /// Whether any value occurs in `bytes`.
    pub fn found_in(&self, bytes: &[u8]) -> bool {
        self.pairs
            .iter()
            .any(|(value, _)| memchr::memmem::find(bytes, value.as_bytes()).is_some())
    }

    /// `bytes` with every value replaced by its placeholder (no copy when
    /// none occurs).
    pub fn bytes(&self, bytes: Vec<u8>) -> Vec<u8> {
        let mut out = bytes;
        for (value, placeholder) in &self.pairs {
            let finder = memchr::memmem::Finder::new(value.as_bytes());
            if finder.find(&out).is_none() {
                continue;
            }
            let mut replaced = Vec::with_capacity(out.len());
            let mut rest = out.as_slice();
            while let Some(i) = finder.find(rest) {
                replaced.extend_from_slice(&rest[..i]);
                replaced.extend_from_slice(placeholder.as_bytes());
                rest = &rest[i + value.len()..];
            }
            replaced.extend_from_slice(rest);
            out = replaced;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_known_and_refuses_unknown() {
        let mut s = Secrets::new();
        s.insert("token".into(), Secret::new("shpat_123"));
        assert_eq!(
            substitute("Bearer {{secret:token}}", &s).unwrap(),
            "Bearer shpat_123"
        );
        assert!(
            substitute("{{secret:other}}", &s)
                .unwrap_err()
                .contains("other")
        );
        assert_eq!(format!("{:?}", s.get("token").unwrap()), "Secret(***)");
        // EasyPost: the key as user, no password.
        assert_eq!(
            substitute("Basic {{basic:token:}}", &s).unwrap(),
            "Basic c2hwYXRfMTIzOg=="
        );
        assert!(substitute("{{basic:token}}", &s).is_err());
    }

    #[test]
    fn echoes_of_what_was_sent_are_scrubbed() {
        let mut s = Secrets::new();
        s.insert("token".into(), Secret::new("shpat_123"));
        s.insert("secret".into(), Secret::new("pw-456"));
        let mut used = Scrubber::default();
        let sent = substitute_noting(
            "Basic {{basic:token:secret}} and {{secret:token}}",
            &s,
            &Secrets::new(),
            &mut used,
        )
        .unwrap();
        let echoed = format!("you sent: {sent}");
        let clean = used.text(&echoed);
        assert!(
            !clean.contains("shpat_123") && !clean.contains("pw-456"),
            "{clean}"
        );
        assert_eq!(
            clean,
            "you sent: Basic {{basic:token:secret}} and {{secret:token}}"
        );
        assert_eq!(
            used.bytes(format!("[{sent}]").into_bytes()),
            b"[Basic {{basic:token:secret}} and {{secret:token}}]".to_vec()
        );
        let all = Scrubber::for_secrets(&s);
        assert_eq!(all.text("key=pw-456;"), "key={{secret:secret}};");
        let mut tokens = Secrets::new();
        tokens.insert("lwa".into(), Secret::new("Atza|token-1"));
        let mut used = Scrubber::default();
        let sent = substitute_noting("Bearer {{oauth:lwa}}", &s, &tokens, &mut used).unwrap();
        assert_eq!(sent, "Bearer Atza|token-1");
        assert_eq!(used.text("echo Atza|token-1"), "echo {{oauth:lwa}}");
        assert!(substitute_noting("{{oauth:nope}}", &s, &tokens, &mut used).is_err());
        let mut names = Vec::new();
        oauth_names(
            "{{oauth:a}} {{secret:x}} {{oauth:b}} {{oauth:a}}",
            &mut names,
        );
        assert_eq!(names, ["a", "b"]);
        let mut short = Scrubber::default();
        short.note("ab", "{{secret:x}}");
        assert!(short.is_empty());
    }

    #[test]
    fn a_placeholder_in_a_url_is_refused_plain_or_encoded() {
        for url in [
            "https://api.example.com/orders?access_token={{secret:api_token}}",
            "https://api.example.com/orders?access_token=%7B%7Bsecret%3Aapi_token%7D%7D",
            "https://api.example.com/{{oauth:main}}/orders",
        ] {
            let parsed = reqwest::Url::parse(url).unwrap();
            let why = refuse_in_url(&parsed).unwrap_err();
            assert!(
                why.contains("header value") && why.contains("body"),
                "{why}"
            );
        }
        let fine = reqwest::Url::parse("https://api.example.com/orders?page=2&q=%7Bx%7D").unwrap();
        assert!(refuse_in_url(&fine).is_ok());
    }
}

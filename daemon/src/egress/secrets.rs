//! Secrets by reference: a plugin writes `{{secret:NAME}}`, the host fills
//! in the value as the request leaves (after the host check passed), so a
//! key never enters guest memory or a log line.
//!
//! `{{basic:USER:PASSWORD}}` names two secrets (either may be empty) and
//! becomes `base64(user:password)`, the credentials of HTTP Basic auth,
//! which a plugin could not encode without seeing them.

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

const OPENS: [&str; 2] = ["{{secret:", "{{basic:"];
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
    use base64::Engine as _;
    if !OPENS.iter().any(|o| text.contains(o)) {
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
            out.push_str(lookup(secrets, inner)?);
        } else {
            let (user, password) = inner
                .split_once(':')
                .ok_or("`{{basic:USER:PASSWORD}}` needs two secret names (either may be empty)")?;
            let pair = format!("{}:{}", lookup(secrets, user)?, lookup(secrets, password)?);
            out.push_str(&base64::engine::general_purpose::STANDARD.encode(pair));
        }
        rest = &after[end + CLOSE.len()..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Same for a body, which may not be text.
pub fn substitute_bytes(body: Vec<u8>, secrets: &Secrets) -> Result<Vec<u8>, String> {
    if !OPENS
        .iter()
        .any(|o| body.windows(o.len()).any(|w| w == o.as_bytes()))
    {
        return Ok(body);
    }
    let text =
        String::from_utf8(body).map_err(|_| "a body with a secret placeholder must be UTF-8")?;
    substitute(&text, secrets).map(String::into_bytes)
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
}

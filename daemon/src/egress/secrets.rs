//! Secrets by reference: a plugin writes `{{secret:NAME}}`, the host fills
//! in the value as the request leaves (after the host check passed), so a
//! key never enters guest memory or a log line.

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

const OPEN: &str = "{{secret:";
const CLOSE: &str = "}}";

/// Replace every placeholder in `text`; an unknown name is an error.
pub fn substitute(text: &str, secrets: &Secrets) -> Result<String, String> {
    if !text.contains(OPEN) {
        return Ok(text.to_string());
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        out.push_str(&rest[..start]);
        let after = &rest[start + OPEN.len()..];
        let end = after
            .find(CLOSE)
            .ok_or("unterminated `{{secret:` placeholder")?;
        let name = &after[..end];
        let secret = secrets
            .get(name)
            .ok_or_else(|| format!("no secret named `{name}` is configured for this channel"))?;
        out.push_str(secret.expose());
        rest = &after[end + CLOSE.len()..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Same for a body, which may not be text.
pub fn substitute_bytes(body: Vec<u8>, secrets: &Secrets) -> Result<Vec<u8>, String> {
    if !body.windows(OPEN.len()).any(|w| w == OPEN.as_bytes()) {
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
    }
}

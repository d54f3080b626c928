//! Which hosts a channel's plugin may reach: parsing the policy, kept apart
//! from enforcing it (`egress::http`).
//!
//! Two locks must both open: the host is declared by the plugin's manifest
//! **and** allowed by the channel's config (`allowed_hosts` narrows the
//! plugin's list; it can never widen it). Widening takes an explicit
//! `extra_hosts`, so a reader of `config.toml` sees every host a plugin can
//! reach beyond what its author declared.

use std::fmt;
use std::net::IpAddr;

/// `api.example.com` (exact) or `*.example.com` (any subdomain, not the apex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    Exact(String),
    Suffix(String),
}

impl HostPattern {
    /// Parse a pattern; errors say what to write instead.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim().to_ascii_lowercase();
        if t.contains("://") || t.contains('/') {
            return Err(format!(
                "`{text}` must be a host name such as `api.example.com`, without scheme or path"
            ));
        }
        if let Some(rest) = t.strip_prefix("*.") {
            if rest.is_empty() || rest.contains('*') {
                return Err(format!(
                    "`{text}`: a wildcard must be followed by a domain, e.g. `*.myshopify.com`"
                ));
            }
            return Ok(HostPattern::Suffix(rest.to_string()));
        }
        if t.is_empty() || t.contains('*') {
            return Err(format!(
                "`{text}`: only one leading `*.` wildcard is allowed"
            ));
        }
        Ok(HostPattern::Exact(t))
    }

    /// Whether `host` (lower case) matches.
    pub fn matches(&self, host: &str) -> bool {
        match self {
            HostPattern::Exact(h) => h == host,
            HostPattern::Suffix(s) => {
                host.len() > s.len() + 1
                    && host.ends_with(s.as_str())
                    && host.as_bytes()[host.len() - s.len() - 1] == b'.'
            }
        }
    }

    /// Whether every host this pattern matches is also matched by `other`.
    pub fn within(&self, other: &HostPattern) -> bool {
        match (self, other) {
            (HostPattern::Exact(h), o) => o.matches(h),
            (HostPattern::Suffix(s), HostPattern::Suffix(o)) => {
                s == o || HostPattern::Suffix(o.clone()).matches(s)
            }
            (HostPattern::Suffix(_), HostPattern::Exact(_)) => false,
        }
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostPattern::Exact(h) => f.write_str(h),
            HostPattern::Suffix(s) => write!(f, "*.{s}"),
        }
    }
}

/// A channel's complete outbound policy.
#[derive(Debug, Clone)]
pub struct HostPolicy {
    /// What the plugin's manifest declares.
    pub declared: Vec<HostPattern>,
    /// What config narrows that to (`None`: the declared list as is).
    pub narrowed: Option<Vec<HostPattern>>,
    /// Hosts config adds beyond the declared list (`extra_hosts`).
    pub extra: Vec<HostPattern>,
    /// Plain HTTP and loopback addresses allowed (sandbox, tests).
    pub allow_loopback: bool,
    /// Private-range addresses (10/8, 192.168/16…) allowed.
    pub allow_private: bool,
    /// Redirects followed (each hop re-checked) instead of returned.
    pub follow_redirects: bool,
    /// `{{secret:…}}` placeholders in the query are filled (HTTPS, or
    /// loopback where that is allowed) instead of refused.
    pub secrets_in_query: bool,
    /// Where this channel is configured, for error messages (`config.toml:14`).
    pub config_location: String,
}

/// Why a request may not leave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied(pub String);

impl HostPolicy {
    /// Check a URL's scheme and host before anything is sent.
    pub fn check_url(&self, url: &reqwest::Url) -> Result<(), Denied> {
        let host = url
            .host_str()
            .unwrap_or_default()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let ip: Option<IpAddr> = host.parse().ok();
        let loopback = host == "localhost" || ip.is_some_and(|ip| ip.is_loopback());
        match url.scheme() {
            "https" => {}
            "http" if loopback && self.allow_loopback => {}
            "http" => {
                return Err(Denied(format!(
                    "plain http to `{host}` refused: only https is allowed{}",
                    if loopback {
                        format!(
                            "; for a local sandbox set `allow_loopback = true` on the channel ({})",
                            self.config_location
                        )
                    } else {
                        String::new()
                    }
                )));
            }
            other => {
                return Err(Denied(format!(
                    "scheme `{other}` refused: only https is allowed"
                )));
            }
        }
        if let Some(ip) = ip {
            check_ip(
                ip,
                self.allow_loopback,
                self.allow_private,
                &self.config_location,
            )
            .map_err(Denied)?;
        }
        if self.extra.iter().any(|p| p.matches(&host)) {
            return Ok(());
        }
        let declared = self.declared.iter().any(|p| p.matches(&host));
        if !declared {
            return Err(Denied(format!(
                "host `{host}` is not declared by the plugin; to allow it add `extra_hosts = [\"{host}\"]` to the channel ({})",
                self.config_location
            )));
        }
        if let Some(narrowed) = &self.narrowed
            && !narrowed.iter().any(|p| p.matches(&host))
        {
            return Err(Denied(format!(
                "host `{host}` is not in the channel's `allowed_hosts`; add \"{host}\" to it ({})",
                self.config_location
            )));
        }
        Ok(())
    }
}

/// Refuse loopback and private addresses unless the channel allows them.
pub fn check_ip(
    ip: IpAddr,
    allow_loopback: bool,
    allow_private: bool,
    location: &str,
) -> Result<(), String> {
    if reaches_this_machine(ip) {
        return if allow_loopback {
            Ok(())
        } else {
            Err(format!(
                "address {ip} is loopback (or reaches this machine like it); set `allow_loopback = true` on the channel ({location}) to allow it"
            ))
        };
    }
    if is_private(ip) && !allow_private {
        return Err(format!(
            "address {ip} is in a private range; set `allow_private_networks = true` on the channel ({location}) to allow it"
        ));
    }
    Ok(())
}

/// Loopback, and what the kernel routes to it: the unspecified addresses
/// (`0.0.0.0`, `[::]`), all of `0.0.0.0/8`, and their IPv4-mapped IPv6
/// forms (`[::ffff:127.0.0.1]`). `allow_private_networks` never opens these.
pub fn reaches_this_machine(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.octets()[0] == 0,
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| reaches_this_machine(IpAddr::V4(v4)))
        }
    }
}

/// RFC 1918, link-local, CGNAT, unique-local, unspecified and similar.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 198 && (o[1] == 18 || o[1] == 19))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            v6.is_unspecified()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| is_private(IpAddr::V4(v4)) || v4.is_loopback())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(declared: &[&str], narrowed: Option<&[&str]>, extra: &[&str]) -> HostPolicy {
        let p = |list: &[&str]| {
            list.iter()
                .map(|h| HostPattern::parse(h).unwrap())
                .collect::<Vec<_>>()
        };
        HostPolicy {
            declared: p(declared),
            narrowed: narrowed.map(p),
            extra: p(extra),
            allow_loopback: false,
            allow_private: false,
            follow_redirects: false,
            secrets_in_query: false,
            config_location: "config.toml:9".into(),
        }
    }

    fn url(u: &str) -> reqwest::Url {
        reqwest::Url::parse(u).unwrap()
    }

    #[test]
    fn both_locks_must_open() {
        let p = policy(&["*.myshopify.com"], Some(&["demo.myshopify.com"]), &[]);
        assert!(
            p.check_url(&url("https://demo.myshopify.com/admin"))
                .is_ok()
        );
        let err = p
            .check_url(&url("https://other.myshopify.com/"))
            .unwrap_err();
        assert!(err.0.contains("allowed_hosts"), "{}", err.0);
        let err = p.check_url(&url("https://evil.example/")).unwrap_err();
        assert!(
            err.0.contains("extra_hosts = [\"evil.example\"]") && err.0.contains("config.toml:9"),
            "{}",
            err.0
        );
    }

    #[test]
    fn wildcard_does_not_match_apex_or_lookalikes() {
        let p = HostPattern::parse("*.myshopify.com").unwrap();
        assert!(p.matches("a.myshopify.com"));
        assert!(!p.matches("myshopify.com"));
        assert!(!p.matches("evilmyshopify.com"));
        assert!(HostPattern::parse("https://x.com").is_err());
    }

    #[test]
    fn private_networks_never_include_this_machine() {
        for ip in [
            "127.0.0.1",
            "127.9.9.9",
            "0.0.0.0",
            "0.1.2.3",
            "::1",
            "::",
            "::ffff:127.0.0.1",
            "::ffff:0.0.0.0",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            let err = check_ip(ip, false, true, "config.toml:3").unwrap_err();
            assert!(err.contains("allow_loopback"), "{ip}: {err}");
            assert!(check_ip(ip, true, false, "x").is_ok(), "{ip}");
        }
        assert!(check_ip("10.0.0.1".parse().unwrap(), false, true, "x").is_ok());
    }

    #[test]
    fn http_and_loopback_need_permission() {
        let mut p = policy(&[], None, &["127.0.0.1"]);
        assert!(p.check_url(&url("http://127.0.0.1:8080/")).is_err());
        assert!(p.check_url(&url("https://127.0.0.1:8080/")).is_err());
        p.allow_loopback = true;
        assert!(p.check_url(&url("http://127.0.0.1:8080/")).is_ok());
        assert!(p.check_url(&url("http://10.0.0.1/")).is_err());
        let q = policy(&[], None, &["10.1.2.3"]);
        assert!(
            q.check_url(&url("https://10.1.2.3/"))
                .unwrap_err()
                .0
                .contains("private")
        );
    }
}

//! Why a plugin call failed, with who was calling, in terms the caller can
//! act on (retry, defer, stop and tell the user what to fix).

use super::state::CallSite;
use std::fmt;
use std::time::Duration;

/// A failure the plugin reported through the contract's `plugin-error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginFailure {
    Auth(String),
    RateLimited {
        retry_after_ms: Option<u64>,
        detail: String,
    },
    Transient(String),
    InvalidResponse(String),
    /// The API refused the request as invalid; the provider's message.
    Rejected(String),
    InvalidSettings {
        key: String,
        problem: String,
    },
    NotFound(String),
    Unsupported(String),
}

impl fmt::Display for PluginFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PluginFailure::Auth(s) => write!(f, "credentials refused: {s}"),
            PluginFailure::RateLimited {
                retry_after_ms,
                detail,
            } => match retry_after_ms {
                Some(ms) => write!(f, "rate limited (retry after {ms} ms): {detail}"),
                None => write!(f, "rate limited: {detail}"),
            },
            PluginFailure::Transient(s) => write!(f, "temporary failure: {s}"),
            PluginFailure::InvalidResponse(s) => write!(f, "invalid response from the API: {s}"),
            PluginFailure::Rejected(s) => write!(f, "the API refused the request: {s}"),
            PluginFailure::InvalidSettings { key, problem } => {
                write!(f, "setting `{key}` {problem}")
            }
            PluginFailure::NotFound(s) => write!(f, "not found: {s}"),
            PluginFailure::Unsupported(s) => write!(f, "unsupported: {s}"),
        }
    }
}

/// What went wrong in one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallErrorKind {
    /// The plugin returned an error.
    Plugin(PluginFailure),
    /// The plugin used up its CPU time.
    Deadline(Duration),
    /// The plugin tried to grow memory past its cap (bytes).
    Memory(usize),
    /// The plugin panicked (message from the SDK's panic hook).
    Panic(String),
    /// Any other trap.
    Trap(String),
    /// The plugin returned data that is not valid (bad currency, time…).
    InvalidOutput(String),
    /// The plugin cannot be called this way (wrong kind, instantiation failed).
    Host(String),
    /// The call ran into one of the limits a plugin lives under.
    Limit {
        /// What was exceeded, e.g. "its wall-clock deadline of 120 s".
        limit: String,
        /// The config key that sets it.
        key: &'static str,
    },
}

/// A failed call, naming seller, channel and plugin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct CallError {
    pub site: CallSite,
    pub kind: CallErrorKind,
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.site)?;
        match &self.kind {
            CallErrorKind::Plugin(p) => write!(f, "{p}"),
            CallErrorKind::Deadline(d) => write!(
                f,
                "plugin exceeded its CPU deadline of {} ms and was stopped",
                d.as_millis()
            ),
            CallErrorKind::Memory(bytes) => write!(
                f,
                "plugin exceeded its memory cap of {} MiB and was stopped",
                bytes >> 20
            ),
            CallErrorKind::Panic(msg) => write!(f, "plugin panicked: {msg}"),
            CallErrorKind::Trap(msg) => write!(f, "plugin crashed: {msg}"),
            CallErrorKind::InvalidOutput(msg) => write!(f, "plugin returned invalid data: {msg}"),
            CallErrorKind::Host(msg) => write!(f, "{msg}"),
            CallErrorKind::Limit { limit, key } => write!(
                f,
                "plugin exceeded {limit} and was stopped (`{key}` under [daemon.plugins])"
            ),
        }
    }
}

/// What the caller should do about a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remedy {
    /// Try again after backoff.
    Retry,
    /// Try again, not before this long.
    Defer(Duration),
    /// Retrying cannot help until the user changes something: this.
    Fix(String),
}

impl CallError {
    /// The call ran into one of the limits a plugin lives under (CPU,
    /// memory, wall time, requests, pages…).
    pub fn is_limit(&self) -> bool {
        matches!(
            self.kind,
            CallErrorKind::Deadline(_) | CallErrorKind::Memory(_) | CallErrorKind::Limit { .. }
        )
    }

    /// The same error with `f` applied to every text it carries (to take
    /// secrets out before it is logged or stored).
    pub fn map_text(self, f: impl Fn(&str) -> String) -> CallError {
        use CallErrorKind as K;
        use PluginFailure as P;
        let kind = match self.kind {
            K::Plugin(p) => K::Plugin(match p {
                P::Auth(s) => P::Auth(f(&s)),
                P::RateLimited {
                    retry_after_ms,
                    detail,
                } => P::RateLimited {
                    retry_after_ms,
                    detail: f(&detail),
                },
                P::Transient(s) => P::Transient(f(&s)),
                P::InvalidResponse(s) => P::InvalidResponse(f(&s)),
                P::Rejected(s) => P::Rejected(f(&s)),
                P::InvalidSettings { key, problem } => P::InvalidSettings {
                    key,
                    problem: f(&problem),
                },
                P::NotFound(s) => P::NotFound(f(&s)),
                P::Unsupported(s) => P::Unsupported(f(&s)),
            }),
            K::Panic(s) => K::Panic(f(&s)),
            K::Trap(s) => K::Trap(f(&s)),
            K::InvalidOutput(s) => K::InvalidOutput(f(&s)),
            K::Host(s) => K::Host(f(&s)),
            other => other,
        };
        CallError {
            site: self.site,
            kind,
        }
    }

    /// Classify for the sync engine and workflows.
    pub fn remedy(&self) -> Remedy {
        match &self.kind {
            CallErrorKind::Plugin(PluginFailure::Auth(_)) => Remedy::Fix(
                "the API refused the credentials: check the channel's secret settings".into(),
            ),
            CallErrorKind::Plugin(PluginFailure::InvalidSettings { key, .. }) => {
                Remedy::Fix(format!("fix `{key}` in the channel's config"))
            }
            CallErrorKind::Plugin(PluginFailure::Rejected(message)) => Remedy::Fix(format!(
                "correct what the provider refused, then retry: {message}"
            )),
            CallErrorKind::Plugin(PluginFailure::Unsupported(_)) => {
                Remedy::Fix("this plugin does not support the operation: use another plugin".into())
            }
            CallErrorKind::Plugin(PluginFailure::RateLimited { retry_after_ms, .. }) => {
                Remedy::Defer(Duration::from_millis(retry_after_ms.unwrap_or(30_000)))
            }
            _ => Remedy::Retry,
        }
    }
}

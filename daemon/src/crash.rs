//! Fault points for crash tests: with `TRADELANE_CRASH_AT=<point>` set, the
//! process aborts (no destructors, no flush — like `kill -9`) the first
//! time a workflow reaches that point. Unset in production.

/// Where the workflow can be made to die.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashPoint {
    /// The intent is recorded, nothing asked of the carrier yet.
    AfterIntent,
    /// Rates are recorded.
    AfterQuote,
    /// The chosen rate is recorded; the purchase not yet made.
    AfterRate,
    /// The carrier sold the label; tradelane has not recorded it.
    AfterBuyCall,
    /// The label is recorded; its document not yet stored.
    AfterBought,
    /// The document is stored; tracking not yet pushed.
    AfterStored,
    /// The channel has the tracking; tradelane has not recorded it.
    AfterPushCall,
    /// Settlement: the first payout of a pass is committed, the rest not.
    AfterPayout,
    /// OAuth: a new (possibly rotated) refresh token is saved; the new
    /// access token not yet used.
    AfterTokenSaved,
}

impl CrashPoint {
    /// Every point, with its name.
    pub const ALL: [(&'static str, CrashPoint); 9] = [
        ("after-intent", CrashPoint::AfterIntent),
        ("after-quote", CrashPoint::AfterQuote),
        ("after-rate", CrashPoint::AfterRate),
        ("after-buy-call", CrashPoint::AfterBuyCall),
        ("after-bought", CrashPoint::AfterBought),
        ("after-stored", CrashPoint::AfterStored),
        ("after-push-call", CrashPoint::AfterPushCall),
        ("after-payout", CrashPoint::AfterPayout),
        ("after-token-saved", CrashPoint::AfterTokenSaved),
    ];

    /// The shipping workflow's state boundaries (the first seven).
    pub fn shipping() -> &'static [(&'static str, CrashPoint)] {
        &Self::ALL[..7]
    }

    /// The point named in `TRADELANE_CRASH_AT`, if any.
    pub fn from_env() -> Option<CrashPoint> {
        let name = std::env::var("TRADELANE_CRASH_AT").ok()?;
        let found = Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, p)| *p);
        if found.is_none() {
            tracing::warn!("TRADELANE_CRASH_AT=`{name}` names no crash point; ignored");
        }
        found
    }
}

/// Abort the process if `armed` is `point`.
pub fn maybe_crash(armed: Option<CrashPoint>, point: CrashPoint) {
    if armed == Some(point) {
        eprintln!("tradelane: crash point {point:?} reached (TRADELANE_CRASH_AT); aborting");
        std::process::abort();
    }
}

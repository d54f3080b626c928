//! Graceful shutdown, broadcast: one [`ShutdownTrigger`] held by whoever
//! decides to stop (the signal handler), any number of [`Shutdown`]
//! listeners in the loops and passes that must stop between units of work.

use std::sync::Arc;
use tokio::sync::watch;

/// Fires the shutdown every listener sees.
pub struct ShutdownTrigger(watch::Sender<bool>);

/// Tells a loop or pass whether to stop; cheap to clone.
#[derive(Clone)]
pub struct Shutdown {
    rx: watch::Receiver<bool>,
    /// Keeps the sender of a [`Shutdown::never`] alive.
    _never: Option<Arc<watch::Sender<bool>>>,
}

/// A trigger and its first listener.
pub fn channel() -> (ShutdownTrigger, Shutdown) {
    let (tx, rx) = watch::channel(false);
    (ShutdownTrigger(tx), Shutdown { rx, _never: None })
}

impl ShutdownTrigger {
    /// Ask every listener to stop.
    pub fn fire(&self) {
        let _ = self.0.send(true);
    }
}

impl Shutdown {
    /// A listener that is never asked to stop (one-shot passes, tests).
    pub fn never() -> Self {
        let (tx, rx) = watch::channel(false);
        Shutdown {
            rx,
            _never: Some(Arc::new(tx)),
        }
    }

    /// Whether a stop was asked for.
    pub fn is_requested(&self) -> bool {
        *self.rx.borrow()
    }

    /// Completes once a stop is asked for (or the trigger is gone).
    pub async fn requested(&mut self) {
        let _ = self.rx.wait_for(|s| *s).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_listener_sees_the_trigger() {
        let (trigger, mut a) = channel();
        let b = a.clone();
        assert!(!a.is_requested());
        trigger.fire();
        a.requested().await;
        assert!(b.is_requested());
        assert!(!Shutdown::never().is_requested());
    }
}

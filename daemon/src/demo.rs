//! The built-in sandbox as a component of the daemon: the simulated APIs
//! of `[sandbox]` (crate `tradelane-sandbox`), started by `run` and by the
//! one-shot commands so the default config works offline.
//!
//! Present only with the default-on `sandbox` feature. Without it, config
//! refuses a `[sandbox]` table at its line, so nothing here ever starts.

use crate::config::LoadedConfig;

#[cfg(feature = "sandbox")]
pub use tradelane_sandbox::Sandbox;

/// Stands in for the sandbox in a build without it; never constructed.
#[cfg(not(feature = "sandbox"))]
pub enum Sandbox {}

#[cfg(not(feature = "sandbox"))]
impl Sandbox {
    /// Never called: no value of this type exists.
    pub fn url(&self) -> String {
        match *self {}
    }

    /// Never called: no value of this type exists.
    pub async fn shutdown(self) {
        match self {}
    }
}

/// Start the in-process sandbox if the config asks for one, naming the
/// keys to change when its address is taken.
pub async fn start(config: &LoadedConfig) -> anyhow::Result<Option<Sandbox>> {
    #[cfg(feature = "sandbox")]
    if let Some(s) = config.config.sandbox.as_ref().filter(|s| s.enabled) {
        let listen = s.listen.clone();
        return Sandbox::start(s.clone()).await.map(Some).map_err(|e| {
            anyhow::anyhow!(
                "{e:#}; change `[sandbox] listen` in {} (and every `base_url` that points at {listen}), or stop what uses it",
                config.path.display()
            )
        });
    }
    let _ = config;
    Ok(None)
}

//! A disk cache of precompiled plugins, so a restart doesn't recompile.
//!
//! Layout: `<dir>/<sha256 of the .wasm>-<engine hash>.cwasm`, plus a
//! `.sha256` sidecar holding the digest of the `.cwasm` bytes. The engine
//! hash is wasmtime's `precompile_compatibility_hash` (version, target,
//! settings): a daemon upgrade simply misses the cache.
//!
//! `Component::deserialize_file` trusts its input (it maps machine code),
//! so only artefacts this host wrote are loaded: files are written to a
//! temporary name and renamed into place, and a file whose bytes do not
//! match the sidecar digest the host recorded is ignored and rebuilt.

use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Where compiled plugins are kept.
#[derive(Debug, Clone)]
pub struct CompileCache {
    dir: PathBuf,
    engine_key: String,
}

/// Whether a load compiled or reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    Hit,
    Miss,
    Disabled,
}

impl CompileCache {
    /// A cache in `dir` for `engine`.
    pub fn new(dir: impl Into<PathBuf>, engine: &Engine) -> Self {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        CompileCache {
            dir: dir.into(),
            engine_key: format!("{:016x}", hasher.finish()),
        }
    }

    /// Load `wasm` compiled, from the cache when possible.
    pub fn load(&self, engine: &Engine, wasm: &[u8]) -> anyhow::Result<(Component, CacheOutcome)> {
        let source = hex::encode(Sha256::digest(wasm));
        let path = self.dir.join(format!("{source}-{}.cwasm", self.engine_key));
        let sidecar = path.with_extension("sha256");
        if let Some(component) = self.try_load(engine, &path, &sidecar) {
            return Ok((component, CacheOutcome::Hit));
        }
        let component = Component::new(engine, wasm)?;
        if let Err(e) = self.store(&component, &path, &sidecar) {
            tracing::warn!(dir = %self.dir.display(), "cannot write the plugin compile cache: {e:#}");
        }
        Ok((component, CacheOutcome::Miss))
    }

    fn try_load(&self, engine: &Engine, path: &Path, sidecar: &Path) -> Option<Component> {
        let expected = std::fs::read_to_string(sidecar).ok()?;
        let bytes = std::fs::read(path).ok()?;
        if hex::encode(Sha256::digest(&bytes)) != expected.trim() {
            tracing::warn!(path = %path.display(), "compiled plugin does not match its digest; recompiling");
            return None;
        }
        // SAFETY: the bytes are exactly what `store` wrote with this engine's
        // serializer (digest checked above), under a name carrying this
        // engine's compatibility hash.
        match unsafe { Component::deserialize(engine, &bytes) } {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!(path = %path.display(), "cannot reuse compiled plugin ({e:#}); recompiling");
                None
            }
        }
    }

    fn store(&self, component: &Component, path: &Path, sidecar: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let bytes = component.serialize()?;
        let digest = hex::encode(Sha256::digest(&bytes));
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, &bytes)?;
        std::fs::rename(&tmp, path)?;
        let tmp = sidecar.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, digest)?;
        std::fs::rename(&tmp, sidecar)?;
        Ok(())
    }
}

/// Load without a cache (tests, `tradelane check` without a data dir).
pub fn compile(engine: &Engine, wasm: &[u8]) -> anyhow::Result<(Component, CacheOutcome)> {
    Ok((Component::new(engine, wasm)?, CacheOutcome::Disabled))
}

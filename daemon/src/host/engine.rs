//! The one wasmtime `Engine` of the daemon, and the clock that drives its
//! CPU deadlines.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig};

/// How often the epoch advances: the granularity of plugin CPU deadlines.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The largest memory any plugin may be given (per-channel caps are lower).
pub const MAX_MEMORY_CEILING: usize = 1 << 30;

/// Linear memory kept mapped per pool slot between calls.
pub const KEEP_RESIDENT: usize = 32 << 20;

/// Concurrent plugin calls the instance pool is sized for.
pub const POOL_INSTANCES: u32 = 128;

/// Build the engine: component model, async host calls, epoch interruption,
/// and the pooling allocator (falling back to on-demand allocation where
/// the machine cannot reserve the pool's address space).
pub fn build_engine() -> anyhow::Result<(Engine, bool)> {
    let mut config = base_config();
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(POOL_INSTANCES)
        .total_core_instances(POOL_INSTANCES * 4)
        .total_memories(POOL_INSTANCES)
        .total_tables(POOL_INSTANCES * 4)
        .total_stacks(POOL_INSTANCES)
        .max_memory_size(MAX_MEMORY_CEILING)
        // Keep a page's worth of working memory mapped between calls and
        // zero it with memset, instead of unmapping it and paying a page
        // fault per 4 KiB on the next call (measured below in the bench).
        .linear_memory_keep_resident(KEEP_RESIDENT)
        .table_keep_resident(64 << 10);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    match Engine::new(&config) {
        Ok(engine) => Ok((engine, true)),
        Err(e) => {
            tracing::warn!(
                "pooling allocator unavailable ({e:#}); allocating plugin instances on demand"
            );
            Ok((Engine::new(&base_config())?, false))
        }
    }
}

fn base_config() -> Config {
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .epoch_interruption(true)
        .cranelift_opt_level(OptLevel::Speed)
        // Keep wasmtime's default 4 GiB reservation + guard per memory: it is
        // virtual address space only, and lets compiled code skip explicit
        // bounds checks on every load and store (measured: ~2× on parsing).
        .max_wasm_stack(1 << 20);
    config
}

/// Advances the engine's epoch every [`EPOCH_TICK`] on its own thread until
/// dropped. A store's deadline is counted in these ticks.
pub struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl EpochTicker {
    /// Start ticking `engine`.
    pub fn start(engine: Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("tradelane-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })
            .ok();
        EpochTicker { stop, thread }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

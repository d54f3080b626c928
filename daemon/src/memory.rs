//! Process-wide settings applied once at start: the file mode mask and
//! the allocator's arenas.

/// New files 0600 and directories 0700: the store, labels and plugin
/// cache hold buyers' names and addresses.
pub fn private_files() {
    // SAFETY: umask only sets the process's file mode creation mask.
    unsafe {
        libc::umask(0o077);
    }
}

/// Cap glibc's malloc at two arenas.
///
/// glibc gives threads that allocate concurrently arenas of their own (up
/// to eight per core) and keeps freed pages in each, so a daemon whose
/// tokio and blocking threads each handle multi-megabyte pages holds far
/// more than it uses: syncing 200 channels, 8 at a time, peaked at 229 MiB
/// with the default and 168 MiB with two arenas, at the same throughput
/// (README, benchmark row f). Call it before any thread starts; elsewhere
/// than glibc it does nothing.
pub fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tunable of the allocator; it is called
    // before the runtime starts any other thread.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

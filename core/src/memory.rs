//! Byte accounting of the telemetry the collector holds in buffers.
//!
//! Sampling RSS every `check_interval` reacts late: between two samples a
//! burst can grow the process far past its limit. Stages that hold data
//! for a while (the batch processor's buffer, exporters' sending queues)
//! therefore register its encoded size here while they hold it, and the
//! memory_limiter adds what was registered since its last sample to that
//! sample, so a burst is refused as it arrives.

use std::sync::atomic::{AtomicI64, Ordering};

static HELD: AtomicI64 = AtomicI64::new(0);

/// Bytes currently registered by all holders.
pub fn held_bytes() -> i64 {
    HELD.load(Ordering::Relaxed)
}

/// A registration of held bytes; dropping it releases them.
#[derive(Debug, Default)]
pub struct Held(i64);

impl Held {
    /// Registers `bytes` as held until the returned value is dropped.
    pub fn new(bytes: usize) -> Held {
        let bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
        HELD.fetch_add(bytes, Ordering::Relaxed);
        Held(bytes)
    }

    /// Takes over another registration (when buffers merge).
    pub fn absorb(&mut self, mut other: Held) {
        self.0 += std::mem::take(&mut other.0);
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        HELD.fetch_sub(self.0, Ordering::Relaxed);
    }
}

/// Resident set size of this process, from /proc/self/statm.
pub fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Resident anonymous memory of this process (heap, stacks), from
/// /proc/self/status: what grows with the data held. Unlike RSS it leaves
/// out the executable's and libraries' mapped pages, which the kernel can
/// drop and reread at will and which for a debug build alone exceed 20 MiB.
pub fn anonymous_resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("RssAnon:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// Hands heap pages the allocator holds free back to the operating system.
///
/// glibc keeps what was freed in its arenas for reuse, so after a burst has
/// drained RSS can stay near its peak although little is in use; a limit
/// enforced on RSS would then refuse data for good. The memory_limiter
/// calls this where Go's forces a garbage collection.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    // SAFETY: malloc_trim takes no pointers; it only walks glibc's own free
    // lists under the arenas' locks and is safe to call from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Memory available to the process: the cgroup limit when one is set,
/// else the machine's total memory.
pub fn total_memory_bytes() -> Option<u64> {
    let cgroup = std::fs::read_to_string("/sys/fs/cgroup/memory.max")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok());
    if let Some(limit) = cgroup {
        return Some(limit);
    }
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: u64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_bytes_follow_registrations() {
        // Other tests may hold bytes concurrently; compare deltas only.
        let mut a = Held::new(1000);
        let b = Held::new(500);
        a.absorb(b);
        assert!(held_bytes() >= 1500);
        let before = held_bytes();
        drop(a);
        assert_eq!(before - held_bytes(), 1500);
        assert!(rss_bytes().unwrap() > 0);
        assert!(total_memory_bytes().unwrap() > 0);
    }
}

//! Directory watches with inotify: news of writes, creations, renames and
//! deletions, gathered so that a busy writer costs a few wake-ups a
//! second rather than one per write(2).
//!
//! inotify is used directly rather than through `notify`: notify's thread
//! read each event as it came, so at 10 MB/s of one-line writes it woke
//! 20,000 times a second and took a third of the receiver's CPU. Here a
//! task waits for the first event, sleeps a little (`poll_interval`, at
//! most 50 ms), and then takes what arrived meanwhile in one go; the
//! kernel merges repeated events for the same file while it sleeps. This
//! is Linux-only, as is the receiver: it runs where the pods' logs are.

use futures_util::{FutureExt, StreamExt};
use inotify::{EventMask, Inotify, WatchDescriptor, WatchMask, Watches};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::time::Duration;
use tokio::task::JoinHandle;
use tracing::{debug, warn};

/// How long events are gathered after the first before they are handed
/// on, at most: a quarter of Go's default `poll_interval`, so news still
/// comes sooner than any poll would bring it.
const MAX_GATHER: Duration = Duration::from_millis(50);

/// One raw event: which watch, which entry of the directory, what happened.
#[derive(Debug)]
pub(crate) struct Notice {
    wd: WatchDescriptor,
    name: Option<OsString>,
    mask: EventMask,
}

/// What a batch of notices asks of the tailer.
#[derive(Debug, Default)]
pub(crate) struct News {
    /// Files written to: read them now.
    pub(crate) written: BTreeSet<PathBuf>,
    /// Entries appeared, vanished or moved, or events were lost: walk.
    pub(crate) walk: bool,
}

/// The set of watched directories and the task that forwards their events.
pub(crate) struct DirWatcher {
    watches: Watches,
    dirs: HashMap<WatchDescriptor, PathBuf>,
    by_path: BTreeMap<PathBuf, WatchDescriptor>,
    forwarder: JoinHandle<()>,
}

impl DirWatcher {
    /// Starts forwarding events, in batches gathered over `poll_interval`
    /// (up to [`MAX_GATHER`]), as `wrap(batch)` on `to`.
    pub(crate) fn start<W: Send + 'static>(
        runtime: &tokio::runtime::Handle,
        poll_interval: Duration,
        to: Sender<W>,
        wrap: fn(Vec<Notice>) -> W,
    ) -> std::io::Result<DirWatcher> {
        let _entered = runtime.enter();
        let inotify = Inotify::init()?;
        let watches = inotify.watches();
        let events = inotify.into_event_stream(vec![0u8; 64 * 1024])?;
        let gather = poll_interval.min(MAX_GATHER);
        let forwarder = runtime.spawn(forward(events, gather, to, wrap));
        Ok(DirWatcher {
            watches,
            dirs: HashMap::new(),
            by_path: BTreeMap::new(),
            forwarder,
        })
    }

    /// How many directories are watched.
    pub(crate) fn len(&self) -> usize {
        self.by_path.len()
    }

    /// Whether `dir` is watched.
    pub(crate) fn contains(&self, dir: &Path) -> bool {
        self.by_path.contains_key(dir)
    }

    /// The watched directories.
    pub(crate) fn watched(&self) -> impl Iterator<Item = &PathBuf> {
        self.by_path.keys()
    }

    /// Watches `dir`; when the kernel refuses (the directory is gone, or
    /// the user's watches are used up) polling covers it.
    pub(crate) fn watch(&mut self, dir: &Path) {
        let mask = WatchMask::MODIFY
            | WatchMask::CREATE
            | WatchMask::DELETE
            | WatchMask::MOVED_FROM
            | WatchMask::MOVED_TO
            | WatchMask::ATTRIB
            | WatchMask::DELETE_SELF
            | WatchMask::MOVE_SELF
            | WatchMask::ONLYDIR;
        match self.watches.add(dir, mask) {
            Ok(wd) => {
                self.dirs.insert(wd.clone(), dir.to_path_buf());
                self.by_path.insert(dir.to_path_buf(), wd);
            }
            Err(e) => debug!(dir = %dir.display(), error = %e, "not watched; polling covers it"),
        }
    }

    /// Stops watching `dir`.
    pub(crate) fn unwatch(&mut self, dir: &Path) {
        if let Some(wd) = self.by_path.remove(dir) {
            self.dirs.remove(&wd);
            // Fails only when the directory went away, which ended the
            // watch already.
            let _ = self.watches.remove(wd);
        }
    }

    /// Turns notices into paths to read and whether to walk.
    pub(crate) fn interpret(&self, notices: Vec<Notice>, news: &mut News) {
        for n in notices {
            if n.mask.contains(EventMask::IGNORED) {
                continue;
            }
            if n.mask.contains(EventMask::Q_OVERFLOW) {
                news.walk = true;
                continue;
            }
            if n.mask.contains(EventMask::MODIFY) && !n.mask.contains(EventMask::ISDIR) {
                if let (Some(dir), Some(name)) = (self.dirs.get(&n.wd), n.name) {
                    news.written.insert(dir.join(name));
                }
                continue;
            }
            news.walk = true;
        }
    }
}

impl Drop for DirWatcher {
    fn drop(&mut self) {
        self.forwarder.abort();
    }
}

async fn forward<W>(
    mut events: inotify::EventStream<Vec<u8>>,
    gather: Duration,
    to: Sender<W>,
    wrap: fn(Vec<Notice>) -> W,
) {
    let notice = |e: inotify::Event<OsString>| Notice {
        wd: e.wd,
        name: e.name,
        mask: e.mask,
    };
    while let Some(first) = events.next().await {
        let mut batch = Vec::new();
        let mut next = Some(first);
        let mut gathered = false;
        while let Some(event) = next {
            match event {
                Ok(e) => batch.push(notice(e)),
                Err(e) => {
                    warn!(error = %e, "reading inotify events failed; relying on polling");
                    return;
                }
            }
            if !gathered {
                tokio::time::sleep(gather).await;
                gathered = true;
            }
            next = events.next().now_or_never().flatten();
        }
        if to.send(wrap(batch)).is_err() {
            return;
        }
    }
}

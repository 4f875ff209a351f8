//! The tailer: one thread that finds files, follows them through rotation
//! and reads them.
//!
//! **Identity.** A file is the pair (device, inode), checked against its
//! first `fingerprint_size` bytes. While ferrotel runs, a file that changes
//! name keeps its reader (rename rotation), a file whose size drops below
//! what was read or whose first bytes change was truncated or rewritten and
//! is read again from the start (copytruncate, `> file`, inode reuse), and
//! a file that vanishes is read to its end through the descriptor already
//! open and then let go (deletion, rotation out of the globs). Empty files
//! are told apart by inode, not lumped together by their empty fingerprint.
//! Across restarts, and for the copy that copytruncate leaves, files are
//! matched by their first bytes as Go does, with the inode as a tie-break.
//!
//! **Copies.** A new file whose first bytes equal those of a file being
//! read is probably the copy copytruncate is making; it waits up to five
//! polls for the original to be truncated, then inherits the original's
//! position (so only the lines written between the last read and the
//! truncation are read from it). If the original is not truncated, the new
//! file is read in full: a duplicate is better than a loss.
//!
//! **Discovery.** The globs are walked every `poll_interval`; inotify on
//! the directories the walk read (`watch.rs`, events gathered in batches)
//! makes a new file or new data be read at once rather than at the next
//! poll.
//!
//! **Delivery.** Each request carries a durable acknowledgement token. The
//! checkpoint moves only when the request is delivered or written to a
//! persistent queue, so a SIGKILL re-sends at most what was in flight. When
//! the pipeline refuses, the reader goes back to the start of the refused
//! request and tries again later: the file is the buffer.

use crate::checkpoint::{self, KNOWN_FILES_KEY, Known};
use crate::config::{Compression, Encoding, RetryConfig};
use crate::encode::{RequestWriter, encode_record_attributes, encode_resource};
use crate::entry::{Entry, Map, Origin, Value};
use crate::finder::Finder;
use crate::operator::Chain;
use crate::split::Splitter;
use crate::watch::{DirWatcher, News, Notice};
use ferrotel_core::ack::{AckToken, Acks, Guarantee, Receipt};
use ferrotel_core::config::GoDuration;
use ferrotel_core::consumer::{Batch, ClientInfo, ConsumeError, SharedConsumer};
use ferrotel_core::pdata::{Payload, Signal};
use ferrotel_core::retry::{Backoff, RetrySettings};
use ferrotel_core::storage::StorageClient;
use ferrotel_core::telemetry::{Gauge, ReceiverMetrics};
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tracing::{debug, info, warn};

/// Bytes asked of the kernel per read.
const READ_BLOCK: usize = 1 << 20;
/// A request is handed on once it holds this much.
const REQUEST_BYTES: usize = 1 << 20;
/// Most bytes read from one file before the others get a turn.
const TURN_BYTES: u64 = 16 << 20;
/// Polls a vanished file is kept open after it was read to its end.
const LOST_POLLS: u32 = 3;
/// Polls a probable copy waits for its original to be truncated.
const COPY_WAIT_POLLS: u32 = 5;
/// Forgotten files remembered for matching copies and restarts.
const HISTORY: usize = 1024;
/// Directories watched with inotify at most; polling covers the rest.
const MAX_WATCHED_DIRS: usize = 4096;
/// Shortest gap between two walks started by file-system events.
const MIN_EVENT_WALK_GAP: Duration = Duration::from_millis(20);
/// Shortest gap between two checkpoint writes.
const CHECKPOINT_GAP: Duration = Duration::from_millis(100);

/// What the tailer needs, from the config.
pub(crate) struct Settings {
    pub(crate) finder: Finder,
    pub(crate) splitter: Splitter,
    pub(crate) encoding: Encoding,
    pub(crate) compression: Compression,
    pub(crate) poll_interval: Duration,
    pub(crate) force_flush_period: Duration,
    pub(crate) fingerprint_size: usize,
    pub(crate) max_open_files: usize,
    pub(crate) start_at_beginning: bool,
    pub(crate) delete_after_read: bool,
    pub(crate) exclude_older_than: Option<Duration>,
    pub(crate) include_file_name: bool,
    pub(crate) include_file_path: bool,
    pub(crate) include_file_name_resolved: bool,
    pub(crate) include_file_path_resolved: bool,
    pub(crate) include_file_record_number: bool,
    pub(crate) attributes: Map,
    pub(crate) resource: Map,
    pub(crate) retry: RetryConfig,
    pub(crate) chain: Chain,
}

/// Messages to the tailer thread.
pub(crate) enum Wake {
    /// Something changed in a watched directory.
    Fs(Vec<Notice>),
    /// Stop reading.
    Stop,
}

/// The receiver's self-metrics.
pub(crate) struct Metrics {
    pub(crate) receiver: ReceiverMetrics,
    pub(crate) open_files: Gauge,
    pub(crate) reading_files: Gauge,
}

struct Pending {
    generation: u64,
    /// Everything before this is in the request.
    end: u64,
    records: u64,
    receipt: Option<Receipt>,
}

/// One file being followed.
struct Tracked {
    path: PathBuf,
    dev: u64,
    ino: u64,
    file: Option<File>,
    fingerprint: Vec<u8>,
    /// Bumped on truncation, so acknowledgements of the old content do not
    /// move the new content's checkpoint.
    generation: u64,
    /// The next byte to read.
    offset: u64,
    /// Read but not yet cut into entries: `offset - carry.len()..offset`.
    carry: Vec<u8>,
    records: u64,
    acked: u64,
    acked_records: u64,
    pending: VecDeque<Pending>,
    last_data: Instant,
    last_read: Instant,
    /// Closed (beyond `max_concurrent_files`) and changed since: reopen it
    /// at its next turn. Unchanged closed files are not reopened.
    changed_while_closed: bool,
    size: u64,
    mtime: SystemTime,
    seen: bool,
    lost_polls: u32,
    at_eof: bool,
    gzip: bool,
    /// Encoded once: the attributes every record of this file carries.
    encoded_attributes: Vec<u8>,
    attributes: Map,
}

impl Tracked {
    fn consumed(&self) -> u64 {
        self.offset - self.carry.len() as u64
    }

    fn known(&self) -> Known {
        Known {
            fingerprint: checkpoint::Fingerprint(self.fingerprint.clone()),
            offset: self.acked,
            record_num: self.acked_records,
            file_attributes: self
                .attributes
                .iter()
                .filter_map(|(k, v)| match v {
                    Value::Str(s) => Some((k.clone(), serde_json::Value::String(s.clone()))),
                    _ => None,
                })
                .collect(),
            header_finalized: false,
            file_type: if self.gzip {
                ".gz".into()
            } else {
                String::new()
            },
            device: Some(self.dev),
            inode: Some(self.ino),
        }
    }

    /// Forget what was read after `offset` and read it again.
    fn rewind(&mut self, offset: u64, records: u64) {
        self.offset = offset;
        self.records = records;
        self.carry.clear();
        self.at_eof = false;
    }
}

/// How the tailer waits after the pipeline refused data: reads pause
/// until `until`, then the refused entries are read again.
struct Paused {
    until: Instant,
    backoff: Backoff,
}

/// The tailer's state, owned by its thread.
pub(crate) struct Tailer {
    s: Settings,
    next: SharedConsumer,
    client: Arc<ClientInfo>,
    runtime: tokio::runtime::Handle,
    store: Option<Arc<dyn StorageClient>>,
    files: HashMap<(u64, u64), Tracked>,
    history: VecDeque<Known>,
    /// Probable copies waiting for their original, with polls waited.
    copies: HashMap<(u64, u64), u32>,
    first_walk: bool,
    buf: Vec<u8>,
    metrics: Metrics,
    checkpoint_dirty: bool,
    last_checkpoint: Instant,
    backoff: Option<Paused>,
    watcher: Option<DirWatcher>,
    /// The configured resource, encoded once for the no-operator path.
    encoded_resource: Vec<u8>,
}

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

fn read_first_bytes(file: &File, n: usize) -> std::io::Result<Vec<u8>> {
    let mut out = vec![0; n];
    let mut filled = 0;
    while filled < n {
        match file.read_at(&mut out[filled..], filled as u64)? {
            0 => break,
            k => filled += k,
        }
    }
    out.truncate(filled);
    Ok(out)
}

impl Tailer {
    /// A tailer that resumes from `store`'s checkpoint, if any.
    pub(crate) fn new(
        s: Settings,
        next: SharedConsumer,
        runtime: tokio::runtime::Handle,
        store: Option<Arc<dyn StorageClient>>,
        metrics: Metrics,
        watcher: Option<DirWatcher>,
    ) -> Tailer {
        let mut history = VecDeque::new();
        if let Some(store) = &store {
            match store.get(KNOWN_FILES_KEY) {
                Ok(Some(bytes)) => match checkpoint::decode(&bytes) {
                    Ok(known) => {
                        info!(
                            files = known.len(),
                            "resuming from the stored read positions"
                        );
                        history.extend(known);
                    }
                    Err(e) => {
                        warn!(error = %e, "stored read positions are unreadable; ignoring them")
                    }
                },
                Ok(None) => {}
                Err(e) => warn!(error = %e, "could not load the stored read positions"),
            }
        }
        Tailer {
            encoded_resource: encode_resource(&s.resource),
            s,
            next,
            client: Arc::default(),
            runtime,
            store,
            files: HashMap::new(),
            history,
            copies: HashMap::new(),
            first_walk: true,
            buf: Vec::with_capacity(READ_BLOCK * 2),
            metrics,
            checkpoint_dirty: false,
            last_checkpoint: Instant::now(),
            backoff: None,
            watcher,
        }
    }

    /// Runs until told to stop; `stopped` fires once reading has stopped.
    /// Afterwards it waits a while for the last acknowledgements, so a
    /// graceful shutdown leaves an up-to-date checkpoint.
    pub(crate) fn run(
        mut self,
        wake: Receiver<Wake>,
        stop: Arc<AtomicBool>,
        stopped: tokio::sync::oneshot::Sender<()>,
    ) {
        let mut next_walk = Instant::now();
        let mut last_walk = Instant::now() - self.s.poll_interval;
        let mut urgent: BTreeSet<PathBuf> = BTreeSet::new();
        while !stop.load(Ordering::Acquire) {
            let now = Instant::now();
            let paused = self.backoff.as_ref().is_some_and(|b| now < b.until);
            if now >= next_walk {
                self.walk();
                if !paused {
                    self.read_all();
                    self.flush_operators();
                }
                last_walk = now;
                next_walk = now + self.s.poll_interval;
                urgent.clear();
            } else if !urgent.is_empty() && !paused {
                let keys: Vec<_> = self
                    .files
                    .iter()
                    .filter(|(_, t)| urgent.contains(&t.path))
                    .map(|(k, _)| *k)
                    .collect();
                urgent.clear();
                for key in keys {
                    // inotify saw a write: a closed file is worth reopening.
                    if let Some(t) = self.files.get_mut(&key) {
                        t.changed_while_closed = t.file.is_none();
                    }
                    self.read_file(key);
                }
            }
            self.settle_acks();
            self.save_checkpoint(false);
            // Files left mid-way by their turn limit go on at once.
            let behind = !paused && self.files.values().any(|t| !t.at_eof && t.file.is_some());
            if behind {
                urgent.extend(
                    self.files
                        .values()
                        .filter(|t| !t.at_eof && t.file.is_some())
                        .map(|t| t.path.clone()),
                );
            }
            let timeout = if behind {
                Duration::ZERO
            } else {
                next_walk.saturating_duration_since(Instant::now())
            };
            let first = match wake.recv_timeout(timeout) {
                Ok(w) => Some(w),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => break,
            };
            for w in first.into_iter().chain(wake.try_iter()) {
                match w {
                    Wake::Stop => stop.store(true, Ordering::Release),
                    Wake::Fs(notices) => {
                        if let Some(watcher) = &self.watcher {
                            let mut news = News::default();
                            watcher.interpret(notices, &mut news);
                            urgent.extend(news.written);
                            if news.walk {
                                next_walk = next_walk.min(last_walk + MIN_EVENT_WALK_GAP);
                            }
                        }
                    }
                }
            }
        }
        let _ = stopped.send(());
        self.finish_acks();
    }

    fn walk(&mut self) {
        let found = self.s.finder.find();
        self.watch(&found);
        for t in self.files.values_mut() {
            t.seen = false;
        }
        let mut candidates = Vec::new();
        let now = SystemTime::now();
        for path in found.files {
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            let mtime = meta.modified().unwrap_or(UNIX_EPOCH);
            if let Some(age) = self.s.exclude_older_than
                && now.duration_since(mtime).unwrap_or_default() > age
            {
                continue;
            }
            let key = (meta.dev(), meta.ino());
            match self.files.get_mut(&key) {
                Some(t) => {
                    t.seen = true;
                    t.lost_polls = 0;
                    if t.path != path {
                        debug!(from = %t.path.display(), to = %path.display(), "file renamed");
                        t.path = path;
                    }
                    if t.size != meta.len() || t.mtime != mtime {
                        t.size = meta.len();
                        t.mtime = mtime;
                        t.changed_while_closed = t.file.is_none();
                        check_content(t, self.s.fingerprint_size, &mut self.history);
                    }
                }
                None => candidates.push((path, meta)),
            }
        }
        let mut still_waiting = HashMap::new();
        let mut open = self.files.values().filter(|t| t.file.is_some()).count();
        for (path, meta) in candidates {
            let key = (meta.dev(), meta.ino());
            if let Some(waited) = self.adopt(path, &meta, &mut open) {
                still_waiting.insert(key, waited);
            }
        }
        self.copies = still_waiting;
        self.first_walk = false;
        for t in self.files.values_mut() {
            if !t.seen {
                t.lost_polls += 1;
            }
        }
    }

    /// Starts following a file not followed yet; returns the polls it has
    /// waited when it is a probable copy that must wait more. Beyond
    /// `max_concurrent_files` open files (`open`), the new file is closed
    /// once its fingerprint is read and opened again for its first read, so
    /// thousands of new files never mean thousands of descriptors.
    fn adopt(&mut self, path: PathBuf, meta: &std::fs::Metadata, open: &mut usize) -> Option<u32> {
        let key = (meta.dev(), meta.ino());
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) => {
                debug!(path = %path.display(), error = %e, "cannot open");
                return None;
            }
        };
        let fingerprint = read_first_bytes(&file, self.s.fingerprint_size).unwrap_or_default();
        let resumed = self.take_history(key, &fingerprint);
        if resumed.is_none() && fingerprint.len() == self.s.fingerprint_size {
            let copy_of_live = self
                .files
                .values()
                .any(|t| t.fingerprint == fingerprint && t.seen);
            let waited = self.copies.get(&key).copied().unwrap_or(0);
            if copy_of_live && waited < COPY_WAIT_POLLS {
                return Some(waited + 1);
            }
        }
        let gzip = match self.s.compression {
            Compression::Gzip => true,
            Compression::Auto => path.extension().is_some_and(|e| e == "gz"),
            Compression::None => false,
        };
        let (offset, records) = match &resumed {
            Some(k) => (k.offset, k.record_num),
            None if self.first_walk && !self.s.start_at_beginning => (meta.len(), 0),
            None => (0, 0),
        };
        debug!(path = %path.display(), offset, resumed = resumed.is_some(), "following file");
        let attributes = self.file_attributes(&path);
        let now = Instant::now();
        let keep_open = *open < self.s.max_open_files;
        *open += usize::from(keep_open);
        self.files.insert(
            key,
            Tracked {
                encoded_attributes: encode_record_attributes(&attributes),
                attributes,
                path,
                dev: key.0,
                ino: key.1,
                file: keep_open.then_some(file),
                fingerprint,
                generation: 0,
                offset,
                carry: Vec::new(),
                records,
                acked: offset,
                acked_records: records,
                pending: VecDeque::new(),
                last_data: now,
                last_read: now,
                changed_while_closed: !keep_open,
                size: meta.len(),
                mtime: meta.modified().unwrap_or(UNIX_EPOCH),
                seen: true,
                lost_polls: 0,
                at_eof: false,
                gzip,
            },
        );
        self.checkpoint_dirty = true;
        None
    }

    /// The saved state for a file: first by inode and first bytes, then by
    /// first bytes alone (a copy, or a restart on another file system).
    fn take_history(&mut self, key: (u64, u64), fingerprint: &[u8]) -> Option<Known> {
        let fits = |k: &Known| {
            if k.fingerprint.0.is_empty() {
                return false;
            }
            fingerprint.starts_with(&k.fingerprint.0)
        };
        let by_inode = self.history.iter().position(|k| {
            k.device == Some(key.0)
                && k.inode == Some(key.1)
                && (fits(k) || k.fingerprint.0.is_empty() && fingerprint.is_empty())
        });
        let at = by_inode.or_else(|| self.history.iter().position(fits))?;
        self.history.remove(at)
    }

    fn file_attributes(&self, path: &Path) -> Map {
        let mut attrs = Map::new();
        let resolved = if self.s.include_file_name_resolved || self.s.include_file_path_resolved {
            std::fs::canonicalize(path).ok()
        } else {
            None
        };
        let name_of = |p: &Path| {
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        if self.s.include_file_name {
            attrs.push(("log.file.name".into(), Value::Str(name_of(path))));
        }
        if self.s.include_file_path {
            attrs.push((
                "log.file.path".into(),
                Value::Str(path.to_string_lossy().into_owned()),
            ));
        }
        if let Some(r) = &resolved {
            if self.s.include_file_name_resolved {
                attrs.push(("log.file.name_resolved".into(), Value::Str(name_of(r))));
            }
            if self.s.include_file_path_resolved {
                attrs.push((
                    "log.file.path_resolved".into(),
                    Value::Str(r.to_string_lossy().into_owned()),
                ));
            }
        }
        attrs.extend(self.s.attributes.iter().cloned());
        attrs
    }

    fn watch(&mut self, found: &crate::finder::Found) {
        let Some(watcher) = self.watcher.as_mut() else {
            return;
        };
        let mut wanted: BTreeSet<PathBuf> = found.directories.clone();
        wanted.extend(
            found
                .files
                .iter()
                .filter_map(|f| f.parent().map(Path::to_path_buf)),
        );
        let gone: Vec<PathBuf> = watcher
            .watched()
            .filter(|d| !wanted.contains(*d))
            .cloned()
            .collect();
        for dir in gone {
            watcher.unwatch(&dir);
        }
        for dir in wanted {
            if watcher.len() >= MAX_WATCHED_DIRS {
                break;
            }
            if !watcher.contains(&dir) {
                watcher.watch(&dir);
            }
        }
    }

    fn read_all(&mut self) {
        let keys: Vec<_> = self.files.keys().copied().collect();
        let mut reading = 0;
        for key in keys {
            if self.read_file(key) {
                reading += 1;
            }
        }
        self.metrics.reading_files.set(reading);
        self.release();
    }

    /// Reads what is new in one file; true when there was something.
    fn read_file(&mut self, key: (u64, u64)) -> bool {
        if self
            .backoff
            .as_ref()
            .is_some_and(|b| Instant::now() < b.until)
        {
            return false;
        }
        let Some(mut t) = self.files.remove(&key) else {
            return false;
        };
        // Files beyond `max_concurrent_files` are opened for a read and
        // closed again at its end, unless a partial entry waits for its
        // flush.
        let reopened = t.file.is_none();
        if reopened {
            if !t.changed_while_closed && t.carry.is_empty() {
                self.files.insert(key, t);
                return false;
            }
            t.changed_while_closed = false;
            t.file = reopen(&t);
        }
        // Catch truncation before reading, not only at the next walk: an
        // event-driven read must not read new content from an old offset.
        if let Some(meta) = t.file.as_ref().and_then(|f| f.metadata().ok()) {
            let mtime = meta.modified().unwrap_or(UNIX_EPOCH);
            if meta.len() != t.size || mtime != t.mtime {
                t.size = meta.len();
                t.mtime = mtime;
                check_content(&mut t, self.s.fingerprint_size, &mut self.history);
            }
        }
        let got_data = if t.file.is_none() {
            false
        } else if t.gzip {
            self.read_gzip(&mut t)
        } else {
            self.read_plain(&mut t)
        };
        if got_data {
            t.last_read = Instant::now();
        }
        if reopened && t.at_eof && t.carry.is_empty() {
            t.file = None;
        }
        self.files.insert(key, t);
        got_data
    }

    fn read_plain(&mut self, t: &mut Tracked) -> bool {
        let Some(file) = t.file.take() else {
            return false;
        };
        let mut writer = RequestWriter::default();
        let mut batch_start = (t.consumed(), t.records);
        let mut read_this_turn = 0u64;
        let mut got_data = false;
        let mut refused = false;
        loop {
            // The buffer only grows, so it is zeroed once, not per read.
            let carried = t.carry.len();
            if self.buf.len() < carried + READ_BLOCK {
                self.buf.resize(carried + READ_BLOCK, 0);
            }
            self.buf[..carried].copy_from_slice(&t.carry);
            // The size was just taken with fstat: a file with nothing new
            // costs no read.
            let n = if t.size <= t.offset && read_this_turn == 0 {
                0
            } else {
                match file.read_at(&mut self.buf[carried..carried + READ_BLOCK], t.offset) {
                    Ok(n) => n,
                    Err(e) => {
                        warn!(path = %t.path.display(), error = %e, "read failed");
                        0
                    }
                }
            };
            let filled = carried + n;
            let now = Instant::now();
            if n > 0 {
                t.offset += n as u64;
                t.last_data = now;
                t.at_eof = false;
                got_data = true;
                read_this_turn += n as u64;
            } else {
                t.at_eof = true;
            }
            // A quiet file's partial entry goes out after force_flush_period.
            let flush = n == 0 && now.duration_since(t.last_data) >= self.s.force_flush_period;
            if n == 0 && !flush {
                break;
            }
            let observed = now_nanos();
            let buf = std::mem::take(&mut self.buf);
            writer.reserve(filled + filled / 4 + 1024);
            let used = self.cut(&buf[..filled], flush, t, &mut writer, observed);
            t.carry.clear();
            t.carry.extend_from_slice(&buf[used..filled]);
            self.buf = buf;
            if writer.len() >= REQUEST_BYTES || (flush && writer.items() > 0) {
                let w = std::mem::take(&mut writer);
                if !self.emit(t, w, batch_start) {
                    refused = true;
                    break;
                }
                batch_start = (t.consumed(), t.records);
            }
            if flush || read_this_turn >= TURN_BYTES {
                break;
            }
        }
        if !refused && writer.items() > 0 {
            self.emit(t, writer, batch_start);
        }
        t.file = Some(file);
        if t.at_eof && t.carry.is_empty() && self.s.delete_after_read && t.pending.is_empty() {
            self.delete(t);
        }
        got_data
    }

    /// Reads a gzip file from the last position to its end. Appends to a
    /// gzip file are new members, so each read starts at a member
    /// boundary; a member still being written is read on a later poll.
    fn read_gzip(&mut self, t: &mut Tracked) -> bool {
        let Some(file) = t.file.take() else {
            return false;
        };
        let size = file.metadata().map_or(0, |m| m.len());
        if size <= t.offset {
            t.file = Some(file);
            t.at_eof = true;
            return false;
        }
        let section = SectionReader {
            file: &file,
            pos: t.offset,
            end: size,
        };
        let mut plain = Vec::new();
        let result = flate2::read::MultiGzDecoder::new(section).read_to_end(&mut plain);
        let got = match result {
            Ok(_) => {
                let mut writer = RequestWriter::with_capacity(plain.len() + 64);
                let start = (t.offset, t.records);
                let observed = now_nanos();
                self.cut(&plain, true, t, &mut writer, observed);
                t.offset = size;
                t.at_eof = true;
                t.last_data = Instant::now();
                if writer.items() > 0 {
                    self.emit(t, writer, start);
                }
                true
            }
            Err(e) => {
                debug!(path = %t.path.display(), error = %e, "gzip data not complete yet");
                false
            }
        };
        t.file = Some(file);
        if got && self.s.delete_after_read && t.pending.is_empty() {
            self.delete(t);
        }
        got
    }

    /// Cuts `data` into entries and writes them; returns the bytes used.
    fn cut(
        &mut self,
        data: &[u8],
        flush: bool,
        t: &mut Tracked,
        writer: &mut RequestWriter,
        observed: u64,
    ) -> usize {
        let s = &mut self.s;
        let encoding = s.encoding;
        let with_record_number = s.include_file_record_number;
        let mut records = t.records;
        let mut entries = Vec::new();
        let mut sink = EntrySink::default();
        if s.chain.is_empty() {
            writer.set_resource(&self.encoded_resource);
        }
        // Where `data` begins in the file; gzip data is decompressed, so its
        // entries all count from the member they came from.
        let block_start = if t.gzip {
            t.offset
        } else {
            // `offset` is already past the block just read into `data`.
            t.offset - data.len() as u64
        };
        let file = (t.dev, t.ino);
        let maps_to_file = !t.gzip;
        let used = s.splitter.split(data, flush, |token| {
            records += 1;
            let record_number = with_record_number.then_some(records as i64);
            if s.chain.is_empty() {
                match decode_token(encoding, token, &s.splitter) {
                    Decoded::Borrowed(text) => {
                        writer.push_line(text, true, observed, &t.encoded_attributes, record_number)
                    }
                    Decoded::Owned(text) => writer.push_line(
                        text.as_bytes(),
                        true,
                        observed,
                        &t.encoded_attributes,
                        record_number,
                    ),
                    Decoded::Raw(bytes) => writer.push_line(
                        bytes,
                        false,
                        observed,
                        &t.encoded_attributes,
                        record_number,
                    ),
                }
            } else {
                let body = match decode_token(encoding, token, &s.splitter) {
                    // Valid UTF-8 is the rule; checking it first is much
                    // faster than the lossy conversion's chunking.
                    Decoded::Borrowed(text) => Value::Str(match std::str::from_utf8(text) {
                        Ok(valid) => valid.to_owned(),
                        Err(_) => String::from_utf8_lossy(text).into_owned(),
                    }),
                    Decoded::Owned(text) => Value::Str(text),
                    Decoded::Raw(bytes) => Value::Bytes(bytes.to_vec()),
                };
                // Room for what parsers typically add, so merging their
                // output does not grow the vector step by step.
                let mut attributes = Vec::with_capacity(t.attributes.len() + 8);
                attributes.extend_from_slice(&t.attributes);
                if let Some(n) = record_number {
                    attributes.push((crate::encode::RECORD_NUMBER_KEY.into(), Value::Int(n)));
                }
                let offset = if maps_to_file {
                    block_start + (token.as_ptr().addr() - data.as_ptr().addr()) as u64
                } else {
                    block_start
                };
                let entry = Entry {
                    observed,
                    body,
                    attributes,
                    resource: s.resource.clone(),
                    origin: Some(Origin { file, offset }),
                    ..Entry::default()
                };
                s.chain.process(entry, &mut entries);
                // Written at once: a block's worth of entries held back
                // would cost memory and, with glibc, slow large allocations.
                sink.write(writer, &mut entries);
            }
        });
        t.records = records;
        used
    }

    /// Sends what operators held past their flush period (a partial
    /// container line whose end never came, a recombine batch). Each file
    /// the entries came from waits for the request before its checkpoint
    /// passes them; if it is refused, those files are read again from
    /// their last delivered entry.
    fn flush_operators(&mut self) {
        let mut entries = Vec::new();
        self.s.chain.flush(false, &mut entries);
        if entries.is_empty() {
            return;
        }
        let mut files: Vec<(u64, u64)> = entries
            .iter()
            .filter_map(|e| e.origin)
            .map(|o| o.file)
            .collect();
        files.sort_unstable();
        files.dedup();
        let mut writer = RequestWriter::default();
        EntrySink::default().write(&mut writer, &mut entries);
        let (bytes, items) = writer.finish();
        let mut acks = Acks::none();
        let mut receipts = Vec::new();
        for file in files {
            let (token, receipt) = AckToken::new(Guarantee::Durable);
            acks.absorb(Acks::one(token));
            receipts.push((file, receipt));
        }
        let batch = Batch::from_payload(
            Payload::encoded(Signal::Logs, bytes, items),
            self.client.clone(),
        )
        .with_acks(acks);
        let next = self.next.clone();
        let result = self
            .runtime
            .block_on(async move { next.consume(batch).await });
        match &result {
            Ok(()) => self.metrics.receiver.accepted.add(items as u64),
            Err(e) => {
                self.metrics.receiver.refused.add(items as u64);
                warn!(items, error = %e, "held entries refused; reading their files again");
            }
        }
        for (file, receipt) in receipts {
            let Some(mut t) = self.files.remove(&file) else {
                continue;
            };
            if result.is_ok() {
                let end = self.checkpoint_bound(&t);
                t.pending.push_back(Pending {
                    generation: t.generation,
                    end,
                    records: t.records,
                    receipt: Some(receipt),
                });
            } else {
                let (acked, records) = (t.acked, t.acked_records);
                t.pending.clear();
                t.rewind(acked, records);
            }
            self.files.insert(file, t);
        }
    }

    /// How far a file's checkpoint may go once what was sent of it is
    /// delivered: to what was read, or to the first entry an operator
    /// still holds.
    fn checkpoint_bound(&self, t: &Tracked) -> u64 {
        let read = t.consumed();
        self.s
            .chain
            .held_from((t.dev, t.ino))
            .map_or(read, |held| held.min(read))
    }

    /// Hands a request on; false when it was refused and the reader went
    /// back to `start`.
    fn emit(&mut self, t: &mut Tracked, writer: RequestWriter, start: (u64, u64)) -> bool {
        let (bytes, items) = writer.finish();
        let end = (self.checkpoint_bound(t), t.records);
        if items == 0 {
            t.pending.push_back(Pending {
                generation: t.generation,
                end: end.0,
                records: end.1,
                receipt: None,
            });
            return true;
        }
        let (token, receipt) = AckToken::new(Guarantee::Durable);
        let batch = Batch::from_payload(
            Payload::encoded(Signal::Logs, bytes, items),
            self.client.clone(),
        )
        .with_acks(Acks::one(token));
        let next = self.next.clone();
        let result = self
            .runtime
            .block_on(async move { next.consume(batch).await });
        match result {
            Ok(()) => {
                self.metrics.receiver.accepted.add(items as u64);
                self.backoff = None;
                t.pending.push_back(Pending {
                    generation: t.generation,
                    end: end.0,
                    records: end.1,
                    receipt: Some(receipt),
                });
                true
            }
            Err(e) => {
                self.metrics.receiver.refused.add(items as u64);
                if e.is_permanent() || !self.pause(&e) {
                    warn!(path = %t.path.display(), items, error = %e, "entries dropped");
                    t.pending.push_back(Pending {
                        generation: t.generation,
                        end: end.0,
                        records: end.1,
                        receipt: None,
                    });
                    self.backoff = None;
                    return true;
                }
                debug!(path = %t.path.display(), error = %e, "pipeline refused; will read again");
                t.rewind(start.0, start.1);
                false
            }
        }
    }

    /// Pauses reading after a refusal, for the next wait of the backoff;
    /// false when refusals have lasted longer than `retry_on_failure`
    /// allows (only when it is enabled), so the entries are given up.
    fn pause(&mut self, e: &ConsumeError) -> bool {
        let r = &self.s.retry;
        // Enabled, stanza's `consumerretry`: Go's backoff from
        // `initial_interval`, given up after `max_elapsed_time`. Off (the
        // default), the file is the buffer: waits start at the poll
        // interval and refused entries are read again until taken.
        let settings = RetrySettings {
            enabled: true,
            initial_interval: if r.enabled {
                r.initial_interval
            } else {
                GoDuration(self.s.poll_interval)
            },
            max_interval: r.max_interval,
            max_elapsed_time: if r.enabled {
                r.max_elapsed_time
            } else {
                GoDuration::default()
            },
            ..RetrySettings::default()
        };
        let hinted = match e {
            ConsumeError::Retryable { retry_after, .. } => *retry_after,
            _ => None,
        };
        let now = Instant::now();
        let paused = self.backoff.get_or_insert_with(|| Paused {
            until: now,
            backoff: Backoff::new(&settings),
        });
        match paused.backoff.next(hinted) {
            Some(wait) => {
                paused.until = now + wait;
                true
            }
            None => false,
        }
    }

    fn delete(&mut self, t: &mut Tracked) {
        t.file = None;
        match std::fs::remove_file(&t.path) {
            Ok(()) => debug!(path = %t.path.display(), "deleted after reading"),
            Err(e) => warn!(path = %t.path.display(), error = %e, "could not delete"),
        }
    }

    /// Moves checkpoints forward for acknowledged requests.
    fn settle_acks(&mut self) {
        for t in self.files.values_mut() {
            while let Some(p) = t.pending.front_mut() {
                let outcome = match p.receipt.as_mut() {
                    None => Ok(()),
                    Some(r) => match r.try_outcome() {
                        None => break,
                        Some(o) => o,
                    },
                };
                let p = t.pending.pop_front().expect("front exists");
                if p.generation != t.generation {
                    continue;
                }
                match outcome {
                    Err(e) if !e.is_permanent() => {
                        warn!(path = %t.path.display(), error = %e, "delivery failed; reading again from the last delivered entry");
                        let (acked, records) = (t.acked, t.acked_records);
                        t.pending.clear();
                        t.rewind(acked, records);
                        break;
                    }
                    _ => {
                        t.acked = p.end;
                        t.acked_records = p.records;
                        self.checkpoint_dirty = true;
                    }
                }
            }
        }
    }

    /// Closes what need not stay open: vanished files read to their end,
    /// and the least recently read files beyond `max_concurrent_files`.
    fn release(&mut self) {
        let mut forget = Vec::new();
        for (key, t) in &mut self.files {
            if t.seen || t.lost_polls < LOST_POLLS || !t.at_eof {
                continue;
            }
            if t.file.take().is_some() {
                debug!(path = %t.path.display(), "released vanished file");
            }
            if t.pending.is_empty() {
                forget.push(*key);
            }
        }
        for key in forget {
            if let Some(t) = self.files.remove(&key) {
                self.history.push_back(t.known());
                if self.history.len() > HISTORY {
                    self.history.pop_front();
                }
                self.checkpoint_dirty = true;
            }
        }
        let mut open: Vec<_> = self
            .files
            .iter()
            .filter(|(_, t)| t.file.is_some())
            .map(|(k, t)| (t.last_read, *k))
            .collect();
        if open.len() > self.s.max_open_files {
            open.sort();
            let excess = open.len() - self.s.max_open_files;
            for (_, key) in open.into_iter().take(excess) {
                if let Some(t) = self.files.get_mut(&key)
                    && t.at_eof
                    && t.seen
                {
                    t.file = None;
                }
            }
        }
        let open = self.files.values().filter(|t| t.file.is_some()).count();
        self.metrics.open_files.set(open as i64);
    }

    fn save_checkpoint(&mut self, force: bool) {
        let Some(store) = &self.store else {
            return;
        };
        if !self.checkpoint_dirty || (!force && self.last_checkpoint.elapsed() < CHECKPOINT_GAP) {
            return;
        }
        let mut known: Vec<Known> = self.history.iter().cloned().collect();
        known.extend(self.files.values().map(Tracked::known));
        match store.set(KNOWN_FILES_KEY, checkpoint::encode(&known)) {
            Ok(()) => self.checkpoint_dirty = false,
            Err(e) => warn!(error = %e, "could not save read positions"),
        }
        self.last_checkpoint = Instant::now();
    }

    /// After reading stopped: waits (a bounded time) for what is in flight
    /// to be acknowledged, then saves the checkpoint.
    fn finish_acks(mut self) {
        let receipts: Vec<_> = self
            .files
            .values_mut()
            .flat_map(|t| {
                t.pending
                    .iter_mut()
                    .filter_map(|p| p.receipt.take())
                    .collect::<Vec<_>>()
            })
            .collect();
        if !receipts.is_empty() {
            // Put them back resolved, so settle_acks sees the outcomes.
            let outcomes = self.runtime.block_on(async move {
                let all =
                    futures_util::future::join_all(receipts.into_iter().map(Receipt::outcome));
                tokio::time::timeout(Duration::from_secs(10), all)
                    .await
                    .ok()
            });
            if let Some(outcomes) = outcomes {
                let mut outcomes = outcomes.into_iter();
                for t in self.files.values_mut() {
                    let mut failed = false;
                    for p in t.pending.drain(..).collect::<Vec<_>>() {
                        let ok = outcomes
                            .next()
                            .is_some_and(|o| o.is_ok() || o.is_err_and(|e| e.is_permanent()));
                        if failed || !ok || p.generation != t.generation {
                            failed |= !ok;
                            continue;
                        }
                        t.acked = p.end;
                        t.acked_records = p.records;
                        self.checkpoint_dirty = true;
                    }
                }
            }
        } else {
            self.settle_acks();
        }
        self.save_checkpoint(true);
    }
}

/// Encodes entries as they leave the operators, encoding the resource
/// again only when it differs from the previous entry's.
#[derive(Default)]
struct EntrySink {
    resource: Option<Map>,
}

impl EntrySink {
    fn write(&mut self, writer: &mut RequestWriter, entries: &mut Vec<Entry>) {
        for entry in entries.drain(..) {
            if self.resource.as_ref() != Some(&entry.resource) {
                writer.set_resource(&encode_resource(&entry.resource));
                self.resource = Some(entry.resource.clone());
            }
            writer.push_entry(&entry);
        }
    }
}

/// Checks a followed file whose size or mtime changed: truncated or
/// rewritten files start over, short fingerprints grow.
fn check_content(t: &mut Tracked, fingerprint_size: usize, history: &mut VecDeque<Known>) {
    if t.gzip {
        return;
    }
    let Some(file) = t.file.as_ref() else {
        return;
    };
    let first = read_first_bytes(file, fingerprint_size).unwrap_or_default();
    let truncated = t.size < t.consumed();
    let rewritten = !first.starts_with(&t.fingerprint);
    if truncated || rewritten {
        info!(path = %t.path.display(), "file truncated or rewritten; reading it from the start");
        // What was read of the old content, for the copy copytruncate made.
        let mut old = t.known();
        old.offset = t.consumed();
        old.record_num = t.records;
        old.device = None;
        old.inode = None;
        history.push_back(old);
        t.generation += 1;
        t.fingerprint = first;
        t.rewind(0, 0);
        t.acked = 0;
        t.acked_records = 0;
    } else if first.len() > t.fingerprint.len() {
        t.fingerprint = first;
    }
}

fn reopen(t: &Tracked) -> Option<File> {
    let file = File::open(&t.path).ok()?;
    let meta = file.metadata().ok()?;
    (meta.dev() == t.dev && meta.ino() == t.ino).then_some(file)
}

/// A token turned into text (or left as bytes for `nop`).
enum Decoded<'a> {
    Borrowed(&'a [u8]),
    Owned(String),
    Raw(&'a [u8]),
}

fn decode_token<'a>(encoding: Encoding, token: &'a [u8], splitter: &Splitter) -> Decoded<'a> {
    match encoding {
        Encoding::Utf8 => match std::str::from_utf8(token) {
            Ok(_) => Decoded::Borrowed(token),
            Err(_) => Decoded::Owned(String::from_utf8_lossy(token).into_owned()),
        },
        Encoding::Ascii => {
            if token.is_ascii() {
                Decoded::Borrowed(token)
            } else {
                Decoded::Owned(
                    token
                        .iter()
                        .map(|&b| if b.is_ascii() { b as char } else { '\u{FFFD}' })
                        .collect(),
                )
            }
        }
        Encoding::Nop => Decoded::Raw(token),
        Encoding::Utf16Le | Encoding::Utf16Be => {
            let units = token.chunks_exact(2).map(|c| {
                if encoding == Encoding::Utf16Le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            });
            let text: String = char::decode_utf16(units)
                .map(|c| c.unwrap_or('\u{FFFD}'))
                .collect();
            Decoded::Owned(splitter.trim_text(&text).to_owned())
        }
    }
}

/// Reads `pos..end` of a file without moving its cursor.
struct SectionReader<'a> {
    file: &'a File,
    pos: u64,
    end: u64,
}

impl Read for SectionReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = (self.end - self.pos) as usize;
        let want = buf.len().min(left);
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

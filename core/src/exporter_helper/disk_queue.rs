//! The persistent sending queue's files.
//!
//! Records are appended to segment files (`<seq>.seg`, 16 hex digits) in
//! one directory. Each record is framed as
//!
//! ```text
//! magic u32 | body length u32 | CRC-32 of body u32 | body
//! body = signal u8 | items u32 | OTLP export request (protobuf)
//! ```
//!
//! little-endian. The magic lets a reader find the next record after a
//! damaged one; the CRC tells a damaged record from a good one. A record is
//! acknowledged by appending `(segment, offset)` to `acks.log`; a segment
//! is deleted once it has been read to the end and every record handed out
//! from it is acknowledged. After a restart the queue resumes with the first
//! record not acknowledged, so what was in flight is sent again (at least
//! once, never lost). A new segment is started at every open, so a torn
//! write at the end of the last run never has data appended after it.
//!
//! Writes go to the OS on every record (a SIGKILL loses nothing written);
//! flushing to the device happens on every write or on an interval, as the
//! storage extension says.

use super::Sizer;
use bytes::{Bytes, BytesMut};
use std::collections::{BTreeMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tokio::sync::Notify;

use crate::pdata::Signal;
use crate::telemetry::Counter;

const RECORD_MAGIC: u32 = 0x3143_4552; // "REC1"
const FRAME: usize = 12;
const BODY_HEADER: usize = 5;
const ACK_ENTRY: usize = 20;
/// Reads from a segment in pieces of this size (or one record, if larger).
const READ_CHUNK: usize = 1 << 20;
/// A drained head segment at least this big is replaced by a new one.
const RECLAIM_BYTES: u64 = 64 << 10;
/// Rewrite `acks.log` once it is this big and mostly about deleted segments.
const ACK_LOG_COMPACT_BYTES: u64 = 4 << 20;

/// How a disk queue is sized and synced.
#[derive(Clone, Debug)]
pub(crate) struct DiskQueueSettings {
    /// Capacity in `sizer` units; with `bytes`, the bytes on disk.
    pub(crate) capacity: u64,
    pub(crate) sizer: Sizer,
    /// A segment is closed once it reaches this size.
    pub(crate) segment_bytes: u64,
    pub(crate) fsync_every_write: bool,
    /// Counts damaged stretches the reader skips.
    pub(crate) damaged: Counter,
}

/// Why a record was not queued.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PushError {
    #[error("persistent queue is full")]
    Full,
    #[error("persistent queue is closed")]
    Closed,
    #[error("persistent queue cannot write to {dir}: {source}")]
    Io {
        dir: String,
        #[source]
        source: io::Error,
    },
}

/// Where a record sits, to acknowledge it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Position {
    segment: u64,
    offset: u64,
    units: u64,
}

/// A record handed out for sending.
#[derive(Debug)]
pub(crate) struct Record {
    pub(crate) position: Position,
    pub(crate) signal: Signal,
    pub(crate) items: usize,
    pub(crate) request: Bytes,
}

/// What opening found on disk.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Recovered {
    /// Records from earlier runs still to send.
    pub(crate) records: u64,
    /// Damaged spans of bytes that will be skipped.
    pub(crate) damaged: u64,
}

struct Segment {
    path: PathBuf,
    /// Bytes written so far (the file length, for closed segments).
    len: u64,
    closed: bool,
    /// The reader has passed its end.
    read_through: bool,
    handed_out: u64,
    done: u64,
    /// Offsets acknowledged, in this run or (from `acks.log`) earlier ones.
    acked: HashSet<u64>,
}

struct Head {
    segment: u64,
    file: File,
}

struct Cursor {
    segment: u64,
    /// The file offset `chunk` starts at.
    chunk_start: u64,
    chunk: Bytes,
    file: Option<(u64, File)>,
}

struct State {
    segments: BTreeMap<u64, Segment>,
    head: Head,
    cursor: Cursor,
    /// Units of records written and not yet acknowledged.
    pending_units: u64,
    disk_bytes: u64,
    ack_log: File,
    ack_log_len: u64,
    /// Files written since the last sync.
    unsynced: Vec<File>,
    closed: bool,
    scratch: Vec<u8>,
}

/// A persistent FIFO of export requests.
pub(crate) struct DiskQueue {
    dir: PathBuf,
    settings: DiskQueueSettings,
    state: Mutex<State>,
    available: Notify,
    room: Notify,
}

fn segment_path(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("{seq:016x}.seg"))
}

/// A new, empty segment. It has no header, so creating one needs no free
/// data block: a full disk can still start a segment and so reclaim one.
fn create_segment(dir: &Path, seq: u64) -> io::Result<File> {
    OpenOptions::new()
        .create_new(true)
        .append(true)
        .read(true)
        .open(segment_path(dir, seq))
}

/// One step of parsing a segment's bytes.
enum Parsed {
    Record {
        signal: Signal,
        items: usize,
        body: std::ops::Range<usize>,
        next: usize,
    },
    /// Not enough bytes for the record that starts here.
    Short { need: usize },
    /// No valid record starts here.
    Damaged,
}

fn parse_at(buf: &[u8], at: usize) -> Parsed {
    let rest = &buf[at..];
    if rest.len() < FRAME {
        return Parsed::Short { need: FRAME };
    }
    let word = |i: usize| u32::from_le_bytes(rest[i..i + 4].try_into().expect("4 bytes"));
    if word(0) != RECORD_MAGIC {
        return Parsed::Damaged;
    }
    let len = word(4) as usize;
    if len < BODY_HEADER {
        return Parsed::Damaged;
    }
    if rest.len() < FRAME + len {
        return Parsed::Short { need: FRAME + len };
    }
    let body = &rest[FRAME..FRAME + len];
    if crc32fast::hash(body) != word(8) {
        return Parsed::Damaged;
    }
    let Some(&signal) = Signal::ALL.get(body[0] as usize) else {
        return Parsed::Damaged;
    };
    let items = u32::from_le_bytes(body[1..5].try_into().expect("4 bytes")) as usize;
    Parsed::Record {
        signal,
        items,
        body: at + FRAME + BODY_HEADER..at + FRAME + len,
        next: at + FRAME + len,
    }
}

/// The offset of the next valid record after damage at `at`, if any.
fn resync(buf: &[u8], at: usize) -> Option<usize> {
    let magic = RECORD_MAGIC.to_le_bytes();
    let mut from = at + 1;
    while from + FRAME <= buf.len() {
        let found = memchr::memmem::find(&buf[from..], &magic)?;
        let candidate = from + found;
        if let Parsed::Record { .. } = parse_at(buf, candidate) {
            return Some(candidate);
        }
        from = candidate + 1;
    }
    None
}

fn units(sizer: Sizer, items: usize, frame_len: usize) -> u64 {
    match sizer {
        Sizer::Requests => 1,
        Sizer::Items => items as u64,
        Sizer::Bytes => frame_len as u64,
    }
}

fn read_ack_log(path: &Path) -> io::Result<BTreeMap<u64, HashSet<u64>>> {
    let mut acked: BTreeMap<u64, HashSet<u64>> = BTreeMap::new();
    let mut bytes = Vec::new();
    match File::open(path) {
        Ok(mut f) => {
            f.read_to_end(&mut bytes)?;
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(acked),
        Err(e) => return Err(e),
    }
    // A torn last entry or a damaged one is an acknowledgement lost: the
    // record is sent again, which at-least-once allows.
    for entry in bytes.chunks_exact(ACK_ENTRY) {
        let crc = u32::from_le_bytes(entry[16..20].try_into().expect("4 bytes"));
        if crc32fast::hash(&entry[..16]) != crc {
            continue;
        }
        let segment = u64::from_le_bytes(entry[0..8].try_into().expect("8 bytes"));
        let offset = u64::from_le_bytes(entry[8..16].try_into().expect("8 bytes"));
        acked.entry(segment).or_default().insert(offset);
    }
    Ok(acked)
}

fn ack_entry(segment: u64, offset: u64) -> [u8; ACK_ENTRY] {
    let mut entry = [0u8; ACK_ENTRY];
    entry[0..8].copy_from_slice(&segment.to_le_bytes());
    entry[8..16].copy_from_slice(&offset.to_le_bytes());
    let crc = crc32fast::hash(&entry[..16]);
    entry[16..20].copy_from_slice(&crc.to_le_bytes());
    entry
}

/// Writes `acks.log` afresh with only the entries of live segments.
fn write_ack_log(dir: &Path, segments: &BTreeMap<u64, Segment>) -> io::Result<(File, u64)> {
    let mut out = Vec::new();
    for (seq, seg) in segments {
        for offset in &seg.acked {
            out.extend_from_slice(&ack_entry(*seq, *offset));
        }
    }
    let f = crate::storage::replace_file(&dir.join("acks.log"), &out)?;
    Ok((f, out.len() as u64))
}

impl DiskQueue {
    /// Opens (or creates) the queue in `dir`, counting what earlier runs
    /// left to send.
    pub(crate) fn open(
        dir: &Path,
        settings: DiskQueueSettings,
    ) -> io::Result<(DiskQueue, Recovered)> {
        std::fs::create_dir_all(dir)?;
        let acked = read_ack_log(&dir.join("acks.log"))?;
        let mut seqs = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let name = entry?.file_name();
            let name = name.to_string_lossy();
            if let Some(hex) = name.strip_suffix(".seg")
                && let Ok(seq) = u64::from_str_radix(hex, 16)
            {
                seqs.push(seq);
            }
        }
        seqs.sort_unstable();
        let mut recovered = Recovered::default();
        let mut segments = BTreeMap::new();
        let mut pending_units = 0;
        let mut disk_bytes = 0;
        for &seq in &seqs {
            let path = segment_path(dir, seq);
            let bytes = std::fs::read(&path)?;
            let acked = acked.get(&seq).cloned().unwrap_or_default();
            let mut left = 0u64;
            let mut at = 0;
            while at < bytes.len() {
                match parse_at(&bytes, at) {
                    Parsed::Record { items, next, .. } => {
                        if !acked.contains(&(at as u64)) {
                            left += 1;
                            pending_units += units(settings.sizer, items, next - at);
                        }
                        at = next;
                    }
                    Parsed::Short { .. } | Parsed::Damaged => {
                        recovered.damaged += 1;
                        match resync(&bytes, at) {
                            Some(next) => at = next,
                            None => break,
                        }
                    }
                }
            }
            if left == 0 {
                std::fs::remove_file(&path)?;
                continue;
            }
            recovered.records += left;
            disk_bytes += bytes.len() as u64;
            segments.insert(
                seq,
                Segment {
                    path,
                    len: bytes.len() as u64,
                    closed: true,
                    read_through: false,
                    handed_out: 0,
                    done: 0,
                    acked,
                },
            );
        }
        let head_seq = seqs.last().map_or(0, |s| s + 1);
        let head_file = create_segment(dir, head_seq)?;
        segments.insert(
            head_seq,
            Segment {
                path: segment_path(dir, head_seq),
                len: 0,
                closed: false,
                read_through: false,
                handed_out: 0,
                done: 0,
                acked: HashSet::new(),
            },
        );
        let (ack_log, ack_log_len) = write_ack_log(dir, &segments)?;
        let first = *segments.keys().next().expect("the head segment");
        let state = State {
            segments,
            head: Head {
                segment: head_seq,
                file: head_file,
            },
            cursor: Cursor {
                segment: first,
                chunk_start: 0,
                chunk: Bytes::new(),
                file: None,
            },
            pending_units,
            disk_bytes,
            ack_log,
            ack_log_len,
            unsynced: Vec::new(),
            closed: false,
            scratch: Vec::new(),
        };
        Ok((
            DiskQueue {
                dir: dir.to_path_buf(),
                settings,
                state: Mutex::new(state),
                available: Notify::new(),
                room: Notify::new(),
            },
            recovered,
        ))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queued units (in the sizer's unit), including records being sent.
    pub(crate) fn size(&self) -> u64 {
        let state = self.lock();
        match self.settings.sizer {
            Sizer::Bytes => state.disk_bytes,
            _ => state.pending_units,
        }
    }

    /// Whether `push` waits for the device (and should not run on an
    /// async worker thread).
    pub(crate) fn fsync_every_write(&self) -> bool {
        self.settings.fsync_every_write
    }

    /// Resolves after the next acknowledgement, which may make room.
    pub(crate) fn room(&self) -> tokio::sync::futures::Notified<'_> {
        self.room.notified()
    }

    /// Appends a record. When it returns, a SIGKILL cannot lose the record;
    /// with `fsync_every_write`, neither can a power cut.
    pub(crate) fn push(
        &self,
        signal: Signal,
        items: usize,
        request: &[u8],
    ) -> Result<(), PushError> {
        let body_len = BODY_HEADER + request.len();
        let frame_len = FRAME + body_len;
        let record_units = units(self.settings.sizer, items, frame_len);
        let to_sync = {
            let mut state = self.lock();
            if state.closed {
                return Err(PushError::Closed);
            }
            let used = match self.settings.sizer {
                Sizer::Bytes => state.disk_bytes,
                _ => state.pending_units,
            };
            // An empty queue takes a record of any size, so one large
            // request cannot be refused forever.
            if used + record_units > self.settings.capacity && state.pending_units > 0 {
                return Err(PushError::Full);
            }
            let io_error = |source| PushError::Io {
                dir: self.dir.display().to_string(),
                source,
            };
            let head_len = state.segments[&state.head.segment].len;
            if head_len > 0 && head_len + frame_len as u64 > self.settings.segment_bytes {
                self.roll(&mut state).map_err(io_error)?;
            }
            let state = &mut *state;
            let scratch = &mut state.scratch;
            scratch.clear();
            scratch.reserve(frame_len);
            scratch.extend_from_slice(&RECORD_MAGIC.to_le_bytes());
            scratch.extend_from_slice(&(body_len as u32).to_le_bytes());
            scratch.extend_from_slice(&[0; 4]);
            scratch.push(signal as u8);
            scratch.extend_from_slice(&(items as u32).to_le_bytes());
            scratch.extend_from_slice(request);
            let crc = crc32fast::hash(&scratch[FRAME..]);
            scratch[8..12].copy_from_slice(&crc.to_le_bytes());
            if let Err(e) = Self::append(state) {
                // A full disk may be full of data already sent: free the
                // head segment if so, and try once more.
                if !self.head_drained(state) {
                    return Err(io_error(e));
                }
                self.reclaim_head(state).map_err(io_error)?;
                Self::append(state).map_err(io_error)?;
            }
            state.pending_units += record_units;
            state.disk_bytes += frame_len as u64;
            if self.settings.fsync_every_write {
                state.head.file.try_clone().ok()
            } else {
                if state.unsynced.is_empty()
                    && let Ok(f) = state.head.file.try_clone()
                {
                    state.unsynced.push(f);
                }
                None
            }
        };
        self.available.notify_one();
        if let Some(file) = to_sync {
            file.sync_data().map_err(|source| PushError::Io {
                dir: self.dir.display().to_string(),
                source,
            })?;
        }
        Ok(())
    }

    /// Writes the record in `scratch` at the end of the head segment.
    fn append(state: &mut State) -> io::Result<()> {
        let head = state
            .segments
            .get_mut(&state.head.segment)
            .expect("the head segment is listed");
        if let Err(e) = state.head.file.write_all(&state.scratch) {
            // Cut off a partial record so the file stays well formed.
            let _ = state.head.file.set_len(head.len);
            return Err(e);
        }
        head.len += state.scratch.len() as u64;
        Ok(())
    }

    /// True when every record written to the head segment has been sent
    /// and acknowledged.
    fn head_drained(&self, state: &State) -> bool {
        let head = &state.segments[&state.head.segment];
        head.len > 0
            && state.cursor.segment == state.head.segment
            && state.cursor.chunk.is_empty()
            && state.cursor.chunk_start == head.len
            && head.done >= head.handed_out
    }

    /// Starts a new head and deletes the drained old one, so a queue that
    /// keeps up with its traffic does not keep a growing file.
    fn reclaim_head(&self, state: &mut State) -> io::Result<()> {
        let old = state.head.segment;
        self.roll(state)?;
        self.finish_reading(state, old);
        Ok(())
    }

    /// Closes the head segment and starts the next one.
    fn roll(&self, state: &mut State) -> io::Result<()> {
        let next = state.head.segment + 1;
        let file = create_segment(&self.dir, next)?;
        let old = std::mem::replace(
            &mut state.head,
            Head {
                segment: next,
                file,
            },
        );
        if let Some(seg) = state.segments.get_mut(&old.segment) {
            seg.closed = true;
        }
        state.segments.insert(
            next,
            Segment {
                path: segment_path(&self.dir, next),
                len: 0,
                closed: false,
                read_through: false,
                handed_out: 0,
                done: 0,
                acked: HashSet::new(),
            },
        );
        if !self.settings.fsync_every_write {
            state.unsynced.push(old.file);
        }
        if let Ok(f) = state.head.file.try_clone() {
            state.unsynced.push(f);
        }
        Ok(())
    }

    /// The next record to send; waits for one. `None` once closed.
    pub(crate) async fn pop(&self) -> Option<Record> {
        loop {
            let notified = self.available.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut state = self.lock();
                if state.closed {
                    return None;
                }
                match self.next_record(&mut state) {
                    Ok(Some(record)) => return Some(record),
                    Ok(None) => {}
                    Err(e) => {
                        tracing::error!(dir = %self.dir.display(), error = %e, "persistent queue cannot read a segment; skipping it");
                        self.skip_segment(&mut state);
                        continue;
                    }
                }
            }
            notified.await;
        }
    }

    fn next_record(&self, state: &mut State) -> io::Result<Option<Record>> {
        loop {
            let seq = state.cursor.segment;
            let seg = &state.segments[&seq];
            let (seg_len, closed) = (seg.len, seg.closed);
            let chunk_end = state.cursor.chunk_start + state.cursor.chunk.len() as u64;
            let at = 0usize;
            if !state.cursor.chunk.is_empty() {
                match parse_at(&state.cursor.chunk, at) {
                    Parsed::Record {
                        signal,
                        items,
                        body,
                        next,
                    } => {
                        let offset = state.cursor.chunk_start;
                        let request = state.cursor.chunk.slice(body);
                        state.cursor.chunk = state.cursor.chunk.slice(next..);
                        state.cursor.chunk_start += next as u64;
                        let seg = state.segments.get_mut(&seq).expect("cursor segment");
                        if seg.acked.contains(&offset) {
                            continue;
                        }
                        seg.handed_out += 1;
                        return Ok(Some(Record {
                            position: Position {
                                segment: seq,
                                offset,
                                units: units(self.settings.sizer, items, next),
                            },
                            signal,
                            items,
                            request,
                        }));
                    }
                    Parsed::Short { need } if chunk_end < seg_len => {
                        // The record continues past the chunk: read on.
                        let start = state.cursor.chunk_start;
                        let want = need.max(READ_CHUNK).min((seg_len - start) as usize);
                        state.cursor.chunk = self.read(state, seq, start, want)?;
                        continue;
                    }
                    Parsed::Short { .. } if !closed => {
                        // The head's records are written whole, so a short
                        // chunk here is a read that raced nothing: wait.
                        return Ok(None);
                    }
                    Parsed::Short { .. } | Parsed::Damaged => {
                        self.skip_damage(state, seq, seg_len)?;
                        continue;
                    }
                }
            }
            if chunk_end < seg_len {
                let want = READ_CHUNK.min((seg_len - chunk_end) as usize);
                state.cursor.chunk = self.read(state, seq, chunk_end, want)?;
                state.cursor.chunk_start = chunk_end;
                continue;
            }
            if !closed {
                return Ok(None);
            }
            self.finish_reading(state, seq);
        }
    }

    /// Reads the rest of the segment, finds the next good record and moves
    /// the cursor there (or to the end), counting one damaged stretch.
    fn skip_damage(&self, state: &mut State, seq: u64, seg_len: u64) -> io::Result<()> {
        let start = state.cursor.chunk_start;
        let rest = self.read(state, seq, start, (seg_len - start) as usize)?;
        self.settings.damaged.add(1);
        tracing::warn!(
            dir = %self.dir.display(),
            segment = seq,
            offset = start,
            "persistent queue: damaged or truncated record; skipping to the next good one"
        );
        match resync(&rest, 0) {
            Some(next) => {
                state.cursor.chunk = rest.slice(next..);
                state.cursor.chunk_start = start + next as u64;
            }
            None => {
                state.cursor.chunk = Bytes::new();
                state.cursor.chunk_start = seg_len;
            }
        }
        Ok(())
    }

    fn skip_segment(&self, state: &mut State) {
        let seq = state.cursor.segment;
        self.settings.damaged.add(1);
        if seq == state.head.segment {
            // Cannot happen unless the head file vanished; start afresh.
            if self.roll(state).is_err() {
                state.closed = true;
                return;
            }
        }
        if let Some(seg) = state.segments.get_mut(&seq) {
            seg.closed = true;
        }
        self.finish_reading(state, seq);
    }

    fn read(&self, state: &mut State, seq: u64, offset: u64, len: usize) -> io::Result<Bytes> {
        let cached = matches!(&state.cursor.file, Some((s, _)) if *s == seq);
        if !cached {
            let file = File::open(&state.segments[&seq].path)?;
            state.cursor.file = Some((seq, file));
        }
        let (_, file) = state.cursor.file.as_ref().expect("just opened");
        let mut buf = BytesMut::zeroed(len);
        let mut filled = 0;
        while filled < len {
            let n = file.read_at(&mut buf[filled..], offset + filled as u64)?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        buf.truncate(filled);
        Ok(buf.freeze())
    }

    /// The reader has passed the end of a closed segment.
    fn finish_reading(&self, state: &mut State, seq: u64) {
        if let Some(seg) = state.segments.get_mut(&seq) {
            seg.read_through = true;
        }
        state.cursor.file = None;
        let next = state
            .segments
            .range(seq + 1..)
            .next()
            .map_or(state.head.segment, |(s, _)| *s);
        state.cursor.segment = next;
        state.cursor.chunk_start = 0;
        state.cursor.chunk = Bytes::new();
        self.delete_if_done(state, seq);
    }

    /// Marks a record as sent (or given up on): it will not be sent again.
    pub(crate) fn ack(&self, position: Position) {
        let mut state = self.lock();
        let state = &mut *state;
        state.pending_units = state.pending_units.saturating_sub(position.units);
        let Some(seg) = state.segments.get_mut(&position.segment) else {
            return;
        };
        if !seg.acked.insert(position.offset) {
            return;
        }
        seg.done += 1;
        let entry = ack_entry(position.segment, position.offset);
        match state.ack_log.write_all(&entry) {
            Ok(()) => state.ack_log_len += ACK_ENTRY as u64,
            Err(e) => tracing::warn!(
                dir = %self.dir.display(), error = %e,
                "persistent queue: cannot record an acknowledgement; the record may be sent again after a restart"
            ),
        }
        self.delete_if_done(state, position.segment);
        if state.segments[&state.head.segment].len >= RECLAIM_BYTES
            && self.head_drained(state)
            && let Err(e) = self.reclaim_head(state)
        {
            tracing::warn!(dir = %self.dir.display(), error = %e, "persistent queue: cannot start a new segment");
        }
        self.room.notify_waiters();
    }

    fn delete_if_done(&self, state: &mut State, seq: u64) {
        let Some(seg) = state.segments.get(&seq) else {
            return;
        };
        if !(seg.closed && seg.read_through && seg.done >= seg.handed_out) {
            return;
        }
        let seg = state.segments.remove(&seq).expect("just found");
        if let Err(e) = std::fs::remove_file(&seg.path) {
            tracing::warn!(path = %seg.path.display(), error = %e, "persistent queue: cannot delete a finished segment");
        }
        state.disk_bytes = state.disk_bytes.saturating_sub(seg.len);
        let live: usize = state.segments.values().map(|s| s.acked.len()).sum();
        if state.ack_log_len > ACK_LOG_COMPACT_BYTES
            && (live * ACK_ENTRY) as u64 * 2 < state.ack_log_len
        {
            match write_ack_log(&self.dir, &state.segments) {
                Ok((file, len)) => {
                    state.ack_log = file;
                    state.ack_log_len = len;
                }
                Err(e) => {
                    tracing::warn!(dir = %self.dir.display(), error = %e, "persistent queue: cannot compact acks.log")
                }
            }
        }
    }

    /// Flushes everything written so far to the device.
    pub(crate) fn sync(&self) -> io::Result<()> {
        let (files, acks) = {
            let mut state = self.lock();
            (
                std::mem::take(&mut state.unsynced),
                state.ack_log.try_clone()?,
            )
        };
        for f in files {
            f.sync_data()?;
        }
        // New segment files are durable only once their directory entry is.
        File::open(&self.dir)?.sync_all()?;
        acks.sync_data()
    }

    /// Stops handing out records; `pop` returns `None` from now on.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.available.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(capacity: u64) -> DiskQueueSettings {
        DiskQueueSettings {
            capacity,
            sizer: Sizer::Requests,
            segment_bytes: 64,
            fsync_every_write: false,
            damaged: Counter::default(),
        }
    }

    async fn drain(q: &DiskQueue, ack: bool) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        loop {
            let next = tokio::time::timeout(std::time::Duration::from_millis(50), q.pop()).await;
            let Ok(Some(r)) = next else { break };
            out.push(r.request.to_vec());
            if ack {
                q.ack(r.position);
            }
        }
        out
    }

    fn segments(dir: &Path) -> Vec<PathBuf> {
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "seg"))
            .collect();
        v.sort();
        v
    }

    #[tokio::test]
    async fn records_come_back_in_order_across_segments_and_finished_ones_are_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let (q, rec) = DiskQueue::open(dir.path(), settings(100)).unwrap();
        assert_eq!(rec, Recovered::default());
        for i in 0..10u8 {
            q.push(Signal::Logs, 1, &[i; 20]).unwrap();
        }
        assert!(segments(dir.path()).len() > 3, "small segments roll");
        let got = drain(&q, true).await;
        assert_eq!(got, (0..10u8).map(|i| vec![i; 20]).collect::<Vec<_>>());
        assert_eq!(segments(dir.path()).len(), 1, "only the head is left");
        assert_eq!(q.size(), 0);
    }

    #[tokio::test]
    async fn unacknowledged_records_are_sent_again_after_reopening() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (q, _) = DiskQueue::open(dir.path(), settings(100)).unwrap();
            for i in 0..6u8 {
                q.push(Signal::Traces, 2, &[i; 20]).unwrap();
            }
            // Send 0..3; acknowledge only 0 and 2.
            let a = q.pop().await.unwrap();
            let _b = q.pop().await.unwrap();
            let c = q.pop().await.unwrap();
            q.ack(a.position);
            q.ack(c.position);
        }
        let (q, rec) = DiskQueue::open(dir.path(), settings(100)).unwrap();
        assert_eq!(rec.records, 4);
        assert_eq!(q.size(), 4);
        let got = drain(&q, true).await;
        assert_eq!(got, [1u8, 3, 4, 5].map(|i| vec![i; 20]).to_vec());
    }

    #[tokio::test]
    async fn damaged_and_truncated_records_are_skipped_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut s = settings(100);
            s.segment_bytes = 1 << 20;
            s.damaged = Counter::default();
            let (q, _) = DiskQueue::open(dir.path(), s).unwrap();
            for i in 0..5u8 {
                q.push(Signal::Logs, 1, &[i; 20]).unwrap();
            }
        }
        let seg = segments(dir.path())[0].clone();
        let mut bytes = std::fs::read(&seg).unwrap();
        let record = FRAME + BODY_HEADER + 20;
        bytes[record + FRAME + 7] ^= 0xff; // record 1's body
        bytes.truncate(bytes.len() - 3); // record 4 torn
        std::fs::write(&seg, &bytes).unwrap();
        let s = settings(100);
        let damaged = s.damaged.clone();
        let (q, rec) = DiskQueue::open(dir.path(), s).unwrap();
        assert_eq!(
            rec,
            Recovered {
                records: 3,
                damaged: 2
            }
        );
        let got = drain(&q, true).await;
        assert_eq!(got, [0u8, 2, 3].map(|i| vec![i; 20]).to_vec());
        assert_eq!(damaged.get(), 2);
    }

    #[tokio::test]
    async fn a_drained_head_segment_is_replaced_and_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = settings(100);
        s.segment_bytes = 8 << 20;
        let (q, _) = DiskQueue::open(dir.path(), s).unwrap();
        let first = segments(dir.path());
        for _ in 0..3 {
            q.push(Signal::Logs, 1, &[7; 30_000]).unwrap();
        }
        assert_eq!(drain(&q, true).await.len(), 3);
        let now = segments(dir.path());
        assert_eq!(now.len(), 1);
        assert_ne!(now, first, "the 90 KB head was replaced");
        assert_eq!(q.size(), 0);
    }

    #[tokio::test]
    async fn a_full_queue_refuses_until_records_are_acknowledged() {
        let dir = tempfile::tempdir().unwrap();
        let (q, _) = DiskQueue::open(dir.path(), settings(2)).unwrap();
        q.push(Signal::Logs, 1, b"a").unwrap();
        q.push(Signal::Logs, 1, b"b").unwrap();
        assert!(matches!(
            q.push(Signal::Logs, 1, b"c"),
            Err(PushError::Full)
        ));
        let r = q.pop().await.unwrap();
        q.ack(r.position);
        q.push(Signal::Logs, 1, b"c").unwrap();
    }

    #[test]
    fn garbage_never_parses_as_a_record() {
        for seed in 0..200u64 {
            fastrand::seed(seed);
            let buf: Vec<u8> = (0..256).map(|_| fastrand::u8(..)).collect();
            let mut at = 0;
            while at < buf.len() {
                match parse_at(&buf, at) {
                    Parsed::Record { next, .. } => at = next,
                    _ => match resync(&buf, at) {
                        Some(n) => at = n,
                        None => break,
                    },
                }
            }
        }
    }
}

/// The queue against a model of what it promises, as Vector tests its disk
/// buffer: random pushes, pops, acknowledgements (in any order) and
/// reopenings (a restart), after each of which the queue must agree with a
/// list of records each either waiting or handed out. It promises: records
/// come out in the order they went in, each once per run; a record handed
/// out and not acknowledged comes out again after a reopening, and one
/// acknowledged never does; `size` counts what is not acknowledged; a push
/// is refused exactly when it would pass the capacity of a non-empty queue.
#[cfg(test)]
mod model {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;
    use std::time::Duration;

    #[derive(Clone, Debug)]
    enum Op {
        /// A record of this many items and payload bytes.
        Push {
            items: usize,
            bytes: usize,
        },
        Pop,
        /// Acknowledge the handed-out record at this index (modulo how many
        /// there are), so acknowledgements come in any order.
        Ack(usize),
        Reopen,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (1usize..6, 0usize..120).prop_map(|(items, bytes)| Op::Push { items, bytes }),
            3 => Just(Op::Pop),
            2 => any::<usize>().prop_map(Op::Ack),
            1 => Just(Op::Reopen),
        ]
    }

    /// A record's payload names it: its id, then filler.
    fn payload(id: u32, bytes: usize) -> Vec<u8> {
        let mut p = id.to_le_bytes().to_vec();
        p.resize(4 + bytes, id as u8);
        p
    }

    #[derive(Default)]
    struct Model {
        /// Records not acknowledged, by id (push order): items, handed out.
        records: BTreeMap<u32, (usize, bool)>,
        next_id: u32,
    }

    impl Model {
        fn units(&self) -> u64 {
            self.records.values().map(|(items, _)| *items as u64).sum()
        }
    }

    fn open(dir: &Path, capacity: u64, segment_bytes: u64) -> DiskQueue {
        let settings = DiskQueueSettings {
            capacity,
            sizer: Sizer::Items,
            segment_bytes,
            fsync_every_write: false,
            damaged: Counter::default(),
        };
        DiskQueue::open(dir, settings).expect("open").0
    }

    fn run(ops: Vec<Op>, capacity: u64, segment_bytes: u64) -> Result<(), TestCaseError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime");
        let dir = tempfile::tempdir().expect("tempdir");
        let mut queue = open(dir.path(), capacity, segment_bytes);
        let mut model = Model::default();
        // Handed out and not acknowledged in this run: id and position.
        let mut handed: Vec<(u32, Position)> = Vec::new();
        for op in ops {
            match op {
                Op::Push { items, bytes } => {
                    let id = model.next_id;
                    let full = model.units() + items as u64 > capacity && model.units() > 0;
                    match queue.push(Signal::Logs, items, &payload(id, bytes)) {
                        Ok(()) => {
                            prop_assert!(!full, "record {id} taken past the capacity");
                            model.records.insert(id, (items, false));
                            model.next_id += 1;
                        }
                        Err(PushError::Full) => prop_assert!(full, "record {id} refused with room"),
                        Err(e) => return Err(TestCaseError::fail(e.to_string())),
                    }
                }
                Op::Pop => {
                    let Some((&id, _)) = model.records.iter().find(|(_, (_, out))| !out) else {
                        continue;
                    };
                    let record = runtime
                        .block_on(async {
                            tokio::time::timeout(Duration::from_secs(5), queue.pop()).await
                        })
                        .map_err(|_| TestCaseError::fail(format!("record {id} never came")))?
                        .ok_or_else(|| TestCaseError::fail("closed"))?;
                    let got = u32::from_le_bytes(record.request[..4].try_into().expect("id"));
                    prop_assert_eq!(got, id, "records come out in order");
                    prop_assert_eq!(record.items, model.records[&id].0);
                    model.records.get_mut(&id).expect("modelled").1 = true;
                    handed.push((id, record.position));
                }
                Op::Ack(i) => {
                    if handed.is_empty() {
                        continue;
                    }
                    let (id, position) = handed.remove(i % handed.len());
                    queue.ack(position);
                    model.records.remove(&id);
                }
                Op::Reopen => {
                    drop(queue);
                    queue = open(dir.path(), capacity, segment_bytes);
                    handed.clear();
                    for (_, out) in model.records.values_mut() {
                        *out = false;
                    }
                }
            }
            prop_assert_eq!(
                queue.size(),
                model.units(),
                "size counts what is unacknowledged"
            );
        }
        // Nothing more than the model's waiting records comes out.
        let waiting = model.records.values().filter(|(_, out)| !out).count();
        for _ in 0..waiting {
            let popped = runtime.block_on(async {
                tokio::time::timeout(Duration::from_secs(5), queue.pop()).await
            });
            prop_assert!(matches!(popped, Ok(Some(_))), "a waiting record came out");
        }
        let extra = runtime
            .block_on(async { tokio::time::timeout(Duration::from_millis(20), queue.pop()).await });
        prop_assert!(extra.is_err(), "no record beyond the model's");
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        #[test]
        fn the_queue_behaves_as_its_model(
            ops in proptest::collection::vec(op(), 1..60),
            capacity in 1u64..40,
            segment_bytes in 48u64..400,
        ) {
            run(ops, capacity, segment_bytes)?;
        }
    }
}

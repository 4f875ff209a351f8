//! A small log-structured key-value store: one file per component.
//!
//! Each [`StorageClient::apply`] call appends one entry
//! `length u32 | CRC-32 u32 | body`, where the body lists the operations.
//! Opening replays the file into memory; an entry that is torn or fails
//! its CRC ends the replay and is cut off, so a crash mid-write loses at
//! most that one call, all of it. When most of the file is overwritten
//! history, it is rewritten with only the live keys (to a temporary file,
//! then renamed).

use ferrotel_core::storage::{Operation, StorageClient, StorageError, replace_file};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

const MAGIC: &[u8; 8] = b"FTKV0001";
const SET: u8 = 1;
const DELETE: u8 = 2;

/// When to rewrite the file: it is bigger than this and more than half of
/// it is history.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Compaction {
    pub(crate) min_bytes: u64,
}

struct Inner {
    file: File,
    len: u64,
    live: HashMap<String, Vec<u8>>,
    live_bytes: u64,
}

/// One component's store.
pub(crate) struct KvStore {
    path: PathBuf,
    fsync: bool,
    compaction: Compaction,
    inner: Mutex<Inner>,
}

fn entry_size(key: &str, value: &[u8]) -> u64 {
    (1 + 4 + key.len() + 4 + value.len()) as u64
}

fn encode(operations: &[Operation]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&(operations.len() as u32).to_le_bytes());
    for op in operations {
        let (tag, key, value): (u8, &str, &[u8]) = match op {
            Operation::Set(k, v) => (SET, k, v),
            Operation::Delete(k) => (DELETE, k, &[]),
        };
        body.push(tag);
        body.extend_from_slice(&(key.len() as u32).to_le_bytes());
        body.extend_from_slice(key.as_bytes());
        body.extend_from_slice(&(value.len() as u32).to_le_bytes());
        body.extend_from_slice(value);
    }
    let mut framed = Vec::with_capacity(8 + body.len());
    framed.extend_from_slice(&(body.len() as u32).to_le_bytes());
    framed.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    framed.extend_from_slice(&body);
    framed
}

/// The operations of one entry, or `None` if it is malformed.
fn decode(body: &[u8]) -> Option<Vec<Operation>> {
    let mut rest = body;
    let mut take = |n: usize| -> Option<&[u8]> {
        let (head, tail) = rest.split_at_checked(n)?;
        rest = tail;
        Some(head)
    };
    let u32_at = |b: &[u8]| u32::from_le_bytes(b.try_into().expect("4 bytes")) as usize;
    let count = u32_at(take(4)?);
    let mut ops = Vec::with_capacity(count.min(1024));
    for _ in 0..count {
        let tag = take(1)?[0];
        let klen = u32_at(take(4)?);
        let key = String::from_utf8(take(klen)?.to_vec()).ok()?;
        let vlen = u32_at(take(4)?);
        let value = take(vlen)?.to_vec();
        ops.push(match tag {
            SET => Operation::Set(key, value),
            DELETE => Operation::Delete(key),
            _ => return None,
        });
    }
    Some(ops)
}

fn apply_to(live: &mut HashMap<String, Vec<u8>>, live_bytes: &mut u64, ops: Vec<Operation>) {
    for op in ops {
        match op {
            Operation::Set(k, v) => {
                *live_bytes += entry_size(&k, &v);
                if let Some(old) = live.insert(k.clone(), v) {
                    *live_bytes -= entry_size(&k, &old);
                }
            }
            Operation::Delete(k) => {
                if let Some(old) = live.remove(&k) {
                    *live_bytes -= entry_size(&k, &old);
                }
            }
        }
    }
}

fn rewrite(path: &Path, live: &HashMap<String, Vec<u8>>) -> io::Result<(File, u64)> {
    let mut out = MAGIC.to_vec();
    if !live.is_empty() {
        let ops: Vec<Operation> = live
            .iter()
            .map(|(k, v)| Operation::Set(k.clone(), v.clone()))
            .collect();
        out.extend_from_slice(&encode(&ops));
    }
    let file = replace_file(path, &out)?;
    Ok((file, out.len() as u64))
}

impl KvStore {
    /// Opens or creates the store at `path`, replaying what it holds.
    pub(crate) fn open(
        path: &Path,
        fsync: bool,
        compaction: Compaction,
        compact_now: bool,
    ) -> io::Result<KvStore> {
        let mut bytes = Vec::new();
        match File::open(path) {
            Ok(mut f) => {
                f.read_to_end(&mut bytes)?;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let mut live = HashMap::new();
        let mut live_bytes = 0;
        let mut good = 0;
        if crate::bbolt::is_bbolt(&bytes) {
            return KvStore::migrate(path, &bytes, fsync, compaction);
        }
        if bytes.starts_with(MAGIC) {
            let mut at = MAGIC.len();
            good = at;
            while let Some(frame) = bytes.get(at..at + 8) {
                let len = u32::from_le_bytes(frame[0..4].try_into().expect("4 bytes")) as usize;
                let crc = u32::from_le_bytes(frame[4..8].try_into().expect("4 bytes"));
                let Some(body) = bytes.get(at + 8..at + 8 + len) else {
                    break;
                };
                if crc32fast::hash(body) != crc {
                    break;
                }
                let Some(ops) = decode(body) else { break };
                apply_to(&mut live, &mut live_bytes, ops);
                at += 8 + len;
                good = at;
            }
        }
        let damaged = !bytes.is_empty() && good < bytes.len();
        if damaged {
            tracing::warn!(
                path = %path.display(),
                kept_bytes = good,
                dropped_bytes = bytes.len() - good,
                "storage file ends with a torn or damaged entry; it is cut off (the last change before a crash is lost)"
            );
        }
        let (file, len) = if compact_now || damaged || bytes.is_empty() {
            rewrite(path, &live)?
        } else {
            (
                OpenOptions::new().append(true).open(path)?,
                bytes.len() as u64,
            )
        };
        Ok(KvStore {
            path: path.to_path_buf(),
            fsync,
            compaction,
            inner: Mutex::new(Inner {
                file,
                len,
                live,
                live_bytes,
            }),
        })
    }

    /// Takes over a Go collector's bbolt file: its keys are copied into a
    /// new store at `path`, and the bbolt file is kept beside it as
    /// `<name>.bbolt` so a rollback to Go finds its state.
    fn migrate(
        path: &Path,
        bytes: &[u8],
        fsync: bool,
        compaction: Compaction,
    ) -> io::Result<KvStore> {
        let pairs = crate::bbolt::default_bucket(bytes).map_err(|why| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} is a Go collector bbolt file that cannot be read ({why}); move it away to start without its state",
                    path.display()
                ),
            )
        })?;
        let mut backup = path.as_os_str().to_owned();
        backup.push(".bbolt");
        std::fs::copy(path, &backup)?;
        let mut live = HashMap::new();
        let mut live_bytes = 0;
        let keys = pairs.len();
        apply_to(
            &mut live,
            &mut live_bytes,
            pairs
                .into_iter()
                .map(|(k, v)| Operation::Set(k, v))
                .collect(),
        );
        let (file, len) = rewrite(path, &live)?;
        tracing::info!(
            path = %path.display(),
            keys,
            backup = %Path::new(&backup).display(),
            "took over a Go collector's bbolt storage file"
        );
        Ok(KvStore {
            path: path.to_path_buf(),
            fsync,
            compaction,
            inner: Mutex::new(Inner {
                file,
                len,
                live,
                live_bytes,
            }),
        })
    }

    fn io(&self, what: &str, e: io::Error) -> StorageError {
        StorageError::io(format!("{what} {}", self.path.display()), e)
    }
}

impl StorageClient for KvStore {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        Ok(inner.live.get(key).cloned())
    }

    fn apply(&self, operations: Vec<Operation>) -> Result<(), StorageError> {
        if operations.is_empty() {
            return Ok(());
        }
        let framed = encode(&operations);
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let inner = &mut *inner;
        if let Err(e) = inner.file.write_all(&framed) {
            // Cut off a partial entry so later ones stay readable.
            let _ = inner.file.set_len(inner.len);
            return Err(self.io("cannot write to", e));
        }
        if self.fsync {
            inner
                .file
                .sync_data()
                .map_err(|e| self.io("cannot sync", e))?;
        }
        inner.len += framed.len() as u64;
        apply_to(&mut inner.live, &mut inner.live_bytes, operations);
        if inner.len > self.compaction.min_bytes && inner.live_bytes * 2 < inner.len {
            match rewrite(&self.path, &inner.live) {
                Ok((file, len)) => {
                    inner.file = file;
                    inner.len = len;
                }
                Err(e) => {
                    tracing::warn!(path = %self.path.display(), error = %e, "cannot compact storage file; will try again")
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: Compaction = Compaction { min_bytes: 256 };

    #[test]
    fn values_survive_reopening_and_compaction_keeps_only_live_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("receiver_file_log_");
        {
            let kv = KvStore::open(&path, false, SMALL, false).unwrap();
            for i in 0..100u32 {
                kv.set("offset", i.to_le_bytes().to_vec()).unwrap();
            }
            kv.set("gone", b"x".to_vec()).unwrap();
            kv.delete("gone").unwrap();
            assert!(
                std::fs::metadata(&path).unwrap().len() < 256 + 64,
                "compacted"
            );
        }
        let kv = KvStore::open(&path, false, SMALL, false).unwrap();
        assert_eq!(
            kv.get("offset").unwrap(),
            Some(99u32.to_le_bytes().to_vec())
        );
        assert_eq!(kv.get("gone").unwrap(), None);
    }

    #[test]
    fn a_torn_last_entry_loses_only_that_change() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store");
        {
            let kv = KvStore::open(&path, true, SMALL, false).unwrap();
            kv.apply(vec![
                Operation::Set("a".into(), b"1".to_vec()),
                Operation::Set("b".into(), b"2".to_vec()),
            ])
            .unwrap();
            kv.set("a", b"3".to_vec()).unwrap();
        }
        let len = std::fs::metadata(&path).unwrap().len();
        let f = OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(len - 2).unwrap();
        let kv = KvStore::open(&path, false, SMALL, false).unwrap();
        assert_eq!(kv.get("a").unwrap(), Some(b"1".to_vec()));
        assert_eq!(kv.get("b").unwrap(), Some(b"2".to_vec()));
        kv.set("c", b"4".to_vec()).unwrap();
        drop(kv);
        let kv = KvStore::open(&path, false, SMALL, false).unwrap();
        assert_eq!(kv.get("c").unwrap(), Some(b"4".to_vec()));
    }

    #[test]
    fn malformed_bodies_do_not_decode() {
        assert_eq!(decode(&[]), None);
        assert_eq!(decode(&[1, 0, 0, 0, 9]), None);
        assert_eq!(decode(&[1, 0, 0, 0, 1, 255, 255, 255, 255]), None);
    }
}

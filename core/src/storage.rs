//! The storage API: what a storage extension (`file_storage`) offers the
//! components that must remember things across restarts.
//!
//! Two shapes, because the users differ. Receivers keep small checkpoints
//! (file offsets, Kafka offsets, binlog positions) and want a key-value
//! [`StorageClient`]. A persistent sending queue writes a stream of large
//! records and lays them out itself in a [`StorageDirectory`]. Either way,
//! each component gets its own store, named after its kind and id as the Go
//! collector names its files, so two components never share one.

use crate::component::{ComponentId, Kind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Why a store could not be opened or used.
#[derive(Debug, thiserror::Error)]
#[error("{context}: {source}")]
pub struct StorageError {
    context: String,
    #[source]
    source: std::io::Error,
}

impl StorageError {
    /// An I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> StorageError {
        StorageError {
            context: context.into(),
            source,
        }
    }
}

/// One change in a [`StorageClient::apply`] batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Operation {
    /// Sets a key to a value.
    Set(String, Vec<u8>),
    /// Removes a key.
    Delete(String),
}

/// A component's key-value store. Calls are synchronous and cheap: a write
/// is an append to a file; whether it is flushed to the device before the
/// call returns depends on the extension's `fsync` setting.
pub trait StorageClient: Send + Sync {
    /// The value of a key, if set.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError>;

    /// Applies several changes at once: after a crash either all of them
    /// are visible or none.
    fn apply(&self, operations: Vec<Operation>) -> Result<(), StorageError>;

    /// Sets one key.
    fn set(&self, key: &str, value: Vec<u8>) -> Result<(), StorageError> {
        self.apply(vec![Operation::Set(key.to_owned(), value)])
    }

    /// Removes one key.
    fn delete(&self, key: &str) -> Result<(), StorageError> {
        self.apply(vec![Operation::Delete(key.to_owned())])
    }
}

/// A directory that belongs to one component, and how hard to sync it.
#[derive(Clone, Debug)]
pub struct StorageDirectory {
    /// Where the component may create files.
    pub path: PathBuf,
    /// Flush to the device before acknowledging each write.
    pub fsync_every_write: bool,
    /// Otherwise, flush at least this often (and always at shutdown).
    pub fsync_interval: Duration,
}

/// A storage extension.
pub trait Storage: Send + Sync {
    /// The key-value store of one component; `name` tells apart several
    /// stores of the same component (empty for the usual one).
    fn client(
        &self,
        kind: Kind,
        id: &ComponentId,
        name: &str,
    ) -> Result<Arc<dyn StorageClient>, StorageError>;

    /// A directory of its own for one component, created if missing.
    fn directory(
        &self,
        kind: Kind,
        id: &ComponentId,
        name: &str,
    ) -> Result<StorageDirectory, StorageError>;
}

/// Replaces the file at `path` with `contents` so that after a crash it
/// holds either the old or the new contents: writes a temporary file
/// beside it, flushes it, renames it over `path` and flushes the
/// directory. Returns the new file opened for appending.
pub fn replace_file(path: &Path, contents: &[u8]) -> std::io::Result<std::fs::File> {
    use std::io::Write;
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = PathBuf::from(tmp_name);
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(contents)?;
    f.sync_data()?;
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    std::fs::OpenOptions::new().append(true).open(path)
}

/// The file name the Go collector's `file_storage` gives a component's
/// store (`exporter_otlp_grpc_backup_queue`), with characters that are
/// unsafe in file names written as `~XXXX` (their code point in hex).
pub fn store_name(kind: Kind, id: &ComponentId, name: &str) -> String {
    let mut raw = format!(
        "{}_{}_{}",
        kind.as_str(),
        id.kind(),
        id.name().unwrap_or("")
    );
    if !name.is_empty() {
        raw.push('_');
        raw.push_str(name);
    }
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
            out.push(c);
        } else {
            out.push_str(&format!("~{:04X}", c as u32));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_names_follow_go_and_escape_unsafe_characters() {
        let id = ComponentId::parse("file_log/pods").unwrap();
        assert_eq!(
            store_name(Kind::Receiver, &id, ""),
            "receiver_file_log_pods"
        );
        let id = ComponentId::parse("otlp_http/café").unwrap();
        assert_eq!(
            store_name(Kind::Exporter, &id, "queue"),
            "exporter_otlp_http_caf~00E9_queue"
        );
    }
}

//! The `file_storage` extension: gives each component that asks a store of
//! its own on local disk, for checkpoints and persistent queues.
//!
//! Configured as the contrib `filestorage` extension: `directory` (default
//! `/var/lib/otelcol/file_storage`), `create_directory`, `fsync`, `timeout`
//! (how long to wait for another process's lock on a store) and
//! `compaction`. Stores are named as Go names them
//! (`receiver_file_log_pods`). The format is not bbolt: a key-value store is
//! an append-only log of CRC-checked entries rewritten when mostly history
//! ([`kv`]), and a persistent queue gets a directory for its segment files.
//! Both are small and written here so that what reaches the disk, and when
//! it is flushed, is decided in one place; docs/delivery.md says why no
//! embedded database was taken.

mod bbolt;
mod kv;

use ferrotel_core::async_trait;
use ferrotel_core::component::{
    Component, ComponentConfig, ComponentError, ComponentId, CreateSettings, Extension,
    ExtensionFactory, Kind, Metadata,
};
use ferrotel_core::config::{GoDuration, Invalid};
use ferrotel_core::storage::{Storage, StorageClient, StorageDirectory, StorageError, store_name};
use serde::Deserialize;
use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `compaction` settings. The store compacts itself when most of a file is
/// history; `on_start` also compacts every store when it is opened.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct CompactionConfig {
    /// Compact each store when it is opened. Default false.
    pub on_start: bool,
    /// Compact while running. Default false; ferrotel always compacts a
    /// store once it is mostly history, so this is accepted for
    /// compatibility.
    pub on_rebound: bool,
    /// Where bbolt writes its temporary copy; ferrotel writes the copy next
    /// to the store (a rename must not cross file systems). Accepted.
    pub directory: Option<String>,
    /// Accepted for compatibility.
    pub max_transaction_size: i64,
    /// A store is compacted once it is bigger than this (MiB) and mostly
    /// history. Default 10.
    pub rebound_trigger_threshold_mib: u64,
    /// Accepted for compatibility. Default 100.
    pub rebound_needed_threshold_mib: u64,
    /// Accepted for compatibility. Default 5s.
    pub check_interval: GoDuration,
}

impl Default for CompactionConfig {
    fn default() -> Self {
        CompactionConfig {
            on_start: false,
            on_rebound: false,
            directory: None,
            max_transaction_size: 65536,
            rebound_trigger_threshold_mib: 10,
            rebound_needed_threshold_mib: 100,
            check_interval: GoDuration::secs(5),
        }
    }
}

/// `file_storage` settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Where stores live. Default `/var/lib/otelcol/file_storage`.
    pub directory: PathBuf,
    /// Create `directory` (mode 0750) when missing. Default false.
    pub create_directory: bool,
    /// Flush every write to the device before acknowledging it. Default
    /// false: writes reach the OS at once (safe from a process crash) and
    /// the device within a second (a power cut loses at most that second).
    pub fsync: bool,
    /// How long to wait for a store locked by another process. Default 1s.
    pub timeout: GoDuration,
    /// Compaction.
    pub compaction: CompactionConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            directory: PathBuf::from("/var/lib/otelcol/file_storage"),
            create_directory: false,
            fsync: false,
            timeout: GoDuration::secs(1),
            compaction: CompactionConfig::default(),
        }
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), Invalid> {
        match std::fs::metadata(&self.directory) {
            Ok(meta) if !meta.is_dir() => Err(Invalid::from(format!(
                "{} is not a directory",
                self.directory.display()
            ))),
            Ok(_) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !self.create_directory => {
                Err(Invalid::from(format!(
                    "directory must exist: stat {}: no such file or directory. You can enable the create_directory option to automatically create it",
                    self.directory.display()
                )))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Invalid::from(format!(
                "cannot use {}: {e}",
                self.directory.display()
            ))),
        }?;
        if self.compaction.max_transaction_size < 0 {
            return Err(Invalid::at(
                "compaction::max_transaction_size",
                "max transaction size for compaction cannot be less than 0",
            ));
        }
        if self.compaction.on_rebound && self.compaction.check_interval.0.is_zero() {
            return Err(Invalid::at(
                "compaction::check_interval",
                "compaction check interval must be positive when rebound compaction is set",
            ));
        }
        Ok(())
    }
}

struct FileStorageFactory;

/// The factory for the `file_storage` extension.
pub fn factory() -> impl ExtensionFactory {
    FileStorageFactory
}

impl ExtensionFactory for FileStorageFactory {
    type Config = Config;

    fn metadata(&self) -> Metadata {
        ferrotel_core::metadata!()
    }

    fn create(
        &self,
        _set: CreateSettings,
        config: Config,
    ) -> Result<Arc<dyn Extension>, ComponentError> {
        Ok(Arc::new(FileStorage {
            config,
            opened: Mutex::new(Opened::default()),
        }))
    }
}

/// How often a locked store is tried again until `timeout`.
const LOCK_RETRY: Duration = Duration::from_millis(20);
/// A directory's queue is synced at least this often when `fsync` is off.
const FSYNC_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Default)]
struct Opened {
    clients: HashMap<String, Arc<kv::KvStore>>,
    /// Locks on stores and directories, released at shutdown.
    locks: Vec<File>,
}

struct FileStorage {
    config: Config,
    opened: Mutex<Opened>,
}

impl FileStorage {
    /// Takes an exclusive lock on `path`, waiting up to `timeout` for
    /// another process to let go.
    fn lock(&self, path: &Path) -> Result<File, StorageError> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| StorageError::io(format!("cannot open {}", path.display()), e))?;
        let deadline = Instant::now() + self.config.timeout.0;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(file),
                Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(LOCK_RETRY);
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(StorageError::io(
                        format!(
                            "timeout waiting for the lock on {}: is another collector using this directory?",
                            path.display()
                        ),
                        std::io::ErrorKind::WouldBlock.into(),
                    ));
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(StorageError::io(
                        format!("cannot lock {}", path.display()),
                        e,
                    ));
                }
            }
        }
    }
}

impl Storage for FileStorage {
    fn client(
        &self,
        kind: Kind,
        id: &ComponentId,
        name: &str,
    ) -> Result<Arc<dyn StorageClient>, StorageError> {
        let store = store_name(kind, id, name);
        let mut opened = self.opened.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(client) = opened.clients.get(&store) {
            return Ok(client.clone());
        }
        let path = self.config.directory.join(&store);
        let lock = self.lock(&self.config.directory.join(format!("{store}.lock")))?;
        let compaction = kv::Compaction {
            min_bytes: self.config.compaction.rebound_trigger_threshold_mib << 20,
        };
        let client = kv::KvStore::open(
            &path,
            self.config.fsync,
            compaction,
            self.config.compaction.on_start,
        )
        .map_err(|e| StorageError::io(format!("cannot open {}", path.display()), e))?;
        let client = Arc::new(client);
        opened.locks.push(lock);
        opened.clients.insert(store, client.clone());
        Ok(client)
    }

    fn directory(
        &self,
        kind: Kind,
        id: &ComponentId,
        name: &str,
    ) -> Result<StorageDirectory, StorageError> {
        let path = self.config.directory.join(store_name(kind, id, name));
        std::fs::create_dir_all(&path)
            .map_err(|e| StorageError::io(format!("cannot create {}", path.display()), e))?;
        let lock = self.lock(&path.join("lock"))?;
        self.opened
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .locks
            .push(lock);
        Ok(StorageDirectory {
            path,
            fsync_every_write: self.config.fsync,
            fsync_interval: FSYNC_INTERVAL,
        })
    }
}

#[async_trait]
impl Component for FileStorage {
    async fn start(&self, _host: &ferrotel_core::component::Host) -> Result<(), ComponentError> {
        if self.config.create_directory {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o750);
            builder.create(&self.config.directory).map_err(|e| {
                format!(
                    "cannot create directory {}: {e}",
                    self.config.directory.display()
                )
            })?;
        }
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        // Components using stores are already stopped; closing the files
        // releases their locks for the next run (or the next config).
        let mut opened = self.opened.lock().unwrap_or_else(|p| p.into_inner());
        opened.clients.clear();
        opened.locks.clear();
        Ok(())
    }
}

impl Extension for FileStorage {
    fn storage(&self) -> Option<&dyn Storage> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn storage(dir: &Path) -> FileStorage {
        FileStorage {
            config: Config {
                directory: dir.to_path_buf(),
                timeout: GoDuration(Duration::from_millis(50)),
                ..Config::default()
            },
            opened: Mutex::new(Opened::default()),
        }
    }

    #[test]
    fn each_component_gets_its_own_store_and_a_second_process_is_locked_out() {
        let dir = tempfile::tempdir().unwrap();
        let a = storage(dir.path());
        let id = ComponentId::parse("file_log/pods").unwrap();
        let client = a.client(Kind::Receiver, &id, "").unwrap();
        client.set("k", b"v".to_vec()).unwrap();
        assert!(dir.path().join("receiver_file_log_pods").exists());
        let same = a.client(Kind::Receiver, &id, "").unwrap();
        assert_eq!(same.get("k").unwrap(), Some(b"v".to_vec()));

        // Another collector on the same directory waits `timeout`, then fails.
        let b = storage(dir.path());
        let err = b.client(Kind::Receiver, &id, "").err().unwrap();
        assert!(err.to_string().contains("another collector"), "{err}");
    }

    #[test]
    fn a_missing_directory_is_a_config_error_unless_it_may_be_created() {
        let config = Config {
            directory: PathBuf::from("/nonexistent/ferrotel"),
            ..Config::default()
        };
        let err = config.validate().unwrap_err();
        assert!(err.message.contains("create_directory"), "{}", err.message);
        let config = Config {
            create_directory: true,
            ..config
        };
        assert!(config.validate().is_ok());
    }
}

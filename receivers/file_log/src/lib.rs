//! The `file_log` receiver (alias `filelog`): tails files and container
//! logs.
//!
//! Mirrors the contrib `filelogreceiver`: the same keys and defaults
//! (`start_at: end`, `poll_interval: 200ms`, `fingerprint_size: 1kb`,
//! `max_log_size: 1MiB`), the `log.file.*` attributes, read positions under
//! the storage key `knownFiles` in Go's format, and stanza operators. What
//! differs: files are identified by device and inode as well as by their
//! first bytes ([`tail`] explains the rotation cases); read positions move
//! only when the data is delivered or persisted, not when it is read;
//! refused data is read again later instead of dropped; lines without
//! operators are encoded straight into OTLP requests ([`encode`]); and
//! multi-line patterns are matched at line starts. Not supported (refused at
//! load): `header`, `ordering_criteria`, `acquire_fs_lock`, the file owner
//! attributes, and multi-line patterns with UTF-16.

mod checkpoint;
mod config;
mod encode;
mod entry;
mod finder;
mod operator;
mod split;
mod tail;
mod watch;

pub use config::{Config, MultilineConfig, RetryConfig};

use ferrotel_core::async_trait;
use ferrotel_core::component::{
    Component, ComponentError, ComponentId, CreateSettings, Host, Kind, Metadata, ReceiverFactory,
    SignalConsumers,
};
use ferrotel_core::consumer::SharedConsumer;
use ferrotel_core::pdata::Signal;
use ferrotel_core::telemetry::{ReceiverMetrics, Telemetry as SelfTelemetry};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use tracing::warn;

struct FileLogFactory;

/// The factory for the `file_log` receiver.
pub fn factory() -> impl ReceiverFactory {
    FileLogFactory
}

impl ReceiverFactory for FileLogFactory {
    type Config = Config;

    fn metadata(&self) -> Metadata {
        ferrotel_core::metadata!()
    }

    fn create(
        &self,
        set: CreateSettings,
        config: Config,
        next: SignalConsumers,
    ) -> Result<Box<dyn Component>, ComponentError> {
        let next = next
            .logs
            .ok_or("the file_log receiver only produces logs")?;
        config.check()?;
        Ok(Box::new(FileLogReceiver {
            id: set.id,
            telemetry: set.telemetry,
            config,
            next,
            running: Mutex::new(None),
        }))
    }
}

struct FileLogReceiver {
    id: ComponentId,
    telemetry: SelfTelemetry,
    config: Config,
    next: SharedConsumer,
    running: Mutex<Option<Running>>,
}

struct Running {
    wake: mpsc::Sender<tail::Wake>,
    stop: Arc<AtomicBool>,
    stopped: tokio::sync::oneshot::Receiver<()>,
}

impl FileLogReceiver {
    fn settings(&self) -> Result<tail::Settings, ComponentError> {
        let c = &self.config;
        let to_map = |m: &std::collections::BTreeMap<String, serde_yaml_ng::Value>| {
            m.iter()
                .map(|(k, v)| {
                    let text = encode::scalar_text(v).unwrap_or_default();
                    (k.clone(), entry::Value::Str(text))
                })
                .collect()
        };
        Ok(tail::Settings {
            finder: finder::Finder::new(&c.include, &c.exclude)?,
            splitter: split::Splitter::new(c),
            encoding: c.encoding(),
            compression: c.compression(),
            poll_interval: c.poll_interval.0,
            force_flush_period: c.force_flush_period.0,
            fingerprint_size: c.fingerprint_size.0 as usize,
            max_open_files: c.max_concurrent_files,
            start_at_beginning: c.start_at == "beginning",
            delete_after_read: c.delete_after_read,
            exclude_older_than: c.exclude_older_than.map(|d| d.0),
            include_file_name: c.include_file_name,
            include_file_path: c.include_file_path,
            include_file_name_resolved: c.include_file_name_resolved,
            include_file_path_resolved: c.include_file_path_resolved,
            include_file_record_number: c.include_file_record_number,
            attributes: to_map(&c.attributes),
            resource: to_map(&c.resource),
            retry: c.retry_on_failure.clone(),
            chain: c.chain()?,
        })
    }
}

#[async_trait]
impl Component for FileLogReceiver {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        let store = match &self.config.storage {
            Some(id) => {
                let id = ComponentId::parse(id)?;
                Some(host.storage(&id)?.client(Kind::Receiver, &self.id, "")?)
            }
            None => None,
        };
        let settings = self.settings()?;
        let (wake_tx, wake_rx) = mpsc::channel();
        let runtime = tokio::runtime::Handle::current();
        let watcher = match watch::DirWatcher::start(
            &runtime,
            settings.poll_interval,
            wake_tx.clone(),
            tail::Wake::Fs,
        ) {
            Ok(w) => Some(w),
            Err(e) => {
                warn!(error = %e, "no file-system notifications; relying on polling");
                None
            }
        };
        let t = &self.telemetry;
        let id = self.id.to_string();
        let metrics = tail::Metrics {
            receiver: ReceiverMetrics::new(t, &id, "", Signal::Logs),
            open_files: t.registry.gauge(
                "otelcol_fileconsumer_open_files",
                "Number of open files",
                &[],
            ),
            reading_files: t.registry.gauge(
                "otelcol_fileconsumer_reading_files",
                "Number of open files that are being read",
                &[],
            ),
        };
        let tailer = tail::Tailer::new(
            settings,
            self.next.clone(),
            runtime,
            store,
            metrics,
            watcher,
        );
        let stop = Arc::new(AtomicBool::new(false));
        let (stopped_tx, stopped_rx) = tokio::sync::oneshot::channel();
        let thread_stop = stop.clone();
        std::thread::Builder::new()
            .name(format!("file_log {}", self.id))
            .spawn(move || tailer.run(wake_rx, thread_stop, stopped_tx))?;
        *self.running.lock().unwrap_or_else(|p| p.into_inner()) = Some(Running {
            wake: wake_tx,
            stop,
            stopped: stopped_rx,
        });
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        let running = self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(r) = running {
            r.stop.store(true, Ordering::Release);
            let _ = r.wake.send(tail::Wake::Stop);
            // The thread goes on waiting for the last acknowledgements after
            // this, so the pipeline behind can drain meanwhile.
            let _ = r.stopped.await;
        }
        Ok(())
    }
}

//! The `file` exporter: appends telemetry to a file.
//!
//! Mirrors the contrib `fileexporter`: `format: json` writes one OTLP/JSON
//! export request per line; `format: proto` writes each request as protobuf
//! behind a 4-byte big-endian length. Each batch is written and flushed
//! before `consume` returns, so a file reader sees exactly what was
//! accepted. Not yet supported, and refused at load: `rotation`,
//! `compression`, `group_by`.

use ferrotel_core::async_trait;
use ferrotel_core::component::{
    Component, ComponentConfig, ComponentError, CreateSettings, ExporterFactory, Host, Metadata,
    SharedStage,
};
use ferrotel_core::config::GoDuration;
use ferrotel_core::config::Invalid;
use ferrotel_core::consumer::{Batch, ConsumeError, Consumer};
use ferrotel_core::pdata::encode_json;
use serde::Deserialize;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Encoding of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// OTLP/JSON, one request per line (the default).
    Json,
    /// Length-prefixed OTLP protobuf.
    Proto,
}

/// `file` exporter settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// The file to write. Required.
    pub path: String,
    /// `json` (the default) or `proto`: a string, as Go's, that `validate`
    /// checks.
    pub format: String,
    /// Keep existing content (true) or truncate at start (false, default).
    pub append: bool,
    /// Accepted; every batch is flushed as it is written.
    pub flush_interval: Option<GoDuration>,
    /// Not supported yet.
    pub rotation: Option<serde_yaml_ng::Value>,
    /// Not supported yet.
    pub compression: Option<String>,
    /// Not supported yet.
    pub group_by: Option<serde_yaml_ng::Value>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            path: String::new(),
            format: "json".into(),
            append: false,
            flush_interval: None,
            rotation: None,
            compression: None,
            group_by: None,
        }
    }
}

impl Config {
    /// The file format; `validate` has checked the name.
    pub fn format(&self) -> Format {
        match self.format.as_str() {
            "proto" => Format::Proto,
            _ => Format::Json,
        }
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), Invalid> {
        if self.path.is_empty() {
            return Err("path must be non-empty".into());
        }
        if !matches!(self.format.as_str(), "json" | "proto") {
            return Err("format type is not supported".into());
        }
        for (key, set) in [
            ("rotation", self.rotation.is_some()),
            (
                "compression",
                self.compression.as_deref().is_some_and(|c| !c.is_empty()),
            ),
            ("group_by", self.group_by.is_some()),
        ] {
            if set {
                return Err(
                    format!("{key} is not supported by ferrotel's file exporter yet").into(),
                );
            }
        }
        Ok(())
    }
}

struct FileFactory;

/// The factory for the `file` exporter.
pub fn factory() -> impl ExporterFactory {
    FileFactory
}

impl ExporterFactory for FileFactory {
    type Config = Config;

    fn metadata(&self) -> Metadata {
        ferrotel_core::metadata!()
    }

    fn create(&self, _set: CreateSettings, config: Config) -> Result<SharedStage, ComponentError> {
        Ok(Arc::new(FileExporter {
            path: PathBuf::from(&config.path),
            config,
            file: Mutex::new(None),
        }))
    }
}

struct FileExporter {
    path: PathBuf,
    config: Config,
    file: Mutex<Option<File>>,
}

#[async_trait]
impl Consumer for FileExporter {
    async fn consume(&self, batch: Batch) -> Result<(), ConsumeError> {
        let bytes = match self.config.format() {
            Format::Json => {
                let mut line = encode_json(batch.data()).into_bytes();
                line.push(b'\n');
                line
            }
            Format::Proto => {
                let body = batch.payload().encode_request();
                let mut framed = Vec::with_capacity(body.len() + 4);
                framed.extend_from_slice(&(body.len() as u32).to_be_bytes());
                framed.extend_from_slice(&body);
                framed
            }
        };
        let mut guard = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let file = guard
            .as_mut()
            .ok_or_else(|| ConsumeError::retryable("file exporter is not started"))?;
        file.write_all(&bytes)
            .and_then(|()| file.flush())
            .map_err(|e| ConsumeError::retryable(format!("write {}: {e}", self.path.display())))
    }
}

#[async_trait]
impl Component for FileExporter {
    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .append(self.config.append)
            .truncate(!self.config.append)
            .open(&self.path)
            .map_err(|e| format!("open {}: {e}", self.path.display()))?;
        *self.file.lock().unwrap_or_else(|p| p.into_inner()) = Some(file);
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        if let Some(file) = self.file.lock().unwrap_or_else(|p| p.into_inner()).take() {
            match file.sync_all() {
                // A special file (`/dev/null`, a pipe) cannot be synced:
                // fsync(2) says EINVAL, and there is nothing to lose.
                Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {}
                other => other?,
            }
        }
        Ok(())
    }
}

//! The component API: lifecycle, factories and the registry of factories.
//!
//! A component crate exposes one factory. A factory names its type, the
//! signals it supports and their stability, decodes its own config (with the
//! strict decoding in [`crate::config::decode`]) and creates instances.
//! Receivers get one consumer per signal they feed; processors are created
//! once per pipeline; exporters once per id and shared by every pipeline
//! that names them, as in the Go collector.

mod id;
mod metadata;
mod registry;

pub use id::{ComponentId, IdError, PipelineId};
pub use metadata::{Metadata, Stability};
pub use registry::{
    AnyConnectorFactory, AnyExporterFactory, AnyExtensionFactory, AnyProcessorFactory,
    AnyReceiverFactory, Factories,
};

use crate::consumer::{Consumer, SharedConsumer};
use crate::pdata::Signal;
use crate::storage::Storage;
use crate::telemetry::Telemetry;
use async_trait::async_trait;
use serde::de::DeserializeOwned;
use std::fmt;
use std::sync::Arc;

/// An error from a component's start, shutdown or creation.
pub type ComponentError = Box<dyn std::error::Error + Send + Sync>;

/// Go's `pipeline.ErrSignalNotSupported`: what a factory answers for a
/// signal it does not take.
pub const SIGNAL_NOT_SUPPORTED: &str = "telemetry type is not supported";

/// The five kinds of component, as named in config.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `receivers`
    Receiver,
    /// `processors`
    Processor,
    /// `exporters`
    Exporter,
    /// `connectors`
    Connector,
    /// `extensions`
    Extension,
}

impl Kind {
    /// Every kind, in the order config sections and `components` list them.
    pub const ALL: [Kind; 5] = [
        Kind::Receiver,
        Kind::Processor,
        Kind::Exporter,
        Kind::Connector,
        Kind::Extension,
    ];

    /// The singular name used in messages (`receiver`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Receiver => "receiver",
            Kind::Processor => "processor",
            Kind::Exporter => "exporter",
            Kind::Connector => "connector",
            Kind::Extension => "extension",
        }
    }

    /// The top-level config key (`receivers`).
    pub fn section(self) -> &'static str {
        match self {
            Kind::Receiver => "receivers",
            Kind::Processor => "processors",
            Kind::Exporter => "exporters",
            Kind::Connector => "connectors",
            Kind::Extension => "extensions",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A component's typed configuration.
pub trait ComponentConfig: DeserializeOwned + Default + Send + Sync + 'static {
    /// Checks what the types alone cannot; the error names the key.
    fn validate(&self) -> Result<(), crate::config::Invalid> {
        Ok(())
    }
}

/// What a factory gets besides its config.
#[derive(Clone)]
pub struct CreateSettings {
    /// The id from config.
    pub id: ComponentId,
    /// Self-telemetry: the metric registry and labels.
    pub telemetry: Telemetry,
}

/// What the service offers components at start.
#[derive(Clone, Default)]
pub struct Host {
    /// Flips to true when every pipeline is running, and back at shutdown.
    pub ready: Option<tokio::sync::watch::Receiver<bool>>,
    /// The running extensions, started before anything that uses them.
    pub extensions: Vec<(ComponentId, Arc<dyn Extension>)>,
    /// What the service runs, for extensions that show it (`zpages`).
    pub service: Option<Arc<ServiceSummary>>,
}

/// The running service as `zpages` shows it: the build, the pipelines,
/// the extensions and the feature gates.
#[derive(Clone, Debug, Default)]
pub struct ServiceSummary {
    /// The binary's name (`ferrotel`).
    pub command: String,
    /// Its version.
    pub version: String,
    /// When the service started.
    pub started: Option<std::time::SystemTime>,
    /// Each pipeline: id, receivers, processors, exporters.
    pub pipelines: Vec<PipelineSummary>,
    /// The extensions `service::extensions` names.
    pub extensions: Vec<String>,
    /// The feature gates the binary knows: id, enabled, stage, description.
    pub feature_gates: Vec<(String, bool, String, String)>,
}

/// One pipeline of a [`ServiceSummary`].
#[derive(Clone, Debug, Default)]
pub struct PipelineSummary {
    /// `traces/in`.
    pub id: String,
    /// Receiver ids.
    pub receivers: Vec<String>,
    /// Processor ids, in order.
    pub processors: Vec<String>,
    /// Exporter ids.
    pub exporters: Vec<String>,
}

impl Host {
    /// The storage extension with this id, worded as the Go collector
    /// words a missing or wrong one.
    pub fn storage(&self, id: &ComponentId) -> Result<&dyn Storage, ComponentError> {
        let (_, extension) = self
            .extensions
            .iter()
            .find(|(ext, _)| ext == id)
            .ok_or_else(|| {
                format!("storage extension {id:?} not found: no storage client extension found")
            })?;
        extension.storage().ok_or_else(|| {
            format!("extension {id:?}: requested extension is not a storage extension").into()
        })
    }
}

/// An extension: a component that other components may use through the
/// [`Host`].
pub trait Extension: Component {
    /// The storage it offers, when it is a storage extension.
    fn storage(&self) -> Option<&dyn Storage> {
        None
    }

    /// The check of incoming requests it offers, when it authenticates
    /// servers (`auth` of a receiver).
    fn server_authenticator(&self) -> Option<&dyn crate::auth::ServerAuthenticator> {
        None
    }

    /// The credentials of outgoing requests it offers, when it
    /// authenticates clients (`auth` of an exporter).
    fn client_authenticator(&self) -> Option<&dyn crate::auth::ClientAuthenticator> {
        None
    }
}

/// Start and stop, shared by every component.
#[async_trait]
pub trait Component: Send + Sync {
    /// Opens listeners, files, connections. Failing here stops start-up.
    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        Ok(())
    }

    /// Stops taking new work and finishes or hands back what is in flight.
    async fn shutdown(&self) -> Result<(), ComponentError> {
        Ok(())
    }
}

/// A processor or exporter: a consumer with a lifecycle.
pub trait Stage: Component + Consumer {}

impl<T: Component + Consumer> Stage for T {}

/// A shared processor or exporter.
pub type SharedStage = Arc<dyn Stage>;

/// The consumers a receiver feeds, one per signal it is used for.
#[derive(Clone, Default)]
pub struct SignalConsumers {
    /// Where spans go.
    pub traces: Option<SharedConsumer>,
    /// Where metrics go.
    pub metrics: Option<SharedConsumer>,
    /// Where logs go.
    pub logs: Option<SharedConsumer>,
    /// Where profiles go.
    pub profiles: Option<SharedConsumer>,
}

impl SignalConsumers {
    /// The consumer for a signal, if the receiver is used for it.
    pub fn get(&self, signal: Signal) -> Option<&SharedConsumer> {
        match signal {
            Signal::Traces => self.traces.as_ref(),
            Signal::Metrics => self.metrics.as_ref(),
            Signal::Logs => self.logs.as_ref(),
            Signal::Profiles => self.profiles.as_ref(),
        }
    }

    /// Sets the consumer for a signal.
    pub fn set(&mut self, signal: Signal, consumer: SharedConsumer) {
        match signal {
            Signal::Traces => self.traces = Some(consumer),
            Signal::Metrics => self.metrics = Some(consumer),
            Signal::Logs => self.logs = Some(consumer),
            Signal::Profiles => self.profiles = Some(consumer),
        }
    }
}

/// Creates receivers of one type.
pub trait ReceiverFactory: Send + Sync + 'static {
    /// The config type.
    type Config: ComponentConfig;
    /// Type, aliases, signals.
    fn metadata(&self) -> Metadata;
    /// One receiver for all the signals it is used for.
    fn create(
        &self,
        set: CreateSettings,
        config: Self::Config,
        next: SignalConsumers,
    ) -> Result<Box<dyn Component>, ComponentError>;
}

/// Creates processors of one type.
pub trait ProcessorFactory: Send + Sync + 'static {
    /// The config type.
    type Config: ComponentConfig;
    /// Type, aliases, signals.
    fn metadata(&self) -> Metadata;
    /// One processor for one pipeline.
    fn create(
        &self,
        set: CreateSettings,
        config: Self::Config,
        signal: Signal,
        next: SharedConsumer,
    ) -> Result<SharedStage, ComponentError>;
}

/// The pipelines a connector feeds: the first stage of each pipeline that
/// lists the connector among its receivers, by pipeline id, in config order.
#[derive(Clone, Default)]
pub struct Routes(pub Vec<(PipelineId, SharedConsumer)>);

impl Routes {
    /// Every pipeline at once.
    pub fn all(&self) -> SharedConsumer {
        crate::consumer::FanOut::of(self.0.iter().map(|(_, c)| c.clone()).collect())
    }

    /// One pipeline's first stage.
    pub fn get(&self, id: &PipelineId) -> Option<&SharedConsumer> {
        self.0.iter().find(|(p, _)| p == id).map(|(_, c)| c)
    }
}

/// Creates connectors of one type: each is an exporter at the end of
/// pipelines of one signal and a receiver at the start of pipelines of the
/// same or another signal.
pub trait ConnectorFactory: Send + Sync + 'static {
    /// The config type.
    type Config: ComponentConfig;
    /// Type, aliases, and the pairs of signals it connects
    /// ([`Metadata::connections`]).
    fn metadata(&self) -> Metadata;
    /// One connector taking the data of pipelines of signal `from` and
    /// feeding the pipelines of signal `to` in `routes`; called once for
    /// each pair of signals the config uses the connector for, and only
    /// for pairs in [`Metadata::connections`].
    fn create(
        &self,
        set: CreateSettings,
        config: Self::Config,
        from: Signal,
        to: Signal,
        routes: Routes,
    ) -> Result<SharedStage, ComponentError>;
}

/// Creates exporters of one type.
pub trait ExporterFactory: Send + Sync + 'static {
    /// The config type.
    type Config: ComponentConfig;
    /// Type, aliases, signals.
    fn metadata(&self) -> Metadata;
    /// One exporter shared by every pipeline that names it.
    fn create(
        &self,
        set: CreateSettings,
        config: Self::Config,
    ) -> Result<SharedStage, ComponentError>;
}

/// Creates extensions of one type.
pub trait ExtensionFactory: Send + Sync + 'static {
    /// The config type.
    type Config: ComponentConfig;
    /// Type, aliases, stability.
    fn metadata(&self) -> Metadata;
    /// One extension.
    fn create(
        &self,
        set: CreateSettings,
        config: Self::Config,
    ) -> Result<Arc<dyn Extension>, ComponentError>;
}
